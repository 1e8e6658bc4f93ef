//! The runner as a reconciler, against moto: decisions are committed before they are
//! acted on, racing invocations end with ECS matching the last committed decision,
//! failures after a commit never double a dispatch, and a later invocation puts ECS
//! right. Time is the real clock here, sub-second, through the real boundaries.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use github_webhook::{Webhook, handle};
use lambda_http::Request;
use serde_json::{Value, json};
use staging_core::decide::lifecycle::Command;
use staging_core::shell::executor::Executor;
use staging_core::shell::github::GitHubApi;
use staging_core::shell::{Clients, ShellError, runner};
use staging_system_tests::{clients, config, drain_team_queue, ecs_failing_updates, reset, serial, sns_failing};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "local-webhook-secret";
const BEFORE: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const AFTER: &str = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";
const DISPATCH_PATH: &str = "/repos/acme/app/actions/workflows/deploy-staging.yml/dispatches";

/// The local stack, on demand only (no business hours), so a decision does not depend
/// on the hour the test runs at; with a token and GitHub on loopback when given.
fn environment(github: Option<&MockServer>) -> BTreeMap<String, String> {
    let mut env = reset();
    env.insert("STAGING_UP_TIME".into(), "none".into());
    env.insert("GITHUB_WEBHOOK_SECRET".into(), SECRET.into());
    if let Some(server) = github {
        env.insert("GITHUB_TOKEN".into(), "ghp_test_token".into());
        env.insert("GITHUB_API_URL".into(), server.uri());
    }
    env
}

async fn github() -> MockServer {
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": "apps/express-api/src/app.ts"}]})),
        )
        .mount(&github)
        .await;
    github
}

async fn dispatches(github: &MockServer) -> usize {
    let requests = github.received_requests().await.unwrap_or_default();
    requests.iter().filter(|r| r.method.as_str() == "POST" && r.url.path() == DISPATCH_PATH).count()
}

fn push_request(delivery: &str) -> Request {
    let body = serde_json::to_vec(&json!({
        "ref": "refs/heads/develop", "before": BEFORE, "after": AFTER, "created": false, "deleted": false, "forced": false,
        "commits": [{"id": AFTER, "message": "change", "added": [], "removed": [], "modified": ["apps/express-api/src/app.ts"]}],
        "repository": {"full_name": "acme/app"}, "pusher": {"name": "alice"}
    }))
    .unwrap();
    staging_system_tests::signed_request(SECRET, "push", delivery, &body)
}

async fn send(app: &Webhook, request: &Request, now: DateTime<Utc>) -> (u16, Value) {
    let response = handle(app, request, now).await;
    (response.status().as_u16(), serde_json::from_slice(response.body()).unwrap())
}

/// `stagingctl up --hold 2h` on the real clock stores a one-time schedule; replaying the
/// input Scheduler stored, at the time it fires, ends the hold and tears staging down.
#[tokio::test]
async fn an_on_demand_hold_on_the_real_clock_ends_when_its_schedule_fires() {
    let _serial = serial();
    let env = environment(None);
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    executor.service().unwrap().scale(0).await.unwrap();
    let now = Utc::now();
    assert_ne!(now.timestamp_subsec_nanos(), 0, "a sub-second clock (one run in a billion is whole)");
    let up = Command::Up {
        hold: Some(Duration::from_secs(2 * 3600)),
        reason: "demo".into(),
        who: "alice".into(),
        force: false,
        keep: false,
    };
    let outcome = runner::run(&executor, &up, now).await.unwrap();
    assert!(outcome.summary.ends_with("starting"), "{}", outcome.summary);

    let stored =
        executor.schedules().unwrap().get("staging-hold-expiry").await.unwrap().expect("the hold's end is scheduled");
    let until = now.trunc_subsecs(0) + chrono::Duration::hours(2);
    assert_eq!(stored.expression, format!("at({})", until.format("%Y-%m-%dT%H:%M:%S")));
    let input: Value = serde_json::from_str(stored.input.as_deref().unwrap()).unwrap();
    let fired_at = until + chrono::Duration::milliseconds(30_500);
    let out = lifecycle::handle(&executor, input, fired_at).await.unwrap();
    assert_eq!(out["summary"], "hold expired; stopping");
    let state = executor.store().unwrap().load("staging").await.unwrap();
    assert!(state.hold.is_none());
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 0);
}

