//! `stagingctl status/up/down/hold/release/unlock/invoke` as a process, against moto.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::BTreeMap;

use common::Run;
use serde_json::{Value, json};
use staging_system_tests::{clients, config, reset, serial};

fn stagingctl(env: &BTreeMap<String, String>, args: &[&str]) -> Run {
    common::run(args, env.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain([("USER", "carol")]), "")
}

#[test]
fn status_reports_phase_counts_and_the_next_transition() {
    let _serial = serial();
    let env = reset();
    let v = stagingctl(&env, &["status", "--json"]).json();
    for key in [
        "phase",
        "desired_count",
        "running_count",
        "hold",
        "budget_lock",
        "last_deployment",
        "health",
        "next_transition",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!((v["phase"].as_str(), v["desired_count"].as_u64()), (Some("up"), Some(1)));
    assert_eq!(v["hold"], Value::Null);
    assert_eq!(v["health"]["status"], "unknown");
    let human = stagingctl(&env, &["status"]);
    assert!(human.stdout.starts_with("staging: up (1 desired, 1 running)"), "{}", human.stdout);
}

#[test]
fn down_up_hold_release_through_the_cli() {
    let _serial = serial();
    let env = reset();
    let out = stagingctl(&env, &["down", "--json"]).json();
    assert_eq!(out["summary"], "stopping");
    assert_eq!(stagingctl(&env, &["status", "--json"]).json()["desired_count"], 0);

    let out = stagingctl(&env, &["up", "--hold", "90m", "--reason", "client demo", "--json"]).json();
    assert!(out["summary"].as_str().unwrap().ends_with("; starting"), "{out}");
    let status = stagingctl(&env, &["status", "--json"]).json();
    assert_eq!(status["desired_count"], 1);
    assert_eq!(status["hold"]["who"], "carol");
    assert_eq!(status["hold"]["reason"], "client demo");
    assert_eq!(status["hold"]["kind"], "on_demand");
    assert!(status["hold_schedule"].as_str().unwrap().starts_with("at("), "{status}");

    let out = stagingctl(&env, &["hold", "3h", "--reason", "incident", "--who", "dave", "--json"]).json();
    assert!(out["summary"].as_str().unwrap().ends_with("; already up"), "{out}");
    assert_eq!(stagingctl(&env, &["status", "--json"]).json()["hold"]["kind"], "emergency_bypass");

    // Far past STAGING_HOLD_MAX (12h): held for the maximum, and the answer says so.
    let out = stagingctl(&env, &["hold", "270000y", "--reason", "forever", "--who", "dave"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("(cut to 12h, the longest hold STAGING_HOLD_MAX allows)"), "{}", out.stdout);

    let released = stagingctl(&env, &["release"]);
    assert_eq!(released.code, 0, "{}", released.stderr);
    assert!(released.stdout.starts_with("staging: hold released;"), "{}", released.stdout);
    let status = stagingctl(&env, &["status", "--json"]).json();
    assert_eq!((status["hold"].clone(), status["hold_schedule"].clone()), (Value::Null, Value::Null));
}

#[tokio::test(flavor = "current_thread")]
async fn a_budget_lock_refuses_up_until_forced_or_unlocked() {
    let _serial = serial();
    let env = reset();
    // Lock the environment as the budget-alert function would.
    let (clients, config) = (clients(&env).await, config(&env));
    let store = staging_core::shell::executor::Executor::new(&clients, &config).store().unwrap();
    let mut state = store.load("staging").await.unwrap();
    state.lock_budget(chrono::Utc::now(), "actual spend over the budget");
    store.commit(&state).await.unwrap();
    assert_eq!(stagingctl(&env, &["down"]).code, 0);

    let refused = stagingctl(&env, &["up"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("locked by the budget"), "{}", refused.stderr);
    assert_eq!(stagingctl(&env, &["status", "--json"]).json()["desired_count"], 0, "nothing changed");
    assert!(stagingctl(&env, &["status", "--json"]).json()["budget_lock"].is_object());

    let unlocked = stagingctl(&env, &["unlock", "--json"]).json();
    assert!(unlocked["summary"].as_str().unwrap().starts_with("unlocked; "), "{unlocked}");
    assert_eq!(stagingctl(&env, &["status", "--json"]).json()["budget_lock"], Value::Null);

    // Unlocking in working hours starts it again; make sure it is down whatever the
    // clock says, lock again, and --force lifts the lock and starts.
    assert_eq!(stagingctl(&env, &["down"]).code, 0);
    let mut state = store.load("staging").await.unwrap();
    state.lock_budget(chrono::Utc::now(), "again");
    store.commit(&state).await.unwrap();
    let forced = stagingctl(&env, &["up", "--force", "--json"]).json();
    assert!(forced["summary"].as_str().unwrap().ends_with("starting"), "{forced}");
    let status = stagingctl(&env, &["status", "--json"]).json();
    assert_eq!((status["budget_lock"].clone(), status["desired_count"].clone()), (Value::Null, json!(1)));
}

#[test]
fn invoke_runs_the_lifecycle_handler_with_a_fixed_clock() {
    let _serial = serial();
    let env = reset();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let event = format!("{root}/events/lifecycle.teardown.json");
    // Friday 18:00: the teardown proceeds.
    let out = stagingctl(&env, &["invoke", "lifecycle", "--event", &event, "--now", "2026-11-27T18:00:00Z"]).json();
    assert_eq!(out["summary"], "stopping");
    assert_eq!(out["state"]["phase"], "stopping");
    // Again: nothing left to do.
    let out = stagingctl(&env, &["invoke", "lifecycle", "--event", &event, "--now", "2026-11-27T18:00:05Z"]).json();
    assert_eq!(out["summary"], "already down");
}

#[test]
fn invoke_refuses_bad_input_with_exit_2() {
    let _serial = serial();
    let env = reset();
    let bad_event = std::env::temp_dir().join(format!("stagingctl-bad-event-{}.json", std::process::id()));
    std::fs::write(&bad_event, r#"{"command":"explode"}"#).unwrap();
    let not_json = std::env::temp_dir().join(format!("stagingctl-not-json-{}.json", std::process::id()));
    std::fs::write(&not_json, "{").unwrap();
    #[rustfmt::skip]
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["invoke", "lifecycle", "--event", bad_event.to_str().unwrap()], "bad event: expected a lifecycle command"),
        (vec!["invoke", "lifecycle", "--event", not_json.to_str().unwrap()], "is not JSON"),
        (vec!["invoke", "lifecycle", "--event", "/nonexistent.json"], "cannot read event file /nonexistent.json"),
        (vec!["invoke", "nope", "--event", not_json.to_str().unwrap()], "[possible values: lifecycle, github-webhook, budget-alert, health-check, front-door]"),
        (vec!["hold", "forever"], "`forever` is not a duration"),
    ];
    for (args, expected) in cases {
        let run = stagingctl(&env, &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
    assert_eq!(stagingctl(&env, &["status", "--json"]).json()["desired_count"], 1, "nothing changed");
}

#[test]
fn a_missing_resource_variable_exits_2_naming_it() {
    let _serial = serial();
    let mut env = reset();
    env.remove("STAGING_SERVICE");
    let run = stagingctl(&env, &["status"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("STAGING_SERVICE is not set"), "{}", run.stderr);
}

#[tokio::test]
async fn invoke_health_check_probes_and_rollback_names_what_it_cannot_do() {
    let _serial = serial();
    let mut env = reset();
    let app = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(wiremock::ResponseTemplate::new(503))
        .mount(&app)
        .await;
    env.insert("STAGING_PROBES".into(), format!("backend={}/health", app.uri()));
    env.insert("STAGING_UP_TIME".into(), "none".into());
    assert_eq!(stagingctl(&env, &["up", "--json"]).code, 0);
    let event = staging_system_tests::repo_root().join("events/health-check.scheduled.json");
    let out = stagingctl(
        &env,
        &["invoke", "health-check", "--event", event.to_str().unwrap(), "--now", "2026-11-27T10:05:00.5Z", "--json"],
    )
    .json();
    assert_eq!(
        out["probes"][0],
        json!({"name": "backend", "ok": false, "slow": false, "status": 503,
        "latency_ms": out["probes"][0]["latency_ms"], "error": "HTTP 503, expected 2xx", "backend": true}),
        "{out}"
    );
    assert_eq!(out["probes"][1]["name"], "ecs");
    assert!(out["decision"].as_str().unwrap().starts_with("2 probes: failing: backend: HTTP 503"), "{out}");
    let status = stagingctl(&env, &["status"]);
    assert!(status.stdout.contains("this month: availability"), "{}", status.stdout);

    // Nothing recorded to go back to: exit 2, naming why; nothing changed.
    let before = stagingctl(&env, &["status", "--json"]).json()["version"].clone();
    let run = stagingctl(&env, &["rollback"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot roll back: nothing to go back to"), "{}", run.stderr);
    assert_eq!(stagingctl(&env, &["status", "--json"]).json()["version"], before);
    // Named, but it is what runs already (given as family:revision): exit 2.
    let td = stagingctl(&env, &["status", "--json"]).json()["task_definition"].as_str().unwrap().to_string();
    let name = td.rsplit('/').next().unwrap();
    let run = stagingctl(&env, &["rollback", "--to", name]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("the service already runs {name}")), "{}", run.stderr);
}
