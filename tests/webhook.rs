//! The github-webhook handler end to end: signed requests in, DynamoDB/ECS/Scheduler/SNS
//! in moto, and the GitHub API as a real HTTP server on loopback (wiremock).
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use github_webhook::{Webhook, handle};
use hmac::{Hmac, Mac};
use lambda_http::Request;
use serde_json::{Value, json};
use sha2::Sha256;
use staging_core::shell::executor::Executor;
use staging_system_tests::{clients, config, drain_team_queue, repo_root, reset, serial};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "local-webhook-secret";
const BEFORE: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const AFTER: &str = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";
const DISPATCH_PATH: &str = "/repos/acme/app/actions/workflows/deploy-staging.yml/dispatches";

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Friday 10:00 UTC: working hours.
fn working() -> DateTime<Utc> {
    utc("2026-11-27T10:00:00Z")
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn request(event: &str, delivery: &str, body: &[u8]) -> Request {
    staging_system_tests::signed_request(SECRET, event, delivery, body)
}

/// A push modelled on GitHub's published example, to `develop` of `acme/app`.
fn push(overrides: Value, files: (&[&str], &[&str], &[&str])) -> Vec<u8> {
    let mut p = json!({
        "ref": "refs/heads/develop", "before": BEFORE, "after": AFTER,
        "created": false, "deleted": false, "forced": false, "base_ref": null,
        "compare": "https://github.com/acme/app/compare/6113728f27ae...0d1a26e67d8f",
        "commits": [{"id": AFTER, "distinct": true, "message": "change", "timestamp": "2026-11-27T09:59:00+00:00",
                     "author": {"name": "Alice", "email": "alice@example.com", "username": "alice"},
                     "added": files.0, "removed": files.1, "modified": files.2}],
        "head_commit": null,
        "repository": {"name": "app", "full_name": "acme/app", "private": true},
        "pusher": {"name": "alice", "email": "alice@example.com"},
        "sender": {"login": "alice", "type": "User"}
    });
    for (k, v) in overrides.as_object().unwrap() {
        p[k] = v.clone();
    }
    serde_json::to_vec(&p).unwrap()
}

fn backend_push() -> Vec<u8> {
    push(json!({}), (&["apps/express-api/src/routes/teams.ts"], &[], &["apps/express-api/src/app.ts"]))
}

/// The app as the Lambda builds it, pointed at moto and (with `github`) at a token
/// and the loopback GitHub.
async fn app(env: &BTreeMap<String, String>, github: Option<&MockServer>) -> Webhook {
    let mut env = env.clone();
    env.insert("GITHUB_WEBHOOK_SECRET".into(), SECRET.into());
    if let Some(server) = github {
        env.insert("GITHUB_TOKEN".into(), "ghp_test_token".into());
        env.insert("GITHUB_API_URL".into(), server.uri());
    }
    Webhook::new(clients(&env).await, config(&env)).unwrap()
}

async fn send(app: &Webhook, request: &Request, now: DateTime<Utc>) -> (u16, Value) {
    let response = handle(app, request, now).await;
    let body = serde_json::from_slice(response.body()).unwrap();
    (response.status().as_u16(), body)
}

/// Every item in the state table (state, idempotency records, deployments).
async fn table_items(env: &BTreeMap<String, String>) -> usize {
    let clients = clients(env).await;
    let out = clients.dynamodb.scan().table_name(&env["STAGING_TABLE"]).send().await.unwrap();
    out.items().len()
}

#[tokio::test]
async fn bad_requests_get_their_status_and_change_nothing() {
    let _serial = serial();
    let env = reset();
    let app = app(&env, None).await;
    let body = backend_push();
    let with = |f: &dyn Fn(&mut Request)| {
        let mut r = request("push", "bad-1", &body);
        f(&mut r);
        r
    };
    let big = vec![b' '; 25 * 1024 * 1024 + 1];
    #[rustfmt::skip]
    let cases: Vec<(&str, Request, u16, &str)> = vec![
        ("GET", with(&|r| *r.method_mut() = lambda_http::http::Method::GET), 405, "method GET not allowed"),
        ("over 25 MB", request("push", "bad-2", &big), 413, "25 MB"),
        ("no event header", with(&|r| { r.headers_mut().remove("x-github-event"); }), 400, "missing header X-GitHub-Event"),
        ("no delivery header", with(&|r| { r.headers_mut().remove("x-github-delivery"); }), 400, "missing header X-GitHub-Delivery"),
        ("no signature", with(&|r| { r.headers_mut().remove("x-hub-signature-256"); }), 400, "missing header X-Hub-Signature-256"),
        ("legacy SHA-1 only", with(&|r| {
            r.headers_mut().remove("x-hub-signature-256");
            r.headers_mut().insert("x-hub-signature", "sha1=0123456789abcdef0123456789abcdef01234567".parse().unwrap());
        }), 400, "missing header X-Hub-Signature-256"),
        ("malformed signature", with(&|r| { r.headers_mut().insert("x-hub-signature-256", "sha256=xyz".parse().unwrap()); }), 401, "64 hex digits"),
        ("wrong signature", with(&|r| { r.headers_mut().insert("x-hub-signature-256", sign(b"other body").parse().unwrap()); }), 401, "does not match"),
        ("form content type", with(&|r| { r.headers_mut().insert("content-type", "application/x-www-form-urlencoded".parse().unwrap()); }), 415, "not application/json"),
        ("malformed JSON", request("push", "bad-3", b"{\"ref\": "), 400, "malformed push payload"),
        ("other repository", request("push", "bad-4", &push(json!({"repository": {"full_name": "evil/app"}}), (&["a"], &[], &[]))), 403, "evil/app"),
    ];
    for (name, request, status, message) in cases {
        let (got, body) = send(&app, &request, working()).await;
        assert_eq!(got, status, "{name}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{name}: {error}");
        assert!(!error.contains(SECRET), "{name}: the secret leaked");
    }
    assert_eq!(table_items(&env).await, 0, "nothing was written");
    assert!(drain_team_queue(&env).await.is_empty(), "nobody was told");
    let service = Executor::new(&app.clients, &app.config).service().unwrap().observe().await.unwrap();
    assert_eq!(service.desired_count, 1, "nothing was scaled");
}

#[tokio::test]
async fn push_payload_variants_table() {
    let _serial = serial();
    let env = reset();
    let app = app(&env, None).await;
    let many: Vec<String> = (0..3000).map(|i| format!("apps/client-ui/src/gen/{i}.ts")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let none: &[&str] = &[];
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<u8>, u16, Value, &str)> = vec![
        ("backend only", backend_push(), 202, json!("backend-only"), "payload"),
        ("frontend only", push(json!({}), (none, none, &["apps/client-ui/src/App.tsx"])), 202, json!("frontend-only"), "payload"),
        ("shared", push(json!({}), (none, none, &["pnpm-lock.yaml"])), 202, json!("full"), "payload"),
        ("infrastructure only", push(json!({}), (&["infrastructure/alb.tf"], none, none)), 202, json!("full"), "payload"),
        ("docs only", push(json!({}), (&["docs/a.md"], none, &["README.md"])), 200, Value::Null, "payload"),
        ("mixed", push(json!({}), (&["apps/express-api/a.ts"], &["docs/old.md"], &["apps/client-ui/b.tsx"])), 202, json!("full"), "payload"),
        ("new branch", push(json!({"before": "0000000000000000000000000000000000000000", "created": true}), (&["docs/a.md"], none, none)), 202, json!("full"), "full"),
        ("forced", push(json!({"forced": true}), (&["docs/a.md"], none, none)), 202, json!("full"), "full"),
        ("empty file lists", push(json!({}), (none, none, none)), 202, json!("full"), "full"),
        ("3,000-file commit", push(json!({}), (&many, none, none)), 202, json!("full"), "full"),
    ];
    for (i, (name, body, status, deployment_type, source)) in cases.into_iter().enumerate() {
        let (got, response) = send(&app, &request("push", &format!("variant-{i}"), &body), working()).await;
        assert_eq!(got, status, "{name}: {response}");
        assert_eq!(response["deployment_type"], deployment_type, "{name}");
        assert_eq!(response["files_source"], source, "{name}");
        assert_eq!(response["delivery"], format!("variant-{i}"), "{name}");
    }
    #[rustfmt::skip]
    let ignored: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("deleted branch", "push", push(json!({"deleted": true, "after": "0000000000000000000000000000000000000000", "commits": []}), (none, none, none)), "branch develop was deleted"),
        ("other branch", "push", push(json!({"ref": "refs/heads/feature/x"}), (&["apps/express-api/a.ts"], none, none)), "push to feature/x, not develop"),
        ("tag", "push", push(json!({"ref": "refs/tags/v1.2.0"}), (none, none, none)), "refs/tags/v1.2.0 is not a branch"),
        ("another event", "issues", b"{}".to_vec(), "issues"),
    ];
    for (name, event, body, reason) in ignored {
        let (got, response) = send(&app, &request(event, name, &body), working()).await;
        assert_eq!((got, response["ignored"].as_str()), (202, Some(reason)), "{name}: {response}");
    }
    let (got, response) = send(&app, &request("ping", "ping-1", br#"{"zen":"z","hook_id":7}"#), working()).await;
    assert_eq!((got, response), (200, json!({"pong": true, "hook_id": 7})));
}

#[tokio::test]
async fn ten_redeliveries_dispatch_once_and_tell_the_team_once() {
    let _serial = serial();
    let env = reset();
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/app/compare/{BEFORE}...{AFTER}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"files": [
            {"filename": "apps/express-api/src/app.ts", "status": "modified"},
            {"filename": "apps/express-api/src/routes/teams.ts", "status": "added"}]})))
        .expect(1)
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path(DISPATCH_PATH))
        .and(header("authorization", "Bearer ghp_test_token"))
        .and(header("x-github-api-version", "2022-11-28"))
        .and(body_json(json!({"ref": "develop", "inputs": {"deployment-type": "backend-only", "skip-tests": "false"}})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&github)
        .await;
    let app = app(&env, Some(&github)).await;
    drain_team_queue(&env).await;

    let request = request("push", "redelivered-1", &backend_push());
    let (status, first) = send(&app, &request, working()).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["files_source"], "compare");
    assert_eq!(first["summary"], "dispatched backend-only for 1 push (0d1a26e)");
    for _ in 0..9 {
        assert_eq!(send(&app, &request, working()).await, (202, first.clone()), "a redelivery gets the first answer");
    }
    let messages = drain_team_queue(&env).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["Subject"], "staging: deploying backend-only @ 0d1a26e (2 files)");
    let state = Executor::new(&app.clients, &app.config).store().unwrap().load("staging").await.unwrap();
    let in_flight = state.deployment_in_flight.unwrap();
    assert_eq!(
        (in_flight.sha.as_str(), in_flight.status),
        (AFTER, staging_core::model::state::DeploymentStatus::InProgress)
    );
    assert!(state.pending_deployment.is_none());
    // wiremock checks `expect(1)` for the compare and the dispatch when `github` drops.
}

