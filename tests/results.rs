//! The result tables: typed columns hold what they were given, and CSV, NDJSON and
//! Parquet written from them are what the `csv` crate, a `serde_json::Map` per row and
//! an Arrow reader say they should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use funnel::engine::results::{Cells, Column, ColumnKind, Table, json};
use funnel::plan::display;
use funnel::plan::types::Value;

/// Rows in the big tables: more than one block of the parallel writers.
const ROWS: usize = 10_000;

fn ts(secs: i64, nanos: u32) -> Value {
    Value::Timestamp(Utc.timestamp_opt(secs, nanos).unwrap())
}

/// Awkward numbers: whole, fractional, huge, tiny, negative zero, not finite.
fn numbers() -> Vec<f64> {
    vec![
        0.0,
        -0.0,
        1.0,
        -3.0,
        12.5,
        0.1 + 0.2,
        1.0 / 3.0,
        999_999_999_999_999.0,
        1e15,
        -1e15,
        1e20,
        1.5e300,
        1e-7,
        5e-324,
        f64::MAX,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        21.38,
        54.12,
    ]
}

/// Text that needs quoting and text that does not.
fn texts() -> Vec<&'static str> {
    vec![
        "plain",
        "",
        "a,b",
        "say \"hi\"",
        "\"",
        "line\nbreak",
        "carriage\rreturn",
        "crlf\r\n",
        " spaced ",
        "ünïcödé ✓",
        "tab\there",
        "semi;colon",
    ]
}

/// One value of every kind, cycling through awkward cases, missing every seventh row.
fn any_value(i: usize) -> Option<Value> {
    if i % 7 == 3 {
        return None;
    }
    let n = numbers();
    let t = texts();
    Some(match i % 6 {
        0 => Value::Number(n[i / 6 % n.len()]),
        1 => Value::Text(t[i / 6 % t.len()].into()),
        2 => Value::Int(i as i64 * 7919 - 40_000),
        3 => Value::Duration(i as i64 * 3600),
        4 => ts(
            1_700_000_000 + i as i64 * 997,
            [0, 5_000_000, 123_000, 7][i % 4],
        ),
        _ => Value::Date(
            NaiveDate::from_ymd_opt(
                1990 + (i % 50) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            )
            .unwrap(),
        ),
    })
}

/// A table with a column of each storage kind and one of every kind of value.
fn table() -> Table {
    let n = numbers();
    let t = texts();
    let tiers = vec![
        "hot".to_string(),
        "warm, \"ish\"".to_string(),
        "cold".to_string(),
    ];
    let col = |name: &str, kind, categories: Vec<String>, values: Vec<Option<Value>>| {
        Column::new(name.to_string(), kind, categories, values)
    };
    let columns = vec![
        col(
            "segment",
            ColumnKind::Segment,
            vec![],
            (0..ROWS).map(|i| Some(Value::Bool(i % 3 == 0))).collect(),
        ),
        col(
            "count",
            ColumnKind::Value,
            vec![],
            (0..ROWS)
                .map(|i| Some(Value::Int(i as i64 - 500)))
                .collect(),
        ),
        col(
            "score",
            ColumnKind::Score,
            vec![],
            (0..ROWS)
                .map(|i| Some(Value::Number(n[i % n.len()])))
                .collect(),
        ),
        col(
            "score_or_missing",
            ColumnKind::Score,
            vec![],
            (0..ROWS)
                .map(|i| (i % 5 != 0).then(|| Value::Number(n[i % n.len()] * 0.37)))
                .collect(),
        ),
        col(
            "tier",
            ColumnKind::Tier,
            tiers.clone(),
            (0..ROWS)
                .map(|i| (i % 4 != 0).then(|| Value::Text(tiers[i % 3].as_str().into())))
                .collect(),
        ),
        col(
            "text",
            ColumnKind::Value,
            vec![],
            (0..ROWS)
                .map(|i| (i % 9 != 0).then(|| Value::Text(t[i % t.len()].into())))
                .collect(),
        ),
        col(
            "any",
            ColumnKind::Value,
            vec![],
            (0..ROWS).map(any_value).collect(),
        ),
        col("empty", ColumnKind::Value, vec![], vec![None; ROWS]),
    ];
    Table {
        ids: (0..ROWS)
            .map(|i| match i {
                1 => "id, with comma".to_string(),
                2 => "id \"quoted\"".to_string(),
                _ => format!("c{i:06}"),
            })
            .collect(),
        columns,
    }
}

