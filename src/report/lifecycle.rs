//! The lifecycle funnel: for every contact attribute that is a `one of (…)` with
//! history (a lead stage), how many contacts are at each stage now and at the start of
//! the history, how many entered each stage on the way, and how many of those at a
//! stage at the start have moved on to a later one since.
//!
//! The stages are read by the same engine run as everything else: [`with_stages`] adds
//! one persona list per such attribute (a persona per value, in declaration order), so
//! the history plan evaluates the attribute at every step like any definition.

use super::series::{NONE, Steps, codes, tally};
use super::{Series, SeriesKind};
use crate::plan::schema::Type;
use crate::plan::types::{BinOp, Scope, Value};
use crate::plan::{Expr, Node, NodeKind, Persona, Plan};
use serde::Serialize;

/// One stage attribute's funnel over the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lifecycle {
    /// The attribute.
    pub attr: String,
    /// Its values, in declaration order.
    pub stages: Vec<String>,
    /// Contacts at each stage at the first moment of the history.
    pub start: Vec<usize>,
    /// Contacts at each stage now.
    pub now: Vec<usize>,
    /// Per stage, contacts that entered it between two steps, summed over the history.
    pub entered: Vec<usize>,
    /// Per stage, of the contacts at it at the start, those at a later stage now.
    pub advanced: Vec<usize>,
    /// Contacts without a value now.
    pub missing: usize,
    /// Contacts without a value at the first moment (before their first change).
    pub missing_start: usize,
    /// `flows[i][j]`: contacts at stage `i` at the start and at stage `j` now; index
    /// `stages.len()` stands for no value.
    pub flows: Vec<Vec<usize>>,
}

/// `plan` with a persona list per stage attribute (named like the attribute) added to
/// its outputs, and the names of the lists added.
pub fn with_stages(plan: &Plan) -> (Plan, Vec<String>) {
    let mut out = plan.clone();
    let mut added = Vec::new();
    for f in &plan.schema.contact {
        let Type::Enum(values) = &f.ty else { continue };
        if !f.history || plan.nodes.iter().any(|n| n.name == f.name) {
            continue;
        }
        let personas = values
            .iter()
            .map(|v| Persona {
                name: v.clone(),
                cond: Expr::Binary {
                    op: BinOp::Eq,
                    lhs: Box::new(Expr::Attr {
                        name: f.name.clone(),
                        moment: 0,
                    }),
                    rhs: Box::new(Expr::Lit(Value::Text(v.as_str().into()))),
                },
            })
            .collect();
        out.nodes.push(Node {
            name: f.name.clone(),
            moment: 0,
            scope: Scope::Contact,
            output: true,
            kind: NodeKind::Personas(personas),
            doc: None,
        });
        added.push(f.name.clone());
    }
    (out, added)
}

/// The funnels of the stage lists `stages` of `plan` (see [`with_stages`]); their
/// series are taken out of `series`.
pub fn funnels(
    plan: &Plan,
    stages: &[String],
    steps: &Steps<'_>,
    series: &mut Vec<Series>,
) -> Vec<Lifecycle> {
    let mut out = Vec::new();
    for attr in stages {
        let Some((id, NodeKind::Personas(ps))) = plan
            .outputs(Scope::Contact)
            .find(|(_, n)| n.name == *attr)
            .map(|(id, n)| (id, &n.kind))
        else {
            continue;
        };
        let names: Vec<String> = ps.iter().map(|p| p.name.clone()).collect();
        let n = names.len();
        let first = codes(steps.column(id, 0), SeriesKind::Persona, &names);
        let last = codes(
            steps.column(id, steps.len().saturating_sub(1)),
            SeriesKind::Persona,
            &names,
        );
        let mut flows = vec![vec![0; n + 1]; n + 1];
        for (&a, &b) in first.iter().zip(&last) {
            let at = |c: u32| if c == NONE { n } else { c as usize };
            if let Some(x) = flows.get_mut(at(a)).and_then(|row| row.get_mut(at(b))) {
                *x += 1;
            }
        }
        let advanced = (0..n)
            .map(|i| {
                flows
                    .get(i)
                    .map_or(0, |row| row.iter().take(n).skip(i + 1).sum())
            })
            .collect();
        let mine = |s: &Series| s.scope == Scope::Contact && s.name == *attr;
        let entered = names
            .iter()
            .map(|stage| {
                series
                    .iter()
                    .filter(|s| mine(s) && s.band.as_deref() == Some(stage))
                    .map(|s| s.entered.iter().sum::<usize>())
                    .sum()
            })
            .collect();
        series.retain(|s| !mine(s));
        out.push(Lifecycle {
            attr: attr.clone(),
            start: tally(&first, n),
            now: tally(&last, n),
            missing: last.iter().filter(|&&c| c == NONE).count(),
            missing_start: first.iter().filter(|&&c| c == NONE).count(),
            stages: names,
            entered,
            advanced,
            flows,
        });
    }
    out
}
