//! Who is in each segment: a sample of members (or all of them) with the contact
//! attributes the rules read, as of the report's moment.

use crate::engine::columnar::used_attrs;
use crate::engine::context::Context;
use crate::engine::eval::attr_at;
use crate::engine::results::cell;
use crate::engine::{ColumnKind, Table};
use crate::plan::Plan;
use serde::Serialize;

/// How many members a segment lists by default.
pub const SAMPLE: usize = 20;

/// Members of every contact segment.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Members {
    /// The attributes shown, in schema order.
    pub attrs: Vec<String>,
    pub lists: Vec<MemberList>,
}

/// The members a segment shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberList {
    pub segment: String,
    /// Members in all.
    pub total: usize,
    /// (id, attribute values as text; empty when missing), in file order.
    pub rows: Vec<(String, Vec<String>)>,
}

/// Up to `limit` members of each contact segment of `t` (`None`: all), spread evenly
/// over the segment in file order, with the attributes of `plan` that the rules read.
pub fn members(plan: &Plan, ctx: &Context<'_>, t: &Table, limit: Option<usize>) -> Members {
    let attrs: Vec<usize> = used_attrs(plan)
        .iter()
        .enumerate()
        .filter_map(|(i, &read)| read.then_some(i))
        .collect();
    let now = ctx.micros_at(0);
    let row = |c: usize| -> (String, Vec<String>) {
        let values = attrs
            .iter()
            .map(|&a| {
                u32::try_from(c)
                    .ok()
                    .and_then(|c| attr_at(ctx, c, a, now))
                    .map(cell)
                    .unwrap_or_default()
            })
            .collect();
        (t.ids.get(c).cloned().unwrap_or_default(), values)
    };
    let lists = t
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Segment)
        .map(|col| {
            let all: Vec<usize> = (0..col.len()).filter(|&i| col.is_true(i)).collect();
            let rows = sample(&all, limit).into_iter().map(row).collect();
            MemberList {
                segment: col.name.clone(),
                total: all.len(),
                rows,
            }
        })
        .collect();
    Members {
        attrs: attrs
            .iter()
            .filter_map(|&a| plan.schema.contact.get(a).map(|f| f.name.clone()))
            .collect(),
        lists,
    }
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
