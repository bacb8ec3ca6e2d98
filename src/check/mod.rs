//! Stage 2: name resolution, types and program-level checks. Turns the syntax trees of
//! a loaded program into a [`Program`] — or diagnostics saying what to fix.
//!
//! One [`Checker`] walks the program: `collect` gathers the schema and the definitions,
//! `lower` resolves and types each definition (lazily, so that a value's type is known
//! before its first use), then `cycles` and `lints` look at the whole program.

mod collect;
mod cycles;
mod expansion;
mod lints;
mod lower;
mod never_true;
pub mod program;
mod resolve;
pub mod schema;
mod score;
mod streams;
mod suggest;
mod tiers;
mod types;

pub use program::Program;
pub use schema::{Schema, Type};

use crate::diag::{Code, Diagnostic};
use crate::syntax::Loaded;
use crate::syntax::ast;
use crate::syntax::span::Span;
use collect::DefSrc;
use std::collections::HashMap;

/// The result of checking: the program when there is no error, and every diagnostic
/// (errors and warnings) of the loaded files, sorted by file and position.
#[derive(Debug, Clone)]
pub struct Checked {
    pub program: Option<Program>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks one self-contained rule text (schema and rules in the same text; a `use` in
/// it finds nothing to import). For tests, editors and quick experiments.
pub fn check_text(name: &str, text: &str) -> Checked {
    let fs = crate::syntax::loader::MemoryFs::new();
    let path = std::path::Path::new("/").join(name);
    let loaded =
        crate::syntax::loader::load_source(&fs, std::path::Path::new("/"), &path, name, text);
    check(&loaded)
}

/// Checks a loaded program (see [`crate::syntax::load_paths`]).
pub fn check(loaded: &Loaded) -> Checked {
    let mut c = Checker::new(loaded);
    c.collect();
    if c.too_many_definitions() {
        return Checked {
            program: None,
            diagnostics: c.diags,
        };
    }
    c.lower_all();
    c.check_cycles();
    c.lints();
    let mut program = c.program();
    // A file that could not be imported leaves every name it defines unknown: those
    // follow-on errors would bury the one that matters, so they wait until it is fixed.
    if loaded
        .diagnostics
        .iter()
        .any(|d| matches!(d.code, Code::ImportNotFound | Code::ImportOutside))
    {
        c.diags.retain(|d| {
            !matches!(
                d.code,
                Code::UnknownName | Code::UnknownField | Code::UnknownType | Code::WrongScope
            )
        });
    }
    if let Some(def) = program.as_ref().and_then(expansion::over_limit) {
        let span = c
            .by_name
            .get(&def.name)
            .and_then(|&i| c.defs.get(i))
            .map(|d| d.name.span);
        if let Some(span) = span {
            c.diags.push(
                Diagnostic::new(
                    crate::diag::Code::TooLarge,
                    span,
                    format!(
                        "`{}` expands to more than {} definitions evaluated at earlier moments",
                        def.name,
                        crate::limits::AS_OF_EXPANSION.describe()
                    ),
                )
                .with_label("reads of earlier moments multiply from here")
                .with_help("reads of reads (`x(30d ago)` where `x` reads `y(30d ago)`) multiply; read the base definitions directly"),
            );
        }
        program = None;
    }
    let mut diagnostics = loaded.diagnostics.clone();
    diagnostics.append(&mut c.diags);
    diagnostics.sort_by_key(|d| (d.span.file, d.span.start));
    // Equal diagnostics have equal spans, so they sit together after the sort.
    let mut unique: Vec<Diagnostic> = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let key = (d.span.file, d.span.start);
        let dup = unique
            .iter()
            .rev()
            .take_while(|u| (u.span.file, u.span.start) == key)
            .any(|u| *u == d);
        if !dup {
            unique.push(d);
        }
    }
    let program = if unique.iter().any(Diagnostic::is_error) {
        None
    } else {
        program
    };
    Checked {
        program,
        diagnostics: unique,
    }
}

/// Where a definition stands in lazy lowering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Todo,
    Busy,
    Done,
}

/// A lowered signal: the event types it reads and its filter.
#[derive(Debug, Clone)]
struct SignalLow {
    event: program::EventSel,
    filter: Option<program::Expr>,
    /// Expression nodes in `filter`.
    size: usize,
}

/// The result of lowering one definition.
#[derive(Debug, Clone)]
enum Lowered {
    Signal(SignalLow),
    Def(program::Def, Type),
}

/// The whole-program checker; its methods live in the sibling modules.
struct Checker<'a> {
    loaded: &'a Loaded,
    diags: Vec<Diagnostic>,
    schema: Schema,
    /// Every named definition (signals included), in source order.
    defs: Vec<DefSrc<'a>>,
    /// Definition index by name (the first definition of a name).
    by_name: HashMap<String, usize>,
    state: Vec<State>,
    lowered: Vec<Option<Lowered>>,
    /// For each definition, the definitions it reads, with the span of each reference.
    deps: Vec<Vec<(usize, Span)>>,
    /// The definitions being lowered, innermost last.
    stack: Vec<usize>,
    /// Conditions copied from signals into their uses so far (see
    /// [`crate::limits::SIGNAL_INLINING`]).
    inlined: usize,
}

impl<'a> Checker<'a> {
    fn new(loaded: &'a Loaded) -> Checker<'a> {
        Checker {
            loaded,
            diags: Vec::new(),
            schema: Schema::default(),
            defs: Vec::new(),
            by_name: HashMap::new(),
            state: Vec::new(),
            lowered: Vec::new(),
            deps: Vec::new(),
            stack: Vec::new(),
            inlined: 0,
        }
    }

    /// Records a diagnostic, its spans trimmed of surrounding whitespace.
    fn report(&mut self, mut d: Diagnostic) {
        d.span = self.trim(d.span);
        for r in &mut d.related {
            r.span = self.trim(r.span);
        }
        self.diags.push(d);
    }

    /// A span without the whitespace it may start or end with.
    fn trim(&self, span: Span) -> Span {
        let text = self.loaded.sources.snippet(span);
        let lead = text.len() - text.trim_start().len();
        let trail = text.len() - text.trim_end().len();
        if lead + trail >= text.len() {
            return span;
        }
        Span::new(
            span.file,
            span.start as usize + lead,
            span.end as usize - trail,
        )
    }

    /// The source text under a span, without surrounding whitespace.
    fn snippet(&self, span: Span) -> &'a str {
        self.loaded.sources.snippet(span).trim()
    }

    /// The definition with this name.
    fn def_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Records that the definition being lowered reads definition `to` at `span`.
    fn depend(&mut self, to: usize, span: Span) {
        if let Some(&from) = self.stack.last()
            && let Some(d) = self.deps.get_mut(from)
        {
            d.push((to, span));
        }
    }
}

/// The checked-program scope of a syntax scope.
fn scope_of(s: ast::Scope) -> program::Scope {
    match s {
        ast::Scope::Contact => program::Scope::Contact,
        ast::Scope::Account => program::Scope::Account,
    }
}
