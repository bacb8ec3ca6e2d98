//! The summary `funnel run` prints after a run: the size of the data, of each segment,
//! tier band and persona, and each score's min / median / max — as text for people or
//! as JSON (`--summary json`).

use crate::engine::{Column, ColumnKind, Table};
use crate::plan::display::number;
use serde::Serialize;

/// What `run` reports after a run: the data's size and each table's summary.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    /// The evaluation moment (RFC 3339).
    pub as_of: String,
    pub contacts: usize,
    pub events: usize,
    pub accounts: usize,
    /// Bad rows skipped (with `--skip-bad-rows`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_rows: Option<usize>,
    /// The file the skipped rows were written to, if any were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejects: Option<String>,
    pub contact_results: TableSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_results: Option<TableSummary>,
}

/// One results table in numbers: segment sizes, each score's min / median / max, the
/// size of each tier band and persona.
#[derive(Debug, Serialize)]
pub struct TableSummary {
    pub rows: usize,
    pub segments: Vec<Count>,
    pub scores: Vec<Spread>,
    pub tiers: Vec<Groups>,
    pub personas: Vec<Groups>,
}

/// How many rows are in a segment, band or persona, and their share of all rows (%).
#[derive(Debug, Serialize)]
pub struct Count {
    pub name: String,
    pub members: usize,
    pub percent: f64,
}

/// A score's min / median / max (rounded as results are); `None` when no row has one.
#[derive(Debug, Serialize)]
pub struct Spread {
    pub name: String,
    pub min: Option<f64>,
    pub median: Option<f64>,
    pub max: Option<f64>,
}

/// A tier set's bands or a persona list's personas, in declaration order, then
/// `(none)` when some rows have none.
#[derive(Debug, Serialize)]
pub struct Groups {
    pub name: String,
    pub groups: Vec<Count>,
}

impl TableSummary {
    /// The summary of one results table.
    pub fn of(table: &Table) -> TableSummary {
        let rows = table.ids.len();
        let count = |name: &str, members: usize| Count {
            name: name.to_string(),
            members,
            percent: if rows == 0 {
                0.0
            } else {
                (members as f64 * 1000.0 / rows as f64).round() / 10.0
            },
        };
        let of_kind = |kind: ColumnKind| table.columns.iter().filter(move |c| c.kind == kind);
        let segments = of_kind(ColumnKind::Segment)
            .map(|c| count(&c.name, (0..c.len()).filter(|&i| c.is_true(i)).count()))
            .collect();
        let scores = of_kind(ColumnKind::Score)
            .map(|c| {
                let mut xs: Vec<f64> = c.numbers().flatten().collect();
                xs.sort_by(f64::total_cmp);
                let median = match xs.len() {
                    0 => None,
                    n if n % 2 == 1 => xs.get(n / 2).copied(),
                    n => Some(
                        (xs.get(n / 2 - 1).copied().unwrap_or(0.0)
                            + xs.get(n / 2).copied().unwrap_or(0.0))
                            / 2.0,
                    ),
                };
                let round = |x: Option<f64>| x.map(crate::engine::value::round_score);
                Spread {
                    name: c.name.clone(),
                    min: round(xs.first().copied()),
                    median: round(median),
                    max: round(xs.last().copied()),
                }
            })
            .collect();
        let groups = |c: &Column| {
            let mut counts: Vec<(String, usize)> =
                c.categories.iter().map(|k| (k.clone(), 0)).collect();
            counts.push(("(none)".to_string(), 0));
            for label in c.labels() {
                let key = label.unwrap_or("(none)");
                if let Some((_, n)) = counts.iter_mut().find(|(k, _)| k == key) {
                    *n += 1;
                }
            }
            counts.retain(|(k, n)| *n > 0 || k != "(none)");
            Groups {
                name: c.name.clone(),
                groups: counts.iter().map(|(k, n)| count(k, *n)).collect(),
            }
        };
        TableSummary {
            rows,
            segments,
            scores,
            tiers: of_kind(ColumnKind::Tier).map(groups).collect(),
            personas: of_kind(ColumnKind::Persona).map(groups).collect(),
        }
    }

    /// The summary as text for people; `what` names the rows (`contacts`).
    pub fn human(&self, what: &str) -> String {
        let names = self.segments.iter().map(|c| &c.name);
        let names = names.chain(self.scores.iter().map(|s| &s.name));
        let groups = self.tiers.iter().chain(&self.personas);
        let names =
            names
                .chain(groups.flat_map(|g| {
                    std::iter::once(&g.name).chain(g.groups.iter().map(|c| &c.name))
                }));
        let width = names.map(|n| n.chars().count()).max().unwrap_or(0).max(6) + 2;
        let line = |c: &Count| {
            format!(
                "  {:<width$}{:>8}  {:>5.1}%\n",
                c.name, c.members, c.percent
            )
        };
        let mut out = String::new();
        if !self.segments.is_empty() {
            out.push_str(&format!("\nsegments ({what})\n"));
            out.extend(self.segments.iter().map(line));
        }
        if !self.scores.is_empty() {
            out.push_str(&format!(
                "\nscores ({what})\n  {:<width$}{:>9} {:>9} {:>9}\n",
                "", "min", "median", "max"
            ));
            let show = |x: Option<f64>| x.map_or("-".to_string(), number);
            for s in &self.scores {
                out.push_str(&format!(
                    "  {:<width$}{:>9} {:>9} {:>9}\n",
                    s.name,
                    show(s.min),
                    show(s.median),
                    show(s.max)
                ));
            }
        }
        for (kind, list) in [("tiers", &self.tiers), ("personas", &self.personas)] {
            for g in list {
                out.push_str(&format!("\n{kind} {} ({what})\n", g.name));
                out.extend(g.groups.iter().map(line));
            }
        }
        out
    }
}

impl RunSummary {
    /// The summary as text for people.
    pub fn human(&self) -> String {
        let mut text = format!(
            "evaluated {} contacts, {} events, {} accounts as of {}\n",
            self.contacts, self.events, self.accounts, self.as_of
        );
        if let Some(n) = self.skipped_rows {
            text.push_str(&format!(
                "skipped {n} bad rows{}\n",
                self.rejects
                    .as_ref()
                    .map_or(String::new(), |f| format!(" (reasons in `{f}`)"))
            ));
        }
        text.push_str(&self.contact_results.human("contacts"));
        if let Some(a) = &self.account_results {
            text.push_str(&a.human("accounts"));
        }
        text
    }
}
