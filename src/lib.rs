//! Funnel: a declarative language for marketing segments and lead scores.
//!
//! The pipeline is the module layout: [`syntax`] (parse) → [`check`] (resolve and type)
//! → [`plan`] (lower to an evaluation plan) → [`engine`] (run the plan over contact
//! data), with [`diag`] (diagnostics) and the command line at the edges.

pub mod check;
pub mod cli;
pub mod diag;
pub mod diff;
pub mod engine;
pub mod plan;
pub mod report;
pub mod syntax;
