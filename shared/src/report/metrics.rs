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
mod tests {
    use super::*;
    use crate::audit::Source;
    use crate::model::state::Phase;
    use serde_json::{Value, json};

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_emf_line_names_each_metric_its_dimension_and_carries_the_values() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T18:15:00.123456789Z").unwrap().with_timezone(&Utc);
        let line = emf_line("staging", at, &[(TEARDOWN_OVERDUE, 1.0, "Count")]);
        assert!(!line.contains('\n'), "one line");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1795803300123_i64, "milliseconds, sub-second kept");
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "StagingControl");
        assert_eq!(directive["Dimensions"], serde_json::json!([["Environment"]]));
        assert_eq!(directive["Metrics"], serde_json::json!([{"Name": "TeardownOverdue", "Unit": "Count"}]));
        assert_eq!((v["Environment"].as_str(), v["TeardownOverdue"].as_f64()), (Some("staging"), Some(1.0)));
    }

    fn entry(source: Source, events: Vec<Event>) -> Entry {
        Entry {
            at: t("2026-11-27T18:15:00.123456789Z"),
            source,
            who: "someone".into(),
            input: "input".into(),
            summary: "summary".into(),
            actions: vec![],
            errors: vec![],
            version: Some(7),
            events,
        }
    }

    fn deployment(
        kind: Option<DeployKind>,
        status: DeploymentStatus,
        started_at: Option<&str>,
        run_secs: Option<i64>,
    ) -> Event {
        Event::Deployment {
            sha: "abc123".into(),
            kind,
            status,
            requested_at: t("2026-11-27T17:58:00Z"),
            started_at: started_at.map(t),
            finished_at: t("2026-11-27T18:10:30.250Z"),
            run_secs,
        }
    }

    /// The whole line a metric is expected on: its directive, its properties, its value.
    fn expected(
        timestamp: i64,
        dimensions: Value,
        properties: &[(&str, &str)],
        metric: &str,
        unit: &str,
        value: f64,
    ) -> Value {
        let mut line = json!({
            "_aws": {
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": "StagingControl",
                    "Dimensions": dimensions,
                    "Metrics": [{"Name": metric, "Unit": unit}],
                }],
            },
            "Environment": "staging",
        });
        for (key, value) in properties {
            line[*key] = json!(value);
        }
        line[metric] = json!(value);
        line
    }

    /// The EMF rules every line keeps, whatever it carries.
    fn assert_valid_emf(line: &str) {
        assert!(!line.contains('\n') && !line.contains('\r'), "one line: {line}");
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["_aws"]["Timestamp"].is_i64(), "{line}");
        for directive in v["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(directive["Namespace"], NAMESPACE);
            for set in directive["Dimensions"].as_array().unwrap() {
                let set = set.as_array().unwrap();
                assert!(!set.is_empty() && set.len() <= 30, "{line}");
                for name in set {
                    assert!(v[name.as_str().unwrap()].is_string(), "dimension {name} is a top-level string: {line}");
                }
            }
            for metric in directive["Metrics"].as_array().unwrap() {
                assert_eq!(metric.as_object().unwrap().len(), 2, "Name and Unit: {line}");
                assert!(metric["Unit"].is_string(), "{line}");
                assert!(v[metric["Name"].as_str().unwrap()].is_number(), "the value is a top-level number: {line}");
            }
        }
    }

    fn parsed(lines: &[String]) -> Vec<Value> {
        lines.iter().inspect(|l| assert_valid_emf(l)).map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    const AT_MS: i64 = 1795803300123; // 2026-11-27T18:15:00.123456789Z
    const FINISHED_MS: i64 = 1795803030250; // 2026-11-27T18:10:30.250Z

    #[test]
    fn an_entry_gives_its_decision_then_a_line_per_fact_it_established() {
        let by_env = || json!([["Environment"]]);
        let events = vec![
            // (event, the lines it gives)
            (Event::Phase { from: Phase::Down, to: Phase::Starting }, vec![]),
            (
                Event::UpWindow {
                    from: t("2026-11-27T08:00:00Z"),
                    to: t("2026-11-27T18:00:00.500Z"),
                    on_demand: false,
                },
                vec![expected(
                    1795802400500,
                    json!([["Environment"], ["Environment", "UpKind"]]),
                    &[("UpKind", "scheduled")],
                    "UpMinutes",
                    "None",
                    600.0 + 0.5 / 60.0,
                )],
            ),
            (
                Event::UpWindow {
                    from: t("2026-11-27T18:00:00.500Z"),
                    to: t("2026-11-27T18:15:00.123456789Z"),
                    on_demand: true,
                },
                vec![expected(
                    AT_MS,
                    json!([["Environment"], ["Environment", "UpKind"]]),
                    &[("UpKind", "on_demand")],
                    "UpMinutes",
                    "None",
                    (899.0 + 0.623456789) / 60.0,
                )],
            ),
            // GitHub's own run time wins.
            (
                deployment(
                    Some(DeployKind::Backend),
                    DeploymentStatus::Succeeded,
                    Some("2026-11-27T18:00:00Z"),
                    Some(290),
                ),
                vec![
                    expected(
                        FINISHED_MS,
                        json!([["Environment"], ["Environment", "Kind", "Outcome"]]),
                        &[("Kind", "backend"), ("Outcome", "succeeded")],
                        "Deployments",
                        "Count",
                        1.0,
                    ),
                    expected(
                        FINISHED_MS,
                        json!([["Environment"], ["Environment", "Kind"]]),
                        &[("Kind", "backend")],
                        "DeployDuration",
                        "Seconds",
                        290.0,
                    ),
                ],
            ),
            // Without it, from the dispatch, the fraction kept.
            (
                deployment(Some(DeployKind::Full), DeploymentStatus::Succeeded, Some("2026-11-27T18:00:00.125Z"), None),
                vec![
                    expected(
                        FINISHED_MS,
                        json!([["Environment"], ["Environment", "Kind", "Outcome"]]),
                        &[("Kind", "full"), ("Outcome", "succeeded")],
                        "Deployments",
                        "Count",
                        1.0,
                    ),
                    expected(
                        FINISHED_MS,
                        json!([["Environment"], ["Environment", "Kind"]]),
                        &[("Kind", "full")],
                        "DeployDuration",
                        "Seconds",
                        630.125,
                    ),
                ],
            ),
            // Never dispatched: from the request.
            (
                deployment(Some(DeployKind::Frontend), DeploymentStatus::Succeeded, None, None),
                vec![
                    expected(
                        FINISHED_MS,
                        json!([["Environment"], ["Environment", "Kind", "Outcome"]]),
                        &[("Kind", "frontend"), ("Outcome", "succeeded")],
                        "Deployments",
                        "Count",
                        1.0,
                    ),
                    expected(
                        FINISHED_MS,
                        json!([["Environment"], ["Environment", "Kind"]]),
                        &[("Kind", "frontend")],
                        "DeployDuration",
                        "Seconds",
                        750.25,
                    ),
                ],
            ),
            // Failed and cancelled: counted, no duration; a plan of nothing is `none`.
            (
                deployment(None, DeploymentStatus::Failed, Some("2026-11-27T18:00:00Z"), Some(100)),
                vec![expected(
                    FINISHED_MS,
                    json!([["Environment"], ["Environment", "Kind", "Outcome"]]),
                    &[("Kind", "none"), ("Outcome", "failed")],
                    "Deployments",
                    "Count",
                    1.0,
                )],
            ),
            (
                deployment(Some(DeployKind::Infrastructure), DeploymentStatus::Cancelled, None, None),
                vec![expected(
                    FINISHED_MS,
                    json!([["Environment"], ["Environment", "Kind", "Outcome"]]),
                    &[("Kind", "infrastructure"), ("Outcome", "cancelled")],
                    "Deployments",
                    "Count",
                    1.0,
                )],
            ),
            // Not finished: not a deployment the figures count.
            (deployment(Some(DeployKind::Full), DeploymentStatus::InProgress, None, None), vec![]),
            (
                Event::Health {
                    at: t("2026-11-27T18:05:00Z"),
                    from: HealthStatus::Healthy,
                    to: HealthStatus::Unhealthy,
                },
                vec![expected(
                    AT_MS,
                    json!([["Environment"], ["Environment", "To"]]),
                    &[("To", "unhealthy")],
                    "HealthTransitions",
                    "Count",
                    1.0,
                )],
            ),
            (
                Event::BudgetLocked { reason: "actual spend 100% of the budget".into() },
                vec![expected(AT_MS, by_env(), &[], "BudgetLocks", "Count", 1.0)],
            ),
            (Event::BudgetUnlocked, vec![]),
        ];
        let entry = entry(Source::Webhook, events.iter().map(|(e, _)| e.clone()).collect());
        // As the trail keeps it: the entry read back.
        let entry: Entry = serde_json::from_str(&serde_json::to_string(&entry).unwrap()).unwrap();

        let mut want = vec![expected(
            AT_MS,
            json!([["Environment"], ["Environment", "Source"]]),
            &[("Source", "webhook")],
            "Decisions",
            "Count",
            1.0,
        )];
        want.extend(events.into_iter().flat_map(|(_, lines)| lines));
        let got = parsed(&for_entry("staging", &entry));
        assert_eq!(got.len(), want.len(), "{got:#?}");
        for (i, (got, want)) in got.iter().zip(&want).enumerate() {
            // Floats compared within a nanosecond's worth, the rest exactly.
            let (mut got, mut want) = (got.clone(), want.clone());
            for name in ["UpMinutes", "DeployDuration"] {
                if let (Some(g), Some(w)) = (got[name].as_f64(), want[name].as_f64()) {
                    assert!((g - w).abs() < 1e-9, "line {i}: {name} {g} != {w}");
                    (got[name], want[name]) = (json!(0), json!(0));
                }
            }
            assert_eq!(got, want, "line {i}");
        }
    }

    #[test]
    fn a_quiet_entry_gives_only_its_decision_by_source() {
        for source in Source::ALL {
            for events in [vec![], vec![Event::Phase { from: Phase::Up, to: Phase::Stopping }, Event::BudgetUnlocked]] {
                let entry = entry(source, events);
                let got = parsed(&for_entry("staging", &entry));
                let want = expected(
                    AT_MS,
                    json!([["Environment"], ["Environment", "Source"]]),
                    &[("Source", source.as_str())],
                    "Decisions",
                    "Count",
                    1.0,
                );
                assert_eq!(got, vec![want], "{source}");
            }
        }
    }

    #[test]
    fn the_to_dimension_is_the_status_as_the_state_serializes_it() {
        for status in [HealthStatus::Unknown, HealthStatus::Healthy, HealthStatus::Degraded, HealthStatus::Unhealthy] {
            assert_eq!(json!(health_name(status)), serde_json::to_value(status).unwrap());
        }
    }

    #[test]
    fn text_that_could_break_a_line_stays_on_one() {
        let lines = for_entry("stag\"ing\nx", &entry(Source::Operator, vec![]));
        assert_valid_emf(&lines[0]);
        let v: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["Environment"], "stag\"ing\nx");
    }
}
