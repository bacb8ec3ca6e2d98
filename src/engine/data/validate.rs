//! Parsing one value and checking it against its field: type, declared enum values,
//! `in lo..hi` ranges and optionality. Shared by the CSV and NDJSON readers, which both
//! hand over cells as [`Raw`].

use crate::plan::schema::{Field, Type};
use crate::plan::types::Value;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::borrow::Cow;

/// A cell as read from a file, before it is given a type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Raw<'a> {
    /// An empty CSV cell, a JSON `null` or `""`, an absent key.
    Missing,
    /// A CSV cell or a JSON string.
    Text(&'a str),
    /// A JSON integer.
    Int(i64),
    /// A JSON number that is not an `i64`.
    Float(f64),
    /// A JSON `true` or `false`.
    Bool(bool),
    /// A typed timestamp or date (Parquet) in microseconds since the epoch, always
    /// within the range of `DateTime<Utc>` ([`Raw::time`]); a date is 00:00 UTC of its
    /// day.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    Time(i64),
    /// A JSON array or object, named (`an array`).
    Other(&'static str),
}

impl Raw<'_> {
    /// A cell with the empty string read as missing.
    pub(crate) fn text(s: &str) -> Raw<'_> {
        if s.is_empty() {
            Raw::Missing
        } else {
            Raw::Text(s)
        }
    }

    /// A typed time cell: [`Raw::Time`] when `micros` is within the range of
    /// `DateTime<Utc>` (checked without building one); otherwise a value that no type
    /// accepts, so that the row is refused (never silently missing).
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub(crate) fn time(micros: i64) -> Raw<'static> {
        static RANGE: std::sync::LazyLock<(i64, i64)> = std::sync::LazyLock::new(|| {
            (
                DateTime::<Utc>::MIN_UTC.timestamp_micros(),
                DateTime::<Utc>::MAX_UTC.timestamp_micros(),
            )
        });
        let (lo, hi) = *RANGE;
        match (lo..=hi).contains(&micros) {
            true => Raw::Time(micros),
            false => Raw::Other("a time out of range"),
        }
    }

    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, Raw::Missing)
    }

    /// The cell as quoted in messages: `` `42` ``, or `an array`.
    pub(crate) fn show(&self) -> String {
        match self {
            Raw::Missing => "nothing".into(),
            Raw::Text(s) => quote(s),
            Raw::Int(i) => format!("`{i}`"),
            Raw::Float(x) => format!("`{x}`"),
            Raw::Bool(b) => format!("`{b}`"),
            Raw::Time(t) => format!(
                "`{}`",
                time_of(*t)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                    .unwrap_or_default()
            ),
            Raw::Other(what) => (*what).into(),
        }
    }
}

/// User input in backticks, shortened when long.
/// Control characters and line breaks are escaped (see [`crate::diag::escape`]).
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 60;
    let shown = match s.char_indices().nth(MAX) {
        Some((end, _)) => format!("`{}…`", s.get(..end).unwrap_or(s)),
        None => format!("`{s}`"),
    };
    crate::diag::escape::escape(&shown).into_owned()
}

/// Names as a list for messages: `` `a`, `b`, `c` ``.
pub(crate) fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    if quoted.is_empty() {
        "none".into()
    } else {
        quoted.join(", ")
    }
}

/// ` (did you mean `x`?)` when one of `candidates` is close to `word`, else nothing.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let lower = word.to_lowercase();
    let best = candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|&(d, c)| d <= (c.chars().count() / 3).max(1))
        .min_by_key(|&(d, _)| d);
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

