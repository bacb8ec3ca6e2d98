//! Reading a program's files: an entry file and, transitively, the files it `use`s,
//! resolved relative to the importing file and kept inside the project folder.

use super::ast::{File, ItemKind};
use super::parser::parse_file;
use super::span::{FileId, SourceMap, Span};
use crate::diag::{Code, Diagnostic};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Where source text comes from: the disk, or memory (tests, editors, the library API).
pub trait SourceProvider {
    /// Reads a file's text.
    fn read(&self, path: &Path) -> std::io::Result<String>;

    /// Where a path really is, symbolic links followed (the path itself when the
    /// provider has no links, or the path does not exist).
    fn resolve(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}

/// Reads files from disk.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiskFs;

impl SourceProvider for DiskFs {
    /// Reads a regular file, at most [`crate::limits::SOURCE_BYTES`] of it.
    fn read(&self, path: &Path) -> std::io::Result<String> {
        crate::limits::read_file(path, crate::limits::SOURCE_BYTES)
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// In-memory files by path.
#[derive(Debug, Clone, Default)]
pub struct MemoryFs {
    files: BTreeMap<PathBuf, String>,
}

impl MemoryFs {
    /// An empty set of files.
    pub fn new() -> MemoryFs {
        MemoryFs::default()
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> &mut Self {
        self.files.insert(normalize(&path.into()), text.into());
        self
    }
}

impl SourceProvider for MemoryFs {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    }
}

/// A program's parsed files, imports before the files that use them.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub sources: SourceMap,
    pub files: Vec<(FileId, File)>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads one program from an entry file on disk. `root` is the project folder that
/// imports may not leave. An unreadable entry file is an `Err` (a usage problem, not a
/// diagnostic); unreadable imports are diagnostics.
pub fn load_paths(entry: &Path, root: &Path) -> std::io::Result<Loaded> {
    let text = DiskFs.read(entry)?;
    let name = display_name(entry);
    Ok(load_with(&DiskFs, root, entry, name, text))
}

/// Loads one program whose entry text is given (stdin, an editor buffer); its imports
/// are read through `fs` relative to `entry_path`.
pub fn load_source(
    fs: &dyn SourceProvider,
    root: &Path,
    entry_path: &Path,
    name: &str,
    text: &str,
) -> Loaded {
    load_with(fs, root, entry_path, name.to_string(), text.to_string())
}

fn load_with(
    fs: &dyn SourceProvider,
    root: &Path,
    entry: &Path,
    name: String,
    text: String,
) -> Loaded {
    let root = normalize(&absolute(root));
    let mut l = Loader {
        fs,
        real_root: fs.resolve(&root),
        root,
        loaded: Loaded::default(),
        done: BTreeMap::new(),
        stack: Vec::new(),
    };
    let path = normalize(&absolute(entry));
    l.visit(path, name, text);
    l.loaded
}

struct Loader<'a> {
    fs: &'a dyn SourceProvider,
    root: PathBuf,
    /// `root` with symbolic links followed: where every import must really be.
    real_root: PathBuf,
    loaded: Loaded,
    /// Files already parsed, by normalized path.
    done: BTreeMap<PathBuf, FileId>,
    /// Files being loaded (for cycle detection), each with the span of its `use` that
    /// led to the next one.
    stack: Vec<(PathBuf, FileId, Option<Span>)>,
}

impl Loader<'_> {
    fn visit(&mut self, path: PathBuf, name: String, text: String) {
        let id = self.loaded.sources.add(name, text);
        self.done.insert(path.clone(), id);
        let text = self
            .loaded
            .sources
            .get(id)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        let (file, diags) = parse_file(id, &text);
        self.loaded.diagnostics.extend(diags);
        self.stack.push((path.clone(), id, None));
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for item in &file.items {
            if let ItemKind::Use(lit) = &item.kind {
                if let Some(top) = self.stack.last_mut() {
                    top.2 = Some(lit.span);
                }
                self.import(&dir, &lit.value, lit.span);
            }
        }
        self.stack.pop();
        self.loaded.files.push((id, file));
    }

