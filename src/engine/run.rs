//! The definitions of a plan, given its aggregates: every node in plan order over all
//! contacts (or accounts), then the output columns. Shared by the engine
//! ([`columnar`](super::columnar)) and the reference evaluator ([`reference`](super::reference)).

use super::context::Context;
use super::eval::{Col, Row, State};
use super::results::{Cells, Column, ColumnKind, Results, Table};
use super::score;
use crate::plan::types::{Scope, Value};
use crate::plan::walk::Read;
use crate::plan::{Expr, NodeKind, Plan};
use rayon::prelude::*;

/// Computes every node in plan order, given every aggregate in `st`; the rows of a
/// node are evaluated in parallel. With `free_aggregates`, each aggregate column is
/// freed (left empty) as soon as the last node that reads it is computed.
pub fn evaluate_nodes(ctx: &Context<'_>, st: &mut State, free_aggregates: bool) {
    let mut last: Vec<Vec<usize>> = vec![Vec::new(); ctx.plan.nodes.len()];
    if free_aggregates {
        for (a, reader) in last_readers(ctx.plan).into_iter().enumerate() {
            match reader.and_then(|n| last.get_mut(n)) {
                Some(list) => list.push(a),
                None => free(st, a),
            }
        }
    }
    for (node, done) in ctx.plan.nodes.iter().zip(&last) {
        let col = node_column(ctx, st, node);
        st.nodes.push(col);
        for &a in done {
            free(st, a);
        }
    }
}

fn free(st: &mut State, a: usize) {
    if let Some(col) = st.aggs.get_mut(a) {
        *col = Col::Values(Vec::new());
    }
}

/// Per aggregate, the last node (in plan order) that reads it; `None` when no node does.
fn last_readers(plan: &Plan) -> Vec<Option<usize>> {
    let mut last = vec![None; plan.aggregates.len()];
    for (n, reads) in plan.node_reads().into_iter().enumerate() {
        for r in reads {
            if let Read::Agg(a) = r
                && let Some(l) = last.get_mut(a)
            {
                *l = Some(l.map_or(n, |m: usize| m.max(n)));
            }
        }
    }
    last
}

/// Computes the columns of nodes `ids` again (ascending, so that each reads the new
/// columns of the ones before it) over the state's aggregates and other nodes.
pub fn recompute_nodes(ctx: &Context<'_>, st: &mut State, ids: &[usize]) {
    for &i in ids {
        if let Some(node) = ctx.plan.nodes.get(i) {
            let col = node_column(ctx, st, node);
            if let Some(slot) = st.nodes.get_mut(i) {
                *slot = col;
            }
        }
    }
}

/// One node's value for every row of its scope, stored as compactly as the kind of
/// node allows.
fn node_column(ctx: &Context<'_>, st: &State, node: &crate::plan::Node) -> Col {
    let (n, row): (usize, fn(u32) -> Row) = match node.scope {
        Scope::Contact => (ctx.data.contacts.len(), Row::Contact),
        Scope::Account => (ctx.data.accounts.len(), Row::Account),
    };
    let rows = || (0..n as u32).into_par_iter().map(row);
    match &node.kind {
        NodeKind::Segment(e) => Col::Bool(rows().map(|r| st.holds(ctx, e, r)).collect()),
        NodeKind::Value(e) => Col::from_values(rows().map(|r| st.eval(ctx, e, r)).collect()),
        NodeKind::Top { n, by } => {
            let values: Vec<Option<f64>> = rows()
                .map(|r| st.value(ctx, by, r).as_deref().and_then(score::rank_key))
                .collect();
            Col::Bool(score::top(&values, &row_ids(ctx, node.scope), *n))
        }
        NodeKind::Score(s) => {
            let values: Vec<Option<f64>> = rows().map(|r| score::value(ctx, st, s, r)).collect();
            match values.iter().copied().collect::<Option<Vec<f64>>>() {
                Some(all) => Col::Num(all),
                None => Col::Values(values.into_iter().map(|v| v.map(Value::Number)).collect()),
            }
        }
        NodeKind::Tiers { score: sid, bands } => codes(
            rows()
                .map(|r| score::band(bands, st.value(ctx, &Expr::Node(*sid), r).as_deref()))
                .collect(),
            bands.iter().map(|b| &b.name),
        ),
        NodeKind::Personas(ps) => codes(
            rows().map(|r| score::persona(ctx, st, ps, r)).collect(),
            ps.iter().map(|p| &p.name),
        ),
    }
}

/// A column of names chosen by index (a tier's band, a persona), missing where none is.
fn codes<'n>(chosen: Vec<Option<usize>>, names: impl Iterator<Item = &'n String>) -> Col {
    let dict: Vec<Option<Value>> = std::iter::once(None)
        .chain(names.map(|n| Some(Value::Text(n.as_str().into()))))
        .collect();
    let codes = chosen
        .into_iter()
        .map(|c| c.and_then(|c| u32::try_from(c + 1).ok()).unwrap_or(0))
        .collect();
    Col::Codes { codes, dict }
}

/// Row ids of a scope, in data order.
pub fn row_ids<'d>(ctx: &Context<'d>, scope: Scope) -> Vec<&'d str> {
    match scope {
        Scope::Contact => ctx.data.contacts.ids().collect(),
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
        Col::Count(v) => return Cells::Int(v.into_iter().map(i64::from).collect()),
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
