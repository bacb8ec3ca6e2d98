//! `funnel check [PATHS…]`: load and check each `.funnel` file as its own program and
//! report the diagnostics of all of them, once each.

use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::check;
use crate::diag::Diagnostic;
use crate::diag::render::{Format, Summary, render};
use crate::syntax::loader::{DiskFs, io_reason, normalize};
use crate::syntax::span::{FileId, SourceMap, Span};
use crate::syntax::{Loaded, load_paths, load_source};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Arguments of `funnel check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders to check; a folder means every `*.funnel` file under it, and `-`
    /// reads one program from stdin.
    #[arg(value_name = "PATHS", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// The project folder that imports may not leave [default: the current folder if the
    /// file is inside it, else the file's folder].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// How to report diagnostics: `human` on stderr, the others on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Treat warnings as errors for the exit code.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// One program to check: where its entry file comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Stdin,
    File(PathBuf),
}

/// The name stdin is shown under.
const STDIN_NAME: &str = "<stdin>";

/// Runs `funnel check`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let cwd = std::env::current_dir()
        .map_err(|e| UsageError(format!("cannot read the current folder: {}", io_reason(&e))))?;
    if let Some(root) = &args.root
        && !root.is_dir()
    {
        return Err(UsageError(format!("`{}` is not a folder", root.display())));
    }
    let mut report = Report::default();
    for entry in entries(&args.paths)? {
        let loaded = load(&entry, args.root.as_deref(), &cwd)?;
        let checked = check::check(&loaded);
        report.add(&loaded.sources, checked.diagnostics);
    }
    let diagnostics = report.sorted_diagnostics();
    let summary = Summary::of(&diagnostics, report.sources.iter().count());
    if args.format == Format::Human {
        let text = render(
            Format::Human,
            &diagnostics,
            &report.sources,
            summary,
            color.enabled_for(Stream::Stderr),
        );
        emit(
            Stream::Stderr,
            &format!("{text}{}\n", summary_line(summary)),
        );
    } else {
        let text = render(args.format, &diagnostics, &report.sources, summary, false);
        emit(Stream::Stdout, &text);
    }
    Ok(exit_for(summary, args.deny_warnings))
}

/// Errors fail a check; warnings fail it only when denied.
fn exit_for(summary: Summary, deny_warnings: bool) -> Exit {
    if summary.errors > 0 || (deny_warnings && summary.warnings > 0) {
        Exit::Problems
    } else {
        Exit::Clean
    }
}

/// `checked 3 files: no problems` or `checked 3 files: 2 errors, 1 warning`.
fn summary_line(s: Summary) -> String {
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut problems = Vec::new();
    if s.errors > 0 {
        problems.push(count(s.errors, "error"));
    }
    if s.warnings > 0 {
        problems.push(count(s.warnings, "warning"));
    }
    let problems = if problems.is_empty() {
        "no problems".to_string()
    } else {
        problems.join(", ")
    };
    format!("checked {}: {problems}", count(s.files, "file"))
}

/// The programs named by the command line, in order, each once: files as given, folders
/// expanded to their `*.funnel` files (sorted), `-` as stdin.
fn entries(paths: &[PathBuf]) -> Result<Vec<Entry>, UsageError> {
    let mut out = Vec::new();
    for path in paths {
        let found = if path.as_os_str() == "-" {
            vec![Entry::Stdin]
        } else {
            let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, &e))?;
            if meta.is_dir() {
                let mut files = Vec::new();
                funnel_files(path, &mut files)?;
                if files.is_empty() {
                    return Err(UsageError(format!(
                        "no `.funnel` files in `{}`",
                        path.display()
                    )));
                }
                files.sort();
                files.into_iter().map(Entry::File).collect()
            } else {
                vec![Entry::File(path.clone())]
            }
        };
        for entry in found {
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    Ok(out)
}

/// Collects every `*.funnel` file under `dir`, skipping hidden folders (`.git`, …) and
/// not following symbolic links to folders.
pub(crate) fn funnel_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), UsageError> {
    files_with_extension(dir, "funnel", out)
}

/// Collects every `*.EXT` file under `dir`, like [`funnel_files`].
pub(crate) fn files_with_extension(
    dir: &Path,
    ext: &str,
    out: &mut Vec<PathBuf>,
) -> Result<(), UsageError> {
    let read = std::fs::read_dir(dir).map_err(|e| cannot_read(dir, &e))?;
    for item in read {
        let item = item.map_err(|e| cannot_read(dir, &e))?;
        let path = item.path();
        let kind = item.file_type().map_err(|e| cannot_read(&path, &e))?;
        if kind.is_dir() {
            if !item.file_name().to_string_lossy().starts_with('.') {
                files_with_extension(&path, ext, out)?;
            }
        } else if path.extension().is_some_and(|x| x == ext) && path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads one program. Stdin's imports are relative to the current folder.
fn load(entry: &Entry, root: Option<&Path>, cwd: &Path) -> Result<Loaded, UsageError> {
    match entry {
        Entry::Stdin => {
            let text = crate::limits::read_to_string(std::io::stdin(), crate::limits::SOURCE_BYTES)
                .map_err(|e| UsageError(format!("cannot read stdin: {}", io_reason(&e))))?;
            let root = root.unwrap_or(cwd);
            Ok(load_source(
                &DiskFs,
                root,
                &cwd.join(STDIN_NAME),
                STDIN_NAME,
                &text,
            ))
        }
        Entry::File(path) => {
            let root = match root {
                Some(root) => root.to_path_buf(),
                None => default_root(path, cwd),
            };
            load_paths(path, &root).map_err(|e| cannot_read(path, &e))
        }
    }
}

/// The current folder if `file` is inside it, else the file's own folder.
pub(crate) fn default_root(file: &Path, cwd: &Path) -> PathBuf {
    let file = normalize(&cwd.join(file));
    if file.starts_with(cwd) {
        cwd.to_path_buf()
    } else {
        file.parent()
            .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf)
    }
}

fn cannot_read(path: &Path, e: &std::io::Error) -> UsageError {
    UsageError(format!(
        "cannot read `{}`: {}",
        path.display(),
        io_reason(e)
    ))
}

/// The diagnostics of several programs over one source map: files shared between
/// programs appear once, and so do their diagnostics.
#[derive(Debug, Default)]
struct Report {
    sources: SourceMap,
    diagnostics: Vec<Diagnostic>,
    /// Code, file, byte range and message of each diagnostic kept.
    seen: HashSet<(crate::diag::Code, FileId, u32, u32, String)>,
}

impl Report {
    /// Adds one program's files (by name, once) and its diagnostics (moved onto the
    /// merged map; repeats dropped).
    fn add(&mut self, sources: &SourceMap, diagnostics: Vec<Diagnostic>) {
        let mut ids = HashMap::new();
        for (id, file) in sources.iter() {
            let merged = match self.sources.find(&file.name) {
                Some(merged) => merged,
                None => self.sources.add(file.name.clone(), file.text.clone()),
            };
            ids.insert(id, merged);
        }
        let move_span = |s: Span| Span {
            file: ids.get(&s.file).copied().unwrap_or(s.file),
            ..s
        };
        for mut d in diagnostics {
            d.span = move_span(d.span);
            for l in &mut d.related {
                l.span = move_span(l.span);
            }
            let key = (
                d.code,
                d.span.file,
                d.span.start,
                d.span.end,
                d.message.clone(),
            );
            if self.seen.insert(key) {
                self.diagnostics.push(d);
            }
        }
    }

    /// The diagnostics by file name, then position (the checker's order otherwise).
    fn sorted_diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = self.diagnostics.clone();
        let name = |d: &Diagnostic| {
            self.sources
                .get(d.span.file)
                .map(|f| f.name.clone())
                .unwrap_or_default()
        };
        out.sort_by_cached_key(|d| (name(d), d.span.start));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let s = |errors, warnings, files| Summary {
            errors,
            warnings,
            files,
        };
        assert_eq!(summary_line(s(0, 0, 3)), "checked 3 files: no problems");
        assert_eq!(
            summary_line(s(2, 1, 3)),
            "checked 3 files: 2 errors, 1 warning"
        );
        assert_eq!(summary_line(s(0, 2, 1)), "checked 1 file: 2 warnings");
    }

    #[test]
    fn warnings_fail_only_when_denied() {
        let s = |errors, warnings| Summary {
            errors,
            warnings,
            files: 1,
        };
        assert_eq!(exit_for(s(0, 0), true), Exit::Clean);
        assert_eq!(exit_for(s(0, 2), false), Exit::Clean);
        assert_eq!(exit_for(s(0, 2), true), Exit::Problems);
        assert_eq!(exit_for(s(1, 0), false), Exit::Problems);
    }

    #[test]
    fn default_root_is_cwd_when_inside() {
        let cwd = Path::new("/p");
        assert_eq!(
            default_root(Path::new("a/b.funnel"), cwd),
            PathBuf::from("/p")
        );
        assert_eq!(
            default_root(Path::new("../q/b.funnel"), cwd),
            PathBuf::from("/q")
        );
    }
}
