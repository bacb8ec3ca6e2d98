//! The engine behind every command that evaluates rules (`run`, `report`, `diff`,
//! `explain`, `test`): the same results as the reference evaluator
//! ([`engine::reference`](crate::engine::reference)), bit for bit, built for millions
//! of contacts and tens of millions of events.
//!
//! - Events are loaded into columns ([`EventColumns`]): only the fields the plan reads,
//!   as dictionary codes, so each distinct raw value is validated once and each
//!   aggregate filter is evaluated once per combination of field values
//!   ([`filters`]), by the one expression evaluator.
//! - Events are grouped by contact with a counting sort; one pass over each contact's
//!   events computes every aggregate at every moment ([`pass`]), contacts in parallel.
//! - Definitions are then evaluated by the shared evaluator (`engine::eval`,
//!   `engine::score`), rows in parallel.

pub mod events;
pub mod filters;
pub mod pass;

use super::context::{Context, EngineError};
use super::data::{self, DataError, DataFiles, Dataset, LoadOptions, Loaded};
use super::eval::State;
use super::results::Results;
use super::run::{collect, evaluate_nodes};
use super::timings::timed;
use crate::plan::{Expr, Plan};
use chrono::{DateTime, Utc};
pub use events::EventColumns;

/// The event fields a plan reads (in aggregate filters, aggregated fields and
/// multipliers), each once.
pub fn used_fields(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for a in &plan.aggregates {
        if let Some(f) = &a.filter {
            fields_in(f, &mut out);
        }
        if let Some(f) = a.kind.field()
            && !out.iter().any(|o| o == f)
        {
            out.push(f.to_string());
        }
    }
    out
}

fn fields_in(e: &Expr, out: &mut Vec<String>) {
    // `fields_only` collects every field it meets before it gives up on the rest.
    let mut names = Vec::new();
    let _ = filters::fields_only(e, &mut names);
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
}

/// Per contact attribute, whether the plan reads it: in an expression, or as the
/// account link (which puts contacts in their accounts).
pub fn used_attrs(plan: &Plan) -> Vec<bool> {
    let schema = &plan.schema.contact;
    let mut read: Vec<bool> = schema
        .iter()
        .map(|f| f.ty == crate::plan::schema::Type::AccountLink)
        .collect();
    for (_, e) in plan.exprs() {
        e.walk(&mut |x| {
            if let Expr::Attr { name, .. }
            | Expr::Was { attr: name, .. }
            | Expr::Changed { attr: name, .. } = x
                && let Some(i) = schema.iter().position(|f| f.name == *name)
                && let Some(r) = read.get_mut(i)
            {
                *r = true;
            }
        });
    }
    read
}

/// What an evaluation keeps of its aggregates once the definitions are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every aggregate column (what `explain` and `diff` read, after the definitions).
    Aggregates,
    /// Only the node columns: each aggregate is freed as soon as the last definition
    /// that reads it is computed (the state's aggregate columns are then empty).
    Nodes,
}

/// A plan evaluated over a data set: the context it was evaluated in, and every
/// node column (and aggregate column, with [`Keep::Aggregates`]). `report`, `diff`,
/// `explain` and `test` read it; `run` keeps only its [`results`](Evaluated::results).
pub struct Evaluated<'a> {
    pub ctx: Context<'a>,
    pub state: State,
}

impl Evaluated<'_> {
    /// The output columns; the aggregates and the other nodes are dropped.
    pub fn results(self) -> Results {
        let Evaluated { ctx, mut state } = self;
        state.aggs = Vec::new();
        timed("results", || collect(&ctx, state))
    }
}

/// Runs `plan` over a data set held in memory, events included.
pub fn run(plan: &Plan, data: &Dataset, now: DateTime<Utc>) -> Result<Results, EngineError> {
    Ok(evaluate_dataset(plan, data, now)?.results())
}

/// Evaluates `plan` over a data set held in memory, events included.
pub fn evaluate_dataset<'a>(
    plan: &'a Plan,
    data: &'a Dataset,
    now: DateTime<Utc>,
) -> Result<Evaluated<'a>, EngineError> {
    let cols = EventColumns::from_dataset(&plan.schema, data, &used_fields(plan));
    evaluate(plan, data, cols, now, Keep::Aggregates, false)
}

