//! The one pass: events grouped by contact with a counting sort, then, contact by
//! contact in parallel, every aggregate of the plan computed in a single walk over the
//! contact's events in time order.

use super::events::{Dict, EventColumns};
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

/// The events of every contact laid out one after another, in the order of [`Groups`]
/// (contact, then time), so that the pass reads memory sequentially: time, type, a
/// bitmask of the event predicates each event passes, and the codes of the fields
/// value aggregates read. Built once; the file-order columns can then be dropped.
pub struct Sorted {
    pub start: Vec<usize>,
    at: Vec<i64>,
    sub: Vec<u16>,
    ty: Vec<u32>,
    /// `masks[i * words + w]`: bits `64 w ..` of event `i`'s predicates.
    masks: Vec<u64>,
    words: usize,
    /// The codes of each value field, in this order.
    values: Vec<Vec<u32>>,
    /// The dictionary of each value field.
    dicts: Vec<Dict>,
}

impl Sorted {
    fn time(&self, i: usize) -> Option<DateTime<Utc>> {
        super::events::join(*self.at.get(i)?, *self.sub.get(i)?)
    }

    fn value(&self, slot: usize, i: usize) -> Option<Value> {
        let code = *self.values.get(slot)?.get(i)?;
        self.dicts.get(slot)?.values.get(code as usize)?.clone()
    }
}

/// The distinct event predicates of a plan (event types and filter), each a bit.
pub struct Predicates {
    /// Per aggregate: its predicate.
    of: Vec<usize>,
    /// Per predicate: the event types it accepts (by type index) and its filter.
    preds: Vec<(Vec<bool>, Option<Filter>)>,
}

impl Predicates {
    /// Numbers the distinct (event types, filter) pairs of `plan`'s aggregates; `filters`
    /// holds each aggregate's compiled filter.
    pub fn new(plan: &Plan, filters: Vec<Option<Filter>>) -> Predicates {
        let mut keys: Vec<(Vec<usize>, Option<&crate::plan::Expr>)> = Vec::new();
        let mut of = Vec::with_capacity(plan.aggregates.len());
        let mut preds = Vec::new();
        for (a, filter) in plan.aggregates.iter().zip(filters) {
            let key = (types_of(plan, a), a.filter.as_ref());
            if let Some(p) = keys.iter().position(|k| *k == key) {
                of.push(p);
                continue;
            }
            let mut types = vec![false; plan.schema.events.len()];
            for &t in &key.0 {
                if let Some(ok) = types.get_mut(t) {
                    *ok = true;
                }
            }
            of.push(preds.len());
            preds.push((types, filter));
            keys.push(key);
        }
        Predicates { of, preds }
    }
}

/// How the predicate bits of an event of one type are found: the bits that hold for
/// every event of the type, a table per field for the predicates whose filter reads
/// that one field (code → bits), and the other predicates, tested one by one.
struct TypeMasks {
    always: Vec<u64>,
    single: Vec<(usize, Vec<u64>)>,
    other: Vec<usize>,
}

impl TypeMasks {
    fn new(preds: &Predicates, cols: &EventColumns, ty: usize, words: usize) -> TypeMasks {
        let mut out = TypeMasks {
            always: vec![0; words],
            single: Vec::new(),
            other: Vec::new(),
        };
        for (p, (types, filter)) in preds.preds.iter().enumerate() {
            if !types.get(ty).copied().unwrap_or(false) {
                continue;
            }
            let Some(f) = filter else {
                set_bit(&mut out.always, p);
                continue;
            };
            let [(field, 1)] = f.fields.as_slice() else {
                out.other.push(p);
                continue;
            };
            let size = cols.fields.get(*field).map_or(1, |c| c.dict.len());
            let k = match out.single.iter().position(|(g, _)| g == field) {
                Some(k) => k,
                None => {
                    out.single.push((*field, vec![0; size * words]));
                    out.single.len() - 1
                }
            };
            let base = f.type_slot.get(ty).copied().unwrap_or(0) * f.stride_type;
            if let Some((_, table)) = out.single.get_mut(k) {
                for code in 0..size {
                    if f.table.get(base + code).copied().unwrap_or(false)
                        && let Some(bits) = table.get_mut(code * words..(code + 1) * words)
                    {
                        set_bit(bits, p);
                    }
                }
            }
        }
        out
    }

    /// Sets the bits of the predicates event `e` (of type `ty`) passes.
    #[inline]
    fn fill(&self, preds: &Predicates, cols: &EventColumns, ty: usize, e: usize, mask: &mut [u64]) {
        mask.copy_from_slice(&self.always);
        let words = mask.len();
        for (field, table) in &self.single {
            let code = cols
                .fields
                .get(*field)
                .and_then(|c| c.codes.get(e))
                .copied()
                .unwrap_or(0) as usize;
            if let Some(bits) = table.get(code * words..(code + 1) * words) {
                for (m, b) in mask.iter_mut().zip(bits) {
                    *m |= b;
                }
            }
        }
        for &p in &self.other {
            let pass = preds
                .preds
                .get(p)
                .and_then(|(_, f)| f.as_ref())
                .is_some_and(|f| f.test(cols, ty, e));
            if pass {
                set_bit(mask, p);
            }
        }
    }
}

