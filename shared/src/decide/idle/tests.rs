use super::*;
use crate::decide::lifecycle::reconcile;
use crate::model::action::Action;
use crate::model::state::{Hold, IdleWatch, Phase, Wake};
use crate::scope::DeploymentPlan;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn config(mode: &str) -> Config {
    Config::from_lookup(|name| match name {
        "STAGING_IDLE_STOP" => Some(mode.to_string()),
        "STAGING_LOAD_BALANCER" => Some("app/staging/0123456789abcdef".into()),
        "STAGING_PROBES" => Some("api=https://api.example.com/health,web=https://example.com".into()),
        _ => None,
    })
    .unwrap()
}

const UP: Observed = Observed::counts(1, 1);
/// Sunday 2026-12-06 (no business hours); staging was woken at 18:00 for three hours.
const SUNDAY_START: &str = "2026-12-06T18:00:00Z";

fn hold(kind: HoldKind, keep: bool) -> Hold {
    Hold { until: utc("2026-12-06T21:00:00Z"), reason: "wake".into(), who: "alice".into(), kind, keep }
}

fn woken(hold: Option<Hold>) -> EnvironmentState {
    let mut s = EnvironmentState::new("staging");
    s.version = 7;
    s.phase = Phase::Up;
    s.started_at = Some(utc(SUNDAY_START));
    s.started_on_demand = true;
    s.up_until = Some(utc(SUNDAY_START));
    s.hold = hold;
    s.wakes.push(Wake {
        by: "alice".into(),
        requested_at: utc("2026-12-06T17:58:00Z"),
        stack_at: None,
        tasks_at: None,
        targets_at: None,
        ready_at: Some(utc(SUNDAY_START)),
        held_until: utc("2026-12-06T21:00:00Z"),
        ended_at: None,
        from_deep_sleep: false,
    });
    s
}

fn minute(at: &str, requests: f64, connections: f64) -> Minute {
    Minute { start: utc(at), requests, connections }
}

/// The figures since `from`: the controller's two probes every five minutes, and `extra`.
fn figures(from: &str, to: &str, extra: &[Minute]) -> Usage {
    let (from, to) = (utc(from), utc(to));
    let mut minutes: Vec<Minute> = std::iter::successors(Some(from), |t| Some(*t + chrono::Duration::minutes(5)))
        .take_while(|t| *t < to)
        .map(|start| Minute { start, requests: 2.0, connections: 2.0 })
        .collect();
    minutes.extend_from_slice(extra);
    Usage::Figures { from, minutes }
}

fn warned(state: &mut EnvironmentState, stop_at: &str, warned_at: &str, last_use: &str) {
    state.idle = IdleWatch {
        last_use: Some(utc(last_use)),
        stop_at: Some(utc(stop_at)),
        warned_at: Some(utc(warned_at)),
        ..IdleWatch::default()
    };
}

/// The kinds of actions, in order: notifications by event name.
fn kinds(d: &Decision) -> Vec<String> {
    d.actions
        .iter()
        .map(|a| match a {
            Action::Notify(n) => format!("notify {}", n.event.as_str()),
            Action::ScaleService { desired_count } => format!("scale {desired_count}"),
            Action::DeleteSchedule { .. } => "delete_schedule".into(),
            other => format!("{other:?}"),
        })
        .collect()
}

struct Case {
    name: &'static str,
    mode: &'static str,
    state: EnvironmentState,
    usage: Usage,
    now: &'static str,
    actions: &'static [&'static str],
    /// What the next state's idle watch holds: stop_at, warned_at, last_use.
    stop_at: Option<&'static str>,
    warned_at: Option<&'static str>,
    last_use: Option<&'static str>,
    /// A phrase of the summary.
    says: &'static str,
}

