//! The rejects file: every row skipped with `--skip-bad-rows`, as CSV.

use super::Rejected;
use crate::engine::atomic::write_atomic;
use std::io::{self, Write};
use std::path::Path;

impl Rejected {
    /// The rejects file's columns.
    pub const CSV_HEADER: [&'static str; 5] = ["file", "line", "column", "reason", "raw"];

    /// Writes `rows` as CSV (header `file,line,column,reason,raw`) to `out`; cells a
    /// spreadsheet would run as a formula start with `'` (see `formula_safe`).
    pub fn to_csv(rows: &[Rejected], out: &mut dyn Write) -> io::Result<()> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(Rejected::CSV_HEADER)?;
        for row in rows {
            let line = row.line.to_string();
            let column = row.column.as_deref().unwrap_or("");
            let cells = [row.file.as_str(), &line, column, &row.reason, &row.raw];
            csv.write_record(
                cells
                    .map(crate::engine::results::formula_safe)
                    .iter()
                    .map(|c| c.as_bytes()),
            )?;
        }
        csv.flush()
    }

    /// Writes the rejects file at `path` atomically: all of it, or nothing.
    pub fn write_csv(rows: &[Rejected], path: &Path) -> io::Result<()> {
        write_atomic(path, |out| Rejected::to_csv(rows, out))
    }
}
