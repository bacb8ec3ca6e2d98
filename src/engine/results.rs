//! A run's results: one table of contacts and one of accounts, typed columns, and the
//! ways they are written (CSV, NDJSON, Parquet, membership lists).

#[cfg(feature = "parquet")]
mod parquet;
mod write;

use crate::plan::NodeKind;
use crate::plan::display;
use crate::plan::types::Value;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use std::fmt::Write as _;

pub use write::{csv_field, formula_safe};

/// What a result column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Segment,
    Score,
    Value,
    Tier,
    Persona,
}

/// The values a tier or persona column can take, in declared order.
pub fn categories(kind: &NodeKind) -> Vec<String> {
    match kind {
        NodeKind::Tiers { bands, .. } => bands.iter().map(|b| b.name.clone()).collect(),
        NodeKind::Personas(ps) => ps.iter().map(|p| p.name.clone()).collect(),
        _ => Vec::new(),
    }
}

impl ColumnKind {
    /// The column kind of a node.
    pub fn of(kind: &NodeKind) -> ColumnKind {
        match kind {
            NodeKind::Segment(_) | NodeKind::Top { .. } => ColumnKind::Segment,
            NodeKind::Score(_) => ColumnKind::Score,
            NodeKind::Value(_) => ColumnKind::Value,
            NodeKind::Tiers { .. } => ColumnKind::Tier,
            NodeKind::Personas(_) => ColumnKind::Persona,
        }
    }
}

/// The values of a result column, stored by what they hold: a segment takes a byte a
/// row, a score 8 (9 when some are missing), a tier or persona 8 (a code into the
/// column's categories), other values a full `Option<Value>`. The same values give the
/// same `Cells` (see [`Cells::from_values`]), so tables compare equal when their values do.
#[derive(Debug, Clone, PartialEq)]
pub enum Cells {
    /// Booleans, none missing.
    Bool(Vec<bool>),
    /// Whole numbers, none missing.
    Int(Vec<i64>),
    /// Numbers, none missing.
    Num(Vec<f64>),
    /// Numbers, some missing: row `i` is `values[i]` where `present[i]` (else `0.0`).
    NumOr {
        values: Vec<f64>,
        present: Vec<bool>,
    },
    /// Tier bands or persona names: row `i` is `categories[codes[i]]` of its column.
    Label(Vec<Option<u32>>),
    /// Any values.
    Values(Vec<Option<Value>>),
}

