//! Segment's HTTP Tracking API payloads (`track`, `identify`, `group`, `page`, `batch`)
//! turned into the live core's inputs, and the core's refusals turned back into the
//! payload's field names.
//!
//! `track` → an event of the type named by `event` (or its snake_case form), its
//! `properties` as fields; `page` → an event of the schema's `page_viewed` type;
//! `identify` → a contact input with the `traits` as attributes; `group` → an account
//! input with the group's `traits` (when there are any) and a contact input setting the
//! account link attribute to `groupId`.

use super::live::Input;
use crate::check::schema::Schema;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// The event type a `page` call becomes, when the schema has one of that name.
pub const PAGE_EVENT: &str = "page_viewed";

/// The most messages one `batch` request may hold.
pub const MAX_BATCH: usize = 2_500;

/// The longest `messageId`, in bytes.
pub const MAX_MESSAGE_ID: usize = 200;

/// How far ahead of the server's clock a `timestamp` may be: a client with a clock set
/// wrong would otherwise move time forward for every contact.
pub const MAX_AHEAD_SECONDS: i64 = 60;

/// The Segment calls Funnel takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Track,
    Identify,
    Group,
    Page,
}

impl Call {
    /// The call of a `type` in a batch, or of a route.
    pub fn parse(name: &str) -> Option<Call> {
        match name {
            "track" => Some(Call::Track),
            "identify" => Some(Call::Identify),
            "group" => Some(Call::Group),
            "page" => Some(Call::Page),
            _ => None,
        }
    }
}

/// One Segment message as inputs: `group` gives two (account, then contact), the others
/// one. All of a message's inputs are applied or none.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// `messageId`, when the client sent one: a message seen before is acknowledged
    /// and not applied again.
    pub message_id: Option<String>,
    pub inputs: Vec<Input>,
    /// The Segment call that made it (to name fields in refusals).
    pub call: Call,
}

/// A refused request: why, the Segment field at fault and, in a batch, the message's
/// position (from 0).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<usize>,
}

impl Refusal {
    /// A refusal of the whole request or of one field.
    pub fn new(field: Option<&str>, error: impl Into<String>) -> Refusal {
        Refusal {
            error: error.into(),
            field: field.map(str::to_string),
            item: None,
        }
    }

    fn at_item(mut self, item: Option<usize>) -> Refusal {
        self.item = item;
        self
    }
}

/// What the mapping needs of the schema.
#[derive(Debug, Clone)]
pub struct Mapper {
    events: Vec<String>,
    account_link: Option<String>,
}

impl Mapper {
    /// The mapping for `schema`.
    pub fn new(schema: &Schema) -> Mapper {
        Mapper {
            events: schema.events.iter().map(|e| e.name.clone()).collect(),
            account_link: schema.account_link().map(|f| f.name.clone()),
        }
    }

