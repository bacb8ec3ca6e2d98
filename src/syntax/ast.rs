//! The syntax tree: what the user wrote, with a span on every node and every comment
//! kept, so that the formatter and an editor server can work from it without
//! re-parsing. Names are not resolved here; that is the checker's job.

#![allow(clippy::large_enum_variant)] // syntax nodes are built once and walked, never copied in bulk

use super::span::Span;
use chrono::{DateTime, NaiveDate, Utc};

/// A parsed source file.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    /// Every `# comment` of the file, in source order.
    pub comments: Vec<Comment>,
    pub span: Span,
}

/// A `# …` comment (the text excludes the `#`).
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// A name as written, with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A top-level item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

/// Whether a definition is about contacts or about accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Contact,
    Account,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `use "path"`
    Use(StrLit),
    /// `contact { … }`
    Contact(Vec<FieldDecl>),
    /// `account { … }`
    Account(Vec<FieldDecl>),
    /// `event name { … }`
    Event { name: Ident, fields: Vec<FieldDecl> },
    /// `signal name = source where …`
    Signal {
        name: Ident,
        source: StreamSource,
        filter: Option<Expr>,
    },
    /// `[account] segment name = …`
    Segment {
        scope: Scope,
        name: Ident,
        body: SegmentBody,
    },
    /// `[account] score name [in a..b] { … }` or `= expr`
    Score {
        scope: Scope,
        name: Ident,
        range: Option<NumRange>,
        body: ScoreBody,
    },
    /// `[account] value name = expr`
    Value {
        scope: Scope,
        name: Ident,
        expr: Expr,
    },
    /// `tiers name of score { band a..b, … }`
    Tiers {
        name: Ident,
        score: Ident,
        bands: Vec<Band>,
    },
    /// `personas name { persona = expr … }`, first match wins
    Personas { name: Ident, personas: Vec<Persona> },
}

/// A string literal: its decoded value and span (including the quotes).
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// A numeric literal with its span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumLit {
    pub value: f64,
    /// Whether it was written without a fraction (`30` rather than `30.0`).
    pub is_int: bool,
    pub span: Span,
}

/// An inclusive range `lo..hi`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumRange {
    pub lo: NumLit,
    pub hi: NumLit,
    pub span: Span,
}

/// `name: type[?] [in a..b] [with history]`
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub optional: bool,
    pub range: Option<NumRange>,
    pub history: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `text`, `int`, `number`, `bool`, `date`, `timestamp`, `duration`, `account`
    Named(Ident),
    /// `one of (a, b, "c d")`
    OneOf(Vec<Ident>, Span),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SegmentBody {
    Expr(Expr),
    /// `top N by expr`
    Top {
        n: IntLit,
        by: Expr,
        span: Span,
    },
}

/// An integer literal with its span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntLit {
    pub value: i64,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScoreBody {
    /// `score x = a + b`
    Expr(Expr),
    /// `score x { … }`
    Rules(Vec<ScoreStmt>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScoreStmt {
    Decay(Decay),
    /// `group name [at most N] { rules }`
    Group {
        name: Ident,
        cap: Option<NumLit>,
        rules: Vec<ScoreRule>,
        span: Span,
    },
    Rule(ScoreRule),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decay {
    /// `decay half_life 90d`
    HalfLife { half_life: Duration, span: Span },
    /// `decay 25% every 30d`
    Step {
        percent: NumLit,
        every: Duration,
        span: Span,
    },
}

/// `+15 per x where …, at most 45` or `-10 if cond`
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRule {
    pub points: Points,
    pub kind: RuleKind,
    pub cap: Option<NumLit>,
    pub span: Span,
}

/// `+15` or `+20 * percent`
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    /// Signed value.
    pub value: f64,
    /// The event field the points are multiplied by.
    pub times_field: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// `per source [where …] [window]`
    Per(Stream),
    /// `if cond`
    If(Expr),
}

/// An event stream: a source, an optional filter and an optional window.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub source: StreamSource,
    /// `.field` after the source (`purchased.amount`), for aggregates.
    pub field: Option<Ident>,
    pub filter: Option<Expr>,
    pub window: Option<Window>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StreamSource {
    /// `event`: any event
    AnyEvent(Span),
    /// an event type, a signal, `contacts`, or (in account scope) a contact-level name
    Named(Ident),
}

impl StreamSource {
    /// The source's span.
    pub fn span(&self) -> Span {
        match self {
            StreamSource::AnyEvent(s) => *s,
            StreamSource::Named(i) => i.span,
        }
    }
}

/// `low 0..30`
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub name: Ident,
    pub range: NumRange,
    pub span: Span,
}

/// `decision_maker = cond`
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    pub name: Ident,
    pub cond: Expr,
    pub span: Span,
}

/// A length of time as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration {
    pub amount: i64,
    pub unit: DurationUnit,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationUnit {
    Hour,
    Day,
    Week,
    /// a calendar month
    Month,
    /// a calendar year
    Year,
}

/// A moment: `now`, `30d ago`, a date or a timestamp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimePoint {
    Now(Span),
    Ago(Duration, Span),
    Date(NaiveDate, Span),
    Timestamp(DateTime<Utc>, Span),
}

impl TimePoint {
    /// The time point's span.
    pub fn span(&self) -> Span {
        match self {
            TimePoint::Now(s) | TimePoint::Ago(_, s) | TimePoint::Date(_, s) => *s,
            TimePoint::Timestamp(_, s) => *s,
        }
    }
}

