//! Events in columns: contact index, event type and time as integers, and only the
//! fields the plan reads, each as dictionary codes into its distinct values (code 0 is
//! missing). Built from a [`Dataset`] or straight from a data file, where every
//! distinct raw cell of a field is validated once.

use super::ids::{self, IdTable};
use crate::engine::data::tables::{
    self, Columns, EVENT_KEYS, Events, FastMap, Ids, NO_KEY, RowError, Table,
};
use crate::engine::data::validate::{self, Raw};
use crate::engine::data::{Dataset, EventRow};
use crate::plan::schema::Schema;
use crate::plan::types::Value;
use chrono::{DateTime, Utc};

/// A value as a hashable key (numbers by their bits), for dictionaries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Text(String),
    Int(i64),
    Num(u64),
    Bool(bool),
    Date(chrono::NaiveDate),
    Time(DateTime<Utc>),
    Duration(i64),
}

impl Key {
    fn of(v: &Value) -> Key {
        match v {
            Value::Text(s) => Key::Text(s.clone()),
            Value::Int(i) => Key::Int(*i),
            Value::Number(x) => Key::Num(x.to_bits()),
            Value::Bool(b) => Key::Bool(*b),
            Value::Date(d) => Key::Date(*d),
            Value::Timestamp(t) => Key::Time(*t),
            Value::Duration(d) => Key::Duration(*d),
        }
    }
}

/// The distinct values of one field column; `values[0]` is missing.
#[derive(Debug, Clone)]
pub struct Dict {
    pub values: Vec<Option<Value>>,
    index: FastMap<Key, u32>,
}

impl Default for Dict {
    fn default() -> Dict {
        Dict {
            values: vec![None],
            index: FastMap::default(),
        }
    }
}

impl Dict {
    /// The code of a value, added when new.
    pub fn code(&mut self, v: Option<Value>) -> u32 {
        let Some(v) = v else { return 0 };
        let key = Key::of(&v);
        if let Some(&c) = self.index.get(&key) {
            return c;
        }
        let c = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(Some(v));
        self.index.insert(key, c);
        c
    }

    /// Number of codes (distinct values and missing).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether only missing is known.
    pub fn is_empty(&self) -> bool {
        self.values.len() <= 1
    }
}

/// One field the plan reads, over all events (missing for events of types without it).
#[derive(Debug, Clone, Default)]
pub struct FieldColumn {
    pub name: String,
    pub codes: Vec<u32>,
    pub dict: Dict,
}

/// The events of a data set, in file order.
#[derive(Debug, Clone, Default)]
pub struct EventColumns {
    pub contact: Vec<u32>,
    pub ty: Vec<u32>,
    /// Microseconds since the epoch.
    pub at: Vec<i64>,
    /// Nanoseconds below the microsecond (kept so times read back exactly).
    pub sub: Vec<u16>,
    pub fields: Vec<FieldColumn>,
}

/// A time from microseconds since the epoch and nanoseconds below them ([`split`]).
pub fn join(at: i64, sub: u16) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_micros(at)
        .map(|t| t + chrono::TimeDelta::nanoseconds(i64::from(sub)))
}

/// Microseconds since the epoch and the nanoseconds below them.
fn split(t: DateTime<Utc>) -> (i64, u16) {
    let sub = t.timestamp_subsec_nanos() % 1000;
    (t.timestamp_micros(), u16::try_from(sub).unwrap_or(0))
}

impl EventColumns {
    /// Empty columns for the named fields.
    pub fn new(fields: &[String]) -> EventColumns {
        EventColumns {
            fields: fields
                .iter()
                .map(|n| FieldColumn {
                    name: n.clone(),
                    ..FieldColumn::default()
                })
                .collect(),
            ..EventColumns::default()
        }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.contact.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.contact.is_empty()
    }

