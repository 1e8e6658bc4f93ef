//! The budget-alert handler end to end against moto: the sample SNS events in `events/`
//! as AWS Budgets would publish them, the state in DynamoDB, ECS scaled, the team told
//! through SNS → SQS.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use staging_core::shell::executor::Executor;
use staging_system_tests::{clients, config, drain_team_queue, repo_root, reset, serial};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn sample(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(format!("events/budget-alert.{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The events and severities the team queue received, in order.
async fn told(env: &std::collections::BTreeMap<String, String>) -> Vec<(String, String)> {
    drain_team_queue(env)
        .await
        .iter()
        .map(|m| {
            let attribute = |name: &str| m["MessageAttributes"][name]["Value"].as_str().unwrap_or_default().to_string();
            (attribute("event"), attribute("severity"))
        })
        .collect()
}

#[tokio::test]
async fn an_over_budget_alert_locks_and_scales_to_zero_until_the_next_period() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let (service, store) = (executor.service().unwrap(), executor.store().unwrap());
    service.scale(2).await.unwrap();
    drain_team_queue(&env).await;

    // Friday afternoon: actual spend passes the budget.
    let out = budget_alert::handle(&executor, sample("actual-over"), utc("2026-11-27T14:03:12.38Z")).await.unwrap();
    assert_eq!(out["records"][0]["answer"]["summary"], "locked for 2026-11; stopping", "{out}");
    assert_eq!(service.observe().await.unwrap().desired_count, 0, "scaled to zero");
    let state = store.load("staging").await.unwrap();
    let lock = state.budget_lock.clone().expect("locked");
    assert_eq!(lock.period.to_string(), "2026-11");
    assert_eq!(lock.locked_at, utc("2026-11-27T14:03:12Z"), "stored at whole seconds");
    assert_eq!(told(&env).await, [("budget.locked".to_string(), "critical".to_string())]);

    // SNS delivers it again: nothing, nobody told.
    let again = budget_alert::handle(&executor, sample("actual-over"), utc("2026-11-27T14:04:00Z")).await.unwrap();
    assert_eq!(again["records"][0]["answer"]["summary"], "already handled: ACTUAL at 100%", "{again}");
    assert_eq!(store.load("staging").await.unwrap().version, state.version);
    assert!(told(&env).await.is_empty());

    // Monday's startup stays down.
    let startup = |at: &str| json!({"command": "startup", "scheduled_time": at});
    let out =
        lifecycle::handle(&executor, startup("2026-11-30T08:00:00Z"), utc("2026-11-30T08:00:00.6Z")).await.unwrap();
    assert_eq!(out["summary"], "not starting: locked by the budget");
    assert_eq!(service.observe().await.unwrap().desired_count, 0);

    // A forecast alert later in the month (another threshold) warns.
    let out = budget_alert::handle(&executor, sample("forecast"), utc("2026-11-30T09:00:00.2Z")).await.unwrap();
    assert_eq!(out["records"][0]["answer"]["summary"], "warned: forecast 151%; holds capped for 2026-11", "{out}");
    assert_eq!(told(&env).await, [("budget.warning".to_string(), "warning".to_string())]);

    // The first working day of December: the lock has lapsed, the earlier count is back.
    let out =
        lifecycle::handle(&executor, startup("2026-12-01T08:00:00Z"), utc("2026-12-01T08:00:01.9Z")).await.unwrap();
    assert_eq!(out["summary"], "starting");
    assert_eq!(service.observe().await.unwrap().desired_count, 2, "the count it had");
}

#[tokio::test]
async fn an_alert_at_eighty_percent_warns_and_changes_nothing_else() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    drain_team_queue(&env).await;
    let out = budget_alert::handle(&executor, sample("actual-80"), utc("2026-11-20T09:12:41.5Z")).await.unwrap();
    assert_eq!(out["records"][0]["answer"]["summary"], "warned: ACTUAL 82%", "{out}");
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 1);
    assert!(executor.store().unwrap().load("staging").await.unwrap().budget_lock.is_none());
    assert_eq!(told(&env).await, [("budget.warning".to_string(), "warning".to_string())]);
}

#[tokio::test]
async fn other_messages_on_the_topic_are_forwarded_and_change_nothing() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    drain_team_queue(&env).await;
    for name in ["unrelated", "other-budget"] {
        let out = budget_alert::handle(&executor, sample(name), utc("2026-11-27T14:05:00.5Z")).await.unwrap();
        assert_eq!(out["records"][0]["answer"]["summary"], "forwarded to the team", "{name}: {out}");
    }
    let messages = drain_team_queue(&env).await;
    let subjects: Vec<&str> = messages.iter().map(|m| m["Subject"].as_str().unwrap()).collect();
    assert_eq!(
        subjects,
        [
            "staging: budget topic: Test notification",
            "staging: budget topic: AWS Budgets: production-monthly has exceeded your alert threshold",
        ]
    );
    assert_eq!(executor.store().unwrap().load("staging").await.unwrap().version, 0, "no state written");
    assert_eq!(executor.service().unwrap().observe().await.unwrap().desired_count, 1);
}

