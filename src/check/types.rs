//! Expression typing: every syntax expression becomes a typed [`Expr`], or a diagnostic.
//! `None` means the problem has been reported already.

use super::Checker;
use super::collect::Src;
use super::program::{Dur, Expr, ExprKind, TimeRef, Value};
use super::resolve::{Env, Sym, mk};
use super::schema::Type;
use super::suggest;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, BinOp, Ident, Literal, TimePoint};
use crate::syntax::span::Span;

/// Whether two operand types may be compared with each other.
fn comparable(a: &Type, b: &Type) -> bool {
    a == b
        || (a.is_numeric() && b.is_numeric())
        || matches!(
            (a, b),
            (Type::Enum(_), Type::Text) | (Type::Text, Type::Enum(_))
        )
}

/// Whether the type has arithmetic (`+`, `-`; `*`, `/` for numbers).
fn arithmetic(t: &Type) -> bool {
    t.is_numeric() || *t == Type::Duration
}

/// Whether values of the type have an order (`<`, `top N by`, `min`).
pub(super) fn ordered(t: &Type) -> bool {
    t.is_numeric() || matches!(t, Type::Date | Type::Timestamp | Type::Duration)
}

/// The type as a user reads it in a message.
pub(super) fn describe(t: &Type) -> String {
    match t {
        Type::Bool => "a condition (bool)".into(),
        Type::Enum(_) => format!("`{}`", t.name()),
        other => other.name(),
    }
}

