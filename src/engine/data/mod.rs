//! Loading contact data: contacts, accounts, events and attribute changes from CSV or
//! NDJSON files, validated against the schema. See `docs/data.md` for the file formats.

mod csv;
mod dictionary;
mod entity_table;
pub(crate) mod ids;
mod intern;
pub(crate) mod ndjson;
pub mod ndjson_write;
#[cfg(feature = "parquet")]
mod parquet;
mod rejects;
pub(crate) mod tables;
pub(crate) mod validate;

use super::timings::timed;
use crate::plan::schema::Schema;
use crate::plan::types::Value;
use chrono::{DateTime, Utc};
pub use entity_table::EntityTable;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
pub(crate) use tables::Sink;
use tables::{Changes, Entities, Events};

/// All the contact data a plan runs on, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    /// Column by column; rows in file order.
    pub contacts: EntityTable,
    /// Empty when there is no accounts file.
    pub accounts: Vec<AccountRow>,
    /// In file order; the engine groups them.
    pub events: Vec<EventRow>,
    /// The attribute change log, in file order.
    pub changes: Vec<ChangeRow>,
}

/// One contact.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    pub id: String,
    /// Indexed like `schema.contact`; the account link holds `Value::Text(account id)`.
    pub attrs: Vec<Option<Value>>,
}

/// One account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRow {
    pub id: String,
    /// Indexed like `schema.account`.
    pub attrs: Vec<Option<Value>>,
}

/// One event of one contact.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Index into `Dataset::contacts`.
    pub contact: u32,
    /// Index into `schema.events`.
    pub event: u32,
    pub at: DateTime<Utc>,
    /// Indexed like that event type's fields.
    pub fields: Vec<Option<Value>>,
}

/// One change of a `with history` contact attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    /// Index into `Dataset::contacts`.
    pub contact: u32,
    /// Index into `schema.contact` (always a `with history` attribute).
    pub attr: u32,
    /// The value from `at` on; `None` when the attribute became missing.
    pub value: Option<Value>,
    pub at: DateTime<Utc>,
}

/// The tables of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Contacts,
    Accounts,
    Events,
    Changes,
}

impl Table {
    /// The table's file stem (`contacts`, `events`, …).
    pub fn stem(self) -> &'static str {
        match self {
            Table::Contacts => "contacts",
            Table::Accounts => "accounts",
            Table::Events => "events",
            Table::Changes => "changes",
        }
    }
}

/// A data file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line (`.ndjson` or `.jsonl`).
    Ndjson,
    /// Apache Parquet (the `parquet` feature).
    #[cfg(feature = "parquet")]
    Parquet,
}

impl Format {
    /// File extensions and their formats, in the order they are looked for.
    pub const EXTENSIONS: &'static [(&'static str, Format)] = &[
        ("csv", Format::Csv),
        ("ndjson", Format::Ndjson),
        ("jsonl", Format::Ndjson),
        #[cfg(feature = "parquet")]
        ("parquet", Format::Parquet),
    ];

    /// The format a path's extension names, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?;
        Format::EXTENSIONS
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(ext))
            .map(|&(_, f)| f)
    }
}

/// Where the tables of a data set are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFiles {
    pub contacts: PathBuf,
    pub events: Option<PathBuf>,
    pub accounts: Option<PathBuf>,
    pub changes: Option<PathBuf>,
}

/// How to treat bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadOptions {
    /// Collect bad rows in `Loaded::rejected` and go on, instead of stopping at the first.
    pub skip_bad_rows: bool,
}

/// A bad row: where it is, what is wrong with it, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The file's name as given (a path, or the name of an in-memory source).
    pub file: String,
    /// 1-based physical line where the row starts (a CSV header is line 1).
    pub line: u64,
    /// The column or key at fault; `None` when the whole row is malformed.
    pub column: Option<String>,
    /// What is wrong and what was expected.
    pub reason: String,
    /// The row as it was read (a CSV record re-encoded as CSV, or the NDJSON line).
    pub raw: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::diag::escape::escape;
        write!(f, "{}:{}: ", escape(&self.file), self.line)?;
        if let Some(column) = &self.column {
            write!(f, "{}: ", escape(column))?;
        }
        f.write_str(&escape(&self.reason))
    }
}

