//! Membership changes: a contact (or account) entering or leaving a segment, or moving
//! to another tier band or persona, at the moment it happened and why.

use super::group::Values;
use crate::engine::results::{ColumnKind, json};
use crate::plan::display::Timestamp;
use crate::plan::types::Value;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Counts changes from 1 over the life of the live state (a checkpoint keeps it).
    pub seq: u64,
    /// The moment it happened (RFC 3339, to the microsecond).
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// `contact` or `account`.
    pub scope: &'static str,
    pub id: String,
    pub definition: String,
    pub change: Kind,
    /// The band or persona before and after (`null`: none); absent for segments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Json>,
    /// For a tier: the score it reads, and its value at the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<ScoreAt>,
    pub cause: Cause,
}

fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&Timestamp(*t))
}

/// What kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Entered,
    Left,
    /// A tier band or persona changed.
    Changed,
}

/// A tier's score at a change of band. (Its value before is not given: a score
/// changes continuously, and its last value held depends on when the contact was last
/// evaluated, not on the change.)
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreAt {
    pub name: String,
    pub value: Json,
}

/// Why a change happened: an input (its number, counted from 1, and what it was), or
/// time passing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cause {
    Input { input: u64, what: String },
    Time(TimeCause),
}

/// The cause `"time"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeCause {
    Time,
}

/// One output column as changes see it.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub name: String,
    pub kind: ColumnKind,
    /// For a tier: the column of its score, when that is an output of the same scope.
    pub score: Option<usize>,
}

fn shown(v: &Option<Value>) -> Json {
    v.as_ref().map_or(Json::Null, json)
}

/// The changes between a row's results before (`None`: the row is new) and after, in
/// definition order, without `seq`, `at` and `cause` filled in.
pub(crate) fn between(
    outputs: &[Output],
    scope: &'static str,
    id: &str,
    before: Option<&Values>,
    after: &Values,
    mut each: impl FnMut(Change),
) {
    let old = |i: usize| before.and_then(|b| b.get(i)).cloned().flatten();
    for (i, out) in outputs.iter().enumerate() {
        let (was, now) = (old(i), after.get(i).cloned().flatten());
        let change = match out.kind {
            ColumnKind::Segment => {
                let (a, b) = (
                    was == Some(Value::Bool(true)),
                    now == Some(Value::Bool(true)),
                );
                match (a, b) {
                    (false, true) => Kind::Entered,
                    (true, false) => Kind::Left,
                    _ => continue,
                }
            }
            ColumnKind::Tier | ColumnKind::Persona if was != now => Kind::Changed,
            _ => continue,
        };
        let (from, to) = match change {
            Kind::Changed => (Some(shown(&was)), Some(shown(&now))),
            _ => (None, None),
        };
        let score = out.score.and_then(|s| {
            Some(ScoreAt {
                name: outputs.get(s)?.name.clone(),
                value: shown(&after.get(s).cloned().flatten()),
            })
        });
        each(Change {
            seq: 0,
            at: DateTime::<Utc>::MIN_UTC,
            scope,
            id: id.to_owned(),
            definition: out.name.clone(),
            change,
            from,
            to,
            score: score.filter(|_| out.kind == ColumnKind::Tier),
            cause: Cause::Time(TimeCause::Time),
        });
    }
}