fn cases() -> Vec<Case> {
    let on_demand = || woken(Some(hold(HoldKind::OnDemand, false)));
    let used_1829 = [minute("2026-12-06T18:29:00Z", 5.0, 1.0)];
    let window = |to: &'static str, extra: &[Minute]| figures("2026-12-06T18:00:00Z", to, extra);
    let mut after_warning = on_demand();
    warned(&mut after_warning, "2026-12-06T19:00:00Z", "2026-12-06T18:52:03Z", "2026-12-06T18:30:00Z");
    let mut keep_warned = woken(Some(hold(HoldKind::OnDemand, true)));
    warned(&mut keep_warned, "2026-12-06T19:00:00Z", "2026-12-06T18:52:03Z", "2026-12-06T18:30:00Z");
    let mut down = on_demand();
    down.phase = Phase::Down;
    down.hold = None;
    let mut deploying = on_demand();
    let dispatched = utc("2026-12-06T18:50:00Z");
    deploying.queue_deployment("0123456789abcdef0123456789abcdef01234567", DeploymentPlan::default(), dispatched);
    assert!(deploying.dispatch_pending(dispatched, chrono::Duration::minutes(30)).is_some());
    let mut expired = on_demand();
    expired.hold.as_mut().unwrap().until = utc("2026-12-06T18:40:00Z");
    let mut monday = on_demand();
    monday.started_at = Some(utc("2026-12-07T08:00:00Z"));
    monday.wakes.clear();
    monday.hold.as_mut().unwrap().until = utc("2026-12-07T20:00:00Z");
    let mut monday_always = monday.clone();
    monday_always.hold = None;
    let mut no_data_told = on_demand();
    no_data_told.idle.no_data_since = Some(utc("2026-12-06T18:40:00Z"));
    vec![
        Case {
            name: "used 16 minutes ago: nothing yet",
            mode: "on-demand",
            state: on_demand(),
            usage: window("2026-12-06T18:45:00Z", &used_1829),
            now: "2026-12-06T18:45:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "in use",
        },
        Case {
            name: "idle within the warning's reach: warned, not stopped",
            mode: "on-demand",
            state: on_demand(),
            usage: window("2026-12-06T18:52:00Z", &used_1829),
            now: "2026-12-06T18:52:03.456789Z",
            actions: &["notify env.idle_warning"],
            stop_at: Some("2026-12-06T19:00:00Z"),
            warned_at: Some("2026-12-06T18:52:03Z"),
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "warned: stops at 19:00 UTC: no requests since 18:30 UTC",
        },
        Case {
            name: "warned, stop not due yet: waits",
            mode: "on-demand",
            state: after_warning.clone(),
            usage: window("2026-12-06T18:57:00Z", &used_1829),
            now: "2026-12-06T18:57:03.456789Z",
            actions: &[],
            stop_at: Some("2026-12-06T19:00:00Z"),
            warned_at: Some("2026-12-06T18:52:03Z"),
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "stops at 19:00 UTC",
        },
        Case {
            name: "warned and due: the hold ends and staging stops",
            mode: "on-demand",
            state: after_warning.clone(),
            usage: window("2026-12-06T19:02:00Z", &used_1829),
            now: "2026-12-06T19:02:03.456789Z",
            actions: &["delete_schedule", "scale 0", "notify env.teardown"],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "idle: no requests since 18:30 UTC",
        },
        Case {
            name: "requests after the warning call the stop off",
            mode: "on-demand",
            state: after_warning.clone(),
            usage: window("2026-12-06T19:02:00Z", &[minute("2026-12-06T18:55:00Z", 9.0, 1.0)]),
            now: "2026-12-06T19:02:03.456789Z",
            actions: &["notify env.idle_cancelled"],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T18:56:00Z"),
            says: "the stop at 19:00 UTC is off",
        },
        Case {
            name: "a connection held open (a WebSocket) is use",
            mode: "on-demand",
            state: after_warning.clone(),
            usage: window("2026-12-06T19:02:00Z", &[minute("2026-12-06T19:00:00Z", 0.0, 3.0)]),
            now: "2026-12-06T19:02:03.456789Z",
            actions: &["notify env.idle_cancelled"],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T19:01:00Z"),
            says: "used at 19:01 UTC",
        },
        Case {
            name: "no more requests than the probes make is not use",
            mode: "on-demand",
            state: after_warning.clone(),
            usage: window("2026-12-06T19:02:00Z", &[minute("2026-12-06T18:56:00Z", 2.0, 2.0)]),
            now: "2026-12-06T19:02:03.456789Z",
            actions: &["delete_schedule", "scale 0", "notify env.teardown"],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "idle",
        },
        Case {
            name: "a late first warning moves the stop to at least 4 minutes after it",
            mode: "on-demand",
            state: on_demand(),
            usage: window("2026-12-06T19:20:00Z", &used_1829),
            now: "2026-12-06T19:20:03.456789Z",
            actions: &["notify env.idle_warning"],
            stop_at: Some("2026-12-06T19:24:03Z"),
            warned_at: Some("2026-12-06T19:20:03Z"),
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "stops at 19:24 UTC",
        },
        Case {
            name: "a hold placed with --keep is never cut",
            mode: "on-demand",
            state: woken(Some(hold(HoldKind::OnDemand, true))),
            usage: window("2026-12-06T19:20:00Z", &used_1829),
            now: "2026-12-06T19:20:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: None,
            says: "not subject: its hold was placed with --keep",
        },
        Case {
            name: "a warned stop is off when the hold gets --keep",
            mode: "on-demand",
            state: keep_warned,
            usage: window("2026-12-06T18:57:00Z", &used_1829),
            now: "2026-12-06T18:57:03.456789Z",
            actions: &["notify env.idle_cancelled"],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "called off: its hold was placed with --keep",
        },
        Case {
            name: "an emergency hold is never cut",
            mode: "always",
            state: woken(Some(hold(HoldKind::EmergencyBypass, false))),
            usage: window("2026-12-06T19:20:00Z", &used_1829),
            now: "2026-12-06T19:20:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: None,
            says: "an emergency hold",
        },
        Case {
            name: "on-demand: business hours keep it up, hold or not",
            mode: "on-demand",
            state: monday.clone(),
            usage: figures("2026-12-07T09:00:00Z", "2026-12-07T11:00:00Z", &[]),
            now: "2026-12-07T11:00:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: None,
            says: "business hours keep it up",
        },
        Case {
            name: "always: idle in business hours is warned too",
            mode: "always",
            state: monday_always,
            usage: figures("2026-12-07T09:00:00Z", "2026-12-07T11:00:00Z", &[]),
            now: "2026-12-07T11:00:03.456789Z",
            actions: &["notify env.idle_warning"],
            stop_at: Some("2026-12-07T11:04:03Z"),
            warned_at: Some("2026-12-07T11:00:03Z"),
            last_use: Some("2026-12-07T08:00:00Z"),
            says: "no requests since 08:00 UTC",
        },
        Case {
            name: "on-demand: a running staging without a hold out of hours is not the idle stop's",
            mode: "on-demand",
            state: expired,
            usage: window("2026-12-06T19:20:00Z", &[]),
            now: "2026-12-06T19:20:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: None,
            says: "no on-demand hold",
        },
        Case {
            name: "off: nothing is watched",
            mode: "off",
            state: after_warning.clone(),
            usage: window("2026-12-06T19:20:00Z", &[]),
            now: "2026-12-06T19:20:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "not watched",
        },
        Case {
            name: "down by design: nothing is watched",
            mode: "on-demand",
            state: down,
            usage: window("2026-12-06T19:20:00Z", &[]),
            now: "2026-12-06T19:20:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: None,
            says: "not meant to be up",
        },
        Case {
            name: "a deploy in flight is use",
            mode: "on-demand",
            state: deploying,
            usage: window("2026-12-06T19:10:00Z", &[]),
            now: "2026-12-06T19:10:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T19:10:03Z"),
            says: "in use",
        },
        Case {
            name: "no data: never idle, told once, a warned stop is off",
            mode: "on-demand",
            state: after_warning.clone(),
            usage: Usage::NoData { why: "AccessDenied".into() },
            now: "2026-12-06T19:02:03.456789Z",
            actions: &["notify env.idle_no_data"],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "no use figures (AccessDenied); told",
        },
        Case {
            name: "no data point at all is no data",
            mode: "on-demand",
            state: on_demand(),
            usage: Usage::Figures { from: utc("2026-12-06T18:50:00Z"), minutes: vec![] },
            now: "2026-12-06T19:30:03.456789Z",
            actions: &["notify env.idle_no_data"],
            stop_at: None,
            warned_at: None,
            last_use: None,
            says: "not even the controller's own probes",
        },
        Case {
            name: "no data again: not told again",
            mode: "on-demand",
            state: no_data_told.clone(),
            usage: Usage::NoData { why: "throttled".into() },
            now: "2026-12-06T19:30:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: None,
            says: "never idle without them",
        },
        Case {
            name: "figures back: the no-data record clears",
            mode: "on-demand",
            state: no_data_told,
            usage: window("2026-12-06T18:45:00Z", &used_1829),
            now: "2026-12-06T18:45:03.456789Z",
            actions: &[],
            stop_at: None,
            warned_at: None,
            last_use: Some("2026-12-06T18:30:00Z"),
            says: "use figures back",
        },
    ]
}

