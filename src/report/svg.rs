//! Charts as inline SVG, drawn on the server: no script, no network, the same bytes for
//! the same numbers. Every chart root carries `class="chart"`, `data-chart` (its kind),
//! and `data-bars` or `data-series` (how many it drew), so tests can count what rendered.

use super::Distribution;
use crate::plan::display::number;
use std::fmt::Write;

/// Colours of bars and lines (Tableau 10, distinguishable in print and for most
/// colour-vision deficiencies).
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// A palette colour by index, cycling.
pub fn colour(i: usize) -> &'static str {
    PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#4e79a7")
}

/// Escapes text for HTML and SVG.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn open(kind: &str, title: &str, w: f64, h: f64, attr: &str, n: usize) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"{kind}\" \
         {attr}=\"{n}\" role=\"img\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\">\
         <title>{}</title>",
        esc(title)
    )
}

/// Horizontal bars, one per `(label, value)`, each labelled with `text`.
pub fn hbars(title: &str, bars: &[(String, f64, String)]) -> String {
    let (label_w, bar_w, row) = (190.0, 300.0, 18.0);
    let h = row * bars.len() as f64 + 10.0;
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    let mut s = open(
        "bars",
        title,
        label_w + bar_w + 120.0,
        h,
        "data-bars",
        bars.len(),
    );
    for (i, (label, value, text)) in bars.iter().enumerate() {
        let y = 5.0 + row * i as f64;
        let w = if max > 0.0 { bar_w * value / max } else { 0.0 };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"label\">{}</text>\
             <rect class=\"bar\" x=\"{label_w}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" \
             fill=\"{}\" data-value=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{}\" class=\"value\">{}</text>",
            label_w - 6.0,
            y + 13.0,
            esc(label),
            y + 2.0,
            row - 4.0,
            colour(0),
            number(*value),
            label_w + w + 4.0,
            y + 13.0,
            esc(text),
        );
    }
    s.push_str("</svg>");
    s
}

