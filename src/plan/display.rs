//! Plan expressions printed the way a rule file would say them, for labels and
//! explanations.

use super::types::*;
use super::{AggKind, Aggregate, Expr, Moment, Plan};

/// A value as a literal: `"text"`, `42`, `2026-01-31`.
pub fn value(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Number(n) => number(*n),
        Value::Text(t) => format!("{t:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Timestamp(t) => Timestamp(*t).to_string(),
        Value::Duration(s) => seconds(*s),
    }
}

/// A number without a needless fraction: `12`, `12.5`.
pub fn number(n: f64) -> String {
    Number(n).to_string()
}

/// [`number`] as a `Display`, to write one without allocating: `write!(out, "{}",
/// Number(n))`.
#[derive(Debug, Clone, Copy)]
pub struct Number(pub f64);

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match whole(self.0) {
            Some(i) => write!(f, "{i}"),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The whole number [`number`] writes `n` as, when it has no fraction and is below
/// 10^15 in size (larger ones are written in full as floats).
pub fn whole(n: f64) -> Option<i64> {
    (n.fract() == 0.0 && n.abs() < 1e15).then_some(n as i64)
}

/// A timestamp in RFC 3339, UTC as `Z`, with 0, 3, 6 or 9 fraction digits as needed
/// (`2026-11-20T08:30:00Z`), as a `Display` that writes without allocating.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub chrono::DateTime<chrono::Utc>);

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use chrono::format::{Fixed, Item, Numeric, Pad};
        /// `%Y-%m-%dT%H:%M:%S%.fZ`, the same text as `to_rfc3339_opts(AutoSi, true)`.
        const ITEMS: [Item<'static>; 12] = [
            Item::Numeric(Numeric::Year, Pad::Zero),
            Item::Literal("-"),
            Item::Numeric(Numeric::Month, Pad::Zero),
            Item::Literal("-"),
            Item::Numeric(Numeric::Day, Pad::Zero),
            Item::Literal("T"),
            Item::Numeric(Numeric::Hour, Pad::Zero),
            Item::Literal(":"),
            Item::Numeric(Numeric::Minute, Pad::Zero),
            Item::Literal(":"),
            Item::Numeric(Numeric::Second, Pad::Zero),
            Item::Fixed(Fixed::Nanosecond),
        ];
        self.0.format_with_items(ITEMS.iter()).write_to(f)?;
        f.write_str("Z")
    }
}

/// A length of time in seconds, in the largest whole unit: `30d`, `12h`, `90s`.
pub fn seconds(s: i64) -> String {
    match s {
        s if s != 0 && s % 604_800 == 0 => format!("{}w", s / 604_800),
        s if s != 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s != 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{s}s"),
    }
}

/// A length of time for people: `1d 18h 5m 58s`, `3h`, `0s`.
pub fn duration_human(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let mut rest = secs.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if rest >= len {
            parts.push(format!("{}{unit}", rest / len));
            rest %= len;
        }
    }
    if parts.is_empty() {
        "0s".into()
    } else {
        format!("{sign}{}", parts.join(" "))
    }
}

/// A duration as written: `30d`, `3mo`.
pub fn dur(d: &Dur) -> String {
    let unit = match d.unit {
        DurationUnit::Hour => "h",
        DurationUnit::Day => "d",
        DurationUnit::Week => "w",
        DurationUnit::Month => "mo",
        DurationUnit::Year => "y",
    };
    format!("{}{unit}", d.amount)
}

/// A time point: `now`, `30d ago`, `2026-01-01`.
pub fn time_ref(t: &TimeRef) -> String {
    match t {
        TimeRef::Now => "now".into(),
        TimeRef::Ago(d) => format!("{} ago", dur(d)),
        TimeRef::Date(d) => d.to_string(),
        TimeRef::Timestamp(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    }
}

/// A window: `within 30d`, `between 90d ago and 30d ago`; empty for `ever`.
pub fn window(w: &Window) -> String {
    match w {
        Window::Ever => String::new(),
        Window::Within(d) => format!("within {}", dur(d)),
        Window::Between(a, b) => format!("between {} and {}", time_ref(a), time_ref(b)),
        Window::Since(a) => format!("since {}", time_ref(a)),
        Window::Before(a) => format!("before {}", time_ref(a)),
    }
}

/// A moment: `now`, `30d ago`, `2026-01-01, then 30d ago`.
pub fn moment(m: &Moment) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(a) = &m.anchor {
        parts.push(time_ref(a));
    }
    parts.extend(m.shifts.iter().map(|d| format!("{} ago", dur(d))));
    if parts.is_empty() {
        "now".into()
    } else {
        parts.join(", then ")
    }
}