#[test]
fn idle_table() {
    for c in cases() {
        let config = config(c.mode);
        let d = decide(&c.state, &UP, &c.usage, probes_per_tick(&config), utc(c.now), &config);
        let idle = &d.next_state.idle;
        assert_eq!(kinds(&d), c.actions, "{}: {}", c.name, d.summary);
        assert_eq!(idle.stop_at, c.stop_at.map(utc), "{}: stop_at", c.name);
        assert_eq!(idle.warned_at, c.warned_at.map(utc), "{}: warned_at", c.name);
        assert_eq!(idle.last_use, c.last_use.map(utc), "{}: last_use", c.name);
        assert!(d.summary.contains(c.says), "{}: {}", c.name, d.summary);
        // Nothing stops without a warning given first.
        let stops = d.actions.iter().any(|a| matches!(a, Action::ScaleService { .. }));
        assert!(!stops || c.state.idle.warned_at.is_some(), "{}: stopped unwarned", c.name);
    }
}

#[test]
fn the_warning_says_when_in_the_business_time_zone() {
    let mut config = config("on-demand");
    config.business_hours.time_zone = chrono_tz::Europe::Berlin;
    let state = woken(Some(hold(HoldKind::OnDemand, false)));
    let usage = figures("2026-12-06T18:00:00Z", "2026-12-06T18:52:00Z", &[minute("2026-12-06T18:29:00Z", 5.0, 0.0)]);
    let d = decide(&state, &UP, &usage, 2, utc("2026-12-06T18:52:03.456789Z"), &config);
    let Some(Action::Notify(n)) = d.actions.first() else { panic!("no notice: {d:?}") };
    assert_eq!(n.subject, "staging: stops at 20:00 CET: no requests since 19:30 CET");
    assert!(n.body.contains("ending the hold placed by alice until 22:00 CET"), "{}", n.body);
    assert_eq!(n.severity, Severity::Warning);
}

