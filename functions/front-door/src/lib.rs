//! front-door: what the staging address answers while staging sleeps. The same handler
//! runs in the Lambda binary (a Function URL, or an ALB target group: `lambda_http` reads
//! both) and in `stagingctl invoke front-door`.
//!
//! - `GET /_staging/invite?token=…&next=/path`: a valid invite sets its cookie and sends
//!   the tester on; any other gets the page saying why.
//! - `POST /_staging/wake` (the page's form, with the invite's cookie): a wake, as
//!   [`front_door::decide_wake`] says, committed like every decision (source `front-door`).
//! - Anything else: the page (people, and robots, which never wake anything) or `503` with
//!   `Retry-After` and JSON (API clients). While a wake runs, each look records its steps
//!   and points the address at the app once it is healthy ([`front_door::progress`]).
//!
//! Every rule is in `staging_core::decide::front_door`; this file reads requests, loads and
//! observes, and writes answers.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, RequestExt, RequestPayloadExt, Response};
use serde_json::{Value, json};
use staging_core::audit::{Origin, Source};
use staging_core::config::Secret;
use staging_core::decide::front_door::{self, INVITE_PATH, Sleep, Visitor, WAKE_PATH, WakeRefusal};
use staging_core::decide::invite::{COOKIE, Invite};
use staging_core::model::observed::{Observed, Route};
use staging_core::model::state::EnvironmentState;
use staging_core::report::front_door as page;
use staging_core::shell::executor::Executor;
use staging_core::shell::probe::Prober;
use staging_core::shell::runner::run_with;
use staging_core::shell::settings::LiveConfig;
use staging_core::shell::{Clients, Lazy, ShellError};
use staging_core::{Config, Error};

/// How long the invite secret read from Secrets Manager is used before it is read again
/// (a rotated secret needs no cold start).
const SECRET_REFRESH: chrono::Duration = chrono::Duration::minutes(5);

/// Everything built once per cold start.
pub struct FrontDoor {
    pub clients: Clients,
    pub live: LiveConfig,
    secrets: Lazy<staging_core::shell::SecretsClient>,
    /// The invite secret read from Secrets Manager, and when.
    held: Mutex<Option<(DateTime<Utc>, Vec<Secret>)>>,
    /// The app's probes as last built, for the "answers its health probe" step.
    prober: Mutex<Option<(Vec<staging_core::model::probe::Probe>, Arc<Prober>)>>,
    /// Print each kept decision's CloudWatch metrics (EMF): the Lambda binary does,
    /// `stagingctl invoke` does not.
    pub emit_metrics: bool,
}

impl FrontDoor {
    /// A bad probe URL as deployed fails the cold start, naming it.
    pub fn new(
        clients: Clients,
        live: LiveConfig,
        secrets: Lazy<staging_core::shell::SecretsClient>,
    ) -> Result<Self, ShellError> {
        Prober::new(&live.deployed().probes)?;
        Ok(Self { clients, live, secrets, held: Mutex::new(None), prober: Mutex::new(None), emit_metrics: false })
    }

    /// The secrets invites are checked with: given directly (`STAGING_INVITE_SECRET`), or read
    /// from `STAGING_INVITE_SECRET_ARN` (again when 5 minutes old). Empty: none configured,
    /// or the read failed (logged; no wake can be checked then).
    async fn invite_secrets(&self, config: &Config, now: DateTime<Utc>) -> Vec<Secret> {
        let fd = &config.front_door;
        if !fd.invite_secrets.is_empty() {
            return fd.invite_secrets.clone();
        }
        let Some(arn) = &fd.invite_secret_arn else { return Vec::new() };
        let cached = self.held.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some((at, secrets)) = &cached
            && now - *at < SECRET_REFRESH
        {
            return secrets.clone();
        }
        match staging_core::shell::github::read_secret(&self.secrets, arn).await {
            Ok(text) => {
                // One secret, or `new,old` while rotating: read as the webhook secret is.
                let secrets = staging_core::decide::webhook::parse_webhook_secrets(&text);
                *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Some((now, secrets.clone()));
                secrets
            }
            Err(e) => {
                lambda_http::tracing::warn!(error = %e, "could not read the invite secret");
                cached.map(|(_, s)| s).unwrap_or_default()
            }
        }
    }

