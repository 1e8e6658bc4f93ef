use super::*;
use crate::model::probe::DEFAULT_TIMEOUT;
use crate::model::probe::Probe;
use crate::model::probe::ProbeResult;
use crate::model::probe::Reply;
use crate::model::probe::StatusSpec;
use crate::model::probe::judge_ecs;
use crate::model::probe::parse_probes;
use crate::model::probe::redact_urls;
use crate::model::state::Phase;
use std::collections::HashMap;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn config(vars: &[(&str, &str)]) -> Config {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|name| map.get(name).cloned()).unwrap()
}

const TD1: &str = "arn:aws:ecs:eu-west-2:123456789012:task-definition/app:41";
const TD2: &str = "arn:aws:ecs:eu-west-2:123456789012:task-definition/app:42";

fn ecs(desired: u32, running: u32, td: &str) -> Observed {
    Observed { task_definition: Some(td.into()), ..Observed::counts(desired, running) }
}

/// Running staging, committed, healthy.
fn up() -> EnvironmentState {
    EnvironmentState { phase: Phase::Up, version: 3, ..EnvironmentState::new("staging") }
}

fn ok(name: &str) -> ProbeResult {
    Probe::new(name, "http://x").judge(&Reply::Answer {
        status: 200,
        latency: Duration::from_millis(20),
        body: String::new(),
    })
}

fn fail(name: &str) -> ProbeResult {
    Probe::new(name, "http://x").judge(&Reply::Answer {
        status: 500,
        latency: Duration::from_millis(20),
        body: String::new(),
    })
}

fn slow(name: &str) -> ProbeResult {
    let probe = Probe { max_latency: Some(Duration::from_millis(100)), ..Probe::new(name, "http://x") };
    probe.judge(&Reply::Answer { status: 200, latency: Duration::from_millis(900), body: String::new() })
}

fn events(d: &Decision) -> Vec<&'static str> {
    d.actions
        .iter()
        .map(|a| match a {
            Action::Notify(n) => n.event.as_str(),
            Action::ForceNewDeployment => "force",
            Action::RollbackService { .. } => "rollback",
            Action::RecordHealth { .. } => "record",
            Action::RecordDeployment(_) => "record-deploy",
            _ => "other",
        })
        .collect()
}

/// Runs ticks five minutes apart (starting at `start`, sub-second), each with its
/// probe results and ECS; returns each tick's events and the final state.
fn ticks(
    mut state: EnvironmentState,
    start: &str,
    steps: &[(Vec<ProbeResult>, Observed)],
    cfg: &Config,
) -> (Vec<Vec<&'static str>>, EnvironmentState) {
    let mut out = Vec::new();
    for (i, (results, observed)) in steps.iter().enumerate() {
        let now = utc(start) + chrono::Duration::minutes(5 * i as i64) + chrono::Duration::milliseconds(731);
        let d = decide(&state, observed, Some(results), Some(now), now, cfg);
        out.push(events(&d));
        state = d.next_state;
    }
    (out, state)
}

#[test]
fn probe_entries_parse_with_their_options() {
    let probes = parse_probes(
        "backend=https://api.example.com/health;status=200|204;latency=800ms;body=\"ok\";timeout=3s,\n\
             web=https://example.com ; status=3xx ; backend, plain=http://127.0.0.1:8080/",
    )
    .unwrap();
    assert_eq!(probes.len(), 3);
    let b = &probes[0];
    assert_eq!(
        (b.status.clone(), b.max_latency, b.body.as_deref(), b.timeout, b.backend),
        (
            StatusSpec::Exact(vec![200, 204]),
            Some(Duration::from_millis(800)),
            Some("\"ok\""),
            Duration::from_secs(3),
            true
        )
    );
    assert_eq!(
        (probes[1].status.clone(), probes[1].backend, probes[1].url.as_str()),
        (StatusSpec::Class(3), true, "https://example.com")
    );
    assert_eq!(
        (probes[2].status.to_string(), probes[2].timeout, probes[2].backend),
        ("2xx".to_string(), DEFAULT_TIMEOUT, false)
    );
}

