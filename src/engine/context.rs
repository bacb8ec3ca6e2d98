//! Everything a run needs at hand: the dataset indexed for the plan (events per
//! contact in time order, account links, change logs), moment instants, name lookups
//! and compiled regular expressions.

use super::data::Dataset;
use super::time::{self, Micros};
use crate::plan::schema::Type;
use crate::plan::types::Value;
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
    #[error("the plan names `{0}`, which its schema does not define")]
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
        for a in &self.plan.aggregates {
            if let Some(f) = &a.filter {
                collect_regexes(f, &mut found);
            }
        }
        for n in &self.plan.nodes {
            match &n.kind {
                NodeKind::Segment(e) | NodeKind::Value(e) | NodeKind::Top { by: e, .. } => {
                    collect_regexes(e, &mut found)
                }
                NodeKind::Score(s) => match &s.body {
                    ScoreBody::Expr(e) => collect_regexes(e, &mut found),
                    ScoreBody::Groups(gs) => {
                        for r in gs.iter().flat_map(|g| &g.rules) {
                            if let crate::plan::RuleKind::If(e) = &r.kind {
                                collect_regexes(e, &mut found);
                            }
                        }
                    }
                },
                NodeKind::Personas(ps) => {
                    ps.iter().for_each(|p| collect_regexes(&p.cond, &mut found))
                }
                NodeKind::Tiers { .. } => {}
            }
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

fn index<'s>(names: impl Iterator<Item = &'s str>) -> HashMap<String, usize> {
    names.enumerate().map(|(i, n)| (n.to_string(), i)).collect()
}

/// Every `(pattern, flags)` of `matches` in an expression.
fn collect_regexes(e: &Expr, out: &mut Vec<(String, String)>) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Matches {
                expr,
                pattern,
                flags,
            } => {
                out.push((pattern.clone(), flags.clone()));
                stack.push(expr);
            }
            Expr::Contacts { expr, filter, .. } => {
                stack.extend(expr.as_deref());
                stack.extend(filter.as_deref());
            }
            Expr::InWindow { expr, .. }
            | Expr::TimeSince { expr, .. }
            | Expr::Not(expr)
            | Expr::Neg(expr)
            | Expr::InList { expr, .. }
            | Expr::InRange { expr, .. }
            | Expr::Text { expr, .. }
            | Expr::IsMissing { expr, .. } => stack.push(expr),
            Expr::And(xs) | Expr::Or(xs) => stack.extend(xs.iter()),
            Expr::Binary { lhs, rhs, .. } => {
                stack.push(lhs);
                stack.push(rhs);
            }
            Expr::Lit(_)
            | Expr::Attr { .. }
            | Expr::AccountAttr(_)
            | Expr::Field(_)
            | Expr::Node(_)
            | Expr::AccountNode(_)
            | Expr::Agg(_)
            | Expr::Was { .. }
            | Expr::Changed { .. } => {}
        }
    }
}
