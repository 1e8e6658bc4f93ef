//! Stack-mode teardown (#11) end to end against moto: the app stack of
//! `events/app-stack.yaml` is paused by the teardown (saved, then deleted: its load
//! balancer and alias record go), a push while paused wakes it (created again from the
//! saved copy: a new load balancer, the alias recreated pointing at it) and waits, and
//! the stack's completion event makes staging up: the service back at its earlier
//! count, the deploy dispatched to a loopback GitHub, the team told how long it took.
//!
//! moto creates and deletes stacks at once and emits no EventBridge events, so the test
//! sends the "CloudFormation Stack Status Change" events itself, as EventBridge would.
//! moto does not delete a NAT Gateway with its stack (nor an ECS service), so the NAT
//! Gateway's removal is checked as the stack's resource going with the stack, not as
//! `describe_nat_gateways` no longer listing it.
#![allow(clippy::await_holding_lock)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use github_webhook::Webhook;
use serde_json::{Value, json};
use staging_core::shell::executor::Executor;
use staging_core::shell::github::GitHubApi;
use staging_system_tests::{clients, config, drain_team_queue, observe, repo_root, reset, serial};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "local-webhook-secret";
const STACK: &str = "staging-app";
const API_NAME: &str = "api.staging.example.com";
/// The service role the stack is created with (moto does not check it exists).
const ROLE: &str = "arn:aws:iam::123456789012:role/staging-app-cloudformation";

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn stack_event(stack_id: &str, status: &str) -> Value {
    json!({"version": "0", "id": "7e2f-1", "detail-type": "CloudFormation Stack Status Change", "source": "aws.cloudformation",
           "account": "123456789012", "time": "2026-11-27T19:10:00Z", "region": "us-east-1", "resources": [stack_id],
           "detail": {"stack-id": stack_id, "status-details": {"status": status, "status-reason": ""}}})
}

/// The stack's resources of one type, as CloudFormation lists them.
async fn resources(cfn: &aws_sdk_cloudformation::Client, kind: &str) -> Vec<String> {
    let out = cfn.describe_stack_resources().stack_name(STACK).send().await.unwrap();
    out.stack_resources()
        .iter()
        .filter(|r| r.resource_type() == Some(kind))
        .filter_map(|r| r.physical_resource_id().map(str::to_string))
        .collect()
}

fn alias(env: &BTreeMap<String, String>, zone: &str) -> Option<String> {
    let records = observe(env, &["records", zone]);
    records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == API_NAME && r["type"] == "A")
        .map(|r| r["alias"].as_str().unwrap_or_default().to_string())
}

/// A push of a backend change to `develop`, at 18:59 on Friday.
fn backend_push() -> Vec<u8> {
    let push = json!({
        "ref": "refs/heads/develop", "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        "created": false, "deleted": false, "forced": false, "base_ref": null, "compare": "",
        "commits": [{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "distinct": true, "message": "teams", "timestamp": "2026-11-27T18:59:00+00:00",
                     "author": {"name": "Alice", "email": "alice@example.com", "username": "alice"},
                     "added": [], "removed": [], "modified": ["apps/express-api/src/app.ts"]}],
        "head_commit": null, "repository": {"name": "app", "full_name": "acme/app", "private": true},
        "pusher": {"name": "alice", "email": "alice@example.com"}, "sender": {"login": "alice", "type": "User"}
    });
    serde_json::to_vec(&push).unwrap()
}

fn load_balancers(env: &BTreeMap<String, String>) -> Vec<String> {
    observe(env, &["load-balancers"])
        .as_array()
        .unwrap()
        .iter()
        .map(|lb| lb["dns"].as_str().unwrap().to_string())
        .collect()
}

