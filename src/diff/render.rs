//! A diff for people on a terminal, for machines (JSON) and for a pull request comment
//! (Markdown).

use super::{Definitions, Diff, Move, RuleShift, SAMPLE, ScoreShift, Stats};
use crate::engine::ColumnKind;
use crate::plan::display::number;
use crate::plan::types::Scope;
use chrono::SecondsFormat;
use std::fmt::Write;

/// Text from rule files (names, bands, rule labels) or data (ids) as the human and
/// Markdown formats show it: no control character, line break or bidirectional
/// override (see [`crate::diag::escape`]). JSON escapes its own.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    crate::diag::escape::escape(s)
}

/// The diffs of every entry file, by entry name.
pub type Entries = [(String, Diff)];

/// JSON: `{"entries": [{"entry": …, "now": …, "definitions": …, "moves": …, "scores": …}]}`.
pub fn json(entries: &Entries) -> String {
    let list: Vec<serde_json::Value> = entries
        .iter()
        .map(|(name, d)| {
            let mut v = serde_json::to_value(d).unwrap_or(serde_json::Value::Null);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("entry".into(), name.clone().into());
                obj.insert("changed".into(), (!d.is_empty()).into());
            }
            v
        })
        .collect();
    let mut s =
        serde_json::to_string_pretty(&serde_json::json!({ "entries": list })).unwrap_or_default();
    s.push('\n');
    s
}

fn what(m: &Move) -> String {
    let kind = match m.kind {
        ColumnKind::Segment => "segment",
        ColumnKind::Tier => "tier",
        ColumnKind::Persona => "persona",
        ColumnKind::Score => "score",
        ColumnKind::Value => "value",
    };
    let scope = match m.scope {
        Scope::Contact => "",
        Scope::Account => "account ",
    };
    let def = esc(&m.definition);
    match (&m.group, m.kind) {
        (None, ColumnKind::Segment) => format!("{scope}{kind} `{def}`"),
        (Some(g), _) => format!("{scope}{kind} `{def}` = `{}`", esc(g)),
        (None, _) => format!("{scope}{kind} `{def}` is missing"),
    }
}

fn rows(m: &Move) -> &'static str {
    match m.scope {
        Scope::Contact => "contacts",
        Scope::Account => "accounts",
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), number)
}

fn arrow(a: Option<f64>, b: Option<f64>) -> String {
    format!("{} → {}", opt(a), opt(b))
}

fn stats_line(a: &Stats, b: &Stats) -> String {
    format!(
        "min {}, median {}, max {}, mean {}",
        arrow(a.min, b.min),
        arrow(a.median, b.median),
        arrow(a.max, b.max),
        arrow(a.mean, b.mean)
    )
}

