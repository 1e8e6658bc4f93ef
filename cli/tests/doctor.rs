//! `stagingctl doctor` as a process against moto, with the GitHub API on loopback
//! (wiremock): a good setup passes every check, and each broken piece is named while the
//! other checks still run.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use common::Run;
use serde_json::{Value, json};
use staging_system_tests::{reset, sdk_config, serial};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// config, settings, table, service, webhook secret, github token, github, budget,
/// schedules, documents.
const CHECKS: usize = 10;

const TOKEN: &str = "ghp_doctor_test_token";
const WEBHOOK_SECRET: &str = "doctor-webhook-secret";

/// The deploy workflow's `on:` block as the README gives it.
const WORKFLOW: &str = "name: Deploy staging
on:
  workflow_dispatch:
    inputs:
      deployment-type:
        type: choice
        options: [full, backend-only, frontend-only]
        default: full
      skip-tests:
        type: boolean
        default: false
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: echo deploying
";

/// A good setup: the local stack as `reset()` bootstraps it (the budget's alerts and the
/// recurring schedules included, as a deployed stack has them), both secrets in Secrets
/// Manager, and GitHub serving the repository and its deploy workflow.
async fn good_setup(github: &MockServer) -> BTreeMap<String, String> {
    let mut env = reset();
    let sdk = sdk_config(&env).await;
    let webhook_arn = create_secret(&sdk, "staging-control/webhook", WEBHOOK_SECRET).await;
    let token_arn = create_secret(&sdk, "staging-control/github-token", TOKEN).await;
    env.remove("GITHUB_WEBHOOK_SECRET");
    env.insert("GITHUB_WEBHOOK_SECRET_ARN".into(), webhook_arn);
    env.insert("GITHUB_TOKEN_ARN".into(), token_arn);
    env.insert("GITHUB_API_URL".into(), github.uri());
    serve_repository(github, WORKFLOW).await;
    env
}

/// A secret in Secrets Manager; its ARN.
async fn create_secret(sdk: &SdkConfig, name: &str, value: &str) -> String {
    let out = aws_sdk_secretsmanager::Client::new(sdk)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("secretsmanager:CreateSecret");
    out.arn().expect("a new secret's ARN").to_string()
}

/// GitHub as the token sees it: `acme/app` (default branch `main`) with `workflow` as its
/// deploy workflow on `main` and `develop`, served raw.
async fn serve_repository(github: &MockServer, workflow: &str) {
    github.reset().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"full_name": "acme/app", "default_branch": "main", "private": true})),
        )
        .mount(github)
        .await;
    // The default branch's copy (GitHub's) and GITHUB_BRANCH's (the run's).
    for branch in ["main", "develop"] {
        Mock::given(method("GET"))
            .and(path("/repos/acme/app/contents/.github/workflows/deploy-staging.yml"))
            .and(query_param("ref", branch))
            .and(header("accept", "application/vnd.github.raw+json"))
            .respond_with(ResponseTemplate::new(200).set_body_string(workflow))
            .mount(github)
            .await;
    }
}

/// The settings document stored as `/staging/settings`.
async fn store_settings(env: &BTreeMap<String, String>, text: &str) {
    aws_sdk_ssm::Client::new(&sdk_config(env).await)
        .put_parameter()
        .name("/staging/settings")
        .value(text)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("ssm:PutParameter");
}

/// A good setup with a settings document: the check says what it sets, and the other
/// checks read the document too (its filters are the ones `documents` checks).
#[tokio::test(flavor = "current_thread")]
async fn a_good_settings_document_passes_and_the_other_checks_use_it() {
    let _serial = serial();
    let github = MockServer::start().await;
    let mut env = good_setup(&github).await;
    env.insert("STAGING_SETTINGS_PARAMETER".into(), "/staging/settings".into());
    store_settings(&env, "working_days: Mon-Thu\nfilters: {backend: ['server/**'], frontend: ['web/**']}\n").await;
    let run = doctor(&env, &[]).await;
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr: {}", run.stdout, run.stderr);
    for expected in [
        "✓ settings: /staging/settings version 1: sets filters, working_days",
        "✓ documents: path filters (STAGING_FILTERS): backend, frontend;",
    ] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(expected)),
            "no line starts with {expected:?}:\n{}",
            run.stdout
        );
    }
}

/// `stagingctl doctor ARGS` with only `env`, off the runtime (wiremock answers on it).
async fn doctor(env: &BTreeMap<String, String>, args: &[&str]) -> Run {
    let env = env.clone();
    let args: Vec<String> = std::iter::once("doctor").chain(args.iter().copied()).map(str::to_string).collect();
    tokio::task::spawn_blocking(move || common::run(&args.iter().map(String::as_str).collect::<Vec<_>>(), env, ""))
        .await
        .expect("the run finished")
}

