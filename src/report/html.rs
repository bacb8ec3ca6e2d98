//! The report as one self-contained HTML page: inline CSS, inline SVG, no script, no
//! fonts or images to fetch. Every chart sits beside a table of its numbers.

use super::svg::{self, esc};
use super::{Count, Cross, Distribution, Report, Shares, TopAccounts, Trends};
use crate::engine::ColumnKind;
use crate::plan::display::number;
use crate::plan::types::Scope;
use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt::Write;

const STYLE: &str = "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;\
margin:2em auto;max-width:1200px;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}\
.figure{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start;margin:1em 0}\
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;\
text-align:left}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
svg .label,svg .value{font-size:11px;fill:#333}code{font-size:12px}\
.scroll{overflow-x:auto;max-width:100%}";

/// The page.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Funnel report, {now}</title><style>{STYLE}</style></head><body>\
         <h1>Funnel report</h1><p>As of <time>{now}</time>: {} contacts, {} accounts.</p>",
        r.contacts,
        r.accounts,
        now = stamp(r.now)
    );
    segments(&mut s, &r.segments);
    s.push_str("<h2 id=\"scores\">Scores</h2>");
    for d in &r.scores {
        score(&mut s, d);
    }
    s.push_str("<h2 id=\"shares\">Tiers and personas</h2>");
    for sh in &r.shares {
        shares(&mut s, sh);
    }
    for c in &r.crosses {
        cross(&mut s, c);
    }
    if !r.top_accounts.is_empty() {
        s.push_str("<h2 id=\"accounts\">Top accounts</h2>");
        for t in &r.top_accounts {
            top(&mut s, t);
        }
    }
    if r.trends.moments.len() > 1 {
        trends(&mut s, &r.trends);
    }
    inputs(&mut s, r);
    s.push_str("</body></html>\n");
    s
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn share(n: usize, total: usize) -> String {
    if total == 0 {
        return "–".into();
    }
    format!("{:.1} %", 100.0 * n as f64 / total as f64)
}

fn scope_word(scope: Scope) -> &'static str {
    match scope {
        Scope::Contact => "contacts",
        Scope::Account => "accounts",
    }
}

fn segments(s: &mut String, all: &[Count]) {
    s.push_str("<h2 id=\"segments\">Segments</h2>");
    for scope in [Scope::Contact, Scope::Account] {
        let items: Vec<&Count> = all.iter().filter(|c| c.scope == scope).collect();
        if items.is_empty() {
            continue;
        }
        let bars: Vec<(String, f64, String)> = items
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.count as f64,
                    format!("{} ({})", c.count, share(c.count, c.total)),
                )
            })
            .collect();
        let word = scope_word(scope);
        let _ = write!(
            s,
            "<h3>Segment sizes ({word})</h3><div class=\"figure\">{}\
             <table data-table=\"segments-{word}\"><thead><tr><th>segment</th>\
             <th class=\"num\">{word}</th><th class=\"num\">share</th></tr></thead><tbody>",
            svg::hbars(&format!("segment sizes ({word})"), &bars)
        );
        for c in items {
            let _ = write!(
                s,
                "<tr data-name=\"{0}\"><td>{0}</td><td class=\"num\">{1}</td>\
                 <td class=\"num\">{2}</td></tr>",
                esc(&c.name),
                c.count,
                share(c.count, c.total)
            );
        }
        s.push_str("</tbody></table></div>");
    }
}

