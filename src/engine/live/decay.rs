//! When a score decayed by a half-life next changes a list: a segment, tier or persona
//! that reads it (through its value rounded to 2 decimals, which every rule reads).
//!
//! Between two moments of [`super::next`] no event enters or leaves a window, so each
//! half-life aggregate is its value now times `0.5^(Δ / half_life)`, where Δ is how far
//! its moment moved. Re-evaluating only the definitions over aggregates scaled that way
//! is cheap, so the first moment a score's value changes is found by bisection on the
//! clock, assuming each list flips at most once between two such moments (true when
//! the decayed rules of a score share a sign and each list tests a score one way). The moment found is then confirmed by the
//! engine itself ([`super::Live`] re-evaluates there, and looks back when the change
//! came earlier).

use crate::engine::context::Context;
use crate::engine::eval::{Col, State};
use crate::engine::run::recompute_nodes;
use crate::engine::time::{self, Micros};
use crate::plan::types::Decay;
use crate::plan::walk::Read;
use crate::plan::{AggKind, NodeKind, Plan};
use chrono::{DateTime, Utc};

/// The half-life aggregates of a plan and the lists whose changes are reported.
#[derive(Debug, Clone, Default)]
pub(crate) struct Decays {
    /// (aggregate, half-life in µs).
    halves: Vec<(usize, f64)>,
    /// The list definitions (segments, tiers, personas): what a change is reported of.
    lists: Vec<usize>,
    /// The nodes that read a half-life total, directly or through other nodes,
    /// ascending: the only ones decay moves.
    moving: Vec<usize>,
}

impl Decays {
    pub fn new(plan: &Plan) -> Decays {
        let halves: Vec<(usize, f64)> = plan
            .aggregates
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match &a.kind {
                AggKind::Points {
                    decay: Some(Decay::HalfLife(d)),
                    ..
                } => Some((i, d.fixed_seconds()?.max(1) as f64 * 1e6)),
                _ => None,
            })
            .collect();
        if halves.is_empty() {
            return Decays::default();
        }
        let lists = plan
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.output
                    && matches!(
                        n.kind,
                        NodeKind::Segment(_) | NodeKind::Tiers { .. } | NodeKind::Personas(_)
                    )
            })
            .map(|(i, _)| i)
            .collect();
        let moving = moving(plan, &halves);
        Decays {
            halves,
            lists,
            moving,
        }
    }

    /// How far ahead decay alone can still change a score: 64 of the longest
    /// half-life (a value halved 64 times rounds to 0).
    pub fn horizon(&self) -> i64 {
        let longest = self.halves.iter().map(|&(_, h)| h).fold(0.0, f64::max);
        (longest * 64.0).min(i64::MAX as f64 / 4.0) as i64
    }

    /// The shortest half-life, in µs.
    fn shortest(&self) -> f64 {
        self.halves
            .iter()
            .map(|&(_, h)| h)
            .fold(f64::INFINITY, f64::min)
    }

    /// Whether the plan has half-life totals that a list may read.
    pub fn active(&self) -> bool {
        !self.lists.is_empty() && !self.halves.is_empty()
    }

    /// The first moment in `(after, before]` at which a list of a group changes, as far
    /// as decay alone goes, given the group evaluated at `after` (its context, and
    /// its aggregate and definition columns).
    pub fn next(
        &self,
        plan: &Plan,
        ctx: &Context<'_>,
        at_after: &State,
        after: Micros,
        before: Micros,
    ) -> Option<Micros> {
        if !self.active() || before <= after {
            return None;
        }
        let base = &at_after.aggs;
        // Without decayed points there is nothing to move.
        let moving = self.halves.iter().any(|&(a, _)| match base.get(a) {
            Some(Col::Num(v)) => v.iter().any(|x| *x != 0.0),
            Some(Col::Values(v)) => v
                .iter()
                .any(|x| matches!(x, Some(crate::plan::types::Value::Number(n)) if *n != 0.0)),
            _ => false,
        });
        if !moving {
            return None;
        }
        let moments: Vec<DateTime<Utc>> = ctx.moments.clone();
        let mut st = State {
            aggs: base.clone(),
            nodes: at_after.nodes.clone(),
        };
        let mut values = |t: Micros| -> Option<Vec<Option<crate::plan::types::Value>>> {
            let clock = DateTime::from_timestamp_micros(t)?;
            for &(a, half) in &self.halves {
                let m = plan.aggregates.get(a)?.moment;
                let moved = plan
                    .moments
                    .get(m)
                    .map(|mm| time::micros(time::moment_instant(mm, clock)))?
                    - time::micros(*moments.get(m)?);
                let factor = 0.5f64.powf(moved as f64 / half);
                if let (Some(col), Some(b)) = (st.aggs.get_mut(a), base.get(a)) {
                    col.clone_from(b);
                    scale(col, factor);
                }
            }
            recompute_nodes(ctx, &mut st, &self.moving);
            let nodes = &st.nodes;
            Some(
                self.lists
                    .iter()
                    .flat_map(|&s| {
                        let col = nodes.get(s);
                        let rows = col.map_or(0, Col::len);
                        (0..rows).map(move |r| col.and_then(|c| c.get(r)))
                    })
                    .collect(),
            )
        };
        let start = values(after)?;
        let mut differs = |t: Micros| values(t).is_some_and(|v| v != start);
        // A first change before `before`: the end of the span is tried first, then
        // three points inside it (so that a list that flips and flips back within the
        // span is not missed as easily); the first that differs bounds the bisection.
        let span = before - after;
        let samples = [span / 4, span / 2, span - span / 4, span];
        let mut lo = after;
        let hi = if differs(before) {
            samples.iter().map(|&d| after + d).find(|&t| {
                let d = differs(t);
                if !d {
                    lo = t;
                }
                d
            })?
        } else if (span as f64) < self.shortest() / 64.0 {
            // Over a span this short against every half-life each total is as good as
            // linear, and a list cannot flip and flip back within it.
            return None;
        } else {
            let inner = samples[..3].iter().map(|&d| after + d);
            let first = inner.clone().find(|&t| differs(t))?;
            lo = inner.take_while(|&t| t < first).last().unwrap_or(after);
            first
        };
        let mut hi = hi;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if differs(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }
}

/// The nodes that read a half-life total (`halves`), directly or through other nodes,
/// in plan order.
fn moving(plan: &Plan, halves: &[(usize, f64)]) -> Vec<usize> {
    let mut moves: Vec<bool> = Vec::with_capacity(plan.nodes.len());
    for reads in plan.node_reads() {
        let m = reads.iter().any(|r| match *r {
            Read::Agg(a) => halves.iter().any(|&(h, _)| h == a),
            Read::Node(n) => moves.get(n).copied().unwrap_or(false),
        });
        moves.push(m);
    }
    (0..moves.len()).filter(|&i| moves[i]).collect()
}

/// Multiplies every number of an aggregate column by `factor`.
fn scale(col: &mut Col, factor: f64) {
    match col {
        Col::Num(v) => v.iter_mut().for_each(|x| *x *= factor),
        Col::Values(v) => v.iter_mut().for_each(|x| {
            if let Some(crate::plan::types::Value::Number(n)) = x {
                *n *= factor;
            }
        }),
        _ => {}
    }
}