#[test]
fn bad_probe_entries_say_what_is_wrong() {
    #[rustfmt::skip]
    let cases = [
        ("backend", "is not name=url"),
        ("a=ftp://x", "is not name=http(s)"),
        ("a=http://", "is not name=http(s)"),
        ("a=http://x,a=http://y", "named twice"),
        ("ecs=http://x", "the ECS service's probe"),
        ("a=http://x;status=600", "`600` is not an HTTP status"),
        ("a=http://x;status=2xxx", "expected a class like 2xx"),
        ("a=http://x;status=20x", "`20x` is not an HTTP status"),
        ("a=http://x;status=9xx", "expected a class like 2xx"),
        ("a=http://x;latency=fast", "expected a duration"),
        ("a=http://x;timeout=0s", "expected a duration"),
        ("a=http://x;timeout=1m", "at most 20s"),
        ("a=http://x;latency=6s", "latency must be under the timeout"),
        ("a=http://x;retries=3", "options are status=, latency=, body=, timeout= and backend"),
        ("a=http://x;body=", "options are"),
    ];
    for (value, expected) in cases {
        let err = parse_probes(value).unwrap_err();
        assert!(err.contains(expected), "{value}: {err}");
    }
}

#[test]
fn tokens_in_probe_urls_are_not_repeated_in_errors() {
    #[rustfmt::skip]
    let cases = [
        ("a=https://api.example.com/health?token=s3cret;status=9xx", "a=https://api.example.com/health?…;status=9xx"),
        ("b=https://user:s3cret@example.com/x, c", "b=https://…@example.com/x, c"),
        ("plain=http://127.0.0.1:8080/health", "plain=http://127.0.0.1:8080/health"),
    ];
    for (input, expected) in cases {
        assert_eq!(redact_urls(input), expected);
    }
    let err = config_error(&[("STAGING_PROBES", "a=https://x.example/h?token=s3cret;status=9xx")]);
    assert!(!err.contains("s3cret") && err.contains("?…"), "{err}");
}

fn config_error(vars: &[(&str, &str)]) -> String {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|name| map.get(name).cloned()).unwrap_err().to_string()
}

#[test]
fn replies_are_judged_by_status_body_and_latency() {
    let probe = Probe {
        status: StatusSpec::Exact(vec![200]),
        max_latency: Some(Duration::from_millis(500)),
        body: Some("ok".into()),
        ..Probe::new("api", "http://x")
    };
    let answer =
        |status, ms, body: &str| Reply::Answer { status, latency: Duration::from_millis(ms), body: body.into() };
    #[rustfmt::skip]
    let cases = [
        ("fine", answer(200, 120, "{\"status\":\"ok\"}"), true, false, None),
        ("slow but up", answer(200, 501, "ok"), true, true, Some("slow: 501 ms, limit 500 ms")),
        ("wrong status", answer(503, 10, "ok"), false, false, Some("HTTP 503, expected 200")),
        ("body missing", answer(200, 10, "maintenance"), false, false, Some("the body does not contain \"ok\"")),
        ("no answer", Reply::NoAnswer { latency: Duration::from_secs(5), error: "timed out after 5s".into() }, false, false, Some("timed out after 5s")),
    ];
    for (name, reply, ok, slow, error) in cases {
        let r = probe.judge(&reply);
        assert_eq!((r.ok, r.slow, r.error.as_deref()), (ok, slow, error), "{name}");
    }
    let r = probe.judge(&answer(503, 10, ""));
    assert_eq!((r.status, r.latency_ms), (Some(503), 10));
}

#[test]
fn the_ecs_service_is_a_probe() {
    #[rustfmt::skip]
    let cases = [
        (ecs(2, 2, TD1), None),
        (ecs(2, 1, TD1), Some("1 of 2 tasks running")),
        (ecs(0, 0, TD1), Some("scaled to zero")),
        (Observed { rollout_failed: true, ..ecs(1, 1, TD1) }, Some("the primary deployment's rollout FAILED")),
    ];
    for (observed, error) in cases {
        assert_eq!(judge_ecs(&observed).error.as_deref(), error, "{observed:?}");
    }
}

