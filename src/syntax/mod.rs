//! Stage 1: source text to syntax trees. Reads files, follows `use` imports, parses
//! with pest, and keeps spans and comments on every node; prints trees back in the
//! canonical layout (`funnel fmt`).

pub mod ast;
pub mod doc;
pub mod format;
pub mod loader;
pub mod parser;
pub mod span;
pub mod visit;

pub use format::{FormatError, format_source};
pub use loader::{Loaded, load_paths, load_source};
pub use parser::parse_file;
pub use span::{FileId, SourceFile, SourceMap, Span};
