//! What the shell sees of the world (the service, its scalable target, the pause stack):
//! data the decisions read, no decisions.

use crate::Phase;
use crate::model::state::StackOperation;
use serde::{Deserialize, Serialize};

use crate::model::state::ScalableTarget;

/// What ECS says about the service now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub desired_count: u32,
    pub running_count: u32,
    /// The task definition the service runs (what a deployment changes and a rollback
    /// restores).
    #[serde(default)]
    pub task_definition: Option<String>,
    /// Whether the primary deployment's rollout has FAILED.
    #[serde(default)]
    pub rollout_failed: bool,
    /// The pause stack, in stack mode (`None` in scale mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<StackObserved>,
    /// The service's Application Auto Scaling target, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScalableTarget>,
    /// Where the staging address's listener sends requests, when the controller switches it
    /// (`STAGING_LISTENER_ARN`); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    /// How many of the app's targets the load balancer finds healthy (with routing only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_targets: Option<u32>,
}

/// Where the staging address leads: the app (awake) or the front door (asleep).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    App,
    FrontDoor,
    /// The listener forwards somewhere else (changed by hand): left alone, and said.
    Elsewhere,
}

/// What CloudFormation says about the pause stack.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackObserved {
    /// The stack's status; `None` when there is no such stack (or it is `DELETE_COMPLETE`).
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a stack status means for the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackCondition {
    /// No stack: paused (nothing of it bills).
    Absent,
    /// A create, update, delete or rollback is under way.
    Busy,
    /// Created (or updated) and standing: it bills, and the service can run.
    Ready,
    /// A create, delete or update failed, and CloudFormation stopped there.
    Failed,
}

impl StackObserved {
    pub fn condition(&self) -> StackCondition {
        match self.status.as_deref() {
            None | Some("DELETE_COMPLETE") => StackCondition::Absent,
            Some(s) if s.ends_with("_IN_PROGRESS") => StackCondition::Busy,
            Some(
                "CREATE_COMPLETE"
                | "UPDATE_COMPLETE"
                | "UPDATE_ROLLBACK_COMPLETE"
                | "IMPORT_COMPLETE"
                | "IMPORT_ROLLBACK_COMPLETE",
            ) => StackCondition::Ready,
            // CREATE_FAILED, ROLLBACK_COMPLETE, ROLLBACK_FAILED, DELETE_FAILED,
            // UPDATE_FAILED, UPDATE_ROLLBACK_FAILED, IMPORT_ROLLBACK_FAILED, and anything new.
            Some(_) => StackCondition::Failed,
        }
    }

    /// The status, for people.
    pub fn status_text(&self) -> &str {
        self.status.as_deref().unwrap_or("no stack")
    }

    /// Whether the stack stands, whatever an update of it is doing (an update in
    /// progress, or one that failed, leaves it standing and serving): a start needs no
    /// create.
    pub fn stands(&self) -> bool {
        match self.status.as_deref() {
            Some(s) => {
                self.condition() == StackCondition::Ready || s.starts_with("UPDATE_") || s.starts_with("IMPORT_")
            }
            None => false,
        }
    }

    /// A failed create (or its rollback) leaves a stack of which nothing stands: it can
    /// only be deleted.
    pub fn is_failed_create(&self) -> bool {
        matches!(self.status.as_deref(), Some("CREATE_FAILED" | "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED"))
    }

    /// The operation a failed status belongs to (whatever the controller asked for).
    pub(crate) fn failed_operation(&self) -> Option<StackOperation> {
        match self.status.as_deref() {
            Some("DELETE_FAILED") => Some(StackOperation::Delete),
            _ if self.is_failed_create() => Some(StackOperation::Create),
            _ => None,
        }
    }
}

impl Observed {
    /// Counts only (no task definition, rollout not failed).
    pub const fn counts(desired_count: u32, running_count: u32) -> Self {
        Self {
            desired_count,
            running_count,
            task_definition: None,
            rollout_failed: false,
            stack: None,
            scaling: None,
            route: None,
            healthy_targets: None,
        }
    }

    /// The phase these counts show.
    pub fn phase(&self) -> Phase {
        match (self.desired_count, self.running_count) {
            (0, 0) => Phase::Down,
            (0, _) => Phase::Stopping,
            (d, r) if r >= d => Phase::Up,
            _ => Phase::Starting,
        }
    }
}

/// How long a start of the pause stack is assumed to take before any was recorded.
pub const STACK_START_ASSUMED_SECS: u32 = 600;
