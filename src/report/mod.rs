//! `funnel report`: what a run's audience looks like — segment sizes and who entered
//! and left them week by week, how segments overlap, the lifecycle funnel, score
//! distributions with their tier bands, tier and persona shares, the top accounts and
//! samples of members — computed from one engine run over a history plan and rendered
//! as one self-contained HTML page of server-side SVG charts (see [`html`]).
//!
//! [`build`] evaluates the plan; everything after that reads the evaluated columns
//! ([`series::Steps`], [`Results`]) through the functions of the submodules.

pub mod html;
pub mod lifecycle;
pub mod members;
pub mod overlap;
pub mod series;
pub mod svg;

use crate::engine::columnar::{Evaluated, EventColumns, Keep, evaluate};
use crate::engine::context::Context;
use crate::engine::data::Dataset;
use crate::engine::run::collect;
use crate::engine::{ColumnKind, EngineError, Results, Table, time};
use crate::plan::types::{Dur, Scope};
use crate::plan::{NodeKind, Plan, with_history};
use chrono::{DateTime, Utc};
use lifecycle::Lifecycle;
use members::Members;
use overlap::Overlap;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a report was made from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inputs {
    /// Rule files with the SHA-256 of their text (hex).
    pub rules: Vec<(String, String)>,
    /// Data files with their number of rows.
    pub data: Vec<(String, usize)>,
}

/// Everything a report shows, as numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub now: DateTime<Utc>,
    pub inputs: Inputs,
    pub contacts: usize,
    pub accounts: usize,
    /// Segment sizes, contacts then accounts.
    pub segments: Vec<Count>,
    pub scores: Vec<Distribution>,
    /// Tier sets and persona lists: how many rows carry each name.
    pub shares: Vec<Shares>,
    /// Every persona list against every tier set (contacts).
    pub crosses: Vec<Cross>,
    pub top_accounts: Vec<TopAccounts>,
    pub trends: Trends,
    /// Definition name → its doc comment.
    pub docs: BTreeMap<String, String>,
    /// Shared members of the contact segments.
    pub overlap: Option<Overlap>,
    /// One funnel per stage attribute (a `one of` with history).
    pub lifecycles: Vec<Lifecycle>,
    pub members: Members,
}

/// A segment's size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub name: String,
    pub scope: Scope,
    pub count: usize,
    /// Rows in the scope.
    pub total: usize,
}

/// A score's histogram and tier bands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    pub name: String,
    pub scope: Scope,
    /// The axis: the score's range, or the values' extent.
    pub lo: f64,
    pub hi: f64,
    /// Equal-width bins over `lo..hi` (the last one closed); without the zeros when
    /// they are counted apart.
    pub bins: Vec<usize>,
    /// Rows whose value is exactly 0, when they outnumber every bin of the other
    /// values (a spike drawn apart so it does not flatten the rest); else 0.
    pub zeros: usize,
    /// Rows without a value.
    pub missing: usize,
    /// Bands of every tier set of this score: (tier set, band, lo, hi).
    pub bands: Vec<(String, String, i64, i64)>,
}

/// How rows spread over the names of a tier set or a persona list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shares {
    pub name: String,
    pub kind: ColumnKind,
    pub scope: Scope,
    /// (name, rows), in definition order; `None` = no band or persona.
    pub parts: Vec<(Option<String>, usize)>,
}

/// A persona list × tier set table of contact counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cross {
    pub personas: String,
    pub tiers: String,
    pub rows: Vec<Option<String>>,
    pub cols: Vec<Option<String>>,
    /// `counts[row][col]`
    pub counts: Vec<Vec<usize>>,
}

/// The highest accounts by one account score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopAccounts {
    pub score: String,
    pub rows: Vec<TopAccount>,
}

/// One account of a [`TopAccounts`] list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopAccount {
    pub id: String,
    /// The account's `name` attribute, when it has one.
    pub name: Option<String>,
    pub score: f64,
    pub contacts: usize,
    /// Per persona list, the account's contacts per persona: (list, [(persona, n)]).
    pub personas: Vec<(String, Vec<(String, usize)>)>,
}

