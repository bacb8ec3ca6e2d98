//! The checked program: every name resolved, every expression typed, signals inlined
//! into the streams that use them, definitions in dependency order. No spans: this is
//! what the planner lowers, and what the reference evaluator in the tests runs.

use super::schema::{Schema, Type};
use crate::syntax::ast::{AggFunc, BinOp, DurationUnit, TextOp};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A resolved, typed rule program with its schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub schema: Schema,
    /// Named signals, for reference (their uses are already inlined into streams).
    pub signals: Vec<Signal>,
    /// Every definition, each after the definitions it uses.
    pub defs: Vec<Def>,
}

impl Program {
    /// The definition with this name.
    pub fn def(&self, name: &str) -> Option<&Def> {
        self.defs.iter().find(|d| d.name == name)
    }
}

/// `signal name = event where filter`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub name: String,
    pub event: EventSel,
    pub filter: Option<Box<Expr>>,
}

/// Whether a definition is per contact or per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Contact,
    Account,
}

/// A named definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Def {
    pub name: String,
    pub scope: Scope,
    pub kind: DefKind,
    /// The doc comment: the comment lines right above the definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefKind {
    /// Yes or no per contact (or account).
    Segment(Expr),
    /// The `n` contacts (or accounts) with the highest `by`; ties broken by id ascending;
    /// a missing `by` never ranks.
    Top { n: u64, by: Expr },
    /// A number per contact (or account).
    Score(Score),
    /// Any typed value per contact (or account).
    Value(Expr),
    /// The band a score's value (rounded to a whole number) falls in.
    Tiers(Tiers),
    /// The first persona whose condition holds.
    Personas(Vec<Persona>),
}

/// A score model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// `in lo..hi`: the total is clamped to it.
    pub range: Option<(f64, f64)>,
    pub body: ScoreBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreBody {
    /// `score x = expr`
    Expr(Expr),
    /// `score x { … }`: rules in groups (rules outside any group form one unnamed,
    /// uncapped group, listed first).
    Rules {
        decay: Option<Decay>,
        groups: Vec<Group>,
    },
}

/// How an event's points shrink with its age.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decay {
    /// points × 0.5^(age / half_life); a fixed-length duration.
    HalfLife(Dur),
    /// points × (1 − percent/100)^floor(age / every); a fixed-length duration.
    Step { percent: f64, every: Dur },
}

/// `group name at most cap { rules }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub name: Option<String>,
    /// Bound on the magnitude of the group's total.
    pub cap: Option<f64>,
    pub rules: Vec<Rule>,
}

/// One score rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The rule as written, normalised to one line (for explanations).
    pub label: String,
    /// Signed points.
    pub points: f64,
    pub kind: RuleKind,
    /// Bound on the magnitude of the rule's total, applied after decay.
    pub cap: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// `points [* field] per stream`: each matching event adds points (× its field
    /// value; a missing field adds nothing), decayed by the event's age.
    Per {
        stream: Stream,
        times_field: Option<String>,
    },
    /// `points if cond`: adds points once when the condition holds; never decayed.
    If(Expr),
}

/// `tiers name of score { band lo..hi, … }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tiers {
    pub score: String,
    pub bands: Vec<Band>,
}

/// `name lo..hi`, inclusive whole numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub name: String,
    pub lo: i64,
    pub hi: i64,
}

/// One persona of an ordered list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Persona {
    pub name: String,
    pub cond: Expr,
}

/// A duration as written: calendar months and years are not a fixed number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dur {
    pub amount: i64,
    pub unit: DurationUnit,
}

impl Dur {
    /// The length in seconds for hours, days and weeks; `None` for calendar units.
    pub fn fixed_seconds(self) -> Option<i64> {
        let unit = match self.unit {
            DurationUnit::Hour => 3600,
            DurationUnit::Day => 86_400,
            DurationUnit::Week => 7 * 86_400,
            DurationUnit::Month | DurationUnit::Year => return None,
        };
        Some(self.amount.saturating_mul(unit))
    }
}

/// A moment, relative to the moment an expression is evaluated at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeRef {
    /// the evaluation moment
    Now,
    /// the evaluation moment minus a duration
    Ago(Dur),
    /// 00:00 UTC of a day
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
}

