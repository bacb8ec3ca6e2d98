//! A deliberately naive evaluator, used only in tests: one contact at a time, straight
//! from the checked program (not the plan), recomputing everything it needs. It shares
//! no code with the engine beyond the data types, so the two can be compared.
#![allow(dead_code)]

use chrono::{DateTime, Months, TimeDelta, Utc};
use funnel::check::program::*;
use funnel::check::schema::Type;
use funnel::engine::data::Dataset;
use funnel::syntax::ast::{AggFunc, BinOp, DurationUnit, TextOp};
use std::cmp::Ordering;

type Log = Vec<(DateTime<Utc>, Option<Value>)>;

pub struct Reference<'a> {
    pub program: &'a Program,
    pub data: &'a Dataset,
    pub now: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug)]
enum Row {
    Contact(usize),
    Account(usize),
    Event(usize, usize),
}

fn back(t: DateTime<Utc>, d: Dur) -> DateTime<Utc> {
    match d.unit {
        DurationUnit::Hour => t - TimeDelta::hours(d.amount),
        DurationUnit::Day => t - TimeDelta::days(d.amount),
        DurationUnit::Week => t - TimeDelta::weeks(d.amount),
        DurationUnit::Month => t.checked_sub_months(Months::new(d.amount as u32)).unwrap(),
        DurationUnit::Year => t
            .checked_sub_months(Months::new(12 * d.amount as u32))
            .unwrap(),
    }
}

fn point(p: TimeRef, t: DateTime<Utc>, end: bool) -> DateTime<Utc> {
    match p {
        TimeRef::Now => t,
        TimeRef::Ago(d) => back(t, d),
        TimeRef::Date(d) => {
            let day = if end { d.succ_opt().unwrap() } else { d };
            day.and_hms_opt(0, 0, 0).unwrap().and_utc()
        }
        TimeRef::Timestamp(x) => x,
    }
}

/// Whether `at` is in window `w` evaluated at moment `t`.
fn in_window(w: &Window, at: DateTime<Utc>, t: DateTime<Utc>) -> bool {
    if at > t {
        return false;
    }
    match *w {
        Window::Ever => true,
        Window::Within(d) => at >= back(t, d),
        Window::Since(a) => at >= point(a, t, false),
        Window::Between(a, b) => {
            let end = point(b, t, true);
            at >= point(a, t, false) && (at < end || end >= t)
        }
        Window::Before(a) => {
            let end = point(a, t, false);
            at < end || end >= t
        }
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

fn instant(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Timestamp(t) => Some(*t),
        Value::Date(d) => Some(d.and_hms_opt(0, 0, 0).unwrap().and_utc()),
        _ => None,
    }
}

fn cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => match (instant(a), instant(b)) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => None,
            },
        },
    }
}

/// sum / avg / min / max over present values.
fn fold(func: AggFunc, vals: Vec<Value>) -> Option<Value> {
    match func {
        AggFunc::Sum => {
            if vals.iter().all(|v| matches!(v, Value::Int(_))) {
                Some(Value::Int(
                    vals.iter()
                        .map(|v| if let Value::Int(i) = v { *i } else { 0 })
                        .sum(),
                ))
            } else {
                Some(Value::Number(vals.iter().filter_map(num).sum()))
            }
        }
        AggFunc::Avg => {
            let xs: Vec<f64> = vals.iter().filter_map(num).collect();
            (!xs.is_empty()).then(|| Value::Number(xs.iter().sum::<f64>() / xs.len() as f64))
        }
        AggFunc::Min => vals.into_iter().reduce(|a, x| {
            if cmp(&x, &a) == Some(Ordering::Less) {
                x
            } else {
                a
            }
        }),
        AggFunc::Max => vals.into_iter().reduce(|a, x| {
            if cmp(&x, &a) == Some(Ordering::Greater) {
                x
            } else {
                a
            }
        }),
        _ => None,
    }
}

fn truth(v: &Option<Value>) -> bool {
    *v == Some(Value::Bool(true))
}

impl<'a> Reference<'a> {
    /// Every contact-scope definition's value for contact `c`, at `now`.
    pub fn contact(&self, c: usize) -> Vec<(String, Option<Value>)> {
        self.program
            .defs
            .iter()
            .filter(|d| d.scope == Scope::Contact)
            .map(|d| (d.name.clone(), self.def(d, Row::Contact(c), self.now)))
            .collect()
    }

    /// Every account-scope definition's value for account `a`, at `now`.
    pub fn account(&self, a: usize) -> Vec<(String, Option<Value>)> {
        self.program
            .defs
            .iter()
            .filter(|d| d.scope == Scope::Account)
            .map(|d| (d.name.clone(), self.def(d, Row::Account(a), self.now)))
            .collect()
    }

