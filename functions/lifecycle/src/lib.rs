//! lifecycle: EventBridge Scheduler (and operators) → teardown, startup, holds, unlock.
//!
//! The event is a [`Command`]: a schedule's input (`{"command":"teardown",
//! "scheduled_time":"<aws.scheduler.scheduled-time>"}`, `{"command":"startup",…}`,
//! `{"command":"hold_expired","until":…}`) or an operator command
//! (`{"command":"up","who":…,"reason":…}`), or, in stack mode, EventBridge's
//! "CloudFormation Stack Status Change" event of the pause stack (and the
//! `{"command":"stack_check"}` schedule that is its fallback). The same handler runs in
//! the Lambda binary and in `stagingctl invoke lifecycle`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use staging_core::decide::lifecycle::{self, LifecycleEvent};
use staging_core::shell::executor::Executor;
use staging_core::shell::{ShellError, runner};

/// Handles one event; `clock` is the time now (a scheduled command decides at its own
/// scheduled time).
pub async fn handle(executor: &Executor<'_>, event: Value, clock: DateTime<Utc>) -> Result<Value, ShellError> {
    let line = event.clone();
    let parsed = lifecycle::parse_event(event, executor.config).map_err(|e| match e {
        staging_core::Error::Command { reason } => ShellError::BadEvent(reason),
        other => ShellError::BadEvent(other.to_string()),
    })?;
    let command = match parsed {
        LifecycleEvent::Command(command) => command,
        LifecycleEvent::Ignored(summary) => return Ok(serde_json::json!({ "summary": summary })),
    };
    let origin = lifecycle::origin(&command, &line);
    let outcome = runner::run_from(executor, &origin, &command, clock).await?;
    for failed in &outcome.failed {
        lambda_runtime::tracing::warn!(error = %failed, "a notification was not sent; the decision stands");
    }
    Ok(serde_json::to_value(outcome).expect("outcomes serialize"))
}
