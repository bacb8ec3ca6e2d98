//! Every limit Funnel puts on what it reads, in one place: rule files, plans, data
//! records, expressions, as-of expansion and regular expressions. Each diagnostic or
//! error that enforces a limit names it (see [`Limit::describe`]); the byte limits can be
//! raised with an environment variable where raising makes sense. `docs/security.md`
//! lists them all.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{LazyLock, Mutex};

/// A limit: its name in messages, its default, and the environment variable that
/// raises it (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What is limited, as messages name it.
    pub name: &'static str,
    /// The default value.
    pub default: usize,
    /// The environment variable that overrides the default, when raising it makes sense.
    pub env: Option<&'static str>,
}

/// Bytes read from one rule file, `.funnel-test` file or standard input.
pub const SOURCE_BYTES: Limit = Limit {
    name: "source file size",
    default: 4 * 1024 * 1024,
    env: Some("FUNNEL_MAX_SOURCE_BYTES"),
};

/// Bytes read from one plan file (`--plan`) or `--tables` mapping.
pub const PLAN_BYTES: Limit = Limit {
    name: "plan file size",
    default: 256 * 1024 * 1024,
    env: Some("FUNNEL_MAX_PLAN_BYTES"),
};

/// Bytes of one data record: a CSV record or an NDJSON line.
pub const RECORD_BYTES: Limit = Limit {
    name: "data record size",
    default: 1024 * 1024,
    env: Some("FUNNEL_MAX_RECORD_BYTES"),
};

/// Bytes of one Parquet row group's columns, uncompressed, as the file's metadata
/// states them: a row group is read (and decompressed) whole.
pub const ROW_GROUP_BYTES: Limit = Limit {
    name: "Parquet row group size",
    default: 1024 * 1024 * 1024,
    env: Some("FUNNEL_MAX_ROW_GROUP_BYTES"),
};

/// Nesting of brackets and runs of prefix operators (`not`, `no`, `-`) in a rule file.
pub const NESTING: Limit = Limit {
    name: "nesting depth",
    default: 64,
    env: None,
};

/// Depth of one expression tree (after `and` / `or` chains are flattened).
pub const EXPR_DEPTH: Limit = Limit {
    name: "expression depth",
    default: 128,
    env: None,
};

/// Operators other than `and` / `or` in one expression (they nest the tree), counted
/// before the tree is built so that no input can build a tree too deep to drop.
pub const EXPR_OPERATORS: Limit = Limit {
    name: "operators in one expression",
    default: 512,
    env: None,
};

/// Operands of one expression, `and` / `or` chains included.
pub const EXPR_WIDTH: Limit = Limit {
    name: "expression width",
    default: 100_000,
    env: None,
};

/// Definitions (signals, segments, scores, values, tiers, personas) in one program.
pub const DEFINITIONS: Limit = Limit {
    name: "definitions",
    default: 20_000,
    env: None,
};

/// Definitions evaluated at a moment other than the run's `now`, over the whole program,
/// when as-of reads (`x(30d ago)`) are expanded: reads of reads multiply.
pub const AS_OF_EXPANSION: Limit = Limit {
    name: "as-of expansion",
    default: 10_000,
    env: None,
};

/// Conditions copied into streams when signals are inlined, over the whole program: a
/// signal's filter is copied into every use, and into every signal built on it, so
/// chains of signals and much-used large filters grow the program quadratically.
pub const SIGNAL_INLINING: Limit = Limit {
    name: "conditions inlined from signals",
    default: 200_000,
    env: None,
};

/// Periods one regularity test counts (`in at least 3 of the last N weeks`).
pub const PERIODS: Limit = Limit {
    name: "periods of a regularity test",
    default: 100_000,
    env: None,
};

/// Bytes a compiled regular expression may take (the `regex` crate's size limit).
pub const REGEX_BYTES: Limit = Limit {
    name: "compiled regex size",
    default: 1024 * 1024,
    env: None,
};

