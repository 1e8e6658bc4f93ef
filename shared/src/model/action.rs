//! What the shell can be asked to do. The core decides; the shell's executor runs a
//! `Decision`'s actions in order and commits its next state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::state::{Deployment, EnvironmentState, HealthChange};
use crate::scope::DeploymentType;
use crate::time::rfc3339_z;

/// SNS subjects are limited to 100 characters.
pub const MAX_SUBJECT_CHARS: usize = 100;

/// How loud a notification is; subscribers filter on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// The `event` message attribute of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationEvent {
    #[serde(rename = "deploy.planned")]
    DeployPlanned,
    #[serde(rename = "deploy.started")]
    DeployStarted,
    #[serde(rename = "deploy.pending")]
    DeployPending,
    #[serde(rename = "deploy.succeeded")]
    DeploySucceeded,
    #[serde(rename = "deploy.failed")]
    DeployFailed,
    #[serde(rename = "env.startup")]
    EnvStartup,
    #[serde(rename = "env.teardown")]
    EnvTeardown,
    #[serde(rename = "env.hold")]
    EnvHold,
    #[serde(rename = "budget.warning")]
    BudgetWarning,
    #[serde(rename = "budget.locked")]
    BudgetLocked,
    #[serde(rename = "budget.unlocked")]
    BudgetUnlocked,
    #[serde(rename = "cost.report")]
    CostReport,
    #[serde(rename = "health.down")]
    HealthDown,
    #[serde(rename = "health.resolved")]
    HealthResolved,
    #[serde(rename = "health.degraded")]
    HealthDegraded,
    #[serde(rename = "health.healing")]
    HealthHealing,
    #[serde(rename = "deploy.rolled_back")]
    DeployRolledBack,
    /// Staging is about to stop because nobody uses it (see `decide::idle`).
    #[serde(rename = "env.idle_warning")]
    IdleWarning,
    /// A warned idle stop is called off (used again, or no longer subject to it).
    #[serde(rename = "env.idle_cancelled")]
    IdleCancelled,
    /// The load balancer's use figures are missing: no idle stop until they are back.
    #[serde(rename = "env.idle_no_data")]
    IdleNoData,
}

/// A message for the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub event: NotificationEvent,
    pub severity: Severity,
    /// At most [`MAX_SUBJECT_CHARS`] characters.
    pub subject: String,
    /// Plain text a person can read in an email.
    pub body: String,
}

impl Notification {
    /// A notification whose subject is cut, with an ellipsis, to fit SNS's limit.
    pub fn new(
        event: NotificationEvent,
        severity: Severity,
        subject: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        let mut subject: String = subject.into();
        // SNS refuses line breaks in a subject.
        if subject.contains(['\n', '\r']) {
            subject = subject.replace(['\n', '\r'], " ");
        }
        if subject.chars().count() > MAX_SUBJECT_CHARS {
            subject = subject.chars().take(MAX_SUBJECT_CHARS - 1).collect();
            subject.push('…');
        }
        Self { event, severity, subject, body: body.into() }
    }
}

impl NotificationEvent {
    /// The dotted name subscribers filter on (`deploy.planned`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::DeployPlanned => "deploy.planned",
            Self::DeployStarted => "deploy.started",
            Self::DeployPending => "deploy.pending",
            Self::DeploySucceeded => "deploy.succeeded",
            Self::DeployFailed => "deploy.failed",
            Self::EnvStartup => "env.startup",
            Self::EnvTeardown => "env.teardown",
            Self::EnvHold => "env.hold",
            Self::BudgetWarning => "budget.warning",
            Self::BudgetLocked => "budget.locked",
            Self::BudgetUnlocked => "budget.unlocked",
            Self::CostReport => "cost.report",
            Self::HealthDown => "health.down",
            Self::HealthResolved => "health.resolved",
            Self::HealthDegraded => "health.degraded",
            Self::HealthHealing => "health.healing",
            Self::DeployRolledBack => "deploy.rolled_back",
            Self::IdleWarning => "env.idle_warning",
            Self::IdleCancelled => "env.idle_cancelled",
            Self::IdleNoData => "env.idle_no_data",
        }
    }
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

impl Notification {
    /// The plain text a person reads in an email.
    pub fn text(&self) -> String {
        format!(
            "{}\n\n{}\n\n-- \nseverity: {} | event: {}\n",
            self.subject,
            self.body.trim_end(),
            self.severity.as_str(),
            self.event.as_str()
        )
    }

    /// The AWS Chatbot (Amazon Q Developer) custom-notification JSON.
    pub fn chatbot(&self) -> serde_json::Value {
        serde_json::json!({
            "version": "1.0",
            "source": "custom",
            "content": {
                "textType": "client-markdown",
                "title": self.subject,
                "description": self.body,
                "keywords": [self.event.as_str(), self.severity.as_str()],
            },
            "metadata": {
                "eventType": self.event.as_str(),
                "summary": self.subject,
                "additionalContext": { "severity": self.severity.as_str() },
            },
        })
    }

    /// The SNS message for `MessageStructure=json`: the text for email and the default,
    /// the Chatbot JSON for the subscribers that parse it (https, lambda, sqs).
    pub fn sns_message(&self) -> String {
        let text = self.text();
        let chatbot = self.chatbot().to_string();
        serde_json::json!({
            "default": text,
            "email": text,
            "email-json": text,
            "https": chatbot,
            "lambda": chatbot,
            "sqs": chatbot,
        })
        .to_string()
    }
}

