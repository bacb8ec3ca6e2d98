//! Expression evaluation: the one implementation of Funnel's semantics that `run` and
//! `explain` share.

use super::context::Context;
use super::time::{self, Micros};
use super::value;
use crate::plan::Expr;
use crate::plan::types::{AggFunc, BinOp, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

/// What an expression is evaluated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Contact(u32),
    Account(u32),
    /// An event of a contact (inside aggregate filters).
    Event {
        contact: u32,
        event: u32,
    },
}

impl Row {
    fn contact(self) -> Option<u32> {
        match self {
            Row::Contact(c) | Row::Event { contact: c, .. } => Some(c),
            Row::Account(_) => None,
        }
    }
}

/// Computed values: aggregates per contact and nodes per contact or account.
#[derive(Debug, Default)]
pub struct State {
    /// `aggs[aggregate]`, a value per contact.
    pub aggs: Vec<Col>,
    /// `nodes[node]`, a value per contact or account, filled in plan order.
    pub nodes: Vec<Col>,
}

/// One computed column, stored by what it holds: counts, sums and segments (never
/// missing) take 8 or 1 bytes a row instead of a full value.
#[derive(Debug, Clone, PartialEq)]
pub enum Col {
    /// Whole numbers, none missing.
    Int(Vec<i64>),
    /// Counts (whole numbers from 0 to `u32::MAX`, none missing): 4 bytes a row.
    Count(Vec<u32>),
    /// Numbers, none missing.
    Num(Vec<f64>),
    /// Booleans, none missing.
    Bool(Vec<bool>),
    /// Few distinct values (tiers, personas): each row's value is `dict[codes[row]]`.
    Codes {
        codes: Vec<u32>,
        dict: Vec<Option<Value>>,
    },
    /// Any values.
    Values(Vec<Option<Value>>),
}

impl Col {
    /// The value of row `i`.
    pub fn get(&self, i: usize) -> Option<Value> {
        self.value(i).map(Cow::into_owned)
    }

    /// The value of row `i`, borrowed when the column stores it as a value.
    pub fn value(&self, i: usize) -> Val<'_> {
        match self {
            Col::Int(v) => owned(v.get(i).copied().map(Value::Int)),
            Col::Count(v) => owned(v.get(i).map(|&n| Value::Int(i64::from(n)))),
            Col::Num(v) => owned(v.get(i).copied().map(Value::Number)),
            Col::Bool(v) => owned(v.get(i).copied().map(Value::Bool)),
            Col::Codes { codes, dict } => {
                let v = dict.get(*codes.get(i)? as usize)?;
                v.as_ref().map(Cow::Borrowed)
            }
            Col::Values(v) => v.get(i)?.as_ref().map(Cow::Borrowed),
        }
    }

    /// A column of values, stored compactly when they allow it.
    pub fn from_values(values: Vec<Option<Value>>) -> Col {
        /// Every value as a `T`, when all are present and of that kind.
        fn all_as<T>(values: &[Option<Value>], get: fn(&Value) -> Option<T>) -> Option<Vec<T>> {
            values.iter().map(|v| v.as_ref().and_then(get)).collect()
        }
        if let Some(v) = all_as(&values, |v| match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }) {
            Col::Int(v)
        } else if let Some(v) = all_as(&values, |v| match v {
            Value::Number(x) => Some(*x),
            _ => None,
        }) {
            Col::Num(v)
        } else if let Some(v) = all_as(&values, |v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        }) {
            Col::Bool(v)
        } else {
            Col::Values(values)
        }
    }

    /// Every row's value.
    pub fn to_values(&self) -> Vec<Option<Value>> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Col::Int(v) => v.len(),
            Col::Count(v) => v.len(),
            Col::Num(v) => v.len(),
            Col::Bool(v) => v.len(),
            Col::Codes { codes, .. } => codes.len(),
            Col::Values(v) => v.len(),
        }
    }

    /// Reserves room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        match self {
            Col::Int(v) => v.reserve(n),
            Col::Count(v) => v.reserve(n),
            Col::Num(v) => v.reserve(n),
            Col::Bool(v) => v.reserve(n),
            Col::Codes { codes, .. } => codes.reserve(n),
            Col::Values(v) => v.reserve(n),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Row `j` of column `i`.
fn cell(v: &[Col], i: usize, j: u32) -> Val<'_> {
    v.get(i)?.value(j as usize)
}

/// A value computed by [`State::value`]: borrowed from the data, the plan or a computed
/// column where it can be, so that reading text copies nothing.
pub type Val<'s> = Option<Cow<'s, Value>>;

