//! Every adapter over HTTP: the real AWS SDK against moto, started by scripts/local-aws.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use staging_core::model::state::ScalableTarget;
use staging_core::shell::ShellError;
use staging_core::shell::executor::Executor;
use staging_core::shell::runner;
use staging_core::shell::store::{Claim, Store};
use staging_core::shell::{budgets, ecs::RESTORE_COUNT_TAG};
use staging_core::{Notification, NotificationEvent, Severity};
use staging_system_tests::{clients, config, drain_team_queue, reset, serial};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn scaling_to_zero_and_back_restores_the_earlier_count() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let service = executor.service().unwrap();

    clients
        .ecs
        .update_service()
        .cluster(&env["STAGING_CLUSTER"])
        .service(&env["STAGING_SERVICE"])
        .desired_count(3)
        .send()
        .await
        .unwrap();
    service.scale(0).await.unwrap();
    let down = service.observe().await.unwrap();
    assert_eq!((down.desired_count, down.running_count), (0, 0));
    assert_eq!(service.remembered_count(&down.arn).await.unwrap(), Some(3), "tag {RESTORE_COUNT_TAG}");

    // Scaling an already stopped service to zero again keeps the remembered count.
    service.scale(0).await.unwrap();
    assert_eq!(service.restore().await.unwrap(), 3);
    let up = service.observe().await.unwrap();
    assert_eq!((up.desired_count, up.running_count), (3, 3));
}

#[tokio::test]
async fn two_writers_with_the_same_version_exactly_one_wins() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let store = Executor::new(&clients, &config).store().unwrap();

    let first = store.load("staging").await.unwrap();
    assert_eq!(first.version, 0);
    let (mut a, mut b) = (first.clone(), first);
    a.lock_budget(utc("2026-11-27T10:00:00Z"), "writer a");
    b.place_hold(
        staging_core::Hold {
            until: utc("2026-11-27T12:00:00Z"),
            reason: "writer b".into(),
            who: "b".into(),
            kind: staging_core::HoldKind::OnDemand,
            keep: false,
        },
        utc("2026-11-27T10:00:00Z"),
        Duration::hours(12),
    )
    .unwrap();

    let won = store.commit(&a).await.unwrap();
    assert_eq!(won.version, 1);
    let lost = store.commit(&b).await.unwrap_err();
    assert!(matches!(lost, ShellError::Conflict { .. }), "{lost}");
    assert!(lost.is_retryable());

    // The loser reloads, sees the winner's write, and commits on top of it.
    let mut reloaded = store.load("staging").await.unwrap();
    assert_eq!(reloaded.version, 1);
    assert_eq!(reloaded.budget_lock.as_ref().unwrap().reason, "writer a");
    assert!(reloaded.hold.is_none());
    reloaded.unlock_budget();
    assert_eq!(store.commit(&reloaded).await.unwrap().version, 2);
    // A writer still holding version 1 now loses too.
    assert!(matches!(store.commit(&won).await, Err(ShellError::Conflict { .. })));
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_stored_result() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let store = Executor::new(&clients, &config).store().unwrap();
    let now = utc("2026-11-27T10:00:00Z");
    let (expiry, busy_until) = (now + Duration::hours(72), now + Duration::seconds(10));

    assert_eq!(store.claim("delivery-1", "hash-a", now, expiry, busy_until).await.unwrap(), Claim::New);
    assert_eq!(store.claim("delivery-1", "hash-a", now, expiry, busy_until).await.unwrap(), Claim::InProgress);
    let result = json!({"status": 202, "plan": "backend-only"});
    store.complete("delivery-1", "hash-a", &result, expiry).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            store.claim("delivery-1", "hash-a", now, expiry, busy_until).await.unwrap(),
            Claim::Completed(result.clone())
        );
    }
    // The same key with another payload is refused, not served the old result.
    assert!(matches!(
        store.claim("delivery-1", "hash-b", now, expiry, busy_until).await,
        Err(ShellError::KeyReused { .. })
    ));
    // An in-progress claim whose invocation died can be taken over once it lapses.
    assert_eq!(store.claim("delivery-2", "h", now, expiry, busy_until).await.unwrap(), Claim::New);
    let later = now + Duration::seconds(11);
    assert_eq!(store.claim("delivery-2", "h", later, expiry, later + Duration::seconds(10)).await.unwrap(), Claim::New);
    // An expired record is as good as none; an abandoned one too.
    let after_expiry = expiry + Duration::seconds(1);
    assert_eq!(
        store
            .claim("delivery-1", "hash-a", after_expiry, after_expiry + Duration::hours(72), after_expiry)
            .await
            .unwrap(),
        Claim::New
    );
    store.abandon("delivery-2").await.unwrap();
    assert_eq!(store.claim("delivery-2", "h", later, expiry, later).await.unwrap(), Claim::New);
}

