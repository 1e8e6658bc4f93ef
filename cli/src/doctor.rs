//! `stagingctl doctor [--json]`: checks a deployed (or local) setup end to end, read-only,
//! and says what is wrong and how to fix it, one line per check:
//!
//! ```text
//! ✓ table: staging-control ACTIVE, index history ACTIVE
//! ✗ service: no active service `apii` in cluster `staging` — set STAGING_SERVICE (template parameter ServiceName) to the service's name: staging-backend
//! ```
//!
//! Every check runs, whatever the others found (one wrong variable should not hide a
//! second); only a configuration that does not parse stops the rest, since nothing else
//! can be read without it. Exit code 1 when any check fails, 0 otherwise (2 stays for bad
//! arguments, as elsewhere). A resource the product cannot run without (table, service,
//! webhook secret, budget, teardown schedule) is a failure when its variable is unset;
//! an optional feature (the GitHub token: dry mode without it) passes as "not configured".
//!
//! It needs reads the stack's OperatorPolicyArn does not grant (dynamodb:DescribeTable,
//! ecs:ListServices, the webhook secret, budgets:ViewBudget, scheduler:ListSchedules and
//! GetSchedule on the recurring schedules): a refusal names the permission.

use std::collections::BTreeMap;
use std::io::Write;

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use chrono::{NaiveTime, Timelike};
use serde::Serialize;
use serde_yaml_ng::Value;
use staging_core::config::GitHub;
use staging_core::shell::Clients;
use staging_core::shell::github::{GitHubApi, GitHubError};
use staging_core::shell::store::HISTORY_INDEX;
use staging_core::{Config, DeploymentType, Secret};

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON: an array of {check, ok, detail, fix}.
    #[arg(long)]
    json: bool,
}

/// One check's verdict, as printed.
#[derive(Debug, Serialize)]
struct Finding {
    check: &'static str,
    ok: bool,
    detail: String,
    /// What to do about it; `None` when the check passed.
    fix: Option<String>,
}

/// Why a check failed, and what to do about it.
#[derive(Debug, PartialEq, Eq)]
struct Failure {
    detail: String,
    fix: String,
}

impl Failure {
    fn new(detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { detail: detail.into(), fix: fix.into() }
    }
}

/// A check's result: what it found when it passed.
type Outcome = Result<String, Failure>;

fn finding(check: &'static str, outcome: Outcome) -> Finding {
    match outcome {
        Ok(detail) => Finding { check, ok: true, detail, fix: None },
        Err(f) => Finding { check, ok: false, detail: f.detail, fix: Some(f.fix) },
    }
}

/// Runs every check on `config` (or reports why it did not parse) and prints them; a
/// failed check is an error (exit code 1) after everything has been printed.
pub async fn run(
    config: Result<&Config, staging_core::Error>,
    args: Args,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let findings = match config {
        Ok(config) => examine(config).await,
        Err(e) => vec![finding("config", Err(config_failure(&e)))],
    };
    print(&findings, args.json, out)?;
    out.flush()?;
    match findings.iter().filter(|f| !f.ok).count() {
        0 => Ok(()),
        failed => Err(CliError::Failed(format!("{failed} of {} checks failed", findings.len()))),
    }
}

async fn examine(config: &Config) -> Vec<Finding> {
    let sdk = staging_core::shell::sdk_config().await;
    let clients = Clients::new(&sdk);
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let budgets = aws_sdk_budgets::Client::new(&sdk);
    // The rest is checked with what the functions decide with: the document over the
    // variables when it holds.
    let (settings_outcome, in_force) = settings(config, &clients).await;
    let config = in_force.as_ref().unwrap_or(config);
    let (token_outcome, token) = github_token(config, &secrets).await;
    vec![
        finding("config", Ok(config_summary(config))),
        finding("settings", settings_outcome),
        finding("table", table(config, &clients).await),
        finding("service", service(config, &clients).await),
        finding("webhook secret", webhook_secret(config, &secrets).await),
        finding("github token", token_outcome),
        finding("github", github(config, token).await),
        finding("budget", budget(config, &budgets).await),
        finding("schedules", schedules(config, &clients).await),
        finding("documents", documents(config)),
    ]
}

/// The settings document (`STAGING_SETTINGS_PARAMETER`), read and checked as the functions
/// read it; the configuration it makes when it holds.
async fn settings(config: &Config, clients: &Clients) -> (Outcome, Option<Config>) {
    let Some(name) = config.settings_parameter.as_deref() else {
        return (
            Ok("no settings parameter (STAGING_SETTINGS_PARAMETER unset): every setting from the variables".into()),
            None,
        );
    };
    let stored = match staging_core::shell::settings::read(&clients.ssm, name).await {
        Ok(Some(stored)) => stored,
        Ok(None) => {
            let detail = format!("no parameter {name}: the functions run on the variables as deployed");
            return (
                Err(Failure::new(
                    detail,
                    "store the document with `stagingctl settings set FILE`, or clear SettingsParameter",
                )),
                None,
            );
        }
        Err(e) => return (Err(aws_failure_of(&e, format!("cannot read {name}"), "ssm:GetParameter")), None),
    };
    match staging_core::shell::settings::check(|variable| std::env::var(variable).ok(), &stored.text) {
        Ok(in_force) => {
            let keys = staging_core::settings::Settings::parse(&stored.text).map(|s| s.keys()).unwrap_or_default();
            let sets = if keys.is_empty() { "nothing".to_string() } else { keys.join(", ") };
            (Ok(format!("{name} version {}: sets {sets}", stored.version)), Some(in_force))
        }
        Err(e) => {
            let detail = format!(
                "{name} version {} does not hold: {e}; the functions keep their last good settings",
                stored.version
            );
            let fix = "correct the key named and store it again with `stagingctl settings set FILE` (it checks before writing)";
            (Err(Failure::new(detail, fix)), None)
        }
    }
}

