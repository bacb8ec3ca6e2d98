//! Time travel in one plan: every definition instantiated again at earlier moments
//! (`1w ago`, `2w ago`, …), so that one engine run yields a definition's value at `now`
//! and at every step of a history.
//!
//! A definition at step `d` reads exactly what it would read in a run whose `now` is
//! `now − d`: each moment the plan evaluates at is moved back by `d` first (so `X(30d
//! ago)` at step `1w` is read at `now − 1w − 30d`), and windows, decay and change logs
//! are bounded by the moment they are read at. One exception: a moment with an absolute
//! anchor (`X(2026-01-01)`) stays where it is, while a run at `now − d` would clamp it
//! to `now − d` when the anchor is later than that.

use super::types::Dur;
use super::{AggId, Rule, RuleKind, Score, ScoreBody};
use super::{Aggregate, Expr, Group, Moment, MomentId, Node, NodeId, NodeKind, Persona, Plan};

/// A plan with every definition also instantiated at earlier moments.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The original plan followed by the copies; its output nodes are the original's.
    pub plan: Plan,
    /// Per step, in the order given: the node of each original node at that step
    /// (`steps[k][i]` is `plan.nodes[i]` moved back by step `k`).
    pub steps: Vec<Vec<NodeId>>,
}

/// Instantiates every node of `plan` again at each of `steps` before each moment.
/// Aggregates and nodes that already exist at a moment are shared, not copied.
pub fn with_history(plan: &Plan, steps: &[Dur]) -> History {
    let mut out = plan.clone();
    let originals = plan.nodes.len();
    let mut per_step = Vec::new();
    for step in steps {
        let mut c = Copier {
            plan: &mut out,
            step: *step,
            moments: Vec::new(),
            aggs: Vec::new(),
            nodes: Vec::new(),
        };
        for m in 0..plan.moments.len() {
            let id = c.moment(m);
            c.moments.push(id);
        }
        for a in 0..plan.aggregates.len() {
            let id = c.aggregate(a);
            c.aggs.push(id);
        }
        for n in 0..originals {
            let id = c.node(n);
            c.nodes.push(id);
        }
        per_step.push(c.nodes);
    }
    History {
        plan: out,
        steps: per_step,
    }
}

/// Copies the original part of a plan (`ids < moments/aggs/nodes.len()` of the maps
/// filled so far) to one step earlier.
struct Copier<'p> {
    plan: &'p mut Plan,
    step: Dur,
    /// original moment → moment at the step
    moments: Vec<MomentId>,
    /// original aggregate → aggregate at the step
    aggs: Vec<AggId>,
    /// original node → node at the step
    nodes: Vec<NodeId>,
}

