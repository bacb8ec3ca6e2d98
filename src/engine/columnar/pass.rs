//! The one pass: events grouped by contact with a counting sort, then, contact by
//! contact in parallel, every aggregate of the plan computed in a single walk over the
//! contact's events in time order.

use super::events::{Dict, EventColumns};
use super::filters::{Filter, types_of};
use crate::engine::aggregate::Acc;
use crate::engine::eval::Col;
use crate::engine::time::{self, Bounds, Micros};
use crate::engine::value;
use crate::plan::types::{DurationUnit, Value};
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
/// (contact, then time), so that the pass reads memory sequentially: time, a bitmask of
/// the event predicates each event passes (which also says its type, as far as the
/// aggregates care), and the codes of the fields value aggregates read. Built once; the
/// file-order columns are dropped as they are gathered.
pub struct Sorted {
    pub start: Vec<usize>,
    at: Vec<i64>,
    /// Empty when every event's is 0 (times in whole microseconds).
    sub: Vec<u16>,
    /// `masks[i * words + w]`: bits `64 w ..` of event `i`'s predicates.
    masks: Vec<u64>,
    words: usize,
    /// Per value slot, the code of each event's value field in that slot (0 when its
    /// type has none): value fields no event type and no aggregate can mix share a
    /// slot (see [`value_slots`]).
    values: Vec<Vec<u32>>,
    /// Per value field, its slot in `values`.
    slot_of: Vec<usize>,
    /// The dictionary of each value field.
    dicts: Vec<Dict>,
}

impl Sorted {
    fn time(&self, i: usize) -> Option<DateTime<Utc>> {
        super::events::join(*self.at.get(i)?, self.sub.get(i).copied().unwrap_or(0))
    }

