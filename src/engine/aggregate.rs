//! Per-contact event aggregates: one pass over a contact's events per aggregate.

use super::context::Context;
use super::eval::{Row, State};
use super::time::{self, Micros};
use super::value;
use crate::plan::types::{EventSel, Value};
use crate::plan::{AggKind, Aggregate};
use std::cmp::Ordering;
use std::collections::HashMap;

/// The value of aggregate `a` for contact `c`.
pub fn compute(ctx: &Context<'_>, st: &State, a: &Aggregate, c: u32) -> Option<Value> {
    let m = ctx.moments.get(a.moment).copied().unwrap_or(ctx.now);
    let bounds = time::bounds(&a.window, m);
    let wanted = match &a.event {
        EventSel::Any => None,
        EventSel::Type(t) => Some(*ctx.event_type.get(t)?),
    };
    let field_of = |ev: u32, name: &str| -> Option<usize> {
        ctx.event_fields.get(ev as usize)?.get(name).copied()
    };
    let events = ctx.events_of.get(c as usize).map_or(&[][..], Vec::as_slice);
    let mut acc = Acc::new(&a.kind);
    for &i in events {
        let Some(e) = ctx.data.events.get(i as usize) else {
            continue;
        };
        if wanted.is_some_and(|w| w != e.event) {
            continue;
        }
        let at = time::micros(e.at);
        if !bounds.contains(at) {
            continue;
        }
        if let Some(f) = &a.filter {
            let v = st.eval(
                ctx,
                f,
                Row::Event {
                    contact: c,
                    event: i,
                },
            );
            if !value::truthy(&v) {
                continue;
            }
        }
        let field = |name: &str| -> Option<Value> {
            field_of(e.event, name).and_then(|fi| e.fields.get(fi).cloned().flatten())
        };
        match &a.kind {
            AggKind::Count => acc.count += 1,
            AggKind::FirstTime => {
                if acc.first_at.is_none() {
                    acc.first_at = Some(e.at);
                }
            }
            AggKind::LastTime => acc.last_at = Some(e.at),
            AggKind::Periods { unit, of_last } => {
                if let Some(k) = time::period(e.at, m, *unit, *of_last) {
                    acc.periods.insert(k);
                }
            }
            AggKind::Points { times_field, decay } => {
                let mult = match times_field {
                    Some(f) => field(f).as_ref().and_then(value::as_f64).unwrap_or(0.0),
                    None => 1.0,
                };
                let age = (time::micros(m) - at) as f64 / 1e6;
                acc.sum_f += mult * time::decay_factor(decay.as_ref(), age);
            }
            kind => {
                if let Some(v) = kind.field().and_then(field) {
                    acc.add(kind, v, at);
                }
            }
        }
    }
    acc.finish(&a.kind)
}

/// Running state of one aggregate (shared with the columnar engine).
pub(crate) struct Acc {
    count: i64,
    sum_i: i64,
    sum_is_int: bool,
    sum_f: f64,
    n: i64,
    best: Option<Value>,
    first_at: Option<chrono::DateTime<chrono::Utc>>,
    last_at: Option<chrono::DateTime<chrono::Utc>>,
    periods: std::collections::BTreeSet<u64>,
    distinct: Vec<Value>,
    freq: HashMap<String, (i64, Value)>,
}

impl Acc {
    pub(crate) fn new(kind: &AggKind) -> Acc {
        Acc {
            count: 0,
            sum_i: 0,
            sum_is_int: matches!(kind, AggKind::Sum { .. }),
            sum_f: 0.0,
            n: 0,
            best: None,
            first_at: None,
            last_at: None,
            periods: Default::default(),
            distinct: Vec::new(),
            freq: HashMap::new(),
        }
    }

    pub(crate) fn add(&mut self, kind: &AggKind, v: Value, _at: Micros) {
        self.n += 1;
        match kind {
            AggKind::Sum { .. } | AggKind::Avg { .. } => {
                if let Value::Int(i) = v {
                    match self.sum_i.checked_add(i) {
                        Some(s) => self.sum_i = s,
                        None => self.sum_is_int = false,
                    }
                } else {
                    self.sum_is_int = false;
                }
                self.sum_f += value::as_f64(&v).unwrap_or(0.0);
            }
            AggKind::Min { .. }
                if self
                    .best
                    .as_ref()
                    .is_none_or(|b| value::order(&v, b) == Some(Ordering::Less)) =>
            {
                self.best = Some(v);
            }
            AggKind::Max { .. }
                if self
                    .best
                    .as_ref()
                    .is_none_or(|b| value::order(&v, b) == Some(Ordering::Greater)) =>
            {
                self.best = Some(v);
            }
            AggKind::First { .. } if self.best.is_none() => self.best = Some(v),
            AggKind::Last { .. } => self.best = Some(v),
            AggKind::CountDistinct { .. }
                if !self
                    .distinct
                    .iter()
                    .any(|d| value::order(d, &v) == Some(Ordering::Equal)) =>
            {
                self.distinct.push(v);
            }
            AggKind::MostFrequent { .. } => {
                let key = match &v {
                    Value::Text(t) => value::fold(t),
                    other => crate::plan::display::value(other),
                };
                let entry = self.freq.entry(key).or_insert((0, v));
                entry.0 += 1;
            }
            _ => {}
        }
    }

    pub(crate) fn finish(self, kind: &AggKind) -> Option<Value> {
        match kind {
            AggKind::Count => Some(Value::Int(self.count)),
            AggKind::CountDistinct { .. } => Some(Value::Int(self.distinct.len() as i64)),
            AggKind::Sum { .. } => Some(if self.sum_is_int {
                Value::Int(self.sum_i)
            } else {
                Value::Number(self.sum_f)
            }),
            AggKind::Avg { .. } => (self.n > 0).then(|| Value::Number(self.sum_f / self.n as f64)),
            AggKind::Min { .. }
            | AggKind::Max { .. }
            | AggKind::First { .. }
            | AggKind::Last { .. } => self.best,
            AggKind::MostFrequent { .. } => self
                .freq
                .into_values()
                .max_by(|(na, va), (nb, vb)| {
                    na.cmp(nb)
                        .then_with(|| value::order(vb, va).unwrap_or(Ordering::Equal))
                })
                .map(|(_, v)| v),
            AggKind::FirstTime => self.first_at.map(Value::Timestamp),
            AggKind::LastTime => self.last_at.map(Value::Timestamp),
            AggKind::Periods { .. } => Some(Value::Int(self.periods.len() as i64)),
            AggKind::Points { .. } => Some(Value::Number(self.sum_f)),
        }
    }
}
