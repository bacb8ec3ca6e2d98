//! A group: the contacts whose results depend on each other's data (an account and its
//! contacts, or one contact without an account), held as a small data set of its own so
//! that an input re-evaluates its group and nothing else.

use crate::engine::columnar::evaluate_dataset;
use crate::engine::context::EngineError;
use crate::engine::data::{AccountRow, ChangeRow, ContactRow, Dataset, EntityTable, EventRow};
use crate::engine::results::{Results, Table};
use crate::engine::time::Micros;
use crate::plan::Plan;
use crate::plan::types::Value;
use chrono::{DateTime, Utc};

/// The output values of one row, in definition order.
pub(crate) type Values = Vec<Option<Value>>;

/// One group.
#[derive(Debug, Clone, Default)]
pub(crate) struct Group {
    /// The group's contacts (`contact` fields index them), its account, events and
    /// changes.
    pub data: Dataset,
    /// The results each contact held at the last evaluation, by row.
    pub held: Vec<Values>,
    /// The account's results at the last evaluation (empty without an account).
    pub held_account: Values,
    /// When the group is next re-evaluated with no input.
    pub next: Option<Micros>,
    /// When it was last evaluated.
    pub evaluated: Micros,
}

/// A contact taken out of a group, with its data and held results.
pub(crate) struct Moved {
    pub row: ContactRow,
    pub events: Vec<EventRow>,
    pub changes: Vec<ChangeRow>,
    pub held: Values,
}

impl Group {
    /// A group of one account (no contacts yet).
    pub fn of_account(account: AccountRow) -> Group {
        Group {
            data: Dataset {
                accounts: vec![account],
                ..Dataset::default()
            },
            ..Group::default()
        }
    }

    /// The group's results at `now`.
    pub fn evaluate(&self, plan: &Plan, now: DateTime<Utc>) -> Result<Results, EngineError> {
        Ok(evaluate_dataset(plan, &self.data, now)?.results())
    }

    /// Adds a contact; returns its row.
    pub fn add(&mut self, moved: Moved) -> u32 {
        let row = self.data.contacts.len() as u32;
        self.data.contacts.push(moved.row);
        self.data.events.extend(
            moved
                .events
                .into_iter()
                .map(|e| EventRow { contact: row, ..e }),
        );
        self.data.changes.extend(
            moved
                .changes
                .into_iter()
                .map(|c| ChangeRow { contact: row, ..c }),
        );
        self.held.push(moved.held);
        row
    }

    /// Takes contact `row` out; the rows after it move up by one.
    pub fn remove(&mut self, row: u32, attrs: usize) -> Option<Moved> {
        let contacts: Vec<ContactRow> = self.data.contacts.rows().collect();
        let mut taken = None;
        let mut table = EntityTable::new(attrs);
        for (i, c) in contacts.into_iter().enumerate() {
            if i as u32 == row {
                taken = Some(c);
            } else {
                table.push(c);
            }
        }
        let taken = taken?;
        self.data.contacts = table;
        let shift = |c: u32| if c > row { c - 1 } else { c };
        let (events, kept): (Vec<EventRow>, Vec<EventRow>) = std::mem::take(&mut self.data.events)
            .into_iter()
            .partition(|e| e.contact == row);
        self.data.events = kept
            .into_iter()
            .map(|e| EventRow {
                contact: shift(e.contact),
                ..e
            })
            .collect();
        let (changes, kept): (Vec<ChangeRow>, Vec<ChangeRow>) =
            std::mem::take(&mut self.data.changes)
                .into_iter()
                .partition(|c| c.contact == row);
        self.data.changes = kept
            .into_iter()
            .map(|c| ChangeRow {
                contact: shift(c.contact),
                ..c
            })
            .collect();
        let held = if (row as usize) < self.held.len() {
            self.held.remove(row as usize)
        } else {
            Values::new()
        };
        Some(Moved {
            row: taken,
            events,
            changes,
            held,
        })
    }

    /// Replaces contact `row`'s attributes.
    pub fn set_contact(&mut self, row: u32, contact: ContactRow, attrs: usize) {
        let mut table = EntityTable::new(attrs);
        for (i, c) in self.data.contacts.rows().enumerate() {
            table.push(if i as u32 == row { contact.clone() } else { c });
        }
        self.data.contacts = table;
    }
}

/// Each row's values of a result table, in definition order.
pub(crate) fn rows(table: &Table) -> Vec<Values> {
    (0..table.ids.len())
        .map(|i| table.columns.iter().map(|c| c.get(i)).collect())
        .collect()
}
