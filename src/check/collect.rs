//! Gathering the program: the schema (contact, account and event blocks of every file)
//! and the named definitions, with duplicate and schema checks.

use super::schema::{EventType, Field, Type};
use super::suggest::did_you_mean;
use super::{Checker, State};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{
    self, Band, FieldDecl, Ident, ItemKind, NumRange, Persona, ScoreBody, SegmentBody,
    StreamSource, TypeExpr,
};
use crate::syntax::span::Span;
use std::collections::HashMap;

/// The type names a schema may use.
const TYPE_NAMES: &[&str] = &[
    "text",
    "int",
    "number",
    "bool",
    "date",
    "timestamp",
    "duration",
    "account",
];

/// Field names that data files use for their own columns.
const RESERVED_CONTACT: &[&str] = &["id"];
const RESERVED_EVENT: &[&str] = &["contact_id", "event", "at"];

/// A named definition as written.
#[derive(Debug, Clone)]
pub(super) struct DefSrc<'a> {
    pub name: &'a Ident,
    pub scope: ast::Scope,
    pub kind: Src<'a>,
}

/// The body of a definition as written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Src<'a> {
    Signal {
        source: &'a StreamSource,
        filter: Option<&'a ast::Expr>,
    },
    Segment(&'a SegmentBody),
    Score {
        range: Option<&'a NumRange>,
        body: &'a ScoreBody,
    },
    Value(&'a ast::Expr),
    Tiers {
        score: &'a Ident,
        bands: &'a [Band],
    },
    Personas(&'a [Persona]),
}

impl Src<'_> {
    /// What the definition is, as a noun: "segment", "score", ….
    pub fn noun(&self) -> &'static str {
        match self {
            Src::Signal { .. } => "signal",
            Src::Segment(_) => "segment",
            Src::Score { .. } => "score",
            Src::Value(_) => "value",
            Src::Tiers { .. } => "tier set",
            Src::Personas(_) => "persona group",
        }
    }
}

/// Where a schema block was first seen.
#[derive(Default)]
struct Seen {
    contact: Option<Span>,
    account: Option<Span>,
    link: Option<Span>,
    /// Name → span of the first declaration, shared by definitions, event types and
    /// contact attributes (one namespace for bare names).
    names: HashMap<String, Span>,
    account_names: HashMap<String, Span>,
}

impl<'a> Checker<'a> {
    /// Collects the schema and the definitions of every loaded file.
    /// Reports, and says, when the program has more definitions than
    /// [`crate::limits::DEFINITIONS`] (at the first one past the limit).
    pub(super) fn too_many_definitions(&mut self) -> bool {
        let limit = crate::limits::DEFINITIONS;
        let Some(d) = self.defs.get(limit.get()) else {
            return false;
        };
        self.report(
            Diagnostic::new(
                Code::TooLarge,
                d.name.span,
                format!("more than {}", limit.describe()),
            )
            .with_label("one definition too many")
            .with_help("split the rules into programs that each compute what one team needs"),
        );
        true
    }