/// One bar split into parts, one per `(label, value)`, with a legend below.
pub fn stacked(title: &str, parts: &[(String, f64)]) -> String {
    let (w, bar_h) = (560.0, 28.0);
    let legend_rows = parts.len().div_ceil(3);
    let h = bar_h + 14.0 + 18.0 * legend_rows as f64;
    let total: f64 = parts.iter().map(|p| p.1).sum();
    let mut s = open("stacked", title, w, h, "data-bars", parts.len());
    let mut x = 0.0;
    for (i, (label, value)) in parts.iter().enumerate() {
        let pw = if total > 0.0 { w * value / total } else { 0.0 };
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"0\" width=\"{pw:.1}\" height=\"{bar_h}\" \
             fill=\"{}\" data-value=\"{}\"><title>{}: {}</title></rect>",
            colour(i),
            number(*value),
            esc(label),
            number(*value)
        );
        x += pw;
        let (lx, ly) = (
            (i % 3) as f64 * (w / 3.0),
            bar_h + 14.0 + 18.0 * (i / 3) as f64,
        );
        let _ = write!(
            s,
            "<rect x=\"{lx:.1}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{ly}\" class=\"label\">{}</text>",
            ly - 9.0,
            colour(i),
            lx + 14.0,
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// A histogram of a score with its tier bands shaded behind the bars.
pub fn histogram(d: &Distribution) -> String {
    let (left, top, pw, ph) = (40.0, 22.0, 520.0, 160.0);
    let (w, h) = (left + pw + 10.0, top + ph + 30.0);
    let max = d.bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let span = d.hi - d.lo;
    let xpos = |v: f64| left + pw * ((v - d.lo) / span).clamp(0.0, 1.0);
    let mut s = open(
        "histogram",
        &format!("distribution of {}", d.name),
        w,
        h,
        "data-bars",
        d.bins.len(),
    );
    for (i, (_, band, lo, hi)) in d.bands.iter().enumerate() {
        let (x0, x1) = (xpos(*lo as f64 - 0.5), xpos(*hi as f64 + 0.5));
        let _ = write!(
            s,
            "<rect class=\"band\" x=\"{x0:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{ph}\" \
             fill=\"{}\" fill-opacity=\"0.15\"/>\
             <text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"label\">{}</text>",
            x1 - x0,
            colour(i + 1),
            (x0 + x1) / 2.0,
            top - 6.0,
            esc(band)
        );
    }
    let bw = pw / d.bins.len().max(1) as f64;
    for (i, n) in d.bins.iter().enumerate() {
        let bh = ph * *n as f64 / max;
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" \
             fill=\"{}\" data-value=\"{n}\"/>",
            left + bw * i as f64 + 1.0,
            top + ph - bh,
            (bw - 2.0).max(1.0),
            colour(0)
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#555\"/>\
         <text x=\"{left}\" y=\"{2}\" class=\"label\">{3}</text>\
         <text x=\"{1}\" y=\"{2}\" text-anchor=\"end\" class=\"label\">{4}</text>\
         <text x=\"{5}\" y=\"{6}\" text-anchor=\"end\" class=\"label\">{7}</text>",
        top + ph,
        left + pw,
        top + ph + 16.0,
        number(d.lo),
        number(d.hi),
        left - 4.0,
        top + 10.0,
        number(max)
    );
    s.push_str("</svg>");
    s
}

/// Lines over the same x positions, one per `(name, values)`, with a legend.
pub fn lines(title: &str, xs: &[String], series: &[(String, Vec<f64>)]) -> String {
    let (left, top, pw, ph) = (40.0, 10.0, 520.0, 150.0);
    let legend_rows = series.len().div_ceil(3);
    let (w, h) = (
        left + pw + 20.0,
        top + ph + 28.0 + 18.0 * legend_rows as f64,
    );
    let max = series
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .fold(0.0, f64::max)
        .max(1.0);
    let step = pw / (xs.len().max(2) - 1) as f64;
    let mut s = open("lines", title, w, h, "data-series", series.len());
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#555\"/>\
         <text x=\"{2}\" y=\"{3}\" text-anchor=\"end\" class=\"label\">{4}</text>\
         <text x=\"{2}\" y=\"{0}\" text-anchor=\"end\" class=\"label\">0</text>",
        top + ph,
        left + pw,
        left - 4.0,
        top + 8.0,
        number(max)
    );
    if let (Some(first), Some(last)) = (xs.first(), xs.last()) {
        let _ = write!(
            s,
            "<text x=\"{left}\" y=\"{0}\" class=\"label\">{1}</text>\
             <text x=\"{2}\" y=\"{0}\" text-anchor=\"end\" class=\"label\">{3}</text>",
            top + ph + 16.0,
            esc(first),
            left + pw,
            esc(last)
        );
    }
    for (i, (name, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(k, v)| {
                format!(
                    "{:.1},{:.1}",
                    left + step * k as f64,
                    top + ph - ph * v / max
                )
            })
            .collect();
        let _ = write!(
            s,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" \
             points=\"{}\"><title>{}</title></polyline>",
            colour(i),
            points.join(" "),
            esc(name)
        );
        let (lx, ly) = (
            left + (i % 3) as f64 * (pw / 3.0),
            top + ph + 36.0 + 18.0 * (i / 3) as f64,
        );
        let _ = write!(
            s,
            "<rect x=\"{lx:.1}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{ly}\" class=\"label\">{}</text>",
            ly - 9.0,
            colour(i),
            lx + 14.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// A small line without axes, for a table cell.
pub fn sparkline(title: &str, values: &[f64]) -> String {
    let (w, h) = (120.0, 24.0);
    let max = values.iter().copied().fold(0.0, f64::max).max(1.0);
    let step = w / (values.len().max(2) - 1) as f64;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(k, v)| {
            format!(
                "{:.1},{:.1}",
                step * k as f64,
                h - 2.0 - (h - 4.0) * v / max
            )
        })
        .collect();
    let mut s = open("sparkline", title, w, h, "data-series", 1);
    let _ = write!(
        s,
        "<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        colour(0),
        points.join(" ")
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_say_how_many_marks_they_drew() {
        let bars = hbars(
            "t",
            &[("a".into(), 1.0, "1".into()), ("b".into(), 0.0, "0".into())],
        );
        assert!(bars.contains("data-bars=\"2\""));
        assert_eq!(bars.matches("class=\"bar\"").count(), 2);
        let l = lines(
            "t",
            &["x".into(), "y".into()],
            &[("s".into(), vec![1.0, 2.0])],
        );
        assert_eq!(l.matches("<polyline").count(), 1);
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
