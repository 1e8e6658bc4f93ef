use super::*;
use crate::decide::draft::as_found;
use crate::model::observed::Observed;
use crate::model::observed::StackObserved;
use crate::model::state::BudgetLock;
use crate::model::state::{Hold, StackProgress};
use std::time::Duration;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn config() -> Config {
    Config::from_lookup(|_| None).unwrap()
}

const UP: Observed = Observed::counts(2, 2);
const DOWN: Observed = Observed::counts(0, 0);
// Friday 2026-11-27: 10:00 is working hours, 20:00 is not.
const WORKING: &str = "2026-11-27T10:00:00Z";
const EVENING: &str = "2026-11-27T20:00:00Z";

fn up(hold: Option<u64>, force: bool) -> Command {
    Command::Up {
        hold: hold.map(|h| Duration::from_secs(h * 3600)),
        reason: "demo".into(),
        who: "alice".into(),
        force,
        keep: false,
    }
}

fn held(until: &str) -> Option<Hold> {
    Some(Hold { until: utc(until), reason: "demo".into(), who: "alice".into(), kind: HoldKind::OnDemand, keep: false })
}

fn locked() -> Option<BudgetLock> {
    Some(BudgetLock {
        period: "2026-11".parse().unwrap(),
        locked_at: utc("2026-11-20T00:00:00Z"),
        reason: "actual > budget".into(),
    })
}

/// The kinds of actions, in order, for compact tables.
fn kinds(d: &Decision) -> Vec<&'static str> {
    d.actions
        .iter()
        .map(|a| match a {
            Action::ScaleService { .. } => "scale_to_zero",
            Action::RestoreService => "restore",
            Action::PutOneTimeSchedule { .. } => "put_schedule",
            Action::DeleteSchedule { .. } => "delete_schedule",
            Action::DispatchDeploy { .. } => "dispatch",
            Action::ResumeStack => "resume_stack",
            Action::RestorePausedService => "restore_as_paused",
            Action::PauseStack { keep_service: false } => "pause_stack",
            Action::PauseStack { keep_service: true } => "pause_stack_keeping_the_service",
            Action::SetScalableTarget(t) if t.is_parked() => "park_scaling",
            Action::SetScalableTarget(_) => "restore_scaling",
            Action::Notify(n) if n.severity == Severity::Critical => "notify_critical",
            Action::Notify(n) => match n.event {
                NotificationEvent::EnvStartup => "notify_startup",
                NotificationEvent::EnvTeardown => "notify_teardown",
                NotificationEvent::EnvHold => "notify_hold",
                NotificationEvent::BudgetUnlocked => "notify_unlocked",
                NotificationEvent::DeployPlanned => "notify_deploy",
                _ => "notify_other",
            },
            _ => "other",
        })
        .collect()
}

#[test]
fn decisions_table() {
    let expire = Command::Scheduled(ScheduledCommand::HoldExpired { until: utc("2026-11-27T21:00:00Z") });
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, Observed, Option<Hold>, Option<BudgetLock>, Command, &[&str], &str)> = vec![
        ("up in hours starts without a hold", WORKING, DOWN, None, None, up(None, false),
            &["restore", "notify_startup"], "starting"),
        ("up when already up does nothing", WORKING, UP, None, None, up(None, false),
            &[], "already up"),
        ("up in the evening holds for the default 2h", EVENING, DOWN, None, None, up(None, false),
            &["put_schedule", "notify_hold", "restore", "notify_startup"], "held until 22:00 UTC; starting"),
        ("up with an explicit hold in hours holds", WORKING, UP, None, None, up(Some(1), false),
            &["put_schedule", "notify_hold"], "held until 11:00 UTC; already up"),
        ("up --force lifts the lock first", WORKING, DOWN, None, locked(), up(None, true),
            &["notify_unlocked", "restore", "notify_startup"], "starting"),
        ("down drops the hold and scales to zero", EVENING, UP, held("2026-11-27T21:00:00Z"), None,
            Command::Down { who: "bob".into() }, &["delete_schedule", "scale_to_zero", "notify_teardown"], "stopping"),
        ("down when down does nothing", WORKING, DOWN, None, None, Command::Down { who: "bob".into() },
            &[], "already down"),
        ("hold starts a stopped environment", EVENING, DOWN, None, None,
            Command::Hold { duration: Duration::from_secs(3600), reason: "incident".into(), who: "bob".into() },
            &["put_schedule", "notify_hold", "restore", "notify_startup"], "held until 21:00 UTC; starting"),
        ("release in the evening tears down", EVENING, UP, held("2026-11-27T21:00:00Z"), None,
            Command::Release { who: "bob".into() }, &["delete_schedule", "scale_to_zero", "notify_teardown"], "hold released; stopping"),
        ("release in hours stays up", WORKING, UP, held("2026-11-27T21:00:00Z"), None,
            Command::Release { who: "bob".into() }, &["delete_schedule"], "hold released; already up"),
        ("release without a hold does nothing", WORKING, UP, None, None,
            Command::Release { who: "bob".into() }, &[], "no hold to release"),
        ("unlock in hours starts again", WORKING, DOWN, None, locked(),
            Command::Unlock { who: "bob".into() }, &["notify_unlocked", "restore", "notify_startup"], "unlocked; starting"),
        ("unlock in the evening stays down", EVENING, DOWN, None, locked(),
            Command::Unlock { who: "bob".into() }, &["notify_unlocked"], "unlocked; already down"),
        ("unlock when not locked does nothing", WORKING, UP, None, None,
            Command::Unlock { who: "bob".into() }, &[], "not locked"),
        ("scheduled startup on a working day", "2026-11-27T08:00:00Z", DOWN, None, None,
            Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None }), &["restore", "notify_startup"], "starting"),
        ("scheduled startup on a Saturday does nothing", "2026-11-28T08:00:00Z", DOWN, None, None,
            Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None }), &[], "not starting: not a working day (or a holiday)"),
        ("scheduled startup while locked does nothing", "2026-11-27T08:00:00Z", DOWN, None, locked(),
            Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None }), &[], "not starting: locked by the budget"),
        ("scheduled teardown", "2026-11-27T18:00:00Z", UP, None, None,
            Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None }), &["scale_to_zero", "notify_teardown"], "stopping"),
        ("teardown is deferred while a hold is active", "2026-11-27T18:00:00Z", UP, held("2026-11-27T21:00:00Z"), None,
            Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None }), &[], "teardown deferred: held until 21:00 UTC by alice"),
        ("teardown after an expired hold proceeds", "2026-11-27T22:00:00Z", UP, held("2026-11-27T21:00:00Z"), None,
            Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None }), &["scale_to_zero", "notify_teardown"], "stopping"),
        ("hold expiry in the evening tears down", "2026-11-27T21:00:00Z", UP, held("2026-11-27T21:00:00Z"), None,
            expire.clone(), &["scale_to_zero", "notify_teardown"], "hold expired; stopping"),
        ("hold expiry of an extended hold re-puts the longer one's schedule", "2026-11-27T21:00:00Z", UP, held("2026-11-27T23:00:00Z"), None,
            expire.clone(), &["put_schedule"], "ignored: the hold was extended to 23:00 UTC; its expiry is scheduled"),
        ("hold expiry after a shorter hold has also run out tears down", "2026-11-27T21:00:00Z", UP, held("2026-11-27T20:30:00Z"), None,
            expire.clone(), &["scale_to_zero", "notify_teardown"], "hold expired; stopping"),
        ("hold expiry with no hold is ignored", "2026-11-27T21:00:00Z", UP, None, None,
            expire.clone(), &[], "ignored: no hold"),
        ("hold expiry in working hours stays up", "2026-11-27T14:00:00Z", UP, held("2026-11-27T14:00:00Z"), None,
            Command::Scheduled(ScheduledCommand::HoldExpired { until: utc("2026-11-27T14:00:00Z") }), &[], "hold expired; already up"),
    ];
    let config = config();
    for (name, now, observed, hold, budget_lock, command, expected, summary) in cases {
        let state = EnvironmentState { hold, budget_lock, ..EnvironmentState::new("staging") };
        let d = decide(&state, observed, &command, utc(now), &config).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kinds(&d), expected, "{name}");
        assert_eq!(d.summary, summary, "{name}");
    }
}

#[test]
fn starting_while_locked_is_refused_and_changes_nothing() {
    let state = EnvironmentState { budget_lock: locked(), ..EnvironmentState::new("staging") };
    let hold = Command::Hold { duration: Duration::from_secs(3600), reason: "x".into(), who: "bob".into() };
    for command in [up(None, false), hold] {
        let err = decide(&state, DOWN, &command, utc(WORKING), &config()).unwrap_err();
        assert!(matches!(err, Error::BudgetLocked { .. }), "{err}");
    }
}