/// Sizes and movement over the history, oldest first, ending at `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Trends {
    pub moments: Vec<DateTime<Utc>>,
    /// One series per segment, tier band and persona.
    pub series: Vec<Series>,
}

/// What a series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    Segment,
    Tier,
    Persona,
}

/// One segment, tier band or persona over the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The segment, tier set or persona list.
    pub name: String,
    pub kind: SeriesKind,
    /// The band or persona.
    pub band: Option<String>,
    pub scope: Scope,
    /// Rows in it at every moment.
    pub sizes: Vec<usize>,
    /// `entered[k]`: rows in it at moment `k + 1` that were not at moment `k`.
    pub entered: Vec<usize>,
    /// `left[k]`: rows in it at moment `k` that are not at moment `k + 1`.
    pub left: Vec<usize>,
}

/// The number of histogram bins.
pub const BINS: usize = 20;
/// How many accounts each top list shows.
pub const TOP_ACCOUNTS: usize = 10;

/// How many members each segment lists: a sample of this many, or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberCount {
    Sample(usize),
    All,
}

/// The report of `plan` over `data` (its events in `events`) at `now`, with trends at
/// `history.len()` earlier moments (`history[k]` = how far back step `k` is), computed
/// in one engine run: one pass over each contact's events gives every moment. `data`
/// must hold what [`lifecycle::with_stages`] of `plan` reads.
pub fn build(
    plan: &Plan,
    data: &Dataset,
    events: EventColumns,
    now: DateTime<Utc>,
    history: &[Dur],
    inputs: Inputs,
    members: MemberCount,
) -> Result<Report, EngineError> {
    let (staged, stages) = lifecycle::with_stages(plan);
    let h = with_history(&staged, history);
    let Evaluated { ctx, state: st } = evaluate(&h.plan, data, events, now, Keep::Nodes, false)?;
    let steps = series::Steps::new(&h, &st.nodes);
    let mut series = series::all(&staged, &steps);
    let lifecycles = lifecycle::funnels(&staged, &stages, &steps, &mut series);
    let mut results = collect(&ctx, st);
    results
        .contacts
        .columns
        .retain(|c| !stages.contains(&c.name));
    let limit = match members {
        MemberCount::Sample(n) => Some(n),
        MemberCount::All => None,
    };
    Ok(Report {
        now,
        inputs,
        contacts: results.contacts.ids.len(),
        accounts: results.accounts.ids.len(),
        segments: segments(&results),
        scores: scores(plan, &results),
        shares: shares(plan, &results),
        crosses: crosses(plan, &results),
        top_accounts: top_accounts(plan, &ctx, &results),
        trends: Trends {
            moments: moments(history, now),
            series,
        },
        docs: plan
            .nodes
            .iter()
            .filter_map(|n| Some((n.name.clone(), n.doc.clone()?)))
            .collect(),
        overlap: overlap::overlap(&results.contacts),
        lifecycles,
        members: members::members(plan, &ctx, &results, limit),
    })
}

/// The moments of a history, oldest first, ending at `now`.
fn moments(history: &[Dur], now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    history
        .iter()
        .rev()
        .map(|d| time::sub(now, *d))
        .chain(std::iter::once(now))
        .collect()
}

/// The tables of a scope, with the scope.
fn tables(r: &Results) -> [(Scope, &Table); 2] {
    [(Scope::Contact, &r.contacts), (Scope::Account, &r.accounts)]
}

fn segments(r: &Results) -> Vec<Count> {
    let mut out = Vec::new();
    for (scope, t) in tables(r) {
        for c in t.columns.iter().filter(|c| c.kind == ColumnKind::Segment) {
            out.push(Count {
                name: c.name.clone(),
                scope,
                count: (0..c.len()).filter(|&i| c.is_true(i)).count(),
                total: t.ids.len(),
            });
        }
    }
    out
}