#[test]
fn thresholds_alert_once_and_resolve_once_with_the_outage_length() {
    let cfg = config(&[]);
    let running = ecs(1, 1, TD1);
    let steps = [
        (vec![ok("backend")], running.clone()),
        (vec![fail("backend")], running.clone()), // one failure: nothing yet
        (vec![fail("backend")], running.clone()), // two: down
        (vec![ok("backend")], running.clone()),   // one success: not resolved
        (vec![ok("backend")], running.clone()),   // two: resolved
        (vec![ok("backend")], running.clone()),   // steady: nothing
    ];
    let (events, state) = ticks(up(), "2026-11-27T10:00:00Z", &steps, &cfg);
    assert_eq!(
        events,
        vec![vec!["record"], vec![], vec!["record", "health.down"], vec![], vec!["record", "health.resolved"], vec![],]
    );
    // Down from the first failure (10:05) to the first answer again (10:15).
    let t: Vec<(String, HealthStatus)> = state.health.transitions.iter().map(|t| (t.at.to_rfc3339(), t.to)).collect();
    assert_eq!(t[1], ("2026-11-27T10:05:00+00:00".to_string(), HealthStatus::Unhealthy));
    assert_eq!(t[2], ("2026-11-27T10:15:00+00:00".to_string(), HealthStatus::Healthy));
}

#[test]
fn the_resolved_notice_says_how_long_the_outage_lasted() {
    let cfg = config(&[("STAGING_HEAL_AFTER", "100")]);
    let mut steps = vec![(vec![fail("web")], ecs(1, 1, TD1)); 5];
    steps.extend(vec![(vec![ok("web")], ecs(1, 1, TD1)); 2]);
    let mut state = up();
    let mut last = None;
    for (i, (r, o)) in steps.iter().enumerate() {
        let now = utc("2026-11-27T10:00:00.250Z") + chrono::Duration::minutes(5 * i as i64);
        let d = decide(&state, o, Some(r), None, now, &cfg);
        last = d
            .actions
            .iter()
            .find_map(|a| match a {
                Action::Notify(n) => Some(n.clone()),
                _ => None,
            })
            .or(last);
        state = d.next_state;
    }
    let n = last.unwrap();
    assert_eq!(n.event, NotificationEvent::HealthResolved);
    assert_eq!(n.subject, "staging: resolved after 25m");
}

#[test]
fn reminders_come_every_interval_while_down() {
    let cfg = config(&[("STAGING_HEALTH_REMINDER", "15m"), ("STAGING_HEAL_AFTER", "100")]);
    let steps = vec![(vec![fail("web")], ecs(1, 1, TD1)); 8];
    let (events, _) = ticks(up(), "2026-11-27T10:00:00Z", &steps, &cfg);
    let downs: Vec<usize> =
        events.iter().enumerate().filter(|(_, e)| e.contains(&"health.down")).map(|(i, _)| i).collect();
    // Down at tick 1 (10:05), then every 15 minutes: 10:20, 10:35.
    assert_eq!(downs, vec![1, 4, 7]);
}

#[test]
fn slow_answers_degrade_with_the_same_thresholds_and_recover() {
    let cfg = config(&[]);
    let running = ecs(1, 1, TD1);
    let steps = [
        (vec![ok("web")], running.clone()),
        (vec![slow("web")], running.clone()),
        (vec![slow("web")], running.clone()),
        (vec![slow("web")], running.clone()),
        (vec![ok("web")], running.clone()),
        (vec![ok("web")], running.clone()),
    ];
    let (events, state) = ticks(up(), "2026-11-27T10:00:00Z", &steps, &cfg);
    assert_eq!(
        events,
        vec![
            vec!["record"],
            vec![],
            vec!["record", "health.degraded"],
            vec![],
            vec![],
            vec!["record", "health.resolved"]
        ]
    );
    assert_eq!(state.health.status, HealthStatus::Healthy);
}

#[test]
fn the_grace_period_after_a_start_or_a_deploy_counts_but_does_not_alert() {
    let cfg = config(&[]);
    let t0 = "2026-11-27T10:00:00Z";
    let started = EnvironmentState { started_at: Some(utc("2026-11-27T09:59:00Z")), ..up() };
    let mut deployed = up();
    deployed.queue_deployment("abc1234", crate::DeploymentPlan::FULL, utc("2026-11-27T09:50:00Z"));
    deployed.dispatch_pending(utc("2026-11-27T09:50:00Z"), chrono::Duration::minutes(30));
    let failing = vec![(vec![fail("web")], ecs(1, 0, TD1)); 4];
    // (name, state, events of each tick): grace ends 10 minutes after the start, so
    // the third tick (10:10) alerts at once on the failures counted in grace (and,
    // three failures in, heals, saying so in the alert).
    #[rustfmt::skip]
    let cases: [(&str, EnvironmentState, Vec<Vec<&str>>); 3] = [
        ("after a start", started, vec![vec![], vec![], vec!["force", "record", "health.down"], vec![]]),
        ("while a deploy runs", deployed, vec![vec![], vec![], vec![], vec![]]),
        ("no grace", up(), vec![vec![], vec!["record", "health.down"], vec!["force", "health.healing"], vec![]]),
    ];
    for (name, state, expected) in cases {
        let (events, _) = ticks(state, t0, &failing, &cfg);
        assert_eq!(events, expected, "{name}");
    }
}

