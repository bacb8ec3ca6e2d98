//! The as-of expansion limit: a definition read as of another moment (`x(30d ago)`) is
//! evaluated again at that moment, and so is everything it reads. Reads of reads
//! multiply (`a2 = a1 + a1(1h ago)`, `a3 = a2 + a2(2h ago)`, … doubles per level), so
//! the checker counts the (definition, moment) pairs a program expands to, the way the
//! planner will instantiate them, and stops at [`crate::limits::AS_OF_EXPANSION`].

use super::program::{Def, DefKind, Expr, ExprKind, Program, RuleKind, ScoreBody, TimeRef};
use std::collections::{HashMap, HashSet};

/// The first definition whose expansion takes the count of definitions evaluated at
/// an earlier moment past the limit, if any.
pub(super) fn over_limit(program: &Program) -> Option<&Def> {
    let limit = crate::limits::AS_OF_EXPANSION.get();
    let defs: HashMap<&str, &Def> = program.defs.iter().map(|d| (d.name.as_str(), d)).collect();
    // Moments as the planner keys them: an anchor and the shifts in order.
    let mut moments: HashMap<String, usize> = HashMap::new();
    let mut keys: Vec<String> = vec![String::new()];
    moments.insert(String::new(), 0);
    let mut seen: HashSet<(&str, usize)> = HashSet::new();
    let mut earlier = 0usize;
    for def in &program.defs {
        let mut stack = vec![(def.name.as_str(), 0usize)];
        while let Some((name, m)) = stack.pop() {
            if !seen.insert((name, m)) {
                continue;
            }
            if m != 0 {
                earlier += 1;
                if earlier > limit {
                    return Some(def);
                }
            }
            let Some(d) = defs.get(name) else { continue };
            let mut exprs: Vec<(&Expr, usize)> = roots(d).into_iter().map(|e| (e, m)).collect();
            if let DefKind::Tiers(t) = &d.kind {
                stack.push((t.score.as_str(), m));
            }
            while let Some((e, m)) = exprs.pop() {
                match &e.kind {
                    ExprKind::Ref(n) | ExprKind::AccountRef(n) => stack.push((n.as_str(), m)),
                    ExprKind::AsOf { expr, at } => {
                        let key = match at {
                            TimeRef::Now => None,
                            TimeRef::Ago(d) => Some(format!("{}|{d:?}", keys.get(m)?)),
                            anchor => Some(format!("{anchor:?}")),
                        };
                        let next = match key {
                            None => m,
                            Some(key) => {
                                let n = keys.len();
                                *moments.entry(key.clone()).or_insert_with(|| {
                                    keys.push(key);
                                    n
                                })
                            }
                        };
                        exprs.push((expr, next));
                    }
                    _ => children(e, &mut |c| exprs.push((c, m))),
                }
            }
        }
    }
    None
}

/// The expressions of a definition.
fn roots(d: &Def) -> Vec<&Expr> {
    match &d.kind {
        DefKind::Segment(e) | DefKind::Value(e) | DefKind::Top { by: e, .. } => vec![e],
        DefKind::Score(s) => match &s.body {
            ScoreBody::Expr(e) => vec![e],
            ScoreBody::Rules { groups, .. } => groups
                .iter()
                .flat_map(|g| &g.rules)
                .filter_map(|r| match &r.kind {
                    RuleKind::If(e) => Some(e),
                    RuleKind::Per { stream, .. } => stream.filter.as_deref(),
                })
                .collect(),
        },
        DefKind::Tiers(_) => Vec::new(),
        DefKind::Personas(ps) => ps.iter().map(|p| &p.cond).collect(),
    }
}

/// The number of expression nodes in `e` (as-of reads aside).
pub(super) fn size(e: &Expr) -> usize {
    let mut n = 0;
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        n += 1;
        children(e, &mut |c| todo.push(c));
    }
    n
}

/// Calls `f` on each direct sub-expression of `e` (as-of reads aside).
pub(super) fn children<'a>(e: &'a Expr, f: &mut impl FnMut(&'a Expr)) {
    match &e.kind {
        ExprKind::Exists(s)
        | ExprKind::Freq { stream: s, .. }
        | ExprKind::Regular { stream: s, .. }
        | ExprKind::Agg { stream: s, .. } => {
            if let Some(x) = s.filter.as_deref() {
                f(x);
            }
        }
        ExprKind::ContactsAgg { expr, filter, .. } => {
            expr.as_deref()
                .into_iter()
                .chain(filter.as_deref())
                .for_each(f);
        }
        ExprKind::InWindow { expr, .. }
        | ExprKind::TimeSince(expr)
        | ExprKind::Not(expr)
        | ExprKind::Neg(expr)
        | ExprKind::InList { expr, .. }
        | ExprKind::InRange { expr, .. }
        | ExprKind::Text { expr, .. }
        | ExprKind::Matches { expr, .. }
        | ExprKind::IsMissing { expr, .. }
        | ExprKind::AsOf { expr, .. } => f(expr),
        ExprKind::And(xs) | ExprKind::Or(xs) => xs.iter().for_each(f),
        ExprKind::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        ExprKind::Lit(_)
        | ExprKind::Attr(_)
        | ExprKind::AccountAttr(_)
        | ExprKind::Field(_)
        | ExprKind::Ref(_)
        | ExprKind::AccountRef(_)
        | ExprKind::Was { .. }
        | ExprKind::Changed { .. } => {}
    }
}