#[test]
fn holds_are_cut_to_the_maximum_and_their_schedule_fires_at_the_cut() {
    let d = decide(&EnvironmentState::new("staging"), DOWN, &up(Some(48), false), utc(EVENING), &config()).unwrap();
    let until = utc("2026-11-28T08:00:00Z"); // 20:00 + the 12h maximum
    assert_eq!(d.next_state.hold.as_ref().unwrap().until, until);
    assert_eq!(
        d.actions[0],
        Action::PutOneTimeSchedule {
            name: "staging-hold-expiry".into(),
            at: until,
            command: ScheduledCommand::HoldExpired { until },
        }
    );
}

#[test]
fn a_hold_cut_short_says_so_and_why() {
    let capped = EnvironmentState {
        hold_cap: Some(crate::model::state::BudgetPeriod::containing(utc(EVENING))),
        ..EnvironmentState::new("staging")
    };
    let fresh = EnvironmentState::new("staging");
    let hold =
        |secs: u64| Command::Hold { duration: Duration::from_secs(secs), reason: "incident".into(), who: "bob".into() };
    #[rustfmt::skip]
    let cases: Vec<(&str, &EnvironmentState, Command, &str)> = vec![
        ("a hold within the maximum is not cut", &fresh, hold(3600),
            "held until 21:00 UTC; starting"),
        ("exactly the maximum is not cut", &fresh, hold(12 * 3600),
            "held until 08:00 UTC; starting"),
        ("a day is cut to the maximum", &fresh, up(Some(48), false),
            "held until 08:00 UTC (cut to 12h, the longest hold STAGING_HOLD_MAX allows); starting"),
        ("270000 years is cut to the maximum, not an overflow", &fresh, hold(270_000 * 365 * 86_400),
            "held until 08:00 UTC (cut to 12h, the longest hold STAGING_HOLD_MAX allows); starting"),
        ("the budget's forecast cuts an on-demand hold to the default", &capped, up(Some(5), false),
            "held until 22:00 UTC (cut to 2h: the budget's forecast caps on-demand holds at STAGING_HOLD_DEFAULT this month); starting"),
        ("the forecast does not cut an emergency hold", &capped, hold(5 * 3600),
            "held until 01:00 UTC; starting"),
    ];
    for (name, state, command, summary) in cases {
        let d = decide(state, DOWN, &command, utc(EVENING), &config()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.summary, summary, "{name}");
    }
}

#[test]
fn a_never_written_state_reads_as_what_ecs_shows() {
    let written = EnvironmentState { version: 3, ..EnvironmentState::new("staging") };
    let fresh = EnvironmentState::new("staging");
    #[rustfmt::skip]
    let cases: Vec<(&str, &EnvironmentState, Observed, &str, Phase, Option<&str>)> = vec![
        ("never written, running in hours: up until the day's teardown", &fresh, UP, WORKING, Phase::Up, Some("2026-11-27T18:00:00Z")),
        ("never written, running in the evening: up, as if started now", &fresh, UP, "2026-11-27T20:00:00.75Z", Phase::Up, Some("2026-11-27T20:00:00Z")),
        ("never written, scaled to zero: down", &fresh, DOWN, WORKING, Phase::Down, None),
        ("never written, scaling up: starting", &fresh, Observed::counts(2, 1), WORKING, Phase::Starting, Some("2026-11-27T18:00:00Z")),
        ("written: the stored intent wins over ECS", &written, UP, WORKING, Phase::Down, None),
    ];
    for (name, state, observed, now, phase, up_until) in cases {
        let found = as_found(state, &observed, utc(now), &config());
        assert_eq!(found.phase, phase, "{name}");
        assert_eq!(found.up_until, up_until.map(utc), "{name}");
        assert_eq!(found.version, state.version, "{name}: reading commits nothing");
    }
}

#[test]
fn a_teardown_parks_the_scalable_target_first_and_keeps_its_values() {
    let target = ScalableTarget {
        min_capacity: 1,
        max_capacity: 4,
        dynamic_scaling_in_suspended: false,
        dynamic_scaling_out_suspended: false,
        scheduled_scaling_suspended: true,
    };
    let with = |scaling: Option<ScalableTarget>, counts: Observed| Observed { scaling, ..counts };
    let teardown = Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None });
    let up_state = EnvironmentState { phase: Phase::Up, version: 5, ..EnvironmentState::new("staging") };
    let earlier = ScalableTarget { max_capacity: 2, ..target };
    let down_saved =
        EnvironmentState { phase: Phase::Down, version: 6, scaling: Some(earlier), ..EnvironmentState::new("staging") };
    #[rustfmt::skip]
    let cases: Vec<(&str, &EnvironmentState, Observed, &str, &[&str], Option<ScalableTarget>)> = vec![
        ("parked before the service goes to zero, its values saved", &up_state, with(Some(target), UP), "2026-11-27T18:00:00Z",
            &["park_scaling", "scale_to_zero", "notify_teardown"], Some(target)),
        ("no scalable target: the teardown as ever", &up_state, UP, "2026-11-27T18:00:00Z",
            &["scale_to_zero", "notify_teardown"], None),
        ("already parked: the values saved when it was parked stay", &down_saved, with(Some(ScalableTarget::PARKED), DOWN), "2026-11-27T18:00:00Z",
            &[], Some(earlier)),
        ("registered again while down: parked again, the new values saved", &down_saved, with(Some(target), DOWN), "2026-11-27T18:00:00Z",
            &["park_scaling"], Some(target)),
        ("a start leaves the target to the reconciler", &down_saved, with(Some(ScalableTarget::PARKED), DOWN), "2026-11-30T08:00:00Z",
            &["restore", "notify_startup"], Some(earlier)),
    ];
    for (name, state, observed, now, expected, saved) in cases {
        let command = if now.ends_with("08:00:00Z") {
            Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None })
        } else {
            teardown.clone()
        };
        let d = decide(state, observed, &command, utc(now), &config()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kinds(&d), expected, "{name}");
        assert_eq!(d.next_state.scaling, saved, "{name}");
    }
}

#[test]
fn the_scalable_target_follows_the_committed_intent() {
    let target = ScalableTarget {
        min_capacity: 1,
        max_capacity: 4,
        dynamic_scaling_in_suspended: false,
        dynamic_scaling_out_suspended: false,
        scheduled_scaling_suspended: false,
    };
    let changed = ScalableTarget { max_capacity: 6, ..target };
    let state = |phase: Phase, scaling: Option<ScalableTarget>, version: u64| EnvironmentState {
        phase,
        scaling,
        version,
        ..EnvironmentState::new("staging")
    };
    let seen = |scaling: Option<ScalableTarget>| Observed { scaling, ..Observed::counts(1, 1) };
    #[rustfmt::skip]
    let cases: Vec<(&str, EnvironmentState, Observed, Option<Action>)> = vec![
        ("up and parked: the saved values back", state(Phase::Up, Some(target), 3), seen(Some(ScalableTarget::PARKED)), Some(Action::SetScalableTarget(target))),
        ("starting and parked: the saved values back", state(Phase::Starting, Some(target), 3), seen(Some(ScalableTarget::PARKED)), Some(Action::SetScalableTarget(target))),
        ("down and not parked, its values saved: parked", state(Phase::Down, Some(target), 3), seen(Some(target)), Some(Action::SetScalableTarget(ScalableTarget::PARKED))),
        ("down and changed since it was saved: left until a decision saves the new values", state(Phase::Down, Some(target), 3), seen(Some(changed)), None),
        ("down, never saved (an upgrade while down): left until a decision saves it", state(Phase::Down, None, 3), seen(Some(target)), None),
        ("up and parked, the service not back yet: waits for it", state(Phase::Up, Some(target), 3), Observed { scaling: Some(ScalableTarget::PARKED), ..Observed::counts(0, 0) }, None),
        ("down and parked: nothing", state(Phase::Down, Some(target), 3), seen(Some(ScalableTarget::PARKED)), None),
        ("up, changed by a person in the day: left as they set it", state(Phase::Up, Some(target), 3), seen(Some(changed)), None),
        ("up and parked with nothing saved: nothing true to put back", state(Phase::Up, None, 3), seen(Some(ScalableTarget::PARKED)), None),
        ("no scalable target: nothing", state(Phase::Down, Some(target), 3), seen(None), None),
        ("never written: no intent to follow", state(Phase::Down, None, 0), seen(Some(target)), None),
    ];
    for (name, state, observed, expected) in cases {
        assert_eq!(reconcile_scaling(&state, &observed), expected, "{name}");
    }
}

