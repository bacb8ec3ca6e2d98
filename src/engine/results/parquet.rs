//! Parquet from the typed columns: each batch of rows becomes one Arrow array per
//! column, built from the column's slice (booleans, numbers) or cell by cell.

use super::{Cell, Cells, Column, ColumnKind, Table};
use crate::r#gen::parquet::{data_type, io_err, properties};
use crate::r#gen::table::ColType;
use crate::plan::types::Value;
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;
use rayon::prelude::*;
use std::io;
use std::ops::Range;
use std::sync::Arc;

/// Rows per Arrow batch handed to the writer.
const BATCH: usize = 65_536;

impl Column {
    /// The Parquet type of the column: segments as booleans, scores as doubles, tiers
    /// and personas as text; other values take their type (numbers when whole and
    /// fractional mix, else text); a column of missing values its kind's type.
    fn parquet_type(&self) -> ColType {
        let mut ty = None;
        for i in 0..self.len() {
            let t = match self.cell(i) {
                Cell::Missing => continue,
                Cell::Int(_) | Cell::Value(Value::Duration(_)) => ColType::Int,
                Cell::Num(_) => ColType::Num,
                Cell::Bool(_) => ColType::Bool,
                Cell::Value(Value::Timestamp(_)) => ColType::Time,
                Cell::Value(Value::Date(_)) => ColType::Date,
                Cell::Text(_) | Cell::Value(_) => ColType::Text,
            };
            ty = Some(match (ty, t) {
                (None, t) => t,
                (Some(a), b) if a == b => a,
                (Some(ColType::Int | ColType::Num), ColType::Int | ColType::Num) => ColType::Num,
                _ => return ColType::Text,
            });
        }
        ty.unwrap_or(match self.kind {
            ColumnKind::Segment => ColType::Bool,
            ColumnKind::Score => ColType::Num,
            _ => ColType::Text,
        })
    }

    /// Rows `rows` as an Arrow array of type `ty`.
    fn arrow(&self, ty: ColType, rows: Range<usize>) -> ArrayRef {
        match (&self.cells, ty) {
            (Cells::Bool(v), ColType::Bool) => {
                return Arc::new(BooleanArray::from(slice(v, &rows).to_vec()));
            }
            (Cells::Int(v), ColType::Int) => {
                return Arc::new(Int64Array::from(slice(v, &rows).to_vec()));
            }
            (Cells::Num(v), ColType::Num) => {
                return Arc::new(Float64Array::from(slice(v, &rows).to_vec()));
            }
            (Cells::NumOr { values, present }, ColType::Num) => {
                let mut b = Float64Builder::with_capacity(rows.len());
                b.append_values(slice(values, &rows), slice(present, &rows));
                return Arc::new(b.finish());
            }
            _ => {}
        }
        match ty {
            ColType::Bool => {
                let mut b = BooleanBuilder::with_capacity(rows.len());
                rows.for_each(|i| {
                    b.append_option(match self.cell(i) {
                        Cell::Bool(b) => Some(b),
                        _ => None,
                    })
                });
                Arc::new(b.finish())
            }
            ColType::Int => {
                let mut b = Int64Builder::with_capacity(rows.len());
                rows.for_each(|i| {
                    b.append_option(match self.cell(i) {
                        Cell::Int(x) => Some(x),
                        Cell::Value(Value::Duration(x)) => Some(*x),
                        _ => None,
                    })
                });
                Arc::new(b.finish())
            }
            ColType::Num => {
                let mut b = Float64Builder::with_capacity(rows.len());
                rows.for_each(|i| b.append_option(self.number(i)));
                Arc::new(b.finish())
            }
            ColType::Time => {
                let mut b =
                    TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
                rows.for_each(|i| {
                    b.append_option(match self.cell(i) {
                        Cell::Value(Value::Timestamp(t)) => Some(t.timestamp_micros()),
                        _ => None,
                    })
                });
                Arc::new(b.finish())
            }
            ColType::Date => {
                let mut b = Date32Builder::with_capacity(rows.len());
                rows.for_each(|i| {
                    b.append_option(match self.cell(i) {
                        Cell::Value(Value::Date(d)) => {
                            let days = d
                                .signed_duration_since(chrono::NaiveDate::default())
                                .num_days();
                            Some(i32::try_from(days).unwrap_or(0))
                        }
                        _ => None,
                    })
                });
                Arc::new(b.finish())
            }
            ColType::Text => {
                let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 8);
                let mut text = String::new();
                for i in rows {
                    match self.cell(i) {
                        Cell::Missing => b.append_null(),
                        Cell::Text(t) => b.append_value(t),
                        other => {
                            text.clear();
                            // Writing to a `String` does not fail.
                            let _ = other.write_text(&mut text);
                            b.append_value(&text);
                        }
                    }
                }
                Arc::new(b.finish())
            }
        }
    }
}

/// The part `rows` of `v` (empty when out of range).
fn slice<'v, T>(v: &'v [T], rows: &Range<usize>) -> &'v [T] {
    v.get(rows.clone()).unwrap_or_default()
}

impl Table {
    /// The table as a Parquet file: `id`, then one typed column per definition (see
    /// `Column::parquet_type`), missing values as nulls.
    pub fn to_parquet(&self) -> io::Result<Vec<u8>> {
        let types: Vec<ColType> = self.columns.par_iter().map(Column::parquet_type).collect();
        let mut fields = vec![Field::new("id", data_type(ColType::Text), true)];
        fields.extend(
            self.columns
                .iter()
                .zip(&types)
                .map(|(c, t)| Field::new(&c.name, data_type(*t), true)),
        );
        let schema = Arc::new(Schema::new(fields));
        let mut writer =
            ArrowWriter::try_new(Vec::new(), schema.clone(), Some(properties())).map_err(io_err)?;
        let n = self.ids.len();
        for start in (0..n).step_by(BATCH) {
            let rows = start..(start + BATCH).min(n);
            let ids: ArrayRef = Arc::new(StringArray::from_iter_values(slice(&self.ids, &rows)));
            let mut arrays = vec![ids];
            arrays.par_extend(
                self.columns
                    .par_iter()
                    .zip(&types)
                    .map(|(c, t)| c.arrow(*t, rows.clone())),
            );
            let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(io_err)?;
            writer.write(&batch).map_err(io_err)?;
        }
        writer.into_inner().map_err(io_err)
    }
}