/// A value's CSV text as the writer before typed columns made it.
fn old_cell(v: &Value) -> String {
    match v {
        Value::Text(t) => t.to_string(),
        Value::Number(n) => {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", *n as i64)
            } else {
                format!("{n}")
            }
        }
        Value::Int(i) | Value::Duration(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Timestamp(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    }
}

/// The table as the `csv` crate writes it, from each row's values.
fn csv_by_the_crate(t: &Table) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["id".to_string()];
    header.extend(t.columns.iter().map(|c| c.name.clone()));
    out.write_record(&header).unwrap();
    for (i, id) in t.ids.iter().enumerate() {
        let mut rec = vec![id.clone()];
        rec.extend(
            t.columns
                .iter()
                .map(|c| c.get(i).as_ref().map(old_cell).unwrap_or_default()),
        );
        out.write_record(&rec).unwrap();
    }
    out.into_inner().unwrap()
}

#[test]
fn columns_are_stored_compactly_and_give_back_their_values() {
    let t = table();
    let kinds: Vec<&str> = t
        .columns
        .iter()
        .map(|c| match c.cells {
            Cells::Bool(_) => "bool",
            Cells::Int(_) => "int",
            Cells::Num(_) => "num",
            Cells::NumOr { .. } => "num_or",
            Cells::Label(_) => "label",
            Cells::Values(_) => "values",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "bool", "int", "num", "num_or", "label", "values", "values", "num_or"
        ]
    );
    let again = table();
    for (c, d) in t.columns.iter().zip(&again.columns) {
        let values: Vec<Option<Value>> = d.values().collect();
        let back = Column::new(c.name.clone(), c.kind, c.categories.clone(), values.clone());
        assert_eq!(format!("{back:?}"), format!("{c:?}"), "{}", c.name);
        for (i, v) in values.iter().enumerate() {
            let number = match v {
                Some(Value::Number(x)) => Some(*x),
                Some(Value::Int(x)) => Some(*x as f64),
                _ => None,
            };
            assert_eq!(c.number(i).map(f64::to_bits), number.map(f64::to_bits));
            let label = match v {
                Some(Value::Text(t)) => Some(&**t),
                _ => None,
            };
            assert_eq!(c.label(i), label);
            assert_eq!(c.is_true(i), *v == Some(Value::Bool(true)));
        }
    }
    assert_eq!(
        t.columns[4].get(1),
        Some(Value::Text("warm, \"ish\"".into()))
    );
    assert_eq!(t.columns[3].get(0), None);
    assert_eq!(t.columns[0].get(ROWS), None);
}

#[test]
fn csv_is_what_the_csv_crate_writes() {
    let t = table();
    let mut ours = Vec::new();
    t.write_csv(&mut ours).unwrap();
    let theirs = csv_by_the_crate(&t);
    assert!(ours == theirs, "{}", first_difference(&ours, &theirs));
}

#[test]
fn csv_of_edge_tables() {
    for t in [
        Table::default(),
        Table {
            ids: vec!["".into(), "x".into()],
            columns: Vec::new(),
        },
        Table {
            ids: vec!["".into()],
            columns: vec![Column::new(
                "s".into(),
                ColumnKind::Segment,
                vec![],
                vec![None],
            )],
        },
    ] {
        let mut ours = Vec::new();
        t.write_csv(&mut ours).unwrap();
        let theirs = csv_by_the_crate(&t);
        assert_eq!(String::from_utf8(ours), String::from_utf8(theirs));
    }
}