impl Cells {
    /// The compact form of `values`, given a column's categories: all booleans, all
    /// whole numbers or all numbers without a missing one; numbers and missing; names
    /// from `categories` and missing; else the values themselves.
    pub fn from_values(values: Vec<Option<Value>>, categories: &[String]) -> Cells {
        /// Every value mapped by `get`, when it maps all.
        fn all<T>(
            values: &[Option<Value>],
            get: impl Fn(Option<&Value>) -> Option<T>,
        ) -> Option<Vec<T>> {
            values.iter().map(|v| get(v.as_ref())).collect()
        }
        if let Some(v) = all(&values, |v| match v {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }) {
            return Cells::Int(v);
        }
        if let Some(v) = all(&values, |v| match v {
            Some(Value::Number(x)) => Some(*x),
            _ => None,
        }) {
            return Cells::Num(v);
        }
        if let Some(v) = all(&values, |v| match v {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }) {
            return Cells::Bool(v);
        }
        if !categories.is_empty()
            && let Some(codes) = all(&values, |v| match v {
                None => Some(None),
                Some(Value::Text(t)) => {
                    let code = categories.iter().position(|c| **c == **t)?;
                    Some(Some(u32::try_from(code).ok()?))
                }
                _ => None,
            })
        {
            return Cells::Label(codes);
        }
        if let Some(v) = all(&values, |v| match v {
            None => Some(None),
            Some(Value::Number(x)) => Some(Some(*x)),
            _ => None,
        }) {
            return Cells::NumOr {
                present: v.iter().map(Option::is_some).collect(),
                values: v.into_iter().map(|x| x.unwrap_or(0.0)).collect(),
            };
        }
        Cells::Values(values)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Cells::Bool(v) => v.len(),
            Cells::Int(v) => v.len(),
            Cells::Num(v) => v.len(),
            Cells::NumOr { values, .. } => values.len(),
            Cells::Label(v) => v.len(),
            Cells::Values(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One result column: a definition's value for every row.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    /// For tiers and personas: the possible values, in the order declared.
    pub categories: Vec<String>,
    /// The values; [`Column::get`] and the other accessors read them.
    pub cells: Cells,
}

/// One cell, borrowed from a column: what the writers format.
#[derive(Debug, Clone, Copy)]
enum Cell<'a> {
    Missing,
    Bool(bool),
    Int(i64),
    Num(f64),
    Text(&'a str),
    /// A date, timestamp or duration.
    Value(&'a Value),
}

impl Cell<'_> {
    /// Appends the cell's CSV text, unquoted (nothing when missing).
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    fn write_text(self, out: &mut String) -> std::fmt::Result {
        match self {
            Cell::Missing => {}
            Cell::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Cell::Int(x) => write!(out, "{x}")?,
            Cell::Num(x) => write!(out, "{}", display::Number(x))?,
            Cell::Text(t) => out.push_str(t),
            Cell::Value(v) => write_cell(out, v)?,
        }
        Ok(())
    }
}

impl Column {
    /// A column of `values`, stored compactly (see [`Cells::from_values`]).
    pub fn new(
        name: String,
        kind: ColumnKind,
        categories: Vec<String>,
        values: Vec<Option<Value>>,
    ) -> Column {
        let cells = Cells::from_values(values, &categories);
        Column {
            name,
            kind,
            categories,
            cells,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Row `i`'s cell, borrowed.
    fn cell(&self, i: usize) -> Cell<'_> {
        let found = match &self.cells {
            Cells::Bool(v) => v.get(i).map(|b| Cell::Bool(*b)),
            Cells::Int(v) => v.get(i).map(|x| Cell::Int(*x)),
            Cells::Num(v) => v.get(i).map(|x| Cell::Num(*x)),
            Cells::NumOr { values, present } => match present.get(i) {
                Some(true) => values.get(i).map(|x| Cell::Num(*x)),
                _ => None,
            },
            Cells::Label(v) => v
                .get(i)
                .copied()
                .flatten()
                .and_then(|c| self.categories.get(c as usize))
                .map(|t| Cell::Text(t)),
            Cells::Values(v) => v.get(i).and_then(Option::as_ref).map(|v| match v {
                Value::Bool(b) => Cell::Bool(*b),
                Value::Int(x) => Cell::Int(*x),
                Value::Number(x) => Cell::Num(*x),
                Value::Text(t) => Cell::Text(t),
                other => Cell::Value(other),
            }),
        };
        found.unwrap_or(Cell::Missing)
    }

    /// The value of row `i` (`None` when missing or out of range).
    pub fn get(&self, i: usize) -> Option<Value> {
        match self.cell(i) {
            Cell::Missing => None,
            Cell::Bool(b) => Some(Value::Bool(b)),
            Cell::Int(x) => Some(Value::Int(x)),
            Cell::Num(x) => Some(Value::Number(x)),
            Cell::Text(t) => Some(Value::Text(t.into())),
            Cell::Value(v) => Some(v.clone()),
        }
    }

    /// Every row's value, in order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = Option<Value>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Whether row `i` is `true` (in the segment).
    pub fn is_true(&self, i: usize) -> bool {
        matches!(self.cell(i), Cell::Bool(true))
    }

    /// Row `i` as a number, when it is one (whole numbers too).
    pub fn number(&self, i: usize) -> Option<f64> {
        match self.cell(i) {
            Cell::Int(x) => Some(x as f64),
            Cell::Num(x) => Some(x),
            _ => None,
        }
    }

    /// Every row's number (`None` for missing and other values), in order.
    pub fn numbers(&self) -> impl ExactSizeIterator<Item = Option<f64>> + '_ {
        (0..self.len()).map(|i| self.number(i))
    }

    /// Row `i`'s text: a tier's band or a persona's name.
    pub fn label(&self, i: usize) -> Option<&str> {
        match self.cell(i) {
            Cell::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Every row's text (`None` for missing and other values), in order.
    pub fn labels(&self) -> impl ExactSizeIterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(|i| self.label(i))
    }
}

impl Serialize for Column {
    /// As `{name, kind, categories, values}`, the values a list of values or `null`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Values<'a>(&'a Column);
        impl Serialize for Values<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.values())
            }
        }
        let mut st = s.serialize_struct("Column", 4)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("categories", &self.categories)?;
        st.serialize_field("values", &Values(self))?;
        st.end()
    }
}