/// The value of `field` in `raw`: `None` when missing and the field is optional.
pub(crate) fn value(field: &Field, raw: Raw<'_>) -> Result<Option<Value>, String> {
    if raw.is_missing() {
        return if field.optional {
            Ok(None)
        } else {
            Err(missing(&field.ty))
        };
    }
    let value = parse(&field.ty, raw)?;
    if let Some((lo, hi)) = field.range {
        let x = match value {
            Value::Int(i) => Some(i as f64),
            Value::Number(x) => Some(x),
            _ => None,
        };
        if x.is_some_and(|x| x < lo || x > hi) {
            return Err(format!(
                "{} is out of range, expected a value in `{lo}..{hi}`",
                raw.show()
            ));
        }
    }
    Ok(Some(value))
}

/// An id (of a contact or account): a non-empty string, or a JSON integer.
pub(crate) fn id<'a>(raw: Raw<'a>, what: &str) -> Result<Cow<'a, str>, String> {
    match raw {
        Raw::Text(s) => Ok(Cow::Borrowed(s)),
        Raw::Int(i) => Ok(Cow::Owned(i.to_string())),
        Raw::Missing => Err(format!("missing {what} id, expected a non-empty id")),
        _ => Err(format!(
            "{} is not an id, expected a string or a whole number",
            raw.show()
        )),
    }
}

/// The time `micros` microseconds after the epoch.
fn time_of(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_micros(micros)
}

/// A required timestamp (an event's or a change's `at`).
pub(crate) fn timestamp_cell(raw: Raw<'_>) -> Result<DateTime<Utc>, String> {
    match raw {
        Raw::Missing => Err(missing(&Type::Timestamp)),
        Raw::Text(s) => timestamp(s).ok_or_else(|| not_a(raw, &Type::Timestamp)),
        Raw::Time(t) => time_of(t).ok_or_else(|| not_a(raw, &Type::Timestamp)),
        _ => Err(not_a(raw, &Type::Timestamp)),
    }
}

fn missing(ty: &Type) -> String {
    format!(
        "missing required field, expected a value of type `{}`",
        ty.name()
    )
}

fn not_a(raw: Raw<'_>, ty: &Type) -> String {
    format!(
        "{} is not {}, expected {}",
        raw.show(),
        article(ty),
        expected(ty)
    )
}

/// A non-missing cell as a value of type `ty`.
pub(crate) fn parse(ty: &Type, raw: Raw<'_>) -> Result<Value, String> {
    let parsed = match (ty, raw) {
        (Type::Text, Raw::Text(s)) => Some(Value::Text(s.into())),
        (Type::AccountLink, _) => return id(raw, "account").map(|id| Value::Text(id.into())),
        (Type::Enum(values), Raw::Text(s)) => {
            // Any case, as in rules; read as the declared spelling.
            let declared = values.iter().find(|v| *v == s).or_else(|| {
                let lower = s.to_lowercase();
                values.iter().find(|v| v.to_lowercase() == lower)
            });
            if let Some(v) = declared {
                Some(Value::Text(v.as_str().into()))
            } else {
                return Err(format!(
                    "{} is not a declared value, expected one of {}{}",
                    raw.show(),
                    list(values.iter().map(String::as_str)),
                    did_you_mean(s, values.iter().map(String::as_str))
                ));
            }
        }
        (Type::Int, Raw::Int(i)) => Some(Value::Int(i)),
        (Type::Int, Raw::Text(s)) => s.trim().parse().ok().map(Value::Int),
        (Type::Number, Raw::Int(i)) => Some(Value::Number(i as f64)),
        // NaN and infinity are refused, as in CSV and NDJSON.
        (Type::Number, Raw::Float(x)) => Some(Value::Number(x)).filter(|_| x.is_finite()),
        (Type::Number, Raw::Text(s)) => number(s).map(Value::Number),
        (Type::Bool, Raw::Bool(b)) => Some(Value::Bool(b)),
        (Type::Bool, Raw::Text(s)) => boolean(s).map(Value::Bool),
        (Type::Date, Raw::Text(s)) => date(s).map(Value::Date),
        (Type::Timestamp, Raw::Text(s)) => timestamp(s).map(Value::Timestamp),
        (Type::Timestamp, Raw::Time(t)) => time_of(t).map(Value::Timestamp),
        (Type::Date, Raw::Time(t)) => time_of(t)
            .filter(|t| t.time() == chrono::NaiveTime::MIN)
            .map(|t| Value::Date(t.date_naive())),
        (Type::Duration, Raw::Int(i)) => Some(Value::Duration(i)),
        (Type::Duration, Raw::Text(s)) => duration(s)?.map(Value::Duration),
        _ => None,
    };
    parsed.ok_or_else(|| not_a(raw, ty))
}

