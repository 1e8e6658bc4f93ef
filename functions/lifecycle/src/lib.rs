//! lifecycle: EventBridge Scheduler (and operators) → teardown, startup, holds, unlock.
//!
//! The event is a [`Command`]: a schedule's input (`{"command":"teardown"}`,
//! `{"command":"startup"}`, `{"command":"hold_expired","until":…}`) or an operator
//! command (`{"command":"up","who":…,"reason":…}`). The same handler runs in the
//! Lambda binary and in `stagingctl invoke lifecycle`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use staging_core::Config;
use staging_core::aws::{Clients, ShellError, runner};
use staging_core::lifecycle::Command;

/// Handles one event at `now`.
pub async fn handle(clients: &Clients, config: &Config, event: Value, now: DateTime<Utc>) -> Result<Value, ShellError> {
    let command: Command = serde_json::from_value(event).map_err(|e| {
        ShellError::BadEvent(format!(
            "expected a lifecycle command like {{\"command\":\"teardown\"}}: {e}"
        ))
    })?;
    let outcome = runner::run(clients, config, &command, now).await?;
    Ok(serde_json::to_value(outcome).expect("outcomes serialize"))
}
