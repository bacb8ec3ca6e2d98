//! The inputs of a live state, one JSON object each (what `funnel watch` reads line by
//! line and what `funnel serve` logs): an event, contact attributes, account
//! attributes, or only a clock tick. See `docs/live.md`.

use crate::engine::data::ndjson;
use crate::engine::data::validate;
use crate::plan::display::Timestamp;
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
    /// Reads one input from its JSON form, an object with one key naming what it is:
    /// `{"event": ROW}` (a row of the events table), `{"contact": ROW, "at": TIME}`
    /// (`id` and attributes; `at` optional), `{"account": ROW}` (`id` and attributes)
    /// or `{"clock": TIME}`.
    pub fn from_json(line: &str) -> Result<Input, InputError> {
        let mut outer = ndjson::parse(line.as_bytes()).map_err(|e| InputError {
            field: e.column,
            reason: e.reason,
        })?;
        let at = outer.remove("at");
        let mut kinds = outer.into_iter();
        let (Some((kind, value)), None) = (kinds.next(), kinds.next()) else {
            return Err(InputError::whole(format!(
                "expected an object with one key, {KINDS} (and `at` with `contact`)"
            )));
        };
        if at.is_some() && kind != "contact" {
            return Err(InputError::at(
                "at",
                format!("`at` goes with `contact` only; an {kind}'s time is inside it"),
            ));
        }
        let row = |value: Json| match value {
            Json::Object(row) => Ok(row),
            other => Err(InputError::at(
                &kind,
                format!(
                    "{} is not a row, expected a JSON object",
                    ndjson::raw(&other).show()
                ),
            )),
        };
        match kind.as_str() {
            "event" => Ok(Input::Event(row(value)?)),
            "contact" => {
                let mut attrs = row(value)?;
                let id = take_id(&mut attrs, "contact")?;
                let at = match at {
                    None | Some(Json::Null) => None,
                    Some(v) => Some(time(&v, "at")?),
                };
                Ok(Input::Contact { id, at, attrs })
            }
            "account" => {
                let mut attrs = row(value)?;
                let id = take_id(&mut attrs, "account")?;
                Ok(Input::Account { id, attrs })
            }
            "clock" => Ok(Input::Clock(time(&value, "clock")?)),
            other => Err(InputError::at(
                other,
                format!("unknown kind of input, expected {KINDS}"),
            )),
        }
    }

    /// The JSON form [`Input::from_json`] reads, on one line.
    pub fn to_json(&self) -> String {
        let mut out = Map::new();
        match self {
            Input::Event(row) => {
                out.insert("event".into(), Json::Object(row.clone()));
            }
            Input::Contact { id, at, attrs } => {
                let mut row = Map::new();
                row.insert("id".into(), Json::String(id.clone()));
                row.extend(attrs.clone());
                out.insert("contact".into(), Json::Object(row));
                if let Some(at) = at {
                    out.insert("at".into(), Json::String(Timestamp(*at).to_string()));
                }
            }
            Input::Account { id, attrs } => {
                let mut row = Map::new();
                row.insert("id".into(), Json::String(id.clone()));
                row.extend(attrs.clone());
                out.insert("account".into(), Json::Object(row));
            }
            Input::Clock(at) => {
                out.insert("clock".into(), Json::String(Timestamp(*at).to_string()));
            }
        }
        Json::Object(out).to_string()
    }

    /// The input's own time, when it has a valid one.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            Input::Event(row) => time(row.get("at")?, "at").ok(),
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

fn time(v: &Json, key: &str) -> Result<DateTime<Utc>, InputError> {
    validate::timestamp_cell(ndjson::raw(v)).map_err(|r| InputError::at(key, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_read_back_from_their_json() {
        for line in [
            r#"{"event":{"contact_id":"c1","event":"email_bounced","at":"2026-01-01T00:00:00Z","kind":"hard"}}"#,
            r#"{"contact":{"id":"c1","lead_stage":"sql","at":"x"},"at":"2026-01-01T00:00:00.5Z"}"#,
            r#"{"contact":{"id":"c2","region":"emea"}}"#,
            r#"{"account":{"id":"acme","industry":null}}"#,
            r#"{"clock":"2026-01-02T00:00:00Z"}"#,
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
            "id: unknown kind of input, expected `event`, `contact`, `account` or `clock`"
        );
        assert_eq!(
            err(r#"{"event":{},"clock":"2026-01-01"}"#),
            "expected an object with one key, `event`, `contact`, `account` or `clock` (and `at` with `contact`)"
        );
        assert!(err(r#"{"clock":"soon"}"#).starts_with("clock: "));
        assert!(err(r#"{"contact":{}}"#).starts_with("id: missing contact id"));
        assert!(err(r#"{"event":[1]}"#).starts_with("event: an array is not a row"));
        assert!(err(r#"{"clock":"2026-01-01","clock":"2026-01-02"}"#).contains("appears twice"));
        assert!(err("[1]").contains("expected one JSON object per line"));
    }
}
