//! Checking a plan read from JSON before anything runs it: a hand-edited or hostile plan
//! is refused with a message, never a panic in an engine. Every index must point at
//! something that exists (nodes only at earlier nodes), every range must be ordered,
//! every number finite, every duration within [`MAX_DURATION`] of its unit.

use super::types::{Decay, Dur, Scope, TimeRef, Value, Window};
use super::walk::Site;
use super::{AggKind, Expr, NodeKind, Plan, RuleKind, ScoreBody};

/// The largest duration amount a plan may hold, in its unit (as the parser allows).
pub const MAX_DURATION: i64 = 100_000;
/// The most periods a regularity test may count ([`crate::limits::PERIODS`]).
pub const MAX_PERIODS: u64 = crate::limits::PERIODS.default as u64;

/// Why a plan is not valid: the first problem found.
pub fn validate(plan: &Plan) -> Result<(), String> {
    let v = Validator { plan };
    if plan.moments.is_empty() {
        return Err("the plan has no moments (`moments[0]` is the run's now)".into());
    }
    for (i, m) in plan.moments.iter().enumerate() {
        let at = || format!("moments[{i}]");
        m.shifts.iter().try_for_each(|d| dur(*d, &at()))?;
        if let Some(t) = &m.anchor {
            time_ref(t, &at())?;
        }
    }
    for (i, a) in plan.aggregates.iter().enumerate() {
        let at = format!("aggregates[{i}] (`{}`)", a.label);
        v.moment(a.moment, &at)?;
        window(&a.window, &at)?;
        match &a.kind {
            AggKind::Periods { of_last, .. } if *of_last > MAX_PERIODS => {
                return Err(format!(
                    "{at}: counts {of_last} periods, more than {MAX_PERIODS}"
                ));
            }
            AggKind::Points { decay: Some(d), .. } => match d {
                Decay::HalfLife(d) => positive(*d, &at)?,
                Decay::Step { percent, every } => {
                    if !(0.0..=100.0).contains(percent) {
                        return Err(format!("{at}: decay of {percent}% is not in 0..100"));
                    }
                    positive(*every, &at)?;
                }
            },
            _ => {}
        }
    }
    for (i, n) in plan.nodes.iter().enumerate() {
        let at = format!("nodes[{i}] (`{}`)", n.name);
        v.moment(n.moment, &at)?;
        match &n.kind {
            NodeKind::Score(s) => {
                if let Some((lo, hi)) = s.range
                    && !(lo.is_finite() && hi.is_finite() && lo <= hi)
                {
                    return Err(format!(
                        "{at}: score range {lo}..{hi} is not an ordered pair of numbers"
                    ));
                }
                if let ScoreBody::Groups(groups) = &s.body {
                    for g in groups {
                        finite_cap(g.cap, &at)?;
                        for r in &g.rules {
                            if !r.points.is_finite() {
                                return Err(format!(
                                    "{at}: rule `{}` has no finite points",
                                    r.label
                                ));
                            }
                            finite_cap(r.cap, &at)?;
                            if let RuleKind::Per { points_of, count } = r.kind {
                                v.agg(points_of, &at)?;
                                v.agg(count, &at)?;
                            }
                        }
                    }
                }
            }
            NodeKind::Tiers { score, bands } => {
                match plan.nodes.get(*score) {
                    Some(s) if *score < i && matches!(s.kind, NodeKind::Score(_)) => {}
                    _ => {
                        return Err(format!(
                            "{at}: tiers of nodes[{score}], not an earlier score"
                        ));
                    }
                }
                if let Some(b) = bands.iter().find(|b| b.lo > b.hi) {
                    return Err(format!(
                        "{at}: band `{}` {}..{} is empty",
                        b.name, b.lo, b.hi
                    ));
                }
            }
            _ => {}
        }
    }
    for (site, e) in plan.exprs() {
        let (at, node) = match site {
            Site::Filter(a) => (format!("the filter of aggregates[{a}]"), None),
            Site::Node(i) => (format!("nodes[{i}]"), Some(i)),
        };
        let mut bad = None;
        e.walk(&mut |x| {
            if bad.is_none() {
                bad = v.expr(x, node).err();
            }
        });
        if let Some(why) = bad {
            return Err(format!("{at}: {why}"));
        }
    }
    Ok(())
}