impl Checker<'_> {
    /// Lowers an expression.
    pub(super) fn expr(&mut self, e: &ast::Expr, env: Env) -> Option<Expr> {
        use ast::ExprKind as K;
        match &e.kind {
            K::Lit(l) => self.literal(l, e.span),
            K::Name(id) => self.name(id, env),
            K::Path(base, member) => self.path(base, member, env),
            K::Stream(t) => self.stream_test(t, env, false),
            K::No(t) => self.stream_test(t, env, true),
            K::AsOf { base, member, at } => self.as_of(base, member.as_ref(), at, env),
            K::Agg {
                func,
                func_span,
                arg,
            } => self.agg(*func, *func_span, arg, env),
            K::TimeSince(x) => {
                let x = self.expr(x, env)?;
                if !matches!(x.ty, Type::Date | Type::Timestamp) {
                    self.report(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            e.span,
                            format!(
                                "`time_since` needs a date or a timestamp, found {}",
                                describe(&x.ty)
                            ),
                        )
                        .with_label("not a moment")
                        .with_help(
                            "pass a date or timestamp, e.g. `time_since(last_time(page_viewed))`",
                        ),
                    );
                    return None;
                }
                Some(mk(ExprKind::TimeSince(Box::new(x)), Type::Duration))
            }
            K::Not(x) => {
                let x = self.cond(x, env)?;
                Some(mk(ExprKind::Not(Box::new(x)), Type::Bool))
            }
            K::Neg(x) => {
                let x = self.expr(x, env)?;
                if !(x.ty.is_numeric() || x.ty == Type::Duration) {
                    self.bad_operand("-", &x.ty, e.span);
                    return None;
                }
                let ty = x.ty.clone();
                Some(mk(ExprKind::Neg(Box::new(x)), ty))
            }
            K::And(items) | K::Or(items) => {
                let lowered: Vec<Option<Expr>> = items.iter().map(|i| self.cond(i, env)).collect();
                let lowered: Vec<Expr> = lowered.into_iter().collect::<Option<_>>()?;
                if matches!(e.kind, K::And(_)) {
                    self.check_contradiction(items, &lowered, e.span);
                    Some(mk(ExprKind::And(lowered), Type::Bool))
                } else {
                    Some(mk(ExprKind::Or(lowered), Type::Bool))
                }
            }
            K::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => self.binary(*op, *op_span, lhs, rhs, env, e.span),
            K::InList {
                expr,
                negated,
                items,
            } => self.in_list(expr, *negated, items, env),
            K::InRange { expr, range } => {
                let x = self.expr(expr, env)?;
                if !x.ty.is_numeric() {
                    self.bad_operand("in lo..hi", &x.ty, e.span);
                    return None;
                }
                if !self.check_range(range) {
                    return None;
                }
                self.check_in_range(&x, range, env, e.span);
                Some(mk(
                    ExprKind::InRange {
                        expr: Box::new(x),
                        lo: range.lo.value,
                        hi: range.hi.value,
                    },
                    Type::Bool,
                ))
            }
            K::Text { expr, op, patterns } => {
                let x = self.expr(expr, env)?;
                if x.ty != Type::Text {
                    let word = match op {
                        ast::TextOp::Contains => "contains",
                        ast::TextOp::StartsWith => "starts with",
                        ast::TextOp::EndsWith => "ends with",
                    };
                    self.bad_operand(word, &x.ty, e.span);
                    return None;
                }
                Some(mk(
                    ExprKind::Text {
                        expr: Box::new(x),
                        op: *op,
                        patterns: patterns.iter().map(|p| p.value.clone()).collect(),
                    },
                    Type::Bool,
                ))
            }
            K::Matches {
                expr,
                pattern,
                flags,
                regex_span,
            } => {
                let x = self.expr(expr, env);
                let ok = self.check_regex(pattern, flags, *regex_span);
                let x = x?;
                if x.ty != Type::Text {
                    self.bad_operand("matches", &x.ty, e.span);
                    return None;
                }
                ok.then(|| {
                    mk(
                        ExprKind::Matches {
                            expr: Box::new(x),
                            pattern: pattern.clone(),
                            flags: flags.clone(),
                        },
                        Type::Bool,
                    )
                })
            }
            K::IsMissing { expr, negated } => {
                let x = self.expr(expr, env)?;
                Some(mk(
                    ExprKind::IsMissing {
                        expr: Box::new(x),
                        negated: *negated,
                    },
                    Type::Bool,
                ))
            }
            K::Paren(x) => self.expr(x, env),
        }
    }

    /// Lowers an expression that must be a condition.
    pub(super) fn cond(&mut self, e: &ast::Expr, env: Env) -> Option<Expr> {
        let x = self.expr(e, env)?;
        if x.ty != Type::Bool {
            let help = if x.ty.is_numeric() {
                format!("compare it, e.g. `{} > 0`", self.snippet(e.span))
            } else {
                format!(
                    "compare it with a value, e.g. `{} = …`",
                    self.snippet(e.span)
                )
            };
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    e.span,
                    format!("expected a condition, found {}", describe(&x.ty)),
                )
                .with_label("this is not true or false")
                .with_help(help),
            );
            return None;
        }
        Some(x)
    }

    /// Lowers an expression that must be a number.
    pub(super) fn numeric(&mut self, e: &ast::Expr, env: Env) -> Option<Expr> {
        let x = self.expr(e, env)?;
        if !x.ty.is_numeric() {
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    e.span,
                    format!("expected a number, found {}", describe(&x.ty)),
                )
                .with_label("not a number"),
            );
            return None;
        }
        Some(x)
    }

    pub(super) fn bad_operand(&mut self, op: &str, ty: &Type, span: Span) {
        let help = match (op, ty) {
            (_, Type::Enum(_)) => "test enum values with `=` or `in (a, b)`".to_string(),
            (_, Type::Bool) => "combine conditions with `and`, `or`, `not`".to_string(),
            _ => "see `docs/language.md` for the operators of each type".to_string(),
        };
        self.report(
            Diagnostic::new(
                Code::BadOperand,
                span,
                format!("`{op}` does not apply to {}", describe(ty)),
            )
            .with_label(format!("this is {}", describe(ty)))
            .with_help(help),
        );
    }

    /// Validates a regex's syntax and flags, and that it compiles within
    /// [`crate::limits::REGEX_BYTES`] as the engine will compile it.
    fn check_regex(&mut self, pattern: &str, flags: &str, span: Span) -> bool {
        let mut b = regex_syntax::ParserBuilder::new();
        for c in flags.chars() {
            match c {
                'i' => b.case_insensitive(true),
                'm' => b.multi_line(true),
                's' => b.dot_matches_new_line(true),
                'x' => b.ignore_whitespace(true),
                'u' => b.unicode(true),
                other => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidRegex,
                            span,
                            format!("unknown regular expression flag `{other}`"),
                        )
                        .with_label("in these flags")
                        .with_help("the flags are `i`, `m`, `s`, `x` and `u`"),
                    );
                    return false;
                }
            };
        }
        if let Err(e) = b.build().parse(pattern) {
            let reason = e.to_string();
            let last = reason.lines().last().unwrap_or("").trim().to_lowercase();
            let last = last.trim_start_matches("error:").trim();
            self.report(
                Diagnostic::new(
                    Code::InvalidRegex,
                    span,
                    format!("invalid regular expression: {last}"),
                )
                .with_label("this pattern")
                .with_help(
                    "the syntax is Rust's `regex` crate; escape special characters with `\\`",
                ),
            );
            return false;
        }
        if let Err(e) = crate::limits::regex(pattern, flags) {
            self.report(
                Diagnostic::new(
                    Code::InvalidRegex,
                    span,
                    match e {
                        regex::Error::CompiledTooBig(_) => format!(
                            "regular expression compiles to more than {}",
                            crate::limits::REGEX_BYTES.describe()
                        ),
                        other => format!("invalid regular expression: {other}"),
                    },
                )
                .with_label("this pattern")
                .with_help("make the repetition counts smaller, or split the pattern in two"),
            );
            return false;
        }
        true
    }

    /// A literal. Durations must have a fixed length here.
    pub(super) fn literal(&mut self, l: &Literal, span: Span) -> Option<Expr> {
        let (v, ty) = match l {
            Literal::Int(i) => (Value::Int(*i), Type::Int),
            Literal::Number(n) => (Value::Number(*n), Type::Number),
            Literal::Text(s) => (Value::Text(s.as_str().into()), Type::Text),
            Literal::Bool(b) => (Value::Bool(*b), Type::Bool),
            Literal::Date(d) => (Value::Date(*d), Type::Date),
            Literal::Timestamp(t) => (Value::Timestamp(*t), Type::Timestamp),
            Literal::Duration(d) => {
                let dur = Dur {
                    amount: d.amount,
                    unit: d.unit,
                };
                let Some(secs) = dur.fixed_seconds() else {
                    self.report(
                        Diagnostic::new(
                            Code::CalendarDuration,
                            span,
                            format!("`{}` has no fixed length", self.snippet(span)),
                        )
                        .with_label("months and years vary in length")
                        .with_help("use days or weeks here, e.g. `30d` or `52w`"),
                    );
                    return None;
                };
                (Value::Duration(secs), Type::Duration)
            }
        };
        Some(mk(ExprKind::Lit(v), ty))
    }

    /// A bare name.
    pub(super) fn name(&mut self, id: &Ident, env: Env) -> Option<Expr> {
        let Some(sym) = self.lookup(&id.name, env) else {
            self.unknown_name(id, env);
            return None;
        };
        match (sym, env) {
            (Sym::EventField(f), _) => Some(mk(ExprKind::Field(f.name), f.ty)),
            (Sym::Attr(f), Env::Contact) => Some(mk(ExprKind::Attr(f.name), f.ty)),
            (Sym::AccountAttr(f), _) => Some(mk(ExprKind::AccountAttr(f.name), f.ty)),
            (Sym::Attr(f), _) => {
                self.contact_name_in_account(id, &format!("contact attribute `{}`", f.name));
                None
            }
            (Sym::Event(_), Env::Contact) => self.exists(id),
            (Sym::Event(_), _) => {
                self.events_in_account(id);
                None
            }
            (Sym::Def(i), _) => self.def_ref(i, id, env),
        }
    }

    /// A reference to definition `i` from `env`.
    fn def_ref(&mut self, i: usize, id: &Ident, env: Env) -> Option<Expr> {
        if self.is_signal(i) {
            if env == Env::Contact {
                return self.exists(id);
            }
            self.events_in_account(id);
            return None;
        }
        let scope = self.def_scope(i);
        match (scope, env) {
            (ast::Scope::Account, Env::Contact) => {
                self.report(
                    Diagnostic::new(
                        Code::WrongScope,
                        id.span,
                        format!(
                            "`{}` is an account definition, read here for a contact",
                            id.name
                        ),
                    )
                    .with_label("account-level")
                    .with_help(format!(
                        "read it through the contact's account: `account.{}`",
                        id.name
                    )),
                );
                return None;
            }
            (ast::Scope::Contact, Env::Account) => {
                let what = self
                    .defs
                    .get(i)
                    .map(|d| d.kind.noun())
                    .unwrap_or("definition");
                self.contact_name_in_account(id, &format!("contact {what} `{}`", id.name));
                return None;
            }
            _ => {}
        }
        self.depend(i, id.span);
        let ty = self.def_type(i)?;
        Some(mk(ExprKind::Ref(id.name.clone()), ty))
    }

    fn contact_name_in_account(&mut self, id: &Ident, what: &str) {
        self.report(
            Diagnostic::new(
                Code::WrongScope,
                id.span,
                format!("{what} is read in an account definition"),
            )
            .with_label("contact-level")
            .with_help(format!(
                "aggregate it over the account's contacts, e.g. `sum({0})`, `max({0})` or `count(contacts where …)`",
                id.name
            )),
        );
    }

    pub(super) fn events_in_account(&mut self, id: &Ident) {
        self.report(
            Diagnostic::new(
                Code::WrongScope,
                id.span,
                format!("events of `{}` are read in an account definition", id.name),
            )
            .with_label("events belong to contacts")
            .with_help(format!(
                "compute it per contact first (`value n = count({})`), then aggregate it: `sum(n)`",
                id.name
            )),
        );
    }

    /// The type a reference to definition `i` has.
    pub(super) fn def_type(&mut self, i: usize) -> Option<Type> {
        let d = self.defs.get(i)?;
        match d.kind {
            Src::Signal { .. } | Src::Segment(_) => Some(Type::Bool),
            Src::Score { .. } => Some(Type::Number),
            Src::Tiers { bands, .. } => Some(Type::Enum(
                bands.iter().map(|b| b.name.name.clone()).collect(),
            )),
            Src::Personas(ps) => Some(Type::Enum(ps.iter().map(|p| p.name.name.clone()).collect())),
            Src::Value(_) => {
                self.lower_def(i);
                match self.lowered.get(i) {
                    Some(Some(super::Lowered::Def(_, ty))) => Some(ty.clone()),
                    _ => None,
                }
            }
        }
    }

    /// Whether `base` names the contact's account (`account.x`).
    fn is_account_base(&self, base: &Ident) -> bool {
        base.name == "account"
            || self
                .schema
                .account_link()
                .is_some_and(|f| f.name == base.name)
    }

    /// `a.b`: an account attribute or definition, or a misplaced event field.
    pub(super) fn path(&mut self, base: &Ident, member: &Ident, env: Env) -> Option<Expr> {
        if self.is_account_base(base) {
            if env != Env::Contact {
                self.report(
                    Diagnostic::new(
                        Code::WrongScope,
                        base.span,
                        format!(
                            "`{}.{}` is read in an account definition",
                            base.name, member.name
                        ),
                    )
                    .with_label("`account.` is for contact definitions")
                    .with_help(format!("in an account definition write `{}`", member.name)),
                );
                return None;
            }
            if self.schema.account_link().is_none() {
                self.report(
                    Diagnostic::new(
                        Code::WrongScope,
                        base.span,
                        "contacts are not linked to accounts",
                    )
                    .with_label("no account to read")
                    .with_help("add a link to the contact block: `account: account?`"),
                );
                return None;
            }
            if let Some(f) = self.schema.account_field(&member.name) {
                let f = f.clone();
                return Some(mk(ExprKind::AccountAttr(f.name), f.ty));
            }
            if let Some(i) = self.def_index(&member.name)
                && self.def_scope(i) == ast::Scope::Account
                && !self.is_signal(i)
            {
                self.depend(i, member.span);
                let ty = self.def_type(i)?;
                return Some(mk(ExprKind::AccountRef(member.name.clone()), ty));
            }
            let names: Vec<&str> = self
                .schema
                .account
                .iter()
                .map(|f| f.name.as_str())
                .chain(
                    self.defs
                        .iter()
                        .filter(|d| d.scope == ast::Scope::Account)
                        .map(|d| d.name.name.as_str()),
                )
                .collect();
            let help = suggest::help(&member.name, names.iter().copied()).unwrap_or_else(|| {
                if names.is_empty() {
                    "accounts have no attributes or definitions yet".to_string()
                } else {
                    format!(
                        "accounts have {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            });
            self.report(
                Diagnostic::new(
                    Code::UnknownName,
                    member.span,
                    format!("accounts have no attribute or definition `{}`", member.name),
                )
                .with_label("not an account attribute or account definition")
                .with_help(help),
            );
            return None;
        }
        match self.lookup(&base.name, env) {
            None => {
                self.unknown_name(base, env);
                None
            }
            Some(Sym::Event(_)) | Some(Sym::Def(_)) if self.is_stream_name(&base.name) => {
                self.report(
                    Diagnostic::new(
                        Code::NotAStream,
                        base.span.to(member.span),
                        format!("`{}.{}` is a field of many events, not one value", base.name, member.name),
                    )
                    .with_label("an event field")
                    .with_help(format!(
                        "aggregate it, e.g. `sum({0}.{1})`, `last({0}.{1})` or `count({0} where {1} …)`",
                        base.name, member.name
                    )),
                );
                None
            }
            Some(_) => {
                self.report(
                    Diagnostic::new(
                        Code::BadOperand,
                        member.span,
                        format!("`{}` has no member `{}`", base.name, member.name),
                    )
                    .with_label("`.` reads accounts and event fields")
                    .with_help("only `account.x` and event fields inside aggregates use `.`"),
                );
                None
            }
        }
    }

    /// Whether a name is an event type or a signal.
    pub(super) fn is_stream_name(&self, name: &str) -> bool {
        self.schema.event(name).is_some() || self.def_index(name).is_some_and(|i| self.is_signal(i))
    }

    /// `x(30d ago)`: a definition or attribute as of an earlier moment.
    fn as_of(
        &mut self,
        base: &Ident,
        member: Option<&Ident>,
        at: &TimePoint,
        env: Env,
    ) -> Option<Expr> {
        let inner = match member {
            Some(m) => self.path(base, m, env)?,
            None => {
                if self.is_stream_name(&base.name) && self.lookup(&base.name, env).is_some() {
                    self.report(
                        Diagnostic::new(
                            Code::BadAsOf,
                            base.span,
                            format!(
                                "`{}` is a stream of events, which has no value at a moment",
                                base.name
                            ),
                        )
                        .with_label("events cannot be read as of a moment")
                        .with_help(format!(
                            "use a window instead, e.g. `{} between 60d ago and 30d ago`",
                            base.name
                        )),
                    );
                    return None;
                }
                self.name(base, env)?
            }
        };
        let ty = inner.ty.clone();
        Some(mk(
            ExprKind::AsOf {
                expr: Box::new(inner),
                at: time_ref(at),
            },
            ty,
        ))
    }

    fn binary(
        &mut self,
        op: BinOp,
        op_span: Span,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        env: Env,
        span: Span,
    ) -> Option<Expr> {
        let (l, r) = self.operands(lhs, rhs, env)?;
        if op.is_comparison() {
            if !comparable(&l.ty, &r.ty) {
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        op_span,
                        format!(
                            "`{}` is {} and `{}` is {}: they cannot be compared",
                            self.snippet(lhs.span),
                            describe(&l.ty),
                            self.snippet(rhs.span),
                            describe(&r.ty)
                        ),
                    )
                    .with_label("compares different types")
                    .with_help("compare values of the same type"),
                );
                return None;
            }
            if !matches!(op, BinOp::Eq | BinOp::Ne) && !ordered(&l.ty) {
                self.bad_operand(op.symbol(), &l.ty, op_span);
                return None;
            }
            self.check_comparison(op, &l, &r, env, span);
            return Some(mk(
                ExprKind::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                Type::Bool,
            ));
        }
        let ty = match (&l.ty, &r.ty) {
            (Type::Int, Type::Int) if op != BinOp::Div => Type::Int,
            (a, b) if a.is_numeric() && b.is_numeric() => Type::Number,
            (Type::Duration, Type::Duration) if matches!(op, BinOp::Add | BinOp::Sub) => {
                Type::Duration
            }
            (a, b) if arithmetic(a) && arithmetic(b) => {
                // Each side has arithmetic, but not with the other: say both.
                self.report(
                    Diagnostic::new(
                        Code::BadOperand,
                        op_span,
                        format!(
                            "`{}` does not apply to {} and {}",
                            op.symbol(),
                            describe(a),
                            describe(b)
                        ),
                    )
                    .with_label(format!("{} {} {}", describe(a), op.symbol(), describe(b)))
                    .with_help(
                        "a duration only adds to or subtracts from another duration \
                         (`30d + 7d`); for a multiple of one, write it (`60d`)",
                    ),
                );
                return None;
            }
            (a, b) => {
                let bad = if arithmetic(a) { b } else { a };
                self.bad_operand(op.symbol(), bad, op_span);
                return None;
            }
        };
        Some(mk(
            ExprKind::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty,
        ))
    }

    /// Whether `e` is a bare name that only means something next to an enum operand.
    fn is_loose_name(&self, e: &ast::Expr, env: Env) -> bool {
        matches!(&e.kind, ast::ExprKind::Name(id) if self.lookup(&id.name, env).is_none())
    }

    /// Both operands of a comparison, resolving enum values against the other side; a
    /// value written first (`2026-06-01 <= first_seen`, `"MQL" = lead_stage`) is read
    /// against the operand after it, as it would be written second.
    fn operands(&mut self, lhs: &ast::Expr, rhs: &ast::Expr, env: Env) -> Option<(Expr, Expr)> {
        let is_lit = |e: &ast::Expr| matches!(e.kind, ast::ExprKind::Lit(_));
        let value_first = is_lit(lhs) && !is_lit(rhs);
        if (self.is_loose_name(lhs, env) || value_first) && !self.is_loose_name(rhs, env) {
            let r = self.expr(rhs, env)?;
            let l = self.value_for(lhs, &r.ty, env, rhs.span)?;
            return Some((l, r));
        }
        let l = self.expr(lhs, env);
        let r = match &l {
            Some(l) => {
                let ty = l.ty.clone();
                self.value_for(rhs, &ty, env, lhs.span)
            }
            None if self.is_loose_name(rhs, env) => None,
            None => self.expr(rhs, env),
        };
        Some((l?, r?))
    }

    /// An operand next to one of type `ty` (written at `other`): enum values are
    /// resolved against `ty`, and dates next to timestamps become timestamps.
    pub(super) fn value_for(
        &mut self,
        e: &ast::Expr,
        ty: &Type,
        env: Env,
        other: Span,
    ) -> Option<Expr> {
        match (ty, &e.kind) {
            (Type::Enum(values), ast::ExprKind::Name(id)) => {
                if let Some(v) = values
                    .iter()
                    .find(|v| v.to_lowercase() == id.name.to_lowercase())
                {
                    return Some(mk(
                        ExprKind::Lit(Value::Text(v.as_str().into())),
                        ty.clone(),
                    ));
                }
                if self.lookup(&id.name, env).is_some() {
                    return self.expr(e, env);
                }
                self.unknown_enum_value(&id.name, id.span, values, other);
                None
            }
            (Type::Enum(values), ast::ExprKind::Lit(Literal::Text(s))) => {
                if let Some(v) = values.iter().find(|v| v.to_lowercase() == s.to_lowercase()) {
                    return Some(mk(
                        ExprKind::Lit(Value::Text(v.as_str().into())),
                        ty.clone(),
                    ));
                }
                self.unknown_enum_value(s, e.span, values, other);
                None
            }
            (Type::Timestamp, ast::ExprKind::Lit(Literal::Date(d))) => Some(mk(
                ExprKind::Lit(Value::Timestamp(
                    d.and_time(chrono::NaiveTime::MIN).and_utc(),
                )),
                Type::Timestamp,
            )),
            _ => self.expr(e, env),
        }
    }

    fn unknown_enum_value(&mut self, written: &str, span: Span, values: &[String], other: Span) {
        let listed = values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let operand = self.snippet(other).to_string();
        let help = match suggest::did_you_mean(written, values.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? `{operand}` is one of {listed}"),
            None => format!("`{operand}` is one of {listed}"),
        };
        self.report(
            Diagnostic::new(
                Code::UnknownEnumValue,
                span,
                format!("`{written}` is not a value of `{operand}`"),
            )
            .with_label(format!("not one of {listed}"))
            .with_related(other, "compared with this")
            .with_help(help),
        );
    }

    fn in_list(
        &mut self,
        expr: &ast::Expr,
        negated: bool,
        items: &[ast::Expr],
        env: Env,
    ) -> Option<Expr> {
        let x = self.expr(expr, env)?;
        let mut values = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(v) = self.value_for(item, &x.ty, env, expr.span) else {
                ok = false;
                continue;
            };
            match v.kind {
                ExprKind::Lit(val) if comparable(&x.ty, &v.ty) => values.push(val),
                ExprKind::Lit(_) => {
                    self.report(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            item.span,
                            format!(
                                "`{}` is {}, and this list item is {}",
                                self.snippet(expr.span),
                                describe(&x.ty),
                                describe(&v.ty)
                            ),
                        )
                        .with_label("wrong type for this list")
                        .with_help("list values of the tested expression's type"),
                    );
                    ok = false;
                }
                _ => {
                    self.report(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            item.span,
                            "a list item must be a value",
                        )
                        .with_label("not a literal value")
                        .with_help("compare with `=` to test against another name"),
                    );
                    ok = false;
                }
            }
        }
        ok.then(|| {
            mk(
                ExprKind::InList {
                    expr: Box::new(x),
                    items: values,
                    negated,
                },
                Type::Bool,
            )
        })
    }
}

/// A time point relative to the evaluation moment.
pub(super) fn time_ref(t: &TimePoint) -> TimeRef {
    match t {
        TimePoint::Now(_) => TimeRef::Now,
        TimePoint::Ago(d, _) => TimeRef::Ago(Dur {
            amount: d.amount,
            unit: d.unit,
        }),
        TimePoint::Date(d, _) => TimeRef::Date(*d),
        TimePoint::Timestamp(t, _) => TimeRef::Timestamp(*t),
    }
}
