//! Lowering a checked program to a plan: definitions instantiated at every moment they
//! are read at, and every event aggregate named once and shared.

use super::display;
use super::types::*;
use super::*;
use crate::check::program as p;
use std::collections::HashMap;

/// Lowers a checked program to a plan.
pub fn lower(program: &p::Program) -> Plan {
    let mut l = Lowerer {
        defs: program.defs.iter().map(|d| (d.name.as_str(), d)).collect(),
        plan: Plan {
            format_version: FORMAT_VERSION,
            funnel_version: env!("CARGO_PKG_VERSION").to_string(),
            schema: program.schema.clone(),
            moments: vec![Moment {
                label: "now".into(),
                anchor: None,
                shifts: Vec::new(),
            }],
            aggregates: Vec::new(),
            nodes: Vec::new(),
        },
        agg_keys: HashMap::new(),
        node_keys: HashMap::new(),
    };
    for def in &program.defs {
        l.instantiate(&def.name, 0);
    }
    l.plan
}

struct Lowerer<'a> {
    /// Definitions by name (`Program::def` searches the list).
    defs: HashMap<&'a str, &'a p::Def>,
    plan: Plan,
    agg_keys: HashMap<String, AggId>,
    node_keys: HashMap<(String, MomentId), NodeId>,
}

