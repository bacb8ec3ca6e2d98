//! Stage 3: lowering a checked program to an evaluation plan — plain data with a format
//! version, shared by every engine. See `docs/plan.md` for the format.
//!
//! A plan lists, once each, the per-contact event aggregates it needs ([`Aggregate`]),
//! the moments it evaluates at ([`Moment`]: now, and every as-of moment), and the
//! definitions instantiated at those moments ([`Node`]) in dependency order.

pub mod display;
pub mod history;
pub mod lower;
pub mod validate;
pub mod walk;

pub use history::{History, with_history};
pub use lower::lower;

use serde::{Deserialize, Serialize};

/// The data schema a plan runs on (the same types the checker resolved).
pub mod schema {
    pub use crate::check::schema::{EventType, Field, Schema, Type};
}

/// Values, durations, windows and other plain data a plan is made of.
pub mod types {
    pub use crate::check::program::{Decay, Dur, EventSel, Freq, Scope, TimeRef, Value, Window};
    pub use crate::syntax::ast::{AggFunc, BinOp, DurationUnit, TextOp};
}

use schema::Schema;
use types::*;

/// The plan format version; bumped on every incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// An evaluation plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The Funnel version that wrote the plan.
    pub funnel_version: String,
    pub schema: Schema,
    /// Moments the plan evaluates at; `moments[0]` is the run's `now`.
    pub moments: Vec<Moment>,
    /// Per-contact event aggregates, each named once.
    pub aggregates: Vec<Aggregate>,
    /// Definitions instantiated at moments, each after the nodes it reads.
    pub nodes: Vec<Node>,
}

/// A moment: the run's `now`, moved back by `shifts` in order, or an absolute anchor
/// moved back by `shifts`. Moments later than the run's `now` are clamped to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moment {
    /// As the user would write it: `now`, `30d ago`, `2026-01-01`, `30d ago, 30d ago`.
    pub label: String,
    /// An absolute starting point instead of the run's `now`.
    pub anchor: Option<TimeRef>,
    /// Durations subtracted in order.
    pub shifts: Vec<Dur>,
}

/// Index into [`Plan::moments`].
pub type MomentId = usize;
/// Index into [`Plan::aggregates`].
pub type AggId = usize;
/// Index into [`Plan::nodes`].
pub type NodeId = usize;

/// One per-contact aggregate over the contact's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// How the rule file says it: `count(service_click within 30d)`.
    pub label: String,
    pub moment: MomentId,
    pub event: EventSel,
    /// Condition on the event's fields.
    pub filter: Option<Expr>,
    pub window: Window,
    pub kind: AggKind,
}

/// What an [`Aggregate`] computes over the events that pass its filter and window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggKind {
    /// number of events (0 when none)
    Count,
    /// number of distinct present values of the field
    CountDistinct {
        field: String,
    },
    /// sum of present values (0 when none)
    Sum {
        field: String,
    },
    Min {
        field: String,
    },
    Max {
        field: String,
    },
    Avg {
        field: String,
    },
    /// the field of the earliest event (ties: file order)
    First {
        field: String,
    },
    /// the field of the latest event (ties: file order)
    Last {
        field: String,
    },
    /// the most frequent present value (ties: the smallest value)
    MostFrequent {
        field: String,
    },
    /// time of the earliest event
    FirstTime,
    /// time of the latest event
    LastTime,
    /// number of periods among the last `of_last` (counted back from the moment) that
    /// hold at least one event
    Periods {
        unit: DurationUnit,
        of_last: u64,
    },
    /// Σ multiplier × decay factor: `times_field` (missing → 0) or 1, times the
    /// event's decay at the moment
    Points {
        times_field: Option<String>,
        decay: Option<Decay>,
    },
}

impl AggKind {
    /// The event field whose values this aggregate reads: the aggregated field, or a
    /// score rule's multiplier (`+20 * percent per …`).
    pub fn field(&self) -> Option<&str> {
        match self {
            AggKind::CountDistinct { field }
            | AggKind::Sum { field }
            | AggKind::Min { field }
            | AggKind::Max { field }
            | AggKind::Avg { field }
            | AggKind::First { field }
            | AggKind::Last { field }
            | AggKind::MostFrequent { field } => Some(field),
            AggKind::Points { times_field, .. } => times_field.as_deref(),
            AggKind::Count | AggKind::FirstTime | AggKind::LastTime | AggKind::Periods { .. } => {
                None
            }
        }
    }
}

