#![allow(clippy::type_complexity)] // tables of cases

use super::*;
use crate::model::observed::StackObserved;
use crate::model::state::{BudgetLock, HoldKind, Phase};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn config_with(vars: &[(&str, &str)]) -> Config {
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())).unwrap()
}

fn config() -> Config {
    config_with(&[("STAGING_TIME_ZONE", "Europe/London")])
}

// Saturday evening in London, sub-second as a real clock is.
const EVENING: &str = "2026-12-05T19:02:03.456789Z";

fn invite(name: &str) -> Invite {
    Invite::new(name, utc("2026-12-01T09:00:00Z"), Duration::days(30)).unwrap()
}

fn asleep() -> EnvironmentState {
    EnvironmentState { phase: Phase::Down, version: 4, ..EnvironmentState::new("staging") }
}

const DOWN: Observed = Observed::counts(0, 0);

fn wake(by: &str, at: &str, ready_secs: Option<i64>) -> Wake {
    let requested_at = utc(at);
    Wake {
        by: by.into(),
        requested_at,
        stack_at: None,
        tasks_at: None,
        targets_at: None,
        ready_at: ready_secs.map(|s| requested_at + Duration::seconds(s)),
        held_until: requested_at + Duration::hours(1),
        ended_at: ready_secs.map(|_| requested_at + Duration::minutes(30)),
        from_deep_sleep: false,
    }
}

#[test]
fn visitors_are_told_apart_by_method_accept_and_user_agent() {
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    #[rustfmt::skip]
    let cases = [
        ("a browser", "GET", Some("text/html,application/xhtml+xml"), Some(firefox), Visitor::Person),
        ("a browser without Accept", "GET", None, Some(firefox), Visitor::Person),
        ("HEAD from a browser", "HEAD", Some("text/html"), Some(firefox), Visitor::Robot),
        ("Slack's link preview", "GET", Some("*/*"), Some("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"), Visitor::Robot),
        ("Twitter's card fetcher", "GET", None, Some("Twitterbot/1.0"), Visitor::Robot),
        ("Facebook's preview", "GET", None, Some("facebookexternalhit/1.1"), Visitor::Robot),
        ("an uptime monitor", "GET", None, Some("Mozilla/5.0+(compatible; UptimeRobot/2.0)"), Visitor::Robot),
        ("the load balancer's health check", "GET", None, Some("ELB-HealthChecker/2.0"), Visitor::Robot),
        ("no user agent", "GET", Some("text/html"), None, Visitor::Robot),
        ("an API client asking for JSON", "GET", Some("application/json"), Some("axios/1.7"), Visitor::Api),
        ("a POST to the API", "POST", Some("*/*"), Some(firefox), Visitor::Api),
        ("the page's wake form", "POST", Some("text/html,application/xhtml+xml"), Some(firefox), Visitor::Person),
        ("a DELETE", "DELETE", Some("text/html"), Some(firefox), Visitor::Api),
        ("curl", "GET", Some("*/*"), Some("curl/8.5.0"), Visitor::Person),
    ];
    for (name, method, accept, agent, want) in cases {
        assert_eq!(visitor(method, accept, agent), want, "{name}");
    }
}

#[test]
fn the_way_back_is_a_path_on_this_site_only() {
    #[rustfmt::skip]
    let cases = [
        (Some("/orders/42?tab=items"), "/orders/42?tab=items"),
        (Some("/"), "/"),
        (None, "/"),
        (Some("https://evil.example/"), "/"),
        (Some("//evil.example/"), "/"),
        (Some("/\\evil.example"), "/"),
        (Some("/_staging/wake"), "/"),
        (Some("/a\"><script>"), "/"),
        (Some("relative"), "/"),
    ];
    for (given, want) in cases {
        assert_eq!(back_to(given), want, "{given:?}");
    }
}

