//! Before anything is lowered: every text the SQL will hold, checked. Names become
//! quoted identifiers, which no dialect can escape, so a name holding a control or
//! invisible character is refused; literals are escaped by the dialect, which refuses
//! what its text type cannot hold (PostgreSQL: NUL).

use super::*;
use crate::sql::text::is_unsafe;

/// A name for a message: its unsafe characters escaped.
fn shown(name: &str) -> String {
    name.chars()
        .map(|c| {
            if is_unsafe(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl Compiler<'_> {
    /// Refuses the plan when a name or a literal cannot be written safely in the dialect.
    pub(super) fn check_texts(&mut self) -> Result<(), SqlError> {
        let schema = &self.plan.schema;
        let names = schema
            .contact
            .iter()
            .chain(&schema.account)
            .map(|f| f.name.as_str())
            .chain(schema.events.iter().flat_map(|e| {
                std::iter::once(e.name.as_str()).chain(e.fields.iter().map(|f| f.name.as_str()))
            }))
            .chain(self.plan.nodes.iter().map(|n| n.name.as_str()));
        for name in names {
            if name.chars().any(is_unsafe) {
                return Err(SqlError::Unsupported {
                    rule: shown(name),
                    dialect: self.d.name(),
                    what: "a name holding a control or invisible character".into(),
                });
            }
        }
        for t in [
            &self.tables.contacts,
            &self.tables.events,
            &self.tables.accounts,
            &self.tables.changes,
        ] {
            let mapped = t
                .table
                .iter()
                .chain(t.columns.values())
                .chain(t.order.iter());
            for name in mapped {
                if name.chars().any(is_unsafe) {
                    return Err(SqlError::Mapping(format!(
                        "the table mapping names `{}`, which holds a control or invisible character",
                        shown(name)
                    )));
                }
            }
        }
        let users = self.aggregate_users();
        for (i, a) in self.plan.aggregates.iter().enumerate() {
            self.rule = users.get(&i).cloned().unwrap_or_else(|| a.label.clone());
            if let EventSel::Type(t) = &a.event {
                self.check_literal(t)?;
            }
            if let Some(f) = &a.filter {
                self.check_expr(f)?;
            }
        }
        for n in &self.plan.nodes {
            self.rule = n.name.clone();
            match &n.kind {
                NodeKind::Personas(ps) => {
                    for p in ps {
                        self.check_literal(&p.name)?;
                    }
                }
                NodeKind::Tiers { bands, .. } => {
                    for b in bands {
                        self.check_literal(&b.name)?;
                    }
                }
                _ => {}
            }
            for e in node_exprs(&n.kind) {
                self.check_expr(e)?;
            }
        }
        Ok(())
    }

    fn check_literal(&self, s: &str) -> Result<(), SqlError> {
        self.d.check_text(s).map_err(|what| self.unsupported(what))
    }

    fn check_value(&self, v: &Value) -> Result<(), SqlError> {
        match v {
            Value::Text(s) => self.check_literal(s),
            _ => Ok(()),
        }
    }

    fn check_expr(&self, e: &P) -> Result<(), SqlError> {
        let mut texts: Vec<&Value> = Vec::new();
        let mut strings: Vec<&str> = Vec::new();
        e.walk(&mut |x| match x {
            P::Lit(v) => texts.push(v),
            P::InList { items, .. } => texts.extend(items),
            P::Text { patterns, .. } => strings.extend(patterns.iter().map(String::as_str)),
            P::Was { attr, value, .. } => {
                strings.push(attr);
                texts.push(value);
            }
            P::Changed { attr, from, to, .. } => {
                strings.push(attr);
                texts.extend(from.iter().chain(to.iter()));
            }
            _ => {}
        });
        for v in texts {
            self.check_value(v)?;
        }
        for s in strings {
            self.check_literal(s)?;
        }
        Ok(())
    }
}