/// Every limit, for documentation and tests.
pub const ALL: &[Limit] = &[
    SOURCE_BYTES,
    PLAN_BYTES,
    RECORD_BYTES,
    ROW_GROUP_BYTES,
    NESTING,
    EXPR_DEPTH,
    EXPR_OPERATORS,
    EXPR_WIDTH,
    DEFINITIONS,
    AS_OF_EXPANSION,
    SIGNAL_INLINING,
    PERIODS,
    REGEX_BYTES,
];

impl Limit {
    /// The value in force: the environment variable's when it is set to a number, else
    /// the default.
    pub fn get(&self) -> usize {
        self.env
            .and_then(|v| std::env::var(v).ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(self.default)
    }

    /// "the limit of N (<name>)", and how to raise it when it can be raised.
    pub fn describe(&self) -> String {
        match self.env {
            Some(var) => format!(
                "the limit of {} ({}; raise it with the environment variable {var})",
                self.get(),
                self.name
            ),
            None => format!("the limit of {} ({})", self.get(), self.name),
        }
    }
}

/// Compiles a `matches` pattern with its flags (`i`, `m`, `s`, `x`; `u` is always on)
/// within [`REGEX_BYTES`]: the checker and the engine compile it the same way.
///
/// Compiled patterns are kept (up to [`REGEX_CACHE`] of them, then the cache starts
/// over): the checker, each engine and each evaluation of the same plan (reports,
/// `diff`, fuzzing) would otherwise compile every pattern again, and compiling is far
/// slower than matching a few values. A `Regex` clone shares the compiled program.
pub fn regex(pattern: &str, flags: &str) -> Result<regex::Regex, regex::Error> {
    type Cache = HashMap<(String, String, usize), regex::Regex>;
    static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);
    let key = (pattern.to_string(), flags.to_string(), REGEX_BYTES.get());
    if let Ok(cache) = CACHE.lock()
        && let Some(re) = cache.get(&key)
    {
        return Ok(re.clone());
    }
    let re = compile_regex(pattern, flags)?;
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= REGEX_CACHE {
            cache.clear();
        }
        cache.insert(key, re.clone());
    }
    Ok(re)
}

/// How many compiled patterns [`regex`] keeps.
pub const REGEX_CACHE: usize = 256;

fn compile_regex(pattern: &str, flags: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .ignore_whitespace(flags.contains('x'))
        .size_limit(REGEX_BYTES.get())
        .build()
}

/// Reads a regular file as UTF-8 text, at most `limit` bytes: reads `limit + 1` bytes at
/// most whatever size the file system reports, and refuses FIFOs, devices and folders
/// before opening them (opening a FIFO would wait for a writer).
pub fn read_file(path: &Path, limit: Limit) -> io::Result<String> {
    String::from_utf8(read_bytes(path, limit)?).map_err(|_| not_utf8())
}

/// Reads a regular file's bytes, at most `limit` of them (see [`read_file`]).
pub fn read_bytes(path: &Path, limit: Limit) -> io::Result<Vec<u8>> {
    regular_file(path)?;
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    read_bounded(file, limit)
}

/// Fails unless `path` is a regular file (after following links): FIFOs, devices,
/// sockets and folders are refused before they are opened.
pub fn regular_file(path: &Path) -> io::Result<()> {
    if std::fs::metadata(path)?.is_file() {
        Ok(())
    } else {
        Err(not_regular())
    }
}

/// Reads a stream as UTF-8 text, at most `limit` bytes (it reads `limit + 1` at most).
pub fn read_to_string(reader: impl Read, limit: Limit) -> io::Result<String> {
    String::from_utf8(read_bounded(reader, limit)?).map_err(|_| not_utf8())
}

fn read_bounded(reader: impl Read, limit: Limit) -> io::Result<Vec<u8>> {
    let max = limit.get();
    let mut bytes = Vec::new();
    reader
        .take(max.saturating_add(1) as u64)
        .read_to_end(&mut bytes)?;
    if bytes.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {}", limit.describe()),
        ));
    }
    Ok(bytes)
}

fn not_regular() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a regular file (a FIFO, a device or a folder)",
    )
}

fn not_utf8() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "the file is not UTF-8 text")
}
