use super::*;
use crate::model::state::{BudgetLock, BudgetPeriod, Deployment, HealthChange, UpWindow};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn deployment(sha: &str, plan: DeploymentPlan, status: DeploymentStatus, finished: &str) -> Deployment {
    let mut d = Deployment::started_by_hand(
        sha,
        "dave",
        Some(7),
        None,
        utc("2026-11-24T10:00:00.125Z"),
        utc("2026-11-24T10:00:00.125Z"),
    );
    d.plan = plan;
    d.status = status;
    d.finished_at = Some(utc(finished));
    d.run_duration_secs = Some(245);
    d
}

fn plan(backend: bool, frontend: bool, infrastructure: bool, migration: bool) -> DeploymentPlan {
    DeploymentPlan { backend, frontend, infrastructure, database_migration: migration }
}

#[test]
fn a_plan_is_counted_as_one_of_the_seeds_four_kinds() {
    #[rustfmt::skip]
    let table = [
        (plan(true, false, false, false), Some(DeployKind::Backend)),
        (plan(false, false, false, true), Some(DeployKind::Backend)),
        (plan(false, true, false, false), Some(DeployKind::Frontend)),
        (plan(false, false, true, false), Some(DeployKind::Infrastructure)),
        (plan(true, true, false, false), Some(DeployKind::Full)),
        (plan(false, true, true, false), Some(DeployKind::Full)),
        (plan(true, false, true, true), Some(DeployKind::Full)),
        (plan(false, false, false, false), None),
    ];
    for (p, kind) in table {
        assert_eq!(DeployKind::of(&p), kind, "{p:?}");
    }
}

/// (name, change the state before, change the state after, actions, the events expected)
#[test]
fn the_events_are_read_off_the_decision() {
    let backend = plan(true, false, false, false);
    let succeeded = deployment("aaaaaaa1", backend, DeploymentStatus::Succeeded, "2026-11-24T10:04:05.750Z");
    let mut rolled_back = succeeded.clone();
    rolled_back.rolled_back_at = Some(utc("2026-11-24T10:20:00.5Z"));
    let mut rerun = succeeded.clone();
    rerun.finished_at = Some(utc("2026-11-24T11:00:00.5Z"));
    let window =
        UpWindow { from: utc("2026-11-24T08:00:00.250Z"), to: utc("2026-11-24T18:00:00.5Z"), on_demand: false };
    let older = UpWindow { from: utc("2026-11-23T08:00:00.250Z"), to: utc("2026-11-23T18:00:00.5Z"), on_demand: false };
    let lock = BudgetLock {
        period: BudgetPeriod::new(2026, 11).unwrap(),
        locked_at: utc("2026-11-25T22:30:00.5Z"),
        reason: "actual over 100 %".into(),
    };
    let health_at = utc("2026-11-24T11:05:00.5Z");
    let deployment_event = |d: &Deployment| Event::Deployment {
        sha: d.sha.clone(),
        kind: Some(DeployKind::Backend),
        status: d.status,
        requested_at: d.requested_at,
        started_at: d.started_at,
        finished_at: d.finished_at.unwrap(),
        run_secs: Some(245),
    };
    type Edit = Box<dyn Fn(&mut EnvironmentState)>;
    let nothing = || -> Edit { Box::new(|_| {}) };
    #[rustfmt::skip]
    let table: Vec<(&str, Edit, Edit, Vec<Action>, Vec<Event>)> = vec![
        ("nothing changed", nothing(), nothing(), vec![], vec![]),
        ("the phase", nothing(), Box::new(|s| s.phase = Phase::Stopping), vec![], vec![Event::Phase { from: Phase::Up, to: Phase::Stopping }]),
        ("a window closed, the oldest forgotten",
            { let o = older; Box::new(move |s| s.up_windows = vec![o]) },
            { let w = window; Box::new(move |s| s.up_windows = vec![w]) },
            vec![], vec![Event::UpWindow { from: window.from, to: window.to, on_demand: false }]),
        ("a deployment finished", nothing(), nothing(), vec![Action::RecordDeployment(succeeded.clone())], vec![deployment_event(&succeeded)]),
        ("a deployment still running", nothing(), nothing(),
            vec![Action::RecordDeployment(deployment("b", backend, DeploymentStatus::InProgress, "2026-11-24T10:00:00Z"))], vec![]),
        ("a rollback records it again: the same deployment, rolled back",
            { let d = succeeded.clone(); Box::new(move |s| s.last_deployment = Some(d.clone())) }, nothing(),
            vec![Action::RecordDeployment(rolled_back.clone())],
            vec![Event::RolledBack { sha: "aaaaaaa1".into(), at: utc("2026-11-24T10:20:00.5Z") }]),
        ("recorded again once rolled back: nothing new",
            { let d = rolled_back.clone(); Box::new(move |s| s.last_deployment = Some(d.clone())) }, nothing(),
            vec![Action::RecordDeployment(rolled_back.clone())], vec![]),
        ("a re-run that finished later is another deployment",
            { let d = succeeded.clone(); Box::new(move |s| s.last_deployment = Some(d.clone())) }, nothing(),
            vec![Action::RecordDeployment(rerun.clone())], vec![deployment_event(&rerun)]),
        ("health changed", nothing(), nothing(),
            vec![Action::RecordHealth { at: health_at, change: HealthChange { from: HealthStatus::Healthy, to: HealthStatus::Unhealthy } }],
            vec![Event::Health { at: health_at, from: HealthStatus::Healthy, to: HealthStatus::Unhealthy }]),
        ("a budget alert handled", nothing(), Box::new(|s| s.remember_alert("2026-11:ACTUAL:100".into())), vec![], vec![Event::BudgetAlert]),
        ("a budget alert delivered again",
            Box::new(|s| s.remember_alert("2026-11:ACTUAL:100".into())), Box::new(|s| s.remember_alert("2026-11:ACTUAL:100".into())), vec![], vec![]),
        ("locked", nothing(), { let l = lock.clone(); Box::new(move |s| s.budget_lock = Some(l.clone())) }, vec![],
            vec![Event::BudgetLocked { reason: "actual over 100 %".into() }]),
        ("unlocked", { let l = lock.clone(); Box::new(move |s| s.budget_lock = Some(l.clone())) }, Box::new(|s| s.budget_lock = None), vec![], vec![Event::BudgetUnlocked]),
    ];
    for (name, edit_before, edit_after, actions, expected) in table {
        let mut before = EnvironmentState::new("staging");
        before.phase = Phase::Up;
        edit_before(&mut before);
        let mut after = before.clone();
        edit_after(&mut after);
        assert_eq!(events(&before, &after, &actions), expected, "{name}");
    }
}

