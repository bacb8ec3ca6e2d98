//! CSV and NDJSON from the typed columns: rows are formatted in blocks on every core
//! straight into byte buffers (no `String` per cell) and written in order.

use super::{Cell, Column, Table, write_cell};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;

/// Rows formatted by one task.
const BLOCK: usize = 4096;
/// Blocks formatted at once per thread before they are written (bounds the memory).
const BLOCKS_PER_THREAD: usize = 4;

/// Appends a CSV field as the `csv` crate writes it by default: quoted (with `"`
/// doubled) when it holds a comma, a quote or a line break, else as is.
pub fn csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        for (k, part) in field.split('"').enumerate() {
            if k > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Formats rows `0..n` with `format` in blocks on every core and writes the blocks to
/// `w` in row order.
fn write_blocks(
    n: usize,
    w: &mut dyn Write,
    format: impl Fn(Range<usize>) -> io::Result<Vec<u8>> + Sync,
) -> io::Result<()> {
    let starts: Vec<usize> = (0..n).step_by(BLOCK).collect();
    let round = rayon::current_num_threads().max(1) * BLOCKS_PER_THREAD;
    for starts in starts.chunks(round) {
        let blocks: Vec<io::Result<Vec<u8>>> = starts
            .par_iter()
            .map(|&s| format(s..(s + BLOCK).min(n)))
            .collect();
        for block in blocks {
            w.write_all(&block?)?;
        }
    }
    Ok(())
}

fn fmt_error(_: std::fmt::Error) -> io::Error {
    io::Error::other("formatting failed")
}

impl Column {
    /// Appends row `i`'s CSV field (empty when missing); `scratch` is reused.
    fn write_csv_cell(&self, i: usize, out: &mut String, scratch: &mut String) -> std::fmt::Result {
        match self.cell(i) {
            Cell::Text(t) => csv_field(out, t),
            Cell::Value(v) => {
                scratch.clear();
                write_cell(scratch, v)?;
                csv_field(out, scratch);
            }
            // Booleans and numbers need no quotes.
            other => other.write_text(out)?,
        }
        Ok(())
    }

    /// Appends row `i`'s JSON value (`null` when missing); `scratch` is reused.
    fn write_json_cell(&self, i: usize, out: &mut Vec<u8>, scratch: &mut String) -> io::Result<()> {
        use crate::plan::types::Value;
        match self.cell(i) {
            Cell::Missing => out.extend_from_slice(b"null"),
            Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Cell::Int(x) => serde_json::to_writer(&mut *out, &x)?,
            // Not finite: `null`, as `serde_json::Number::from_f64` gives.
            Cell::Num(x) => serde_json::to_writer(&mut *out, &x)?,
            Cell::Text(t) => serde_json::to_writer(&mut *out, t)?,
            Cell::Value(Value::Int(x) | Value::Duration(x)) => serde_json::to_writer(&mut *out, x)?,
            Cell::Value(Value::Number(x)) => serde_json::to_writer(&mut *out, x)?,
            Cell::Value(Value::Bool(b)) => serde_json::to_writer(&mut *out, b)?,
            // Dates and timestamps as text (text itself is a `Cell::Text`).
            Cell::Value(v) => {
                scratch.clear();
                write_cell(scratch, v).map_err(fmt_error)?;
                serde_json::to_writer(&mut *out, scratch.as_str())?
            }
        }
        Ok(())
    }
}

impl Table {
    /// Writes the table as CSV: `id` then one column per definition; missing is empty.
    /// Quoting follows the `csv` crate's defaults.
    pub fn write_csv(&self, w: &mut dyn Write) -> io::Result<()> {
        let mut header = String::new();
        csv_field(&mut header, "id");
        for c in &self.columns {
            header.push(',');
            csv_field(&mut header, &c.name);
        }
        header.push('\n');
        w.write_all(header.as_bytes())?;
        write_blocks(self.ids.len(), w, |rows| {
            self.csv_rows(rows)
                .map(String::into_bytes)
                .map_err(fmt_error)
        })
    }

    /// Rows as CSV lines.
    fn csv_rows(&self, rows: Range<usize>) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(rows.len() * (8 + 8 * self.columns.len()));
        let mut scratch = String::new();
        for (i, id) in rows.clone().zip(self.ids.get(rows).unwrap_or_default()) {
            if id.is_empty() && self.columns.is_empty() {
                // A record of one empty field is `""` (else it would be an empty line).
                out.push_str("\"\"");
            }
            csv_field(&mut out, id);
            for c in &self.columns {
                out.push(',');
                c.write_csv_cell(i, &mut out, &mut scratch)?;
            }
            out.push('\n');
        }
        Ok(out)
    }

    /// Writes the table as NDJSON: one object per row, keys in sorted order (as a
    /// `serde_json::Map`), missing as `null`.
    pub fn write_ndjson(&self, w: &mut dyn Write) -> io::Result<()> {
        /// Where a key's value comes from.
        enum Source<'t> {
            Id,
            Column(&'t Column),
        }
        // Sorted keys; a column named `id` replaces the id, as inserting into a map would.
        let mut keys: BTreeMap<&str, Source<'_>> = BTreeMap::new();
        keys.insert("id", Source::Id);
        for c in &self.columns {
            keys.insert(&c.name, Source::Column(c));
        }
        let keys: Vec<(Vec<u8>, Source<'_>)> = keys
            .into_iter()
            .map(|(k, s)| {
                let mut key = serde_json::to_vec(k)?;
                key.push(b':');
                Ok((key, s))
            })
            .collect::<io::Result<_>>()?;
        write_blocks(self.ids.len(), w, |rows| {
            let mut out = Vec::with_capacity(rows.len() * (16 + 16 * keys.len()));
            let mut scratch = String::new();
            for (i, id) in rows.clone().zip(self.ids.get(rows).unwrap_or_default()) {
                out.push(b'{');
                for (k, (key, source)) in keys.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(key);
                    match source {
                        Source::Id => serde_json::to_writer(&mut out, id)?,
                        Source::Column(c) => c.write_json_cell(i, &mut out, &mut scratch)?,
                    }
                }
                out.extend_from_slice(b"}\n");
            }
            Ok(out)
        })
    }
}
