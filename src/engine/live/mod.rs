//! Live segments: results kept current as inputs arrive and as time passes, and every
//! membership change reported at the moment it happens. Behind `funnel watch` and
//! `funnel serve`; see `docs/live.md`.
//!
//! The data is held per group ([`group`]): an account with its contacts, or a contact
//! without an account. An input re-evaluates its group with the one engine
//! ([`columnar`](crate::engine::columnar)), and nothing else; each group also carries
//! the next moment its results may change with no input ([`next`]), and a timer
//! ([`Live::advance`]) re-evaluates it exactly then. What the state holds after any
//! sequence of inputs is what `funnel run --as-of` gives over the same data.

pub mod change;
mod decay;
mod group;
pub mod input;
mod next;

pub use change::{Cause, Change, Kind};
pub use input::{Input, InputError};

use crate::engine::columnar::Evaluated;
use crate::engine::context::EngineError;
use crate::engine::data::ids::Ids;
use crate::engine::data::ndjson_write::{entity_json, write_ndjson};
use crate::engine::data::tables::{Entities, Events, Sink};
use crate::engine::data::{
    self, AccountRow, ChangeRow, ContactRow, DataError, Dataset, EventRow, Format,
};
use crate::engine::eval::State;
use crate::engine::results::ColumnKind;
use crate::engine::run::collect;
use crate::engine::time::{self, Micros};
use crate::plan::schema::Type;
use crate::plan::types::{Scope, Value};
use crate::plan::{NodeKind, Plan};
use change::{Output, TimeCause};
use chrono::{DateTime, Utc};
use decay::Decays;
use group::{Group, Moved, Values, rows};
use next::Clockwork;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Why a live state cannot be made or asked.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// The rules use something live mode cannot keep exact.
    #[error("live mode cannot keep {0}")]
    Unsupported(String),
    /// No such definition (for member lists).
    #[error("no segment, tier or persona list `{0}` in the rules{1}")]
    Unknown(String, String),
}

/// Where a live state stands: its clock and how many inputs and changes it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub clock: DateTime<Utc>,
    pub inputs: u64,
    pub changes: u64,
}

/// A live state: the data, every contact's and account's current results, and the
/// moments they may next change.
pub struct Live {
    plan: Plan,
    clockwork: Clockwork,
    decays: Decays,
    contact_outputs: Vec<Output>,
    account_outputs: Vec<Output>,
    groups: Vec<Group>,
    /// Per group, the global number of each of its contacts, by row.
    global: Vec<Vec<u32>>,
    contact_ids: Ids,
    /// Per global contact number: (group, row).
    contact_at: Vec<(u32, u32)>,
    account_ids: Ids,
    /// Per global account number: its group.
    account_group: Vec<u32>,
    /// Whether contacts' account links are checked against the accounts held.
    has_accounts: bool,
    /// The contact attribute that links a contact to its account.
    link: Option<usize>,
    /// (next change time, group), one entry per group that has one.
    queue: BTreeSet<(Micros, u32)>,
    /// Per list definition, per value (`true` for segments), the members' ids.
    members: HashMap<String, BTreeMap<String, BTreeSet<String>>>,
    clock: DateTime<Utc>,
    inputs: u64,
    changes: u64,
    /// One thread for re-evaluating a group: a group is a few contacts, too few to share
    /// among threads, and handing them around costs more than the work.
    pool: Option<rayon::ThreadPool>,
}

/// Runs `f` on one thread: right here when the caller already runs on a pool of one
/// thread (as `funnel watch` does), else on the live state's own thread.
fn alone<R: Send>(pool: &Option<rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(p) if rayon::current_thread_index().is_none() || rayon::current_num_threads() > 1 => {
            p.install(f)
        }
        _ => f(),
    }
}

