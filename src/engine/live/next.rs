//! When a contact's results may next change with no new input.
//!
//! With the data fixed, every result is a function of the clock `T` that can only
//! change where one of its time-dependent parts does: a moment, window bound or period
//! start (each a non-decreasing function of `T`) passing a time in the data (an event,
//! a change-log entry, a date or timestamp value), a stepwise decay taking its next
//! step, a `time_since` crossing a duration the rules compare it with, or a decayed
//! score crossing a rounding boundary ([`super::decay`]). [`Clockwork::next`] gives the
//! earliest such moment after a time: re-evaluating there (and only there) finds every
//! change exactly when it happens.

use crate::engine::data::Dataset;
use crate::engine::time::{self, Micros};
use crate::plan::types::{Decay, DurationUnit, EventSel, TimeRef, Value, Window};
use crate::plan::{AggKind, Expr, MomentId, Plan};
use chrono::{DateTime, Utc};

/// A non-decreasing function of the clock whose crossing of a data time can change a
/// result.
#[derive(Debug, Clone, PartialEq)]
enum Bound {
    /// The instant of a moment.
    Moment(MomentId),
    /// The start of a window at a moment.
    Start(MomentId, Window),
    /// The end of a window at a moment.
    End(MomentId, Window),
    /// Where period `k − 1` of a regularity count starts (`k` units before the moment).
    Period(MomentId, DurationUnit, u64),
}

/// The time-dependent parts of a plan, found once.
/// Which data times a bound can pass to change a result.
#[derive(Debug, Clone, PartialEq)]
enum Times {
    /// The events an aggregate reads (`None`: of every type).
    Events(Option<String>),
    /// Every time in the data.
    All,
}

#[derive(Debug, Clone)]
pub(crate) struct Clockwork {
    /// Each bound, the data times it matters for, and `Some(c)` when it is `T − c`.
    bounds: Vec<(Bound, Times, Option<i64>)>,
    /// (moment, step length in µs, event type read: `None` for every type) of each
    /// stepwise decay.
    steps: Vec<(MomentId, i64, Option<usize>)>,
    /// Moments `time_since` is read at, and the whole seconds the rules compare with.
    since: Vec<MomentId>,
    seconds: Vec<i64>,
}

impl Clockwork {
    /// The time-dependent parts of `plan`.
    pub fn new(plan: &Plan) -> Clockwork {
        let mut cw = Clockwork {
            bounds: Vec::new(),
            steps: Vec::new(),
            since: Vec::new(),
            seconds: Vec::new(),
        };
        for m in 0..plan.moments.len() {
            cw.add(plan, Bound::Moment(m), Times::All);
        }
        for a in &plan.aggregates {
            let events = Times::Events(match &a.event {
                EventSel::Any => None,
                EventSel::Type(t) => Some(t.clone()),
            });
            cw.window(plan, a.moment, &a.window, &events);
            match &a.kind {
                AggKind::Periods { unit, of_last } => {
                    for k in 1..=(*of_last).min(crate::limits::PERIODS.get() as u64) {
                        cw.add(plan, Bound::Period(a.moment, *unit, k), events.clone());
                    }
                }
                AggKind::Points {
                    decay: Some(Decay::Step { every, .. }),
                    ..
                } => {
                    let every = every.fixed_seconds().unwrap_or(1).max(1);
                    let ty = match &a.event {
                        EventSel::Any => None,
                        EventSel::Type(t) => plan.schema.events.iter().position(|e| e.name == *t),
                    };
                    cw.steps
                        .push((a.moment, every.saturating_mul(1_000_000), ty));
                }
                _ => {}
            }
        }
        for (_, e) in plan.exprs() {
            e.walk(&mut |x| match x {
                Expr::Was { window, moment, .. }
                | Expr::Changed { window, moment, .. }
                | Expr::InWindow { window, moment, .. } => {
                    cw.window(plan, *moment, window, &Times::All)
                }
                Expr::TimeSince { moment, .. } if !cw.since.contains(moment) => {
                    cw.since.push(*moment);
                }
                Expr::Lit(Value::Duration(s)) | Expr::Lit(Value::Int(s)) => {
                    cw.seconds.push(*s);
                }
                Expr::Lit(Value::Number(x)) => cw.seconds.push(x.ceil() as i64),
                Expr::InRange { lo, hi, .. } => {
                    cw.seconds.extend([lo.ceil() as i64, hi.floor() as i64]);
                }
                _ => {}
            });
        }
        cw.seconds.sort_unstable();
        cw.seconds.dedup();
        cw
    }