    fn account_of(&self, c: usize) -> Option<usize> {
        let link = self
            .program
            .schema
            .contact
            .iter()
            .position(|f| f.ty == Type::AccountLink)?;
        let Some(Value::Text(id)) = self.data.contacts.get(c, link).cloned() else {
            return None;
        };
        self.data.accounts.iter().position(|a| *a.id == *id)
    }

    fn def(&self, d: &Def, row: Row, t: DateTime<Utc>) -> Option<Value> {
        match &d.kind {
            DefKind::Segment(e) => Some(Value::Bool(truth(&self.eval(e, row, t)))),
            DefKind::Value(e) => self.eval(e, row, t),
            DefKind::Score(s) => self.score(s, row, t).map(Value::Number),
            DefKind::Tiers(tiers) => {
                let s = self.program.def(&tiers.score)?;
                let v = num(&self.def(s, row, t)?)?.round() as i64;
                tiers
                    .bands
                    .iter()
                    .find(|b| b.lo <= v && v <= b.hi)
                    .map(|b| Value::Text(b.name.as_str().into()))
            }
            DefKind::Personas(ps) => ps
                .iter()
                .find(|p| truth(&self.eval(&p.cond, row, t)))
                .map(|p| Value::Text(p.name.as_str().into())),
            DefKind::Top { n, by } => {
                let rows: Vec<(String, Row)> = match row {
                    Row::Account(_) => self
                        .data
                        .accounts
                        .iter()
                        .enumerate()
                        .map(|(i, a)| (a.id.clone(), Row::Account(i)))
                        .collect(),
                    _ => self
                        .data
                        .contacts
                        .ids()
                        .enumerate()
                        .map(|(i, id)| (id.to_owned(), Row::Contact(i)))
                        .collect(),
                };
                let me = match row {
                    Row::Account(i) | Row::Contact(i) | Row::Event(i, _) => i,
                };
                let mut scored: Vec<(f64, String, usize)> = rows
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (id, r))| {
                        let x = num(&self.eval(by, *r, t)?)?;
                        (!x.is_nan()).then(|| (x, id.clone(), i))
                    })
                    .collect();
                scored.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap().then(a.1.cmp(&b.1)));
                Some(Value::Bool(
                    scored.iter().take(*n as usize).any(|(_, _, i)| *i == me),
                ))
            }
        }
    }

    fn score(&self, s: &Score, row: Row, t: DateTime<Utc>) -> Option<f64> {
        let total = match &s.body {
            ScoreBody::Expr(e) => num(&self.eval(e, row, t)?)?,
            ScoreBody::Rules { decay, groups } => {
                let bound = |x: f64, cap: Option<f64>| match cap {
                    Some(c) if x > c => c,
                    Some(c) if x < -c => -c,
                    _ => x,
                };
                let mut total = 0.0;
                for g in groups {
                    let mut gsum = 0.0;
                    for r in &g.rules {
                        let pts = match &r.kind {
                            RuleKind::If(e) => {
                                if truth(&self.eval(e, row, t)) {
                                    r.points
                                } else {
                                    0.0
                                }
                            }
                            RuleKind::Per {
                                stream,
                                times_field,
                            } => {
                                let Row::Contact(c) = row else { return None };
                                let mut sum = 0.0;
                                for (ei, e) in self.events(c, stream, t) {
                                    let mult = match times_field {
                                        Some(f) => {
                                            self.field(ei, f).as_ref().and_then(num).unwrap_or(0.0)
                                        }
                                        None => 1.0,
                                    };
                                    let age = (t - e).num_microseconds().unwrap() as f64 / 1e6;
                                    let factor = match decay {
                                        None => 1.0,
                                        Some(Decay::HalfLife(h)) => {
                                            0.5f64.powf(age / h.fixed_seconds().unwrap() as f64)
                                        }
                                        Some(Decay::Step { percent, every }) => {
                                            (1.0 - percent / 100.0).powf(
                                                (age / every.fixed_seconds().unwrap() as f64)
                                                    .floor(),
                                            )
                                        }
                                    };
                                    sum += mult * factor;
                                }
                                r.points * sum
                            }
                        };
                        gsum += bound(pts, r.cap);
                    }
                    total += bound(gsum, g.cap);
                }
                total
            }
        };
        let clamped = match s.range {
            Some((lo, hi)) => total.clamp(lo, hi),
            None => total,
        };
        Some(round_cents(clamped))
    }

    /// The contact's events of a stream at moment `t`, in time order.
    fn events(&self, c: usize, s: &Stream, t: DateTime<Utc>) -> Vec<(usize, DateTime<Utc>)> {
        let mut out: Vec<(usize, DateTime<Utc>)> = self
            .data
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.contact as usize == c)
            .filter(|(_, e)| e.at <= self.now)
            .filter(|(_, e)| match &s.event {
                EventSel::Any => true,
                EventSel::Type(name) => self.program.schema.events[e.event as usize].name == *name,
            })
            .filter(|(_, e)| in_window(&s.window, e.at, t))
            .filter(|(i, _)| {
                s.filter
                    .as_ref()
                    .is_none_or(|f| truth(&self.eval(f, Row::Event(c, *i), t)))
            })
            .map(|(i, e)| (i, e.at))
            .collect();
        out.sort_by_key(|(_, at)| *at);
        out
    }

    fn field(&self, ei: usize, name: &str) -> Option<Value> {
        let e = &self.data.events[ei];
        let ty = &self.program.schema.events[e.event as usize];
        let i = ty.fields.iter().position(|f| f.name == name)?;
        e.fields[i].clone()
    }

    fn history(&self, c: usize, attr: &str) -> (usize, Log) {
        let i = self
            .program
            .schema
            .contact
            .iter()
            .position(|f| f.name == attr)
            .unwrap();
        let mut log: Vec<_> = self
            .data
            .changes
            .iter()
            .filter(|ch| ch.contact as usize == c && ch.attr as usize == i)
            .map(|ch| (ch.at, ch.value.clone()))
            .collect();
        log.sort_by_key(|(at, _)| *at);
        (i, log)
    }

    fn attr_at(&self, c: usize, attr: &str, t: Option<DateTime<Utc>>) -> Option<Value> {
        let (i, log) = self.history(c, attr);
        if log.is_empty() {
            return self.data.contacts.get(c, i).cloned();
        }
        let t = t?;
        log.iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .and_then(|(_, v)| v.clone())
    }

    fn eval(&self, e: &Expr, row: Row, t: DateTime<Utc>) -> Option<Value> {
        let contact = || match row {
            Row::Contact(c) | Row::Event(c, _) => Some(c),
            Row::Account(_) => None,
        };
        let b = |x: bool| Some(Value::Bool(x));
        match &e.kind {
            ExprKind::Lit(v) => Some(v.clone()),
            ExprKind::Attr(name) => self.attr_at(contact()?, name, Some(t)),
            ExprKind::AccountAttr(name) => {
                let a = match row {
                    Row::Account(a) => a,
                    _ => self.account_of(contact()?)?,
                };
                let i = self
                    .program
                    .schema
                    .account
                    .iter()
                    .position(|f| f.name == *name)?;
                self.data.accounts[a].attrs[i].clone()
            }
            ExprKind::Field(name) => match row {
                Row::Event(_, ei) => self.field(ei, name),
                _ => None,
            },
            ExprKind::Ref(name) => self.def(self.program.def(name)?, row, t),
            ExprKind::AccountRef(name) => {
                let a = self.account_of(contact()?)?;
                self.def(self.program.def(name)?, Row::Account(a), t)
            }
            ExprKind::AsOf { expr, at } => {
                let t2 = point(*at, t, false).min(self.now);
                self.eval(expr, row, t2)
            }
            ExprKind::Exists(s) => b(!self.events(contact()?, s, t).is_empty()),
            ExprKind::Freq { stream, freq } => {
                let n = self.events(contact()?, stream, t).len() as u64;
                b(match freq {
                    Freq::AtLeast(k) => n >= *k,
                    Freq::AtMost(k) => n <= *k,
                    Freq::Exactly(k) => n == *k,
                })
            }
            ExprKind::Regular {
                stream,
                at_least,
                of_last,
                unit,
            } => {
                let evs = self.events(contact()?, stream, t);
                let mut hit = 0;
                for k in 0..*of_last {
                    let hi = back(
                        t,
                        Dur {
                            amount: k as i64,
                            unit: *unit,
                        },
                    );
                    let lo = back(
                        t,
                        Dur {
                            amount: k as i64 + 1,
                            unit: *unit,
                        },
                    );
                    if evs
                        .iter()
                        .any(|(_, at)| *at >= lo && (*at < hi || (k == 0 && *at <= hi)))
                    {
                        hit += 1;
                    }
                }
                b(hit >= *at_least)
            }
            ExprKind::Agg {
                func,
                stream,
                field,
            } => {
                let evs = self.events(contact()?, stream, t);
                let vals: Vec<Value> = evs
                    .iter()
                    .filter_map(|(i, _)| field.as_ref().and_then(|f| self.field(*i, f)))
                    .collect();
                match func {
                    AggFunc::Count => Some(Value::Int(evs.len() as i64)),
                    AggFunc::FirstTime => evs.first().map(|(_, at)| Value::Timestamp(*at)),
                    AggFunc::LastTime => evs.last().map(|(_, at)| Value::Timestamp(*at)),
                    AggFunc::CountDistinct => {
                        let mut seen: Vec<Value> = Vec::new();
                        for v in vals {
                            if !seen.iter().any(|s| cmp(s, &v) == Some(Ordering::Equal)) {
                                seen.push(v);
                            }
                        }
                        Some(Value::Int(seen.len() as i64))
                    }
                    AggFunc::Sum | AggFunc::Avg | AggFunc::Min | AggFunc::Max => fold(*func, vals),
                    AggFunc::First => vals.into_iter().next(),
                    AggFunc::Last => vals.into_iter().last(),
                    AggFunc::MostFrequent => {
                        let mut best: Option<(usize, Value)> = None;
                        for v in &vals {
                            let n = vals
                                .iter()
                                .filter(|w| cmp(w, v) == Some(Ordering::Equal))
                                .count();
                            let better = match &best {
                                None => true,
                                Some((bn, bv)) => {
                                    n > *bn || (n == *bn && cmp(v, bv) == Some(Ordering::Less))
                                }
                            };
                            if better {
                                best = Some((n, v.clone()));
                            }
                        }
                        best.map(|(_, v)| v)
                    }
                }
            }
            ExprKind::ContactsAgg { func, expr, filter } => {
                let Row::Account(a) = row else { return None };
                let members: Vec<usize> = (0..self.data.contacts.len())
                    .filter(|c| self.account_of(*c) == Some(a))
                    .filter(|c| {
                        filter
                            .as_ref()
                            .is_none_or(|f| truth(&self.eval(f, Row::Contact(*c), t)))
                    })
                    .collect();
                if *func == AggFunc::Count {
                    return Some(Value::Int(members.len() as i64));
                }
                let vals: Vec<Value> = members
                    .iter()
                    .filter_map(|c| {
                        expr.as_ref()
                            .and_then(|x| self.eval(x, Row::Contact(*c), t))
                    })
                    .collect();
                match func {
                    AggFunc::Sum | AggFunc::Avg | AggFunc::Min | AggFunc::Max => fold(*func, vals),
                    _ => None,
                }
            }
            ExprKind::Was {
                attr,
                value,
                window,
            } => {
                let c = contact()?;
                let (_, log) = self.history(c, attr);
                let start = match window {
                    Window::Ever | Window::Before(_) => None,
                    Window::Within(d) => Some(back(t, *d)),
                    Window::Since(a) | Window::Between(a, _) => Some(point(*a, t, false)),
                };
                let at_start = match start {
                    Some(s) => self.attr_at(c, attr, Some(s)),
                    None if log.is_empty() => self.attr_at(c, attr, None),
                    None => None,
                };
                let eq = |v: &Option<Value>| {
                    v.as_ref()
                        .is_some_and(|v| cmp(v, value) == Some(Ordering::Equal))
                };
                b(eq(&at_start) || log.iter().any(|(at, v)| in_window(window, *at, t) && eq(v)))
            }
            ExprKind::Changed {
                attr,
                from,
                to,
                window,
            } => {
                let (_, log) = self.history(contact()?, attr);
                let eq = |v: &Option<Value>, w: &Value| {
                    v.as_ref()
                        .is_some_and(|v| cmp(v, w) == Some(Ordering::Equal))
                };
                b((0..log.len()).any(|k| {
                    in_window(window, log[k].0, t)
                        && to.as_ref().is_none_or(|w| eq(&log[k].1, w))
                        && from.as_ref().is_none_or(|w| k > 0 && eq(&log[k - 1].1, w))
                }))
            }
            ExprKind::InWindow { expr, window } => {
                let v = self.eval(expr, row, t);
                b(v.as_ref()
                    .and_then(instant)
                    .is_some_and(|at| in_window(window, at, t)))
            }
            ExprKind::TimeSince(x) => {
                let at = instant(&self.eval(x, row, t)?)?;
                Some(Value::Duration(
                    (t - at).num_microseconds()?.div_euclid(1_000_000),
                ))
            }
            ExprKind::Not(x) => b(!truth(&self.eval(x, row, t))),
            ExprKind::Neg(x) => match self.eval(x, row, t)? {
                Value::Int(i) => i.checked_neg().map(Value::Int),
                Value::Number(n) => Some(Value::Number(-n)),
                Value::Duration(d) => Some(Value::Duration(-d)),
                _ => None,
            },
            ExprKind::And(xs) => b(xs.iter().all(|x| truth(&self.eval(x, row, t)))),
            ExprKind::Or(xs) => b(xs.iter().any(|x| truth(&self.eval(x, row, t)))),
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(lhs, row, t);
                let r = self.eval(rhs, row, t);
                if op.is_comparison() {
                    let o = match (&l, &r) {
                        (Some(a), Some(b)) => cmp(a, b),
                        _ => None,
                    };
                    return b(match (op, o) {
                        (_, None) => false,
                        (BinOp::Eq, Some(o)) => o == Ordering::Equal,
                        (BinOp::Ne, Some(o)) => o != Ordering::Equal,
                        (BinOp::Lt, Some(o)) => o == Ordering::Less,
                        (BinOp::Le, Some(o)) => o != Ordering::Greater,
                        (BinOp::Gt, Some(o)) => o == Ordering::Greater,
                        (_, Some(o)) => o != Ordering::Less,
                    });
                }
                let (l, r) = (l?, r?);
                match (&l, &r, op) {
                    (Value::Int(a), Value::Int(b2), BinOp::Add) => {
                        a.checked_add(*b2).map(Value::Int)
                    }
                    (Value::Int(a), Value::Int(b2), BinOp::Sub) => {
                        a.checked_sub(*b2).map(Value::Int)
                    }
                    (Value::Int(a), Value::Int(b2), BinOp::Mul) => {
                        a.checked_mul(*b2).map(Value::Int)
                    }
                    (Value::Duration(a), Value::Duration(b2), BinOp::Add) => {
                        Some(Value::Duration(a + b2))
                    }
                    (Value::Duration(a), Value::Duration(b2), BinOp::Sub) => {
                        Some(Value::Duration(a - b2))
                    }
                    _ => {
                        let (a, b2) = (num(&l)?, num(&r)?);
                        let x = match op {
                            BinOp::Add => a + b2,
                            BinOp::Sub => a - b2,
                            BinOp::Mul => a * b2,
                            _ if b2 == 0.0 => return None,
                            _ => a / b2,
                        };
                        x.is_finite().then_some(Value::Number(x))
                    }
                }
            }
            ExprKind::InList {
                expr,
                items,
                negated,
            } => {
                let Some(v) = self.eval(expr, row, t) else {
                    return b(false);
                };
                let hit = items.iter().any(|i| cmp(&v, i) == Some(Ordering::Equal));
                b(hit != *negated)
            }
            ExprKind::InRange { expr, lo, hi } => {
                let x = self.eval(expr, row, t).as_ref().and_then(num);
                b(x.is_some_and(|x| *lo <= x && x <= *hi))
            }
            ExprKind::Text { expr, op, patterns } => {
                let Some(Value::Text(s)) = self.eval(expr, row, t) else {
                    return b(false);
                };
                let s = s.to_lowercase();
                b(patterns.iter().any(|p| {
                    let p = p.to_lowercase();
                    match op {
                        TextOp::Contains => s.contains(&p),
                        TextOp::StartsWith => s.starts_with(&p),
                        TextOp::EndsWith => s.ends_with(&p),
                    }
                }))
            }
            ExprKind::Matches {
                expr,
                pattern,
                flags,
            } => {
                let Some(Value::Text(s)) = self.eval(expr, row, t) else {
                    return b(false);
                };
                let re = regex::RegexBuilder::new(pattern)
                    .case_insensitive(flags.contains('i'))
                    .multi_line(flags.contains('m'))
                    .dot_matches_new_line(flags.contains('s'))
                    .ignore_whitespace(flags.contains('x'))
                    .build()
                    .unwrap();
                b(re.is_match(&s))
            }
            ExprKind::IsMissing { expr, negated } => {
                b(self.eval(expr, row, t).is_none() != *negated)
            }
        }
    }
}

/// `x` to 2 decimals as its shortest decimal form reads, half away from zero
/// (docs/semantics.md, Scores): whole thousandths of the magnitude, plus 5, in tens.
fn round_cents(x: f64) -> f64 {
    let text = format!("{}", x.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if whole.len() > 30 {
        return x;
    }
    let frac3: String = frac.chars().chain("000".chars()).take(3).collect();
    let Ok(thousandths) = format!("{whole}{frac3}").parse::<i128>() else {
        return x;
    };
    let cents = (thousandths + 5) / 10;
    (cents as f64 / 100.0).copysign(x)
}
