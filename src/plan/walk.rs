//! Visiting every expression of a plan: for engines that compile, validate or collect
//! something from all of them.

use super::{AggId, Expr, NodeKind, Plan, RuleKind, ScoreBody};

/// Where an expression sits in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The filter of an aggregate (over that aggregate's event fields).
    Filter(AggId),
    /// A node's condition, value, ranking key or score rule.
    Node(usize),
}

impl Expr {
    /// Calls `f` on this expression and every expression inside it (pre-order).
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            match e {
                Expr::Contacts { expr, filter, .. } => {
                    stack.extend(expr.as_deref());
                    stack.extend(filter.as_deref());
                }
                Expr::InWindow { expr, .. }
                | Expr::TimeSince { expr, .. }
                | Expr::Not(expr)
                | Expr::Neg(expr)
                | Expr::InList { expr, .. }
                | Expr::InRange { expr, .. }
                | Expr::Text { expr, .. }
                | Expr::Matches { expr, .. }
                | Expr::IsMissing { expr, .. } => stack.push(expr),
                Expr::And(xs) | Expr::Or(xs) => stack.extend(xs.iter().rev()),
                Expr::Binary { lhs, rhs, .. } => {
                    stack.push(rhs);
                    stack.push(lhs);
                }
                Expr::Lit(_)
                | Expr::Attr { .. }
                | Expr::AccountAttr(_)
                | Expr::Field(_)
                | Expr::Node(_)
                | Expr::AccountNode(_)
                | Expr::Agg(_)
                | Expr::Was { .. }
                | Expr::Changed { .. } => {}
            }
        }
    }
}

impl Plan {
    /// Every top-level expression of the plan with where it sits: aggregate filters,
    /// then each node's expressions.
    pub fn exprs(&self) -> Vec<(Site, &Expr)> {
        let mut out: Vec<(Site, &Expr)> = self
            .aggregates
            .iter()
            .enumerate()
            .filter_map(|(i, a)| Some((Site::Filter(i), a.filter.as_ref()?)))
            .collect();
        for (i, n) in self.nodes.iter().enumerate() {
            let site = Site::Node(i);
            match &n.kind {
                NodeKind::Segment(e) | NodeKind::Value(e) | NodeKind::Top { by: e, .. } => {
                    out.push((site, e))
                }
                NodeKind::Score(s) => match &s.body {
                    ScoreBody::Expr(e) => out.push((site, e)),
                    ScoreBody::Groups(gs) => out.extend(
                        gs.iter()
                            .flat_map(|g| &g.rules)
                            .filter_map(|r| match &r.kind {
                                RuleKind::If(e) => Some((site, e)),
                                RuleKind::Per { .. } => None,
                            }),
                    ),
                },
                NodeKind::Personas(ps) => out.extend(ps.iter().map(|p| (site, &p.cond))),
                NodeKind::Tiers { .. } => {}
            }
        }
        out
    }
}

/// Something a node reads directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Agg(AggId),
    /// Another node (of its scope, or the account's).
    Node(usize),
}

impl Plan {
    /// Per node, what it reads directly: the aggregates and nodes of its expressions,
    /// its score rules' totals and counts, a tier's score.
    pub fn node_reads(&self) -> Vec<Vec<Read>> {
        let mut out = vec![Vec::new(); self.nodes.len()];
        for (site, e) in self.exprs() {
            if let Site::Node(n) = site
                && let Some(reads) = out.get_mut(n)
            {
                e.walk(&mut |x| match x {
                    Expr::Agg(a) => reads.push(Read::Agg(*a)),
                    Expr::Node(m) | Expr::AccountNode(m) => reads.push(Read::Node(*m)),
                    _ => {}
                });
            }
        }
        for (node, reads) in self.nodes.iter().zip(&mut out) {
            match &node.kind {
                NodeKind::Score(s) => {
                    if let ScoreBody::Groups(gs) = &s.body {
                        for r in gs.iter().flat_map(|g| &g.rules) {
                            if let RuleKind::Per { points_of, count } = r.kind {
                                reads.extend([Read::Agg(points_of), Read::Agg(count)]);
                            }
                        }
                    }
                }
                NodeKind::Tiers { score, .. } => reads.push(Read::Node(*score)),
                _ => {}
            }
        }
        out
    }
}