fn article(ty: &Type) -> String {
    match ty {
        Type::Text => "text".into(),
        Type::Int => "an int".into(),
        Type::Enum(_) => "a declared value".into(),
        Type::AccountLink => "an account id".into(),
        _ => format!("a {}", ty.name()),
    }
}

fn expected(ty: &Type) -> String {
    match ty {
        Type::Text => "a string".into(),
        Type::Int => "a whole number like `42`".into(),
        Type::Number => "a number like `42` or `3.5`".into(),
        Type::Bool => "`true` or `false`".into(),
        Type::Date => "a date like `2026-01-31`".into(),
        Type::Timestamp => "RFC 3339 like `2026-01-31T09:00:00Z` or `2026-01-31 09:00:00`".into(),
        Type::Duration => "seconds like `3600` or a length like `90s`, `12h`, `30d`, `2w`".into(),
        Type::Enum(values) => format!("one of {}", list(values.iter().map(String::as_str))),
        Type::AccountLink => "a string or a whole number".into(),
    }
}

fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    // Rust also parses `inf` and `NaN`; data must hold finite numbers written as digits.
    let digits = s.bytes().any(|b| b.is_ascii_digit());
    s.parse::<f64>().ok().filter(|x| digits && x.is_finite())
}

fn boolean(s: &str) -> Option<bool> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("true") || s == "1" {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") || s == "0" {
        Some(false)
    } else {
        None
    }
}

fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    // `%Y-%m-%d` alone would accept one-digit months and days.
    let shape =
        s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') && s.as_bytes().get(7) == Some(&b'-');
    shape
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
}

/// RFC 3339 (any offset, converted to UTC); `YYYY-MM-DD HH:MM:SS[.f]` or
/// `YYYY-MM-DDTHH:MM:SS[.f]` without an offset (UTC); a bare date (00:00 UTC).
fn timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(t) = utc_seconds(s) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    date(s)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The common shapes read directly (an event log holds millions of them; the general
/// parsers take several times longer): `YYYY-MM-DDTHH:MM:SSZ`, and without an offset
/// (UTC) `YYYY-MM-DDTHH:MM:SS` or `YYYY-MM-DD HH:MM:SS` (as DuckDB, PostgreSQL and
/// spreadsheets write them), with up to nine digits of a fraction of a second. `None`
/// for any other shape, which the general parsers then read.
fn utc_seconds(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let head: &[u8; 19] = b.get(..19)?.try_into().ok()?;
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        head.get(range)?.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| head.get(i) != Some(&c)) {
        return None;
    }
    let t_sep = match head.get(10) {
        Some(b'T') => true,
        Some(b' ') => false,
        _ => return None,
    };
    let nanos = match b.get(19..)? {
        [] => 0,
        [b'Z'] if t_sep => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = digits.iter().try_fold(0u32, |n, &d| {
                d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
            })?;
            n * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)?;
    let t = date.and_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    Some(t.and_utc())
}