/// Twenty invocations at once — teardowns, starts with holds, emergency holds and a
/// push delivered four times — ten rounds in a row: every round ends with the stored
/// intent and ECS agreeing, the longest hold kept and scheduled, and one dispatch.
#[tokio::test]
async fn racing_invocations_end_with_ecs_matching_the_state_and_no_hold_lost() {
    let _serial = serial();
    for round in 0..10 {
        let github = github().await;
        Mock::given(method("POST"))
            .and(path(DISPATCH_PATH))
            .respond_with(ResponseTemplate::new(204))
            .mount(&github)
            .await;
        let env = environment(Some(&github));
        let clients = clients(&env).await;
        let config = config(&env);
        let app = Arc::new(Webhook::new(clients.clone(), config.clone()).unwrap());
        let now = Utc::now();

        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let (clients, config, app) = (clients.clone(), config.clone(), app.clone());
            let command = match i % 5 {
                0 | 1 => Some(json!({"command": "teardown"})),
                2 => Some(json!({"command": "up", "hold": "1h", "who": format!("u{i}"), "reason": "demo"})),
                3 => Some(
                    json!({"command": "hold", "duration": if i == 3 { "5h" } else { "3h" }, "who": format!("h{i}"), "reason": "incident"}),
                ),
                _ => None,
            };
            tasks.spawn(async move {
                match command {
                    Some(event) => {
                        let github = GitHubApi::new(&config.github);
                        let mut executor = Executor::new(&clients, &config);
                        executor.github = github.as_ref();
                        lifecycle::handle(&executor, event, now).await.map(|_| ()).map_err(|e| e.to_string())
                    }
                    None => match send(&app, &push_request(&format!("race-{round}-{i}")), now).await {
                        (200..=299, _) => Ok(()),
                        (status, body) => Err(format!("{status}: {body}")),
                    },
                }
            });
        }
        let mut failures = Vec::new();
        while let Some(result) = tasks.join_next().await {
            if let Err(e) = result.unwrap() {
                failures.push(e);
            }
        }
        assert!(failures.is_empty(), "round {round}: {failures:?}");

        let executor = Executor::new(&clients, &config);
        let state = executor.store().unwrap().load("staging").await.unwrap();
        let ecs = executor.service().unwrap().observe().await.unwrap();
        let hold = state.hold.clone().expect("holds only grow: one is in force");
        assert_eq!(
            hold.until,
            now.trunc_subsecs(0) + chrono::Duration::hours(5),
            "round {round}: the longest hold is kept"
        );
        assert!(state.wants_running(), "round {round}: held, so meant to run ({:?})", state.phase);
        assert!(ecs.desired_count > 0, "round {round}: ECS matches the state (desired {})", ecs.desired_count);
        let schedule = executor
            .schedules()
            .unwrap()
            .get("staging-hold-expiry")
            .await
            .unwrap()
            .expect("the hold ends on a schedule");
        assert_eq!(schedule.expression, format!("at({})", hold.until.format("%Y-%m-%dT%H:%M:%S")), "round {round}");
        assert_eq!(dispatches(&github).await, 1, "round {round}: four deliveries of one push, one dispatch");
        drain_team_queue(&env).await;
    }
}

/// An ECS call failing after the commit: the invocation fails (retryable), the state
/// keeps the decision, and the next invocation — here the health check's reconcile —
/// brings ECS to it.
#[tokio::test]
async fn ecs_failing_after_the_commit_is_retryable_and_a_later_invocation_converges() {
    let _serial = serial();
    let env = environment(None);
    let (clients, config) = (clients(&env).await, config(&env));
    let failing = Clients { ecs: ecs_failing_updates(&env).await.into(), ..clients.clone() };
    // The schedule's time is derived from the clock the decision is made with: the product
    // refuses a scheduled time more than two days off, so a literal date would expire.
    let now = Utc::now();
    let teardown = json!({"command": "teardown", "scheduled_time": now.trunc_subsecs(0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
    let err = lifecycle::handle(&Executor::new(&failing, &config), teardown, now).await.unwrap_err();
    assert!(matches!(err, ShellError::AfterCommit { .. }), "{err}");
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("injected fault"), "{err}");

    let executor = Executor::new(&clients, &config);
    let state = executor.store().unwrap().load("staging").await.unwrap();
    assert_eq!((state.version, state.wants_running()), (1, false), "the decision was committed");
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 1, "ECS was not changed");
    let told: Vec<Value> =
        drain_team_queue(&env).await.iter().map(|m| m["MessageAttributes"]["event"]["Value"].clone()).collect();
    assert_eq!(told, [json!("env.teardown")], "the team is told what was decided");

    let done = runner::reconcile(&executor, Utc::now()).await.unwrap();
    assert_eq!(done, ["reconciled: scaled the service to 0"]);
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 0);
    assert!(runner::reconcile(&executor, Utc::now()).await.unwrap().is_empty(), "nothing left to do");
    assert!(drain_team_queue(&env).await.is_empty(), "putting ECS right tells nobody again");
}