    fn window(&mut self, plan: &Plan, m: MomentId, w: &Window, times: &Times) {
        self.add(plan, Bound::Start(m, *w), times.clone());
        self.add(plan, Bound::End(m, *w), times.clone());
    }

    fn add(&mut self, plan: &Plan, b: Bound, times: Times) {
        if !self.bounds.iter().any(|(x, t, _)| *x == b && *t == times) {
            let affine = affine(plan, &b);
            self.bounds.push((b, times, affine));
        }
    }

    /// The earliest moment after `after` at which a result of the group whose data is
    /// `data` may change with no new input (`None`: never). `extra` are further
    /// moments to consider (a decayed score's next rounding boundary).
    pub fn next(&self, plan: &Plan, data: &Dataset, after: Micros) -> Option<Micros> {
        let times = data_times(data);
        let targets = |times: &mut dyn Iterator<Item = Micros>| {
            let mut out: Vec<Micros> = times.flat_map(|t| [t, t.saturating_add(1)]).collect();
            out.sort_unstable();
            out.dedup();
            out
        };
        let all = targets(&mut times.iter().copied());
        let mut of_type: Vec<(Option<&str>, Vec<Micros>)> = Vec::new();
        let mut best: Option<Micros> = None;
        let mut consider = |t: Option<Micros>| {
            if let Some(t) = t.filter(|&t| t > after) {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        };
        for (b, times, affine) in &self.bounds {
            let Some(now) = value(plan, b, after) else {
                continue;
            };
            let targets = match times {
                Times::All => &all,
                Times::Events(ty) => {
                    let ty = ty.as_deref();
                    let at = match of_type.iter().position(|(t, _)| *t == ty) {
                        Some(at) => at,
                        None => {
                            let index =
                                ty.map(|ty| plan.schema.events.iter().position(|e| e.name == ty));
                            let mut times = data
                                .events
                                .iter()
                                .filter(|e| index.is_none_or(|i| i == Some(e.event as usize)))
                                .map(|e| time::micros(e.at));
                            of_type.push((ty, targets(&mut times)));
                            of_type.len() - 1
                        }
                    };
                    match of_type.get(at) {
                        Some((_, t)) => t,
                        None => continue,
                    }
                }
            };
            let i = targets.partition_point(|&t| t <= now);
            if let Some(&y) = targets.get(i) {
                consider(first_reaching(plan, b, *affine, after, y));
            }
        }
        for &(m, every, ty) in &self.steps {
            let Some(now) = value(plan, &Bound::Moment(m), after) else {
                continue;
            };
            let next = data
                .events
                .iter()
                .filter(|e| ty.is_none_or(|ty| e.event as usize == ty))
                .map(|e| time::micros(e.at))
                .filter(|&t| t <= now)
                .map(|t| t + ((now - t) / every + 1) * every)
                .min();
            if let Some(y) = next {
                consider(first_reaching(plan, &Bound::Moment(m), None, after, y));
            }
        }
        for &m in &self.since {
            let Some(now) = value(plan, &Bound::Moment(m), after) else {
                continue;
            };
            let y = times
                .iter()
                .flat_map(|&t| {
                    self.seconds.iter().flat_map(move |&s| {
                        [s, s.saturating_add(1)]
                            .map(|s| t.saturating_add(s.saturating_mul(1_000_000)))
                    })
                })
                .filter(|&y| y > now)
                .min();
            if let Some(y) = y {
                consider(first_reaching(plan, &Bound::Moment(m), None, after, y));
            }
        }
        best
    }
}

/// Every time in a group's data: events, change-log entries, and date and timestamp
/// values of contacts, accounts and changes.
fn data_times(data: &Dataset) -> Vec<Micros> {
    let mut out: Vec<Micros> = data.events.iter().map(|e| time::micros(e.at)).collect();
    let mut value = |v: Option<&Value>| match v {
        Some(Value::Timestamp(t)) => out.push(time::micros(*t)),
        Some(Value::Date(d)) => out.push(time::micros(time::midnight(*d))),
        _ => {}
    };
    for c in &data.changes {
        value(c.value.as_ref());
    }
    for r in data.contacts.rows() {
        r.attrs.iter().for_each(|v| value(v.as_ref()));
    }
    for r in &data.accounts {
        r.attrs.iter().for_each(|v| value(v.as_ref()));
    }
    out.extend(data.changes.iter().map(|c| time::micros(c.at)));
    out.sort_unstable();
    out.dedup();
    out
}

fn instant(t: Micros) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(t)
}

