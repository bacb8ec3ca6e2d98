//! `funnel diff`: what a rule change does to the audience. Both versions run over the
//! same data at the same moment; the results are compared row by row (by id): who enters
//! and who leaves each segment, tier band and persona, how each score's distribution
//! shifts and which rules moved it, and which definitions were added, removed, renamed
//! or changed. Rendering is in [`render`].

pub mod canon;
pub mod render;

use crate::engine::columnar::{Evaluated, EventColumns, Keep, evaluate};
use crate::engine::data::Dataset;
use crate::engine::eval::Row;
use crate::engine::run::collect;
use crate::engine::score::rule_points;
use crate::engine::{Column, ColumnKind, EngineError, Results, Table};
use crate::plan::types::Scope;
use crate::plan::{NodeKind, Plan, ScoreBody};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How many ids the human and Markdown formats show of those entering or leaving.
pub const SAMPLE: usize = 5;

/// One version of a rule set, evaluated.
#[derive(Debug, Clone)]
pub struct Side {
    pub plan: Option<Plan>,
    pub results: Results,
    /// Per output score: (name, scope, per row id → each rule's points after its cap,
    /// by rule label).
    pub rules: Vec<RuleColumns>,
}

/// The rule contributions of one score, per row.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleColumns {
    pub score: String,
    pub scope: Scope,
    /// Rule labels in order (a repeated label gets `#2`, `#3`, …).
    pub labels: Vec<String>,
    /// Each rule's points after its cap, row by row in the side's table order: row `i`'s
    /// are `points[i * labels.len()..(i + 1) * labels.len()]`, in the order of `labels`.
    pub points: Vec<f64>,
}

impl RuleColumns {
    /// Rule `k`'s points for table row `row`.
    fn at(&self, row: usize, k: usize) -> Option<f64> {
        let width = self.labels.len();
        (k < width)
            .then(|| self.points.get(row * width + k).copied())
            .flatten()
    }
}

impl Side {
    /// Runs `plan` over `data` (its events in `events`) at `now` and keeps each score's
    /// per-rule parts.
    pub fn evaluate(
        plan: Plan,
        data: &Dataset,
        events: EventColumns,
        now: DateTime<Utc>,
    ) -> Result<Side, EngineError> {
        let Evaluated { ctx, state: st } =
            evaluate(&plan, data, events, now, Keep::Aggregates, false)?;
        let mut rules = Vec::new();
        for scope in [Scope::Contact, Scope::Account] {
            let (rows, row): (usize, fn(u32) -> Row) = match scope {
                Scope::Contact => (ctx.data.contacts.len(), Row::Contact),
                Scope::Account => (ctx.data.accounts.len(), Row::Account),
            };
            for (_, node) in plan.outputs(scope) {
                let NodeKind::Score(s) = &node.kind else {
                    continue;
                };
                let labels = match &s.body {
                    ScoreBody::Groups(gs) => {
                        unique_labels(gs.iter().flat_map(|g| &g.rules).map(|r| r.label.as_str()))
                    }
                    ScoreBody::Expr(_) => Vec::new(),
                };
                let mut points = vec![0.0; rows * labels.len()];
                if !labels.is_empty() {
                    points
                        .par_chunks_mut(labels.len())
                        .enumerate()
                        .for_each_init(Vec::new, |buf, (i, out)| {
                            buf.clear();
                            rule_points(&ctx, &st, s, row(i as u32), buf);
                            for (o, p) in out.iter_mut().zip(buf.iter()) {
                                *o = *p;
                            }
                        });
                }
                rules.push(RuleColumns {
                    score: node.name.clone(),
                    scope,
                    labels,
                    points,
                });
            }
        }
        let results = collect(&ctx, st);
        drop(ctx);
        Ok(Side {
            plan: Some(plan),
            results,
            rules,
        })
    }

    /// A version that does not exist (a file only on the other side).
    pub fn absent(now: DateTime<Utc>) -> Side {
        Side {
            plan: None,
            results: Results {
                now,
                contacts: Table::default(),
                accounts: Table::default(),
            },
            rules: Vec::new(),
        }
    }
}

