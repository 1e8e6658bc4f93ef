use super::*;
use crate::schedule::BusinessHours;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn hold(until: &str, kind: HoldKind) -> Hold {
    Hold { until: utc(until), reason: "demo".into(), who: "alice".into(), kind, keep: false }
}

#[test]
fn wanted_table_lock_beats_hold_beats_schedule() {
    let hours = BusinessHours::default();
    let working = utc("2026-11-27T10:00:00Z");
    let evening = utc("2026-11-27T20:00:00Z");
    let held = Some(hold("2026-11-27T22:00:00Z", HoldKind::EmergencyBypass));
    let expired = Some(hold("2026-11-27T19:00:00Z", HoldKind::OnDemand));
    let lock = Some(BudgetLock {
        period: "2026-11".parse().unwrap(),
        locked_at: utc("2026-11-02T00:00:00Z"),
        reason: "over".into(),
    });
    let old_lock = Some(BudgetLock { period: "2026-10".parse().unwrap(), ..lock.clone().unwrap() });
    use Wanted::*;
    #[rustfmt::skip]
    let cases = [
        ("working hours", working, None, None, UpScheduled),
        ("evening", evening, None, None, DownScheduled),
        ("evening with a hold", evening, held.clone(), None, UpHeld),
        ("evening with an expired hold", evening, expired, None, DownScheduled),
        ("locked in working hours", working, None, lock.clone(), DownBudgetLocked),
        ("locked with a hold", evening, held.clone(), lock, DownBudgetLocked),
        ("last month's lock has lapsed", working, None, old_lock, UpScheduled),
    ];
    for (name, now, hold, budget_lock, expected) in cases {
        let s = EnvironmentState { hold, budget_lock, ..EnvironmentState::new("staging") };
        assert_eq!(s.wanted(now, &hours), expected, "{name}");
    }
}

#[test]
fn holds_are_cut_to_the_maximum_and_must_end_in_the_future() {
    let now = utc("2026-11-27T17:00:00Z");
    let mut s = EnvironmentState::new("staging");
    let (placed, changed) =
        s.place_hold(hold("2026-11-28T17:00:00Z", HoldKind::OnDemand), now, Duration::hours(12)).unwrap();
    assert_eq!((placed.until, changed), (utc("2026-11-28T05:00:00Z"), true));
    let before = s.clone();
    assert!(s.place_hold(hold("2026-11-27T17:00:00Z", HoldKind::OnDemand), now, Duration::hours(12)).is_err());
    let mut anonymous = hold("2026-11-27T18:00:00Z", HoldKind::OnDemand);
    anonymous.who = " ".into();
    assert!(s.place_hold(anonymous, now, Duration::hours(12)).is_err());
    assert_eq!(s, before);
    assert!(s.release_hold().is_some());
    assert!(s.hold.is_none());
}

#[test]
fn a_maximum_beyond_the_calendar_does_not_panic() {
    let now = utc("2026-11-27T17:00:00Z");
    let mut s = EnvironmentState::new("staging");
    let (placed, _) = s.place_hold(hold("2026-11-27T19:00:00Z", HoldKind::OnDemand), now, Duration::MAX).unwrap();
    assert_eq!(placed.until, utc("2026-11-27T19:00:00Z"));
}

#[test]
fn holds_only_grow_table() {
    let now = utc("2026-11-27T18:30:00.250Z");
    let bob =
        |until: &str| Hold { who: "bob".into(), reason: "release".into(), ..hold(until, HoldKind::EmergencyBypass) };
    // (existing, new, expected until, expected who, changed)
    #[rustfmt::skip]
    let cases = [
        ("a longer hold extends", Some(hold("2026-11-27T20:00:00Z", HoldKind::OnDemand)), bob("2026-11-27T23:00:00Z"), "2026-11-27T23:00:00Z", "bob", true),
        ("a shorter hold keeps the longer one", Some(hold("2026-11-28T06:00:00Z", HoldKind::OnDemand)), bob("2026-11-27T19:30:00Z"), "2026-11-28T06:00:00Z", "alice", false),
        ("an equal hold keeps the first", Some(hold("2026-11-27T20:00:00Z", HoldKind::OnDemand)), bob("2026-11-27T20:00:00Z"), "2026-11-27T20:00:00Z", "alice", false),
        ("an expired hold is replaced", Some(hold("2026-11-27T18:00:00Z", HoldKind::OnDemand)), bob("2026-11-27T19:00:00Z"), "2026-11-27T19:00:00Z", "bob", true),
        ("no hold", None, bob("2026-11-27T19:00:00Z"), "2026-11-27T19:00:00Z", "bob", true),
    ];
    for (name, existing, new, until, who, changed) in cases {
        let mut s = EnvironmentState { hold: existing, ..EnvironmentState::new("staging") };
        let (placed, did) = s.place_hold(new, now, Duration::hours(12)).unwrap();
        assert_eq!((placed.until, placed.who.as_str(), did), (utc(until), who, changed), "{name}");
        assert_eq!(s.hold.as_ref().unwrap().until, utc(until), "{name}");
    }
}