#[test]
fn a_stack_operation_is_handed_to_the_lifecycle_function_a_minute_after_the_decision() {
    let now = utc("2026-11-27T19:00:00.731Z");
    let handoff = Action::PutOneTimeSchedule {
        name: "staging-stack-now".into(),
        at: utc("2026-11-27T19:01:00Z"),
        command: ScheduledCommand::StackCheck,
    };
    let check = Action::PutOneTimeSchedule {
        name: "staging-stack-check".into(),
        at: utc("2026-11-27T19:05:00Z"),
        command: ScheduledCommand::StackCheck,
    };
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<Action>, Vec<Action>)> = vec![
        ("a create", vec![Action::ResumeStack, check.clone()], vec![handoff.clone(), check.clone()]),
        ("a delete after the service goes to zero", vec![Action::ScaleService { desired_count: 0 }, Action::PauseStack { keep_service: false }],
            vec![Action::ScaleService { desired_count: 0 }, handoff.clone()]),
        ("asked twice, scheduled once", vec![Action::ResumeStack, Action::ResumeStack], vec![handoff.clone()]),
        ("nothing about the stack: kept as it is", vec![Action::RestoreService, check.clone()], vec![Action::RestoreService, check.clone()]),
    ];
    for (name, actions, expected) in cases {
        assert_eq!(hand_off_stack_operations(&actions, "staging", now), expected, "{name}");
    }
}

#[test]
fn a_hold_needs_someone_to_own_it() {
    let command = Command::Up { hold: None, reason: "x".into(), who: " ".into(), force: false, keep: false };
    assert!(matches!(
        decide(&EnvironmentState::new("staging"), DOWN, &command, utc(EVENING), &config()),
        Err(Error::Hold { .. })
    ));
}

#[test]
fn the_phase_follows_what_ecs_reports() {
    #[rustfmt::skip]
    let cases = [((0, 0), Phase::Down), ((0, 1), Phase::Stopping), ((2, 1), Phase::Starting), ((2, 2), Phase::Up), ((1, 3), Phase::Up)];
    for ((desired_count, running_count), phase) in cases {
        assert_eq!(Observed::counts(desired_count, running_count).phase(), phase);
    }
    let d =
        decide(&EnvironmentState::new("staging"), UP, &Command::Release { who: "x".into() }, utc(WORKING), &config())
            .unwrap();
    assert_eq!(d.next_state.phase, Phase::Up);
}

#[test]
fn commands_round_trip_as_json_and_scheduled_inputs_parse_as_commands() {
    let json = r#"{"command":"up","hold":"2h","reason":"demo","who":"alice"}"#;
    assert_eq!(serde_json::from_str::<Command>(json).unwrap(), up(Some(2), false));
    assert_eq!(
        serde_json::from_str::<Command>(r#"{"command":"teardown"}"#).unwrap(),
        Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None })
    );
    let hold = Command::Hold { duration: Duration::from_secs(5400), reason: "r".into(), who: "w".into() };
    let text = serde_json::to_string(&hold).unwrap();
    assert!(text.contains(r#""duration":"1h 30m""#), "{text}");
    assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), hold);
    assert!(serde_json::from_str::<Command>(r#"{"command":"explode"}"#).is_err());
}

fn config_with(vars: &[(&str, &str)]) -> Config {
    Config::from_lookup(|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())).unwrap()
}

#[test]
fn an_on_demand_hold_placed_on_a_sub_second_clock_ends_when_its_schedule_input_comes_back() {
    let now = utc("2026-11-27T18:41:01.123456789Z");
    let d = decide(&EnvironmentState::new("staging"), DOWN, &up(Some(2), false), now, &config()).unwrap();
    let Action::PutOneTimeSchedule { at, command, .. } = &d.actions[0] else { panic!("{:?}", d.actions) };
    assert_eq!(*at, utc("2026-11-27T20:41:01Z"));
    // What Scheduler stores and later sends back.
    let input = serde_json::to_string(command).unwrap();
    assert_eq!(input, r#"{"command":"hold_expired","until":1795812061}"#);
    let replayed: Command = serde_json::from_str(&input).unwrap();
    // The state as DynamoDB gives it back.
    let stored: EnvironmentState = serde_json::from_str(&serde_json::to_string(&d.next_state).unwrap()).unwrap();
    let stored = EnvironmentState { version: 1, ..stored };
    let fired = decide(&stored, UP, &replayed, utc("2026-11-27T20:41:31.5Z"), &config()).unwrap();
    assert_eq!(fired.summary, "hold expired; stopping");
    assert!(fired.next_state.hold.is_none());
    assert!(!fired.next_state.wants_running());
}

#[test]
fn holds_only_grow_and_only_release_or_down_shorten_them() {
    let now = utc("2026-11-27T18:30:00.4Z");
    let hold = |hours: u64, who: &str| Command::Hold {
        duration: Duration::from_secs(hours * 3600),
        reason: "incident".into(),
        who: who.into(),
    };
    let first = decide(&EnvironmentState::new("staging"), UP, &hold(12, "alice"), now, &config()).unwrap();
    let state = EnvironmentState { version: 1, ..first.next_state };
    let shorter = Command::Up {
        hold: Some(Duration::from_secs(3600)),
        reason: "demo".into(),
        who: "bob".into(),
        force: false,
        keep: false,
    };
    let second = decide(&state, UP, &shorter, utc("2026-11-27T18:45:00.9Z"), &config()).unwrap();
    let kept = second.next_state.hold.as_ref().unwrap();
    assert_eq!((kept.until, kept.who.as_str()), (utc("2026-11-28T06:30:00Z"), "alice"));
    assert_eq!(kinds(&second), Vec::<&str>::new(), "no schedule change, no notification");
    assert_eq!(second.summary, "held until 06:30 UTC; already up");
    let released = decide(&state, UP, &Command::Release { who: "bob".into() }, now, &config()).unwrap();
    assert!(released.next_state.hold.is_none());
    let down = decide(&state, UP, &Command::Down { who: "bob".into() }, now, &config()).unwrap();
    assert!(down.next_state.hold.is_none());
    assert!(!down.next_state.wants_running());
}

#[test]
fn durations_from_outside_never_overflow() {
    let huge = config_with(&[("STAGING_HOLD_MAX", "100000000years"), ("STAGING_HOLD_DEFAULT", "2h")]);
    let now = utc("2026-11-27T20:00:00.5Z");
    for duration in [Duration::MAX, Duration::from_secs(u64::MAX / 2), Duration::from_secs(90_000_000 * 365 * 86_400)] {
        let hold = Command::Hold { duration, reason: "x".into(), who: "bob".into() };
        // Cut to the 12h default maximum.
        let d = decide(&EnvironmentState::new("staging"), DOWN, &hold, now, &config()).unwrap();
        assert_eq!(d.next_state.hold.unwrap().until, utc("2026-11-28T08:00:00Z"));
        // A maximum beyond the calendar is a refusal, not a panic.
        assert!(matches!(decide(&EnvironmentState::new("staging"), DOWN, &hold, now, &huge), Err(Error::Hold { .. })));
    }
    let zero = Command::Hold { duration: Duration::ZERO, reason: "x".into(), who: "bob".into() };
    assert!(matches!(decide(&EnvironmentState::new("staging"), DOWN, &zero, now, &config()), Err(Error::Hold { .. })));
}

fn with_deploy_in_flight(dispatched: &str) -> EnvironmentState {
    let mut s = EnvironmentState { phase: Phase::Up, version: 4, ..EnvironmentState::new("staging") };
    s.queue_deployment("abcdef0123", crate::DeploymentPlan::FULL, utc(dispatched));
    s.dispatch_pending(utc(dispatched), chrono::Duration::minutes(30)).unwrap();
    s
}

#[test]
fn a_teardown_is_overdue_fifteen_minutes_after_the_hours_or_the_hold_end() {
    // States made by real starts (which record `up_until`), committed through JSON.
    let started = |state: &EnvironmentState, observed: Observed, command: Command, at: &str| {
        let d = decide(state, observed, &command, utc(at), &config()).unwrap();
        let next = EnvironmentState { version: state.version + 1, ..d.next_state };
        serde_json::from_str::<EnvironmentState>(&serde_json::to_string(&next).unwrap()).unwrap()
    };
    let startup = |at: &str| Command::Scheduled(ScheduledCommand::Startup { scheduled_time: Some(utc(at)) });
    let fresh = EnvironmentState { phase: Phase::Down, version: 3, ..EnvironmentState::new("staging") };
    let day = started(&fresh, DOWN, startup("2026-11-27T08:00:00Z"), "2026-11-27T08:00:00.37Z");
    assert_eq!(day.up_until, Some(utc("2026-11-27T18:00:00Z")));
    // A startup a second early decides, and records, as of its due time.
    let early = started(&fresh, DOWN, startup("2026-11-27T08:00:00Z"), "2026-11-27T07:59:59.2Z");
    assert_eq!(early.up_until, Some(utc("2026-11-27T18:00:00Z")));
    let evening = started(&fresh, DOWN, up(Some(2), false), "2026-11-27T19:00:00.81Z");
    assert_eq!(evening.up_until, Some(utc("2026-11-27T19:00:00Z")), "outside the hours: only the hold");
    // A state never written, staging found running: as if started then.
    let release = || Command::Release { who: "ana".into() };
    let found = |at: &str| {
        decide(&EnvironmentState::new("staging"), UP, &release(), utc(at), &config()).unwrap().next_state.up_until
    };
    assert_eq!(found("2026-11-27T10:00:00.6Z"), Some(utc("2026-11-27T18:00:00Z")));
    assert_eq!(found("2026-11-27T20:00:00.6Z"), Some(utc("2026-11-27T20:00:00Z")));
    let bypass =
        Command::Hold { duration: Duration::from_secs(3 * 3600), reason: "incident".into(), who: "bob".into() };
    let bypassed = started(&day, UP, bypass, "2026-11-27T17:00:00.5Z");
    let mut deploying = with_deploy_in_flight("2026-11-27T17:55:00.3Z");
    deploying.up_until = day.up_until;
    let unrecorded = EnvironmentState { up_until: None, ..day.clone() };
    let down = EnvironmentState { phase: Phase::Down, ..day.clone() };
    #[rustfmt::skip]
    let cases: Vec<(&str, &EnvironmentState, &str, bool)> = vec![
        ("a working day, 18:14:59.9", &day, "2026-11-27T18:14:59.9Z", false),
        ("a working day, 18:15:00.4", &day, "2026-11-27T18:15:00.4Z", true),
        ("a working day, noon", &day, "2026-11-27T12:00:00.5Z", false),
        ("still up on Saturday", &day, "2026-11-28T10:00:00Z", true),
        ("down by design", &down, "2026-11-27T19:00:00Z", false),
        ("held from 19:00 to 21:00, at 21:10", &evening, "2026-11-27T21:10:00.7Z", false),
        ("held from 19:00 to 21:00, at 21:15:00.2", &evening, "2026-11-27T21:15:00.2Z", true),
        ("an emergency bypass to 20:00, at 19:00", &bypassed, "2026-11-27T19:00:00Z", false),
        ("an emergency bypass to 20:00, at 20:16", &bypassed, "2026-11-27T20:16:00Z", true),
        ("a deploy in flight since 17:55, at 18:20", &deploying, "2026-11-27T18:20:00.5Z", false),
        ("a deploy in flight since 17:55, past its grace at 18:26", &deploying, "2026-11-27T18:26:00Z", false),
        ("a deploy in flight since 17:55, past its grace and 15 min at 18:41", &deploying, "2026-11-27T18:41:00.1Z", true),
        ("a state from before up_until was recorded", &unrecorded, "2026-11-28T10:00:00Z", false),
    ];
    for (name, state, now, overdue) in cases {
        assert_eq!(teardown_overdue(state, utc(now), &config()), overdue, "{name}");
    }
}

#[test]
fn a_scheduled_teardown_waits_for_a_deploy_in_flight_up_to_the_grace_period() {
    let teardown = |at: &str| Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: Some(utc(at)) });
    let state = with_deploy_in_flight("2026-11-27T17:55:00.3Z");
    let first =
        decide(&state, UP, &teardown("2026-11-27T18:00:00Z"), utc("2026-11-27T18:00:02.7Z"), &config()).unwrap();
    assert_eq!(kinds(&first), ["put_schedule", "notify_teardown"]);
    assert_eq!(
        first.summary,
        "scheduled teardown deferred to 18:15 UTC: the deploy of abcdef0 (dispatched at 17:55 UTC) has not finished"
    );
    let Action::PutOneTimeSchedule { name, at, command } = &first.actions[0] else { panic!() };
    assert_eq!((name.as_str(), *at), ("staging-teardown-retry", utc("2026-11-27T18:15:02Z")));
    assert_eq!(
        serde_json::to_string(command).unwrap(),
        r#"{"command":"teardown","scheduled_time":"2026-11-27T18:15:02Z"}"#
    );
    assert!(first.next_state.wants_running());

    // Told once: the second deferral only schedules the next look.
    let state = EnvironmentState { version: 5, ..first.next_state };
    let second = decide(&state, UP, &teardown("2026-11-27T18:15:00Z"), utc("2026-11-27T18:15:00Z"), &config()).unwrap();
    assert_eq!(kinds(&second), ["put_schedule"]);

    // Past the grace period (17:55 + 30 min) it goes ahead and says so.
    let third = decide(&state, UP, &teardown("2026-11-27T18:30:00Z"), utc("2026-11-27T18:30:01Z"), &config()).unwrap();
    assert_eq!(kinds(&third), ["scale_to_zero", "notify_teardown"]);
    assert_eq!(third.summary, "stopping; the deploy of abcdef0 dispatched at 17:55 UTC never reported");
    assert!(third.next_state.teardown_deferred_at.is_none());

    // A manual down does not wait.
    let down =
        decide(&state, UP, &Command::Down { who: "bob".into() }, utc("2026-11-27T18:16:00Z"), &config()).unwrap();
    assert_eq!(kinds(&down), ["scale_to_zero", "notify_teardown"]);
}

