//! Plan → SQL IR. The stages, each one CTE (or a few):
//! `now_`/`moments` (the run's moments), `ev` (events up to now), `agg` (every simple
//! per-contact aggregate in one grouped pass) plus a ranked CTE for each first / last /
//! most-frequent aggregate, history reads and change-log tests, `c0` (contacts with
//! their attributes, account attributes and all of the above), then one CTE per level of
//! the definition graph for contacts (`c1`, `c2`, …) and accounts (`a1`, …; their
//! contact roll-ups in `k1`, …), scores' raw totals a stage before their rounding.

use super::SqlError;
use super::dialect::{Dialect, RegexFlags};
use super::ir::{Expr, Join, Lit, Query, Select, SqlType, TableRef};
use super::tables::Tables;
use crate::plan::schema::Type;
use crate::plan::types::{
    AggFunc, BinOp, Decay, Dur, DurationUnit, EventSel, Scope, TextOp, TimeRef, Value, Window,
};
use crate::plan::{AggKind, Expr as P, NodeKind, Plan, RuleKind, ScoreBody};
use std::collections::BTreeMap;

/// The run's `now` as the SQL sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AsOf {
    /// A fixed moment, written into the SQL.
    Fixed(chrono::DateTime<chrono::Utc>),
    /// A placeholder bound when the query runs.
    Param,
}

/// The compiled queries: contacts, and accounts when the plan has account results.
#[derive(Debug, Clone, PartialEq)]
pub struct Queries {
    pub contacts: Query,
    pub accounts: Option<Query>,
}

/// A coarse value type, enough to choose text folding, casts and date handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Text,
    Int,
    Num,
    Bool,
    Date,
    Ts,
    Dur,
    Unknown,
}

fn of_type(t: &Type) -> T {
    match t {
        Type::Text | Type::Enum(_) | Type::AccountLink => T::Text,
        Type::Int => T::Int,
        Type::Number => T::Num,
        Type::Bool => T::Bool,
        Type::Date => T::Date,
        Type::Timestamp => T::Ts,
        Type::Duration => T::Dur,
    }
}

fn sql_type(t: T) -> SqlType {
    match t {
        T::Text | T::Unknown => SqlType::Text,
        T::Int | T::Dur => SqlType::BigInt,
        T::Num => SqlType::Double,
        T::Bool => SqlType::Bool,
        T::Date => SqlType::Date,
        T::Ts => SqlType::Timestamp,
    }
}

/// Where an expression is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// A contact row of the previous contact stage `p` (account stage `an` joined).
    Contact,
    /// An account row of the previous account stage `p` (contact roll-ups `k`).
    Account,
    /// An event row of `ev` (aggregate filters).
    Event,
}

/// A history read: attribute (schema index) at an instant.
struct HistRead {
    attr: usize,
    instant: Expr,
}

/// What a `was` test reads besides the change log's entries.
enum Held {
    /// Nothing (`changed`).
    No,
    /// The value at the window's start: history read `j`.
    At(usize),
    /// The value before all history (windows without a start).
    BeforeHistory,
}

/// A `was` / `changed` test, computed in `c0`.
struct HistTest {
    attr: usize,
    /// The entries' condition (over the attribute's log `h`: `at`, `value`, `prev`).
    entry: Expr,
    held: Held,
    /// The value `was` looks for.
    want: Expr,
}

/// The compiler's state for one plan.
pub struct Compiler<'a> {
    plan: &'a Plan,
    d: &'a dyn Dialect,
    tables: &'a Tables,
    as_of: AsOf,
    /// The definition being compiled, for errors.
    rule: String,
    hist: Vec<HistRead>,
    tests: Vec<HistTest>,
    /// Contact roll-ups of account stages (column `k{i}` of their `k` stage).
    rollups: Vec<Expr>,
    levels: Vec<usize>,
    /// Event field → its type (the union over event types).
    fields: BTreeMap<String, T>,
}

/// Compiles a plan to queries.
pub fn compile(
    plan: &Plan,
    d: &dyn Dialect,
    tables: &Tables,
    as_of: AsOf,
) -> Result<Queries, SqlError> {
    let mut fields = BTreeMap::new();
    for e in &plan.schema.events {
        for f in &e.fields {
            let t = of_type(&f.ty);
            if let Some(old) = fields.insert(f.name.clone(), t)
                && old != t
            {
                return Err(SqlError::Mapping(format!(
                    "event field `{}` has different types in different event types; one events table cannot hold it",
                    f.name
                )));
            }
        }
    }
    let mut c = Compiler {
        plan,
        d,
        tables,
        as_of,
        rule: String::new(),
        hist: Vec::new(),
        tests: Vec::new(),
        rollups: Vec::new(),
        levels: Vec::new(),
        fields,
    };
    c.levels = c.node_levels();
    c.build()
}

fn truthy_form(e: &P) -> bool {
    matches!(
        e,
        P::Binary { op, .. } if op.is_comparison()
    ) || matches!(
        e,
        P::InList { .. }
            | P::InRange { .. }
            | P::Text { .. }
            | P::Matches { .. }
            | P::IsMissing { .. }
            | P::Not(_)
            | P::And(_)
            | P::Or(_)
            | P::Was { .. }
            | P::Changed { .. }
            | P::InWindow { .. }
    )
}

/// The direct subexpressions of a plan expression.
fn children(e: &P) -> Vec<&P> {
    match e {
        P::Contacts { expr, filter, .. } => {
            expr.iter().chain(filter.iter()).map(|b| &**b).collect()
        }
        P::InWindow { expr, .. }
        | P::TimeSince { expr, .. }
        | P::Not(expr)
        | P::Neg(expr)
        | P::InList { expr, .. }
        | P::InRange { expr, .. }
        | P::Text { expr, .. }
        | P::Matches { expr, .. }
        | P::IsMissing { expr, .. } => vec![&**expr],
        P::And(xs) | P::Or(xs) => xs.iter().collect(),
        P::Binary { lhs, rhs, .. } => vec![&**lhs, &**rhs],
        _ => Vec::new(),
    }
}

fn node_exprs(k: &NodeKind) -> Vec<&P> {
    match k {
        NodeKind::Segment(e) | NodeKind::Value(e) | NodeKind::Top { by: e, .. } => vec![e],
        NodeKind::Score(s) => match &s.body {
            ScoreBody::Expr(e) => vec![e],
            ScoreBody::Groups(gs) => gs
                .iter()
                .flat_map(|g| &g.rules)
                .filter_map(|r| match &r.kind {
                    RuleKind::If(e) => Some(e),
                    RuleKind::Per { .. } => None,
                })
                .collect(),
        },
        NodeKind::Personas(ps) => ps.iter().map(|p| &p.cond).collect(),
        NodeKind::Tiers { .. } => Vec::new(),
    }
}

fn numeric(t: T) -> bool {
    matches!(t, T::Int | T::Num | T::Unknown)
}

/// Whether values of two types compare (otherwise a comparison is false): numbers with
/// numbers, dates with timestamps, durations with durations, text with text.
fn comparable(a: T, b: T) -> bool {
    let time = |t: T| matches!(t, T::Date | T::Ts);
    a == b
        || a == T::Unknown
        || b == T::Unknown
        || (numeric(a) && numeric(b))
        || (time(a) && time(b))
}