fn backend() -> DeploymentPlan {
    DeploymentPlan { backend: true, ..DeploymentPlan::NOTHING }
}

fn frontend() -> DeploymentPlan {
    DeploymentPlan { frontend: true, ..DeploymentPlan::NOTHING }
}

fn outcome(status: DeploymentStatus, built: &str) -> RunOutcome {
    RunOutcome {
        status,
        built_sha: built.into(),
        run_url: Some("https://x".into()),
        run_id: Some(7),
        duration_secs: Some(300),
    }
}

#[test]
fn a_deployment_goes_pending_in_flight_finished() {
    let grace = Duration::minutes(30);
    let mut s = EnvironmentState::new("staging");
    s.queue_deployment("abc1234def", backend(), utc("2026-11-27T10:00:00.5Z"));
    assert_eq!(s.pending_deployment.as_ref().unwrap().deployment_type, Some(DeploymentType::BackendOnly));
    let (d, stale) = s.dispatch_pending(utc("2026-11-27T10:00:01Z"), grace).unwrap();
    assert_eq!(
        (d.status, d.started_at, stale),
        (DeploymentStatus::InProgress, Some(utc("2026-11-27T10:00:01Z")), None)
    );
    assert!(s.pending_deployment.is_none());
    assert!(s.dispatch_pending(utc("2026-11-27T10:00:02Z"), grace).is_none(), "nothing pending");
    let last = s
        .deployment_finished(
            outcome(DeploymentStatus::from_conclusion("failure"), "fff0000"),
            utc("2026-11-27T10:05:00Z"),
        )
        .unwrap();
    assert_eq!((last.status, last.built_sha.as_deref()), (DeploymentStatus::Failed, Some("fff0000")));
    assert!(s.deployment_in_flight.is_none());
    assert!(s.deployment_finished(outcome(DeploymentStatus::Succeeded, "x"), utc("2026-11-27T10:06:00Z")).is_err());
}

#[test]
fn pushes_merge_while_a_run_is_in_flight_and_go_next_as_one() {
    let grace = Duration::minutes(30);
    let mut s = EnvironmentState::new("staging");
    s.queue_deployment("aaa", frontend(), utc("2026-11-27T10:00:00Z"));
    s.dispatch_pending(utc("2026-11-27T10:00:00Z"), grace).unwrap();
    s.queue_deployment("bbb", backend(), utc("2026-11-27T10:01:00Z"));
    s.queue_deployment("ccc", DeploymentPlan { database_migration: true, ..frontend() }, utc("2026-11-27T10:02:00Z"));
    assert!(s.dispatch_pending(utc("2026-11-27T10:03:00Z"), grace).is_none(), "one run at a time");
    let pending = s.pending_deployment.clone().unwrap();
    assert_eq!((pending.sha.as_str(), pending.pushes.clone()), ("ccc", vec!["bbb".to_string(), "ccc".to_string()]));
    assert_eq!(
        pending.plan,
        DeploymentPlan { backend: true, frontend: true, database_migration: true, infrastructure: false }
    );
    assert_eq!(pending.deployment_type, Some(DeploymentType::Full));
    assert_eq!(pending.requested_at, utc("2026-11-27T10:01:00Z"));
    s.deployment_finished(outcome(DeploymentStatus::Succeeded, "aaa"), utc("2026-11-27T10:04:00Z")).unwrap();
    let (next, _) = s.dispatch_pending(utc("2026-11-27T10:04:00Z"), grace).unwrap();
    assert_eq!(next.pushes, vec!["bbb".to_string(), "ccc".to_string()]);
}

#[test]
fn a_run_that_never_reports_stops_blocking_after_the_grace_period_and_is_folded_in() {
    let grace = Duration::minutes(30);
    let mut s = EnvironmentState::new("staging");
    s.queue_deployment("aaa", frontend(), utc("2026-11-27T10:00:00Z"));
    s.dispatch_pending(utc("2026-11-27T10:00:00.75Z"), grace).unwrap();
    s.queue_deployment("bbb", backend(), utc("2026-11-27T10:10:00Z"));
    assert!(s.active_deployment(utc("2026-11-27T10:30:00.5Z"), grace).is_some());
    assert!(s.dispatch_pending(utc("2026-11-27T10:30:00.5Z"), grace).is_none());
    assert!(s.active_deployment(utc("2026-11-27T10:30:00.75Z"), grace).is_none(), "stale at exactly the grace");
    let (next, stale) = s.dispatch_pending(utc("2026-11-27T10:31:00Z"), grace).unwrap();
    assert_eq!(next.deployment_type, Some(DeploymentType::Full), "the stale run's frontend is folded in");
    assert_eq!(stale.unwrap().sha, "aaa");
}