#[tokio::test]
async fn one_time_schedules_are_created_replaced_and_deleted_in_utc() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let schedules = Executor::new(&clients, &config).schedules().unwrap();

    let input = r#"{"command":"hold_expired","until":1795809600}"#;
    schedules.put_one_time("staging-hold-expiry", utc("2026-11-27T20:00:00Z"), input).await.unwrap();
    let first = schedules.get("staging-hold-expiry").await.unwrap().unwrap();
    assert_eq!(first.expression, "at(2026-11-27T20:00:00)");
    assert_eq!(first.time_zone.as_deref(), Some("UTC"));
    assert_eq!(first.input.as_deref(), Some(input));
    // Retried, then kept in the dead-letter queue rather than lost.
    assert_eq!(first.dead_letter_arn.as_deref(), Some(env["STAGING_SCHEDULE_DLQ_ARN"].as_str()));
    assert_eq!(first.retry_attempts, Some(staging_core::shell::scheduler::RETRY_ATTEMPTS));

    // Putting it again replaces it (and keeps the time zone explicit).
    schedules.put_one_time("staging-hold-expiry", utc("2026-11-27T22:30:00Z"), "{}").await.unwrap();
    let second = schedules.get("staging-hold-expiry").await.unwrap().unwrap();
    assert_eq!(second.expression, "at(2026-11-27T22:30:00)");
    assert_eq!(second.time_zone.as_deref(), Some("UTC"));
    assert_eq!(second.dead_letter_arn.as_deref(), Some(env["STAGING_SCHEDULE_DLQ_ARN"].as_str()));

    assert!(schedules.delete("staging-hold-expiry").await.unwrap());
    assert!(!schedules.delete("staging-hold-expiry").await.unwrap(), "deleting twice is not an error");
    assert_eq!(schedules.get("staging-hold-expiry").await.unwrap(), None);
}

#[tokio::test]
async fn the_budget_limit_is_read() {
    let _serial = serial();
    let env = reset();
    let config = config(&env);
    let account = config.resources.account_id().expect("derived from the topic ARN");
    let client = aws_sdk_budgets::Client::new(&staging_system_tests::sdk_config(&env).await);
    let status = budgets::read(&client, account, &env["STAGING_BUDGET_NAME"]).await.unwrap();
    assert_eq!(status.limit, Some(6.0));
    assert_eq!(status.unit.as_deref(), Some("USD"));
    let missing = budgets::read(&client, account, "no-such-budget").await.unwrap_err();
    assert!(!missing.is_retryable(), "{missing}");
}

#[tokio::test]
async fn a_notification_arrives_with_subject_attributes_and_chatbot_json() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    drain_team_queue(&env).await;
    let n =
        Notification::new(NotificationEvent::BudgetLocked, Severity::Critical, "staging: locked", "Spend passed $6.");
    let report = Executor::new(&clients, &config).execute_all(&[staging_core::Action::Notify(n)]).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);

    let messages = drain_team_queue(&env).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let envelope = &messages[0];
    assert_eq!(envelope["Subject"], "staging: locked");
    assert_eq!(envelope["MessageAttributes"]["severity"]["Value"], "critical");
    assert_eq!(envelope["MessageAttributes"]["event"]["Value"], "budget.locked");
    // The queue gets the `sqs` member of the JSON structure: the Chatbot format.
    let chatbot: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(chatbot["version"], "1.0");
    assert_eq!(chatbot["source"], "custom");
    assert_eq!(chatbot["content"]["textType"], "client-markdown");
    assert_eq!(chatbot["content"]["title"], "staging: locked");
    assert_eq!(chatbot["content"]["description"], "Spend passed $6.");
}