/// Whether arithmetic on two types has a value (otherwise it is missing): numbers with
/// numbers, and durations added to or subtracted from durations.
fn arithmetic(op: BinOp, a: T, b: T) -> bool {
    (numeric(a) && numeric(b))
        || (a == T::Dur && b == T::Dur && matches!(op, BinOp::Add | BinOp::Sub))
}

/// Half away from zero to a whole number, exactly like `f64::round`.
fn round_whole(y: Expr) -> Expr {
    let a = Expr::func("ABS", vec![y.clone()]);
    let f = Expr::func("FLOOR", vec![a.clone()]);
    let up = a.bin("-", f.clone()).bin(">=", Expr::Lit(Lit::Num(0.5)));
    Expr::iff(up, f.clone().bin("+", Expr::int(1)), f).bin("*", Expr::func("SIGN", vec![y]))
}

fn lit_num(x: f64) -> Expr {
    Expr::Lit(Lit::Num(x))
}

fn col(t: &str, n: impl Into<String>) -> Expr {
    Expr::col(t, n)
}

fn table(name: Vec<String>, alias: &str) -> TableRef {
    TableRef {
        name,
        alias: alias.to_string(),
    }
}

fn cte(name: &str, alias: &str) -> TableRef {
    table(vec![name.to_string()], alias)
}

fn cross(name: &str, alias: &str) -> Join {
    Join {
        on: None,
        table: cte(name, alias),
    }
}

fn left(t: TableRef, on: Expr) -> Join {
    Join {
        on: Some(on),
        table: t,
    }
}