#[test]
fn the_stop_ends_the_hold_the_wake_and_records_when() {
    let mut state = woken(Some(hold(HoldKind::OnDemand, false)));
    warned(&mut state, "2026-12-06T19:00:00Z", "2026-12-06T18:52:03Z", "2026-12-06T18:30:00Z");
    let config = config("on-demand");
    let usage = figures("2026-12-06T18:30:00Z", "2026-12-06T19:02:00Z", &[]);
    let d = decide(&state, &UP, &usage, 2, utc("2026-12-06T19:02:03.456789Z"), &config);
    let next = &d.next_state;
    assert_eq!(next.hold, None);
    assert_eq!(next.phase, Phase::Stopping);
    assert_eq!(next.wakes[0].ended_at, Some(utc("2026-12-06T19:02:03Z")));
    assert_eq!(next.idle.stopped_at, Some(utc("2026-12-06T19:02:03Z")));
    let Some(Action::Notify(n)) = d.actions.last() else { panic!("no notice: {d:?}") };
    assert_eq!(n.subject, "staging: tearing down (idle: no requests since 18:30 UTC)");
}

/// Five-minute ticks over an idle on-demand evening, each deciding on the last one's state:
/// one warning, then one stop at the first tick at or after the stop it announced.
#[test]
fn a_scripted_idle_evening_warns_once_then_stops() {
    let config = config("on-demand");
    let mut state = woken(Some(hold(HoldKind::OnDemand, false)));
    let mut told = Vec::new();
    let mut stopped_at = None;
    for tick in 0..20 {
        let now = utc("2026-12-06T18:05:01.250Z") + chrono::Duration::minutes(5 * tick);
        let usage = figures("2026-12-06T18:00:00Z", "2026-12-06T20:00:00Z", &[]);
        let d = decide(&state, &UP, &usage, 2, now, &config);
        for a in &d.actions {
            if let Action::Notify(n) = a {
                told.push((now, n.event));
            }
            if matches!(a, Action::ScaleService { .. }) {
                stopped_at.get_or_insert(now);
            }
        }
        state = d.next_state;
        if state.phase == Phase::Stopping {
            state.phase = Phase::Down;
        }
    }
    // Started 18:00: idle at 18:30, warned from 18:20 (the 18:20:01 tick), stopped at 18:30:01.
    assert_eq!(
        told,
        [
            (utc("2026-12-06T18:20:01.250Z"), NotificationEvent::IdleWarning),
            (utc("2026-12-06T18:30:01.250Z"), NotificationEvent::EnvTeardown)
        ]
    );
    assert_eq!(stopped_at, Some(utc("2026-12-06T18:30:01.250Z")));
    assert_eq!(state.hold, None);
}

