//! Stage 2: name resolution, types and program-level checks. Turns the syntax trees of
//! a loaded program into a [`Program`] — or diagnostics saying what to fix.

pub mod program;
pub mod schema;

pub use program::Program;
pub use schema::{Schema, Type};

use crate::diag::Diagnostic;
use crate::syntax::Loaded;

/// The result of checking: the program when there is no error, and every diagnostic
/// (errors and warnings) of the loaded files, sorted by file and position.
#[derive(Debug, Clone)]
pub struct Checked {
    pub program: Option<Program>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks a loaded program (see [`crate::syntax::load_paths`]).
pub fn check(loaded: &Loaded) -> Checked {
    let diagnostics = loaded.diagnostics.clone();
    Checked {
        program: None,
        diagnostics,
    }
}