#[tokio::test]
async fn github_refusing_the_dispatch_is_a_clear_error_and_the_deploy_waits_for_a_redelivery() {
    let _serial = serial();
    for (status, body, expected) in [
        (
            422,
            json!({"message": "Unexpected inputs provided: [\"skip-tests\"]"}),
            "GitHub workflow dispatch failed: HTTP 422: Unexpected inputs provided",
        ),
        (500, json!({"message": "Server Error"}), "GitHub workflow dispatch failed: HTTP 500: Server Error"),
        // A renamed repository: not followed, named.
        (
            307,
            json!({"message": "Temporary Redirect"}),
            "GitHub workflow dispatch failed: HTTP 307: moved to https://api.github.com/repositories/1/actions; the repository was renamed or transferred: update GITHUB_REPOSITORY",
        ),
    ] {
        let env = reset();
        let github = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": "apps/express-api/a.ts"}]})),
            )
            .mount(&github)
            .await;
        let answer = ResponseTemplate::new(status)
            .set_body_json(body)
            .insert_header("location", "https://api.github.com/repositories/1/actions");
        Mock::given(method("POST")).and(path(DISPATCH_PATH)).respond_with(answer).mount(&github).await;
        let app = app(&env, Some(&github)).await;
        let store = Executor::new(&app.clients, &app.config).store().unwrap();
        drain_team_queue(&env).await;
        let delivery = format!("refused-{status}");
        let (got, response) = send(&app, &request("push", &delivery, &backend_push()), working()).await;
        assert_eq!(got, 502, "{response}");
        assert!(response["error"].as_str().unwrap().contains(expected), "{response}");
        assert!(!response["error"].as_str().unwrap().contains("ghp_test_token"), "no token in errors");
        assert!(
            response["error"]
                .as_str()
                .unwrap()
                .starts_with("dispatch refused: the deploy of 0d1a26e waits (committed), but: "),
            "{response}"
        );
        // The team hears that it was refused and waits, not that it is deploying.
        let told = drain_team_queue(&env).await;
        let subjects: Vec<&str> = told.iter().map(|m| m["Subject"].as_str().unwrap()).collect();
        assert_eq!(subjects, ["staging: deploy of 0d1a26e not dispatched; it waits"]);
        let body = told[0]["Message"].as_str().unwrap_or_default();
        assert!(body.contains("alice pushed 1 commit to develop"), "the withheld notice of the push is kept: {body}");
        // The intent was recorded before the call; GitHub refused, so it is pending again.
        let state = store.load("staging").await.unwrap();
        assert!(state.deployment_in_flight.is_none(), "nothing recorded as in flight");
        let pending = state.pending_deployment.expect("the deploy waits");
        assert_eq!(
            (pending.sha.as_str(), pending.status),
            (AFTER, staging_core::model::state::DeploymentStatus::Pending)
        );

        // The claim was released: once GitHub accepts, the redelivery dispatches it.
        github.reset().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": "apps/express-api/a.ts"}]})),
            )
            .mount(&github)
            .await;
        Mock::given(method("POST"))
            .and(path(DISPATCH_PATH))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&github)
            .await;
        let (got, response) = send(&app, &request("push", &delivery, &backend_push()), working()).await;
        assert_eq!(got, 202, "{response}");
        assert_eq!(
            response["summary"],
            "already received: 0d1a26e is pending; dispatched backend-only for 1 push (0d1a26e)"
        );
        assert!(store.load("staging").await.unwrap().deployment_in_flight.is_some());
    }
}