impl Compiler<'_> {
    fn unsupported(&self, what: impl Into<String>) -> SqlError {
        SqlError::Unsupported {
            rule: self.rule.clone(),
            dialect: self.d.name(),
            what: what.into(),
        }
    }

    fn moment(&self, m: usize) -> Expr {
        col("m", format!("m{m}"))
    }

    fn has_accounts(&self) -> bool {
        !self.plan.schema.account.is_empty()
            || self
                .plan
                .schema
                .contact
                .iter()
                .any(|f| f.ty == Type::AccountLink)
            || self.plan.nodes.iter().any(|n| n.scope == Scope::Account)
    }

    // ---- levels -------------------------------------------------------------------

    fn node_levels(&self) -> Vec<usize> {
        let mut levels: Vec<usize> = Vec::with_capacity(self.plan.nodes.len());
        for n in &self.plan.nodes {
            let mut deps = Vec::new();
            let mut stack = node_exprs(&n.kind);
            if let NodeKind::Tiers { score, .. } = &n.kind {
                deps.push(*score);
            }
            while let Some(e) = stack.pop() {
                if let P::Node(i) | P::AccountNode(i) = e {
                    deps.push(*i);
                }
                stack.extend(children(e));
            }
            let l = deps
                .iter()
                .filter_map(|i| levels.get(*i))
                .max()
                .map_or(1, |l| l + 1);
            levels.push(l);
        }
        levels
    }

    // ---- types --------------------------------------------------------------------

    fn ty(&self, e: &P) -> T {
        let schema = &self.plan.schema;
        match e {
            P::Lit(v) => match v {
                Value::Int(_) => T::Int,
                Value::Number(_) => T::Num,
                Value::Text(_) => T::Text,
                Value::Bool(_) => T::Bool,
                Value::Date(_) => T::Date,
                Value::Timestamp(_) => T::Ts,
                Value::Duration(_) => T::Dur,
            },
            P::Attr { name, .. } => schema
                .contact_field(name)
                .map_or(T::Unknown, |f| of_type(&f.ty)),
            P::AccountAttr(name) => schema
                .account
                .iter()
                .find(|f| &f.name == name)
                .map_or(T::Unknown, |f| of_type(&f.ty)),
            P::Field(name) => self.fields.get(name).copied().unwrap_or(T::Unknown),
            P::Node(i) | P::AccountNode(i) => self.node_type(*i),
            P::Agg(i) => match self.plan.aggregates.get(*i).map(|a| &a.kind) {
                Some(AggKind::Count | AggKind::CountDistinct { .. } | AggKind::Periods { .. }) => {
                    T::Int
                }
                Some(AggKind::Avg { .. } | AggKind::Points { .. }) => T::Num,
                Some(AggKind::FirstTime | AggKind::LastTime) => T::Ts,
                Some(
                    AggKind::Sum { field }
                    | AggKind::Min { field }
                    | AggKind::Max { field }
                    | AggKind::First { field }
                    | AggKind::Last { field }
                    | AggKind::MostFrequent { field },
                ) => self.fields.get(field).copied().unwrap_or(T::Unknown),
                None => T::Unknown,
            },
            P::Contacts { func, expr, .. } => match func {
                AggFunc::Count => T::Int,
                AggFunc::Avg => T::Num,
                _ => expr.as_deref().map_or(T::Unknown, |x| self.ty(x)),
            },
            P::TimeSince { .. } => T::Dur,
            P::Neg(x) => self.ty(x),
            P::Binary { op, lhs, rhs } => {
                if op.is_comparison() {
                    return T::Bool;
                }
                match (op, self.ty(lhs), self.ty(rhs)) {
                    (BinOp::Div, _, _) => T::Num,
                    (_, T::Int, T::Int) => T::Int,
                    (BinOp::Add | BinOp::Sub, T::Dur, T::Dur) => T::Dur,
                    _ => T::Num,
                }
            }
            _ => T::Bool,
        }
    }

    fn node_type(&self, i: usize) -> T {
        match self.plan.nodes.get(i).map(|n| &n.kind) {
            Some(NodeKind::Segment(_) | NodeKind::Top { .. }) => T::Bool,
            Some(NodeKind::Score(_)) => T::Num,
            Some(NodeKind::Tiers { .. } | NodeKind::Personas(_)) => T::Text,
            Some(NodeKind::Value(e)) => self.ty(e),
            None => T::Unknown,
        }
    }

    // ---- time ---------------------------------------------------------------------

    fn sub(&self, t: Expr, d: Dur) -> Result<Expr, SqlError> {
        match d.unit {
            DurationUnit::Month => self.months(t, d.amount),
            DurationUnit::Year => self.months(t, d.amount.saturating_mul(12)),
            _ => Ok(self.d.sub_seconds(t, d.fixed_seconds().unwrap_or(0))),
        }
    }

    fn months(&self, t: Expr, n: i64) -> Result<Expr, SqlError> {
        self.d.sub_months(t, n).ok_or_else(|| {
            self.unsupported("calendar months (`mo`, `y`) cannot be subtracted from a timestamp")
        })
    }

    fn start_of(&self, t: TimeRef, m: Expr) -> Result<Expr, SqlError> {
        Ok(match t {
            TimeRef::Now => m,
            TimeRef::Ago(d) => self.sub(m, d)?,
            TimeRef::Date(d) => Expr::Lit(Lit::Timestamp(
                d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            )),
            TimeRef::Timestamp(t) => Expr::Lit(Lit::Timestamp(t)),
        })
    }

    fn end_of(&self, t: TimeRef, m: Expr) -> Result<Expr, SqlError> {
        match t {
            TimeRef::Date(d) => self.start_of(TimeRef::Date(d.succ_opt().unwrap_or(d)), m),
            other => self.start_of(other, m),
        }
    }

    /// The window's inclusive start, if it has one.
    fn window_start(&self, w: &Window, m: Expr) -> Result<Option<Expr>, SqlError> {
        Ok(match *w {
            Window::Ever | Window::Before(_) => None,
            Window::Within(d) => Some(self.sub(m, d)?),
            Window::Since(a) | Window::Between(a, _) => Some(self.start_of(a, m)?),
        })
    }

    /// Whether the (present) timestamp `t` lies in the window at moment `m`.
    fn in_window(&self, t: Expr, w: &Window, m: Expr) -> Result<Expr, SqlError> {
        let mut parts = Vec::new();
        if let Some(s) = self.window_start(w, m.clone())? {
            parts.push(t.clone().bin(">=", s));
        }
        parts.push(t.clone().bin("<=", m.clone()));
        let end = match *w {
            Window::Between(_, b) => Some(self.end_of(b, m.clone())?),
            Window::Before(a) => Some(self.start_of(a, m.clone())?),
            _ => None,
        };
        if let Some(e) = end {
            parts.push(t.bin("<", e.clone()).bin("OR", e.bin(">=", m)));
        }
        Ok(Expr::all(parts))
    }

    fn seconds_to(&self, t: Expr, m: Expr) -> Expr {
        self.d.seconds_between(t, m)
    }

    fn as_ts(&self, e: Expr, t: T) -> Expr {
        if t == T::Date {
            e.cast(SqlType::Timestamp)
        } else {
            e
        }
    }

    // ---- expressions --------------------------------------------------------------

    fn truthy(&mut self, e: &P, cx: Ctx) -> Result<Expr, SqlError> {
        let x = self.expr(e, cx)?;
        let never_null = truthy_form(e)
            || matches!(e, P::Node(i) if matches!(
                self.plan.nodes.get(*i).map(|n| &n.kind),
                Some(NodeKind::Segment(_) | NodeKind::Top { .. })
            ));
        Ok(if never_null {
            x
        } else {
            x.or_else(Expr::bool(false))
        })
    }

    fn fold(&self, e: Expr, t: T) -> Expr {
        if t == T::Text { self.d.lower(e) } else { e }
    }

    fn value(v: &Value) -> Expr {
        Expr::Lit(match v {
            Value::Int(i) | Value::Duration(i) => Lit::Int(*i),
            Value::Number(n) => Lit::Num(*n),
            Value::Text(s) => Lit::Str(s.clone()),
            Value::Bool(b) => Lit::Bool(*b),
            Value::Date(d) => Lit::Date(*d),
            Value::Timestamp(t) => Lit::Timestamp(*t),
        })
    }

    /// `a op b` for two present values, with text folded and dates as timestamps; null
    /// when either is missing.
    fn compare_raw(&self, op: BinOp, a: Expr, ta: T, b: Expr, tb: T) -> Expr {
        let (a, b) = if ta == T::Text || tb == T::Text {
            (self.d.lower(a), self.d.lower(b))
        } else if (ta == T::Date) != (tb == T::Date) && (ta == T::Ts || tb == T::Ts) {
            (self.as_ts(a, ta), self.as_ts(b, tb))
        } else {
            (a, b)
        };
        let sym = match op {
            BinOp::Eq => "=",
            BinOp::Ne => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            _ => ">=",
        };
        a.bin(sym, b)
    }

    fn expr(&mut self, e: &P, cx: Ctx) -> Result<Expr, SqlError> {
        let null = Expr::Lit(Lit::Null);
        Ok(match e {
            P::Lit(v) => Self::value(v),
            P::Attr { name, moment } => {
                if cx == Ctx::Event {
                    return Err(self.unsupported(format!(
                        "an event filter reads the contact attribute `{name}`"
                    )));
                }
                if cx == Ctx::Account {
                    return Ok(null);
                }
                let i = self
                    .plan
                    .schema
                    .contact
                    .iter()
                    .position(|f| &f.name == name);
                match i {
                    Some(i) if self.plan.schema.contact.get(i).is_some_and(|f| f.history) => {
                        let j = self.hist_read(i, self.moment(*moment));
                        col("p", format!("h{j}"))
                    }
                    _ => col("p", format!("c_{name}")),
                }
            }
            P::AccountAttr(name) => {
                if cx == Ctx::Event {
                    return Err(self.unsupported(format!(
                        "an event filter reads the account attribute `{name}`"
                    )));
                }
                col("p", format!("x_{name}"))
            }
            P::Field(name) => match cx {
                Ctx::Event => col("ev", format!("f_{name}")),
                _ => null,
            },
            P::Node(i) => match cx {
                Ctx::Event => return Err(self.unsupported("an event filter reads a definition")),
                _ => col("p", format!("n{i}")),
            },
            P::AccountNode(i) => match cx {
                Ctx::Contact => col("an", format!("n{i}")),
                _ => return Err(self.unsupported("an event filter reads an account definition")),
            },
            P::Agg(i) => match cx {
                Ctx::Contact => col("p", format!("g{i}")),
                _ => null,
            },
            P::Contacts { func, expr, filter } => {
                if cx != Ctx::Account {
                    return Ok(null);
                }
                let f = match filter {
                    Some(f) => Some(self.truthy(f, Ctx::Contact)?),
                    None => None,
                };
                let (agg, zero) = match (func, expr) {
                    (AggFunc::Count, _) => (
                        Expr::Agg {
                            name: "COUNT",
                            arg: None,
                            distinct: false,
                            filter: f.map(Box::new),
                        },
                        Some(Expr::int(0)),
                    ),
                    (func, Some(x)) => {
                        let v = self.expr(x, Ctx::Contact)?;
                        match func {
                            AggFunc::Sum => (Expr::agg("SUM", v, f), Some(Expr::int(0))),
                            AggFunc::Avg => (Expr::agg("AVG", v.cast(SqlType::Double), f), None),
                            AggFunc::Min if self.ty(x) != T::Text => (Expr::agg("MIN", v, f), None),
                            AggFunc::Max if self.ty(x) != T::Text => (Expr::agg("MAX", v, f), None),
                            other => {
                                return Err(self.unsupported(format!(
                                    "`{other:?}` over an account's contacts"
                                )));
                            }
                        }
                    }
                    (other, None) => {
                        return Err(self.unsupported(format!(
                            "`{other:?}` over an account's contacts without a value"
                        )));
                    }
                };
                let k = self.rollups.len();
                let out = col("k", format!("k{k}"));
                self.rollups.push(agg);
                match zero {
                    Some(z) => out.or_else(z),
                    None => out,
                }
            }
            P::Was {
                attr,
                value,
                window,
                moment,
            } => {
                let i = self.attr_index(attr)?;
                let t = self.attr_type(i);
                let m = self.moment(*moment);
                let want = Self::value(value);
                let entry = Expr::all(vec![
                    self.in_window(col("h", "at"), window, m.clone())?,
                    self.compare_raw(BinOp::Eq, col("h", "value"), t, want.clone(), t),
                ]);
                let held = match self.window_start(window, m)? {
                    Some(s) => Held::At(self.hist_read(i, s)),
                    None => Held::BeforeHistory,
                };
                self.hist_test(
                    HistTest {
                        attr: i,
                        entry,
                        held,
                        want,
                    },
                    cx,
                )?
            }
            P::Changed {
                attr,
                from,
                to,
                window,
                moment,
            } => {
                let i = self.attr_index(attr)?;
                let t = self.attr_type(i);
                let m = self.moment(*moment);
                let mut parts = vec![self.in_window(col("h", "at"), window, m)?];
                if let Some(to) = to {
                    parts.push(self.compare_raw(
                        BinOp::Eq,
                        col("h", "value"),
                        t,
                        Self::value(to),
                        t,
                    ));
                }
                if let Some(from) = from {
                    parts.push(self.compare_raw(
                        BinOp::Eq,
                        col("h", "prev"),
                        t,
                        Self::value(from),
                        t,
                    ));
                }
                let entry = Expr::all(parts);
                self.hist_test(
                    HistTest {
                        attr: i,
                        entry,
                        held: Held::No,
                        want: Expr::Lit(Lit::Null),
                    },
                    cx,
                )?
            }
            P::InWindow {
                expr,
                window,
                moment,
            } => {
                let t = self.ty(expr);
                let x = self.expr(expr, cx)?;
                let x = self.as_ts(x, t);
                self.in_window(x, window, self.moment(*moment))?
                    .or_else(Expr::bool(false))
            }
            P::TimeSince { expr, moment } => {
                let t = self.ty(expr);
                let x = self.expr(expr, cx)?;
                let secs = self.seconds_to(self.as_ts(x, t), self.moment(*moment));
                Expr::func("FLOOR", vec![secs]).cast(SqlType::BigInt)
            }
            P::Not(x) => Expr::Not(Box::new(self.truthy(x, cx)?)),
            P::Neg(x) => Expr::Neg(Box::new(self.expr(x, cx)?)),
            P::And(xs) | P::Or(xs) => {
                let parts = xs
                    .iter()
                    .map(|x| self.truthy(x, cx))
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(e, P::And(_)) {
                    Expr::all(parts)
                } else {
                    Expr::any(parts)
                }
            }
            P::Binary { op, lhs, rhs } => {
                let (ta, tb) = (self.ty(lhs), self.ty(rhs));
                let (a, b) = (self.expr(lhs, cx)?, self.expr(rhs, cx)?);
                if op.is_comparison() {
                    if !comparable(ta, tb) {
                        return Ok(Expr::bool(false));
                    }
                    self.compare_raw(*op, a, ta, b, tb)
                        .or_else(Expr::bool(false))
                } else if !arithmetic(*op, ta, tb) {
                    null
                } else {
                    match op {
                        BinOp::Add => a.bin("+", b),
                        BinOp::Sub => a.bin("-", b),
                        BinOp::Mul => a.bin("*", b),
                        _ => a.cast(SqlType::Double).bin(
                            "/",
                            Expr::func("NULLIF", vec![b.cast(SqlType::Double), lit_num(0.0)]),
                        ),
                    }
                }
            }
            P::InList {
                expr,
                items,
                negated,
            } => {
                let t = self.ty(expr);
                let x = self.expr(expr, cx)?;
                let items = items.iter().map(|v| {
                    let it = Self::value(v);
                    if t == T::Text { self.d.lower(it) } else { it }
                });
                let inl = Expr::InList {
                    expr: Box::new(self.fold(x.clone(), t)),
                    items: items.collect(),
                };
                if *negated {
                    x.is_null(true)
                        .bin("AND", Expr::Not(Box::new(inl.or_else(Expr::bool(true)))))
                } else {
                    inl.or_else(Expr::bool(false))
                }
            }
            P::InRange { expr, lo, hi } => {
                if !numeric(self.ty(expr)) {
                    return Ok(Expr::bool(false));
                }
                let x = self.expr(expr, cx)?;
                x.clone()
                    .bin(">=", lit_num(*lo))
                    .bin("AND", x.bin("<=", lit_num(*hi)))
                    .or_else(Expr::bool(false))
            }
            P::Text { expr, op, patterns } => {
                if self.ty(expr) != T::Text {
                    return Ok(Expr::bool(false));
                }
                let x = self.d.lower(self.expr(expr, cx)?);
                let tests = patterns
                    .iter()
                    .map(|p| {
                        let pe = self.d.lower(Expr::str(p));
                        match op {
                            TextOp::Contains => self.d.contains(x.clone(), pe),
                            TextOp::StartsWith => self.d.starts_with(x.clone(), pe),
                            TextOp::EndsWith => self.d.ends_with(
                                x.clone(),
                                pe,
                                p.to_lowercase().chars().count() as i64,
                            ),
                        }
                    })
                    .collect();
                Expr::any(tests).or_else(Expr::bool(false))
            }
            P::Matches {
                expr,
                pattern,
                flags,
            } => {
                if let Some(f) = flags.chars().find(|f| *f != 'i') {
                    return Err(
                        self.unsupported(format!("the regex flag `{f}` of `/{pattern}/{flags}`"))
                    );
                }
                if self.ty(expr) != T::Text {
                    return Ok(Expr::bool(false));
                }
                let x = self.expr(expr, cx)?;
                let rf = RegexFlags {
                    case_insensitive: flags.contains('i'),
                };
                self.d
                    .regex_match(x, pattern, rf)
                    .ok_or_else(|| self.unsupported(format!("the regex `/{pattern}/{flags}`")))?
                    .or_else(Expr::bool(false))
            }
            P::IsMissing { expr, negated } => self.expr(expr, cx)?.is_null(*negated),
        })
    }

    fn attr_index(&self, name: &str) -> Result<usize, SqlError> {
        self.plan
            .schema
            .contact
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| self.unsupported(format!("the unknown attribute `{name}`")))
    }

    fn attr_type(&self, i: usize) -> T {
        self.plan
            .schema
            .contact
            .get(i)
            .map_or(T::Unknown, |f| of_type(&f.ty))
    }

    fn attr_name(&self, i: usize) -> String {
        self.plan
            .schema
            .contact
            .get(i)
            .map(|f| f.name.clone())
            .unwrap_or_default()
    }

    /// The contacts table's column of attribute `i`.
    fn source_attr(&self, i: usize) -> String {
        self.tables.contacts.column(&self.attr_name(i)).to_string()
    }

    fn hist_read(&mut self, attr: usize, instant: Expr) -> usize {
        if let Some(j) = self
            .hist
            .iter()
            .position(|h| h.attr == attr && h.instant == instant)
        {
            return j;
        }
        self.hist.push(HistRead { attr, instant });
        self.hist.len() - 1
    }

    fn hist_test(&mut self, test: HistTest, cx: Ctx) -> Result<Expr, SqlError> {
        if cx != Ctx::Contact {
            return Ok(Expr::bool(false));
        }
        self.tests.push(test);
        Ok(col("p", format!("w{}", self.tests.len() - 1)))
    }
}

