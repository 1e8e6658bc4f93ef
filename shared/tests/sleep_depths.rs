//! Two sleep depths in stack mode, decided by the pure core across its decisions: an idle
//! stop scales the service to zero and keeps the pause stack standing (a shallow sleep);
//! the health check deletes the stack once `STAGING_DEEP_SLEEP_AFTER` has passed, the
//! scheduled teardown sooner; a wake from a shallow sleep restores the service (about a
//! minute) where one from a deep sleep creates the stack again. Clocks carry nanoseconds;
//! the shallow state goes through JSON (as DynamoDB stores it) before it is decided on.

use chrono::{DateTime, Duration, Utc};
use staging_core::decide::front_door::decide_wake;
use staging_core::decide::idle::{self, Minute, Usage};
use staging_core::decide::invite::Invite;
use staging_core::decide::lifecycle::{self, Command, reconcile};
use staging_core::model::action::{Action, ScheduledCommand};
use staging_core::model::observed::{Observed, StackObserved};
use staging_core::model::state::{Hold, HoldKind, IdleWatch, Phase, StackOperation};
use staging_core::{Config, Decision, EnvironmentState};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn whole(t: DateTime<Utc>) -> DateTime<Utc> {
    staging_core::time::whole_seconds(t)
}

fn config(deep_sleep_after: &str) -> Config {
    let vars = [
        ("STAGING_TEARDOWN", "stack"),
        ("STAGING_PAUSE_STACK", "staging-app"),
        ("STAGING_LOAD_BALANCER", "app/staging-app/0123456789abcdef"),
        ("STAGING_PROBES", "api=https://api.staging.example.com/health"),
        ("STAGING_DEEP_SLEEP_AFTER", deep_sleep_after),
    ];
    Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())).unwrap()
}

/// The pause stack standing (or gone), the service at `desired`.
fn stack(desired: u32, standing: bool) -> Observed {
    let status = standing.then(|| "CREATE_COMPLETE".to_string());
    Observed { stack: Some(StackObserved { status, reason: None }), ..Observed::counts(desired, desired) }
}

/// Sunday evening: woken at 18:44 for an hour by erin, last used at 18:55, the idle stop
/// warned of for 19:25.
fn warned() -> EnvironmentState {
    let mut s = EnvironmentState::new("staging");
    s.version = 12;
    s.phase = Phase::Up;
    s.started_at = Some(utc("2026-12-06T18:44:00Z"));
    s.started_on_demand = true;
    s.up_until = Some(utc("2026-12-06T18:44:00Z"));
    s.hold = Some(Hold {
        until: utc("2026-12-06T19:44:00Z"),
        reason: "woken from the front door".into(),
        who: "erin".into(),
        kind: HoldKind::OnDemand,
        keep: false,
    });
    s.idle = IdleWatch {
        last_use: Some(utc("2026-12-06T18:55:00Z")),
        stop_at: Some(utc("2026-12-06T19:25:00Z")),
        warned_at: Some(utc("2026-12-06T19:15:00Z")),
        ..IdleWatch::default()
    };
    s
}

/// Only the health check's own probe (one request a tick) since 18:40.
fn quiet(to: DateTime<Utc>) -> Usage {
    let from = utc("2026-12-06T18:40:00Z");
    let minutes = std::iter::successors(Some(from), |t| Some(*t + Duration::minutes(5)))
        .take_while(|t| *t < to)
        .map(|start| Minute { start, requests: 1.0, connections: 1.0 })
        .collect();
    Usage::Figures { from, minutes }
}

fn pauses(d: &Decision) -> bool {
    d.actions.iter().any(|a| matches!(a, Action::PauseStack { .. }))
}

fn notifies(d: &Decision) -> bool {
    d.actions.iter().any(|a| matches!(a, Action::Notify(_)))
}