/// Which events a window keeps. Every window ends at the evaluation moment at the
/// latest; see `docs/semantics.md` for the boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// every event up to the evaluation moment
    Ever,
    /// `within d`: [now − d, now]
    Within(Dur),
    /// `between a and b`: [a, b) (a date as `b` includes that whole day)
    Between(TimeRef, TimeRef),
    /// `since a`: [a, now]
    Since(TimeRef),
    /// `before a`: (−∞, a)
    Before(TimeRef),
}

/// Which event types a stream reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSel {
    /// `event`: events of every type
    Any,
    /// one event type
    Type(String),
}

/// A filtered, windowed event stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    /// The name the user wrote (an event type, a signal, or `event`), for explanations.
    pub label: String,
    pub event: EventSel,
    /// A condition over the event's fields (signal filters and the use site's `where`,
    /// joined with `and`).
    pub filter: Option<Box<Expr>>,
    pub window: Window,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Int(i64),
    Number(f64),
    /// Text, and enum values. Shared: equal texts read from data files may hold one
    /// copy, and a value is 24 bytes instead of 32.
    Text(std::sync::Arc<str>),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    /// A fixed-length duration in seconds.
    Duration(i64),
}

/// A typed expression. `ty` is the type of its value (every value may be missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
}

/// A frequency test on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Freq {
    AtLeast(u64),
    AtMost(u64),
    Exactly(u64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExprKind {
    Lit(Value),
    /// A contact attribute at the evaluation moment (for a history attribute, its value
    /// then according to the change log).
    Attr(String),
    /// An account attribute: of the contact's account (contact scope) or of the account
    /// itself (account scope).
    AccountAttr(String),
    /// An event field, inside a stream filter or a rule's multiplier.
    Field(String),
    /// Another definition of the same scope, at the evaluation moment.
    Ref(String),
    /// An account definition, read from a contact through its account.
    AccountRef(String),
    /// Evaluates `expr` with the evaluation moment moved to `at`.
    AsOf {
        expr: Box<Expr>,
        at: TimeRef,
    },
    /// Whether the stream has at least one event.
    Exists(Stream),
    /// `stream at least / at most / exactly N times` (zero events count as zero times).
    Freq {
        stream: Stream,
        freq: Freq,
    },
    /// `stream in at least n of the last m periods`: periods counted back from the
    /// evaluation moment, each [now − (k+1)·unit, now − k·unit).
    Regular {
        stream: Stream,
        at_least: u64,
        of_last: u64,
        unit: DurationUnit,
    },
    /// An aggregate over a stream (`field` for all but count, first_time, last_time).
    Agg {
        func: AggFunc,
        stream: Stream,
        field: Option<String>,
    },
    /// An aggregate over an account's contacts (account scope): `count(contacts where
    /// filter)`, `sum(expr)`, … Contacts whose `expr` is missing are skipped.
    ContactsAgg {
        func: AggFunc,
        expr: Option<Box<Expr>>,
        filter: Option<Box<Expr>>,
    },
    /// `attr was value [window]`: the attribute held `value` at some moment of the window.
    Was {
        attr: String,
        value: Value,
        window: Window,
    },
    /// `attr changed [from a] [to b] [window]`: a change log entry in the window.
    Changed {
        attr: String,
        from: Option<Value>,
        to: Option<Value>,
        window: Window,
    },
    /// Whether a date or timestamp lies in a window.
    InWindow {
        expr: Box<Expr>,
        window: Window,
    },
    /// The time from a date or timestamp to the evaluation moment.
    TimeSince(Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// Comparisons and arithmetic.
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    InList {
        expr: Box<Expr>,
        items: Vec<Value>,
        negated: bool,
    },
    /// Inclusive range.
    InRange {
        expr: Box<Expr>,
        lo: f64,
        hi: f64,
    },
    /// Case-insensitive text test against any of the patterns.
    Text {
        expr: Box<Expr>,
        op: TextOp,
        patterns: Vec<String>,
    },
    /// Regular expression (Rust `regex` syntax); `flags` as written (`i`, `m`, `s`, `x`, `u`).
    Matches {
        expr: Box<Expr>,
        pattern: String,
        flags: String,
    },
    IsMissing {
        expr: Box<Expr>,
        negated: bool,
    },
}