    /// The messages of one request body to the route of `call` (`None`: `/v1/batch`),
    /// received at `now`.
    pub fn request(
        &self,
        call: Option<Call>,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<Vec<Message>, Refusal> {
        let Some(object) = body.as_object() else {
            return Err(Refusal::new(None, "the body is not a JSON object"));
        };
        match call {
            Some(call) => Ok(vec![self.message(call, object, now)?]),
            None => {
                let Some(batch) = object.get("batch") else {
                    return Err(Refusal::new(Some("batch"), "a batch needs a `batch` list"));
                };
                let Some(items) = batch.as_array() else {
                    return Err(Refusal::new(Some("batch"), "`batch` is not a list"));
                };
                if items.len() > MAX_BATCH {
                    return Err(Refusal::new(
                        Some("batch"),
                        format!(
                            "a batch holds at most {MAX_BATCH} messages; this one has {}",
                            items.len()
                        ),
                    ));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.batch_item(item, now).map_err(|r| r.at_item(Some(i))))
                    .collect()
            }
        }
    }

    fn batch_item(&self, item: &Value, now: DateTime<Utc>) -> Result<Message, Refusal> {
        let Some(object) = item.as_object() else {
            return Err(Refusal::new(None, "a batch message is not a JSON object"));
        };
        let call = match object.get("type") {
            Some(Value::String(t)) => Call::parse(t).ok_or_else(|| {
                Refusal::new(
                    Some("type"),
                    "Funnel takes `track`, `identify`, `group` and `page` messages; \
                     not this type",
                )
            })?,
            Some(_) => return Err(Refusal::new(Some("type"), "`type` is not a text")),
            None => return Err(Refusal::new(Some("type"), "a batch message needs a `type`")),
        };
        self.message(call, object, now)
    }

    /// One message of `call`.
    fn message(
        &self,
        call: Call,
        m: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Message, Refusal> {
        let message_id = match m.get("messageId") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.len() <= MAX_MESSAGE_ID => Some(s.clone()),
            Some(Value::String(_)) => {
                return Err(Refusal::new(
                    Some("messageId"),
                    format!("`messageId` is longer than {MAX_MESSAGE_ID} bytes"),
                ));
            }
            Some(_) => return Err(Refusal::new(Some("messageId"), "`messageId` is not a text")),
        };
        let contact = contact_id(m)?;
        let at = timestamp(m, now)?;
        let inputs = match call {
            Call::Track => {
                let name = text(m, "event")?
                    .ok_or_else(|| Refusal::new(Some("event"), "a track call needs an `event`"))?;
                let name = self.event_name(name);
                vec![self.input(
                    call,
                    "event",
                    event(&contact, &name, &at, object(m, "properties")?)?,
                )?]
            }
            Call::Page => {
                if !self.events.iter().any(|e| e == PAGE_EVENT) {
                    return Err(Refusal::new(
                        None,
                        format!(
                            "a page call becomes a `{PAGE_EVENT}` event, and the schema has no \
                             event type `{PAGE_EVENT}`"
                        ),
                    ));
                }
                vec![self.input(
                    call,
                    "event",
                    event(&contact, PAGE_EVENT, &at, object(m, "properties")?)?,
                )?]
            }
            Call::Identify => {
                let mut line = head("id", &contact, Some(&at));
                fill(&mut line, object(m, "traits")?, "traits")?;
                vec![self.input(call, "contact", line)?]
            }
            Call::Group => {
                let link = self.account_link.as_deref().ok_or_else(|| {
                    Refusal::new(
                        None,
                        "a group call links the contact to an account, and the schema has no \
                         contact attribute of type `account`",
                    )
                })?;
                let group = text(m, "groupId")?.ok_or_else(|| {
                    Refusal::new(Some("groupId"), "a group call needs a `groupId`")
                })?;
                let mut inputs = Vec::with_capacity(2);
                let traits = object(m, "traits")?;
                if !traits.is_empty() {
                    let mut account = head("id", group, None);
                    fill(&mut account, traits, "traits")?;
                    inputs.push(self.input(call, "account", account)?);
                }
                let mut line = head("id", &contact, Some(&at));
                line.insert(link.to_string(), Value::String(group.to_string()));
                inputs.push(self.input(call, "contact", line)?);
                inputs
            }
        };
        Ok(Message {
            message_id,
            inputs,
            call,
        })
    }

    /// The event type for a `track` name: the name itself, or its snake_case form
    /// (`Order Completed` → `order_completed`) when only that is in the schema.
    fn event_name(&self, name: &str) -> String {
        if self.events.iter().any(|e| e == name) {
            return name.to_string();
        }
        let snake = snake_case(name);
        if self.events.contains(&snake) {
            snake
        } else {
            name.to_string()
        }
    }

    /// The Segment field that the key `key` of an input of kind `kind` (`event`,
    /// `contact`, `account`) stands for, in a message of `call`.
    pub fn field(&self, call: Call, kind: &str, key: &str) -> String {
        match (kind, key) {
            ("account", "id") => "groupId".into(),
            ("account", k) => format!("traits.{k}"),
            (_, "contact_id" | "id") => "userId".into(),
            (_, "at") => "timestamp".into(),
            ("event", "event") => "event".into(),
            ("event", k) => format!("properties.{k}"),
            ("contact", k) if call == Call::Group && self.account_link.as_deref() == Some(k) => {
                "groupId".into()
            }
            (_, k) => format!("traits.{k}"),
        }
    }

    /// The input of kind `kind` (`event`, `contact`, `account`) made of `row` for a
    /// message of `call`; a refusal names the Segment field. A contact's `at` goes
    /// beside its row, an event's stays in it.
    fn input(&self, call: Call, kind: &str, mut row: Map<String, Value>) -> Result<Input, Refusal> {
        let mut line = Map::new();
        if kind == "contact"
            && let Some(at) = row.remove("at")
        {
            line.insert("at".into(), at);
        }
        line.insert(kind.into(), Value::Object(row));
        Input::from_json(&Value::Object(line).to_string()).map_err(|e| Refusal {
            field: e.field.as_deref().map(|k| self.field(call, kind, k)),
            error: e.reason,
            item: None,
        })
    }
}

/// The kind of an input: `event`, `contact`, `account` or `clock`.
pub fn kind_of(input: &Input) -> &'static str {
    match input {
        Input::Event(_) => "event",
        Input::Contact { .. } => "contact",
        Input::Account { .. } => "account",
        Input::Clock(_) => "clock",
    }
}