#[tokio::test]
async fn the_compare_api_falls_back_to_full_when_it_fails_or_is_capped() {
    let _serial = serial();
    let three_hundred: Vec<Value> = (0..300).map(|i| json!({"filename": format!("docs/{i}.md")})).collect();
    for (i, (template, reason)) in [
        (ResponseTemplate::new(500), "the Compare API failed: GitHub compare failed: HTTP 500"),
        (ResponseTemplate::new(200).set_body_json(json!({"files": three_hundred})), "the Compare API lists 300 files"),
    ]
    .into_iter()
    .enumerate()
    {
        let env = reset();
        let github = MockServer::start().await;
        Mock::given(method("GET")).respond_with(template).expect(1).mount(&github).await;
        Mock::given(method("POST"))
            .and(path(DISPATCH_PATH))
            .and(body_json(json!({"ref": "develop", "inputs": {"deployment-type": "full", "skip-tests": "false"}})))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&github)
            .await;
        let app = app(&env, Some(&github)).await;
        let (got, response) = send(&app, &request("push", &format!("compare-{i}"), &backend_push()), working()).await;
        assert_eq!(got, 202, "{response}");
        assert_eq!(
            (response["files_source"].as_str(), response["deployment_type"].as_str()),
            (Some("full"), Some("full"))
        );
        assert!(response["files_reason"].as_str().unwrap().starts_with(reason), "{response}");
    }
}

