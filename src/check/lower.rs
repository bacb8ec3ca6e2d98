//! Lowering each definition (lazily, in dependency order) and assembling the program.

use super::collect::Src;
use super::program::{Def, DefKind, Persona, Program, Signal};
use super::resolve::Env;
use super::schema::Type;
use super::{Checker, Lowered, State, scope_of};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::SegmentBody;
use std::collections::BTreeSet;

impl Checker<'_> {
    /// The doc comment above the item that declares the name at `span`.
    fn doc_of(&self, span: crate::syntax::span::Span) -> Option<String> {
        let (_, file) = self.loaded.files.iter().find(|(id, _)| *id == span.file)?;
        let item = file
            .items
            .iter()
            .find(|it| it.span.start <= span.start && span.end <= it.span.end)?;
        let text = &self.loaded.sources.get(span.file)?.text;
        file.doc_comment(item.span.start, text)
    }

    /// Lowers every definition.
    pub(super) fn lower_all(&mut self) {
        for i in 0..self.defs.len() {
            self.lower_def(i);
        }
    }

    /// Lowers definition `i` unless it is done or in progress (a cycle, reported later).
    pub(super) fn lower_def(&mut self, i: usize) {
        if self.state.get(i) != Some(&State::Todo) {
            return;
        }
        let Some(d) = self.defs.get(i).cloned() else {
            return;
        };
        if let Some(s) = self.state.get_mut(i) {
            *s = State::Busy;
        }
        self.stack.push(i);
        let env = Env::of(d.scope);
        let name = d.name.name.clone();
        let scope = scope_of(self.def_scope(i));
        let doc = self.doc_of(d.name.span);
        let def = |kind: DefKind, ty: Type| {
            Lowered::Def(
                Def {
                    name: name.clone(),
                    scope,
                    kind,
                    doc: doc.clone(),
                },
                ty,
            )
        };
        let out = match d.kind {
            Src::Signal { source, filter } => {
                self.lower_signal(source, filter).map(Lowered::Signal)
            }
            Src::Segment(SegmentBody::Expr(e)) => {
                let cond = self.cond(e, env);
                if let Some(c) = &cond {
                    self.check_opens_only(c, d.name);
                }
                cond.map(|c| def(DefKind::Segment(c), Type::Bool))
            }
            Src::Segment(SegmentBody::Top { n, by: by_expr, .. }) => {
                let by = self.expr(by_expr, env);
                if n.value <= 0 {
                    self.report(
                        Diagnostic::new(
                            Code::BadTopN,
                            n.span,
                            format!("`top {}` selects no one", n.value),
                        )
                        .with_label("needs at least 1")
                        .with_help("ask for at least one: `top 1 by …`"),
                    );
                }
                let by = match by {
                    Some(b) if !super::types::ordered(&b.ty) => {
                        self.report(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                by_expr.span,
                                format!(
                                    "`top N by` needs a number or a moment, found {}",
                                    super::types::describe(&b.ty)
                                ),
                            )
                            .with_label("cannot be ranked")
                            .with_help("rank by a score, a value or a date"),
                        );
                        None
                    }
                    other => other,
                };
                match (by, u64::try_from(n.value)) {
                    (Some(by), Ok(n)) if n > 0 => Some(def(DefKind::Top { n, by }, Type::Bool)),
                    _ => None,
                }
            }
            Src::Score { range, body } => self
                .lower_score(d.name, d.scope, range, body)
                .map(|s| def(DefKind::Score(s), Type::Number)),
            Src::Value(e) => self.expr(e, env).map(|e| {
                let ty = e.ty.clone();
                def(DefKind::Value(e), ty)
            }),
            Src::Tiers { score, bands } => self.lower_tiers(score, bands).map(|t| {
                let ty = Type::Enum(t.bands.iter().map(|b| b.name.clone()).collect());
                def(DefKind::Tiers(t), ty)
            }),
            Src::Personas(ps) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (k, p) in ps.iter().enumerate() {
                    if let Some(first) = ps.iter().take(k).find(|q| q.name.name == p.name.name) {
                        self.report(
                            Diagnostic::new(
                                Code::Duplicate,
                                p.name.span,
                                format!("persona `{}` is listed twice", p.name.name),
                            )
                            .with_label("listed again")
                            .with_related(first.name.span, "first listed here")
                            .with_help("rename one, or join their conditions with `or`"),
                        );
                        ok = false;
                    }
                    match self.cond(&p.cond, Env::Contact) {
                        Some(cond) => out.push(Persona {
                            name: p.name.name.clone(),
                            cond,
                        }),
                        None => ok = false,
                    }
                }
                ok.then(|| {
                    let ty = Type::Enum(out.iter().map(|p| p.name.clone()).collect());
                    def(DefKind::Personas(out), ty)
                })
            }
        };
        self.stack.pop();
        if let Some(s) = self.state.get_mut(i) {
            *s = State::Done;
        }
        if let Some(slot) = self.lowered.get_mut(i) {
            *slot = out;
        }
    }

    /// The checked program, if every definition lowered.
    pub(super) fn program(&self) -> Option<Program> {
        let mut signals = Vec::new();
        let mut defs = Vec::new();
        for i in self.topo_order() {
            match self.lowered.get(i)? {
                Some(Lowered::Signal(s)) => signals.push((i, s)),
                Some(Lowered::Def(d, _)) => defs.push(d.clone()),
                None => return None,
            }
        }
        signals.sort_by_key(|(i, _)| *i);
        let signals = signals
            .into_iter()
            .filter_map(|(i, s)| {
                Some(Signal {
                    name: self.defs.get(i)?.name.name.clone(),
                    event: s.event.clone(),
                    filter: s.filter.clone().map(Box::new),
                })
            })
            .collect();
        Some(Program {
            schema: self.schema.clone(),
            signals,
            defs,
        })
    }

    /// Definition indexes with each after the ones it reads; source order otherwise.
    fn topo_order(&self) -> Vec<usize> {
        let n = self.defs.len();
        let mut indegree = vec![0usize; n];
        let mut users: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
        for (from, deps) in self.deps.iter().enumerate() {
            let targets: BTreeSet<usize> = deps.iter().map(|(to, _)| *to).collect();
            for to in targets {
                if let (Some(u), Some(d)) = (users.get_mut(to), indegree.get_mut(from))
                    && u.insert(from)
                {
                    *d += 1;
                }
            }
        }
        let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indegree.get(i) == Some(&0)).collect();
        let mut out = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            out.push(i);
            for &u in users.get(i).into_iter().flatten() {
                if let Some(d) = indegree.get_mut(u) {
                    *d = d.saturating_sub(1);
                    if *d == 0 {
                        ready.insert(u);
                    }
                }
            }
        }
        out
    }
}
