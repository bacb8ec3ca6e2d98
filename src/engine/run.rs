//! Running a plan: aggregates per contact, then every node in plan order over all
//! contacts (or accounts), then the output columns.

use super::context::{Context, EngineError};
use super::data::Dataset;
use super::eval::{Col, Row, State};
use super::results::{Cells, Column, ColumnKind, Results, Table};
use super::score;
use super::value::truthy;
use crate::plan::types::{Scope, Value};
use crate::plan::{NodeKind, Plan};
use chrono::{DateTime, Utc};
use rayon::prelude::*;

/// Runs `plan` over `data` at `now`.
pub fn run(plan: &Plan, data: &Dataset, now: DateTime<Utc>) -> Result<Results, EngineError> {
    let ctx = Context::new(plan, data, now)?;
    let st = evaluate(&ctx);
    Ok(collect(&ctx, st))
}

/// Computes every aggregate and node.
pub fn evaluate(ctx: &Context<'_>) -> State {
    let mut st = State::default();
    let n_contacts = ctx.data.contacts.len() as u32;
    for a in &ctx.plan.aggregates {
        let col = (0..n_contacts)
            .map(|c| super::aggregate::compute(ctx, &st, a, c))
            .collect();
        st.aggs.push(Col::from_values(col));
    }
    evaluate_nodes(ctx, &mut st);
    st
}

/// Computes every node in plan order, given every aggregate in `st`; the rows of a
/// node are evaluated in parallel.
pub fn evaluate_nodes(ctx: &Context<'_>, st: &mut State) {
    let n_contacts = ctx.data.contacts.len() as u32;
    let n_accounts = ctx.data.accounts.len() as u32;
    for node in &ctx.plan.nodes {
        let col = node_column(ctx, st, node, n_contacts, n_accounts);
        st.nodes.push(Col::from_values(col));
    }
}

/// One node's value for every row of its scope.
fn node_column(
    ctx: &Context<'_>,
    st: &State,
    node: &crate::plan::Node,
    n_contacts: u32,
    n_accounts: u32,
) -> Vec<Option<Value>> {
    let rows: Vec<Row> = match node.scope {
        Scope::Contact => (0..n_contacts).map(Row::Contact).collect(),
        Scope::Account => (0..n_accounts).map(Row::Account).collect(),
    };
    match &node.kind {
        NodeKind::Segment(e) => rows
            .par_iter()
            .map(|r| Some(Value::Bool(truthy(&st.eval(ctx, e, *r)))))
            .collect(),
        NodeKind::Value(e) => rows.par_iter().map(|r| st.eval(ctx, e, *r)).collect(),
        NodeKind::Top { n, by } => {
            let values: Vec<Option<Value>> =
                rows.par_iter().map(|r| st.eval(ctx, by, *r)).collect();
            let ids = row_ids(ctx, node.scope);
            score::top(&values, &ids, *n)
                .into_iter()
                .map(|b| Some(Value::Bool(b)))
                .collect()
        }
        NodeKind::Score(s) => rows
            .par_iter()
            .map(|r| score::score(ctx, st, s, *r, false).value.map(Value::Number))
            .collect(),
        NodeKind::Tiers { score: sid, bands } => rows
            .par_iter()
            .map(|r| {
                let v = st.eval(ctx, &crate::plan::Expr::Node(*sid), *r);
                score::tier(bands, &v).map(|b| Value::Text(b.name.clone()))
            })
            .collect(),
        NodeKind::Personas(ps) => rows
            .par_iter()
            .map(|r| {
                let held = score::personas(ctx, st, ps, *r);
                let first = held.iter().position(|h| *h)?;
                ps.get(first).map(|p| Value::Text(p.name.clone()))
            })
            .collect(),
    }
}

/// Row ids of a scope, in data order.
pub fn row_ids<'d>(ctx: &Context<'d>, scope: Scope) -> Vec<&'d str> {
    match scope {
        Scope::Contact => ctx.data.contacts.iter().map(|c| c.id.as_str()).collect(),
        Scope::Account => ctx.data.accounts.iter().map(|a| a.id.as_str()).collect(),
    }
}

/// The output columns of an evaluated state, moved out of it (the rest is dropped).
pub fn collect(ctx: &Context<'_>, st: State) -> Results {
    let mut nodes: Vec<Option<Col>> = st.nodes.into_iter().map(Some).collect();
    let mut table = |scope: Scope| {
        let outputs: Vec<_> = ctx
            .plan
            .outputs(scope)
            .map(|(id, node)| (node, nodes.get_mut(id).and_then(Option::take)))
            .collect();
        Table {
            ids: row_ids(ctx, scope)
                .into_par_iter()
                .map(String::from)
                .collect(),
            columns: outputs
                .into_par_iter()
                .map(|(node, col)| {
                    let categories = super::results::categories(&node.kind);
                    Column {
                        name: node.name.clone(),
                        kind: ColumnKind::of(&node.kind),
                        cells: cells(col.unwrap_or(Col::Values(Vec::new())), &categories),
                        categories,
                    }
                })
                .collect(),
        }
    };
    let (contacts, accounts) = (table(Scope::Contact), table(Scope::Account));
    Results {
        now: ctx.now,
        contacts,
        accounts,
    }
}

/// A node column as result cells: moved where the kinds match, else made compact from
/// its values.
fn cells(col: Col, categories: &[String]) -> Cells {
    let col = match col {
        Col::Bool(v) => return Cells::Bool(v),
        Col::Int(v) => return Cells::Int(v),
        Col::Num(v) => return Cells::Num(v),
        other => other,
    };
    let values = if let Col::Values(v) = col {
        v
    } else {
        col.to_values()
    };
    Cells::from_values(values, categories)
}