    /// Value field `k` of event `i`, for an event that passed the predicate of an
    /// aggregate that reads the field.
    fn value(&self, k: usize, i: usize) -> Option<Value> {
        let code = *self.values.get(*self.slot_of.get(k)?)?.get(i)?;
        self.dicts.get(k)?.values.get(code as usize)?.clone()
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
            let ([(field, 1)], true) = (f.fields.as_slice(), f.is_dense()) else {
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
        for (m, a) in mask.iter_mut().zip(&self.always) {
            *m = *a;
        }
        let words = mask.len();
        for (field, table) in &self.single {
            let code = cols.code(*field, ty, e) as usize;
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
/// once per event, value field `value_fields[k]` in slot `slot_of[k]` (from
/// [`value_slots`]); consumes the file-order columns, each freed (or its memory
/// reused) once gathered.
pub fn sort(
    mut cols: EventColumns,
    groups: Groups,
    preds: &Predicates,
    value_fields: &[usize],
    slot_of: Vec<usize>,
) -> Sorted {
    let Groups { start, order } = groups;
    let words = preds.preds.len().div_ceil(64).max(1);
    let in_file = file_masks(&cols, preds, words);
    let mut masks = vec![0u64; order.len() * words];
    masks
        .par_chunks_mut(LAYOUT_BLOCK * words)
        .zip(order.par_chunks(LAYOUT_BLOCK))
        .for_each(|(masks, order)| {
            for (mask, &e) in masks.chunks_mut(words).zip(order) {
                let from = in_file.get(e as usize * words..).unwrap_or_default();
                for (m, b) in mask.iter_mut().zip(from) {
                    *m = *b;
                }
            }
        });
    drop(in_file);
    // The first value column takes the contact column's memory (the groups are known).
    let mut spare = std::mem::take(&mut cols.contact);
    let n_slots = slot_of.iter().max().map_or(0, |&s| s + 1);
    let mut values = Vec::with_capacity(n_slots);
    for s in 0..n_slots {
        let fields: Vec<usize> = value_fields
            .iter()
            .zip(&slot_of)
            .filter(|&(_, &slot)| slot == s)
            .map(|(&f, _)| f)
            .collect();
        let code = |e: usize| {
            let ty = cols.ty.get(e).copied().unwrap_or(0) as usize;
            // A type has at most one of the slot's fields.
            fields
                .iter()
                .map(|&f| cols.code(f, ty, e))
                .find(|&c| c != 0)
                .unwrap_or(0)
        };
        values.push(gather_with(&order, code, spare));
        spare = Vec::new();
    }
    let dicts = value_fields
        .iter()
        .map(|&f| {
            cols.fields
                .get_mut(f)
                .map(|c| std::mem::take(&mut c.dict))
                .unwrap_or_default()
        })
        .collect();
    let EventColumns { at, sub, .. } = cols;
    let at = gather_with(
        &order,
        |e| at.get(e).copied().unwrap_or_default(),
        Vec::new(),
    );
    let sub = match sub.is_empty() {
        true => Vec::new(),
        false => gather_with(
            &order,
            |e| sub.get(e).copied().unwrap_or_default(),
            Vec::new(),
        ),
    };
    Sorted {
        start,
        at,
        sub,
        masks,
        words,
        values,
        slot_of,
        dicts,
    }
}

/// Per value field (`value_fields[k]`), the slot it is laid out in. Two fields share a
/// slot only when no event type has both and no aggregate that reads one accepts an
/// event type that has the other: an event's slot then holds the code of the one
/// field its type has, and an aggregate reads it only for events it accepts.
pub fn value_slots(
    plan: &Plan,
    cols: &EventColumns,
    preds: &Predicates,
    value_fields: &[usize],
) -> Vec<usize> {
    let n_types = plan.schema.events.len();
    // Per value field, the event types that have it, and those its aggregates accept.
    let holds: Vec<Vec<bool>> = value_fields
        .iter()
        .map(|&f| (0..n_types).map(|t| cols.slot(t, f).is_some()).collect())
        .collect();
    let mut read_on: Vec<Vec<bool>> = vec![vec![false; n_types]; value_fields.len()];
    for (a, &p) in plan.aggregates.iter().zip(&preds.of) {
        let k = a
            .kind
            .field()
            .and_then(|name| cols.field(name))
            .and_then(|f| value_fields.iter().position(|&v| v == f));
        if let (Some(read), Some((types, _))) =
            (k.and_then(|k| read_on.get_mut(k)), preds.preds.get(p))
        {
            for (r, &t) in read.iter_mut().zip(types) {
                *r |= t;
            }
        }
    }
    // Whether an event that field `a` is read on (or held by) may hold field `b`.
    let has = |v: &[Vec<bool>], k: usize, t: usize| v.get(k).and_then(|x| x.get(t)) == Some(&true);
    let reaches = |a: usize, b: usize| {
        (0..n_types).any(|t| (has(&holds, a, t) || has(&read_on, a, t)) && has(&holds, b, t))
    };
    let clash = |a: usize, b: usize| reaches(a, b) || reaches(b, a);
    let mut slot_of: Vec<usize> = Vec::with_capacity(value_fields.len());
    for k in 0..value_fields.len() {
        let slot = (0..)
            .find(|&s| {
                slot_of
                    .iter()
                    .enumerate()
                    .all(|(j, &sj)| sj != s || !clash(j, k))
            })
            .unwrap_or(k);
        slot_of.push(slot);
    }
    slot_of
}

/// Events per parallel task when laying events out.
const LAYOUT_BLOCK: usize = 1 << 14;

/// Every event's predicate bits (`words` words each), in file order.
fn file_masks(cols: &EventColumns, preds: &Predicates, words: usize) -> Vec<u64> {
    let n_types = preds.preds.first().map_or(0, |(t, _)| t.len());
    let by_type: Vec<TypeMasks> = (0..n_types)
        .map(|t| TypeMasks::new(preds, cols, t, words))
        .collect();
    let mut out = vec![0u64; cols.len() * words];
    out.par_chunks_mut(LAYOUT_BLOCK * words)
        .enumerate()
        .for_each(|(b, masks)| {
            for (k, mask) in masks.chunks_mut(words).enumerate() {
                let e = b * LAYOUT_BLOCK + k;
                let ty = cols.ty.get(e).copied().unwrap_or(0) as usize;
                if let Some(t) = by_type.get(ty) {
                    t.fill(preds, cols, ty, e, mask);
                }
            }
        });
    out
}

/// `value(e)` for every event `e` in the order `order` gives, written into `out`'s
/// memory (its contents dropped).
fn gather_with<T: Send>(
    order: &[u32],
    value: impl Fn(usize) -> T + Sync,
    mut out: Vec<T>,
) -> Vec<T> {
    out.clear();
    out.par_extend(order.par_iter().map(|&e| value(e as usize)));
    out
}

/// Sets bit `p` of a bitmask held in words.
fn set_bit(bits: &mut [u64], p: usize) {
    if let Some(w) = bits.get_mut(p / 64) {
        *w |= 1 << (p % 64);
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

/// An aggregate ready to run: its bounds and moment as integers.
struct Prepared<'p> {
    kind: &'p AggKind,
    bounds: Bounds,
    moment: DateTime<Utc>,
    moment_micros: Micros,
    /// The value field (slot in `Sorted::values`) read by value aggregates and `Points`
    /// multipliers.
    field: Option<usize>,
    /// For `Periods`: [`time::period_start`] of 1, 2, … (at most [`MAX_STEPS`] of them).
    steps: Vec<DateTime<Utc>>,
}

/// Most period starts computed ahead for a `Periods` aggregate.
const MAX_STEPS: u64 = 1 << 12;

impl Prepared<'_> {
    /// [`time::period`] of an event at `t`, with the period starts computed once.
    fn period(&self, t: DateTime<Utc>, unit: DurationUnit, limit: u64) -> Option<u64> {
        time::period_from(t, self.moment, limit, |k| {
            let ahead = usize::try_from(k - 1).ok().and_then(|i| self.steps.get(i));
            ahead
                .copied()
                .unwrap_or_else(|| time::period_start(self.moment, unit, k))
        })
    }
}

/// Running state of one aggregate for the contact at hand (kept for the next one).
enum State {
    Count(u32),
    First(Option<usize>),
    Last(Option<usize>),
    Periods(Vec<u64>),
    Points(f64),
    /// Boxed: much larger than the others.
    Values(Box<Acc>),
}

/// The final value of an aggregate for one contact.
enum Final {
    /// A count (of events or periods: at most one per event, and events are counted in
    /// `u32`).
    Count(u32),
    Num(f64),
    Value(Option<Value>),
}

impl State {
    fn new(kind: &AggKind) -> State {
        match kind {
            AggKind::Count => State::Count(0),
            AggKind::FirstTime => State::First(None),
            AggKind::LastTime => State::Last(None),
            AggKind::Periods { .. } => State::Periods(Vec::new()),
            AggKind::Points { .. } => State::Points(0.0),
            _ => State::Values(Box::new(Acc::new(kind))),
        }
    }

    /// The final value, the state emptied for the next contact.
    fn take(&mut self, sorted: &Sorted, kind: &AggKind) -> Final {
        match self {
            State::Count(n) => Final::Count(std::mem::take(n)),
            State::First(e) | State::Last(e) => {
                Final::Value(e.take().and_then(|e| sorted.time(e)).map(Value::Timestamp))
            }
            State::Periods(seen) => {
                let n = seen.iter().map(|w| w.count_ones()).sum();
                seen.fill(0);
                Final::Count(n)
            }
            State::Points(sum) => Final::Num(std::mem::take(sum)),
            State::Values(acc) => {
                Final::Value(std::mem::replace(&mut **acc, Acc::new(kind)).finish(kind))
            }
        }
    }
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
        .map(|a| {
            let moment = moments.get(a.moment).copied().unwrap_or(now);
            let steps = match a.kind {
                AggKind::Periods { unit, of_last } => (1..=of_last.min(MAX_STEPS))
                    .map(|k| time::period_start(moment, unit, k))
                    .collect(),
                _ => Vec::new(),
            };
            Prepared {
                kind: &a.kind,
                bounds: time::bounds(&a.window, moment),
                moment,
                moment_micros: time::micros(moment),
                field: a
                    .kind
                    .field()
                    .and_then(|f| fields.iter().position(|n| n == f)),
                steps,
            }
        })
        .collect();
    // Per predicate, the aggregates that read it.
    let mut by_pred: Vec<Vec<usize>> = vec![Vec::new(); preds.preds.len()];
    for (i, &p) in preds.of.iter().enumerate() {
        if let Some(list) = by_pred.get_mut(p) {
            list.push(i);
        }
    }
    let contacts = sorted.start.len().saturating_sub(1);
    const BLOCK: usize = 2048;
    let mut out: Vec<Col> = prepared
        .iter()
        .map(|p| full(State::new(p.kind).take(sorted, p.kind), contacts))
        .collect();
    // Per block of contacts, a slice of every column to fill.
    let n_blocks = contacts.div_ceil(BLOCK);
    let mut blocks: Vec<Vec<Slot<'_>>> = (0..n_blocks).map(|_| Vec::new()).collect();
    for col in &mut out {
        let chunks: Vec<Slot<'_>> = match col {
            Col::Count(v) => v.chunks_mut(BLOCK).map(Slot::Count).collect(),
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
            let mut states: Vec<State> = prepared.iter().map(|p| State::new(p.kind)).collect();
            let mut touched = Touched {
                list: Vec::new(),
                flag: vec![false; prepared.len()],
            };
            for c in lo..hi {
                let (a, z) = (
                    sorted.start.get(c).copied().unwrap_or(0),
                    sorted.start.get(c + 1).copied().unwrap_or(0),
                );
                for e in a..z {
                    visit(sorted, &prepared, &by_pred, &mut states, &mut touched, e);
                }
                for k in touched.list.drain(..) {
                    if let (Some(s), Some(p), Some(slot), Some(f)) = (
                        states.get_mut(k),
                        prepared.get(k),
                        slots.get_mut(k),
                        touched.flag.get_mut(k),
                    ) {
                        slot.set(c - lo, s.take(sorted, p.kind));
                        *f = false;
                    }
                }
            }
            tick((hi - lo) as u64);
        });
    out
}

/// A column of `n` contacts, each with `empty`: the value of an aggregate no event fed
/// (contacts whose state the pass touches are set by it).
fn full(empty: Final, n: usize) -> Col {
    match empty {
        Final::Count(x) => Col::Count(vec![x; n]),
        Final::Num(x) => Col::Num(vec![x; n]),
        Final::Value(x) => Col::Values(vec![x; n]),
    }
}

/// The aggregates whose state events of the contact at hand have fed, each once.
struct Touched {
    list: Vec<usize>,
    flag: Vec<bool>,
}

/// One block's part of an aggregate's column.
enum Slot<'a> {
    Count(&'a mut [u32]),
    Num(&'a mut [f64]),
    Values(&'a mut [Option<Value>]),
    Skip,
}

impl Slot<'_> {
    /// Stores an aggregate's final value for the `i`-th contact of the block.
    fn set(&mut self, i: usize, x: Final) {
        match (self, x) {
            (Slot::Count(v), Final::Count(n)) => put(v, i, n),
            (Slot::Num(v), Final::Num(sum)) => put(v, i, sum),
            (Slot::Values(v), Final::Value(x)) => put(v, i, x),
            // `full` gives each state the column of its final values.
            _ => {}
        }
    }
}

fn put<T>(v: &mut [T], i: usize, x: T) {
    if let Some(slot) = v.get_mut(i) {
        *slot = x;
    }
}

/// Feeds event `e` (an index into `sorted`) to every aggregate whose predicate it passes.
fn visit(
    sorted: &Sorted,
    prepared: &[Prepared<'_>],
    by_pred: &[Vec<usize>],
    states: &mut [State],
    touched: &mut Touched,
    e: usize,
) {
    let Some(&at) = sorted.at.get(e) else {
        return;
    };
    let mask = sorted
        .masks
        .get(e * sorted.words..(e + 1) * sorted.words)
        .unwrap_or_default();
    for (w, &bits) in mask.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            let pred = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            for &k in by_pred.get(pred).map_or(&[][..], Vec::as_slice) {
                if let (Some(p), Some(s)) = (prepared.get(k), states.get_mut(k))
                    && p.bounds.contains(at)
                {
                    update(sorted, p, s, e, at);
                    if let Some(f) = touched.flag.get_mut(k)
                        && !*f
                    {
                        *f = true;
                        touched.list.push(k);
                    }
                }
            }
        }
    }
}

/// Feeds event `e`, at `at`, to one aggregate's state.
#[inline]
fn update(sorted: &Sorted, p: &Prepared<'_>, s: &mut State, e: usize, at: Micros) {
    let field = || sorted.value(p.field?, e);
    match s {
        State::Count(n) => *n = n.saturating_add(1),
        State::First(first) => {
            if first.is_none() {
                *first = Some(e);
            }
        }
        State::Last(last) => *last = Some(e),
        State::Periods(seen) => {
            if let AggKind::Periods { unit, of_last } = p.kind
                && let Some(t) = sorted.time(e)
                && let Some(k) = p.period(t, *unit, *of_last)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn laid_out(times: &[DateTime<Utc>]) -> Vec<Option<DateTime<Utc>>> {
        let mut cols = EventColumns::default();
        for (i, t) in times.iter().enumerate() {
            let (at, sub) = (t.timestamp_micros(), t.timestamp_subsec_nanos() % 1000);
            cols.contact.push((i % 2) as u32);
            cols.ty.push(0);
            cols.at.push(at);
            cols.sub.push(u16::try_from(sub).unwrap_or(0));
        }
        let now = DateTime::<Utc>::MAX_UTC;
        let preds = Predicates {
            of: Vec::new(),
            preds: Vec::new(),
        };
        let sorted = sort(cols.clone(), group(&cols, 2, now), &preds, &[], Vec::new());
        (0..times.len()).map(|i| sorted.time(i)).collect()
    }

    #[test]
    fn times_read_back_exactly_in_contact_order() {
        let t = |s: i64, n: u32| DateTime::<Utc>::from_timestamp(s, n).unwrap_or_default();
        for nanos in [0, 7] {
            let times = [t(30, nanos), t(20, 0), t(10, 1_000 + nanos), t(5, 0)];
            let want = [times[2], times[0], times[3], times[1]];
            assert_eq!(laid_out(&times), want.map(Some));
        }
    }
}