/// The YAML documents a team writes, parsed by the functions' own parsers: the path
/// filters (`STAGING_FILTERS`, read by the webhook) and the rates (`STAGING_RATES`, read
/// by budget-alert). Only what is set here is checked: the deployed functions' own
/// variables are what count (the template gives them `PathFilters` and `Rates`).
fn documents(config: &Config) -> Outcome {
    let fix = |variable: &str| {
        format!(
            "fix the document in {variable} (try it with `stagingctl plan --filters FILE` or `stagingctl cost --rates FILE`)"
        )
    };
    let filters = staging_core::shell::filters(config).map_err(|e| {
        let variable = config.filters.as_ref().map_or("STAGING_FILTERS", |s| s.variable());
        Failure::new(e.to_string(), fix(variable))
    })?;
    let model = staging_core::shell::cost_model(config, None).map_err(|e| {
        let variable = config.rates.as_ref().map_or("STAGING_RATES", |s| s.variable());
        Failure::new(e.to_string(), fix(variable))
    })?;
    let names: Vec<&str> = filters.names().collect();
    let filters_from = config.filters.as_ref().map_or("built-in", |s| s.variable());
    let rates_from = config.rates.as_ref().map_or("built-in list prices", |s| s.variable());
    Ok(format!(
        "path filters ({filters_from}): {}; rates ({rates_from}): {} components, £{:.2} target",
        names.join(", "),
        model.components.len(),
        model.target_gbp
    ))
}

fn print(findings: &[Finding], json: bool, out: &mut impl Write) -> Result<(), CliError> {
    if json {
        return crate::write_json(out, &findings);
    }
    for f in findings {
        match &f.fix {
            None => writeln!(out, "✓ {}: {}", f.check, f.detail)?,
            Some(fix) => writeln!(out, "✗ {}: {} — {fix}", f.check, f.detail)?,
        }
    }
    Ok(())
}

// --- config ------------------------------------------------------------------------------

fn config_failure(e: &staging_core::Error) -> Failure {
    let fix = match e {
        staging_core::Error::Config { variable, .. } => {
            format!("correct {variable} and run doctor again")
        }
        _ => "correct the variable named and run doctor again".into(),
    };
    Failure::new(e.to_string(), fix)
}

fn config_summary(config: &Config) -> String {
    let hours = &config.business_hours;
    let up = hours.up_time.map(|t| t.format("%H:%M").to_string()).unwrap_or_else(|| "on demand".into());
    format!(
        "environment `{}`, up {up}, down {} {}, teardown {}",
        config.environment,
        hours.down_time.format("%H:%M"),
        hours.time_zone.name(),
        config.teardown.as_str()
    )
}

// --- AWS failures ----------------------------------------------------------------------

/// The variable's value, or a failure naming it (and where a deployment sets it).
fn required<'a>(value: &'a Option<String>, variable: &str, source: &str) -> Result<&'a str, Failure> {
    value.as_deref().ok_or_else(|| Failure::new(format!("{variable} is not set"), format!("set {variable} ({source})")))
}

/// An AWS call's failure, after `context`: a refusal names the permission to grant; a
/// service error's code may have its own fix (`fix`); anything else (no credentials, no
/// region, no answer) points at the credentials.
fn aws_failure<E, R>(
    context: String,
    operation: &str,
    e: SdkError<E, R>,
    fix: impl FnOnce(&str) -> Option<String>,
) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (said, fix) = match e.code() {
        Some(code) if code.contains("AccessDenied") || code == "UnauthorizedOperation" => (
            code.to_string(),
            format!(
                "allow {} to these credentials (the stack's OperatorPolicyArn does not grant doctor's reads)",
                permission(operation)
            ),
        ),
        Some(code) => (
            e.message().map(|m| format!("{code}: {m}")).unwrap_or_else(|| code.to_string()),
            fix(code).unwrap_or_else(|| format!("AWS answered {code}: see its message")),
        ),
        None => (
            causes(&e),
            "check the AWS credentials and region these checks run with (AWS_ENDPOINT_URL when local)".into(),
        ),
    };
    Failure::new(format!("{context}: {operation}: {said}"), fix)
}

/// As [`aws_failure`], for a call made through the shell's adapters.
fn aws_failure_of(e: &staging_core::shell::ShellError, context: String, operation: &str) -> Failure {
    match e {
        staging_core::shell::ShellError::Aws { code: Some(code), .. } if code.contains("AccessDenied") => Failure::new(
            format!("{context}: {operation}: {code}"),
            format!("allow {} to these credentials", permission(operation)),
        ),
        e => Failure::new(
            format!("{context}: {e}"),
            "check the AWS credentials and region these checks run with (AWS_ENDPOINT_URL when local)",
        ),
    }
}