    /// A field column's index by name.
    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The time of event `i` as read.
    pub fn time(&self, i: usize) -> Option<DateTime<Utc>> {
        join(*self.at.get(i)?, *self.sub.get(i)?)
    }

    /// Columns of the events of a data set (only `fields` of them).
    pub fn from_dataset(schema: &Schema, data: &Dataset, fields: &[String]) -> EventColumns {
        let mut cols = EventColumns::new(fields);
        // Per event type, the field index of each wanted column.
        let slots: Vec<Vec<Option<usize>>> = schema
            .events
            .iter()
            .map(|e| {
                fields
                    .iter()
                    .map(|n| e.fields.iter().position(|f| f.name == *n))
                    .collect()
            })
            .collect();
        for EventRow {
            contact,
            event,
            at,
            fields: values,
        } in &data.events
        {
            cols.push_head(*contact, *event, *at);
            let slot = slots.get(*event as usize);
            for (k, col) in cols.fields.iter_mut().enumerate() {
                let v = slot
                    .and_then(|s| s.get(k).copied().flatten())
                    .and_then(|f| values.get(f).cloned().flatten());
                let code = col.dict.code(v);
                col.codes.push(code);
            }
        }
        cols
    }

    /// Frees the capacity beyond the events held (columns grow by doubling while parts
    /// are appended).
    pub fn shrink_to_fit(&mut self) {
        self.contact.shrink_to_fit();
        self.ty.shrink_to_fit();
        self.at.shrink_to_fit();
        self.sub.shrink_to_fit();
        for f in &mut self.fields {
            f.codes.shrink_to_fit();
        }
    }

    /// Appends the events of `part` (read after these), its codes translated to these
    /// columns' dictionaries, so that appending the parts of a file in order gives the
    /// columns one sequential read gives.
    pub fn append(&mut self, part: EventColumns) {
        self.contact.extend_from_slice(&part.contact);
        self.ty.extend_from_slice(&part.ty);
        self.at.extend_from_slice(&part.at);
        self.sub.extend_from_slice(&part.sub);
        for (col, p) in self.fields.iter_mut().zip(part.fields) {
            let remap: Vec<u32> = p
                .dict
                .values
                .into_iter()
                .map(|v| col.dict.code(v))
                .collect();
            col.codes.extend(
                p.codes
                    .iter()
                    .map(|&c| remap.get(c as usize).copied().unwrap_or(0)),
            );
        }
    }

    fn push_head(&mut self, contact: u32, ty: u32, at: DateTime<Utc>) {
        let (micros, sub) = split(at);
        self.contact.push(contact);
        self.ty.push(ty);
        self.at.push(micros);
        self.sub.push(sub);
    }
}

/// What every part of an events file shares while it is read into columns: the same
/// columns, ids, types and value checks as the row loader, but only the fields the plan
/// reads are looked at.
pub(crate) struct EventsLayout<'a> {
    layout: Events<'a>,
    schema: &'a Schema,
    contacts: &'a Ids,
    contacts_file: &'a str,
    /// Per file column (after the keys): the wanted field column it fills, if any.
    wanted: Vec<Option<usize>>,
    fields: Vec<String>,
    /// Contact ids of at most 15 bytes → index (others go through `contacts`).
    short_ids: IdTable,
}

impl<'a> EventsLayout<'a> {
    pub fn new(
        schema: &'a Schema,
        contacts: &'a Ids,
        contacts_file: &'a str,
        fields: &[String],
    ) -> EventsLayout<'a> {
        let layout = Events::new(schema, contacts, contacts_file);
        let wanted = layout
            .field_columns()
            .iter()
            .map(|n| fields.iter().position(|f| f == n))
            .collect();
        EventsLayout {
            layout,
            schema,
            contacts,
            contacts_file,
            wanted,
            fields: fields.to_vec(),
            short_ids: IdTable::new(contacts),
        }
    }

    /// An empty part to read rows into.
    pub fn part(&self) -> ColumnarEvents<'_, 'a> {
        let slots = self.schema.events.len() * self.fields.len();
        ColumnarEvents {
            shared: self,
            seen: vec![FastMap::default(); slots],
            contact_keys: Vec::new(),
            type_keys: Vec::new(),
            field_keys: vec![Vec::new(); slots],
            ahead: Vec::new(),
            next: 0,
            cols: EventColumns::new(&self.fields),
        }
    }
}

