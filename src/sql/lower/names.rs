//! Names a reviewer can read: every column carries the name of the definition,
//! attribute or aggregate it holds (`pricing_fans`, `count_page_viewed_within_30d`), and
//! every stage the name of what it computes. Names are unique without regard to case
//! (DuckDB folds even quoted identifiers), definitions first, so a definition's column
//! is always its own name.

use super::*;
use std::collections::HashSet;

/// The names taken in one namespace (columns, or stages and tables).
#[derive(Default)]
pub(super) struct Names {
    used: HashSet<String>,
    /// Names taken by a rule rather than one by one.
    reserved: Option<fn(&str) -> bool>,
}

impl Names {
    /// `want`, or `want_2`, `want_3`, … when it is taken.
    pub(super) fn take(&mut self, want: &str) -> String {
        let mut name = want.to_string();
        let mut n = 1;
        while self.reserved.is_some_and(|r| r(&name)) || !self.used.insert(name.to_lowercase()) {
            n += 1;
            name = format!("{want}_{n}");
        }
        name
    }

    /// Takes every name `rule` holds for.
    pub(super) fn reserve(&mut self, rule: fn(&str) -> bool) {
        self.reserved = Some(rule);
    }
}

/// A label's letters, digits and underscores, lower-cased, other runs as one `_`, at most
/// 60 characters: `30d ago` → `30d_ago`.
pub(super) fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_alphanumeric() || c == '_' {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        if out.chars().count() >= 60 {
            break;
        }
    }
    out.trim_end_matches('_').to_string()
}

/// A label (`count(page_viewed within 30d)`) as a plain identifier
/// (`count_page_viewed_within_30d`); one not starting with a letter gets `v_` first.
pub(super) fn ident_of(label: &str) -> String {
    let out = slug(label);
    if out.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        out
    } else {
        format!("v_{out}")
    }
}

/// The columns of a plan: definitions, attributes, aggregates.
pub(super) struct Columns {
    pub(super) names: Names,
    pub(super) nodes: Vec<String>,
    pub(super) contact: Vec<String>,
    pub(super) account: Vec<String>,
    pub(super) aggregates: Vec<String>,
    /// The contact's account id.
    pub(super) account_id: String,
}

/// Names every column of `plan`: `id`, result definitions by their names, definitions
/// at other moments by name and moment (`engaged_30d_ago`), contact attributes by
/// name, account attributes as `account_<name>`, aggregates by their label.
pub(super) fn columns(plan: &Plan) -> Columns {
    let mut names = Names::default();
    names.take("id");
    let mut nodes = vec![String::new(); plan.nodes.len()];
    for pass in [true, false] {
        for (i, n) in plan.nodes.iter().enumerate() {
            if n.output != pass {
                continue;
            }
            let want = if n.output {
                n.name.clone()
            } else {
                let moment = plan.moments.get(n.moment).map_or("", |m| m.label.as_str());
                format!("{}_{}", n.name, slug(moment))
            };
            if let Some(slot) = nodes.get_mut(i) {
                *slot = names.take(&want);
            }
        }
    }
    let contact = plan
        .schema
        .contact
        .iter()
        .map(|f| names.take(&f.name))
        .collect();
    let account = plan
        .schema
        .account
        .iter()
        .map(|f| names.take(&format!("account_{}", f.name)))
        .collect();
    let account_id = names.take("account_id");
    let aggregates = plan
        .aggregates
        .iter()
        .map(|a| names.take(&ident_of(&a.label)))
        .collect();
    Columns {
        names,
        nodes,
        contact,
        account,
        aggregates,
        account_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_identifiers_and_names_stay_unique() {
        assert_eq!(
            ident_of("count(page_viewed within 30d)"),
            "count_page_viewed_within_30d"
        );
        assert_eq!(ident_of("30d ago"), "v_30d_ago");
        let mut n = Names::default();
        assert_eq!(n.take("a"), "a");
        assert_eq!(n.take("A"), "A_2");
        assert_eq!(n.take("a"), "a_3");
    }
}
