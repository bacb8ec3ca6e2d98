//! Placeholder types until the data loader lands (see the `data` branch).
use crate::plan::types::Value;
use chrono::{DateTime, Utc};
#[derive(Debug, Clone, Default)]
pub struct Dataset { pub contacts: Vec<ContactRow>, pub accounts: Vec<AccountRow>, pub events: Vec<EventRow>, pub changes: Vec<ChangeRow> }
#[derive(Debug, Clone)]
pub struct ContactRow { pub id: String, pub attrs: Vec<Option<Value>> }
#[derive(Debug, Clone)]
pub struct AccountRow { pub id: String, pub attrs: Vec<Option<Value>> }
#[derive(Debug, Clone)]
pub struct EventRow { pub contact: u32, pub event: u32, pub at: DateTime<Utc>, pub fields: Vec<Option<Value>> }
#[derive(Debug, Clone)]
pub struct ChangeRow { pub contact: u32, pub attr: u32, pub value: Option<Value>, pub at: DateTime<Utc> }