/// Lays the events out in contact order (see [`Sorted`]), evaluating every predicate
/// once per event; consumes the file-order columns.
pub fn sort(
    cols: EventColumns,
    groups: Groups,
    preds: &Predicates,
    value_fields: &[usize],
) -> Sorted {
    let Groups { start, order } = groups;
    let words = preds.preds.len().div_ceil(64).max(1);
    let n_types = preds.preds.first().map_or(0, |(t, _)| t.len());
    let by_type: Vec<TypeMasks> = (0..n_types)
        .map(|t| TypeMasks::new(preds, &cols, t, words))
        .collect();
    // Predicates in file order (sequential reads), then gathered like the other columns.
    let mut in_file = vec![0u64; cols.len() * words];
    const BLOCK: usize = 1 << 14;
    in_file
        .par_chunks_mut(BLOCK * words)
        .enumerate()
        .for_each(|(b, masks)| {
            for (k, mask) in masks.chunks_mut(words).enumerate() {
                let e = b * BLOCK + k;
                let ty = cols.ty.get(e).copied().unwrap_or(0) as usize;
                if let Some(t) = by_type.get(ty) {
                    t.fill(preds, &cols, ty, e, mask);
                }
            }
        });
    let mut masks = vec![0u64; order.len() * words];
    masks
        .par_chunks_mut(BLOCK * words)
        .zip(order.par_chunks(BLOCK))
        .for_each(|(masks, order)| {
            for (mask, &e) in masks.chunks_mut(words).zip(order) {
                let e = e as usize;
                if let Some(m) = in_file.get(e * words..(e + 1) * words) {
                    mask.copy_from_slice(m);
                }
            }
        });
    drop(in_file);
    let values = value_fields
        .iter()
        .map(|&f| {
            cols.fields
                .get(f)
                .map_or_else(Vec::new, |c| gather(&order, &c.codes))
        })
        .collect();
    let ty = gather(&order, &cols.ty);
    let at = gather(&order, &cols.at);
    let sub = gather(&order, &cols.sub);
    let mut fields = cols.fields;
    let dicts = value_fields
        .iter()
        .map(|&f| {
            fields
                .get_mut(f)
                .map(|c| std::mem::take(&mut c.dict))
                .unwrap_or_default()
        })
        .collect();
    Sorted {
        start,
        at,
        sub,
        ty,
        masks,
        words,
        values,
        dicts,
    }
}

/// `col` in the order `order` gives.
fn gather<T: Copy + Default + Send + Sync>(order: &[u32], col: &[T]) -> Vec<T> {
    order
        .par_iter()
        .map(|&e| col.get(e as usize).copied().unwrap_or_default())
        .collect()
}

/// Sets bit `p` of a bitmask held in words.
fn set_bit(bits: &mut [u64], p: usize) {
    if let Some(w) = bits.get_mut(p / 64) {
        *w |= 1 << (p % 64);
    }
}

/// An aggregate ready to run: its bounds and moment as integers, its predicate.
struct Prepared<'p> {
    kind: &'p AggKind,
    bounds: Bounds,
    moment: DateTime<Utc>,
    moment_micros: Micros,
    /// Word and bit of its predicate in an event's mask.
    word: usize,
    bit: u64,
    /// The value field (slot in `Sorted::values`) read by value aggregates and `Points`
    /// multipliers.
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

/// The event fields (indices into the file-order columns) that value aggregates and
/// multipliers read, each once: what [`sort`] keeps.
pub fn value_fields(plan: &Plan, cols: &EventColumns) -> Vec<usize> {
    let mut out = Vec::new();
    for a in &plan.aggregates {
        if let Some(f) = a.kind.field().and_then(|f| cols.field(f))
            && !out.contains(&f)
        {
            out.push(f);
        }
    }
    out
}