#[tokio::test(flavor = "current_thread")]
async fn a_good_local_setup_passes_every_check() {
    let _serial = serial();
    let github = MockServer::start().await;
    let env = good_setup(&github).await;

    let run = doctor(&env, &[]).await;
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr: {}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), CHECKS, "{}", run.stdout);
    assert!(lines.iter().all(|l| l.starts_with("✓ ")), "{}", run.stdout);
    for expected in [
        "✓ webhook secret: readable from arn:aws:secretsmanager:",
        "✓ github token: readable from arn:aws:secretsmanager:",
        "✓ github: acme/app: deploy-staging.yml on main and develop takes deployment-type (full, backend-only, frontend-only), skip-tests",
        "✓ budget: staging-monthly: 6 USD a month; alerts ",
        "✓ schedules: teardown cron(0 18 * * ? *) UTC; startup cron(0 8 * * ? *) UTC",
        "✓ documents: path filters (built-in): backend, frontend, infrastructure, shared, database; rates (built-in list prices): 6 components",
        "✓ settings: no settings parameter (STAGING_SETTINGS_PARAMETER unset)",
    ] {
        assert!(lines.iter().any(|l| l.starts_with(expected)), "no line starts with {expected:?}:\n{}", run.stdout);
    }
    assert!(
        !run.stdout.contains(TOKEN) && !run.stdout.contains(WEBHOOK_SECRET),
        "a secret was printed:\n{}",
        run.stdout
    );

    let findings = doctor(&env, &["--json"]).await.json();
    let findings = findings.as_array().expect("an array");
    assert_eq!(findings.len(), CHECKS);
    for f in findings {
        assert_eq!((f["ok"].clone(), f["fix"].clone()), (Value::Bool(true), Value::Null), "{f}");
        assert!(f["check"].is_string() && f["detail"].is_string(), "{f}");
    }
}

/// One thing broken in a good setup.
enum Broken {
    Variable(&'static str, &'static str),
    Workflow(String),
    /// GitHub answers every call with this status.
    GitHubAnswers(u16),
    /// The settings document stored as this (`None`: named but never stored).
    Settings(Option<&'static str>),
}

#[tokio::test(flavor = "current_thread")]
async fn each_broken_piece_is_named() {
    let _serial = serial();
    let missing_secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:staging-control/nowhere-AbCdEf";
    let without_deployment_type = WORKFLOW.replace("      deployment-type:\n        type: choice\n        options: [full, backend-only, frontend-only]\n        default: full\n", "");
    #[rustfmt::skip]
    let cases = [
        (Broken::Variable("GITHUB_WEBHOOK_SECRET_ARN", missing_secret), "webhook secret", vec![missing_secret]),
        (Broken::Variable("STAGING_SERVICE", "apii"), "service", vec!["`apii`", "cluster `staging`", "STAGING_SERVICE", "staging-backend"]),
        (Broken::Workflow(without_deployment_type), "github", vec!["no input `deployment-type`"]),
        (Broken::GitHubAnswers(401), "github", vec!["token", "401"]),
        (Broken::Variable("STAGING_FILTERS", "{backend: ['server/**'"), "documents", vec!["STAGING_FILTERS"]),
        (Broken::Settings(Some("working_days: Mon-Thu\nholidays: [2026-12-25, 2026-12-32]\n")), "settings", vec!["/staging/settings", "version 1", "`holidays`", "2026-12-32", "last good"]),
        (Broken::Settings(None), "settings", vec!["no parameter /staging/settings", "stagingctl settings set"]),
    ];
    for (broken, check, named) in cases {
        let github = MockServer::start().await;
        let mut env = good_setup(&github).await;
        match broken {
            Broken::Variable(name, value) => {
                env.insert(name.into(), value.into());
            }
            Broken::Workflow(workflow) => serve_repository(&github, &workflow).await,
            Broken::Settings(document) => {
                env.insert("STAGING_SETTINGS_PARAMETER".into(), "/staging/settings".into());
                if let Some(text) = document {
                    store_settings(&env, text).await;
                }
            }
            Broken::GitHubAnswers(status) => {
                github.reset().await;
                Mock::given(method("GET"))
                    .respond_with(ResponseTemplate::new(status).set_body_json(json!({"message": "Bad credentials"})))
                    .mount(&github)
                    .await;
            }
        }

        let run = doctor(&env, &[]).await;
        assert_eq!(run.code, 1, "{check}: stdout:\n{}\nstderr: {}", run.stdout, run.stderr);
        assert_eq!(run.stdout.lines().count(), CHECKS, "{check}: the other checks ran too:\n{}", run.stdout);
        let failed: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("✗ ")).collect();
        assert_eq!(failed.len(), 1, "{check}: only the broken piece fails:\n{}", run.stdout);
        assert!(failed[0].starts_with(&format!("✗ {check}: ")), "{check}: {}", failed[0]);
        for name in named {
            assert!(failed[0].contains(name), "{check}: {name:?} is not named in {}", failed[0]);
        }
        assert!(failed[0].contains(" — "), "{check}: no fix in {}", failed[0]);
        assert!(run.stderr.contains(&format!("1 of {CHECKS} checks failed")), "{}", run.stderr);
    }
}
