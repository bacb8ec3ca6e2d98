//! A run's results: one table of contacts and one of accounts, typed columns, and the
//! ways they are written (CSV, NDJSON, membership lists, a summary for people).

use crate::plan::NodeKind;
use crate::plan::display;
use crate::plan::types::Value;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::io::{self, Write};

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

/// One result column: a definition's value for every row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    /// For tiers and personas: the possible values, in the order declared.
    pub categories: Vec<String>,
    pub values: Vec<Option<Value>>,
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
    pub fn get(&self, column: &str) -> Option<&'a Value> {
        self.table.column(column)?.values.get(self.row)?.as_ref()
    }

    /// Whether the row is in a segment.
    pub fn in_segment(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Bool(true)))
    }

    /// A score's value.
    pub fn score(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            Value::Number(n) => Some(*n),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// A tier's or persona list's chosen name.
    pub fn label(&self, name: &str) -> Option<&'a str> {
        match self.get(name)? {
            Value::Text(t) => Some(t.as_str()),
            _ => None,
        }
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

    /// Writes the table as CSV: `id` then one column per definition; missing is empty.
    pub fn write_csv(&self, w: &mut dyn Write) -> io::Result<()> {
        let mut out = csv::Writer::from_writer(w);
        let mut header = vec!["id".to_string()];
        header.extend(self.columns.iter().map(|c| c.name.clone()));
        out.write_record(&header)?;
        for (i, id) in self.ids.iter().enumerate() {
            let mut rec = vec![id.clone()];
            rec.extend(self.columns.iter().map(|c| {
                c.values
                    .get(i)
                    .and_then(|v| v.as_ref())
                    .map(cell)
                    .unwrap_or_default()
            }));
            out.write_record(&rec)?;
        }
        out.flush()
    }

    /// Writes the table as NDJSON: one object per row, missing as `null`.
    pub fn write_ndjson(&self, w: &mut dyn Write) -> io::Result<()> {
        for (i, id) in self.ids.iter().enumerate() {
            let mut obj = serde_json::Map::new();
            obj.insert("id".into(), id.clone().into());
            for c in &self.columns {
                let v = c.values.get(i).and_then(|v| v.as_ref());
                obj.insert(c.name.clone(), v.map_or(serde_json::Value::Null, json));
            }
            serde_json::to_writer(&mut *w, &obj)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// A value as a CSV cell.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Number(n) => display::number(*n),
        Value::Duration(s) => s.to_string(),
        other => display::value(other),
    }
}

/// A value as JSON.
pub fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Int(i) => (*i).into(),
        Value::Number(n) => {
            serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Text(t) => t.clone().into(),
        Value::Bool(b) => (*b).into(),
        Value::Duration(s) => (*s).into(),
        other => display::value(other).into(),
    }
}
