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

/// A score rounded to 2 decimals as it reads in decimal: its shortest decimal form (the
/// one `{}` prints, which parses back to `x`) rounded half away from zero, so 1.005 is
/// 1.01 and 0.285 is 0.29 although their binary values lie just below
/// (`docs/semantics.md`, Scores).
pub fn round_score(x: f64) -> f64 {
    let y = x * 100.0;
    if !y.is_finite() {
        return x;
    }
    // Small and away from a half, `y`'s binary error cannot move the result.
    if y.abs() < 1e12 && ((y - y.trunc()).abs() - 0.5).abs() > 1e-3 {
        return y.round() / 100.0;
    }
    let text = format!("{}", x.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let Some(next) = frac.as_bytes().get(2) else {
        return x;
    };
    let mut digits: Vec<u8> = whole.bytes().chain(frac.bytes().take(2)).collect();
    if *next >= b'5' {
        let mut carry = true;
        for d in digits.iter_mut().rev() {
            if *d == b'9' {
                *d = b'0';
            } else {
                *d += 1;
                carry = false;
                break;
            }
        }
        if carry {
            digits.insert(0, b'1');
        }
    }
    let (w, f) = digits.split_at(digits.len() - 2);
    let rounded = format!(
        "{}.{}",
        String::from_utf8_lossy(w),
        String::from_utf8_lossy(f)
    );
    rounded.parse::<f64>().map_or(x, |r| r.copysign(x))
}

/// A score rounded to a whole number for tiers, half away from zero.
pub fn round_tier(x: f64) -> i64 {
    x.round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scores_round_as_their_decimal_form_reads() {
        for (x, want) in [
            (1.005, 1.01),
            (0.285, 0.29),
            (-1.005, -1.01),
            (2.675, 2.68),
            (0.125, 0.13),
            (-0.125, -0.13),
            (f64::from_bits(1.005f64.to_bits() - 1), 1.0),
            (0.284999, 0.28),
            (99.995, 100.0),
            (-99.995, -100.0),
            (5.625, 5.63),
            (30.4951, 30.5),
            (1e-9, 0.0),
            (1234567.125, 1234567.13),
            (1e300, 1e300),
            (0.0, 0.0),
        ] {
            assert_eq!(round_score(x), want, "{x}");
        }
        assert!(round_score(f64::NAN).is_nan());
    }

    proptest! {
        #[test]
        fn rounding_a_two_decimal_number_keeps_it(cents in -10_000_000i64..10_000_000) {
            let x = format!("{}.{:02}", cents / 100, (cents % 100).abs()).parse::<f64>().unwrap();
            let x = if cents < 0 && cents / 100 == 0 { -x } else { x };
            prop_assert_eq!(round_score(x), x);
        }

        #[test]
        fn a_written_half_cent_rounds_away_from_zero(mills in -10_000_000i64..10_000_000) {
            let x = mills as f64 / 1000.0;
            let text = format!("{x}");
            if text.split_once('.').is_some_and(|(_, f)| f.len() == 3 && f.ends_with('5')) {
                let up = (mills.abs() + 5) / 10 * 10;
                let want = (up as f64 / 1000.0).copysign(x);
                prop_assert_eq!(round_score(x), want, "{}", text);
            }
        }
    }

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