/// The value of a bound with the clock at `t`.
fn value(plan: &Plan, b: &Bound, t: Micros) -> Option<Micros> {
    let now = instant(t)?;
    let m = |id: MomentId| plan.moments.get(id).map(|m| time::moment_instant(m, now));
    Some(match b {
        Bound::Moment(id) => time::micros(m(*id)?),
        Bound::Start(id, w) => time::bounds(w, m(*id)?).start?,
        Bound::End(id, w) => time::bounds(w, m(*id)?).end,
        Bound::Period(id, unit, k) => time::micros(time::period_start(m(*id)?, *unit, *k)),
    })
}

/// `Some(c)` when a bound is `T − c` for every clock `T` (no calendar unit, no anchor).
fn affine(plan: &Plan, b: &Bound) -> Option<i64> {
    let (id, extra) = match b {
        Bound::Moment(id) => (*id, Some(0)),
        Bound::Start(id, Window::Within(d)) | Bound::Start(id, Window::Since(TimeRef::Ago(d))) => {
            (*id, d.fixed_seconds())
        }
        Bound::Start(id, Window::Since(TimeRef::Now)) | Bound::End(id, Window::Ever) => {
            (*id, Some(0))
        }
        Bound::End(id, Window::Within(_) | Window::Since(_)) => (*id, Some(0)),
        Bound::Period(id, unit, k) => {
            let d = crate::plan::types::Dur {
                amount: i64::try_from(*k).ok()?,
                unit: *unit,
            };
            (*id, d.fixed_seconds())
        }
        _ => return None,
    };
    let m = plan.moments.get(id)?;
    if m.anchor.is_some() {
        return None;
    }
    let mut secs = extra?;
    for d in &m.shifts {
        secs = secs.checked_add(d.fixed_seconds()?)?;
    }
    secs.checked_mul(1_000_000)
}

/// The first clock after `after` at which bound `b` reaches `y` (which it has not
/// reached at `after`); `None` when it never does.
fn first_reaching(
    plan: &Plan,
    b: &Bound,
    affine: Option<i64>,
    after: Micros,
    y: Micros,
) -> Option<Micros> {
    if let Some(c) = affine {
        return y.checked_add(c).filter(|&t| t > after);
    }
    let reached = |t: Micros| value(plan, b, t).is_some_and(|v| v >= y);
    let mut lo = after;
    let mut step: i64 = 1_000_000;
    let mut hi = loop {
        let t = after.checked_add(step)?;
        instant(t)?;
        if reached(t) {
            break t;
        }
        lo = t;
        step = step.checked_mul(2)?;
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reached(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}
