//! A deterministic generator of contact data for a schema (`funnel gen`): contacts,
//! accounts, an event log in time order across contacts, and the change log of every
//! `with history` attribute. Activity is skewed (a few contacts with thousands of
//! events, many with none) and spans two years up to the end moment.

#[cfg(feature = "parquet")]
pub mod parquet;
pub mod table;
mod values;

use crate::plan::schema::{Field, Schema, Type};
use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;
use std::io;
use std::path::Path;
use table::{Cell, ColType, Columns, OutFormat};
use values::Span;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub contacts: u64,
    /// Average events per contact.
    pub events_per_contact: f64,
    pub seed: u64,
    /// The last moment of the history (seconds since the epoch); it starts two years
    /// earlier.
    pub end: i64,
}

/// How much was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub contacts: u64,
    pub accounts: u64,
    pub events: u64,
    pub changes: u64,
}

/// The most events one contact gets.
const MAX_PER_CONTACT: u64 = 20_000;
/// Share of contacts without any event.
const SILENT: f64 = 0.3;
const TWO_YEARS: i64 = 730 * 86_400;

/// Writes `contacts`, `accounts` (when the schema has account attributes or a link),
/// `events` and `changes` (when the schema has history) into `dir` in each format;
/// with several formats, each goes into its own subfolder named after the format.
pub fn generate(
    schema: &Schema,
    opts: &Options,
    dir: &Path,
    formats: &[OutFormat],
) -> io::Result<Counts> {
    let data = Generated::new(schema, opts);
    let mut counts = Counts::default();
    for &format in formats {
        let out = if formats.len() > 1 {
            dir.join(format.ext())
        } else {
            dir.to_path_buf()
        };
        std::fs::create_dir_all(&out)?;
        counts = data.write(&out, format)?;
    }
    Ok(counts)
}

/// The generated data set, kept small: per-contact plans and the event order; field
/// values are drawn while writing, from seeds, so every format gets the same rows.
struct Generated<'s> {
    schema: &'s Schema,
    opts: Options,
    span: Span,
    accounts: u64,
    /// Per event in time order: (seconds, contact).
    events: Vec<(i64, u32)>,
    /// Per history attribute and contact: the change log (seconds, value).
    changes: Vec<(i64, u32, usize, Cell)>,
    /// The final value of each history attribute, per contact that has changes.
    current: std::collections::HashMap<(u32, usize), Cell>,
}