/// The result of a load: the data set and the rows skipped with `skip_bad_rows`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Loaded {
    pub dataset: Dataset,
    /// Bad rows, in the order they were found; always empty without `skip_bad_rows`.
    pub rejected: Vec<Rejected>,
}

/// Why data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A bad row (without `skip_bad_rows`): `FILE:LINE: COLUMN: what is wrong, what was expected`.
    #[error("{0}")]
    BadRow(Rejected),
    /// A problem with a whole file: a bad header, a missing or ambiguous file.
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    File {
        file: String,
        line: Option<u64>,
        message: String,
    },
    /// A file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io { file: String, source: io::Error },
}

/// One table's data to read: its name (for messages), format and bytes.
pub struct Source<'a> {
    pub name: String,
    pub format: Format,
    pub reader: Box<dyn Read + 'a>,
}

impl<'a> Source<'a> {
    /// A source read from memory or any reader.
    pub fn new(name: impl Into<String>, format: Format, reader: impl Read + 'a) -> Source<'a> {
        Source {
            name: name.into(),
            format,
            reader: Box::new(reader),
        }
    }
}

/// The tables to read, as sources.
pub struct Sources<'a> {
    pub contacts: Source<'a>,
    pub events: Option<Source<'a>>,
    pub accounts: Option<Source<'a>>,
    pub changes: Option<Source<'a>>,
}

impl DataFiles {
    /// The tables of a data folder: `contacts`, and optionally `accounts`, `events` and
    /// `changes`, each as `.csv`, `.ndjson` or `.jsonl` (one file per table).
    pub fn from_dir(dir: &Path) -> Result<DataFiles, DataError> {
        let shown = dir.display().to_string();
        if !std::fs::metadata(dir)
            .map_err(|source| DataError::Io {
                file: shown.clone(),
                source,
            })?
            .is_dir()
        {
            return Err(DataError::File {
                file: shown,
                line: None,
                message: "not a folder, expected a folder of data files".into(),
            });
        }
        let find = |table: Table| -> Result<Option<PathBuf>, DataError> {
            let found: Vec<PathBuf> = Format::EXTENSIONS
                .iter()
                .map(|(ext, _)| dir.join(format!("{}.{ext}", table.stem())))
                // Not only regular files: a FIFO or a folder is refused when opened.
                .filter(|p| p.exists())
                .collect();
            match found.as_slice() {
                [] => match near_miss(dir, table) {
                    Some(name) => Err(DataError::File {
                        file: shown.clone(),
                        line: None,
                        message: format!(
                            "no {stem} file, but there is `{name}`; name it `{stem}.{}` (file names are exact and lowercase)",
                            Path::new(&name)
                                .extension()
                                .map(|e| e.to_string_lossy().to_lowercase())
                                .unwrap_or_else(|| "csv".into()),
                            stem = table.stem(),
                        ),
                    }),
                    None => Ok(None),
                },
                [one] => Ok(Some(one.clone())),
                [..] => Err(DataError::File {
                    file: shown.clone(),
                    line: None,
                    message: format!(
                        "{} hold the same table, expected one file for {}",
                        names(&found),
                        table.stem()
                    ),
                }),
            }
        };
        let contacts = find(Table::Contacts)?.ok_or_else(|| DataError::File {
            file: shown.clone(),
            line: None,
            message: format!(
                "no contacts file, expected {}",
                names(
                    &Format::EXTENSIONS
                        .iter()
                        .map(|(ext, _)| PathBuf::from(format!("contacts.{ext}")))
                        .collect::<Vec<_>>()
                )
            ),
        })?;
        Ok(DataFiles {
            contacts,
            events: find(Table::Events)?,
            accounts: find(Table::Accounts)?,
            changes: find(Table::Changes)?,
        })
    }
}