#[test]
fn down_by_design_is_not_probed_and_closes_an_open_outage() {
    let cfg = config(&[]);
    let (_, down_state) = ticks(up(), "2026-11-27T17:40:00Z", &vec![(vec![fail("web")], ecs(1, 1, TD1)); 2], &cfg);
    assert_eq!(down_state.health.status, HealthStatus::Unhealthy);
    let torn = EnvironmentState { phase: Phase::Down, ..down_state };
    let now = utc("2026-11-27T18:00:00.5Z");
    let d = decide(&torn, &ecs(0, 0, TD1), None, None, now, &cfg);
    assert_eq!(events(&d), vec!["record", "health.resolved"]);
    assert_eq!(d.next_state.health.status, HealthStatus::Unknown);
    assert!(d.summary.starts_with("not probed: staging is down by design"), "{}", d.summary);
    // Down and quiet: nothing at all.
    let again = decide(&d.next_state, &ecs(0, 0, TD1), None, None, now + chrono::Duration::minutes(5), &cfg);
    assert!(again.actions.is_empty() && again.next_state == d.next_state);
    // Stopping counts as down by design too, even with probes in hand.
    let stopping = EnvironmentState { phase: Phase::Stopping, ..up() };
    let d = decide(&stopping, &ecs(1, 1, TD1), Some(&[fail("web")]), None, now, &cfg);
    assert!(d.actions.is_empty() && d.next_state.health.consecutive_failures == 0);
}

#[test]
fn a_state_never_written_is_probed_when_ecs_shows_staging_running() {
    // A fresh install: nothing stored yet, the service at 1 in business hours.
    let cfg = config(&[]);
    let fresh = EnvironmentState::new("staging");
    let now = utc("2026-11-27T10:00:00.25Z");
    let d = decide(&fresh, &ecs(1, 1, TD1), Some(&[ok("web")]), None, now, &cfg);
    assert!(!d.summary.starts_with("not probed"), "{}", d.summary);
    assert_eq!(d.next_state.phase, Phase::Up, "the state as found is what the first commit writes");
    // Scaled to zero, it is down by design, as it reads everywhere else.
    let d = decide(&fresh, &ecs(0, 0, TD1), None, None, now, &cfg);
    assert!(d.summary.starts_with("not probed: staging is down by design"), "{}", d.summary);
}

#[test]
fn self_healing_is_rate_limited_and_needs_a_cause_it_can_fix() {
    let cfg = config(&[("STAGING_HEALTH_REMINDER", "12h")]);
    // (name, probe results, ECS, ticks, expected forced deployments)
    #[rustfmt::skip]
    let cases = [
        ("backend failing: once in an hour", vec![fail("backend")], ecs(1, 1, TD1), 12, vec![2]),
        ("and again after the hour", vec![fail("backend")], ecs(1, 1, TD1), 15, vec![2, 14]),
        ("tasks missing", vec![ok("web")], ecs(2, 1, TD1), 4, vec![2]),
        ("only the front end failing: ECS cannot fix it", vec![fail("web")], ecs(1, 1, TD1), 6, vec![]),
    ];
    for (name, results, observed, n, expected) in cases {
        let (events, _) = ticks(up(), "2026-11-27T10:00:00Z", &vec![(results, observed); n], &cfg);
        let forced: Vec<usize> =
            events.iter().enumerate().filter(|(_, e)| e.contains(&"force")).map(|(i, _)| i).collect();
        assert_eq!(forced, expected, "{name}");
    }
    // A heal threshold at the alert threshold says so in the alert itself.
    let cfg = config(&[("STAGING_HEAL_AFTER", "2")]);
    let mut state = up();
    let mut alert = None;
    for i in 0..2 {
        let now = utc("2026-11-27T10:00:00.4Z") + chrono::Duration::minutes(5 * i);
        let d = decide(&state, &ecs(1, 1, TD1), Some(&[fail("backend")]), None, now, &cfg);
        alert = d.actions.iter().find_map(|a| match a {
            Action::Notify(n) => Some(n.clone()),
            _ => None,
        });
        assert_eq!(d.actions.contains(&Action::ForceNewDeployment), i == 1);
        state = d.next_state;
    }
    let alert = alert.unwrap();
    assert_eq!(alert.event, NotificationEvent::HealthDown);
    assert!(alert.body.contains("forced a new deployment"), "{}", alert.body);
}

