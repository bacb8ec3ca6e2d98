//! Reading a table from Parquet: columns named like CSV headers, typed values handed
//! over as [`Raw`] cells to the same validation as CSV and NDJSON. A bad row is named
//! by its row group and its 1-based row within that group: `events.parquet[row group 2]:17`.

use super::tables::{Cells, NO_KEY, Sink, Table};
use super::validate::Raw;
use super::{DataError, Rejected};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::Encoding;
use parquet::file::reader::ChunkReader;
use rayon::prelude::*;
use std::io::Read;
use std::sync::Arc;

fn file_error(file: &str, message: String) -> DataError {
    DataError::File {
        file: file.to_owned(),
        line: None,
        message,
    }
}

fn parquet_error(file: &str, e: impl std::fmt::Display) -> DataError {
    file_error(file, format!("cannot read Parquet: {e}"))
}

/// Reads every row of `reader` (named `file` in messages) into `table`.
pub(crate) fn read(
    file: &str,
    reader: &mut dyn Read,
    table: &mut dyn Table,
    sink: &mut Sink,
) -> Result<(), DataError> {
    let opened = Opened::new(file, read_all(file, reader)?, table)?;
    for group in 0..opened.groups() {
        opened.read_group(group, table, sink)?;
    }
    Ok(())
}

/// The whole file in memory (Parquet's footer is at its end).
fn read_all(file: &str, reader: &mut dyn Read) -> Result<bytes::Bytes, DataError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| DataError::Io {
            file: file.to_owned(),
            source,
        })?;
    Ok(bytes::Bytes::from(bytes))
}

/// Reads the row groups of `reader` in parallel, each into its own table from `make`;
/// `keep` receives the tables in file order. Bad rows as [`read`] reports them.
pub(crate) fn read_parts<T: Table + Send>(
    file: &str,
    reader: &mut dyn Read,
    make: &(dyn Fn() -> T + Sync),
    sink: &mut Sink,
    keep: &mut dyn FnMut(T),
) -> Result<(), DataError> {
    let opened = Opened::new(file, read_all(file, reader)?, &make())?;
    let groups: Vec<usize> = (0..opened.groups()).collect();
    for batch in groups.chunks(rayon::current_num_threads().max(1)) {
        let parts = batch
            .par_iter()
            .map(|&group| {
                let mut table = make();
                let mut part = Sink::new(sink.skip);
                let read = opened.read_group(group, &mut table, &mut part);
                (table, part, read)
            })
            .collect();
        sink.take(parts, keep)?;
    }
    Ok(())
}

/// A Parquet file whose footer has been read, with the columns a table reads.
struct Opened<'f, R: ChunkReader> {
    file: &'f str,
    input: R,
    metadata: ArrowReaderMetadata,
    mask: ProjectionMask,
    /// The table slot of each projected column, in file order.
    slots: Vec<usize>,
    /// The table slot of every column, in file order.
    all_slots: Vec<usize>,
}