/// An error and its causes in one line ("dispatch failure: io error: … Connection
/// refused"), without the response the SDK's own context would dump.
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The IAM action an API call needs (the same name, but for Budgets' reads).
fn permission(operation: &str) -> String {
    match operation {
        "budgets:DescribeBudget" | "budgets:DescribeNotificationsForBudget" => {
            "budgets:ViewBudget on the budget".into()
        }
        "secretsmanager:GetSecretValue" => {
            "secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key, if it has its own)".into()
        }
        other => other.to_string(),
    }
}

// --- table -------------------------------------------------------------------------------

/// DescribeTable: the state table exists, with the `history` index the audit trail
/// (`stagingctl history`, `report --month`) is read through.
async fn table(config: &Config, clients: &Clients) -> Outcome {
    let name = required(&config.resources.table, "STAGING_TABLE", "the stack's StateTable")?;
    let out = clients.dynamodb.describe_table().table_name(name).send().await.map_err(|e| {
        aws_failure(format!("cannot describe table `{name}`"), "dynamodb:DescribeTable", e, |code| {
            (code == "ResourceNotFoundException")
                .then(|| "set STAGING_TABLE to the stack's state table (StateTable), or deploy the stack".into())
        })
    })?;
    let table = out
        .table()
        .ok_or_else(|| Failure::new(format!("DescribeTable said nothing of `{name}`"), "run doctor again"))?;
    let status = |s: Option<&str>| s.unwrap_or("status unknown").to_string();
    let table_status = status(table.table_status().map(|s| s.as_str()));
    match table.global_secondary_indexes().iter().find(|i| i.index_name() == Some(HISTORY_INDEX)) {
        Some(index) => Ok(format!(
            "{name} {table_status}, index {HISTORY_INDEX} {}",
            status(index.index_status().map(|s| s.as_str()))
        )),
        None => Err(Failure::new(
            format!("table `{name}` has no `{HISTORY_INDEX}` index (the audit trail is read through it)"),
            "update the stack (template.yaml declares the index), or `scripts/local-aws reset` locally",
        )),
    }
}

// --- service -----------------------------------------------------------------------------

/// DescribeServices: the service is ACTIVE in its cluster, and its ARN is the long form
/// the template's policy grants (`service/<cluster>/<service>`). In stack mode a service
/// missing while its pause stack is gone is paused, not lost.
async fn service(config: &Config, clients: &Clients) -> Outcome {
    let cluster = required(&config.resources.cluster, "STAGING_CLUSTER", "template parameter ClusterName")?;
    let service = required(&config.resources.service, "STAGING_SERVICE", "template parameter ServiceName")?;
    let out = clients.ecs.describe_services().cluster(cluster).services(service).send().await.map_err(|e| {
        aws_failure(format!("cannot describe `{cluster}/{service}`"), "ecs:DescribeServices", e, |code| {
            (code == "ClusterNotFoundException")
                .then(|| "set STAGING_CLUSTER (template parameter ClusterName) to the cluster's name".into())
        })
    })?;
    let Some(found) = out.services().iter().find(|s| s.status() == Some("ACTIVE")) else {
        if let Some(stack) = config.teardown.pause_stack()
            && !stack_exists(clients, stack).await
        {
            return Ok(format!(
                "`{cluster}/{service}` is paused with its stack `{stack}` (stack mode): it comes back with it"
            ));
        }
        return Err(Failure::new(
            format!("no active service `{service}` in cluster `{cluster}`"),
            service_fix(clients, cluster).await,
        ));
    };
    let arn = found.service_arn().unwrap_or_default();
    if let Some(failure) = arn_problem(arn, cluster, service) {
        return Err(failure);
    }
    Ok(format!(
        "{cluster}/{service} ACTIVE ({} desired, {} running), ARN in the long format the template's policy grants",
        found.desired_count(),
        found.running_count()
    ))
}

/// What to set STAGING_SERVICE to: one of the services the cluster has, when it says.
async fn service_fix(clients: &Clients, cluster: &str) -> String {
    let set = "set STAGING_SERVICE (template parameter ServiceName) to the service's name";
    match clients.ecs.list_services().cluster(cluster).max_results(100).send().await {
        Ok(out) if out.service_arns().is_empty() => {
            format!("{set}; cluster `{cluster}` has no services")
        }
        Ok(out) => {
            let names: Vec<&str> = out.service_arns().iter().filter_map(|arn| arn.rsplit('/').next()).collect();
            format!("{set}: {}", names.join(", "))
        }
        Err(_) => set.into(),
    }
}

/// Whether the pause stack stands (an unreadable answer counts as standing, so that a
/// missing service is still reported).
async fn stack_exists(clients: &Clients, stack: &str) -> bool {
    match clients.cloudformation.describe_stacks().stack_name(stack).send().await {
        Ok(out) => out.stacks().iter().any(|s| s.stack_status().is_none_or(|st| st.as_str() != "DELETE_COMPLETE")),
        Err(e) => !(e.code() == Some("ValidationError") && e.message().is_some_and(|m| m.contains("does not exist"))),
    }
}

/// Why the template's grant (`arn:<partition>:ecs:<region>:<account>:service/<cluster>/<service>`)
/// does not cover `arn`, if it does not.
fn arn_problem(arn: &str, cluster: &str, service: &str) -> Option<Failure> {
    let granted = format!("service/{cluster}/{service}");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "ecs", _, _, resource] if *resource == granted => None,
        ["arn", _, "ecs", _, _, resource] if *resource == format!("service/{service}") => Some(Failure::new(
            format!(
                "the service's ARN {arn} is in the old short format, which the template's policy ({granted}) does not match"
            ),
            "opt in to the long ARN format (aws ecs put-account-setting-default --name serviceLongArnFormat --value enabled) and recreate the service: an existing service keeps its ARN",
        )),
        _ => Some(Failure::new(
            format!("the service's ARN {arn} is not …:{granted}, the form the template's policy grants"),
            "set STAGING_CLUSTER and STAGING_SERVICE to the names in its ARN (names, not ARNs)",
        )),
    }
}

