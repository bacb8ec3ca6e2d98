//! Score models: decay, groups, per-event and `if` rules, multipliers.

use super::Checker;
use super::program::{Decay, Dur, Group, Rule, RuleKind, Score, ScoreBody};
use super::resolve::{Env, Sym};
use super::types::describe;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, Ident, NumRange, ScoreStmt};
use crate::syntax::visit::descendants;

/// Whether a rule is an inactivity rule: negative points if a `no …` test holds.
pub(super) fn is_inactivity_rule(r: &ast::ScoreRule) -> bool {
    match &r.kind {
        ast::RuleKind::If(cond) => {
            r.points.value < 0.0
                && descendants(cond)
                    .iter()
                    .any(|e| matches!(e.kind, ast::ExprKind::No(_)))
        }
        ast::RuleKind::Per(_) => false,
    }
}

impl Checker<'_> {
    /// Lowers a score's range and body.
    pub(super) fn lower_score(
        &mut self,
        name: &Ident,
        scope: ast::Scope,
        range: Option<&NumRange>,
        body: &ast::ScoreBody,
    ) -> Option<Score> {
        let range = match range {
            Some(r) => Some(self.check_range(r).then_some((r.lo.value, r.hi.value))?),
            None => None,
        };
        let env = Env::of(scope);
        let body = match body {
            ast::ScoreBody::Expr(e) => ScoreBody::Expr(self.numeric(e, env)?),
            ast::ScoreBody::Rules(stmts) => self.score_rules(name, stmts, env)?,
        };
        Some(Score { range, body })
    }

    fn score_rules(&mut self, name: &Ident, stmts: &[ScoreStmt], env: Env) -> Option<ScoreBody> {
        let mut ok = true;
        let mut decay: Option<(Decay, crate::syntax::span::Span)> = None;
        let mut loose = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut group_spans: Vec<(String, crate::syntax::span::Span)> = Vec::new();
        let mut per_rules = false;
        let mut has_decay = false;
        let mut inactivity = false;
        for s in stmts {
            match s {
                ScoreStmt::Decay(d) => {
                    has_decay = true;
                    let span = match d {
                        ast::Decay::HalfLife { span, .. } | ast::Decay::Step { span, .. } => *span,
                    };
                    if let Some((_, first)) = decay {
                        self.report(
                            Diagnostic::new(Code::RepeatedModifier, span, "a second `decay`")
                                .with_label("decay written twice")
                                .with_related(first, "the first `decay`")
                                .with_help("a score decays one way: keep one `decay` line"),
                        );
                        ok = false;
                        continue;
                    }
                    match self.decay(d) {
                        Some(d) => decay = Some((d, span)),
                        None => ok = false,
                    }
                }
                ScoreStmt::Rule(r) => {
                    per_rules |= matches!(r.kind, ast::RuleKind::Per(_));
                    inactivity |= is_inactivity_rule(r);
                    match self.rule(r, env) {
                        Some(r) => loose.push(r),
                        None => ok = false,
                    }
                }
                ScoreStmt::Group {
                    name: gname,
                    cap,
                    rules,
                    ..
                } => {
                    if let Some((_, first)) = group_spans.iter().find(|(n, _)| *n == gname.name) {
                        self.report(
                            Diagnostic::new(
                                Code::Duplicate,
                                gname.span,
                                format!("group `{}` is defined twice in this score", gname.name),
                            )
                            .with_label("defined again")
                            .with_related(*first, "first defined here")
                            .with_help("merge the two groups or rename one"),
                        );
                        ok = false;
                    }
                    group_spans.push((gname.name.clone(), gname.span));
                    let mut lowered = Vec::new();
                    for r in rules {
                        per_rules |= matches!(r.kind, ast::RuleKind::Per(_));
                        inactivity |= is_inactivity_rule(r);
                        match self.rule(r, env) {
                            Some(r) => lowered.push(r),
                            None => ok = false,
                        }
                    }
                    groups.push(Group {
                        name: Some(gname.name.clone()),
                        cap: cap.map(|c| c.value),
                        rules: lowered,
                    });
                }
            }
        }
        if !has_decay && per_rules && !inactivity {
            self.report(
                Diagnostic::new(
                    Code::NoDecay,
                    name.span,
                    format!("score `{}` never decays", name.name),
                )
                .with_label("old activity counts forever")
                .with_help("add `decay half_life 90d`, or an inactivity rule such as `-10 if no event within 30d`"),
            );
        }
        if !loose.is_empty() {
            groups.insert(
                0,
                Group {
                    name: None,
                    cap: None,
                    rules: loose,
                },
            );
        }
        ok.then_some(ScoreBody::Rules {
            decay: decay.map(|(d, _)| d),
            groups,
        })
    }

    fn decay(&mut self, d: &ast::Decay) -> Option<Decay> {
        let (every, span) = match d {
            ast::Decay::HalfLife { half_life, .. } => (half_life, half_life.span),
            ast::Decay::Step { every, .. } => (every, every.span),
        };
        let dur = Dur {
            amount: every.amount,
            unit: every.unit,
        };
        if dur.fixed_seconds().is_none() {
            self.report(
                Diagnostic::new(
                    Code::BadDecay,
                    span,
                    format!(
                        "decay needs a fixed length, and `{}` is a calendar length",
                        self.snippet(span)
                    ),
                )
                .with_label("months and years vary in length")
                .with_help("use days or weeks, e.g. `30d` for a month or `52w` for a year"),
            );
            return None;
        }
        if dur.amount <= 0 {
            self.report(
                Diagnostic::new(Code::BadDecay, span, "decay needs a length above zero")
                    .with_label("zero length")
                    .with_help("use a positive length, e.g. `90d`"),
            );
            return None;
        }
        Some(match d {
            ast::Decay::HalfLife { .. } => Decay::HalfLife(dur),
            ast::Decay::Step { percent, .. } => {
                if !(percent.value > 0.0 && percent.value < 100.0) {
                    self.report(
                        Diagnostic::new(
                            Code::BadDecay,
                            percent.span,
                            format!("a decay of {}% is outside 0% to 100%", self.snippet(percent.span)),
                        )
                        .with_label("must be above 0% and below 100%")
                        .with_help("a step decay takes a share of the points away each period, e.g. `25% every 30d`"),
                    );
                    return None;
                }
                Decay::Step {
                    percent: percent.value,
                    every: dur,
                }
            }
        })
    }

    fn rule(&mut self, r: &ast::ScoreRule, env: Env) -> Option<Rule> {
        let text = self
            .loaded
            .sources
            .get(r.span.file)
            .map_or("", |f| f.text.as_str());
        let label = crate::syntax::format::rule_line(r, text);
        let kind = match &r.kind {
            ast::RuleKind::Per(s) => {
                if env == Env::Account {
                    self.report(
                        Diagnostic::new(
                            Code::WrongScope,
                            s.span,
                            "per-event points in an account score",
                        )
                        .with_label("events belong to contacts")
                        .with_help("score the events in a contact score and sum it: `account score x = sum(contact_score)`"),
                    );
                    return None;
                }
                let (stream, ev) =
                    self.stream(&s.source, s.filter.as_ref(), s.window.as_ref(), env)?;
                let times_field = match &r.points.times_field {
                    Some(f) => Some(self.multiplier(f, ev)?),
                    None => None,
                };
                RuleKind::Per {
                    stream,
                    times_field,
                }
            }
            ast::RuleKind::If(cond) => {
                if let Some(f) = &r.points.times_field {
                    self.report(
                        Diagnostic::new(
                            Code::BadOperand,
                            f.span,
                            format!("`* {}` in an `if` rule, which has no event", f.name),
                        )
                        .with_label("no event to read the field from")
                        .with_help("multiply by an event field in a `per` rule: `+2 * percent per video_watched`"),
                    );
                    return None;
                }
                RuleKind::If(self.cond(cond, env)?)
            }
        };
        Some(Rule {
            label,
            points: r.points.value,
            kind,
            cap: r.cap.map(|c| c.value),
        })
    }

    /// The numeric event field a rule's points are multiplied by.
    fn multiplier(&mut self, f: &Ident, ev: Option<usize>) -> Option<String> {
        let Some(Sym::EventField(field)) = self.lookup(&f.name, Env::Event(ev)) else {
            self.unknown_name(f, Env::Event(ev));
            return None;
        };
        if !field.ty.is_numeric() {
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    f.span,
                    format!(
                        "points are multiplied by `{}`, which is {}",
                        f.name,
                        describe(&field.ty)
                    ),
                )
                .with_label("not a number")
                .with_help("multiply by a numeric event field"),
            );
            return None;
        }
        Some(field.name)
    }
}
