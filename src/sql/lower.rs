//! Plan → SQL IR. The stages, each one CTE (or a few):
//! `now_`/`moments` (the run's moments, only when the moment is a parameter), `ev`
//! (events up to now), `agg` (every simple per-contact aggregate in one grouped pass)
//! plus a ranked CTE for each first / last / most-frequent aggregate, history reads and
//! change-log tests, `c0` (contacts with the attributes read, their account's and all
//! of the above), then one CTE per level of the definition graph, named after its
//! first definition (`<stage>_contacts` rolls contacts up for account definitions;
//! `<stage>_raw` holds scores' totals before rounding and tiers' whole-number scores).

use super::SqlError;
use super::dialect::Dialect;
use super::ir::{
    Expr, Join, Lit, Query, Select, SqlType, TableRef, drop_unread_stages, select_read_columns,
};
use super::tables::Tables;
use crate::plan::schema::Type;
use crate::plan::types::{
    AggFunc, BinOp, Decay, Dur, DurationUnit, EventSel, Scope, TextOp, TimeRef, Value, Window,
};
use crate::plan::{AggKind, Expr as P, NodeKind, Plan, RuleKind, ScoreBody};
use conditions::Shared;
use std::collections::BTreeMap;

mod conditions;
mod definitions;
mod names;
mod stages;
mod texts;

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

/// A history read: attribute (schema index) at an instant, and its column.
struct HistRead {
    attr: usize,
    instant: Expr,
    col: String,
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
    /// Its column.
    col: String,
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
    /// Contact roll-ups of account stages, with their columns in the roll-up stage.
    rollups: Vec<(Expr, String)>,
    /// The columns' names.
    cols: names::Columns,
    /// The attributes and fields the plan reads.
    read: Read,
    levels: Vec<usize>,
    /// Every moment's instant, when the moment is fixed: then each is written as a
    /// literal, with no `moments` stage.
    fixed: Option<Vec<chrono::DateTime<chrono::Utc>>>,
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
        cols: names::columns(plan),
        read: Read::of(plan),
        levels: Vec::new(),
        fixed: match as_of {
            AsOf::Fixed(now) => fixed_moments(plan, now),
            AsOf::Param => None,
        },
        fields,
    };
    c.check_texts()?;
    c.levels = c.node_levels();
    c.build()
}

/// What a plan reads: only these columns are selected from the tables.
#[derive(Default)]
struct Read {
    contact: std::collections::HashSet<String>,
    account: std::collections::HashSet<String>,
    fields: std::collections::HashSet<String>,
}

impl Read {
    fn of(plan: &Plan) -> Read {
        let mut r = Read::default();
        for (_, e) in plan.exprs() {
            e.walk(&mut |x| match x {
                P::Attr { name, .. } => {
                    r.contact.insert(name.clone());
                }
                P::AccountAttr(name) => {
                    r.account.insert(name.clone());
                }
                P::Field(name) => {
                    r.fields.insert(name.clone());
                }
                _ => {}
            });
        }
        for a in &plan.aggregates {
            r.fields.extend(a.kind.field().map(str::to_string));
        }
        r
    }
}

/// `t` moved back by `d`: calendar months clamp the day to the month's end.
fn back(t: chrono::DateTime<chrono::Utc>, d: Dur) -> Option<chrono::DateTime<chrono::Utc>> {
    let months = |n: i64| {
        let n = u32::try_from(n).ok()?;
        t.checked_sub_months(chrono::Months::new(n))
    };
    match d.unit {
        DurationUnit::Month => months(d.amount),
        DurationUnit::Year => months(d.amount.checked_mul(12)?),
        _ => t.checked_sub_signed(chrono::TimeDelta::try_seconds(d.fixed_seconds()?)?),
    }
}

