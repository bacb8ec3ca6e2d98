//! Building the rows of each table from the cells a reader found, whatever the format:
//! ids, references between tables, event types and the attribute change log.

use super::dictionary::Dictionary;
use super::entity_table::{Code, EntityTable};
use super::intern::Interner;
use super::validate::{self, Raw, did_you_mean, list, quote};
use super::{AccountRow, ChangeRow, DataError, EventRow, Rejected};
use crate::engine::free::drop_later;
use crate::plan::schema::{Field, Schema, Type};
use crate::plan::types::Value;
use std::collections::HashMap;

/// The columns (CSV) or keys (NDJSON) of a table; a row's cells come in this order.
pub(crate) struct Columns {
    pub names: Vec<String>,
    /// Whether a CSV header must have the column.
    pub required: Vec<bool>,
}

impl Columns {
    pub fn new(names: impl IntoIterator<Item = (String, bool)>) -> Columns {
        let (names, required) = names.into_iter().unzip();
        Columns { names, required }
    }

    /// A column's index by name.
    pub fn index(&self) -> HashMap<&str, usize> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect()
    }

    /// The reason a header lacks a required column, if it does: `present` holds the
    /// indices of the columns the header has.
    pub fn missing_required(&self, present: &[usize]) -> Option<String> {
        let (name, _) = self
            .names
            .iter()
            .zip(&self.required)
            .enumerate()
            .find(|&(i, (_, &required))| required && !present.contains(&i))?
            .1;
        Some(format!(
            "missing column `{name}`, expected a column for each required field"
        ))
    }

    /// The reason for an unknown column or key (`noun`) named `name`.
    pub fn unknown(&self, noun: &str, name: &str) -> String {
        let names = self.names.iter().map(String::as_str);
        format!(
            "unknown {noun} {}, expected one of {}{}",
            quote(name),
            list(names.clone()),
            did_you_mean(name, names)
        )
    }
}

/// What is wrong with a row: the column at fault (if any) and why.
#[derive(Debug)]
pub(crate) struct RowError {
    pub column: Option<String>,
    pub reason: String,
}

impl RowError {
    pub fn at(column: &str, reason: String) -> RowError {
        RowError {
            column: Some(column.to_owned()),
            reason,
        }
    }

    pub fn row(reason: String) -> RowError {
        RowError {
            column: None,
            reason,
        }
    }
}

