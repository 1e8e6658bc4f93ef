//! `staging-core`: Staging Control's domain.
//!
//! Everything here but [`shell`] is pure: no I/O, no clock (time is always a
//! parameter), no randomness. The functions and `stagingctl` parse their inputs, ask
//! this crate what to do, and have [`shell`] (behind the `aws` feature: AWS and GitHub
//! adapters, the executor, the reconciling runner) carry out the
//! [`Action`](model::action::Action)s it returns.
//!
//! # Layout
//!
//! The modules form a ladder: each may use those on the rungs below it, never one above
//! (`scripts/import-graph --check` holds it, in `scripts/test`).
//!
//! 1. [`error`], [`time`]: the one error type; every time helper.
//! 2. [`schedule`] (business hours), [`scope`] (path filters → deployment scope).
//! 3. [`model`]: stored and observed data, no decisions: the [state](model::state) record,
//!    what the shell [observed](model::observed), the [actions](model::action) a decision
//!    asks for (and the schedules they name), the health check's [probes](model::probe).
//! 4. [`config`]: every setting, parsed once.
//! 5. [`audit`]: the audit trail's entries (who asked, what changed).
//! 6. [`decide`]: the decisions, each built with a [`Draft`](decide::draft::Draft):
//!    [lifecycle](decide::lifecycle), [health](decide::health), [budget](decide::budget),
//!    the GitHub [webhook](decide::webhook), the [front door](decide::front_door) (who may
//!    wake staging, with [invites](decide::invite)), and the [follow-ups](decide::follow_up)
//!    a refused action calls for.
//! 7. [`report`]: the cost model, the daily report, the month's figures and page, metrics.
//! 8. [`settings`]: the settings document over the configuration (checks filters and rates
//!    with their own parsers).
//! 9. [`shell`]: the AWS and GitHub adapters, the executor and the runner. They hold no
//!    policy: what to do after a refusal is asked of [`decide::follow_up`].

pub mod error;
pub mod time;

pub mod schedule;
pub mod scope;

pub mod model;

pub mod config;

pub mod audit;

pub mod decide;

pub mod report;

pub mod settings;

#[cfg(feature = "aws")]
pub mod shell;

pub use config::{Config, Secret};
pub use error::{Error, Result};
pub use model::action::{Action, Decision, Notification, NotificationEvent, ScheduledCommand, Severity};
pub use model::state::{EnvironmentState, Hold, HoldKind, Phase, Wanted};
pub use report::cost::{CostModel, Projection};
pub use schedule::{BusinessHours, Transition, TransitionKind, Window, WorkingDays};
pub use scope::{DeploymentPlan, DeploymentType, FilterMatches, Filters};
