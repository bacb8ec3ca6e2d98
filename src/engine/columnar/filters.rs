//! Aggregate filters compiled to look-up tables: a filter that reads only event fields
//! is evaluated once per combination of the dictionary codes of the fields it reads
//! (and event type), by the one expression evaluator (`engine::eval`), over a small
//! data set holding exactly those combinations. Per event, a filter is then an index.
//! Where every combination would make too large a table, only the combinations that
//! occur in the data are evaluated, and an event's is found by hashing.

use super::events::EventColumns;
use crate::engine::context::{Context, EngineError};
use crate::engine::data::{ContactRow, Dataset, EventRow};
use crate::engine::eval::{Row, State};
use crate::engine::value::truthy;
use crate::plan::types::EventSel;
use crate::plan::{Aggregate, Expr, Plan};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Largest table built for one filter.
const MAX_TABLE: usize = 1 << 22;

/// A compiled filter: `table[type_slot * stride_type + Σ code_k × stride_k]`.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Field columns read, with their strides.
    pub fields: Vec<(usize, usize)>,
    /// Per event type: its slot in the table (types the selector rules out never reach it).
    pub type_slot: Vec<usize>,
    pub stride_type: usize,
    pub table: Vec<bool>,
    /// For a filter whose full table would be too large: the index in `table` of each
    /// combination (type slot, then field codes) that occurs in the data.
    occurring: Option<Combos>,
}

/// Combinations of a type slot and field codes, numbered in the order met.
type Combos = HashMap<Box<[u32]>, usize, foldhash::fast::FixedState>;

impl Filter {
    /// Whether the whole table is held (one entry per combination of codes), so that it
    /// can be indexed by code.
    pub fn is_dense(&self) -> bool {
        self.occurring.is_none()
    }

    /// Whether event `i` (of type `ty`) passes.
    #[inline]
    pub fn test(&self, cols: &EventColumns, ty: usize, i: usize) -> bool {
        if let Some(occurring) = &self.occurring {
            let slot = self.type_slot.get(ty).copied().unwrap_or(0);
            let key = combo_key(cols, self.fields.iter().map(|&(f, _)| f), slot, ty, i);
            return occurring
                .get(&key)
                .and_then(|&k| self.table.get(k))
                .copied()
                .unwrap_or(false);
        }
        let mut idx = self.type_slot.get(ty).copied().unwrap_or(0) * self.stride_type;
        for &(f, stride) in &self.fields {
            let code = cols.code(f, ty, i);
            idx += code as usize * stride;
        }
        self.table.get(idx).copied().unwrap_or(false)
    }
}

/// Whether an expression reads only event fields and literals (no contact, account,
/// node or aggregate values), so that it can be tabled by field values.
pub fn fields_only(e: &Expr, out: &mut Vec<String>) -> bool {
    match e {
        Expr::Lit(_) => true,
        Expr::Field(n) => {
            if !out.contains(n) {
                out.push(n.clone());
            }
            true
        }
        Expr::Not(x) | Expr::Neg(x) => fields_only(x, out),
        Expr::InWindow { expr, .. }
        | Expr::TimeSince { expr, .. }
        | Expr::InList { expr, .. }
        | Expr::InRange { expr, .. }
        | Expr::Text { expr, .. }
        | Expr::Matches { expr, .. }
        | Expr::IsMissing { expr, .. } => fields_only(expr, out),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().all(|x| fields_only(x, out)),
        Expr::Binary { lhs, rhs, .. } => fields_only(lhs, out) && fields_only(rhs, out),
        Expr::Attr { .. }
        | Expr::AccountAttr(_)
        | Expr::Node(_)
        | Expr::AccountNode(_)
        | Expr::Agg(_)
        | Expr::Contacts { .. }
        | Expr::Was { .. }
        | Expr::Changed { .. } => false,
    }
}

/// The event types an aggregate reads.
pub fn types_of(plan: &Plan, a: &Aggregate) -> Vec<usize> {
    match &a.event {
        EventSel::Any => (0..plan.schema.events.len()).collect(),
        EventSel::Type(t) => plan
            .schema
            .events
            .iter()
            .position(|e| e.name == *t)
            .into_iter()
            .collect(),
    }
}