#[test]
fn a_refused_dispatch_goes_back_to_pending_ahead_of_later_pushes() {
    let grace = Duration::minutes(30);
    let mut s = EnvironmentState::new("staging");
    s.queue_deployment("aaa", frontend(), utc("2026-11-27T10:00:00Z"));
    s.dispatch_pending(utc("2026-11-27T10:00:00Z"), grace).unwrap();
    s.queue_deployment("bbb", backend(), utc("2026-11-27T10:00:01Z"));
    assert!(!s.dispatch_refused("bbb"), "only the run in flight can be refused");
    assert!(s.dispatch_refused("aaa"));
    let pending = s.pending_deployment.as_ref().unwrap();
    assert_eq!((pending.status, pending.pushes.len(), pending.sha.as_str()), (DeploymentStatus::Pending, 2, "bbb"));
    assert_eq!(pending.deployment_type, Some(DeploymentType::Full));
    assert!(s.deployment_in_flight.is_none());
}

#[test]
fn pushes_are_remembered_up_to_a_bound() {
    let mut s = EnvironmentState::new("staging");
    for i in 0..RECENT_PUSHES + 5 {
        s.remember_push(format!("a{i}..b{i}"));
    }
    s.remember_push(format!("a{}..b{}", RECENT_PUSHES + 4, RECENT_PUSHES + 4));
    assert_eq!(s.recent_pushes.len(), RECENT_PUSHES);
    assert!(!s.knows_push("a0..b0"));
    assert!(s.knows_push("a5..b5"));
}

#[test]
fn budget_periods_parse_and_bound() {
    let p: BudgetPeriod = "2026-12".parse().unwrap();
    assert_eq!(p.bounds(), (utc("2026-12-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")));
    for bad in ["2026-13", "2026-1", "26-01", "2026/01", ""] {
        assert!(bad.parse::<BudgetPeriod>().is_err(), "{bad}");
    }
}

#[test]
fn state_round_trips_through_json() {
    let mut s = EnvironmentState::new("staging");
    s.lock_budget(utc("2026-11-20T09:00:00Z"), "over");
    s.place_hold(hold("2026-11-27T22:00:00Z", HoldKind::OnDemand), utc("2026-11-27T20:00:00Z"), Duration::hours(12))
        .unwrap();
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains(r#""period":"2026-11""#), "{json}");
    assert_eq!(serde_json::from_str::<EnvironmentState>(&json).unwrap(), s);
}

#[test]
fn a_state_stored_by_the_earlier_version_is_upgraded_not_redispatched() {
    // The earlier version kept the dispatched run as the pending deployment.
    let old = r#"{"environment":"staging","phase":"up","hold":null,"budget_lock":null,
            "pending_deployment":{"sha":"abc1234def","plan":{"backend":true,"frontend":false,"infrastructure":false,"database_migration":false},
              "deployment_type":"backend-only","status":"in_progress","requested_at":"2026-11-27T10:00:00Z",
              "started_at":"2026-11-27T10:00:01Z","finished_at":null,"run_url":null},
            "last_deployment":null,"health":{"status":"unknown","since":null,"consecutive_failures":0,"consecutive_successes":0},"version":4}"#;
    let s: EnvironmentState = serde_json::from_str::<EnvironmentState>(old).unwrap().upgraded();
    assert!(s.pending_deployment.is_none());
    let d = s.deployment_in_flight.as_ref().unwrap();
    assert_eq!((d.sha.as_str(), d.pushes.clone()), ("abc1234def", vec!["abc1234def".to_string()]));
    let mut next = s.clone();
    assert!(
        next.dispatch_pending(utc("2026-11-27T10:05:00Z"), Duration::minutes(30)).is_none(),
        "not dispatched again"
    );
    assert!(s.recent_pushes.is_empty() && s.teardown_deferred_at.is_none());
}

#[test]
fn a_run_in_flight_without_a_dispatch_time_holds_nothing_back() {
    let mut s = EnvironmentState::new("staging");
    s.queue_deployment("aaa", backend(), utc("2026-11-27T10:00:00Z"));
    s.dispatch_pending(utc("2026-11-27T10:00:00Z"), Duration::minutes(30)).unwrap();
    s.deployment_in_flight.as_mut().unwrap().started_at = None;
    assert!(s.active_deployment(utc("2026-11-27T10:01:00Z"), Duration::minutes(30)).is_none());
}