/// An input checked against the schema and the data held, ready to apply.
enum Checked {
    Event(EventRow),
    Contact {
        known: Option<u32>,
        row: ContactRow,
        history: Vec<(u32, Option<Value>)>,
        at: DateTime<Utc>,
    },
    Account {
        known: Option<u32>,
        row: AccountRow,
    },
    Clock,
}

fn outputs(plan: &Plan, scope: Scope) -> Vec<Output> {
    let ids: Vec<usize> = plan.outputs(scope).map(|(id, _)| id).collect();
    plan.outputs(scope)
        .map(|(_, n)| Output {
            name: n.name.clone(),
            kind: ColumnKind::of(&n.kind),
            score: match n.kind {
                NodeKind::Tiers { score, .. } => ids.iter().position(|&i| i == score),
                _ => None,
            },
        })
        .collect()
}

/// The label a list value is kept under in the member index.
fn label(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::Bool(true)) => Some("true".into()),
        Some(Value::Text(t)) => Some(t.to_string()),
        _ => None,
    }
}

fn bad_row(e: DataError) -> InputError {
    match e {
        DataError::BadRow(r) => InputError {
            field: r.column,
            reason: r.reason,
        },
        other => InputError::whole(other.to_string()),
    }
}

/// Reads one row into `table` with the data loader's checks and messages.
fn read_row(
    table: &mut dyn data::tables::Table,
    row: &Map<String, Json>,
) -> Result<(), InputError> {
    let text = Json::Object(row.clone()).to_string();
    let reader = Box::new(std::io::Cursor::new(text.into_bytes()));
    data::read(
        reader,
        "input",
        Format::Ndjson,
        table,
        &mut Sink::new(false),
    )
    .map_err(bad_row)
}