/// Every moment of `plan` at `now`, each clamped to `now`; `None` when one cannot be
/// computed (then the SQL computes them).
fn fixed_moments(
    plan: &Plan,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Vec<chrono::DateTime<chrono::Utc>>> {
    plan.moments
        .iter()
        .map(|m| {
            let mut t = match m.anchor {
                None | Some(TimeRef::Now) => now,
                Some(TimeRef::Ago(d)) => back(now, d)?,
                Some(TimeRef::Date(d)) => d.and_hms_opt(0, 0, 0)?.and_utc(),
                Some(TimeRef::Timestamp(t)) => t,
            };
            for d in &m.shifts {
                t = back(t, *d)?;
            }
            Some(t.min(now))
        })
        .collect()
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

/// A score's raw total `x` rounded to 2 decimals as it reads in decimal, like the native
/// engine (`docs/semantics.md`, Scores): small and away from a half cent, `|x| * 100`
/// rounded half away from zero (there `FLOOR(a + 0.5)` is exact: `a < 1e12` errs by
/// less than the 1e-3 kept from a half); otherwise the engine's shortest text of `x`
/// read as a decimal and rounded there (`ROUND` of a decimal is half away from zero in
/// every engine); from 2^52 on, every double is a whole number and stays as it is.
fn round_cents(x: Expr) -> Expr {
    let a = Expr::func("ABS", vec![x.clone()]).bin("*", lit_num(100.0));
    let half = Expr::func("FLOOR", vec![a.clone()])
        .bin("+", lit_num(0.5))
        .bin("-", a.clone());
    let as_text = Expr::func("ABS", vec![half])
        .bin("<=", lit_num(1e-3))
        .bin("OR", a.clone().bin(">=", lit_num(1e12)));
    let decimal = x.clone().cast(SqlType::Text).cast(SqlType::Decimal);
    let exact = Expr::func("ROUND", vec![decimal, Expr::int(2)]).cast(SqlType::Double);
    let fast = Expr::func("SIGN", vec![x.clone()])
        .bin("*", Expr::func("FLOOR", vec![a.bin("+", lit_num(0.5))]))
        .bin("/", lit_num(100.0));
    Expr::Case {
        whens: vec![
            (
                Expr::func("ABS", vec![x.clone()]).bin(">=", lit_num(4503599627370496.0)),
                x,
            ),
            (as_text, exact),
        ],
        otherwise: Some(Box::new(fast)),
    }
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

    /// The column of node `i`.
    fn node_col(&self, i: usize) -> String {
        self.cols.nodes.get(i).cloned().unwrap_or_default()
    }

    /// The column of aggregate `i`.
    fn agg_col(&self, i: usize) -> String {
        self.cols.aggregates.get(i).cloned().unwrap_or_default()
    }

    /// The column of contact attribute `i`.
    fn attr_col(&self, i: usize) -> String {
        self.cols.contact.get(i).cloned().unwrap_or_default()
    }

    /// The column of account attribute `name`.
    fn account_col(&self, name: &str) -> String {
        let i = self.plan.schema.account.iter().position(|f| f.name == name);
        i.and_then(|i| self.cols.account.get(i))
            .cloned()
            .unwrap_or_default()
    }

    fn moment(&self, m: usize) -> Expr {
        match self.fixed.as_ref().and_then(|f| f.get(m)) {
            Some(t) => Expr::Lit(Lit::Timestamp(*t)),
            None => col("m", format!("m{m}")),
        }
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
        Ok(Expr::all(self.window_parts(t, w, m, false)?))
    }

    /// The conditions of `t` in window `w` seen from `m`; `t <= m` only when the rows
    /// are not known to be up to `m` already (`upto_m`: the events of `ev` at moment 0).
    fn window_parts(
        &self,
        t: Expr,
        w: &Window,
        m: Expr,
        upto_m: bool,
    ) -> Result<Vec<Expr>, SqlError> {
        let mut parts = Vec::new();
        if let Some(s) = self.window_start(w, m.clone())? {
            parts.push(t.clone().bin(">=", s));
        }
        if !upto_m {
            parts.push(t.clone().bin("<=", m.clone()));
        }
        let end = match *w {
            Window::Between(_, b) => Some(self.end_of(b, m.clone())?),
            Window::Before(a) => Some(self.start_of(a, m.clone())?),
            _ => None,
        };
        if let Some(e) = end {
            parts.push(t.bin("<", e.clone()).bin("OR", e.bin(">=", m)));
        }
        Ok(parts)
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

    /// A key folded for grouping text case-insensitively (other types as they are).
    fn fold(&self, e: Expr, t: T) -> Result<Expr, SqlError> {
        if t == T::Text {
            self.fold_text(e, None)
        } else {
            Ok(e)
        }
    }

    /// Text folded for a case-insensitive comparison with `against`: the folded
    /// literals on the other side, or `None` when the other side is data too. A literal
    /// is folded here, as the native engine folds it (`str::to_lowercase`); data is
    /// folded by the dialect, which is told which of Unicode's context-dependent
    /// mappings the comparison can observe (see [`Dialect::fold`]).
    fn fold_text(&self, e: Expr, against: Option<&[String]>) -> Result<Expr, SqlError> {
        if let Expr::Lit(Lit::Str(s)) = &e {
            return Ok(Expr::str(&s.to_lowercase()));
        }
        let (dotted_i, sigma) = match against {
            None => (true, true),
            Some(ls) => (
                ls.iter().any(|l| l.contains(['i', '\u{307}'])),
                ls.iter().any(|l| l.contains(['σ', 'ς'])),
            ),
        };
        self.d.fold(e, dotted_i, sigma).ok_or_else(|| {
            self.unsupported(
                "text holding σ or ς compared case-insensitively (the dialect's lower-casing has no final-sigma rule)",
            )
        })
    }

    fn value(v: &Value) -> Expr {
        Expr::Lit(match v {
            Value::Int(i) | Value::Duration(i) => Lit::Int(*i),
            Value::Number(n) => Lit::Num(*n),
            Value::Text(s) => Lit::Str(s.to_string()),
            Value::Bool(b) => Lit::Bool(*b),
            Value::Date(d) => Lit::Date(*d),
            Value::Timestamp(t) => Lit::Timestamp(*t),
        })
    }

    /// `a op b` for two present values, with text folded and dates as timestamps; null
    /// when either is missing.
    fn compare_raw(&self, op: BinOp, a: Expr, ta: T, b: Expr, tb: T) -> Result<Expr, SqlError> {
        let (a, b) = if ta == T::Text || tb == T::Text {
            let lit = |e: &Expr| match e {
                Expr::Lit(Lit::Str(s)) => Some(vec![s.to_lowercase()]),
                _ => None,
            };
            let (la, lb) = (lit(&a), lit(&b));
            let (a, b) = (
                self.fold_text(a, lb.as_deref())?,
                self.fold_text(b, la.as_deref())?,
            );
            match (op, self.d.byte_collation()) {
                (BinOp::Eq | BinOp::Ne, _) | (_, None) => (a, b),
                (_, Some(c)) => {
                    let bytes = |e: Expr| Expr::Collate {
                        expr: Box::new(e),
                        collation: c,
                    };
                    (bytes(a), bytes(b))
                }
            }
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
        Ok(a.bin(sym, b))
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
                        col(
                            "p",
                            self.hist.get(j).map(|h| h.col.clone()).unwrap_or_default(),
                        )
                    }
                    Some(i) => col("p", self.attr_col(i)),
                    None => null,
                }
            }
            P::AccountAttr(name) => {
                if cx == Ctx::Event {
                    return Err(self.unsupported(format!(
                        "an event filter reads the account attribute `{name}`"
                    )));
                }
                col("p", self.account_col(name))
            }
            P::Field(name) => match cx {
                Ctx::Event => col("ev", format!("f_{name}")),
                _ => null,
            },
            P::Node(i) => match cx {
                Ctx::Event => return Err(self.unsupported("an event filter reads a definition")),
                _ => col("p", self.node_col(*i)),
            },
            P::AccountNode(i) => match cx {
                Ctx::Contact => col("an", self.node_col(*i)),
                _ => return Err(self.unsupported("an event filter reads an account definition")),
            },
            P::Agg(i) => match cx {
                Ctx::Contact => col("p", self.agg_col(*i)),
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
                let name = self
                    .cols
                    .names
                    .take(&format!("contacts_{}", names::slug(&format!("{func:?}"))));
                let out = col("k", name.clone());
                self.rollups.push((agg, name));
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
                    self.compare_raw(BinOp::Eq, col("h", "value"), t, want.clone(), t)?,
                ]);
                let held = match self.window_start(window, m)? {
                    Some(s) => Held::At(self.hist_read(i, s)),
                    None => Held::BeforeHistory,
                };
                let col = self.cols.names.take(&format!("{attr}_was"));
                self.hist_test(
                    HistTest {
                        attr: i,
                        entry,
                        held,
                        want,
                        col,
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
                    )?);
                }
                if let Some(from) = from {
                    parts.push(self.compare_raw(
                        BinOp::Eq,
                        col("h", "prev"),
                        t,
                        Self::value(from),
                        t,
                    )?);
                }
                let entry = Expr::all(parts);
                let col = self.cols.names.take(&format!("{attr}_changed"));
                self.hist_test(
                    HistTest {
                        attr: i,
                        entry,
                        held: Held::No,
                        want: Expr::Lit(Lit::Null),
                        col,
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
                    self.compare_raw(*op, a, ta, b, tb)?
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
                let inl = if t == T::Text {
                    let folded: Vec<String> = items
                        .iter()
                        .filter_map(|v| match v {
                            Value::Text(s) => Some(s.to_lowercase()),
                            _ => None,
                        })
                        .collect();
                    Expr::InList {
                        expr: Box::new(self.fold_text(x.clone(), Some(&folded))?),
                        items: folded.iter().map(|s| Expr::str(s)).collect(),
                    }
                } else {
                    Expr::InList {
                        expr: Box::new(x.clone()),
                        items: items.iter().map(Self::value).collect(),
                    }
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
                let folded: Vec<String> = patterns.iter().map(|p| p.to_lowercase()).collect();
                let x = self.expr(expr, cx)?;
                let x = self.fold_text(x, Some(&folded))?;
                let tests = folded
                    .iter()
                    .map(|p| {
                        let pe = Expr::str(p);
                        match op {
                            TextOp::Contains => self.d.contains(x.clone(), pe),
                            TextOp::StartsWith => self.d.starts_with(x.clone(), pe),
                            TextOp::EndsWith => {
                                self.d.ends_with(x.clone(), pe, p.chars().count() as i64)
                            }
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
                let re = super::regex::translate(pattern, flags, self.d.regex_flavour()).map_err(
                    |why| {
                        self.unsupported(format!(
                            "the regex `/{}/{flags}`: {why}",
                            pattern.escape_debug()
                        ))
                    },
                )?;
                if self.ty(expr) != T::Text {
                    return Ok(Expr::bool(false));
                }
                let x = self.expr(expr, cx)?;
                self.d.regex_match(x, &re).or_else(Expr::bool(false))
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
        let col = self
            .cols
            .names
            .take(&format!("{}_then", self.attr_name(attr)));
        self.hist.push(HistRead { attr, instant, col });
        self.hist.len() - 1
    }

    fn hist_test(&mut self, test: HistTest, cx: Ctx) -> Result<Expr, SqlError> {
        if cx != Ctx::Contact {
            return Ok(Expr::bool(false));
        }
        let c = test.col.clone();
        self.tests.push(test);
        Ok(col("p", c))
    }
}