#[test]
fn a_wake_starts_staging_with_a_hold_by_the_invites_name() {
    let d = decide_wake(&asleep(), DOWN, &invite("alice"), utc(EVENING), &config()).unwrap();
    let now = utc("2026-12-05T19:02:03Z");
    let hold = d.next_state.hold.as_ref().unwrap();
    assert_eq!((hold.who.as_str(), hold.kind, hold.until), ("alice", HoldKind::OnDemand, now + Duration::hours(1)));
    assert_eq!(d.next_state.phase, Phase::Starting);
    assert!(d.actions.contains(&Action::RestoreService), "{:?}", d.actions);
    let wake = d.next_state.wakes.last().unwrap();
    assert_eq!((wake.by.as_str(), wake.requested_at, wake.held_until), ("alice", now, hold.until));
    assert_eq!(d.next_state.idle.last_use, Some(now), "the idle clock starts at the wake");
    assert!(d.summary.starts_with("woken by alice from the front door"), "{}", d.summary);
    // Through JSON, as DynamoDB keeps it: the same state.
    let stored: EnvironmentState = serde_json::from_value(serde_json::to_value(&d.next_state).unwrap()).unwrap();
    assert_eq!(stored, d.next_state);
}

#[test]
fn fifty_wakes_in_a_row_make_one_start_and_one_hold() {
    // Each decides on the state the one before committed (the store's version check
    // makes concurrent wakes decide again on the winner's state).
    let mut state = asleep();
    let mut observed = DOWN;
    let mut starts = 0;
    for i in 0..50 {
        let clock = utc(EVENING) + Duration::milliseconds(i * 37);
        let d = decide_wake(&state, observed.clone(), &invite(&format!("tester{}", i % 7)), clock, &config()).unwrap();
        starts += d.actions.iter().filter(|a| **a == Action::RestoreService).count();
        state = EnvironmentState { version: state.version + 1, ..d.next_state };
        observed = Observed::counts(1, 0);
    }
    assert_eq!(starts, 1);
    assert_eq!(state.wakes.len(), 1);
    assert_eq!(state.hold.as_ref().map(|h| h.who.as_str()), Some("tester0"));
}

#[test]

fn refused_wakes_change_nothing_and_say_why() {
    let now = utc(EVENING);
    let mut locked = asleep();
    locked.budget_lock = Some(BudgetLock {
        period: "2026-12".parse().unwrap(),
        locked_at: utc("2026-12-04T10:00:00Z"),
        reason: "actual over budget".into(),
    });
    let mut tired = asleep();
    tired.wakes = (0..5).map(|i| wake("alice", &format!("2026-12-05T1{i}:00:00.5Z"), Some(60))).collect();
    let mut yesterday = asleep();
    yesterday.wakes = (0..5).map(|i| wake("alice", &format!("2026-12-04T1{i}:00:00.5Z"), Some(60))).collect();
    let mut month = asleep();
    // 41 wakes of an hour each this month, by many people.
    month.wakes = (0..41)
        .map(|i| {
            let mut w = wake(&format!("p{i}"), "2026-12-01T08:00:00.25Z", None);
            w.requested_at += Duration::hours(i);
            w.held_until = w.requested_at + Duration::hours(1);
            w
        })
        .collect();
    #[rustfmt::skip]
    let cases: Vec<(&str, EnvironmentState, &str, Option<(u16, &str, &str)>)> = vec![
        ("locked by the budget", locked, "alice", Some((403, "locked by the budget for 2026-12: actual over budget", "2027-01-01T00:00:00Z"))),
        ("five wakes today", tired.clone(), "alice", Some((429, "alice has woken staging 5 times today", "2026-12-06T00:00:00Z"))),
        ("someone else is not alice", tired, "bob", None),
        ("yesterday's wakes do not count", yesterday, "alice", None),
        ("the team's hours this month", month, "alice", Some((429, "wakes kept staging up 41.0 h this month", "2027-01-01T00:00:00Z"))),
    ];
    for (name, state, who, want) in cases {
        let got = decide_wake(&state, DOWN, &invite(who), now, &config());
        match want {
            None => assert!(got.is_ok(), "{name}: {got:?}"),
            Some((status, reason, retry)) => match got {
                Err(Error::Wake { status: s, reason: r, retry_after }) => {
                    assert_eq!(s, status, "{name}");
                    assert!(r.contains(reason), "{name}: {r}");
                    // London's midnight (UTC in December), or the next month.
                    assert_eq!(retry_after, Some(utc(retry)), "{name}");
                }
                other => panic!("{name}: {other:?}"),
            },
        }
    }
}