/// A time window on a stream or a moment.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// `within 30d`
    Within(Duration, Span),
    /// `between A and B`
    Between(TimePoint, TimePoint, Span),
    /// `since A`
    Since(TimePoint, Span),
    /// `before A`
    Before(TimePoint, Span),
    /// `ever`
    Ever(Span),
}

impl Window {
    /// The window's span.
    pub fn span(&self) -> Span {
        match self {
            Window::Within(_, s)
            | Window::Between(_, _, s)
            | Window::Since(_, s)
            | Window::Before(_, s)
            | Window::Ever(s) => *s,
        }
    }
}

/// `at least 3 times`, `at most 2 times`, `exactly 1 time`
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Freq {
    pub kind: FreqKind,
    pub n: IntLit,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreqKind {
    AtLeast,
    AtMost,
    Exactly,
}

/// `in at least 3 of the last 4 weeks`
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regular {
    pub at_least: IntLit,
    pub of_last: IntLit,
    pub unit: DurationUnit,
    pub span: Span,
}

/// `was mql`, `changed from lead to mql`
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryTest {
    Was(Box<Expr>, Span),
    Changed {
        from: Option<Box<Expr>>,
        to: Option<Box<Expr>>,
        span: Span,
    },
}

/// A name with stream or history modifiers: `service_click within 30d`,
/// `email_bounced where kind = soft at least 4 times`, `lead_stage was mql within 90d`.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamTest {
    pub source: StreamSource,
    pub field: Option<Ident>,
    pub filter: Option<Expr>,
    pub history: Option<HistoryTest>,
    pub window: Option<Window>,
    pub freq: Option<Freq>,
    pub regular: Option<Regular>,
    /// Modifiers written twice (e.g. two windows): kept so the checker can point at them.
    pub extra: Vec<Span>,
    pub span: Span,
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(i64),
    Number(f64),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    Duration(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    /// Whether this is a comparison (`=`, `<`, …) rather than arithmetic.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggFunc {
    Count,
    CountDistinct,
    Sum,
    Min,
    Max,
    Avg,
    First,
    Last,
    MostFrequent,
    FirstTime,
    LastTime,
}

impl AggFunc {
    /// The function's name as written.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::CountDistinct => "count_distinct",
            AggFunc::Sum => "sum",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Avg => "avg",
            AggFunc::First => "first",
            AggFunc::Last => "last",
            AggFunc::MostFrequent => "most_frequent",
            AggFunc::FirstTime => "first_time",
            AggFunc::LastTime => "last_time",
        }
    }
}

/// The argument of an aggregate: a stream (`purchased.amount where … within …`) or, over
/// an account's contacts, any contact-level expression (`sum(sales_ready * 2)`).
#[derive(Debug, Clone, PartialEq)]
pub enum AggArg {
    Stream(Box<Stream>),
    Expr(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Lit(Literal),
    /// A bare name: attribute, segment, score, value, signal, event type, persona group,
    /// tier set, enum value — resolved by the checker.
    Name(Ident),
    /// `a.b`: `account.industry`, `purchased.amount`.
    Path(Ident, Ident),
    /// A name with stream or history modifiers.
    Stream(Box<StreamTest>),
    /// `no x …`
    No(Box<StreamTest>),
    /// `name(30d ago)` or `a.b(2026-01-01)`
    AsOf {
        base: Ident,
        member: Option<Ident>,
        at: TimePoint,
    },
    /// `count(…)`, `sum(…)`, …
    Agg {
        func: AggFunc,
        func_span: Span,
        arg: AggArg,
    },
    /// `time_since(t)`
    TimeSince(Box<Expr>),
    /// `not x`
    Not(Box<Expr>),
    /// `-x`
    Neg(Box<Expr>),
    /// `a and b and c` (flattened)
    And(Vec<Expr>),
    /// `a or b or c` (flattened)
    Or(Vec<Expr>),
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `x in (a, b)` / `x not in (a, b)`
    InList {
        expr: Box<Expr>,
        negated: bool,
        items: Vec<Expr>,
    },
    /// `x in 1..5` (inclusive)
    InRange {
        expr: Box<Expr>,
        range: NumRange,
    },
    /// `x contains "a"`, `x starts with ("a", "b")`
    Text {
        expr: Box<Expr>,
        op: TextOp,
        patterns: Vec<StrLit>,
    },
    /// `x matches /re/flags`
    Matches {
        expr: Box<Expr>,
        pattern: String,
        flags: String,
        regex_span: Span,
    },
    /// `x is missing` / `x is present`
    IsMissing {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `( x )`, kept for the formatter
    Paren(Box<Expr>),
}

impl File {
    /// The doc comment of an item starting at byte `start` of `text` (this file's
    /// source): the own-line `#` comments right above it, with no blank line between
    /// them and the item, joined into one paragraph.
    pub fn doc_comment(&self, start: u32, text: &str) -> Option<String> {
        let mut lines = Vec::new();
        let mut next = start as usize;
        for c in self.comments.iter().rev().filter(|c| c.span.end <= start) {
            let (from, to) = (c.span.start as usize, c.span.end as usize);
            let gap = text.get(to..next)?;
            let line_start = text.get(..from)?.rfind('\n').map_or(0, |i| i + 1);
            let own_line = text.get(line_start..from)?.trim().is_empty();
            if !own_line || !gap.trim().is_empty() || gap.matches('\n').count() != 1 {
                break;
            }
            lines.push(c.text.trim());
            next = line_start;
        }
        lines.reverse();
        let doc = lines
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        (!doc.is_empty()).then_some(doc)
    }
}