impl Live {
    /// Evaluates `plan` over `data` at `now`: the baseline, with no changes reported.
    pub fn new(plan: Plan, data: Dataset, now: DateTime<Utc>) -> Result<Live, LiveError> {
        if let Some(n) = plan
            .nodes
            .iter()
            .find(|n| matches!(n.kind, NodeKind::Top { .. }))
        {
            return Err(LiveError::Unsupported(format!(
                "the ranking `{}` (`top`) exact: a ranking depends on every contact at once; run it in batch with `funnel run`",
                n.name
            )));
        }
        let link = plan
            .schema
            .contact
            .iter()
            .position(|f| f.ty == Type::AccountLink);
        let mut live = Live {
            clockwork: Clockwork::new(&plan),
            decays: Decays::new(&plan),
            contact_outputs: outputs(&plan, Scope::Contact),
            account_outputs: outputs(&plan, Scope::Account),
            plan,
            groups: Vec::new(),
            global: Vec::new(),
            contact_ids: Ids::default(),
            contact_at: Vec::new(),
            account_ids: Ids::default(),
            account_group: Vec::new(),
            has_accounts: !data.accounts.is_empty(),
            link,
            queue: BTreeSet::new(),
            members: HashMap::new(),
            clock: now,
            inputs: 0,
            changes: 0,
            pool: rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| "funnel-live".into())
                .build()
                .ok(),
        };
        let Dataset {
            contacts,
            accounts,
            events,
            changes,
        } = data;
        for a in accounts {
            live.new_account(a);
        }
        for c in contacts.rows() {
            live.new_contact(c);
        }
        for e in events {
            if let Some(&(g, r)) = live.contact_at.get(e.contact as usize)
                && let Some(group) = live.groups.get_mut(g as usize)
            {
                group.data.events.push(EventRow { contact: r, ..e });
            }
        }
        for c in changes {
            if let Some(&(g, r)) = live.contact_at.get(c.contact as usize)
                && let Some(group) = live.groups.get_mut(g as usize)
            {
                group.data.changes.push(ChangeRow { contact: r, ..c });
            }
        }
        let (plan, clockwork, decays) = (&live.plan, &live.clockwork, &live.decays);
        let at = time::micros(now);
        live.groups
            .par_iter_mut()
            .try_for_each(|g| -> Result<(), EngineError> {
                let e = evaluate_group(plan, clockwork, decays, &g.data, now)?;
                g.held = e.contacts;
                g.held_account = e.account;
                g.next = e.next;
                g.evaluated = at;
                Ok(())
            })?;
        for g in 0..live.groups.len() {
            live.index_group(g as u32);
        }
        Ok(live)
    }

    /// As [`Live::new`], continuing the clock and counters of a checkpoint.
    pub fn restore(plan: Plan, data: Dataset, cp: Checkpoint) -> Result<Live, LiveError> {
        let mut live = Live::new(plan, data, cp.clock)?;
        live.inputs = cp.inputs;
        live.changes = cp.changes;
        Ok(live)
    }

    /// The clock and counters, to restore from.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            clock: self.clock,
            inputs: self.inputs,
            changes: self.changes,
        }
    }

    /// The live clock: results are as of this moment.
    pub fn clock(&self) -> DateTime<Utc> {
        self.clock
    }

    /// The plan the state evaluates.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Puts a new account in a group of its own.
    fn new_account(&mut self, a: AccountRow) -> u32 {
        let g = self.groups.len() as u32;
        let index = self.account_group.len() as u32;
        let _ = self.account_ids.insert(&a.id, index);
        self.account_group.push(g);
        self.groups.push(Group::of_account(a));
        self.global.push(Vec::new());
        g
    }

    /// The group a contact with these attributes belongs in: its account's, or a new
    /// one of its own.
    fn home(&mut self, row: &ContactRow) -> u32 {
        let link = self.link;
        if let Some(Some(Value::Text(a))) = link.and_then(|l| row.attrs.get(l))
            && let Some(i) = self.account_ids.get(a)
            && let Some(&g) = self.account_group.get(i as usize)
        {
            return g;
        }
        self.groups.push(Group::default());
        self.global.push(Vec::new());
        (self.groups.len() - 1) as u32
    }

    /// Adds a new contact (no data yet) to its group; returns (group, row).
    fn new_contact(&mut self, row: ContactRow) -> (u32, u32) {
        let index = self.contact_at.len() as u32;
        let _ = self.contact_ids.insert(&row.id, index);
        let g = self.home(&row);
        let r = self.place(g, index, row, Vec::new(), Vec::new(), Values::new());
        self.contact_at.push((g, r));
        (g, r)
    }

    fn place(
        &mut self,
        g: u32,
        index: u32,
        row: ContactRow,
        events: Vec<EventRow>,
        changes: Vec<ChangeRow>,
        held: Values,
    ) -> u32 {
        let r = self.groups.get_mut(g as usize).map_or(0, |group| {
            group.add(Moved {
                row,
                events,
                changes,
                held,
            })
        });
        if let Some(global) = self.global.get_mut(g as usize) {
            global.push(index);
        }
        r
    }

    /// Puts every held list membership of a group in the member index.
    fn index_group(&mut self, g: u32) {
        let Some(group) = self.groups.get(g as usize) else {
            return;
        };
        let mut add = |outputs: &[Output], id: &str, values: &Values| {
            for (out, v) in outputs.iter().zip(values) {
                if let Some(l) = label(v) {
                    self.members
                        .entry(out.name.clone())
                        .or_default()
                        .entry(l)
                        .or_default()
                        .insert(id.to_owned());
                }
            }
        };
        for (r, values) in group.held.iter().enumerate() {
            if let Some(id) = group.data.contacts.id(r) {
                add(&self.contact_outputs, id, values);
            }
        }
        if let Some(a) = group.data.accounts.first() {
            add(&self.account_outputs, &a.id, &group.held_account);
        }
        if let Some(t) = group.next {
            self.queue.insert((t, g));
        }
    }

    /// Moves the clock forward to `to` (never back) and returns the changes that time
    /// alone made up to and including `to`, in time order, each at its moment.
    pub fn advance(&mut self, to: DateTime<Utc>) -> Vec<Change> {
        let mut out = Vec::new();
        let end = time::micros(to);
        while let Some(&(t, g)) = self.queue.first() {
            if t > end {
                break;
            }
            self.queue.pop_first();
            let Some(at) = DateTime::from_timestamp_micros(t) else {
                continue;
            };
            self.clock = self.clock.max(at);
            self.reevaluate(g, &Cause::Time(TimeCause::Time), &mut out);
        }
        self.clock = self.clock.max(to);
        out
    }

    /// Re-evaluates group `g` at the clock, reports what changed (as caused by
    /// `cause`) and schedules its next change.
    fn reevaluate(&mut self, g: u32, cause: &Cause, out: &mut Vec<Change>) {
        let Some(group) = self.groups.get_mut(g as usize) else {
            return;
        };
        if let Some(t) = group.next.take() {
            self.queue.remove(&(t, g));
        }
        // Plans were evaluated once when the state was made: a plan that cannot run
        // was refused then.
        let (plan, mut clock) = (&self.plan, self.clock);
        let (clockwork, decays) = (&self.clockwork, &self.decays);
        let data = &group.data;
        let Ok(Evaluation {
            contacts,
            account,
            next,
        }) = alone(&self.pool, || {
            evaluate_group(plan, clockwork, decays, data, clock)
        })
        else {
            return;
        };
        if matches!(cause, Cause::Time(_)) {
            let lists = (&contacts, &account);
            let held = (&group.held, &group.held_account);
            let outputs = (&self.contact_outputs[..], &self.account_outputs[..]);
            if !same_lists(outputs, held, lists) {
                let since = group.evaluated;
                clock = alone(&self.pool, || {
                    first_with(plan, group, outputs, lists, since, time::micros(clock))
                })
                .unwrap_or(clock);
            }
        }
        group.evaluated = time::micros(clock);
        let mut found = Vec::new();
        for (r, after) in contacts.iter().enumerate() {
            let id = group.data.contacts.id(r).unwrap_or_default();
            change::between(
                &self.contact_outputs,
                "contact",
                id,
                group.held.get(r),
                after,
                |c| found.push(c),
            );
        }
        if let Some(a) = group.data.accounts.first() {
            let before = (!group.held_account.is_empty()).then_some(&group.held_account);
            change::between(
                &self.account_outputs,
                "account",
                &a.id,
                before,
                &account,
                |c| found.push(c),
            );
        }
        group.held = contacts;
        group.held_account = account;
        group.next = next;
        if let Some(t) = group.next {
            self.queue.insert((t, g));
        }
        for mut c in found {
            self.changes += 1;
            c.seq = self.changes;
            c.at = clock;
            c.cause = cause.clone();
            self.index_change(&c);
            out.push(c);
        }
    }

    fn index_change(&mut self, c: &Change) {
        let lists = self.members.entry(c.definition.clone()).or_default();
        let text = |v: &Option<Json>| match v {
            Some(Json::String(s)) => Some(s.clone()),
            _ => None,
        };
        let (old, new) = match c.change {
            Kind::Entered => (None, Some("true".to_owned())),
            Kind::Left => (Some("true".to_owned()), None),
            Kind::Changed => (text(&c.from), text(&c.to)),
        };
        if let Some(old) = old
            && let Some(set) = lists.get_mut(&old)
        {
            set.remove(&c.id);
        }
        if let Some(new) = new {
            lists.entry(new).or_default().insert(c.id.clone());
        }
    }

    /// Checks an input against the schema and the data held, without applying it.
    pub fn validate(&self, input: &Input) -> Result<(), InputError> {
        self.check(input).map(|_| ())
    }

    fn check(&self, input: &Input) -> Result<Checked, InputError> {
        let schema = &self.plan.schema;
        match input {
            Input::Event(row) => {
                let mut events = Events::new(schema, &self.contact_ids, "contacts");
                read_row(&mut events, row)?;
                events
                    .rows
                    .pop()
                    .map(Checked::Event)
                    .ok_or_else(|| InputError::whole("an empty event, expected one row"))
            }
            Input::Contact { id, at, attrs } => {
                let known = self.contact_ids.get(id);
                let mut row = match known.and_then(|c| self.contact_row(c)) {
                    Some(old) => entity_json(id, &schema.contact, &old.attrs),
                    None => entity_json(id, &schema.contact, &[]),
                };
                row.extend(attrs.clone());
                let accounts = self.has_accounts.then_some((&self.account_ids, "accounts"));
                let mut table = Entities::contacts(schema, accounts, None);
                read_row(&mut table, &row)?;
                let row = table
                    .into_contacts()
                    .row(0)
                    .ok_or_else(|| InputError::whole("an empty contact, expected one row"))?;
                let history = schema
                    .contact
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.history && attrs.contains_key(&f.name))
                    .map(|(i, _)| (i as u32, row.attrs.get(i).cloned().flatten()))
                    .collect();
                Ok(Checked::Contact {
                    known,
                    row,
                    history,
                    at: at.unwrap_or(self.clock),
                })
            }
            Input::Account { id, attrs } => {
                if !self.has_accounts && self.any_link() {
                    return Err(InputError::whole(
                        "the data has no accounts file while its contacts name accounts, so accounts cannot be added live; add an accounts file to the data folder",
                    ));
                }
                let known = self.account_ids.get(id);
                let old = known
                    .and_then(|a| self.account_group.get(a as usize))
                    .and_then(|&g| self.groups.get(g as usize))
                    .and_then(|g| g.data.accounts.first());
                let mut row = match old {
                    Some(old) => entity_json(id, &schema.account, &old.attrs),
                    None => entity_json(id, &schema.account, &[]),
                };
                row.extend(attrs.clone());
                let mut table = Entities::accounts(schema);
                read_row(&mut table, &row)?;
                let row = table
                    .into_accounts()
                    .pop()
                    .ok_or_else(|| InputError::whole("an empty account, expected one row"))?;
                Ok(Checked::Account { known, row })
            }
            Input::Clock(_) => Ok(Checked::Clock),
        }
    }

    /// Whether some contact names an account.
    fn any_link(&self) -> bool {
        let Some(link) = self.link else {
            return false;
        };
        self.groups.iter().any(|g| {
            g.data
                .contacts
                .rows()
                .any(|r| r.attrs.get(link).is_some_and(Option::is_some))
        })
    }

    fn contact_row(&self, c: u32) -> Option<ContactRow> {
        let &(g, r) = self.contact_at.get(c as usize)?;
        self.groups.get(g as usize)?.data.contacts.row(r as usize)
    }

    /// Applies an input: first moves the clock to the input's time when that is later
    /// (the changes time makes until then come first), then applies it and reports the
    /// changes it caused, at the clock. A refused input changes nothing.
    pub fn apply(&mut self, input: &Input) -> Result<Vec<Change>, InputError> {
        let now = input.at().map_or(self.clock, |at| at.max(self.clock));
        self.apply_at(input, now)
    }

    /// Applies an input on a real clock: first moves the clock to `now` (the changes
    /// time makes until then come first), then applies the input at the clock, whatever
    /// its own time (an event dated later counts from its time on, as in batch).
    pub fn apply_at(
        &mut self,
        input: &Input,
        now: DateTime<Utc>,
    ) -> Result<Vec<Change>, InputError> {
        let checked = self.check(input)?;
        let mut out = self.advance(now);
        self.inputs += 1;
        let cause = Cause::Input {
            input: self.inputs,
            what: input.what(),
        };
        for g in self.apply_checked(checked) {
            self.reevaluate(g, &cause, &mut out);
        }
        Ok(out)
    }

    /// The earliest moment some group is due to be re-evaluated with no input.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let &(t, _) = self.queue.first()?;
        DateTime::from_timestamp_micros(t)
    }

    /// Changes the data; returns the groups to re-evaluate.
    fn apply_checked(&mut self, checked: Checked) -> Vec<u32> {
        match checked {
            Checked::Clock => Vec::new(),
            Checked::Event(e) => {
                let Some(&(g, r)) = self.contact_at.get(e.contact as usize) else {
                    return Vec::new();
                };
                if let Some(group) = self.groups.get_mut(g as usize) {
                    group.data.events.push(EventRow { contact: r, ..e });
                }
                vec![g]
            }
            Checked::Contact {
                known,
                row,
                history,
                at,
            } => {
                let attrs = self.plan.schema.contact.len();
                let (g, r, old) = match known
                    .and_then(|c| Some((c, *self.contact_at.get(c as usize)?)))
                {
                    None => {
                        let (g, r) = self.new_contact(row);
                        (g, r, None)
                    }
                    Some((c, (g, r))) => {
                        let home = self.home_of_known(&row, g);
                        if home == g {
                            if let Some(group) = self.groups.get_mut(g as usize) {
                                group.set_contact(r, row, attrs);
                            }
                            (g, r, None)
                        } else {
                            let moved = self.take(g, r);
                            let r2 = match moved {
                                Some(m) => self.place(home, c, row, m.events, m.changes, m.held),
                                None => 0,
                            };
                            if let Some(at) = self.contact_at.get_mut(c as usize) {
                                *at = (home, r2);
                            }
                            (home, r2, Some(g))
                        }
                    }
                };
                if let Some(group) = self.groups.get_mut(g as usize) {
                    group
                        .data
                        .changes
                        .extend(history.into_iter().map(|(attr, value)| ChangeRow {
                            contact: r,
                            attr,
                            value,
                            at,
                        }));
                }
                old.into_iter().chain([g]).collect()
            }
            Checked::Account { known, row } => {
                self.has_accounts = true;
                match known.and_then(|a| self.account_group.get(a as usize).copied()) {
                    Some(g) => {
                        if let Some(a) = self
                            .groups
                            .get_mut(g as usize)
                            .and_then(|group| group.data.accounts.first_mut())
                        {
                            *a = row;
                        }
                        vec![g]
                    }
                    None => vec![self.new_account(row)],
                }
            }
        }
    }

    /// The group a known contact in group `g` belongs in with new attributes: `g` when
    /// its account is unchanged (or it has none and stays alone).
    fn home_of_known(&mut self, row: &ContactRow, g: u32) -> u32 {
        let link = self.link;
        let account = |r: &ContactRow| match link.and_then(|l| r.attrs.get(l)) {
            Some(Some(Value::Text(a))) if self.account_ids.contains(a) => Some(a.clone()),
            _ => None,
        };
        let current = self
            .groups
            .get(g as usize)
            .and_then(|group| group.data.accounts.first())
            .map(|a| a.id.clone());
        match (account(row), current) {
            (Some(new), Some(cur)) if *new == *cur => g,
            (None, None) => g,
            _ => self.home(row),
        }
    }

    /// Takes contact row `r` out of group `g`, renumbering the rows after it.
    fn take(&mut self, g: u32, r: u32) -> Option<Moved> {
        let attrs = self.plan.schema.contact.len();
        let moved = self.groups.get_mut(g as usize)?.remove(r, attrs)?;
        if let Some(global) = self.global.get_mut(g as usize) {
            if (r as usize) < global.len() {
                global.remove(r as usize);
            }
            for (row, &c) in global.iter().enumerate() {
                if let Some(at) = self.contact_at.get_mut(c as usize) {
                    *at = (g, row as u32);
                }
            }
        }
        Some(moved)
    }

    fn locate(&self, id: &str) -> Option<(&Group, u32)> {
        let c = self.contact_ids.get(id)?;
        let &(g, r) = self.contact_at.get(c as usize)?;
        Some((self.groups.get(g as usize)?, r))
    }

    fn account_of(&self, id: &str) -> Option<&Group> {
        let a = self.account_ids.get(id)?;
        self.groups
            .get(*self.account_group.get(a as usize)? as usize)
    }

    /// A contact's results at the clock: (definition, value) in definition order.
    pub fn contact(&self, id: &str) -> Option<Vec<(String, Json)>> {
        let (group, r) = self.locate(id)?;
        let results = alone(&self.pool, || group.evaluate(&self.plan, self.clock)).ok()?;
        let values = rows(&results.contacts).into_iter().nth(r as usize)?;
        Some(named(&self.contact_outputs, values))
    }

    /// An account's results at the clock.
    pub fn account(&self, id: &str) -> Option<Vec<(String, Json)>> {
        let group = self.account_of(id)?;
        let results = alone(&self.pool, || group.evaluate(&self.plan, self.clock)).ok()?;
        let values = rows(&results.accounts).into_iter().next()?;
        Some(named(&self.account_outputs, values))
    }

    /// Why a contact has its results at the clock: the JSON of `funnel explain`.
    pub fn explain(&self, id: &str) -> Option<Json> {
        let (group, r) = self.locate(id)?;
        alone(&self.pool, || {
            let ev = crate::engine::columnar::evaluate_dataset(&self.plan, &group.data, self.clock)
                .ok()?;
            serde_json::to_value(crate::engine::explain::explain(&ev.ctx, &ev.state, r)).ok()
        })
    }

    /// The members of a segment, or of one band of a tier or one persona (`value`),
    /// ids ascending: those after `after`, at most `limit`.
    pub fn members(
        &self,
        definition: &str,
        value: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, LiveError> {
        let lists: Vec<&Output> = self
            .contact_outputs
            .iter()
            .chain(&self.account_outputs)
            .filter(|o| {
                matches!(
                    o.kind,
                    ColumnKind::Segment | ColumnKind::Tier | ColumnKind::Persona
                )
            })
            .collect();
        if !lists.iter().any(|o| o.name == definition) {
            return Err(LiveError::Unknown(
                definition.to_owned(),
                data::validate::did_you_mean(definition, lists.iter().map(|o| o.name.as_str())),
            ));
        }
        let key = value.unwrap_or("true");
        let Some(set) = self.members.get(definition).and_then(|m| m.get(key)) else {
            return Ok(Vec::new());
        };
        let from = match after {
            Some(a) => std::ops::Bound::Excluded(a.to_owned()),
            None => std::ops::Bound::Unbounded,
        };
        Ok(set
            .range((from, std::ops::Bound::Unbounded))
            .take(limit)
            .cloned()
            .collect())
    }

    /// The next moment the contact's group is re-evaluated with no input: its results
    /// cannot change before it.
    pub fn next_change(&self, id: &str) -> Option<DateTime<Utc>> {
        let (group, _) = self.locate(id)?;
        DateTime::from_timestamp_micros(group.next?)
    }

    /// The data held, as one data set (contacts in the order they were first seen).
    pub fn dataset(&self) -> Dataset {
        let mut out = Dataset::default();
        let mut accounts: Vec<AccountRow> = Vec::new();
        for &g in &self.account_group {
            if let Some(a) = self
                .groups
                .get(g as usize)
                .and_then(|g| g.data.accounts.first())
            {
                accounts.push(a.clone());
            }
        }
        out.accounts = accounts;
        for c in 0..self.contact_at.len() as u32 {
            if let Some(row) = self.contact_row(c) {
                out.contacts.push(row);
            }
        }
        for (group, global) in self.groups.iter().zip(&self.global) {
            let global = |r: u32| global.get(r as usize).copied().unwrap_or(0);
            out.events
                .extend(group.data.events.iter().map(|e| EventRow {
                    contact: global(e.contact),
                    ..e.clone()
                }));
            out.changes
                .extend(group.data.changes.iter().map(|c| ChangeRow {
                    contact: global(c.contact),
                    ..c.clone()
                }));
        }
        out
    }

    /// Writes the data held as an NDJSON data folder into `dir` (which must exist), which
    /// `funnel run --data` reads back.
    pub fn write_data(&self, dir: &Path) -> std::io::Result<()> {
        write_ndjson(&self.plan.schema, &self.dataset(), self.has_accounts, dir)
    }
}