#[test]
fn after_an_unlock_the_merged_pending_deploy_is_dispatched() {
    let token =
        config_with(&[("GITHUB_REPOSITORY", "acme/app"), ("GITHUB_TOKEN", "t"), ("GITHUB_MIGRATE_INPUT", "migrate")]);
    let mut state =
        EnvironmentState { budget_lock: locked(), phase: Phase::Down, version: 9, ..EnvironmentState::new("staging") };
    let backend = crate::DeploymentPlan { backend: true, database_migration: true, ..crate::DeploymentPlan::NOTHING };
    let frontend = crate::DeploymentPlan { frontend: true, ..crate::DeploymentPlan::NOTHING };
    state.queue_deployment("aaaaaaa1", backend, utc("2026-11-26T10:00:00Z"));
    state.queue_deployment("bbbbbbb2", frontend, utc("2026-11-26T11:00:00Z"));
    let d = decide(&state, DOWN, &Command::Unlock { who: "bob".into() }, utc(WORKING), &token).unwrap();
    assert_eq!(kinds(&d), ["notify_unlocked", "restore", "notify_startup", "dispatch", "notify_deploy"]);
    assert_eq!(d.summary, "unlocked; starting; dispatched full for 2 pushes (aaaaaaa, bbbbbbb)");
    let Some(Action::DispatchDeploy { deployment_type, migrate, sha, .. }) =
        d.actions.iter().find(|a| matches!(a, Action::DispatchDeploy { .. }))
    else {
        panic!()
    };
    assert_eq!((*deployment_type, *migrate, sha.as_str()), (crate::DeploymentType::Full, true, "bbbbbbb2"));
    // Unlocked in the evening: nothing starts, so the deploy keeps waiting.
    let evening = decide(&state, DOWN, &Command::Unlock { who: "bob".into() }, utc(EVENING), &token).unwrap();
    assert_eq!(kinds(&evening), ["notify_unlocked"]);
    assert!(evening.next_state.pending_deployment.is_some());
}

#[test]
fn reconcile_makes_ecs_match_the_committed_intent() {
    let committed = |phase: Phase| EnvironmentState { phase, version: 2, ..EnvironmentState::new("staging") };
    #[rustfmt::skip]
    let cases = [
        ("up and running", committed(Phase::Up), UP, None),
        ("starting and running", committed(Phase::Starting), UP, None),
        ("up but scaled to zero", committed(Phase::Up), DOWN, Some(Action::RestoreService)),
        ("starting but scaled to zero", committed(Phase::Starting), DOWN, Some(Action::RestoreService)),
        ("down but running", committed(Phase::Down), UP, Some(Action::ScaleService { desired_count: 0 })),
        ("stopping but running", committed(Phase::Stopping), UP, Some(Action::ScaleService { desired_count: 0 })),
        ("down and scaled to zero", committed(Phase::Down), DOWN, None),
        ("never committed: no intent", EnvironmentState::new("staging"), UP, None),
    ];
    for (name, state, observed, expected) in cases {
        assert_eq!(reconcile(&state, observed), expected, "{name}");
    }
}

