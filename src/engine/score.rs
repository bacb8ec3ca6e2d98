//! Scores, tiers, personas and rankings: how a node's value is made, step by step, so
//! that `run` reports the value and `explain` the steps — from one computation.

use super::context::Context;
use super::eval::{Row, State};
use super::value::{self, as_f64};
use crate::plan::types::Value;
use crate::plan::{Band, Expr, Group, Persona, Rule, RuleKind, Score, ScoreBody};
use serde::Serialize;
use std::cmp::Ordering;

/// One rule's part of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulePart {
    pub label: String,
    /// Matching events (for `per` rules).
    pub events: Option<i64>,
    /// Whether the condition held (for `if` rules).
    pub held: Option<bool>,
    /// Points before decay (`per` rules: points × events or × field sum).
    pub undecayed: Option<f64>,
    /// Points after decay, before the cap.
    pub points: f64,
    /// Points after the rule's cap.
    pub capped: f64,
    pub cap_hit: bool,
}

/// One group's part of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupPart {
    pub name: Option<String>,
    pub rules: Vec<RulePart>,
    pub total: f64,
    pub capped: f64,
    pub cap_hit: bool,
}

/// A score, step by step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreParts {
    pub groups: Vec<GroupPart>,
    /// Sum of the groups (or the expression's value).
    pub raw: Option<f64>,
    /// After the range clamp.
    pub clamped: Option<f64>,
    /// Rounded to 2 decimals: the score.
    pub value: Option<f64>,
}

fn cap(x: f64, cap: Option<f64>) -> (f64, bool) {
    match cap {
        Some(c) if x.abs() > c => (c.copysign(x), true),
        _ => (x, false),
    }
}

/// What one rule gave a row: the common part of [`RulePart`].
struct Outcome {
    /// The count aggregate of a `per` rule, when asked for.
    count: Option<f64>,
    held: Option<bool>,
    points: f64,
    capped: f64,
    cap_hit: bool,
}

/// One step of [`groups_total`].
enum Step<'p> {
    Rule(&'p Rule, Outcome),
    /// A group's total, capped total and whether its cap was hit (after its rules).
    Group(&'p Group, f64, f64, bool),
}

/// The groups' total for a row: the one computation behind [`score`] and [`value`].
/// `step` sees each rule's outcome and each group's totals, in order; `counts` asks
/// for `per` rules' event counts.
fn groups_total<'p>(
    ctx: &Context<'_>,
    st: &State,
    gs: &'p [Group],
    row: Row,
    counts: bool,
    mut step: impl FnMut(Step<'p>),
) -> f64 {
    let agg = |id: usize| {
        st.value(ctx, &Expr::Agg(id), row)
            .as_deref()
            .and_then(as_f64)
            .unwrap_or(0.0)
    };
    let mut total = 0.0;
    for g in gs {
        let mut gsum = 0.0;
        for r in &g.rules {
            let (pts, count, held) = match &r.kind {
                RuleKind::Per { points_of, count } => (
                    r.points * agg(*points_of),
                    counts.then(|| agg(*count)),
                    None,
                ),
                RuleKind::If(e) => {
                    let held = st.holds(ctx, e, row);
                    (if held { r.points } else { 0.0 }, None, Some(held))
                }
            };
            let (capped, cap_hit) = cap(pts, r.cap);
            gsum += capped;
            step(Step::Rule(
                r,
                Outcome {
                    count,
                    held,
                    points: pts,
                    capped,
                    cap_hit,
                },
            ));
        }
        let (capped, cap_hit) = cap(gsum, g.cap);
        total += capped;
        step(Step::Group(g, gsum, capped, cap_hit));
    }
    total
}

/// A raw score clamped to the score's range.
fn clamp(s: &Score, raw: f64) -> f64 {
    match s.range {
        Some((lo, hi)) => raw.clamp(lo, hi),
        None => raw,
    }
}

/// A score's value for a row (what [`score`] gives as `value`, without the parts).
pub fn value(ctx: &Context<'_>, st: &State, s: &Score, row: Row) -> Option<f64> {
    let raw = match &s.body {
        ScoreBody::Expr(e) => st.value(ctx, e, row).as_deref().and_then(as_f64),
        ScoreBody::Groups(gs) => Some(groups_total(ctx, st, gs, row, false, |_| {})),
    };
    raw.map(|x| value::round_score(clamp(s, x)))
}

/// Each rule's points after its cap for a row, in rule order, appended to `out` (what
/// [`score`] gives as each rule's `capped`, without the rest of the parts). Nothing for
/// a score written as an expression.
pub fn rule_points(ctx: &Context<'_>, st: &State, s: &Score, row: Row, out: &mut Vec<f64>) {
    if let ScoreBody::Groups(gs) = &s.body {
        groups_total(ctx, st, gs, row, false, |step| {
            if let Step::Rule(_, o) = step {
                out.push(o.capped);
            }
        });
    }
}

/// Computes a score for a row.
pub fn score(ctx: &Context<'_>, st: &State, s: &Score, row: Row, undecayed: bool) -> ScoreParts {
    let mut groups = Vec::new();
    let raw = match &s.body {
        ScoreBody::Expr(e) => st.eval(ctx, e, row).as_ref().and_then(as_f64),
        ScoreBody::Groups(gs) => {
            let mut rules = Vec::new();
            let total = groups_total(ctx, st, gs, row, true, |step| match step {
                Step::Rule(r, o) => rules.push(RulePart {
                    label: r.label.clone(),
                    events: o.count.map(|n| n as i64),
                    held: o.held,
                    undecayed: o.count.filter(|_| undecayed).map(|n| r.points * n),
                    points: o.points,
                    capped: o.capped,
                    cap_hit: o.cap_hit,
                }),
                Step::Group(g, total, capped, cap_hit) => groups.push(GroupPart {
                    name: g.name.clone(),
                    rules: std::mem::take(&mut rules),
                    total,
                    capped,
                    cap_hit,
                }),
            });
            Some(total)
        }
    };
    let clamped = raw.map(|x| clamp(s, x));
    ScoreParts {
        groups,
        raw,
        clamped,
        value: clamped.map(value::round_score),
    }
}

/// The index of the band a score falls in (rounded to a whole number), if any.
pub fn band(bands: &[Band], score: Option<&Value>) -> Option<usize> {
    let x = value::round_tier(score.and_then(as_f64)?);
    bands.iter().position(|b| b.lo <= x && x <= b.hi)
}

/// The band a score falls in (rounded to a whole number), if any.
pub fn tier<'b>(bands: &'b [Band], score: &Option<Value>) -> Option<&'b Band> {
    bands.get(band(bands, score.as_ref())?)
}