#[tokio::test]
async fn a_truncated_alert_is_a_clear_error_for_its_record_and_not_retried() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    drain_team_queue(&env).await;
    let mut event = sample("actual-over");
    let message = event["Records"][0]["Sns"]["Message"].as_str().unwrap().to_string();
    event["Records"][0]["Sns"]["Message"] = json!(message[..message.find("Budgeted Amount").unwrap()]);
    let out = budget_alert::handle(&executor, event, utc("2026-11-27T14:03:12Z")).await.unwrap();
    let error = out["records"][0]["error"].as_str().unwrap();
    assert_eq!(error, "bad event: a truncated AWS Budgets notification: no `Alert Type:` line");
    assert_eq!(executor.store().unwrap().load("staging").await.unwrap().version, 0);
    // Not lost: the team gets the text as it came.
    let messages = drain_team_queue(&env).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["Subject"], "staging: budget topic: budget alert not understood");
    assert!(messages[0]["Message"].as_str().unwrap().contains("no `Alert Type:` line"), "{}", messages[0]);

    let err = budget_alert::handle(&executor, json!({"not": "sns"}), utc("2026-11-27T14:03:12Z")).await.unwrap_err();
    assert!(!err.is_retryable() && err.to_string().starts_with("bad event: expected an SNS event"), "{err}");
}

/// Loads what moto's Cost Explorer answers next (its documented test hook).
async fn load_cost_explorer(env: &std::collections::BTreeMap<String, String>, results: Value) {
    let url = format!("{}/moto-api/static/ce/cost-and-usage-results", env["AWS_ENDPOINT_URL"]);
    // Over the shell's own HTTP client: no second client in the graph for one call.
    let request =
        http::Request::post(url).body(http_body_util::Full::new(bytes::Bytes::from(results.to_string()))).unwrap();
    let client = staging_core::shell::http::HttpClient::new(false);
    let answer = client.send(request, std::time::Duration::from_secs(10), 4096).await.unwrap();
    assert!((200..300).contains(&answer.status), "{}", answer.status);
}

fn service_day(day: &str, next: &str, services: &[(&str, &str)]) -> Value {
    json!({
        "TimePeriod": {"Start": day, "End": next}, "Total": {}, "Estimated": false,
        "Groups": services.iter().map(|(s, usd)| json!({"Keys": [s], "Metrics": {"UnblendedCost": {"Amount": usd, "Unit": "USD"}}})).collect::<Vec<_>>(),
    })
}

#[tokio::test]
async fn the_daily_report_tells_the_bill_the_deployments_and_the_target() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let store = executor.store().unwrap();
    let mut state = store.load("staging").await.unwrap();
    state.deploy_tally =
        staging_core::model::state::DeployTally { period: Some("2026-11".parse().unwrap()), count: 3, succeeded: 2 };
    store.commit(&state).await.unwrap();
    load_cost_explorer(&env, json!({"results": [{"ResultsByTime": [
        service_day("2026-11-25", "2026-11-26", &[("Amazon Elastic Container Service", "0.10")]),
        service_day("2026-11-26", "2026-11-27", &[("Amazon Elastic Container Service", "0.12"), ("Elastic Load Balancing", "0.54")]),
    ], "DimensionValueAttributes": []}]}))
    .await;
    drain_team_queue(&env).await;

    let out = budget_alert::handle(&executor, json!({"command": "daily_report"}), utc("2026-11-27T07:00:00.5Z"))
        .await
        .unwrap();
    assert_eq!(out["summary"], "staging: cost $0.66 on Nov 26, $0.76 this month, OVER target", "{out}");
    let messages = drain_team_queue(&env).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["MessageAttributes"]["event"]["Value"], "cost.report");
    assert_eq!(messages[0]["MessageAttributes"]["severity"]["Value"], "info");
    let chatbot: Value = serde_json::from_str(messages[0]["Message"].as_str().unwrap()).unwrap();
    let text = chatbot["content"]["description"].as_str().unwrap();
    for line in [
        "Yesterday (2026-11-26): $0.66",
        "Elastic Load Balancing",
        "Month to date (2026-11): $0.76",
        "Forecast: unavailable (ce:GetCostForecast failed",
        "Deployments this month: 3 (2 succeeded), $0.25 per deployment",
        "Staging Control itself: $0.60 a month",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn without_bill_data_the_report_says_so_and_gives_the_model() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let out = budget_alert::handle(&executor, json!({"command": "daily_report"}), utc("2026-12-01T07:00:00.5Z"))
        .await
        .unwrap();
    let text = out["text"].as_str().unwrap();
    assert!(text.contains("Cost Explorer has no data"), "{text}");
    assert!(text.contains("Model's projection for 2026-12:"), "{text}");
    assert_eq!(out["report"]["yesterday_usd"], Value::Null);
}