impl Compiler<'_> {
    fn build(&mut self) -> Result<Queries, SqlError> {
        // Nodes first: lowering them registers the history reads, tests and roll-ups
        // the earlier stages must provide.
        let max_level = self.levels.iter().copied().max().unwrap_or(0);
        let mut stages: Vec<(String, Select)> = Vec::new();
        let mut prev_c = "c0".to_string();
        let mut prev_a = "a0".to_string();
        let accounts = self.has_accounts();
        for level in 1..=max_level {
            let ids: Vec<usize> = (0..self.plan.nodes.len())
                .filter(|i| self.levels.get(*i) == Some(&level))
                .collect();
            for scope in [Scope::Contact, Scope::Account] {
                let here: Vec<usize> = ids
                    .iter()
                    .copied()
                    .filter(|i| self.plan.nodes.get(*i).is_some_and(|n| n.scope == scope))
                    .collect();
                if here.is_empty() {
                    continue;
                }
                let (name, prev) = match scope {
                    Scope::Contact => (format!("c{level}"), prev_c.clone()),
                    Scope::Account => (format!("a{level}"), prev_a.clone()),
                };
                let cx = if scope == Scope::Contact {
                    Ctx::Contact
                } else {
                    Ctx::Account
                };
                let first_rollup = self.rollups.len();
                let mut raw = Vec::new();
                let mut items = Vec::new();
                for i in here {
                    self.node(i, cx, &mut raw, &mut items)?;
                }
                let mut joins = vec![cross("moments", "m")];
                let mut from_prev = prev.clone();
                if scope == Scope::Contact && accounts {
                    joins.push(left(
                        cte(&prev_a, "an"),
                        col("an", "id").bin("=", col("p", "__acct")),
                    ));
                }
                if scope == Scope::Account && self.rollups.len() > first_rollup {
                    let kname = format!("k{level}");
                    stages.push((
                        kname.clone(),
                        self.rollup_stage(first_rollup, &prev_c, &prev_a),
                    ));
                    joins.push(left(
                        cte(&kname, "k"),
                        col("k", "id").bin("=", col("p", "id")),
                    ));
                }
                if !raw.is_empty() {
                    let rname = format!("{name}r");
                    stages.push((
                        rname.clone(),
                        Select {
                            star: Some("p".into()),
                            items: raw,
                            from: Some(cte(&prev, "p")),
                            joins: joins.clone(),
                            ..Default::default()
                        },
                    ));
                    from_prev = rname;
                }
                stages.push((
                    name.clone(),
                    Select {
                        star: Some("p".into()),
                        items,
                        from: Some(cte(&from_prev, "p")),
                        joins,
                        ..Default::default()
                    },
                ));
                match scope {
                    Scope::Contact => prev_c = name,
                    Scope::Account => prev_a = name,
                }
            }
        }
        let mut ctes = self.moments()?;
        ctes.extend(self.base()?);
        if accounts {
            ctes.push(("a0".into(), self.accounts_base()));
        }
        ctes.extend(stages);
        let collation = self.d.byte_collation();
        let order = |e: Expr| match collation {
            Some(c) => Expr::Collate {
                expr: Box::new(e),
                collation: c,
            },
            None => e,
        };
        let output = |scope: Scope, from: &str| {
            let mut items = vec![(col("p", "id"), "id".to_string())];
            for (i, n) in self.plan.outputs(scope) {
                items.push((col("p", format!("n{i}")), n.name.clone()));
            }
            Select {
                items,
                from: Some(cte(from, "p")),
                order_by: vec![order(col("p", "id"))],
                ..Default::default()
            }
        };
        let contacts = Query {
            ctes: ctes.clone(),
            body: output(Scope::Contact, &prev_c),
        };
        let accounts =
            (accounts && self.plan.outputs(Scope::Account).next().is_some()).then(|| Query {
                ctes,
                body: output(Scope::Account, &prev_a),
            });
        Ok(Queries { contacts, accounts })
    }

    /// Compiles node `i` into `items` (its column) and `raw` (a score's raw total).
    fn node(
        &mut self,
        i: usize,
        cx: Ctx,
        raw: &mut Vec<(Expr, String)>,
        items: &mut Vec<(Expr, String)>,
    ) -> Result<(), SqlError> {
        let Some(node) = self.plan.nodes.get(i) else {
            return Ok(());
        };
        self.rule = node.name.clone();
        let out = format!("n{i}");
        let value = match &node.kind {
            NodeKind::Segment(e) => self.truthy(e, cx)?,
            NodeKind::Value(e) => self.expr(e, cx)?,
            NodeKind::Top { n, by } => {
                if !numeric(self.ty(by)) {
                    Expr::bool(false)
                } else {
                    let x = self.expr(by, cx)?;
                    let id = match self.d.byte_collation() {
                        Some(c) => Expr::Collate {
                            expr: Box::new(col("p", "id")),
                            collation: c,
                        },
                        None => col("p", "id"),
                    };
                    let missing_last =
                        Expr::iff(x.clone().is_null(false), Expr::int(1), Expr::int(0));
                    let rank = Expr::RowNumber {
                        partition: Vec::new(),
                        order: vec![(missing_last, false), (x.clone(), true), (id, false)],
                    };
                    let n = i64::try_from(*n).unwrap_or(i64::MAX);
                    Expr::iff(
                        x.is_null(true).bin("AND", rank.bin("<=", Expr::int(n))),
                        Expr::bool(true),
                        Expr::bool(false),
                    )
                }
            }
            NodeKind::Score(s) => {
                let total = match &s.body {
                    ScoreBody::Expr(e) => {
                        let x = if numeric(self.ty(e)) {
                            self.expr(e, cx)?.cast(SqlType::Double)
                        } else {
                            Expr::Lit(Lit::Null).cast(SqlType::Double)
                        };
                        match s.range {
                            Some((lo, hi)) => Expr::Case {
                                whens: vec![
                                    (x.clone().bin("<", lit_num(lo)), lit_num(lo)),
                                    (x.clone().bin(">", lit_num(hi)), lit_num(hi)),
                                ],
                                otherwise: Some(Box::new(x)),
                            },
                            None => x,
                        }
                    }
                    ScoreBody::Groups(gs) => {
                        let mut groups = Vec::new();
                        for g in gs {
                            let mut rules = Vec::new();
                            for r in &g.rules {
                                let x = match &r.kind {
                                    RuleKind::Per { points_of, .. } => {
                                        let pts = match cx {
                                            Ctx::Contact => col("p", format!("g{points_of}")),
                                            _ => lit_num(0.0),
                                        };
                                        lit_num(r.points).bin("*", pts)
                                    }
                                    RuleKind::If(c) => Expr::iff(
                                        self.truthy(c, cx)?,
                                        lit_num(r.points),
                                        lit_num(0.0),
                                    ),
                                };
                                rules.push(cap(x, r.cap));
                            }
                            let sum = rules
                                .into_iter()
                                .reduce(|a, b| a.bin("+", b))
                                .unwrap_or(lit_num(0.0));
                            groups.push(cap(sum, g.cap));
                        }
                        let sum = groups
                            .into_iter()
                            .reduce(|a, b| a.bin("+", b))
                            .unwrap_or(lit_num(0.0));
                        match s.range {
                            Some((lo, hi)) => Expr::func(
                                "LEAST",
                                vec![Expr::func("GREATEST", vec![sum, lit_num(lo)]), lit_num(hi)],
                            ),
                            None => sum,
                        }
                    }
                };
                raw.push((total, format!("r{i}")));
                round_whole(col("p", format!("r{i}")).bin("*", lit_num(100.0)))
                    .bin("/", lit_num(100.0))
            }
            NodeKind::Tiers { score, bands } => {
                let r = round_whole(col("p", format!("n{score}")));
                Expr::Case {
                    whens: bands
                        .iter()
                        .map(|b| {
                            let hit = r
                                .clone()
                                .bin(">=", Expr::int(b.lo))
                                .bin("AND", r.clone().bin("<=", Expr::int(b.hi)));
                            (hit, Expr::str(&b.name))
                        })
                        .collect(),
                    otherwise: None,
                }
            }
            NodeKind::Personas(ps) => {
                let mut whens = Vec::new();
                for p in ps {
                    whens.push((self.truthy(&p.cond, cx)?, Expr::str(&p.name)));
                }
                if whens.is_empty() {
                    Expr::Lit(Lit::Null).cast(SqlType::Text)
                } else {
                    Expr::Case {
                        whens,
                        otherwise: None,
                    }
                }
            }
        };
        items.push((value, out));
        Ok(())
    }
}