fn rng(seed: u64, stream: u64) -> XorShiftRng {
    XorShiftRng::seed_from_u64(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

fn id(prefix: char, i: u64, width: usize) -> String {
    format!("{prefix}{i:0width$}")
}

fn width(n: u64) -> usize {
    n.max(1).to_string().len()
}

impl<'s> Generated<'s> {
    fn new(schema: &'s Schema, opts: &Options) -> Generated<'s> {
        let span = Span {
            start: opts.end - TWO_YEARS,
            end: opts.end,
        };
        let n = opts.contacts;
        let has_accounts = !schema.account.is_empty() || schema.account_link().is_some();
        let accounts = if has_accounts { (n / 20).max(1) } else { 0 };
        let events = event_log(opts, &span);
        let (changes, current) = change_log(schema, opts, &span);
        Generated {
            schema,
            opts: opts.clone(),
            span,
            accounts,
            events,
            changes,
            current,
        }
    }

    fn write(&self, dir: &Path, format: OutFormat) -> io::Result<Counts> {
        let ext = format.ext();
        let mut counts = Counts {
            contacts: self.opts.contacts,
            ..Counts::default()
        };
        let wc = width(self.opts.contacts);
        let wa = width(self.accounts);
        if self.accounts > 0 {
            let mut columns: Columns = vec![("id".into(), ColType::Text)];
            columns.extend(fields(&self.schema.account));
            let mut out = table::create(&dir.join(format!("accounts.{ext}")), format, &columns)?;
            let mut rng = rng(self.opts.seed, 1);
            let mut row = Vec::with_capacity(columns.len());
            for a in 0..self.accounts {
                row.clear();
                row.push(Cell::Text(id('a', a + 1, wa)));
                for f in &self.schema.account {
                    row.push(values::value(f, a, &self.span, &mut rng));
                }
                out.row(&row)?;
            }
            out.finish()?;
            counts.accounts = self.accounts;
        }
        let mut columns: Columns = vec![("id".into(), ColType::Text)];
        columns.extend(fields(&self.schema.contact));
        let mut out = table::create(&dir.join(format!("contacts.{ext}")), format, &columns)?;
        let mut rng = rng(self.opts.seed, 2);
        let mut row = Vec::with_capacity(columns.len());
        for c in 0..self.opts.contacts {
            row.clear();
            row.push(Cell::Text(id('c', c + 1, wc)));
            for (i, f) in self.schema.contact.iter().enumerate() {
                let drawn = if f.ty == Type::AccountLink {
                    self.account_of(&mut rng, wa)
                } else {
                    values::value(f, c, &self.span, &mut rng)
                };
                let kept = u32::try_from(c)
                    .ok()
                    .and_then(|c| self.current.get(&(c, i)).cloned());
                row.push(kept.unwrap_or(drawn));
            }
            out.row(&row)?;
        }
        out.finish()?;
        counts.events = self.write_events(dir, format, wc)?;
        if self.schema.contact.iter().any(|f| f.history) {
            let columns: Columns = ["contact_id", "attribute", "value", "at"]
                .iter()
                .map(|n| {
                    let ty = if *n == "at" {
                        ColType::Time
                    } else {
                        ColType::Text
                    };
                    ((*n).to_owned(), ty)
                })
                .collect();
            let mut out = table::create(&dir.join(format!("changes.{ext}")), format, &columns)?;
            for (at, c, attr, value) in &self.changes {
                let name = self
                    .schema
                    .contact
                    .get(*attr)
                    .map_or("", |f| f.name.as_str());
                let value = match value {
                    Cell::Text(_) | Cell::Missing => value.clone(),
                    Cell::Int(i) => Cell::Text(i.to_string()),
                    Cell::Num(x) => Cell::Text(crate::plan::display::number(*x)),
                    Cell::Bool(b) => Cell::Text(b.to_string()),
                    Cell::Time(t) => Cell::Text(table::rfc3339(*t)),
                    Cell::Date(d) => Cell::Text(d.to_string()),
                };
                out.row(&[
                    Cell::Text(id('c', u64::from(*c) + 1, wc)),
                    Cell::Text(name.to_owned()),
                    value,
                    Cell::Time(at * 1_000_000),
                ])?;
            }
            out.finish()?;
            counts.changes = self.changes.len() as u64;
        }
        Ok(counts)
    }

    /// An account for a contact: most have one, big accounts have more contacts.
    fn account_of(&self, rng: &mut XorShiftRng, wa: usize) -> Cell {
        if self.accounts == 0 || rng.random_bool(0.2) {
            return Cell::Missing;
        }
        let u: f64 = rng.random();
        let a = ((u * u) * self.accounts as f64) as u64;
        Cell::Text(id('a', a.min(self.accounts - 1) + 1, wa))
    }

    fn write_events(&self, dir: &Path, format: OutFormat, wc: usize) -> io::Result<u64> {
        let types = &self.schema.events;
        if types.is_empty() {
            return Ok(0);
        }
        let mut names: Vec<(String, ColType)> = Vec::new();
        for f in types.iter().flat_map(|e| &e.fields) {
            let ty = ColType::of(&f.ty);
            match names.iter_mut().find(|(n, _)| *n == f.name) {
                Some((_, t)) if *t != ty => *t = ColType::Text,
                Some(_) => {}
                None => names.push((f.name.clone(), ty)),
            }
        }
        let mut columns: Columns = vec![
            ("contact_id".into(), ColType::Text),
            ("event".into(), ColType::Text),
            ("at".into(), ColType::Time),
        ];
        columns.extend(names.iter().cloned());
        // Per event type: the column of each field.
        let slots: Vec<Vec<usize>> = types
            .iter()
            .map(|e| {
                e.fields
                    .iter()
                    .map(|f| 3 + names.iter().position(|(n, _)| *n == f.name).unwrap_or(0))
                    .collect()
            })
            .collect();
        let weights: Vec<f64> = types
            .iter()
            .map(|e| values::event_weight(&e.name))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut out = table::create(
            &dir.join(format!("events.{ext}", ext = format.ext())),
            format,
            &columns,
        )?;
        let mut rng = rng(self.opts.seed, 3);
        let mut row = vec![Cell::Missing; columns.len()];
        for &(at, c) in &self.events {
            row.iter_mut().for_each(|cell| *cell = Cell::Missing);
            let mut x = rng.random::<f64>() * total;
            let mut t = types.len() - 1;
            for (i, w) in weights.iter().enumerate() {
                if x < *w {
                    t = i;
                    break;
                }
                x -= w;
            }
            let (Some(ty), Some(slot)) = (types.get(t), slots.get(t)) else {
                continue;
            };
            if let Some(cell) = row.get_mut(0) {
                *cell = Cell::Text(id('c', u64::from(c) + 1, wc));
            }
            if let Some(cell) = row.get_mut(1) {
                *cell = Cell::Text(ty.name.clone());
            }
            if let Some(cell) = row.get_mut(2) {
                *cell = Cell::Time(at * 1_000_000);
            }
            for (f, &s) in ty.fields.iter().zip(slot) {
                if let Some(cell) = row.get_mut(s) {
                    *cell = values::value(f, u64::from(c), &self.span, &mut rng);
                }
            }
            out.row(&row)?;
        }
        out.finish()?;
        Ok(self.events.len() as u64)
    }
}

fn fields(fs: &[Field]) -> impl Iterator<Item = (String, ColType)> + '_ {
    fs.iter().map(|f| (f.name.clone(), ColType::of(&f.ty)))
}

/// Events per contact (skewed: Pareto-distributed, some silent, capped), their times,
/// all sorted by time as an event log arrives.
fn event_log(opts: &Options, span: &Span) -> Vec<(i64, u32)> {
    let n = usize::try_from(opts.contacts).unwrap_or(0);
    let mut rng = rng(opts.seed, 4);
    // Pareto with shape 1.3: a heavy tail.
    let raw: Vec<f64> = (0..n)
        .map(|_| {
            if rng.random_bool(SILENT) {
                0.0
            } else {
                let u: f64 = rng.random::<f64>().max(1e-12);
                u.powf(-1.0 / 1.3)
            }
        })
        .collect();
    let sum: f64 = raw.iter().sum();
    let target = opts.events_per_contact * n as f64;
    let scale = if sum > 0.0 { target / sum } else { 0.0 };
    let mut events = Vec::with_capacity(target as usize + n);
    for (c, r) in raw.iter().enumerate() {
        let k = ((r * scale).round() as u64).min(MAX_PER_CONTACT);
        if k == 0 {
            continue;
        }
        // Active from some moment on, more often in the recent past.
        let from = span.recent(&mut rng).min(span.end - 86_400);
        let c = u32::try_from(c).unwrap_or(u32::MAX);
        for _ in 0..k {
            events.push((rng.random_range(from..span.end), c));
        }
    }
    events.sort_unstable();
    events
}

/// Change logs of the `with history` attributes: for 40% of contacts, one to four
/// changes that move along the declared values (a funnel), in time order, before the
/// end of the history.
#[allow(clippy::type_complexity)]
fn change_log(
    schema: &Schema,
    opts: &Options,
    span: &Span,
) -> (
    Vec<(i64, u32, usize, Cell)>,
    std::collections::HashMap<(u32, usize), Cell>,
) {
    let mut rng = rng(opts.seed, 5);
    let mut log = Vec::new();
    let mut current = std::collections::HashMap::new();
    for (attr, field) in schema.contact.iter().enumerate() {
        if !field.history {
            continue;
        }
        for c in 0..opts.contacts {
            if !rng.random_bool(0.4) {
                continue;
            }
            let Ok(c32) = u32::try_from(c) else { break };
            let k = rng.random_range(1..5);
            let mut at = span.recent(&mut rng);
            let first = match &field.ty {
                Type::Enum(vs) => rng.random_range(0..vs.len().max(1)),
                _ => 0,
            };
            let mut last = Cell::Missing;
            for step in first..first + k {
                let value = match &field.ty {
                    Type::Enum(vs) => match vs.get(step.min(vs.len().saturating_sub(1))) {
                        Some(v) => Cell::Text(v.clone()),
                        None => Cell::Missing,
                    },
                    _ => values::value(field, c, span, &mut rng),
                };
                if value == Cell::Missing {
                    continue;
                }
                log.push((at, c32, attr, value.clone()));
                last = value;
                at += rng.random_range(3_600..60 * 86_400);
                if at >= span.end {
                    break;
                }
            }
            if last != Cell::Missing {
                current.insert((c32, attr), last);
            }
        }
    }
    log.sort_by_key(|(at, c, a, _)| (*at, *c, *a));
    (log, current)
}
