//! The report as one self-contained HTML page: inline CSS, inline SVG, one small
//! inline script (the member search, and opening every folded part for print), no
//! fonts or images to fetch. The page is whole with script off: the search box only
//! appears when the script runs.
//!
//! Tests read the numbers back: every table carries `data-table`, every row that
//! stands for a definition `data-name`, and every count cell `data-n` (its number
//! without separators).

use super::lifecycle::Lifecycle;
use super::members::Members;
use super::overlap::Overlap;
use super::svg::{self, esc, int};
use super::{Count, Cross, Distribution, Report, Series, SeriesKind, Shares, TopAccounts};
use crate::engine::ColumnKind;
use crate::plan::display::number;
use crate::plan::types::Scope;
use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt::Write;

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// The page.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let sections = sections(r);
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Audience report, {}</title><style>{STYLE}</style></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to the report</a>\
         <header><h1>Audience report</h1><p class=\"asof\">As of {}{}</p>\
         <nav aria-label=\"Sections\"><ol>",
        esc(&human_moment(r.now)),
        time_tag(r.now),
        history_note(r),
    );
    for (id, title) in &sections {
        let _ = write!(s, "<li><a href=\"#{id}\">{}</a></li>", esc(title));
    }
    s.push_str("</ol></nav></header><main id=\"main\">");
    for (id, _) in &sections {
        match *id {
            "overview" => overview(&mut s, r),
            "movement" => movement(&mut s, r),
            "overlap" => {
                if let Some(o) = &r.overlap {
                    overlap(&mut s, o);
                }
            }
            "lifecycle" => lifecycle(&mut s, r),
            "scores" => scores(&mut s, r),
            "tiers" => tiers(&mut s, r),
            "accounts" => accounts(&mut s, r),
            "members" => members(&mut s, r, &r.members),
            _ => inputs(&mut s, r),
        }
    }
    let _ = writeln!(s, "</main><script>{SCRIPT}</script></body></html>");
    s
}

/// The sections the page holds, with their anchors.
fn sections(r: &Report) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("overview", "Overview")];
    if r.trends.moments.len() > 1 {
        out.push(("movement", "Who entered and left"));
    }
    if r.overlap.is_some() {
        out.push(("overlap", "Overlap"));
    }
    if !r.lifecycles.is_empty() {
        out.push(("lifecycle", "Lifecycle"));
    }
    if !r.scores.is_empty() {
        out.push(("scores", "Scores"));
    }
    if !r.shares.is_empty() {
        out.push(("tiers", "Tiers and personas"));
    }
    if !r.top_accounts.is_empty() {
        out.push(("accounts", "Top accounts"));
    }
    if !r.members.lists.is_empty() {
        out.push(("members", "Members"));
    }
    out.push(("inputs", "Inputs"));
    out
}

/// A moment for people: `Friday 20 November 2026, 00:00 UTC`.
pub fn human_moment(t: DateTime<Utc>) -> String {
    t.format("%A %-d %B %Y, %H:%M UTC").to_string()
}

/// A day for people: `20 Nov 2026` (with the time when it is not midnight).
pub fn human_day(t: DateTime<Utc>) -> String {
    if t.format("%H:%M:%S").to_string() == "00:00:00" {
        t.format("%-d %b %Y").to_string()
    } else {
        t.format("%-d %b %Y %H:%M").to_string()
    }
}

fn time_tag(t: DateTime<Utc>) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        esc(&human_moment(t))
    )
}