/// SNS failing after the commit: the push is still dispatched once, answered 202 with
/// the failed notification listed, and neither a redelivery nor the same body under new
/// delivery ids dispatches again.
#[tokio::test]
async fn sns_failing_after_the_commit_leaves_one_dispatch_and_the_state_saying_so() {
    let _serial = serial();
    let github = github().await;
    Mock::given(method("POST")).and(path(DISPATCH_PATH)).respond_with(ResponseTemplate::new(204)).mount(&github).await;
    let broken_sns = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).mount(&broken_sns).await;
    let env = environment(Some(&github));
    let clients = Clients { sns: sns_failing(&env, &broken_sns.uri()).await.into(), ..clients(&env).await };
    let app = Webhook::new(clients, config(&env)).unwrap();
    let now = Utc::now();

    let (status, first) = send(&app, &push_request("sns-1"), now).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["summary"], "dispatched backend-only for 1 push (0d1a26e)");
    assert!(first["failed"][0].as_str().unwrap().starts_with("sns:Publish failed"), "{first}");
    for delivery in ["sns-1", "sns-2", "sns-3"] {
        let (status, _) = send(&app, &push_request(delivery), now).await;
        assert_eq!(status, 202);
    }
    assert_eq!(dispatches(&github).await, 1);
    let state = Executor::new(&app.clients, &app.config).store().unwrap().load("staging").await.unwrap();
    assert_eq!(state.deployment_in_flight.as_ref().map(|d| d.sha.as_str()), Some(AFTER));
}

/// GitHub accepting the dispatch but its answer never arriving (our 4 s timeout): the
/// dispatch may have happened, so the run stays in flight and a redelivery does not
/// dispatch again.
#[tokio::test]
async fn github_accepting_a_dispatch_whose_answer_is_lost_is_not_dispatched_again() {
    let _serial = serial();
    let github = github().await;
    Mock::given(method("POST"))
        .and(path(DISPATCH_PATH))
        .respond_with(ResponseTemplate::new(204).set_delay(Duration::from_secs(6)))
        .mount(&github)
        .await;
    let env = environment(Some(&github));
    let app = Webhook::new(clients(&env).await, config(&env)).unwrap();
    let now = Utc::now();
    let (status, response) = send(&app, &push_request("lost-1"), now).await;
    assert_eq!(status, 502, "{response}");
    assert!(response["error"].as_str().unwrap().contains("GitHub workflow dispatch failed"), "{response}");
    let state = Executor::new(&app.clients, &app.config).store().unwrap().load("staging").await.unwrap();
    assert_eq!(
        state.deployment_in_flight.as_ref().map(|d| d.sha.as_str()),
        Some(AFTER),
        "kept in flight: it may have run"
    );

    let (status, again) = send(&app, &push_request("lost-1"), now).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["summary"], "already received: 0d1a26e is being deployed");
    assert_eq!(dispatches(&github).await, 1, "one dispatch reached GitHub");
}

/// The interleaving a naive "act, then commit" (or "commit, act, done") runner gets
/// wrong, forced: the 18:00 teardown commits "down" and its scale-down is slow; a hold
/// commits "up" meanwhile, seeing ECS still up; the teardown's scale-down lands last.
/// The teardown's own reconcile round sees the newer state and brings ECS back.
#[tokio::test]
async fn an_invocation_that_acts_after_a_newer_commit_puts_ecs_back_to_the_newer_state() {
    let _serial = serial();
    let env = environment(None);
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let store = executor.store().unwrap();
    let slow = Clients {
        ecs: staging_system_tests::ecs_slow_updates(&env, Duration::from_millis(1500)).await.into(),
        ..clients.clone()
    };
    let now = Utc::now();

    let teardown = {
        let (slow, config) = (slow.clone(), config.clone());
        tokio::spawn(async move {
            let executor = Executor::new(&slow, &config);
            lifecycle::handle(&executor, json!({"command": "teardown"}), now).await
        })
    };
    // Wait for the teardown's commit, then hold while its scale-down is still on the way.
    let mut committed = false;
    for _ in 0..100 {
        if store.load("staging").await.unwrap().version == 1 {
            committed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(committed, "the teardown committed");
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 1, "not scaled yet");
    let hold = Command::Hold { duration: Duration::from_secs(3 * 3600), reason: "incident".into(), who: "bob".into() };
    let held = runner::run(&executor, &hold, now).await.unwrap();
    assert_eq!(held.state.version, 2);
    assert!(held.summary.ends_with("already up"), "{}", held.summary);

    let out = teardown.await.unwrap().unwrap();
    assert_eq!(out["summary"], "stopping");
    assert_eq!(
        executor.service().unwrap().observe().await.unwrap().desired_count,
        1,
        "ECS matches the last commit: {out}"
    );
    let done: Vec<&str> = out["done"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!((done[0], done[2]), ("scaled the service to 0", "reconciled: restored the service to 1"), "{done:?}");
    assert!(done[1].starts_with("notified env.teardown"), "{done:?}");
    let state = store.load("staging").await.unwrap();
    assert!(state.wants_running() && state.hold.is_some());
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 1, "ECS matches the last commit");
}
