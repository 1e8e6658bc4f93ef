//! Faults injected with aws-smithy-mocks: throttling and 5xx are retried by the SDK's
//! standard retry (3 attempts), then surface as retryable errors, and nothing is
//! written that was not done.

use std::time::Duration;

use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use chrono::{DateTime, Utc};
use staging_core::Config;
use staging_core::decide::lifecycle::Command;
use staging_core::shell::ecs::Service;
use staging_core::shell::executor::Executor;
use staging_core::shell::store::Store;
use staging_core::shell::{Clients, Lazy, ShellError, runner};

const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

/// A client whose every call is answered by `rules`, retrying 3 times with a 1 ms backoff.
macro_rules! client {
    ($sdk:ident, $rules:expr) => {{
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in $rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new("us-east-1"))
            .credentials_provider($sdk::config::Credentials::new("test", "test", None, None, "faults"))
            .retry_config(
                $sdk::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .build();
        $sdk::Client::from_conf(config)
    }};
}

fn clients(ecs: &[&Rule], dynamodb: &[&Rule]) -> Clients {
    // The service has no scalable target: every look finds none.
    let no_target = mock!(aws_sdk_applicationautoscaling::Client::describe_scalable_targets)
        .sequence()
        .output(|| aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput::builder().build())
        .repeatedly()
        .build();
    Clients {
        autoscaling: Lazy::from(client!(aws_sdk_applicationautoscaling, [&no_target])),
        costexplorer: Lazy::from(client!(aws_sdk_costexplorer, [] as [&Rule; 0])),
        cloudformation: Lazy::from(client!(aws_sdk_cloudformation, [] as [&Rule; 0])),
        dynamodb: Lazy::from(client!(aws_sdk_dynamodb, dynamodb)),
        ecs: Lazy::from(client!(aws_sdk_ecs, ecs)),
        scheduler: Lazy::from(client!(aws_sdk_scheduler, [] as [&Rule; 0])),
        sns: Lazy::from(client!(aws_sdk_sns, [] as [&Rule; 0])),
        ssm: Lazy::from(client!(aws_sdk_ssm, [] as [&Rule; 0])),
        elb: Lazy::from(client!(aws_sdk_elasticloadbalancingv2, [] as [&Rule; 0])),
        #[cfg(feature = "metrics")]
        cloudwatch: Lazy::from(client!(aws_sdk_cloudwatch, [] as [&Rule; 0])),
    }
}

fn config() -> Config {
    let vars = [("STAGING_CLUSTER", "c"), ("STAGING_SERVICE", "s"), ("STAGING_TABLE", "t")];
    Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())).unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-11-27T18:00:00Z".parse().unwrap()
}

fn assert_retryable(err: &ShellError, operation: &str) {
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().starts_with(&format!("{operation} failed (retryable)")), "{err}");
}

#[tokio::test]
async fn ecs_5xx_and_throttling_are_retried_then_surface_as_retryable() {
    for (name, status, body) in [("500", 500, None), ("throttling", 400, Some(THROTTLED))] {
        let rule = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .http_status(status, body.map(str::to_string))
            .times(3)
            .build();
        let clients = clients(&[&rule], &[]);
        let err = Service { client: &clients.ecs, cluster: "c", service: "s" }.observe().await.unwrap_err();
        assert_retryable(&err, "ecs:DescribeServices");
        assert_eq!(rule.num_calls(), 3, "{name}: the SDK made its 3 attempts");
    }
}

#[tokio::test]
async fn dynamodb_5xx_and_throttling_are_retried_then_surface_as_retryable() {
    for (name, status, body) in [("503", 503, None), ("throttling", 400, Some(THROTTLED))] {
        let rule = mock!(aws_sdk_dynamodb::Client::get_item)
            .sequence()
            .http_status(status, body.map(str::to_string))
            .times(3)
            .build();
        let clients = clients(&[], &[&rule]);
        let err = Store { client: &clients.dynamodb, table: "t" }.load("staging").await.unwrap_err();
        assert_retryable(&err, "dynamodb:GetItem");
        assert_eq!(rule.num_calls(), 3, "{name}");
    }
}

