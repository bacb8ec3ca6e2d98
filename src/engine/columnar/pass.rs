//! The one pass: events grouped by contact with a counting sort, then, contact by
//! contact in parallel, every aggregate of the plan computed in a single walk over the
//! contact's events in time order.

use super::events::EventColumns;
use super::filters::{Filter, types_of};
use crate::engine::aggregate::Acc;
use crate::engine::eval::Col;
use crate::engine::time::{self, Bounds, Micros};
use crate::engine::value;
use crate::plan::types::Value;
use crate::plan::{AggKind, Plan};
use chrono::{DateTime, Utc};
use rayon::prelude::*;

/// Events grouped by contact: `order[start[c]..start[c + 1]]` are contact `c`'s events
/// at or before `now`, in time order (file order among equal times).
pub struct Groups {
    pub start: Vec<usize>,
    pub order: Vec<u32>,
}

/// Groups events by contact: a counting sort (stable, so file order is kept), then a
/// stable sort by time of any contact whose events are not already in time order.
pub fn group(cols: &EventColumns, contacts: usize, now: DateTime<Utc>) -> Groups {
    let now = time::micros(now);
    let mut start = vec![0usize; contacts + 1];
    for (&c, &at) in cols.contact.iter().zip(&cols.at) {
        if at <= now
            && let Some(n) = start.get_mut(c as usize + 1)
        {
            *n += 1;
        }
    }
    for i in 1..start.len() {
        let prev = start.get(i - 1).copied().unwrap_or(0);
        if let Some(n) = start.get_mut(i) {
            *n += prev;
        }
    }
    let total = start.last().copied().unwrap_or(0);
    let mut next = start.clone();
    let mut order = vec![0u32; total];
    for (i, (&c, &at)) in cols.contact.iter().zip(&cols.at).enumerate() {
        if at > now {
            continue;
        }
        if let Some(pos) = next.get_mut(c as usize)
            && let Some(slot) = order.get_mut(*pos)
        {
            *slot = i as u32;
            *pos += 1;
        }
    }
    let key = |i: &u32| {
        let i = *i as usize;
        (
            cols.at.get(i).copied().unwrap_or(0),
            cols.sub.get(i).copied().unwrap_or(0),
        )
    };
    let mut rest: &mut [u32] = &mut order;
    let mut slices = Vec::with_capacity(contacts);
    for w in start.windows(2) {
        let (a, b) = (
            w.first().copied().unwrap_or(0),
            w.get(1).copied().unwrap_or(0),
        );
        let (head, tail) = rest.split_at_mut(b - a);
        slices.push(head);
        rest = tail;
    }
    slices.into_par_iter().for_each(|s| {
        if !s.is_sorted_by_key(key) {
            s.sort_by_key(key);
        }
    });
    Groups { start, order }
}

/// An aggregate ready to run: its bounds and moment as integers, its filter table.
struct Prepared<'p> {
    kind: &'p AggKind,
    bounds: Bounds,
    moment: DateTime<Utc>,
    moment_micros: Micros,
    filter: Option<Filter>,
    /// The field column read by value aggregates and `Points` multipliers.
    field: Option<usize>,
}

/// Running state of one aggregate for one contact.
enum State {
    Count(i64),
    First(Option<usize>),
    Last(Option<usize>),
    Periods(Vec<u64>),
    Points(f64),
    /// Boxed: rare, and much larger than the others.
    Values(Box<Acc>),
}

fn fresh(kind: &AggKind) -> State {
    match kind {
        AggKind::Count => State::Count(0),
        AggKind::FirstTime => State::First(None),
        AggKind::LastTime => State::Last(None),
        AggKind::Periods { .. } => State::Periods(Vec::new()),
        AggKind::Points { .. } => State::Points(0.0),
        _ => State::Values(Box::new(Acc::new(kind))),
    }
}

/// Computes every aggregate for every contact: `out[aggregate]`, a value per contact. `tick` is
/// called with the number of contacts done, now and then.
pub fn aggregates(
    plan: &Plan,
    cols: &EventColumns,
    groups: &Groups,
    moments: &[DateTime<Utc>],
    now: DateTime<Utc>,
    filters: Vec<Option<Filter>>,
    tick: &(dyn Fn(u64) + Sync),
) -> Vec<Col> {
    let prepared: Vec<Prepared<'_>> = plan
        .aggregates
        .iter()
        .zip(filters)
        .map(|(a, filter)| {
            let moment = moments.get(a.moment).copied().unwrap_or(now);
            Prepared {
                kind: &a.kind,
                bounds: time::bounds(&a.window, moment),
                moment,
                moment_micros: time::micros(moment),
                filter,
                field: a.kind.field().and_then(|f| cols.field(f)),
            }
        })
        .collect();
    // Per event type, the aggregates that read it.
    let mut by_type: Vec<Vec<usize>> = vec![Vec::new(); plan.schema.events.len()];
    for (i, a) in plan.aggregates.iter().enumerate() {
        for t in types_of(plan, a) {
            if let Some(list) = by_type.get_mut(t) {
                list.push(i);
            }
        }
    }
    let contacts = groups.start.len().saturating_sub(1);
    const BLOCK: usize = 2048;
    let blocks: Vec<Vec<Col>> = (0..contacts.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let lo = b * BLOCK;
            let hi = (lo + BLOCK).min(contacts);
            let mut out: Vec<Col> = prepared.iter().map(|p| empty(p.kind, hi - lo)).collect();
            let mut states: Vec<State> = Vec::with_capacity(prepared.len());
            for c in lo..hi {
                states.extend(prepared.iter().map(|p| fresh(p.kind)));
                let (a, z) = (
                    groups.start.get(c).copied().unwrap_or(0),
                    groups.start.get(c + 1).copied().unwrap_or(0),
                );
                for &e in groups.order.get(a..z).unwrap_or_default() {
                    visit(cols, &prepared, &by_type, &mut states, e as usize);
                }
                for ((s, p), col) in states.drain(..).zip(&prepared).zip(&mut out) {
                    push(col, cols, s, p);
                }
            }
            tick((hi - lo) as u64);
            out
        })
        .collect();
    // Blocks to columns, each part freed as soon as it is copied.
    let mut parts: Vec<Vec<Col>> = (0..prepared.len()).map(|_| Vec::new()).collect();
    for block in blocks {
        for (k, col) in block.into_iter().enumerate() {
            if let Some(p) = parts.get_mut(k) {
                p.push(col);
            }
        }
    }
    parts.into_par_iter().map(|p| concat(p, contacts)).collect()
}

