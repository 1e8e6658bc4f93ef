//! The health-check handler end to end: real HTTP servers on loopback that the test
//! makes healthy, slow, 500-ing and closed; ECS, the state and the team topic in moto;
//! every tick through `health_check::handle` with sub-second clocks five minutes apart.
//!
//! moto does not model a forced deployment (no tasks are replaced), so the test checks
//! that the call was made and succeeded, not that tasks restarted.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use staging_core::model::state::HealthStatus;
use staging_core::report::figures::figures;
use staging_core::shell::executor::Executor;
use staging_core::shell::github::GitHubApi;
use staging_core::shell::probe::Prober;
use staging_system_tests::{clients, config, drain_team_queue, reset, sdk_config, serial};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Healthy,
    /// Answers 200 after 300 ms (the probe's limit is 150 ms).
    Slow,
    /// Answers 500.
    Failing,
    /// Nothing listens: connections are refused.
    Closed,
}

/// The app behind the ALB, on loopback: a minimal HTTP/1.1 server whose behaviour the
/// test sets.
struct App {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl App {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(Mode::Healthy));
        let server = Some(tokio::spawn(serve(listener, mode.clone())));
        Self { addr, mode, server }
    }

    fn url(&self) -> String {
        format!("http://{}/api/health", self.addr)
    }

    async fn set(&mut self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
        match (mode, self.server.is_some()) {
            (Mode::Closed, true) => {
                let server = self.server.take().unwrap();
                server.abort();
                let _ = server.await;
            }
            (Mode::Closed, false) | (_, true) => {}
            (_, false) => {
                let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
                self.server = Some(tokio::spawn(serve(listener, self.mode.clone())));
            }
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, mode: Arc<Mutex<Mode>>) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else { return };
        let mode = *mode.lock().unwrap();
        tokio::spawn(async move {
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let (status, body) = match mode {
                Mode::Failing => ("500 Internal Server Error", "boom"),
                _ => ("200 OK", r#"{"status":"ok"}"#),
            };
            if mode == Mode::Slow {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}

/// The team queue's messages: (event, severity, subject), in order.
async fn told(env: &BTreeMap<String, String>) -> Vec<(String, String, String)> {
    drain_team_queue(env)
        .await
        .iter()
        .map(|m| {
            let attribute = |name: &str| m["MessageAttributes"][name]["Value"].as_str().unwrap_or_default().to_string();
            (attribute("event"), attribute("severity"), m["Subject"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

fn events(told: &[(String, String, String)]) -> Vec<&str> {
    told.iter().map(|(e, _, _)| e.as_str()).collect()
}

fn tick(at: &str) -> Value {
    json!({"command": "health", "scheduled_time": at})
}

/// The local stack with the app as the backend probe; Mon–Fri 08:00–18:00 UTC.
fn environment(app: &App, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut env = reset();
    env.insert("STAGING_PROBES".into(), format!("backend={};latency=150ms;body=ok;timeout=2s", app.url()));
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

#[tokio::test]
async fn a_scripted_outage_alerts_once_heals_once_resolves_once_and_is_quiet_when_down_by_design() {
    let _serial = serial();
    let mut app = App::start().await;
    let env = environment(&app, &[]);
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let prober = Prober::new(&config.probes).unwrap();
    let store = executor.store().unwrap();

    // Friday 08:00: the scheduled startup (the grace period runs to 08:10).
    let out = lifecycle::handle(
        &executor,
        json!({"command": "startup", "scheduled_time": "2026-11-27T08:00:00Z"}),
        utc("2026-11-27T08:00:00.42Z"),
    )
    .await
    .unwrap();
    assert_eq!(out["summary"], "already up", "{out}");
    drain_team_queue(&env).await;

    // (time, the app, expected summary prefix, expected messages)
    #[rustfmt::skip]
    let script: &[(&str, Mode, &str, &[&str])] = &[
        ("2026-11-27T09:00:00", Mode::Healthy, "2 probes: all fine; unknown -> healthy", &[]),
        ("2026-11-27T09:05:00", Mode::Failing, "2 probes: failing: backend: HTTP 500, expected 2xx", &[]),
        ("2026-11-27T09:10:00", Mode::Failing, "2 probes: failing: backend: HTTP 500, expected 2xx; healthy -> unhealthy", &["health.down"]),
        ("2026-11-27T09:15:00", Mode::Closed, "2 probes: failing: backend: cannot connect", &["health.healing"]),
        ("2026-11-27T09:20:00", Mode::Healthy, "2 probes: all fine (grace: the service was just redeployed)", &[]),
        // The grace period after the forced deployment has just ended (09:15 + 10m).
        ("2026-11-27T09:25:00", Mode::Healthy, "2 probes: all fine; unhealthy -> healthy", &["health.resolved"]),
        ("2026-11-27T09:30:00", Mode::Healthy, "2 probes: all fine", &[]),
        ("2026-11-27T09:35:00", Mode::Slow, "2 probes: slow: backend: slow:", &[]),
        ("2026-11-27T09:40:00", Mode::Slow, "2 probes: slow: backend: slow:", &["health.degraded"]),
        ("2026-11-27T09:45:00", Mode::Healthy, "2 probes: all fine", &[]),
        ("2026-11-27T09:50:00", Mode::Healthy, "2 probes: all fine; degraded -> healthy", &["health.resolved"]),
        ("2026-11-27T09:55:00", Mode::Healthy, "2 probes: all fine", &[]),
    ];
    let mut all = Vec::new();
    for (i, (at, mode, summary, expected)) in script.iter().enumerate() {
        app.set(*mode).await;
        let clock = utc(&format!("{at}.{:03}Z", 137 + i * 61));
        let out = health_check::handle(&executor, &prober, tick(&format!("{at}Z")), clock).await.unwrap();
        let decision = out["decision"].as_str().unwrap();
        assert!(decision.starts_with(summary), "{at}: {decision}");
        // Every probe is in the answer, the ECS service among them.
        let probes = out["probes"].as_array().unwrap();
        assert_eq!(
            probes.iter().map(|p| p["name"].as_str().unwrap()).collect::<Vec<_>>(),
            ["backend", "ecs"],
            "{at}: {out}"
        );
        assert_eq!(probes[0]["ok"], *mode != Mode::Failing && *mode != Mode::Closed, "{at}: {out}");
        let messages = told(&env).await;
        assert_eq!(events(&messages), *expected, "{at}: {messages:?}");
        if *at == "2026-11-27T09:15:00" {
            let done: Vec<&str> = out["done"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            assert!(done.contains(&"forced a new deployment of the service"), "{out}");
        }
        all.extend(messages);
    }
    let subject =
        |event: &str| all.iter().find(|(e, _, _)| e == event).map(|(_, s, subj)| (s.clone(), subj.clone())).unwrap();
    assert_eq!(subject("health.down"), ("critical".into(), "staging: DOWN — backend: HTTP 500, expected 2xx".into()));
    // Down from the first failure (09:05) to the first answer again (09:20).
    assert_eq!(subject("health.resolved"), ("info".into(), "staging: resolved after 15m".into()));
    assert_eq!(subject("health.healing").0, "warning");
    // Slow from the first slow answer (09:35) to the first fast one (09:45).
    let resolved: Vec<&str> =
        all.iter().filter(|(e, _, _)| e == "health.resolved").map(|(_, _, s)| s.as_str()).collect();
    assert_eq!(resolved, ["staging: resolved after 15m", "staging: no longer slow after 10m"]);

    // The same tick delivered again counts once.
    let again = health_check::handle(&executor, &prober, tick("2026-11-27T09:55:00Z"), utc("2026-11-27T09:55:03.5Z"))
        .await
        .unwrap();
    assert!(
        again["decision"]
            .as_str()
            .unwrap()
            .starts_with("ignored: the tick of 2026-11-27T09:55:00Z was already counted"),
        "{again}"
    );

    // Every transition is its own record beside the state (none overwrites another).
    let ddb = aws_sdk_dynamodb::Client::new(&sdk_config(&env).await);
    let items = ddb.scan().table_name(&env["STAGING_TABLE"]).send().await.unwrap();
    let records =
        items.items().iter().filter(|i| i["id"].as_s().is_ok_and(|id| id.starts_with("health#staging#"))).count();
    assert_eq!(records, 5);

    // The figures come from the transitions stored in DynamoDB: 15 minutes down of the
    // two business hours since 08:00, one outage.
    let state = store.load("staging").await.unwrap();
    let f = figures(
        &state.health.transitions,
        &config.business_hours,
        utc("2026-11-01T00:00:00Z"),
        utc("2026-11-27T10:00:00Z"),
    );
    assert_eq!((f.down_secs, f.outages, f.mttr_secs), (15 * 60, 1, Some(15 * 60)));

    // 18:00: the teardown. Nothing is probed while down by design, whatever the app does.
    app.set(Mode::Closed).await;
    lifecycle::handle(
        &executor,
        json!({"command": "teardown", "scheduled_time": "2026-11-27T18:00:00Z"}),
        utc("2026-11-27T18:00:00.8Z"),
    )
    .await
    .unwrap();
    drain_team_queue(&env).await;
    for at in ["2026-11-27T18:05:00", "2026-11-27T18:10:00", "2026-11-27T18:15:00"] {
        let out =
            health_check::handle(&executor, &prober, tick(&format!("{at}Z")), utc(&format!("{at}.5Z"))).await.unwrap();
        assert!(out["decision"].as_str().unwrap().starts_with("not probed: staging is down by design"), "{out}");
        assert_eq!(out["probes"], json!([]), "{out}");
    }
    assert!(told(&env).await.is_empty());
    assert_eq!(store.load("staging").await.unwrap().health.status, HealthStatus::Unknown);
}

#[tokio::test]
async fn a_deploy_that_turns_unhealthy_in_its_grace_period_is_rolled_back_to_the_earlier_task_definition() {
    let _serial = serial();
    let mut app = App::start().await;
    let github = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(204)).mount(&github).await;
    let env = environment(
        &app,
        &[("STAGING_AUTO_ROLLBACK", "true"), ("GITHUB_TOKEN", "ghp_test_token"), ("GITHUB_API_URL", &github.uri())],
    );
    let (clients, config) = (clients(&env).await, config(&env));
    let gh = GitHubApi::new(&config.github);
    let mut executor = Executor::new(&clients, &config);
    executor.github = gh.as_ref();
    let prober = Prober::new(&config.probes).unwrap();
    let (store, service) = (executor.store().unwrap(), executor.service().unwrap());
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&env).await);
    let before = service.observe().await.unwrap().task_definition.expect("the service runs a task definition");

    // Staging is up and a push waits; the startup dispatches it, recording what the
    // service runs before the deploy.
    let mut state = store.load("staging").await.unwrap();
    state.queue_deployment("abc1234def5678", staging_core::DeploymentPlan::FULL, utc("2026-11-27T07:55:00.4Z"));
    store.commit(&state).await.unwrap();
    let out = lifecycle::handle(
        &executor,
        json!({"command": "startup", "scheduled_time": "2026-11-27T08:00:00Z"}),
        utc("2026-11-27T08:00:00.3Z"),
    )
    .await
    .unwrap();
    assert!(out["summary"].as_str().unwrap().contains("dispatched full"), "{out}");
    let in_flight = store.load("staging").await.unwrap().deployment_in_flight.unwrap();
    assert_eq!(in_flight.task_definition_before.as_deref(), Some(before.as_str()));

    // The workflow registers a new task definition and points the service at it.
    let registered = ecs
        .register_task_definition()
        .family("staging-backend")
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder().name("api").image("api:broken").build(),
        )
        .send()
        .await
        .unwrap();
    let broken = registered.task_definition().unwrap().task_definition_arn().unwrap().to_string();
    ecs.update_service()
        .cluster(&env["STAGING_CLUSTER"])
        .service(&env["STAGING_SERVICE"])
        .task_definition(&broken)
        .send()
        .await
        .unwrap();
    // …and reports success.
    let run: staging_core::decide::webhook::WorkflowRun = serde_json::from_value(json!({
        "id": 99, "event": "workflow_dispatch", "path": ".github/workflows/deploy-staging.yml",
        "head_sha": "abc1234def5678", "conclusion": "success", "created_at": "2026-11-27T08:00:02Z",
        "run_started_at": "2026-11-27T08:00:05Z", "updated_at": "2026-11-27T08:06:00Z",
        "html_url": "https://github.com/acme/app/actions/runs/99"
    }))
    .unwrap();
    let finished_at = utc("2026-11-27T08:06:01.7Z");
    let origin = run.origin("completed", "delivery-99");
    staging_core::shell::runner::run_with(&executor, &origin, finished_at, |state, observed| {
        Ok(staging_core::decide::webhook::decide_deploy_finished(state, observed, &run, finished_at, &config))
    })
    .await
    .unwrap();
    let last = store.load("staging").await.unwrap().last_deployment.unwrap();
    assert_eq!(last.task_definition_after.as_deref(), Some(broken.as_str()));
    drain_team_queue(&env).await;

    // The new version fails its health checks within the grace period. At the second
    // failure the rollback is decided, but ECS refuses the update: the team is told it
    // failed (not that it happened), and it is tried again at the next check.
    app.set(Mode::Failing).await;
    let out = health_check::handle(&executor, &prober, tick("2026-11-27T08:07:00Z"), utc("2026-11-27T08:07:00.25Z"))
        .await
        .unwrap();
    assert!(!out["decision"].as_str().unwrap().contains("rolled back"), "{out}");
    let refusing = staging_core::shell::Clients {
        ecs: staging_system_tests::ecs_failing_updates(&env).await.into(),
        ..clients.clone()
    };
    let failing_executor = Executor::new(&refusing, &config);
    let err =
        health_check::handle(&failing_executor, &prober, tick("2026-11-27T08:12:00Z"), utc("2026-11-27T08:12:00.5Z"))
            .await
            .unwrap_err();
    assert!(err.to_string().contains("the rollback to"), "{err}");
    assert!(err.is_retryable(), "{err}");
    let messages = told(&env).await;
    assert_eq!(
        messages.iter().map(|(e, s, _)| (e.as_str(), s.as_str())).collect::<Vec<_>>(),
        [("health.down", "critical")],
        "{messages:?}"
    );
    assert!(messages[0].2.ends_with("FAILED"), "{messages:?}");
    assert_eq!(service.observe().await.unwrap().task_definition.as_deref(), Some(broken.as_str()));
    assert_eq!(store.load("staging").await.unwrap().last_deployment.unwrap().rolled_back_at, None);

    // ECS answers again: the next check rolls back, once.
    let mut messages = Vec::new();
    for (i, at) in ["2026-11-27T08:14:00", "2026-11-27T08:17:00"].iter().enumerate() {
        let out = health_check::handle(&executor, &prober, tick(&format!("{at}Z")), utc(&format!("{at}.{}Z", 250 + i)))
            .await
            .unwrap();
        let rolled = out["decision"].as_str().unwrap().contains("rolled back");
        assert_eq!(rolled, i == 0, "{at}: {out}");
        messages.extend(told(&env).await);
    }
    assert_eq!(
        service.observe().await.unwrap().task_definition.as_deref(),
        Some(before.as_str()),
        "back on the earlier task definition"
    );
    assert_eq!(events(&messages), ["health.down"], "{messages:?}");
    assert!(messages[0].2.contains("deploy of abc1234 rolled back"), "{messages:?}");
    let state = store.load("staging").await.unwrap();
    assert_eq!(state.last_deployment.as_ref().unwrap().rolled_back_at, Some(utc("2026-11-27T08:14:00Z")));
    // The audit trail says so, for the month's success rate: the deployment finished
    // once, and was rolled back.
    let trail = store
        .entries("staging", utc("2026-11-27T00:00:00Z"), utc("2026-11-28T00:00:00Z"), false, None, None)
        .await
        .unwrap();
    let facts: Vec<(&str, &str)> = trail
        .iter()
        .flat_map(|e| e.events.iter())
        .filter_map(|ev| match ev {
            staging_core::audit::Event::Deployment { sha, .. } => Some(("finished", sha.as_str())),
            staging_core::audit::Event::RolledBack { sha, .. } => Some(("rolled back", sha.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(facts.first(), Some(&("finished", "abc1234def5678")), "{facts:?}");
    assert_eq!(facts.iter().filter(|(what, _)| *what == "finished").count(), 1, "{facts:?}");
    assert_eq!(facts.last(), Some(&("rolled back", "abc1234def5678")), "{facts:?}");

    // By hand: nothing better to go back to than what runs now.
    let err = staging_core::decide::health::decide_rollback(
        &state,
        &service.observe().await.unwrap().observed(),
        None,
        "alice",
        false,
        utc("2026-11-27T08:20:00Z"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("nothing to go back to"), "{err}");
}

#[tokio::test]
async fn a_bad_probe_url_is_a_configuration_error_and_a_bad_event_changes_nothing() {
    let _serial = serial();
    let app = App::start().await;
    let env = environment(&app, &[]);
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let prober = Prober::new(&config.probes).unwrap();
    let before = executor.store().unwrap().load("staging").await.unwrap();
    let err = health_check::handle(&executor, &prober, json!({"command": "teardown"}), utc("2026-11-27T09:00:00.5Z"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown command `teardown`"), "{err}");
    assert_eq!(executor.store().unwrap().load("staging").await.unwrap(), before);

    let bad = staging_core::model::probe::Probe {
        url: "http://exa mple.com/".into(),
        ..staging_core::model::probe::Probe::new("web", "http://x")
    };
    let err = Prober::new(&[bad]).unwrap_err().to_string();
    assert!(err.starts_with("STAGING_PROBES=\"http://exa mple.com/\": probe `web`"), "{err}");
}

#[tokio::test]
async fn a_tick_puts_back_a_missing_hold_schedule_and_a_quiet_tick_makes_no_extra_round() {
    let _serial = serial();
    let app = App::start().await;
    let env = environment(&app, &[("STAGING_UP_TIME", "none")]);
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let prober = Prober::new(&config.probes).unwrap();
    let now = Utc::now();
    let out =
        lifecycle::handle(&executor, json!({"command": "up", "who": "carol", "reason": "demo", "hold": "2h"}), now)
            .await
            .unwrap();
    assert!(out["summary"].as_str().unwrap().starts_with("held until"), "{out}");
    let schedules = executor.schedules().unwrap();
    let name = staging_core::model::action::hold_schedule_name("staging");
    assert!(schedules.delete(&name).await.unwrap(), "the hold's schedule existed");

    let out =
        health_check::handle(&executor, &prober, json!({"command": "health"}), now + chrono::Duration::seconds(1))
            .await
            .unwrap();
    let done: Vec<&str> = out["done"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(done.iter().filter(|l| l.starts_with(&format!("reconciled: scheduled {name} at "))).count(), 1, "{out}");
    assert!(schedules.get(&name).await.unwrap().is_some());

    // The next tick counts and commits, and does nothing else.
    let out =
        health_check::handle(&executor, &prober, json!({"command": "health"}), now + chrono::Duration::seconds(2))
            .await
            .unwrap();
    assert_eq!(out["done"], json!([]), "{out}");
}

#[tokio::test]
async fn a_missed_teardown_is_reported_by_the_tick_after_fifteen_minutes_and_not_before() {
    let _serial = serial();
    let app = App::start().await;
    let env = environment(&app, &[]);
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let prober = Prober::new(&config.probes).unwrap();
    let out = lifecycle::handle(
        &executor,
        json!({"command": "startup", "scheduled_time": "2026-11-27T08:00:00Z"}),
        utc("2026-11-27T08:00:00.42Z"),
    )
    .await
    .unwrap();
    assert_eq!(out["summary"], "already up", "{out}");
    // The 18:00 teardown never arrives (its schedule broken, say).
    for (at, overdue) in [
        ("2026-11-27T17:55:00", false),
        ("2026-11-27T18:10:00", false),
        ("2026-11-27T18:15:00", true),
        ("2026-11-27T18:20:00", true),
    ] {
        let out =
            health_check::handle(&executor, &prober, tick(&format!("{at}Z")), utc(&format!("{at}.61Z"))).await.unwrap();
        assert_eq!(out["teardown_overdue"], json!(overdue), "{at}: {out}");
    }
    // Once it has run, the tick says all is well again.
    lifecycle::handle(
        &executor,
        json!({"command": "teardown", "scheduled_time": "2026-11-27T18:00:00Z"}),
        utc("2026-11-27T18:21:00.3Z"),
    )
    .await
    .unwrap();
    let out = health_check::handle(&executor, &prober, tick("2026-11-27T18:25:00Z"), utc("2026-11-27T18:25:00.9Z"))
        .await
        .unwrap();
    assert_eq!(out["teardown_overdue"], json!(false), "{out}");
}

/// Right after a fresh install nothing is stored yet: the first tick in business hours, with
/// the service at 1, reads staging as what ECS shows (up), probes it, and writes the state
/// as found; it is not "down by design".
#[tokio::test]
async fn the_first_tick_after_a_fresh_install_probes_a_running_service() {
    let _serial = serial();
    let app = App::start().await;
    let env = environment(&app, &[]);
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let prober = Prober::new(&config.probes).unwrap();
    assert_eq!(executor.store().unwrap().load("staging").await.unwrap().version, 0, "a fresh install: nothing written");
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 1);

    let out = health_check::handle(&executor, &prober, tick("2026-11-27T10:00:00Z"), utc("2026-11-27T10:00:00.372Z"))
        .await
        .unwrap();
    let decision = out["decision"].as_str().unwrap();
    assert!(decision.starts_with("2 probes: all fine"), "{out}");
    let state = executor.store().unwrap().load("staging").await.unwrap();
    assert_eq!((state.version, state.phase), (1, staging_core::model::state::Phase::Up), "written as found");
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 1, "nothing scaled");
}
