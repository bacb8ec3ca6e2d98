//! Event streams: signals inlined into their uses, windows, frequencies, regularity,
//! attribute-history tests and aggregates (over events, or over an account's contacts).

use super::collect::Src;
use super::program::{Dur, EventSel, Expr, ExprKind, Freq, Stream, Window};
use super::resolve::{Env, Sym, mk};
use super::schema::Type;
use super::suggest;
use super::types::{describe, ordered, time_ref};
use super::{Checker, Lowered, SignalLow};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{
    self, AggArg, AggFunc, FreqKind, HistoryTest, Ident, StreamSource, StreamTest,
};
use crate::syntax::span::Span;

/// Joins two optional filters with `and`, flat: a signal built on a signal built on a
/// signal gets one `and` of all their filters, not a tree as deep as the chain.
fn join(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (
            Some(Expr {
                kind: ExprKind::And(mut xs),
                ty,
            }),
            Some(b),
        ) => {
            xs.push(b);
            Some(Expr {
                kind: ExprKind::And(xs),
                ty,
            })
        }
        (Some(a), Some(b)) => Some(mk(ExprKind::And(vec![a, b]), Type::Bool)),
        (a, b) => a.or(b),
    }
}

impl Checker<'_> {
    /// Lowers signal `i`'s source and filter.
    pub(super) fn lower_signal(
        &mut self,
        source: &StreamSource,
        filter: Option<&ast::Expr>,
    ) -> Option<SignalLow> {
        let (_, base) = self.source(source, Env::Contact)?;
        let ev = self.event_index(&base.event);
        let f = match filter {
            Some(f) => Some(self.cond(f, Env::Event(ev))?),
            None => None,
        };
        let size = base.size + f.as_ref().map_or(0, super::expansion::size);
        Some(SignalLow {
            event: base.event,
            filter: join(base.filter, f),
            size,
        })
    }

    /// The schema index of a selected event type.
    fn event_index(&self, sel: &EventSel) -> Option<usize> {
        match sel {
            EventSel::Any => None,
            EventSel::Type(name) => self.schema.events.iter().position(|e| &e.name == name),
        }
    }

    /// Counts `size` conditions copied from signal `id` into a use; false (and an error
    /// at the use, once) when that takes the program past the limit.
    fn inline(&mut self, size: usize, id: &Ident) -> bool {
        let limit = crate::limits::SIGNAL_INLINING.get();
        if self.inlined > limit {
            return false;
        }
        self.inlined += size;
        if self.inlined <= limit {
            return true;
        }
        self.report(
            Diagnostic::new(
                Code::TooLarge,
                id.span,
                format!(
                    "signals inline more than {} into their uses",
                    crate::limits::SIGNAL_INLINING.describe()
                ),
            )
            .with_label("the limit is passed at this use")
            .with_help(
                "a signal's filter is copied into each use and into each signal built on it: \
                 build fewer signals on signals, or use large signals less often",
            ),
        );
        false
    }

    /// Resolves a stream source: `event`, an event type, or a signal (inlined).
    fn source(&mut self, source: &StreamSource, env: Env) -> Option<(String, SignalLow)> {
        let id = match source {
            StreamSource::AnyEvent(_) => {
                return Some((
                    "event".into(),
                    SignalLow {
                        event: EventSel::Any,
                        filter: None,
                        size: 0,
                    },
                ));
            }
            StreamSource::Named(id) => id,
        };
        if env == Env::Account && self.is_stream_name(&id.name) {
            self.events_in_account(id);
            return None;
        }
        match self.lookup(&id.name, Env::Contact) {
            Some(Sym::Event(k)) => {
                let name = self.schema.events.get(k)?.name.clone();
                Some((
                    name.clone(),
                    SignalLow {
                        event: EventSel::Type(name),
                        filter: None,
                        size: 0,
                    },
                ))
            }
            Some(Sym::Def(i)) if self.is_signal(i) => {
                self.depend(i, id.span);
                self.lower_def(i);
                let size = match self.lowered.get(i) {
                    Some(Some(Lowered::Signal(s))) => s.size,
                    _ => return None,
                };
                if !self.inline(size, id) {
                    return None;
                }
                match self.lowered.get(i) {
                    Some(Some(Lowered::Signal(s))) => Some((id.name.clone(), s.clone())),
                    _ => None,
                }
            }
            Some(other) => {
                let what = match other {
                    Sym::Attr(_) | Sym::AccountAttr(_) | Sym::EventField(_) => "an attribute",
                    Sym::Def(i) => match self.defs.get(i).map(|d| d.kind) {
                        Some(Src::Segment(_)) => "a segment",
                        Some(Src::Score { .. }) => "a score",
                        Some(Src::Tiers { .. }) => "a tier set",
                        Some(Src::Personas(_)) => "a persona group",
                        _ => "a value",
                    },
                    Sym::Event(_) => "an event type",
                };
                self.report(
                    Diagnostic::new(
                        Code::NotAStream,
                        id.span,
                        format!("`{}` is {what}, not an event type or signal", id.name),
                    )
                    .with_label("not a stream of events")
                    .with_help("streams are event types (`event name { … }`) and signals"),
                );
                None
            }
            None => {
                let names: Vec<&str> = self
                    .schema
                    .events
                    .iter()
                    .map(|e| e.name.as_str())
                    .chain(
                        self.defs
                            .iter()
                            .filter(|d| matches!(d.kind, Src::Signal { .. }))
                            .map(|d| d.name.name.as_str()),
                    )
                    .collect();
                let help = suggest::help(&id.name, names).unwrap_or_else(|| {
                    "declare it with `event name { … }` or define a signal".into()
                });
                self.report(
                    Diagnostic::new(
                        Code::UnknownName,
                        id.span,
                        format!("unknown event type or signal `{}`", id.name),
                    )
                    .with_label("not an event type or signal")
                    .with_help(help),
                );
                None
            }
        }
    }

    /// A stream with the use site's filter and window; also returns the event type read.
    pub(super) fn stream(
        &mut self,
        source: &StreamSource,
        filter: Option<&ast::Expr>,
        window: Option<&ast::Window>,
        env: Env,
    ) -> Option<(Stream, Option<usize>)> {
        let (label, base) = self.source(source, env)?;
        let ev = self.event_index(&base.event);
        let f = filter.map(|f| self.cond(f, Env::Event(ev)));
        let w = match window {
            Some(w) => self.window(w),
            None => Some(Window::Ever),
        };
        let f = match f {
            Some(f) => Some(f?),
            None => None,
        };
        Some((
            Stream {
                label,
                event: base.event,
                filter: join(base.filter, f).map(Box::new),
                window: w?,
            },
            ev,
        ))
    }

    /// `x` bare, for an event type or signal: whether it happened ever.
    pub(super) fn exists(&mut self, id: &Ident) -> Option<Expr> {
        let (stream, _) =
            self.stream(&StreamSource::Named(id.clone()), None, None, Env::Contact)?;
        Some(mk(ExprKind::Exists(stream), Type::Bool))
    }

    /// Lowers a window, reporting one that can never hold an event.
    pub(super) fn window(&mut self, w: &ast::Window) -> Option<Window> {
        let dur = |d: &ast::Duration| Dur {
            amount: d.amount,
            unit: d.unit,
        };
        Some(match w {
            ast::Window::Within(d, _) => Window::Within(dur(d)),
            ast::Window::Between(a, b, span) => {
                self.check_between(a, b, *span);
                Window::Between(time_ref(a), time_ref(b))
            }
            ast::Window::Since(a, _) => Window::Since(time_ref(a)),
            ast::Window::Before(a, _) => Window::Before(time_ref(a)),
            ast::Window::Ever(_) => Window::Ever,
        })
    }

    /// Reports modifiers written twice.
    fn repeated(&mut self, t: &StreamTest) {
        for &extra in &t.extra {
            let text = self.snippet(extra);
            let first = if text.starts_with("in ") {
                t.regular.map(|r| r.span)
            } else if text.starts_with("at ") || text.starts_with("exactly") {
                t.freq.map(|f| f.span)
            } else {
                t.window.as_ref().map(ast::Window::span)
            };
            let mut d = Diagnostic::new(
                Code::RepeatedModifier,
                extra,
                format!("`{text}` is a second modifier of the same kind"),
            )
            .with_label("written twice")
            .with_help("keep one; to combine windows, write two tests joined with `and`");
            if let Some(first) = first {
                d = d.with_related(first, "the first one");
            }
            self.report(d);
        }
    }

    /// `x where … within … at least N times`, `no x …`, `attr was v`, `date within 90d`.
    pub(super) fn stream_test(&mut self, t: &StreamTest, env: Env, negated: bool) -> Option<Expr> {
        self.repeated(t);
        if !t.extra.is_empty() {
            return None;
        }
        let is_stream = match &t.source {
            StreamSource::AnyEvent(_) => true,
            StreamSource::Named(id) => t.field.is_none() && self.is_stream_name(&id.name),
        };
        let inner = if is_stream {
            self.event_test(t, env)?
        } else {
            self.value_test(t, env)?
        };
        Some(if negated {
            mk(ExprKind::Not(Box::new(inner)), Type::Bool)
        } else {
            inner
        })
    }

    fn event_test(&mut self, t: &StreamTest, env: Env) -> Option<Expr> {
        if let Some(h) = &t.history {
            let span = match h {
                HistoryTest::Was(_, s) => *s,
                HistoryTest::Changed { span, .. } => *span,
            };
            self.report(
                Diagnostic::new(
                    Code::NoHistory,
                    span,
                    format!("`{}` is a stream of events, not an attribute", self.snippet(t.source.span())),
                )
                .with_label("history tests read an attribute's change log")
                .with_help("test an attribute declared `with history`, e.g. `lead_stage was mql within 90d`"),
            );
            return None;
        }
        if let (Some(f), Some(r)) = (&t.freq, &t.regular) {
            self.report(
                Diagnostic::new(
                    Code::RepeatedModifier,
                    r.span,
                    "a frequency and a regularity test on one stream",
                )
                .with_label("second count test")
                .with_related(f.span, "the frequency test")
                .with_help("write two tests joined with `and`"),
            );
            return None;
        }
        if let (Some(w), Some(r)) = (&t.window, &t.regular) {
            self.report(
                Diagnostic::new(
                    Code::RepeatedModifier,
                    w.span(),
                    "a window on a regularity test, which sets its own periods",
                )
                .with_label("window not allowed here")
                .with_related(r.span, "the periods are counted back from now")
                .with_help("remove the window"),
            );
            return None;
        }
        let (stream, _) = self.stream(&t.source, t.filter.as_ref(), t.window.as_ref(), env)?;
        if let Some(f) = &t.freq {
            let n = u64::try_from(f.n.value).unwrap_or(0);
            if f.kind == FreqKind::AtLeast && n == 0 {
                self.always_true(
                    f.span,
                    format!("`{}` is always true", self.snippet(t.span)),
                    "every contact did it at least 0 times",
                    "remove the test, or ask for `at least 1 time`",
                );
            }
            let freq = match f.kind {
                FreqKind::AtLeast => Freq::AtLeast(n),
                FreqKind::AtMost => Freq::AtMost(n),
                FreqKind::Exactly => Freq::Exactly(n),
            };
            return Some(mk(ExprKind::Freq { stream, freq }, Type::Bool));
        }
        if let Some(r) = &t.regular {
            let at_least = u64::try_from(r.at_least.value).unwrap_or(0);
            let of_last = u64::try_from(r.of_last.value).unwrap_or(0);
            let most = crate::limits::PERIODS.default as u64;
            if of_last > most {
                self.report(
                    Diagnostic::new(
                        Code::TooLarge,
                        r.span,
                        format!(
                            "the last {of_last} periods: more than {}",
                            crate::limits::PERIODS.describe()
                        ),
                    )
                    .with_label("too many periods")
                    .with_help("count fewer periods, or use a longer unit"),
                );
                return None;
            }
            if at_least > of_last {
                self.report(
                    Diagnostic::new(
                        Code::NeverTrue,
                        r.span,
                        format!(
                            "at least {at_least} of the last {of_last} periods can never happen"
                        ),
                    )
                    .with_label(format!("{at_least} is more than {of_last}"))
                    .with_help(format!("ask for at most {of_last} periods")),
                );
                return None;
            }
            if at_least == 0 {
                self.always_true(
                    r.span,
                    format!("`{}` is always true", self.snippet(t.span)),
                    "zero periods always suffice",
                    "ask for at least 1 period",
                );
            }
            return Some(mk(
                ExprKind::Regular {
                    stream,
                    at_least,
                    of_last,
                    unit: r.unit,
                },
                Type::Bool,
            ));
        }
        Some(mk(ExprKind::Exists(stream), Type::Bool))
    }

    /// Modifiers on something that is not a stream: history tests and windows on
    /// attributes.
    fn value_test(&mut self, t: &StreamTest, env: Env) -> Option<Expr> {
        let StreamSource::Named(id) = &t.source else {
            return None;
        };
        let base = match &t.field {
            Some(m) => self.path(id, m, env)?,
            None => self.name(id, env)?,
        };
        let what = self.snippet(
            t.source
                .span()
                .to(t.field.as_ref().map_or(id.span, |f| f.span)),
        );
        if let Some(f) = &t.filter {
            self.not_a_stream(what, f.span, "`where` filters events");
            return None;
        }
        if let Some(f) = &t.freq {
            self.not_a_stream(what, f.span, "only events happen a number of times");
            return None;
        }
        if let Some(r) = &t.regular {
            self.not_a_stream(what, r.span, "only events happen in periods");
            return None;
        }
        let window = match &t.window {
            Some(w) => Some(self.window(w)?),
            None => None,
        };
        if let Some(h) = &t.history {
            return self.history(&base, h, window, env, id);
        }
        let Some(window) = window else {
            return Some(base);
        };
        if !matches!(base.ty, Type::Date | Type::Timestamp) {
            let span = t.window.as_ref().map_or(t.span, ast::Window::span);
            self.report(
                Diagnostic::new(
                    Code::BadWindow,
                    span,
                    format!("`{what}` is {}, which has no time to put in a window", describe(&base.ty)),
                )
                .with_label("window on a value without a time")
                .with_help(format!(
                    "windows apply to events and to date or timestamp attributes; to read `{what}` at an earlier moment write `{what}(30d ago)`"
                )),
            );
            return None;
        }
        Some(mk(
            ExprKind::InWindow {
                expr: Box::new(base),
                window,
            },
            Type::Bool,
        ))
    }

    fn not_a_stream(&mut self, what: &str, span: Span, why: &str) {
        self.report(
            Diagnostic::new(
                Code::NotAStream,
                span,
                format!("`{what}` is not an event stream"),
            )
            .with_label(why.to_string())
            .with_help("use an event type or a signal here"),
        );
    }

    /// `attr was v`, `attr changed from a to b`.
    fn history(
        &mut self,
        base: &Expr,
        h: &HistoryTest,
        window: Option<Window>,
        env: Env,
        id: &Ident,
    ) -> Option<Expr> {
        let span = match h {
            HistoryTest::Was(_, s) => *s,
            HistoryTest::Changed { span, .. } => *span,
        };
        let attr = match (&base.kind, self.lookup(&id.name, env)) {
            (ExprKind::Attr(a), Some(Sym::Attr(f))) if f.history => a.clone(),
            (ExprKind::Attr(a), _) => {
                self.report(
                    Diagnostic::new(
                        Code::NoHistory,
                        span,
                        format!("`{a}` has no history"),
                    )
                    .with_label("needs the attribute's change log")
                    .with_related(id.span, "declared without `with history`")
                    .with_help(format!("declare it `{a}: … with history` in the contact block and load its change log")),
                );
                return None;
            }
            _ => {
                self.report(
                    Diagnostic::new(
                        Code::NoHistory,
                        span,
                        format!(
                            "`{}` is not a contact attribute, so it has no history",
                            self.snippet(id.span)
                        ),
                    )
                    .with_label("history tests read a contact attribute's change log")
                    .with_help("test a contact attribute declared `with history`"),
                );
                return None;
            }
        };
        let window = window.unwrap_or(Window::Ever);
        let value = |this: &mut Self, e: &ast::Expr| -> Option<super::program::Value> {
            let v = this.value_for(e, &base.ty, env, id.span)?;
            match v.kind {
                ExprKind::Lit(val) => Some(val),
                _ => {
                    this.report(
                        Diagnostic::new(Code::TypeMismatch, e.span, "expected a value")
                            .with_label("not a literal value")
                            .with_help(format!("write a value `{}` can hold", id.name)),
                    );
                    None
                }
            }
        };
        Some(match h {
            HistoryTest::Was(v, _) => {
                let value = value(self, v)?;
                mk(
                    ExprKind::Was {
                        attr,
                        value,
                        window,
                    },
                    Type::Bool,
                )
            }
            HistoryTest::Changed { from, to, .. } => {
                let from = from.as_ref().map(|f| value(self, f));
                let to = to.as_ref().map(|t| value(self, t));
                let from = match from {
                    Some(f) => Some(f?),
                    None => None,
                };
                let to = match to {
                    Some(t) => Some(t?),
                    None => None,
                };
                mk(
                    ExprKind::Changed {
                        attr,
                        from,
                        to,
                        window,
                    },
                    Type::Bool,
                )
            }
        })
    }

    /// `count(…)`, `sum(…)`, … over events, or over an account's contacts.
    pub(super) fn agg(
        &mut self,
        func: AggFunc,
        func_span: Span,
        arg: &AggArg,
        env: Env,
    ) -> Option<Expr> {
        if env == Env::Account {
            return self.contacts_agg(func, func_span, arg);
        }
        let s = match arg {
            AggArg::Stream(s) => s,
            AggArg::Expr(e) => {
                self.report(
                    Diagnostic::new(
                        Code::NotAStream,
                        e.span,
                        format!("`{}` needs an event stream here", func.name()),
                    )
                    .with_label("not an event type or signal")
                    .with_help(format!(
                        "write e.g. `{}(purchased.amount)`; aggregates over expressions belong in account definitions",
                        func.name()
                    )),
                );
                return None;
            }
        };
        if let StreamSource::Named(id) = &s.source {
            if id.name == "contacts" && self.lookup("contacts", env).is_none() {
                self.report(
                    Diagnostic::new(
                        Code::WrongScope,
                        id.span,
                        "`contacts` is read in a contact definition",
                    )
                    .with_label("only accounts have contacts")
                    .with_help(
                        "make this an account definition: `account segment …`, `account score …`",
                    ),
                );
                return None;
            }
            if self.lookup(&id.name, env).is_some() && !self.is_stream_name(&id.name) {
                self.report(
                    Diagnostic::new(
                        Code::NotAStream,
                        id.span,
                        format!("`{}` is not an event type or signal", id.name),
                    )
                    .with_label(format!("`{}` aggregates events", func.name()))
                    .with_help("aggregate an event field, e.g. `sum(purchased.amount)`; over an account's contacts, use an account definition"),
                );
                return None;
            }
        }
        let (stream, ev) = self.stream(&s.source, s.filter.as_ref(), s.window.as_ref(), env)?;
        let field = match &s.field {
            Some(f) => {
                let Some(field) = self.lookup(&f.name, Env::Event(ev)) else {
                    self.unknown_name(f, Env::Event(ev));
                    return None;
                };
                let Sym::EventField(field) = field else {
                    return None;
                };
                Some((field, f.span))
            }
            None => None,
        };
        let ty = self.agg_type(
            func,
            func_span,
            field.as_ref().map(|(f, s)| (&f.ty, *s, f.name.as_str())),
            false,
        )?;
        Some(mk(
            ExprKind::Agg {
                func,
                stream,
                field: field.map(|(f, _)| f.name),
            },
            ty,
        ))
    }

    /// The result type of an aggregate over values of `arg` (type, span, what);
    /// `contacts` says whether it runs over an account's contacts.
    fn agg_type(
        &mut self,
        func: AggFunc,
        func_span: Span,
        arg: Option<(&Type, Span, &str)>,
        contacts: bool,
    ) -> Option<Type> {
        let name = func.name();
        let example = if contacts {
            "sales_ready"
        } else {
            "purchased.amount"
        };
        match (func, arg) {
            (AggFunc::Count, _) | (AggFunc::CountDistinct, Some(_)) => Some(Type::Int),
            (AggFunc::FirstTime | AggFunc::LastTime, None) if !contacts => Some(Type::Timestamp),
            (AggFunc::FirstTime | AggFunc::LastTime, Some((_, span, _))) if !contacts => {
                self.report(
                    Diagnostic::new(
                        Code::BadOperand,
                        span,
                        format!("`{name}` takes events, not a field"),
                    )
                    .with_label("remove the field")
                    .with_help(format!("write `{name}(purchased)`: the time of the event")),
                );
                None
            }
            (AggFunc::First | AggFunc::Last | AggFunc::FirstTime | AggFunc::LastTime, _)
                if contacts =>
            {
                self.report(
                    Diagnostic::new(
                        Code::BadOperand,
                        func_span,
                        format!("`{name}` has no meaning over an account's contacts"),
                    )
                    .with_label("contacts have no order")
                    .with_help("use `min`, `max`, `most_frequent` or `count_distinct`"),
                );
                None
            }
            (_, None) => {
                let what = if contacts {
                    "a contact-level value"
                } else {
                    "a field"
                };
                self.report(
                    Diagnostic::new(
                        Code::NonNumericAgg,
                        func_span,
                        format!("`{name}` needs {what} to aggregate"),
                    )
                    .with_label(format!("`{name}` of what?"))
                    .with_help(format!("write e.g. `{name}({example})`")),
                );
                None
            }
            (AggFunc::Sum | AggFunc::Avg, Some((ty, span, what))) => {
                if !ty.is_numeric() {
                    self.non_numeric(name, ty, span, what, "");
                    return None;
                }
                Some(if func == AggFunc::Sum {
                    ty.clone()
                } else {
                    Type::Number
                })
            }
            (AggFunc::Min | AggFunc::Max, Some((ty, span, what))) => {
                if !ordered(ty) {
                    self.non_numeric(name, ty, span, what, ", a date or a timestamp");
                    return None;
                }
                Some(ty.clone())
            }
            (_, Some((ty, _, _))) => Some(ty.clone()),
        }
    }

    fn non_numeric(&mut self, name: &str, ty: &Type, span: Span, what: &str, extra: &str) {
        self.report(
            Diagnostic::new(
                Code::NonNumericAgg,
                span,
                format!(
                    "`{name}` needs a number{extra}, and `{what}` is {}",
                    describe(ty)
                ),
            )
            .with_label(format!("{} values", ty.name()))
            .with_help(
                "aggregate a numeric field, or use `count`, `count_distinct` or `most_frequent`",
            ),
        );
    }

    /// An aggregate in an account definition: over the account's contacts.
    fn contacts_agg(&mut self, func: AggFunc, func_span: Span, arg: &AggArg) -> Option<Expr> {
        let (expr, filter, arg_span) = match arg {
            AggArg::Expr(e) => (Some(self.expr(e, Env::Contact)?), None, e.span),
            AggArg::Stream(s) => {
                let id = match &s.source {
                    StreamSource::AnyEvent(span) => {
                        self.events_in_account(&Ident {
                            name: "event".into(),
                            span: *span,
                        });
                        return None;
                    }
                    StreamSource::Named(id) => id,
                };
                if self.is_stream_name(&id.name) {
                    self.events_in_account(id);
                    return None;
                }
                if let Some(w) = &s.window {
                    self.report(
                        Diagnostic::new(
                            Code::BadWindow,
                            w.span(),
                            "a window on an account's contacts",
                        )
                        .with_label("contacts have no time")
                        .with_help("put the window on the events inside a contact definition, and aggregate that"),
                    );
                    return None;
                }
                let filter = match &s.filter {
                    Some(f) => Some(self.cond(f, Env::Contact)?),
                    None => None,
                };
                let is_contacts =
                    id.name == "contacts" && self.lookup("contacts", Env::Contact).is_none();
                let expr = match (&s.field, is_contacts) {
                    (None, true) => None,
                    (Some(f), true) => Some(self.name(f, Env::Contact)?),
                    (Some(f), false) => Some(self.path(id, f, Env::Contact)?),
                    (None, false) => Some(self.name(id, Env::Contact)?),
                };
                (expr, filter, s.span)
            }
        };
        // `count(hot)` over a condition counts the contacts for which it holds
        let (expr, filter) = match expr {
            Some(e) if func == AggFunc::Count && e.ty == Type::Bool => {
                (None, join(Some(e), filter))
            }
            other => (other, filter),
        };
        let what = self.snippet(arg_span).to_string();
        let ty = self.agg_type(
            func,
            func_span,
            expr.as_ref().map(|e| (&e.ty, arg_span, what.as_str())),
            true,
        )?;
        Some(mk(
            ExprKind::ContactsAgg {
                func,
                expr: expr.map(Box::new),
                filter: filter.map(Box::new),
            },
            ty,
        ))
    }
}
