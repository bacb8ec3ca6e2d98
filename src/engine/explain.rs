//! `explain`: for one contact, every result with the conditions and values that decided
//! it — computed by the same evaluator as `run`, so the two always agree.

use super::context::Context;
use super::eval::{Row, State};
use super::results::json;
use super::score::{self, ScoreParts};
use crate::plan::display;
use crate::plan::types::{Scope, Value};
use crate::plan::{Expr, NodeKind};
use serde::Serialize;

/// A condition or value with what it evaluated to, and the parts that decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    pub text: String,
    pub value: serde_json::Value,
    /// The value for people: `missing`, `2026-11-18T05:54:02Z`, `1d 18h`.
    pub shown: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Trace>,
}

/// One persona's check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonaCheck {
    pub name: String,
    pub matched: bool,
    pub condition: Trace,
}

/// Why a definition came out as it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Explanation {
    Segment {
        name: String,
        member: bool,
        condition: Trace,
    },
    Top {
        name: String,
        member: bool,
        n: u64,
        rank: Option<usize>,
        by: Trace,
    },
    Score {
        name: String,
        value: Option<f64>,
        range: Option<(f64, f64)>,
        parts: ScoreParts,
        #[serde(skip_serializing_if = "Option::is_none")]
        expr: Option<Trace>,
    },
    Value {
        name: String,
        value: Trace,
    },
    Tier {
        name: String,
        score: String,
        score_value: Option<f64>,
        tier: Option<String>,
        bands: Vec<(String, i64, i64)>,
    },
    Personas {
        name: String,
        chosen: Option<String>,
        checked: Vec<PersonaCheck>,
    },
}

/// The explanation of one contact (or account).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactExplanation {
    pub id: String,
    pub now: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub results: Vec<Explanation>,
    pub account_results: Vec<Explanation>,
}

/// Explains contact `c` given a fully evaluated state.
pub fn explain(ctx: &Context<'_>, st: &State, c: u32) -> ContactExplanation {
    let account = ctx.account_of.get(c as usize).copied().flatten();
    ContactExplanation {
        id: ctx
            .data
            .contacts
            .id(c as usize)
            .map(str::to_owned)
            .unwrap_or_default(),
        now: ctx.now.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        account: account.and_then(|a| ctx.data.accounts.get(a as usize).map(|r| r.id.clone())),
        results: explain_scope(ctx, st, Scope::Contact, Row::Contact(c)),
        account_results: account
            .map(|a| explain_scope(ctx, st, Scope::Account, Row::Account(a)))
            .unwrap_or_default(),
    }
}

fn explain_scope(ctx: &Context<'_>, st: &State, scope: Scope, row: Row) -> Vec<Explanation> {
    let idx = match row {
        Row::Contact(i) | Row::Account(i) | Row::Event { contact: i, .. } => i as usize,
    };
    let node_value = |id: usize| st.nodes.get(id).and_then(|c| c.get(idx));
    ctx.plan
        .outputs(scope)
        .map(|(id, node)| {
            let name = node.name.clone();
            match &node.kind {
                NodeKind::Segment(e) => Explanation::Segment {
                    name,
                    member: matches!(node_value(id), Some(Value::Bool(true))),
                    condition: trace(ctx, st, e, row),
                },
                NodeKind::Top { n, by } => Explanation::Top {
                    name,
                    member: matches!(node_value(id), Some(Value::Bool(true))),
                    n: *n,
                    rank: rank(ctx, st, by, scope, idx),
                    by: trace(ctx, st, by, row),
                },
                NodeKind::Score(s) => {
                    let parts = score::score(ctx, st, s, row, true);
                    let expr = match &s.body {
                        crate::plan::ScoreBody::Expr(e) => Some(trace(ctx, st, e, row)),
                        crate::plan::ScoreBody::Groups(_) => None,
                    };
                    Explanation::Score {
                        name,
                        value: parts.value,
                        range: s.range,
                        parts,
                        expr,
                    }
                }
                NodeKind::Value(e) => Explanation::Value {
                    name,
                    value: trace(ctx, st, e, row),
                },
                NodeKind::Tiers { score: sid, bands } => {
                    let v = node_value(*sid);
                    Explanation::Tier {
                        name,
                        score: ctx
                            .plan
                            .nodes
                            .get(*sid)
                            .map(|n| n.name.clone())
                            .unwrap_or_default(),
                        score_value: v.as_ref().and_then(super::value::as_f64),
                        tier: score::tier(bands, &v).map(|b| b.name.clone()),
                        bands: bands.iter().map(|b| (b.name.clone(), b.lo, b.hi)).collect(),
                    }
                }
                NodeKind::Personas(ps) => {
                    let held = score::personas(ctx, st, ps, row);
                    let chosen = held
                        .iter()
                        .position(|h| *h)
                        .and_then(|i| ps.get(i))
                        .map(|p| p.name.clone());
                    Explanation::Personas {
                        name,
                        chosen,
                        checked: ps
                            .iter()
                            .zip(held)
                            .map(|(p, matched)| PersonaCheck {
                                name: p.name.clone(),
                                matched,
                                condition: trace(ctx, st, &p.cond, row),
                            })
                            .collect(),
                    }
                }
            }
        })
        .collect()
}