/// Whole seconds (`3600`) or a whole number with a fixed unit (`90s`, `12h`, `30d`, `2w`).
/// `Err` for calendar units, which have no fixed length.
fn duration(s: &str) -> Result<Option<i64>, String> {
    let s = s.trim();
    let split = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(s.len(), |(i, _)| i);
    let (digits, unit) = s.split_at(split);
    let Ok(amount) = digits.parse::<i64>() else {
        return Ok(None);
    };
    let seconds = match unit.trim() {
        "" | "s" => 1,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "mo" | "y" => {
            return Err(format!(
                "{} is not a fixed length, expected seconds or `s`, `h`, `d`, `w` (months and years vary in length)",
                quote(s)
            ));
        }
        _ => return Ok(None),
    };
    Ok(amount.checked_mul(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typed time is a time exactly when `DateTime` can hold it, at both ends of its
    /// range and around the epoch.
    #[test]
    fn typed_times_are_those_a_datetime_holds() {
        let lo = DateTime::<Utc>::MIN_UTC.timestamp_micros();
        let hi = DateTime::<Utc>::MAX_UTC.timestamp_micros();
        for m in [
            i64::MIN,
            lo - 1,
            lo,
            lo + 1,
            -1,
            0,
            1,
            hi - 1,
            hi,
            hi + 1,
            i64::MAX,
        ] {
            let raw = Raw::time(m);
            assert_eq!(matches!(raw, Raw::Other(_)), time_of(m).is_none(), "{m}");
            if let Raw::Time(t) = raw {
                assert_eq!(timestamp_cell(raw).map(|t| t.timestamp_micros()), Ok(t));
            }
        }
    }

    /// The fast path reads exactly what the general parser reads, and leaves every other
    /// shape (and every impossible date or time) to it.
    #[test]
    fn utc_seconds_agrees_with_rfc3339() {
        let general = |s: &str| DateTime::parse_from_rfc3339(s).ok().map(|t| t.to_utc());
        for secs in (-86_400 * 800..4_102_444_800i64).step_by(7_919_993) {
            let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
            let s = t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            assert_eq!(utc_seconds(&s), Some(t), "{s}");
            assert_eq!(utc_seconds(&s), general(&s), "{s}");
        }
        for s in [
            "2024-02-29T23:59:59Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2016-12-31T23:59:60Z",
            "2024-01-01T00:00:00z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00+00:00",
            "2024-1-01T00:00:00Z",
            "２024-01-01T00:00:00Z",
            "+024-01-01T00:00:00Z",
        ] {
            if let Some(t) = utc_seconds(s) {
                assert_eq!(Some(t), general(s), "{s}");
            }
        }
        // Without an offset, with `T` or a space, with a fraction: the naive parsers'.
        let naive = |s: &str| {
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                .map(|t| t.and_utc())
        };
        for secs in (-86_400 * 800..4_102_444_800i64).step_by(7_919_993) {
            let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
            for f in [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S.%6f",
                "%Y-%m-%d %H:%M:%S.%3f",
            ] {
                let s = (t + chrono::TimeDelta::microseconds(secs.rem_euclid(999_999)))
                    .format(f)
                    .to_string();
                assert!(utc_seconds(&s).is_some(), "{s}");
                assert_eq!(utc_seconds(&s), naive(&s), "{s}");
            }
        }
        for s in [
            "2024-11-01 00:01:04",
            "2024-11-01 00:01:04.5",
            "2024-11-01 00:01:04.123456789",
            "2024-11-01 00:01:04.1234567890",
            "2024-11-01 00:01:04.",
            "2024-11-01 00:01:04Z",
            "2024-11-01 00:01:04+00",
            "2024-11-01T00:01:04.25Z",
            "2016-12-31 23:59:60",
            "2024-02-30 00:00:00",
            "2024-11-01 00:01:0x",
        ] {
            if let Some(t) = utc_seconds(s) {
                assert_eq!(Some(t), naive(s), "{s}");
            }
        }
        assert_eq!(
            utc_seconds("2024-11-01 00:01:04.5"),
            naive("2024-11-01 00:01:04.5")
        );
        assert_eq!(utc_seconds("2016-12-31 23:59:60"), None);
        assert_eq!(utc_seconds("2023-02-29T00:00:00Z"), None);
        assert_eq!(utc_seconds("2016-12-31T23:59:60Z"), None);
        assert_eq!(utc_seconds("2024-01-01T00:00:00z"), None);
    }
}