#[test]
fn a_wake_while_awake_or_waking_changes_nothing() {
    let now = utc(EVENING);
    let waking = decide_wake(&asleep(), DOWN, &invite("alice"), now, &config()).unwrap().next_state;
    let waking = EnvironmentState { version: 5, ..waking };
    let d =
        decide_wake(&waking, Observed::counts(1, 0), &invite("bob"), now + Duration::seconds(3), &config()).unwrap();
    assert_eq!(d.next_state, waking);
    assert!(d.actions.is_empty());
    assert_eq!(d.summary, "already waking (woken by alice)");
    let up = EnvironmentState { phase: Phase::Up, version: 9, ..EnvironmentState::new("staging") };
    let d = decide_wake(&up, Observed::counts(1, 1), &invite("bob"), now, &config()).unwrap();
    assert_eq!((d.next_state, d.summary.as_str()), (up, "already awake"));
}

#[test]
fn the_eta_is_the_median_of_the_last_wakes_of_the_same_depth() {
    let mut state = asleep();
    assert_eq!(expected_wake_secs(&state, false), ETA_DEFAULT_SECS);
    assert_eq!(expected_wake_secs(&state, true), ETA_DEFAULT_DEEP_SECS);
    state.wakes = [70, 50, 400, 60, 65].iter().map(|s| wake("a", "2026-12-04T19:00:00.75Z", Some(*s))).collect();
    assert_eq!(expected_wake_secs(&state, false), 65);
    state.wakes.push(Wake { from_deep_sleep: true, ..wake("a", "2026-12-04T20:00:00.75Z", Some(300)) });
    assert_eq!(expected_wake_secs(&state, true), 300);
    assert_eq!(expected_wake_secs(&state, false), 65, "deep wakes do not count for a shallow one");
    // Only the last ETA_WAKES count.
    state.wakes = (0..20).map(|i| wake("a", "2026-12-04T19:00:00Z", Some(if i < 11 { 500 } else { 40 }))).collect();
    assert_eq!(expected_wake_secs(&state, false), 40);
}