#[test]
fn a_committed_intent_is_kept_against_what_ecs_shows() {
    // Down was committed, but ECS is still up (the teardown has not acted yet): a
    // start makes the intent "up" without touching ECS; the reconciler does the rest.
    let state = EnvironmentState { phase: Phase::Stopping, version: 7, ..EnvironmentState::new("staging") };
    let hold = Command::Hold { duration: Duration::from_secs(3600), reason: "x".into(), who: "bob".into() };
    let d = decide(&state, UP, &hold, utc(EVENING), &config()).unwrap();
    assert!(d.next_state.wants_running());
    assert_eq!(kinds(&d), ["put_schedule", "notify_hold"]);
    assert_eq!(reconcile(&EnvironmentState { version: 8, ..d.next_state.clone() }, DOWN), Some(Action::RestoreService));
}

#[test]
fn a_decision_repeated_after_a_failed_action_puts_ecs_right_without_telling_again() {
    let stopping = EnvironmentState { phase: Phase::Stopping, version: 3, ..EnvironmentState::new("staging") };
    let teardown = Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None });
    let d = decide(&stopping, UP, &teardown, utc("2026-11-27T18:05:00Z"), &config()).unwrap();
    assert_eq!((kinds(&d), d.summary.as_str()), (vec!["scale_to_zero"], "stopping"));
    let starting = EnvironmentState { phase: Phase::Starting, version: 3, ..EnvironmentState::new("staging") };
    let startup = Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None });
    let d = decide(&starting, DOWN, &startup, utc("2026-11-27T08:05:00Z"), &config()).unwrap();
    assert_eq!((kinds(&d), d.summary.as_str()), (vec!["restore"], "starting"));
}

#[test]
fn the_sample_scheduler_events_carry_when_they_were_due() {
    for (text, due) in [
        (include_str!("../../../../events/lifecycle.teardown.scheduled.json"), Some(utc("2026-11-27T18:00:00Z"))),
        (include_str!("../../../../events/lifecycle.startup.scheduled.json"), Some(utc("2026-11-30T08:00:00Z"))),
        (include_str!("../../../../events/lifecycle.teardown.json"), None),
    ] {
        let command: Command = serde_json::from_str(text).unwrap();
        assert!(matches!(command, Command::Scheduled(_)), "{text}");
        assert_eq!(command.due(), due, "{text}");
    }
}

#[test]
fn scheduled_commands_answer_at_their_due_time_and_are_ignored_once_overtaken() {
    let startup = |due: &str| Command::Scheduled(ScheduledCommand::Startup { scheduled_time: Some(utc(due)) });
    let teardown = |due: &str| Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: Some(utc(due)) });
    #[rustfmt::skip]
    let cases = [
        ("a startup delivered a moment early still starts", startup("2026-11-27T08:00:00Z"), "2026-11-27T07:59:59.87Z", DOWN, "starting"),
        ("a startup retried at 09:10 still starts", startup("2026-11-27T08:00:00Z"), "2026-11-27T09:10:00.5Z", DOWN, "starting"),
        ("a startup retried after the teardown was due is ignored", startup("2026-11-27T08:00:00Z"), "2026-11-27T19:30:00.25Z", DOWN,
            "ignored: the startup due at 2026-11-27T08:00:00Z arrived at 2026-11-27T19:30:00Z, after the next teardown (2026-11-27T18:00:00Z)"),
        ("a teardown delivered a moment early still tears down", teardown("2026-11-27T18:00:00Z"), "2026-11-27T17:59:59.9Z", UP, "stopping"),
        ("a teardown retried at 18:40 still tears down", teardown("2026-11-27T18:00:00Z"), "2026-11-27T18:40:00Z", UP, "stopping"),
        ("a teardown retried next morning is ignored", teardown("2026-11-26T18:00:00Z"), "2026-11-27T08:30:00Z", UP,
            "ignored: the teardown due at 2026-11-26T18:00:00Z arrived at 2026-11-27T08:30:00Z, after the next startup (2026-11-27T08:00:00Z)"),
    ];
    for (name, command, clock, observed, summary) in cases {
        let d = decide(&EnvironmentState::new("staging"), observed, &command, utc(clock), &config()).unwrap();
        assert_eq!(d.summary, summary, "{name}");
    }
}

#[test]
fn a_failed_dispatch_waits_when_refused_and_stays_in_flight_when_unanswered() {
    let state = with_deploy_in_flight("2026-11-27T10:00:00Z");
    let refused = decide_dispatch_failed(
        &state,
        "abcdef0123",
        true,
        "GitHub workflow dispatch failed: HTTP 422: x",
        Some("alice pushed"),
        &config(),
    );
    assert!(refused.next_state.deployment_in_flight.is_none());
    assert_eq!(refused.next_state.pending_deployment.as_ref().unwrap().sha, "abcdef0123");
    assert_eq!(refused.summary, "dispatch refused: the deploy of abcdef0 waits");
    let Action::Notify(n) = &refused.actions[0] else { panic!() };
    assert_eq!(
        (n.severity, n.subject.as_str()),
        (Severity::Warning, "staging: deploy of abcdef0 not dispatched; it waits")
    );
    assert!(
        n.body.starts_with("GitHub workflow dispatch failed: HTTP 422: x\n\n") && n.body.ends_with("\n\nalice pushed"),
        "{}",
        n.body
    );

    let unanswered = decide_dispatch_failed(
        &state,
        "abcdef0123",
        false,
        "GitHub workflow dispatch failed: timed out",
        None,
        &config(),
    );
    assert_eq!(unanswered.next_state, state);
    assert_eq!(unanswered.summary, "dispatch unconfirmed: the deploy of abcdef0 stays in flight");

    let gone = decide_dispatch_failed(&state, "0000000", true, "x", None, &config());
    assert!(gone.actions.is_empty());
    assert_eq!(gone.next_state, state);
}