/// Each persona's condition in order, up to and including the first that holds.
pub fn personas(ctx: &Context<'_>, st: &State, ps: &[Persona], row: Row) -> Vec<bool> {
    let mut out = Vec::new();
    for held in checks(ctx, st, ps, row) {
        out.push(held);
        if held {
            break;
        }
    }
    out
}

/// The index of the first persona whose condition holds, if any.
pub fn persona(ctx: &Context<'_>, st: &State, ps: &[Persona], row: Row) -> Option<usize> {
    checks(ctx, st, ps, row).position(|held| held)
}

/// Each persona's condition, in order, evaluated as the iterator is advanced.
fn checks<'s>(
    ctx: &'s Context<'_>,
    st: &'s State,
    ps: &'s [Persona],
    row: Row,
) -> impl Iterator<Item = bool> + 's {
    ps.iter().map(move |p| st.holds(ctx, &p.cond, row))
}

/// A value's place in a `top N by` ranking, highest first: a number itself, a date or
/// timestamp as microseconds since the epoch (the most recent first), a duration in
/// seconds (the longest first). Other values do not rank.
pub fn rank_key(v: &Value) -> Option<f64> {
    match v {
        Value::Duration(s) => Some(*s as f64),
        other => as_f64(other).or_else(|| value::as_micros(other).map(|m| m as f64)),
    }
}

/// The ids (row indices) of the `n` highest values, ties by id ascending; missing and
/// NaN values never rank.
pub fn top(values: &[Option<f64>], ids: &[&str], n: u64) -> Vec<bool> {
    let mut ranked: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i, (*v)?)))
        .filter(|(_, x)| !x.is_nan())
        .collect();
    // Highest first, then by id, then by row: a total order, so the first `n` after a
    // selection are the same rows as after a full sort.
    let rank = |(ia, a): &(usize, f64), (ib, b): &(usize, f64)| {
        b.partial_cmp(a)
            .unwrap_or(Ordering::Equal)
            .then_with(|| ids.get(*ia).cmp(&ids.get(*ib)))
            .then_with(|| ia.cmp(ib))
    };
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n == 0 {
        ranked.clear();
    } else if n < ranked.len() {
        ranked.select_nth_unstable_by(n - 1, rank);
        ranked.truncate(n);
    }
    let mut out = vec![false; values.len()];
    for (i, _) in ranked {
        if let Some(slot) = out.get_mut(i) {
            *slot = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `top` as a full stable sort by value (highest first), then id.
    fn top_by_sort(values: &[Option<f64>], ids: &[&str], n: u64) -> Vec<bool> {
        let mut ranked: Vec<(usize, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i, (*v)?)))
            .filter(|(_, x)| !x.is_nan())
            .collect();
        ranked.sort_by(|(ia, a), (ib, b)| {
            b.partial_cmp(a)
                .unwrap()
                .then_with(|| ids.get(*ia).cmp(&ids.get(*ib)))
        });
        let mut out = vec![false; values.len()];
        for (i, _) in ranked.into_iter().take(n as usize) {
            out[i] = true;
        }
        out
    }

    proptest! {
        #[test]
        fn top_selects_what_a_sort_ranks_first(
            rows in prop::collection::vec(
                (prop::option::of(prop_oneof![Just(f64::NAN), Just(-0.0), (-3i8..3).prop_map(f64::from)]), 0u8..4),
                0..40,
            ),
            n in 0u64..45,
        ) {
            let values: Vec<Option<f64>> = rows.iter().map(|(v, _)| *v).collect();
            let names: Vec<String> = rows.iter().map(|(_, id)| format!("c{id}")).collect();
            let ids: Vec<&str> = names.iter().map(String::as_str).collect();
            prop_assert_eq!(top(&values, &ids, n), top_by_sort(&values, &ids, n));
        }
    }
}