/// Compiles the filter of every aggregate (`None` for no filter). A filter whose full
/// table (every combination of the codes of the fields it reads) would be too large is
/// tabled over the combinations that occur in `cols` instead. A filter that reads more
/// than event fields (a plan edited by hand: the checker allows only event fields in
/// `where`) is [`EngineError::Unsupported`].
pub fn compile(
    plan: &Plan,
    cols: &EventColumns,
    now: DateTime<Utc>,
) -> Result<Vec<Option<Filter>>, EngineError> {
    let mut shapes: Vec<Option<Shape>> = Vec::new();
    let mut events: Vec<EventRow> = Vec::new();
    for a in &plan.aggregates {
        let Some(f) = &a.filter else {
            shapes.push(None);
            continue;
        };
        let mut names = Vec::new();
        if !fields_only(f, &mut names) {
            return Err(EngineError::Unsupported(format!(
                "the filter of `{}`, which reads more than the event's fields",
                a.label
            )));
        }
        let fields: Vec<usize> = names
            .iter()
            .map(|n| {
                cols.field(n).ok_or_else(|| {
                    EngineError::Unknown(format!("the event field `{n}` in `{}`", a.label))
                })
            })
            .collect::<Result<_, _>>()?;
        let sizes: Vec<usize> = fields
            .iter()
            .map(|&f| cols.fields.get(f).map_or(1, |c| c.dict.len().max(1)))
            .collect();
        let types = types_of(plan, a);
        let full = sizes
            .iter()
            .try_fold(types.len(), |acc, s| acc.checked_mul(*s))
            .filter(|&n| n <= MAX_TABLE);
        let start = events.len();
        let mut row = |t: usize, codes: &mut dyn Iterator<Item = u32>| {
            let Some(ty) = plan.schema.events.get(t) else {
                return;
            };
            let mut values = vec![None; ty.fields.len()];
            for ((&f, name), code) in fields.iter().zip(&names).zip(codes) {
                if let Some(slot) = ty.fields.iter().position(|x| x.name == *name)
                    && let Some(out) = values.get_mut(slot)
                {
                    *out = cols
                        .fields
                        .get(f)
                        .and_then(|c| c.dict.values.get(code as usize).cloned().flatten());
                }
            }
            events.push(EventRow {
                contact: 0,
                event: u32::try_from(t).unwrap_or(u32::MAX),
                at: now,
                fields: values,
            });
        };
        let occurring = match full {
            Some(_) => {
                let per_type: usize = sizes.iter().product();
                for &t in &types {
                    for combo in 0..per_type {
                        let mut rest = combo;
                        let mut codes = sizes.iter().map(|&size| {
                            let code = rest % size;
                            rest /= size;
                            code as u32
                        });
                        row(t, &mut codes);
                    }
                }
                None
            }
            None => {
                let mut seen: Combos = Combos::default();
                let accepted = type_slots(plan, a);
                for (i, &ty) in cols.ty.iter().enumerate() {
                    let ty = ty as usize;
                    let Some(&Some(slot)) = accepted.get(ty) else {
                        continue;
                    };
                    let key = combo_key(cols, fields.iter().copied(), slot, ty, i);
                    if !seen.contains_key(&key) {
                        let mut codes = key.iter().skip(1).copied();
                        row(ty, &mut codes);
                        seen.insert(key, seen.len());
                    }
                }
                Some(seen)
            }
        };
        shapes.push(Some(Shape {
            fields,
            sizes,
            rows: start..events.len(),
            occurring,
        }));
    }
    let data = Dataset {
        contacts: vec![ContactRow {
            id: String::new(),
            attrs: vec![None; plan.schema.contact.len()],
        }]
        .into(),
        accounts: Vec::new(),
        events,
        changes: Vec::new(),
    };
    let ctx = Context::new(plan, &data, now)?;
    let st = State::default();
    let mut out = Vec::with_capacity(plan.aggregates.len());
    for (a, shape) in plan.aggregates.iter().zip(shapes) {
        let (Some(f), Some(shape)) = (&a.filter, shape) else {
            out.push(None);
            continue;
        };
        let table: Vec<bool> = shape
            .rows
            .map(|i| {
                let row = Row::Event {
                    contact: 0,
                    event: u32::try_from(i).unwrap_or(u32::MAX),
                };
                truthy(&st.eval(&ctx, f, row))
            })
            .collect();
        let mut strides = Vec::with_capacity(shape.fields.len());
        let mut stride = 1;
        for (&f, &size) in shape.fields.iter().zip(&shape.sizes) {
            strides.push((f, stride));
            stride *= size;
        }
        let type_slot = type_slots(plan, a)
            .into_iter()
            .map(|s| s.unwrap_or(0))
            .collect();
        out.push(Some(Filter {
            fields: strides,
            type_slot,
            stride_type: stride,
            table,
            occurring: shape.occurring,
        }));
    }
    Ok(out)
}

/// Where a filter's rows are in the evaluation data set, and how they are indexed.
struct Shape {
    fields: Vec<usize>,
    sizes: Vec<usize>,
    rows: std::ops::Range<usize>,
    occurring: Option<Combos>,
}

/// Per event type, its slot among the types an aggregate accepts (`None`: not accepted).
fn type_slots(plan: &Plan, a: &Aggregate) -> Vec<Option<usize>> {
    let mut out = vec![None; plan.schema.events.len()];
    for (slot, t) in types_of(plan, a).into_iter().enumerate() {
        if let Some(s) = out.get_mut(t) {
            *s = Some(slot);
        }
    }
    out
}

/// The key of event `i`'s combination: its type slot, then the code of each field.
fn combo_key(
    cols: &EventColumns,
    fields: impl Iterator<Item = usize>,
    slot: usize,
    ty: usize,
    i: usize,
) -> Box<[u32]> {
    std::iter::once(u32::try_from(slot).unwrap_or(u32::MAX))
        .chain(fields.map(|f| cols.code(f, ty, i)))
        .collect()
}