/// An empty column of the shape an aggregate kind fills.
fn empty(kind: &AggKind, n: usize) -> Col {
    match kind {
        AggKind::Count | AggKind::Periods { .. } => Col::Int(Vec::with_capacity(n)),
        AggKind::Points { .. } => Col::Num(Vec::with_capacity(n)),
        _ => Col::Values(Vec::with_capacity(n)),
    }
}

/// Appends the columns of consecutive blocks.
fn concat(parts: Vec<Col>, n: usize) -> Col {
    let mut iter = parts.into_iter();
    let Some(mut out) = iter.next() else {
        return Col::Values(Vec::new());
    };
    out.reserve(n);
    for part in iter {
        match (&mut out, part) {
            (Col::Int(v), Col::Int(p)) => v.extend(p),
            (Col::Num(v), Col::Num(p)) => v.extend(p),
            (Col::Bool(v), Col::Bool(p)) => v.extend(p),
            (Col::Values(v), Col::Values(p)) => v.extend(p),
            (out, part) => {
                let mut values = out.to_values();
                values.extend(part.to_values());
                *out = Col::Values(values);
            }
        }
    }
    out
}

/// Feeds event `e` to every aggregate that reads its type.
fn visit(
    cols: &EventColumns,
    prepared: &[Prepared<'_>],
    by_type: &[Vec<usize>],
    states: &mut [State],
    e: usize,
) {
    let (Some(&ty), Some(&at)) = (cols.ty.get(e), cols.at.get(e)) else {
        return;
    };
    let Some(aggs) = by_type.get(ty as usize) else {
        return;
    };
    for &k in aggs {
        let (Some(p), Some(s)) = (prepared.get(k), states.get_mut(k)) else {
            continue;
        };
        if !p.bounds.contains(at) {
            continue;
        }
        if let Some(f) = &p.filter
            && !f.test(cols, ty as usize, e)
        {
            continue;
        }
        let field = || {
            let col = cols.fields.get(p.field?)?;
            let code = *col.codes.get(e)?;
            col.dict.values.get(code as usize)?.clone()
        };
        match s {
            State::Count(n) => *n += 1,
            State::First(first) => {
                if first.is_none() {
                    *first = Some(e);
                }
            }
            State::Last(last) => *last = Some(e),
            State::Periods(seen) => {
                if let AggKind::Periods { unit, of_last } = p.kind
                    && let Some(t) = cols.time(e)
                    && let Some(k) = time::period(t, p.moment, *unit, *of_last)
                {
                    let (word, bit) = ((k / 64) as usize, k % 64);
                    if seen.len() <= word {
                        seen.resize(word + 1, 0);
                    }
                    if let Some(w) = seen.get_mut(word) {
                        *w |= 1 << bit;
                    }
                }
            }
            State::Points(sum) => {
                if let AggKind::Points { times_field, decay } = p.kind {
                    let mult = match times_field {
                        Some(_) => field().as_ref().and_then(value::as_f64).unwrap_or(0.0),
                        None => 1.0,
                    };
                    let age = (p.moment_micros - at) as f64 / 1e6;
                    *sum += mult * time::decay_factor(decay.as_ref(), age);
                }
            }
            State::Values(acc) => {
                if let Some(v) = field() {
                    acc.add(p.kind, v, at);
                }
            }
        }
    }
}

/// Appends an aggregate's final value for one contact to its column.
fn push(col: &mut Col, cols: &EventColumns, s: State, p: &Prepared<'_>) {
    match (col, s) {
        (Col::Int(v), State::Count(n)) => v.push(n),
        (Col::Int(v), State::Periods(seen)) => v.push(periods(&seen)),
        (Col::Num(v), State::Points(sum)) => v.push(sum),
        (Col::Values(v), s) => v.push(finish(cols, s, p)),
        (col, s) => {
            let mut values = col.to_values();
            values.push(finish(cols, s, p));
            *col = Col::Values(values);
        }
    }
}

fn periods(seen: &[u64]) -> i64 {
    seen.iter().map(|w| i64::from(w.count_ones())).sum()
}

fn finish(cols: &EventColumns, s: State, p: &Prepared<'_>) -> Option<Value> {
    match s {
        State::Count(n) => Some(Value::Int(n)),
        State::First(e) | State::Last(e) => e.and_then(|e| cols.time(e)).map(Value::Timestamp),
        State::Periods(seen) => Some(Value::Int(periods(&seen))),
        State::Points(sum) => Some(Value::Number(sum)),
        State::Values(acc) => acc.finish(p.kind),
    }
}