    pub(super) fn collect(&mut self) {
        let loaded = self.loaded;
        let mut seen = Seen::default();
        let mut account_link_fields = Vec::new();
        for (_, file) in &loaded.files {
            for item in &file.items {
                match &item.kind {
                    ItemKind::Use(_) => {}
                    ItemKind::Contact(fields) => {
                        if let Some(first) = seen.contact {
                            self.two_blocks("contact", item.span, first);
                            continue;
                        }
                        seen.contact = Some(item.span);
                        let fs = self.fields(fields, "contact", RESERVED_CONTACT, true);
                        for (f, decl) in fs {
                            if f.ty == Type::AccountLink {
                                account_link_fields.push(decl.span);
                                if let Some(first) = seen.link {
                                    self.report(
                                        Diagnostic::new(
                                            Code::BadSchema,
                                            decl.span,
                                            format!(
                                                "`{}` is a second link to the account",
                                                decl.name.name
                                            ),
                                        )
                                        .with_label("second `account` attribute")
                                        .with_related(first, "the first link to the account")
                                        .with_help("a contact belongs to one account: keep one attribute of type `account`"),
                                    );
                                    continue;
                                }
                                seen.link = Some(decl.span);
                            }
                            self.declare(&mut seen, &decl.name, "contact attribute");
                            self.schema.contact.push(f);
                        }
                    }
                    ItemKind::Account(fields) => {
                        if let Some(first) = seen.account {
                            self.two_blocks("account", item.span, first);
                            continue;
                        }
                        seen.account = Some(item.span);
                        for (f, decl) in self.fields(fields, "account", RESERVED_CONTACT, false) {
                            seen.account_names
                                .entry(decl.name.name.clone())
                                .or_insert(decl.name.span);
                            self.schema.account.push(f);
                        }
                    }
                    ItemKind::Event { name, fields } => {
                        if !self.declare(&mut seen, name, "event type") {
                            continue;
                        }
                        let fs = self.fields(fields, "event", RESERVED_EVENT, false);
                        self.schema.events.push(EventType {
                            name: name.name.clone(),
                            fields: fs.into_iter().map(|(f, _)| f).collect(),
                        });
                    }
                    ItemKind::Signal {
                        name,
                        source,
                        filter,
                    } => self.add_def(
                        &mut seen,
                        DefSrc {
                            name,
                            scope: ast::Scope::Contact,
                            kind: Src::Signal {
                                source,
                                filter: filter.as_ref(),
                            },
                        },
                    ),
                    ItemKind::Segment { scope, name, body } => self.add_def(
                        &mut seen,
                        DefSrc {
                            name,
                            scope: *scope,
                            kind: Src::Segment(body),
                        },
                    ),
                    ItemKind::Score {
                        scope,
                        name,
                        range,
                        body,
                    } => self.add_def(
                        &mut seen,
                        DefSrc {
                            name,
                            scope: *scope,
                            kind: Src::Score {
                                range: range.as_ref(),
                                body,
                            },
                        },
                    ),
                    ItemKind::Value { scope, name, expr } => self.add_def(
                        &mut seen,
                        DefSrc {
                            name,
                            scope: *scope,
                            kind: Src::Value(expr),
                        },
                    ),
                    ItemKind::Tiers { name, score, bands } => self.add_def(
                        &mut seen,
                        DefSrc {
                            name,
                            scope: ast::Scope::Contact,
                            kind: Src::Tiers { score, bands },
                        },
                    ),
                    ItemKind::Personas { name, personas } => self.add_def(
                        &mut seen,
                        DefSrc {
                            name,
                            scope: ast::Scope::Contact,
                            kind: Src::Personas(personas),
                        },
                    ),
                }
            }
        }
        self.program_level_schema(&seen);
        self.state = vec![State::Todo; self.defs.len()];
        self.lowered = vec![None; self.defs.len()];
        self.deps = vec![Vec::new(); self.defs.len()];
    }

    /// Schema checks that need the whole program.
    fn program_level_schema(&mut self, seen: &Seen) {
        let parse_failed = self.loaded.diagnostics.iter().any(|d| d.is_error());
        if seen.contact.is_none() && !parse_failed {
            let entry = self.loaded.files.last().map(|(id, _)| Span::new(*id, 0, 0));
            if let Some(span) = entry {
                self.report(
                    Diagnostic::new(Code::BadSchema, span, "the program has no `contact` block")
                        .with_label("no `contact { … }` in this file or its imports")
                        .with_help("declare the contact attributes, e.g. `contact { email: text }`, or `use` the schema file"),
                );
            }
        }
        if let (Some(link), None) = (seen.link, seen.account) {
            self.report(
                Diagnostic::new(
                    Code::BadSchema,
                    link,
                    "contacts link to accounts, but there is no `account` block",
                )
                .with_label("attribute of type `account`")
                .with_help("declare the account attributes, e.g. `account { name: text }`"),
            );
        }
    }

    fn two_blocks(&mut self, what: &str, span: Span, first: Span) {
        self.report(
            Diagnostic::new(Code::BadSchema, span, format!("a second `{what}` block"))
                .with_label(format!("second `{what}` block"))
                .with_related(first, format!("the first `{what}` block"))
                .with_help(format!(
                    "put every {what} attribute in one `{what} {{ … }}` block"
                )),
        );
    }

    /// Adds a name to the shared namespace; reports a duplicate and returns false when
    /// it is already taken.
    fn declare(&mut self, seen: &mut Seen, name: &Ident, what: &str) -> bool {
        if let Some(&first) = seen.names.get(&name.name) {
            self.report(
                Diagnostic::new(
                    Code::Duplicate,
                    name.span,
                    format!("`{}` is defined more than once", name.name),
                )
                .with_label(format!("this {what} reuses the name"))
                .with_related(first, format!("`{}` is first defined here", name.name))
                .with_help("rename one of them"),
            );
            return false;
        }
        seen.names.insert(name.name.clone(), name.span);
        true
    }

    fn add_def(&mut self, seen: &mut Seen, def: DefSrc<'a>) {
        let taken_by_account =
            def.scope == ast::Scope::Account && seen.account_names.contains_key(&def.name.name);
        if taken_by_account {
            let first = seen
                .account_names
                .get(&def.name.name)
                .copied()
                .unwrap_or(def.name.span);
            self.report(
                Diagnostic::new(
                    Code::Duplicate,
                    def.name.span,
                    format!("`{}` is defined more than once", def.name.name),
                )
                .with_label(format!("this account {} reuses the name", def.kind.noun()))
                .with_related(first, "an account attribute of that name")
                .with_help("rename one of them"),
            );
            return;
        }
        if !self.declare(seen, def.name, def.kind.noun()) {
            return;
        }
        self.by_name.insert(def.name.name.clone(), self.defs.len());
        self.defs.push(def);
    }