/// `Order Completed` → `order_completed`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.trim().chars().enumerate() {
        if c.is_whitespace() || c == '-' {
            if !out.ends_with('_') {
                out.push('_');
            }
        } else if c.is_uppercase() {
            if i > 0 && !out.ends_with('_') && !name.contains(' ') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The contact: `userId`, else `anonymousId`.
fn contact_id(m: &Map<String, Value>) -> Result<String, Refusal> {
    for key in ["userId", "anonymousId"] {
        if let Some(id) = text(m, key)?.filter(|s| !s.is_empty()) {
            return Ok(id.to_string());
        }
    }
    Err(Refusal::new(
        Some("userId"),
        "a message needs a `userId` or an `anonymousId`",
    ))
}

/// The message's time: `timestamp` (ISO-8601 with an offset), else the time received.
fn timestamp(m: &Map<String, Value>, now: DateTime<Utc>) -> Result<String, Refusal> {
    let at = match text(m, "timestamp")? {
        None => now,
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| {
                Refusal::new(
                    Some("timestamp"),
                    "`timestamp` is not an ISO-8601 time with an offset, like \
                     `2026-11-20T09:00:00Z`",
                )
            })?
            .with_timezone(&Utc),
    };
    if at > now + chrono::Duration::seconds(MAX_AHEAD_SECONDS) {
        return Err(Refusal::new(
            Some("timestamp"),
            format!(
                "`timestamp` is more than {MAX_AHEAD_SECONDS} s ahead of the server's clock \
                 ({})",
                now.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
        ));
    }
    Ok(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// A text field (absent or null: `None`).
fn text<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Refusal> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Refusal::new(Some(key), format!("`{key}` is not a text"))),
    }
}

/// An object field (absent or null: empty).
fn object<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a Map<String, Value>, Refusal> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    match m.get(key) {
        None | Some(Value::Null) => Ok(EMPTY.get_or_init(Map::new)),
        Some(Value::Object(o)) => Ok(o),
        Some(_) => Err(Refusal::new(Some(key), format!("`{key}` is not an object"))),
    }
}

/// The fixed keys of an input's row (a contact's `at` is moved beside it later).
fn head(id_key: &str, id: &str, at: Option<&str>) -> Map<String, Value> {
    let mut line = Map::new();
    line.insert(id_key.into(), Value::String(id.into()));
    if let Some(at) = at {
        line.insert("at".into(), Value::String(at.into()));
    }
    line
}

/// Copies `properties`/`traits` into an input row; a key the row already has (`id`,
/// `contact_id`, `event`, `at`) is refused rather than overwritten.
fn fill(
    line: &mut Map<String, Value>,
    from: &Map<String, Value>,
    what: &str,
) -> Result<(), Refusal> {
    for (k, v) in from {
        if line.contains_key(k) {
            return Err(Refusal::new(
                Some(&format!("{what}.{k}")),
                format!(
                    "`{k}` is a reserved name in Funnel's inputs; it cannot be one of the {what}"
                ),
            ));
        }
        line.insert(k.clone(), v.clone());
    }
    Ok(())
}