/// Results per contact or per account.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Table {
    pub ids: Vec<String>,
    pub columns: Vec<Column>,
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    pub now: DateTime<Utc>,
    pub contacts: Table,
    pub accounts: Table,
}

/// One row of a table.
#[derive(Debug, Clone, Copy)]
pub struct RowView<'a> {
    table: &'a Table,
    row: usize,
}

impl<'a> RowView<'a> {
    /// The row's id.
    pub fn id(&self) -> &'a str {
        self.table.ids.get(self.row).map_or("", String::as_str)
    }

    /// The value of a column (`None` when missing or no such column).
    pub fn get(&self, column: &str) -> Option<Value> {
        self.table.column(column)?.get(self.row)
    }

    /// Whether the row is in a segment.
    pub fn in_segment(&self, name: &str) -> bool {
        self.table.column(name).is_some_and(|c| c.is_true(self.row))
    }

    /// A score's value.
    pub fn score(&self, name: &str) -> Option<f64> {
        self.table.column(name)?.number(self.row)
    }

    /// A tier's or persona list's chosen name.
    pub fn label(&self, name: &str) -> Option<&'a str> {
        self.table.column(name)?.label(self.row)
    }
}

impl Table {
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// A row by id.
    pub fn row(&self, id: &str) -> Option<RowView<'_>> {
        let row = self.ids.iter().position(|i| i == id)?;
        Some(RowView { table: self, row })
    }

    /// Every row in order.
    pub fn rows(&self) -> impl Iterator<Item = RowView<'_>> {
        (0..self.ids.len()).map(move |row| RowView { table: self, row })
    }
}

/// A value as a CSV cell (the text of [`Table::write_csv`], before quoting).
pub fn cell(v: &Value) -> String {
    let mut out = String::new();
    // Writing to a `String` does not fail.
    let _ = write_cell(&mut out, v);
    out
}

/// Appends a value's CSV text: text as is, numbers without a needless fraction,
/// durations in seconds, others as [`display::value`] writes them.
fn write_cell(out: &mut String, v: &Value) -> std::fmt::Result {
    match v {
        Value::Text(t) => out.push_str(t),
        Value::Number(n) => write!(out, "{}", display::Number(*n))?,
        Value::Int(i) | Value::Duration(i) => write!(out, "{i}")?,
        Value::Bool(b) => write!(out, "{b}")?,
        Value::Date(d) => write!(out, "{d}")?,
        Value::Timestamp(t) => write!(out, "{}", display::Timestamp(*t))?,
    }
    Ok(())
}

/// A value as JSON.
pub fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Int(i) => (*i).into(),
        Value::Number(n) => {
            serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Text(t) => t.to_string().into(),
        Value::Bool(b) => (*b).into(),
        Value::Duration(s) => (*s).into(),
        other => display::value(other).into(),
    }
}