/// Computes every aggregate for every contact: `out[aggregate]`, a value per contact.
/// `fields` are the value fields as given to [`sort`], by name. `tick` is called with
/// the number of contacts done, now and then.
pub fn aggregates(
    plan: &Plan,
    sorted: &Sorted,
    preds: &Predicates,
    fields: &[String],
    moments: &[DateTime<Utc>],
    now: DateTime<Utc>,
    tick: &(dyn Fn(u64) + Sync),
) -> Vec<Col> {
    let prepared: Vec<Prepared<'_>> = plan
        .aggregates
        .iter()
        .zip(&preds.of)
        .map(|(a, &p)| {
            let moment = moments.get(a.moment).copied().unwrap_or(now);
            Prepared {
                kind: &a.kind,
                bounds: time::bounds(&a.window, moment),
                moment,
                moment_micros: time::micros(moment),
                word: p / 64,
                bit: 1 << (p % 64),
                field: a
                    .kind
                    .field()
                    .and_then(|f| fields.iter().position(|n| n == f)),
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
    let contacts = sorted.start.len().saturating_sub(1);
    const BLOCK: usize = 2048;
    let mut out: Vec<Col> = prepared.iter().map(|p| full(p.kind, contacts)).collect();
    // Per block of contacts, a slice of every column to fill.
    let n_blocks = contacts.div_ceil(BLOCK);
    let mut blocks: Vec<Vec<Slot<'_>>> = (0..n_blocks).map(|_| Vec::new()).collect();
    for col in &mut out {
        let chunks: Vec<Slot<'_>> = match col {
            Col::Int(v) => v.chunks_mut(BLOCK).map(Slot::Int).collect(),
            Col::Num(v) => v.chunks_mut(BLOCK).map(Slot::Num).collect(),
            Col::Values(v) => v.chunks_mut(BLOCK).map(Slot::Values).collect(),
            // `full` makes no other kind of column.
            _ => (0..n_blocks).map(|_| Slot::Skip).collect(),
        };
        for (block, chunk) in blocks.iter_mut().zip(chunks) {
            block.push(chunk);
        }
    }
    blocks
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut slots)| {
            let lo = b * BLOCK;
            let hi = (lo + BLOCK).min(contacts);
            let mut states: Vec<State> = Vec::with_capacity(prepared.len());
            for c in lo..hi {
                states.extend(prepared.iter().map(|p| fresh(p.kind)));
                let (a, z) = (
                    sorted.start.get(c).copied().unwrap_or(0),
                    sorted.start.get(c + 1).copied().unwrap_or(0),
                );
                for e in a..z {
                    visit(sorted, &prepared, &by_type, &mut states, e);
                }
                for ((s, p), slot) in states.drain(..).zip(&prepared).zip(&mut slots) {
                    slot.set(c - lo, sorted, s, p);
                }
            }
            tick((hi - lo) as u64);
        });
    out
}

/// A full column of the shape an aggregate kind fills, for `n` contacts.
fn full(kind: &AggKind, n: usize) -> Col {
    match kind {
        AggKind::Count | AggKind::Periods { .. } => Col::Int(vec![0; n]),
        AggKind::Points { .. } => Col::Num(vec![0.0; n]),
        _ => Col::Values(vec![None; n]),
    }
}

/// One block's part of an aggregate's column.
enum Slot<'a> {
    Int(&'a mut [i64]),
    Num(&'a mut [f64]),
    Values(&'a mut [Option<Value>]),
    Skip,
}

impl Slot<'_> {
    /// Stores an aggregate's final value for the `i`-th contact of the block.
    fn set(&mut self, i: usize, sorted: &Sorted, s: State, p: &Prepared<'_>) {
        match (self, s) {
            (Slot::Int(v), State::Count(n)) => put(v, i, n),
            (Slot::Int(v), State::Periods(seen)) => put(v, i, periods(&seen)),
            (Slot::Num(v), State::Points(sum)) => put(v, i, sum),
            (Slot::Values(v), s) => put(v, i, finish(sorted, s, p)),
            // `full` gives each kind the column its state fills.
            _ => {}
        }
    }
}

fn put<T>(v: &mut [T], i: usize, x: T) {
    if let Some(slot) = v.get_mut(i) {
        *slot = x;
    }
}

/// Feeds event `e` (an index into `sorted`) to every aggregate that reads its type.
fn visit(
    sorted: &Sorted,
    prepared: &[Prepared<'_>],
    by_type: &[Vec<usize>],
    states: &mut [State],
    e: usize,
) {
    let (Some(&ty), Some(&at)) = (sorted.ty.get(e), sorted.at.get(e)) else {
        return;
    };
    let Some(aggs) = by_type.get(ty as usize) else {
        return;
    };
    let mask = sorted
        .masks
        .get(e * sorted.words..(e + 1) * sorted.words)
        .unwrap_or_default();
    for &k in aggs {
        let (Some(p), Some(s)) = (prepared.get(k), states.get_mut(k)) else {
            continue;
        };
        if mask.get(p.word).is_none_or(|w| w & p.bit == 0) || !p.bounds.contains(at) {
            continue;
        }
        let field = || sorted.value(p.field?, e);
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
                    && let Some(t) = sorted.time(e)
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

fn periods(seen: &[u64]) -> i64 {
    seen.iter().map(|w| i64::from(w.count_ones())).sum()
}

fn finish(sorted: &Sorted, s: State, p: &Prepared<'_>) -> Option<Value> {
    match s {
        State::Count(n) => Some(Value::Int(n)),
        State::First(e) | State::Last(e) => e.and_then(|e| sorted.time(e)).map(Value::Timestamp),
        State::Periods(seen) => Some(Value::Int(periods(&seen))),
        State::Points(sum) => Some(Value::Number(sum)),
        State::Values(acc) => acc.finish(p.kind),
    }
}
