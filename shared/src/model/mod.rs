//! Stored and observed data, no decisions: the state record, what the shell observed, the
//! actions a decision asks for, and the health check's probes.

pub mod action;
pub mod observed;
pub mod probe;
pub mod state;
