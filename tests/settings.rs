//! The settings document in Parameter Store (moto's SSM), kept live by the shell: read at
//! the first event, again when 5 minutes old, a bad version refused with its key while the
//! last good stays in force; and the webhook deciding with it through its own handler.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use github_webhook::{Webhook, handle};
use serde_json::{Value, json};
use staging_core::shell::settings::{LiveConfig, Reading};
use staging_core::{Error, WorkingDays};
use staging_system_tests::{clients, reset, serial};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PARAMETER: &str = "/staging/settings";
const SECRET: &str = "local-webhook-secret";

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn days(text: &str) -> WorkingDays {
    staging_core::config::parse_working_days(text).unwrap()
}

fn with_parameter(env: &BTreeMap<String, String>) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = env.clone().into_iter().collect();
    vars.insert("STAGING_SETTINGS_PARAMETER".into(), PARAMETER.into());
    vars
}

async fn put(env: &BTreeMap<String, String>, text: &str) -> i64 {
    let ssm = clients(env).await.ssm;
    let exists = staging_core::shell::settings::read(&ssm, PARAMETER).await.unwrap().is_some();
    staging_core::shell::settings::write(&ssm, PARAMETER, text, exists).await.unwrap()
}

#[tokio::test]
async fn the_document_is_read_again_when_five_minutes_old_and_a_bad_version_keeps_the_last_good() {
    let _serial = serial();
    let env = reset();
    let live = LiveConfig::new(with_parameter(&env), clients(&env).await.ssm).unwrap();
    let deployed = live.deployed().business_hours.working_days;
    let t0 = utc("2026-11-27T10:00:00.123456789Z");
    let at = |ms: i64| t0 + Duration::milliseconds(ms);

    // No parameter yet: the variables as deployed.
    assert!(matches!(live.refresh(t0).await, Reading::Missing));
    assert_eq!(live.held().business_hours.working_days, deployed);

    let v1 = put(&env, "working_days: Mon-Wed\nholidays: [2026-12-24, 2026-12-25]\nhold_max: 4h\n").await;
    assert!(matches!(live.refresh(at(1_000)).await, Reading::NotDue), "read at t0: not due within 5 minutes");
    assert!(matches!(live.refresh(at(299_999)).await, Reading::NotDue));
    assert!(matches!(live.refresh(at(300_000)).await, Reading::Applied { version } if version == v1));
    let config = live.current(at(300_001)).await;
    assert_eq!(config.business_hours.working_days, days("Mon-Wed"));
    assert_eq!(config.business_hours.holidays.len(), 2);
    assert_eq!(config.hold_max, std::time::Duration::from_secs(4 * 3600));
    assert_eq!(
        config.resources.table,
        live.deployed().resources.table,
        "what the document does not set is as deployed"
    );

    // A version that does not hold: refused with its key, the last good stays in force.
    let v2 = put(&env, "working_days: Mon-Thu\nholidays: [2026-12-24, 2026-13-01]\n").await;
    match live.refresh(at(600_000)).await {
        Reading::Refused { version, error: Error::Settings { key, reason }, kept } => {
            assert_eq!((version, key.as_str(), kept), (v2, "holidays", Some(v1)), "{reason}");
            assert!(reason.contains("2026-13-01"), "{reason}");
        }
        other => panic!("expected the bad version refused: {other:?}"),
    }
    assert_eq!(live.held().business_hours.working_days, days("Mon-Wed"), "the last good settings");
    assert!(matches!(live.refresh(at(900_000)).await, Reading::Unchanged), "a refused version is not parsed again");

    // An instance started now (a cold start) decides as the warm one does: the newest
    // earlier version that holds, from the parameter's history.
    let cold = LiveConfig::new(with_parameter(&env), clients(&env).await.ssm).unwrap();
    assert!(
        matches!(cold.refresh(at(900_001)).await, Reading::Refused { version, kept: Some(kept), .. } if (version, kept) == (v2, v1))
    );
    assert_eq!(cold.held().business_hours.working_days, days("Mon-Wed"), "version 1's, not the variables'");

    let v3 = put(&env, "working_days: [Mon, Tue, Wed, Thu]\n").await;
    assert!(matches!(live.refresh(at(1_200_000)).await, Reading::Applied { version } if version == v3));
    assert_eq!(live.held().business_hours.working_days, days("Mon-Thu"));
    assert!(live.held().business_hours.holidays.is_empty(), "a key the new version leaves out is as deployed again");

    // Deleted on purpose: the variables as deployed.
    let ssm = clients(&env).await.ssm;
    ssm.delete_parameter().name(PARAMETER).send().await.unwrap();
    assert!(matches!(live.refresh(at(1_500_000)).await, Reading::Missing));
    assert_eq!(live.held().business_hours.working_days, deployed);

    // Deleted and created again between two reads: versions start again at 1, and the new
    // version 1 is read, not taken for the one held.
    assert_eq!(put(&env, "working_days: Mon\n").await, 1);
    assert!(matches!(live.refresh(at(1_800_000)).await, Reading::Applied { version: 1 }));
    ssm.delete_parameter().name(PARAMETER).send().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(put(&env, "working_days: Fri\n").await, 1);
    assert!(matches!(live.refresh(at(2_100_000)).await, Reading::Applied { version: 1 }));
    assert_eq!(live.held().business_hours.working_days, days("Fri"));
}