#[tokio::test]
async fn a_push_of_450_files_past_the_compare_cap_deploys_only_what_changed() {
    let _serial = serial();
    let env = reset();
    // 450 front-end files in one commit: the Compare API lists the first 300 only.
    let files: Vec<String> = (0..450).map(|i| format!("apps/client-ui/src/components/c{i:03}.tsx")).collect();
    let listed: Vec<Value> = files[..300].iter().map(|f| json!({"filename": f, "status": "modified"})).collect();
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/app/compare/{BEFORE}...{AFTER}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"files": listed})))
        .expect(1)
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path(DISPATCH_PATH))
        .and(body_json(
            json!({"ref": "develop", "inputs": {"deployment-type": "frontend-only", "skip-tests": "false"}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&github)
        .await;
    let app = app(&env, Some(&github)).await;
    let modified: Vec<&str> = files.iter().map(String::as_str).collect();
    let body = push(json!({}), (&[], &[], &modified));
    let (got, response) = send(&app, &request("push", "wide-push", &body), working()).await;
    assert_eq!(got, 202, "{response}");
    assert_eq!(
        (response["files_source"].as_str(), response["files"].as_u64()),
        (Some("payload"), Some(450)),
        "{response}"
    );
    assert_eq!(response["deployment_type"], "frontend-only", "{response}");
    assert!(response["files_reason"].as_str().unwrap().contains("hold all of them"), "{response}");
}

#[tokio::test]
async fn a_push_in_the_evening_wakes_staging_with_a_hold() {
    let _serial = serial();
    let env = reset();
    let app = app(&env, None).await;
    let executor = Executor::new(&app.clients, &app.config);
    let service = executor.service().unwrap();
    service.scale(0).await.unwrap();

    let (status, response) =
        send(&app, &request("push", "evening-1", &backend_push()), utc("2026-11-27T20:00:00Z")).await;
    assert_eq!(status, 202, "{response}");
    assert_eq!(service.observe().await.unwrap().desired_count, 1, "woken");
    let hold =
        executor.schedules().unwrap().get("staging-hold-expiry").await.unwrap().expect("the hold ends on a schedule");
    assert_eq!(hold.expression, "at(2026-11-27T22:00:00)");
    let state = executor.store().unwrap().load("staging").await.unwrap();
    assert_eq!(state.hold.as_ref().unwrap().who, "alice");
}

#[tokio::test]
async fn a_budget_lock_keeps_staging_down_records_the_deploy_and_tells_once() {
    let _serial = serial();
    let env = reset();
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": "apps/express-api/a.ts"}]})),
        )
        .mount(&github)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(204)).expect(0).mount(&github).await;
    let app = app(&env, Some(&github)).await;
    let executor = Executor::new(&app.clients, &app.config);
    let store = executor.store().unwrap();
    executor.service().unwrap().scale(0).await.unwrap();
    let mut state = store.load("staging").await.unwrap();
    state.lock_budget(working(), "actual spend over the budget");
    store.commit(&state).await.unwrap();
    drain_team_queue(&env).await;

    for (delivery, summary) in [
        ("locked-1", "locked by the budget: backend-only pending (1 push)"),
        ("locked-2", "already received: 0d1a26e is pending"),
    ] {
        let (status, response) = send(&app, &request("push", delivery, &backend_push()), working()).await;
        assert_eq!(status, 202, "{response}");
        assert_eq!(response["summary"], summary);
    }
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 0, "not started");
    let pending = store.load("staging").await.unwrap().pending_deployment.unwrap();
    assert_eq!(pending.status, staging_core::model::state::DeploymentStatus::Pending);
    let events: Vec<Value> =
        drain_team_queue(&env).await.iter().map(|m| m["MessageAttributes"]["event"]["Value"].clone()).collect();
    assert_eq!(events, [json!("deploy.pending")], "told once");
}

