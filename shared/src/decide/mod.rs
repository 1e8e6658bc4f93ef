//! The decisions: given the state, what was observed, the event and the clock, the next
//! state and the actions that make the world match it. Each is built with a
//! [`draft::Draft`].

pub mod budget;
pub mod draft;
pub mod follow_up;
pub mod front_door;
pub mod health;
pub mod idle;
pub mod invite;
pub mod lifecycle;
pub mod webhook;
