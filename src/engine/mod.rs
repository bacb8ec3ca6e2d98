//! Stage 4: running a plan over contacts, events and accounts. Reads only the plan.

pub mod aggregate;
pub mod atomic;
pub mod columnar;
pub mod context;
pub mod data;
pub mod eval;
pub mod explain;
pub mod free;
pub mod live;
pub mod reference;
pub mod results;
pub mod run;
pub mod score;
pub mod time;
pub mod timings;
pub mod value;

pub use columnar::{Evaluated, evaluate, run};
pub use context::EngineError;
pub use results::{Column, ColumnKind, Results, RowView, Table};