fn score(s: &mut String, d: &Distribution) {
    let bands: Vec<String> = d
        .bands
        .iter()
        .map(|(set, b, lo, hi)| format!("{} {}: {lo}..{hi}", esc(set), esc(b)))
        .collect();
    let _ = write!(
        s,
        "<h3>{} ({})</h3><p>{}{}</p><div class=\"figure\">{}\
         <table data-table=\"score-{0}\"><thead><tr><th>from</th><th>below</th>\
         <th class=\"num\">{1}</th></tr></thead><tbody>",
        esc(&d.name),
        scope_word(d.scope),
        if bands.is_empty() {
            "No tiers.".to_string()
        } else {
            format!("Tier bands: {}.", bands.join(", "))
        },
        if d.missing > 0 {
            format!(" {} without a value.", d.missing)
        } else {
            String::new()
        },
        svg::histogram(d)
    );
    let width = (d.hi - d.lo) / d.bins.len().max(1) as f64;
    let edge = |x: f64| number((x * 100.0).round() / 100.0);
    for (i, n) in d.bins.iter().enumerate() {
        let lo = d.lo + width * i as f64;
        let last = i + 1 == d.bins.len();
        let _ = write!(
            s,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}{}</td><td class=\"num\">{n}</td></tr>",
            edge(lo),
            if last { "≤ " } else { "" },
            edge(lo + width)
        );
    }
    s.push_str("</tbody></table></div>");
}

fn label(name: &Option<String>) -> String {
    name.clone().unwrap_or_else(|| "(none)".into())
}

fn shares(s: &mut String, sh: &Shares) {
    let what = if sh.kind == ColumnKind::Tier {
        "tiers"
    } else {
        "personas"
    };
    let total: usize = sh.parts.iter().map(|p| p.1).sum();
    let parts: Vec<(String, f64)> = sh
        .parts
        .iter()
        .map(|(n, k)| (label(n), *k as f64))
        .collect();
    let _ = write!(
        s,
        "<h3>{} ({what}, {})</h3><div class=\"figure\">{}\
         <table data-table=\"shares-{0}\"><thead><tr><th>{what}</th><th class=\"num\">{1}</th>\
         <th class=\"num\">share</th></tr></thead><tbody>",
        esc(&sh.name),
        scope_word(sh.scope),
        svg::stacked(&format!("{} shares", sh.name), &parts)
    );
    for (n, k) in &sh.parts {
        let _ = write!(
            s,
            "<tr data-name=\"{0}\"><td>{0}</td><td class=\"num\">{k}</td><td class=\"num\">{1}</td></tr>",
            esc(&label(n)),
            share(*k, total)
        );
    }
    s.push_str("</tbody></table></div>");
}

