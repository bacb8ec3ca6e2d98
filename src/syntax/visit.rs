//! Walking the expressions of a syntax tree.

use super::ast::*;

/// Calls `f` on each direct child expression of `e`, in source order.
pub fn children<'a>(e: &'a Expr, mut f: impl FnMut(&'a Expr)) {
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::Name(_) | ExprKind::Path(..) | ExprKind::AsOf { .. } => {}
        ExprKind::Stream(t) | ExprKind::No(t) => stream_test_children(t, &mut f),
        ExprKind::Agg { arg, .. } => match arg {
            AggArg::Stream(s) => {
                if let Some(c) = &s.filter {
                    f(c);
                }
            }
            AggArg::Expr(e) => f(e),
        },
        ExprKind::TimeSince(e) | ExprKind::Not(e) | ExprKind::Neg(e) | ExprKind::Paren(e) => f(e),
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().for_each(f),
        ExprKind::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        ExprKind::InList { expr, items, .. } => {
            f(expr);
            items.iter().for_each(f);
        }
        ExprKind::InRange { expr, .. }
        | ExprKind::Text { expr, .. }
        | ExprKind::Matches { expr, .. }
        | ExprKind::IsMissing { expr, .. } => f(expr),
    }
}

fn stream_test_children<'a>(t: &'a StreamTest, f: &mut impl FnMut(&'a Expr)) {
    if let Some(c) = &t.filter {
        f(c);
    }
    match &t.history {
        Some(HistoryTest::Was(v, _)) => f(v),
        Some(HistoryTest::Changed { from, to, .. }) => {
            if let Some(v) = from {
                f(v);
            }
            if let Some(v) = to {
                f(v);
            }
        }
        None => {}
    }
}

/// Every expression in `e`'s tree, `e` first (pre-order, iterative).
pub fn descendants(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        out.push(e);
        let mut kids = Vec::new();
        children(e, |c| kids.push(c));
        stack.extend(kids.into_iter().rev());
    }
    out
}
