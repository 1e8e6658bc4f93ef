//! What to decide after an action failed once its decision was committed, and which
//! notices wait for an action: the policy the runner and the executor follow (they ask
//! here, and hold none of it).
//!
//! - A dispatch that failed: refused, back to waiting; unanswered, kept in flight
//!   ([`lifecycle::decide_dispatch_failed`]).
//! - A rollback or forced deployment that failed: what assumed it happened is undone
//!   ([`health::decide_repair_failed`]).
//! - A pause or resume of the stack that was refused (not a passing fault a retry puts
//!   right): recorded, and told ([`lifecycle::decide_stack_refused`]), once per operation.
//! - A notice announcing what failed is withheld ([`Withholding`]): the follow-up tells
//!   the team instead.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::decide::{health, lifecycle};
use crate::model::action::{Action, Decision, Notification, NotificationEvent, Severity};
use crate::model::state::{EnvironmentState, StackOperation};

/// An action that failed, as the rules here need to know it.
#[derive(Debug, Clone)]
pub struct Failed<'a> {
    pub action: &'a Action,
    /// The other side refused it outright (nothing happened; the same call would be
    /// refused again).
    pub refused: bool,
    /// A retry can put it right (a passing AWS fault).
    pub retryable: bool,
    pub error: String,
}

/// A decision a failed action calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    DispatchFailed { sha: String, refused: bool, error: String },
    RepairFailed { action: Box<Action>, error: String },
    StackRefused { operation: StackOperation, error: String },
}

/// The follow-ups the failures of a decision's actions call for, in the order they are
/// decided: the dispatches, then the repairs. The refused stack operations come after
/// those ([`stack_refusals`], over every failure so far).
pub fn after(failed: &[Failed<'_>]) -> Vec<FollowUp> {
    let dispatches = failed.iter().filter_map(|f| match f.action {
        Action::DispatchDeploy { sha, .. } => {
            Some(FollowUp::DispatchFailed { sha: sha.clone(), refused: f.refused, error: f.error.clone() })
        }
        _ => None,
    });
    let repairs = failed.iter().filter_map(|f| match f.action {
        a @ (Action::RollbackService { .. } | Action::ForceNewDeployment) => {
            Some(FollowUp::RepairFailed { action: Box::new(a.clone()), error: f.error.clone() })
        }
        _ => None,
    });
    dispatches.chain(repairs).collect()
}

/// The refused pauses and resumes of the stack among `failed`, once per operation (a
/// passing fault, which a retry puts right, is not one).
pub fn stack_refusals(failed: &[Failed<'_>]) -> Vec<FollowUp> {
    let mut refused: Vec<FollowUp> = Vec::new();
    for f in failed.iter().filter(|f| !f.retryable) {
        let operation = match f.action {
            Action::PauseStack { .. } => StackOperation::Delete,
            Action::ResumeStack => StackOperation::Create,
            _ => continue,
        };
        if !refused.iter().any(|r| matches!(r, FollowUp::StackRefused { operation: op, .. } if *op == operation)) {
            refused.push(FollowUp::StackRefused { operation, error: f.error.clone() });
        }
    }
    refused
}

impl FollowUp {
    /// The decision, on the state as it is now; `withheld` are the notices held back so far
    /// (a failed dispatch's follow-up says what the first one announced; a failed repair's
    /// tells what its withheld alert said).
    pub fn decide(
        &self,
        state: &EnvironmentState,
        withheld: &[Notification],
        now: DateTime<Utc>,
        config: &Config,
    ) -> Decision {
        match self {
            Self::DispatchFailed { sha, refused, error } => {
                let announced = withheld.first().map(|n| n.body.as_str());
                lifecycle::decide_dispatch_failed(state, sha, *refused, error, announced, config)
            }
            Self::RepairFailed { action, error } => {
                use NotificationEvent::{DeployRolledBack, HealthDown, HealthHealing};
                let alert = withheld.iter().find(|n| matches!(n.event, HealthDown | HealthHealing | DeployRolledBack));
                health::decide_repair_failed(state, action, error, alert)
            }
            Self::StackRefused { operation, error } => {
                lifecycle::decide_stack_refused(state, *operation, error, now, config)
            }
        }
    }

    /// The invocation's summary once this follow-up said `line`: a failed dispatch's
    /// replaces what the decision claimed; the others are added to it.
    pub fn summary(&self, before: &str, line: &str) -> String {
        match self {
            Self::DispatchFailed { .. } => line.to_string(),
            _ => format!("{before}; {line}"),
        }
    }
}

/// Which notices to hold back while a decision's actions run, from what failed so far:
/// once a dispatch (or a rollback, or a forced deployment) has failed, the notice that
/// announced it; once a pause or resume of the stack was refused, the "tearing down" or
/// "starting" that did not happen (the follow-up tells the refusal instead).
#[derive(Debug, Default, Clone, Copy)]
pub struct Withholding {
    dispatch_failed: bool,
    repair_failed: bool,
    pause_refused: bool,
    resume_refused: bool,
}

impl Withholding {
    /// Notes that `action` failed (`retryable`: a passing fault a retry puts right).
    pub fn failed(&mut self, action: &Action, retryable: bool) {
        self.dispatch_failed |= matches!(action, Action::DispatchDeploy { .. });
        self.repair_failed |= matches!(action, Action::RollbackService { .. } | Action::ForceNewDeployment);
        self.pause_refused |= matches!(action, Action::PauseStack { .. }) && !retryable;
        self.resume_refused |= matches!(action, Action::ResumeStack) && !retryable;
    }

    /// Whether `notice` is held back.
    pub fn withholds(&self, notice: &Notification) -> bool {
        use NotificationEvent::{DeployPlanned, DeployRolledBack, EnvStartup, EnvTeardown, HealthDown, HealthHealing};
        (self.dispatch_failed && notice.event == DeployPlanned)
            || (self.repair_failed && matches!(notice.event, HealthDown | HealthHealing | DeployRolledBack))
            || (self.pause_refused && notice.event == EnvTeardown && notice.severity != Severity::Critical)
            || (self.resume_refused && notice.event == EnvStartup && notice.severity != Severity::Critical)
    }
}

/// Whether a decision's actions change ECS, the stack, the schedules or the scalable
/// target: the runner then looks again until the world and the state agree.
pub fn touches_world(actions: &[Action]) -> bool {
    actions.iter().any(|a| {
        matches!(
            a,
            Action::ScaleService { .. }
                | Action::RestoreService
                | Action::RestorePausedService
                | Action::ResumeStack
                | Action::PauseStack { .. }
                | Action::PutOneTimeSchedule { .. }
                | Action::DeleteSchedule { .. }
                | Action::RollbackService { .. }
                | Action::ForceNewDeployment
                | Action::SetScalableTarget(_)
        )
    })
}

/// Whether a decision's actions change the one-time schedules (the runner then checks
/// the hold's schedule too).
pub fn touches_schedules(actions: &[Action]) -> bool {
    actions.iter().any(|a| matches!(a, Action::PutOneTimeSchedule { .. } | Action::DeleteSchedule { .. }))
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