fn deployed_state(finished: &str) -> EnvironmentState {
    let mut s = up();
    s.queue_deployment("abc1234def", crate::DeploymentPlan::FULL, utc("2026-11-27T09:40:00Z"));
    s.dispatch_pending(utc("2026-11-27T09:40:00Z"), chrono::Duration::minutes(30));
    s.deployment_in_flight.as_mut().unwrap().task_definition_before = Some(TD1.into());
    let outcome = crate::model::state::RunOutcome {
        status: DeploymentStatus::Succeeded,
        built_sha: "abc1234def".into(),
        run_url: None,
        run_id: Some(1),
        duration_secs: Some(300),
    };
    s.deployment_finished(outcome, utc(finished)).unwrap().task_definition_after = Some(TD2.into());
    s
}

#[test]
fn a_deploy_that_turns_unhealthy_in_its_grace_period_is_rolled_back_once() {
    let on = config(&[("STAGING_AUTO_ROLLBACK", "true")]);
    let off = config(&[]);
    let failing = vec![(vec![fail("backend")], ecs(1, 1, TD2)); 6];
    // (name, state, config, expected per tick)
    #[rustfmt::skip]
    let cases = [
        ("rolled back at the second failure, once", deployed_state("2026-11-27T09:59:00.5Z"), &on,
            vec![vec![], vec!["rollback", "record-deploy", "health.down", "record"], vec![],
                 // Still failing when the rollback's grace ends: a new deployment.
                 vec!["force", "health.healing"], vec![], vec![]]),
        ("without auto-rollback: alert after the grace", deployed_state("2026-11-27T09:59:00.5Z"), &off,
            vec![vec![], vec![], vec!["force", "record", "health.down"], vec![], vec![], vec![]]),
        ("a deploy long finished is not rolled back", deployed_state("2026-11-27T08:00:00Z"), &on,
            vec![vec![], vec!["record", "health.down"], vec!["force", "health.healing"], vec![], vec![], vec![]]),
    ];
    for (name, state, cfg, expected) in cases {
        let (events, end) = ticks(state, "2026-11-27T10:00:00Z", &failing, cfg);
        assert_eq!(events, expected, "{name}");
        if name.starts_with("rolled back") {
            assert_eq!(end.last_deployment.as_ref().unwrap().rolled_back_at, Some(utc("2026-11-27T10:05:00Z")));
        }
    }
    // The rollback goes to what ran before the deploy, and says which deploy failed.
    let d = {
        let (_, s) = ticks(deployed_state("2026-11-27T09:59:00Z"), "2026-11-27T10:00:00Z", &failing[..1], &on);
        decide(&s, &ecs(1, 1, TD2), Some(&[fail("backend")]), None, utc("2026-11-27T10:05:00Z"), &on)
    };
    assert!(d.actions.contains(&Action::RollbackService { task_definition: TD1.into() }));
    let alert = d
        .actions
        .iter()
        .find_map(|a| match a {
            Action::Notify(n) => Some(n),
            _ => None,
        })
        .unwrap();
    assert!(alert.subject.contains("deploy of abc1234 rolled back"), "{}", alert.subject);
    assert!(alert.body.contains("back on app:41 (it ran app:42)"), "{}", alert.body);
}

#[test]
fn a_tick_delivered_twice_counts_once() {
    let cfg = config(&[]);
    let t = utc("2026-11-27T10:00:00.9Z");
    let once = decide(&up(), &ecs(1, 1, TD1), Some(&[fail("web")]), Some(t), t, &cfg);
    // The schedule's time round-trips through the state as JSON.
    let stored: EnvironmentState = serde_json::from_str(&serde_json::to_string(&once.next_state).unwrap()).unwrap();
    let twice =
        decide(&stored, &ecs(1, 1, TD1), Some(&[fail("web")]), Some(t), t + chrono::Duration::seconds(40), &cfg);
    assert_eq!(twice.next_state.health.consecutive_failures, 1);
    assert!(twice.summary.starts_with("ignored"), "{}", twice.summary);
}