/// A file in `dir` whose name is almost that of `table`'s file (`Events.csv`,
/// `event.csv`, `events.CSV`): a data file that would otherwise be silently ignored.
fn near_miss(dir: &Path, table: Table) -> Option<String> {
    let stem = table.stem();
    let entries = std::fs::read_dir(dir).ok()?;
    entries.flatten().find_map(|entry| {
        let name = entry.file_name().to_str()?.to_string();
        let path = Path::new(&name);
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        let known = Format::EXTENSIONS.iter().any(|(e, _)| *e == ext);
        let file_stem = path.file_stem()?.to_str()?.to_lowercase();
        let close = file_stem == stem || strsim::levenshtein(&file_stem, stem) <= 1;
        (known && close).then_some(name)
    })
}

/// File names as a list for messages: `` `a.csv`, `a.ndjson` ``.
fn names(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths
        .iter()
        .map(|p| {
            format!(
                "`{}`",
                p.file_name().unwrap_or(p.as_os_str()).to_string_lossy()
            )
        })
        .collect();
    names.join(", ")
}

/// Loads and validates the data files against `schema`.
pub fn load(schema: &Schema, files: &DataFiles, opts: &LoadOptions) -> Result<Loaded, DataError> {
    load_readers(schema, open(files)?, opts)
}