    fn prober(&self, config: &Config) -> Option<Arc<Prober>> {
        if config.probes.is_empty() {
            return None;
        }
        let mut held = self.prober.lock().unwrap_or_else(PoisonError::into_inner);
        if held.as_ref().is_none_or(|(probes, _)| *probes != config.probes) {
            match Prober::new(&config.probes) {
                Ok(p) => *held = Some((config.probes.clone(), Arc::new(p))),
                Err(e) => lambda_http::tracing::error!(error = %e, "the probes are unusable"),
            }
        }
        held.as_ref().map(|(_, p)| p.clone())
    }
}

/// What the request says of itself.
struct Asked {
    method: String,
    path: String,
    visitor: Visitor,
    /// The invite in the cookie (or, on the invite path, in the query).
    token: Option<String>,
    /// The path to go back to (`next` in the query or the form; the path itself otherwise).
    next: Option<String>,
}

fn header_text(request: &Request, name: header::HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

#[derive(serde::Deserialize, Default)]
struct WakeForm {
    next: Option<String>,
}

fn read(request: &Request) -> Asked {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query = request.query_string_parameters();
    let visitor =
        front_door::visitor(&method, header_text(request, header::ACCEPT), header_text(request, header::USER_AGENT));
    let (token, next) = if path == INVITE_PATH {
        (query.first("token").map(str::to_string), query.first("next").map(str::to_string))
    } else if path == WAKE_PATH {
        let form: WakeForm = request.payload().ok().flatten().unwrap_or_default();
        (cookie(request, COOKIE), form.next)
    } else {
        let full = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| path.clone());
        (cookie(request, COOKIE), Some(full))
    };
    Asked { method, path, visitor, token, next }
}

/// The answer to one request at `now`. Never fails: what cannot be read is a `503` that
/// says so.
pub async fn handle(app: &FrontDoor, request: &Request, now: DateTime<Utc>) -> Response<Body> {
    let config = app.live.current(now).await;
    let asked = read(request);
    let mut executor = Executor::new(&app.clients, &config);
    executor.emit_metrics = app.emit_metrics;
    match answer(app, &executor, &config, &asked, now).await {
        Ok(response) => response,
        Err(e) => {
            lambda_http::tracing::error!(error = %e, path = %asked.path, "the front door could not answer");
            let body = json!({ "state": "unknown", "error": "the front door cannot read staging's state now" });
            respond(StatusCode::SERVICE_UNAVAILABLE, "application/json", body.to_string(), Some(30), None, None)
        }
    }
}