/// A table being read: its columns and what to do with each row's cells.
pub(crate) trait Table {
    fn columns(&self) -> &Columns;
    /// Takes one row (cells indexed like `columns`) that starts at `line`.
    fn row(&mut self, line: u64, cells: &[Raw<'_>]) -> Result<(), RowError>;
    /// Whether the table reads column `slot` (a reader may skip the others).
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    fn reads(&self, _slot: usize) -> bool {
        true
    }
    /// Takes `rows` rows given column by column (`columns[slot]`, like `columns`), all
    /// or none. `false` when the table cannot take them this way — it does not take
    /// batches, or a row is bad or unusual — and then nothing was taken: the reader
    /// gives the same rows one by one to [`row`](Table::row), which reports what is
    /// wrong. A table that takes batches gives the results `row` gives.
    fn batch(&mut self, _rows: usize, _columns: &[Cells<'_>]) -> bool {
        false
    }
    /// Whether [`batch`](Table::batch) may take rows (a reader need not build the
    /// columns otherwise).
    fn takes_batches(&self) -> bool {
        false
    }
}

/// The cell of a dictionary-encoded column that is missing.
pub(crate) const NO_KEY: u32 = u32::MAX;

/// The cells of one column over a batch of rows.
pub(crate) enum Cells<'a> {
    /// Every cell missing: a column the file lacks, or one the table does not read.
    Missing,
    /// One cell per row.
    Plain(Vec<Raw<'a>>),
    /// Dictionary-encoded: per row, an index into `values` ([`NO_KEY`]: missing).
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    Dict {
        keys: &'a [u32],
        values: Vec<Raw<'a>>,
    },
}

impl<'a> Cells<'a> {
    /// The cell of row `row`.
    pub fn get(&self, row: usize) -> Raw<'a> {
        match self {
            Cells::Missing => Raw::Missing,
            Cells::Plain(cells) => cells.get(row).copied().unwrap_or(Raw::Missing),
            Cells::Dict { keys, values } => keys
                .get(row)
                .and_then(|&k| values.get(k as usize))
                .copied()
                .unwrap_or(Raw::Missing),
        }
    }
}

/// A part of a table read on its own: the table, its bad rows, and how reading ended.
pub(crate) type Part<T> = (T, Sink, Result<(), DataError>);

/// Where bad rows go: an error that stops the load, or the rejected list.
pub(crate) struct Sink {
    pub skip: bool,
    pub rejected: Vec<Rejected>,
}

impl Sink {
    /// Takes parts read in parallel, in file order, each with its own sink: each table
    /// goes to `keep` (one that stopped at an error holds the rows before it), bad rows
    /// skipped are kept in order, and the first error stops (it is the first in the file).
    pub fn take<T>(
        &mut self,
        parts: Vec<Part<T>>,
        keep: &mut dyn FnMut(T),
    ) -> Result<(), DataError> {
        for (table, part, read) in parts {
            self.rejected.extend(part.rejected);
            keep(table);
            read?;
        }
        Ok(())
    }

    pub fn new(skip: bool) -> Sink {
        Sink {
            skip,
            rejected: Vec::new(),
        }
    }

    pub fn reject(&mut self, row: Rejected) -> Result<(), DataError> {
        if self.skip {
            self.rejected.push(row);
            Ok(())
        } else {
            Err(DataError::BadRow(row))
        }
    }
}

pub(crate) use super::ids::Ids;

/// A map with `foldhash` for per-row look-ups of short keys.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

pub(crate) fn cell<'a>(cells: &[Raw<'a>], i: usize) -> Raw<'a> {
    cells.get(i).copied().unwrap_or(Raw::Missing)
}

fn next_index(len: usize, what: &str) -> Result<u32, RowError> {
    u32::try_from(len)
        .map_err(|_| RowError::row(format!("too many {what}s, expected at most {}", u32::MAX)))
}

/// Contacts or accounts: an `id` column, then one column per attribute.
pub(crate) struct Entities<'a> {
    what: &'static str,
    fields: &'a [Field],
    columns: Columns,
    pub ids: Ids,
    table: EntityTable,
    /// The line of each row.
    lines: Vec<u64>,
    /// For contacts with an accounts file: the link attribute, known accounts, their file.
    link: Option<(usize, &'a Ids, &'a str)>,
    /// Per attribute, the codes of the raw cells met.
    dicts: Vec<Dictionary>,
    /// The codes of the row being read (kept to reuse its memory).
    codes: Vec<u32>,
    /// Per attribute, whether it is read (`None`: all are); the others are neither
    /// checked nor kept.
    read: Option<&'a [bool]>,
}

impl<'a> Entities<'a> {
    pub fn accounts(schema: &'a Schema) -> Entities<'a> {
        Entities::new("account", &schema.account, None)
    }

    /// Contacts; links are checked against `accounts` (ids and file name) when given;
    /// only the attributes `read` says (all without it) are checked and kept.
    pub fn contacts(
        schema: &'a Schema,
        accounts: Option<(&'a Ids, &'a str)>,
        read: Option<&'a [bool]>,
    ) -> Entities<'a> {
        let link = schema
            .contact
            .iter()
            .position(|f| f.ty == Type::AccountLink);
        let link = link.zip(accounts).map(|(i, (ids, file))| (i, ids, file));
        Entities {
            read,
            ..Entities::new("contact", &schema.contact, link)
        }
    }