/// Whether two sets of results hold the same lists (segments, tiers, personas).
fn same_lists(
    outputs: (&[Output], &[Output]),
    a: (&Vec<Values>, &Values),
    b: (&Vec<Values>, &Values),
) -> bool {
    let row = |outs: &[Output], x: &Values, y: &Values| {
        outs.iter().enumerate().all(|(i, o)| {
            o.kind == ColumnKind::Score || o.kind == ColumnKind::Value || x.get(i) == y.get(i)
        })
    };
    a.0.len() == b.0.len()
        && a.0.iter().zip(b.0).all(|(x, y)| row(outputs.0, x, y))
        && (a.1.is_empty() || b.1.is_empty() || row(outputs.1, a.1, b.1))
}

/// The first moment in `(since, until]` at which a group holds the lists `lists`
/// (which it holds at `until`), by bisection with the engine: where a change found at
/// a scheduled moment in fact came earlier (a decayed score's moment is found on a
/// model of the engine's arithmetic, and may miss by a rounding).
fn first_with(
    plan: &Plan,
    group: &Group,
    outputs: (&[Output], &[Output]),
    lists: (&Vec<Values>, &Values),
    since: Micros,
    until: Micros,
) -> Option<DateTime<Utc>> {
    let holds = |t: Micros| -> bool {
        let Some(at) = DateTime::from_timestamp_micros(t) else {
            return false;
        };
        group.evaluate(plan, at).is_ok_and(|r| {
            let contacts = rows(&r.contacts);
            let account = rows(&r.accounts).into_iter().next().unwrap_or_default();
            same_lists(outputs, (&contacts, &account), lists)
        })
    };
    if until - 1 <= since || !holds(until - 1) {
        return None;
    }
    let (mut lo, mut hi) = (since, until - 1);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if holds(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp_micros(hi)
}

/// A group evaluated at a moment: its contacts' and account's results, and the next
/// moment they may change with no input.
struct Evaluation {
    contacts: Vec<Values>,
    account: Values,
    next: Option<Micros>,
}

/// Evaluates a group's data at `at` with the engine, and finds its next change: the
/// next moment of the clockwork, or earlier where a decayed score moves a list.
fn evaluate_group(
    plan: &Plan,
    clockwork: &Clockwork,
    decays: &Decays,
    data: &Dataset,
    at: DateTime<Utc>,
) -> Result<Evaluation, EngineError> {
    let Evaluated { ctx, state } = crate::engine::columnar::evaluate_dataset(plan, data, at)?;
    let micros = time::micros(at);
    let discrete = clockwork.next(plan, data, micros);
    let before = discrete.unwrap_or_else(|| micros.saturating_add(decays.horizon()));
    let decayed = decays.next(plan, &ctx, &state, micros, before);
    let next = match (discrete, decayed) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let results = collect(
        &ctx,
        State {
            aggs: Vec::new(),
            nodes: state.nodes,
        },
    );
    Ok(Evaluation {
        contacts: rows(&results.contacts),
        account: rows(&results.accounts)
            .into_iter()
            .next()
            .unwrap_or_default(),
        next,
    })
}

fn named(outputs: &[Output], values: Values) -> Vec<(String, Json)> {
    outputs
        .iter()
        .zip(values)
        .map(|(o, v)| {
            (
                o.name.clone(),
                v.as_ref().map_or(Json::Null, crate::engine::results::json),
            )
        })
        .collect()
}
