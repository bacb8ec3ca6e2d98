//! Checking the inputs of one request before any is applied, each as if the ones before
//! it were: the Segment SDKs send a new user's `identify` and its first `track` in one
//! batch, and a `group` for a new account links the contact to an account its own
//! first input creates.
//!
//! [`Live::validate`] checks against the data held, where the new contact or account is
//! not yet. So a reference to an id that an earlier input of the request creates is
//! checked on a stand-in: an event of a new contact is checked under the id of a
//! contact the state holds (everything but the id is checked as sent; the id exists
//! once the earlier input is applied), a contact's link to a new account is checked
//! without the link, and a second input for a new contact or account is checked with
//! the attributes of the first merged in.

use super::live::{Input, InputError, Live};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The checks of one request.
pub struct Request<'a> {
    live: &'a Live,
    /// The contact attribute that links to an account.
    link: Option<&'a str>,
    /// A contact the state holds, to check events of new contacts under.
    known_contact: Option<&'a str>,
    /// Contacts and accounts the request's earlier inputs create, with their attributes.
    new_contacts: HashMap<String, Map<String, Value>>,
    new_accounts: HashMap<String, Map<String, Value>>,
}

impl<'a> Request<'a> {
    pub fn new(live: &'a Live, link: Option<&'a str>, known_contact: Option<&'a str>) -> Self {
        Request {
            live,
            link,
            known_contact,
            new_contacts: HashMap::new(),
            new_accounts: HashMap::new(),
        }
    }

    /// Checks the next input of the request.
    pub fn check(&mut self, input: &Input) -> Result<(), InputError> {
        match input {
            Input::Event(row) => {
                let id = row.get("contact_id").and_then(Value::as_str);
                match (id, self.known_contact) {
                    (Some(id), Some(known)) if self.new_contacts.contains_key(id) => {
                        let mut row = row.clone();
                        row.insert("contact_id".into(), Value::String(known.into()));
                        self.live.validate(&Input::Event(row))
                    }
                    _ => self.live.validate(input),
                }
            }
            Input::Contact { id, at, attrs } => {
                let mut checked = attrs.clone();
                if let Some(link) = self.link
                    && checked
                        .get(link)
                        .and_then(Value::as_str)
                        .is_some_and(|a| self.new_accounts.contains_key(a))
                {
                    checked.remove(link);
                }
                let earlier = self.new_contacts.get(id);
                self.live.validate(&Input::Contact {
                    id: id.clone(),
                    at: *at,
                    attrs: merged(earlier, checked),
                })?;
                if earlier.is_some() || self.live.contact(id).is_none() {
                    let entry = self.new_contacts.entry(id.clone()).or_default();
                    entry.extend(attrs.clone());
                    if let Some(link) = self.link {
                        entry.remove(link);
                    }
                }
                Ok(())
            }
            Input::Account { id, attrs } => {
                let earlier = self.new_accounts.get(id);
                self.live.validate(&Input::Account {
                    id: id.clone(),
                    attrs: merged(earlier, attrs.clone()),
                })?;
                if earlier.is_some() || self.live.account(id).is_none() {
                    self.new_accounts
                        .entry(id.clone())
                        .or_default()
                        .extend(attrs.clone());
                }
                Ok(())
            }
            Input::Clock(_) => self.live.validate(input),
        }
    }
}

/// The attributes an earlier input of the request gave, overridden by `attrs`.
fn merged(earlier: Option<&Map<String, Value>>, attrs: Map<String, Value>) -> Map<String, Value> {
    match earlier {
        Some(earlier) => {
            let mut all = earlier.clone();
            all.extend(attrs);
            all
        }
        None => attrs,
    }
}