/// The 1-based rank of a row by `by` (ties by id), when it ranks at all.
fn rank(ctx: &Context<'_>, st: &State, by: &Expr, scope: Scope, idx: usize) -> Option<usize> {
    let ids = super::run::row_ids(ctx, scope);
    let rows: Vec<Row> = match scope {
        Scope::Contact => (0..ids.len() as u32).map(Row::Contact).collect(),
        Scope::Account => (0..ids.len() as u32).map(Row::Account).collect(),
    };
    let values: Vec<Option<Value>> = rows.iter().map(|r| st.eval(ctx, by, *r)).collect();
    let mine = values.get(idx)?.as_ref().and_then(super::score::rank_key)?;
    let my_id = ids.get(idx)?;
    let better = values
        .iter()
        .zip(&ids)
        .filter(|(v, id)| {
            v.as_ref()
                .and_then(super::score::rank_key)
                .is_some_and(|x| x > mine || (x == mine && *id < my_id))
        })
        .count();
    Some(better + 1)
}

/// An expression's value with the values of its parts.
pub fn trace(ctx: &Context<'_>, st: &State, e: &Expr, row: Row) -> Trace {
    let value = st.eval(ctx, e, row);
    let parts = match e {
        Expr::And(xs) | Expr::Or(xs) => xs.iter().map(|x| trace(ctx, st, x, row)).collect(),
        Expr::Not(x) => vec![trace(ctx, st, x, row)],
        Expr::Binary { lhs, rhs, .. } => [lhs, rhs]
            .into_iter()
            .filter(|x| !matches!(***x, Expr::Lit(_)))
            .map(|x| trace(ctx, st, x, row))
            .collect(),
        Expr::InList { expr, .. }
        | Expr::InRange { expr, .. }
        | Expr::Text { expr, .. }
        | Expr::Matches { expr, .. }
        | Expr::IsMissing { expr, .. }
        | Expr::InWindow { expr, .. }
        | Expr::TimeSince { expr, .. } => {
            if matches!(**expr, Expr::Lit(_)) {
                Vec::new()
            } else {
                vec![trace(ctx, st, expr, row)]
            }
        }
        _ => Vec::new(),
    };
    Trace {
        text: display::expr(e, ctx.plan),
        shown: shown(&value),
        value: value.as_ref().map_or(serde_json::Value::Null, json),
        parts,
    }
}

/// A value as people read it.
pub fn shown(v: &Option<Value>) -> String {
    match v {
        None => "missing".into(),
        Some(Value::Text(t)) => t.to_string(),
        Some(Value::Duration(s)) => display::duration_human(*s),
        Some(other) => display::value(other),
    }
}