/// What a dictionary key of a column stands for, once known ([`NO_KEY`] when not yet).
fn known(cache: &[u32], key: u32) -> Option<u32> {
    cache.get(key as usize).copied().filter(|&v| v != NO_KEY)
}

/// Remembers what `key` stands for.
fn learn(cache: &mut Vec<u32>, key: u32, value: u32) {
    if key == NO_KEY {
        return;
    }
    let k = key as usize;
    if cache.len() <= k {
        cache.resize(k + 1, NO_KEY);
    }
    if let Some(slot) = cache.get_mut(k) {
        *slot = value;
    }
}

/// A part of the events table (a Parquet row group, a CSV chunk, or the whole file) read
/// into [`EventColumns`] with dictionaries of its own; each distinct raw text of a
/// field is validated and stored once. [`merge`] joins the parts.
pub(crate) struct ColumnarEvents<'s, 'a> {
    shared: &'s EventsLayout<'a>,
    /// Per event type × wanted column: raw text → code.
    seen: Vec<FastMap<String, u32>>,
    /// Dictionary key of the `contact_id` column → contact index.
    contact_keys: Vec<u32>,
    /// Dictionary key of the `event` column → event type.
    type_keys: Vec<u32>,
    /// Per event type × wanted column: dictionary key → code.
    field_keys: Vec<Vec<u32>>,
    /// The contact indices of the rows to come ([`Table::ahead`]; [`NO_KEY`] where the
    /// row's id is not a known short id), and the next row's place among them.
    ahead: Vec<u32>,
    next: usize,
    pub cols: EventColumns,
}

impl ColumnarEvents<'_, '_> {
    /// The index of a contact id of at most 15 bytes.
    fn short_id(&self, cell: Raw<'_>) -> Option<u32> {
        match cell {
            Raw::Text(id) => Some(self.shared.short_ids.get(id)).filter(|&c| c != ids::NONE),
            _ => None,
        }
    }
}

impl Table for ColumnarEvents<'_, '_> {
    fn columns(&self) -> &Columns {
        self.shared.layout.event_columns()
    }

    fn reads(&self, slot: usize) -> bool {
        slot < EVENT_KEYS
            || self
                .shared
                .wanted
                .get(slot - EVENT_KEYS)
                .is_some_and(Option::is_some)
    }

