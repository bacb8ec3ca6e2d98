//! Who is in each segment: a sample of members (or all of them) with the attributes
//! the rules read — a contact's as of the report's moment, an account's as loaded.

use crate::engine::columnar::used_attrs;
use crate::engine::context::Context;
use crate::engine::eval::attr_at;
use crate::engine::results::cell;
use crate::engine::{ColumnKind, Results, Table};
use crate::plan::types::Scope;
use crate::plan::{Expr, Plan};
use serde::Serialize;

/// Members of every segment.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Members {
    /// The contact attributes shown, in schema order.
    pub attrs: Vec<String>,
    /// The account attributes shown, in schema order.
    pub account_attrs: Vec<String>,
    /// Contact segments, then account segments.
    pub lists: Vec<MemberList>,
}

/// The members a segment shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberList {
    pub segment: String,
    pub scope: Scope,
    /// Members in all.
    pub total: usize,
    /// (id, attribute values as text; empty when missing), in file order.
    pub rows: Vec<(String, Vec<String>)>,
}

/// Up to `limit` members of each segment of `r` (`None`: all), spread evenly over the
/// segment in file order, with the attributes of `plan` that the rules read.
pub fn members(plan: &Plan, ctx: &Context<'_>, r: &Results, limit: Option<usize>) -> Members {
    let attrs: Vec<usize> = used_attrs(plan)
        .iter()
        .enumerate()
        .filter_map(|(i, &read)| read.then_some(i))
        .collect();
    let account_attrs = used_account_attrs(plan);
    let now = ctx.micros_at(0);
    let contact = |c: usize| -> Vec<String> {
        attrs
            .iter()
            .map(|&a| {
                u32::try_from(c)
                    .ok()
                    .and_then(|c| attr_at(ctx, c, a, now))
                    .map(cell)
                    .unwrap_or_default()
            })
            .collect()
    };
    let account = |i: usize| -> Vec<String> {
        account_attrs
            .iter()
            .map(|&a| {
                ctx.data
                    .accounts
                    .get(i)
                    .and_then(|row| row.attrs.get(a)?.as_ref())
                    .map(cell)
                    .unwrap_or_default()
            })
            .collect()
    };
    let mut lists = lists_of(&r.contacts, Scope::Contact, limit, &contact);
    lists.extend(lists_of(&r.accounts, Scope::Account, limit, &account));
    let names = |fields: &[crate::plan::schema::Field], ids: &[usize]| {
        ids.iter()
            .filter_map(|&a| fields.get(a).map(|f| f.name.clone()))
            .collect()
    };
    Members {
        attrs: names(&plan.schema.contact, &attrs),
        account_attrs: names(&plan.schema.account, &account_attrs),
        lists,
    }
}

/// The member lists of the segments of one table.
fn lists_of(
    t: &Table,
    scope: Scope,
    limit: Option<usize>,
    values: &dyn Fn(usize) -> Vec<String>,
) -> Vec<MemberList> {
    t.columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Segment)
        .map(|col| {
            let all: Vec<usize> = (0..col.len()).filter(|&i| col.is_true(i)).collect();
            let rows = sample(&all, limit)
                .into_iter()
                .map(|i| (t.ids.get(i).cloned().unwrap_or_default(), values(i)))
                .collect();
            MemberList {
                segment: col.name.clone(),
                scope,
                total: all.len(),
                rows,
            }
        })
        .collect()
}

/// The account attributes the plan reads, as indices into its account schema.
fn used_account_attrs(plan: &Plan) -> Vec<usize> {
    let fields = &plan.schema.account;
    let mut read = vec![false; fields.len()];
    for (_, e) in plan.exprs() {
        e.walk(&mut |x| {
            if let Expr::AccountAttr(name) = x
                && let Some(i) = fields.iter().position(|f| f.name == *name)
                && let Some(r) = read.get_mut(i)
            {
                *r = true;
            }
        });
    }
    (0..fields.len())
        .filter(|&i| read.get(i).copied().unwrap_or(false))
        .collect()
}

/// Up to `limit` of `all`, evenly spaced and in order (`None`: all of them).
pub fn sample(all: &[usize], limit: Option<usize>) -> Vec<usize> {
    match limit {
        Some(k) if k < all.len() => (0..k)
            .filter_map(|i| all.get(i * all.len() / k).copied())
            .collect(),
        _ => all.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn samples_are_even_and_in_order() {
        let all: Vec<usize> = (0..10).map(|i| i * 3).collect();
        assert_eq!(sample(&all, Some(5)), vec![0, 6, 12, 18, 24]);
        assert_eq!(sample(&all, Some(20)), all);
        assert_eq!(sample(&all, None), all);
        assert_eq!(sample(&all, Some(0)), Vec::<usize>::new());
    }
}