#[test]
fn a_schedule_time_far_from_the_clock_is_refused_not_a_panic() {
    for due in ["-262143-01-01T00:00:00Z", "+262142-12-31T23:59:59Z", "2026-11-24T18:00:00Z"] {
        let command: Command =
            serde_json::from_str(&format!(r#"{{"command":"startup","scheduled_time":"{due}"}}"#)).unwrap();
        let config = config_with(&[("STAGING_TIME_ZONE", "America/New_York")]);
        let err =
            decide(&EnvironmentState::new("staging"), UP, &command, utc("2026-11-27T08:00:00Z"), &config).unwrap_err();
        assert!(matches!(err, Error::Command { .. }), "{due}: {err}");
    }
}

#[test]
fn a_startup_under_a_budget_lock_stops_what_still_runs() {
    let startup = Command::Scheduled(ScheduledCommand::Startup { scheduled_time: Some(utc("2026-11-27T08:00:00Z")) });
    let state =
        EnvironmentState { budget_lock: locked(), phase: Phase::Up, version: 3, ..EnvironmentState::new("staging") };
    let d = decide(&state, UP, &startup, utc("2026-11-27T08:00:05Z"), &config()).unwrap();
    assert_eq!(d.summary, "not starting: locked by the budget; stopping");
    assert!(!d.next_state.wants_running());
    let down = EnvironmentState { phase: Phase::Down, ..state };
    let d = decide(&down, DOWN, &startup, utc("2026-11-27T08:00:05Z"), &config()).unwrap();
    assert_eq!((d.summary.as_str(), d.actions.len()), ("not starting: locked by the budget", 0));
}

// ---- stack mode (#11) ----

fn stack_config(token: bool) -> Config {
    let mut vars = vec![("STAGING_TEARDOWN", "stack"), ("STAGING_PAUSE_STACK", "app")];
    if token {
        vars.extend([("GITHUB_REPOSITORY", "acme/app"), ("GITHUB_TOKEN", "t")]);
    }
    config_with(&vars)
}

fn seen(desired: u32, status: Option<&str>, reason: Option<&str>) -> Observed {
    Observed {
        stack: Some(StackObserved { status: status.map(str::to_string), reason: reason.map(str::to_string) }),
        ..Observed::counts(desired, desired)
    }
}

fn committed(phase: Phase, progress: Option<(StackOperation, &str)>) -> EnvironmentState {
    let mut s = EnvironmentState { phase, version: 4, ..EnvironmentState::new("staging") };
    s.stack.in_progress = progress.map(|(operation, since)| StackProgress { operation, since: utc(since) });
    // As a start leaves it: created again, its service not yet restored.
    s.stack.unrestored = progress.is_some_and(|(operation, _)| operation == StackOperation::Create);
    s
}

const CHECK: Command = Command::Scheduled(ScheduledCommand::StackCheck);

#[test]
fn stack_mode_phase_transitions_table() {
    use StackOperation::{Create, Delete};
    let teardown = Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None });
    let startup = Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None });
    // Monday 2026-11-30 08:00 London (UTC in winter); the teardown the Friday before.
    #[rustfmt::skip]
    let cases: Vec<(&str, EnvironmentState, Observed, Command, &str, &[&str], Phase, Option<StackOperation>, &str)> = vec![
        ("teardown: the service to zero, then the stack deleted",
            committed(Phase::Up, None), seen(2, Some("CREATE_COMPLETE"), None), teardown.clone(), "2026-11-27T18:00:00.250Z",
            &["scale_to_zero", "pause_stack", "put_schedule", "notify_teardown"], Phase::Stopping, Some(Delete), "stopping: deleting the stack"),
        ("the delete completes: down, nothing told",
            committed(Phase::Stopping, Some((Delete, "2026-11-27T18:00:00Z"))), seen(0, None, None), CHECK, "2026-11-27T18:04:10.5Z",
            &[], Phase::Down, None, "paused: the stack was deleted in 4m"),
        ("the delete still running: look again in five minutes",
            committed(Phase::Stopping, Some((Delete, "2026-11-27T18:00:00Z"))), seen(0, Some("DELETE_IN_PROGRESS"), None), CHECK, "2026-11-27T18:05:00.9Z",
            &["put_schedule"], Phase::Stopping, Some(Delete), "the stack's delete asked at 18:00 UTC is still under way (DELETE_IN_PROGRESS)"),
        ("startup while paused: the stack created again, staging starting",
            committed(Phase::Down, None), seen(0, None, None), startup.clone(), "2026-11-30T08:00:00.75Z",
            &["resume_stack", "put_schedule", "notify_startup"], Phase::Starting, Some(Create), "starting: creating the stack (ready about 08:10 UTC)"),
        ("the create completes: up, the service restored, the team told how long",
            committed(Phase::Starting, Some((Create, "2026-11-30T08:00:00Z"))), seen(0, Some("CREATE_COMPLETE"), None), CHECK, "2026-11-30T08:09:30.5Z",
            &["restore_as_paused", "notify_startup"], Phase::Up, None, "up: the stack was created in 9m"),
        ("a failed create: critical, with CloudFormation's reason; down",
            committed(Phase::Starting, Some((Create, "2026-11-30T08:00:00Z"))), seen(0, Some("ROLLBACK_COMPLETE"), Some("Resource creation cancelled: NAT quota")), CHECK, "2026-11-30T08:06:00.1Z",
            &["notify_critical"], Phase::Down, None, "the stack's create failed: ROLLBACK_COMPLETE: Resource creation cancelled: NAT quota"),
        ("a failed delete: critical; the intent stays down",
            committed(Phase::Stopping, Some((Delete, "2026-11-27T18:00:00Z"))), seen(0, Some("DELETE_FAILED"), Some("the bucket is not empty")), CHECK, "2026-11-27T18:03:00.2Z",
            &["notify_critical"], Phase::Stopping, None, "the stack's delete failed: DELETE_FAILED: the bucket is not empty"),
        ("a teardown while starting: the create is overtaken by a delete",
            committed(Phase::Starting, Some((Create, "2026-11-27T17:58:00Z"))), seen(0, Some("CREATE_IN_PROGRESS"), None), teardown.clone(), "2026-11-27T18:00:00.3Z",
            &["pause_stack_keeping_the_service", "put_schedule", "notify_teardown"], Phase::Stopping, Some(Delete), "stopping: deleting the stack"),
        ("...and that create completing does not make staging up",
            committed(Phase::Stopping, Some((Delete, "2026-11-27T18:00:00Z"))), seen(1, Some("CREATE_COMPLETE"), None), CHECK, "2026-11-27T18:07:00.4Z",
            &["put_schedule"], Phase::Stopping, Some(Delete), "the stack's delete asked at 18:00 UTC is still under way (CREATE_COMPLETE)"),
        ("a start while the delete still runs: created when the delete is done",
            committed(Phase::Stopping, Some((Delete, "2026-11-27T18:00:00Z"))), seen(0, Some("DELETE_IN_PROGRESS"), None), up(Some(2), false), "2026-11-27T18:01:00.6Z",
            &["put_schedule", "notify_hold", "resume_stack", "put_schedule", "notify_startup"], Phase::Starting, Some(Create), "held until 20:01 UTC; starting: creating the stack (ready about 18:11 UTC)"),
        ("a stack check with nothing under way does nothing",
            committed(Phase::Up, None), seen(1, Some("CREATE_COMPLETE"), None), CHECK, "2026-11-30T10:00:00.1Z",
            &[], Phase::Up, None, "nothing to look at: no stack operation in progress"),
        ("a start while the stack is being updated: it stands, no create",
            committed(Phase::Down, None), seen(0, Some("UPDATE_IN_PROGRESS"), None), up(None, false), "2026-11-30T10:00:00.75Z",
            &["restore", "notify_startup"], Phase::Starting, None, "starting"),
        ("torn down while creating, and the create failed: only deleted, nobody alarmed",
            committed(Phase::Stopping, Some((Delete, "2026-11-27T18:00:00Z"))), seen(0, Some("ROLLBACK_COMPLETE"), Some("NAT quota")), CHECK, "2026-11-27T18:06:00.2Z",
            &["pause_stack_keeping_the_service", "put_schedule"], Phase::Stopping, Some(Delete), "the stack's delete asked at 18:00 UTC is still under way (ROLLBACK_COMPLETE)"),
        ("a start while a delete waited on a busy stack that stands again: the delete is off",
            committed(Phase::Stopping, Some((Delete, "2026-11-27T18:00:00Z"))), seen(1, Some("CREATE_COMPLETE"), None), up(Some(1), false), "2026-11-27T18:02:00.2Z",
            &["put_schedule", "notify_hold"], Phase::Up, None, "held until 19:02 UTC; already up"),
        ("a startup when the stack stands: like scale mode",
            committed(Phase::Down, None), seen(0, Some("UPDATE_COMPLETE"), None), startup, "2026-11-30T08:00:00.75Z",
            &["restore", "notify_startup"], Phase::Starting, None, "starting"),
    ];
    let config = stack_config(false);
    for (name, state, observed, command, now, actions, phase, op, summary) in cases {
        let d = decide(&state, observed, &command, utc(now), &config).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kinds(&d), actions, "{name}");
        assert_eq!(d.next_state.phase, phase, "{name}");
        assert_eq!(d.next_state.stack.in_progress.map(|p| p.operation), op, "{name}");
        assert_eq!(d.summary, summary, "{name}");
    }
}

#[test]
fn a_failed_create_is_told_with_the_reason_and_kept_in_the_state() {
    let state = committed(Phase::Starting, Some((StackOperation::Create, "2026-11-30T08:00:00Z")));
    let observed = seen(0, Some("ROLLBACK_COMPLETE"), Some("Resource creation cancelled: NAT quota"));
    let d = decide(&state, observed, &CHECK, utc("2026-11-30T08:06:00.123456789Z"), &stack_config(false)).unwrap();
    let failure = d.next_state.stack.failure.clone().expect("recorded");
    assert_eq!((failure.operation, failure.status.as_str()), (StackOperation::Create, "ROLLBACK_COMPLETE"));
    assert_eq!(failure.reason, "Resource creation cancelled: NAT quota");
    assert_eq!(failure.at, utc("2026-11-30T08:06:00Z"), "whole seconds, as stored");
    let Action::Notify(n) = &d.actions[0] else { panic!("{:?}", d.actions) };
    assert_eq!(n.subject, "staging: the stack's create failed (ROLLBACK_COMPLETE)");
    assert!(n.body.contains("Resource creation cancelled: NAT quota"), "{}", n.body);
    // The next start tries again and clears the failure.
    let again = decide(
        &d.next_state,
        seen(0, Some("ROLLBACK_COMPLETE"), None),
        &up(None, false),
        utc("2026-11-30T09:00:00.5Z"),
        &stack_config(false),
    )
    .unwrap();
    assert_eq!(kinds(&again), ["resume_stack", "put_schedule", "notify_startup"]);
    assert_eq!(again.next_state.stack.failure, None);
}

