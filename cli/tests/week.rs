//! A scripted week against moto, through the functions' own handlers (in process, with
//! sub-second clocks), then `stagingctl history` and `stagingctl report --month` as a
//! process reading what the week left in the table: the audit trail and the month's
//! figures are what the week did.
//!
//! The week (Mon–Fri 08:00–18:00 UTC): the Friday before ends with the scheduled
//! teardown; every working day starts and ends on schedule; Monday a backend push is
//! deployed in 4 min 5 s; Tuesday the app fails its probes for 15 minutes and recovers;
//! Wednesday evening an operator starts staging on demand for an hour (its hold's
//! schedule ends it); Thursday a frontend deploy fails.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use staging_core::shell::executor::Executor;
use staging_core::shell::probe::Prober;
use staging_system_tests::{clients, config, reset, serial, signed_request};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "local-webhook-secret";

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn stagingctl(env: &BTreeMap<String, String>, args: &[&str]) -> common::Run {
    common::run(args, env.iter().map(|(k, v)| (k.as_str(), v.as_str())), "")
}

fn push(before: &str, after: &str, files: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": "refs/heads/develop", "before": before, "after": after,
        "created": false, "deleted": false, "forced": false,
        "commits": [{"id": after, "distinct": true, "message": "change", "timestamp": "2026-11-23T10:00:00+00:00",
                     "author": {"name": "Alice", "email": "alice@example.com", "username": "alice"},
                     "added": [], "removed": [], "modified": files}],
        "repository": {"name": "app", "full_name": "acme/app", "private": true},
        "pusher": {"name": "alice", "email": "alice@example.com"},
        "sender": {"login": "alice", "type": "User"}
    }))
    .unwrap()
}

fn finished(id: u64, sha: &str, conclusion: &str, started: &str, updated: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"action": "completed", "repository": {"full_name": "acme/app"}, "workflow_run": {
        "id": id, "run_attempt": 1, "event": "workflow_dispatch", "name": "Deploy staging",
        "path": ".github/workflows/deploy-staging.yml", "head_branch": "develop",
        "head_sha": sha, "conclusion": conclusion, "run_started_at": started,
        "updated_at": updated, "html_url": format!("https://github.com/acme/app/actions/runs/{id}")}}))
    .unwrap()
}

/// A probe target whose answer the test sets: 200, or 500 while `failing`.
async fn app_server() -> MockServer {
    let server = MockServer::start().await;
    healthy(&server).await;
    server
}

async fn healthy(server: &MockServer) {
    server.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("ok")).mount(server).await;
}