impl<'f, R: ChunkReader + Clone + 'static> Opened<'f, R> {
    fn new(file: &'f str, input: R, table: &dyn Table) -> Result<Opened<'f, R>, DataError> {
        let metadata = ArrowReaderMetadata::load(&input, ArrowReaderOptions::default())
            .map_err(|e| parquet_error(file, e))?;
        let metadata = with_dictionaries(metadata).map_err(|e| parquet_error(file, e))?;
        let schema = metadata.metadata().file_metadata().schema_descr();
        let (leaves, all_slots) = projection(file, schema, table)?;
        let slots = leaves
            .iter()
            .filter_map(|&l| all_slots.get(l).copied())
            .collect();
        let mask = ProjectionMask::leaves(schema, leaves);
        Ok(Opened {
            file,
            input,
            metadata,
            mask,
            slots,
            all_slots,
        })
    }

    /// A reader of row group `group` (0-based), of the columns in `mask`; refused when
    /// those columns take more than [`crate::limits::ROW_GROUP_BYTES`] uncompressed.
    fn reader(
        &self,
        group: usize,
        mask: ProjectionMask,
    ) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, DataError> {
        let limit = crate::limits::ROW_GROUP_BYTES;
        if let Some(meta) = self.metadata.metadata().row_groups().get(group) {
            let bytes: u64 = meta
                .columns()
                .iter()
                .enumerate()
                .filter(|(leaf, _)| mask.leaf_included(*leaf))
                .map(|(_, c)| u64::try_from(c.uncompressed_size()).unwrap_or(0))
                .fold(0, u64::saturating_add);
            if bytes > limit.get() as u64 {
                return Err(file_error(
                    &format!("{}[row group {}]", self.file, group + 1),
                    format!(
                        "its columns take {bytes} bytes uncompressed, more than {}",
                        limit.describe()
                    ),
                ));
            }
        }
        ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.input.clone(),
            self.metadata.clone(),
        )
        .with_row_groups(vec![group])
        .with_projection(mask)
        .with_batch_size(batch_rows(self.metadata.metadata(), group))
        .build()
        .map_err(|e| parquet_error(self.file, e))
    }

    /// The text of rows `rows` (1-based, ascending) of row group `group` with every
    /// column — what a rejected row is recorded with; the table may have read fewer.
    fn raw_rows(
        &self,
        group: usize,
        rows: &[usize],
        width: usize,
    ) -> Result<Vec<String>, DataError> {
        let reader = self.reader(group, ProjectionMask::all())?;
        let mut out = Vec::with_capacity(rows.len());
        let mut wanted = rows.iter().copied().peekable();
        let mut first = 1;
        for batch in reader {
            let batch = batch.map_err(|e| parquet_error(self.file, e))?;
            let columns = batch_columns(self.file, &batch)?;
            while let Some(row) = wanted.next_if(|&r| r < first + batch.num_rows()) {
                let mut cells = vec![Raw::Missing; width];
                fill_row(&mut cells, &columns, &self.all_slots, row - first);
                out.push(raw_text(&cells));
            }
            first += batch.num_rows();
        }
        Ok(out)
    }

    fn groups(&self) -> usize {
        self.metadata.metadata().num_row_groups()
    }

    /// Reads row group `group` (0-based) into `table`.
    fn read_group(
        &self,
        group: usize,
        table: &mut dyn Table,
        sink: &mut Sink,
    ) -> Result<(), DataError> {
        let file = self.file;
        let reader = self.reader(group, self.mask.clone())?;
        let width = table.columns().names.len();
        let mut row_in_group = 0;
        // Bad rows (row, reason), reported once the group is read: their text is read
        // again with every column. Without `skip_bad_rows` the first one ends the read.
        let mut bad = Vec::new();
        'batches: for batch in reader {
            let batch = batch.map_err(|e| parquet_error(file, e))?;
            let rows = batch.num_rows();
            let columns = batch_columns(file, &batch)?;
            if let Some((column, row, len)) = too_long(&batch, &columns) {
                return Err(DataError::File {
                    file: format!("{file}[row group {}]", group + 1),
                    line: Some((row_in_group + row + 1) as u64),
                    message: format!(
                        "column `{column}` holds a value of {len} bytes, more than {}",
                        crate::limits::RECORD_BYTES.describe()
                    ),
                });
            }
            if table.takes_batches() {
                let mut cells: Vec<Cells<'_>> = (0..width).map(|_| Cells::Missing).collect();
                for (col, &slot) in columns.iter().zip(&self.slots) {
                    if let Some(c) = cells.get_mut(slot) {
                        *c = col.cells(rows);
                    }
                }
                if table.batch(rows, &cells) {
                    row_in_group += rows;
                    continue;
                }
            }
            // Columns not read stay missing; the others are set for every row.
            let mut cells = vec![Raw::Missing; width];
            for row in 0..rows {
                row_in_group += 1;
                fill_row(&mut cells, &columns, &self.slots, row);
                if let Err(e) = table.row(row_in_group as u64, &cells) {
                    bad.push((row_in_group, e));
                    if !sink.skip {
                        break 'batches;
                    }
                }
            }
        }
        if bad.is_empty() {
            return Ok(());
        }
        let rows: Vec<usize> = bad.iter().map(|(row, _)| *row).collect();
        let raws = self.raw_rows(group, &rows, width)?;
        for ((row, e), raw) in bad.into_iter().zip(raws) {
            sink.reject(Rejected {
                file: format!("{file}[row group {}]", group + 1),
                line: row as u64,
                column: e.column,
                reason: e.reason,
                raw,
            })?;
        }
        Ok(())
    }
}

