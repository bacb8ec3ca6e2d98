//! Sizes and movement over a history, read from the node columns of a history plan
//! ([`crate::plan::with_history`]): per segment, tier band and persona, how many rows
//! it holds at every step and how many entered and left it between two steps — all
//! from the same per-row columns, in one walk over each definition's steps.

use super::{Series, SeriesKind};
use crate::engine::eval::Col;
use crate::plan::types::{Scope, Value};
use crate::plan::{History, NodeId, NodeKind, Plan};
use rayon::prelude::*;

/// The evaluated columns of a history plan, step by step: oldest first, `now` last.
pub struct Steps<'a> {
    /// Per step, the node of each original node (`None`: the original, at `now`).
    at: Vec<Option<&'a [NodeId]>>,
    nodes: &'a [Col],
}

impl<'a> Steps<'a> {
    /// The steps of `h`, whose nodes were evaluated into `nodes` (indexed like
    /// `h.plan.nodes`).
    pub fn new(h: &'a History, nodes: &'a [Col]) -> Steps<'a> {
        let mut at: Vec<Option<&[NodeId]>> =
            h.steps.iter().rev().map(|s| Some(s.as_slice())).collect();
        at.push(None);
        Steps { at, nodes }
    }

    /// The number of moments (steps and `now`).
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether there are no moments (never: `now` is one).
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// The column of original node `orig` at moment `k` (0 = oldest).
    pub fn column(&self, orig: NodeId, k: usize) -> Option<&'a Col> {
        let id = match self.at.get(k)? {
            Some(step) => *step.get(orig)?,
            None => orig,
        };
        self.nodes.get(id)
    }
}

/// A row in no category (outside the segment, no band, no persona).
pub const NONE: u32 = u32::MAX;

/// What a definition's rows are sorted into: a segment's one category (in), or the
/// bands or personas it defines, in order.
pub fn categories(plan: &Plan, id: NodeId) -> Option<(SeriesKind, Vec<String>)> {
    match &plan.nodes.get(id)?.kind {
        NodeKind::Segment(_) | NodeKind::Top { .. } => {
            Some((SeriesKind::Segment, vec!["in".to_string()]))
        }
        NodeKind::Tiers { bands, .. } => Some((
            SeriesKind::Tier,
            bands.iter().map(|b| b.name.clone()).collect(),
        )),
        NodeKind::Personas(ps) => Some((
            SeriesKind::Persona,
            ps.iter().map(|p| p.name.clone()).collect(),
        )),
        _ => None,
    }
}

/// Per row, the index of its category in `names` ([`NONE`] when in none); a segment's
/// members are in category 0.
pub fn codes(col: Option<&Col>, kind: SeriesKind, names: &[String]) -> Vec<u32> {
    let Some(col) = col else {
        return Vec::new();
    };
    let index = |v: Option<&Value>| -> u32 {
        match (kind, v) {
            (SeriesKind::Segment, Some(Value::Bool(true))) => 0,
            (SeriesKind::Segment, _) | (_, None) => NONE,
            (_, Some(Value::Text(t))) => names
                .iter()
                .position(|n| **n == **t)
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or(NONE),
            _ => NONE,
        }
    };
    match col {
        Col::Bool(v) if kind == SeriesKind::Segment => {
            v.iter().map(|&b| if b { 0 } else { NONE }).collect()
        }
        Col::Codes { codes, dict } => {
            let map: Vec<u32> = dict.iter().map(|v| index(v.as_ref())).collect();
            codes
                .iter()
                .map(|&c| map.get(c as usize).copied().unwrap_or(NONE))
                .collect()
        }
        _ => (0..col.len())
            .map(|i| index(col.value(i).as_deref()))
            .collect(),
    }
}

/// Rows per category `0..n` of per-row codes ([`NONE`] not counted).
pub fn tally(codes: &[u32], n: usize) -> Vec<usize> {
    let mut out = vec![0; n];
    for &c in codes {
        if let Some(x) = out.get_mut(c as usize) {
            *x += 1;
        }
    }
    out
}

/// One series per segment, tier band and persona of `plan`'s outputs (contacts, then
/// accounts), with its size at every step and the rows that entered and left it
/// between consecutive steps; definitions are walked in parallel.
pub fn all(plan: &Plan, steps: &Steps<'_>) -> Vec<Series> {
    let defs: Vec<(Scope, NodeId, &str)> = [Scope::Contact, Scope::Account]
        .into_iter()
        .flat_map(|scope| {
            plan.outputs(scope)
                .map(move |(id, n)| (scope, id, n.name.as_str()))
        })
        .collect();
    defs.par_iter()
        .map(|&(scope, id, name)| of_definition(plan, steps, scope, id, name))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// The series of one definition (none unless it is a segment, tier set or persona list).
fn of_definition(
    plan: &Plan,
    steps: &Steps<'_>,
    scope: Scope,
    id: NodeId,
    name: &str,
) -> Vec<Series> {
    let Some((kind, names)) = categories(plan, id) else {
        return Vec::new();
    };
    let n = names.len();
    let mut sizes = vec![Vec::with_capacity(steps.len()); n];
    let mut entered = vec![Vec::new(); n];
    let mut left = vec![Vec::new(); n];
    let mut prev: Option<Vec<u32>> = None;
    for k in 0..steps.len() {
        let cur = codes(steps.column(id, k), kind, &names);
        let size = tally(&cur, n);
        if let Some(p) = &prev {
            let (mut e, mut l) = (vec![0; n], vec![0; n]);
            for (&a, &b) in p.iter().zip(&cur) {
                if a != b {
                    if let Some(x) = e.get_mut(b as usize) {
                        *x += 1;
                    }
                    if let Some(x) = l.get_mut(a as usize) {
                        *x += 1;
                    }
                }
            }
            for c in 0..n {
                entered[c].push(e[c]);
                left[c].push(l[c]);
            }
        }
        for (c, s) in size.into_iter().enumerate() {
            sizes[c].push(s);
        }
        prev = Some(cur);
    }
    names
        .into_iter()
        .enumerate()
        .map(|(c, band)| Series {
            name: name.to_string(),
            kind,
            band: (kind != SeriesKind::Segment).then_some(band),
            scope,
            sizes: std::mem::take(&mut sizes[c]),
            entered: std::mem::take(&mut entered[c]),
            left: std::mem::take(&mut left[c]),
        })
        .collect()
}