fn scores(plan: &Plan, r: &Results) -> Vec<Distribution> {
    let mut out = Vec::new();
    for (scope, t) in tables(r) {
        for (_, node) in plan.outputs(scope) {
            let NodeKind::Score(s) = &node.kind else {
                continue;
            };
            let Some(col) = t.column(&node.name) else {
                continue;
            };
            let xs: Vec<f64> = col.numbers().flatten().collect();
            let (lo, hi) = s.range.unwrap_or_else(|| extent(&xs));
            let histogram = |keep: &dyn Fn(f64) -> bool| {
                let mut bins = vec![0; BINS];
                for x in xs.iter().copied().filter(|x| keep(*x)) {
                    if let Some(b) = bins.get_mut(bin(x, lo, hi)) {
                        *b += 1;
                    }
                }
                bins
            };
            let zeros = xs.iter().filter(|x| **x == 0.0).count();
            let others = histogram(&|x| x != 0.0);
            let spike = zeros > 0 && zeros > others.iter().copied().max().unwrap_or(0);
            let (bins, zeros) = if spike {
                (others, zeros)
            } else {
                (histogram(&|_| true), 0)
            };
            let bands = plan
                .outputs(scope)
                .filter_map(|(_, n)| match &n.kind {
                    NodeKind::Tiers { score, bands }
                        if plan.nodes.get(*score).is_some_and(|s| s.name == node.name) =>
                    {
                        Some(
                            bands
                                .iter()
                                .map(|b| (n.name.clone(), b.name.clone(), b.lo, b.hi))
                                .collect::<Vec<_>>(),
                        )
                    }
                    _ => None,
                })
                .flatten()
                .collect();
            out.push(Distribution {
                name: node.name.clone(),
                scope,
                lo,
                hi,
                bins,
                zeros,
                missing: col.len() - xs.len(),
                bands,
            });
        }
    }
    out
}

/// The smallest and largest value (0..1 when there are none, a unit wide when all equal).
fn extent(xs: &[f64]) -> (f64, f64) {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        (0.0, 1.0)
    } else if hi <= lo {
        (lo, lo + 1.0)
    } else {
        (lo, hi)
    }
}

/// The bin of `x` on the axis `lo..hi`; values outside go to the first or last bin.
pub fn bin(x: f64, lo: f64, hi: f64) -> usize {
    let width = (hi - lo) / BINS as f64;
    if width <= 0.0 || x.is_nan() {
        return 0;
    }
    let k = ((x - lo) / width).floor();
    if k < 0.0 {
        0
    } else {
        (k as usize).min(BINS - 1)
    }
}

fn shares(plan: &Plan, r: &Results) -> Vec<Shares> {
    let mut out = Vec::new();
    for (scope, t) in tables(r) {
        for c in &t.columns {
            if !matches!(c.kind, ColumnKind::Tier | ColumnKind::Persona) {
                continue;
            }
            out.push(Shares {
                name: c.name.clone(),
                kind: c.kind,
                scope,
                parts: tally(c.labels(), &defined(plan, scope, &c.name)),
            });
        }
    }
    out
}

/// The band or persona names a tier set or persona list defines, in order.
fn defined(plan: &Plan, scope: Scope, name: &str) -> Vec<String> {
    match plan
        .outputs(scope)
        .find(|(_, n)| n.name == name)
        .map(|(_, n)| &n.kind)
    {
        Some(NodeKind::Tiers { bands, .. }) => bands.iter().map(|b| b.name.clone()).collect(),
        Some(NodeKind::Personas(ps)) => ps.iter().map(|p| p.name.clone()).collect(),
        _ => Vec::new(),
    }
}