/// Rows per batch: a whole row group up to 65,536 rows, so that a table taking
/// [`Table::batch`]es sees many rows at once, with memory bounded.
fn batch_rows(meta: &parquet::file::metadata::ParquetMetaData, group: usize) -> usize {
    let rows = meta
        .row_groups()
        .get(group)
        .map_or(0, |g| usize::try_from(g.num_rows()).unwrap_or(0));
    rows.clamp(1024, 1 << 16)
}

/// Sets the cells of row `row` of a batch's `columns`, each at its table slot.
fn fill_row<'a>(cells: &mut [Raw<'a>], columns: &'a [Col<'_>], slots: &[usize], row: usize) {
    for (col, &slot) in columns.iter().zip(slots) {
        if let Some(cell) = cells.get_mut(slot) {
            *cell = col.raw(row);
        }
    }
}

/// A row's cells as one line of text, for the rejects file.
fn raw_text(cells: &[Raw<'_>]) -> String {
    let raw: Vec<String> = cells
        .iter()
        .map(|c| match c {
            Raw::Missing => String::new(),
            Raw::Text(s) => (*s).to_owned(),
            other => other.show().trim_matches('`').to_owned(),
        })
        .collect();
    raw.join(",")
}

/// The leaf columns to read (those the table reads) and the table slot of every
/// column, in file order; an unknown column or a missing required one is an error, as
/// in a CSV header.
fn projection(
    file: &str,
    schema: &parquet::schema::types::SchemaDescriptor,
    table: &dyn Table,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    let columns = table.columns();
    let index = columns.index();
    let mut leaves = Vec::new();
    let mut seen = Vec::new();
    for (i, col) in schema.columns().iter().enumerate() {
        let name = col.name();
        let Some(&slot) = index.get(name) else {
            return Err(file_error(file, columns.unknown("column", name)));
        };
        if seen.contains(&slot) {
            return Err(file_error(
                file,
                format!("the column `{name}` appears twice, expected each column once"),
            ));
        }
        if table.reads(slot) {
            leaves.push(i);
        }
        seen.push(slot);
    }
    if let Some(reason) = columns.missing_required(&seen) {
        return Err(file_error(file, reason));
    }
    Ok((leaves, seen))
}

/// `metadata` reading as Arrow dictionaries every text column whose pages are all
/// dictionary-encoded in every row group, so that a batch's cells come as a dictionary
/// ([`Cells::Dict`]) and the dictionary's texts are not copied into every row.
/// Text that a writer stored plain (partly or wholly) is read as plain text.
fn with_dictionaries(
    metadata: ArrowReaderMetadata,
) -> parquet::errors::Result<ArrowReaderMetadata> {
    let meta = metadata.metadata();
    let groups = meta.row_groups();
    let leaves = meta.file_metadata().schema_descr().num_columns();
    let schema = metadata.schema();
    if schema.fields().len() != leaves {
        // Nested columns: fields and leaves do not pair up; read as they are.
        return Ok(metadata);
    }
    let all_dictionary = |leaf: usize| {
        groups.iter().all(|g| {
            g.columns().get(leaf).is_some_and(|c| {
                c.dictionary_page_offset().is_some()
                    && c.page_encoding_stats_mask().is_some_and(|m| {
                        m.is_only(Encoding::PLAIN_DICTIONARY) || m.is_only(Encoding::RLE_DICTIONARY)
                    })
            })
        })
    };
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(leaf, f)| {
            if *f.data_type() == DataType::Utf8 && !groups.is_empty() && all_dictionary(leaf) {
                changed = true;
                let ty = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                f.as_ref().clone().with_data_type(ty)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    if !changed {
        return Ok(metadata);
    }
    let hint = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(
        Arc::clone(meta),
        ArrowReaderOptions::new().with_schema(hint),
    )
}

/// A text cell as read (`None`: null).
fn text(cell: Option<&str>) -> Raw<'_> {
    cell.map_or(Raw::Missing, Raw::text)
}

/// A column of a batch, typed once so that each row's cell is a cheap look-up.
enum Col<'a> {
    Text(&'a arrow_array::StringArray),
    LargeText(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    /// Dictionary-encoded text: keys ([`NO_KEY`] for a missing cell) and values.
    Dict(Vec<u32>, &'a arrow_array::StringArray),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(&'a arrow_array::BooleanArray),
    Time(Vec<Option<i64>>),
    Null,
}

impl Col<'_> {
    /// The cells of the first `rows` rows, dictionary-encoded text as a dictionary.
    fn cells(&self, rows: usize) -> Cells<'_> {
        match self {
            Col::Dict(keys, values) => Cells::Dict {
                keys,
                values: (0..values.len())
                    .map(|k| match values.is_valid(k) {
                        true => Raw::text(values.value(k)),
                        false => Raw::Missing,
                    })
                    .collect(),
            },
            Col::Null => Cells::Missing,
            Col::Text(a) => Cells::Plain(a.iter().take(rows).map(text).collect()),
            Col::LargeText(a) => Cells::Plain(a.iter().take(rows).map(text).collect()),
            Col::View(a) => Cells::Plain(a.iter().take(rows).map(text).collect()),
            Col::Int(v) => Cells::Plain(
                v.iter()
                    .take(rows)
                    .map(|x| x.map_or(Raw::Missing, Raw::Int))
                    .collect(),
            ),
            Col::Float(v) => Cells::Plain(
                v.iter()
                    .take(rows)
                    .map(|x| x.map_or(Raw::Missing, Raw::Float))
                    .collect(),
            ),
            _ => Cells::Plain((0..rows).map(|row| self.raw(row)).collect()),
        }
    }

    fn raw(&self, row: usize) -> Raw<'_> {
        fn some(x: Option<Raw<'_>>) -> Raw<'_> {
            x.unwrap_or(Raw::Missing)
        }
        match self {
            Col::Text(a) => some(a.is_valid(row).then(|| Raw::text(a.value(row)))),
            Col::LargeText(a) => some(a.is_valid(row).then(|| Raw::text(a.value(row)))),
            Col::View(a) => some(a.is_valid(row).then(|| Raw::text(a.value(row)))),
            Col::Dict(keys, values) => some(
                keys.get(row)
                    .map(|&k| k as usize)
                    .filter(|&k| k < values.len())
                    .map(|k| Raw::text(values.value(k))),
            ),
            Col::Int(v) => some(v.get(row).copied().flatten().map(Raw::Int)),
            Col::Float(v) => some(v.get(row).copied().flatten().map(Raw::Float)),
            Col::Bool(a) => some(a.is_valid(row).then(|| Raw::Bool(a.value(row)))),
            Col::Time(v) => some(v.get(row).copied().flatten().map(Raw::time)),
            Col::Null => Raw::Missing,
        }
    }
}

/// The first text value of `batch` longer than [`crate::limits::RECORD_BYTES`]: its
/// column's name, its row in the batch (0-based) and its length. (A CSV or NDJSON record
/// is limited as a line; a Parquet value as a value.)
fn too_long(batch: &RecordBatch, columns: &[Col<'_>]) -> Option<(String, usize, usize)> {
    let max = crate::limits::RECORD_BYTES.get();
    let first =
        |lens: &mut dyn Iterator<Item = usize>| lens.enumerate().find(|&(_, len)| len > max);
    let schema = batch.schema();
    columns
        .iter()
        .zip(schema.fields())
        .find_map(|(col, field)| {
            let found = match col {
                Col::Text(a) => first(&mut a.iter().map(|v| v.map_or(0, str::len))),
                Col::LargeText(a) => first(&mut a.iter().map(|v| v.map_or(0, str::len))),
                Col::View(a) => first(&mut a.iter().map(|v| v.map_or(0, str::len))),
                Col::Dict(keys, values) => first(&mut keys.iter().map(|&k| {
                    let k = k as usize;
                    if k < values.len() && values.is_valid(k) {
                        values.value(k).len()
                    } else {
                        0
                    }
                })),
                _ => None,
            };
            found.map(|(row, len)| (field.name().clone(), row, len))
        })
}

fn ints<T: arrow_array::ArrowPrimitiveType>(
    a: &ArrayRef,
    f: impl Fn(T::Native) -> i64,
) -> Vec<Option<i64>> {
    a.as_primitive::<T>().iter().map(|v| v.map(&f)).collect()
}

fn batch_columns<'b>(file: &str, batch: &'b RecordBatch) -> Result<Vec<Col<'b>>, DataError> {
    let schema = batch.schema();
    batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(a, field)| {
            Ok(match a.data_type() {
                DataType::Utf8 => Col::Text(a.as_string::<i32>()),
                DataType::LargeUtf8 => Col::LargeText(a.as_string::<i64>()),
                DataType::Utf8View => Col::View(a.as_string_view()),
                DataType::Dictionary(_, v) if **v == DataType::Utf8 => {
                    let dict = a.as_any_dictionary();
                    let values = dict.values().as_string::<i32>();
                    if let Some(d) = a.as_dictionary_opt::<Int32Type>() {
                        // The dictionary type Funnel asks for: keys read with their
                        // validity bitmap, not one dynamic call per row.
                        let n = values.len();
                        let all_valid = values.null_count() == 0;
                        let keys = d
                            .keys()
                            .iter()
                            .map(|k| {
                                k.and_then(|k| u32::try_from(k).ok())
                                    .filter(|&k| {
                                        (k as usize) < n
                                            && (all_valid || values.is_valid(k as usize))
                                    })
                                    .unwrap_or(NO_KEY)
                            })
                            .collect();
                        return Ok(Col::Dict(keys, values));
                    }
                    let keys = dict.normalized_keys();
                    let keys = (0..a.len())
                        .map(|i| match keys.get(i) {
                            Some(&k) if a.is_valid(i) && values.is_valid(k) => {
                                u32::try_from(k).unwrap_or(NO_KEY)
                            }
                            _ => NO_KEY,
                        })
                        .collect();
                    Col::Dict(keys, values)
                }
                DataType::Int8 => Col::Int(ints::<Int8Type>(a, i64::from)),
                DataType::Int16 => Col::Int(ints::<Int16Type>(a, i64::from)),
                DataType::Int32 => Col::Int(ints::<Int32Type>(a, i64::from)),
                DataType::Int64 => Col::Int(ints::<Int64Type>(a, |x| x)),
                DataType::UInt8 => Col::Int(ints::<UInt8Type>(a, i64::from)),
                DataType::UInt16 => Col::Int(ints::<UInt16Type>(a, i64::from)),
                DataType::UInt32 => Col::Int(ints::<UInt32Type>(a, i64::from)),
                DataType::Float32 => Col::Float(
                    a.as_primitive::<Float32Type>()
                        .iter()
                        .map(|v| v.map(f64::from))
                        .collect(),
                ),
                DataType::Float64 => Col::Float(a.as_primitive::<Float64Type>().iter().collect()),
                DataType::Boolean => Col::Bool(a.as_boolean()),
                DataType::Timestamp(unit, _) => Col::Time(match unit {
                    TimeUnit::Second => ints::<TimestampSecondType>(a, |x| x.saturating_mul(1_000_000)),
                    TimeUnit::Millisecond => ints::<TimestampMillisecondType>(a, |x| x.saturating_mul(1000)),
                    TimeUnit::Microsecond => ints::<TimestampMicrosecondType>(a, |x| x),
                    TimeUnit::Nanosecond => ints::<TimestampNanosecondType>(a, |x| x.div_euclid(1000)),
                }),
                DataType::Date32 => Col::Time(ints::<Date32Type>(a, |d| i64::from(d).saturating_mul(86_400_000_000))),
                DataType::Null => Col::Null,
                other => {
                    return Err(file_error(
                        file,
                        format!(
                            "column `{}` has type {other}, expected text, a whole number, a number, a boolean, a timestamp or a date",
                            field.name()
                        ),
                    ));
                }
            })
        })
        .collect()
}
