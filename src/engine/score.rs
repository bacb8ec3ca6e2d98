//! Scores, tiers, personas and rankings: how a node's value is made, step by step, so
//! that `run` reports the value and `explain` the steps — from one computation.

use super::context::Context;
use super::eval::{Row, State};
use super::value::{self, as_f64, truthy};
use crate::plan::types::Value;
use crate::plan::{Band, Persona, RuleKind, Score, ScoreBody};
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

/// Computes a score for a row.
pub fn score(ctx: &Context<'_>, st: &State, s: &Score, row: Row, undecayed: bool) -> ScoreParts {
    let mut groups = Vec::new();
    let raw = match &s.body {
        ScoreBody::Expr(e) => st.eval(ctx, e, row).as_ref().and_then(as_f64),
        ScoreBody::Groups(gs) => {
            let mut total = 0.0;
            for g in gs {
                let mut rules = Vec::new();
                let mut gsum = 0.0;
                for r in &g.rules {
                    let part = match &r.kind {
                        RuleKind::Per { points_of, count } => {
                            let agg = |id: &usize| {
                                st.eval(ctx, &crate::plan::Expr::Agg(*id), row)
                                    .as_ref()
                                    .and_then(as_f64)
                                    .unwrap_or(0.0)
                            };
                            let pts = r.points * agg(points_of);
                            let (capped, cap_hit) = cap(pts, r.cap);
                            RulePart {
                                label: r.label.clone(),
                                events: Some(agg(count) as i64),
                                held: None,
                                undecayed: undecayed.then(|| r.points * agg(count)),
                                points: pts,
                                capped,
                                cap_hit,
                            }
                        }
                        RuleKind::If(e) => {
                            let held = truthy(&st.eval(ctx, e, row));
                            let pts = if held { r.points } else { 0.0 };
                            let (capped, cap_hit) = cap(pts, r.cap);
                            RulePart {
                                label: r.label.clone(),
                                events: None,
                                held: Some(held),
                                undecayed: None,
                                points: pts,
                                capped,
                                cap_hit,
                            }
                        }
                    };
                    gsum += part.capped;
                    rules.push(part);
                }
                let (capped, cap_hit) = cap(gsum, g.cap);
                total += capped;
                groups.push(GroupPart {
                    name: g.name.clone(),
                    rules,
                    total: gsum,
                    capped,
                    cap_hit,
                });
            }
            Some(total)
        }
    };
    let clamped = raw.map(|x| match s.range {
        Some((lo, hi)) => x.clamp(lo, hi),
        None => x,
    });
    ScoreParts {
        groups,
        raw,
        clamped,
        value: clamped.map(value::round_score),
    }
}

/// The band a score falls in (rounded to a whole number), if any.
pub fn tier<'b>(bands: &'b [Band], score: &Option<Value>) -> Option<&'b Band> {
    let x = value::round_tier(score.as_ref().and_then(as_f64)?);
    bands.iter().find(|b| b.lo <= x && x <= b.hi)
}

/// Each persona's condition in order, up to and including the first that holds.
pub fn personas(ctx: &Context<'_>, st: &State, ps: &[Persona], row: Row) -> Vec<bool> {
    let mut out = Vec::new();
    for p in ps {
        let held = truthy(&st.eval(ctx, &p.cond, row));
        out.push(held);
        if held {
            break;
        }
    }
    out
}

/// The ids (row indices) of the `n` highest values, ties by id ascending; missing and
/// non-numeric values never rank.
pub fn top(values: &[Option<Value>], ids: &[&str], n: u64) -> Vec<bool> {
    let mut ranked: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i, v.as_ref().and_then(as_f64)?)))
        .filter(|(_, x)| !x.is_nan())
        .collect();
    ranked.sort_by(|(ia, a), (ib, b)| {
        b.partial_cmp(a)
            .unwrap_or(Ordering::Equal)
            .then_with(|| ids.get(*ia).cmp(&ids.get(*ib)))
    });
    let mut out = vec![false; values.len()];
    for (i, _) in ranked
        .into_iter()
        .take(usize::try_from(n).unwrap_or(usize::MAX))
    {
        if let Some(slot) = out.get_mut(i) {
            *slot = true;
        }
    }
    out
}
