//! CSV and NDJSON from the typed columns: rows are formatted in blocks on every core
//! straight into byte buffers (no `String` per cell) and written in order.

use super::{Cells, Column, Table, write_cell};
use crate::plan::display;
use crate::plan::types::Value;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;

/// Rows formatted by one task.
const BLOCK: usize = 4096;
/// Blocks formatted at once per thread before they are written (bounds the memory).
const BLOCKS_PER_THREAD: usize = 4;

/// Appends a CSV field as the `csv` crate writes it by default: quoted (with `"`
/// doubled) when it holds a comma, a quote or a line break, else as is. A cell a
/// spreadsheet would read as a formula gets a leading `'` first (see [`formula_safe`]).
pub fn csv_field(out: &mut Vec<u8>, field: &str) {
    csv_quoted(out, &formula_safe(field));
}

/// Appends a CSV field, quoted when it must be, without the formula guard (numbers,
/// dates).
fn csv_quoted(out: &mut Vec<u8>, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        for (k, part) in field.split('"').enumerate() {
            if k > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(part.as_bytes());
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

/// A text cell made safe to open in a spreadsheet (OWASP's advice on CSV injection,
/// as Mautic does it): a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return gets a leading `'`, so that Excel, LibreOffice and Google Sheets show it as
/// text instead of running it as a formula. Numbers are written by the writers
/// themselves and never pass through here, so `-5` stays a number.
pub fn formula_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Formats rows `0..n` with `format` in blocks on every core and writes the blocks to
/// `w` in row order, each round of blocks while the next one is being formatted.
fn write_blocks(
    n: usize,
    w: &mut dyn Write,
    format: impl Fn(Range<usize>) -> io::Result<Vec<u8>> + Sync,
) -> io::Result<()> {
    let starts: Vec<usize> = (0..n).step_by(BLOCK).collect();
    let round = rayon::current_num_threads().max(1) * BLOCKS_PER_THREAD;
    let mut written: Vec<io::Result<Vec<u8>>> = Vec::new();
    for starts in starts.chunks(round) {
        let mut next = Vec::new();
        rayon::in_place_scope(|s| {
            s.spawn(|_| {
                next = starts
                    .par_iter()
                    .map(|&s| format(s..(s + BLOCK).min(n)))
                    .collect();
            });
            written.drain(..).try_for_each(|block| w.write_all(&block?))
        })?;
        written = next;
    }
    written
        .into_iter()
        .try_for_each(|block| w.write_all(&block?))
}

/// A column's rows of one block, by what it stores: row `k` of the block is element
/// `k` of the slices. Labels come encoded for the output format.
enum View<'a> {
    Bool(&'a [bool]),
    Int(&'a [i64]),
    Num(&'a [f64]),
    NumOr(&'a [f64], &'a [bool]),
    Label(&'a [Option<u32>], &'a [Vec<u8>]),
    Values(&'a [Option<Value>]),
}

impl<'a> View<'a> {
    /// Rows `rows` of `col`; `labels` are its categories, encoded.
    fn of(col: &'a Column, rows: &Range<usize>, labels: &'a [Vec<u8>]) -> View<'a> {
        fn part<'v, T>(v: &'v [T], rows: &Range<usize>) -> &'v [T] {
            v.get(rows.clone()).unwrap_or_default()
        }
        match &col.cells {
            Cells::Bool(v) => View::Bool(part(v, rows)),
            Cells::Int(v) => View::Int(part(v, rows)),
            Cells::Num(v) => View::Num(part(v, rows)),
            Cells::NumOr { values, present } => {
                View::NumOr(part(values, rows), part(present, rows))
            }
            Cells::Label(v) => View::Label(part(v, rows), labels),
            Cells::Values(v) => View::Values(part(v, rows)),
        }
    }

    /// Row `k`'s number, when it has one (a view of numbers).
    fn num(&self, k: usize) -> Option<f64> {
        match *self {
            View::Num(v) => v.get(k).copied(),
            View::NumOr(v, present) => match present.get(k) {
                Some(true) => v.get(k).copied(),
                _ => None,
            },
            _ => None,
        }
    }

    /// Row `k`'s label, encoded (a view of labels).
    fn label(&self, k: usize) -> Option<&'a [u8]> {
        match *self {
            View::Label(codes, labels) => {
                let code = codes.get(k).copied().flatten()?;
                labels.get(code as usize).map(Vec::as_slice)
            }
            _ => None,
        }
    }

    /// Appends row `k`'s CSV field (nothing when missing); `scratch` is reused.
    fn csv(&self, k: usize, out: &mut Vec<u8>, scratch: &mut String) {
        match *self {
            View::Bool(v) => {
                if let Some(b) = v.get(k) {
                    out.extend_from_slice(if *b { b"true" } else { b"false" });
                }
            }
            View::Int(v) => {
                if let Some(x) = v.get(k) {
                    out.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
                }
            }
            View::Num(_) | View::NumOr(..) => {
                if let Some(x) = self.num(k) {
                    number(out, x);
                }
            }
            View::Label(..) => {
                if let Some(l) = self.label(k) {
                    out.extend_from_slice(l);
                }
            }
            View::Values(v) => {
                if let Some(Some(v)) = v.get(k) {
                    scratch.clear();
                    // Writing to a `String` does not fail.
                    let _ = write_cell(scratch, v);
                    if matches!(v, Value::Text(_)) {
                        csv_field(out, scratch);
                    } else {
                        csv_quoted(out, scratch);
                    }
                }
            }
        }
    }

    /// Appends row `k`'s JSON value (`null` when missing); `scratch` is reused.
    fn json(&self, k: usize, out: &mut Vec<u8>, scratch: &mut String) -> io::Result<()> {
        match *self {
            View::Bool(v) => match v.get(k) {
                Some(true) => out.extend_from_slice(b"true"),
                Some(false) => out.extend_from_slice(b"false"),
                None => out.extend_from_slice(b"null"),
            },
            View::Int(v) => match v.get(k) {
                Some(x) => out.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes()),
                None => out.extend_from_slice(b"null"),
            },
            // Not finite: `null`, as `serde_json::Number::from_f64` gives.
            View::Num(_) | View::NumOr(..) => match self.num(k) {
                Some(x) => serde_json::to_writer(&mut *out, &x)?,
                None => out.extend_from_slice(b"null"),
            },
            View::Label(..) => out.extend_from_slice(self.label(k).unwrap_or(b"null")),
            View::Values(v) => match v.get(k).and_then(Option::as_ref) {
                None => out.extend_from_slice(b"null"),
                Some(Value::Int(x) | Value::Duration(x)) => serde_json::to_writer(&mut *out, x)?,
                Some(Value::Number(x)) => serde_json::to_writer(&mut *out, x)?,
                Some(Value::Bool(b)) => serde_json::to_writer(&mut *out, b)?,
                Some(Value::Text(t)) => serde_json::to_writer(&mut *out, t)?,
                // Dates and timestamps as their text.
                Some(v) => {
                    scratch.clear();
                    write_cell(scratch, v).map_err(|_| io::Error::other("formatting failed"))?;
                    serde_json::to_writer(&mut *out, scratch.as_str())?
                }
            },
        }
        Ok(())
    }
}