/// The app stack of `events/app-stack.yaml` as a user has it: created with its service
/// role, the API name's alias in a new hosted zone.
async fn create_app_stack(env: &BTreeMap<String, String>, cfn: &aws_sdk_cloudformation::Client) {
    let zone = observe(env, &["create-zone", "staging.example.com"]).as_str().unwrap().to_string();
    let template = std::fs::read_to_string(repo_root().join("events/app-stack.yaml")).unwrap();
    let param = |k: &str, v: &str| {
        aws_sdk_cloudformation::types::Parameter::builder().parameter_key(k).parameter_value(v).build()
    };
    cfn.create_stack()
        .stack_name(STACK)
        .template_body(&template)
        .parameters(param("HostedZoneId", &zone))
        .parameters(param("ApiName", API_NAME))
        .parameters(param("RouteTables", "false"))
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn teardown_pauses_the_stack_and_a_push_waits_for_it_to_come_back() {
    let _serial = serial();
    let mut env = reset();
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/actions/workflows/deploy-staging.yml/dispatches"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .named("one dispatch, after up")
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/compare/6113728f27ae82c7b1a177c8d03f9e96e0adf246...0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"files": [{"filename": "apps/express-api/src/app.ts", "status": "modified"}]})))
        .mount(&github)
        .await;
    for (k, v) in [
        ("STAGING_TEARDOWN", "stack"),
        ("STAGING_PAUSE_STACK", STACK),
        ("STAGING_CLUSTER", "staging-app"),
        ("STAGING_SERVICE", "api"),
        ("GITHUB_WEBHOOK_SECRET", SECRET),
        ("GITHUB_TOKEN", "ghp_test_token"),
    ] {
        env.insert(k.into(), v.into());
    }
    env.insert("GITHUB_API_URL".into(), github.uri());
    let clients = clients(&env).await;
    let config = config(&env);
    let cfn = &clients.cloudformation;

    // The app stack as a user would have it: created once, by hand, running 3 tasks.
    let zone = observe(&env, &["create-zone", "staging.example.com"]).as_str().unwrap().to_string();
    let template = std::fs::read_to_string(repo_root().join("events/app-stack.yaml")).unwrap();
    let param = |k: &str, v: &str| {
        aws_sdk_cloudformation::types::Parameter::builder().parameter_key(k).parameter_value(v).build()
    };
    let created = cfn
        .create_stack()
        .stack_name(STACK)
        .template_body(&template)
        .parameters(param("HostedZoneId", &zone))
        .parameters(param("ApiName", API_NAME))
        // moto cannot delete route tables from CloudFormation (see the template).
        .parameters(param("RouteTables", "false"))
        .tags(aws_sdk_cloudformation::types::Tag::builder().key("Environment").value("staging").build())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();
    let first_id = created.stack_id().unwrap().to_string();
    // A deploy has since moved the service past the template's task definition.
    let deployed = clients
        .ecs
        .register_task_definition()
        .family("api")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("api")
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/api:0d1a26e")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap()
        .to_string();
    clients
        .ecs
        .update_service()
        .cluster("staging-app")
        .service("api")
        .desired_count(3)
        .task_definition(&deployed)
        .send()
        .await
        .unwrap();
    let first_lb = load_balancers(&env);
    assert_eq!(first_lb.len(), 1, "the stack's load balancer");
    assert_eq!(alias(&env, &zone).as_deref(), Some(first_lb[0].as_str()), "the API name points at it");
    let first_nat = resources(cfn, "AWS::EC2::NatGateway").await;
    assert_eq!(first_nat.len(), 1, "the stack owns a NAT Gateway");

    let secrets = staging_core::shell::Lazy::from(aws_sdk_secretsmanager::Client::new(
        &staging_system_tests::sdk_config(&env).await,
    ));
    let gh = GitHubApi::with_secrets(&config.github, &secrets);
    let mut executor = Executor::new(&clients, &config);
    executor.github = gh.as_ref();

    // Friday 18:00: the scheduled teardown. The service goes to zero (3 remembered), the
    // stack is saved and deleted.
    let teardown = json!({"command": "teardown", "scheduled_time": "2026-11-27T18:00:00Z"});
    let out = lifecycle::handle(&executor, teardown, utc("2026-11-27T18:00:00.417Z")).await.unwrap();
    assert!(out["summary"].as_str().unwrap().contains("stopping: deleting the stack"), "{out}");
    let gone = cfn.describe_stacks().stack_name(STACK).send().await;
    assert!(gone.is_err(), "the stack is deleted");
    assert!(load_balancers(&env).is_empty(), "the load balancer went with it");
    assert_eq!(alias(&env, &zone), None, "the alias record went with it");
    let copy = executor.pause_stack().unwrap().unwrap().saved().await.unwrap().expect("a saved copy");
    assert_eq!(copy.template_body, template, "the template as submitted");
    assert!(
        copy.parameters.contains(&("HostedZoneId".into(), zone.clone()))
            && copy.parameters.contains(&("ApiName".into(), API_NAME.into()))
    );
    assert_eq!(copy.tags, [("Environment".to_string(), "staging".to_string())]);
    assert_eq!(copy.service_count, Some(3));
    assert_eq!(copy.task_definition.as_deref(), Some(deployed.as_str()));
    assert_eq!(copy.role_arn.as_deref(), Some(ROLE));
    // moto sends no event: the fallback, the 5-minute check, finds the delete done. Its
    // input is what Scheduler holds.
    let check = executor
        .schedules()
        .unwrap()
        .get("staging-stack-check")
        .await
        .unwrap()
        .expect("the fallback check is scheduled");
    assert_eq!(check.expression, "at(2026-11-27T18:05:00)");
    let input: Value = serde_json::from_str(check.input.as_deref().unwrap()).unwrap();
    assert_eq!(input, json!({"command": "stack_check"}));
    let out = lifecycle::handle(&executor, input, utc("2026-11-27T18:05:00.250Z")).await.unwrap();
    assert_eq!(out["summary"], "paused: the stack was deleted in 5m", "{out}");
    // Its DELETE_COMPLETE event, arriving late, changes nothing.
    let late = lifecycle::handle(&executor, stack_event(&first_id, "DELETE_COMPLETE"), utc("2026-11-27T18:05:01.5Z"))
        .await
        .unwrap();
    assert_eq!(late["summary"], "nothing to look at: no stack operation in progress", "{late}");
    assert_eq!(out["state"]["phase"], "down");
    let told = drain_team_queue(&env).await;
    assert_eq!(told.len(), 1, "the teardown, told once: {told:?}");

    // 19:00, outside hours: a backend push wakes staging. The stack is created again from
    // its copy; the deploy waits, and the notice says when staging should be ready.
    let app = Webhook::new(clients.clone(), config.clone()).unwrap();
    let response = github_webhook::handle(
        &app,
        &staging_system_tests::signed_request(SECRET, "push", "d-1", &backend_push()),
        utc("2026-11-27T19:00:00.731Z"),
    )
    .await;
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(response.status(), 202, "{body}");
    assert!(
        body["summary"].as_str().unwrap().starts_with("pending until staging is up (expected about 19:10 UTC)"),
        "{body}"
    );
    let second_lb = load_balancers(&env);
    assert_eq!(second_lb.len(), 1, "a load balancer again");
    assert_ne!(second_lb, first_lb, "a new one, with a new DNS name");
    assert_eq!(
        alias(&env, &zone).as_deref(),
        Some(second_lb[0].as_str()),
        "the API name follows it: the front door is stable"
    );
    let second_nat = resources(cfn, "AWS::EC2::NatGateway").await;
    assert_eq!(second_nat.len(), 1);
    assert_ne!(second_nat, first_nat, "a new NAT Gateway");
    let nats = observe(&env, &["nat-gateways"]);
    assert!(
        nats.as_array().unwrap().iter().any(|n| n["id"] == second_nat[0].as_str() && n["state"] == "available"),
        "{nats}"
    );
    let told = drain_team_queue(&env).await;
    let planned =
        told.iter().find(|m| m["MessageAttributes"]["event"]["Value"] == "deploy.planned").expect("the push is told");
    assert!(planned["Message"].as_str().unwrap().contains("expected to be ready about 19:10 UTC"), "{planned}");
    let second_id =
        cfn.describe_stacks().stack_name(STACK).send().await.unwrap().stacks()[0].stack_id().unwrap().to_string();
    assert_ne!(second_id, first_id);

    // An event about another stack changes nothing.
    let other = lifecycle::handle(
        &executor,
        stack_event("arn:aws:cloudformation:us-east-1:123456789012:stack/other/1", "CREATE_COMPLETE"),
        utc("2026-11-27T19:05:00.5Z"),
    )
    .await
    .unwrap();
    assert_eq!(
        other["summary"],
        "ignored: arn:aws:cloudformation:us-east-1:123456789012:stack/other/1 is not the pause stack"
    );

    let posts = github
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method == wiremock::http::Method::POST)
        .count();
    assert_eq!(posts, 0, "nothing dispatched while the stack is being created");

    // 19:09:30: CREATE_COMPLETE. Up: the service back at 3, the deploy dispatched, the
    // start's duration told.
    let out = lifecycle::handle(&executor, stack_event(&second_id, "CREATE_COMPLETE"), utc("2026-11-27T19:09:30.125Z"))
        .await
        .unwrap();
    let summary = out["summary"].as_str().unwrap();
    assert!(summary.starts_with("up: the stack was created in 9m; dispatched backend-only"), "{out}");
    assert_eq!(out["state"]["phase"], "up");
    assert_eq!(out["state"]["stack"]["start_secs"], json!([570]));
    let service = executor.service().unwrap().observe().await.unwrap();
    assert_eq!(service.desired_count, 3, "the count it had before the teardown");
    assert_eq!(
        service.task_definition.as_deref(),
        Some(deployed.as_str()),
        "and what the deploy had put there, not the template's"
    );
    let told = drain_team_queue(&env).await;
    let events: Vec<&str> = told.iter().map(|m| m["MessageAttributes"]["event"]["Value"].as_str().unwrap()).collect();
    assert!(events.contains(&"env.startup") && events.contains(&"deploy.planned"), "{events:?}");
    let up =
        told.iter().find(|m| m["Subject"].as_str().unwrap_or_default().contains("up after")).expect("how long it took");
    assert_eq!(up["Subject"], "staging: up after 9m");
    // The same event again changes nothing and dispatches nothing more (wiremock
    // checks one dispatch when the server drops).
    let again = lifecycle::handle(&executor, stack_event(&second_id, "CREATE_COMPLETE"), utc("2026-11-27T19:09:31.5Z"))
        .await
        .unwrap();
    assert_eq!(again["summary"], "nothing to look at: no stack operation in progress", "{again}");

    // 20:00 bob stops it; 20:30 he starts it again and, 20:31, stops it before the stack
    // reported complete: the service in that stack is the template's, so the copy keeps
    // the one paused at 20:00.
    let run = |command: Value, at: &str| {
        let (executor, at) = (&executor, utc(at));
        async move { lifecycle::handle(executor, command, at).await.unwrap() }
    };
    run(json!({"command": "down", "who": "bob"}), "2026-11-27T20:00:00.5Z").await;
    run(json!({"command": "stack_check"}), "2026-11-27T20:05:00.5Z").await;
    let out =
        run(json!({"command": "up", "hold": "1h", "reason": "try", "who": "bob"}), "2026-11-27T20:30:00.5Z").await;
    assert!(out["summary"].as_str().unwrap().contains("starting: creating the stack"), "{out}");
    let out = run(json!({"command": "down", "who": "bob"}), "2026-11-27T20:31:00.5Z").await;
    assert!(out["summary"].as_str().unwrap().contains("stopping: deleting the stack"), "{out}");
    let copy = executor.pause_stack().unwrap().unwrap().saved().await.unwrap().expect("a saved copy");
    assert_eq!(
        (copy.service_count, copy.task_definition.as_deref()),
        (Some(3), Some(deployed.as_str())),
        "the service paused at 20:00"
    );
    assert!(cfn.describe_stacks().stack_name(STACK).send().await.is_err(), "paused again");
}