#[test]
fn ndjson_is_a_serde_json_map_per_row() {
    let mut t = table();
    // A column named `id` replaces the id, as a map insert would.
    let mut shadow = t.columns[1].clone();
    shadow.name = "id".into();
    t.columns.push(shadow);
    let mut ours = Vec::new();
    t.write_ndjson(&mut ours).unwrap();
    let mut theirs = Vec::new();
    for (i, id) in t.ids.iter().enumerate() {
        let mut obj = serde_json::Map::new();
        obj.insert("id".into(), id.clone().into());
        for c in &t.columns {
            let v = c.get(i);
            obj.insert(
                c.name.clone(),
                v.as_ref().map_or(serde_json::Value::Null, json),
            );
        }
        serde_json::to_writer(&mut theirs, &obj).unwrap();
        theirs.push(b'\n');
    }
    assert!(ours == theirs, "{}", first_difference(&ours, &theirs));
}

#[test]
fn numbers_and_timestamps_print_as_before() {
    for n in numbers() {
        assert_eq!(display::number(n), old_cell(&Value::Number(n)), "{n:?}");
    }
    let mut samples: Vec<DateTime<Utc>> = (0..2000)
        .map(|k: i64| {
            let secs = -100_000_000_000 + k * 200_000_017;
            let nanos = [0, 1, 1_000, 1_000_000, 123_456_789, 999_999_999][(k % 6) as usize];
            Utc.timestamp_opt(secs, nanos).unwrap()
        })
        .collect();
    let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
        .unwrap()
        .and_hms_nano_opt(23, 59, 59, 1_250_000_000)
        .unwrap()
        .and_utc();
    samples.push(leap);
    for t in samples {
        assert_eq!(
            display::Timestamp(t).to_string(),
            t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
    }
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_holds_typed_columns() {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    use arrow_array::{Array, RecordBatch};
    use arrow_schema::DataType;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let t = table();
    let bytes = t.to_parquet().unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let schema = batches[0].schema();
    let types: Vec<(&str, &DataType)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    assert_eq!(
        types,
        [
            ("id", &DataType::Utf8),
            ("segment", &DataType::Boolean),
            ("count", &DataType::Int64),
            ("score", &DataType::Float64),
            ("score_or_missing", &DataType::Float64),
            ("tier", &DataType::Utf8),
            ("text", &DataType::Utf8),
            // Mixed values: text.
            ("any", &DataType::Utf8),
            // Nothing but missing in a value column: text.
            ("empty", &DataType::Utf8),
        ]
    );
    let mut row = 0;
    for b in &batches {
        for k in 0..b.num_rows() {
            let i = row + k;
            assert_eq!(b.column(0).as_string::<i32>().value(k), t.ids[i]);
            for (j, c) in t.columns.iter().enumerate() {
                let a = b.column(j + 1);
                let v = c.get(i);
                if v.is_none() {
                    assert!(a.is_null(k), "{} row {i}", c.name);
                    continue;
                }
                match a.data_type() {
                    DataType::Boolean => {
                        assert_eq!(Some(Value::Bool(a.as_boolean().value(k))), v)
                    }
                    DataType::Int64 => {
                        assert_eq!(Some(Value::Int(a.as_primitive::<Int64Type>().value(k))), v)
                    }
                    DataType::Float64 => assert_eq!(
                        a.as_primitive::<Float64Type>().value(k).to_bits(),
                        c.number(i).unwrap().to_bits()
                    ),
                    _ => assert_eq!(
                        a.as_string::<i32>().value(k),
                        funnel::engine::results::cell(&v.unwrap()),
                        "{} row {i}",
                        c.name
                    ),
                }
            }
        }
        row += b.num_rows();
    }
    assert_eq!(row, ROWS);
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let show = |s: &[u8]| {
        String::from_utf8_lossy(&s[at.saturating_sub(80)..(at + 80).min(s.len())]).into_owned()
    };
    format!(
        "lengths {} and {}, first difference at byte {at}:\n{}\n---\n{}",
        a.len(),
        b.len(),
        show(a),
        show(b)
    )
}