/// `x` bounded to `[-c, c]` (`x` is never null here).
fn cap(x: Expr, c: Option<f64>) -> Expr {
    match c {
        Some(c) => Expr::func(
            "LEAST",
            vec![Expr::func("GREATEST", vec![x, lit_num(-c)]), lit_num(c)],
        ),
        None => x,
    }
}

/// The stages before the definitions: moments, events, aggregates, history, `c0`, `a0`.
impl Compiler<'_> {
    fn moments(&self) -> Result<Vec<(String, Select)>, SqlError> {
        let now = match self.as_of {
            AsOf::Fixed(t) => Expr::Lit(Lit::Timestamp(t)),
            AsOf::Param => Expr::Param(self.d.param().to_string()).cast(SqlType::Timestamp),
        };
        let n0 = col("n", "m0");
        let mut items = vec![(n0.clone(), "m0".to_string())];
        for (k, m) in self.plan.moments.iter().enumerate().skip(1) {
            let mut t = match m.anchor {
                Some(a) => self.start_of(a, n0.clone())?,
                None => n0.clone(),
            };
            for d in &m.shifts {
                t = self.sub(t, *d)?;
            }
            let clamped = Expr::iff(t.clone().bin(">", n0.clone()), n0.clone(), t);
            items.push((clamped, format!("m{k}")));
        }
        Ok(vec![
            (
                "now_".into(),
                Select {
                    items: vec![(now, "m0".into())],
                    ..Default::default()
                },
            ),
            (
                "moments".into(),
                Select {
                    items,
                    from: Some(cte("now_", "n")),
                    ..Default::default()
                },
            ),
        ])
    }

    fn base(&mut self) -> Result<Vec<(String, Select)>, SqlError> {
        let mut out = Vec::new();
        let tables = self.tables;
        let cmap = &tables.contacts;
        let cid = col("c", cmap.column("id"));
        let mut c0 = Select {
            items: vec![(cid.clone(), "id".into())],
            from: Some(table(cmap.name("contacts"), "c")),
            ..Default::default()
        };
        // The account link, to accounts that exist.
        if self.has_accounts() {
            let amap = &tables.accounts;
            let link = self
                .plan
                .schema
                .contact
                .iter()
                .find(|f| f.ty == Type::AccountLink);
            let on = match link {
                Some(f) => col("x", amap.column("id")).bin("=", col("c", cmap.column(&f.name))),
                None => Expr::bool(false),
            };
            c0.joins.push(left(table(amap.name("accounts"), "x"), on));
            c0.items
                .push((col("x", amap.column("id")), "__acct".into()));
            for f in &self.plan.schema.account {
                c0.items
                    .push((col("x", amap.column(&f.name)), format!("x_{}", f.name)));
            }
        }
        for f in &self.plan.schema.contact {
            c0.items
                .push((col("c", cmap.column(&f.name)), format!("c_{}", f.name)));
        }
        if !self.plan.aggregates.is_empty() {
            out.push(("ev".into(), self.events()));
            let (stages, joins, items) = self.aggregates()?;
            out.extend(stages);
            c0.joins.extend(joins);
            c0.items.extend(items);
        }
        let (stages, joins, items) = self.history();
        out.extend(stages);
        c0.joins.extend(joins);
        c0.items.extend(items);
        c0.joins.push(cross("moments", "m"));
        out.push(("c0".into(), c0));
        Ok(out)
    }

    fn events(&self) -> Select {
        let e = &self.tables.events;
        let mut items = vec![
            (col("e", e.column("contact_id")), "contact_id".to_string()),
            (col("e", e.column("event")), "event".to_string()),
            (col("e", e.column("at")), "at".to_string()),
        ];
        if let Some(o) = &e.order {
            items.push((col("e", o.as_str()), "seq".into()));
        }
        for f in self.fields.keys() {
            items.push((col("e", e.column(f)), format!("f_{f}")));
        }
        Select {
            items,
            from: Some(table(e.name("events"), "e")),
            joins: vec![cross("moments", "m")],
            filter: Some(col("e", e.column("at")).bin("<=", col("m", "m0"))),
            ..Default::default()
        }
    }

    /// Time order of events (`desc`: latest first), ties by the order column if any.
    fn event_order(&self, alias: &str, desc: bool) -> Vec<(Expr, bool)> {
        let mut o = vec![(col(alias, "at"), desc)];
        if self.tables.events.order.is_some() {
            o.push((col(alias, "seq"), desc));
        }
        o
    }

    #[allow(clippy::type_complexity)]
    fn aggregates(
        &mut self,
    ) -> Result<(Vec<(String, Select)>, Vec<Join>, Vec<(Expr, String)>), SqlError> {
        let mut stages = Vec::new();
        let mut joins = Vec::new();
        let mut items = Vec::new();
        let mut grouped = Vec::new();
        let users = self.aggregate_users();
        for (i, a) in self.plan.aggregates.iter().enumerate() {
            self.rule = users.get(&i).cloned().unwrap_or_else(|| a.label.clone());
            let m = self.moment(a.moment);
            let mut cond = Vec::new();
            if let EventSel::Type(t) = &a.event {
                cond.push(col("ev", "event").bin("=", Expr::str(t)));
            }
            cond.push(self.in_window(col("ev", "at"), &a.window, m.clone())?);
            if let Some(f) = &a.filter {
                cond.push(self.truthy(f, Ctx::Event)?);
            }
            let field = |f: &str| col("ev", format!("f_{f}"));
            let ft = |f: &str| self.fields.get(f).copied().unwrap_or(T::Unknown);
            let age = self.seconds_to(col("ev", "at"), m.clone());
            let name = format!("g{i}");
            let simple = |agg: Expr| (agg, name.clone());
            let mut zero = None;
            let g = match &a.kind {
                AggKind::Count => {
                    zero = Some(Expr::int(0));
                    Expr::Agg {
                        name: "COUNT",
                        arg: None,
                        distinct: false,
                        filter: Some(Box::new(Expr::all(cond))),
                    }
                }
                AggKind::CountDistinct { field: f } => {
                    zero = Some(Expr::int(0));
                    Expr::Agg {
                        name: "COUNT",
                        arg: Some(Box::new(self.fold(field(f), ft(f)))),
                        distinct: true,
                        filter: Some(Box::new(Expr::all(cond))),
                    }
                }
                AggKind::Sum { field: f } => {
                    zero = Some(Expr::int(0));
                    Expr::agg("SUM", field(f), Some(Expr::all(cond)))
                }
                AggKind::Avg { field: f } => {
                    Expr::agg("AVG", field(f).cast(SqlType::Double), Some(Expr::all(cond)))
                }
                AggKind::Min { field: f } | AggKind::Max { field: f } => {
                    if ft(f) == T::Text {
                        return Err(self.unsupported(format!("the smallest or largest text `{f}`")));
                    }
                    let n = if matches!(a.kind, AggKind::Min { .. }) {
                        "MIN"
                    } else {
                        "MAX"
                    };
                    Expr::agg(n, field(f), Some(Expr::all(cond)))
                }
                AggKind::FirstTime => Expr::agg("MIN", col("ev", "at"), Some(Expr::all(cond))),
                AggKind::LastTime => Expr::agg("MAX", col("ev", "at"), Some(Expr::all(cond))),
                AggKind::Periods { unit, of_last } => {
                    let u = Dur {
                        amount: 1,
                        unit: *unit,
                    }
                    .fixed_seconds()
                    .ok_or_else(|| {
                        self.unsupported("regularity counted in calendar months or years")
                    })?;
                    zero = Some(Expr::int(0));
                    let u = lit_num(u as f64);
                    let k = Expr::iff(
                        age.clone().bin("<=", u.clone()),
                        Expr::int(0),
                        Expr::func("CEIL", vec![age.clone().bin("/", u.clone())])
                            .bin("-", Expr::int(1)),
                    );
                    cond.push(age.bin(
                        "<=",
                        u.bin("*", Expr::int(i64::try_from(*of_last).unwrap_or(i64::MAX))),
                    ));
                    Expr::Agg {
                        name: "COUNT",
                        arg: Some(Box::new(k)),
                        distinct: true,
                        filter: Some(Box::new(Expr::all(cond))),
                    }
                }
                AggKind::Points { times_field, decay } => {
                    zero = Some(lit_num(0.0));
                    let mult = match times_field {
                        Some(f) => field(f).cast(SqlType::Double).or_else(lit_num(0.0)),
                        None => lit_num(1.0),
                    };
                    let factor = match decay {
                        None => lit_num(1.0),
                        Some(Decay::HalfLife(h)) => {
                            let h = h.fixed_seconds().unwrap_or(1).max(1) as f64;
                            Expr::func("POWER", vec![lit_num(0.5), age.bin("/", lit_num(h))])
                        }
                        Some(Decay::Step { percent, every }) => {
                            let e = every.fixed_seconds().unwrap_or(1).max(1) as f64;
                            Expr::func(
                                "POWER",
                                vec![
                                    lit_num(1.0 - percent / 100.0),
                                    Expr::func("FLOOR", vec![age.bin("/", lit_num(e))]),
                                ],
                            )
                        }
                    };
                    Expr::agg("SUM", mult.bin("*", factor), Some(Expr::all(cond)))
                }
                AggKind::First { field: f }
                | AggKind::Last { field: f }
                | AggKind::MostFrequent { field: f } => {
                    let rn = format!("r{i}");
                    cond.push(field(f).is_null(true));
                    let ranked = if let AggKind::MostFrequent { .. } = a.kind {
                        let counted = format!("r{i}c");
                        let key = self.fold(field(f), ft(f));
                        let by_key = vec![col("ev", "contact_id"), key.clone()];
                        stages.push((
                            counted.clone(),
                            Select {
                                items: vec![
                                    (col("ev", "contact_id"), "id".into()),
                                    (field(f), "v".into()),
                                    (key, "key".into()),
                                    (
                                        Expr::Agg {
                                            name: "COUNT",
                                            arg: None,
                                            distinct: false,
                                            filter: None,
                                        }
                                        .window_over(by_key.clone()),
                                        "n".into(),
                                    ),
                                    (
                                        Expr::RowNumber {
                                            partition: by_key,
                                            order: self.event_order("ev", false),
                                        },
                                        "occ".into(),
                                    ),
                                ],
                                from: Some(cte("ev", "ev")),
                                joins: vec![cross("moments", "m")],
                                filter: Some(Expr::all(cond)),
                                ..Default::default()
                            },
                        ));
                        let key = match self.d.byte_collation() {
                            Some(c) => Expr::Collate {
                                expr: Box::new(col("q", "key")),
                                collation: c,
                            },
                            None => col("q", "key"),
                        };
                        Select {
                            items: vec![
                                (col("q", "id"), "id".into()),
                                (col("q", "v"), "v".into()),
                                (
                                    Expr::RowNumber {
                                        partition: vec![col("q", "id")],
                                        order: vec![(col("q", "n"), true), (key, false)],
                                    },
                                    "rn".into(),
                                ),
                            ],
                            from: Some(cte(&counted, "q")),
                            filter: Some(col("q", "occ").bin("=", Expr::int(1))),
                            ..Default::default()
                        }
                    } else {
                        let desc = matches!(a.kind, AggKind::Last { .. });
                        Select {
                            items: vec![
                                (col("ev", "contact_id"), "id".into()),
                                (field(f), "v".into()),
                                (
                                    Expr::RowNumber {
                                        partition: vec![col("ev", "contact_id")],
                                        order: self.event_order("ev", desc),
                                    },
                                    "rn".into(),
                                ),
                            ],
                            from: Some(cte("ev", "ev")),
                            joins: vec![cross("moments", "m")],
                            filter: Some(Expr::all(cond)),
                            ..Default::default()
                        }
                    };
                    stages.push((rn.clone(), ranked));
                    joins.push(left(
                        cte(&rn, &rn),
                        col(&rn, "id")
                            .bin("=", col("c", self.tables.contacts.column("id")))
                            .bin("AND", col(&rn, "rn").bin("=", Expr::int(1))),
                    ));
                    items.push((col(&rn, "v"), name.clone()));
                    continue;
                }
            };
            grouped.push(simple(g));
            let v = col("g", name.clone());
            items.push((
                match zero {
                    Some(z) => v.or_else(z),
                    None => v,
                },
                name.clone(),
            ));
        }
        if !grouped.is_empty() {
            let mut g_items = vec![(col("ev", "contact_id"), "id".to_string())];
            g_items.extend(grouped);
            stages.insert(
                0,
                (
                    "agg".into(),
                    Select {
                        items: g_items,
                        from: Some(cte("ev", "ev")),
                        joins: vec![cross("moments", "m")],
                        group_by: vec![col("ev", "contact_id")],
                        ..Default::default()
                    },
                ),
            );
            joins.insert(
                0,
                left(
                    cte("agg", "g"),
                    col("g", "id").bin("=", col("c", self.tables.contacts.column("id"))),
                ),
            );
        }
        Ok((stages, joins, items))
    }

    /// For each aggregate, the first definition that uses it (for error messages).
    fn aggregate_users(&self) -> BTreeMap<usize, String> {
        let mut out = BTreeMap::new();
        for n in &self.plan.nodes {
            let mut stack = node_exprs(&n.kind);
            if let NodeKind::Score(s) = &n.kind
                && let ScoreBody::Groups(gs) = &s.body
            {
                for r in gs.iter().flat_map(|g| &g.rules) {
                    if let RuleKind::Per { points_of, .. } = r.kind {
                        out.entry(points_of).or_insert_with(|| n.name.clone());
                    }
                }
            }
            while let Some(e) = stack.pop() {
                if let P::Agg(i) = e {
                    out.entry(*i).or_insert_with(|| n.name.clone());
                }
                stack.extend(children(e));
            }
        }
        out
    }

    #[allow(clippy::type_complexity)]
    fn history(&self) -> (Vec<(String, Select)>, Vec<Join>, Vec<(Expr, String)>) {
        let mut stages = Vec::new();
        let mut joins = Vec::new();
        let mut items = Vec::new();
        let ch = &self.tables.changes;
        let cid = col("c", self.tables.contacts.column("id"));
        let mut attrs: Vec<usize> = self
            .hist
            .iter()
            .map(|h| h.attr)
            .chain(self.tests.iter().map(|t| t.attr))
            .collect();
        attrs.sort_unstable();
        attrs.dedup();
        for &i in &attrs {
            let t = self.attr_type(i);
            let value = if t == T::Text {
                col("ch", ch.column("value"))
            } else {
                col("ch", ch.column("value")).cast(sql_type(t))
            };
            let mut order = vec![col("ch", ch.column("at"))];
            let mut log_items = vec![
                (col("ch", ch.column("contact_id")), "contact_id".to_string()),
                (col("ch", ch.column("at")), "at".to_string()),
            ];
            if let Some(o) = &ch.order {
                order.push(col("ch", o.as_str()));
                log_items.push((col("ch", o.as_str()), "seq".into()));
            }
            log_items.push((value.clone(), "value".into()));
            log_items.push((
                Expr::Lag {
                    expr: Box::new(value),
                    partition: vec![col("ch", ch.column("contact_id"))],
                    order,
                },
                "prev".into(),
            ));
            stages.push((
                format!("hx{i}"),
                Select {
                    items: log_items,
                    from: Some(table(ch.name("changes"), "ch")),
                    filter: Some(
                        col("ch", ch.column("attribute")).bin("=", Expr::str(&self.attr_name(i))),
                    ),
                    ..Default::default()
                },
            ));
            let hl = format!("hl{i}");
            stages.push((
                hl.clone(),
                Select {
                    distinct: true,
                    items: vec![(col("h", "contact_id"), "id".into())],
                    from: Some(cte(&format!("hx{i}"), "h")),
                    ..Default::default()
                },
            ));
            joins.push(left(cte(&hl, &hl), col(&hl, "id").bin("=", cid.clone())));
        }
        let has_log = |i: usize| col(&format!("hl{i}"), "id").is_null(true);
        let source = |i: usize| col("c", self.source_attr(i));
        let read = |j: usize, attr: usize| {
            let h = format!("h{j}");
            Expr::iff(has_log(attr), col(&h, "v"), source(attr))
        };
        for (j, h) in self.hist.iter().enumerate() {
            let name = format!("h{j}");
            let mut order = vec![(col("h", "at"), true)];
            if self.tables.changes.order.is_some() {
                order.push((col("h", "seq"), true));
            }
            stages.push((
                name.clone(),
                Select {
                    items: vec![
                        (col("h", "contact_id"), "id".into()),
                        (col("h", "value"), "v".into()),
                        (
                            Expr::RowNumber {
                                partition: vec![col("h", "contact_id")],
                                order,
                            },
                            "rn".into(),
                        ),
                    ],
                    from: Some(cte(&format!("hx{}", h.attr), "h")),
                    joins: vec![cross("moments", "m")],
                    filter: Some(col("h", "at").bin("<=", h.instant.clone())),
                    ..Default::default()
                },
            ));
            joins.push(left(
                cte(&name, &name),
                col(&name, "id")
                    .bin("=", cid.clone())
                    .bin("AND", col(&name, "rn").bin("=", Expr::int(1))),
            ));
            items.push((read(j, h.attr), name));
        }
        for (k, test) in self.tests.iter().enumerate() {
            let name = format!("wt{k}");
            stages.push((
                name.clone(),
                Select {
                    items: vec![
                        (col("h", "contact_id"), "id".into()),
                        (self.d.bool_or(test.entry.clone()), "hit".into()),
                    ],
                    from: Some(cte(&format!("hx{}", test.attr), "h")),
                    joins: vec![cross("moments", "m")],
                    group_by: vec![col("h", "contact_id")],
                    ..Default::default()
                },
            ));
            joins.push(left(
                cte(&name, &name),
                col(&name, "id").bin("=", cid.clone()),
            ));
            let t = self.attr_type(test.attr);
            let hit = col(&name, "hit").or_else(Expr::bool(false));
            let start = match test.held {
                Held::No => None,
                Held::At(j) => Some(read(j, test.attr)),
                Held::BeforeHistory => Some(Expr::iff(
                    has_log(test.attr),
                    Expr::Lit(Lit::Null),
                    source(test.attr),
                )),
            };
            let w = match start {
                Some(s) => self
                    .compare_raw(BinOp::Eq, s, t, test.want.clone(), t)
                    .or_else(Expr::bool(false))
                    .bin("OR", hit),
                None => hit,
            };
            items.push((w, format!("w{k}")));
        }
        (stages, joins, items)
    }

    fn accounts_base(&self) -> Select {
        let amap = &self.tables.accounts;
        let mut items = vec![(col("x", amap.column("id")), "id".to_string())];
        for f in &self.plan.schema.account {
            items.push((col("x", amap.column(&f.name)), format!("x_{}", f.name)));
        }
        Select {
            items,
            from: Some(table(amap.name("accounts"), "x")),
            ..Default::default()
        }
    }

    fn rollup_stage(&self, first: usize, contacts: &str, accounts: &str) -> Select {
        let mut items = vec![(col("p", "__acct"), "id".to_string())];
        for (k, r) in self.rollups.iter().enumerate().skip(first) {
            items.push((r.clone(), format!("k{k}")));
        }
        Select {
            items,
            from: Some(cte(contacts, "p")),
            joins: vec![
                left(
                    cte(accounts, "an"),
                    col("an", "id").bin("=", col("p", "__acct")),
                ),
                cross("moments", "m"),
            ],
            filter: Some(col("p", "__acct").is_null(true)),
            group_by: vec![col("p", "__acct")],
            ..Default::default()
        }
    }
}
