//! Moments, window bounds, decay and periods: the time semantics of
//! `docs/semantics.md`, in one place.

use crate::plan::Moment;
use crate::plan::types::{Decay, Dur, DurationUnit, TimeRef, Window};
use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

/// A timestamp as [`Micros`].
pub fn micros(t: DateTime<Utc>) -> Micros {
    t.timestamp_micros()
}

/// 00:00 UTC of a day.
pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// `t` moved back by `d`: hours, days and weeks are fixed lengths; months and years
/// are calendar months (the day is clamped to the month's last day).
pub fn sub(t: DateTime<Utc>, d: Dur) -> DateTime<Utc> {
    let months = match d.unit {
        DurationUnit::Month => d.amount,
        DurationUnit::Year => d.amount.saturating_mul(12),
        _ => {
            let secs = d.fixed_seconds().unwrap_or(0);
            return TimeDelta::try_seconds(secs)
                .and_then(|delta| t.checked_sub_signed(delta))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
        }
    };
    let m = Months::new(u32::try_from(months.max(0)).unwrap_or(u32::MAX));
    t.checked_sub_months(m).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The instant of a plan moment for a run at `now` (never later than `now`).
pub fn moment_instant(m: &Moment, now: DateTime<Utc>) -> DateTime<Utc> {
    let mut t = match m.anchor {
        Some(a) => start_of(a, now),
        None => now,
    };
    for d in &m.shifts {
        t = sub(t, *d);
    }
    t.min(now)
}

/// A time point used as the start of a window (or a moment), seen from moment `m`.
fn start_of(t: TimeRef, m: DateTime<Utc>) -> DateTime<Utc> {
    match t {
        TimeRef::Now => m,
        TimeRef::Ago(d) => sub(m, d),
        TimeRef::Date(d) => midnight(d),
        TimeRef::Timestamp(t) => t,
    }
}

/// A time point used as the (exclusive) end of a window: a date ends at the next
/// midnight, so the whole day is inside.
fn end_of(t: TimeRef, m: DateTime<Utc>) -> DateTime<Utc> {
    match t {
        TimeRef::Date(d) => midnight(d.succ_opt().unwrap_or(d)),
        other => start_of(other, m),
    }
}

/// A window made absolute at a moment: `start <= t` and `t < end` (or `t <= end`
/// when `end_inclusive`, which is the case exactly when the window reaches the moment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub start: Option<Micros>,
    pub end: Micros,
    pub end_inclusive: bool,
}

impl Bounds {
    /// Whether `t` lies inside.
    pub fn contains(&self, t: Micros) -> bool {
        self.start.is_none_or(|s| t >= s) && (t < self.end || (self.end_inclusive && t == self.end))
    }
}

/// The bounds of `w` at moment `m`. Nothing after `m` is ever inside.
pub fn bounds(w: &Window, m: DateTime<Utc>) -> Bounds {
    let mm = micros(m);
    let upto = |start: Option<Micros>| Bounds {
        start,
        end: mm,
        end_inclusive: true,
    };
    let until = |start: Option<Micros>, end: DateTime<Utc>| {
        let e = micros(end);
        if e >= mm {
            upto(start)
        } else {
            Bounds {
                start,
                end: e,
                end_inclusive: false,
            }
        }
    };
    match *w {
        Window::Ever => upto(None),
        Window::Within(d) => upto(Some(micros(sub(m, d)))),
        Window::Since(a) => upto(Some(micros(start_of(a, m)))),
        Window::Between(a, b) => until(Some(micros(start_of(a, m))), end_of(b, m)),
        Window::Before(a) => until(None, start_of(a, m)),
    }
}

/// The factor an event's points are multiplied by at age `age_secs`.
pub fn decay_factor(decay: Option<&Decay>, age_secs: f64) -> f64 {
    match decay {
        None => 1.0,
        Some(Decay::HalfLife(d)) => {
            let hl = d.fixed_seconds().unwrap_or(1).max(1) as f64;
            0.5f64.powf(age_secs.max(0.0) / hl)
        }
        Some(Decay::Step { percent, every }) => {
            let every = every.fixed_seconds().unwrap_or(1).max(1) as f64;
            let steps = (age_secs.max(0.0) / every).floor();
            (1.0 - percent / 100.0).powf(steps)
        }
    }
}

/// The period (0 = the latest) an event at `t` falls in, counting back from moment `m`
/// in units of `unit`: period 0 is [m − 1 unit, m], period k is [m − (k+1) units,
/// m − k units). `None` past `limit` periods or after `m`.
pub fn period(t: DateTime<Utc>, m: DateTime<Utc>, unit: DurationUnit, limit: u64) -> Option<u64> {
    period_from(t, m, limit, |k| period_start(m, unit, k))
}

/// Where period `k − 1` of [`period`] starts: `k` units before `m`.
pub fn period_start(m: DateTime<Utc>, unit: DurationUnit, k: u64) -> DateTime<Utc> {
    sub(
        m,
        Dur {
            amount: i64::try_from(k).unwrap_or(i64::MAX),
            unit,
        },
    )
}

/// [`period`] with the period starts given by `start(k)` (what [`period_start`] gives
/// for `k`), for a caller that computes them once for many events.
pub fn period_from(
    t: DateTime<Utc>,
    m: DateTime<Utc>,
    limit: u64,
    start: impl Fn(u64) -> DateTime<Utc>,
) -> Option<u64> {
    if t > m {
        return None;
    }
    (0..limit).find(|k| t >= start(k + 1))
}