fn names(xs: &[String]) -> String {
    xs.iter()
        .map(|x| format!("`{}`", esc(x)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn definition_lines(d: &Definitions) -> Vec<String> {
    let mut out = Vec::new();
    if !d.added.is_empty() {
        out.push(format!("added: {}", names(&d.added)));
    }
    if !d.removed.is_empty() {
        out.push(format!("removed: {}", names(&d.removed)));
    }
    if !d.renamed.is_empty() {
        let r: Vec<String> = d
            .renamed
            .iter()
            .map(|(a, b)| format!("`{}` → `{}`", esc(a), esc(b)))
            .collect();
        out.push(format!("renamed: {}", r.join(", ")));
    }
    if !d.changed.is_empty() {
        out.push(format!("changed: {}", names(&d.changed)));
    }
    out
}

/// The first [`SAMPLE`] ids, each as `show` writes it, then `…` when there are more.
fn sample(ids: &[String], show: fn(&str) -> String) -> String {
    let mut s = ids
        .iter()
        .take(SAMPLE)
        .map(|id| show(id))
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SAMPLE {
        s.push_str(", …");
    }
    s
}

/// Text for a terminal; `colour` adds green for entering and red for leaving.
pub fn human(entries: &Entries, colour: bool) -> String {
    let paint = |code: &str, text: String| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text
        }
    };
    let mut s = String::new();
    for (name, d) in entries {
        let _ = writeln!(
            s,
            "{} (as of {})",
            paint("1", esc(name).into_owned()),
            d.now.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        );
        if d.is_empty() {
            s.push_str("  no change\n");
            continue;
        }
        for line in definition_lines(&d.definitions) {
            let _ = writeln!(s, "  {line}");
        }
        for m in &d.moves {
            let _ = writeln!(
                s,
                "  {}: {} → {} {} ({}, {})",
                what(m),
                m.before,
                m.after,
                rows(m),
                paint("32", format!("{} entered", signed("+", m.entered.len()))),
                paint("31", format!("{} left", signed("-", m.left.len()))),
            );
            if !m.entered.is_empty() {
                let _ = writeln!(s, "    entered: {}", sample(&m.entered, plain));
            }
            if !m.left.is_empty() {
                let _ = writeln!(s, "    left: {}", sample(&m.left, plain));
            }
        }
        for sc in &d.scores {
            let _ = writeln!(
                s,
                "  score `{}`: {} ({} {} changed)",
                esc(&sc.name),
                stats_line(&sc.before, &sc.after),
                sc.changed,
                scope_rows(sc)
            );
            for r in &sc.rules {
                let _ = writeln!(
                    s,
                    "    rule {}: mean points {} ({} changed)",
                    rule_name(r),
                    arrow(r.before, r.after),
                    r.changed
                );
            }
        }
    }
    s
}

/// An id for a terminal.
fn plain(id: &str) -> String {
    esc(id).into_owned()
}

/// An id in a Markdown table: a code span, so that data can neither mention people
/// (`@team`), link nor format, with `|` escaped so that it cannot end the cell.
fn code_cell(id: &str) -> String {
    format!("`{}`", cell(&esc(id).replace('`', "'")))
}

/// Text in a Markdown table cell: `|` escaped (GitHub reads `\|` as `|` in code spans
/// too).
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// A rule as code, with its old label when it was edited.
fn rule_name(r: &RuleShift) -> String {
    let code = |l: &str| format!("`{}`", esc(&l.replace('`', "'")));
    match (&r.was, r.before, r.after) {
        (Some(was), _, _) => format!("{} (was {})", code(&r.label), code(was)),
        (None, None, _) => format!("{} (added)", code(&r.label)),
        (None, _, None) => format!("{} (removed)", code(&r.label)),
        (None, _, _) => code(&r.label),
    }
}

/// `+n`, `−n` or `0`.
fn signed(sign: &str, n: usize) -> String {
    if n == 0 {
        "0".into()
    } else {
        format!("{sign}{n}")
    }
}

fn scope_rows(sc: &ScoreShift) -> &'static str {
    match sc.scope {
        Scope::Contact => "contacts",
        Scope::Account => "accounts",
    }
}

/// Markdown for a pull request comment.
pub fn markdown(entries: &Entries) -> String {
    let mut s = String::from("## Funnel diff\n\n");
    let changed = entries.iter().filter(|(_, d)| !d.is_empty()).count();
    if let Some((_, d)) = entries.first() {
        let _ = writeln!(
            s,
            "Evaluated as of `{}`; {changed} of {} rule files change the audience.\n",
            d.now.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            entries.len()
        );
    }
    for (name, d) in entries {
        let _ = writeln!(s, "### `{}`\n", esc(name));
        if d.is_empty() {
            s.push_str("No change.\n\n");
            continue;
        }
        for line in definition_lines(&d.definitions) {
            let _ = writeln!(s, "- {line}");
        }
        if !d.definitions.eq(&Definitions::default()) {
            s.push('\n');
        }
        if !d.moves.is_empty() {
            s.push_str(
                "| audience | before | after | entered | left | entering (sample) | leaving (sample) |\n\
                 |---|---:|---:|---:|---:|---|---|\n",
            );
            for m in &d.moves {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    cell(&what(m)),
                    m.before,
                    m.after,
                    signed("+", m.entered.len()),
                    signed("−", m.left.len()),
                    sample(&m.entered, code_cell),
                    sample(&m.left, code_cell)
                );
            }
            s.push('\n');
        }
        if !d.scores.is_empty() {
            s.push_str(
                "| score | min | median | max | mean | changed |\n|---|---|---|---|---|---:|\n",
            );
            for sc in &d.scores {
                let (a, b) = (&sc.before, &sc.after);
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} | {} | {} | {} |",
                    cell(&esc(&sc.name)),
                    arrow(a.min, b.min),
                    arrow(a.median, b.median),
                    arrow(a.max, b.max),
                    arrow(a.mean, b.mean),
                    sc.changed
                );
            }
            s.push('\n');
            for sc in d.scores.iter().filter(|sc| !sc.rules.is_empty()) {
                let _ = writeln!(s, "Rules that moved `{}`:\n", esc(&sc.name));
                for r in &sc.rules {
                    let _ = writeln!(
                        s,
                        "- {}: mean points {} ({} {} changed)",
                        rule_name(r),
                        arrow(r.before, r.after),
                        r.changed,
                        scope_rows(sc)
                    );
                }
                s.push('\n');
            }
        }
    }
    s
}
