//! The schema of the contact data: contact and account attributes and event types.

use serde::{Deserialize, Serialize};

/// A value type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    Text,
    Int,
    Number,
    Bool,
    Date,
    Timestamp,
    Duration,
    /// `one of (…)`: the allowed values, in declared order.
    Enum(Vec<String>),
    /// The contact's link to its account (an account id).
    AccountLink,
}

impl Type {
    /// Whether values of this type are numbers (`int` or `number`).
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Number)
    }

    /// The type's name as written in a schema.
    pub fn name(&self) -> String {
        match self {
            Type::Text => "text".into(),
            Type::Int => "int".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::Date => "date".into(),
            Type::Timestamp => "timestamp".into(),
            Type::Duration => "duration".into(),
            Type::Enum(values) => format!("one of ({})", values.join(", ")),
            Type::AccountLink => "account".into(),
        }
    }
}

/// An attribute or event field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    /// `?`: the value may be missing.
    pub optional: bool,
    /// `with history`: changes come as a change log.
    pub history: bool,
    /// `in lo..hi`: values outside are rejected when data is loaded.
    pub range: Option<(f64, f64)>,
}

/// An event type and its fields (besides `contact_id`, `event` and `at`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventType {
    pub name: String,
    pub fields: Vec<Field>,
}

/// The shape of the data a program runs on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    /// Contact attributes (besides `id`).
    pub contact: Vec<Field>,
    /// Account attributes (besides `id`).
    pub account: Vec<Field>,
    pub events: Vec<EventType>,
}

impl Schema {
    /// A contact attribute by name.
    pub fn contact_field(&self, name: &str) -> Option<&Field> {
        self.contact.iter().find(|f| f.name == name)
    }

    /// An account attribute by name.
    pub fn account_field(&self, name: &str) -> Option<&Field> {
        self.account.iter().find(|f| f.name == name)
    }

    /// An event type by name.
    pub fn event(&self, name: &str) -> Option<&EventType> {
        self.events.iter().find(|e| e.name == name)
    }

    /// The contact attribute that links a contact to its account, if any.
    pub fn account_link(&self) -> Option<&Field> {
        self.contact.iter().find(|f| f.ty == Type::AccountLink)
    }
}
