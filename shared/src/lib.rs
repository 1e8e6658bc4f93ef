//! `staging-core`: Staging Control's domain.
//!
//! Everything here but [`shell`] is pure: no I/O, no clock (time is always a
//! parameter), no randomness. The functions and `stagingctl` parse their inputs, ask
//! this crate what to do, and have [`shell`] (behind the `aws` feature: AWS and GitHub
//! adapters, the executor, the reconciling runner) carry out the [`action::Action`]s it
//! returns.

pub mod action;
pub mod budget;
pub mod config;
pub mod cost;
pub mod error;
pub mod health;
pub mod history;
pub mod lifecycle;
pub mod metrics;
pub mod month;
pub mod month_html;
pub mod report;
pub mod schedule;
pub mod scope;
pub mod settings;
#[cfg(feature = "aws")]
pub mod shell;
pub mod state;
pub mod webhook;

pub use action::{Action, Decision, Notification, NotificationEvent, ScheduledCommand, Severity};
pub use config::{Config, Secret};
pub use cost::{CostModel, Projection};
pub use error::{Error, Result};
pub use schedule::{BusinessHours, Transition, TransitionKind, Window, WorkingDays};
pub use scope::{DeploymentPlan, DeploymentType, FilterMatches, Filters};
pub use state::{EnvironmentState, Hold, HoldKind, Phase, Wanted};