/// Rows per label: the `order` names first (also when no row has them), then other
/// labels as first seen, the missing last.
fn tally<'a>(
    labels: impl IntoIterator<Item = Option<&'a str>>,
    order: &[String],
) -> Vec<(Option<String>, usize)> {
    let mut parts: Vec<(Option<String>, usize)> =
        order.iter().map(|n| (Some(n.clone()), 0)).collect();
    let mut missing = 0;
    for l in labels {
        match l {
            Some(l) => match parts.iter_mut().find(|(n, _)| n.as_deref() == Some(l)) {
                Some(p) => p.1 += 1,
                None => parts.push((Some(l.to_string()), 1)),
            },
            None => missing += 1,
        }
    }
    parts.push((None, missing));
    parts
}

fn crosses(plan: &Plan, r: &Results) -> Vec<Cross> {
    let t = &r.contacts;
    let of = |k: ColumnKind| t.columns.iter().filter(move |c| c.kind == k);
    let mut out = Vec::new();
    for p in of(ColumnKind::Persona) {
        for tier in of(ColumnKind::Tier) {
            let labels = |c: &crate::engine::Column| -> Vec<Option<String>> {
                let order = defined(plan, Scope::Contact, &c.name);
                tally(c.labels(), &order).into_iter().map(|x| x.0).collect()
            };
            let (rows, cols) = (labels(p), labels(tier));
            let mut counts = vec![vec![0; cols.len()]; rows.len()];
            for (pv, tv) in p.labels().zip(tier.labels()) {
                let i = rows.iter().position(|x| x.as_deref() == pv);
                let j = cols.iter().position(|x| x.as_deref() == tv);
                if let (Some(i), Some(j)) = (i, j)
                    && let Some(cell) = counts.get_mut(i).and_then(|row| row.get_mut(j))
                {
                    *cell += 1;
                }
            }
            out.push(Cross {
                personas: p.name.clone(),
                tiers: tier.name.clone(),
                rows,
                cols,
                counts,
            });
        }
    }
    out
}

fn top_accounts(plan: &Plan, ctx: &Context<'_>, r: &Results) -> Vec<TopAccounts> {
    let name_attr = ctx.account_attr.get("name").copied();
    let personas: Vec<_> = r
        .contacts
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Persona)
        .collect();
    let mut out = Vec::new();
    for col in r
        .accounts
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Score)
    {
        let mut ranked: Vec<(usize, f64)> = col
            .numbers()
            .enumerate()
            .filter_map(|(i, v)| Some((i, v?)))
            .collect();
        ranked.sort_by(|(ia, a), (ib, b)| {
            b.total_cmp(a)
                .then_with(|| r.accounts.ids.get(*ia).cmp(&r.accounts.ids.get(*ib)))
        });
        let rows = ranked
            .into_iter()
            .take(TOP_ACCOUNTS)
            .map(|(i, score)| {
                let contacts = ctx.contacts_of.get(i).map_or(&[][..], Vec::as_slice);
                let name = name_attr
                    .and_then(|a| ctx.data.accounts.get(i)?.attrs.get(a)?.as_ref())
                    .map(crate::engine::results::cell);
                TopAccount {
                    id: r.accounts.ids.get(i).cloned().unwrap_or_default(),
                    name,
                    score,
                    contacts: contacts.len(),
                    personas: personas
                        .iter()
                        .map(|p| {
                            let labels = contacts.iter().map(|&c| p.label(c as usize));
                            let order = defined(plan, Scope::Contact, &p.name);
                            let named = tally(labels, &order)
                                .into_iter()
                                .filter_map(|(n, k)| Some((n?, k)).filter(|(_, k)| *k > 0))
                                .collect();
                            (p.name.clone(), named)
                        })
                        .collect(),
                }
            })
            .collect();
        out.push(TopAccounts {
            score: col.name.clone(),
            rows,
        });
    }
    out
}

/// The moments of a history: `count` steps of `step` back from `now`, as offsets.
pub fn steps(step: Dur, count: u32) -> Vec<Dur> {
    (1..=i64::from(count))
        .map(|k| Dur {
            amount: step.amount.saturating_mul(k),
            unit: step.unit,
        })
        .collect()
}
