//! Reading a table from CSV: a header row naming the columns, then one record per row.

use super::tables::{Cells, Part, RowError, Sink, Table};
use super::validate::Raw;
use super::{DataError, Rejected};
use csv::ByteRecord;
use rayon::prelude::*;
use std::collections::VecDeque;
use std::io::{self, Read};

/// Reads every row of `reader` (named `file` in messages) into `table`.
pub(crate) fn read(
    file: &str,
    reader: &mut dyn Read,
    table: &mut dyn Table,
    sink: &mut Sink,
) -> Result<(), DataError> {
    let mut csv = csv_reader(reader, 1);
    let slots = read_header(file, &mut csv, table)?;
    records(file, &mut csv, &slots, table, sink)
}

/// Bytes per chunk of a file read in parallel.
const CHUNK: usize = 8 << 20;

/// Reads `reader` in chunks cut at record boundaries (outside quotes), each parsed into
/// its own table from `make`, several at a time in parallel; `keep` receives the tables
/// in file order. Bad rows as [`read`] reports them.
pub(crate) fn read_parts<T: Table + Send>(
    file: &str,
    reader: &mut dyn Read,
    make: &(dyn Fn() -> T + Sync),
    sink: &mut Sink,
    keep: &mut dyn FnMut(T),
) -> Result<(), DataError> {
    read_chunked(file, reader, CHUNK, make, sink, keep)
}