    fn row(&mut self, line: u64, cells: &[Raw<'_>]) -> Result<(), RowError> {
        self.keyed_row(line, cells, &[])
    }

    fn new_dictionary(&mut self, slot: usize) {
        match slot {
            0 => self.contact_keys.clear(),
            1 => self.type_keys.clear(),
            _ => {
                let n_wanted = self.cols.fields.len();
                let want = slot
                    .checked_sub(EVENT_KEYS)
                    .and_then(|k| self.shared.wanted.get(k).copied().flatten());
                if let Some(w) = want {
                    for cache in self.field_keys.iter_mut().skip(w).step_by(n_wanted.max(1)) {
                        cache.clear();
                    }
                }
            }
        }
    }

    fn ahead(&mut self, slot: usize, cells: &mut dyn Iterator<Item = Raw<'_>>) {
        if slot == 0 {
            self.ahead = self.shared.short_ids.get_all(cells.map(|c| match c {
                Raw::Text(id) => Some(id),
                _ => None,
            }));
            self.next = 0;
        }
    }

    fn keyed_row(&mut self, _line: u64, cells: &[Raw<'_>], keys: &[u32]) -> Result<(), RowError> {
        let shared = self.shared;
        let key = |slot: usize| keys.get(slot).copied().unwrap_or(NO_KEY);
        let resolved = self
            .ahead
            .get(self.next)
            .copied()
            .filter(|&c| c != ids::NONE);
        self.next += 1;
        let contact = match resolved.or_else(|| known(&self.contact_keys, key(0))) {
            Some(c) => c,
            None => {
                let c = match self.short_id(tables::cell(cells, 0)) {
                    Some(c) => c,
                    None => tables::contact(cells, shared.contacts, shared.contacts_file)?,
                };
                learn(&mut self.contact_keys, key(0), c);
                c
            }
        };
        let event = match known(&self.type_keys, key(1)) {
            Some(t) => t as usize,
            None => {
                let t = shared.layout.event_type(tables::cell(cells, 1))?;
                learn(&mut self.type_keys, key(1), t as u32);
                t
            }
        };
        let at = tables::at(cells, 2)?;
        let ty = shared.schema.events.get(event);
        let slots = shared.layout.field_slots().get(event);
        let ty32 = u32::try_from(event).unwrap_or(u32::MAX);
        let names = shared.layout.field_columns();
        // Validate first, store after: a bad row leaves no trace.
        let mut codes = [0u32; 32];
        let mut extra = Vec::new();
        for (k, want) in shared.wanted.iter().enumerate() {
            let Some(w) = *want else { continue };
            let raw = tables::cell(cells, EVENT_KEYS + k);
            let name = names.get(k).map_or("", String::as_str);
            let field = slots
                .and_then(|s| s.get(k).copied().flatten())
                .and_then(|f| ty.and_then(|t| t.fields.get(f)));
            let code = match (field, raw) {
                (_, Raw::Missing) if field.is_none_or(|f| f.optional) => 0,
                (None, _) => {
                    let ty = ty.map_or("", |t| t.name.as_str());
                    return Err(RowError::at(
                        name,
                        format!(
                            "field `{name}` does not belong to event `{ty}`, expected only its fields ({})",
                            validate::list(
                                shared
                                    .schema
                                    .events
                                    .get(event)
                                    .into_iter()
                                    .flat_map(|t| t.fields.iter().map(|f| f.name.as_str()))
                            )
                        ),
                    ));
                }
                (Some(field), Raw::Text(s)) => {
                    let n_wanted = self.cols.fields.len();
                    let k = key(EVENT_KEYS + k);
                    let (Some(seen), Some(by_key)) = (
                        self.seen.get_mut(event * n_wanted + w),
                        self.field_keys.get_mut(event * n_wanted + w),
                    ) else {
                        continue;
                    };
                    match known(by_key, k).or_else(|| seen.get(s).copied()) {
                        Some(c) => {
                            learn(by_key, k, c);
                            c
                        }
                        None => {
                            let v =
                                validate::value(field, raw).map_err(|r| RowError::at(name, r))?;
                            let col = self.cols.fields.get_mut(w);
                            let c = col.map_or(0, |col| col.dict.code(v));
                            seen.insert(s.to_owned(), c);
                            learn(by_key, k, c);
                            c
                        }
                    }
                }
                (Some(field), _) => {
                    let v = validate::value(field, raw).map_err(|r| RowError::at(name, r))?;
                    self.cols
                        .fields
                        .get_mut(w)
                        .map_or(0, |col| col.dict.code(v))
                }
            };
            match codes.get_mut(w) {
                Some(slot) => *slot = code,
                None => extra.push((w, code)),
            }
        }
        self.cols.push_head(contact, ty32, at);
        for (w, col) in self.cols.fields.iter_mut().enumerate() {
            let code = codes
                .get(w)
                .copied()
                .unwrap_or_else(|| extra.iter().find(|(e, _)| *e == w).map_or(0, |(_, c)| *c));
            col.codes.push(code);
        }
        Ok(())
    }
}