#[tokio::test]
async fn a_probe_the_health_check_could_not_use_is_refused_with_its_key() {
    let _serial = serial();
    let env = reset();
    put(&env, "probes: ['api=http://127.0.0.1:9/health']\n").await;
    let live = LiveConfig::new(with_parameter(&env), clients(&env).await.ssm).unwrap();
    let t0 = utc("2026-11-27T10:00:00.5Z");
    assert!(matches!(live.refresh(t0).await, Reading::Applied { .. }));
    // Past the grammar (an http:// URL), but not a URI the prober can request (an IPv6
    // address left open).
    put(&env, "probes: ['api=http://[::1/health']\n").await;
    match live.refresh(t0 + Duration::minutes(5)).await {
        Reading::Refused { error: Error::Settings { key, .. }, kept: Some(1), .. } => assert_eq!(key, "probes"),
        other => panic!("{other:?}"),
    }
    assert_eq!(live.held().probes[0].url, "http://127.0.0.1:9/health", "the last good probes");
}

#[tokio::test]
async fn a_parameter_that_cannot_be_read_keeps_the_settings_held() {
    let _serial = serial();
    let env = reset();
    put(&env, "working_days: Mon-Wed\n").await;
    let live = LiveConfig::new(with_parameter(&env), clients(&env).await.ssm).unwrap();
    let t0 = utc("2026-11-27T10:00:00.5Z");
    assert!(matches!(live.refresh(t0).await, Reading::Applied { .. }));
    // The same setup with a client that reaches nothing (a closed port).
    let mut unreachable = env.clone();
    unreachable.insert("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:9".into());
    let dead = staging_system_tests::sdk_config(&unreachable).await;
    let dead = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(&dead)
            .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
            .build(),
    );
    let blind = LiveConfig::new(with_parameter(&env), staging_core::shell::Lazy::from(dead)).unwrap();
    assert!(matches!(blind.refresh(t0).await, Reading::Failed(_)));
    assert_eq!(
        blind.held().business_hours.working_days,
        blind.deployed().business_hours.working_days,
        "at a cold start: as deployed"
    );
    assert!(
        matches!(blind.refresh(t0 + Duration::milliseconds(1)).await, Reading::NotDue),
        "a failed read is not retried by every event"
    );
}

fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(20)
}

/// GitHub's compare of the `n`th push: `files` changed.
async fn compared(github: &MockServer, n: u8, files: &[&str]) {
    let listed: Vec<Value> = files.iter().map(|f| json!({"filename": f, "status": "modified"})).collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/app/compare/{}...{}", sha(n), sha(n + 1))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"files": listed})))
        .mount(github)
        .await;
}