#[test]
fn the_warned_state_survives_a_json_round_trip_and_decides_the_same() {
    let config = config("on-demand");
    let state = woken(Some(hold(HoldKind::OnDemand, false)));
    let usage = figures("2026-12-06T18:00:00Z", "2026-12-06T18:52:00Z", &[minute("2026-12-06T18:29:00Z", 5.0, 0.0)]);
    let warned = decide(&state, &UP, &usage, 2, utc("2026-12-06T18:52:03.456789Z"), &config).next_state;
    assert_eq!(warned.idle.warned_at, Some(utc("2026-12-06T18:52:03Z")));
    let json = serde_json::to_string(&warned).unwrap();
    let back: EnvironmentState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, warned);
    let later = utc("2026-12-06T19:02:03.456789Z");
    let usage = figures("2026-12-06T18:30:00Z", "2026-12-06T19:02:00Z", &[]);
    assert_eq!(decide(&back, &UP, &usage, 2, later, &config), decide(&warned, &UP, &usage, 2, later, &config));
}

#[test]
fn used_counts_requests_or_connections_beyond_the_probes() {
    #[rustfmt::skip]
    let cases = [
        (2.0, 0.0, 2, false), (3.0, 0.0, 2, true), (0.0, 3.0, 2, true), (1.0, 1.0, 0, true),
        (0.0, 0.0, 0, false), (f64::NAN, f64::NAN, 0, false), (-5.0, 0.0, 0, false),
    ];
    for (requests, connections, probes, expected) in cases {
        let m = Minute { start: utc(SUNDAY_START), requests, connections };
        assert_eq!(used(&m, probes), expected, "{requests} {connections} {probes}");
    }
}

#[test]
fn the_window_covers_idle_after_and_a_margin_in_whole_seconds() {
    let config = config("always");
    let (from, to) = window(utc("2026-12-06T19:02:03.456789Z"), &config);
    assert_eq!((from, to), (utc("2026-12-06T18:22:03Z"), utc("2026-12-06T19:02:03Z")));
}

#[test]
fn the_figures_are_read_only_while_staging_is_subject_to_the_stop() {
    let now = utc("2026-12-06T19:02:03.456789Z");
    let mut state = woken(Some(hold(HoldKind::OnDemand, false)));
    assert_eq!(look(&state, now, &config("always")), Look::ReadAndDecide);
    assert_eq!(look(&state, now, &config("on-demand")), Look::ReadAndDecide, "out of hours, on a hold");
    assert_eq!(look(&state, now, &config("off")), Look::Skip);
    let mut unnamed = config("always");
    unnamed.front_door.load_balancer = None;
    assert_eq!(look(&state, now, &unnamed), Look::Skip);
    let kept = woken(Some(hold(HoldKind::OnDemand, true)));
    assert_eq!(look(&kept, now, &config("always")), Look::Skip, "a --keep hold: nothing to read");
    state.phase = Phase::Down;
    assert_eq!(look(&state, now, &config("on-demand")), Look::Skip);
    warned(&mut state, "2026-12-06T19:00:00Z", "2026-12-06T18:52:03Z", "2026-12-06T18:30:00Z");
    assert_eq!(look(&state, now, &config("on-demand")), Look::Decide);
    let d = decide(
        &state,
        &UP,
        &Usage::NoData { why: "not read".into() },
        2,
        utc("2026-12-06T19:02:03.456789Z"),
        &config("on-demand"),
    );
    assert_eq!((d.next_state.idle.stop_at, d.next_state.idle.warned_at, d.actions.len()), (None, None, 0));
}

/// A service scaled up by hand while the committed state wants it down: the reconciler
/// every tick runs scales it back to zero, and the idle stop leaves it to that.
#[test]
fn scaled_up_by_hand_is_the_reconcilers_and_not_watched() {
    let mut state = woken(None);
    state.phase = Phase::Down;
    let by_hand = Observed::counts(2, 2);
    assert_eq!(reconcile(&state, by_hand.clone()), Some(Action::ScaleService { desired_count: 0 }));
    let config = config("always");
    let usage = figures("2026-12-06T18:00:00Z", "2026-12-06T19:00:00Z", &[]);
    let d = decide(&state, &by_hand, &usage, 2, utc("2026-12-06T19:02:03.456789Z"), &config);
    assert_eq!(kinds(&d), Vec::<String>::new());
    assert_eq!(d.next_state, state);
}
