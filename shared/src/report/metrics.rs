//! CloudWatch metrics as embedded-metric-format (EMF) log lines: a function prints the
//! line to stdout and CloudWatch Logs extracts the metric, with no API call and no
//! permission beyond writing logs.
//!
//! Two sources: the health tick's [`TEARDOWN_OVERDUE`] ([`emf_line`]), and the audit
//! trail ([`for_entry`]: one line per decision, and one per fact it established).

use chrono::{DateTime, Utc};

use crate::audit::{DeployKind, Entry, Event};
use crate::model::state::{DeploymentStatus, HealthStatus};
use crate::time::seconds;

/// The namespace of every metric Staging Control emits.
pub const NAMESPACE: &str = "StagingControl";

/// 1 while the committed intent keeps staging running past its teardown
/// ([`crate::decide::lifecycle::teardown_overdue`]), else 0; emitted by every health tick.
pub const TEARDOWN_OVERDUE: &str = "TeardownOverdue";

/// 1 each time a function refuses a new version of the settings document (it keeps the
/// last good settings and does not fail, so nothing else would tell); an alarm watches it.
pub const SETTINGS_REFUSED: &str = "SettingsRefused";

/// 1 per decision kept in the audit trail; dimension `Source`.
pub const DECISIONS: &str = "Decisions";
/// 1 per finished deployment; dimensions `Kind` and `Outcome`.
pub const DEPLOYMENTS: &str = "Deployments";
/// The seconds a succeeded deployment took; dimension `Kind`.
pub const DEPLOY_DURATION: &str = "DeployDuration";
/// The minutes of a closed up-window; dimension `UpKind`.
pub const UP_MINUTES: &str = "UpMinutes";
/// 1 per health change; dimension `To`.
pub const HEALTH_TRANSITIONS: &str = "HealthTransitions";
/// 1 per budget lock.
pub const BUDGET_LOCKS: &str = "BudgetLocks";

/// The dimension every line has.
pub const ENVIRONMENT: &str = "Environment";

/// The most dimension keys EMF accepts in one dimension set.
const MAX_DIMENSIONS: usize = 30;

/// One EMF line carrying `metrics` (name, value, unit) for `environment` (the one
/// dimension, `Environment`), timestamped `at` (milliseconds, as EMF requires).
pub fn emf_line(environment: &str, at: DateTime<Utc>, metrics: &[(&str, f64, &str)]) -> String {
    line(at, &[&[ENVIRONMENT]], &[(ENVIRONMENT, environment)], metrics)
}

/// One EMF line: one directive in [`NAMESPACE`] with `dimensions` (the sets of
/// dimension names the metrics are aggregated by), the string `properties` at the top
/// level (every dimension name must be one of them), and `metrics` (name, value, unit),
/// each named in the directive and its value at the top level. Timestamped `at` in
/// milliseconds (sub-second kept).
fn line(
    at: DateTime<Utc>,
    dimensions: &[&[&str]],
    properties: &[(&str, &str)],
    metrics: &[(&str, f64, &str)],
) -> String {
    // The names here are this module's constants: a slip is a bug, caught by the tests.
    debug_assert!(
        dimensions.iter().flat_map(|set| set.iter()).all(|d| properties.iter().any(|(k, _)| k == d)),
        "every dimension is a property of the line"
    );
    debug_assert!(dimensions.iter().all(|set| !set.is_empty() && set.len() <= MAX_DIMENSIONS));
    debug_assert!(
        metrics.iter().all(|(name, _, _)| properties.iter().all(|(k, _)| k != name)),
        "a metric's value does not overwrite a property"
    );
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": dimensions,
                "Metrics": metrics.iter().map(|(name, _, unit)| serde_json::json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        },
    });
    for (key, value) in properties {
        line[*key] = serde_json::json!(value);
    }
    for (name, value, _) in metrics {
        line[*name] = serde_json::json!(value);
    }
    // serde_json escapes control characters in strings: the text is one line.
    line.to_string()
}

