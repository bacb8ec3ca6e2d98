//! Writing a data set as a data folder of NDJSON files that the loader reads back to
//! the same data set: what `funnel watch` and `funnel serve` save of the data they hold.
//! Values are written as results are ([`json`]), which the loader reads back unchanged.

use super::{Dataset, Table};
use crate::engine::results::json;
use crate::plan::display::Timestamp;
use crate::plan::schema::{Field, Schema};
use crate::plan::types::Value;
use serde_json::{Map, Value as Json};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// An entity row as a JSON object: `id`, then every present attribute.
pub fn entity_json(id: &str, fields: &[Field], attrs: &[Option<Value>]) -> Map<String, Json> {
    let mut row = Map::new();
    row.insert("id".into(), Json::String(id.to_owned()));
    for (f, v) in fields.iter().zip(attrs) {
        if let Some(v) = v {
            row.insert(f.name.clone(), json(v));
        }
    }
    row
}

/// Writes `data` into `dir` (which must exist) as `contacts.ndjson`, `events.ndjson`,
/// `changes.ndjson` and, when `accounts` says the data has an accounts table,
/// `accounts.ndjson`.
pub fn write_ndjson(schema: &Schema, data: &Dataset, accounts: bool, dir: &Path) -> io::Result<()> {
    write_lines(
        dir,
        Table::Contacts,
        data.contacts
            .rows()
            .map(|r| entity_json(&r.id, &schema.contact, &r.attrs)),
    )?;
    if accounts {
        write_lines(
            dir,
            Table::Accounts,
            data.accounts
                .iter()
                .map(|r| entity_json(&r.id, &schema.account, &r.attrs)),
        )?;
    }
    let id = |c: u32| data.contacts.id(c as usize).unwrap_or_default().to_owned();
    write_lines(
        dir,
        Table::Events,
        data.events.iter().filter_map(|e| {
            let ty = schema.events.get(e.event as usize)?;
            let mut row = Map::new();
            row.insert("contact_id".into(), Json::String(id(e.contact)));
            row.insert("event".into(), Json::String(ty.name.clone()));
            row.insert("at".into(), Json::String(Timestamp(e.at).to_string()));
            for (f, v) in ty.fields.iter().zip(&e.fields) {
                if let Some(v) = v {
                    row.insert(f.name.clone(), json(v));
                }
            }
            Some(row)
        }),
    )?;
    write_lines(
        dir,
        Table::Changes,
        data.changes.iter().filter_map(|c| {
            let field = schema.contact.get(c.attr as usize)?;
            let mut row = Map::new();
            row.insert("contact_id".into(), Json::String(id(c.contact)));
            row.insert("attribute".into(), Json::String(field.name.clone()));
            row.insert("value".into(), c.value.as_ref().map_or(Json::Null, json));
            row.insert("at".into(), Json::String(Timestamp(c.at).to_string()));
            Some(row)
        }),
    )
}

fn write_lines(
    dir: &Path,
    table: Table,
    rows: impl Iterator<Item = Map<String, Json>>,
) -> io::Result<()> {
    let path = dir.join(format!("{}.ndjson", table.stem()));
    let mut out = BufWriter::new(File::create(path)?);
    for row in rows {
        serde_json::to_writer(&mut out, &row)?;
        out.write_all(b"\n")?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}