// --- secrets -----------------------------------------------------------------------------

/// The webhook cannot check a delivery without its secret: required, from Secrets
/// Manager (GITHUB_WEBHOOK_SECRET_ARN) or given directly.
async fn webhook_secret(config: &Config, client: &aws_sdk_secretsmanager::Client) -> Outcome {
    let gh = &config.github;
    match &gh.webhook_secret_arn {
        Some(arn) => {
            let values = readable_secret(client, arn, "GITHUB_WEBHOOK_SECRET_ARN", "WebhookSecretArn").await?;
            let rotating = if values.split(',').filter(|v| !v.trim().is_empty()).count() > 1 {
                " (two values: rotating)"
            } else {
                ""
            };
            Ok(format!("readable from {arn}{rotating}"))
        }
        None if !gh.webhook_secrets.is_empty() => Ok("given directly (GITHUB_WEBHOOK_SECRET)".into()),
        None => Err(Failure::new(
            "neither GITHUB_WEBHOOK_SECRET_ARN nor GITHUB_WEBHOOK_SECRET is set: the webhook refuses every delivery",
            "set GITHUB_WEBHOOK_SECRET_ARN (template parameter WebhookSecretArn) to the secret holding the webhook's secret",
        )),
    }
}

/// The token the GitHub check may use: the one the functions would.
enum Token {
    /// No token configured: dry mode.
    None,
    /// Configured, but its secret could not be read.
    Unreadable,
    Found(Secret),
}

/// The token is optional (dry mode without it); a GITHUB_TOKEN_ARN that is set must be
/// readable. A token given directly wins, as in the functions.
async fn github_token(config: &Config, client: &aws_sdk_secretsmanager::Client) -> (Outcome, Token) {
    let gh = &config.github;
    let read = match &gh.token_arn {
        Some(arn) => Some(readable_secret(client, arn, "GITHUB_TOKEN_ARN", "GitHubTokenArn").await.map(|t| (arn, t))),
        None => None,
    };
    match (&gh.token, read) {
        (_, Some(Err(failure))) => (Err(failure), Token::Unreadable),
        (Some(token), Some(Ok((arn, _)))) => {
            (Ok(format!("readable from {arn}; GITHUB_TOKEN, given too, is the one used")), Token::Found(token.clone()))
        }
        (None, Some(Ok((arn, token)))) => (Ok(format!("readable from {arn}")), Token::Found(Secret::new(token))),
        (Some(token), None) => (Ok("given directly (GITHUB_TOKEN)".into()), Token::Found(token.clone())),
        (None, None) => (Ok("not configured (optional): dry mode, nothing is dispatched".into()), Token::None),
    }
}

/// GetSecretValue: the secret's text, which must not be empty. Never printed.
async fn readable_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    variable: &str,
    parameter: &str,
) -> Result<String, Failure> {
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| {
        aws_failure(format!("cannot read {arn}"), "secretsmanager:GetSecretValue", e, |code| match code {
            "ResourceNotFoundException" => Some(format!("create the secret, or set {variable} (template parameter {parameter}) to the full ARN of the one that holds it")),
            "DecryptionFailure" => Some("allow kms:Decrypt on the secret's key (template parameter SecretsKmsKeyArn)".into()),
            "InvalidRequestException" => Some(format!("the secret is deleted or scheduled for deletion: restore it, or point {variable} at another")),
            _ => None,
        })
    })?;
    match out.secret_string().map(str::trim) {
        Some(text) if !text.is_empty() => Ok(text.to_string()),
        _ => Err(Failure::new(
            format!("{arn} holds no text (SecretString is empty)"),
            "put the value in the secret as plain text (SecretString)",
        )),
    }
}

// --- github ------------------------------------------------------------------------------

/// With a token: the repository answers, and the deploy workflow on its default branch
/// (the copy GitHub needs to start a run) — and on GITHUB_BRANCH (the copy the run uses),
/// when that is another — takes the inputs the webhook sends. Whether the token may
/// dispatch (Actions: write) cannot be seen without dispatching, so it is not checked.
async fn github(config: &Config, token: Token) -> Outcome {
    let token = match token {
        Token::None => return Ok("dry mode (no token): not checked".into()),
        Token::Unreadable => {
            return Err(Failure::new("no token to check GitHub with", "make the github token check pass first"));
        }
        Token::Found(token) => token,
    };
    let gh = &config.github;
    let Some(repository) = &gh.repository else {
        return Err(Failure::new(
            "GITHUB_REPOSITORY is not set",
            "set GITHUB_REPOSITORY (template parameter GitHubRepository) to owner/name",
        ));
    };
    let api = GitHubApi::new(&GitHub { token: Some(token), ..gh.clone() })
        .ok_or_else(|| Failure::new("no GitHub client", "set GITHUB_REPOSITORY and a token"))?;
    let store =
        if gh.token.is_some() { "set GITHUB_TOKEN to it" } else { "store it in the secret GITHUB_TOKEN_ARN names" };
    let repo = api.repository().await.map_err(|e| repository_failure(&repository.to_string(), store, e))?;
    let mut branches = vec![repo.default_branch.as_str()];
    if gh.branch != repo.default_branch {
        branches.push(&gh.branch);
    }
    let mut inputs = BTreeMap::new();
    for branch in &branches {
        inputs = workflow_inputs(&api, gh, branch, &repo.default_branch).await?;
    }
    Ok(format!(
        "{}: {} on {} takes {}",
        repo.full_name,
        gh.deploy_workflow,
        branches.join(" and "),
        describe_inputs(&inputs, gh)
    ))
}