fn owned<'s>(v: Option<Value>) -> Val<'s> {
    v.map(Cow::Owned)
}

fn boolean<'s>(b: bool) -> Val<'s> {
    Some(Cow::Owned(Value::Bool(b)))
}

impl State {
    /// Evaluates `e` for `row`.
    pub fn eval(&self, ctx: &Context<'_>, e: &Expr, row: Row) -> Option<Value> {
        self.value(ctx, e, row).map(Cow::into_owned)
    }

    /// Whether `e` is true for `row` (missing is not).
    pub fn holds(&self, ctx: &Context<'_>, e: &Expr, row: Row) -> bool {
        matches!(self.value(ctx, e, row).as_deref(), Some(Value::Bool(true)))
    }

    /// Evaluates `e` for `row`, borrowing the value where it can: the one implementation
    /// behind [`State::eval`] and [`State::holds`].
    pub fn value<'s>(&'s self, ctx: &'s Context<'_>, e: &'s Expr, row: Row) -> Val<'s> {
        let moment = |m: usize| ctx.moments.get(m).copied().unwrap_or(ctx.now);
        match e {
            Expr::Lit(v) => Some(Cow::Borrowed(v)),
            Expr::Attr { name, moment: m } => {
                let c = row.contact()?;
                let i = *ctx.contact_attr.get(name)?;
                attr_at(ctx, c, i, ctx.micros_at(*m)).map(Cow::Borrowed)
            }
            Expr::AccountAttr(name) => {
                let a = match row {
                    Row::Account(a) => a,
                    _ => (*ctx.account_of.get(row.contact()? as usize)?)?,
                };
                let i = *ctx.account_attr.get(name)?;
                let v = ctx.data.accounts.get(a as usize)?.attrs.get(i)?;
                v.as_ref().map(Cow::Borrowed)
            }
            Expr::Field(name) => {
                let Row::Event { event, .. } = row else {
                    return None;
                };
                let ev = ctx.data.events.get(event as usize)?;
                let i = *ctx.event_fields.get(ev.event as usize)?.get(name)?;
                ev.fields.get(i)?.as_ref().map(Cow::Borrowed)
            }
            Expr::Node(id) => match row {
                Row::Account(a) => cell(&self.nodes, *id, a),
                _ => cell(&self.nodes, *id, row.contact()?),
            },
            Expr::AccountNode(id) => {
                let a = (*ctx.account_of.get(row.contact()? as usize)?)?;
                cell(&self.nodes, *id, a)
            }
            Expr::Agg(id) => cell(&self.aggs, *id, row.contact()?),
            Expr::Contacts { func, expr, filter } => {
                let Row::Account(a) = row else { return None };
                let contacts = ctx.contacts_of.get(a as usize)?;
                let selected = contacts.iter().copied().filter(|&c| {
                    filter
                        .as_ref()
                        .is_none_or(|f| self.holds(ctx, f, Row::Contact(c)))
                });
                owned(contacts_agg(*func, selected, |c| {
                    expr.as_ref()
                        .and_then(|x| self.eval(ctx, x, Row::Contact(c)))
                }))
            }
            Expr::Was {
                attr,
                value: v,
                window,
                moment: m,
            } => {
                let c = row.contact()?;
                let i = *ctx.contact_attr.get(attr)?;
                let b = time::bounds(window, moment(*m));
                let held_at_start = match b.start {
                    Some(s) => attr_at(ctx, c, i, s),
                    None => before_history(ctx, c, i),
                };
                let held = value::compare(BinOp::Eq, held_at_start, Some(v))
                    || ctx.changes.log(c, i).iter().any(|(at, val)| {
                        b.contains(*at) && value::compare(BinOp::Eq, *val, Some(v))
                    });
                boolean(held)
            }
            Expr::Changed {
                attr,
                from,
                to,
                window,
                moment: m,
            } => {
                let c = row.contact()?;
                let i = *ctx.contact_attr.get(attr)?;
                let b = time::bounds(window, moment(*m));
                let entries = ctx.changes.log(c, i);
                let hit = entries.iter().enumerate().any(|(k, (at, val))| {
                    let prev = k
                        .checked_sub(1)
                        .and_then(|p| entries.get(p))
                        .and_then(|(_, v)| *v);
                    b.contains(*at)
                        && to
                            .as_ref()
                            .is_none_or(|t| value::compare(BinOp::Eq, *val, Some(t)))
                        && from
                            .as_ref()
                            .is_none_or(|f| value::compare(BinOp::Eq, prev, Some(f)))
                });
                boolean(hit)
            }
            Expr::InWindow {
                expr,
                window,
                moment: m,
            } => {
                let t = self
                    .value(ctx, expr, row)
                    .as_deref()
                    .and_then(value::as_micros);
                let b = time::bounds(window, moment(*m));
                boolean(t.is_some_and(|t| b.contains(t)))
            }
            Expr::TimeSince { expr, moment: m } => {
                let t = value::as_micros(self.value(ctx, expr, row).as_deref()?)?;
                let secs = (ctx.micros_at(*m) - t).div_euclid(1_000_000);
                owned(Some(Value::Duration(secs)))
            }
            Expr::Not(x) => boolean(!self.holds(ctx, x, row)),
            Expr::Neg(x) => owned(value::neg(self.value(ctx, x, row).as_deref())),
            Expr::And(xs) => boolean(xs.iter().all(|x| self.holds(ctx, x, row))),
            Expr::Or(xs) => boolean(xs.iter().any(|x| self.holds(ctx, x, row))),
            Expr::Binary { op, lhs, rhs } => {
                let (a, b) = (self.value(ctx, lhs, row), self.value(ctx, rhs, row));
                if op.is_comparison() {
                    boolean(value::compare(*op, a.as_deref(), b.as_deref()))
                } else {
                    owned(value::arith(*op, a.as_deref(), b.as_deref()))
                }
            }
            Expr::InList {
                expr,
                items,
                negated,
            } => {
                let v = self.value(ctx, expr, row);
                let hit = value::in_list(v.as_deref(), items);
                boolean(v.is_some() && hit != *negated)
            }
            Expr::InRange { expr, lo, hi } => {
                let v = self.value(ctx, expr, row);
                let x = v.as_deref().and_then(value::as_f64);
                boolean(x.is_some_and(|x| x >= *lo && x <= *hi))
            }
            Expr::Text { expr, op, patterns } => boolean(value::text_test(
                self.value(ctx, expr, row).as_deref(),
                *op,
                patterns,
            )),
            Expr::Matches {
                expr,
                pattern,
                flags,
            } => {
                let v = self.value(ctx, expr, row);
                let hit = match (v.as_deref(), ctx.regex(pattern, flags)) {
                    (Some(Value::Text(s)), Some(re)) => re.is_match(s),
                    _ => false,
                };
                boolean(hit)
            }
            Expr::IsMissing { expr, negated } => {
                let missing = self.value(ctx, expr, row).is_none();
                boolean(missing != *negated)
            }
        }
    }
}

