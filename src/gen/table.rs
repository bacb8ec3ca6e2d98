//! Writing generated tables row by row as CSV, NDJSON or Parquet.

use crate::plan::schema::Type;
use chrono::{DateTime, NaiveDate};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// One generated cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Missing,
    Text(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    /// Microseconds since the epoch, UTC.
    Time(i64),
    Date(NaiveDate),
}

/// The storage type of a column (Parquet's physical choice; CSV and NDJSON write text
/// and JSON values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Text,
    Int,
    Num,
    Bool,
    Time,
    Date,
}

impl ColType {
    /// The column type for values of a schema type.
    pub fn of(ty: &Type) -> ColType {
        match ty {
            Type::Text | Type::Enum(_) | Type::AccountLink => ColType::Text,
            Type::Int | Type::Duration => ColType::Int,
            Type::Number => ColType::Num,
            Type::Bool => ColType::Bool,
            Type::Date => ColType::Date,
            Type::Timestamp => ColType::Time,
        }
    }
}

/// A table's columns: name and type.
pub type Columns = Vec<(String, ColType)>;

/// An output format of `funnel gen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Csv,
    Ndjson,
    #[cfg(feature = "parquet")]
    Parquet,
}

impl OutFormat {
    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            OutFormat::Csv => "csv",
            OutFormat::Ndjson => "ndjson",
            #[cfg(feature = "parquet")]
            OutFormat::Parquet => "parquet",
        }
    }
}

/// Somewhere rows go.
pub trait RowSink {
    fn row(&mut self, cells: &[Cell]) -> io::Result<()>;
    /// Flushes and closes the file.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// Opens `path` for a table with `columns` in `format`.
pub fn create(path: &Path, format: OutFormat, columns: &Columns) -> io::Result<Box<dyn RowSink>> {
    let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
    Ok(match format {
        OutFormat::Csv => {
            let mut w = csv::Writer::from_writer(file);
            w.write_record(columns.iter().map(|(n, _)| n.as_str()))?;
            Box::new(CsvSink(w, Vec::new()))
        }
        OutFormat::Ndjson => Box::new(NdjsonSink {
            out: file,
            names: columns.iter().map(|(n, _)| n.clone()).collect(),
        }),
        #[cfg(feature = "parquet")]
        OutFormat::Parquet => Box::new(super::parquet::ParquetSink::new(file, columns)?),
    })
}

/// A timestamp (microseconds) as RFC 3339 with a `Z`, fractions only when present.
pub fn rfc3339(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

struct CsvSink(csv::Writer<BufWriter<File>>, Vec<String>);

impl RowSink for CsvSink {
    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        let buf = &mut self.1;
        buf.resize(cells.len(), String::new());
        for (out, cell) in buf.iter_mut().zip(cells) {
            out.clear();
            match cell {
                Cell::Missing => {}
                Cell::Text(s) => out.push_str(s),
                Cell::Int(i) => out.push_str(&i.to_string()),
                Cell::Num(x) => out.push_str(&crate::plan::display::number(*x)),
                Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Cell::Time(t) => out.push_str(&rfc3339(*t)),
                Cell::Date(d) => out.push_str(&d.to_string()),
            }
        }
        Ok(self.0.write_record(buf.iter())?)
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.0.flush()
    }
}

struct NdjsonSink {
    out: BufWriter<File>,
    names: Vec<String>,
}

impl RowSink for NdjsonSink {
    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        let mut obj = serde_json::Map::new();
        for (name, cell) in self.names.iter().zip(cells) {
            let v: serde_json::Value = match cell {
                Cell::Missing => continue,
                Cell::Text(s) => s.clone().into(),
                Cell::Int(i) => (*i).into(),
                Cell::Num(x) => {
                    serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, Into::into)
                }
                Cell::Bool(b) => (*b).into(),
                Cell::Time(t) => rfc3339(*t).into(),
                Cell::Date(d) => d.to_string().into(),
            };
            obj.insert(name.clone(), v);
        }
        serde_json::to_writer(&mut self.out, &obj)?;
        self.out.write_all(b"\n")
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.out.flush()
    }
}