/// Labels made unique by numbering repeats: `a`, `a #2`.
fn unique_labels<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    labels
        .map(|l| {
            let n = seen.entry(l).or_insert(0);
            *n += 1;
            if *n == 1 {
                l.to_string()
            } else {
                format!("{l} #{n}")
            }
        })
        .collect()
}

fn table(r: &Results, scope: Scope) -> &Table {
    match scope {
        Scope::Contact => &r.contacts,
        Scope::Account => &r.accounts,
    }
}

/// What changed between two versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub now: DateTime<Utc>,
    pub definitions: Definitions,
    /// Segments, tier bands and personas whose members changed.
    pub moves: Vec<Move>,
    /// Scores whose value changed for at least one row.
    pub scores: Vec<ScoreShift>,
}

/// Definitions added, removed, renamed or changed (by name, across both scopes).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Definitions {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// (old name, new name): the same plan but for the name.
    pub renamed: Vec<(String, String)>,
    /// Same name, different plan.
    pub changed: Vec<String>,
}

/// Rows entering and leaving one group: a segment, a tier band or a persona.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    /// The segment, tier set or persona list.
    pub definition: String,
    pub kind: ColumnKind,
    pub scope: Scope,
    /// The band or persona (`None` for segments, and for "no band" / "no persona").
    pub group: Option<String>,
    pub before: usize,
    pub after: usize,
    /// Ids entering and leaving, in id order.
    pub entered: Vec<String>,
    pub left: Vec<String>,
}

/// How a score's distribution moved, and the rules that moved it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreShift {
    pub name: String,
    pub scope: Scope,
    pub before: Stats,
    pub after: Stats,
    /// Rows whose value changed.
    pub changed: usize,
    /// Rules whose points changed for at least one row (or that exist on one side only).
    pub rules: Vec<RuleShift>,
}

/// Summary statistics of the present values of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub count: usize,
    pub min: Option<f64>,
    pub median: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
}

/// One rule's part in a score shift.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleShift {
    /// The rule's label in the new version (the old one's for a removed rule).
    pub label: String,
    /// The old label, when the rule was edited.
    pub was: Option<String>,
    /// Mean points per row before and after (`None`: no such rule on that side).
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// Rows whose points from this rule changed.
    pub changed: usize,
}

impl Diff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.definitions == Definitions::default()
            && self.moves.is_empty()
            && self.scores.is_empty()
    }
}

/// The rows of both versions of a table, in id order: each row's id and its index in
/// the old and in the new table (`None` where the id is on one side only).
struct Rows<'t> {
    ids: Vec<&'t str>,
    old: Vec<Option<usize>>,
    new: Vec<Option<usize>>,
}

impl<'t> Rows<'t> {
    fn of(a: &'t Table, b: &'t Table) -> Rows<'t> {
        if a.ids == b.ids {
            // One data set for both versions: the rows line up, only their order is needed.
            let mut order: Vec<usize> = (0..a.ids.len()).collect();
            order.par_sort_unstable_by(|&i, &j| a.ids[i].cmp(&a.ids[j]));
            return Rows {
                ids: order.iter().map(|&i| a.ids[i].as_str()).collect(),
                old: order.iter().map(|&i| Some(i)).collect(),
                new: order.into_iter().map(Some).collect(),
            };
        }
        let index = |t: &'t Table| -> HashMap<&'t str, usize> {
            t.ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.as_str(), i))
                .collect()
        };
        let (ia, ib) = (index(a), index(b));
        let ids: BTreeSet<&str> = ia.keys().chain(ib.keys()).copied().collect();
        Rows {
            old: ids.iter().map(|id| ia.get(id).copied()).collect(),
            new: ids.iter().map(|id| ib.get(id).copied()).collect(),
            ids: ids.into_iter().collect(),
        }
    }
}

/// A column's row on one side, when the side has both.
type Cell<'c> = Option<(&'c Column, usize)>;

fn cell(col: Option<&Column>, row: Option<usize>) -> Cell<'_> {
    col.zip(row)
}

fn number(c: Cell<'_>) -> Option<f64> {
    c.and_then(|(col, i)| col.number(i))
}