#[test]
fn an_entry_round_trips_through_json_to_the_nanosecond() {
    let entry = Entry {
        at: utc("2026-11-24T11:05:00.123456789Z"),
        source: Source::Webhook,
        who: "alice".into(),
        input: "push refs/heads/develop".into(),
        summary: "dispatched backend-only".into(),
        actions: vec!["dispatched deploy-staging.yml".into()],
        errors: vec![],
        version: Some(12),
        events: vec![
            Event::Health { at: utc("2026-11-24T11:00:00.5Z"), from: HealthStatus::Unknown, to: HealthStatus::Healthy },
            Event::BudgetAlert,
        ],
    };
    let json = serde_json::to_string(&entry).unwrap();
    assert!(json.contains(r#""at":"2026-11-24T11:05:00.123456789Z""#), "{json}");
    // An event from a newer version is read as unknown, not refused.
    let newer = json.replace(r#"{"event":"budget_alert"}"#, r#"{"event":"cache_flushed","keys":3}"#);
    assert_eq!(serde_json::from_str::<Entry>(&newer).unwrap().events[1], Event::Unknown);
    assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), entry);
    assert_eq!(entry.sort_key(), "2026-11-24T11:05:00.123456789Z");
    // Fixed width: text order is time order, whole seconds included.
    assert!(sort_key(utc("2026-11-24T11:05:00Z")) < sort_key(utc("2026-11-24T11:05:00.000000001Z")));
    assert!(sort_key(utc("2026-11-24T11:05:00.9Z")) < sort_key(utc("2026-11-24T11:05:01Z")));
}

#[test]
fn only_a_health_tick_that_did_nothing_is_not_kept() {
    let event = vec![Event::BudgetAlert];
    #[rustfmt::skip]
    let table: [(Source, &[Event], bool, bool, bool); 6] = [
        (Source::Health, &[], false, false, false),
        (Source::Health, &event, false, false, true),
        (Source::Health, &[], true, false, true),
        (Source::Health, &[], false, true, true),
        (Source::Schedule, &[], false, false, true),
        (Source::Operator, &[], false, false, true),
    ];
    for (source, events, acted, failed, kept) in table {
        assert_eq!(worth_keeping(source, events, acted, failed), kept, "{source} {events:?} {acted} {failed}");
    }
}

#[test]
fn who_and_input_are_one_bounded_line() {
    let origin = Origin::new(Source::Operator, "carol\n\x1b[31mred\x1b[0m", "a\tb\r\nc");
    assert_eq!(origin.input, "a b c");
    assert!(!origin.who.chars().any(char::is_control), "{:?}", origin.who);
    assert!(origin.who.starts_with("carol "), "{:?}", origin.who);
    let long = Origin::new(Source::Operator, "x".repeat(500), "y".repeat(500));
    assert_eq!((long.who.chars().count(), long.input.chars().count()), (WHO_CHARS, INPUT_CHARS));
    assert!(long.input.ends_with('…'));
    assert_eq!(Source::parse("operator"), Ok(Source::Operator));
    assert_eq!(
        Source::parse("cron").unwrap_err(),
        "unknown kind `cron`: expected one of schedule, webhook, budget, health, stack, operator, front-door"
    );
}

#[test]
fn a_bound_is_an_instant_or_the_teams_day_across_a_clock_change() {
    let london = crate::schedule::BusinessHours { time_zone: chrono_tz::Europe::London, ..Default::default() };
    #[rustfmt::skip]
    let table = [
        ("2026-11-24", false, Ok("2026-11-24T00:00:00Z")),
        ("2026-11-24", true, Ok("2026-11-25T00:00:00Z")),
        // Summer time: the team's day starts an hour before UTC's.
        ("2026-07-01", false, Ok("2026-06-30T23:00:00Z")),
        // The day the clocks go back is 25 hours long.
        ("2026-10-25", false, Ok("2026-10-24T23:00:00Z")),
        ("2026-10-25", true, Ok("2026-10-26T00:00:00Z")),
        ("2026-11-24T10:30:00.25+01:00", false, Ok("2026-11-24T09:30:00.25Z")),
        ("24/11/2026", false, Err("`24/11/2026` is not a date like 2026-11-24 or an instant like 2026-11-24T10:30:00Z")),
    ];
    for (text, end, expected) in table {
        let got = parse_bound(text, &london, end);
        assert_eq!(got, expected.map(utc).map_err(String::from), "{text} end={end}");
    }
}

#[test]
fn lifecycle_origins_say_who_from_what_was_understood() {
    use crate::decide::lifecycle::{Command, origin};
    #[rustfmt::skip]
    let table = [
        (serde_json::json!({"command": "up", "who": "carol", "reason": "demo", "note": "ghp_secret"}), Source::Operator, "carol"),
        (serde_json::json!({"command": "teardown", "scheduled_time": "2026-11-24T18:00:00Z"}), Source::Schedule, "teardown"),
        (serde_json::json!({"command": "startup"}), Source::Operator, "by hand"),
        (serde_json::json!({"command": "hold_expired", "until": 1795640400}), Source::Schedule, "hold-expiry"),
        (serde_json::json!({"command": "stack_check"}), Source::Schedule, "stack-check"),
    ];
    for (event, source, who) in table {
        let command: Command = serde_json::from_value(event.clone()).unwrap();
        let o = origin(&command, &event);
        assert_eq!((o.source, o.who.as_str()), (source, who), "{event}");
        assert!(!o.input.contains("ghp_secret"), "a field the command does not know is not kept: {}", o.input);
    }
    let stack_event = serde_json::json!({
        "detail-type": "CloudFormation Stack Status Change",
        "detail": {"stack-id": "arn:aws:cloudformation:us-east-1:123456789012:stack/staging-app/1", "status-details": {"status": "CREATE_COMPLETE"}}
    });
    let command: Command = serde_json::from_value(serde_json::json!({"command": "stack_check"})).unwrap();
    let o = origin(&command, &stack_event);
    assert_eq!((o.source, o.who.as_str()), (Source::Stack, "cloudformation"));
    assert!(o.input.ends_with("stack/staging-app/1 CREATE_COMPLETE"), "{}", o.input);
}

/// Every source is stored as the name the trail's command and metrics give it; the front
/// door's entries written as `front_door` before read the same.
#[test]
fn sources_are_stored_as_their_names() {
    for source in Source::ALL {
        let stored = serde_json::to_string(&source).unwrap();
        assert_eq!(stored, format!("\"{}\"", source.as_str()));
        assert_eq!(serde_json::from_str::<Source>(&stored).unwrap(), source);
    }
    assert_eq!(serde_json::from_str::<Source>("\"front_door\"").unwrap(), Source::FrontDoor);
}