/// A contact attribute at instant `t`: the latest change at or before `t`; the contact
/// table's value when the attribute has no change log; missing before its first change.
pub fn attr_at<'d>(ctx: &Context<'d>, c: u32, attr: usize, t: Micros) -> Option<&'d Value> {
    let entries = ctx.changes.log(c, attr);
    if entries.is_empty() {
        return ctx.data.contacts.get(c as usize, attr);
    }
    let idx = entries.partition_point(|(at, _)| *at <= t);
    entries.get(idx.checked_sub(1)?)?.1
}

/// The value an attribute held before all of its history: known only without a log.
fn before_history<'d>(ctx: &Context<'d>, c: u32, attr: usize) -> Option<&'d Value> {
    if ctx.changes.log(c, attr).is_empty() {
        ctx.data.contacts.get(c as usize, attr)
    } else {
        None
    }
}

/// count / sum / min / max / avg over selected contacts' values (missing skipped).
fn contacts_agg(
    func: AggFunc,
    contacts: impl Iterator<Item = u32>,
    value_of: impl Fn(u32) -> Option<Value>,
) -> Option<Value> {
    if func == AggFunc::Count {
        return Some(Value::Int(contacts.count() as i64));
    }
    let values: Vec<Value> = contacts.filter_map(value_of).collect();
    match func {
        AggFunc::Sum => {
            let mut acc = Some(Value::Int(0));
            for v in &values {
                acc = value::arith(BinOp::Add, acc.as_ref(), Some(v));
            }
            acc
        }
        AggFunc::Avg => {
            let nums: Vec<f64> = values.iter().filter_map(value::as_f64).collect();
            (!nums.is_empty()).then(|| Value::Number(nums.iter().sum::<f64>() / nums.len() as f64))
        }
        AggFunc::Min => values
            .into_iter()
            .min_by(|a, b| value::order(a, b).unwrap_or(Ordering::Equal)),
        AggFunc::Max => values
            .into_iter()
            .max_by(|a, b| value::order(a, b).unwrap_or(Ordering::Equal)),
        _ => None,
    }
}