/// Why the repository could not be read; `store` says where a new token goes.
fn repository_failure(repository: &str, store: &str, e: GitHubError) -> Failure {
    let fix = match e.status {
        Some(401) => format!("the token is invalid or expired: make a new one (Actions: write, Contents: read on {repository}) and {store}"),
        Some(403) => "the token may not read the repository (or GitHub is rate-limiting it): give it Contents: read and Metadata: read".into(),
        Some(404) => format!("check GITHUB_REPOSITORY ({repository}), and that the token can see it (a fine-grained token must select it)"),
        Some(_) => "see GitHub's answer; GITHUB_API_URL must be the API's root".into(),
        None => "check GITHUB_API_URL and the network".into(),
    };
    let what = if e.status == Some(401) { "GitHub refused the token" } else { "cannot read the repository" };
    Failure::new(format!("{what}: {e}"), fix)
}

/// The deploy workflow's `workflow_dispatch` inputs on `branch`, when they take what the
/// webhook sends.
async fn workflow_inputs(
    api: &GitHubApi,
    gh: &GitHub,
    branch: &str,
    default_branch: &str,
) -> Result<BTreeMap<String, DispatchInput>, Failure> {
    let path = format!(".github/workflows/{}", gh.deploy_workflow);
    let why = if branch == default_branch {
        "GitHub starts a workflow_dispatch run only for a file on the default branch"
    } else {
        "the run uses the file as it is on GITHUB_BRANCH"
    };
    let text = api.read_file(&path, branch).await.map_err(|e| match e.status {
        Some(404) => Failure::new(format!("no {path} on {branch}"), format!("merge the deploy workflow to {branch} ({why}), or set GITHUB_DEPLOY_WORKFLOW (template parameter GitHubDeployWorkflow) to its file name")),
        _ => Failure::new(format!("cannot read {path} on {branch}: {e}"), "see GitHub's answer; the token needs Contents: read"),
    })?;
    let inputs = dispatch_inputs(&text)
        .map_err(|reason| {
            Failure::new(format!("{path} on {branch} is not a workflow: {reason}"), "fix the file's YAML")
        })?
        .ok_or_else(|| {
            Failure::new(
                format!("{path} on {branch} has no workflow_dispatch trigger"),
                format!("add `workflow_dispatch:` with its inputs under `on:` ({why})"),
            )
        })?;
    match lacks(&inputs, gh) {
        problems if problems.is_empty() => Ok(inputs),
        problems => Err(Failure::new(
            format!("{path} on {branch}: {}", problems.join("; ")),
            "declare them under on.workflow_dispatch.inputs as docs/deploy.md shows: GitHub refuses (422) a dispatch that does not fit them",
        )),
    }
}

/// One `workflow_dispatch` input, as far as a dispatch is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct DispatchInput {
    /// The values a `type: choice` input allows (empty: any).
    options: Vec<String>,
    /// `required: true` without a `default`: a dispatch must send it.
    required_without_default: bool,
}

/// The inputs of the workflow's `on.workflow_dispatch`; `None` when it has no such
/// trigger. The key `on` is also read as `true`, which a YAML 1.1 reader makes of it.
fn dispatch_inputs(yaml: &str) -> Result<Option<BTreeMap<String, DispatchInput>>, String> {
    let doc: Value = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
    let Value::Mapping(doc) = doc else {
        return Err("the document is not a mapping".into());
    };
    let on = doc.iter().find(|(k, _)| k.as_str() == Some("on") || k.as_bool() == Some(true)).map(|(_, v)| v);
    let dispatch = match on {
        Some(Value::String(event)) if event == "workflow_dispatch" => {
            return Ok(Some(BTreeMap::new()));
        }
        Some(Value::Sequence(events)) if events.iter().any(|e| e.as_str() == Some("workflow_dispatch")) => {
            return Ok(Some(BTreeMap::new()));
        }
        Some(Value::Mapping(events)) => match events.get("workflow_dispatch") {
            Some(dispatch) => dispatch,
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    let Some(Value::Mapping(inputs)) = dispatch.get("inputs") else {
        return Ok(Some(BTreeMap::new()));
    };
    Ok(Some(inputs.iter().filter_map(|(name, spec)| Some((scalar(name)?, dispatch_input(spec)))).collect()))
}

fn dispatch_input(spec: &Value) -> DispatchInput {
    let options = match spec.get("options") {
        Some(Value::Sequence(options)) => options.iter().filter_map(scalar).collect(),
        _ => Vec::new(),
    };
    let required = spec.get("required").and_then(Value::as_bool).unwrap_or(false);
    DispatchInput { options, required_without_default: required && spec.get("default").is_none_or(Value::is_null) }
}

/// A scalar as the text a dispatch would send.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The inputs the webhook sends (GITHUB_DEPLOY_TYPE_INPUT, GITHUB_SKIP_TESTS_INPUT,
/// GITHUB_MIGRATE_INPUT when set).
fn sent_inputs(gh: &GitHub) -> Vec<&str> {
    [Some(gh.deploy_type_input.as_str()), Some(gh.skip_tests_input.as_str()), gh.migrate_input.as_deref()]
        .into_iter()
        .flatten()
        .collect()
}

/// What the dispatch the webhook sends needs from `inputs` and does not find, in words.
fn lacks(inputs: &BTreeMap<String, DispatchInput>, gh: &GitHub) -> Vec<String> {
    let sent = sent_inputs(gh);
    let mut problems: Vec<String> =
        sent.iter().filter(|name| !inputs.contains_key(**name)).map(|name| format!("no input `{name}`")).collect();
    if let Some(input) = inputs.get(&gh.deploy_type_input) {
        let types = [DeploymentType::Full, DeploymentType::BackendOnly, DeploymentType::FrontendOnly];
        let missing: Vec<&str> = types
            .iter()
            .map(DeploymentType::as_str)
            .filter(|t| !input.options.is_empty() && !input.options.iter().any(|o| o.as_str() == *t))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("input `{}` offers no {}", gh.deploy_type_input, missing.join(", ")));
        }
    }
    let unsent = inputs
        .iter()
        .filter(|(name, i)| i.required_without_default && !sent.contains(&name.as_str()))
        .map(|(name, _)| format!("`{name}`"));
    let unsent: Vec<String> = unsent.collect();
    if !unsent.is_empty() {
        problems.push(format!("{} required without a default, and never sent", unsent.join(", ")));
    }
    problems
}

