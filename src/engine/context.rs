//! Everything a run needs at hand: the dataset indexed for the plan (events per
//! contact in time order, account links, change logs), moment instants, name lookups
//! and compiled regular expressions.

use super::data::{ChangeRow, Dataset};
use super::time::{self, Micros};
use crate::plan::schema::Type;
use crate::plan::types::{EventSel, Value};
use crate::plan::walk::Site;
use crate::plan::{Expr, NodeKind, Plan, ScoreBody};
use chrono::{DateTime, Utc};
use regex::Regex;
use std::collections::HashMap;

/// Why a plan cannot run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid regular expression `/{pattern}/{flags}`: {reason}")]
    Regex {
        pattern: String,
        flags: String,
        reason: String,
    },
    #[error(
        "the plan reads {0}, which it does not define; recompile it from the rules with `funnel compile`"
    )]
    Unknown(String),
    #[error("the engine cannot run {0}; recompile the plan from the rules with `funnel compile`")]
    Unsupported(String),
}

/// Names to indices, hashed with a fast hasher (`foldhash`): looked up per evaluation.
pub type Names = HashMap<String, usize, foldhash::fast::FixedState>;

/// One copy of each distinct text met, so that equal texts share it: the few distinct
/// values of most attributes then stay in cache when read for every contact. Other
/// values are kept where they are (reading one is one access either way).
#[derive(Debug, Clone, Default)]
struct Shared<'d> {
    seen: HashMap<&'d str, &'d Value, foldhash::fast::FixedState>,
}