#[tokio::test]
async fn a_finished_deploy_run_is_recorded_and_told() {
    let _serial = serial();
    let env = reset();
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": "apps/express-api/a.ts"}]})),
        )
        .mount(&github)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(204)).mount(&github).await;
    let app = app(&env, Some(&github)).await;
    send(&app, &request("push", "deploy-1", &backend_push()), working()).await;
    drain_team_queue(&env).await;

    let run = |conclusion: &str| {
        serde_json::to_vec(&json!({"action": "completed", "repository": {"full_name": "acme/app"}, "workflow_run": {
            "name": "Deploy staging", "path": ".github/workflows/deploy-staging.yml", "head_branch": "develop",
            "head_sha": AFTER, "conclusion": conclusion, "run_started_at": "2026-11-27T10:00:05Z",
            "updated_at": "2026-11-27T10:04:17Z", "html_url": "https://github.com/acme/app/actions/runs/1"}}))
        .unwrap()
    };
    let (status, response) =
        send(&app, &request("workflow_run", "run-1", &run("failure")), utc("2026-11-27T10:04:20Z")).await;
    assert_eq!((status, response["summary"].as_str()), (200, Some("deploy failure")), "{response}");
    let state = Executor::new(&app.clients, &app.config).store().unwrap().load("staging").await.unwrap();
    let last = state.last_deployment.unwrap();
    assert_eq!(
        (last.status, last.run_duration_secs),
        (staging_core::model::state::DeploymentStatus::Failed, Some(252))
    );
    assert_eq!(last.run_url.as_deref(), Some("https://github.com/acme/app/actions/runs/1"));
    let messages = drain_team_queue(&env).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["MessageAttributes"]["severity"]["Value"], "critical");
    assert_eq!(messages[0]["Subject"], "staging: backend-only failure @ 0d1a26e in 4m 12s");
}

/// The signed samples in events/ stay valid for the local secret and route as named.
#[tokio::test]
async fn the_signed_sample_events_verify_and_route() {
    let _serial = serial();
    let env = reset();
    let app = app(&env, None).await;
    for (name, status) in [
        ("ping", 200),
        ("push.backend", 202),
        ("push.frontend", 202),
        ("push.docs-only", 200),
        ("push.new-branch", 202),
        ("workflow_run.deploy-succeeded", 200),
    ] {
        let text = std::fs::read_to_string(repo_root().join(format!("events/github-webhook.{name}.json"))).unwrap();
        let request = lambda_http::request::from_str(&text).unwrap();
        let (got, response) = send(&app, &request, working()).await;
        assert_eq!(got, status, "{name}: {response}");
    }
}

/// The signature covers the body, not the delivery id: the same signed push sent again
/// under new delivery ids is acknowledged and wakes and dispatches nothing more.
#[tokio::test]
async fn a_replayed_body_under_new_delivery_ids_wakes_and_dispatches_once() {
    let _serial = serial();
    let env = reset();
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": "apps/express-api/a.ts"}]})),
        )
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path(DISPATCH_PATH))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&github)
        .await;
    let app = app(&env, Some(&github)).await;
    let executor = Executor::new(&app.clients, &app.config);
    executor.service().unwrap().scale(0).await.unwrap();
    drain_team_queue(&env).await;
    let evening = utc("2026-11-27T20:00:00.731Z");

    let (status, first) = send(&app, &request("push", "replay-0", &backend_push()), evening).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["summary"], "dispatched backend-only for 1 push (0d1a26e)");
    // Staging is torn down again in between: a replay must not wake it.
    executor.service().unwrap().scale(0).await.unwrap();
    for delivery in ["replay-1", "replay-2", "replay-3"] {
        let (status, again) = send(&app, &request("push", delivery, &backend_push()), evening).await;
        assert_eq!(status, 202, "{again}");
        assert_eq!(again["summary"], "already received: 0d1a26e is being deployed", "{delivery}");
    }
    let told = drain_team_queue(&env).await;
    assert_eq!(told.len(), 1, "one notice: {told:?}");
    assert_eq!(told[0]["MessageAttributes"]["event"]["Value"], "deploy.planned");
    assert_eq!(told[0]["Subject"], "staging: deploying backend-only @ 0d1a26e (1 file)");
    let state = executor.store().unwrap().load("staging").await.unwrap();
    assert_eq!(state.recent_pushes, [format!("{BEFORE}..{AFTER}")]);
    // wiremock checks `expect(1)` for the dispatch when `github` drops.
}