fn cross(s: &mut String, c: &Cross) {
    let _ = write!(
        s,
        "<h3>{} × {}</h3><div class=\"scroll\"><table data-table=\"cross-{0}-{1}\"><thead><tr><th></th>",
        esc(&c.personas),
        esc(&c.tiers)
    );
    for col in &c.cols {
        let _ = write!(s, "<th class=\"num\">{}</th>", esc(&label(col)));
    }
    s.push_str("</tr></thead><tbody>");
    for (row, counts) in c.rows.iter().zip(&c.counts) {
        let _ = write!(s, "<tr><th>{}</th>", esc(&label(row)));
        for n in counts {
            let _ = write!(s, "<td class=\"num\">{n}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
}

fn top(s: &mut String, t: &TopAccounts) {
    let bars: Vec<(String, f64, String)> = t
        .rows
        .iter()
        .map(|a| {
            (
                a.name.clone().unwrap_or_else(|| a.id.clone()),
                a.score,
                number(a.score),
            )
        })
        .collect();
    let _ = write!(
        s,
        "<h3>Top accounts by {}</h3><div class=\"figure\">{}\
         <table data-table=\"top-{0}\"><thead><tr><th>account</th><th>name</th>\
         <th class=\"num\">{0}</th><th class=\"num\">contacts</th><th>personas</th></tr></thead><tbody>",
        esc(&t.score),
        svg::hbars(&format!("top accounts by {}", t.score), &bars)
    );
    for a in &t.rows {
        let personas: Vec<String> = a
            .personas
            .iter()
            .filter(|(_, ps)| !ps.is_empty())
            .map(|(list, ps)| {
                let names: Vec<String> = ps.iter().map(|(p, n)| format!("{p} {n}")).collect();
                format!("{}: {}", esc(list), esc(&names.join(", ")))
            })
            .collect();
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&a.id),
            esc(a.name.as_deref().unwrap_or("")),
            number(a.score),
            a.contacts,
            personas.join("<br>")
        );
    }
    s.push_str("</tbody></table></div>");
}

fn day(t: DateTime<Utc>) -> String {
    if t.format("%H:%M:%S").to_string() == "00:00:00" {
        t.format("%Y-%m-%d").to_string()
    } else {
        stamp(t)
    }
}

fn trends(s: &mut String, t: &Trends) {
    let xs: Vec<String> = t.moments.iter().map(|m| day(*m)).collect();
    let head: String = xs
        .iter()
        .map(|x| format!("<th class=\"num\">{}</th>", esc(x)))
        .collect();
    s.push_str("<h2 id=\"trends\">Trends</h2>");
    // Tier sets: one chart each, a line per band.
    let mut sets: Vec<(&str, Scope)> = Vec::new();
    for x in t.series.iter().filter(|x| x.band.is_some()) {
        if !sets.contains(&(x.name.as_str(), x.scope)) {
            sets.push((x.name.as_str(), x.scope));
        }
    }
    for (set, scope) in sets {
        let lines: Vec<(String, Vec<f64>)> = t
            .series
            .iter()
            .filter(|x| x.name == set && x.scope == scope)
            .filter_map(|x| Some((x.band.clone()?, x.sizes.iter().map(|n| *n as f64).collect())))
            .collect();
        let _ = write!(
            s,
            "<h3>{} over time ({})</h3><div class=\"figure\">{}<div class=\"scroll\">\
             <table data-table=\"trend-{0}\"><thead><tr><th>band</th>{head}</tr></thead><tbody>",
            esc(set),
            scope_word(scope),
            svg::lines(&format!("{set} over time"), &xs, &lines)
        );
        for (band, sizes) in &lines {
            row(s, band, sizes, None);
        }
        s.push_str("</tbody></table></div></div>");
    }
    let _ = write!(
        s,
        "<h3>Segment sizes over time</h3><div class=\"scroll\"><table data-table=\"trend-segments\">\
         <thead><tr><th>segment</th>{head}<th>trend</th></tr></thead><tbody>"
    );
    for x in t.series.iter().filter(|x| x.band.is_none()) {
        let sizes: Vec<f64> = x.sizes.iter().map(|n| *n as f64).collect();
        let name = match x.scope {
            Scope::Contact => x.name.clone(),
            Scope::Account => format!("{} (accounts)", x.name),
        };
        row(s, &name, &sizes, Some(svg::sparkline(&x.name, &sizes)));
    }
    s.push_str("</tbody></table></div>");
}

fn row(s: &mut String, name: &str, sizes: &[f64], chart: Option<String>) {
    let _ = write!(s, "<tr data-name=\"{0}\"><td>{0}</td>", esc(name));
    for n in sizes {
        let _ = write!(s, "<td class=\"num\">{}</td>", number(*n));
    }
    if let Some(c) = chart {
        let _ = write!(s, "<td>{c}</td>");
    }
    s.push_str("</tr>");
}

fn inputs(s: &mut String, r: &Report) {
    let _ = write!(
        s,
        "<h2 id=\"inputs\">Inputs</h2><p>Evaluated as of <time>{}</time>.</p>\
         <table data-table=\"rules\"><thead><tr><th>rule file</th><th>SHA-256</th></tr></thead><tbody>",
        stamp(r.now)
    );
    for (name, hash) in &r.inputs.rules {
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(name),
            esc(hash)
        );
    }
    s.push_str(
        "</tbody></table><table data-table=\"data\"><thead><tr><th>data file</th>\
         <th class=\"num\">rows</th></tr></thead><tbody>",
    );
    for (name, rows) in &r.inputs.data {
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td class=\"num\">{rows}</td></tr>",
            esc(name)
        );
    }
    s.push_str("</tbody></table>");
}