impl<'d> Shared<'d> {
    /// The shared copy of a text equal to `v` (`v` itself the first time, and for any
    /// other value).
    fn get(&mut self, v: Option<&'d Value>) -> Option<&'d Value> {
        match v? {
            Value::Text(t) => Some(self.seen.entry(t).or_insert(v?)),
            other => Some(other),
        }
    }
}

/// The change logs of contact attributes, indexed densely by (attribute, contact): the
/// entries of one attribute of one contact are adjacent, in time order (file order
/// among equal times), and found by two array reads.
#[derive(Debug, Default)]
pub struct Changes<'d> {
    /// Per contact attribute, its slot among the attributes that have changes.
    slot: Vec<Option<usize>>,
    contacts: usize,
    /// The entries of slot `s`, contact `c` are `entries[start[k]..start[k + 1]]`,
    /// `k = s * contacts + c`.
    start: Vec<usize>,
    /// (at, new value).
    entries: Vec<(Micros, Option<&'d Value>)>,
}

impl<'d> Changes<'d> {
    /// Indexes `changes` of `contacts` contacts (a counting sort by attribute and
    /// contact, then a stable sort by time of each log not already in time order).
    /// Changes of a contact index out of range are left out.
    pub fn new(changes: &'d [ChangeRow], contacts: usize) -> Changes<'d> {
        let mut slot: Vec<Option<usize>> = Vec::new();
        let mut slots = 0;
        for c in changes {
            let a = c.attr as usize;
            if slot.len() <= a {
                slot.resize(a + 1, None);
            }
            if let Some(s @ None) = slot.get_mut(a) {
                *s = Some(slots);
                slots += 1;
            }
        }
        let key = |c: &ChangeRow| -> Option<usize> {
            let s = (*slot.get(c.attr as usize)?)?;
            ((c.contact as usize) < contacts).then(|| s * contacts + c.contact as usize)
        };
        let mut start = vec![0usize; slots * contacts + 1];
        for k in changes.iter().filter_map(key) {
            if let Some(n) = start.get_mut(k + 1) {
                *n += 1;
            }
        }
        for i in 1..start.len() {
            let prev = start.get(i - 1).copied().unwrap_or(0);
            if let Some(n) = start.get_mut(i) {
                *n += prev;
            }
        }
        let mut next = start.clone();
        let mut entries = vec![(0, None); start.last().copied().unwrap_or(0)];
        let mut shared = vec![Shared::default(); slots];
        for c in changes {
            if let Some(k) = key(c)
                && let Some(pos) = next.get_mut(k)
                && let Some(e) = entries.get_mut(*pos)
                && let Some(shared) = shared.get_mut(k / contacts.max(1))
            {
                *e = (time::micros(c.at), shared.get(c.value.as_ref()));
                *pos += 1;
            }
        }
        for w in start.windows(2) {
            if let [a, b] = *w
                && let Some(log) = entries.get_mut(a..b)
                && !log.is_sorted_by_key(|(at, _)| *at)
            {
                log.sort_by_key(|(at, _)| *at);
            }
        }
        Changes {
            slot,
            contacts,
            start,
            entries,
        }
    }

    /// The change log of attribute `attr` of contact `c`, in time order (empty when it
    /// has none).
    pub fn log(&self, c: u32, attr: usize) -> &[(Micros, Option<&'d Value>)] {
        let c = c as usize;
        let Some(Some(s)) = self.slot.get(attr) else {
            return &[];
        };
        if c >= self.contacts {
            return &[];
        }
        let k = s * self.contacts + c;
        match (self.start.get(k), self.start.get(k + 1)) {
            (Some(&a), Some(&b)) => self.entries.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// A run's dataset and plan, indexed.
pub struct Context<'a> {
    pub plan: &'a Plan,
    pub data: &'a Dataset,
    pub now: DateTime<Utc>,
    /// Instant of each plan moment.
    pub moments: Vec<DateTime<Utc>>,
    /// The same instants in microseconds, read once per attribute evaluated.
    moment_micros: Vec<Micros>,
    /// Per contact, its events' indices in time order (file order among equal times);
    /// empty when the data set has no events or the context was built
    /// [`without_events`](Context::without_events).
    pub events_of: Vec<Vec<u32>>,
    /// Per contact, the index of its account.
    pub account_of: Vec<Option<u32>>,
    /// Per account, its contacts' indices.
    pub contacts_of: Vec<Vec<u32>>,
    /// Per (contact, attribute), the change log in time order.
    pub changes: Changes<'a>,
    pub contact_attr: Names,
    pub account_attr: Names,
    /// Per event type, field name → index.
    pub event_fields: Vec<Names>,
    pub event_type: HashMap<String, u32>,
    /// Compiled regexes by (pattern, flags); few, so looked up without allocating.
    regexes: Vec<(String, String, Regex)>,
}

impl<'a> Context<'a> {
    /// Indexes `data` for `plan` at `now`, its events per contact included; compiles
    /// every regular expression once.
    pub fn new(plan: &'a Plan, data: &'a Dataset, now: DateTime<Utc>) -> Result<Self, EngineError> {
        Context::build(plan, data, now, true)
    }

    /// Like [`Context::new`], without indexing `data.events` (for an engine that holds
    /// the events apart, already aggregated).
    pub fn without_events(
        plan: &'a Plan,
        data: &'a Dataset,
        now: DateTime<Utc>,
    ) -> Result<Self, EngineError> {
        Context::build(plan, data, now, false)
    }

    fn build(
        plan: &'a Plan,
        data: &'a Dataset,
        now: DateTime<Utc>,
        with_events: bool,
    ) -> Result<Self, EngineError> {
        let schema = &plan.schema;
        let moments: Vec<DateTime<Utc>> = plan
            .moments
            .iter()
            .map(|m| time::moment_instant(m, now))
            .collect();
        let moment_micros = moments.iter().map(|&m| time::micros(m)).collect();
        let now_micros = time::micros(now);
        let events = if with_events { &data.events[..] } else { &[] };
        let mut events_of = match events.is_empty() {
            true => Vec::new(),
            false => vec![Vec::new(); data.contacts.len()],
        };
        for (i, e) in events.iter().enumerate() {
            if time::micros(e.at) > now_micros {
                continue;
            }
            if let Some(list) = events_of.get_mut(e.contact as usize) {
                list.push(i as u32);
            }
        }
        for list in &mut events_of {
            list.sort_by_key(|&i| data.events.get(i as usize).map(|e| e.at));
        }
        let account_ids: HashMap<&str, u32, foldhash::fast::FixedState> = data
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i as u32))
            .collect();
        let link = schema
            .contact
            .iter()
            .position(|f| f.ty == Type::AccountLink);
        let mut contacts_of = vec![Vec::new(); data.accounts.len()];
        let account_of: Vec<Option<u32>> = (0..data.contacts.len())
            .map(|ci| {
                let id = match link.and_then(|l| data.contacts.get(ci, l)) {
                    Some(Value::Text(id)) => account_ids.get(&**id).copied(),
                    _ => None,
                };
                if let Some(a) = id.and_then(|a| contacts_of.get_mut(a as usize)) {
                    a.push(ci as u32);
                }
                id
            })
            .collect();
        let changes = Changes::new(&data.changes, data.contacts.len());
        let contact_attr = index(schema.contact.iter().map(|f| f.name.as_str()));
        let mut ctx = Context {
            plan,
            data,
            now,
            moments,
            moment_micros,
            events_of,
            account_of,
            contacts_of,
            changes,
            contact_attr,
            account_attr: index(schema.account.iter().map(|f| f.name.as_str())),
            event_fields: schema
                .events
                .iter()
                .map(|e| index(e.fields.iter().map(|f| f.name.as_str())))
                .collect(),
            event_type: schema
                .events
                .iter()
                .enumerate()
                .map(|(i, e)| (e.name.clone(), i as u32))
                .collect(),
            regexes: Vec::new(),
        };
        ctx.validate()?;
        ctx.compile_regexes()?;
        Ok(ctx)
    }

    /// The instant of moment `m` in microseconds (`now` for an unknown moment).
    pub fn micros_at(&self, m: usize) -> Micros {
        self.moment_micros
            .get(m)
            .copied()
            .unwrap_or_else(|| time::micros(self.now))
    }

    /// The compiled regex of a `matches` expression.
    pub fn regex(&self, pattern: &str, flags: &str) -> Option<&Regex> {
        self.regexes
            .iter()
            .find(|(p, f, _)| p == pattern && f == flags)
            .map(|(_, _, re)| re)
    }

    fn compile_regexes(&mut self) -> Result<(), EngineError> {
        let mut found = Vec::new();
        for (_, e) in self.plan.exprs() {
            e.walk(&mut |x| {
                if let Expr::Matches { pattern, flags, .. } = x {
                    found.push((pattern.clone(), flags.clone()));
                }
            });
        }
        for (pattern, flags) in found {
            if self.regex(&pattern, &flags).is_none() {
                let re = compiled(&pattern, &flags)?;
                self.regexes.push((pattern, flags, re));
            }
        }
        Ok(())
    }
}

/// A regex as the engine runs it (compiled once per process by [`crate::limits::regex`]).
fn compiled(pattern: &str, flags: &str) -> Result<Regex, EngineError> {
    crate::limits::regex(pattern, flags).map_err(|e| EngineError::Regex {
        pattern: pattern.to_owned(),
        flags: flags.to_owned(),
        reason: e.to_string(),
    })
}

impl Context<'_> {
    /// Checks that every name and index the plan uses exists, so that a plan edited by
    /// hand or written for another schema fails loudly instead of reading missing values.
    fn validate(&self) -> Result<(), EngineError> {
        let plan = self.plan;
        let unknown = |what: String| Err(EngineError::Unknown(what));
        let fields_of = |sel: &EventSel| -> Vec<&Names> {
            match sel {
                EventSel::Any => self.event_fields.iter().collect(),
                EventSel::Type(t) => self
                    .event_type
                    .get(t)
                    .and_then(|i| self.event_fields.get(*i as usize))
                    .into_iter()
                    .collect(),
            }
        };
        for a in &plan.aggregates {
            if let EventSel::Type(t) = &a.event
                && !self.event_type.contains_key(t)
            {
                return unknown(format!("the event type `{t}`"));
            }
            if let Some(f) = a.kind.field()
                && !fields_of(&a.event).iter().any(|m| m.contains_key(f))
            {
                return unknown(format!("the event field `{f}` in `{}`", a.label));
            }
        }
        for n in &plan.nodes {
            match &n.kind {
                NodeKind::Tiers { score, .. } if *score >= plan.nodes.len() => {
                    return unknown(format!("node {score} (the score of tiers `{}`)", n.name));
                }
                NodeKind::Score(score) => {
                    let ScoreBody::Groups(gs) = &score.body else {
                        continue;
                    };
                    for r in gs.iter().flat_map(|g| &g.rules) {
                        if let crate::plan::RuleKind::Per { points_of, count } = r.kind
                            && points_of.max(count) >= plan.aggregates.len()
                        {
                            return unknown(format!(
                                "an aggregate missing from score `{}`",
                                n.name
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        let mut problem = None;
        for (site, e) in plan.exprs() {
            let fields = match site {
                Site::Filter(a) => plan.aggregates.get(a).map(|a| fields_of(&a.event)),
                Site::Node(_) => None,
            };
            e.walk(&mut |x| {
                if problem.is_some() {
                    return;
                }
                problem = match x {
                    Expr::Attr { name, .. }
                    | Expr::Was { attr: name, .. }
                    | Expr::Changed { attr: name, .. }
                        if !self.contact_attr.contains_key(name) =>
                    {
                        Some(format!("the contact attribute `{name}`"))
                    }
                    Expr::AccountAttr(name) if !self.account_attr.contains_key(name) => {
                        Some(format!("the account attribute `{name}`"))
                    }
                    Expr::Field(name)
                        if !fields
                            .as_ref()
                            .is_some_and(|fs| fs.iter().any(|m| m.contains_key(name))) =>
                    {
                        Some(format!("the event field `{name}`"))
                    }
                    Expr::Node(i) | Expr::AccountNode(i) if *i >= plan.nodes.len() => {
                        Some(format!("node {i}"))
                    }
                    Expr::Agg(i) if *i >= plan.aggregates.len() => Some(format!("aggregate {i}")),
                    _ => None,
                };
            });
        }
        match problem {
            Some(what) => unknown(what),
            None => Ok(()),
        }
    }
}

fn index<'s>(names: impl Iterator<Item = &'s str>) -> Names {
    names.enumerate().map(|(i, n)| (n.to_string(), i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn change(contact: u32, attr: u32, value: i64, at: i64) -> ChangeRow {
        ChangeRow {
            contact,
            attr,
            value: Some(Value::Int(value)),
            at: Utc.timestamp_opt(at, 0).unwrap(),
        }
    }

    type Log = Vec<(Micros, Option<Value>)>;

    /// The logs as a map from (contact, attribute), the way they were kept before.
    fn by_map(changes: &[ChangeRow]) -> HashMap<(u32, u32), Log> {
        let mut map: HashMap<(u32, u32), Vec<_>> = HashMap::new();
        for c in changes {
            map.entry((c.contact, c.attr))
                .or_default()
                .push((time::micros(c.at), c.value.clone()));
        }
        for log in map.values_mut() {
            log.sort_by_key(|(at, _)| *at);
        }
        map
    }

    fn owned(log: &[(Micros, Option<&Value>)]) -> Log {
        log.iter().map(|(at, v)| (*at, v.cloned())).collect()
    }

    #[test]
    fn change_logs_by_contact_and_attribute() {
        let changes = vec![
            change(2, 5, 1, 30),
            change(0, 1, 2, 20),
            change(2, 5, 3, 10),
            change(0, 5, 4, 10),
            change(2, 1, 5, 40),
            change(2, 5, 6, 10),
            change(9, 1, 7, 10), // a contact out of range
        ];
        let idx = Changes::new(&changes, 3);
        let at = |s: i64| s * 1_000_000;
        let values = |c, a| -> Log { owned(idx.log(c, a)) };
        let v = |x: i64| Some(Value::Int(x));
        // Time order, file order among equal times; first and last contact.
        assert_eq!(
            values(2, 5),
            vec![(at(10), v(3)), (at(10), v(6)), (at(30), v(1))]
        );
        assert_eq!(values(0, 1), vec![(at(20), v(2))]);
        assert_eq!(values(0, 5), vec![(at(10), v(4))]);
        assert_eq!(values(2, 1), vec![(at(40), v(5))]);
        // A contact without changes, an attribute without any, indices out of range.
        assert!(idx.log(1, 1).is_empty());
        assert!(idx.log(1, 5).is_empty());
        assert!(idx.log(0, 3).is_empty());
        assert!(idx.log(0, 99).is_empty());
        assert!(idx.log(3, 1).is_empty());
        assert!(idx.log(9, 1).is_empty());
    }

    #[test]
    fn no_changes_or_no_contacts() {
        assert!(Changes::new(&[], 4).log(0, 0).is_empty());
        let changes = [change(0, 0, 1, 1)];
        assert!(Changes::new(&changes, 0).log(0, 0).is_empty());
    }

    proptest! {
        #[test]
        fn same_logs_as_a_map(
            raw in prop::collection::vec((0u32..6, 0u32..4, 0i64..5, 0i64..8), 0..60),
            contacts in 0usize..7,
        ) {
            let changes: Vec<ChangeRow> =
                raw.iter().map(|&(c, a, v, t)| change(c, a, v, t)).collect();
            let idx = Changes::new(&changes, contacts);
            let map = by_map(&changes);
            for c in 0..8u32 {
                for a in 0..5u32 {
                    let want = if (c as usize) < contacts {
                        map.get(&(c, a)).cloned().unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    prop_assert_eq!(owned(idx.log(c, a as usize)), want);
                }
            }
        }
    }
}
