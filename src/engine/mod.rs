//! Stage 4: running a plan over contacts, events and accounts.

pub mod atomic;
pub mod data;
