//! github-webhook: a push to the branch → verified, planned, staging woken if needed,
//! the deploy dispatched, the team told; the deploy workflow finishing → recorded and
//! told. The same handler runs in the Lambda binary (Function URL, `lambda_http`) and
//! in `stagingctl invoke github-webhook`.
//!
//! Order of business: request checks and routing (pure, nothing touched on refusal),
//! then the delivery is claimed in DynamoDB by its `X-GitHub-Delivery` id, so a
//! redelivery gets the first answer back and acts no further. The delivery id is not
//! covered by the signature, so it is only a fast path: what makes a push act once is
//! the state, which remembers the pushes it took (`before..after`) and records a
//! dispatch before it is made.

use chrono::{DateTime, Utc};
use lambda_http::http::{HeaderMap, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use staging_core::config::{Secret, YamlSetting};
use staging_core::decide::webhook::{self, Delivery, Route};
use staging_core::model::action::Decision;
use staging_core::model::observed::Observed;
use staging_core::model::state::EnvironmentState;
use staging_core::shell::executor::Executor;
use staging_core::shell::github::GitHubApi;
use staging_core::shell::runner::run_with;
use staging_core::shell::settings::LiveConfig;
use staging_core::shell::store::Claim;
use staging_core::shell::{Clients, ShellError};
use staging_core::{Config, Filters};
use std::sync::Arc;

/// Redeliveries are possible for 3 days; keep the record a day longer.
const KEEP_DELIVERIES: chrono::Duration = chrono::Duration::days(4);
/// A claim whose invocation died is taken over after this.
const IN_PROGRESS_FOR: chrono::Duration = chrono::Duration::seconds(60);

/// Everything built once per cold start.
pub struct Webhook {
    pub clients: Clients,
    /// The configuration as deployed (the variables); what a request decides with is
    /// [`Webhook::live`]'s, the settings document over it.
    pub config: Config,
    pub live: LiveConfig,
    /// The path filters in force, compiled once per document: the setting they came from
    /// and the filters, or why they are unusable (a bad `STAGING_FILTERS`).
    filters: std::sync::Mutex<(Option<YamlSetting>, Compiled)>,
    /// `None` without a token: dry mode.
    pub github: Option<GitHubApi>,
    /// Print each decision's metrics (the Lambda binary; not `stagingctl invoke`).
    pub emit_metrics: bool,
    /// Where the webhook secret is kept, when it is read from Secrets Manager: read again
    /// on a signature mismatch, so a rotated secret needs no cold start.
    pub secret_source: Option<SecretSource>,
    /// In stack mode the deployed webhook holds no CloudFormation rights: a create or
    /// delete of the pause stack is handed to the lifecycle function (the Lambda binary
    /// sets it; `stagingctl invoke` and the tests may act directly).
    pub stack_by_lifecycle: bool,
    /// The deployed webhook may not register the scalable target either: the scheduled
    /// functions park and restore it from the committed state.
    pub leaves_scaling: bool,
}

/// The webhook secret in Secrets Manager, and what was last read from it.
pub struct SecretSource {
    arn: String,
    client: staging_core::shell::Lazy<aws_sdk_secretsmanager::Client>,
    held: std::sync::Mutex<Held>,
}

/// What a [`SecretSource`] holds. A std lock, never held across an await.
struct Held {
    /// The secrets last read (empty: the configuration's, read at the cold start).
    secrets: Vec<Secret>,
    /// When the secret was last read, for any reason (the timed refresh counts from it).
    read_at: DateTime<Utc>,
    /// When a signature mismatch last read it (at most once a minute).
    mismatch_read_at: Option<DateTime<Utc>>,
}

/// Why the secret is read again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reread {
    Mismatch,
    Timed,
}