#[tokio::test]
async fn a_stack_that_could_not_come_back_is_not_paused() {
    let _serial = serial();
    let mut env = reset();
    env.insert("STAGING_TEARDOWN".into(), "stack".into());
    env.insert("STAGING_PAUSE_STACK".into(), STACK.into());
    env.insert("STAGING_CLUSTER".into(), "staging-app".into());
    env.insert("STAGING_SERVICE".into(), "api".into());
    let clients = clients(&env).await;
    let config = config(&env);
    let zone = observe(&env, &["create-zone", "staging.example.com"]).as_str().unwrap().to_string();
    let template = std::fs::read_to_string(repo_root().join("events/app-stack.yaml")).unwrap();
    let param = |k: &str, v: &str| {
        aws_sdk_cloudformation::types::Parameter::builder().parameter_key(k).parameter_value(v).build()
    };
    // Created without a service role: the functions could not create it again.
    clients
        .cloudformation
        .create_stack()
        .stack_name(STACK)
        .template_body(&template)
        .parameters(param("HostedZoneId", &zone))
        .parameters(param("RouteTables", "false"))
        .send()
        .await
        .unwrap();
    let executor = Executor::new(&clients, &config);
    let teardown = json!({"command": "teardown", "scheduled_time": "2026-11-27T18:00:00Z"});
    let err = lifecycle::handle(&executor, teardown, utc("2026-11-27T18:00:00.5Z")).await.unwrap_err();
    assert!(err.to_string().contains("has no service role") && err.to_string().contains("not paused"), "{err}");
    assert!(!err.is_retryable(), "a retry would be refused the same way");
    // The refusal is recorded and told, critically; "tearing down" is not.
    let state = executor.store().unwrap().load("staging").await.unwrap();
    let failure = state.stack.failure.expect("the refusal is recorded");
    assert_eq!(failure.status, "REFUSED");
    assert!(failure.reason.contains("has no service role"));
    assert_eq!(state.stack.in_progress, None, "not waited for");
    let told = drain_team_queue(&env).await;
    let subjects: Vec<&str> = told.iter().map(|m| m["Subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["staging: the stack staging-app was not paused"], "{told:?}");
    assert_eq!(told[0]["MessageAttributes"]["severity"]["Value"], "critical");
    // The next look leaves it to a person: nothing is tried again, nothing told again.
    let check =
        lifecycle::handle(&executor, json!({"command": "stack_check"}), utc("2026-11-27T18:05:00.5Z")).await.unwrap();
    assert_eq!(check["summary"], "nothing to look at: no stack operation in progress", "{check}");
    assert!(drain_team_queue(&env).await.is_empty());
    let still = clients.cloudformation.describe_stacks().stack_name(STACK).send().await.unwrap();
    assert_eq!(still.stacks()[0].stack_status().map(|s| s.as_str()), Some("CREATE_COMPLETE"), "the stack stands");
    assert_eq!(load_balancers(&env).len(), 1, "nothing of it was deleted");
    assert_eq!(executor.pause_stack().unwrap().unwrap().saved().await.unwrap(), None, "nothing saved");

    // A misspelt STAGING_PAUSE_STACK: a stack never there is not "paused".
    let mut typo = env.clone();
    typo.insert("STAGING_PAUSE_STACK".into(), "staging-ap".into());
    let typo_config = staging_system_tests::config(&typo);
    let executor = Executor::new(&clients, &typo_config);
    clients.ecs.update_service().cluster("staging-app").service("api").desired_count(1).send().await.unwrap();
    let err = lifecycle::handle(&executor, json!({"command": "down", "who": "bob"}), utc("2026-11-27T19:00:00.5Z"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("there is no stack staging-ap and no saved copy"), "{err}");
    let told = drain_team_queue(&env).await;
    assert!(told.iter().any(|m| m["Subject"] == "staging: the stack staging-ap was not paused"), "{told:?}");
}

/// The deployed webhook holds no CloudFormation rights: a push that wakes a paused staging
/// hands the create to the lifecycle function through the `<env>-stack-now` one-time
/// schedule, and the lifecycle function, fired with that schedule's input, creates it.
#[tokio::test]
async fn the_webhook_hands_a_stack_create_to_the_lifecycle_function() {
    let _serial = serial();
    let mut env = reset();
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"files": [{"filename": "apps/express-api/src/app.ts", "status": "modified"}]})),
        )
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .named("nothing dispatched before up")
        .mount(&github)
        .await;
    for (k, v) in [
        ("STAGING_TEARDOWN", "stack"),
        ("STAGING_PAUSE_STACK", STACK),
        ("STAGING_PAUSE_STACK_ROLE_ARN", ROLE),
        ("STAGING_CLUSTER", "staging-app"),
        ("STAGING_SERVICE", "api"),
        ("GITHUB_WEBHOOK_SECRET", SECRET),
        ("GITHUB_TOKEN", "ghp_test_token"),
    ] {
        env.insert(k.into(), v.into());
    }
    env.insert("GITHUB_API_URL".into(), github.uri());
    let (clients, config) = (clients(&env).await, config(&env));
    let cfn = &clients.cloudformation;
    create_app_stack(&env, cfn).await;
    let executor = Executor::new(&clients, &config);
    let teardown = json!({"command": "teardown", "scheduled_time": "2026-11-27T18:00:00Z"});
    let out = lifecycle::handle(&executor, teardown, utc("2026-11-27T18:00:00.417Z")).await.unwrap();
    assert!(out["summary"].as_str().unwrap().contains("deleting the stack"), "{out}");
    assert!(cfn.describe_stacks().stack_name(STACK).send().await.is_err(), "paused: the stack is deleted");

    // 19:00: a push wakes staging. The webhook decides the start and hands the create over.
    let mut app = Webhook::new(clients.clone(), config.clone()).unwrap();
    app.stack_by_lifecycle = true;
    let response = github_webhook::handle(
        &app,
        &staging_system_tests::signed_request(SECRET, "push", "h-1", &backend_push()),
        utc("2026-11-27T19:00:00.731Z"),
    )
    .await;
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(response.status(), 202, "{body}");
    let done: Vec<&str> = body["actions"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(
        done.contains(&"scheduled staging-stack-now at 2026-11-27T19:01:00Z"),
        "handed over a minute after the decision: {body}"
    );
    assert!(cfn.describe_stacks().stack_name(STACK).send().await.is_err(), "the webhook created nothing itself");
    let state = executor.store().unwrap().load("staging").await.unwrap();
    assert_eq!(state.phase, staging_core::model::state::Phase::Starting, "the start is committed");
    let handoff =
        executor.schedules().unwrap().get("staging-stack-now").await.unwrap().expect("the handoff is scheduled");
    assert_eq!(handoff.expression, "at(2026-11-27T19:01:00)");

    // 19:01: Scheduler fires the lifecycle function with exactly that input: it creates the stack.
    let input: Value = serde_json::from_str(handoff.input.as_deref().unwrap()).unwrap();
    let out = lifecycle::handle(&executor, input, utc("2026-11-27T19:01:00.208Z")).await.unwrap();
    let created = cfn.describe_stacks().stack_name(STACK).send().await.unwrap();
    assert_eq!(created.stacks().len(), 1, "created by the lifecycle function: {out}");
}