/// Under a budget lock a backend push and then a frontend push wait as one merged plan;
/// the unlock starts staging and dispatches it as `full`, migration input included.
#[tokio::test]
async fn pushes_during_a_lock_merge_and_the_unlock_dispatches_them_as_one_full_deploy() {
    let _serial = serial();
    let env = reset();
    let github = MockServer::start().await;
    let (sha_a, sha_b) = ("a".repeat(40), "b".repeat(40));
    for (base, head, file) in [
        (BEFORE, &sha_a, "apps/express-api/src/db/migrations/0007.sql"),
        (&sha_a, &sha_b, "apps/client-ui/src/App.tsx"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/repos/acme/app/compare/{base}...{head}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": file}]})))
            .mount(&github)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(DISPATCH_PATH))
        .and(body_json(
            json!({"ref": "develop", "inputs": {"deployment-type": "full", "skip-tests": "false", "migrate": "true"}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&github)
        .await;
    let mut env_migrate = env.clone();
    env_migrate.insert("GITHUB_MIGRATE_INPUT".into(), "migrate".into());
    let app = app(&env_migrate, Some(&github)).await;
    let executor = Executor::new(&app.clients, &app.config);
    let store = executor.store().unwrap();
    executor.service().unwrap().scale(0).await.unwrap();
    let mut state = store.load("staging").await.unwrap();
    state.lock_budget(working(), "actual spend over the budget");
    store.commit(&state).await.unwrap();

    let a =
        push(json!({"before": BEFORE, "after": sha_a}), (&[], &[], &["apps/express-api/src/db/migrations/0007.sql"]));
    let b = push(json!({"before": sha_a, "after": sha_b}), (&[], &[], &["apps/client-ui/src/App.tsx"]));
    for (delivery, body, summary) in [
        ("lock-a", &a, "locked by the budget: backend-only pending (1 push)"),
        ("lock-b", &b, "locked by the budget: full pending (2 pushes)"),
    ] {
        let (status, response) = send(&app, &request("push", delivery, body), working()).await;
        assert_eq!((status, response["summary"].as_str()), (202, Some(summary)), "{response}");
    }
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 0, "not started");

    let github_api = staging_core::shell::github::GitHubApi::new(&app.config.github);
    let mut lifecycle_executor = Executor::new(&app.clients, &app.config);
    lifecycle_executor.github = github_api.as_ref();
    let out = lifecycle::handle(
        &lifecycle_executor,
        json!({"command": "unlock", "who": "bob"}),
        utc("2026-11-27T10:30:00.2Z"),
    )
    .await
    .unwrap();
    assert_eq!(out["summary"], "unlocked; starting; dispatched full for 2 pushes (aaaaaaa, bbbbbbb)");
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 1);
    let state = store.load("staging").await.unwrap();
    let in_flight = state.deployment_in_flight.unwrap();
    assert_eq!((in_flight.sha, in_flight.pushes.len()), (sha_b, 2));
    assert!(state.pending_deployment.is_none() && state.budget_lock.is_none());
}

/// Ten pushes in ten minutes make two runs, not ten: the first is dispatched, the nine
/// that arrive while it runs merge into one, dispatched when the first run reports.
#[tokio::test]
async fn ten_pushes_while_a_run_is_in_flight_make_two_runs() {
    let _serial = serial();
    let env = reset();
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": "apps/express-api/a.ts"}]})),
        )
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path(DISPATCH_PATH))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(&github)
        .await;
    let app = app(&env, Some(&github)).await;
    let sha = |i: usize| format!("{:040x}", 0xa00 + i);
    for i in 1..=10 {
        let body = push(json!({"before": sha(i - 1), "after": sha(i)}), (&[], &[], &["apps/express-api/a.ts"]));
        let at = utc(&format!("2026-11-27T10:0{}:00.{i}37Z", i - 1));
        let (status, response) = send(&app, &request("push", &format!("ten-{i}"), &body), at).await;
        assert_eq!(status, 202, "{response}");
        let expected = if i == 1 {
            "dispatched backend-only for 1 push"
        } else {
            "queued behind the run for 0000000 (dispatched at 10:00 UTC): backend-only pending"
        };
        assert!(response["summary"].as_str().unwrap().starts_with(expected), "push {i}: {response}");
    }
    let run = serde_json::to_vec(&json!({"action": "completed", "repository": {"full_name": "acme/app"}, "workflow_run": {
        "id": 9001, "event": "workflow_dispatch", "path": ".github/workflows/deploy-staging.yml", "head_branch": "develop",
        "head_sha": sha(2), "conclusion": "success", "created_at": "2026-11-27T10:00:03Z", "run_started_at": "2026-11-27T10:00:05Z",
        "updated_at": "2026-11-27T10:09:30Z", "html_url": "https://github.com/acme/app/actions/runs/9001"}}))
    .unwrap();
    let (status, response) =
        send(&app, &request("workflow_run", "ten-run-1", &run), utc("2026-11-27T10:09:31.5Z")).await;
    assert_eq!(status, 200, "{response}");
    assert!(
        response["summary"].as_str().unwrap().starts_with("deploy succeeded; dispatched backend-only for 9 pushes"),
        "{response}"
    );
    let state = Executor::new(&app.clients, &app.config).store().unwrap().load("staging").await.unwrap();
    let last = state.last_deployment.unwrap();
    assert_eq!(
        (last.sha, last.built_sha, last.run_id),
        (sha(1), Some(sha(2)), Some(9001)),
        "the run built a newer head"
    );
    assert_eq!(state.deployment_in_flight.unwrap().pushes.len(), 9);
    // wiremock checks `expect(2)` for the dispatches when `github` drops.
}