async fn answer(
    app: &FrontDoor,
    executor: &Executor<'_>,
    config: &Config,
    asked: &Asked,
    now: DateTime<Utc>,
) -> Result<Response<Body>, ShellError> {
    let store = executor.store()?;
    let mut state = store.load(&config.environment).await?;
    let observed = executor.observe().await?;
    let secrets = app.invite_secrets(config, now).await;
    let invite = asked.token.as_deref().map(|t| Invite::verify(t, &secrets, &state.revoked, now));
    if asked.path == INVITE_PATH && asked.method == "GET" {
        return Ok(match invite {
            Some(Ok(invite)) => welcome(&invite, asked, now),
            Some(Err(refused)) => {
                let refusal = WakeRefusal { status: 403, reason: refused.to_string(), retry_after: None };
                show(&state, &observed, None, Some(refusal), asked, config, now)
            }
            None => {
                let refusal =
                    WakeRefusal { status: 401, reason: "the link has no invite in it".into(), retry_after: None };
                show(&state, &observed, None, Some(refusal), asked, config, now)
            }
        });
    }
    let guest = match &invite {
        Some(Ok(i)) => Some(i.clone()),
        _ => None,
    };
    let refusal = match (&invite, &guest) {
        (Some(Err(refused)), _) => Some(WakeRefusal { status: 403, reason: refused.to_string(), retry_after: None }),
        (_, Some(g)) => front_door::check_wake(&state, &g.name, now, config).err().map(|e| WakeRefusal::from_error(&e)),
        _ => None,
    };
    if asked.path == WAKE_PATH && asked.method == "POST" {
        return wake(executor, config, asked, guest, refusal, (&state, &observed), now).await;
    }
    // While a wake runs, each look moves it on. A look that points the address at the app
    // looks once more at once: this page is the last the tester sees from the front door
    // (their next request reaches the app), so it says ready, and the wake's ready time is
    // kept, if the app answers now.
    let mut observed = observed;
    for _ in 0..2 {
        if front_door::current_wake(&state, now).is_none() {
            break;
        }
        let probe = probe(app, config, &state, &observed).await;
        if front_door::progress(&state, &observed, probe, now).is_none() {
            break;
        }
        let origin = Origin::new(Source::FrontDoor, "front-door", format!("{} {}", asked.method, asked.path));
        let outcome = Box::pin(run_with(executor, &origin, now, |s: &EnvironmentState, o: Observed| {
            Ok(front_door::progress(s, &o, probe, now).unwrap_or_else(|| unchanged(s)))
        }))
        .await?;
        let rerouted = observed.route != Some(Route::App);
        state = outcome.state;
        observed = executor.observe().await.unwrap_or(observed);
        if !(rerouted && observed.route == Some(Route::App)) {
            break;
        }
    }
    Ok(show(&state, &observed, guest.as_ref(), refusal, asked, config, now))
}

fn unchanged(state: &EnvironmentState) -> staging_core::Decision {
    staging_core::Decision { actions: Vec::new(), next_state: state.clone(), summary: "nothing new".into() }
}

/// The app's probe through the staging address, once the address leads to the app:
/// `None` without probes (the load balancer's health is the last step then).
async fn probe(app: &FrontDoor, config: &Config, state: &EnvironmentState, observed: &Observed) -> Option<bool> {
    let prober = app.prober(config)?;
    let routed = observed.route.is_none_or(|r| r == Route::App);
    let tasks = state.wakes.last().is_some_and(|w| w.tasks_at.is_some()) || observed.running_count > 0;
    if !(routed && tasks) {
        return Some(false);
    }
    let results = prober.probe_all().await;
    Some(!results.is_empty() && results.iter().all(|r| r.ok))
}

async fn wake(
    executor: &Executor<'_>,
    config: &Config,
    asked: &Asked,
    guest: Option<Invite>,
    refusal: Option<WakeRefusal>,
    (state, observed): (&EnvironmentState, &Observed),
    now: DateTime<Utc>,
) -> Result<Response<Body>, ShellError> {
    let refused = |refusal: WakeRefusal| Ok(show(state, observed, None, Some(refusal), asked, config, now));
    if asked.visitor == Visitor::Robot {
        return refused(WakeRefusal {
            status: 403,
            reason: "robots and previews do not wake staging".into(),
            retry_after: None,
        });
    }
    if let Some(refusal) = refusal {
        return refused(refusal);
    }
    let Some(invite) = guest else {
        return refused(WakeRefusal {
            status: 401,
            reason: "waking staging needs an invite: open your personal link first".into(),
            retry_after: None,
        });
    };
    let origin = Origin::new(Source::FrontDoor, invite.name.as_str(), "wake");
    let result = Box::pin(run_with(executor, &origin, now, |s: &EnvironmentState, o: Observed| {
        front_door::decide_wake(s, o, &invite, now, config)
    }))
    .await;
    match result {
        Ok(outcome) => {
            lambda_http::tracing::info!(by = %invite.name, summary = %outcome.summary, "wake");
            let next = front_door::back_to(asked.next.as_deref());
            if asked.visitor == Visitor::Api {
                let body = json!({ "state": "waking", "summary": outcome.summary, "back_to": next });
                return Ok(respond(StatusCode::ACCEPTED, "application/json", body.to_string(), None, None, None));
            }
            Ok(redirect(&next, None))
        }
        Err(ShellError::Core(e @ Error::Wake { .. })) => refused(WakeRefusal::from_error(&e)),
        Err(e) => Err(e),
    }
}