/// [`read_parts`] with chunks of about `size` bytes.
fn read_chunked<T: Table + Send>(
    file: &str,
    reader: &mut dyn Read,
    size: usize,
    make: &(dyn Fn() -> T + Sync),
    sink: &mut Sink,
    keep: &mut dyn FnMut(T),
) -> Result<(), DataError> {
    let io = |source| DataError::Io {
        file: file.to_owned(),
        source,
    };
    let mut chunks = Chunks {
        reader,
        size: size.max(1),
        carry: Vec::new(),
        eof: false,
    };
    // An empty file has no first chunk; the header reader then says so.
    let first = chunks.next().map_err(io)?.unwrap_or_default();
    let (slots, body, mut line) = {
        let mut bytes = first.as_slice();
        let mut csv = csv_reader(&mut bytes, 1);
        let slots = read_header(file, &mut csv, &make())?;
        let at = usize::try_from(csv.position().byte()).unwrap_or(first.len());
        let head = first.get(..at).unwrap_or_default();
        (
            slots,
            first.get(at..).unwrap_or_default().to_vec(),
            1 + newlines(head),
        )
    };
    let batch_len = 2 * rayon::current_num_threads().max(1);
    let mut batch = vec![body];
    loop {
        while batch.len() < batch_len {
            match chunks.next().map_err(io)? {
                Some(chunk) => batch.push(chunk),
                None => break,
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let counts: Vec<u64> = batch.par_iter().map(|c| newlines(c)).collect();
        let starts: Vec<u64> = counts
            .iter()
            .scan(line, |l, n| {
                let start = *l;
                *l += n;
                Some(start)
            })
            .collect();
        line += counts.iter().sum::<u64>();
        let parts: Vec<Part<T>> = batch
            .par_iter()
            .zip(starts)
            .map(|(chunk, start)| {
                let mut table = make();
                let mut part = Sink::new(sink.skip);
                let read = match table.takes_batches() {
                    true => batches(file, chunk, start, &slots, &mut table, &mut part),
                    false => records(
                        file,
                        &mut csv_reader(&mut chunk.as_slice(), start),
                        &slots,
                        &mut table,
                        &mut part,
                    ),
                };
                (table, part, read)
            })
            .collect();
        sink.take(parts, keep)?;
        batch.clear();
    }
}

/// Rows per batch given to a table that takes batches.
const BATCH: usize = 8192;

/// Reads the records of a chunk that starts at `line` into a table that takes
/// [`Table::batch`]es. A chunk without quotes or carriage returns, in UTF-8, is split
/// by hand into batches of plain cells (only the columns the table reads); a batch the
/// table does not take, a record with the wrong number of cells, and any other chunk
/// are read by the csv reader row by row, which reports what is wrong.
fn batches(
    file: &str,
    chunk: &[u8],
    line: u64,
    slots: &[usize],
    table: &mut dyn Table,
    sink: &mut Sink,
) -> Result<(), DataError> {
    let simple = memchr::memchr2(b'"', b'\r', chunk).is_none();
    let text = match std::str::from_utf8(chunk) {
        Ok(text) if simple => text,
        _ => {
            return records(
                file,
                &mut csv_reader(&mut &chunk[..], line),
                slots,
                table,
                sink,
            );
        }
    };
    let width = table.columns().names.len();
    // Per cell of a record: the table slot it fills, if the table reads it.
    let wanted: Vec<Option<usize>> = slots.iter().map(|&s| table.reads(s).then_some(s)).collect();
    let mut pos = 0;
    let mut line = line;
    while pos < chunk.len() {
        let (first, first_line) = (pos, line);
        let mut cells: Vec<Cells<'_>> = (0..width)
            .map(|s| match wanted.contains(&Some(s)) {
                true => Cells::Plain(Vec::with_capacity(BATCH)),
                false => Cells::Missing,
            })
            .collect();
        let mut rows = 0;
        let mut whole = true;
        while rows < BATCH && pos < chunk.len() {
            line += 1;
            if chunk.get(pos) == Some(&b'\n') {
                // An empty line, skipped as the csv reader skips it.
                pos += 1;
                continue;
            }
            let (next, n) = split_record(text, pos, &wanted, &mut cells);
            pos = next;
            if n != slots.len() {
                whole = false;
                break;
            }
            rows += 1;
        }
        pos = pos.min(chunk.len());
        if !(whole && table.batch(rows, &cells)) {
            let mut bytes = chunk.get(first..pos).unwrap_or_default();
            records(
                file,
                &mut csv_reader(&mut bytes, first_line),
                slots,
                table,
                sink,
            )?;
        }
    }
    Ok(())
}

/// Splits the record of `text` (without quotes) that starts at `pos`, pushing each cell
/// a column is `wanted` for onto that column's cells; the position after the record's
/// line feed (or past the end) and the number of cells. Cells are short, most empty: a
/// plain scan beats a vectorised search started at every cell.
fn split_record<'t>(
    text: &'t str,
    pos: usize,
    wanted: &[Option<usize>],
    cells: &mut [Cells<'t>],
) -> (usize, usize) {
    let bytes = text.as_bytes();
    let (mut n, mut start, mut end) = (0, pos, pos);
    loop {
        let byte = bytes.get(end).copied();
        if byte.is_some_and(|b| b != b',' && b != b'\n') {
            end += 1;
            continue;
        }
        if let Some(Some(slot)) = wanted.get(n)
            && let Some(Cells::Plain(col)) = cells.get_mut(*slot)
        {
            col.push(Raw::text(text.get(start..end).unwrap_or_default()));
        }
        n += 1;
        end += 1;
        if byte != Some(b',') {
            return (end, n);
        }
        start = end;
    }
}

/// The number of line feeds in `bytes`.
fn newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// The input in chunks of about `size` bytes, each ending at a record boundary.
struct Chunks<'r> {
    reader: &'r mut dyn Read,
    size: usize,
    /// Bytes read past the last boundary.
    carry: Vec<u8>,
    eof: bool,
}

impl Chunks<'_> {
    fn next(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = std::mem::take(&mut self.carry);
        let mut want = self.size;
        loop {
            self.fill(&mut buf, want)?;
            if self.eof {
                return Ok((!buf.is_empty()).then_some(buf));
            }
            if let Some(cut) = last_boundary(&buf) {
                self.carry = buf.split_off(cut);
                longest_line(&buf)?;
                return Ok(Some(buf));
            }
            // One record longer than a chunk: read on, as far as the limit allows.
            longest_line(&buf)?;
            want = buf.len() + self.size;
        }
    }

    /// Reads into `buf` until it holds `want` bytes or the input ends.
    fn fill(&mut self, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
        while !self.eof && buf.len() < want {
            let more = (want - buf.len()) as u64;
            if (&mut *self.reader).take(more).read_to_end(buf)? == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }
}

/// Fails when a line of `buf` is longer than [`crate::limits::RECORD_BYTES`] (the
/// last line may go on in the next chunk; it is checked on its own at least).
fn longest_line(buf: &[u8]) -> io::Result<()> {
    let max = crate::limits::RECORD_BYTES.get();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', buf).chain(std::iter::once(buf.len())) {
        if end - start > max {
            return Err(line_too_long());
        }
        start = end + 1;
    }
    Ok(())
}

fn line_too_long() -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "a line longer than {}",
            crate::limits::RECORD_BYTES.describe()
        ),
    )
}

/// Just past the last line feed of `buf` that is outside quotes (`buf` starts outside
/// them), if any.
fn last_boundary(buf: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', buf).is_none() {
        return memchr::memrchr(b'\n', buf).map(|i| i + 1);
    }
    let mut quoted = false;
    let mut last = None;
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => last = Some(i + 1),
            _ => {}
        }
    }
    last
}

fn csv_reader<'r>(reader: &'r mut dyn Read, line: u64) -> csv::Reader<Lines<'r>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(Lines::new(reader, line))
}