struct Validator<'a> {
    plan: &'a Plan,
}

impl Validator<'_> {
    fn moment(&self, m: usize, at: &str) -> Result<(), String> {
        if m < self.plan.moments.len() {
            Ok(())
        } else {
            Err(format!("{at}: moment {m} does not exist"))
        }
    }

    fn agg(&self, a: usize, at: &str) -> Result<(), String> {
        if a < self.plan.aggregates.len() {
            Ok(())
        } else {
            Err(format!("{at}: aggregate {a} does not exist"))
        }
    }

    /// One expression node (not its children) of node `node` (`None`: a filter).
    fn expr(&self, e: &Expr, node: Option<usize>) -> Result<(), String> {
        match e {
            Expr::Lit(v) => value(v),
            Expr::Attr { moment, .. } => self.moment(*moment, "an attribute"),
            Expr::Node(id) => match node {
                Some(i) if *id < i => Ok(()),
                _ => Err(format!("reads nodes[{id}], not an earlier node")),
            },
            Expr::AccountNode(id) => match (node, self.plan.nodes.get(*id)) {
                (Some(i), Some(n)) if *id < i && n.scope == Scope::Account => Ok(()),
                _ => Err(format!("reads nodes[{id}], not an earlier account node")),
            },
            Expr::Agg(a) => self.agg(*a, "an expression"),
            Expr::Was {
                value: x,
                window: w,
                moment,
                ..
            } => {
                value(x)?;
                window(w, "`was`")?;
                self.moment(*moment, "`was`")
            }
            Expr::Changed {
                from,
                to,
                window: w,
                moment,
                ..
            } => {
                from.iter().chain(to).try_for_each(value)?;
                window(w, "`changed`")?;
                self.moment(*moment, "`changed`")
            }
            Expr::InWindow {
                window: w, moment, ..
            } => {
                window(w, "a window")?;
                self.moment(*moment, "a window")
            }
            Expr::TimeSince { moment, .. } => self.moment(*moment, "`time_since`"),
            Expr::InList { items, .. } => items.iter().try_for_each(value),
            Expr::InRange { lo, hi, .. } if !(lo.is_finite() && hi.is_finite()) => {
                Err(format!("range {lo}..{hi} is not finite"))
            }
            _ => Ok(()),
        }
    }
}

fn value(v: &Value) -> Result<(), String> {
    match v {
        Value::Number(x) if !x.is_finite() => Err(format!("number {x} is not finite")),
        _ => Ok(()),
    }
}

fn finite_cap(cap: Option<f64>, at: &str) -> Result<(), String> {
    match cap {
        Some(c) if !c.is_finite() || c < 0.0 => Err(format!("{at}: cap {c} is not a number ≥ 0")),
        _ => Ok(()),
    }
}

fn dur(d: Dur, at: &str) -> Result<(), String> {
    if (0..=MAX_DURATION).contains(&d.amount) {
        Ok(())
    } else {
        Err(format!(
            "{at}: duration {} is not in 0..{MAX_DURATION}",
            d.amount
        ))
    }
}

fn positive(d: Dur, at: &str) -> Result<(), String> {
    dur(d, at)?;
    if d.amount == 0 {
        return Err(format!("{at}: a decay period of 0"));
    }
    Ok(())
}

fn time_ref(t: &TimeRef, at: &str) -> Result<(), String> {
    match t {
        TimeRef::Ago(d) => dur(*d, at),
        _ => Ok(()),
    }
}

fn window(w: &Window, at: &str) -> Result<(), String> {
    match w {
        Window::Ever => Ok(()),
        Window::Within(d) => dur(*d, at),
        Window::Between(a, b) => time_ref(a, at).and_then(|()| time_ref(b, at)),
        Window::Since(a) | Window::Before(a) => time_ref(a, at),
    }
}