/// An aggregate as a call: `count(service_click within 30d)`.
pub fn aggregate(a: &Aggregate, source: &str, plan: &Plan) -> String {
    let mut arg = source.to_string();
    // A multiplier is shown as `points(field per …)`, not as `.field`.
    let field = match &a.kind {
        AggKind::Points { .. } => None,
        kind => kind.field(),
    };
    if let Some(f) = field {
        arg = format!("{arg}.{f}");
    }
    if let Some(f) = &a.filter {
        arg = format!("{arg} where {}", expr(f, plan));
    }
    let w = window(&a.window);
    if !w.is_empty() {
        arg = format!("{arg} {w}");
    }
    let call = match &a.kind {
        AggKind::Count => format!("count({arg})"),
        AggKind::CountDistinct { .. } => format!("count_distinct({arg})"),
        AggKind::Sum { .. } => format!("sum({arg})"),
        AggKind::Min { .. } => format!("min({arg})"),
        AggKind::Max { .. } => format!("max({arg})"),
        AggKind::Avg { .. } => format!("avg({arg})"),
        AggKind::First { .. } => format!("first({arg})"),
        AggKind::Last { .. } => format!("last({arg})"),
        AggKind::MostFrequent { .. } => format!("most_frequent({arg})"),
        AggKind::FirstTime => format!("first_time({arg})"),
        AggKind::LastTime => format!("last_time({arg})"),
        AggKind::Periods { unit, of_last } => {
            let unit = match unit {
                DurationUnit::Day => "days",
                DurationUnit::Month => "months",
                _ => "weeks",
            };
            format!("periods({arg} in the last {of_last} {unit})")
        }
        AggKind::Points { times_field, decay } => {
            let mut s = match times_field {
                Some(f) => format!("points({f} per {arg}"),
                None => format!("points(per {arg}"),
            };
            match decay {
                Some(Decay::HalfLife(d)) => s.push_str(&format!(", half_life {}", dur(d))),
                Some(Decay::Step { percent, every }) => s.push_str(&format!(
                    ", decay {}% every {}",
                    number(*percent),
                    dur(every)
                )),
                None => {}
            }
            s.push(')');
            s
        }
    };
    match plan.moments.get(a.moment) {
        Some(m) if a.moment != 0 => format!("{call} as of {}", m.label),
        _ => call,
    }
}

fn name_at(name: &str, moment: usize, plan: &Plan) -> String {
    match plan.moments.get(moment) {
        Some(m) if moment != 0 => format!("{name}({})", m.label),
        _ => name.to_string(),
    }
}

/// An expression in rule-file syntax.
pub fn expr(e: &Expr, plan: &Plan) -> String {
    let sub = |x: &Expr| -> String {
        let s = expr(x, plan);
        match x {
            Expr::And(_) | Expr::Or(_) | Expr::Binary { .. } => format!("({s})"),
            _ => s,
        }
    };
    let list = |items: &[Value]| items.iter().map(value).collect::<Vec<_>>().join(", ");
    match e {
        Expr::Lit(v) => value(v),
        Expr::Attr { name, moment } => name_at(name, *moment, plan),
        Expr::AccountAttr(n) => format!("account.{n}"),
        Expr::Field(n) => n.clone(),
        Expr::Node(id) => plan
            .nodes
            .get(*id)
            .map(|n| name_at(&n.name, n.moment, plan))
            .unwrap_or_default(),
        Expr::AccountNode(id) => plan
            .nodes
            .get(*id)
            .map(|n| format!("account.{}", name_at(&n.name, n.moment, plan)))
            .unwrap_or_default(),
        Expr::Agg(id) => plan
            .aggregates
            .get(*id)
            .map(|a| a.label.clone())
            .unwrap_or_default(),
        Expr::Contacts {
            func,
            expr: x,
            filter,
        } => {
            let mut arg = match x {
                Some(x) => expr(x, plan),
                None => "contacts".into(),
            };
            if let Some(f) = filter {
                arg = format!("{arg} where {}", expr(f, plan));
            }
            format!("{}({arg})", func.name())
        }
        Expr::Was {
            attr,
            value: v,
            window: w,
            ..
        } => format!("{attr} was {} {}", value(v), window(w))
            .trim_end()
            .to_string(),
        Expr::Changed {
            attr,
            from,
            to,
            window: w,
            ..
        } => {
            let mut s = format!("{attr} changed");
            if let Some(f) = from {
                s.push_str(&format!(" from {}", value(f)));
            }
            if let Some(t) = to {
                s.push_str(&format!(" to {}", value(t)));
            }
            format!("{s} {}", window(w)).trim_end().to_string()
        }
        Expr::InWindow {
            expr: x, window: w, ..
        } => format!("{} {}", sub(x), window(w)),
        Expr::TimeSince { expr: x, .. } => format!("time_since({})", expr(x, plan)),
        Expr::Not(x) => format!("not {}", sub(x)),
        Expr::Neg(x) => format!("-{}", sub(x)),
        Expr::And(xs) => xs.iter().map(&sub).collect::<Vec<_>>().join(" and "),
        Expr::Or(xs) => xs.iter().map(&sub).collect::<Vec<_>>().join(" or "),
        Expr::Binary { op, lhs, rhs } => format!("{} {} {}", sub(lhs), op.symbol(), sub(rhs)),
        Expr::InList {
            expr: x,
            items,
            negated,
        } => format!(
            "{} {}in ({})",
            sub(x),
            if *negated { "not " } else { "" },
            list(items)
        ),
        Expr::InRange { expr: x, lo, hi } => {
            format!("{} in {}..{}", sub(x), number(*lo), number(*hi))
        }
        Expr::Text {
            expr: x,
            op,
            patterns,
        } => {
            let op = match op {
                TextOp::Contains => "contains",
                TextOp::StartsWith => "starts with",
                TextOp::EndsWith => "ends with",
            };
            let pats: Vec<String> = patterns.iter().map(|p| format!("{p:?}")).collect();
            if pats.len() == 1 {
                format!("{} {op} {}", sub(x), pats.join(""))
            } else {
                format!("{} {op} ({})", sub(x), pats.join(", "))
            }
        }
        Expr::Matches {
            expr: x,
            pattern,
            flags,
        } => format!("{} matches /{pattern}/{flags}", sub(x)),
        Expr::IsMissing { expr: x, negated } => format!(
            "{} is {}",
            sub(x),
            if *negated { "present" } else { "missing" }
        ),
    }
}