/// A day replayed through the lifecycle handler, as the schedules would fire it.
#[tokio::test]
async fn a_day_of_schedules_through_the_lifecycle_handler() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let (service, store, schedules) =
        (executor.service().unwrap(), executor.store().unwrap(), executor.schedules().unwrap());
    drain_team_queue(&env).await;

    let handle = |event: Value, now: &str| {
        let executor = &executor;
        let now = utc(now);
        async move { lifecycle::handle(executor, event, now).await.unwrap() }
    };
    // Friday 2026-11-27. The stack boots with the service up; the 18:00 teardown is
    // invoked a few seconds late and decides at its scheduled time.
    let out =
        handle(json!({"command": "teardown", "scheduled_time": "2026-11-27T18:00:00Z"}), "2026-11-27T18:00:03.25Z")
            .await;
    assert_eq!(out["summary"], "stopping");
    assert_eq!(service.observe().await.unwrap().desired_count, 0);

    // Someone needs it at 20:00: up, held for the default 2 h.
    let out =
        handle(json!({"command": "up", "who": "alice", "reason": "client demo"}), "2026-11-27T20:00:00.618Z").await;
    assert_eq!(out["summary"], "held until 22:00 UTC; starting");
    assert_eq!(service.observe().await.unwrap().desired_count, 1);
    let expiry = schedules.get("staging-hold-expiry").await.unwrap().expect("the hold's end is scheduled");
    assert_eq!(expiry.expression, "at(2026-11-27T22:00:00)");
    let fired: Value = serde_json::from_str(expiry.input.as_deref().unwrap()).unwrap();

    // The teardown schedule firing again in between is deferred by the hold.
    let out = handle(json!({"command": "teardown"}), "2026-11-27T21:00:00Z").await;
    assert_eq!(out["summary"], "teardown deferred: held until 22:00 UTC by alice");
    assert_eq!(service.observe().await.unwrap().desired_count, 1);

    // At 22:00 the schedule delivers exactly its input.
    let out = handle(fired, "2026-11-27T22:00:00.41Z").await;
    assert_eq!(out["summary"], "hold expired; stopping");
    assert_eq!(service.observe().await.unwrap().desired_count, 0);

    // Saturday's startup does nothing; Monday's brings back the remembered count.
    let out = handle(json!({"command": "startup"}), "2026-11-28T08:00:00Z").await;
    assert_eq!(out["summary"], "not starting: not a working day (or a holiday)");
    let out = handle(json!({"command": "startup"}), "2026-11-30T08:00:00Z").await;
    assert_eq!(out["summary"], "starting");
    assert_eq!(service.observe().await.unwrap().desired_count, 1);

    let state = store.load("staging").await.unwrap();
    assert!(state.hold.is_none());
    assert_eq!(state.phase, staging_core::Phase::Starting);
    // A commit for each decision that changed the intent: teardown, up, hold expiry,
    // Monday's startup. The deferred teardown and Saturday's startup changed nothing.
    assert_eq!(state.version, 4);
    let events: Vec<String> = drain_team_queue(&env)
        .await
        .iter()
        .map(|m| m["MessageAttributes"]["event"]["Value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["env.teardown", "env.hold", "env.startup", "env.teardown", "env.startup"]);
}

#[tokio::test]
async fn a_bad_event_changes_nothing_and_is_not_retried() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let err = lifecycle::handle(
        &Executor::new(&clients, &config),
        json!({"command": "explode"}),
        utc("2026-11-27T10:00:00Z"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ShellError::BadEvent(_)), "{err}");
    assert!(!err.is_retryable());
    let store = Executor::new(&clients, &config).store().unwrap();
    assert_eq!(store.load("staging").await.unwrap().version, 0);
}