/// Parameter Store throttled or failing: the settings document is not read, the settings
/// held stand (at a cold start, the variables as deployed), and the next read waits for
/// the next refresh instead of every event trying again.
#[tokio::test]
async fn an_unreadable_settings_document_keeps_the_settings_held() {
    use staging_core::shell::settings::{LiveConfig, Reading};
    for (name, status, body) in [("500", 500, None), ("throttling", 400, Some(THROTTLED))] {
        let rule = mock!(aws_sdk_ssm::Client::get_parameter)
            .sequence()
            .http_status(status, body.map(str::to_string))
            .times(3)
            .build();
        let vars = [("STAGING_SETTINGS_PARAMETER", "/staging/settings"), ("STAGING_WORKING_DAYS", "Mon-Thu")];
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let live = LiveConfig::new(vars, Lazy::from(client!(aws_sdk_ssm, [&rule]))).unwrap();
        let t0 = now();
        match live.refresh(t0).await {
            Reading::Failed(err) => assert_retryable(&err, "ssm:GetParameter"),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(rule.num_calls(), 3, "{name}: the SDK made its 3 attempts");
        assert_eq!(live.held().business_hours.working_days.to_string(), "Mon-Thu", "{name}: as deployed");
        assert!(matches!(live.refresh(t0 + chrono::Duration::milliseconds(1500)).await, Reading::NotDue), "{name}");
        assert_eq!(rule.num_calls(), 3, "{name}: not read again before the refresh");
    }
}

#[tokio::test]
async fn a_transient_fault_is_absorbed_by_the_sdk_retry() {
    let rule = mock!(aws_sdk_dynamodb::Client::get_item)
        .sequence()
        .http_status(500, None)
        .output(|| GetItemOutput::builder().build())
        .build();
    let clients = clients(&[], &[&rule]);
    let state = Store { client: &clients.dynamodb, table: "t" }.load("staging").await.unwrap();
    assert_eq!(state.version, 0);
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn when_ecs_fails_the_runner_writes_no_state() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services).sequence().http_status(500, None).times(3).build();
    let update = mock!(aws_sdk_ecs::Client::update_service).sequence().http_status(500, None).build();
    let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_output(|| aws_sdk_dynamodb::operation::put_item::PutItemOutput::builder().build());
    let clients = clients(&[&describe, &update], &[&get, &put]);
    let err = runner::run(&Executor::new(&clients, &config()), &Command::Down { who: "ops".into() }, now())
        .await
        .unwrap_err();
    assert_retryable(&err, "ecs:DescribeServices");
    assert_eq!(update.num_calls(), 0, "nothing was scaled");
    assert_eq!(put.num_calls(), 0, "no state was written");
}

#[tokio::test]
async fn when_the_state_cannot_be_read_nothing_is_done() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .then_output(|| aws_sdk_ecs::operation::describe_services::DescribeServicesOutput::builder().build());
    let update = mock!(aws_sdk_ecs::Client::update_service).sequence().http_status(500, None).build();
    let get =
        mock!(aws_sdk_dynamodb::Client::get_item).sequence().http_status(400, Some(THROTTLED.into())).times(3).build();
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_output(|| aws_sdk_dynamodb::operation::put_item::PutItemOutput::builder().build());
    let clients = clients(&[&describe, &update], &[&get, &put]);
    let err = runner::run(&Executor::new(&clients, &config()), &Command::Down { who: "ops".into() }, now())
        .await
        .unwrap_err();
    assert_retryable(&err, "dynamodb:GetItem");
    assert_eq!((describe.num_calls(), update.num_calls(), put.num_calls()), (0, 0, 0));
}