/// The EMF lines for one audit-trail entry, to print beside writing it:
///
/// - `Decisions` (Count, 1) at `entry.at`, by `[Environment]` and
///   `[Environment, Source]` (`schedule`, `webhook`, `budget`, `health`, `stack`,
///   `operator`);
/// - per finished deployment, `Deployments` (Count, 1) at its `finished_at`, by
///   `[Environment]` and `[Environment, Kind, Outcome]` (Kind `full`, `backend`,
///   `frontend`, `infrastructure`, or `none` for a plan with nothing to deploy;
///   Outcome `succeeded`, `failed`, `cancelled`); and for a succeeded one
///   `DeployDuration` (Seconds) by `[Environment]` and `[Environment, Kind]`: the
///   workflow run's own duration when GitHub gave it, else from its dispatch (or, never
///   dispatched, its request) to its finish;
/// - per closed up-window, `UpMinutes` (None: CloudWatch has no minutes unit) at the
///   window's end, by `[Environment]` and `[Environment, UpKind]`, UpKind `on_demand`
///   (a push or an operator started it outside the schedule) or `scheduled`. The month
///   report's finer split of on-demand time into time held past the business hours and
///   time within them needs the business hours, which are not in the entry: it stays in
///   `stagingctl report --month`;
/// - per health change, `HealthTransitions` (Count, 1) at `entry.at`, by
///   `[Environment]` and `[Environment, To]` (the new status as the state stores it:
///   `unknown`, `healthy`, `degraded`, `unhealthy`);
/// - per budget lock, `BudgetLocks` (Count, 1) at `entry.at`, by `[Environment]`.
///
/// Phase changes and budget unlocks have no metric. A deployment event that is not
/// finished (the trail records only finished ones) is skipped. CloudWatch drops a
/// metric timestamped more than two weeks back or two hours ahead; a line is printed
/// when its decision is, so its instants are recent.
pub fn for_entry(environment: &str, entry: &Entry) -> Vec<String> {
    let env = (ENVIRONMENT, environment);
    let mut lines = vec![line(
        entry.at,
        &[&[ENVIRONMENT], &[ENVIRONMENT, "Source"]],
        &[env, ("Source", entry.source.as_str())],
        &[(DECISIONS, 1.0, "Count")],
    )];
    for event in &entry.events {
        match event {
            Event::Deployment { kind, status, finished_at, .. } => {
                let Some(outcome) = outcome(*status) else { continue };
                let kind = kind.as_ref().map_or("none", DeployKind::as_str);
                lines.push(line(
                    *finished_at,
                    &[&[ENVIRONMENT], &[ENVIRONMENT, "Kind", "Outcome"]],
                    &[env, ("Kind", kind), ("Outcome", outcome)],
                    &[(DEPLOYMENTS, 1.0, "Count")],
                ));
                if let (DeploymentStatus::Succeeded, Some(secs)) = (*status, event.deploy_seconds()) {
                    lines.push(line(
                        *finished_at,
                        &[&[ENVIRONMENT], &[ENVIRONMENT, "Kind"]],
                        &[env, ("Kind", kind)],
                        &[(DEPLOY_DURATION, secs, "Seconds")],
                    ));
                }
            }
            Event::UpWindow { from, to, on_demand } => {
                let up_kind = if *on_demand { "on_demand" } else { "scheduled" };
                lines.push(line(
                    *to,
                    &[&[ENVIRONMENT], &[ENVIRONMENT, "UpKind"]],
                    &[env, ("UpKind", up_kind)],
                    &[(UP_MINUTES, (seconds(*to - *from) / 60.0).max(0.0), "None")],
                ));
            }
            Event::Health { to, .. } => {
                lines.push(line(
                    entry.at,
                    &[&[ENVIRONMENT], &[ENVIRONMENT, "To"]],
                    &[env, ("To", health_name(*to))],
                    &[(HEALTH_TRANSITIONS, 1.0, "Count")],
                ));
            }
            Event::BudgetLocked { .. } => {
                lines.push(line(entry.at, &[&[ENVIRONMENT]], &[env], &[(BUDGET_LOCKS, 1.0, "Count")]));
            }
            Event::Phase { .. }
            | Event::BudgetAlert
            | Event::BudgetUnlocked
            | Event::RolledBack { .. }
            | Event::Unknown => {}
        }
    }
    lines
}

/// A finished deployment's outcome, the `Outcome` dimension; `None` before it finished.
fn outcome(status: DeploymentStatus) -> Option<&'static str> {
    match status {
        DeploymentStatus::Succeeded => Some("succeeded"),
        DeploymentStatus::Failed => Some("failed"),
        DeploymentStatus::Cancelled => Some("cancelled"),
        DeploymentStatus::Pending | DeploymentStatus::InProgress => None,
    }
}

/// A health status as the state serializes it (snake_case).
fn health_name(status: HealthStatus) -> &'static str {
    match status {
        HealthStatus::Unknown => "unknown",
        HealthStatus::Healthy => "healthy",
        HealthStatus::Degraded => "degraded",
        HealthStatus::Unhealthy => "unhealthy",
    }
}

#[cfg(test)]
mod tests;
