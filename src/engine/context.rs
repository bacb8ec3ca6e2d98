//! Everything a run needs at hand: the dataset indexed for the plan (events per
//! contact in time order, account links, change logs), moment instants, name lookups
//! and compiled regular expressions.

use super::data::Dataset;
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
}

/// One attribute's changes for one contact, in time order: (at, new value).
pub type ChangeLog = Vec<(Micros, Option<Value>)>;

/// A run's dataset and plan, indexed.
pub struct Context<'a> {
    pub plan: &'a Plan,
    pub data: &'a Dataset,
    pub now: DateTime<Utc>,
    /// Instant of each plan moment.
    pub moments: Vec<DateTime<Utc>>,
    /// Per contact, its events' indices in time order (file order among equal times).
    pub events_of: Vec<Vec<u32>>,
    /// Per contact, the index of its account.
    pub account_of: Vec<Option<u32>>,
    /// Per account, its contacts' indices.
    pub contacts_of: Vec<Vec<u32>>,
    /// Per (contact, attribute), the change log in time order: (at, value).
    pub changes: HashMap<(u32, u32), ChangeLog>,
    pub contact_attr: HashMap<String, usize>,
    pub account_attr: HashMap<String, usize>,
    /// Per event type, field name → index.
    pub event_fields: Vec<HashMap<String, usize>>,
    pub event_type: HashMap<String, u32>,
    /// Compiled regexes by (pattern, flags); few, so looked up without allocating.
    regexes: Vec<(String, String, Regex)>,
}

impl<'a> Context<'a> {
    /// Indexes `data` for `plan` at `now`; compiles every regular expression once.
    pub fn new(plan: &'a Plan, data: &'a Dataset, now: DateTime<Utc>) -> Result<Self, EngineError> {
        let schema = &plan.schema;
        let moments = plan
            .moments
            .iter()
            .map(|m| time::moment_instant(m, now))
            .collect();
        let now_micros = time::micros(now);
        let mut events_of = vec![Vec::new(); data.contacts.len()];
        for (i, e) in data.events.iter().enumerate() {
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
        let account_ids: HashMap<&str, u32> = data
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
        let account_of: Vec<Option<u32>> = data
            .contacts
            .iter()
            .enumerate()
            .map(|(ci, c)| {
                let id = match link.and_then(|l| c.attrs.get(l)) {
                    Some(Some(Value::Text(id))) => account_ids.get(id.as_str()).copied(),
                    _ => None,
                };
                if let Some(a) = id.and_then(|a| contacts_of.get_mut(a as usize)) {
                    a.push(ci as u32);
                }
                id
            })
            .collect();
        let mut changes: HashMap<(u32, u32), ChangeLog> = HashMap::new();
        for c in &data.changes {
            changes
                .entry((c.contact, c.attr))
                .or_default()
                .push((time::micros(c.at), c.value.clone()));
        }
        for log in changes.values_mut() {
            log.sort_by_key(|(at, _)| *at);
        }
        let mut ctx = Context {
            plan,
            data,
            now,
            moments,
            events_of,
            account_of,
            contacts_of,
            changes,
            contact_attr: index(schema.contact.iter().map(|f| f.name.as_str())),
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
            let re = regex::RegexBuilder::new(&pattern)
                .case_insensitive(flags.contains('i'))
                .multi_line(flags.contains('m'))
                .dot_matches_new_line(flags.contains('s'))
                .ignore_whitespace(flags.contains('x'))
                .size_limit(1 << 20)
                .build()
                .map_err(|e| EngineError::Regex {
                    pattern: pattern.clone(),
                    flags: flags.clone(),
                    reason: e.to_string(),
                })?;
            if self.regex(&pattern, &flags).is_none() {
                self.regexes.push((pattern, flags, re));
            }
        }
        Ok(())
    }
}

impl Context<'_> {
    /// Checks that every name and index the plan uses exists, so that a plan edited by
    /// hand or written for another schema fails loudly instead of reading missing values.
    fn validate(&self) -> Result<(), EngineError> {
        let plan = self.plan;
        let unknown = |what: String| Err(EngineError::Unknown(what));
        let fields_of = |sel: &EventSel| -> Vec<&HashMap<String, usize>> {
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

fn index<'s>(names: impl Iterator<Item = &'s str>) -> HashMap<String, usize> {
    names.enumerate().map(|(i, n)| (n.to_string(), i)).collect()
}
