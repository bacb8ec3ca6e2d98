//! Operations on values with Funnel's missing-value and text rules: a comparison with a
//! missing operand is false, arithmetic with one is missing, text compares
//! case-insensitively.

use crate::plan::types::{BinOp, TextOp, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

/// Whether a value is `true` (missing and anything else are not).
pub fn truthy(v: &Option<Value>) -> bool {
    matches!(v, Some(Value::Bool(true)))
}

/// A value as a float, for numbers.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// A date or timestamp as microseconds since the epoch (dates at 00:00 UTC).
pub fn as_micros(v: &Value) -> Option<i64> {
    match v {
        Value::Timestamp(t) => Some(t.timestamp_micros()),
        Value::Date(d) => Some(super::time::micros(super::time::midnight(*d))),
        _ => None,
    }
}

/// Text folded for case-insensitive comparison.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Text folded for case-insensitive comparison, borrowed when folding would not change
/// it (text already in lower case), so that comparing such text allocates nothing.
pub fn folded(s: &str) -> Cow<'_, str> {
    let unchanged = |c: char| {
        let mut lower = c.to_lowercase();
        lower.next() == Some(c) && lower.next().is_none()
    };
    let same = if s.is_ascii() {
        !s.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        s.chars().all(unchanged)
    };
    if same {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(fold(s))
    }
}

/// `fold(x).cmp(&fold(y))`, without folding whole strings: equal text is equal, and
/// otherwise the folded characters are compared as they come (ASCII byte by byte),
/// which orders as the folded strings' bytes do. Text with a capital sigma, whose
/// lower case depends on its neighbours, is folded whole.
pub fn cmp_folded(x: &str, y: &str) -> Ordering {
    if x == y {
        return Ordering::Equal;
    }
    let (xb, yb) = (x.as_bytes(), y.as_bytes());
    let mut i = 0;
    while let (Some(&a), Some(&b)) = (xb.get(i), yb.get(i)) {
        if !a.is_ascii() || !b.is_ascii() {
            break;
        }
        match a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()) {
            Ordering::Equal => i += 1,
            o => return o,
        }
    }
    // Bytes before `i` are ASCII, so `i` is a character boundary of both.
    let (Some(xr), Some(yr)) = (x.get(i..), y.get(i..)) else {
        return fold(x).cmp(&fold(y));
    };
    if xr.is_ascii() && yr.is_ascii() {
        return xr.len().cmp(&yr.len());
    }
    if x.contains('Σ') || y.contains('Σ') {
        return fold(x).cmp(&fold(y));
    }
    xr.chars()
        .flat_map(char::to_lowercase)
        .cmp(yr.chars().flat_map(char::to_lowercase))
}

/// Orders two present values of comparable types; `None` when they do not compare.
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Text(x), Value::Text(y)) => Some(cmp_folded(x, y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        _ => {
            if let (Some(x), Some(y)) = (as_f64(a), as_f64(b)) {
                return x.partial_cmp(&y);
            }
            if let (Some(x), Some(y)) = (as_micros(a), as_micros(b)) {
                return Some(x.cmp(&y));
            }
            None
        }
    }
}

/// A comparison; false when either side is missing or the two do not compare.
pub fn compare(op: BinOp, a: Option<&Value>, b: Option<&Value>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    let Some(o) = order(a, b) else { return false };
    match op {
        BinOp::Eq => o == Ordering::Equal,
        BinOp::Ne => o != Ordering::Equal,
        BinOp::Lt => o == Ordering::Less,
        BinOp::Le => o != Ordering::Greater,
        BinOp::Gt => o == Ordering::Greater,
        BinOp::Ge => o != Ordering::Less,
        _ => false,
    }
}

