//! Aggregate filters compiled to look-up tables: a filter that reads only event fields
//! is evaluated once per combination of the dictionary codes of the fields it reads
//! (and event type), by the one expression evaluator (`engine::eval`), over a small
//! data set holding exactly those combinations. Per event, a filter is then an index.

use super::events::EventColumns;
use crate::engine::context::{Context, EngineError};
use crate::engine::data::{ContactRow, Dataset, EventRow};
use crate::engine::eval::{Row, State};
use crate::engine::value::truthy;
use crate::plan::types::EventSel;
use crate::plan::{Aggregate, Expr, Plan};
use chrono::{DateTime, Utc};

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
}

impl Filter {
    /// Whether event `i` (of type `ty`) passes.
    #[inline]
    pub fn test(&self, cols: &EventColumns, ty: usize, i: usize) -> bool {
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

/// Compiles the filter of every aggregate (`None` for no filter). `Err(None)` when a
/// filter cannot be tabled (it reads more than event fields, or too many
/// combinations); `Err(Some(e))` for a plan error.
#[allow(clippy::type_complexity)]
pub fn compile(
    plan: &Plan,
    cols: &EventColumns,
    now: DateTime<Utc>,
) -> Result<Vec<Option<Filter>>, Option<EngineError>> {
    let mut shapes: Vec<Option<(Vec<usize>, Vec<usize>, usize)>> = Vec::new();
    let mut events: Vec<EventRow> = Vec::new();
    let mut ranges = Vec::new();
    for a in &plan.aggregates {
        let Some(f) = &a.filter else {
            shapes.push(None);
            ranges.push(0..0);
            continue;
        };
        let mut names = Vec::new();
        if !fields_only(f, &mut names) {
            return Err(None);
        }
        let fields: Vec<usize> = names
            .iter()
            .map(|n| cols.field(n).ok_or(None))
            .collect::<Result<_, _>>()?;
        let sizes: Vec<usize> = fields
            .iter()
            .map(|&f| cols.fields.get(f).map_or(1, |c| c.dict.len()))
            .collect();
        let per_type = sizes
            .iter()
            .try_fold(1usize, |acc, s| acc.checked_mul(*s))
            .ok_or(None)?;
        let types = types_of(plan, a);
        if per_type.saturating_mul(types.len()) > MAX_TABLE {
            return Err(None);
        }
        let start = events.len();
        for &t in &types {
            let Some(ty) = plan.schema.events.get(t) else {
                continue;
            };
            for combo in 0..per_type {
                let mut values = vec![None; ty.fields.len()];
                let mut rest = combo;
                for ((&f, name), &size) in fields.iter().zip(&names).zip(&sizes) {
                    let code = rest % size.max(1);
                    rest /= size.max(1);
                    if let Some(slot) = ty.fields.iter().position(|x| x.name == *name)
                        && let Some(out) = values.get_mut(slot)
                    {
                        *out = cols
                            .fields
                            .get(f)
                            .and_then(|c| c.dict.values.get(code).cloned().flatten());
                    }
                }
                events.push(EventRow {
                    contact: 0,
                    event: u32::try_from(t).unwrap_or(u32::MAX),
                    at: now,
                    fields: values,
                });
            }
        }
        ranges.push(start..events.len());
        shapes.push(Some((fields, sizes, types.len())));
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
    let ctx = Context::new(plan, &data, now).map_err(Some)?;
    let st = State::default();
    let mut out = Vec::with_capacity(plan.aggregates.len());
    for ((a, shape), range) in plan.aggregates.iter().zip(shapes).zip(ranges) {
        let (Some(f), Some((fields, sizes, _))) = (&a.filter, shape) else {
            out.push(None);
            continue;
        };
        let table: Vec<bool> = range
            .map(|i| {
                let row = Row::Event {
                    contact: 0,
                    event: u32::try_from(i).unwrap_or(u32::MAX),
                };
                truthy(&st.eval(&ctx, f, row))
            })
            .collect();
        let mut strides = Vec::with_capacity(fields.len());
        let mut stride = 1;
        for (&f, &size) in fields.iter().zip(&sizes) {
            strides.push((f, stride));
            stride *= size.max(1);
        }
        let mut type_slot = vec![0; plan.schema.events.len()];
        for (slot, t) in types_of(plan, a).into_iter().enumerate() {
            if let Some(s) = type_slot.get_mut(t) {
                *s = slot;
            }
        }
        out.push(Some(Filter {
            fields: strides,
            type_slot,
            stride_type: stride,
            table,
        }));
    }
    Ok(out)
}