/// What a schedule sends to the lifecycle function when it fires.
///
/// Instants are whole seconds on the wire (`until` as epoch seconds, `scheduled_time`
/// as RFC 3339), and the core only ever stores whole seconds, so what a schedule
/// carries compares equal to what the state holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum ScheduledCommand {
    /// The scheduled daily teardown (or a deferred one).
    Teardown {
        /// When the schedule was due: EventBridge Scheduler fills it in from
        /// `<aws.scheduler.scheduled-time>`, and it stays the same on a retry. Absent in
        /// a command sent by hand, which decides on the clock.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheduled_time: Option<DateTime<Utc>>,
    },
    /// The scheduled morning startup.
    Startup {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheduled_time: Option<DateTime<Utc>>,
    },
    /// Look at the pause stack (stack mode): the fallback that notices a create or
    /// delete finishing when its EventBridge event was lost, every
    /// [`crate::model::action::STACK_CHECK_EVERY`] while one is in progress. An EventBridge
    /// "CloudFormation Stack Status Change" event of the pause stack means the same.
    StackCheck,
    /// A hold placed for `until` has run out.
    HoldExpired {
        #[serde(with = "chrono::serde::ts_seconds")]
        until: DateTime<Utc>,
    },
}

impl ScheduledCommand {
    /// When the schedule was due, when it says (a startup or teardown from Scheduler).
    pub fn due(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Teardown { scheduled_time } | Self::Startup { scheduled_time } => *scheduled_time,
            Self::HoldExpired { .. } | Self::StackCheck => None,
        }
    }
}

/// One effect for the shell to carry out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Set the service's desired count, remembering the count before a scale to zero.
    ScaleService { desired_count: u32 },
    /// Bring the service back to the count remembered before it was scaled to zero.
    RestoreService,
    /// Start a new deployment of the service's task definition (self-healing).
    ForceNewDeployment,
    /// Point the service at another task definition (a rollback).
    RollbackService { task_definition: String },
    /// Dispatch the deploy workflow on `git_ref` for the deployment of `sha` (recorded
    /// in flight before this runs; the run builds the branch head).
    DispatchDeploy {
        git_ref: String,
        sha: String,
        deployment_type: DeploymentType,
        skip_tests: bool,
        /// Whether the plan includes the database migration.
        migrate: bool,
    },
    /// Create (or replace) a one-time schedule that fires `command` at `at`.
    PutOneTimeSchedule {
        name: String,
        #[serde(serialize_with = "rfc3339_z")]
        at: DateTime<Utc>,
        command: ScheduledCommand,
    },
    /// Bring the service of a pause stack just created again back as it was when the
    /// stack was paused: the count and the task definition the saved copy remembers (a
    /// service recreated with its stack starts from the template's).
    RestorePausedService,
    /// Create the pause stack again from its saved template and parameters (stack mode);
    /// nothing when it exists. A stack left `ROLLBACK_COMPLETE` by a failed create is
    /// deleted first (its completion is the next look's cue to create).
    ResumeStack,
    /// Save the pause stack's template and parameters (and the service's count and task
    /// definition), then delete it (stack mode); nothing when it is gone or busy.
    /// `keep_service`: the stack was created again and torn down before its service was
    /// restored, so the service is the template's, not the one paused: the saved copy's
    /// count and task definition are kept.
    PauseStack { keep_service: bool },
    /// Register the service's scalable target with these bounds and suspensions
    /// (idempotent): [`ScalableTarget::PARKED`] at a teardown, the saved values at a start.
    SetScalableTarget(crate::model::state::ScalableTarget),
    /// Delete a one-time schedule if it exists.
    DeleteSchedule { name: String },
    /// Point the staging address's listener at the app or at the front door.
    Route { to: crate::model::observed::Route },
    /// Tell the team.
    Notify(Notification),
    /// Keep a deployment's record beside the state.
    RecordDeployment(Deployment),
    /// Keep a health transition's record beside the state.
    RecordHealth {
        #[serde(serialize_with = "rfc3339_z")]
        at: DateTime<Utc>,
        change: HealthChange,
    },
}

/// What `decide` returns: the state to commit, the effects that make the world match
/// it (carried out after the commit, in order; each idempotent but the dispatch, whose
/// intent the state records first), and one line saying what was decided, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub actions: Vec<Action>,
    pub next_state: EnvironmentState,
    pub summary: String,
}

/// The one-time schedule that ends an environment's hold.
pub fn hold_schedule_name(environment: &str) -> String {
    format!("{environment}-hold-expiry")
}

/// The one-time schedule that looks at the pause stack while a create or delete runs.
pub fn stack_check_schedule_name(environment: &str) -> String {
    format!("{environment}-stack-check")
}

/// The one-time schedule by which a function without CloudFormation rights (the public
/// webhook) hands a create or delete of the pause stack to the lifecycle function.
pub fn stack_handoff_schedule_name(environment: &str) -> String {
    format!("{environment}-stack-now")
}

/// How often the pause stack is looked at while a create or delete runs (the fallback
/// for a lost EventBridge event).
pub const STACK_CHECK_EVERY: chrono::Duration = chrono::Duration::minutes(5);

/// The one-time schedule of a teardown deferred for a deploy in flight.
pub fn teardown_retry_schedule_name(environment: &str) -> String {
    format!("{environment}-teardown-retry")
}

#[cfg(test)]
mod tests;