fn describe_inputs(inputs: &BTreeMap<String, DispatchInput>, gh: &GitHub) -> String {
    sent_inputs(gh)
        .into_iter()
        .map(|name| match inputs.get(name) {
            Some(i) if !i.options.is_empty() => format!("{name} ({})", i.options.join(", ")),
            _ => name.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// --- budget ------------------------------------------------------------------------------

/// DescribeBudget and DescribeNotificationsForBudget: the budget exists and alerts at the
/// percentages budget-alert acts on (ACTUAL at the warn and lock percentages, FORECASTED
/// at the forecast one), as the template sets them.
async fn budget(config: &Config, client: &aws_sdk_budgets::Client) -> Outcome {
    let name =
        required(&config.resources.budget_name, "STAGING_BUDGET_NAME", "the stack's budget, <stack name>-monthly")?;
    let account = config.resources.account_id().ok_or_else(|| {
        Failure::new(
            "cannot tell the AWS account (Budgets needs it): no account in STAGING_TEAM_TOPIC_ARN, STAGING_SCHEDULER_ROLE_ARN or STAGING_LIFECYCLE_FUNCTION_ARN",
            "set those from the stack (the lifecycle function's variables carry them)",
        )
    })?;
    let not_found = |code: &str| {
        (code == "NotFoundException").then(|| {
            "set STAGING_BUDGET_NAME to the stack's budget (<stack name>-monthly), or deploy the stack".to_string()
        })
    };
    let described = client.describe_budget().account_id(account).budget_name(name).send().await;
    let described = described
        .map_err(|e| aws_failure(format!("cannot read budget `{name}`"), "budgets:DescribeBudget", e, not_found))?;
    let pages: Result<Vec<_>, _> = client
        .describe_notifications_for_budget()
        .account_id(account)
        .budget_name(name)
        .into_paginator()
        .send()
        .collect()
        .await;
    let pages = pages.map_err(|e| {
        aws_failure(
            format!("cannot read budget `{name}`'s alerts"),
            "budgets:DescribeNotificationsForBudget",
            e,
            not_found,
        )
    })?;
    let alerts: Vec<Alert> =
        pages.iter().flat_map(|p| p.notifications()).filter_map(Alert::from_notification).collect();
    let missing = missing_alerts(&alerts, &config.budget);
    let limit = match described.budget().and_then(|b| b.budget_limit()) {
        Some(limit) => format!("{} {} a month", limit.amount(), limit.unit()),
        None => "no limit".into(),
    };
    if missing.is_empty() {
        return Ok(format!(
            "{name}: {limit}; alerts {}",
            alerts.iter().map(Alert::to_string).collect::<Vec<_>>().join(", ")
        ));
    }
    let has = if alerts.is_empty() {
        "none".to_string()
    } else {
        alerts.iter().map(Alert::to_string).collect::<Vec<_>>().join(", ")
    };
    Err(Failure::new(
        format!("budget `{name}` lacks the alerts {} (it has: {has})", missing.join(", ")),
        "update the stack (BudgetWarnPercent, BudgetLockPercent, BudgetForecastPercent set both the alerts and the variables), or set STAGING_BUDGET_*_PERCENT to the budget's",
    ))
}

/// A budget notification budget-alert can act on: over a percentage of the budget.
#[derive(Debug, Clone, PartialEq)]
struct Alert {
    kind: String,
    percent: f64,
}

impl Alert {
    /// Only `GREATER_THAN` a `PERCENTAGE` (the default threshold type) counts.
    fn from_notification(n: &aws_sdk_budgets::types::Notification) -> Option<Self> {
        let percentage = n.threshold_type().is_none_or(|t| t.as_str() == "PERCENTAGE");
        (percentage && n.comparison_operator().as_str() == "GREATER_THAN")
            .then(|| Self { kind: n.notification_type().as_str().to_string(), percent: n.threshold() })
    }
}

impl std::fmt::Display for Alert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} > {} %", self.kind, self.percent)
    }
}