#[test]
fn a_deploy_waits_for_the_stack_and_goes_at_up_with_the_start_recorded() {
    let config = stack_config(true);
    let mut state = committed(Phase::Starting, Some((StackOperation::Create, "2026-11-30T08:00:00Z")));
    state.queue_deployment(
        "abc1234def",
        crate::scope::DeploymentPlan { backend: true, ..Default::default() },
        utc("2026-11-30T08:00:30Z"),
    );
    // Still creating: the deploy stays pending.
    let busy =
        decide(&state, seen(0, Some("CREATE_IN_PROGRESS"), None), &CHECK, utc("2026-11-30T08:05:00.2Z"), &config)
            .unwrap();
    assert!(!kinds(&busy).contains(&"dispatch"), "{:?}", busy.actions);
    assert!(busy.next_state.pending_deployment.is_some());
    // Complete: up, restored, dispatched, 9 m 30 s recorded.
    let done = decide(&state, seen(0, Some("CREATE_COMPLETE"), None), &CHECK, utc("2026-11-30T08:09:30.999Z"), &config)
        .unwrap();
    assert_eq!(kinds(&done), ["restore_as_paused", "notify_startup", "dispatch", "notify_deploy"]);
    assert_eq!(done.next_state.stack.start_secs, [570]);
    assert!(done.next_state.deployment_in_flight.is_some() && done.next_state.pending_deployment.is_none());
    // The state round-trips through JSON with what was recorded, and the next
    // start's estimate comes from it.
    let back: EnvironmentState = serde_json::from_str(&serde_json::to_string(&done.next_state).unwrap()).unwrap();
    assert_eq!(back, done.next_state);
    assert_eq!(back.expected_stack_start_secs(), Some(570));
    let paused = EnvironmentState { phase: Phase::Down, ..back };
    let next =
        decide(&paused, seen(0, None, None), &up(Some(1), false), utc("2026-11-30T19:00:00.5Z"), &config).unwrap();
    assert!(next.summary.ends_with("ready about 19:09 UTC)"), "{}", next.summary);
}

#[test]
fn the_stack_check_schedule_input_round_trips() {
    let d = decide(
        &committed(Phase::Down, None),
        seen(0, None, None),
        &Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None }),
        utc("2026-11-30T08:00:00.75Z"),
        &stack_config(false),
    )
    .unwrap();
    let Some(Action::PutOneTimeSchedule { name, at, command }) =
        d.actions.iter().find(|a| matches!(a, Action::PutOneTimeSchedule { .. }))
    else {
        panic!()
    };
    assert_eq!(name, "staging-stack-check");
    assert_eq!(*at, utc("2026-11-30T08:05:00Z"));
    let input = serde_json::to_string(command).unwrap();
    assert_eq!(input, r#"{"command":"stack_check"}"#);
    assert_eq!(serde_json::from_str::<Command>(&input).unwrap(), CHECK);
}

#[test]
fn reconcile_in_stack_mode_table() {
    let want_up = committed(Phase::Up, None);
    let want_down = committed(Phase::Down, None);
    let creating = committed(Phase::Starting, Some((StackOperation::Create, "2026-11-30T08:00:00Z")));
    #[rustfmt::skip]
    let cases = [
        ("up, create asked, stack gone: create it", &creating, seen(0, None, None), Some(Action::ResumeStack)),
        ("up, stack gone with no create asked (deleted by hand): left to a start, not recreated behind everyone's back", &want_up, seen(0, None, None), None),
        ("up, stack busy: wait", &want_up, seen(0, Some("CREATE_IN_PROGRESS"), None), None),
        ("up, stack standing, service at zero: restore", &want_up, seen(0, Some("CREATE_COMPLETE"), None), Some(Action::RestoreService)),
        ("up, all running", &want_up, seen(2, Some("UPDATE_COMPLETE"), None), None),
        ("up, stack failed: a person's turn", &want_up, seen(0, Some("ROLLBACK_COMPLETE"), None), None),
        ("down, service running: to zero first", &want_down, seen(2, Some("CREATE_COMPLETE"), None), Some(Action::ScaleService { desired_count: 0 })),
        ("down, service at zero, stack standing: pause it", &want_down, seen(0, Some("CREATE_COMPLETE"), None), Some(Action::PauseStack { keep_service: false })),
        ("down, stack deleting: wait", &want_down, seen(0, Some("DELETE_IN_PROGRESS"), None), None),
        ("down, stack gone", &want_down, seen(0, Some("DELETE_COMPLETE"), None), None),
        ("down, delete failed: a person's turn", &want_down, seen(0, Some("DELETE_FAILED"), None), None),
    ];
    for (name, state, observed, expected) in cases {
        assert_eq!(reconcile(state, observed), expected, "{name}");
    }
}

#[test]
fn stack_events_of_the_pause_stack_mean_look_at_it_and_others_are_ignored() {
    let event = |id: &str| {
        serde_json::json!({"version":"0","id":"e1","detail-type":"CloudFormation Stack Status Change","source":"aws.cloudformation",
            "account":"123456789012","time":"2026-11-30T08:09:30Z","region":"eu-west-2","resources":[id],
            "detail":{"stack-id":id,"status-details":{"status":"CREATE_COMPLETE","status-reason":""}}})
    };
    let ours = "arn:aws:cloudformation:eu-west-2:123456789012:stack/app/5b1c8f00-aaaa-bbbb-cccc-0123456789ab";
    let other = "arn:aws:cloudformation:eu-west-2:123456789012:stack/app-db/5b1c8f00-aaaa-bbbb-cccc-0123456789ab";
    let stack = stack_config(false);
    assert_eq!(parse_event(event(ours), &stack).unwrap(), LifecycleEvent::Command(CHECK));
    assert!(
        matches!(parse_event(event(other), &stack).unwrap(), LifecycleEvent::Ignored(r) if r.contains("not the pause stack"))
    );
    assert!(matches!(parse_event(event(ours), &config()).unwrap(), LifecycleEvent::Ignored(r) if r.contains("scale")));
    let no_id = serde_json::json!({"detail-type":"CloudFormation Stack Status Change","detail":{}});
    assert!(parse_event(no_id, &stack).unwrap_err().to_string().contains("detail.stack-id"));
    assert_eq!(
        parse_event(serde_json::json!({"command":"stack_check"}), &stack).unwrap(),
        LifecycleEvent::Command(CHECK)
    );
    assert!(parse_event(serde_json::json!({"command":"reboot"}), &stack).is_err());
    // The sample (what EventBridge delivers; `stagingctl invoke lifecycle --event` it).
    let sample: serde_json::Value =
        serde_json::from_str(include_str!("../../../../events/lifecycle.stack-status.json")).unwrap();
    let staging_app = config_with(&[("STAGING_TEARDOWN", "stack"), ("STAGING_PAUSE_STACK", "staging-app")]);
    assert_eq!(parse_event(sample, &staging_app).unwrap(), LifecycleEvent::Command(CHECK));
}

#[test]
fn a_stack_torn_down_before_its_service_was_restored_keeps_the_copys_service() {
    let config = stack_config(false);
    let started = decide(
        &committed(Phase::Down, None),
        seen(0, None, None),
        &up(Some(2), false),
        utc("2026-11-27T19:00:00.5Z"),
        &config,
    )
    .unwrap();
    assert!(started.next_state.stack.unrestored, "created again, not yet restored");
    let teardown = Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None });
    let down = decide(
        &started.next_state,
        seen(0, Some("CREATE_IN_PROGRESS"), None),
        &Command::Down { who: "bob".into() },
        utc("2026-11-27T19:01:00.5Z"),
        &config,
    )
    .unwrap();
    assert!(down.actions.contains(&Action::PauseStack { keep_service: true }), "{:?}", down.actions);
    // The create then completes: the stack is paused again, keeping the copy's service.
    let stored: EnvironmentState = serde_json::from_str(&serde_json::to_string(&down.next_state).unwrap()).unwrap();
    assert_eq!(
        reconcile(&stored, seen(1, Some("CREATE_COMPLETE"), None)),
        Some(Action::ScaleService { desired_count: 0 })
    );
    assert_eq!(
        reconcile(&stored, seen(0, Some("CREATE_COMPLETE"), None)),
        Some(Action::PauseStack { keep_service: true })
    );
    // Once up (restored as paused), a teardown saves what runs.
    let up_state = committed(Phase::Starting, Some((StackOperation::Create, "2026-11-30T08:00:00Z")));
    let done =
        decide(&up_state, seen(0, Some("CREATE_COMPLETE"), None), &CHECK, utc("2026-11-30T08:09:00.5Z"), &config)
            .unwrap();
    assert!(!done.next_state.stack.unrestored);
    let evening = decide(
        &done.next_state,
        seen(2, Some("CREATE_COMPLETE"), None),
        &teardown,
        utc("2026-11-30T18:00:00.5Z"),
        &config,
    )
    .unwrap();
    assert!(evening.actions.contains(&Action::PauseStack { keep_service: false }), "{:?}", evening.actions);
}