async fn failing(server: &MockServer) {
    server.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500).set_body_string("boom")).mount(server).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_scripted_week_gives_the_expected_history_month_figures_and_page() {
    let _serial = serial();
    let mut env = reset();
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/actions/workflows/deploy-staging.yml/dispatches"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&github)
        .await;
    // The Compare API lists what each push changed.
    for (base, head, file) in [
        (
            "0000000222222222222222222222222222222222",
            "aaaaaaa111111111111111111111111111111111",
            "apps/express-api/src/app.ts",
        ),
        (
            "aaaaaaa111111111111111111111111111111111",
            "bbbbbbb333333333333333333333333333333333",
            "apps/client-ui/src/App.tsx",
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/repos/acme/app/compare/{base}...{head}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": file}]})))
            .mount(&github)
            .await;
    }
    let target = app_server().await;
    env.insert("GITHUB_WEBHOOK_SECRET".into(), SECRET.into());
    env.insert("GITHUB_TOKEN".into(), "ghp_test_token".into());
    env.insert("GITHUB_API_URL".into(), github.uri());
    env.insert("STAGING_PROBES".into(), format!("backend={}/health;timeout=2s", target.uri()));
    env.insert("STAGING_TEARDOWN".into(), "scale".into());

    let (clients, config) = (clients(&env).await, config(&env));
    let mut executor = Executor::new(&clients, &config);
    let github_api = staging_core::shell::github::GitHubApi::new(&config.github);
    executor.github = github_api.as_ref();
    let prober = Prober::new(&config.probes).unwrap();
    let webhook = github_webhook::Webhook::new(staging_system_tests::clients(&env).await, config.clone()).unwrap();
    let store = executor.store().unwrap();

    let lifecycle = async |event: Value, at: &str| {
        let out = Box::pin(lifecycle::handle(&executor, event, utc(at))).await.unwrap();
        out["summary"].as_str().unwrap_or_default().to_string()
    };
    let schedule = |command: &str, due: &str| json!({"command": command, "scheduled_time": due});
    let deliver = async |event: &str, delivery: &str, body: Vec<u8>, at: &str| {
        let response =
            Box::pin(github_webhook::handle(&webhook, &signed_request(SECRET, event, delivery, &body), utc(at))).await;
        let status = response.status().as_u16();
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        assert!(status < 300, "{event} {delivery}: {status} {body}");
        body
    };
    let tick = async |due: &str, at: &str| {
        Box::pin(health_check::handle(&executor, &prober, json!({"command": "health", "scheduled_time": due}), utc(at)))
            .await
            .unwrap()
    };

    // The Friday before: the scheduled teardown.
    lifecycle(schedule("teardown", "2026-11-20T18:00:00Z"), "2026-11-20T18:00:00.512Z").await;
    for day in ["23", "24", "25", "26", "27"] {
        let up = lifecycle(
            schedule("startup", &format!("2026-11-{day}T08:00:00Z")),
            &format!("2026-11-{day}T08:00:00.250Z"),
        )
        .await;
        assert!(up.contains("start"), "{day}: {up}");
        match day {
            "23" => {
                let sha = "aaaaaaa111111111111111111111111111111111";
                let out = deliver(
                    "push",
                    "d-23-push",
                    push("0000000222222222222222222222222222222222", sha, &["apps/express-api/src/app.ts"]),
                    "2026-11-23T10:15:30.500Z",
                )
                .await;
                assert_eq!(out["deployment_type"], "backend-only", "{out}");
                let out = deliver(
                    "workflow_run",
                    "d-23-run",
                    finished(101, sha, "success", "2026-11-23T10:15:35Z", "2026-11-23T10:19:40Z"),
                    "2026-11-23T10:19:45.750Z",
                )
                .await;
                assert_eq!(out["summary"], "deploy succeeded", "{out}");
            }
            "24" => {
                // Healthy, then 500s from 11:05 to 11:20.
                let script = [
                    ("11:00", true),
                    ("11:05", false),
                    ("11:10", false),
                    ("11:15", false),
                    ("11:20", true),
                    ("11:25", true),
                    ("11:30", true),
                ];
                for (i, (time, ok)) in script.into_iter().enumerate() {
                    if ok {
                        healthy(&target).await
                    } else {
                        failing(&target).await
                    }
                    let at = format!("2026-11-24T{time}:00.{:03}Z", 100 + i * 37);
                    tick(&format!("2026-11-24T{time}:00Z"), &at).await;
                }
            }
            "25" => {}
            "26" => {
                let sha = "bbbbbbb333333333333333333333333333333333";
                let out = deliver(
                    "push",
                    "d-26-push",
                    push("aaaaaaa111111111111111111111111111111111", sha, &["apps/client-ui/src/App.tsx"]),
                    "2026-11-26T14:00:10.300Z",
                )
                .await;
                assert_eq!(out["deployment_type"], "frontend-only", "{out}");
                deliver(
                    "workflow_run",
                    "d-26-run",
                    finished(102, sha, "failure", "2026-11-26T14:00:15Z", "2026-11-26T14:03:05Z"),
                    "2026-11-26T14:03:09.900Z",
                )
                .await;
            }
            _ => {}
        }
        lifecycle(schedule("teardown", &format!("2026-11-{day}T18:00:00Z")), &format!("2026-11-{day}T18:00:00.500Z"))
            .await;
        if day == "25" {
            // An operator starts it for an evening demo; the hold's own schedule ends it.
            let out = lifecycle(
                json!({"command": "up", "who": "carol", "reason": "client demo", "hold": "1h"}),
                "2026-11-25T20:00:00.125Z",
            )
            .await;
            assert!(out.contains("starting"), "{out}");
            let until = store.load("staging").await.unwrap().hold.unwrap().until;
            let out =
                lifecycle(json!({"command": "hold_expired", "until": until.timestamp()}), "2026-11-25T21:00:01.125Z")
                    .await;
            assert!(out.contains("stopping") || out.contains("down"), "{out}");
        }
    }

    // Friday night: AWS Budgets says the month is over budget (delivered twice, as SNS
    // may); carol's start is then refused.
    let alert: Value = serde_json::from_str(
        &std::fs::read_to_string(staging_system_tests::repo_root().join("events/budget-alert.actual-over.json"))
            .unwrap(),
    )
    .unwrap();
    // Boxed: the handlers' futures are large in a debug build.
    Box::pin(budget_alert::handle(&executor, alert.clone(), utc("2026-11-27T22:30:00.500Z"))).await.unwrap();
    Box::pin(budget_alert::handle(&executor, alert, utc("2026-11-27T22:31:00.500Z"))).await.unwrap();
    let refused = Box::pin(lifecycle::handle(
        &executor,
        json!({"command": "up", "who": "carol", "reason": "late fix"}),
        utc("2026-11-27T22:45:00.750Z"),
    ))
    .await;
    assert!(refused.is_err(), "{refused:?}");

    // ---- The audit trail, through the CLI ----
    let week = stagingctl(&env, &["history", "--since", "2026-11-23", "--until", "2026-11-27", "--json"]).json();
    let week = week.as_array().unwrap();
    let ats: Vec<DateTime<Utc>> = week.iter().map(|e| utc(e["at"].as_str().unwrap())).collect();
    assert!(ats.windows(2).all(|w| w[0] >= w[1]), "newest first: {ats:?}");
    assert_eq!(ats.first(), Some(&utc("2026-11-27T22:45:00.750Z")), "carol's refused start, sub-second kept");
    assert_eq!(ats.last(), Some(&utc("2026-11-23T08:00:00.250Z")), "Monday's startup");
    for e in week {
        for key in ["at", "source", "who", "summary", "actions", "input"] {
            assert!(e.get(key).is_some(), "{key} missing: {e}");
        }
        assert!(e["at"].as_str().unwrap().ends_with('Z'), "RFC 3339 UTC: {e}");
    }
    let by = |source: &str| week.iter().filter(|e| e["source"] == source).collect::<Vec<_>>();
    // 5 startups + 5 teardowns + the hold's end.
    assert_eq!(by("schedule").len(), 11, "{week:#?}");
    // 2 pushes and 2 finished runs.
    let webhook = by("webhook");
    assert_eq!(webhook.len(), 4, "{webhook:#?}");
    assert!(webhook.iter().all(|e| !e["input"].as_str().unwrap().contains("ghp_")), "no token in an input");
    let operator = by("operator");
    assert_eq!(operator.len(), 2, "{operator:#?}");
    assert_eq!(
        (operator[1]["who"].as_str(), operator[1]["at"].as_str()),
        (Some("carol"), Some("2026-11-25T20:00:00.125Z"))
    );
    // A refusal changes nothing, but the trail says who asked and why it was refused.
    assert_eq!(
        (operator[0]["who"].as_str(), operator[0]["version"].as_u64()),
        (Some("carol"), None),
        "{:#}",
        operator[0]
    );
    assert!(operator[0]["summary"].as_str().unwrap().starts_with("refused: "), "{:#}", operator[0]);
    assert_eq!(operator[0]["errors"].as_array().map(Vec::len), Some(1), "{:#}", operator[0]);
    // The alert and its redelivery are both decisions; only the first locked.
    let budget = by("budget");
    assert_eq!(budget.len(), 2, "{budget:#?}");
    assert!(budget[0]["summary"].as_str().unwrap().starts_with("already handled"), "{:#}", budget[0]);
    assert_eq!(
        budget[1]["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect::<Vec<_>>(),
        ["budget_alert", "budget_locked"]
    );
    // Quiet ticks are not kept; the two that changed health are, with their event.
    let health = by("health");
    let changes: Vec<(&str, &str)> = health
        .iter()
        .flat_map(|e| e["events"].as_array().into_iter().flatten())
        .filter(|ev| ev["event"] == "health")
        .map(|ev| (ev["from"].as_str().unwrap(), ev["to"].as_str().unwrap()))
        .collect();
    assert!(changes.contains(&("healthy", "unhealthy")) && changes.contains(&("unhealthy", "healthy")), "{health:#?}");
    assert!(health.len() < 7, "a tick that only counted is not kept: {health:#?}");

    // --kind filters; --since/--until are the team's days.
    let operator_only = stagingctl(
        &env,
        &["history", "--since", "2026-11-20", "--until", "2026-11-26", "--kind", "operator", "--json"],
    )
    .json();
    assert_eq!(operator_only.as_array().unwrap().len(), 1, "{operator_only}");
    let wednesday = stagingctl(&env, &["history", "--since", "2026-11-25", "--until", "2026-11-25", "--json"]).json();
    let wednesday: Vec<&str> = wednesday.as_array().unwrap().iter().map(|e| e["source"].as_str().unwrap()).collect();
    assert_eq!(wednesday, ["schedule", "operator", "schedule", "schedule"], "hold's end, up, teardown, startup");
    let bad = stagingctl(&env, &["history", "--kind", "cron"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("unknown kind `cron`"), "{}", bad.stderr);
    let human = stagingctl(&env, &["history", "--since", "2026-11-25", "--until", "2026-11-25"]);
    assert!(human.stdout.contains("operator  carol: "), "{}", human.stdout);

    // ---- The month's figures ----
    let html = std::env::temp_dir().join(format!("stagingctl-week-{}.html", std::process::id()));
    let report = stagingctl(
        &env,
        &[
            "report",
            "--month",
            "2026-11",
            "--now",
            "2026-11-28T00:00:00.500Z",
            "--json",
            "--html",
            html.to_str().unwrap(),
        ],
    )
    .json();
    let d = &report["deployments"];
    assert_eq!(
        (d["count"].as_u64(), d["succeeded"].as_u64(), d["failed"].as_u64()),
        (Some(2), Some(1), Some(1)),
        "{d}"
    );
    assert_eq!(d["success_rate"].as_f64(), Some(50.0));
    let backend = d["by_kind"].as_array().unwrap().iter().find(|k| k["kind"] == "backend").unwrap();
    assert_eq!(backend["median_minutes"].as_f64(), Some(245.0 / 60.0), "the run's own 4 min 5 s: {backend}");
    let u = &report["up_hours"];
    // Five scheduled days of 10 hours (instants the state keeps are whole seconds) and
    // the operator's hour.
    assert_eq!((u["scheduled"].as_f64(), u["held"].as_f64()), (Some(50.0), Some(0.0)), "{u}");
    let on_demand = u["on_demand"].as_f64().unwrap();
    assert!((on_demand - (3600.0 + 1.0) / 3600.0).abs() < 1e-9, "20:00:00 to 21:00:01: {on_demand}");
    let outages = report["outages"].as_array().unwrap();
    assert_eq!(outages.len(), 1, "{outages:?}");
    assert_eq!(outages[0]["from"], "2026-11-24T11:05:00Z", "the first failing tick, as the state keeps it");
    assert_eq!(outages[0]["to"], "2026-11-24T11:20:00Z", "the first good tick of the streak that recovered");
    assert_eq!(report["mttr_minutes"].as_f64(), Some(15.0));
    // Measured from the trail's first entry (the Friday before's teardown): the week's
    // five working days of 10 hours, not November's twenty; 15 minutes out.
    let a = &report["availability"];
    assert_eq!(a["since"], "2026-11-20T18:00:00.512Z", "{a}");
    assert_eq!((a["business_hours"].as_f64(), a["outage_hours"].as_f64()), (Some(50.0), Some(0.25)), "{a}");
    assert_eq!(a["percent"].as_f64(), Some(100.0 * (1.0 - 0.25 / 50.0)));
    assert_eq!(report["budget"], json!({"alerts": 1, "locks": 1, "unlocks": 0}), "a redelivered alert counts once");
    let lifecycle_figures = &report["lifecycle"];
    assert!(
        lifecycle_figures["automated"].as_u64() < lifecycle_figures["transitions"].as_u64(),
        "the operator's start is not automated: {lifecycle_figures}"
    );
    let targets: Vec<(&str, Option<bool>)> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap(), t["met"].as_bool()))
        .collect();
    assert_eq!(
        targets,
        [
            ("deploy_success_rate", Some(false)),
            ("full_deploy_minutes", None),
            ("backend_deploy_minutes", Some(true)),
            ("frontend_deploy_minutes", None),
            ("infrastructure_deploy_minutes", None),
            ("availability", Some(false)),
            ("mttr", Some(false)),
            ("cost_per_deployment", targets[7].1),
            ("month_cost", targets[8].1),
            ("automated_lifecycle", Some(false)),
        ]
    );
    // The cost is the model's (moto's Cost Explorer has no bill), shared by 2 deployments.
    let cost = &report["cost"];
    assert_eq!(cost["source"], "model", "{cost}");
    let per = cost["per_deployment_gbp"].as_f64().unwrap();
    assert!((per - cost["gbp"].as_f64().unwrap() / 2.0).abs() < 1e-9, "{cost}");
    assert_eq!(targets[7].1, Some(per < 0.10));
    let days = report["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let tuesday = days.iter().find(|d| d["date"] == "2026-11-24").unwrap();
    assert_eq!(tuesday["outages"].as_array().unwrap().len(), 1);
    let thursday = days.iter().find(|d| d["date"] == "2026-11-26").unwrap();
    assert_eq!(thursday["deploys"][0]["status"], "failed", "{thursday}");

    // ---- The page ----
    let page = std::fs::read_to_string(&html).unwrap();
    let _ = std::fs::remove_file(&html);
    assert_eq!(page.matches("<g class=\"day\"").count(), 30, "one bar group per day");
    for key in targets.iter().map(|(k, _)| k) {
        assert_eq!(page.matches(&format!("<tr data-key=\"{key}\"")).count(), 1, "the figures table's row {key}");
    }
    assert!(!page.contains("<script"), "no scripts");

    // Bad input is named and changes nothing.
    let bad = stagingctl(&env, &["report", "--month", "2026-13"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--month"), "{}", bad.stderr);
}
