//! The files one command writes, as one transaction: every output is staged (written in
//! full beside its target) first and renamed into place only when all of them were
//! written, so a run that fails leaves no new file behind and replaces none. Also the
//! `--lists` folder: list file names made safe, stale lists removed.

use super::UsageError;
use crate::engine::atomic::{Staged, stage};
use crate::engine::results::csv_field;
use crate::engine::{Column, ColumnKind, Results, Table};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Outputs staged so far, and files to remove when they are committed.
#[derive(Debug, Default)]
pub struct Outputs {
    staged: Vec<Staged>,
    remove: Vec<PathBuf>,
    /// Folders this run created, removed again (when still empty) if it fails.
    created: Vec<PathBuf>,
    committed: bool,
}

impl Outputs {
    /// Nothing staged yet.
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Stages `path`'s new contents.
    pub fn file<F>(&mut self, path: &Path, write: F) -> Result<(), UsageError>
    where
        F: FnOnce(&mut dyn Write) -> io::Result<()>,
    {
        let staged = stage(path, write).map_err(|e| cannot_write(path, &e))?;
        self.staged.push(staged);
        Ok(())
    }

    /// Removes `path` (if it exists) on commit: an output this run does not produce.
    pub fn remove(&mut self, path: &Path) {
        self.remove.push(path.to_path_buf());
    }

    /// Stages one membership list per segment, tier band and persona in `dir` (see
    /// [`list_name`]), and removes on commit the lists of an earlier run that this one
    /// does not write. Fails, writing nothing, when two lists would get the same file
    /// name (also when they differ only in case).
    pub fn lists(&mut self, dir: &Path, results: &Results) -> Result<(), UsageError> {
        use rayon::prelude::*;
        let files = lists(results)?;
        if !dir.exists() {
            std::fs::create_dir_all(dir)
                .map_err(|e| UsageError(format!("cannot create `{}`: {e}", dir.display())))?;
            self.created.push(dir.to_path_buf());
        }
        let names: BTreeSet<&str> = files.iter().map(|(n, _, _)| n.as_str()).collect();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if is_list_name(name) && !names.contains(name) {
                    self.remove.push(entry.path());
                }
            }
        }
        let staged: Vec<Result<Staged, UsageError>> = files
            .into_par_iter()
            .map(|(file, table, rows)| {
                let path = dir.join(file);
                let mut text = b"id\n".to_vec();
                for id in rows.iter().filter_map(|&r| table.ids.get(r)) {
                    csv_field(&mut text, id);
                    text.push(b'\n');
                }
                stage(&path, |w| w.write_all(&text)).map_err(|e| cannot_write(&path, &e))
            })
            .collect();
        for s in staged {
            self.staged.push(s?);
        }
        Ok(())
    }

    /// Renames every staged file into place and removes the files to remove.
    pub fn commit(mut self) -> Result<(), UsageError> {
        self.committed = true;
        for s in std::mem::take(&mut self.staged) {
            let target = s.target().to_path_buf();
            s.commit().map_err(|e| cannot_write(&target, &e))?;
        }
        for path in std::mem::take(&mut self.remove) {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(UsageError(format!(
                        "cannot remove the stale `{}`: {e}",
                        path.display()
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        // Staged files remove themselves; then the folders this run made, if empty.
        self.staged.clear();
        if !self.committed {
            for dir in self.created.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

fn cannot_write(path: &Path, e: &io::Error) -> UsageError {
    UsageError(format!("cannot write `{}`: {e}", path.display()))
}

/// One membership list: its file name, its table and its member rows.
type List<'r> = (String, &'r Table, Vec<usize>);

/// The membership lists of both tables. Fails when two file names would be the same on
/// a case-insensitive file system.
fn lists(results: &Results) -> Result<Vec<List<'_>>, UsageError> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (account, table) in [(false, &results.contacts), (true, &results.accounts)] {
        for col in &table.columns {
            for (name, rows) in column_lists(account, col) {
                if let Some(other) = seen.insert(name.to_lowercase(), name.clone()) {
                    return Err(UsageError(format!(
                        "two membership lists would both be written as `{name}`{}; rename one of the definitions",
                        if other == name {
                            String::new()
                        } else {
                            format!(" (and `{other}`, which differs only in case)")
                        }
                    )));
                }
                out.push((name, table, rows));
            }
        }
    }
    Ok(out)
}

/// The lists of one column: file name and member rows; tier bands and personas in name
/// order, each only when it has members.
fn column_lists(account: bool, col: &Column) -> Vec<(String, Vec<usize>)> {
    let kind = match col.kind {
        ColumnKind::Segment => {
            let rows = (0..col.len()).filter(|&i| col.is_true(i)).collect();
            return vec![(list_name(account, "segment", &[&col.name]), rows)];
        }
        ColumnKind::Tier => "tier",
        ColumnKind::Persona => "persona",
        ColumnKind::Score | ColumnKind::Value => return Vec::new(),
    };
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, label) in col.labels().enumerate() {
        if let Some(l) = label {
            groups.entry(l).or_default().push(i);
        }
    }
    groups
        .into_iter()
        .map(|(n, rows)| (list_name(account, kind, &[&col.name, n]), rows))
        .collect()
}

/// A list's file name: `[account.]KIND.NAME[.MEMBER].csv`, each name with every
/// character other than a letter, a digit, `_` and `-` written as `%XX` (its UTF-8
/// bytes), so that names with `/`, `..` or `.` can neither leave the folder nor
/// collide (``personas `a.b` { c … }`` and ``personas a { `b.c` … }``).
pub fn list_name(account: bool, kind: &str, names: &[&str]) -> String {
    let mut out = String::new();
    if account {
        out.push_str("account.");
    }
    out.push_str(kind);
    for name in names {
        out.push('.');
        for c in name.chars() {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                out.push(c);
            } else {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out.push_str(".csv");
    out
}

/// Whether a file name is one `--lists` writes (so a stale one may be removed).
fn is_list_name(name: &str) -> bool {
    let rest = name.strip_prefix("account.").unwrap_or(name);
    ["segment.", "tier.", "persona."]
        .iter()
        .any(|k| rest.starts_with(k))
        && name.ends_with(".csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_names_escape_paths_and_dots() {
        assert_eq!(list_name(false, "segment", &["hot"]), "segment.hot.csv");
        assert_eq!(
            list_name(false, "segment", &["../../x"]),
            "segment.%2E%2E%2F%2E%2E%2Fx.csv"
        );
        assert_eq!(
            list_name(true, "persona", &["a.b", "c"]),
            "account.persona.a%2Eb.c.csv"
        );
        assert_ne!(
            list_name(false, "persona", &["a.b", "c"]),
            list_name(false, "persona", &["a", "b.c"])
        );
        assert_eq!(
            list_name(false, "tier", &["Direktør", "høj"]),
            "tier.Direktør.høj.csv"
        );
        assert_eq!(
            list_name(false, "segment", &["a%2Eb"]),
            "segment.a%252Eb.csv"
        );
    }

    #[test]
    fn list_names_are_recognised() {
        assert!(is_list_name("segment.x.csv"));
        assert!(is_list_name("account.tier.x.y.csv"));
        assert!(!is_list_name("notes.csv"));
        assert!(!is_list_name("segment.x.txt"));
    }
}