/// An invite opened: its cookie, and on to the path asked for.
fn welcome(invite: &Invite, asked: &Asked, now: DateTime<Utc>) -> Response<Body> {
    let max_age = (invite.expires - now).num_seconds().max(0);
    let token = asked.token.as_deref().unwrap_or_default();
    let cookie = format!("{COOKIE}={token}; Path=/; Max-Age={max_age}; Secure; HttpOnly; SameSite=Lax");
    redirect(&front_door::back_to(asked.next.as_deref()), Some(cookie))
}

fn redirect(to: &str, cookie: Option<String>) -> Response<Body> {
    respond(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", String::new(), None, Some(to), cookie)
}

/// The page or the JSON answer for the state as it is.
fn show(
    state: &EnvironmentState,
    observed: &Observed,
    guest: Option<&Invite>,
    refusal: Option<WakeRefusal>,
    asked: &Asked,
    config: &Config,
    now: DateTime<Utc>,
) -> Response<Body> {
    let status_of_refusal = refusal.as_ref().map(|r| r.status);
    let view = front_door::view(state, observed, guest, refusal, asked.next.as_deref(), now, config);
    let retry = page::retry_after_seconds(&view);
    let status = match (status_of_refusal, view.state) {
        (Some(s), Sleep::Asleep) if asked.path.starts_with(front_door::PREFIX) => {
            StatusCode::from_u16(s).unwrap_or(StatusCode::FORBIDDEN)
        }
        (Some(429), Sleep::Asleep) => StatusCode::TOO_MANY_REQUESTS,
        (_, Sleep::Ready) if asked.visitor != Visitor::Api => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    if asked.visitor == Visitor::Api {
        return respond(status, "application/json", page::json(&view).to_string(), Some(retry), None, None);
    }
    let html = page::html(&view, config.business_hours.time_zone, config.front_door.wake_for);
    respond(status, "text/html; charset=utf-8", html, Some(retry), None, None)
}

fn respond(
    status: StatusCode,
    content_type: &str,
    body: String,
    retry_after: Option<u64>,
    location: Option<&str>,
    cookie: Option<String>,
) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-robots-tag", "noindex")
        .header(header::REFERRER_POLICY, "no-referrer")
        // Nothing is fetched from elsewhere, no script runs, the form posts here only.
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        );
    if let Some(secs) = retry_after {
        builder = builder.header(header::RETRY_AFTER, secs.to_string());
    }
    if let Some(to) = location {
        builder = builder.header(header::LOCATION, to);
    }
    if let Some(cookie) = cookie {
        builder = builder.header(header::SET_COOKIE, cookie);
    }
    builder.body(Body::from(body)).unwrap_or_else(|_| Response::new(Body::Empty))
}

/// A response as `stagingctl invoke front-door` prints it: the Function URL answer's
/// fields (`statusCode`, `headers`, `cookies`, `body`).
pub fn as_json(response: &Response<Body>) -> Value {
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in response.headers() {
        let value = value.to_str().unwrap_or_default().to_string();
        if name == header::SET_COOKIE {
            cookies.push(Value::String(value));
        } else {
            headers.insert(name.as_str().to_string(), Value::String(value));
        }
    }
    let body = match response.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        Body::Empty => String::new(),
        _ => String::new(),
    };
    json!({ "statusCode": response.status().as_u16(), "headers": headers, "cookies": cookies, "body": body })
}
