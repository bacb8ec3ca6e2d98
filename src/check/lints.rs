//! Warnings: unused signals, segments resting on email opens alone, always-true tests.
//! (A score that never decays is reported where scores are lowered.)

use super::Checker;
use super::collect::Src;
use super::program::{EventSel, Expr, ExprKind};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::Ident;
use crate::syntax::span::Span;

/// Every event type read by the streams of `e` (not following references).
fn stream_events<'e>(e: &'e Expr, out: &mut Vec<&'e EventSel>) {
    match &e.kind {
        ExprKind::Exists(s)
        | ExprKind::Freq { stream: s, .. }
        | ExprKind::Regular { stream: s, .. }
        | ExprKind::Agg { stream: s, .. } => out.push(&s.event),
        ExprKind::AsOf { expr, .. }
        | ExprKind::InWindow { expr, .. }
        | ExprKind::TimeSince(expr)
        | ExprKind::Not(expr)
        | ExprKind::Neg(expr)
        | ExprKind::InList { expr, .. }
        | ExprKind::InRange { expr, .. }
        | ExprKind::Text { expr, .. }
        | ExprKind::Matches { expr, .. }
        | ExprKind::IsMissing { expr, .. } => stream_events(expr, out),
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().for_each(|x| stream_events(x, out)),
        ExprKind::Binary { lhs, rhs, .. } => {
            stream_events(lhs, out);
            stream_events(rhs, out);
        }
        ExprKind::Lit(_)
        | ExprKind::Attr(_)
        | ExprKind::AccountAttr(_)
        | ExprKind::Field(_)
        | ExprKind::Ref(_)
        | ExprKind::AccountRef(_)
        | ExprKind::ContactsAgg { .. }
        | ExprKind::Was { .. }
        | ExprKind::Changed { .. } => {}
    }
}

/// Whether an event type is an email open, by the heuristic documented in
/// `docs/diagnostics.md` (W0102): its name contains `open`.
fn is_open_event(name: &str) -> bool {
    name.to_lowercase().contains("open")
}

impl Checker<'_> {
    /// Program-wide warnings.
    pub(super) fn lints(&mut self) {
        let mut used = vec![false; self.defs.len()];
        for deps in &self.deps {
            for (to, _) in deps {
                if let Some(u) = used.get_mut(*to) {
                    *u = true;
                }
            }
        }
        let unused: Vec<&Ident> = self
            .defs
            .iter()
            .zip(&used)
            .filter(|(d, u)| matches!(d.kind, Src::Signal { .. }) && !**u)
            .map(|(d, _)| d.name)
            .collect();
        for name in unused {
            self.report(
                Diagnostic::new(
                    Code::UnusedSignal,
                    name.span,
                    format!("signal `{}` is never used", name.name),
                )
                .with_label("defined but not read by any definition")
                .with_help("use it in a segment or score, or remove it"),
            );
        }
    }

    /// W0102: every stream a segment reads is an email-open event type.
    pub(super) fn check_opens_only(&mut self, cond: &Expr, name: &Ident) {
        let mut events = Vec::new();
        stream_events(cond, &mut events);
        let opens = !events.is_empty()
            && events
                .iter()
                .all(|e| matches!(e, EventSel::Type(t) if is_open_event(t)));
        if opens {
            self.report(
                Diagnostic::new(
                    Code::OpensOnly,
                    name.span,
                    format!("segment `{}` rests on email opens alone", name.name),
                )
                .with_label("every event it reads is an open")
                .with_help("opens are a weak signal (privacy proxies open every email); add clicks or visits, e.g. `or email_clicked within 30d`"),
            );
        }
    }

    /// W0104 at `span`.
    pub(super) fn always_true(&mut self, span: Span, message: String, label: &str, help: &str) {
        self.report(
            Diagnostic::new(Code::AlwaysTrue, span, message)
                .with_label(label.to_string())
                .with_help(help.to_string()),
        );
    }
}
