//! Reading a table from NDJSON: one JSON object per line, keys naming the columns.

use super::tables::{RowError, Sink, Table};
use super::validate::Raw;
use super::{DataError, Rejected};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

/// Reads every row of `reader` (named `file` in messages) into `table`.
pub(crate) fn read(
    file: &str,
    reader: &mut dyn Read,
    table: &mut dyn Table,
    sink: &mut Sink,
) -> Result<(), DataError> {
    let index: HashMap<String, usize> = table
        .columns()
        .index()
        .into_iter()
        .map(|(name, i)| (name.to_owned(), i))
        .collect();
    let width = table.columns().names.len();
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| DataError::Io {
                file: file.to_owned(),
                source,
            })?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = parse(text).and_then(|object| {
            let mut cells = vec![Raw::Missing; width];
            for (key, value) in &object {
                let Some(cell) = index.get(key).and_then(|&i| cells.get_mut(i)) else {
                    return Err(RowError::at(key, table.columns().unknown("key", key)));
                };
                *cell = raw(value);
            }
            table.row(line, &cells)
        });
        if let Err(e) = result {
            sink.reject(Rejected {
                file: file.to_owned(),
                line,
                column: e.column,
                reason: e.reason,
                raw: String::from_utf8_lossy(text).into_owned(),
            })?;
        }
    }
}

fn parse(line: &[u8]) -> Result<serde_json::Map<String, Json>, RowError> {
    let json = serde_json::from_slice::<Json>(line).map_err(|e| {
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        RowError::row(format!(
            "invalid JSON at column {}: {message}, expected one JSON object per line",
            e.column()
        ))
    })?;
    match json {
        Json::Object(object) => Ok(object),
        other => Err(RowError::row(format!(
            "{} is not a row, expected one JSON object per line",
            raw(&other).show()
        ))),
    }
}

fn raw(value: &Json) -> Raw<'_> {
    match value {
        Json::Null => Raw::Missing,
        Json::Bool(b) => Raw::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Raw::Int(i),
            None => n.as_f64().map_or(Raw::Other("a number"), Raw::Float),
        },
        Json::String(s) => Raw::text(s),
        Json::Array(_) => Raw::Other("an array"),
        Json::Object(_) => Raw::Other("an object"),
    }
}