/// The alerts the policy needs and `alerts` lack. The variables hold whole percentages
/// (the core rounds 80.5 down), so a threshold matches by its whole part.
fn missing_alerts(alerts: &[Alert], policy: &staging_core::config::BudgetPolicy) -> Vec<String> {
    let wanted =
        [("ACTUAL", policy.warn_percent), ("ACTUAL", policy.lock_percent), ("FORECASTED", policy.forecast_percent)];
    let mut missing: Vec<String> = wanted
        .iter()
        .filter(|(kind, percent)| !alerts.iter().any(|a| a.kind == *kind && a.percent.floor() == *percent as f64))
        .map(|(kind, percent)| format!("{kind} > {percent} %"))
        .collect();
    missing.dedup();
    missing
}

// --- schedules ---------------------------------------------------------------------------

/// The recurring schedules that invoke the lifecycle function (the template's
/// StartupSchedule and TeardownSchedule, named by CloudFormation in the `default` group,
/// so found by their target and their input's `command`): a teardown every day at
/// STAGING_DOWN_TIME and, unless STAGING_UP_TIME is none, a startup at STAGING_UP_TIME,
/// both enabled and in STAGING_TIME_ZONE.
async fn schedules(config: &Config, clients: &Clients) -> Outcome {
    let found = recurring_schedules(config, clients).await?;
    let hours = &config.business_hours;
    let zone = hours.time_zone.name();
    let mut wanted = vec![("teardown", hours.down_time)];
    wanted.extend(hours.up_time.map(|t| ("startup", t)));
    let (mut seen, mut missing, mut astray) = (Vec::new(), Vec::new(), Vec::new());
    for (command, time) in wanted {
        let candidates: Vec<&Recurring> = found.iter().filter(|s| s.command == command).collect();
        match candidates.iter().find(|s| s.fires(time, zone)) {
            Some(s) => seen.push(format!("{command} {} {zone}", s.expression)),
            None if candidates.is_empty() => {
                missing.push(format!("no {command} schedule invokes the lifecycle function"))
            }
            None => astray.extend(candidates.iter().map(|s| {
                format!(
                    "{command} schedule `{}` is {}, not daily at {} {zone}",
                    s.name,
                    s.described(),
                    time.format("%H:%M")
                )
            })),
        }
    }
    let fix = if !missing.is_empty() {
        "deploy the stack: its StartupSchedule and TeardownSchedule invoke the lifecycle function every day (without the teardown, staging never stops)"
    } else {
        "update the stack (UpTime, DownTime, TimeZone set both the schedules and the variables), or set STAGING_UP_TIME, STAGING_DOWN_TIME, STAGING_TIME_ZONE to the schedules'"
    };
    match [missing, astray].concat() {
        problems if problems.is_empty() => Ok(seen.join("; ")),
        problems => Err(Failure::new(problems.join("; "), fix)),
    }
}

/// A recurring schedule invoking the lifecycle function.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recurring {
    name: String,
    command: String,
    expression: String,
    time_zone: Option<String>,
    enabled: bool,
}

impl Recurring {
    /// Whether it fires daily at `time` in `zone` (Scheduler's default zone is UTC).
    fn fires(&self, time: NaiveTime, zone: &str) -> bool {
        self.enabled && daily_time(&self.expression) == Some(time) && self.time_zone.as_deref().unwrap_or("UTC") == zone
    }

    fn described(&self) -> String {
        let state = if self.enabled { "" } else { " (DISABLED)" };
        format!("{} {}{state}", self.expression, self.time_zone.as_deref().unwrap_or("UTC"))
    }
}

/// Every schedule in any group whose target is the lifecycle function (any Lambda
/// target when STAGING_LIFECYCLE_FUNCTION_ARN is unset), read with GetSchedule for its
/// expression, zone and input; one-time `at()` schedules left out.
async fn recurring_schedules(config: &Config, clients: &Clients) -> Result<Vec<Recurring>, Failure> {
    let target = config.resources.lifecycle_function_arn.as_deref();
    let pages: Result<Vec<_>, _> = clients.scheduler.list_schedules().into_paginator().send().collect().await;
    let pages =
        pages.map_err(|e| aws_failure("cannot list the schedules".into(), "scheduler:ListSchedules", e, |_| None))?;
    let mut found = Vec::new();
    for s in pages.iter().flat_map(|p| p.schedules()) {
        let arn = s.target().map(|t| t.arn()).unwrap_or_default();
        let invokes = target.map_or(arn.contains(":lambda:"), |t| arn == t);
        if let (true, Some(name)) = (invokes, s.name()) {
            let group = s.group_name().unwrap_or("default");
            let out = clients.scheduler.get_schedule().name(name).group_name(group).send().await.map_err(|e| {
                aws_failure(format!("cannot read schedule `{group}/{name}`"), "scheduler:GetSchedule", e, |_| None)
            })?;
            let expression = out.schedule_expression().unwrap_or_default().to_string();
            let command = out.target().and_then(|t| t.input()).and_then(command_of);
            if let (false, Some(command)) = (expression.starts_with("at("), command) {
                let enabled = out.state().is_none_or(|st| st.as_str() == "ENABLED");
                found.push(Recurring {
                    name: format!("{group}/{name}"),
                    command,
                    expression,
                    time_zone: out.schedule_expression_timezone().map(str::to_string),
                    enabled,
                });
            }
        }
    }
    Ok(found)
}

/// The `command` of a schedule's input (`{"command":"teardown",...}`).
fn command_of(input: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(input).ok()?.get("command")?.as_str().map(str::to_string)
}