    fn import(&mut self, dir: &Path, target: &str, span: Span) {
        let path = normalize(&dir.join(target));
        if !path.starts_with(&self.root) || !self.fs.resolve(&path).starts_with(&self.real_root) {
            self.loaded.diagnostics.push(
                Diagnostic::new(
                    Code::ImportOutside,
                    span,
                    format!("`{target}` is outside the project folder"),
                )
                .with_label("imported here")
                .with_help(format!(
                    "imports must stay inside `{}`; move the file there or run from a folder that contains both",
                    display_name(&self.root)
                )),
            );
            return;
        }
        if let Some(pos) = self.stack.iter().position(|(p, _, _)| *p == path) {
            self.cycle(pos, span);
            return;
        }
        if self.done.contains_key(&path) {
            return;
        }
        match self.fs.read(&path) {
            Ok(text) => {
                let name = display_name(&path);
                self.visit(path, name, text);
            }
            Err(e) => {
                self.loaded.diagnostics.push(
                    Diagnostic::new(
                        Code::ImportNotFound,
                        span,
                        format!("cannot read `{target}`: {}", io_reason(&e)),
                    )
                    .with_label("imported here")
                    .with_help(format!(
                        "paths in `use` are relative to the importing file; looked for `{}`",
                        display_name(&path)
                    )),
                );
            }
        }
    }
}

impl Loader<'_> {
    /// Reports the import cycle formed by `stack[pos..]` and the `use` at `span` that
    /// leads back to `stack[pos]`. The cycle is told from its file with the smallest
    /// path, at the `use` that imports that file, so that checking any file of the
    /// cycle reports it identically.
    fn cycle(&mut self, pos: usize, span: Span) {
        let members: Vec<(PathBuf, FileId, Span)> = self
            .stack
            .get(pos..)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(i, (p, id, led))| {
                // The `use` leading from member i to member i+1; the last one is `span`.
                let edge = if pos + i + 1 == self.stack.len() {
                    Some(span)
                } else {
                    *led
                };
                (p.clone(), *id, edge.unwrap_or(span))
            })
            .collect();
        let Some(start) = members
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.0.cmp(&b.1.0))
            .map(|(i, _)| i)
        else {
            return;
        };
        let n = members.len();
        let name = |i: usize| {
            members
                .get(i % n)
                .and_then(|(_, id, _)| self.loaded.sources.get(*id))
                .map(|f| format!("`{}`", f.name))
                .unwrap_or_default()
        };
        let chain: Vec<String> = (start..=start + n).map(name).collect();
        // The edge into `start` comes from the member before it.
        let at = members
            .get((start + n - 1) % n)
            .map_or(span, |(_, _, edge)| *edge);
        self.loaded.diagnostics.push(
            Diagnostic::new(
                Code::ImportCycle,
                at,
                format!("import cycle: {}", chain.join(" → ")),
            )
            .with_label("this import closes the cycle")
            .with_help("move what both files need into a third file that both `use`"),
        );
    }
}

/// A short reason for an I/O error, lowercase.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::InvalidData => "the file is not UTF-8 text".into(),
        std::io::ErrorKind::FileTooLarge | std::io::ErrorKind::InvalidInput => e.to_string(),
        _ => e.to_string().to_lowercase(),
    }
}

/// A path made absolute against the current directory.
fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    }
}

/// A path with `.` and `..` resolved lexically.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// How a path is shown to the user: relative to the current directory when inside it.
pub fn display_name(p: &Path) -> String {
    let abs = normalize(&absolute(p));
    let cwd = std::env::current_dir().unwrap_or_default();
    abs.strip_prefix(&cwd)
        .map(|r| r.display().to_string())
        .unwrap_or_else(|_| abs.display().to_string())
}