/// Appends a number as [`display::number`] writes it.
fn number(out: &mut Vec<u8>, x: f64) {
    match display::whole(x) {
        Some(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
        // Writing to a `Vec` does not fail.
        None => {
            let _ = write!(out, "{x}");
        }
    }
}

impl Table {
    /// Writes the table as CSV: `id` then one column per definition; missing is empty.
    /// Quoting follows the `csv` crate's defaults.
    pub fn write_csv(&self, w: &mut dyn Write) -> io::Result<()> {
        let mut header = Vec::new();
        csv_field(&mut header, "id");
        for c in &self.columns {
            header.push(b',');
            csv_field(&mut header, &c.name);
        }
        header.push(b'\n');
        w.write_all(&header)?;
        let labels = self.labels(|name| {
            let mut field = Vec::new();
            csv_field(&mut field, name);
            Ok(field)
        })?;
        write_blocks(self.ids.len(), w, |rows| {
            let views = self.views(&rows, &labels);
            let mut out = Vec::with_capacity(rows.len() * (8 + 6 * views.len()));
            let mut scratch = String::new();
            for (k, id) in self.ids.get(rows).unwrap_or_default().iter().enumerate() {
                if id.is_empty() && views.is_empty() {
                    // A record of one empty field is `""` (else it would be an empty line).
                    out.extend_from_slice(b"\"\"");
                }
                csv_field(&mut out, id);
                for v in &views {
                    out.push(b',');
                    v.csv(k, &mut out, &mut scratch);
                }
                out.push(b'\n');
            }
            Ok(out)
        })
    }

    /// Writes the table as NDJSON: one object per row, keys in sorted order (as a
    /// `serde_json::Map`), missing as `null`.
    pub fn write_ndjson(&self, w: &mut dyn Write) -> io::Result<()> {
        // Sorted keys, each `"key":`, and where its value comes from (`None`: the id);
        // a column named `id` replaces the id, as inserting into a map would.
        let mut keys: BTreeMap<&str, Option<usize>> = BTreeMap::new();
        keys.insert("id", None);
        for (j, c) in self.columns.iter().enumerate() {
            keys.insert(&c.name, Some(j));
        }
        let keys: Vec<(Vec<u8>, Option<usize>)> = keys
            .into_iter()
            .map(|(k, source)| {
                let mut key = serde_json::to_vec(k)?;
                key.push(b':');
                Ok((key, source))
            })
            .collect::<io::Result<_>>()?;
        let labels = self.labels(|name| Ok(serde_json::to_vec(name)?))?;
        write_blocks(self.ids.len(), w, |rows| {
            let views = self.views(&rows, &labels);
            let mut out = Vec::with_capacity(rows.len() * 16 * keys.len());
            let mut scratch = String::new();
            for (k, id) in self.ids.get(rows).unwrap_or_default().iter().enumerate() {
                out.push(b'{');
                for (n, (key, source)) in keys.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(key);
                    match source.and_then(|j| views.get(j)) {
                        Some(v) => v.json(k, &mut out, &mut scratch)?,
                        None => serde_json::to_writer(&mut out, id)?,
                    }
                }
                out.extend_from_slice(b"}\n");
            }
            Ok(out)
        })
    }

    /// Every column's categories, encoded by `encode`.
    fn labels(
        &self,
        encode: impl Fn(&str) -> io::Result<Vec<u8>>,
    ) -> io::Result<Vec<Vec<Vec<u8>>>> {
        self.columns
            .iter()
            .map(|c| c.categories.iter().map(|n| encode(n)).collect())
            .collect()
    }

    /// Every column's view of `rows`.
    fn views<'a>(&'a self, rows: &Range<usize>, labels: &'a [Vec<Vec<u8>>]) -> Vec<View<'a>> {
        self.columns
            .iter()
            .zip(labels)
            .map(|(c, l)| View::of(c, rows, l))
            .collect()
    }
}