#[test]
fn manual_rollback_goes_to_the_last_good_task_definition() {
    let now = utc("2026-11-27T11:00:00.3Z");
    let deployed = deployed_state("2026-11-27T10:00:00Z");
    let good = EnvironmentState {
        health: crate::model::state::Health { last_good_task_definition: Some(TD2.into()), ..Default::default() },
        ..deployed.clone()
    };
    #[rustfmt::skip]
    let cases: [(&str, &EnvironmentState, Option<&str>, std::result::Result<&str, &str>); 5] = [
        ("the deploy's previous task definition", &deployed, None, Ok(TD1)),
        ("last good is the current one: the deploy's previous", &good, None, Ok(TD1)),
        ("named", &deployed, Some("app:7"), Ok("app:7")),
        ("already there", &deployed, Some("app:42"), Err("already runs app:42")),
        ("nothing known", &up(), None, Err("nothing to go back to")),
    ];
    for (name, state, to, expected) in cases {
        match (decide_rollback(state, &ecs(1, 1, TD2), to, "alice", false, now), expected) {
            (Ok(d), Ok(td)) => {
                assert_eq!(d.actions[0], Action::RollbackService { task_definition: td.into() }, "{name}");
                assert_eq!(events(&d).last(), Some(&"deploy.rolled_back"), "{name}");
            }
            (Err(e), Err(msg)) => assert!(e.to_string().contains(msg), "{name}: {e}"),
            (got, _) => panic!("{name}: {got:?}"),
        }
    }
    let d = decide_rollback(&deployed, &ecs(1, 1, TD2), None, "alice", false, now).unwrap();
    assert_eq!(d.next_state.last_deployment.unwrap().rolled_back_at, Some(utc("2026-11-27T11:00:00Z")));
    // While a deploy is in flight: refused, unless forced.
    let mut busy = deployed.clone();
    busy.queue_deployment("fff0000", crate::DeploymentPlan::FULL, now);
    busy.dispatch_pending(now, chrono::Duration::minutes(30));
    let err = decide_rollback(&busy, &ecs(1, 1, TD2), None, "alice", false, now).unwrap_err();
    assert!(err.to_string().contains("the deploy of fff0000 is in flight"), "{err}");
    assert!(decide_rollback(&busy, &ecs(1, 1, TD2), None, "alice", true, now).is_ok());
    // Named as people name it, it is the same task definition as the recorded ARN.
    let d = decide_rollback(&deployed, &ecs(1, 1, TD2), Some("app:41"), "alice", false, now).unwrap();
    assert!(d.next_state.last_deployment.unwrap().rolled_back_at.is_some());
}

#[test]
fn a_slow_spell_is_dated_from_its_first_slow_tick_to_its_first_fast_one() {
    let cfg = config(&[]);
    let running = ecs(1, 1, TD1);
    let mut steps = vec![(vec![ok("web")], running.clone()); 12];
    steps.extend(vec![(vec![slow("web")], running.clone()); 3]);
    steps.extend(vec![(vec![ok("web")], running.clone()); 2]);
    let mut state = up();
    let mut notices = Vec::new();
    for (i, (r, o)) in steps.iter().enumerate() {
        let now = utc("2026-11-27T09:00:00.6Z") + chrono::Duration::minutes(5 * i as i64);
        let d = decide(&state, o, Some(r), None, now, &cfg);
        notices.extend(d.actions.iter().filter_map(|a| match a {
            Action::Notify(n) => Some(n.subject.clone()),
            _ => None,
        }));
        state = d.next_state;
    }
    let t: Vec<(String, HealthStatus)> =
        state.health.transitions.iter().map(|t| (t.at.format("%H:%M").to_string(), t.to)).collect();
    use HealthStatus::*;
    assert_eq!(t, vec![("09:00".into(), Healthy), ("10:00".into(), Degraded), ("10:15".into(), Healthy)]);
    assert_eq!(notices, vec!["staging: slow — web: slow: 900 ms, limit 100 ms", "staging: no longer slow after 15m"]);
}

