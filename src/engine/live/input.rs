//! The inputs of a live state, one JSON object each (what `funnel watch` reads line by
//! line and what `funnel serve` logs): an event, contact attributes, account
//! attributes, or only a clock tick. See `docs/live.md`.

use crate::engine::data::ndjson;
use crate::engine::data::ndjson_write::timestamp;
use crate::engine::data::validate;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use std::fmt;

/// One input.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A row of the events table: `contact_id`, `event`, `at` and the event's fields.
    Event(Map<String, Json>),
    /// Attributes of a contact from `at` on (the clock when absent): a new contact
    /// gives every required attribute, a known one only those that change.
    Contact {
        id: String,
        at: Option<DateTime<Utc>>,
        attrs: Map<String, Json>,
    },
    /// Attributes of an account: a new account gives every required attribute, a known
    /// one only those that change.
    Account {
        id: String,
        attrs: Map<String, Json>,
    },
    /// Only moves the clock.
    Clock(DateTime<Utc>),
}

/// A refused input: the key at fault (`None`: the whole input) and what is wrong, in
/// the words of a bad data row. Nothing of a refused input is applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputError {
    pub field: Option<String>,
    pub reason: String,
}

impl InputError {
    pub fn at(field: &str, reason: impl Into<String>) -> InputError {
        InputError {
            field: Some(field.to_owned()),
            reason: reason.into(),
        }
    }

    pub fn whole(reason: impl Into<String>) -> InputError {
        InputError {
            field: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::diag::escape::escape;
        if let Some(field) = &self.field {
            write!(f, "{}: ", escape(field))?;
        }
        f.write_str(&escape(&self.reason))
    }
}

impl std::error::Error for InputError {}

const KINDS: &str = "`event`, `contact`, `account` or `clock`";

impl Input {
    /// Reads one input from its JSON form: an object whose `kind` is `event` (then an
    /// events row), `contact` (`id`, optional `at`, attributes), `account` (`id`,
    /// attributes) or `clock` (`at`).
    pub fn from_json(line: &str) -> Result<Input, InputError> {
        let mut row = ndjson::parse(line.as_bytes()).map_err(|e| InputError {
            field: e.column,
            reason: e.reason,
        })?;
        let kind = match row.remove("kind") {
            Some(Json::String(k)) => k,
            Some(other) => {
                return Err(InputError::at(
                    "kind",
                    format!(
                        "{} is not a kind of input, expected {KINDS}",
                        ndjson::raw(&other).show()
                    ),
                ));
            }
            None => return Err(InputError::at("kind", format!("missing, expected {KINDS}"))),
        };
        match kind.as_str() {
            "event" => Ok(Input::Event(row)),
            "contact" => {
                let id = take_id(&mut row, "contact")?;
                let at = match row.remove("at") {
                    None | Some(Json::Null) => None,
                    Some(v) => Some(time(&v)?),
                };
                Ok(Input::Contact { id, at, attrs: row })
            }
            "account" => {
                let id = take_id(&mut row, "account")?;
                Ok(Input::Account { id, attrs: row })
            }
            "clock" => {
                let at = time(row.get("at").unwrap_or(&Json::Null))?;
                if let Some(key) = row.keys().find(|k| *k != "at") {
                    return Err(InputError::at(
                        key,
                        format!("unknown key `{key}`, expected only `kind` and `at`"),
                    ));
                }
                Ok(Input::Clock(at))
            }
            other => Err(InputError::at(
                "kind",
                format!(
                    "unknown kind of input {}, expected {KINDS}",
                    validate::quote(other)
                ),
            )),
        }
    }

    /// The JSON form [`Input::from_json`] reads, on one line.
    pub fn to_json(&self) -> String {
        let mut out = Map::new();
        let kind = |k: &str| Json::String(k.to_owned());
        match self {
            Input::Event(row) => {
                out.insert("kind".into(), kind("event"));
                out.extend(row.clone());
            }
            Input::Contact { id, at, attrs } => {
                out.insert("kind".into(), kind("contact"));
                out.insert("id".into(), Json::String(id.clone()));
                if let Some(at) = at {
                    out.insert("at".into(), Json::String(timestamp(*at)));
                }
                out.extend(attrs.clone());
            }
            Input::Account { id, attrs } => {
                out.insert("kind".into(), kind("account"));
                out.insert("id".into(), Json::String(id.clone()));
                out.extend(attrs.clone());
            }
            Input::Clock(at) => {
                out.insert("kind".into(), kind("clock"));
                out.insert("at".into(), Json::String(timestamp(*at)));
            }
        }
        Json::Object(out).to_string()
    }

    /// The input's own time, when it has a valid one.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            Input::Event(row) => time(row.get("at")?).ok(),
            Input::Contact { at, .. } => *at,
            Input::Account { .. } => None,
            Input::Clock(at) => Some(*at),
        }
    }

    /// What the input is, for the cause of the changes it makes: `event page_viewed`,
    /// `contact c1`, `account acme`, `clock`.
    pub fn what(&self) -> String {
        match self {
            Input::Event(row) => match row.get("event") {
                Some(Json::String(e)) => format!("event {e}"),
                _ => "event".into(),
            },
            Input::Contact { id, .. } => format!("contact {id}"),
            Input::Account { id, .. } => format!("account {id}"),
            Input::Clock(_) => "clock".into(),
        }
    }
}

fn take_id(row: &mut Map<String, Json>, what: &str) -> Result<String, InputError> {
    let v = row.remove("id").unwrap_or(Json::Null);
    validate::id(ndjson::raw(&v), what)
        .map(|id| id.into_owned())
        .map_err(|r| InputError::at("id", r))
}

fn time(v: &Json) -> Result<DateTime<Utc>, InputError> {
    validate::timestamp_cell(ndjson::raw(v)).map_err(|r| InputError::at("at", r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_read_back_from_their_json() {
        for line in [
            r#"{"kind":"event","contact_id":"c1","event":"page_viewed","at":"2026-01-01T00:00:00Z","url":"/x"}"#,
            r#"{"kind":"contact","id":"c1","at":"2026-01-01T00:00:00.5Z","lead_stage":"sql"}"#,
            r#"{"kind":"contact","id":"c2","region":"emea"}"#,
            r#"{"kind":"account","id":"acme","industry":null}"#,
            r#"{"kind":"clock","at":"2026-01-02T00:00:00Z"}"#,
        ] {
            let input = Input::from_json(line).unwrap();
            assert_eq!(Input::from_json(&input.to_json()).unwrap(), input, "{line}");
        }
    }

    #[test]
    fn bad_inputs_name_the_key() {
        let err = |line: &str| Input::from_json(line).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"id":"c1"}"#),
            "kind: missing, expected `event`, `contact`, `account` or `clock`"
        );
        assert_eq!(
            err(r#"{"kind":"tick"}"#),
            "kind: unknown kind of input `tick`, expected `event`, `contact`, `account` or `clock`"
        );
        assert!(err(r#"{"kind":"clock","at":"soon"}"#).starts_with("at: "));
        assert!(err(r#"{"kind":"contact"}"#).starts_with("id: missing contact id"));
        assert!(err(r#"{"kind":"clock","kind":"event"}"#).contains("appears twice"));
        assert!(err("[1]").contains("expected one JSON object per line"));
    }
}
