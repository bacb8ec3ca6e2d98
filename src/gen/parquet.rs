//! Writing generated rows as Parquet: typed columns (text, int64, double, bool,
//! timestamp in microseconds UTC, date), snappy-compressed, in row groups of 256k rows.

use super::table::{Cell, ColType, Columns, RowSink};
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::io::{self, Write};
use std::sync::Arc;

/// Rows buffered before a batch is handed to the writer.
const BATCH: usize = 65_536;
/// Rows per row group.
pub const ROW_GROUP: usize = 262_144;

enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Num(Float64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
    Date(Date32Builder),
}

impl Builder {
    fn new(ty: ColType) -> Builder {
        match ty {
            ColType::Text => Builder::Text(StringBuilder::new()),
            ColType::Int => Builder::Int(Int64Builder::new()),
            ColType::Num => Builder::Num(Float64Builder::new()),
            ColType::Bool => Builder::Bool(BooleanBuilder::new()),
            ColType::Time => Builder::Time(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
            ColType::Date => Builder::Date(Date32Builder::new()),
        }
    }

    fn push(&mut self, cell: &Cell) {
        match (self, cell) {
            (Builder::Text(b), Cell::Text(s)) => b.append_value(s),
            (Builder::Text(b), Cell::Int(i)) => b.append_value(i.to_string()),
            (Builder::Int(b), Cell::Int(i)) => b.append_value(*i),
            (Builder::Num(b), Cell::Num(x)) => b.append_value(*x),
            (Builder::Num(b), Cell::Int(i)) => b.append_value(*i as f64),
            (Builder::Bool(b), Cell::Bool(x)) => b.append_value(*x),
            (Builder::Time(b), Cell::Time(t)) => b.append_value(*t),
            (Builder::Date(b), Cell::Date(d)) => {
                let days = d
                    .signed_duration_since(chrono::NaiveDate::default())
                    .num_days();
                b.append_value(i32::try_from(days).unwrap_or(0))
            }
            (Builder::Text(b), _) => b.append_null(),
            (Builder::Int(b), _) => b.append_null(),
            (Builder::Num(b), _) => b.append_null(),
            (Builder::Bool(b), _) => b.append_null(),
            (Builder::Time(b), _) => b.append_null(),
            (Builder::Date(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Num(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
        }
    }
}

/// The Arrow type a column type is written as.
pub(crate) fn data_type(ty: ColType) -> DataType {
    match ty {
        ColType::Text => DataType::Utf8,
        ColType::Int => DataType::Int64,
        ColType::Num => DataType::Float64,
        ColType::Bool => DataType::Boolean,
        ColType::Time => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ColType::Date => DataType::Date32,
    }
}

/// How Funnel writes Parquet: snappy-compressed, in row groups of [`ROW_GROUP`] rows.
pub(crate) fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .build()
}

/// A Parquet file being written.
pub struct ParquetSink<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: Arc<Schema>,
    builders: Vec<Builder>,
    rows: usize,
}

pub(crate) fn io_err(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(e)
}

impl<W: Write + Send> ParquetSink<W> {
    /// A writer of rows with `columns` to `out`.
    pub fn new(out: W, columns: &Columns) -> io::Result<ParquetSink<W>> {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, t)| Field::new(n, data_type(*t), true))
                .collect::<Vec<_>>(),
        ));
        let writer =
            ArrowWriter::try_new(out, schema.clone(), Some(properties())).map_err(io_err)?;
        Ok(ParquetSink {
            writer,
            schema,
            builders: columns.iter().map(|(_, t)| Builder::new(*t)).collect(),
            rows: 0,
        })
    }

    fn flush_batch(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let arrays = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(io_err)?;
        self.rows = 0;
        self.writer.write(&batch).map_err(io_err)
    }
}

impl<W: Write + Send> ParquetSink<W> {
    /// Finishes the file and hands back the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush_batch()?;
        self.writer.into_inner().map_err(io_err)
    }
}

impl<W: Write + Send> RowSink for ParquetSink<W> {
    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        for (b, c) in self.builders.iter_mut().zip(cells) {
            b.push(c);
        }
        self.rows += 1;
        if self.rows >= BATCH {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush_batch()?;
        self.writer.close().map(|_| ()).map_err(io_err)
    }
}