#[test]
fn a_wake_goes_step_by_step_to_ready_and_the_address_to_the_app() {
    use crate::model::observed::Route;
    let routed = config_with(&[
        ("STAGING_LISTENER_ARN", "arn:l"),
        ("STAGING_APP_TARGET_GROUP_ARN", "arn:app"),
        ("STAGING_FRONT_DOOR_TARGET_GROUP_ARN", "arn:fd"),
    ]);
    let t0 = utc(EVENING);
    let mut state = decide_wake(&asleep(), DOWN, &invite("alice"), t0, &routed).unwrap().next_state;
    let seen = |running: u32, healthy: u32, route: Route| Observed {
        healthy_targets: Some(healthy),
        route: Some(route),
        ..Observed::counts(1, running)
    };
    let v = view(&state, &seen(0, 0, Route::FrontDoor), None, None, Some("/orders"), t0, &routed);
    assert_eq!(v.state, Sleep::Waking);
    let names: Vec<&str> = v.steps.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        ["wake asked", "tasks running", "healthy behind the load balancer", "the app answers its health probe"]
    );
    assert_eq!(v.eta_seconds, Some(ETA_DEFAULT_SECS));
    #[rustfmt::skip]
    let looks: Vec<(i64, Observed, Option<bool>, Option<&str>, &[Action])> = vec![
        (5, seen(0, 0, Route::FrontDoor), None, None, &[]),
        (20, seen(1, 0, Route::FrontDoor), None, Some("waking"), &[]),
        (50, seen(1, 1, Route::FrontDoor), None, Some("the app's targets are healthy: the staging address now leads to it"), &[Action::Route { to: Route::App }]),
        (55, seen(1, 1, Route::App), Some(false), None, &[]),
        (60, seen(1, 1, Route::App), Some(true), Some("ready: woken by alice in 1m"), &[]),
        (65, seen(1, 1, Route::App), Some(true), None, &[]),
    ];
    for (secs, observed, probe, summary, actions) in looks {
        let at = t0 + Duration::seconds(secs) + Duration::milliseconds(250);
        let got = progress(&state, &observed, probe, at);
        assert_eq!(got.as_ref().map(|d| d.summary.as_str()), summary, "at +{secs}s");
        if let Some(d) = got {
            assert_eq!(d.actions, actions, "at +{secs}s");
            state = EnvironmentState { version: state.version + 1, ..d.next_state };
        }
    }
    let wake = state.wakes.last().unwrap();
    let at = |s: i64| Some(utc("2026-12-05T19:02:03Z") + Duration::seconds(s));
    assert_eq!((wake.tasks_at, wake.targets_at, wake.ready_at), (at(20), at(50), at(60)));
    assert_eq!(state.phase, Phase::Up);
    let v = view(&state, &seen(1, 1, Route::App), None, None, Some("/orders"), t0 + Duration::seconds(70), &routed);
    assert_eq!((v.state, v.back_to.as_str(), v.eta_seconds), (Sleep::Ready, "/orders", None));
    // The next wake's ETA has this one in it.
    assert_eq!(expected_wake_secs(&state, false), 60);
}

#[test]
fn the_page_of_a_sleeping_stack_says_it_is_a_deep_sleep() {
    let stack_gone = Observed { stack: Some(StackObserved { status: None, reason: None }), ..DOWN };
    let v = view(&asleep(), &stack_gone, Some(&invite("alice")), None, None, utc(EVENING), &config());
    assert_eq!((v.state, v.deep_sleep, v.eta_seconds), (Sleep::Asleep, true, Some(ETA_DEFAULT_DEEP_SECS)));
    assert_eq!(v.guest.as_deref(), Some("alice"));
    let v = view(&asleep(), &DOWN, None, None, None, utc(EVENING), &config());
    assert!(!v.deep_sleep);
}

/// The idle stop's warning is on the page from the warning until the stop, in the business
/// time zone (London is on GMT in December; Berlin an hour ahead).
#[test]
fn the_page_shows_the_idle_warning_until_the_stop() {
    let mut state = EnvironmentState { phase: Phase::Up, version: 9, ..EnvironmentState::new("staging") };
    let up = Observed::counts(1, 1);
    let warned = utc("2026-12-05T19:15:00.250417Z");
    state.idle.last_use = Some(utc("2026-12-05T18:55:00Z"));
    state.idle.warned_at = Some(warned);
    state.idle.stop_at = Some(utc("2026-12-05T19:25:00Z"));
    let berlin = config_with(&[("STAGING_TIME_ZONE", "Europe/Berlin")]);
    #[rustfmt::skip]
    let cases = [
        ("just warned", warned, &config(), Some("stops at 19:25: no requests since 18:55")),
        ("a moment before the stop", utc("2026-12-05T19:24:59.999999Z"), &config(), Some("stops at 19:25: no requests since 18:55")),
        ("in Berlin's hours", warned, &berlin, Some("stops at 20:25: no requests since 19:55")),
        ("the stop is due: not promised any more", utc("2026-12-05T19:25:00.000001Z"), &config(), None),
    ];
    for (name, now, config, expected) in cases {
        let v = view(&state, &up, None, None, None, now, config);
        assert_eq!(v.warning.as_deref(), expected, "{name}");
    }
    let mut unwarned = state.clone();
    unwarned.idle.warned_at = None;
    assert_eq!(view(&unwarned, &up, None, None, None, warned, &config()).warning, None, "no warning given: none shown");
}
