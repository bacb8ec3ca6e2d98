//! Events in columns: contact index, event type and time as integers, and only the
//! fields the plan reads, each as dictionary codes into its distinct values (code 0 is
//! missing). Built from a [`Dataset`] or straight from a data file, where every
//! distinct raw cell of a field is validated once.

use crate::engine::data::ids;
use crate::engine::data::tables::{
    self, Cells, Columns, EVENT_KEYS, Events, FastMap, Ids, NO_KEY, RowError, Table,
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
            Value::Text(s) => Key::Text(s.to_string()),
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

/// One field the plan reads: its name and its distinct values over all events.
#[derive(Debug, Clone, Default)]
pub struct FieldColumn {
    pub name: String,
    pub dict: Dict,
}

/// The events of a data set, in file order.
///
/// Field codes are kept in slots, not one column per field: an event type has few of
/// the fields the plan reads, so an event of type `t` keeps the code of field `f` in
/// slot `slot_of[t][f]`, and a field its type lacks has code 0 (missing) without being
/// stored. Three slots hold the example's fourteen fields.
#[derive(Debug, Clone, Default)]
pub struct EventColumns {
    pub contact: Vec<u32>,
    pub ty: Vec<u32>,
    /// Microseconds since the epoch.
    pub at: Vec<i64>,
    /// Nanoseconds below the microsecond (kept so times read back exactly); empty while
    /// every event's is 0.
    pub sub: Vec<u16>,
    pub fields: Vec<FieldColumn>,
    /// The field codes, by slot: `slots[s][i]`.
    slots: Vec<Vec<u32>>,
    /// Per event type, per field: the slot holding its codes.
    slot_of: Vec<Vec<Option<usize>>>,
    /// Per event type, per slot: the field it holds.
    field_in: Vec<Vec<Option<usize>>>,
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
    /// Empty columns for the named fields of `schema`'s events.
    pub fn new(schema: &Schema, fields: &[String]) -> EventColumns {
        let mut slot_of = Vec::with_capacity(schema.events.len());
        let mut field_in = Vec::with_capacity(schema.events.len());
        for e in &schema.events {
            let mut slots = Vec::with_capacity(fields.len());
            let mut held = Vec::new();
            for (f, name) in fields.iter().enumerate() {
                if e.fields.iter().any(|x| x.name == *name) {
                    slots.push(Some(held.len()));
                    held.push(Some(f));
                } else {
                    slots.push(None);
                }
            }
            slot_of.push(slots);
            field_in.push(held);
        }
        let width = field_in.iter().map(Vec::len).max().unwrap_or(0);
        for held in &mut field_in {
            held.resize(width, None);
        }
        EventColumns {
            fields: fields
                .iter()
                .map(|n| FieldColumn {
                    name: n.clone(),
                    dict: Dict::default(),
                })
                .collect(),
            slots: vec![Vec::new(); width],
            slot_of,
            field_in,
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

    /// The slot that holds field `f` for events of type `ty` (`None`: the type has no
    /// such field).
    #[inline]
    pub fn slot(&self, ty: usize, f: usize) -> Option<usize> {
        *self.slot_of.get(ty)?.get(f)?
    }

    /// The code of field `f` in event `i`, of type `ty`.
    #[inline]
    pub fn code(&self, f: usize, ty: usize, i: usize) -> u32 {
        self.slot(ty, f)
            .and_then(|s| self.slots.get(s)?.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// The time of event `i` as read.
    pub fn time(&self, i: usize) -> Option<DateTime<Utc>> {
        join(*self.at.get(i)?, self.sub.get(i).copied().unwrap_or(0))
    }

    /// Columns of the events of a data set (only `fields` of them).
    pub fn from_dataset(schema: &Schema, data: &Dataset, fields: &[String]) -> EventColumns {
        let mut cols = EventColumns::new(schema, fields);
        // Per event type, the field index of each wanted column.
        let index: Vec<Vec<Option<usize>>> = schema
            .events
            .iter()
            .map(|e| {
                fields
                    .iter()
                    .map(|n| e.fields.iter().position(|f| f.name == *n))
                    .collect()
            })
            .collect();
        let mut codes = vec![0; fields.len()];
        for EventRow {
            contact,
            event,
            at,
            fields: values,
        } in &data.events
        {
            let of = index.get(*event as usize);
            for (k, (col, code)) in cols.fields.iter_mut().zip(&mut codes).enumerate() {
                let v = of
                    .and_then(|s| s.get(k).copied().flatten())
                    .and_then(|f| values.get(f).cloned().flatten());
                *code = col.dict.code(v);
            }
            cols.push(*contact, *event, *at, &codes);
        }
        cols
    }

    /// Appends the events of `part` (read after these, with the same fields), its codes
    /// translated to these columns' dictionaries, so that appending the parts of a file
    /// in order gives the columns one sequential read gives. The columns are extended
    /// in parallel.
    pub fn append(&mut self, part: EventColumns) {
        let remaps: Vec<Vec<u32>> = self
            .fields
            .iter_mut()
            .zip(&part.fields)
            .map(|(col, p)| {
                p.dict
                    .values
                    .iter()
                    .map(|v| col.dict.code(v.clone()))
                    .collect()
            })
            .collect();
        let held = self.len();
        if !self.sub.is_empty() || !part.sub.is_empty() {
            self.sub.resize(held, 0);
        }
        let EventColumns {
            contact,
            ty,
            at,
            sub,
            slots,
            field_in,
            ..
        } = self;
        let field_in = &*field_in;
        let remaps = &remaps;
        rayon::scope(|s| {
            s.spawn(|_| contact.extend_from_slice(&part.contact));
            s.spawn(|_| ty.extend_from_slice(&part.ty));
            s.spawn(|_| at.extend_from_slice(&part.at));
            if !sub.is_empty() {
                s.spawn(|_| match part.sub.is_empty() {
                    true => sub.resize(held + part.len(), 0),
                    false => sub.extend_from_slice(&part.sub),
                });
            }
            for (k, (col, p)) in slots.iter_mut().zip(&part.slots).enumerate() {
                let types = &part.ty;
                s.spawn(move |_| {
                    col.extend(p.iter().zip(types).map(|(&c, &t)| {
                        field_at(field_in, t, k)
                            .and_then(|f| remaps.get(f)?.get(c as usize))
                            .copied()
                            .unwrap_or(0)
                    }));
                });
            }
        });
    }

    /// Frees the capacity beyond the events held.
    pub fn shrink_to_fit(&mut self) {
        self.contact.shrink_to_fit();
        self.ty.shrink_to_fit();
        self.at.shrink_to_fit();
        self.sub.shrink_to_fit();
        for s in &mut self.slots {
            s.shrink_to_fit();
        }
    }

    fn reserve(&mut self, n: usize) {
        self.contact.reserve(n);
        self.ty.reserve(n);
        self.at.reserve(n);
        for s in &mut self.slots {
            s.reserve(n);
        }
    }

    /// Appends one event; `codes` are its code of every field (0 for those its type
    /// lacks).
    fn push(&mut self, contact: u32, ty: u32, at: DateTime<Utc>, codes: &[u32]) {
        self.extend(&[contact], &[ty], &[split(at)], |f, _| {
            codes.get(f).copied().unwrap_or(0)
        });
    }

    /// Appends events given column by column; `code(f, r)` is field `f`'s code in the
    /// `r`-th of them.
    fn extend(
        &mut self,
        contacts: &[u32],
        types: &[u32],
        times: &[(i64, u16)],
        code: impl Fn(usize, usize) -> u32,
    ) {
        let held = self.len();
        self.reserve(types.len());
        self.contact.extend_from_slice(contacts);
        self.ty.extend_from_slice(types);
        self.at.extend(times.iter().map(|&(at, _)| at));
        if !self.sub.is_empty() || times.iter().any(|&(_, sub)| sub != 0) {
            self.sub.resize(held, 0);
            self.sub.extend(times.iter().map(|&(_, sub)| sub));
        }
        let field_in = &self.field_in;
        for (k, slot) in self.slots.iter_mut().enumerate() {
            slot.extend(
                types
                    .iter()
                    .enumerate()
                    .map(|(r, &t)| field_at(field_in, t, k).map_or(0, |f| code(f, r))),
            );
        }
    }
}

/// The field that slot `k` holds in events of type `ty` (`field_in` as in
/// [`EventColumns`]).
fn field_at(field_in: &[Vec<Option<usize>>], ty: u32, k: usize) -> Option<usize> {
    *field_in.get(ty as usize)?.get(k)?
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
    /// Per event type × file field column: whether the type has the field, required
    /// (a missing cell of any other is code 0 without further look).
    required: Vec<bool>,
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
        let required = schema
            .events
            .iter()
            .zip(layout.field_slots())
            .flat_map(|(e, slots)| {
                slots
                    .iter()
                    .map(|s| s.and_then(|f| e.fields.get(f)).is_some_and(|f| !f.optional))
            })
            .collect();
        EventsLayout {
            required,
            layout,
            schema,
            contacts,
            contacts_file,
            wanted,
            fields: fields.to_vec(),
        }
    }

    /// An empty part to read rows into.
    pub fn part(&self) -> ColumnarEvents<'_, 'a> {
        let slots = self.schema.events.len() * self.fields.len();
        ColumnarEvents {
            shared: self,
            seen: vec![FastMap::default(); slots],
            seen_int: vec![FastMap::default(); slots],
            row_codes: Vec::new(),
            cols: EventColumns::new(self.schema, &self.fields),
        }
    }
}

/// A part of the events table (a Parquet row group, a CSV chunk, or the whole file) read
/// into [`EventColumns`] with dictionaries of its own; each distinct raw text of a
/// field is validated and stored once. [`EventColumns::append`] joins the parts.
pub(crate) struct ColumnarEvents<'s, 'a> {
    shared: &'s EventsLayout<'a>,
    /// Per event type × wanted column: raw text → code.
    seen: Vec<FastMap<String, u32>>,
    /// Per event type × wanted column: a raw whole number → code.
    seen_int: Vec<FastMap<i64, u32>>,
    /// A row's codes while it is checked (reused from row to row).
    row_codes: Vec<u32>,
    pub cols: EventColumns,
}

impl ColumnarEvents<'_, '_> {
    /// The index of the contact a `contact_id` cell names.
    fn contact(&self, cell: Raw<'_>) -> Result<u32, RowError> {
        let shared = self.shared;
        tables::contact(
            std::slice::from_ref(&cell),
            shared.contacts,
            shared.contacts_file,
        )
    }

    /// The code of the cell of file field column `k` (the wanted column `w`) in an event
    /// of type `event`, checked like the row loader checks it.
    fn code(&mut self, event: usize, k: usize, w: usize, raw: Raw<'_>) -> Result<u32, RowError> {
        // A cell seen before in this column for this event type was valid then.
        let cache = event * self.cols.fields.len() + w;
        let seen = match raw {
            Raw::Text(s) => self.seen.get(cache).and_then(|m| m.get(s)),
            Raw::Int(i) => self.seen_int.get(cache).and_then(|m| m.get(&i)),
            _ => None,
        };
        if let Some(&c) = seen {
            return Ok(c);
        }
        let shared = self.shared;
        let ty = shared.schema.events.get(event);
        let name = shared
            .layout
            .field_columns()
            .get(k)
            .map_or("", String::as_str);
        let field = shared
            .layout
            .field_slots()
            .get(event)
            .and_then(|s| s.get(k).copied().flatten())
            .and_then(|f| ty.and_then(|t| t.fields.get(f)));
        let Some(field) = field else {
            if raw.is_missing() {
                return Ok(0);
            }
            let ty = ty.map_or("", |t| t.name.as_str());
            return Err(RowError::at(
                name,
                format!(
                    "field `{name}` does not belong to event `{ty}`, expected only its fields ({})",
                    validate::list(ty_fields(shared.schema, event))
                ),
            ));
        };
        if raw.is_missing() && field.optional {
            return Ok(0);
        }
        let v = validate::value(field, raw).map_err(|r| RowError::at(name, r))?;
        let c = self
            .cols
            .fields
            .get_mut(w)
            .map_or(0, |col| col.dict.code(v));
        match raw {
            Raw::Text(s) => {
                if let Some(m) = self.seen.get_mut(cache) {
                    m.insert(s.to_owned(), c);
                }
            }
            Raw::Int(i) => {
                if let Some(m) = self.seen_int.get_mut(cache) {
                    m.insert(i, c);
                }
            }
            _ => {}
        }
        Ok(c)
    }

    /// The contact of every row of a batch (`None` if one is not known).
    fn batch_contacts(&self, rows: usize, cells: &Cells<'_>) -> Option<Vec<u32>> {
        match cells {
            Cells::Missing => None,
            Cells::Dict { keys, values } => {
                let short = self.shared.contacts.get_all(values.iter().map(text));
                let known: Vec<Option<u32>> = short
                    .iter()
                    .zip(values)
                    .map(|(&c, &cell)| match c {
                        ids::NONE => self.contact(cell).ok(),
                        c => Some(c),
                    })
                    .collect();
                translate(keys, &known)
            }
            Cells::Plain(cells) => {
                let mut out = self.shared.contacts.get_all(cells.iter().map(text));
                for (c, &cell) in out.iter_mut().zip(cells).take(rows) {
                    if *c == ids::NONE {
                        *c = self.contact(cell).ok()?;
                    }
                }
                (out.len() == rows).then_some(out)
            }
        }
    }

    /// The event type of every row of a batch (`None` if one is not an event type).
    fn batch_types(&self, rows: usize, cells: &Cells<'_>) -> Option<Vec<u32>> {
        let layout = &self.shared.layout;
        let type_of = |c: Raw<'_>| {
            layout
                .event_type(c)
                .ok()
                .and_then(|t| u32::try_from(t).ok())
        };
        match cells {
            Cells::Missing => None,
            Cells::Dict { keys, values } => {
                let known: Vec<Option<u32>> = values.iter().map(|&v| type_of(v)).collect();
                translate(keys, &known)
            }
            Cells::Plain(cells) => {
                let mut last: Option<(&str, u32)> = None;
                let mut out = Vec::with_capacity(rows);
                for &cell in cells.iter().take(rows) {
                    let t = match (cell, last) {
                        (Raw::Text(s), Some((prev, t))) if s == prev => t,
                        (Raw::Text(s), _) => {
                            let t = type_of(cell)?;
                            last = Some((s, t));
                            t
                        }
                        _ => type_of(cell)?,
                    };
                    out.push(t);
                }
                (out.len() == rows).then_some(out)
            }
        }
    }

    /// The codes of wanted column `w` (file field column `k`) for every row of a batch
    /// whose event types are `types` (`None` if a cell is bad).
    fn batch_codes(
        &mut self,
        k: usize,
        w: usize,
        types: &[u32],
        cells: &Cells<'_>,
    ) -> Option<Vec<u32>> {
        // A missing cell of a field that an event's type does not require is code 0,
        // without a look-up.
        let shared = self.shared;
        let columns = shared.layout.field_columns().len();
        let optional = |t: u32| {
            let at = t as usize * columns + k;
            !shared.required.get(at).copied().unwrap_or(true)
        };
        match cells {
            Cells::Dict { keys, values } => {
                // Per dictionary key: the event type and code last found for it (a
                // field's values mostly belong to one event type).
                let mut known: Vec<Option<(u32, u32)>> = vec![None; values.len()];
                let mut out = Vec::with_capacity(types.len());
                for (&t, &key) in types.iter().zip(keys.iter()) {
                    let code = match known.get(key as usize).copied().flatten() {
                        Some((ty, c)) if ty == t => c,
                        _ if key == NO_KEY && optional(t) => 0,
                        _ => {
                            let raw = values.get(key as usize).copied().unwrap_or(Raw::Missing);
                            let c = self.code(t as usize, k, w, raw).ok()?;
                            if let Some(s) = known.get_mut(key as usize) {
                                *s = Some((t, c));
                            }
                            c
                        }
                    };
                    out.push(code);
                }
                Some(out)
            }
            Cells::Plain(cells) => {
                let mut out = Vec::with_capacity(types.len());
                for (&t, &raw) in types.iter().zip(cells) {
                    out.push(match raw {
                        Raw::Missing if optional(t) => 0,
                        raw => self.code(t as usize, k, w, raw).ok()?,
                    });
                }
                (out.len() == types.len()).then_some(out)
            }
            Cells::Missing => types
                .iter()
                .map(|&t| match optional(t) {
                    true => Some(0),
                    false => self.code(t as usize, k, w, Raw::Missing).ok(),
                })
                .collect(),
        }
    }
}

/// The names of the fields of event type `event`.
fn ty_fields(schema: &Schema, event: usize) -> impl Iterator<Item = &str> + Clone {
    schema
        .events
        .get(event)
        .into_iter()
        .flat_map(|t| t.fields.iter().map(|f| f.name.as_str()))
}

/// A text cell's text.
fn text<'r>(cell: &Raw<'r>) -> Option<&'r str> {
    match cell {
        Raw::Text(s) => Some(s),
        _ => None,
    }
}

/// Per row, what its dictionary key stands for (`None` if a key is missing or stands
/// for nothing).
fn translate(keys: &[u32], known: &[Option<u32>]) -> Option<Vec<u32>> {
    keys.iter()
        .map(|&k| known.get(k as usize).copied().flatten())
        .collect()
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

    fn row(&mut self, _line: u64, cells: &[Raw<'_>]) -> Result<(), RowError> {
        let contact = self.contact(tables::cell(cells, 0))?;
        let event = self.shared.layout.event_type(tables::cell(cells, 1))?;
        let at = tables::at(cells, 2)?;
        // Validate first, store after: a bad row leaves no trace.
        let mut codes = std::mem::take(&mut self.row_codes);
        codes.clear();
        codes.resize(self.cols.fields.len(), 0);
        for (k, want) in self.shared.wanted.iter().enumerate() {
            let Some(w) = *want else { continue };
            // (A bad row gives up the reused vector; the next row makes another.)
            let code = self.code(event, k, w, tables::cell(cells, EVENT_KEYS + k))?;
            if let Some(slot) = codes.get_mut(w) {
                *slot = code;
            }
        }
        self.cols.push(
            contact,
            u32::try_from(event).unwrap_or(u32::MAX),
            at,
            &codes,
        );
        self.row_codes = codes;
        Ok(())
    }

    fn takes_batches(&self) -> bool {
        true
    }

    fn batch(&mut self, rows: usize, columns: &[Cells<'_>]) -> bool {
        let column = |slot: usize| columns.get(slot).unwrap_or(&Cells::Missing);
        let Some(contacts) = self.batch_contacts(rows, column(0)) else {
            return false;
        };
        let Some(types) = self.batch_types(rows, column(1)) else {
            return false;
        };
        let mut times = Vec::with_capacity(rows);
        for r in 0..rows {
            // A typed time is whole microseconds within range: no `DateTime` needed.
            times.push(match column(2).get(r) {
                Raw::Time(micros) => (micros, 0),
                raw => match validate::timestamp_cell(raw) {
                    Ok(t) => split(t),
                    Err(_) => return false,
                },
            });
        }
        let mut codes: Vec<Vec<u32>> = vec![Vec::new(); self.cols.fields.len()];
        for (k, want) in self.shared.wanted.iter().enumerate() {
            let Some(w) = *want else { continue };
            let Some(c) = self.batch_codes(k, w, &types, column(EVENT_KEYS + k)) else {
                return false;
            };
            if let Some(slot) = codes.get_mut(w) {
                *slot = c;
            }
        }
        self.cols.extend(&contacts, &types, &times, |f, r| {
            codes.get(f).and_then(|c| c.get(r)).copied().unwrap_or(0)
        });
        true
    }
}