    fn new(
        what: &'static str,
        fields: &'a [Field],
        link: Option<(usize, &'a Ids, &'a str)>,
    ) -> Entities<'a> {
        let columns = std::iter::once(("id".to_owned(), true))
            .chain(fields.iter().map(|f| (f.name.clone(), !f.optional)));
        Entities {
            what,
            fields,
            columns: Columns::new(columns),
            ids: Ids::default(),
            table: EntityTable::new(fields.len()),
            lines: Vec::new(),
            link,
            dicts: fields.iter().map(|_| Dictionary::default()).collect(),
            codes: Vec::with_capacity(fields.len()),
            read: None,
        }
    }

    fn duplicate(&self, id: &str, first: u64) -> String {
        format!(
            "duplicate {} id {}, expected each id once (first on line {first})",
            self.what,
            quote(id)
        )
    }

    /// Appends the rows of `part`, read after these from `file`: an id already here is
    /// a duplicate (without `skip_bad_rows`, the only mode parts are read in).
    pub fn append(&mut self, part: Entities<'_>, file: &str) -> Result<(), DataError> {
        self.ids.reserve(part.table.len());
        let base = self.table.len();
        for (r, (id, &line)) in part.table.ids().zip(&part.lines).enumerate() {
            let index = next_index(base + r, self.what).map_err(|e| DataError::File {
                file: file.to_owned(),
                line: Some(line),
                message: e.reason,
            })?;
            if let Err(first) = self.ids.insert(id, index) {
                let first = self.lines.get(first as usize).copied().unwrap_or_default();
                return Err(DataError::BadRow(Rejected {
                    file: file.to_owned(),
                    line,
                    column: Some("id".to_owned()),
                    reason: self.duplicate(id, first),
                    raw: String::new(),
                }));
            }
        }
        self.table.append(part.table);
        self.lines.extend(part.lines);
        Ok(())
    }

    pub fn into_contacts(mut self) -> EntityTable {
        drop_later((self.ids, self.lines, self.dicts));
        self.table.shrink_to_fit();
        self.table
    }

    pub fn into_accounts(self) -> Vec<AccountRow> {
        drop_later((self.ids, self.lines, self.dicts));
        self.table
            .rows()
            .map(|r| AccountRow {
                id: r.id,
                attrs: r.attrs,
            })
            .collect()
    }
}

impl Table for Entities<'_> {
    fn columns(&self) -> &Columns {
        &self.columns
    }

    fn reads(&self, slot: usize) -> bool {
        match (slot.checked_sub(1), self.read) {
            (Some(attr), Some(read)) => read.get(attr).copied().unwrap_or(false),
            _ => true,
        }
    }

    fn row(&mut self, line: u64, cells: &[Raw<'_>]) -> Result<(), RowError> {
        let id = validate::id(cell(cells, 0), self.what).map_err(|r| RowError::at("id", r))?;
        if let Some(first) = self.ids.get(&id) {
            let first = self.lines.get(first as usize).copied().unwrap_or_default();
            return Err(RowError::at("id", self.duplicate(&id, first)));
        }
        self.codes.clear();
        for (i, field) in self.fields.iter().enumerate() {
            if !self.reads(i + 1) {
                self.codes.push(0);
                continue;
            }
            let raw = cell(cells, i + 1);
            let dict = self.dicts.get_mut(i);
            if let Some(code) = dict.as_ref().and_then(|d| d.code(raw)) {
                self.codes.push(code);
                continue;
            }
            let value = validate::value(field, raw).map_err(|r| RowError::at(&field.name, r))?;
            if let (Some((link, accounts, file)), Some(Value::Text(account))) = (self.link, &value)
                && link == i
                && !accounts.contains(account)
            {
                return Err(RowError::at(
                    &field.name,
                    format!(
                        "unknown account {}, expected an id from `{file}`",
                        quote(account)
                    ),
                ));
            }
            let code = match (value, self.table.column_mut(i)) {
                (Some(v), Some(col)) => col.add(v).map(Code::get).ok_or_else(|| {
                    RowError::at(
                        &field.name,
                        format!(
                            "too many distinct values, expected at most {}",
                            u32::MAX - 1
                        ),
                    )
                })?,
                _ => 0,
            };
            if let Some(dict) = dict {
                dict.remember(raw, code);
            }
            self.codes.push(code);
        }
        let index = next_index(self.table.len(), self.what)?;
        let _ = self.ids.insert(&id, index);
        self.table.push_coded(&id, &self.codes);
        self.lines.push(line);
        Ok(())
    }
}