/// Evaluates `plan` over the contacts, accounts and changes of `data` and the events
/// in `cols` (`data.events` is not read), keeping what `keep` says. `progress` shows a
/// progress bar on stderr.
pub fn evaluate<'a>(
    plan: &'a Plan,
    data: &'a Dataset,
    cols: EventColumns,
    now: DateTime<Utc>,
    keep: Keep,
    progress: bool,
) -> Result<Evaluated<'a>, EngineError> {
    let filters = timed("filter tables", || filters::compile(plan, &cols, now))?;
    let contacts = data.contacts.len();
    let bar = if progress {
        indicatif::ProgressBar::new(contacts as u64).with_message("contacts")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let preds = pass::Predicates::new(plan, filters);
    let value_fields = pass::value_fields(plan, &cols);
    let names: Vec<String> = value_fields
        .iter()
        .filter_map(|&f| cols.fields.get(f).map(|c| c.name.clone()))
        .collect();
    // The context (one core) is built while the events are grouped: the counting sort
    // is on one core too.
    let (ctx, sorted) = rayon::join(
        || timed("context", || Context::without_events(plan, data, now)),
        || {
            timed("grouping events", || {
                let groups = timed("counting sort", || pass::group(&cols, contacts, now));
                let slots = pass::value_slots(plan, &cols, &preds, &value_fields);
                pass::sort(cols, groups, &preds, &value_fields, slots)
            })
        },
    );
    let ctx = ctx?;
    let aggs = timed("aggregates", || {
        pass::aggregates(plan, &sorted, &preds, &names, &ctx.moments, now, &|n| {
            bar.inc(n)
        })
    });
    bar.finish_and_clear();
    drop(sorted);
    let mut state = State {
        aggs,
        nodes: Vec::new(),
    };
    timed("definitions", || {
        evaluate_nodes(&ctx, &mut state, keep == Keep::Nodes)
    });
    Ok(Evaluated { ctx, state })
}

/// Loads data for `plan`: contacts (only the attributes the plan reads), accounts and
/// changes as tables, events into columns (only the fields the plan reads). The same
/// checks and messages as [`data::load`], except that contact attributes and event
/// fields the plan does not read are not looked at, nor the changes file when the plan
/// reads no attribute with history.
pub fn load(
    plan: &Plan,
    files: &DataFiles,
    opts: &LoadOptions,
) -> Result<(Loaded, EventColumns), DataError> {
    load_for(plan, &[], files, opts)
}

/// Loads data once for `plan` and the plans in `also`, read with `plan`'s schema: what
/// any of them reads, as [`load`] does for one.
pub fn load_for(
    plan: &Plan,
    also: &[&Plan],
    files: &DataFiles,
    opts: &LoadOptions,
) -> Result<(Loaded, EventColumns), DataError> {
    let schema = &plan.schema;
    let mut fields: Vec<String> = Vec::new();
    let mut attrs = vec![false; schema.contact.len()];
    for plan in std::iter::once(plan).chain(also.iter().copied()) {
        for f in used_fields(plan) {
            if !fields.contains(&f) {
                fields.push(f);
            }
        }
        for (a, used) in attrs.iter_mut().zip(used_attrs(plan)) {
            *a |= used;
        }
    }
    let mut sources = data::open(files)?;
    // The change log only matters for attributes with history that some plan reads.
    let history = schema
        .contact
        .iter()
        .zip(&attrs)
        .any(|(f, &read)| read && f.history);
    if !history {
        sources.changes = None;
    }
    let read = Some(attrs.as_slice());
    data::load_readers_with(schema, sources, opts, read, |ids, file, source, sink| {
        let layout = events::EventsLayout::new(schema, ids, file, &fields);
        let mut cols = EventColumns::new(schema, &fields);
        if let Some(source) = source {
            data::read_parts(source, &|| layout.part(), sink, &mut |part| {
                cols.append(part.cols)
            })?;
        }
        cols.shrink_to_fit();
        Ok(cols)
    })
}