/// Arithmetic; missing when either side is missing, on division by zero or overflow.
/// Whole numbers stay whole except under `/`.
pub fn arith(op: BinOp, a: Option<&Value>, b: Option<&Value>) -> Option<Value> {
    let (a, b) = (a?, b?);
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        let r = match op {
            BinOp::Add => x.checked_add(*y),
            BinOp::Sub => x.checked_sub(*y),
            BinOp::Mul => x.checked_mul(*y),
            _ => None,
        };
        if let Some(r) = r {
            return Some(Value::Int(r));
        }
        if op != BinOp::Div {
            return None;
        }
    }
    if let (Value::Duration(x), Value::Duration(y)) = (a, b) {
        return match op {
            BinOp::Add => x.checked_add(*y).map(Value::Duration),
            BinOp::Sub => x.checked_sub(*y).map(Value::Duration),
            _ => None,
        };
    }
    let (x, y) = (as_f64(a)?, as_f64(b)?);
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div if y != 0.0 => x / y,
        _ => return None,
    };
    r.is_finite().then_some(Value::Number(r))
}

/// Negation; missing stays missing.
pub fn neg(a: Option<&Value>) -> Option<Value> {
    match a? {
        Value::Int(i) => i.checked_neg().map(Value::Int),
        Value::Number(n) => Some(Value::Number(-n)),
        Value::Duration(d) => d.checked_neg().map(Value::Duration),
        _ => None,
    }
}

/// Whether `v` equals any item (case-insensitive for text); false when missing.
pub fn in_list(v: Option<&Value>, items: &[Value]) -> bool {
    let Some(v) = v else { return false };
    items.iter().any(|i| order(v, i) == Some(Ordering::Equal))
}

/// A text test against any of the patterns, case-insensitive; false when missing.
pub fn text_test(v: Option<&Value>, op: TextOp, patterns: &[String]) -> bool {
    let Some(Value::Text(s)) = v else {
        return false;
    };
    let s = folded(s);
    patterns.iter().any(|p| {
        let p = folded(p);
        match op {
            TextOp::Contains => s.contains(&*p),
            TextOp::StartsWith => s.starts_with(&*p),
            TextOp::EndsWith => s.ends_with(&*p),
        }
    })
}

/// A score rounded to 2 decimals, half away from zero.
pub fn round_score(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A score rounded to a whole number for tiers, half away from zero.
pub fn round_tier(x: f64) -> i64 {
    x.round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WORDS: &[&str] = &[
        "",
        "a",
        "A",
        "ab",
        "aB",
        "Ab",
        "b",
        "lead",
        "LEAD",
        "Lead",
        "mql",
        "Mette Sørensen",
        "mette sørensen",
        "METTE SØRENSEN",
        "Mette Sorensen",
        "ø",
        "Ø",
        "z",
        "ß",
        "SS",
        "ss",
        "İ",
        "i̇",
        "i",
        "I",
        "ΟΔΟΣ",
        "οδος",
        "οδος ",
        "ΟΔΟΣ ",
        "Σ",
        "σ",
        "ς",
        "ǅ",
        "ǆ",
        "Ǆ",
        "direktør",
        "DIREKTØR",
        "forstjóri",
        "Forstjóri",
        "a\u{0}",
        "~",
        "\u{7f}",
        "\u{80}",
    ];

    #[test]
    fn cmp_folded_orders_as_folded_text() {
        for x in WORDS {
            for y in WORDS {
                assert_eq!(cmp_folded(x, y), fold(x).cmp(&fold(y)), "{x:?} vs {y:?}");
            }
            assert_eq!(folded(x), fold(x), "{x:?}");
        }
    }

    proptest! {
        #[test]
        fn cmp_folded_agrees_with_fold(x in "[aAbBøØΣσςİß ]{0,6}", y in "[aAbBøØΣσςİß ]{0,6}") {
            prop_assert_eq!(cmp_folded(&x, &y), fold(&x).cmp(&fold(&y)));
            prop_assert_eq!(folded(&x), fold(&x));
        }

        #[test]
        fn cmp_folded_agrees_on_any_text(x in any::<String>(), y in any::<String>()) {
            prop_assert_eq!(cmp_folded(&x, &y), fold(&x).cmp(&fold(&y)));
            prop_assert_eq!(folded(&x), fold(&x));
        }
    }
}