/// The contact a row names in its `contact_id` cell.
pub(crate) fn contact(cells: &[Raw<'_>], contacts: &Ids, file: &str) -> Result<u32, RowError> {
    let id = validate::id(cell(cells, 0), "contact").map_err(|r| RowError::at("contact_id", r))?;
    match contacts.get(&id) {
        Some(index) => Ok(index),
        None => Err(RowError::at(
            "contact_id",
            format!(
                "unknown contact {}, expected an id from `{file}`",
                quote(&id)
            ),
        )),
    }
}

pub(crate) fn at(cells: &[Raw<'_>], i: usize) -> Result<chrono::DateTime<chrono::Utc>, RowError> {
    validate::timestamp_cell(cell(cells, i)).map_err(|r| RowError::at("at", r))
}

/// Events: `contact_id`, `event`, `at`, then the fields of every event type.
pub(crate) struct Events<'a> {
    schema: &'a Schema,
    contacts: &'a Ids,
    contacts_file: &'a str,
    columns: Columns,
    types: FastMap<&'a str, usize>,
    /// Per event type: for each field column (after the first three), the field's index.
    fields: Vec<Vec<Option<usize>>>,
    pub rows: Vec<EventRow>,
}

/// The columns before the fields: `contact_id`, `event`, `at`.
pub(crate) const EVENT_KEYS: usize = 3;

impl<'a> Events<'a> {
    pub fn new(schema: &'a Schema, contacts: &'a Ids, contacts_file: &'a str) -> Events<'a> {
        let mut names: Vec<&str> = Vec::new();
        for field in schema.events.iter().flat_map(|e| &e.fields) {
            if !names.contains(&field.name.as_str()) {
                names.push(&field.name);
            }
        }
        let fields = schema
            .events
            .iter()
            .map(|e| {
                names
                    .iter()
                    .map(|n| e.fields.iter().position(|f| f.name == *n))
                    .collect()
            })
            .collect();
        let columns = ["contact_id", "event", "at"]
            .into_iter()
            .map(|n| (n.to_owned(), true))
            .chain(names.iter().map(|n| ((*n).to_owned(), false)));
        Events {
            schema,
            contacts,
            contacts_file,
            columns: Columns::new(columns),
            types: schema
                .events
                .iter()
                .enumerate()
                .map(|(i, e)| (e.name.as_str(), i))
                .collect(),
            fields,
            rows: Vec::new(),
        }
    }

    /// The event type a raw cell names.
    pub fn event_type(&self, raw: Raw<'_>) -> Result<usize, RowError> {
        event_type(self.schema, &self.types, raw)
    }

    /// The field columns (after `contact_id`, `event`, `at`), in order.
    pub fn field_columns(&self) -> &[String] {
        self.columns.names.get(EVENT_KEYS..).unwrap_or_default()
    }

    /// Per event type, the field index of each field column.
    pub fn field_slots(&self) -> &[Vec<Option<usize>>] {
        &self.fields
    }

    /// The columns of the events table.
    pub fn event_columns(&self) -> &Columns {
        &self.columns
    }
}

/// The event type named in an `event` cell.
pub(crate) fn event_type(
    schema: &Schema,
    types: &FastMap<&str, usize>,
    raw: Raw<'_>,
) -> Result<usize, RowError> {
    let names = || schema.events.iter().map(|e| e.name.as_str());
    let reason = match raw {
        Raw::Missing => "missing required field, expected an event type".to_owned(),
        Raw::Text(name) => match types.get(name) {
            Some(&i) => return Ok(i),
            None => format!(
                "unknown event type {}, expected one of {}{}",
                quote(name),
                list(names()),
                did_you_mean(name, names())
            ),
        },
        _ => format!(
            "{} is not an event type, expected one of {}",
            raw.show(),
            list(names())
        ),
    };
    Err(RowError::at("event", reason))
}

impl Table for Events<'_> {
    fn columns(&self) -> &Columns {
        &self.columns
    }

    fn row(&mut self, _line: u64, cells: &[Raw<'_>]) -> Result<(), RowError> {
        let contact = contact(cells, self.contacts, self.contacts_file)?;
        let event = self.event_type(cell(cells, 1))?;
        let at = at(cells, 2)?;
        let (Some(ty), Some(slots)) = (self.schema.events.get(event), self.fields.get(event))
        else {
            return Err(RowError::at("event", "unknown event type".into()));
        };
        let mut fields = vec![None; ty.fields.len()];
        let names = self.columns.names.iter().skip(EVENT_KEYS);
        for ((slot, name), raw) in slots.iter().zip(names).zip(cells.iter().skip(EVENT_KEYS)) {
            match slot.and_then(|f| ty.fields.get(f).zip(fields.get_mut(f))) {
                Some((field, out)) => {
                    *out = validate::value(field, *raw).map_err(|r| RowError::at(name, r))?;
                }
                None if raw.is_missing() => {}
                None => {
                    return Err(RowError::at(
                        name,
                        format!(
                            "field `{name}` does not belong to event `{}`, expected only its fields ({})",
                            ty.name,
                            list(ty.fields.iter().map(|f| f.name.as_str()))
                        ),
                    ));
                }
            }
        }
        let event = next_index(event, "event type")?;
        self.rows.push(EventRow {
            contact,
            event,
            at,
            fields,
        });
        Ok(())
    }
}

/// Attribute changes: `contact_id`, `attribute`, `value`, `at`.
pub(crate) struct Changes<'a> {
    schema: &'a Schema,
    contacts: &'a Ids,
    contacts_file: &'a str,
    columns: Columns,
    pub rows: Vec<ChangeRow>,
    /// The texts the value column repeats.
    shared: Interner,
}

impl<'a> Changes<'a> {
    pub fn new(schema: &'a Schema, contacts: &'a Ids, contacts_file: &'a str) -> Changes<'a> {
        let columns = ["contact_id", "attribute", "value", "at"].map(|n| (n.to_owned(), true));
        Changes {
            schema,
            contacts,
            contacts_file,
            columns: Columns::new(columns),
            rows: Vec::new(),
            shared: Interner::default(),
        }
    }

    fn attribute(&self, raw: Raw<'_>) -> Result<(u32, &'a Field), RowError> {
        let schema = self.schema;
        let history = || {
            schema
                .contact
                .iter()
                .filter(|f| f.history)
                .map(|f| f.name.as_str())
        };
        let found = match raw {
            Raw::Text(name) => schema
                .contact
                .iter()
                .enumerate()
                .find(|(_, f)| f.name == name),
            _ => None,
        };
        let reason = match (raw, found) {
            (_, Some((i, f))) if f.history => {
                let i = next_index(i, "attribute")?;
                return Ok((i, f));
            }
            (_, Some((_, f))) => format!(
                "attribute `{}` has no history, expected one declared `with history` ({})",
                f.name,
                list(history())
            ),
            (Raw::Missing, None) => {
                format!(
                    "missing required field, expected an attribute with history ({})",
                    list(history())
                )
            }
            (_, None) => format!(
                "unknown attribute {}, expected one declared `with history` ({}){}",
                raw.show(),
                list(history()),
                match raw {
                    Raw::Text(name) => did_you_mean(name, history()),
                    _ => String::new(),
                }
            ),
        };
        Err(RowError::at("attribute", reason))
    }
}

impl Table for Changes<'_> {
    fn columns(&self) -> &Columns {
        &self.columns
    }

    fn row(&mut self, _line: u64, cells: &[Raw<'_>]) -> Result<(), RowError> {
        let contact = contact(cells, self.contacts, self.contacts_file)?;
        let (attr, field) = self.attribute(cell(cells, 1))?;
        let value = validate::value(field, cell(cells, 2)).map_err(|r| RowError::at("value", r))?;
        let at = at(cells, 3)?;
        self.rows.push(ChangeRow {
            contact,
            attr,
            value: self.shared.share(value),
            at,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(name: &str, ty: Type, optional: bool, range: Option<(f64, f64)>) -> Field {
        Field {
            name: name.to_owned(),
            ty,
            optional,
            history: false,
            range,
        }
    }

    /// Per field below, raw cells (mostly good, one or two bad), met again and again
    /// in the same column.
    const CELLS: [&[Raw<'static>]; 7] = [
        &[
            Raw::Missing,
            Raw::Text("3"),
            Raw::Int(3),
            Raw::Text("-0"),
            Raw::Int(200),
        ],
        &[
            Raw::Float(-0.0),
            Raw::Float(0.0),
            Raw::Text("-0"),
            Raw::Text("0.5"),
            Raw::Int(0),
            Raw::Text("x"),
        ],
        &[
            Raw::Text("emea"),
            Raw::Text("EMEA"),
            Raw::Text("3"),
            Raw::Missing,
        ],
        &[
            Raw::Text("emea"),
            Raw::Text("EMEA"),
            Raw::Missing,
            Raw::Text("apac"),
        ],
        &[
            Raw::Text("true"),
            Raw::Bool(false),
            Raw::Text("no"),
            Raw::Int(1),
        ],
        &[
            Raw::Text("2026-01-02T03:04:05Z"),
            Raw::Text("2026-01-02"),
            Raw::Text("2026-01-02T03:04:05.000001+01:00"),
        ],
        &[
            Raw::Text("2026-01-02"),
            Raw::Text("2026-01-02T03:04:05Z"),
            Raw::Missing,
        ],
    ];

    fn raw(f: usize, k: usize) -> Raw<'static> {
        let cells = CELLS.get(f).copied().unwrap_or_default();
        cells
            .get(k % cells.len().max(1))
            .copied()
            .unwrap_or(Raw::Missing)
    }

    proptest! {
        /// Each cell reads as it would on its own, however often it was met before; a
        /// bad cell is bad every time, and its row is not taken.
        #[test]
        fn cells_met_again_read_as_on_their_own(rows in prop::collection::vec(prop::collection::vec(0usize..6, 7), 0..60)) {
            let fields = vec![
                field("a", Type::Int, true, Some((0.0, 100.0))),
                field("b", Type::Number, true, None),
                field("c", Type::Text, false, None),
                field("d", Type::Enum(vec!["emea".into(), "amer".into()]), true, None),
                field("e", Type::Bool, true, None),
                field("f", Type::Timestamp, true, None),
                field("g", Type::Date, true, None),
            ];
            let mut table = Entities::new("contact", &fields, None);
            let mut want = Vec::new();
            for (line, cells) in rows.iter().enumerate() {
                let id = format!("c{line}");
                let mut raws = vec![Raw::Text(&id)];
                raws.extend(cells.iter().enumerate().map(|(f, &k)| raw(f, k)));
                let alone: Result<Vec<Option<Value>>, String> = fields
                    .iter()
                    .zip(cells)
                    .enumerate()
                    .map(|(i, (f, &k))| validate::value(f, raw(i, k)))
                    .collect();
                let took = table.row(line as u64, &raws);
                prop_assert_eq!(took.is_ok(), alone.is_ok());
                if let Ok(attrs) = alone {
                    want.push(super::super::ContactRow { id: id.clone(), attrs });
                }
            }
            let got: Vec<_> = table.into_contacts().rows().collect();
            // Debug strings tell -0.0 from 0.0.
            prop_assert_eq!(format!("{got:?}"), format!("{want:?}"));
        }
    }
}