impl Copier<'_> {
    fn moment(&mut self, m: MomentId) -> MomentId {
        let Some(base) = self.plan.moments.get(m) else {
            return m;
        };
        if base.anchor.is_some() {
            return m;
        }
        let mut shifts = vec![self.step];
        shifts.extend(base.shifts.iter().copied());
        if let Some(i) = self
            .plan
            .moments
            .iter()
            .position(|x| x.anchor.is_none() && x.shifts == shifts)
        {
            return i;
        }
        let mut next = Moment {
            label: String::new(),
            anchor: None,
            shifts,
        };
        next.label = super::display::moment(&next);
        self.plan.moments.push(next);
        self.plan.moments.len() - 1
    }

    fn at(&self, m: MomentId) -> MomentId {
        self.moments.get(m).copied().unwrap_or(m)
    }

    fn aggregate(&mut self, a: AggId) -> AggId {
        let Some(orig) = self.plan.aggregates.get(a).cloned() else {
            return a;
        };
        let copy = Aggregate {
            moment: self.at(orig.moment),
            filter: orig.filter.as_ref().map(|f| self.expr(f)),
            ..orig
        };
        if let Some(i) = self.plan.aggregates.iter().position(|x| *x == copy) {
            return i;
        }
        self.plan.aggregates.push(copy);
        self.plan.aggregates.len() - 1
    }

    fn node(&mut self, n: NodeId) -> NodeId {
        let Some(orig) = self.plan.nodes.get(n).cloned() else {
            return n;
        };
        let moment = self.at(orig.moment);
        if let Some(i) = self
            .plan
            .nodes
            .iter()
            .position(|x| x.name == orig.name && x.scope == orig.scope && x.moment == moment)
        {
            return i;
        }
        let kind = match &orig.kind {
            NodeKind::Segment(e) => NodeKind::Segment(self.expr(e)),
            NodeKind::Value(e) => NodeKind::Value(self.expr(e)),
            NodeKind::Top { n, by } => NodeKind::Top {
                n: *n,
                by: self.expr(by),
            },
            NodeKind::Score(s) => NodeKind::Score(self.score(s)),
            NodeKind::Tiers { score, bands } => NodeKind::Tiers {
                score: self.node_id(*score),
                bands: bands.clone(),
            },
            NodeKind::Personas(ps) => NodeKind::Personas(
                ps.iter()
                    .map(|p| Persona {
                        name: p.name.clone(),
                        cond: self.expr(&p.cond),
                    })
                    .collect(),
            ),
        };
        self.plan.nodes.push(Node {
            name: orig.name,
            moment,
            scope: orig.scope,
            output: false,
            kind,
            doc: None,
        });
        self.plan.nodes.len() - 1
    }

    fn node_id(&self, n: NodeId) -> NodeId {
        self.nodes.get(n).copied().unwrap_or(n)
    }

    fn agg_id(&self, a: AggId) -> AggId {
        self.aggs.get(a).copied().unwrap_or(a)
    }

    fn score(&self, s: &Score) -> Score {
        let body = match &s.body {
            ScoreBody::Expr(e) => ScoreBody::Expr(self.expr(e)),
            ScoreBody::Groups(gs) => ScoreBody::Groups(
                gs.iter()
                    .map(|g| Group {
                        rules: g
                            .rules
                            .iter()
                            .map(|r| Rule {
                                kind: match &r.kind {
                                    RuleKind::Per { points_of, count } => RuleKind::Per {
                                        points_of: self.agg_id(*points_of),
                                        count: self.agg_id(*count),
                                    },
                                    RuleKind::If(e) => RuleKind::If(self.expr(e)),
                                },
                                ..r.clone()
                            })
                            .collect(),
                        ..g.clone()
                    })
                    .collect(),
            ),
        };
        Score {
            range: s.range,
            body,
        }
    }

    /// `e` with its moments, aggregates and nodes moved to the step.
    fn expr(&self, e: &Expr) -> Expr {
        let b = |x: &Expr| Box::new(self.expr(x));
        let ob = |x: &Option<Box<Expr>>| x.as_deref().map(b);
        match e {
            Expr::Lit(_) | Expr::AccountAttr(_) | Expr::Field(_) => e.clone(),
            Expr::Attr { name, moment } => Expr::Attr {
                name: name.clone(),
                moment: self.at(*moment),
            },
            Expr::Node(n) => Expr::Node(self.node_id(*n)),
            Expr::AccountNode(n) => Expr::AccountNode(self.node_id(*n)),
            Expr::Agg(a) => Expr::Agg(self.agg_id(*a)),
            Expr::Contacts { func, expr, filter } => Expr::Contacts {
                func: *func,
                expr: ob(expr),
                filter: ob(filter),
            },
            Expr::Was {
                attr,
                value,
                window,
                moment,
            } => Expr::Was {
                attr: attr.clone(),
                value: value.clone(),
                window: *window,
                moment: self.at(*moment),
            },
            Expr::Changed {
                attr,
                from,
                to,
                window,
                moment,
            } => Expr::Changed {
                attr: attr.clone(),
                from: from.clone(),
                to: to.clone(),
                window: *window,
                moment: self.at(*moment),
            },
            Expr::InWindow {
                expr,
                window,
                moment,
            } => Expr::InWindow {
                expr: b(expr),
                window: *window,
                moment: self.at(*moment),
            },
            Expr::TimeSince { expr, moment } => Expr::TimeSince {
                expr: b(expr),
                moment: self.at(*moment),
            },
            Expr::Not(x) => Expr::Not(b(x)),
            Expr::Neg(x) => Expr::Neg(b(x)),
            Expr::And(xs) => Expr::And(xs.iter().map(|x| self.expr(x)).collect()),
            Expr::Or(xs) => Expr::Or(xs.iter().map(|x| self.expr(x)).collect()),
            Expr::Binary { op, lhs, rhs } => Expr::Binary {
                op: *op,
                lhs: b(lhs),
                rhs: b(rhs),
            },
            Expr::InList {
                expr,
                items,
                negated,
            } => Expr::InList {
                expr: b(expr),
                items: items.clone(),
                negated: *negated,
            },
            Expr::InRange { expr, lo, hi } => Expr::InRange {
                expr: b(expr),
                lo: *lo,
                hi: *hi,
            },
            Expr::Text { expr, op, patterns } => Expr::Text {
                expr: b(expr),
                op: *op,
                patterns: patterns.clone(),
            },
            Expr::Matches {
                expr,
                pattern,
                flags,
            } => Expr::Matches {
                expr: b(expr),
                pattern: pattern.clone(),
                flags: flags.clone(),
            },
            Expr::IsMissing { expr, negated } => Expr::IsMissing {
                expr: b(expr),
                negated: *negated,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::types::DurationUnit;

    fn plan_of(src: &str) -> Plan {
        crate::plan::lower(&crate::check::check_text("r.funnel", src).program.unwrap())
    }

    #[test]
    fn copies_every_node_at_each_step_and_shares_what_exists() {
        let plan = plan_of(
            "contact { email: text }\nevent click {}\n\
             segment a = click within 7d\nsegment b = a(1w ago)\n",
        );
        let week = |n| Dur {
            amount: n,
            unit: DurationUnit::Week,
        };
        let h = with_history(&plan, &[week(1)]);
        let step = &h.steps[0];
        assert_eq!(step.len(), plan.nodes.len());
        // `a` at 1w ago already existed (read by `b`), so it is shared.
        let a_now = plan
            .nodes
            .iter()
            .position(|n| n.name == "a" && n.moment == 0);
        let a_1w = plan
            .nodes
            .iter()
            .position(|n| n.name == "a" && n.moment != 0);
        assert_eq!(step[a_now.unwrap()], a_1w.unwrap());
        let b_1w = &h.plan.nodes[step[plan.nodes.iter().position(|n| n.name == "b").unwrap()]];
        assert_eq!(h.plan.moments[b_1w.moment].shifts, vec![week(1)]);
        assert!(h.plan.nodes[plan.nodes.len()..].iter().all(|n| !n.output));
        assert_eq!(
            h.plan.outputs(crate::plan::types::Scope::Contact).count(),
            2
        );
    }
}