/// An event line.
fn event(
    contact: &str,
    name: &str,
    at: &str,
    properties: &Map<String, Value>,
) -> Result<Map<String, Value>, Refusal> {
    let mut line = head("contact_id", contact, Some(at));
    line.insert("event".into(), Value::String(name.into()));
    fill(&mut line, properties, "properties")?;
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::loader::{MemoryFs, load_source};
    use serde_json::json;
    use std::path::Path;

    fn mapper(schema: &str) -> Mapper {
        let fs = MemoryFs::new();
        let loaded = load_source(
            &fs,
            Path::new("/p"),
            Path::new("/p/r.funnel"),
            "r.funnel",
            schema,
        );
        let checked = crate::check::check(&loaded);
        let program = checked.program.expect("the schema checks");
        Mapper::new(&crate::plan::lower(&program).schema)
    }

    const SCHEMA: &str = "contact { plan: text?, company: account? }\naccount { name: text }\n\
                          event order_completed { amount: number }";

    fn lines(call: Option<Call>, body: serde_json::Value) -> Result<Vec<Value>, Refusal> {
        let now = DateTime::parse_from_rfc3339("2026-11-20T09:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        Ok(mapper(SCHEMA)
            .request(call, &body, now)?
            .iter()
            .flat_map(|m| m.inputs.iter().map(Input::to_json))
            .map(|l| serde_json::from_str(&l).unwrap_or_default())
            .collect())
    }

    fn json_line(line: &str) -> Value {
        serde_json::from_str(line).unwrap_or_default()
    }

    #[test]
    fn segment_calls_become_input_lines() {
        let t = "2026-11-20T08:00:00Z";
        assert_eq!(
            lines(
                Some(Call::Track),
                json!({"userId": "c1", "event": "Order Completed", "properties": {"amount": 5}, "timestamp": t})
            ),
            Ok(vec![json_line(
                r#"{"event":{"amount":5,"at":"2026-11-20T08:00:00Z","contact_id":"c1","event":"order_completed"}}"#
            )])
        );
        assert_eq!(
            lines(
                Some(Call::Identify),
                json!({"anonymousId": "a1", "traits": {"plan": "pro"}})
            ),
            Ok(vec![json_line(
                r#"{"contact":{"id":"a1","plan":"pro"},"at":"2026-11-20T09:00:00Z"}"#
            )])
        );
        assert_eq!(
            lines(
                Some(Call::Group),
                json!({"userId": "c1", "groupId": "acme", "traits": {"name": "Acme"}, "timestamp": t})
            ),
            Ok(vec![
                json_line(r#"{"account":{"id":"acme","name":"Acme"}}"#),
                json_line(
                    r#"{"contact":{"id":"c1","company":"acme"},"at":"2026-11-20T08:00:00Z"}"#
                ),
            ])
        );
    }

    #[test]
    fn page_needs_a_page_viewed_type() {
        let refused = lines(Some(Call::Page), json!({"userId": "c1"}));
        assert!(refused.is_err_and(|r| r.error.contains("no event type `page_viewed`")));
    }

    #[test]
    fn refusals_name_segment_fields() {
        let m = mapper(SCHEMA);
        assert_eq!(m.field(Call::Track, "event", "amount"), "properties.amount");
        assert_eq!(m.field(Call::Track, "event", "contact_id"), "userId");
        assert_eq!(m.field(Call::Identify, "contact", "plan"), "traits.plan");
        assert_eq!(m.field(Call::Group, "contact", "company"), "groupId");
        assert_eq!(m.field(Call::Group, "account", "id"), "groupId");
        assert_eq!(m.field(Call::Group, "account", "name"), "traits.name");
        assert_eq!(m.field(Call::Track, "event", "at"), "timestamp");
    }

    #[test]
    fn snake_case_of_segment_names() {
        assert_eq!(snake_case("Order Completed"), "order_completed");
        assert_eq!(snake_case("orderCompleted"), "order_completed");
        assert_eq!(snake_case("page_viewed"), "page_viewed");
        assert_eq!(snake_case("Sign-up"), "sign_up");
    }
}