#[test]
fn a_refused_pause_or_resume_is_recorded_told_and_left_to_a_person() {
    let config = stack_config(false);
    let now = utc("2026-11-27T18:00:01.5Z");
    let stopping = committed(Phase::Stopping, Some((StackOperation::Delete, "2026-11-27T18:00:00Z")));
    let d = decide_stack_refused(
        &stopping,
        StackOperation::Delete,
        "the stack staging-app has no service role",
        now,
        &config,
    );
    assert_eq!(d.next_state.stack.in_progress, None, "no longer waited for");
    let failure = d.next_state.stack.failure.clone().unwrap();
    assert_eq!(
        (failure.operation, failure.status.as_str(), failure.at),
        (StackOperation::Delete, "REFUSED", utc("2026-11-27T18:00:01Z"))
    );
    assert_eq!(d.next_state.phase, Phase::Stopping, "the intent stays down");
    let Action::Notify(n) = &d.actions[0] else { panic!() };
    assert_eq!((n.severity, n.subject.as_str()), (Severity::Critical, "staging: the stack app was not paused"));
    assert!(n.body.contains("still stands and bills") && n.body.contains("no service role"), "{}", n.body);
    // Not retried by every look (a person's turn), until `down` asks again.
    assert_eq!(reconcile(&d.next_state, seen(0, Some("CREATE_COMPLETE"), None)), None);
    let again = decide(
        &d.next_state,
        seen(0, Some("CREATE_COMPLETE"), None),
        &Command::Down { who: "bob".into() },
        utc("2026-11-27T18:30:00.5Z"),
        &config,
    )
    .unwrap();
    assert!(again.actions.contains(&Action::PauseStack { keep_service: false }), "{:?}", again.actions);
    assert_eq!(again.next_state.stack.failure, None);

    let starting = committed(Phase::Starting, Some((StackOperation::Create, "2026-11-30T08:00:00Z")));
    let d = decide_stack_refused(
        &starting,
        StackOperation::Create,
        "no saved copy of the stack app",
        utc("2026-11-30T08:00:01.5Z"),
        &config,
    );
    assert_eq!(d.next_state.phase, Phase::Down, "nothing was created: down");
    assert_eq!(reconcile(&d.next_state, seen(0, None, None)), None, "not created again by every look");
    let Action::Notify(n) = &d.actions[0] else { panic!() };
    assert_eq!(n.subject, "staging: the stack app was not created; staging is down");
}

#[test]
fn switched_back_to_scale_mode_nothing_waits_for_a_stack() {
    let config = config_with(&[("GITHUB_REPOSITORY", "acme/app"), ("GITHUB_TOKEN", "t")]);
    let mut state = committed(Phase::Starting, Some((StackOperation::Create, "2026-11-30T08:00:00Z")));
    state.queue_deployment(
        "abc1234def",
        crate::scope::DeploymentPlan { backend: true, ..Default::default() },
        utc("2026-11-30T08:00:30Z"),
    );
    let d = decide(&state, UP, &CHECK, utc("2026-11-30T08:05:00.5Z"), &config).unwrap();
    assert_eq!(d.next_state.stack.in_progress, None);
    assert!(kinds(&d).contains(&"dispatch"), "{:?}", d.actions);
}

#[test]
fn second_review_orderings() {
    let config = stack_config(false);
    // A start on a stack whose delete failed: not created, the failure kept.
    let mut failed = committed(Phase::Stopping, None);
    failed.stack.failure = Some(StackFailure {
        operation: StackOperation::Delete,
        status: "DELETE_FAILED".into(),
        reason: "bucket".into(),
        at: utc("2026-11-27T18:03:00Z"),
    });
    let d =
        decide(&failed, seen(0, Some("DELETE_FAILED"), None), &up(None, false), utc("2026-11-30T09:00:00.5Z"), &config)
            .unwrap();
    assert_eq!(kinds(&d), Vec::<&str>::new());
    assert!(d.summary.starts_with("not starting: the stack is DELETE_FAILED"), "{}", d.summary);
    assert!(d.next_state.stack.failure.is_some());

    // Created again, torn down before up, started again while it stands: restored as paused.
    let mut unrestored = committed(Phase::Stopping, None);
    unrestored.stack.unrestored = true;
    let d = decide(
        &unrestored,
        seen(1, Some("CREATE_COMPLETE"), None),
        &up(None, false),
        utc("2026-11-30T09:00:00.5Z"),
        &config,
    )
    .unwrap();
    assert!(d.actions.contains(&Action::RestorePausedService), "{:?}", d.actions);
    assert!(!d.next_state.stack.unrestored);

    // A refusal that a later decision overtook changes nothing.
    let moved_on = committed(Phase::Up, None);
    let d = decide_stack_refused(
        &moved_on,
        StackOperation::Delete,
        "no service role",
        utc("2026-11-27T18:00:02.5Z"),
        &config,
    );
    assert_eq!((d.actions.len(), &d.next_state), (0, &moved_on));
    // A refused create no longer counts the stack as unrestored.
    let mut starting = committed(Phase::Starting, Some((StackOperation::Create, "2026-11-30T08:00:00Z")));
    starting.stack.unrestored = true;
    let d = decide_stack_refused(&starting, StackOperation::Create, "no copy", utc("2026-11-30T08:00:02.5Z"), &config);
    assert!(!d.next_state.stack.unrestored);

    // Deleting a failed create's leftovers, at a start, ends DELETE_FAILED: staging is
    // down (what was asked was a start), the label says what failed.
    let d = decide(
        &committed(Phase::Starting, Some((StackOperation::Create, "2026-11-30T08:00:00Z"))),
        seen(0, Some("DELETE_FAILED"), Some("eni in use")),
        &CHECK,
        utc("2026-11-30T08:04:00.5Z"),
        &config,
    )
    .unwrap();
    assert_eq!(d.next_state.phase, Phase::Down);
    assert_eq!(d.next_state.stack.failure.as_ref().map(|f| f.operation), Some(StackOperation::Delete));
    let Action::Notify(n) = &d.actions[0] else { panic!() };
    assert!(
        n.subject.ends_with("the stack's delete failed (DELETE_FAILED)") && n.body.contains("Staging is down"),
        "{n:?}"
    );

    // A teardown with the stack absent and the service running still asks the shell to
    // pause (which refuses a stack never saved: a misnamed STAGING_PAUSE_STACK).
    let d = decide(
        &committed(Phase::Up, None),
        seen(2, None, None),
        &Command::Down { who: "bob".into() },
        utc("2026-11-27T18:00:00.5Z"),
        &config,
    )
    .unwrap();
    assert!(d.actions.contains(&Action::PauseStack { keep_service: false }), "{:?}", d.actions);
}

#[test]
fn reconcile_switches_the_staging_address_with_the_app() {
    use crate::model::observed::Route;
    let committed = |phase: Phase| EnvironmentState { phase, version: 2, ..EnvironmentState::new("staging") };
    let seen = |desired: u32, route: Route, healthy: u32| Observed {
        route: Some(route),
        healthy_targets: Some(healthy),
        ..Observed::counts(desired, desired)
    };
    let to = |to: Route| Some(Action::Route { to });
    #[rustfmt::skip]
    let cases = [
        ("up, running, healthy, still at the front door: to the app", Phase::Up, seen(1, Route::FrontDoor, 1), to(Route::App)),
        ("starting, running, no healthy target yet: wait", Phase::Starting, seen(1, Route::FrontDoor, 0), None),
        ("up, at the app: nothing", Phase::Up, seen(1, Route::App, 1), None),
        ("up, scaled to zero: restore first", Phase::Up, seen(0, Route::FrontDoor, 0), Some(Action::RestoreService)),
        ("down, running, at the app: the front door before the app goes", Phase::Down, seen(1, Route::App, 1), to(Route::FrontDoor)),
        ("down, running, at the front door: scale to zero", Phase::Down, seen(1, Route::FrontDoor, 1), Some(Action::ScaleService { desired_count: 0 })),
        ("down, at zero, still at the app: to the front door", Phase::Down, seen(0, Route::App, 0), to(Route::FrontDoor)),
        ("down, listener changed by hand: left alone", Phase::Down, seen(0, Route::Elsewhere, 0), None),
        ("up, listener changed by hand: left alone", Phase::Up, seen(1, Route::Elsewhere, 1), None),
    ];
    for (name, phase, observed, expected) in cases {
        assert_eq!(reconcile(&committed(phase), observed), expected, "{name}");
    }
}

#[test]
fn a_stop_points_the_address_at_the_front_door_before_scaling_to_zero() {
    use crate::model::observed::Route;
    let state = EnvironmentState { phase: Phase::Up, version: 3, ..EnvironmentState::new("staging") };
    let observed = Observed { route: Some(Route::App), healthy_targets: Some(1), ..UP };
    let d = decide(&state, observed, &Command::Down { who: "carol".into() }, utc(EVENING), &config()).unwrap();
    let route = d.actions.iter().position(|a| *a == Action::Route { to: Route::FrontDoor });
    let scale = d.actions.iter().position(|a| *a == Action::ScaleService { desired_count: 0 });
    assert!(route.is_some() && scale.is_some() && route < scale, "{:?}", d.actions);
}