/// A definition's name for people: `service_interest` → `Service interest`.
pub fn human_name(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn history_note(r: &Report) -> String {
    match (r.trends.moments.first(), r.trends.moments.len()) {
        (Some(first), n) if n > 1 => format!(
            " · history from {} in {} steps",
            esc(&human_day(*first)),
            n - 1
        ),
        _ => String::new(),
    }
}

/// A definition's name cell: its name for people, the rule's own name, its doc comment.
fn name_cell(r: &Report, name: &str, suffix: &str) -> String {
    let doc = r
        .docs
        .get(name)
        .map(|d| format!("<span class=\"doc\">{}</span>", esc(d)))
        .unwrap_or_default();
    format!(
        "<th scope=\"row\"><span class=\"human\">{}{}</span> <code>{}</code>{doc}</th>",
        esc(&human_name(name)),
        esc(suffix),
        esc(name)
    )
}

fn heading(s: &mut String, id: &str, title: &str, intro: &str) {
    let _ = write!(
        s,
        "<section id=\"{id}\" aria-labelledby=\"{id}-h\"><h2 id=\"{id}-h\">{}</h2>",
        esc(title)
    );
    if !intro.is_empty() {
        let _ = write!(s, "<p class=\"intro\">{intro}</p>");
    }
}

/// A count cell: the number with separators, `data-n` without.
fn n_cell(n: usize) -> String {
    format!("<td class=\"num\" data-n=\"{n}\">{}</td>", int(n))
}

fn percent(n: usize, total: usize) -> String {
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

/// A table in a region that scrolls sideways on narrow screens, reachable by keyboard.
fn scroll_open(s: &mut String, label: &str) {
    let _ = write!(
        s,
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"{}\">",
        esc(label)
    );
}

/// A signed change: `+12`, `−3`, `±0`.
fn signed(d: i64) -> String {
    match d {
        0 => "±0".into(),
        d if d > 0 => format!("+{}", int(d.unsigned_abs() as usize)),
        d => format!("−{}", int(d.unsigned_abs() as usize)),
    }
}

fn change_cell(d: Option<i64>) -> String {
    match d {
        None => "<td class=\"num\">–</td>".into(),
        Some(d) => {
            let (class, mark) = match d.signum() {
                1 => ("up", "▲ "),
                -1 => ("down", "▼ "),
                _ => ("flat", ""),
            };
            format!(
                "<td class=\"num {class}\" data-d=\"{d}\"><span aria-hidden=\"true\">{mark}</span>{}</td>",
                signed(d)
            )
        }
    }
}

fn segment_series<'r>(r: &'r Report, name: &str, scope: Scope) -> Option<&'r Series> {
    r.trends
        .series
        .iter()
        .find(|x| x.kind == SeriesKind::Segment && x.name == name && x.scope == scope)
}

/// The change of a series over its last step.
fn last_change(x: &Series) -> Option<i64> {
    let n = x.sizes.len();
    let (a, b) = (x.sizes.get(n.checked_sub(2)?)?, x.sizes.get(n - 1)?);
    Some(*b as i64 - *a as i64)
}

/// The contact segments that grew most and shrank most over the last step.
/// A series with its change over the last step.
type Mover<'r> = (&'r Series, i64);

fn movers(r: &Report) -> Option<(Mover<'_>, Mover<'_>)> {
    let changes: Vec<Mover<'_>> = r
        .trends
        .series
        .iter()
        .filter(|x| x.kind == SeriesKind::Segment && x.scope == Scope::Contact)
        .filter_map(|x| Some((x, last_change(x)?)))
        .collect();
    let up = changes.iter().copied().max_by_key(|(_, d)| *d)?;
    let down = changes.iter().copied().min_by_key(|(_, d)| *d)?;
    Some((up, down))
}