/// Two sleep depths against moto. Staging woken on demand in stack mode goes idle: the idle
/// stop (the core's decision, committed and carried out by the runner, the figures given
/// as the health check would read them) scales the stack's service to zero and leaves the
/// stack standing, load balancer and all; a health tick before `STAGING_DEEP_SLEEP_AFTER`
/// leaves it; the first tick after deletes it, saved first with the count to come back to.
#[tokio::test]
async fn an_idle_stop_keeps_the_stack_standing_until_a_later_tick_deletes_it() {
    let _serial = serial();
    let mut env = reset();
    for (k, v) in [
        ("STAGING_TEARDOWN", "stack"),
        ("STAGING_PAUSE_STACK", STACK),
        ("STAGING_CLUSTER", "staging-app"),
        ("STAGING_SERVICE", "api"),
        ("STAGING_UP_TIME", "none"),
        ("STAGING_LOAD_BALANCER", "pause-stack"),
        ("STAGING_DEEP_SLEEP_AFTER", "2h"),
    ] {
        env.insert(k.into(), v.into());
    }
    let clients = clients(&env).await;
    let config = config(&env);
    let cfn = &clients.cloudformation;
    create_app_stack(&env, cfn).await;
    // Asleep in a shallow way already: the stack stands, its service at zero.
    clients.ecs.update_service().cluster("staging-app").service("api").desired_count(0).send().await.unwrap();
    let executor = Executor::new(&clients, &config);

    // Sunday 19:00: woken for an hour by erin (the service restored, to 1: no count known).
    let up = json!({"command": "up", "hold": "1h", "reason": "testing the teams page", "who": "erin"});
    lifecycle::handle(&executor, up, utc("2026-12-06T19:00:00.250417Z")).await.unwrap();
    // Nobody since: only the health check's own probe reaches the load balancer.
    let quiet = |to: &str| {
        let from = utc("2026-12-06T18:50:00Z");
        let minutes = std::iter::successors(Some(from), |t| Some(*t + chrono::Duration::minutes(5)))
            .take_while(|t| *t < utc(to))
            .map(|start| staging_core::decide::idle::Minute { start, requests: 1.0, connections: 1.0 })
            .collect();
        staging_core::decide::idle::Usage::Figures { from, minutes }
    };
    let origin = staging_core::audit::Origin::new(staging_core::audit::Source::Health, "health-check", "tick");
    for (at, says) in [
        ("2026-12-06T19:25:00.5Z", "warned: stops at 19:30 UTC"),
        ("2026-12-06T19:30:00.75Z", "the stack stays until 21:30 UTC (a shallow sleep)"),
    ] {
        let usage = quiet(at);
        let out = staging_core::shell::runner::run_with(&executor, &origin, utc(at), |state, observed| {
            Ok(staging_core::decide::idle::decide(state, &observed, &usage, 1, utc(at), &config))
        })
        .await
        .unwrap();
        assert!(out.summary.contains(says), "{at}: {}", out.summary);
    }
    let state = executor.store().unwrap().load("staging").await.unwrap();
    assert_eq!(state.stack.shallow_until, Some(utc("2026-12-06T21:30:00Z")));
    assert_eq!(executor.observe().await.unwrap().desired_count, 0, "the service went to zero");
    assert!(cfn.describe_stacks().stack_name(STACK).send().await.is_ok(), "the stack stands");
    assert_eq!(load_balancers(&env).len(), 1, "its load balancer too");
    // STAGING_LOAD_BALANCER=pause-stack: the figures are read for the stack's own load
    // balancer, found among its resources (a new id each time the stack is created).
    let arn = observe(&env, &["load-balancers"])[0]["arn"].as_str().unwrap().to_string();
    let found = executor.pause_stack().unwrap().unwrap().load_balancer().await.unwrap();
    assert_eq!(found.as_deref(), arn.split_once(":loadbalancer/").map(|(_, name)| name));

    let prober = staging_core::shell::probe::Prober::new(&config.probes).unwrap();
    let tick = |at: &str| json!({"command": "health", "scheduled_time": at});
    health_check::handle(&executor, &prober, tick("2026-12-06T21:25:00Z"), utc("2026-12-06T21:25:00.3Z"))
        .await
        .unwrap();
    assert!(cfn.describe_stacks().stack_name(STACK).send().await.is_ok(), "kept until 21:30");
    let out = health_check::handle(&executor, &prober, tick("2026-12-06T21:30:00Z"), utc("2026-12-06T21:30:00.3Z"))
        .await
        .unwrap();
    assert!(out.to_string().contains("deep sleep"), "{out}");
    assert!(cfn.describe_stacks().stack_name(STACK).send().await.is_err(), "the stack is deleted");
    assert!(load_balancers(&env).is_empty());
    let copy = executor.pause_stack().unwrap().unwrap().saved().await.unwrap().expect("a saved copy");
    assert_eq!(copy.service_count, Some(1), "the count to come back to");
    let state = executor.store().unwrap().load("staging").await.unwrap();
    assert_eq!(state.stack.shallow_until, None);
    assert_eq!(executor.pause_stack().unwrap().unwrap().load_balancer().await.unwrap(), None, "gone with its stack");
}