/// The `n`th push in a row to `develop` (each one's `before` is the last one's `after`).
fn push(n: u8, files: &[&str]) -> lambda_http::Request {
    let body = json!({
        "ref": "refs/heads/develop", "before": sha(n), "after": sha(n + 1),
        "created": false, "deleted": false, "forced": false, "base_ref": null,
        "commits": [{"id": sha(n + 1), "distinct": true, "message": "change", "timestamp": "2026-11-27T09:59:00+00:00",
                     "author": {"name": "Alice", "email": "alice@example.com", "username": "alice"},
                     "added": [], "removed": [], "modified": files}],
        "head_commit": null,
        "repository": {"name": "app", "full_name": "acme/app", "private": true},
        "pusher": {"name": "alice", "email": "alice@example.com"},
        "sender": {"login": "alice", "type": "User"}
    });
    staging_system_tests::signed_request(SECRET, "push", &format!("settings-{n}"), &serde_json::to_vec(&body).unwrap())
}

/// A repository laid out unlike the seed's, its filters in the settings document: the
/// webhook, built as its Lambda main builds it, dispatches what they say; the document
/// changed later takes effect at the next read, with no redeploy and no cold start.
#[tokio::test]
async fn a_push_dispatches_what_the_settings_documents_filters_say_and_a_change_needs_no_redeploy() {
    let _serial = serial();
    let env = reset();
    // A deploy that has not reported for a minute no longer holds back the next push.
    put(&env, "deploy_grace: 1m\nfilters:\n  backend: ['server/**']\n  frontend: ['web/**']\n").await;
    let github = MockServer::start().await;
    let dispatched = |kind: &str| {
        Mock::given(method("POST"))
            .and(path("/repos/acme/app/actions/workflows/deploy-staging.yml/dispatches"))
            .and(body_json(json!({"ref": "develop", "inputs": {"deployment-type": kind, "skip-tests": "false"}})))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
    };
    dispatched("backend-only").mount(&github).await;
    // The next push's dispatch also covers the first deploy, which never reported (so
    // `full`): what is asserted then is how the push itself was classified.
    dispatched("full").mount(&github).await;
    let mut vars = with_parameter(&env);
    vars.insert("GITHUB_WEBHOOK_SECRET".into(), SECRET.into());
    vars.insert("GITHUB_TOKEN".into(), "ghp_test_token".into());
    vars.insert("GITHUB_API_URL".into(), github.uri());
    let clients = clients(&env).await;
    let live = LiveConfig::new(vars, clients.ssm.clone()).unwrap();
    let api = staging_core::shell::github::GitHubApi::new(&live.deployed().github);
    let app = Webhook::with_live(clients, live, api).unwrap();
    let send = |request: lambda_http::Request, now: DateTime<Utc>| {
        let app = &app;
        async move {
            let response = handle(app, &request, now).await;
            (response.status().as_u16(), serde_json::from_slice::<Value>(response.body()).unwrap())
        }
    };
    let t0 = utc("2026-11-27T10:00:00.375Z");
    for (n, files) in [(1, &["server/src/app.ts"]), (2, &["client/src/App.tsx"]), (3, &["README.md"])] {
        compared(&github, n, files).await;
    }
    let (status, answer) = send(push(1, &["server/src/app.ts"]), t0).await;
    assert_eq!((status, answer["deployment_type"].as_str()), (202, Some("backend-only")), "{answer}");

    // The team moves the web app: a new version of the document, read within 5 minutes.
    put(&env, "deploy_grace: 1m\nfilters:\n  backend: ['server/**']\n  frontend: ['client/**']\n").await;
    let (status, answer) = send(push(2, &["client/src/App.tsx"]), t0 + Duration::minutes(6)).await;
    assert_eq!((status, answer["deployment_type"].as_str()), (202, Some("frontend-only")), "{answer}");
    assert_eq!(
        answer["filters"],
        json!({"backend": [], "frontend": ["client/src/App.tsx"]}),
        "the new filters classified it: {answer}"
    );

    // A version whose filters do not compile is refused; the last good filters decide.
    put(&env, "deploy_grace: 1m\nfilters:\n  backend: ['server/[']\n").await;
    let (status, answer) = send(push(3, &["README.md"]), t0 + Duration::minutes(12)).await;
    assert_eq!(
        answer["filters"],
        json!({"backend": [], "frontend": []}),
        "the last good filters, matching nothing: {answer}"
    );
    assert_eq!(status, 200, "{answer}");
    github.verify().await;
}