/// The time a daily `cron(M H * * ? *)` fires at: one minute and one hour; any other
/// shape (a list, a range, a step) is not one time a day.
fn daily_time(expression: &str) -> Option<NaiveTime> {
    let fields: Vec<&str> = expression.strip_prefix("cron(")?.strip_suffix(')')?.split_whitespace().collect();
    let [minute, hour, day, month, weekday, _year] = fields.as_slice() else {
        return None;
    };
    let every = |f: &str| f == "*" || f == "?";
    if !(every(day) && every(month) && every(weekday)) {
        return None;
    }
    NaiveTime::from_hms_opt(hour.parse().ok()?, minute.parse().ok()?, 0).filter(|t| t.second() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github() -> GitHub {
        Config::from_lookup(|_| None).expect("the defaults parse").github
    }

    const WORKFLOW: &str = "
name: Deploy staging
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
";

    #[test]
    fn the_readme_workflow_takes_what_the_webhook_sends() {
        let inputs = dispatch_inputs(WORKFLOW).unwrap().expect("a workflow_dispatch trigger");
        assert_eq!(lacks(&inputs, &github()), Vec::<String>::new());
        assert_eq!(
            describe_inputs(&inputs, &github()),
            "deployment-type (full, backend-only, frontend-only), skip-tests"
        );
    }

    #[test]
    fn an_on_key_read_as_true_by_yaml_1_1_still_counts() {
        let yaml = WORKFLOW.replace("\non:", "\ntrue:");
        let inputs = dispatch_inputs(&yaml).unwrap().expect("a workflow_dispatch trigger");
        assert!(inputs.contains_key("deployment-type"));
    }

    #[test]
    fn what_a_workflow_lacks_is_named() {
        let mut gh = github();
        gh.migrate_input = Some("migrate".into());
        #[rustfmt::skip]
        let cases = [
            ("on: workflow_dispatch", vec!["no input `deployment-type`", "no input `skip-tests`", "no input `migrate`"]),
            ("on: [push, workflow_dispatch]", vec!["no input `deployment-type`", "no input `skip-tests`", "no input `migrate`"]),
            ("on:\n  workflow_dispatch:\n    inputs:\n      deployment-type: {type: choice, options: [full]}\n      skip-tests: {}\n      migrate: {}\n      approver: {required: true}",
             vec!["input `deployment-type` offers no backend-only, frontend-only", "`approver` required without a default, and never sent"]),
            ("on:\n  workflow_dispatch:\n    inputs:\n      deployment-type: {}\n      skip-tests: {}\n      migrate: {}\n      region: {required: true, default: eu}", vec![]),
        ];
        for (yaml, expected) in cases {
            let inputs = dispatch_inputs(yaml).unwrap().expect("a workflow_dispatch trigger");
            assert_eq!(lacks(&inputs, &gh), expected, "{yaml}");
        }
    }

    #[test]
    fn a_workflow_without_a_dispatch_trigger_has_no_inputs_to_read() {
        assert_eq!(dispatch_inputs("on: push").unwrap(), None);
        assert_eq!(dispatch_inputs("on:\n  push:\n    branches: [main]").unwrap(), None);
        assert!(dispatch_inputs("- not a workflow").is_err());
    }

    #[test]
    fn only_the_long_service_arn_matches_the_templates_grant() {
        let long = "arn:aws:ecs:eu-west-2:123456789012:service/staging/api";
        assert_eq!(arn_problem(long, "staging", "api"), None);
        assert_eq!(arn_problem("arn:aws-cn:ecs:cn-north-1:123456789012:service/staging/api", "staging", "api"), None);
        let short = arn_problem("arn:aws:ecs:eu-west-2:123456789012:service/api", "staging", "api").expect("refused");
        assert!(short.fix.starts_with("opt in to the long ARN format"), "{short:?}");
        let by_arn = arn_problem(long, "arn:aws:ecs:eu-west-2:123456789012:cluster/staging", "api").expect("refused");
        assert!(by_arn.fix.contains("names, not ARNs"), "{by_arn:?}");
    }

    #[test]
    fn a_daily_cron_fires_at_one_time() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0);
        #[rustfmt::skip]
        let cases = [
            ("cron(0 18 * * ? *)", t(18, 0)),
            ("cron(30 07 ? * * *)", t(7, 30)),
            ("cron(0 18 ? * MON-FRI *)", None),
            ("cron(0 8,18 * * ? *)", None),
            ("rate(5 minutes)", None),
            ("at(2026-11-27T18:00:00)", None),
        ];
        for (expression, expected) in cases {
            assert_eq!(daily_time(expression), expected, "{expression}");
        }
    }

    #[test]
    fn budget_alerts_match_by_kind_and_whole_percent() {
        let alert = |kind: &str, percent| Alert { kind: kind.into(), percent };
        let policy = staging_core::config::BudgetPolicy::default();
        let alerts = [alert("ACTUAL", 80.5), alert("ACTUAL", 100.0), alert("FORECASTED", 100.0)];
        assert_eq!(missing_alerts(&alerts, &policy), Vec::<String>::new());
        assert_eq!(missing_alerts(&alerts[..1], &policy), ["ACTUAL > 100 %", "FORECASTED > 100 %"]);
        let same = staging_core::config::BudgetPolicy { warn_percent: 100, ..policy };
        assert_eq!(missing_alerts(&[], &same), ["ACTUAL > 100 %", "FORECASTED > 100 %"]);
    }

    #[test]
    fn a_schedules_command_comes_from_its_input() {
        assert_eq!(
            command_of(r#"{"command":"teardown","scheduled_time":"<aws.scheduler.scheduled-time>"}"#).as_deref(),
            Some("teardown")
        );
        assert_eq!(command_of("not json"), None);
    }
}
