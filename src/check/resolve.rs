//! Name lookup: what a bare name means where it is written.

use super::Checker;
use super::collect::Src;
use super::program::{Expr, ExprKind};
use super::schema::{Field, Type};
use super::suggest;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, Ident};

/// Where an expression is evaluated, which decides what its names mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Env {
    /// A contact-level definition (or a condition over an account's contacts).
    Contact,
    /// An account-level definition.
    Account,
    /// A `where` over events of one type (`None`: any event type).
    Event(Option<usize>),
}

impl Env {
    /// The environment of a definition's scope.
    pub fn of(scope: ast::Scope) -> Env {
        match scope {
            ast::Scope::Contact => Env::Contact,
            ast::Scope::Account => Env::Account,
        }
    }
}

/// What a name refers to.
#[derive(Debug, Clone)]
pub(super) enum Sym {
    /// A contact attribute.
    Attr(Field),
    /// An account attribute (account scope).
    AccountAttr(Field),
    /// A field of the events being filtered.
    EventField(Field),
    /// A definition, by index.
    Def(usize),
    /// An event type, by index in the schema.
    Event(usize),
}

/// Builds a typed expression.
pub(super) fn mk(kind: ExprKind, ty: Type) -> Expr {
    Expr { kind, ty }
}

impl Checker<'_> {
    /// What `name` means in `env`, without reporting anything.
    pub(super) fn lookup(&self, name: &str, env: Env) -> Option<Sym> {
        if let Env::Event(ev) = env {
            let fields = ev.and_then(|k| self.schema.events.get(k))?;
            return fields
                .fields
                .iter()
                .find(|f| f.name == name)
                .cloned()
                .map(Sym::EventField);
        }
        if env == Env::Account
            && let Some(f) = self.schema.account_field(name)
        {
            return Some(Sym::AccountAttr(f.clone()));
        }
        if let Some(f) = self.schema.contact_field(name) {
            return Some(Sym::Attr(f.clone()));
        }
        if let Some(i) = self.def_index(name) {
            return Some(Sym::Def(i));
        }
        self.schema
            .events
            .iter()
            .position(|e| e.name == name)
            .map(Sym::Event)
    }

    /// Whether definition `i` is a signal.
    pub(super) fn is_signal(&self, i: usize) -> bool {
        matches!(self.defs.get(i).map(|d| d.kind), Some(Src::Signal { .. }))
    }

    /// The scope a definition is evaluated in (a tier set takes its score's).
    pub(super) fn def_scope(&self, i: usize) -> ast::Scope {
        let Some(d) = self.defs.get(i) else {
            return ast::Scope::Contact;
        };
        if let Src::Tiers { score, .. } = d.kind
            && let Some(j) = self.def_index(&score.name)
            && j != i
            && let Some(s) = self.defs.get(j)
        {
            return s.scope;
        }
        d.scope
    }

    /// The names a misspelling in `env` may have meant.
    pub(super) fn candidates(&self, env: Env) -> Vec<&str> {
        match env {
            Env::Event(ev) => ev
                .and_then(|k| self.schema.events.get(k))
                .map(|e| e.fields.iter().map(|f| f.name.as_str()).collect())
                .unwrap_or_default(),
            _ => {
                let mut v: Vec<&str> = self
                    .schema
                    .contact
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect();
                if env == Env::Account {
                    v.extend(self.schema.account.iter().map(|f| f.name.as_str()));
                }
                v.extend(self.defs.iter().map(|d| d.name.name.as_str()));
                v.extend(self.schema.events.iter().map(|e| e.name.as_str()));
                v
            }
        }
    }

    /// Reports a name that means nothing in `env`.
    pub(super) fn unknown_name(&mut self, id: &Ident, env: Env) {
        let help = suggest::help(&id.name, self.candidates(env));
        let d = match env {
            Env::Event(ev) => {
                let event = ev
                    .and_then(|k| self.schema.events.get(k))
                    .map(|e| e.name.clone());
                match event {
                    Some(event) => {
                        let fields: Vec<String> = self
                            .schema
                            .event(&event)
                            .map(|e| e.fields.iter().map(|f| format!("`{}`", f.name)).collect())
                            .unwrap_or_default();
                        let help = help.unwrap_or_else(|| {
                            if fields.is_empty() {
                                format!("`{event}` events have no fields")
                            } else {
                                format!("the fields of `{event}` are {}", fields.join(", "))
                            }
                        });
                        Diagnostic::new(
                            Code::UnknownField,
                            id.span,
                            format!("`{event}` events have no field `{}`", id.name),
                        )
                        .with_label("not a field of this event type")
                        .with_help(help)
                    }
                    None => Diagnostic::new(
                        Code::UnknownField,
                        id.span,
                        format!("`{}` is not a field of every event type", id.name),
                    )
                    .with_label("`event` streams have no fields")
                    .with_help(
                        "filter one event type instead, e.g. `page_viewed where url = \"/\"`",
                    ),
                }
            }
            _ => {
                let d = Diagnostic::new(
                    Code::UnknownName,
                    id.span,
                    format!("unknown name `{}`", id.name),
                )
                .with_label("not defined anywhere in this program");
                match help {
                    Some(h) => d.with_help(h),
                    None => d.with_help("define it, or `use` the file that defines it"),
                }
            }
        };
        self.report(d);
    }
}
