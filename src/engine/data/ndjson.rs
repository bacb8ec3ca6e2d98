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
    let limit = crate::limits::RECORD_BYTES;
    let max = limit.get() as u64;
    loop {
        buf.clear();
        // At most the limit, its line feed and one byte more: never a whole long line.
        let n = (&mut reader)
            .take(max + 2)
            .read_until(b'\n', &mut buf)
            .map_err(|source| DataError::Io {
                file: file.to_owned(),
                source,
            })?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        if buf.len() as u64 > max + u64::from(buf.ends_with(b"\n")) {
            return Err(DataError::File {
                file: file.to_owned(),
                line: Some(line),
                message: format!("a line longer than {}", limit.describe()),
            });
        }
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

/// A JSON object's entries in order, duplicates kept (a `serde_json::Map` keeps only
/// the last of two equal keys, silently).
struct Entries(Vec<(String, Json)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry::<String, Json>()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

pub(crate) fn parse(line: &[u8]) -> Result<serde_json::Map<String, Json>, RowError> {
    if line.trim_ascii_start().starts_with(b"{")
        && let Ok(Entries(entries)) = serde_json::from_slice::<Entries>(line)
    {
        let mut seen = std::collections::HashSet::new();
        if let Some((key, _)) = entries.iter().find(|(k, _)| !seen.insert(k.as_str())) {
            return Err(RowError::at(
                key,
                format!("the key `{key}` appears twice in the object, expected each key once"),
            ));
        }
        return Ok(entries.into_iter().collect());
    }
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

pub(crate) fn raw(value: &Json) -> Raw<'_> {
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