/// The idle stop, as the 19:30 tick makes it: a shallow sleep, stored and read back.
fn shallow(config: &Config) -> (EnvironmentState, DateTime<Utc>) {
    let at = utc("2026-12-06T19:30:00.123456789Z");
    let d = idle::decide(&warned(), &stack(1, true), &quiet(at), 1, at, config);
    assert!(d.actions.contains(&Action::ScaleService { desired_count: 0 }), "{:?}", d.actions);
    assert!(!pauses(&d), "the stack stays: {:?}", d.actions);
    let until = whole(at) + Duration::from_std(config.front_door.deep_sleep_after).unwrap();
    let says = format!("the stack stays until {} (a shallow sleep)", until.format("%H:%M UTC"));
    assert!(d.summary.contains(&says), "{}", d.summary);
    assert_eq!(d.next_state.stack.shallow_until, Some(until));
    assert!(!d.next_state.wants_running());
    let stored = serde_json::to_string(&d.next_state).unwrap();
    let read: EnvironmentState = serde_json::from_str(&stored).unwrap();
    assert_eq!(read, d.next_state, "the shallow sleep survives the store");
    (read, at)
}

#[test]
fn an_idle_stop_keeps_the_stack_and_the_health_check_deletes_it_after_the_deep_sleep_time() {
    let config = config("2h");
    let (asleep, at) = shallow(&config);
    let until = asleep.stack.shallow_until.unwrap();

    // The reconciler every decision runs leaves a shallow sleep's stack standing; the
    // same state without it would delete the stack.
    assert_eq!(reconcile(&asleep, stack(0, true)), None);
    let mut deep = asleep.clone();
    deep.stack.shallow_until = None;
    assert!(matches!(reconcile(&deep, stack(0, true)), Some(Action::PauseStack { .. })));

    let tick =
        |t: DateTime<Utc>| staging_core::decide::health::decide(&asleep, &stack(0, true), None, None, t, &config);
    for t in [at + Duration::minutes(5), until - Duration::nanoseconds(1)] {
        let d = tick(t);
        assert!(!pauses(&d), "{t}: still a shallow sleep: {}", d.summary);
        assert_eq!(d.next_state.stack.shallow_until, Some(until), "{t}");
    }
    let d = tick(until + Duration::milliseconds(250));
    assert!(pauses(&d), "{}: {:?}", d.summary, d.actions);
    assert!(d.summary.starts_with("deep sleep:"), "{}", d.summary);
    assert_eq!(d.next_state.stack.shallow_until, None);
    assert_eq!(d.next_state.stack.in_progress.map(|p| p.operation), Some(StackOperation::Delete));
    assert!(!notifies(&d), "the team was told of the stop; the deletion is quiet");
}

#[test]
fn the_scheduled_teardown_deletes_a_shallow_sleeps_stack_sooner() {
    let config = config("24h");
    let (asleep, _) = shallow(&config);
    assert!(asleep.stack.shallow_until.unwrap() > utc("2026-12-07T18:00:00Z"), "kept past Monday's teardown");
    let teardown = Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: Some(utc("2026-12-07T18:00:00Z")) });
    let d = lifecycle::decide(&asleep, stack(0, true), &teardown, utc("2026-12-07T18:00:00.731Z"), &config).unwrap();
    assert!(pauses(&d), "{}: {:?}", d.summary, d.actions);
    assert_eq!(d.next_state.stack.shallow_until, None);
}

#[test]
fn a_wake_from_a_shallow_sleep_restores_the_service_and_from_a_deep_one_creates_the_stack() {
    let config = config("2h");
    let (asleep, at) = shallow(&config);
    let erin = Invite::new("erin", utc("2026-12-01T09:00:00Z"), Duration::days(30)).unwrap();
    let t = at + Duration::minutes(20) + Duration::nanoseconds(7);

    let d = decide_wake(&asleep, stack(0, true), &erin, t, &config).unwrap();
    assert!(d.actions.contains(&Action::RestoreService), "{:?}", d.actions);
    assert!(!d.actions.contains(&Action::ResumeStack));
    assert_eq!(d.next_state.stack.shallow_until, None, "the shallow sleep is over");
    assert!(!d.next_state.wakes.last().unwrap().from_deep_sleep);

    let mut deep = asleep.clone();
    deep.stack.shallow_until = None;
    let d = decide_wake(&deep, stack(0, false), &erin, t, &config).unwrap();
    assert!(d.actions.contains(&Action::ResumeStack), "{:?}", d.actions);
    assert!(d.next_state.wakes.last().unwrap().from_deep_sleep);
}