/// A repository laid out unlike the seed's, its filters given inline in `STAGING_FILTERS`
/// (what a deployed function reads; its zip holds no filters file), in the one-line form
/// the template's `PathFilters` parameter passes.
const SERVER_WEB_FILTERS: &str =
    "{backend: ['server/**', '!**/*.md'], frontend: ['web/**'], infrastructure: ['deploy/**']}";

#[tokio::test]
async fn a_push_to_a_repository_laid_out_otherwise_dispatches_what_its_inline_filters_say() {
    let _serial = serial();
    #[rustfmt::skip]
    let cases: Vec<(&str, &[&str], Option<&str>)> = vec![
        ("the server only", &["server/src/routes/teams.ts"], Some("backend-only")),
        ("the web app only", &["web/src/App.tsx", "web/index.html"], Some("frontend-only")),
        ("both", &["server/src/app.ts", "web/src/App.tsx"], Some("full")),
        ("the infrastructure", &["deploy/main.tf"], Some("full")),
        ("the seed's layout means nothing here", &["apps/express-api/src/app.ts"], None),
        ("docs inside the server are subtracted", &["server/README.md"], None),
    ];
    for (name, files, expected) in cases {
        let mut env = reset();
        env.insert("STAGING_FILTERS".into(), SERVER_WEB_FILTERS.into());
        let github = MockServer::start().await;
        let listed: Vec<Value> = files.iter().map(|f| json!({"filename": f, "status": "modified"})).collect();
        Mock::given(method("GET"))
            .and(path(format!("/repos/acme/app/compare/{BEFORE}...{AFTER}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"files": listed})))
            .mount(&github)
            .await;
        let dispatch = Mock::given(method("POST")).and(path(DISPATCH_PATH));
        match expected {
            Some(kind) => {
                dispatch
                    .and(body_json(
                        json!({"ref": "develop", "inputs": {"deployment-type": kind, "skip-tests": "false"}}),
                    ))
                    .respond_with(ResponseTemplate::new(204))
                    .expect(1)
                    .mount(&github)
                    .await
            }
            None => dispatch.respond_with(ResponseTemplate::new(204)).expect(0).mount(&github).await,
        }
        let app = app(&env, Some(&github)).await;
        let (status, answer) =
            send(&app, &request("push", &format!("layout-{name}"), &push(json!({}), (&[], &[], files))), working())
                .await;
        assert_eq!(status, if expected.is_some() { 202 } else { 200 }, "{name}: {answer}");
        assert_eq!(answer["deployment_type"].as_str(), expected, "{name}: {answer}");
        github.verify().await;
    }
}

#[tokio::test]
async fn unusable_inline_filters_refuse_pushes_naming_the_variable_and_change_nothing() {
    let _serial = serial();
    let mut env = reset();
    env.insert("STAGING_FILTERS".into(), "{backend: ['server/**'".into());
    let github = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(204)).expect(0).mount(&github).await;
    // The function still starts: a bad setting is not a dead function.
    let app = app(&env, Some(&github)).await;
    let before = table_items(&env).await;
    let (status, answer) = send(&app, &request("push", "bad-filters-1", &backend_push()), working()).await;
    assert_eq!(status, 500, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("STAGING_FILTERS"), "{answer}");
    assert_eq!(table_items(&env).await, before, "nothing claimed, nothing decided");
    // A ping is still answered, so the hook's own check shows the function alive.
    let ping = json!({"zen": "Keep it logically awesome.", "hook_id": 1, "repository": {"full_name": "acme/app"}});
    let (status, answer) =
        send(&app, &request("ping", "bad-filters-2", &serde_json::to_vec(&ping).unwrap()), working()).await;
    assert_eq!(status, 200, "{answer}");
}

/// The webhook secret rotated in Secrets Manager (GitHub signs with the new one at once):
/// the first delivery that matches no secret in hand reads it again and is taken; a flood
/// of bad signatures reads it at most once a minute; a secret dropped from the stored
/// value stops being accepted at the next timed read (15 minutes).
#[tokio::test]
async fn a_rotated_webhook_secret_is_read_again_on_a_mismatch_at_most_once_a_minute() {
    let _serial = serial();
    let env = reset();
    let sdk = staging_system_tests::sdk_config(&env).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let arn = client
        .create_secret()
        .name("staging-control/webhook")
        .secret_string("first")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let mut env = env.clone();
    env.remove("GITHUB_WEBHOOK_SECRET");
    env.insert("GITHUB_WEBHOOK_SECRET_ARN".into(), arn.clone());
    // As the Lambda's main builds it: the secret read at the cold start, and its source.
    let secrets = staging_core::shell::Lazy::from(client.clone());
    let mut config = config(&env);
    staging_core::shell::github::resolve_webhook_secret(&secrets, &mut config.github).await.unwrap();
    let mut app = Webhook::new(clients(&env).await, config).unwrap();
    let t0 = utc("2026-11-27T10:00:00.125Z");
    app.secret_source =
        Some(github_webhook::SecretSource::new(arn.clone(), secrets, t0 - chrono::Duration::seconds(5)));
    let ping = serde_json::to_vec(
        &json!({"zen": "Design for failure.", "hook_id": 7, "repository": {"full_name": "acme/app"}}),
    )
    .unwrap();
    let signed =
        |secret: &str, n: u32| staging_system_tests::signed_request(secret, "ping", &format!("rotate-{n}"), &ping);
    let at = |secs: f64| t0 + chrono::Duration::milliseconds((secs * 1000.0) as i64);

    assert_eq!(send(&app, &signed("first", 1), at(0.0)).await.0, 200, "the secret read at the cold start");
    client.put_secret_value().secret_id(&arn).secret_string("second").send().await.unwrap();
    let mut malformed = signed("second", 10);
    malformed.headers_mut().insert("x-hub-signature-256", "sha256=not-hex".parse().unwrap());
    assert_eq!(send(&app, &malformed, at(1.0)).await.0, 401, "a malformed signature is refused without a read");
    assert_eq!(
        send(&app, &signed("second", 2), at(1.5)).await.0,
        200,
        "a mismatch reads the rotated secret (the malformed one used no read)"
    );
    assert_eq!(send(&app, &signed("second", 3), at(2.0)).await.0, 200, "and keeps it");
    assert_eq!(
        send(&app, &signed("first", 4), at(2.5)).await.0,
        401,
        "the old one is gone unless the value keeps it (new,old)"
    );

    client.put_secret_value().secret_id(&arn).secret_string("third, second").send().await.unwrap();
    for (n, secs) in [(5, 30.0), (6, 45.0), (7, 61.4)] {
        let (status, answer) = send(&app, &signed("third", n), at(secs)).await;
        assert_eq!(
            status, 401,
            "{secs} s: last read at 1.5 s (the 2.5 s mismatch was too soon to read), so not again within a minute: {answer}"
        );
    }
    assert_eq!(send(&app, &signed("third", 8), at(62.5)).await.0, 200, "a minute after the last read, read again");
    assert_eq!(send(&app, &signed("second", 9), at(63.0)).await.0, 200, "new,old: both taken while rotating");

    // "second" leaked: the stored value drops it. Warm instances keep it until the next
    // timed read, 15 minutes after the last one (62.5 s), and refuse it from then on.
    client.put_secret_value().secret_id(&arn).secret_string("fourth").send().await.unwrap();
    assert_eq!(
        send(&app, &signed("second", 11), at(62.5 + 14.0 * 60.0)).await.0,
        200,
        "still in hand before the timed read"
    );
    assert_eq!(send(&app, &signed("second", 12), at(62.5 + 15.0 * 60.0)).await.0, 401, "the timed read dropped it");
    assert_eq!(send(&app, &signed("fourth", 13), at(62.5 + 15.0 * 60.0 + 0.5)).await.0, 200);
}