/// Compares two evaluated versions.
pub fn diff(old: &Side, new: &Side) -> Diff {
    let mut moves = Vec::new();
    let mut scores = Vec::new();
    for scope in [Scope::Contact, Scope::Account] {
        let (a, b) = (table(&old.results, scope), table(&new.results, scope));
        let rows = Rows::of(a, b);
        let names = column_names(a, b);
        for name in names {
            let (ca, cb) = (a.column(&name), b.column(&name));
            let kind = match cb.or(ca) {
                Some(c) => c.kind,
                None => continue,
            };
            let cols = [ca, cb];
            match kind {
                ColumnKind::Segment => {
                    let member = |c: Cell<'_>| c.is_some_and(|(col, i)| col.is_true(i));
                    moves.extend(movement(&name, kind, scope, None, &rows, cols, member));
                }
                ColumnKind::Tier | ColumnKind::Persona => {
                    for group in groups(&name, [new, old], [cb, ca]) {
                        let member =
                            |c: Cell<'_>| c.and_then(|(col, i)| col.label(i)) == group.as_deref();
                        moves.extend(movement(
                            &name,
                            kind,
                            scope,
                            group.clone(),
                            &rows,
                            cols,
                            member,
                        ));
                    }
                }
                ColumnKind::Score => {
                    if let Some(s) = score_shift(&name, scope, &rows, cols, old, new) {
                        scores.push(s);
                    }
                }
                ColumnKind::Value => {}
            }
        }
    }
    Diff {
        now: new.results.now,
        definitions: canon::definitions(old.plan.as_ref(), new.plan.as_ref()),
        moves,
        scores,
    }
}

/// Column names of both tables: the new order, then names only the old one has.
fn column_names(a: &Table, b: &Table) -> Vec<String> {
    let mut names: Vec<String> = b.columns.iter().map(|c| c.name.clone()).collect();
    for c in &a.columns {
        if !names.contains(&c.name) {
            names.push(c.name.clone());
        }
    }
    names
}

/// The bands or personas of a tier set or persona list: as the new version (then the
/// old) defines them, then any other value seen, then "none".
fn groups(
    name: &str,
    sides: [&Side; 2],
    columns: [Option<&crate::engine::Column>; 2],
) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    let mut add = |g: Option<String>| {
        if g.is_some() && !out.contains(&g) {
            out.push(g);
        }
    };
    for side in sides {
        let defined = side
            .plan
            .iter()
            .flat_map(|p| &p.nodes)
            .find(|n| n.output && n.name == name);
        match defined.map(|n| &n.kind) {
            Some(NodeKind::Tiers { bands, .. }) => {
                bands.iter().for_each(|b| add(Some(b.name.clone())))
            }
            Some(NodeKind::Personas(ps)) => ps.iter().for_each(|p| add(Some(p.name.clone()))),
            _ => {}
        }
    }
    for c in columns.into_iter().flatten() {
        for l in c.labels() {
            add(l.map(String::from));
        }
    }
    out.push(None);
    out
}

fn movement(
    name: &str,
    kind: ColumnKind,
    scope: Scope,
    group: Option<String>,
    rows: &Rows<'_>,
    [before, after]: [Option<&Column>; 2],
    member: impl Fn(Cell<'_>) -> bool,
) -> Option<Move> {
    let (mut b, mut a) = (0, 0);
    let (mut entered, mut left) = (Vec::new(), Vec::new());
    for ((id, &o), &n) in rows.ids.iter().zip(&rows.old).zip(&rows.new) {
        let was = member(cell(before, o));
        let is = member(cell(after, n));
        b += usize::from(was);
        a += usize::from(is);
        if is && !was {
            entered.push(*id);
        }
        if was && !is {
            left.push(*id);
        }
    }
    if entered.is_empty() && left.is_empty() {
        return None;
    }
    let owned = |v: Vec<&str>| v.into_iter().map(String::from).collect();
    Some(Move {
        definition: name.to_string(),
        kind,
        scope,
        group,
        before: b,
        after: a,
        entered: owned(entered),
        left: owned(left),
    })
}

fn score_shift(
    name: &str,
    scope: Scope,
    rows: &Rows<'_>,
    [before, after]: [Option<&Column>; 2],
    old: &Side,
    new: &Side,
) -> Option<ScoreShift> {
    let changed = (0..rows.ids.len())
        .filter(|&r| number(cell(before, rows.old[r])) != number(cell(after, rows.new[r])))
        .count();
    if changed == 0 {
        return None;
    }
    let stats = |c: Option<&Column>| {
        stats(
            c.map(|c| c.numbers().flatten().collect())
                .unwrap_or_default(),
        )
    };
    fn find<'s>(s: &'s Side, name: &str, scope: Scope) -> Option<&'s RuleColumns> {
        s.rules.iter().find(|r| r.score == name && r.scope == scope)
    }
    Some(ScoreShift {
        name: name.to_string(),
        scope,
        before: stats(before),
        after: stats(after),
        changed,
        rules: rule_shifts(find(old, name, scope), find(new, name, scope), rows),
    })
}