    /// Converts one block's field declarations, reporting duplicates, unknown types,
    /// reserved names and misplaced `account` types, ranges and histories.
    fn fields<'f>(
        &mut self,
        decls: &'f [FieldDecl],
        block: &str,
        reserved: &[&str],
        link_allowed: bool,
    ) -> Vec<(Field, &'f FieldDecl)> {
        let mut out: Vec<(Field, &FieldDecl)> = Vec::new();
        for d in decls {
            if let Some((_, first)) = out.iter().find(|(f, _)| f.name == d.name.name) {
                let first = first.name.span;
                self.report(
                    Diagnostic::new(
                        Code::Duplicate,
                        d.name.span,
                        format!("`{}` is declared more than once", d.name.name),
                    )
                    .with_label("declared again here")
                    .with_related(first, "first declared here")
                    .with_help("remove or rename one of them"),
                );
                continue;
            }
            if reserved.contains(&d.name.name.as_str()) {
                self.report(
                    Diagnostic::new(
                        Code::BadSchema,
                        d.name.span,
                        format!("`{}` is a reserved column name", d.name.name),
                    )
                    .with_label("reserved")
                    .with_help(format!(
                        "data files supply `{}` themselves; rename the attribute",
                        reserved.join("`, `")
                    )),
                );
                continue;
            }
            let Some(ty) = self.field_type(&d.ty) else {
                continue;
            };
            if ty == Type::AccountLink && !link_allowed {
                self.report(
                    Diagnostic::new(
                        Code::BadSchema,
                        d.span,
                        format!("the type `account` is only allowed in the `contact` block, not in `{block}`"),
                    )
                    .with_label("link to an account")
                    .with_help("declare the link as a contact attribute: `contact { account: account? }`"),
                );
                continue;
            }
            let mut range = None;
            if let Some(r) = &d.range {
                if !ty.is_numeric() {
                    self.report(
                        Diagnostic::new(
                            Code::BadSchema,
                            r.span,
                            format!(
                                "a value range needs a numeric type, and `{}` is {}",
                                d.name.name,
                                ty.name()
                            ),
                        )
                        .with_label("range on a non-numeric attribute")
                        .with_help("remove the range, or make the type `int` or `number`"),
                    );
                } else if self.check_range(r) {
                    range = Some((r.lo.value, r.hi.value));
                }
            }
            if d.history && block != "contact" {
                self.report(
                    Diagnostic::new(
                        Code::BadSchema,
                        d.span,
                        format!(
                            "only contact attributes can have a history, and `{}` is in `{block}`",
                            d.name.name
                        ),
                    )
                    .with_label("`with history` here")
                    .with_help("remove `with history`"),
                );
            }
            out.push((
                Field {
                    name: d.name.name.clone(),
                    ty,
                    optional: d.optional,
                    history: d.history && block == "contact",
                    range,
                },
                d,
            ));
        }
        out
    }

    /// Reports a reversed range; returns whether it is usable.
    pub(super) fn check_range(&mut self, r: &NumRange) -> bool {
        if r.lo.value > r.hi.value {
            self.report(
                Diagnostic::new(
                    Code::BadRange,
                    r.span,
                    format!("the range `{}` is reversed", self.snippet(r.span)),
                )
                .with_label("the low end is above the high end")
                .with_help(format!(
                    "write the low end first: `{}..{}`",
                    self.snippet(r.hi.span),
                    self.snippet(r.lo.span)
                )),
            );
            return false;
        }
        true
    }

    fn field_type(&mut self, t: &TypeExpr) -> Option<Type> {
        match t {
            TypeExpr::OneOf(values, span) => {
                let mut names: Vec<String> = Vec::new();
                for v in values {
                    if names.contains(&v.name) {
                        self.report(
                            Diagnostic::new(
                                Code::Duplicate,
                                v.span,
                                format!("`{}` is listed twice", v.name),
                            )
                            .with_label("listed again")
                            .with_related(*span, "in this list")
                            .with_help("remove one of them"),
                        );
                    } else {
                        names.push(v.name.clone());
                    }
                }
                Some(Type::Enum(names))
            }
            TypeExpr::Named(id) => Some(match id.name.as_str() {
                "text" => Type::Text,
                "int" => Type::Int,
                "number" => Type::Number,
                "bool" => Type::Bool,
                "date" => Type::Date,
                "timestamp" => Type::Timestamp,
                "duration" => Type::Duration,
                "account" => Type::AccountLink,
                other => {
                    let mut d = Diagnostic::new(
                        Code::UnknownType,
                        id.span,
                        format!("unknown type `{other}`"),
                    )
                    .with_label("not a type");
                    d = d.with_help(match did_you_mean(other, TYPE_NAMES.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "the types are {}, and `one of (a, b, …)`",
                            TYPE_NAMES.join(", ")
                        ),
                    });
                    self.report(d);
                    return None;
                }
            }),
        }
    }
}
