//! Charts as inline SVG, drawn on the server: no script, no network, the same bytes for
//! the same numbers. Every chart root carries `class="chart"`, `data-chart` (its kind),
//! and `data-bars` or `data-series` (how many it drew), so tests can count what rendered.

use super::Distribution;
use crate::plan::display::number;
use std::fmt::Write;

/// Colours of bars and lines: Okabe and Ito's palette, told apart with every common
/// colour-vision deficiency and in greyscale print (yellow last: it is light).
pub const PALETTE: [&str; 7] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
];

/// The colour of rows in no band or persona: a neutral grey, not an alarm.
pub const NONE_COLOUR: &str = "#b8b8b8";
/// Rows that entered a segment (blue) and that left it (vermillion).
pub const ENTERED: &str = "#0072b2";
pub const LEFT: &str = "#d55e00";

/// A palette colour by index, cycling.
pub fn colour(i: usize) -> &'static str {
    PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#0072b2")
}

/// A whole number with thousands separated by commas: `1,234,567`.
pub fn int(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
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

/// One bar split into parts, one per `(label, value, colour)`, with a legend below.
pub fn stacked(title: &str, parts: &[(String, f64, &str)]) -> String {
    let (w, bar_h) = (560.0, 28.0);
    let legend_rows = parts.iter().filter(|p| p.1 > 0.0).count().div_ceil(3);
    let h = bar_h + 14.0 + 18.0 * legend_rows as f64;
    let total: f64 = parts.iter().map(|p| p.1).sum();
    let mut s = open("stacked", title, w, h, "data-bars", parts.len());
    let mut x = 0.0;
    let mut shown = 0;
    for (label, value, fill) in parts {
        let pw = if total > 0.0 { w * value / total } else { 0.0 };
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"0\" width=\"{pw:.1}\" height=\"{bar_h}\" \
             fill=\"{fill}\" data-value=\"{}\"><title>{}: {}</title></rect>",
            number(*value),
            esc(label),
            number(*value)
        );
        x += pw;
        if *value <= 0.0 {
            continue;
        }
        let (lx, ly) = (
            (shown % 3) as f64 * (w / 3.0),
            bar_h + 14.0 + 18.0 * (shown / 3) as f64,
        );
        shown += 1;
        let _ = write!(
            s,
            "<rect x=\"{lx:.1}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{fill}\"/>\
             <text x=\"{:.1}\" y=\"{ly}\" class=\"label\">{}</text>",
            ly - 9.0,
            lx + 14.0,
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// A histogram of a score with its tier bands shaded behind the bars and named above
/// them. A zero spike ([`Distribution::zeros`]) is drawn apart, left of the axis, as a
/// bar cut at the top of the scale and labelled with its count.
pub fn histogram(d: &Distribution) -> String {
    let spike = d.zeros > 0;
    let (left, top, pw, ph) = (if spike { 96.0 } else { 48.0 }, 26.0, 520.0, 150.0);
    let (w, h) = (left + pw + 12.0, top + ph + 34.0);
    let max = d.bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let span = d.hi - d.lo;
    let xpos = |v: f64| left + pw * ((v - d.lo) / span).clamp(0.0, 1.0);
    let bars = d.bins.len() + usize::from(spike);
    let mut s = open(
        "histogram",
        &format!("distribution of {}", d.name),
        w,
        h,
        "data-bars",
        bars,
    );
    for (i, (_, band, lo, hi)) in d.bands.iter().enumerate() {
        let (x0, x1) = (xpos(*lo as f64 - 0.5), xpos(*hi as f64 + 0.5));
        let _ = write!(
            s,
            "<rect class=\"band\" x=\"{x0:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{ph}\" \
             fill=\"{}\" fill-opacity=\"0.13\"/>\
             <line x1=\"{x0:.1}\" y1=\"{}\" x2=\"{x0:.1}\" y2=\"{}\" stroke=\"#767676\" \
             stroke-dasharray=\"3 3\"/>\
             <text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"label\">{}</text>",
            x1 - x0,
            colour(i + 1),
            top - 2.0,
            top + ph,
            (x0 + x1) / 2.0,
            top - 8.0,
            esc(band)
        );
    }
    let bw = pw / d.bins.len().max(1) as f64;
    for (i, n) in d.bins.iter().enumerate() {
        let bh = ph * *n as f64 / max;
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" \
             fill=\"{}\" data-value=\"{n}\"><title>{}</title></rect>",
            left + bw * i as f64 + 1.0,
            top + ph - bh,
            (bw - 2.0).max(1.0),
            colour(0),
            int(*n)
        );
    }
    if spike {
        // The spike: full height, a white zig-zag cut through it, its count above.
        let x = 12.0;
        let _ = write!(
            s,
            "<rect class=\"bar spike\" x=\"{x}\" y=\"{top}\" width=\"36\" height=\"{ph}\" \
             fill=\"{}\" data-value=\"{}\"><title>exactly 0: {}</title></rect>\
             <polyline points=\"{},{y1} {},{y2} {},{y1} {},{y2} {},{y1}\" fill=\"none\" \
             stroke=\"#fff\" stroke-width=\"4\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"value\">{}</text>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"label\">= 0</text>",
            colour(0),
            d.zeros,
            int(d.zeros),
            x - 2.0,
            x + 9.0,
            x + 18.0,
            x + 27.0,
            x + 38.0,
            x + 18.0,
            top - 8.0,
            int(d.zeros),
            x + 18.0,
            top + ph + 16.0,
            y1 = top + 40.0,
            y2 = top + 50.0,
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#555\"/>\
         <text x=\"{left}\" y=\"{2}\" class=\"label\">{3}</text>\
         <text x=\"{1}\" y=\"{2}\" text-anchor=\"end\" class=\"label\">{4}</text>\
         <text x=\"{5}\" y=\"{6}\" text-anchor=\"end\" class=\"label\">{7}</text>\
         <text x=\"{5}\" y=\"{0}\" text-anchor=\"end\" class=\"label\">0</text>",
        top + ph,
        left + pw,
        top + ph + 16.0,
        number(d.lo),
        number(d.hi),
        left - 4.0,
        top + 10.0,
        int(max as usize)
    );
    s.push_str("</svg>");
    s
}

/// A bar for a table cell: `share` (0..1) of its width filled.
pub fn cell_bar(share: f64, fill: &str) -> String {
    let w = (share.clamp(0.0, 1.0) * 120.0).max(if share > 0.0 { 1.0 } else { 0.0 });
    format!(
        "<svg class=\"cellbar\" aria-hidden=\"true\" viewBox=\"0 0 120 10\" width=\"120\" \
         height=\"10\"><rect x=\"0\" y=\"0\" width=\"120\" height=\"10\" fill=\"#eee\"/>\
         <rect x=\"0\" y=\"0\" width=\"{w:.1}\" height=\"10\" fill=\"{fill}\"/></svg>"
    )
}

/// Rows that entered (a bar up) and left (a bar down) at every step, on one scale.
pub fn movement(title: &str, entered: &[usize], left: &[usize]) -> String {
    let (w, h, mid) = (180.0, 44.0, 22.0);
    let max = entered
        .iter()
        .chain(left)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = entered.len().max(1);
    let bw = w / n as f64;
    let mut s = open("movement", title, w, h, "data-bars", 2 * entered.len());
    let _ = write!(
        s,
        "<line x1=\"0\" y1=\"{mid}\" x2=\"{w}\" y2=\"{mid}\" stroke=\"#767676\"/>"
    );
    for (k, (e, l)) in entered.iter().zip(left).enumerate() {
        let x = bw * k as f64 + 1.0;
        let (eh, lh) = ((mid - 2.0) * *e as f64 / max, (mid - 2.0) * *l as f64 / max);
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{eh:.1}\" \
             fill=\"{ENTERED}\" data-value=\"{e}\"/>\
             <rect class=\"bar\" x=\"{x:.1}\" y=\"{mid}\" width=\"{:.1}\" height=\"{lh:.1}\" \
             fill=\"{LEFT}\" data-value=\"{l}\"/>",
            mid - eh,
            (bw - 2.0).max(1.0),
            (bw - 2.0).max(1.0),
        );
    }
    s.push_str("</svg>");
    s
}

/// A small line chart on its own scale (lowest to highest value, both labelled), for
/// small multiples.
pub fn small_line(title: &str, values: &[f64], fill: &str) -> String {
    let (left, top, pw, ph) = (44.0, 8.0, 200.0, 60.0);
    let (w, h) = (left + pw + 8.0, top + ph + 8.0);
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if !lo.is_finite() || !hi.is_finite() {
        (0.0, 1.0)
    } else if hi <= lo {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let step = pw / (values.len().max(2) - 1) as f64;
    let y = |v: f64| top + ph - ph * (v - lo) / (hi - lo);
    let xy: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(k, v)| (left + step * k as f64, y(*v)))
        .collect();
    let points: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let mut s = open("lines", title, w, h, "data-series", 1);
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{0}\" stroke=\"#767676\"/>\
         <text x=\"{1}\" y=\"{2}\" text-anchor=\"end\" class=\"label\">{3}</text>\
         <text x=\"{1}\" y=\"{0}\" text-anchor=\"end\" class=\"label\">{4}</text>\
         <polyline class=\"series\" fill=\"none\" stroke=\"{fill}\" stroke-width=\"2.5\" \
         points=\"{5}\"/>",
        top + ph,
        left - 5.0,
        top + 9.0,
        number(hi),
        number(lo),
        points.join(" ")
    );
    if let Some((x, y)) = xy.last() {
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{fill}\"/>"
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
        let l = small_line("t", &[1.0, 2.0], colour(0));
        assert_eq!(l.matches("<polyline").count(), 1);
        let m = movement("t", &[1, 0], &[0, 3]);
        assert!(m.contains("data-bars=\"4\""));
        assert_eq!(m.matches("class=\"bar\"").count(), 4);
        assert_eq!(int(1234567), "1,234,567");
        assert_eq!(int(999), "999");
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