impl Lowerer<'_> {
    /// The node of definition `name` at `moment`, lowering it (and what it reads) first.
    fn instantiate(&mut self, name: &str, moment: MomentId) -> NodeId {
        if let Some(id) = self.node_keys.get(&(name.to_string(), moment)) {
            return *id;
        }
        let Some(&def) = self.defs.get(name) else {
            return usize::MAX;
        };
        let kind = match &def.kind {
            p::DefKind::Segment(e) => NodeKind::Segment(self.expr(e, moment)),
            p::DefKind::Top { n, by } => NodeKind::Top {
                n: *n,
                by: self.expr(by, moment),
            },
            p::DefKind::Value(e) => NodeKind::Value(self.expr(e, moment)),
            p::DefKind::Score(s) => NodeKind::Score(self.score(s, moment)),
            p::DefKind::Tiers(t) => NodeKind::Tiers {
                score: self.instantiate(&t.score, moment),
                bands: t
                    .bands
                    .iter()
                    .map(|b| Band {
                        name: b.name.clone(),
                        lo: b.lo,
                        hi: b.hi,
                    })
                    .collect(),
            },
            p::DefKind::Personas(ps) => NodeKind::Personas(
                ps.iter()
                    .map(|ps| Persona {
                        name: ps.name.clone(),
                        cond: self.expr(&ps.cond, moment),
                    })
                    .collect(),
            ),
        };
        let id = self.plan.nodes.len();
        self.plan.nodes.push(Node {
            name: def.name.clone(),
            moment,
            scope: def.scope,
            output: moment == 0,
            kind,
            doc: def.doc.clone().filter(|_| moment == 0),
        });
        self.node_keys.insert((def.name.clone(), moment), id);
        id
    }

    fn score(&mut self, s: &p::Score, moment: MomentId) -> Score {
        let body = match &s.body {
            p::ScoreBody::Expr(e) => ScoreBody::Expr(self.expr(e, moment)),
            p::ScoreBody::Rules { decay, groups } => ScoreBody::Groups(
                groups
                    .iter()
                    .map(|g| Group {
                        name: g.name.clone(),
                        cap: g.cap,
                        rules: g
                            .rules
                            .iter()
                            .map(|r| self.rule(r, *decay, moment))
                            .collect(),
                    })
                    .collect(),
            ),
        };
        Score {
            range: s.range,
            body,
        }
    }

    fn rule(&mut self, r: &p::Rule, decay: Option<Decay>, moment: MomentId) -> Rule {
        let kind = match &r.kind {
            p::RuleKind::Per {
                stream,
                times_field,
            } => RuleKind::Per {
                points_of: self.aggregate(
                    stream,
                    AggKind::Points {
                        times_field: times_field.clone(),
                        decay,
                    },
                    moment,
                ),
                count: self.aggregate(stream, AggKind::Count, moment),
            },
            p::RuleKind::If(e) => RuleKind::If(self.expr(e, moment)),
        };
        Rule {
            label: r.label.clone(),
            points: r.points,
            kind,
            cap: r.cap,
        }
    }

    /// The moment `at` seen from `moment`.
    fn moment(&mut self, moment: MomentId, at: TimeRef) -> MomentId {
        let base = self.plan.moments.get(moment).cloned().unwrap_or(Moment {
            label: "now".into(),
            anchor: None,
            shifts: Vec::new(),
        });
        let next = match at {
            TimeRef::Now => return moment,
            TimeRef::Ago(d) => {
                let mut shifts = base.shifts.clone();
                shifts.push(d);
                Moment {
                    label: String::new(),
                    anchor: base.anchor,
                    shifts,
                }
            }
            anchor => Moment {
                label: String::new(),
                anchor: Some(anchor),
                shifts: Vec::new(),
            },
        };
        if let Some(i) = self
            .plan
            .moments
            .iter()
            .position(|m| m.anchor == next.anchor && m.shifts == next.shifts)
        {
            return i;
        }
        let label = display::moment(&next);
        self.plan.moments.push(Moment { label, ..next });
        self.plan.moments.len() - 1
    }

    fn aggregate(&mut self, s: &p::Stream, kind: AggKind, moment: MomentId) -> AggId {
        let filter = s.filter.as_deref().map(|f| self.expr(f, moment));
        let agg = Aggregate {
            label: String::new(),
            moment,
            event: s.event.clone(),
            filter,
            window: s.window,
            kind,
        };
        let key = serde_json::to_string(&agg).unwrap_or_default();
        if let Some(id) = self.agg_keys.get(&key) {
            return *id;
        }
        let label = display::aggregate(&agg, &s.label, &self.plan);
        self.plan.aggregates.push(Aggregate { label, ..agg });
        let id = self.plan.aggregates.len() - 1;
        self.agg_keys.insert(key, id);
        id
    }

    fn boxed(&mut self, e: &p::Expr, moment: MomentId) -> Box<Expr> {
        Box::new(self.expr(e, moment))
    }

    fn count_cmp(&mut self, s: &p::Stream, kind: AggKind, op: BinOp, n: u64, m: MomentId) -> Expr {
        Expr::Binary {
            op,
            lhs: Box::new(Expr::Agg(self.aggregate(s, kind, m))),
            rhs: Box::new(Expr::Lit(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))),
        }
    }

    fn expr(&mut self, e: &p::Expr, m: MomentId) -> Expr {
        use p::ExprKind as K;
        match &e.kind {
            K::Lit(v) => Expr::Lit(v.clone()),
            K::Attr(n) => Expr::Attr {
                name: n.clone(),
                moment: m,
            },
            K::AccountAttr(n) => Expr::AccountAttr(n.clone()),
            K::Field(n) => Expr::Field(n.clone()),
            K::Ref(n) => Expr::Node(self.instantiate(n, m)),
            K::AccountRef(n) => Expr::AccountNode(self.instantiate(n, m)),
            K::AsOf { expr, at } => {
                let m2 = self.moment(m, *at);
                self.expr(expr, m2)
            }
            K::Exists(s) => self.count_cmp(s, AggKind::Count, BinOp::Ge, 1, m),
            K::Freq { stream, freq } => {
                let (op, n) = match freq {
                    Freq::AtLeast(n) => (BinOp::Ge, *n),
                    Freq::AtMost(n) => (BinOp::Le, *n),
                    Freq::Exactly(n) => (BinOp::Eq, *n),
                };
                self.count_cmp(stream, AggKind::Count, op, n, m)
            }
            K::Regular {
                stream,
                at_least,
                of_last,
                unit,
            } => self.count_cmp(
                stream,
                AggKind::Periods {
                    unit: *unit,
                    of_last: *of_last,
                },
                BinOp::Ge,
                *at_least,
                m,
            ),
            K::Agg {
                func,
                stream,
                field,
            } => {
                let f = field.clone().unwrap_or_default();
                let kind = match func {
                    AggFunc::Count => AggKind::Count,
                    AggFunc::CountDistinct => AggKind::CountDistinct { field: f },
                    AggFunc::Sum => AggKind::Sum { field: f },
                    AggFunc::Min => AggKind::Min { field: f },
                    AggFunc::Max => AggKind::Max { field: f },
                    AggFunc::Avg => AggKind::Avg { field: f },
                    AggFunc::First => AggKind::First { field: f },
                    AggFunc::Last => AggKind::Last { field: f },
                    AggFunc::MostFrequent => AggKind::MostFrequent { field: f },
                    AggFunc::FirstTime => AggKind::FirstTime,
                    AggFunc::LastTime => AggKind::LastTime,
                };
                Expr::Agg(self.aggregate(stream, kind, m))
            }
            K::ContactsAgg { func, expr, filter } => Expr::Contacts {
                func: *func,
                expr: expr.as_deref().map(|x| self.boxed(x, m)),
                filter: filter.as_deref().map(|x| self.boxed(x, m)),
            },
            K::Was {
                attr,
                value,
                window,
            } => Expr::Was {
                attr: attr.clone(),
                value: value.clone(),
                window: *window,
                moment: m,
            },
            K::Changed {
                attr,
                from,
                to,
                window,
            } => Expr::Changed {
                attr: attr.clone(),
                from: from.clone(),
                to: to.clone(),
                window: *window,
                moment: m,
            },
            K::InWindow { expr, window } => Expr::InWindow {
                expr: self.boxed(expr, m),
                window: *window,
                moment: m,
            },
            K::TimeSince(x) => Expr::TimeSince {
                expr: self.boxed(x, m),
                moment: m,
            },
            K::Not(x) => Expr::Not(self.boxed(x, m)),
            K::Neg(x) => Expr::Neg(self.boxed(x, m)),
            K::And(xs) => Expr::And(xs.iter().map(|x| self.expr(x, m)).collect()),
            K::Or(xs) => Expr::Or(xs.iter().map(|x| self.expr(x, m)).collect()),
            K::Binary { op, lhs, rhs } => Expr::Binary {
                op: *op,
                lhs: self.boxed(lhs, m),
                rhs: self.boxed(rhs, m),
            },
            K::InList {
                expr,
                items,
                negated,
            } => Expr::InList {
                expr: self.boxed(expr, m),
                items: items.clone(),
                negated: *negated,
            },
            K::InRange { expr, lo, hi } => Expr::InRange {
                expr: self.boxed(expr, m),
                lo: *lo,
                hi: *hi,
            },
            K::Text { expr, op, patterns } => Expr::Text {
                expr: self.boxed(expr, m),
                op: *op,
                patterns: patterns.clone(),
            },
            K::Matches {
                expr,
                pattern,
                flags,
            } => Expr::Matches {
                expr: self.boxed(expr, m),
                pattern: pattern.clone(),
                flags: flags.clone(),
            },
            K::IsMissing { expr, negated } => Expr::IsMissing {
                expr: self.boxed(expr, m),
                negated: *negated,
            },
        }
    }
}