/// Per rule: mean points before and after, and rows whose points changed. Rules are
/// matched by label; rules left unmatched on both sides are matched by position among
/// the unmatched (an edited rule: its label changed with its points or condition).
fn rule_shifts(
    old: Option<&RuleColumns>,
    new: Option<&RuleColumns>,
    rows: &Rows<'_>,
) -> Vec<RuleShift> {
    let labels = |side: Option<&RuleColumns>| side.map(|r| r.labels.clone()).unwrap_or_default();
    let (ol, nl) = (labels(old), labels(new));
    let mut lone_old: Vec<&String> = ol.iter().filter(|l| !nl.contains(l)).collect();
    let mut pairs: Vec<(Option<&String>, Option<&String>)> = Vec::new();
    for l in &nl {
        if ol.contains(l) {
            pairs.push((Some(l), Some(l)));
        } else if lone_old.is_empty() {
            pairs.push((None, Some(l)));
        } else {
            pairs.push((Some(lone_old.remove(0)), Some(l)));
        }
    }
    pairs.extend(lone_old.into_iter().map(|l| (Some(l), None)));
    // A rule's points for each row in id order (`None` where the side has no such rule
    // or no such row).
    let points = |side: Option<&RuleColumns>, label: Option<&String>, at: &[Option<usize>]| {
        let found = side.zip(label).and_then(|(side, label)| {
            let k = side.labels.iter().position(|l| l == label)?;
            Some((side, k))
        });
        at.iter()
            .map(|row| {
                let (side, k) = found?;
                Some(side.at((*row)?, k).unwrap_or(0.0))
            })
            .collect::<Vec<Option<f64>>>()
    };
    let mean = |xs: &[Option<f64>]| -> Option<f64> {
        let xs: Vec<f64> = xs.iter().flatten().copied().collect();
        (!xs.is_empty()).then(|| round(xs.iter().sum::<f64>() / xs.len() as f64))
    };
    pairs
        .into_iter()
        .filter_map(|(o, n)| {
            let (before, after) = (points(old, o, &rows.old), points(new, n, &rows.new));
            let changed = before.iter().zip(&after).filter(|(b, a)| b != a).count();
            (changed > 0).then(|| RuleShift {
                label: n.or(o).cloned().unwrap_or_default(),
                was: o.filter(|o| Some(*o) != n).cloned(),
                before: mean(&before),
                after: mean(&after),
                changed,
            })
        })
        .collect()
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Count, min, median (the mean of the middle two for an even count), max and mean.
pub fn stats(mut xs: Vec<f64>) -> Stats {
    xs.retain(|x| !x.is_nan());
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = match n {
        0 => None,
        _ if n % 2 == 1 => xs.get(n / 2).copied(),
        _ => xs
            .get(n / 2 - 1)
            .zip(xs.get(n / 2))
            .map(|(a, b)| (a + b) / 2.0),
    };
    Stats {
        count: n,
        min: xs.first().copied(),
        median: median.map(round),
        max: xs.last().copied(),
        mean: (n > 0).then(|| round(xs.iter().sum::<f64>() / n as f64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_odd_even_and_empty() {
        let s = stats(vec![3.0, 1.0, 2.0]);
        assert_eq!(
            (s.min, s.median, s.max, s.mean),
            (Some(1.0), Some(2.0), Some(3.0), Some(2.0))
        );
        assert_eq!(stats(vec![1.0, 2.0]).median, Some(1.5));
        assert_eq!(stats(vec![]).median, None);
        assert_eq!(
            unique_labels(["a", "b", "a"].into_iter()),
            ["a", "b", "a #2"]
        );
    }
}