impl SecretSource {
    /// The secret named by `arn`, read (for the configuration) at `read_at`.
    pub fn new(
        arn: impl Into<String>,
        client: staging_core::shell::Lazy<aws_sdk_secretsmanager::Client>,
        read_at: DateTime<Utc>,
    ) -> Self {
        let held = Held { secrets: Vec::new(), read_at, mismatch_read_at: None };
        Self { arn: arn.into(), client, held: std::sync::Mutex::new(held) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn held(&self) -> Vec<Secret> {
        self.lock().secrets.clone()
    }

    /// Reads the secret again when the last read is [`webhook::SECRET_REFRESH_EVERY`] old, so
    /// a secret taken out of the stored value stops being accepted here too.
    async fn refresh_if_due(&self, now: DateTime<Utc>) {
        let last = self.lock().read_at;
        if webhook::secret_refresh_due(Some(last), now) {
            self.reread(now, Reread::Timed).await;
        }
    }

    /// Reads the secret again: on a signature mismatch only if the last such read is old
    /// enough ([`webhook::may_reread_secret`]). The secrets read, or `None` when not read
    /// (too soon, or the read failed: logged).
    async fn reread(&self, now: DateTime<Utc>, why: Reread) -> Option<Vec<Secret>> {
        {
            let mut held = self.lock();
            if why == Reread::Mismatch {
                if !webhook::may_reread_secret(held.mismatch_read_at, now) {
                    return None;
                }
                held.mismatch_read_at = Some(now);
            }
            // Counted before the read, so a failing read is not retried by every request.
            held.read_at = now;
        }
        let read = self.client.get_secret_value().secret_id(&self.arn).send().await;
        let secrets = match read {
            Ok(out) => webhook::parse_webhook_secrets(out.secret_string().unwrap_or_default()),
            Err(e) => {
                lambda_http::tracing::warn!(error = %ShellError::aws("secretsmanager:GetSecretValue", e), "could not read the webhook secret again");
                return None;
            }
        };
        if secrets.is_empty() {
            lambda_http::tracing::warn!("the webhook secret read again is empty: kept the one in hand");
            return None;
        }
        match why {
            Reread::Mismatch => {
                lambda_http::tracing::info!("a signature matched no secret in hand: the webhook secret was read again")
            }
            Reread::Timed => lambda_http::tracing::info!("the webhook secret was read again (timed)"),
        }
        self.lock().secrets = secrets.clone();
        Some(secrets)
    }
}

impl Webhook {
    /// Reads the filters (`STAGING_FILTERS`, `STAGING_FILTERS_FILE`, else the built-in ones) and builds
    /// the GitHub client when a token is given. A token named by `GITHUB_TOKEN_ARN`
    /// needs the Secrets Manager client: use [`Webhook::with_github`].
    pub fn new(clients: Clients, config: Config) -> Result<Self, String> {
        if config.github.token.is_none() && config.github.token_arn.is_some() {
            return Err("GITHUB_TOKEN_ARN is set: build the GitHub client with GitHubApi::with_secrets".into());
        }
        let github = GitHubApi::new(&config.github);
        Self::with_github(clients, config, github)
    }

    /// As [`Webhook::new`], with the GitHub client given (`None`: dry mode). Bad filters do
    /// not stop the function: pushes are answered 500 naming the variable, while pings and
    /// the deploy workflow's runs are still taken.
    pub fn with_github(clients: Clients, config: Config, github: Option<GitHubApi>) -> Result<Self, String> {
        let live = LiveConfig::fixed(config, clients.ssm.clone());
        Self::with_live(clients, live, github)
    }

    /// As [`Webhook::with_github`], deciding with the configuration in force in `live`
    /// (the settings document over the variables).
    pub fn with_live(clients: Clients, live: LiveConfig, github: Option<GitHubApi>) -> Result<Self, String> {
        let config = live.deployed().clone();
        let filters = std::sync::Mutex::new((config.filters.clone(), Arc::new(compile(&config))));
        Ok(Self {
            clients,
            config,
            live,
            filters,
            github,
            emit_metrics: false,
            secret_source: None,
            stack_by_lifecycle: false,
            leaves_scaling: false,
        })
    }
}

/// Path filters compiled once, or why they are unusable.
type Compiled = Arc<Result<Filters, String>>;

/// The path filters of `config`, or why they are unusable (logged).
fn compile(config: &Config) -> Result<Filters, String> {
    let filters = staging_core::shell::filters(config).map_err(|e| e.to_string());
    if let Err(e) = &filters {
        lambda_http::tracing::error!(error = %e, "the path filters are unusable: pushes are refused until they are fixed");
    }
    filters
}

impl Webhook {
    /// The filters of `config`: those held while its setting is the same, compiled anew
    /// when the settings document changed it.
    fn filters(&self, config: &Config) -> Compiled {
        let mut held = self.filters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.0 != config.filters {
            *held = (config.filters.clone(), Arc::new(compile(config)));
        }
        held.1.clone()
    }
}

/// Handles one Function URL request.
pub async fn handle(app: &Webhook, request: &Request, now: DateTime<Utc>) -> Response<Body> {
    let (status, body) = respond(app, request.method().as_str(), request.headers(), request.body(), now).await;
    lambda_http::tracing::info!(status, "answered");
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Body::Text(body.to_string()))
        .expect("a status, a header and a body make a response")
}

fn error(status: u16, message: impl Into<String>) -> (u16, Value) {
    (status, json!({ "error": message.into() }))
}

async fn respond(app: &Webhook, method: &str, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> (u16, Value) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(source) = &app.secret_source {
        source.refresh_if_due(now).await;
    }
    let read_again = app.secret_source.as_ref().map(SecretSource::held).filter(|s| !s.is_empty());
    let secrets = read_again.as_deref().unwrap_or(&app.config.github.webhook_secrets);
    let delivery = match webhook::check_request(method, header, body, secrets) {
        Ok(d) => d,
        // A signature that matches no secret in hand may be signed with a rotated one.
        Err(r) if r.is_signature_mismatch() => {
            let fresh = match &app.secret_source {
                Some(source) => source.reread(now, Reread::Mismatch).await,
                None => None,
            };
            match fresh.map(|fresh| webhook::check_request(method, header, body, &fresh)) {
                Some(Ok(d)) => d,
                Some(Err(r)) => return error(r.status, r.message),
                None => return error(r.status, r.message),
            }
        }
        Err(r) => return error(r.status, r.message),
    };
    lambda_http::tracing::info!(event = %delivery.event, delivery = %delivery.id, "verified");
    // The settings in force (read again when 5 minutes old) and their filters.
    let config = app.live.current(now).await;
    let filters = app.filters(&config);
    let route = match webhook::route(&delivery.event, body, &config.github) {
        Ok(route) => route,
        Err(r) => return error(r.status, r.message),
    };
    match route {
        Route::Ping { hook_id } => (200, json!({ "pong": true, "hook_id": hook_id })),
        Route::Ignored(reason) => (202, json!({ "delivery": delivery.id, "ignored": reason })),
        // Refused before the delivery is claimed, so a redelivery after the fix is taken.
        Route::Push(_) if filters.is_err() => error(500, filters.as_ref().as_ref().err().cloned().unwrap_or_default()),
        Route::Push(push) => once(app, &config, &delivery, body, Act::Push(push, filters), now).await,
        Route::DeployFinished(run) => {
            once(app, &config, &delivery, body, Act::DeployFinished(Box::new(run)), now).await
        }
        Route::DeployRequested(run) => {
            once(app, &config, &delivery, body, Act::DeployRequested(Box::new(run)), now).await
        }
    }
}

/// The deliveries that change something, and so are acted on once.
enum Act {
    /// A push, and the filters in force.
    Push(Box<webhook::Push>, Compiled),
    DeployFinished(Box<webhook::WorkflowRun>),
    DeployRequested(Box<webhook::WorkflowRun>),
}

/// Acts on a delivery at most once: a repeat gets the stored answer.
async fn once(
    app: &Webhook,
    config: &Config,
    delivery: &Delivery,
    body: &[u8],
    act: Act,
    now: DateTime<Utc>,
) -> (u16, Value) {
    let store = match Executor::new(&app.clients, config).store() {
        Ok(store) => store,
        Err(e) => return error(500, e.to_string()),
    };
    let key = format!("github-delivery#{}", delivery.id);
    let hash = webhook::payload_hash(body);
    match store.claim(&key, &hash, now, now + KEEP_DELIVERIES, now + IN_PROGRESS_FOR).await {
        Ok(Claim::New) => {}
        Ok(Claim::Completed(stored)) => {
            let status = stored["status"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(200);
            return (status, stored["body"].clone());
        }
        Ok(Claim::InProgress) => return error(409, format!("delivery {} is being handled", delivery.id)),
        Err(ShellError::KeyReused { .. }) => {
            return error(409, format!("delivery {} was already received with another payload", delivery.id));
        }
        Err(e) => return error(if e.is_retryable() { 503 } else { 500 }, e.to_string()),
    }
    let result = match act {
        Act::Push(push, filters) => on_push(app, config, &filters, delivery, &push, now).await,
        Act::DeployFinished(run) => {
            on_workflow_run(app, config, delivery, &run.origin("completed", &delivery.id), now, |state, observed| {
                Ok(webhook::decide_deploy_finished(state, observed, &run, now, config))
            })
            .await
        }
        Act::DeployRequested(run) => {
            on_workflow_run(app, config, delivery, &run.origin("requested", &delivery.id), now, |state, observed| {
                webhook::decide_deploy_requested(state, observed, &run, now, config)
            })
            .await
        }
    };
    match result {
        Ok((status, body)) => {
            let stored = json!({ "status": status, "body": body });
            if let Err(e) = store.complete(&key, &hash, &stored, now + KEEP_DELIVERIES).await {
                lambda_http::tracing::warn!(error = %e, "could not store the answer; a redelivery would act again");
            }
            (status, body)
        }
        Err(e) => {
            if let Err(abandon) = store.abandon(&key).await {
                lambda_http::tracing::warn!(error = %abandon, "could not release the delivery claim");
            }
            let status = match &e {
                e if e.is_upstream() => 502,
                e if e.is_retryable() => 503,
                _ => 500,
            };
            error(status, e.to_string())
        }
    }
}

async fn on_push(
    app: &Webhook,
    config: &Config,
    filters: &Result<Filters, String>,
    delivery: &Delivery,
    push: &webhook::Push,
    now: DateTime<Utc>,
) -> Result<(u16, Value), ShellError> {
    let compare = match (&app.github, webhook::compare_applies(push)) {
        (Some(api), true) => Some(api.compare(&push.before, &push.after).await.map_err(|e| e.to_string())),
        _ => None,
    };
    let files = webhook::changed_files(push, compare);
    // `respond` refuses a push first when the filters are unusable; kept total all the same.
    let filters = match filters {
        Ok(filters) => filters,
        Err(reason) => return Ok(error(500, reason.clone())),
    };
    let matches = filters.classify(files.files.iter().map(String::as_str));
    let input = webhook::PushInput { push, files: &files, matches: &matches };
    let mut executor = Executor::new(&app.clients, config);
    executor.github = app.github.as_ref();
    executor.emit_metrics = app.emit_metrics;
    executor.stack_by_lifecycle = app.stack_by_lifecycle;
    executor.leaves_scaling = app.leaves_scaling;
    let origin = push.origin(&delivery.id, files.files.len());
    let outcome =
        run_with(&executor, &origin, now, |state, observed| webhook::decide_push(state, observed, &input, now, config))
            .await?;
    let plan = input.plan();
    let deployment_type = plan.deployment_type();
    let status = if deployment_type.is_some() { 202 } else { 200 };
    Ok((
        status,
        json!({
            "delivery": delivery.id,
            "summary": outcome.summary,
            "plan": plan,
            "deployment_type": deployment_type,
            "filters": matches,
            "actions": outcome.done,
            "failed": outcome.failed,
            "files_source": files.source,
            "files_reason": files.reason,
            "files": files.files.len(),
        }),
    ))
}

/// A run of the deploy workflow was requested or finished: decided by `decide`.
async fn on_workflow_run(
    app: &Webhook,
    config: &Config,
    delivery: &Delivery,
    origin: &staging_core::audit::Origin,
    now: DateTime<Utc>,
    decide: impl Fn(&EnvironmentState, Observed) -> staging_core::Result<Decision>,
) -> Result<(u16, Value), ShellError> {
    let mut executor = Executor::new(&app.clients, config);
    executor.github = app.github.as_ref();
    executor.emit_metrics = app.emit_metrics;
    executor.stack_by_lifecycle = app.stack_by_lifecycle;
    executor.leaves_scaling = app.leaves_scaling;
    let outcome = run_with(&executor, origin, now, decide).await?;
    Ok((
        200,
        json!({
            "delivery": delivery.id,
            "summary": outcome.summary,
            "actions": outcome.done,
            "failed": outcome.failed,
        }),
    ))
}