/// Opens the data files as sources, their formats told by their extensions.
pub(crate) fn open(files: &DataFiles) -> Result<Sources<'static>, DataError> {
    let open = |path: &PathBuf| -> Result<Source<'static>, DataError> {
        let name = path.display().to_string();
        let Some(format) = Format::from_path(path) else {
            return Err(DataError::File {
                file: name,
                line: None,
                message: format!(
                    "unknown file format, expected a {} file",
                    Format::EXTENSIONS
                        .iter()
                        .map(|(ext, _)| format!("`.{ext}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        };
        if let Err(source) = crate::limits::regular_file(path) {
            return Err(DataError::Io { file: name, source });
        }
        match File::open(path) {
            Ok(file) => Ok(Source::new(name, format, file)),
            Err(source) => Err(DataError::Io { file: name, source }),
        }
    };
    let sources = Sources {
        contacts: open(&files.contacts)?,
        events: files.events.as_ref().map(open).transpose()?,
        accounts: files.accounts.as_ref().map(open).transpose()?,
        changes: files.changes.as_ref().map(open).transpose()?,
    };
    Ok(sources)
}

/// Loads and validates data from readers (in memory, or files opened by the caller).
pub fn load_readers(
    schema: &Schema,
    sources: Sources<'_>,
    opts: &LoadOptions,
) -> Result<Loaded, DataError> {
    let (mut loaded, events) =
        load_readers_with(schema, sources, opts, None, |ids, file, source, sink| {
            let mut events = Events::new(schema, ids, file);
            if let Some(source) = source {
                read(
                    source.reader,
                    &source.name,
                    source.format,
                    &mut events,
                    sink,
                )?;
            }
            Ok(events.rows)
        })?;
    loaded.dataset.events = events;
    Ok(loaded)
}

/// Loads and validates every table but the events, which `events` reads (given the
/// contact ids, the contacts file's name, the events source and the bad-row sink) into
/// whatever shape an engine wants; `Loaded::dataset.events` stays empty. Only the
/// contact attributes `read` says are checked and kept (all without it); the others
/// are missing in `Loaded::dataset.contacts`.
pub(crate) fn load_readers_with<T>(
    schema: &Schema,
    sources: Sources<'_>,
    opts: &LoadOptions,
    read: Option<&[bool]>,
    events: impl FnOnce(&tables::Ids, &str, Option<Source<'_>>, &mut Sink) -> Result<T, DataError>,
) -> Result<(Loaded, T), DataError> {
    let mut sink = Sink::new(opts.skip_bad_rows);
    let accounts = match sources.accounts {
        Some(source) => {
            let name = source.name.clone();
            let table = read_entities(source, &|| Entities::accounts(schema), &mut sink)?;
            Some((table, name))
        }
        None => None,
    };
    let known_accounts = accounts
        .as_ref()
        .map(|(table, name)| (&table.ids, name.as_str()));
    let contacts_file = sources.contacts.name.clone();
    let contacts = timed("loading contacts", || {
        read_entities(
            sources.contacts,
            &|| Entities::contacts(schema, known_accounts, read),
            &mut sink,
        )
    })?;
    let events = timed("loading events", || {
        events(&contacts.ids, &contacts_file, sources.events, &mut sink)
    })?;
    let mut changes = Vec::new();
    if let Some(source) = sources.changes {
        let make = || Changes::new(schema, &contacts.ids, &contacts_file);
        timed("loading changes", || {
            read_parts(source, &make, &mut sink, &mut |part| {
                changes.extend(part.rows)
            })
        })?;
    }
    let loaded = Loaded {
        dataset: Dataset {
            contacts: contacts.into_contacts(),
            accounts: accounts
                .map(|(table, _)| table.into_accounts())
                .unwrap_or_default(),
            events: Vec::new(),
            changes,
        },
        rejected: sink.rejected,
    };
    Ok((loaded, events))
}

/// Reads contacts or accounts (tables from `make`), in parallel parts joined in file
/// order; with `skip_bad_rows`, in one sequential read (a duplicate id found when parts
/// are joined could not be skipped with its text).
fn read_entities<'a>(
    source: Source<'_>,
    make: &(dyn Fn() -> Entities<'a> + Sync),
    sink: &mut Sink,
) -> Result<Entities<'a>, DataError> {
    let mut whole = make();
    if sink.skip {
        read(source.reader, &source.name, source.format, &mut whole, sink)?;
        return Ok(whole);
    }
    let name = source.name.clone();
    let mut duplicate = None;
    let read = read_parts(source, make, sink, &mut |part| {
        if duplicate.is_none()
            && let Err(e) = whole.append(part, &name)
        {
            duplicate = Some(e);
        }
    });
    match duplicate {
        Some(e) => Err(e),
        None => read.map(|()| whole),
    }
}

/// Reads one table in parts, in parallel where the format allows (Parquet row groups,
/// CSV chunks; NDJSON is one part), each part into a table `make` gives; `keep`
/// receives the parts in file order. Bad rows go to `sink` in file order, and without
/// `skip_bad_rows` the first bad row in the file stops the load, as with [`read`].
pub(crate) fn read_parts<T: tables::Table + Send>(
    mut source: Source<'_>,
    make: &(dyn Fn() -> T + Sync),
    sink: &mut Sink,
    keep: &mut dyn FnMut(T),
) -> Result<(), DataError> {
    match source.format {
        Format::Csv => csv::read_parts(&source.name, &mut source.reader, make, sink, keep),
        Format::Ndjson => {
            let mut table = make();
            ndjson::read(&source.name, &mut source.reader, &mut table, sink)?;
            keep(table);
            Ok(())
        }
        #[cfg(feature = "parquet")]
        Format::Parquet => parquet::read_parts(&source.name, &mut source.reader, make, sink, keep),
    }
}

/// Reads one table in any format into `table`.
pub(crate) fn read(
    mut reader: Box<dyn Read + '_>,
    name: &str,
    format: Format,
    table: &mut dyn tables::Table,
    sink: &mut Sink,
) -> Result<(), DataError> {
    match format {
        Format::Csv => csv::read(name, &mut reader, table, sink),
        Format::Ndjson => ndjson::read(name, &mut reader, table, sink),
        #[cfg(feature = "parquet")]
        Format::Parquet => parquet::read(name, &mut reader, table, sink),
    }
}