#[test]
fn auto_rollback_needs_an_outage_the_deploy_could_have_caused() {
    let on = config(&[("STAGING_AUTO_ROLLBACK", "true")]);
    // Failing since before the deploy finished (09:59): the deploy did not cause it.
    let (_, failing_before) = ticks(up(), "2026-11-27T09:50:00Z", &[(vec![fail("backend")], ecs(1, 1, TD1))], &on);
    let state = EnvironmentState { health: failing_before.health, ..deployed_state("2026-11-27T09:59:00Z") };
    let (events, _) = ticks(state, "2026-11-27T10:00:00Z", &[(vec![fail("backend")], ecs(1, 1, TD2))], &on);
    assert!(!events[0].contains(&"rollback"), "{events:?}");
    // Only the front end (not served by ECS) failing: not the deploy's to undo.
    let (events, _) = ticks(
        deployed_state("2026-11-27T09:59:00Z"),
        "2026-11-27T10:00:00Z",
        &vec![(vec![ok("backend"), fail("web")], ecs(1, 1, TD2)); 3],
        &on,
    );
    assert!(events.iter().all(|e| !e.contains(&"rollback")), "{events:?}");
}

#[test]
fn a_tick_far_from_the_clock_counts_but_is_not_remembered() {
    let cfg = config(&[]);
    let now = utc("2026-11-20T10:00:00.3Z");
    let d = decide(&up(), &ecs(1, 1, TD1), Some(&[ok("web")]), Some(utc("2026-11-27T10:05:00Z")), now, &cfg);
    assert_eq!((d.next_state.health.last_tick, d.next_state.health.consecutive_successes), (None, 1));
    let later = decide(
        &d.next_state,
        &ecs(1, 1, TD1),
        Some(&[ok("web")]),
        Some(utc("2026-11-20T10:05:00Z")),
        now + chrono::Duration::minutes(5),
        &cfg,
    );
    assert_eq!(later.next_state.health.consecutive_successes, 2, "the real tick still counts");
}

#[test]
fn last_good_is_a_task_definition_seen_fine_and_reminders_need_a_failing_tick() {
    let cfg = config(&[
        ("STAGING_HEALTH_FAILURES", "3"),
        ("STAGING_HEALTH_SUCCESSES", "3"),
        ("STAGING_HEALTH_REMINDER", "5m"),
        ("STAGING_HEAL_AFTER", "100"),
    ]);
    let (_, s) = ticks(
        up(),
        "2026-11-27T10:00:00Z",
        &[(vec![ok("web")], ecs(1, 1, TD1)), (vec![fail("web")], ecs(1, 1, TD2))],
        &cfg,
    );
    assert_eq!(s.health.last_good_task_definition.as_deref(), Some(TD1), "a failing tick on TD2 is not good");
    let mut steps = vec![(vec![fail("web")], ecs(1, 1, TD1)); 3];
    steps.extend(vec![(vec![ok("web")], ecs(1, 1, TD1)); 2]);
    let (events, _) = ticks(up(), "2026-11-27T10:00:00Z", &steps, &cfg);
    assert_eq!(events[3..], [Vec::<&str>::new(), vec![]], "answering again: no reminder");
}

#[test]
fn a_stack_operation_left_unsettled_is_looked_at_and_quiet_only_for_an_hour() {
    use crate::model::state::{StackOperation, StackProgress};
    let config = config(&[]);
    let mut state = up();
    state.stack.in_progress =
        Some(StackProgress { operation: StackOperation::Create, since: utc("2026-11-30T08:00:00Z") });
    let policy = config.health;
    let at = |t: &str| utc(t);
    assert_eq!(stack_check_fallback(&state, at("2026-11-30T08:10:00Z")), None, "the schedule chain is on it");
    assert_eq!(
        stack_check_fallback(&state, at("2026-11-30T08:12:00.5Z")),
        Some(Action::PutOneTimeSchedule {
            name: "staging-stack-check".into(),
            at: at("2026-11-30T08:13:00.5Z"),
            command: crate::model::action::ScheduledCommand::StackCheck,
        })
    );
    let d = decide(&state, &Observed::counts(0, 0), None, None, at("2026-11-30T08:15:00.25Z"), &config);
    assert!(
        d.actions.iter().any(|a| matches!(a, Action::PutOneTimeSchedule { name, .. } if name == "staging-stack-check")),
        "{:?}",
        d.actions
    );
    assert!(grace(&state, at("2026-11-30T08:59:59.9Z"), &policy, config.deploy_grace).is_some());
    assert_eq!(
        grace(&state, at("2026-11-30T09:00:00.1Z"), &policy, config.deploy_grace),
        None,
        "an hour on, not answering is an outage"
    );
}