/// A definition evaluated at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The definition's name.
    pub name: String,
    pub moment: MomentId,
    pub scope: Scope,
    /// Whether this node is a result column (definitions at `now`).
    pub output: bool,
    pub kind: NodeKind,
    /// The definition's doc comment (output nodes only), for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Segment(Expr),
    /// The `n` highest `by` values, ties by id ascending, missing never ranks.
    Top {
        n: u64,
        by: Expr,
    },
    Score(Score),
    Value(Expr),
    /// The band of a score node's value rounded to a whole number (half away from 0).
    Tiers {
        score: NodeId,
        bands: Vec<Band>,
    },
    /// The first persona whose condition holds.
    Personas(Vec<Persona>),
}

/// A score: rules in groups, caps, a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub range: Option<(f64, f64)>,
    pub body: ScoreBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreBody {
    Expr(Expr),
    Groups(Vec<Group>),
}

/// Rules whose total is capped together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub name: Option<String>,
    pub cap: Option<f64>,
    pub rules: Vec<Rule>,
}

/// One score rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub label: String,
    pub points: f64,
    pub kind: RuleKind,
    pub cap: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// points × the aggregate (an [`AggKind::Points`]); the count of events seen is
    /// `count` (an [`AggKind::Count`] over the same stream), for explanations.
    Per { points_of: AggId, count: AggId },
    /// points when the condition holds
    If(Expr),
}

/// A tier band, inclusive whole numbers.
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

/// An expression over a contact's (or an account's) attributes, aggregates and nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    Lit(Value),
    /// A contact attribute; for a `with history` attribute, its value at `moment`.
    Attr {
        name: String,
        moment: MomentId,
    },
    /// An attribute of the account (the contact's account in contact scope).
    AccountAttr(String),
    /// An event field (inside aggregate filters and multipliers).
    Field(String),
    /// Another node of the same scope.
    Node(NodeId),
    /// An account node read from a contact through its account.
    AccountNode(NodeId),
    Agg(AggId),
    /// Over an account's contacts: `count` (of contacts whose filter holds), or
    /// sum/min/max/avg of a contact-level expression (missing values skipped).
    Contacts {
        func: AggFunc,
        expr: Option<Box<Expr>>,
        filter: Option<Box<Expr>>,
    },
    /// The attribute held `value` at some moment of the window.
    Was {
        attr: String,
        value: Value,
        window: Window,
        moment: MomentId,
    },
    /// A change-log entry in the window, optionally from / to given values.
    Changed {
        attr: String,
        from: Option<Value>,
        to: Option<Value>,
        window: Window,
        moment: MomentId,
    },
    /// A date or timestamp in a window.
    InWindow {
        expr: Box<Expr>,
        window: Window,
        moment: MomentId,
    },
    /// Time from a date or timestamp to the moment.
    TimeSince {
        expr: Box<Expr>,
        moment: MomentId,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
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
    InRange {
        expr: Box<Expr>,
        lo: f64,
        hi: f64,
    },
    Text {
        expr: Box<Expr>,
        op: TextOp,
        patterns: Vec<String>,
    },
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

/// Why a plan could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("not a Funnel plan: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is a plan, but not one Funnel compiles: a bad index, an empty range.
    #[error("not a valid Funnel plan: {0}")]
    Invalid(String),
    #[error(
        "plan format version {found} is not supported (this Funnel reads version {FORMAT_VERSION}); recompile the rules with `funnel compile`"
    )]
    Version { found: u32 },
}

impl Plan {
    /// The plan as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a plan from JSON, checking its format version first and then that every
    /// part of it is well formed (see [`validate::validate`]).
    pub fn from_json(text: &str) -> Result<Plan, PlanError> {
        #[derive(Deserialize)]
        struct Header {
            format_version: u32,
        }
        let header: Header = serde_json::from_str(text)?;
        if header.format_version != FORMAT_VERSION {
            return Err(PlanError::Version {
                found: header.format_version,
            });
        }
        let plan: Plan = serde_json::from_str(text)?;
        validate::validate(&plan).map_err(PlanError::Invalid)?;
        Ok(plan)
    }

    /// The output nodes of a scope, in definition order.
    pub fn outputs(&self, scope: Scope) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.output && n.scope == scope)
    }
}
