//! The reference evaluator: every aggregate computed contact by contact with one walk
//! over the contact's events, straight from the definitions in `docs/semantics.md`.
//! It is the oracle of the differential and property tests, and on no user path: every
//! command runs [`columnar`](super::columnar).

use super::context::{Context, EngineError};
use super::data::Dataset;
use super::eval::{Col, State};
use super::results::Results;
use super::run::{collect, evaluate_nodes};
use crate::plan::Plan;
use chrono::{DateTime, Utc};

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
    evaluate_nodes(ctx, &mut st, false);
    st
}
