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
            Event::UpWindow { from: t("2026-11-27T08:00:00Z"), to: t("2026-11-27T18:00:00.500Z"), on_demand: false },
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
            deployment(Some(DeployKind::Backend), DeploymentStatus::Succeeded, Some("2026-11-27T18:00:00Z"), Some(290)),
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
            Event::Health { at: t("2026-11-27T18:05:00Z"), from: HealthStatus::Healthy, to: HealthStatus::Unhealthy },
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