/// Reads the header row: the column index (in `table.columns()`) of each cell.
fn read_header(
    file: &str,
    csv: &mut csv::Reader<Lines<'_>>,
    table: &dyn Table,
) -> Result<Vec<usize>, DataError> {
    let mut record = ByteRecord::new();
    if !next(csv, &mut record, file)? {
        return Err(file_error(
            file,
            None,
            "empty file, expected a header row".into(),
        ));
    }
    let header_line = line(csv, &record);
    header(file, header_line, &record, table)
}

/// Reads the records after the header into `table`.
fn records(
    file: &str,
    csv: &mut csv::Reader<Lines<'_>>,
    slots: &[usize],
    table: &mut dyn Table,
    sink: &mut Sink,
) -> Result<(), DataError> {
    let mut record = ByteRecord::new();
    let width = table.columns().names.len();
    while next(csv, &mut record, file)? {
        let line = line(csv, &record);
        let result = cells(&record, slots, width, table).and_then(|cells| table.row(line, &cells));
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
    /// Bytes since the last line feed, and the most allowed ([`crate::limits::RECORD_BYTES`]).
    run: usize,
    max: usize,
}

impl<'r> Lines<'r> {
    /// Passes `inner` through, its first byte on line `line`.
    fn new(inner: &'r mut dyn Read, line: u64) -> Lines<'r> {
        Lines {
            inner,
            offset: 0,
            line,
            blank: true,
            starts: VecDeque::new(),
            run: 0,
            max: crate::limits::RECORD_BYTES.get(),
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
            self.run += 1;
            match b {
                b'\n' => {
                    self.line += 1;
                    self.blank = true;
                    self.run = 0;
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
        if self.run > self.max {
            return Err(line_too_long());
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::tables::{Columns, RowError, Sink, Table};

    /// Records every row it is given, with its line; rejects rows whose `b` is `bad`.
    struct Rows {
        columns: Columns,
        rows: Vec<(u64, Vec<String>)>,
    }

    impl Rows {
        fn new() -> Rows {
            Rows {
                columns: Columns::new([("a".to_owned(), true), ("b".to_owned(), false)]),
                rows: Vec::new(),
            }
        }
    }

    impl Table for Rows {
        fn columns(&self) -> &Columns {
            &self.columns
        }

        fn row(&mut self, line: u64, cells: &[Raw<'_>]) -> Result<(), RowError> {
            let cells: Vec<String> = cells.iter().map(|c| c.show()).collect();
            if cells.get(1).is_some_and(|c| c.contains("bad")) {
                return Err(RowError::at("b", "bad".into()));
            }
            self.rows.push((line, cells));
            Ok(())
        }
    }

    /// Rows, lines and rejects of reading `text` sequentially, then in chunks of
    /// every size from 1 byte to the whole text.
    fn check_chunked(text: &str, skip: bool) {
        let mut one = Rows::new();
        let mut sink = Sink::new(skip);
        let expected = read("t.csv", &mut text.as_bytes(), &mut one, &mut sink)
            .map(|()| (one.rows, sink.rejected))
            .map_err(|e| e.to_string());
        for size in 1..=text.len() + 1 {
            let mut rows = Vec::new();
            let mut sink = Sink::new(skip);
            let got = read_chunked(
                "t.csv",
                &mut text.as_bytes(),
                size,
                &Rows::new,
                &mut sink,
                &mut |part: Rows| rows.extend(part.rows),
            )
            .map(|()| (rows, sink.rejected))
            .map_err(|e| e.to_string());
            assert_eq!(got, expected, "chunks of {size} bytes");
        }
    }

    #[test]
    fn chunks_cut_only_between_records() {
        let text = "a,b\r\n1,x\n\n2,\"two\nlines, \"\"quoted\"\"\"\n\"3\",y\r\n\n\n4,\"\"\n5,z";
        check_chunked(text, false);
        check_chunked(text, true);
    }

    #[test]
    fn chunks_report_the_first_bad_row_with_its_line() {
        let text = "a,b\n1,x\n2,\"a\nbad\"\n3,y\n4,bad\n5,z\n";
        check_chunked(text, false);
        check_chunked(text, true);
        let mut sink = Sink::new(true);
        let mut lines = Vec::new();
        read_chunked(
            "t.csv",
            &mut text.as_bytes(),
            4,
            &Rows::new,
            &mut sink,
            &mut |p: Rows| lines.extend(p.rows.into_iter().map(|(l, _)| l)),
        )
        .map_err(|e| e.to_string())
        .ok();
        assert_eq!(lines, [2, 5, 7]);
        let bad: Vec<u64> = sink.rejected.iter().map(|r| r.line).collect();
        assert_eq!(bad, [3, 6]);
    }
}
