//! Stage 3: lowering a checked program to an evaluation plan — plain data with a format
//! version, shared by every engine.

/// The data schema a plan runs on (the same types the checker resolved).
pub mod schema {
    pub use crate::check::schema::{EventType, Field, Schema, Type};
}

/// Values, durations, windows and other plain data a plan is made of.
pub mod types {
    pub use crate::check::program::{Dur, EventSel, Freq, TimeRef, Value, Window};
}
