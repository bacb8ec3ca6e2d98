//! Reading a table from CSV: a header row naming the columns, then one record per row.

use super::tables::{RowError, Sink, Table};
use super::validate::Raw;
use super::{DataError, Rejected};
use csv::ByteRecord;
use std::collections::VecDeque;
use std::io::{self, Read};

/// Reads every row of `reader` (named `file` in messages) into `table`.
pub(crate) fn read(
    file: &str,
    reader: &mut dyn Read,
    table: &mut dyn Table,
    sink: &mut Sink,
) -> Result<(), DataError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(Lines::new(reader));
    let mut record = ByteRecord::new();
    if !next(&mut csv, &mut record, file)? {
        return Err(file_error(
            file,
            None,
            "empty file, expected a header row".into(),
        ));
    }
    let header_line = line(&mut csv, &record);
    let slots = header(file, header_line, &record, table)?;
    let width = table.columns().names.len();
    while next(&mut csv, &mut record, file)? {
        let line = line(&mut csv, &record);
        let result = cells(&record, &slots, width, table).and_then(|cells| table.row(line, &cells));
        if let Err(e) = result {
            sink.reject(Rejected {
                file: file.to_owned(),
                line,
                column: e.column,
                reason: e.reason,
                raw: raw(&record),
            })?;
        }
    }
    Ok(())
}

fn next(
    csv: &mut csv::Reader<Lines<'_>>,
    record: &mut ByteRecord,
    file: &str,
) -> Result<bool, DataError> {
    csv.read_byte_record(record).map_err(|e| {
        let message = format!("cannot read CSV: {e}");
        match e.into_kind() {
            csv::ErrorKind::Io(source) => DataError::Io {
                file: file.to_owned(),
                source,
            },
            _ => file_error(file, None, message),
        }
    })
}

/// The physical line where `record` starts.
fn line(csv: &mut csv::Reader<Lines<'_>>, record: &ByteRecord) -> u64 {
    let start = record.position().map_or(0, csv::Position::byte);
    csv.get_mut().line_at(start)
}

/// The input, passed through while the lines that hold something are noted, so that
/// records get their physical line: the csv crate neither counts the blank lines it
/// skips nor leaves them out of a record's byte position.
struct Lines<'r> {
    inner: &'r mut dyn Read,
    /// Bytes read so far.
    offset: u64,
    /// The line being read (1-based).
    line: u64,
    /// Whether nothing but `\r` has been read on that line yet.
    blank: bool,
    /// Offset and line of the first byte of each non-blank line not yet passed.
    starts: VecDeque<(u64, u64)>,
}

impl<'r> Lines<'r> {
    fn new(inner: &'r mut dyn Read) -> Lines<'r> {
        Lines {
            inner,
            offset: 0,
            line: 1,
            blank: true,
            starts: VecDeque::new(),
        }
    }

    /// The line of the first non-blank line from byte `offset` on; offsets must not
    /// decrease between calls.
    fn line_at(&mut self, offset: u64) -> u64 {
        while self
            .starts
            .front()
            .is_some_and(|&(start, _)| start < offset)
        {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |&(_, line)| line)
    }
}

impl Read for Lines<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (&b, offset) in buf.get(..n).unwrap_or_default().iter().zip(self.offset..) {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.blank = true;
                }
                b'\r' => {}
                _ if self.blank => {
                    self.starts.push_back((offset, self.line));
                    self.blank = false;
                }
                _ => {}
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

fn file_error(file: &str, line: Option<u64>, message: String) -> DataError {
    DataError::File {
        file: file.to_owned(),
        line,
        message,
    }
}

/// The column index (in `table.columns()`) of each header cell.
fn header(
    file: &str,
    line: u64,
    record: &ByteRecord,
    table: &dyn Table,
) -> Result<Vec<usize>, DataError> {
    let columns = table.columns();
    let index = columns.index();
    let mut slots = Vec::with_capacity(record.len());
    for (i, bytes) in record.iter().enumerate() {
        let name = std::str::from_utf8(bytes).map_err(|_| {
            file_error(
                file,
                Some(line),
                "header is not valid UTF-8, expected UTF-8 text".into(),
            )
        })?;
        let name = if i == 0 {
            name.trim_start_matches('\u{feff}')
        } else {
            name
        }
        .trim();
        let Some(&slot) = index.get(name) else {
            return Err(file_error(
                file,
                Some(line),
                columns.unknown("column", name),
            ));
        };
        if slots.contains(&slot) {
            return Err(file_error(
                file,
                Some(line),
                format!("duplicate column `{name}`, expected each column once"),
            ));
        }
        slots.push(slot);
    }
    if let Some(reason) = columns.missing_required(&slots) {
        return Err(file_error(file, Some(line), reason));
    }
    Ok(slots)
}

/// A record's cells in column order; columns the header lacks are missing.
fn cells<'r>(
    record: &'r ByteRecord,
    slots: &[usize],
    width: usize,
    table: &dyn Table,
) -> Result<Vec<Raw<'r>>, RowError> {
    if record.len() != slots.len() {
        return Err(RowError::row(format!(
            "malformed row: {} cells, expected {} like the header",
            record.len(),
            slots.len()
        )));
    }
    let mut cells = vec![Raw::Missing; width];
    for (bytes, &slot) in record.iter().zip(slots) {
        let name = || table.columns().names.get(slot).map_or("", String::as_str);
        let text = std::str::from_utf8(bytes).map_err(|_| {
            RowError::at(
                name(),
                "cell is not valid UTF-8, expected UTF-8 text".into(),
            )
        })?;
        if let Some(cell) = cells.get_mut(slot) {
            *cell = Raw::text(text);
        }
    }
    Ok(cells)
}

/// The record re-encoded as one CSV line, for the rejects file.
fn raw(record: &ByteRecord) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let bytes = match out
        .write_byte_record(record)
        .and_then(|()| out.into_inner().map_err(|e| e.into_error().into()))
    {
        Ok(bytes) => bytes,
        Err(_) => return String::new(),
    };
    String::from_utf8_lossy(&bytes)
        .trim_end_matches(['\r', '\n'])
        .to_owned()
}