fn describe_output(desired: i32, running: i32) -> aws_sdk_ecs::operation::describe_services::DescribeServicesOutput {
    aws_sdk_ecs::operation::describe_services::DescribeServicesOutput::builder()
        .services(
            aws_sdk_ecs::types::Service::builder()
                .status("ACTIVE")
                .service_arn("arn:aws:ecs:us-east-1:123456789012:service/c/s")
                .desired_count(desired)
                .running_count(running)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn a_commit_that_keeps_failing_surfaces_as_retryable() {
    // Nothing to do, but a never-written state adopts what ECS shows: a commit.
    let describe = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| describe_output(2, 0));
    let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
    // The state is committed with its audit entry, in one transaction.
    let put = mock!(aws_sdk_dynamodb::Client::transact_write_items).sequence().http_status(500, None).times(3).build();
    let clients = clients(&[&describe], &[&get, &put]);
    let err = runner::run(&Executor::new(&clients, &config()), &Command::Release { who: "ops".into() }, now())
        .await
        .unwrap_err();
    assert_retryable(&err, "dynamodb:TransactWriteItems");
    assert_eq!(put.num_calls(), 3);
}

/// The state's item held by another invocation's transaction (`TransactionConflict`),
/// or the state's version moved (`ConditionalCheckFailed`): a lost race, decided again
/// and committed; throttling inside a transaction is retryable; a transaction refused
/// for the audit entry's sake (a validation error) still commits the state, alone.
#[tokio::test]
async fn a_cancelled_transaction_is_a_lost_race_a_passing_fault_or_the_entrys_problem() {
    use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsError, TransactWriteItemsOutput};
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;
    let cancelled = |codes: &'static [Option<&'static str>]| {
        move || {
            let mut e = TransactionCanceledException::builder().message("Transaction cancelled");
            for code in codes {
                e = e.cancellation_reasons(CancellationReason::builder().set_code(code.map(str::to_string)).build());
            }
            TransactWriteItemsError::TransactionCanceledException(e.build())
        }
    };
    let teardown = Command::Scheduled(staging_core::ScheduledCommand::Teardown { scheduled_time: Some(now()) });
    let new_describe = || mock!(aws_sdk_ecs::Client::describe_services).then_output(|| describe_output(2, 2));
    let new_tag = || {
        mock!(aws_sdk_ecs::Client::tag_resource)
            .then_output(|| aws_sdk_ecs::operation::tag_resource::TagResourceOutput::builder().build())
    };
    let new_update = || {
        mock!(aws_sdk_ecs::Client::update_service)
            .then_output(|| aws_sdk_ecs::operation::update_service::UpdateServiceOutput::builder().build())
    };
    let new_get = || mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
    let new_put = || {
        mock!(aws_sdk_dynamodb::Client::put_item)
            .then_output(|| aws_sdk_dynamodb::operation::put_item::PutItemOutput::builder().build())
    };

    for codes in [&[Some("TransactionConflict"), None][..], &[Some("ConditionalCheckFailed"), None][..]] {
        let transact = mock!(aws_sdk_dynamodb::Client::transact_write_items)
            .sequence()
            .error(cancelled(codes))
            .output(|| TransactWriteItemsOutput::builder().build())
            .build();
        let (describe, tag, update, get, put) = (new_describe(), new_tag(), new_update(), new_get(), new_put());
        let mocked = clients(&[&describe, &tag, &update], &[&get, &transact, &put]);
        let outcome = runner::run(&Executor::new(&mocked, &config()), &teardown, now()).await.unwrap();
        assert_eq!(outcome.summary, "stopping", "{codes:?}");
        assert_eq!(transact.num_calls(), 2, "{codes:?}: lost, decided again, committed");
        assert_eq!(update.num_calls(), 1, "{codes:?}: scaled once, after the commit");
    }

    let throttled = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .sequence()
        .error(cancelled(&[Some("ThrottlingError"), None]))
        .build();
    let (describe, tag, update, get) = (new_describe(), new_tag(), new_update(), new_get());
    let mocked = clients(&[&describe, &tag, &update], &[&get, &throttled]);
    let err = runner::run(&Executor::new(&mocked, &config()), &teardown, now()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(update.num_calls(), 0, "nothing done without a commit");

    let invalid = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .sequence()
        .error(cancelled(&[None, Some("ValidationError")]))
        .build();
    let (describe, tag, update, get, put) = (new_describe(), new_tag(), new_update(), new_get(), new_put());
    let mocked = clients(&[&describe, &tag, &update], &[&get, &invalid, &put]);
    let outcome = runner::run(&Executor::new(&mocked, &config()), &teardown, now()).await.unwrap();
    assert_eq!(outcome.summary, "stopping");
    assert_eq!(update.num_calls(), 1, "the audit trail did not stop the teardown");
    assert_eq!(put.num_calls(), 2, "the state alone, then the entry after acting");
}

#[tokio::test]
async fn a_notification_that_fails_after_the_commit_leaves_the_decision_standing() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| describe_output(2, 2));
    let tag = mock!(aws_sdk_ecs::Client::tag_resource)
        .then_output(|| aws_sdk_ecs::operation::tag_resource::TagResourceOutput::builder().build());
    let update = mock!(aws_sdk_ecs::Client::update_service)
        .then_output(|| aws_sdk_ecs::operation::update_service::UpdateServiceOutput::builder().build());
    let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_output(|| aws_sdk_dynamodb::operation::put_item::PutItemOutput::builder().build());
    let transact = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .then_output(|| aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput::builder().build());
    let sns_publish = mock!(aws_sdk_sns::Client::publish).sequence().http_status(500, None).times(3).build();
    let mut clients = clients(&[&describe, &tag, &update], &[&get, &put, &transact]);
    clients.sns = Lazy::from(client!(aws_sdk_sns, [&sns_publish]));
    let mut config = config();
    config.resources.team_topic_arn = Some("arn:aws:sns:us-east-1:123456789012:team".into());
    let teardown = Command::Scheduled(staging_core::ScheduledCommand::Teardown { scheduled_time: None });
    let outcome = runner::run(&Executor::new(&clients, &config), &teardown, now()).await.unwrap();
    // Committed, scaled; the notification failed after its retries and is reported,
    // without failing the run (a retry would decide "already down" and tell nobody).
    assert_eq!(outcome.summary, "stopping");
    assert_eq!(outcome.done, ["scaled the service to 0"]);
    assert_eq!(outcome.failed.len(), 1);
    assert!(outcome.failed[0].starts_with("sns:Publish failed (retryable)"), "{:?}", outcome.failed);
    // The state with its entry (one transaction), then the entry with what was done.
    assert_eq!((transact.num_calls(), put.num_calls(), update.num_calls(), sns_publish.num_calls()), (1, 1, 1, 3));
}