fn overview(s: &mut String, r: &Report) {
    heading(s, "overview", "Overview", "");
    let segments = r.segments.len();
    s.push_str("<div class=\"cards\">");
    for (label, value) in [
        ("contacts", int(r.contacts)),
        ("accounts", int(r.accounts)),
        ("segments", int(segments)),
    ] {
        let _ = write!(
            s,
            "<div class=\"card\"><span class=\"big\" data-card=\"{label}\">{value}</span> {label}</div>"
        );
    }
    if let Some((up, down)) = movers(r) {
        for (label, x, d) in [
            ("largest rise", up.0, up.1),
            ("largest fall", down.0, down.1),
        ] {
            if d == 0 {
                continue;
            }
            let _ = write!(
                s,
                "<div class=\"card\"><span class=\"big\">{}</span> {label}: <a href=\"#movement\">{}</a></div>",
                signed(d),
                esc(&human_name(&x.name))
            );
        }
    }
    s.push_str("</div>");
    let since = r
        .trends
        .moments
        .len()
        .checked_sub(2)
        .and_then(|k| r.trends.moments.get(k))
        .map(|t| format!("since {}", human_day(*t)));
    for scope in [Scope::Contact, Scope::Account] {
        let items: Vec<&Count> = r.segments.iter().filter(|c| c.scope == scope).collect();
        if items.is_empty() {
            continue;
        }
        let word = scope_word(scope);
        let _ = write!(s, "<h3>Segments of {word}</h3>");
        scroll_open(s, &format!("segments of {word}"));
        let _ = write!(
            s,
            "<table class=\"segments\" data-table=\"segments-{word}\"><thead><tr>\
             <th scope=\"col\">segment</th><th scope=\"col\" class=\"num\">{word}</th>\
             <th scope=\"col\">share<span class=\"wide\"> of all {word}</span></th>"
        );
        if let Some(since) = &since {
            let _ = write!(
                s,
                "<th scope=\"col\" class=\"num\">change<span class=\"wide\"> {}</span></th>\
                 <th scope=\"col\">trend</th>",
                esc(since)
            );
        }
        s.push_str("</tr></thead><tbody>");
        for c in items {
            let _ = write!(
                s,
                "<tr data-name=\"{}\">{}{}<td class=\"share\">{} {}</td>",
                esc(&c.name),
                name_cell(r, &c.name, ""),
                n_cell(c.count),
                svg::cell_bar(c.count as f64 / c.total.max(1) as f64, svg::colour(0)),
                percent(c.count, c.total)
            );
            if since.is_some() {
                let x = segment_series(r, &c.name, scope);
                let sizes: Vec<f64> = x
                    .map(|x| x.sizes.iter().map(|n| *n as f64).collect())
                    .unwrap_or_default();
                let _ = write!(
                    s,
                    "{}<td>{}</td>",
                    change_cell(x.and_then(last_change)),
                    svg::sparkline(&format!("{} over the history", c.name), &sizes)
                );
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div>");
    }
    s.push_str("</section>");
}

/// What one step of the history is called: `week`, `day`, `month`, or `step`.
fn step_word(r: &Report) -> &'static str {
    let days = match r.trends.moments.as_slice() {
        [.., a, b] => (*b - *a).num_days(),
        _ => 0,
    };
    match days {
        1 => "day",
        7 => "week",
        28..=31 => "month",
        _ => "step",
    }
}

fn step_labels(r: &Report) -> Vec<String> {
    r.trends
        .moments
        .windows(2)
        .map(|w| format!("{} to {}", human_day(w[0]), human_day(w[1])))
        .collect()
}

fn movement(s: &mut String, r: &Report) {
    let steps = step_labels(r);
    let last = steps.last().cloned().unwrap_or_default();
    let word = step_word(r);
    let this = if word == "step" {
        "in the last step".to_string()
    } else {
        format!("this {word}")
    };
    let all = format!("in {} {word}s", steps.len());
    heading(
        s,
        "movement",
        "Who entered and who left",
        &format!(
            "{} by {word}, how many came into each segment, tier band and persona \
             (<span class=\"key in\">entered</span>, bars up) and how many went out of it \
             (<span class=\"key out\">left</span>, bars down). “{}” is {}.",
            esc(&human_name(word)),
            esc(&this),
            esc(&last)
        ),
    );
    let groups = [
        (SeriesKind::Segment, "Segments"),
        (SeriesKind::Tier, "Tier bands"),
        (SeriesKind::Persona, "Personas"),
    ];
    for (kind, title) in groups {
        let rows: Vec<&Series> = r.trends.series.iter().filter(|x| x.kind == kind).collect();
        if rows.is_empty() {
            continue;
        }
        let key = format!("{kind:?}").to_lowercase();
        let _ = write!(s, "<h3>{title}</h3>");
        scroll_open(s, &format!("movement of {}", title.to_lowercase()));
        let _ = write!(
            s,
            "<table class=\"movement\" data-table=\"movement-{key}\"><thead><tr>\
             <th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">now</th>\
             <th scope=\"col\" class=\"num\">entered {this}</th>\
             <th scope=\"col\" class=\"num\">left {this}</th>\
             <th scope=\"col\" class=\"num\">entered {all}</th>\
             <th scope=\"col\" class=\"num\">left {all}</th>\
             <th scope=\"col\">{word} by {word}</th></tr></thead><tbody>",
            title.trim_end_matches('s').to_lowercase()
        );
        for x in &rows {
            let label = series_label(x);
            let _ = write!(
                s,
                "<tr data-name=\"{}\">{}{}{}{}{}{}<td>{}</td></tr>",
                esc(&label),
                series_name_cell(x),
                n_cell(x.sizes.last().copied().unwrap_or(0)),
                n_cell(x.entered.last().copied().unwrap_or(0)),
                n_cell(x.left.last().copied().unwrap_or(0)),
                n_cell(x.entered.iter().sum()),
                n_cell(x.left.iter().sum()),
                svg::movement(
                    &format!("{label}: entered and left, {word} by {word}"),
                    &x.entered,
                    &x.left
                )
            );
        }
        s.push_str("</tbody></table></div>");
        let _ = write!(
            s,
            "<details class=\"numbers\"><summary>{title}, {word} by {word} as numbers</summary>"
        );
        scroll_open(s, &format!("{} {word} by {word}", title.to_lowercase()));
        let _ = write!(
            s,
            "<table data-table=\"steps-{key}\"><thead><tr><th scope=\"col\">name</th>"
        );
        for t in r.trends.moments.iter().skip(1) {
            let _ = write!(
                s,
                "<th scope=\"col\" class=\"num\">to {}</th>",
                esc(&human_day(*t))
            );
        }
        s.push_str("</tr></thead><tbody>");
        for x in &rows {
            let label = series_label(x);
            let _ = write!(
                s,
                "<tr data-name=\"{0}\"><th scope=\"row\">{0}</th>",
                esc(&label)
            );
            for (e, l) in x.entered.iter().zip(&x.left) {
                let _ = write!(
                    s,
                    "<td class=\"num\" data-in=\"{e}\" data-out=\"{l}\">+{} −{}</td>",
                    int(*e),
                    int(*l)
                );
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div></details>");
    }
    s.push_str("</section>");
}

/// How a series is named in tables: `segment`, `tier set = band`, `(accounts)` added.
fn series_label(x: &Series) -> String {
    let base = match &x.band {
        Some(b) => format!("{} = {b}", x.name),
        None => x.name.clone(),
    };
    match x.scope {
        Scope::Contact => base,
        Scope::Account => format!("{base} (accounts)"),
    }
}

/// A series' name cell (the descriptions are in the overview; these rows stay short).
fn series_name_cell(x: &Series) -> String {
    let suffix = match (&x.band, x.scope) {
        (Some(b), _) => format!(": {b}"),
        (None, Scope::Account) => " (accounts)".into(),
        (None, Scope::Contact) => String::new(),
    };
    format!(
        "<th scope=\"row\"><span class=\"human\">{}{}</span> <code>{}</code></th>",
        esc(&human_name(&x.name)),
        esc(&suffix),
        esc(&x.name)
    )
}

fn overlap(s: &mut String, o: &Overlap) {
    heading(
        s,
        "overlap",
        "How segments overlap",
        "Each cell counts the contacts in both the row's segment and the column's; its shade \
         is the share of the row's segment that is also in the column's. The diagonal is the \
         segment's size.",
    );
    if o.left_out > 0 {
        let _ = write!(
            s,
            "<p class=\"note\">The first {} segments are compared; {} more are left out to keep \
             the matrix readable.</p>",
            o.names.len(),
            o.left_out
        );
    }
    scroll_open(s, "overlap of segments");
    s.push_str(
        "<table class=\"overlap\" data-table=\"overlap\"><thead><tr><th scope=\"col\">segment</th>",
    );
    for (j, name) in o.names.iter().enumerate() {
        let _ = write!(
            s,
            "<th scope=\"col\" class=\"vert\"><span title=\"{0}\">{1}</span></th>",
            esc(name),
            esc(&format!("{}. {}", j + 1, human_name(name)))
        );
    }
    s.push_str("</tr></thead><tbody>");
    for (i, (name, row)) in o.names.iter().zip(&o.shared).enumerate() {
        let size = row.get(i).copied().unwrap_or(0);
        let _ = write!(
            s,
            "<tr data-name=\"{}\"><th scope=\"row\">{}. {} <code>{}</code></th>",
            esc(name),
            i + 1,
            esc(&human_name(name)),
            esc(name)
        );
        for (j, n) in row.iter().enumerate() {
            let share = if size == 0 {
                0.0
            } else {
                *n as f64 / size as f64
            };
            let class = if i == j {
                "diag".to_string()
            } else if *n == 0 {
                "zero".to_string()
            } else {
                // Shade 1 to 5 by the share of the row's segment.
                format!("s{}", 1 + (share * 5.0).floor().clamp(0.0, 4.0) as usize)
            };
            let _ = write!(
                s,
                "<td class=\"num {class}\" data-n=\"{n}\">{}</td>",
                int(*n)
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div></section>");
}

fn lifecycle(s: &mut String, r: &Report) {
    let from = r
        .trends
        .moments
        .first()
        .map(|t| human_day(*t))
        .unwrap_or_default();
    heading(
        s,
        "lifecycle",
        "Lifecycle",
        &format!(
            "Contacts at each stage now and on {}, how many entered each stage in between, \
             and how many of those at a stage on {} are at a later stage now.",
            esc(&from),
            esc(&from)
        ),
    );
    for l in &r.lifecycles {
        one_lifecycle(s, l, &from);
    }
    s.push_str("</section>");
}

fn one_lifecycle(s: &mut String, l: &Lifecycle, from: &str) {
    let bars: Vec<(String, f64, String)> = l
        .stages
        .iter()
        .zip(&l.now)
        .map(|(st, n)| (st.clone(), *n as f64, int(*n)))
        .collect();
    let _ = write!(
        s,
        "<h3>{} <code>{}</code></h3><div class=\"figure\">{}",
        esc(&human_name(&l.attr)),
        esc(&l.attr),
        svg::hbars(&format!("contacts per {} now", l.attr), &bars)
    );
    scroll_open(s, &format!("{} funnel", l.attr));
    let _ = write!(
        s,
        "<table data-table=\"lifecycle-{}\"><thead><tr><th scope=\"col\">stage</th>\
         <th scope=\"col\" class=\"num\">on {}</th><th scope=\"col\" class=\"num\">now</th>\
         <th scope=\"col\" class=\"num\">entered in between</th>\
         <th scope=\"col\" class=\"num\">moved on</th><th scope=\"col\" class=\"num\">share moved on</th>\
         </tr></thead><tbody>",
        esc(&l.attr),
        esc(from)
    );
    for (i, st) in l.stages.iter().enumerate() {
        let at = |v: &[usize]| v.get(i).copied().unwrap_or(0);
        let _ = write!(
            s,
            "<tr data-name=\"{0}\"><th scope=\"row\">{0}</th>{1}{2}{3}{4}<td class=\"num\">{5}</td></tr>",
            esc(st),
            n_cell(at(&l.start)),
            n_cell(at(&l.now)),
            n_cell(at(&l.entered)),
            n_cell(at(&l.advanced)),
            percent(at(&l.advanced), at(&l.start))
        );
    }
    let _ = write!(
        s,
        "</tbody></table></div></div><p class=\"note\">Without a {}: {} contacts now, {} on {}.</p>",
        esc(&l.attr),
        int(l.missing),
        int(l.missing_start),
        esc(from)
    );
    flows(s, l, from);
}

/// Where the contacts at each stage at the start are now: a from × to table.
fn flows(s: &mut String, l: &Lifecycle, from: &str) {
    let none = "(none)".to_string();
    let names: Vec<&String> = l.stages.iter().chain(std::iter::once(&none)).collect();
    let _ = write!(
        s,
        "<h4>Where the contacts at each stage on {0} are now</h4>",
        esc(from)
    );
    scroll_open(s, &format!("{} from {from} to now", l.attr));
    let _ = write!(
        s,
        "<table class=\"flows\" data-table=\"flows-{}\"><thead><tr>\
         <th scope=\"col\">on {} ↓ now →</th>",
        esc(&l.attr),
        esc(from)
    );
    for n in &names {
        let _ = write!(s, "<th scope=\"col\" class=\"num\">{}</th>", esc(n));
    }
    s.push_str("</tr></thead><tbody>");
    for (name, row) in names.iter().zip(&l.flows) {
        let _ = write!(
            s,
            "<tr data-name=\"{0}\"><th scope=\"row\">{0}</th>",
            esc(name)
        );
        for n in row {
            s.push_str(&n_cell(*n));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
}

fn scores(s: &mut String, r: &Report) {
    heading(
        s,
        "scores",
        "Scores",
        "How each score spreads: 20 equal bins over the score's range, its tier bands shaded \
         behind. When more rows score exactly 0 than fall in any bin, they are drawn apart, \
         left of the axis, so the rest stays readable.",
    );
    for d in &r.scores {
        score(s, r, d);
    }
    s.push_str("</section>");
}

fn score(s: &mut String, r: &Report, d: &Distribution) {
    let rows = match d.scope {
        Scope::Contact => r.contacts,
        Scope::Account => r.accounts,
    };
    let _ = write!(
        s,
        "<h3>{} <code>{}</code></h3>",
        esc(&human_name(&d.name)),
        esc(&d.name)
    );
    if let Some(doc) = r.docs.get(&d.name) {
        let _ = write!(s, "<p class=\"doc\">{}</p>", esc(doc));
    }
    let mut notes = Vec::new();
    if d.zeros > 0 {
        notes.push(format!(
            "<strong>{} {} ({}) score exactly 0</strong>, drawn apart.",
            int(d.zeros),
            scope_word(d.scope),
            percent(d.zeros, rows)
        ));
    }
    if d.missing > 0 {
        notes.push(format!("{} without a value.", int(d.missing)));
    }
    if !notes.is_empty() {
        let _ = write!(s, "<p class=\"callout\">{}</p>", notes.join(" "));
    }
    let _ = write!(s, "<div class=\"figure\">{}", svg::histogram(d));
    if !d.bands.is_empty() {
        let _ = write!(
            s,
            "<table data-table=\"bands-{}\"><thead><tr><th scope=\"col\">band</th>\
             <th scope=\"col\">scores</th><th scope=\"col\" class=\"num\">{}</th>\
             <th scope=\"col\" class=\"num\">share</th></tr></thead><tbody>",
            esc(&d.name),
            scope_word(d.scope)
        );
        for (set, band, lo, hi) in &d.bands {
            let n = r
                .shares
                .iter()
                .find(|sh| sh.name == *set && sh.scope == d.scope)
                .and_then(|sh| sh.parts.iter().find(|p| p.0.as_deref() == Some(band)))
                .map_or(0, |p| p.1);
            let _ = write!(
                s,
                "<tr data-name=\"{0} = {1}\"><th scope=\"row\">{1}</th><td>{lo} to {hi}</td>{2}\
                 <td class=\"num\">{3}</td></tr>",
                esc(set),
                esc(band),
                n_cell(n),
                percent(n, rows)
            );
        }
        s.push_str("</tbody></table>");
    }
    s.push_str("</div>");
    let width = (d.hi - d.lo) / d.bins.len().max(1) as f64;
    let edge = |x: f64| number((x * 100.0).round() / 100.0);
    let _ = write!(
        s,
        "<details class=\"numbers\"><summary>The histogram as numbers</summary>\
         <table data-table=\"score-{}\"><thead><tr><th scope=\"col\">from</th>\
         <th scope=\"col\">below</th><th scope=\"col\" class=\"num\">{}</th></tr></thead><tbody>",
        esc(&d.name),
        scope_word(d.scope)
    );
    if d.zeros > 0 {
        let _ = write!(
            s,
            "<tr><td colspan=\"2\">exactly 0</td>{}</tr>",
            n_cell(d.zeros)
        );
    }
    for (i, n) in d.bins.iter().enumerate() {
        let lo = d.lo + width * i as f64;
        let last = i + 1 == d.bins.len();
        let _ = write!(
            s,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}{}</td>{}</tr>",
            edge(lo),
            if last { "≤ " } else { "" },
            edge(lo + width),
            n_cell(*n)
        );
    }
    s.push_str("</tbody></table></details>");
}

fn label(name: &Option<String>) -> String {
    name.clone().unwrap_or_else(|| "(none)".into())
}

fn tiers(s: &mut String, r: &Report) {
    heading(
        s,
        "tiers",
        "Tiers and personas",
        "How rows spread over the bands of each tier set and the personas of each list \
         (grey: in no band, or no persona), and for tier sets, each band over the history \
         on its own scale.",
    );
    for sh in &r.shares {
        shares(s, r, sh);
    }
    for c in &r.crosses {
        cross(s, c);
    }
    s.push_str("</section>");
}

fn shares(s: &mut String, r: &Report, sh: &Shares) {
    let what = if sh.kind == ColumnKind::Tier {
        "band"
    } else {
        "persona"
    };
    let total: usize = sh.parts.iter().map(|p| p.1).sum();
    let parts: Vec<(String, f64, &str)> = sh
        .parts
        .iter()
        .enumerate()
        .map(|(i, (n, k))| {
            let fill = if n.is_some() {
                svg::colour(i + 1)
            } else {
                svg::NONE_COLOUR
            };
            (label(n), *k as f64, fill)
        })
        .collect();
    let _ = write!(
        s,
        "<h3>{} <code>{}</code></h3>",
        esc(&human_name(&sh.name)),
        esc(&sh.name)
    );
    if let Some(doc) = r.docs.get(&sh.name) {
        let _ = write!(s, "<p class=\"doc\">{}</p>", esc(doc));
    }
    let _ = write!(
        s,
        "<div class=\"figure\">{}<table data-table=\"shares-{}\"><thead><tr>\
         <th scope=\"col\">{what}</th><th scope=\"col\" class=\"num\">{}</th>\
         <th scope=\"col\" class=\"num\">share</th></tr></thead><tbody>",
        svg::stacked(&format!("{} shares", sh.name), &parts),
        esc(&sh.name),
        scope_word(sh.scope)
    );
    for (n, k) in &sh.parts {
        let _ = write!(
            s,
            "<tr data-name=\"{0}\"><th scope=\"row\">{0}</th>{1}<td class=\"num\">{2}</td></tr>",
            esc(&label(n)),
            n_cell(*k),
            percent(*k, total)
        );
    }
    s.push_str("</tbody></table></div>");
    if sh.kind == ColumnKind::Tier && r.trends.moments.len() > 1 {
        let bands: Vec<&Series> = r
            .trends
            .series
            .iter()
            .filter(|x| x.kind == SeriesKind::Tier && x.name == sh.name && x.scope == sh.scope)
            .collect();
        let first = r.trends.moments.first().map(|t| human_day(*t));
        let _ = write!(
            s,
            "<h4>Each band from {} to now, on its own scale</h4><div class=\"multiples\">",
            esc(first.as_deref().unwrap_or(""))
        );
        for (i, x) in bands.iter().enumerate() {
            let band = x.band.as_deref().unwrap_or("");
            let values: Vec<f64> = x.sizes.iter().map(|n| *n as f64).collect();
            let (a, b) = (
                x.sizes.first().copied().unwrap_or(0),
                x.sizes.last().copied().unwrap_or(0),
            );
            let _ = write!(
                s,
                "<figure class=\"multiple\" data-name=\"{0} = {1}\"><figcaption><strong>{1}</strong> \
                 {2} → {3}</figcaption>{4}</figure>",
                esc(&sh.name),
                esc(band),
                int(a),
                int(b),
                svg::small_line(
                    &format!("{} = {band} over time", sh.name),
                    &values,
                    svg::colour(i + 1)
                )
            );
        }
        s.push_str("</div>");
    }
}

fn cross(s: &mut String, c: &Cross) {
    let _ = write!(
        s,
        "<h3>{} by {} <code>{} × {}</code></h3>",
        esc(&human_name(&c.personas)),
        esc(&c.tiers),
        esc(&c.personas),
        esc(&c.tiers)
    );
    scroll_open(s, &format!("{} by {}", c.personas, c.tiers));
    let _ = write!(
        s,
        "<table data-table=\"cross-{}-{}\"><thead><tr><th scope=\"col\">persona</th>",
        esc(&c.personas),
        esc(&c.tiers)
    );
    for col in &c.cols {
        let _ = write!(
            s,
            "<th scope=\"col\" class=\"num\">{}</th>",
            esc(&label(col))
        );
    }
    s.push_str("</tr></thead><tbody>");
    for (row, counts) in c.rows.iter().zip(&c.counts) {
        let _ = write!(
            s,
            "<tr data-name=\"{0}\"><th scope=\"row\">{0}</th>",
            esc(&label(row))
        );
        for n in counts {
            s.push_str(&n_cell(*n));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
}

fn accounts(s: &mut String, r: &Report) {
    heading(s, "accounts", "Top accounts", "");
    for t in &r.top_accounts {
        top(s, r, t);
    }
    s.push_str("</section>");
}

fn top(s: &mut String, r: &Report, t: &TopAccounts) {
    let max = t.rows.iter().map(|a| a.score).fold(0.0, f64::max);
    let _ = write!(
        s,
        "<h3>Ranked by {} <code>{}</code></h3>",
        esc(&human_name(&t.score).to_lowercase()),
        esc(&t.score)
    );
    if let Some(doc) = r.docs.get(&t.score) {
        let _ = write!(s, "<p class=\"doc\">{}</p>", esc(doc));
    }
    scroll_open(s, &format!("top accounts by {}", t.score));
    let _ = write!(
        s,
        "<table data-table=\"top-{0}\"><thead><tr><th scope=\"col\">account</th>\
         <th scope=\"col\" class=\"num\">{0}</th><th scope=\"col\"><span class=\"sr\">compared with the highest</span></th>\
         <th scope=\"col\" class=\"num\">contacts</th><th scope=\"col\">personas</th></tr></thead><tbody>",
        esc(&t.score)
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
            "<tr data-name=\"{0}\"><th scope=\"row\">{1} <code>{0}</code></th>\
             <td class=\"num\">{2}</td><td>{3}</td>{4}<td>{5}</td></tr>",
            esc(&a.id),
            esc(a.name.as_deref().unwrap_or("")),
            number(a.score),
            svg::cell_bar(if max > 0.0 { a.score / max } else { 0.0 }, svg::colour(0)),
            n_cell(a.contacts),
            personas.join("<br>")
        );
    }
    s.push_str("</tbody></table></div>");
}

fn members(s: &mut String, r: &Report, m: &Members) {
    heading(
        s,
        "members",
        "Who is in each segment",
        "Open a segment to see its members with the attributes the rules read (a contact's \
         as of the report's moment). Long segments show an even sample (every member with \
         <code>--members all</code>).",
    );
    s.push_str(
        "<div class=\"search\" hidden><label for=\"member-search\">Find a member in every \
         segment below</label> <input id=\"member-search\" type=\"search\" \
         autocomplete=\"off\" placeholder=\"id, name, country …\">\
         <span id=\"member-status\" role=\"status\"></span></div>",
    );
    for list in &m.lists {
        let shown = list.rows.len();
        let _ = write!(
            s,
            "<details class=\"members\" data-name=\"{0}\"><summary>{1}{4} <code>{0}</code>: \
             {2} {3}</summary>",
            esc(&list.segment),
            esc(&human_name(&list.segment)),
            int(list.total),
            if shown < list.total {
                format!("members, {} shown", int(shown))
            } else {
                "members".into()
            },
            if list.scope == Scope::Account {
                " (accounts)"
            } else {
                ""
            }
        );
        if let Some(doc) = r.docs.get(&list.segment) {
            let _ = write!(s, "<p class=\"doc\">{}</p>", esc(doc));
        }
        if list.rows.is_empty() {
            s.push_str("<p>No members.</p></details>");
            continue;
        }
        scroll_open(s, &format!("members of {}", list.segment));
        let _ = write!(
            s,
            "<table data-table=\"members-{}\"><thead><tr><th scope=\"col\">id</th>",
            esc(&list.segment)
        );
        let attrs = match list.scope {
            Scope::Contact => &m.attrs,
            Scope::Account => &m.account_attrs,
        };
        for a in attrs {
            let _ = write!(s, "<th scope=\"col\">{}</th>", esc(a));
        }
        s.push_str("</tr></thead><tbody>");
        for (id, values) in &list.rows {
            let _ = write!(s, "<tr><th scope=\"row\"><code>{}</code></th>", esc(id));
            for v in values {
                let _ = write!(s, "<td>{}</td>", esc(v));
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div></details>");
    }
    s.push_str("</section>");
}

fn inputs(s: &mut String, r: &Report) {
    heading(s, "inputs", "Inputs", "");
    let _ = write!(
        s,
        "<p>Evaluated as of {}.</p><table data-table=\"rules\"><thead><tr>\
         <th scope=\"col\">rule file</th><th scope=\"col\">SHA-256</th></tr></thead><tbody>",
        time_tag(r.now)
    );
    for (name, hash) in &r.inputs.rules {
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td><code class=\"hash\">{}</code></td></tr>",
            esc(name),
            esc(hash)
        );
    }
    s.push_str(
        "</tbody></table><table data-table=\"data\"><thead><tr><th scope=\"col\">data file</th>\
         <th scope=\"col\" class=\"num\">rows</th></tr></thead><tbody>",
    );
    for (name, rows) in &r.inputs.data {
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td>{}</tr>",
            esc(name),
            n_cell(*rows)
        );
    }
    s.push_str("</tbody></table></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_moments_for_people() {
        assert_eq!(human_name("service_interest"), "Service interest");
        assert_eq!(human_name("no_action_60d"), "No action 60d");
        let t: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap_or_default();
        assert_eq!(human_moment(t), "Friday 20 November 2026, 00:00 UTC");
        assert_eq!(human_day(t), "20 Nov 2026");
        assert_eq!(signed(-1234), "−1,234");
        assert_eq!(signed(0), "±0");
    }
}
