//! A stand-in for `crate::engine::live` with its documented signatures
//! (/work/notes/live-api.md), used only until the live core is on main; it keeps the
//! inputs and answers with no results.

use crate::engine::data::Dataset;
use crate::plan::Plan;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One input.
#[derive(Debug, Clone, PartialEq)]
pub struct Input(serde_json::Map<String, serde_json::Value>);

impl Input {
    /// Parses one JSON line.
    pub fn from_json(line: &str) -> Result<Input, InputError> {
        match serde_json::from_str(line) {
            Ok(serde_json::Value::Object(m)) => Ok(Input(m)),
            _ => Err(InputError {
                field: None,
                reason: "not a JSON object".into(),
            }),
        }
    }
    /// The JSON line form.
    pub fn to_json(&self) -> String {
        serde_json::Value::Object(self.0.clone()).to_string()
    }
    /// The input's own time.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        self.0
            .get("at")
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
    }
}

/// A refused input.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub field: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(k) => write!(f, "`{k}`: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// A plan the core cannot keep live.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct LiveError(pub String);

/// The counters of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub clock: DateTime<Utc>,
    pub inputs: u64,
    pub changes: u64,
}

/// One membership change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub seq: u64,
    pub at: DateTime<Utc>,
}

/// The live state.
#[derive(Debug)]
pub struct Live {
    clock: DateTime<Utc>,
    inputs: u64,
    ids: std::collections::BTreeSet<String>,
}

impl Live {
    pub fn new(_plan: Plan, _data: Dataset, now: DateTime<Utc>) -> Result<Live, LiveError> {
        Ok(Live {
            clock: now,
            inputs: 0,
            ids: Default::default(),
        })
    }
    pub fn restore(_plan: Plan, _data: Dataset, cp: Checkpoint) -> Result<Live, LiveError> {
        Ok(Live {
            clock: cp.clock,
            inputs: cp.inputs,
            ids: Default::default(),
        })
    }
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            clock: self.clock,
            inputs: self.inputs,
            changes: 0,
        }
    }
    pub fn write_data(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join("contacts.ndjson"), "")
    }
    pub fn clock(&self) -> DateTime<Utc> {
        self.clock
    }
    pub fn advance(&mut self, to: DateTime<Utc>) -> Vec<Change> {
        self.clock = self.clock.max(to);
        Vec::new()
    }
    pub fn validate(&self, _input: &Input) -> Result<(), InputError> {
        Ok(())
    }
    pub fn apply(&mut self, input: &Input) -> Result<Vec<Change>, InputError> {
        if let Some(at) = input.at() {
            self.advance(at);
        }
        if let Some(id) = input.0.get("contact_id").and_then(|v| v.as_str()) {
            self.ids.insert(id.to_string());
        }
        self.inputs += 1;
        Ok(Vec::new())
    }
    pub fn apply_at(
        &mut self,
        input: &Input,
        now: DateTime<Utc>,
    ) -> Result<Vec<Change>, InputError> {
        self.advance(now);
        self.apply(input)
    }
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        None
    }
    pub fn contact(&self, id: &str) -> Option<Vec<(String, serde_json::Value)>> {
        self.ids.contains(id).then(Vec::new)
    }
    pub fn account(&self, _id: &str) -> Option<Vec<(String, serde_json::Value)>> {
        None
    }
    pub fn explain(&self, id: &str) -> Option<serde_json::Value> {
        self.ids.contains(id).then(|| serde_json::json!({}))
    }
    pub fn members(
        &self,
        definition: &str,
        _value: Option<&str>,
        _after: Option<&str>,
        _limit: usize,
    ) -> Result<Vec<String>, LiveError> {
        Err(LiveError(format!("no definition `{definition}`")))
    }
    pub fn next_change(&self, _id: &str) -> Option<DateTime<Utc>> {
        None
    }
}