#[tokio::test]
async fn a_missing_resource_name_is_reported_by_its_variable() {
    let _serial = serial();
    let mut env = reset();
    env.remove("STAGING_TABLE");
    let (clients, config) = (clients(&env).await, config(&env));
    let err = lifecycle::handle(
        &Executor::new(&clients, &config),
        json!({"command": "teardown"}),
        utc("2026-11-27T18:00:00Z"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "STAGING_TABLE is not set");
}

#[tokio::test]
async fn github_secrets_are_read_from_secrets_manager_when_named_by_arn() {
    let _serial = serial();
    let env = reset();
    let sdk = staging_system_tests::sdk_config(&env).await;
    let secrets = staging_core::shell::Lazy::from(aws_sdk_secretsmanager::Client::new(&sdk));
    let mut arns = Vec::new();
    for (name, value) in [("webhook", "new-secret, old-secret"), ("token", "ghp_from_secrets_manager")] {
        let out = secrets.create_secret().name(format!("staging-{name}")).secret_string(value).send().await.unwrap();
        arns.push(out.arn().unwrap().to_string());
    }
    let mut env = env.clone();
    env.remove("GITHUB_WEBHOOK_SECRET");
    env.insert("GITHUB_WEBHOOK_SECRET_ARN".into(), arns[0].clone());
    env.insert("GITHUB_TOKEN_ARN".into(), arns[1].clone());
    let mut github = config(&env).github;
    staging_core::shell::github::resolve_webhook_secret(&secrets, &mut github).await.unwrap();
    let values: Vec<&str> = github.webhook_secrets.iter().map(|s| s.expose()).collect();
    assert_eq!(values, ["new-secret", "old-secret"]);
    assert!(github.token.is_none(), "the token is not read at start");

    // The token is read the first time GitHub is called, and used.
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::header("authorization", "Bearer ghp_from_secrets_manager"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": "a.ts"}]})))
        .expect(2)
        .mount(&server)
        .await;
    github.api_url = server.uri();
    let api = staging_core::shell::github::GitHubApi::with_secrets(&github, &secrets).expect("a token ARN is a token");
    assert_eq!(api.compare("a", "b").await.unwrap(), ["a.ts"]);
    assert_eq!(api.compare("b", "c").await.unwrap(), ["a.ts"]);

    // A value given directly wins; a missing secret is an error that names the call, and
    // a token that cannot be read is a dispatch that was never sent.
    let mut direct = config(&env).github;
    direct.webhook_secrets = vec![staging_core::Secret::new("direct")];
    staging_core::shell::github::resolve_webhook_secret(&secrets, &mut direct).await.unwrap();
    assert_eq!(direct.webhook_secrets[0].expose(), "direct");
    let mut missing = config(&env).github;
    missing.webhook_secret_arn = Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf".into());
    let err = staging_core::shell::github::resolve_webhook_secret(&secrets, &mut missing).await.unwrap_err();
    assert!(err.to_string().starts_with("secretsmanager:GetSecretValue failed"), "{err}");
    assert!(!err.is_retryable());
    let mut no_token = github.clone();
    no_token.token_arn = missing.webhook_secret_arn.clone();
    let api = staging_core::shell::github::GitHubApi::with_secrets(&no_token, &secrets).unwrap();
    let err = api.dispatch("deploy.yml", "develop", &[]).await.unwrap_err();
    assert!(err.is_refusal() && !err.sent, "{err}");
    assert!(err.to_string().contains("no token: secretsmanager:GetSecretValue failed"), "{err}");
}

/// The audit trail's store: entries across a month boundary read back newest or oldest
/// first, a page at a time, bounded exactly (`until` excluded, to the nanosecond),
/// filtered by source, with a TTL `STAGING_HISTORY_DAYS` after each decision.
#[tokio::test]
async fn the_audit_trail_reads_back_in_order_across_months_and_pages() {
    use staging_core::audit::{Entry, Source};
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let store = Executor::new(&clients, &config).store().unwrap();
    let entry = |at: &str, source: Source| Entry {
        at: utc(at),
        source,
        who: "test".into(),
        input: "{}".into(),
        summary: format!("decided at {at}"),
        actions: vec!["did a thing".into()],
        errors: Vec::new(),
        version: Some(7),
        events: Vec::new(),
    };
    // Two at the same instant (a retried schedule) are both kept.
    let written = [
        entry("2026-10-31T23:59:59.999999999Z", Source::Schedule),
        entry("2026-11-01T00:00:00.000000001Z", Source::Operator),
        entry("2026-11-01T00:00:00.000000001Z", Source::Schedule),
        entry("2026-11-01T00:00:00.5Z", Source::Health),
        entry("2026-11-02T08:00:00.25Z", Source::Schedule),
    ];
    for e in &written {
        store.put_entry("staging", &Store::new_entry_id("staging", e), e, config.history_days).await.unwrap();
    }
    // Another environment's trail is not read.
    store.put_entry("other", &Store::new_entry_id("other", &written[4]), &written[4], 400).await.unwrap();

    let (from, to) = (utc("2026-10-31T00:00:00Z"), utc("2026-11-02T08:00:00.25Z"));
    let newest = store.entries("staging", from, to, true, None, None).await.unwrap();
    let ats: Vec<String> = newest.iter().map(|e| e.sort_key()).collect();
    assert_eq!(
        ats,
        [
            "2026-11-01T00:00:00.500000000Z",
            "2026-11-01T00:00:00.000000001Z",
            "2026-11-01T00:00:00.000000001Z",
            "2026-10-31T23:59:59.999999999Z",
        ],
        "newest first, both months, `to` itself excluded"
    );
    assert_eq!(newest[3], written[0], "an entry comes back as it was written");
    let oldest = store.entries("staging", from, to + Duration::nanoseconds(1), false, None, None).await.unwrap();
    assert_eq!(oldest.first(), Some(&written[0]));
    assert_eq!(oldest.last(), Some(&written[4]), "`to` one nanosecond later includes it");

    // A limit that ends inside the older month, and one page of one item at a time.
    let two = store.entries("staging", from, to, true, None, Some(2)).await.unwrap();
    assert_eq!(two.iter().map(|e| e.at).collect::<Vec<_>>(), [written[3].at, written[1].at]);
    let four = store.entries("staging", from, to, true, None, Some(4)).await.unwrap();
    assert_eq!(four.last().map(|e| e.at), Some(written[0].at), "the limit reaches into October");

    let schedule = store
        .entries("staging", from, utc("2026-12-01T00:00:00Z"), true, Some(Source::Schedule), Some(2))
        .await
        .unwrap();
    assert_eq!(
        schedule.iter().map(|e| (e.source, e.at)).collect::<Vec<_>>(),
        [(Source::Schedule, written[4].at), (Source::Schedule, written[2].at)]
    );
    assert!(
        store.entries("staging", to, from, true, None, None).await.unwrap().is_empty(),
        "an empty span reads nothing"
    );

    // Each item expires `STAGING_HISTORY_DAYS` (400) after its decision.
    let items = clients
        .dynamodb
        .scan()
        .table_name(&env["STAGING_TABLE"])
        .filter_expression("begins_with(id, :audit)")
        .expression_attribute_values(
            ":audit",
            aws_sdk_dynamodb::types::AttributeValue::S("audit#staging#2026-11-02".into()),
        )
        .send()
        .await
        .unwrap();
    let expiration = items.items()[0]["expiration"].as_n().unwrap().parse::<i64>().unwrap();
    assert_eq!(expiration, (written[4].at + Duration::days(400)).timestamp());
}

/// A decision's audit item is committed with the state or not at all: a lost race
/// writes neither, a won one both, and the entry written after acting replaces it.
#[tokio::test]
async fn a_decisions_entry_is_committed_with_the_state_or_not_at_all() {
    use staging_core::audit::{Entry, Event, Source};
    use staging_core::model::state::{EnvironmentState, Phase};
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let store = Executor::new(&clients, &config).store().unwrap();
    let at = utc("2026-11-24T18:00:00.500000001Z");
    let (from, to) = (utc("2026-11-24T00:00:00Z"), utc("2026-11-25T00:00:00Z"));
    let loaded = store.load("staging").await.unwrap();
    let mut next = loaded.clone();
    next.phase = Phase::Stopping;
    let entry = Entry {
        at,
        source: Source::Schedule,
        who: "teardown".into(),
        input: "{}".into(),
        summary: "stopping".into(),
        actions: Vec::new(),
        errors: Vec::new(),
        version: Some(loaded.version + 1),
        events: vec![Event::Phase { from: loaded.phase, to: Phase::Stopping }],
    };
    let id = Store::committed_entry_id("staging", &entry, loaded.version + 1);

    // A stale version: the race is lost, and neither item is written.
    let stale = EnvironmentState { version: loaded.version + 5, ..next.clone() };
    let lost = store.commit_with_entry(&stale, &id, &entry, 400).await.unwrap_err();
    assert!(matches!(lost, ShellError::Conflict { .. }), "{lost}");
    assert_eq!(store.load("staging").await.unwrap(), loaded, "the state is as it was");
    assert!(
        store.entries("staging", from, to, true, None, None).await.unwrap().is_empty(),
        "no entry for a decision not committed"
    );

    // Won: both.
    let committed = store.commit_with_entry(&next, &id, &entry, 400).await.unwrap();
    assert_eq!((committed.version, store.load("staging").await.unwrap().phase), (loaded.version + 1, Phase::Stopping));
    assert_eq!(store.entries("staging", from, to, true, None, None).await.unwrap(), std::slice::from_ref(&entry));

    // After acting, the same item gets what was done.
    let done = Entry { actions: vec!["scaled the service to 0".into()], ..entry.clone() };
    store.put_entry("staging", &id, &done, 400).await.unwrap();
    assert_eq!(store.entries("staging", from, to, true, None, None).await.unwrap(), [done], "replaced, not added");
}

/// A service under Application Auto Scaling (min 1, max 4, as the seed's "Fargate service
/// with auto-scaling"): the teardown parks its scalable target before scaling to zero, so no
/// scheduled action, alarm or "raise to the minimum" can bring it back while staging sleeps;
/// the startup puts back exactly what was there. moto keeps the target's values but runs no
/// scaling activity, so what is asserted is the registration that rules them out.
#[tokio::test]
async fn a_teardown_parks_the_scalable_target_and_the_startup_puts_it_back() {
    let _serial = serial();
    let env = reset();
    let (clients, config) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &config);
    let resource = format!("service/{}/{}", env["STAGING_CLUSTER"], env["STAGING_SERVICE"]);
    register(&clients, &resource, 1, 4).await;
    let target = || async {
        executor.scalable_targets().unwrap().observe().await.unwrap().expect("the target is still registered")
    };
    let desired = || async { executor.service().unwrap().observe().await.unwrap().desired_count };

    // Friday 18:00, a teardown with sub-second time: parked, then scaled to zero.
    let out = lifecycle::handle(
        &executor,
        json!({"command": "teardown", "scheduled_time": "2026-11-27T18:00:00Z"}),
        utc("2026-11-27T18:00:00.731Z"),
    )
    .await
    .unwrap();
    let done: Vec<&str> = out["done"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(done.first().copied(), Some("parked the scalable target (0-0, scaling suspended)"), "{out}");
    assert_eq!(desired().await, 0);
    assert_eq!(
        target().await,
        ScalableTarget::PARKED,
        "nothing can scale it out: max 0, every kind of scaling suspended"
    );
    let saved = executor.store().unwrap().load("staging").await.unwrap().scaling;
    assert_eq!(
        saved.map(|t| (t.min_capacity, t.max_capacity)),
        Some((1, 4)),
        "the target's values are kept in the state"
    );

    // A health tick in the night finds everything where the intent wants it: nothing moves.
    assert!(runner::reconcile(&executor, utc("2026-11-27T23:00:00.5Z")).await.unwrap().is_empty());

    // Monday 08:00: the service back, then the target exactly as it was.
    let out = lifecycle::handle(
        &executor,
        json!({"command": "startup", "scheduled_time": "2026-11-30T08:00:00Z"}),
        utc("2026-11-30T08:00:00.264Z"),
    )
    .await
    .unwrap();
    assert_eq!(out["summary"], "starting", "{out}");
    assert_eq!(desired().await, 1);
    let back = target().await;
    assert_eq!((back.min_capacity, back.max_capacity), (1, 4), "{back:?}");
    assert!(
        !back.dynamic_scaling_in_suspended && !back.dynamic_scaling_out_suspended && !back.scheduled_scaling_suspended,
        "{back:?}"
    );

    // Monday night: torn down again; then a team's infrastructure apply registers the
    // target anew (2-6) while staging sleeps. The next health tick saves those values
    // (committed) before its reconcile parks the target: nothing the team set is lost.
    lifecycle::handle(
        &executor,
        json!({"command": "teardown", "scheduled_time": "2026-11-30T18:00:00Z"}),
        utc("2026-11-30T18:00:00.5Z"),
    )
    .await
    .unwrap();
    assert_eq!(target().await, ScalableTarget::PARKED);
    register(&clients, &resource, 2, 6).await;
    let prober = staging_core::shell::probe::Prober::new(&config.probes).unwrap();
    let tick = json!({"command": "health", "scheduled_time": "2026-11-30T20:05:00Z"});
    health_check::handle(&executor, &prober, tick, utc("2026-11-30T20:05:00.75Z")).await.unwrap();
    assert_eq!(target().await, ScalableTarget::PARKED, "parked again by the tick");
    let saved = executor.store().unwrap().load("staging").await.unwrap().scaling.unwrap();
    assert_eq!((saved.min_capacity, saved.max_capacity), (2, 6), "the new values were saved first");
    lifecycle::handle(
        &executor,
        json!({"command": "startup", "scheduled_time": "2026-12-01T08:00:00Z"}),
        utc("2026-12-01T08:00:00.1Z"),
    )
    .await
    .unwrap();
    let back = target().await;
    assert_eq!((back.min_capacity, back.max_capacity), (2, 6), "{back:?}");
}

/// A GitHub token rotated (or replaced after it expired) in Secrets Manager needs no cold
/// start: a 401 reads the token again, once, and the call is made again with the new one.
#[tokio::test]
async fn a_rotated_github_token_is_read_again_on_a_401_and_the_dispatch_goes_through() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let _serial = serial();
    let env = reset();
    let sdk = staging_system_tests::sdk_config(&env).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let arn = client
        .create_secret()
        .name("staging-control/github-token")
        .secret_string("ghp_old")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    // GitHub takes only the new token; the old one has expired.
    let github = MockServer::start().await;
    let dispatch = "/repos/acme/app/actions/workflows/deploy-staging.yml/dispatches";
    Mock::given(method("POST"))
        .and(path(dispatch))
        .and(header("authorization", "Bearer ghp_old"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"})))
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path(dispatch))
        .and(header("authorization", "Bearer ghp_new"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&github)
        .await;
    let mut env = env.clone();
    env.insert("GITHUB_TOKEN_ARN".into(), arn.clone());
    env.insert("GITHUB_API_URL".into(), github.uri());
    let api = staging_core::shell::github::GitHubApi::with_secrets(
        &config(&env).github,
        &staging_core::shell::Lazy::from(client.clone()),
    )
    .unwrap();
    let inputs = [("deployment-type", "full".to_string())];
    let sent_with = |token: &'static str| {
        let github = &github;
        async move {
            let requests = github.received_requests().await.unwrap();
            requests
                .iter()
                .filter(|r| r.headers.get("authorization").is_some_and(|v| v == format!("Bearer {token}").as_str()))
                .count()
        }
    };

    // Not rotated yet: read again, still the old one: the 401 stands, named, never the token.
    let err = api.dispatch("deploy-staging.yml", "develop", &inputs).await.unwrap_err();
    assert_eq!(err.status, Some(401), "{err}");
    assert!(err.to_string().contains("Bad credentials") && !err.to_string().contains("ghp_old"), "{err}");
    assert_eq!(sent_with("ghp_old").await, 1, "the same token is not sent twice");

    // Rotated: the token in hand is refused, read again, and the dispatch goes through once.
    client.put_secret_value().secret_id(&arn).secret_string("ghp_new").send().await.unwrap();
    api.dispatch("deploy-staging.yml", "develop", &inputs).await.unwrap();
    assert_eq!((sent_with("ghp_old").await, sent_with("ghp_new").await), (2, 1));
    // And kept: the next call goes with the new token at once.
    api.dispatch("deploy-staging.yml", "develop", &inputs).await.unwrap();
    assert_eq!((sent_with("ghp_old").await, sent_with("ghp_new").await), (2, 2));
}

/// Registers the service's scalable target as a team's infrastructure would: these bounds,
/// nothing suspended.
async fn register(clients: &staging_core::shell::Clients, resource: &str, min: i32, max: i32) {
    use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace, SuspendedState};
    let nothing_suspended = SuspendedState::builder()
        .scheduled_scaling_suspended(false)
        .dynamic_scaling_in_suspended(false)
        .dynamic_scaling_out_suspended(false)
        .build();
    clients
        .autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(min)
        .max_capacity(max)
        .suspended_state(nothing_suspended)
        .send()
        .await
        .unwrap();
}
