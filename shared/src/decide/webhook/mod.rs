//! GitHub webhooks, pure: is the request genuine, what is it about, which files did a
//! push change (and can the payload's lists be trusted), and what a push or a finished
//! deploy run means for the environment.
//!
//! Everything sent to the Function URL is hostile until the signature checks out. The
//! checks run in a fixed order and each refusal names what was wrong.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Config, GitHub, Secret};
use crate::decide::draft::Draft;
use crate::error::Result;
use crate::model::action::{Action, Decision, Notification, NotificationEvent, Severity};
use crate::model::observed::Observed;
use crate::model::state::{DeploymentStatus, EnvironmentState, HoldKind, RunOutcome, short_sha};
use crate::scope::{DeploymentPlan, DeploymentType, FilterMatches};
use crate::time::{hhmm, whole_seconds};

/// GitHub caps webhook payloads at 25 MB.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;
/// GitHub lists at most 3,000 files per commit in a push payload.
pub const COMMIT_FILE_CAP: usize = 3000;
/// The Compare API lists at most 300 files, on its first page only (it pages commits,
/// never files).
pub const COMPARE_FILE_CAP: usize = 300;
/// A push payload lists at most 2,048 commits, with no flag when it cut some.
pub const PUSH_COMMIT_CAP: usize = 2048;
/// How many files per filter a notification lists.
const FILES_SHOWN: usize = 10;

const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// A request refused: the HTTP status and a message naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub status: u16,
    pub message: String,
}

/// A well-formed signature that matches none of the secrets in hand: the one refusal a
/// rotated secret explains (a malformed one never is).
const SIGNATURE_MISMATCH: &str = "X-Hub-Signature-256 does not match the body";

impl Rejection {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    /// Whether the signature was well formed but matched no secret in hand: worth reading
    /// the secret again for (a rotation), where any other refusal is not.
    pub fn is_signature_mismatch(&self) -> bool {
        self.status == 401 && self.message == SIGNATURE_MISMATCH
    }
}

/// The headers that identify a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event: String,
    /// `X-GitHub-Delivery`: kept on redelivery, so it is the idempotency key.
    pub id: String,
    pub hook_id: Option<String>,
}

/// Checks a request in order: method (405), size (413), required headers (400),
/// signature (401), content type (415). `header` looks a header up by lower-case name.
/// Without a configured secret nothing can be verified: 500.
pub fn check_request<'h>(
    method: &str,
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    secrets: &[Secret],
) -> Result<Delivery, Rejection> {
    if !method.eq_ignore_ascii_case("POST") {
        return Err(Rejection::new(405, format!("method {method} not allowed; GitHub delivers with POST")));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(Rejection::new(413, format!("body of {} bytes exceeds GitHub's 25 MB cap", body.len())));
    }
    let required = |name: &'static str| {
        header(&name.to_ascii_lowercase())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Rejection::new(400, format!("missing header {name}")))
    };
    let event = required("X-GitHub-Event")?;
    let id = required("X-GitHub-Delivery")?;
    let signature = required("X-Hub-Signature-256")?;
    verify_signature(body, signature, secrets)?;
    let content_type = header("content-type").unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(Rejection::new(
            415,
            format!("content type `{content_type}` is not application/json; set the webhook's content type to JSON"),
        ));
    }
    Ok(Delivery {
        event: event.to_string(),
        id: id.to_string(),
        hook_id: header("x-github-hook-id").map(str::to_string),
    })
}

/// How often a signature that matches none of the secrets in hand may have the webhook
/// secret read again from Secrets Manager: enough to pick up a rotation within a delivery
/// or two, while a flood of forged signatures costs at most one read a minute.
pub const SECRET_REREAD_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// Whether a signature mismatch at `now` may read the webhook secret again, the last read
/// having been at `last` (a clock that went back allows it: the read is harmless).
pub fn may_reread_secret(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|t| now - t >= SECRET_REREAD_EVERY || now < t)
}

/// How long a webhook secret read from Secrets Manager is used before it is read again,
/// whatever the signatures say: a secret taken out of the stored value (a leaked one,
/// revoked) stops being accepted by warm instances within this.
pub const SECRET_REFRESH_EVERY: chrono::Duration = chrono::Duration::minutes(15);

/// Whether the webhook secret last read at `last` is due to be read again at `now`.
pub fn secret_refresh_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_some_and(|t| now - t >= SECRET_REFRESH_EVERY)
}

/// The secrets a stored value holds: `new,old` while rotating, at most two, trimmed.
pub fn parse_webhook_secrets(value: &str) -> Vec<Secret> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).take(2).map(Secret::new).collect()
}

/// Checks `X-Hub-Signature-256` (`sha256=` and 64 hex digits) against the HMAC-SHA256
/// of the raw body under each configured secret (two while rotating), in constant time.
pub fn verify_signature(body: &[u8], header: &str, secrets: &[Secret]) -> Result<(), Rejection> {
    if secrets.is_empty() {
        return Err(Rejection::new(500, "no webhook secret is configured; nothing can be verified"));
    }
    let digest = header
        .strip_prefix("sha256=")
        .filter(|hex| hex.len() == 64)
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or_else(|| Rejection::new(401, "X-Hub-Signature-256 is not `sha256=` followed by 64 hex digits"))?;
    let genuine = secrets.iter().any(|secret| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key length");
        mac.update(body);
        mac.verify_slice(&digest).is_ok()
    });
    if genuine { Ok(()) } else { Err(Rejection::new(401, SIGNATURE_MISMATCH)) }
}

/// The hex SHA-256 of a body: the idempotency record's payload check.
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

#[derive(Debug, Clone, Default, Deserialize)]
struct RepositoryRef {
    #[serde(default)]
    full_name: String,
}

/// One commit of a push.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Commit {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
    #[serde(default)]
    pub modified: Vec<String>,
}

impl Commit {
    fn file_count(&self) -> usize {
        self.added.len() + self.removed.len() + self.modified.len()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Pusher {
    #[serde(default)]
    name: String,
}

/// The fields of a `push` delivery we use.
#[derive(Debug, Clone, Deserialize)]
pub struct Push {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub before: String,
    pub after: String,
    #[serde(default)]
    pub created: bool,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub forced: bool,
    #[serde(default)]
    pub compare: Option<String>,
    #[serde(default)]
    pub commits: Vec<Commit>,
    #[serde(default)]
    repository: RepositoryRef,
    #[serde(default)]
    pusher: Pusher,
}

impl Push {
    pub fn pusher(&self) -> &str {
        &self.pusher.name
    }

    /// Where a decision on this push came from, for the audit trail.
    pub fn origin(&self, delivery: &str, files: usize) -> crate::audit::Origin {
        let who = if self.pusher.name.is_empty() { "github" } else { &self.pusher.name };
        crate::audit::Origin::new(
            crate::audit::Source::Webhook,
            who,
            format!(
                "push {} {}..{} ({files} files, {} commits; delivery {delivery})",
                self.git_ref,
                crate::model::state::short_sha(&self.before),
                crate::model::state::short_sha(&self.after),
                self.commits.len()
            ),
        )
    }

    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }

    /// What identifies this push whatever delivery carries it: `before..after`. (Not
    /// `after` alone, so a forced push back to an earlier commit is still a new push.)
    pub fn key(&self) -> String {
        format!("{}..{}", self.before, self.after)
    }
}

#[derive(Debug, Clone, Deserialize)]
struct WorkflowRunEnvelope {
    action: String,
    workflow_run: WorkflowRun,
    #[serde(default)]
    repository: RepositoryRef,
}

/// The fields of a `workflow_run` we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkflowRun {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub name: Option<String>,
    /// What started the run: `workflow_dispatch` for ours.
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// `.github/workflows/deploy-staging.yml`
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub head_branch: Option<String>,
    pub head_sha: String,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub run_started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub html_url: Option<String>,
    /// 1 for a run, 2… for its re-runs (same `id`).
    #[serde(default)]
    pub run_attempt: Option<u32>,
    /// Who started the run (a re-run's is who re-ran it).
    #[serde(default)]
    pub triggering_actor: Option<Actor>,
    #[serde(default)]
    pub actor: Option<Actor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Actor {
    pub login: String,
}

impl WorkflowRun {
    /// Where a decision on this run came from, for the audit trail; `what` is
    /// `requested` or `completed`.
    pub fn origin(&self, what: &str, delivery: &str) -> crate::audit::Origin {
        let conclusion = self.conclusion.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
        let who = match (&self.triggering_actor, &self.actor) {
            (None, None) => "github",
            _ => self.started_by(),
        };
        crate::audit::Origin::new(
            crate::audit::Source::Webhook,
            who,
            format!(
                "workflow_run {what}{conclusion}: {} run {} on {} (delivery {delivery})",
                if self.path.is_empty() { "the deploy workflow" } else { &self.path },
                self.key(),
                crate::model::state::short_sha(&self.head_sha)
            ),
        )
    }

    /// What names this attempt of this run: `id#attempt`.
    pub fn key(&self) -> String {
        match self.id {
            Some(id) => format!("{id}#{}", self.run_attempt.unwrap_or(1)),
            None => format!("{}@{}", self.head_sha, self.created_at.map(|t| t.timestamp()).unwrap_or_default()),
        }
    }

    /// Who started the run, as GitHub names them.
    pub fn started_by(&self) -> &str {
        self.triggering_actor.as_ref().or(self.actor.as_ref()).map(|a| a.login.as_str()).unwrap_or("someone")
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Ping {
    #[serde(default)]
    hook_id: Option<u64>,
    #[serde(default)]
    repository: Option<RepositoryRef>,
}

/// What a verified delivery is about.
#[derive(Debug, Clone)]
pub enum Route {
    /// GitHub checking the hook: answer 200 `{"pong": true}`.
    Ping { hook_id: Option<u64> },
    /// Nothing for us: answer 202 with the reason.
    Ignored(String),
    /// A push to the configured branch.
    Push(Box<Push>),
    /// The deploy workflow finished on the configured branch.
    DeployFinished(WorkflowRun),
    /// A `workflow_dispatch` run of the deploy workflow was requested on the configured
    /// branch: one of ours, or a person's "Run workflow".
    DeployRequested(WorkflowRun),
}

fn parse<'a, T: Deserialize<'a>>(event: &str, body: &'a [u8]) -> Result<T, Rejection> {
    serde_json::from_slice(body).map_err(|e| Rejection::new(400, format!("malformed {event} payload: {e}")))
}

fn check_repository(github: &GitHub, full_name: &str) -> Result<(), Rejection> {
    match &github.repository {
        Some(repo) if !repo.to_string().eq_ignore_ascii_case(full_name) => {
            Err(Rejection::new(403, format!("repository `{full_name}` is not the configured `{repo}`")))
        }
        _ => Ok(()),
    }
}

/// Parses and routes a verified delivery: malformed JSON is 400, another repository
/// 403; other events, branches, tags, deletions and unrelated workflows are ignored.
pub fn route(event: &str, body: &[u8], github: &GitHub) -> Result<Route, Rejection> {
    match event {
        "ping" => {
            let ping: Ping = parse(event, body)?;
            if let Some(repo) = &ping.repository {
                check_repository(github, &repo.full_name)?;
            }
            Ok(Route::Ping { hook_id: ping.hook_id })
        }
        "push" => {
            let push: Push = parse(event, body)?;
            check_repository(github, &push.repository.full_name)?;
            let Some(branch) = push.branch() else {
                return Ok(Route::Ignored(format!("{} is not a branch", push.git_ref)));
            };
            if branch != github.branch {
                return Ok(Route::Ignored(format!("push to {branch}, not {}", github.branch)));
            }
            if push.deleted {
                return Ok(Route::Ignored(format!("branch {branch} was deleted")));
            }
            Ok(Route::Push(Box::new(push)))
        }
        "workflow_run" => {
            let envelope: WorkflowRunEnvelope = parse(event, body)?;
            check_repository(github, &envelope.repository.full_name)?;
            let run = envelope.workflow_run;
            let workflow_file = run.path.rsplit('/').next().unwrap_or_default();
            if envelope.action != "completed" && envelope.action != "requested" {
                Ok(Route::Ignored(format!("workflow_run {}", envelope.action)))
            } else if workflow_file != github.deploy_workflow {
                Ok(Route::Ignored(format!("workflow {} is not {}", run.path, github.deploy_workflow)))
            } else if run.head_branch.as_deref() != Some(github.branch.as_str()) {
                Ok(Route::Ignored(format!(
                    "run on {}, not {}",
                    run.head_branch.as_deref().unwrap_or("no branch"),
                    github.branch
                )))
            } else if envelope.action == "completed" {
                Ok(Route::DeployFinished(run))
            } else if run.event.as_deref() != Some("workflow_dispatch") {
                Ok(Route::Ignored(format!(
                    "workflow_run requested by {}, not workflow_dispatch",
                    run.event.as_deref().unwrap_or("an unknown event")
                )))
            } else {
                Ok(Route::DeployRequested(run))
            }
        }
        other => Ok(Route::Ignored(other.to_string())),
    }
}

/// Where the list of changed files came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilesSource {
    /// The commits' `added`/`modified`/`removed` lists.
    Payload,
    /// `GET /repos/{o}/{r}/compare/{before}...{after}`.
    Compare,
    /// No list could be trusted: deploy everything.
    Full,
}

/// The changed files, where they came from, and why (for a fallback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFiles {
    pub files: Vec<String>,
    pub source: FilesSource,
    pub reason: Option<String>,
}

impl ChangedFiles {
    fn full(reason: impl Into<String>) -> Self {
        Self { files: Vec::new(), source: FilesSource::Full, reason: Some(reason.into()) }
    }
}

/// Whether the Compare API is worth asking for this push: not for a new branch (there
/// is no base) nor a forced push (the base may be gone); both deploy in full anyway.
pub fn compare_applies(push: &Push) -> bool {
    !(push.created || push.before == ZERO_SHA || push.forced)
}

/// Decides the changed files: a new branch or a forced push deploys in full; otherwise
/// the Compare API's answer when there is one; at its cap (300 files), the commits' own
/// lists (up to 3,000 files each), when they hold every file the Compare API listed (a
/// check that they were not cut); a failed Compare, or lists that cannot be trusted,
/// mean full; without a Compare answer, the payload's lists, unless GitHub capped or
/// emptied them.
pub fn changed_files(push: &Push, compare: Option<std::result::Result<Vec<String>, String>>) -> ChangedFiles {
    if push.created || push.before == ZERO_SHA {
        return ChangedFiles::full("the branch was just created");
    }
    if push.forced {
        return ChangedFiles::full("the push was forced");
    }
    match compare {
        Some(Ok(compared)) if compared.len() >= COMPARE_FILE_CAP => {
            let cap = format!("the Compare API lists {} files, its cap", compared.len());
            match payload_files(push, true) {
                Err(full) => ChangedFiles::full(format!("{cap}, and {}", full.reason.unwrap_or_default())),
                Ok(listed) if compared.iter().all(|f| listed.contains(f)) => ChangedFiles {
                    reason: Some(format!("{cap}: the commits' lists ({} files) hold all of them", listed.len())),
                    files: listed.into_iter().collect(),
                    source: FilesSource::Payload,
                },
                Ok(_) => {
                    ChangedFiles::full(format!("{cap}, and the commits' lists miss some of those (cut by GitHub)"))
                }
            }
        }
        Some(Ok(files)) => ChangedFiles {
            files: files.into_iter().collect::<BTreeSet<_>>().into_iter().collect(),
            source: FilesSource::Compare,
            reason: None,
        },
        Some(Err(error)) => ChangedFiles::full(format!("the Compare API failed: {error}")),
        None => match payload_files(push, false) {
            Ok(files) => {
                ChangedFiles { files: files.into_iter().collect(), source: FilesSource::Payload, reason: None }
            }
            Err(full) => full,
        },
    }
}

/// The union of the commits' `added`/`removed`/`modified` lists, or why it cannot be
/// trusted: a commit at GitHub's per-commit cap, as many commits as a payload holds, or
/// no file listed at all for a push that moved the branch.
/// At the Compare API's cap (`cap_reached`), a commit listing no file may be one GitHub
/// emptied: the union cannot be trusted then.
fn payload_files(push: &Push, cap_reached: bool) -> std::result::Result<BTreeSet<String>, ChangedFiles> {
    if push.commits.iter().any(|c| c.file_count() >= COMMIT_FILE_CAP) {
        return Err(ChangedFiles::full(format!("a commit lists {COMMIT_FILE_CAP} files, GitHub's cap")));
    }
    if push.commits.len() >= PUSH_COMMIT_CAP {
        return Err(ChangedFiles::full(format!("the payload lists {PUSH_COMMIT_CAP} commits, GitHub's cap")));
    }
    if cap_reached && push.commits.iter().any(|c| c.file_count() == 0) {
        return Err(ChangedFiles::full("a commit lists no file (GitHub empties the lists of very large commits)"));
    }
    let files: BTreeSet<String> =
        push.commits.iter().flat_map(|c| c.added.iter().chain(&c.removed).chain(&c.modified)).cloned().collect();
    if files.is_empty() && push.after != push.before {
        return Err(ChangedFiles::full(
            "no commit lists a file (GitHub leaves the lists empty for very large commits)",
        ));
    }
    Ok(files)
}

/// A push, classified.
pub struct PushInput<'a> {
    pub push: &'a Push,
    pub files: &'a ChangedFiles,
    pub matches: &'a FilterMatches<'a>,
}

impl PushInput<'_> {
    /// The plan: the filters' for a trusted list, everything for a fallback.
    pub fn plan(&self) -> DeploymentPlan {
        match self.files.source {
            FilesSource::Full => DeploymentPlan::FULL,
            _ => self.matches.plan(),
        }
    }
}

/// What a push to the branch means now. Nothing to deploy → nothing done. A push seen
/// before (a redelivery, or the same signed body under a new delivery id) → nothing
/// but retrying a dispatch GitHub refused. Otherwise the push merges into the pending
/// deployment; locked by the budget → it waits, the team told once; else staging is
/// woken if needed (held outside business hours) and the pending deployment dispatched
/// unless a run is in flight (then it goes when that run reports). Without a token:
/// recorded and told, not dispatched (dry mode).
pub fn decide_push(
    state: &EnvironmentState,
    observed: Observed,
    input: &PushInput<'_>,
    now: DateTime<Utc>,
    config: &Config,
) -> Result<Decision> {
    let now = whole_seconds(now);
    let push = input.push;
    let plan = input.plan();
    let mut p = Draft::new(state, observed, now, config);
    let Some(deployment_type) = plan.deployment_type() else {
        return Ok(p.into_decision("validation only: nothing to deploy".into()));
    };
    let env = p.next.environment.clone();
    let sha = push.after.clone();
    let key = push.key();
    if p.next.knows_push(&key) {
        let whereabouts = where_is(&p.next, &sha);
        p.quiet = true;
        let retried = p.dispatch_pending().map(|line| format!("; {line}")).unwrap_or_default();
        return Ok(p.into_decision(format!("already received: {} is {whereabouts}{retried}", short_sha(&sha))));
    }
    p.next.remember_push(key);
    let was_waiting = p.next.pending_deployment.is_some();
    p.next.queue_deployment(&sha, plan, now);

    if let Some(lock) = p.next.active_budget_lock(now).cloned() {
        let waiting = p.next.pending_deployment.clone().expect("just queued");
        if !was_waiting {
            let subject = format!("{env}: deploy of {} waits for the budget lock", short_sha(&sha));
            let body = format!(
                "{}\n\nStaging is locked by the budget for {} ({}); nothing was started or deployed.\n\
                 Every push until then is merged into one deploy, dispatched when the lock is lifted: run \
                 `stagingctl unlock` (or `stagingctl up --force`), or wait for the next budget period.",
                describe_push(input, plan, deployment_type),
                lock.period,
                lock.reason
            );
            p.actions.push(Action::Notify(Notification::new(
                NotificationEvent::DeployPending,
                Severity::Warning,
                subject,
                body,
            )));
        }
        return Ok(p.into_decision(format!(
            "locked by the budget: {} pending ({} push{})",
            waiting.deployment_type.map(|t| t.to_string()).unwrap_or_default(),
            waiting.pushes.len(),
            if waiting.pushes.len() == 1 { "" } else { "es" }
        )));
    }

    p.quiet = true;
    // Waking is about the committed intent, not the moment's ECS count: a teardown that
    // committed "down" and has not scaled yet is down all the same.
    let woke = if p.next.wants_running() {
        if p.observed.desired_count == 0 {
            // Meant to run but not running (an action not yet carried out): put it right.
            p.start("woken for a deploy");
        }
        None
    } else if config.business_hours.is_up_time(now) {
        p.start("woken for a deploy");
        Some("staging was down and has been started".to_string())
    } else {
        let who = if push.pusher().is_empty() { "github" } else { push.pusher() };
        let held = p.hold(HoldKind::OnDemand, config.hold_default, &format!("deploy {}", short_sha(&sha)), who)?;
        p.start("woken for a deploy");
        Some(format!("staging was down and has been started, {held} (outside business hours)"))
    };
    let dispatched = p.dispatch_pending();
    p.quiet = false;

    let grace = p.grace();
    let (verb, summary, extra) = match (&dispatched, p.next.active_deployment(now, grace)) {
        (Some(line), _) => ("deploying", line.clone(), None),
        // Stack mode: the pause stack is being created; the deploy goes at `up`.
        (None, None)
            if config.github.can_dispatch()
                && let Some(ready) = p.stack_starting() =>
        {
            let queued = p.next.pending_deployment.as_ref().expect("just queued");
            let line = format!(
                "pending until staging is up (expected about {}): {}, {} push{}",
                hhmm(ready),
                queued.deployment_type.map(|t| t.to_string()).unwrap_or_default(),
                queued.pushes.len(),
                if queued.pushes.len() == 1 { "" } else { "es" }
            );
            let extra = format!(
                "Staging's stack is being created; it is expected to be ready about {} ({}). The deploy is dispatched \
                 as soon as it is up.",
                hhmm(ready),
                if p.stack_ready_estimate().1 {
                    "from the last starts"
                } else {
                    "about 10 minutes: no start recorded yet"
                }
            );
            ("waiting to deploy", line, Some(extra))
        }
        (None, Some(running)) if config.github.can_dispatch() => {
            let queued = p.next.pending_deployment.as_ref().expect("just queued");
            let since = running.started_at.map(hhmm).unwrap_or_else(|| "earlier".into());
            let line = format!(
                "queued behind the run for {} (dispatched at {since}): {} pending, {} push{}",
                short_sha(&running.sha),
                queued.deployment_type.map(|t| t.to_string()).unwrap_or_default(),
                queued.pushes.len(),
                if queued.pushes.len() == 1 { "" } else { "es" }
            );
            ("queued", line.clone(), Some(format!("{line}; it is dispatched when that run reports.")))
        }
        _ => (
            "would deploy",
            format!("dry mode (no GitHub token): {deployment_type} recorded, not dispatched"),
            Some("Dry mode: no GitHub token is configured, so the workflow was not dispatched.".to_string()),
        ),
    };
    let subject = format!(
        "{env}: {verb} {deployment_type} @ {} ({} file{})",
        short_sha(&sha),
        input.files.files.len(),
        if input.files.files.len() == 1 { "" } else { "s" }
    );
    let mut body = describe_push(input, plan, deployment_type);
    let already = if p.stack_starting().is_some() { "staging was already starting" } else { "staging was already up" };
    body.push_str(&format!("\n{}", woke.as_deref().unwrap_or(already)));
    if let Some(extra) = extra {
        body.push_str(&format!("\n{extra}"));
    }
    p.actions.push(Action::Notify(Notification::new(NotificationEvent::DeployPlanned, Severity::Info, subject, body)));
    Ok(p.into_decision(summary))
}

/// Where a push's commit is now, for the answer to a push seen again.
fn where_is(state: &EnvironmentState, sha: &str) -> &'static str {
    let has =
        |d: &Option<crate::model::state::Deployment>| d.as_ref().is_some_and(|d| d.pushes.iter().any(|p| p == sha));
    if has(&state.deployment_in_flight) {
        "being deployed"
    } else if has(&state.pending_deployment) {
        "pending"
    } else if has(&state.last_deployment) {
        "deployed"
    } else {
        "taken already"
    }
}

/// The body lines every deploy notification starts with.
fn describe_push(input: &PushInput<'_>, plan: DeploymentPlan, deployment_type: DeploymentType) -> String {
    let push = input.push;
    let mut body = format!(
        "{} pushed {} commit{} to {} ({}).\nPlan: {plan} -> deployment-type {deployment_type}\n",
        if push.pusher().is_empty() { "someone" } else { push.pusher() },
        push.commits.len(),
        if push.commits.len() == 1 { "" } else { "s" },
        push.branch().unwrap_or(&push.git_ref),
        short_sha(&push.after),
    );
    for commit in push.commits.iter().take(5) {
        let title = commit.message.lines().next().unwrap_or_default();
        body.push_str(&format!("  {} {title}\n", short_sha(&commit.id)));
    }
    if push.commits.len() > 5 {
        body.push_str(&format!("  … and {} more commits\n", push.commits.len() - 5));
    }
    match (&input.files.source, &input.files.reason) {
        (FilesSource::Full, Some(reason)) => body.push_str(&format!("Files: full deployment, because {reason}\n")),
        (source, _) => body.push_str(&format!("Files: {} from the {source:?} list\n", input.files.files.len())),
    }
    for (filter, files) in input.matches.iter().filter(|(_, f)| !f.is_empty()) {
        body.push_str(&format!("  {filter} ({}):\n", files.len()));
        for file in files.iter().take(FILES_SHOWN) {
            body.push_str(&format!("    {file}\n"));
        }
        if files.len() > FILES_SHOWN {
            body.push_str(&format!("    … and {} more\n", files.len() - FILES_SHOWN));
        }
    }
    if let Some(url) = &push.compare {
        body.push_str(&format!("Compare: {url}\n"));
    }
    body
}

/// How far a run's own clock may be behind ours when matching it to a dispatch.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(2);

/// Whether a finished run is the one dispatched for `d`: a `workflow_dispatch` run
/// created after the dispatch (a dispatch runs the branch head, so the sha need not
/// match); without timestamps, the same sha.
fn is_run_of(run: &WorkflowRun, d: &crate::model::state::Deployment, state: &EnvironmentState) -> bool {
    if run.event.as_deref().is_some_and(|e| e != "workflow_dispatch") {
        return false;
    }
    // Its id, once known (from its `requested` delivery, or a run tracked by hand).
    if let Some(id) = d.run_id {
        return run.id == Some(id);
    }
    // A re-run (keeping its first `created_at`) is never a dispatch of ours, nor is a run
    // whose `requested` was seen and judged someone else's.
    if run.run_attempt.unwrap_or(1) > 1 || state.knows_run(&run.key()) {
        return false;
    }
    match (d.started_at, run.created_at.or(run.run_started_at)) {
        (Some(dispatched), Some(created)) => dispatched.checked_sub_signed(CLOCK_SKEW).is_none_or(|t| created >= t),
        _ => run.head_sha == d.sha,
    }
}

/// How close to our dispatch the run it started is created (GitHub creates it at once).
const DISPATCH_TO_RUN: chrono::Duration = chrono::Duration::minutes(2);

/// A `workflow_dispatch` run of the deploy workflow was requested. One we dispatched (the
/// run in flight, created within two minutes of its dispatch) changes nothing. One a
/// person started by hand ("Run workflow" in GitHub, no AWS credentials needed) wakes
/// staging like `stagingctl up` — held for `STAGING_HOLD_DEFAULT` outside business hours,
/// refused while the budget locks staging (told, since the run goes on without it) — and
/// is tracked as the deployment in flight, so the teardown waits for it and its outcome
/// is told; a run already in flight is left alone (this one is not tracked).
pub fn decide_deploy_requested(
    state: &EnvironmentState,
    observed: Observed,
    run: &WorkflowRun,
    now: DateTime<Utc>,
    config: &Config,
) -> Result<Decision> {
    let now = whole_seconds(now);
    let mut p = Draft::new(state, observed, now, config);
    let env = state.environment.clone();
    let link = run.html_url.as_deref().unwrap_or("(no link)");
    let key = run.key();
    // Delivered again, or after its `completed` (GitHub does not order deliveries).
    if state.knows_run(&key)
        || state
            .last_deployment
            .as_ref()
            .is_some_and(|d| d.run_id.is_some() && d.run_id == run.id && run.run_attempt.unwrap_or(1) <= 1)
    {
        return Ok(p.into_decision(format!("ignored: run {key} was already handled")));
    }
    p.next.remember_run(key.clone());
    let created = run.created_at.map(whole_seconds);
    if let Some(d) = p.next.deployment_in_flight.as_mut() {
        if d.run_id.is_some() && d.run_id == run.id {
            return Ok(p.into_decision(format!("ignored: run {key} is already tracked")));
        }
        // Ours: the run in flight is a dispatch of ours whose run has not reported, and
        // this one was created within minutes of that dispatch (without timestamps, the
        // same commit). Its id is kept, so that its outcome is known by id.
        let ours = d.by_hand.is_none()
            && d.run_id.is_none()
            && run.run_attempt.unwrap_or(1) == 1
            && match (d.started_at, created) {
                (Some(dispatched), Some(created)) => (created - dispatched).abs() <= DISPATCH_TO_RUN,
                _ => run.head_sha == d.sha,
            };
        if ours {
            d.run_id = run.id;
            d.run_url = run.html_url.clone();
            let summary = format!("ignored: the run of our dispatch for {} started ({key})", short_sha(&d.sha));
            return Ok(p.into_decision(summary));
        }
    }
    let who = run.started_by().to_string();
    let sha = short_sha(&run.head_sha);
    if let Some(lock) = p.next.active_budget_lock(now) {
        let subject = format!("{env}: {who} ran the deploy by hand, but staging is locked by the budget");
        let body = format!(
            "{who} started the deploy workflow by hand @ {sha}, but {env} is locked by the budget ({}: {}); it stays \
             down and the run will find no service to deploy to. `stagingctl unlock` (or `up --force`) lifts the lock.\nRun: {link}",
            lock.period, lock.reason
        );
        p.notify(NotificationEvent::DeployStarted, Severity::Warning, subject, body);
        return Ok(p.into_decision("not starting: locked by the budget".into()));
    }
    let mut summary = p.start_on_demand(None, &format!("deploy workflow run by hand @ {sha}"), &who)?;
    let grace = p.grace();
    if let Some(stale) = p.next.give_up_stale_run(now, grace) {
        summary.push_str(&format!("; the run for {} never reported and gives way", short_sha(&stale.sha)));
    }
    let tracked = p.next.deployment_in_flight.is_none();
    if tracked {
        // A re-run keeps its first `created_at`: it started at the latest of the two.
        let started = match (created, run.run_started_at.map(whole_seconds)) {
            (Some(c), Some(s)) => c.max(s),
            (c, s) => c.or(s).unwrap_or(now),
        };
        let mut d = crate::model::state::Deployment::started_by_hand(
            &run.head_sha,
            &who,
            run.id,
            run.html_url.clone(),
            started.min(now),
            now,
        );
        d.task_definition_before = p.observed.task_definition.clone();
        p.next.deployment_in_flight = Some(d);
        summary.push_str(&format!("; tracking run {key} by {who}"));
    } else {
        summary.push_str("; a deploy is already in flight: this run is not tracked");
    }
    let subject = format!("{env}: {who} started the deploy by hand @ {sha}");
    let body = format!(
        "{who} started the deploy workflow by hand on {} @ {sha}. {}\nRun: {link}",
        config.github.branch,
        if tracked {
            "staging-control tracks the run: the teardown waits for it and its outcome will be told."
        } else {
            "Another deploy is in flight; this run's outcome is told only if it fails."
        }
    );
    p.notify(NotificationEvent::DeployStarted, Severity::Info, subject, body);
    Ok(p.into_decision(summary))
}

/// The deploy workflow finished. The run in flight → recorded with the commit it built
/// (said when newer than the push), told (info on success, critical with the run's
/// link otherwise), and the deploy that waited behind it dispatched. A run we were not
/// waiting for changes nothing, but a failed one is still told.
pub fn decide_deploy_finished(
    state: &EnvironmentState,
    observed: Observed,
    run: &WorkflowRun,
    now: DateTime<Utc>,
    config: &Config,
) -> Decision {
    let now = whole_seconds(now);
    let mut p = Draft::new(state, observed, now, config);
    let env = state.environment.clone();
    let conclusion = run.conclusion.as_deref().unwrap_or("unknown");
    let status = DeploymentStatus::from_conclusion(conclusion);
    let link = run.html_url.as_deref().unwrap_or("(no link)");
    let duration = match (run.run_started_at, run.updated_at) {
        (Some(start), Some(end)) if end >= start => Some((end - start).num_seconds()),
        _ => None,
    };
    let ours = state.deployment_in_flight.as_ref().is_some_and(|d| is_run_of(run, d, state));
    // Its `requested`, should it come after this, changes nothing.
    p.next.remember_run(run.key());
    if !ours {
        if status == DeploymentStatus::Succeeded {
            return p.into_decision(format!("ignored: {} is not the run in flight", short_sha(&run.head_sha)));
        }
        let subject = format!("{env}: deploy run {conclusion} @ {}", short_sha(&run.head_sha));
        let body = format!(
            "A run of the deploy workflow that staging-control was not waiting for (started by hand, or \
             given up on after the grace period) finished: {conclusion}.\nRun: {link}"
        );
        p.notify(NotificationEvent::DeployFailed, Severity::Critical, subject, body);
        return p.into_decision(format!("not the run in flight: {conclusion} told"));
    }
    let outcome = RunOutcome {
        status,
        built_sha: run.head_sha.clone(),
        run_url: run.html_url.clone(),
        run_id: run.id,
        duration_secs: duration,
    };
    let after = (status == DeploymentStatus::Succeeded).then(|| p.observed.task_definition.clone()).flatten();
    let finished = match p.next.deployment_finished(outcome, now) {
        Ok(d) => {
            d.task_definition_after = after;
            d.clone()
        }
        Err(e) => return p.into_decision(format!("ignored: {e}")),
    };
    let took = duration
        .map(|s| format!(" in {}", humantime::format_duration(std::time::Duration::from_secs(s.unsigned_abs()))))
        .unwrap_or_default();
    let kind = finished.deployment_type.map(|t| t.to_string()).unwrap_or_else(|| "deploy".into());
    let (severity, event, verdict) = if status == DeploymentStatus::Succeeded {
        (Severity::Info, NotificationEvent::DeploySucceeded, "succeeded")
    } else {
        (Severity::Critical, NotificationEvent::DeployFailed, conclusion)
    };
    let mut body = format!(
        "The deploy workflow for {} finished: {conclusion}{took}.\nPushes: {}\nRun: {link}",
        short_sha(&finished.sha),
        finished.push_list()
    );
    if run.head_sha != finished.sha {
        body.push_str(&format!(
            "\nThe run built {}, the branch head when it started, which is newer than the push's {}.",
            short_sha(&run.head_sha),
            short_sha(&finished.sha)
        ));
    }
    p.quiet = true;
    let next = p.dispatch_pending();
    p.quiet = false;
    if let Some(line) = &next {
        body.push_str(&format!("\nNext: {line}."));
    }
    let subject = format!("{env}: {kind} {verdict} @ {}{took}", short_sha(&run.head_sha));
    p.actions.insert(0, Action::RecordDeployment(finished));
    p.notify(event, severity, subject, body);
    let mut summary = match next {
        Some(line) => format!("deploy {verdict}; {line}"),
        None => format!("deploy {verdict}"),
    };
    // The teardown that waited for this deploy goes ahead now rather than at its next look.
    if let Some(stop) = p.deferred_teardown_due() {
        summary.push_str(&format!("; {stop}"));
    }
    p.into_decision(summary)
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests {
    use super::*;

    #[test]
    fn a_signature_mismatch_rereads_the_secret_at_most_once_a_minute() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        #[rustfmt::skip]
        let cases: [(&str, Option<&str>, &str, bool); 5] = [
            ("never read since the cold start", None, "2026-11-27T10:00:00.5Z", true),
            ("read 59.9 s ago", Some("2026-11-27T10:00:00.1Z"), "2026-11-27T10:01:00.0Z", false),
            ("read a minute ago to the nanosecond", Some("2026-11-27T10:00:00.123456789Z"), "2026-11-27T10:01:00.123456789Z", true),
            ("read two minutes ago", Some("2026-11-27T10:00:00Z"), "2026-11-27T10:02:00.25Z", true),
            ("a clock that went back", Some("2026-11-27T10:05:00Z"), "2026-11-27T10:00:00Z", true),
        ];
        for (name, last, now, expected) in cases {
            assert_eq!(may_reread_secret(last.map(t), t(now)), expected, "{name}");
        }
        for (last, now, due) in [
            (Some("2026-11-27T10:00:00.5Z"), "2026-11-27T10:14:59.9Z", false),
            (Some("2026-11-27T10:00:00.5Z"), "2026-11-27T10:15:00.5Z", true),
            (None, "2026-11-27T10:15:00Z", false),
        ] {
            assert_eq!(secret_refresh_due(last.map(t), t(now)), due, "{last:?} {now}");
        }
        assert_eq!(parse_webhook_secrets(" new , old ,older"), [Secret::new("new"), Secret::new("old")]);
        assert!(parse_webhook_secrets(" , ").is_empty());
    }
    use crate::scope::Filters;

    fn secrets(values: &[&str]) -> Vec<Secret> {
        values.iter().map(|s| Secret::new(*s)).collect()
    }

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// GitHub's documented test vector ("Validating webhook deliveries").
    #[test]
    fn the_github_documentation_test_vector_is_accepted_and_one_flipped_bit_is_not() {
        let secret = secrets(&["It's a Secret to Everybody"]);
        let body = b"Hello, World!";
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(verify_signature(body, signature, &secret), Ok(()));

        let mut flipped_body = body.to_vec();
        flipped_body[0] ^= 1;
        assert_eq!(verify_signature(&flipped_body, signature, &secret).unwrap_err().status, 401);
        let flipped_signature = signature.replace("757107", "757106");
        assert_eq!(verify_signature(body, &flipped_signature, &secret).unwrap_err().status, 401);
    }

    #[test]
    fn either_of_two_secrets_verifies_while_rotating() {
        let body = b"{}";
        let both = secrets(&["new", "old"]);
        assert!(verify_signature(body, &sign("new", body), &both).is_ok());
        assert!(verify_signature(body, &sign("old", body), &both).is_ok());
        assert_eq!(verify_signature(body, &sign("other", body), &both).unwrap_err().status, 401);
    }

    #[test]
    fn request_checks_run_in_order_and_name_what_is_wrong() {
        let body = br#"{"zen":"x"}"#;
        const SECRET: &str = "hunter2-webhook-secret";
        let good = sign(SECRET, body);
        let headers = |drop: &str, overrides: &[(&str, &str)]| -> Vec<(String, String)> {
            let mut h: Vec<(String, String)> = [
                ("x-github-event", "ping"),
                ("x-github-delivery", "d-1"),
                ("x-hub-signature-256", good.as_str()),
                ("content-type", "application/json"),
            ]
            .iter()
            .filter(|(k, _)| *k != drop)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            for (k, v) in overrides {
                h.retain(|(name, _)| name != k);
                h.push((k.to_string(), v.to_string()));
            }
            h
        };
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        #[rustfmt::skip]
        let cases: Vec<(&str, &str, Vec<(String, String)>, &[u8], u16, &str)> = vec![
            ("GET", "GET", headers("", &[]), body, 405, "method GET not allowed"),
            ("too big", "POST", headers("", &[]), &big, 413, "exceeds GitHub's 25 MB cap"),
            ("no event", "POST", headers("x-github-event", &[]), body, 400, "missing header X-GitHub-Event"),
            ("no delivery", "POST", headers("x-github-delivery", &[]), body, 400, "missing header X-GitHub-Delivery"),
            ("no signature", "POST", headers("x-hub-signature-256", &[]), body, 400, "missing header X-Hub-Signature-256"),
            ("sha1 signature", "POST", headers("", &[("x-hub-signature-256", "sha1=0123456789abcdef0123456789abcdef01234567")]), body, 401, "not `sha256=`"),
            ("short hex", "POST", headers("", &[("x-hub-signature-256", "sha256=abcd")]), body, 401, "64 hex digits"),
            ("not hex", "POST", headers("", &[("x-hub-signature-256", &format!("sha256={}", "zz".repeat(32)))]), body, 401, "64 hex digits"),
            ("wrong signature", "POST", headers("", &[("x-hub-signature-256", &sign("t", body))]), body, 401, "does not match"),
            ("form content", "POST", headers("", &[("content-type", "application/x-www-form-urlencoded")]), body, 415, "is not application/json"),
            ("no content type", "POST", headers("content-type", &[]), body, 415, "is not application/json"),
        ];
        for (name, method, headers, body, status, message) in cases {
            let got = check_request(
                method,
                |n| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()),
                body,
                &secrets(&[SECRET]),
            );
            let err = got.expect_err(name);
            assert_eq!(err.status, status, "{name}: {}", err.message);
            assert!(err.message.contains(message), "{name}: {}", err.message);
            assert!(!err.message.contains(SECRET), "{name}: the secret leaked into {}", err.message);
        }
        let ok = headers("", &[("content-type", "application/json; charset=utf-8"), ("x-github-hook-id", "42")]);
        let delivery = check_request(
            "POST",
            |n| ok.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()),
            body,
            &secrets(&[SECRET]),
        )
        .unwrap();
        assert_eq!(
            (delivery.event.as_str(), delivery.id.as_str(), delivery.hook_id.as_deref()),
            ("ping", "d-1", Some("42"))
        );
        let unconfigured =
            check_request("POST", |n| ok.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()), body, &[]);
        assert_eq!(unconfigured.unwrap_err().status, 500);
    }

    fn github() -> GitHub {
        Config::from_lookup(|n| (n == "GITHUB_REPOSITORY").then(|| "acme/app".to_string())).unwrap().github
    }

    fn push_json(overrides: serde_json::Value) -> Vec<u8> {
        let mut v = serde_json::json!({
            "ref": "refs/heads/develop",
            "before": "1111111111111111111111111111111111111111",
            "after": "2222222222222222222222222222222222222222",
            "created": false, "deleted": false, "forced": false,
            "compare": "https://github.com/acme/app/compare/111111111111...222222222222",
            "commits": [{"id": "2222222222222222222222222222222222222222", "message": "m", "added": ["apps/express-api/a.ts"], "removed": [], "modified": ["apps/express-api/b.ts"]}],
            "repository": {"full_name": "acme/app"},
            "pusher": {"name": "alice"}
        });
        for (k, val) in overrides.as_object().unwrap() {
            v[k] = val.clone();
        }
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn routing_table() {
        let gh = github();
        let run = |overrides: serde_json::Value| {
            let mut v = serde_json::json!({"action": "completed", "repository": {"full_name": "acme/app"}, "workflow_run": {
                "path": ".github/workflows/deploy-staging.yml", "head_branch": "develop", "head_sha": "2222222222222222222222222222222222222222",
                "conclusion": "success"}});
            for (k, val) in overrides.as_object().unwrap() {
                if k == "action" { v["action"] = val.clone() } else { v["workflow_run"][k] = val.clone() }
            }
            serde_json::to_vec(&v).unwrap()
        };
        #[rustfmt::skip]
        let cases: Vec<(&str, &str, Vec<u8>, Result<&str, u16>)> = vec![
            ("ping", "ping", br#"{"zen":"z","hook_id":42}"#.to_vec(), Ok("ping")),
            ("push to develop", "push", push_json(serde_json::json!({})), Ok("push")),
            ("push to main", "push", push_json(serde_json::json!({"ref": "refs/heads/main"})), Ok("ignored: push to main, not develop")),
            ("tag", "push", push_json(serde_json::json!({"ref": "refs/tags/v1.0.0"})), Ok("ignored: refs/tags/v1.0.0 is not a branch")),
            ("branch deleted", "push", push_json(serde_json::json!({"deleted": true, "after": ZERO_SHA, "commits": []})), Ok("ignored: branch develop was deleted")),
            ("other repository", "push", push_json(serde_json::json!({"repository": {"full_name": "evil/app"}})), Err(403)),
            ("malformed json", "push", b"{not json".to_vec(), Err(400)),
            ("json of the wrong shape", "push", br#"{"ref": 1}"#.to_vec(), Err(400)),
            ("other event", "issues", b"{}".to_vec(), Ok("ignored: issues")),
            ("deploy finished", "workflow_run", run(serde_json::json!({})), Ok("deploy finished")),
            ("run requested by hand", "workflow_run", run(serde_json::json!({"action": "requested", "event": "workflow_dispatch"})), Ok("deploy requested")),
            ("run requested by a push", "workflow_run", run(serde_json::json!({"action": "requested", "event": "push"})), Ok("ignored: workflow_run requested by push, not workflow_dispatch")),
            ("run in progress", "workflow_run", run(serde_json::json!({"action": "in_progress", "event": "workflow_dispatch"})), Ok("ignored: workflow_run in_progress")),
            ("run requested on main", "workflow_run", run(serde_json::json!({"action": "requested", "event": "workflow_dispatch", "head_branch": "main"})), Ok("ignored: run on main, not develop")),
            ("another workflow", "workflow_run", run(serde_json::json!({"path": ".github/workflows/ci.yml"})), Ok("ignored: workflow .github/workflows/ci.yml is not deploy-staging.yml")),
            ("run on main", "workflow_run", run(serde_json::json!({"head_branch": "main"})), Ok("ignored: run on main, not develop")),
        ];
        for (name, event, body, expected) in cases {
            let got = route(event, &body, &gh).map(|r| match r {
                Route::Ping { .. } => "ping".to_string(),
                Route::Push(_) => "push".to_string(),
                Route::DeployFinished(_) => "deploy finished".to_string(),
                Route::DeployRequested(_) => "deploy requested".to_string(),
                Route::Ignored(why) => format!("ignored: {why}"),
            });
            match (got, expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{name}"),
                (Err(e), Err(status)) => assert_eq!(e.status, status, "{name}: {}", e.message),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    fn push(overrides: serde_json::Value) -> Push {
        serde_json::from_slice(&push_json(overrides)).unwrap()
    }

    #[test]
    fn changed_files_table() {
        let many: Vec<String> = (0..COMMIT_FILE_CAP).map(|i| format!("f{i}")).collect();
        let two = || Some(Ok(vec!["b".to_string(), "a".to_string(), "b".to_string()]));
        let wide: Vec<String> = (0..450).map(|i| format!("apps/client-ui/src/f{i:03}.tsx")).collect();
        let mut wide_and_zz = wide.clone();
        wide_and_zz.push("zz".into());
        #[rustfmt::skip]
        let cases: Vec<(&str, Push, Option<std::result::Result<Vec<String>, String>>, FilesSource, Vec<&str>, Option<&str>)> = vec![
            ("payload lists", push(serde_json::json!({})), None, FilesSource::Payload,
                vec!["apps/express-api/a.ts", "apps/express-api/b.ts"], None),
            ("union over commits, removed included", push(serde_json::json!({"commits": [
                {"added": ["x"], "removed": [], "modified": []}, {"added": [], "removed": ["y"], "modified": ["x"]}]})),
                None, FilesSource::Payload, vec!["x", "y"], None),
            ("new branch", push(serde_json::json!({"created": true, "before": ZERO_SHA})), two(), FilesSource::Full, vec![],
                Some("the branch was just created")),
            ("forced", push(serde_json::json!({"forced": true})), two(), FilesSource::Full, vec![], Some("the push was forced")),
            ("empty lists", push(serde_json::json!({"commits": [{"added": [], "removed": [], "modified": []}]})), None,
                FilesSource::Full, vec![], Some("no commit lists a file")),
            ("3,000-file commit", push(serde_json::json!({"commits": [{"added": many, "removed": [], "modified": []}]})), None,
                FilesSource::Full, vec![], Some("a commit lists 3000 files")),
            ("compare wins", push(serde_json::json!({})), two(), FilesSource::Compare, vec!["a", "b"], None),
            ("compare at its cap, the commits' lists hold its files", push(serde_json::json!({"commits": [
                {"added": wide.clone(), "removed": [], "modified": []}, {"added": [], "removed": [], "modified": ["zz"]}]})),
                Some(Ok(wide[..300].to_vec())), FilesSource::Payload, wide_and_zz.iter().map(String::as_str).collect(),
                Some("the Compare API lists 300 files, its cap: the commits' lists (451 files) hold all of them")),
            ("compare at its cap, the commits' lists cut", push(serde_json::json!({"commits": [
                {"added": wide[..100].to_vec(), "removed": [], "modified": []}]})),
                Some(Ok(wide[..300].to_vec())), FilesSource::Full, vec![],
                Some("the Compare API lists 300 files, its cap, and the commits' lists miss some")),
            ("compare at its cap, a commit at its cap", push(serde_json::json!({"commits": [{"added": many, "removed": [], "modified": []}]})),
                Some(Ok(wide[..300].to_vec())), FilesSource::Full, vec![],
                Some("the Compare API lists 300 files, its cap, and a commit lists 3000 files")),
            ("compare at its cap, a commit emptied by GitHub", push(serde_json::json!({"commits": [
                {"added": wide.clone(), "removed": [], "modified": []}, {"added": [], "removed": [], "modified": []}]})),
                Some(Ok(wide[..300].to_vec())), FilesSource::Full, vec![],
                Some("the Compare API lists 300 files, its cap, and a commit lists no file")),
            ("as many commits as a payload holds", push(serde_json::json!({"commits": vec![serde_json::json!({"added": ["x"], "removed": [], "modified": []}); PUSH_COMMIT_CAP]})),
                None, FilesSource::Full, vec![], Some("the payload lists 2048 commits")),
            ("compare failed", push(serde_json::json!({})), Some(Err("HTTP 500".into())), FilesSource::Full, vec![],
                Some("the Compare API failed: HTTP 500")),
            ("no commits, same sha", push(serde_json::json!({"commits": [], "after": "1111111111111111111111111111111111111111"})),
                None, FilesSource::Payload, vec![], None),
        ];
        for (name, push, compare, source, files, reason) in cases {
            let got = changed_files(&push, compare);
            assert_eq!(got.source, source, "{name}");
            assert_eq!(got.files, files, "{name}");
            match reason {
                Some(r) => assert!(got.reason.as_deref().unwrap_or("").starts_with(r), "{name}: {:?}", got.reason),
                None => assert_eq!(got.reason, None, "{name}"),
            }
        }
        assert!(!compare_applies(&push(serde_json::json!({"forced": true}))));
        assert!(!compare_applies(&push(serde_json::json!({"before": ZERO_SHA}))));
        assert!(compare_applies(&push(serde_json::json!({}))));
    }

    fn config_with(token: bool) -> Config {
        Config::from_lookup(|n| match n {
            "GITHUB_REPOSITORY" => Some("acme/app".to_string()),
            "GITHUB_TOKEN" if token => Some("ghp_test".to_string()),
            _ => None,
        })
        .unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const UP: Observed = Observed::counts(1, 1);
    const DOWN: Observed = Observed::counts(0, 0);
    const SHA: &str = "2222222222222222222222222222222222222222";

    fn decide(state: &EnvironmentState, observed: Observed, push: &Push, can_dispatch: bool, now: &str) -> Decision {
        let filters = Filters::builtin();
        let files = changed_files(push, None);
        let matches = filters.classify(files.files.iter().map(String::as_str));
        let input = PushInput { push, files: &files, matches: &matches };
        decide_push(state, observed, &input, utc(now), &config_with(can_dispatch)).unwrap()
    }

    fn kinds(d: &Decision) -> Vec<String> {
        d.actions
            .iter()
            .map(|a| match a {
                Action::Notify(n) => format!("notify {}", n.event.as_str()),
                Action::DispatchDeploy { deployment_type, .. } => format!("dispatch {deployment_type}"),
                Action::RestoreService => "restore".into(),
                Action::PutOneTimeSchedule { .. } => "put_schedule".into(),
                Action::RecordDeployment(_) => "record".into(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn in_flight(sha: &str, plan: DeploymentPlan, dispatched: &str) -> EnvironmentState {
        let mut s = EnvironmentState { phase: crate::Phase::Up, version: 3, ..EnvironmentState::new("staging") };
        s.queue_deployment(sha, plan, utc(dispatched));
        s.dispatch_pending(utc(dispatched), chrono::Duration::minutes(30)).unwrap();
        s
    }

    #[test]
    fn push_decisions_table() {
        let backend = push(serde_json::json!({}));
        let docs = push(serde_json::json!({"commits": [{"added": ["docs/a.md"], "removed": [], "modified": []}]}));
        let forced = push(serde_json::json!({"forced": true}));
        let locked = {
            let mut s = EnvironmentState::new("staging");
            s.lock_budget(utc("2026-11-20T00:00:00Z"), "over");
            s
        };
        let already_pending = {
            let mut s = locked.clone();
            s.queue_deployment("1234567", DeploymentPlan::FULL, utc("2026-11-26T00:00:00Z"));
            s
        };
        let running = in_flight("1234567", DeploymentPlan::FULL, "2026-11-27T09:55:00Z");
        let seen = {
            let mut s = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T09:55:00Z");
            s.remember_push(backend.key());
            s
        };
        let refused = {
            let mut s = seen.clone();
            s.dispatch_refused(SHA);
            s
        };
        let torn_down =
            EnvironmentState { phase: crate::Phase::Stopping, version: 5, ..EnvironmentState::new("staging") };
        let fresh = EnvironmentState::new("staging");
        const WORKING: &str = "2026-11-27T10:00:00.123456789Z";
        const EVENING: &str = "2026-11-27T20:00:00.5Z";
        #[rustfmt::skip]
        let cases: Vec<(&str, &EnvironmentState, Observed, &Push, bool, &str, Vec<&str>, &str)> = vec![
            ("backend push, staging up", &fresh, UP, &backend, true, WORKING,
                vec!["dispatch backend-only", "notify deploy.planned"], "dispatched backend-only for 1 push (2222222)"),
            ("docs only: nothing, no notification", &fresh, UP, &docs, true, WORKING,
                vec![], "validation only: nothing to deploy"),
            ("down in hours: started, not held", &fresh, DOWN, &backend, true, WORKING,
                vec!["restore", "dispatch backend-only", "notify deploy.planned"], "dispatched backend-only for 1 push (2222222)"),
            ("down in the evening: held and started", &fresh, DOWN, &backend, true, EVENING,
                vec!["put_schedule", "restore", "dispatch backend-only", "notify deploy.planned"], "dispatched backend-only for 1 push (2222222)"),
            ("forced push deploys in full", &fresh, UP, &forced, true, WORKING,
                vec!["dispatch full", "notify deploy.planned"], "dispatched full for 1 push (2222222)"),
            ("no token: dry mode", &fresh, UP, &backend, false, WORKING,
                vec!["notify deploy.planned"], "dry mode (no GitHub token): backend-only recorded, not dispatched"),
            ("locked: pending, told once", &locked, DOWN, &backend, true, WORKING,
                vec!["notify deploy.pending"], "locked by the budget: backend-only pending (1 push)"),
            ("locked again: merged, not told again", &already_pending, DOWN, &backend, true, WORKING,
                vec![], "locked by the budget: full pending (2 pushes)"),
            ("a run in flight: queued behind it", &running, UP, &backend, true, WORKING,
                vec!["notify deploy.planned"], "queued behind the run for 1234567 (dispatched at 09:55 UTC): backend-only pending, 1 push"),
            ("the same push again: nothing", &seen, UP, &backend, true, WORKING,
                vec![], "already received: 2222222 is being deployed"),
            ("evening, a teardown committed but not yet carried out: woken with a hold", &torn_down, UP, &backend, true, EVENING,
                vec!["put_schedule", "dispatch backend-only", "notify deploy.planned"], "dispatched backend-only for 1 push (2222222)"),
            ("the same push again after a refused dispatch: dispatched again", &refused, UP, &backend, true, WORKING,
                vec!["dispatch full"], "already received: 2222222 is pending; dispatched full for 1 push (2222222)"),
        ];
        for (name, state, observed, push, can_dispatch, now, expected, summary) in cases {
            let d = decide(state, observed, push, can_dispatch, now);
            assert_eq!(kinds(&d), expected, "{name}");
            assert_eq!(d.summary, summary, "{name}");
        }
    }

    #[test]
    fn a_dispatched_deploy_is_in_flight_before_it_is_made_and_a_dry_one_pending() {
        let fresh = EnvironmentState::new("staging");
        let p = push(serde_json::json!({}));
        let d = decide(&fresh, UP, &p, true, "2026-11-27T10:00:00.987Z");
        let dep = d.next_state.deployment_in_flight.as_ref().unwrap();
        assert_eq!((dep.sha.as_str(), dep.status), (SHA, DeploymentStatus::InProgress));
        assert_eq!(dep.started_at, Some(utc("2026-11-27T10:00:00Z")), "stored at whole seconds");
        assert!(d.next_state.pending_deployment.is_none());
        assert!(d.next_state.knows_push(&p.key()));
        let Some(Action::DispatchDeploy { sha, migrate, .. }) = d.actions.first() else { panic!("{:?}", d.actions) };
        assert_eq!((sha.as_str(), *migrate), (SHA, false));
        let d = decide(&fresh, UP, &p, false, "2026-11-27T10:00:00Z");
        assert_eq!(d.next_state.pending_deployment.unwrap().status, DeploymentStatus::Pending);
        assert!(d.next_state.deployment_in_flight.is_none());
    }

    #[test]
    fn ten_pushes_while_a_run_is_in_flight_make_one_more_run() {
        let mut state = EnvironmentState::new("staging");
        let mut dispatches = 0;
        for i in 0..10 {
            let p = push(serde_json::json!({
                "before": format!("{:040}", i), "after": format!("{:040}", i + 1),
                "commits": [{"id": format!("{:040}", i + 1), "message": "m", "added": [], "removed": [],
                             "modified": [if i % 2 == 0 { "apps/express-api/a.ts" } else { "apps/client-ui/b.tsx" }]}],
            }));
            let d = decide(&state, UP, &p, true, &format!("2026-11-27T10:0{i}:00.25Z"));
            dispatches += d.actions.iter().filter(|a| matches!(a, Action::DispatchDeploy { .. })).count();
            state = EnvironmentState { version: state.version + 1, ..d.next_state };
        }
        assert_eq!(dispatches, 1, "the first push dispatches, the other nine wait");
        let waiting = state.pending_deployment.clone().unwrap();
        assert_eq!((waiting.pushes.len(), waiting.deployment_type), (9, Some(DeploymentType::Full)));
        let run =
            WorkflowRun { created_at: Some(utc("2026-11-27T10:00:03Z")), ..run("success", &format!("{:040}", 5)) };
        let d = decide_deploy_finished(&state, UP, &run, utc("2026-11-27T10:10:00Z"), &config_with(true));
        assert_eq!(kinds(&d), ["record", "dispatch full", "notify deploy.succeeded"]);
        assert_eq!(d.summary, format!("deploy succeeded; dispatched full for 9 pushes ({})", waiting.push_list()));
    }

    #[test]
    fn the_deploy_notification_says_what_where_why_and_who() {
        let d =
            decide(&EnvironmentState::new("staging"), DOWN, &push(serde_json::json!({})), true, "2026-11-27T20:00:00Z");
        let Some(Action::Notify(n)) = d.actions.last() else { panic!("{:?}", d.actions) };
        assert_eq!(n.subject, "staging: deploying backend-only @ 2222222 (2 files)");
        for expected in [
            "alice pushed 1 commit to develop (2222222).",
            "Draft: backend -> deployment-type backend-only\n  2222222 m\n",
            "Files: 2 from the Payload list",
            "  backend (2):\n    apps/express-api/a.ts\n    apps/express-api/b.ts",
            "held until 22:00 UTC (outside business hours)",
            "Compare: https://github.com/acme/app/compare/",
        ] {
            assert!(n.body.contains(expected), "missing {expected:?} in:\n{}", n.body);
        }
    }

    fn run(conclusion: &str, sha: &str) -> WorkflowRun {
        WorkflowRun {
            id: Some(30433642),
            name: Some("Deploy staging".into()),
            event: Some("workflow_dispatch".into()),
            created_at: Some(utc("2026-11-27T10:00:02Z")),
            path: ".github/workflows/deploy-staging.yml".into(),
            head_branch: Some("develop".into()),
            head_sha: sha.into(),
            conclusion: Some(conclusion.into()),
            run_started_at: Some(utc("2026-11-27T10:00:05Z")),
            updated_at: Some(utc("2026-11-27T10:04:17Z")),
            html_url: Some("https://github.com/acme/app/actions/runs/1".into()),
            run_attempt: None,
            triggering_actor: None,
            actor: None,
        }
    }

    #[test]
    fn a_finished_deploy_is_recorded_with_what_it_built_and_told() {
        let state = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:01.5Z");
        let config = config_with(true);
        let now = utc("2026-11-27T10:04:20.75Z");
        let ok = decide_deploy_finished(&state, UP, &run("success", SHA), now, &config);
        let last = ok.next_state.last_deployment.as_ref().unwrap();
        assert_eq!(
            (last.status, last.run_duration_secs, last.run_id),
            (DeploymentStatus::Succeeded, Some(252), Some(30433642))
        );
        assert_eq!(last.finished_at, Some(utc("2026-11-27T10:04:20Z")));
        assert!(ok.next_state.deployment_in_flight.is_none());
        let Action::Notify(n) = &ok.actions[1] else { panic!() };
        assert_eq!((n.severity, n.subject.as_str()), (Severity::Info, "staging: full succeeded @ 2222222 in 4m 12s"));

        let failed = decide_deploy_finished(&state, UP, &run("failure", SHA), now, &config);
        let Action::Notify(n) = &failed.actions[1] else { panic!() };
        assert_eq!((n.severity, n.event), (Severity::Critical, NotificationEvent::DeployFailed));
        assert!(n.body.contains("Run: https://github.com/acme/app/actions/runs/1"), "{}", n.body);

        // A dispatch runs the branch head: a newer commit is recorded and said.
        let newer = "3333333333333333333333333333333333333333";
        let built = decide_deploy_finished(&state, UP, &run("success", newer), now, &config);
        assert_eq!(built.next_state.last_deployment.as_ref().unwrap().built_sha.as_deref(), Some(newer));
        let Action::Notify(n) = &built.actions[1] else { panic!() };
        assert!(
            n.body.contains(
                "The run built 3333333, the branch head when it started, which is newer than the push's 2222222."
            ),
            "{}",
            n.body
        );
    }

    #[test]
    fn a_run_we_were_not_waiting_for_changes_nothing_but_its_failure_is_told() {
        let state = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:30:00Z");
        let config = config_with(true);
        let now = utc("2026-11-27T10:31:00Z");
        // Created before the dispatch (beyond the clock skew): an earlier run.
        // Nothing changes but the run remembered (its late `requested` changes nothing).
        let remembered = EnvironmentState { recent_runs: vec!["30433642#1".into()], ..state.clone() };
        let ok = decide_deploy_finished(&state, UP, &run("success", SHA), now, &config);
        assert!(ok.actions.is_empty());
        assert_eq!(ok.next_state, remembered);
        let failed = decide_deploy_finished(&state, UP, &run("failure", SHA), now, &config);
        assert_eq!(kinds(&failed), ["notify deploy.failed"]);
        assert_eq!(failed.next_state, remembered);
        // A run started by a push, not a dispatch.
        let pushed = WorkflowRun {
            event: Some("push".into()),
            created_at: Some(utc("2026-11-27T10:30:30Z")),
            ..run("success", SHA)
        };
        assert!(decide_deploy_finished(&state, UP, &pushed, now, &config).actions.is_empty());
        // Nothing in flight.
        let idle = EnvironmentState::new("staging");
        assert!(decide_deploy_finished(&idle, UP, &run("success", SHA), now, &config).actions.is_empty());
    }

    /// A run requested by hand: `(name, state, observed, run created at, now) -> (kinds
    /// of actions, summary, what is in flight after: (run id, by hand), whether pushes wait)`.
    #[test]
    fn a_deploy_run_by_hand_wakes_staging_and_is_tracked_and_ours_change_nothing() {
        let config = config_with(true);
        let manual = |created: &str| WorkflowRun {
            id: Some(777),
            conclusion: None,
            created_at: Some(utc(created)),
            triggering_actor: Some(Actor { login: "dave".into() }),
            ..run("success", SHA)
        };
        let down = EnvironmentState { phase: crate::Phase::Down, version: 4, ..EnvironmentState::new("staging") };
        let up = EnvironmentState { phase: crate::Phase::Up, version: 4, ..EnvironmentState::new("staging") };
        let ours = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:01.5Z");
        let mut tracked = up.clone();
        tracked.deployment_in_flight = Some(crate::model::state::Deployment::started_by_hand(
            SHA,
            "dave",
            Some(777),
            None,
            utc("2026-11-27T10:00:00Z"),
            utc("2026-11-27T10:00:00Z"),
        ));
        let mut other_by_hand = tracked.clone();
        other_by_hand.deployment_in_flight.as_mut().unwrap().run_id = Some(700);
        let mut locked = down.clone();
        locked.budget_lock = Some(crate::model::state::BudgetLock {
            period: "2026-11".parse().unwrap(),
            locked_at: utc("2026-11-20T00:00:00Z"),
            reason: "actual > budget".into(),
        });
        let finished = EnvironmentState { recent_runs: vec!["777#1".into()], ..up.clone() };
        let stale = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T09:00:00.5Z");
        #[rustfmt::skip]
        let cases: Vec<(&str, &EnvironmentState, Observed, &str, &str, Vec<&str>, &str, Option<(u64, bool)>, bool)> = vec![
            ("evening, down: woken, held, tracked", &down, DOWN, "2026-11-27T19:00:00.4Z", "2026-11-27T19:00:01.6Z",
             vec!["put_schedule", "notify env.hold", "restore", "notify env.startup", "notify deploy.started"],
             "held until 21:00 UTC; starting; tracking run 777#1 by dave", Some((777, true)), false),
            ("working hours, up: tracked only", &up, UP, "2026-11-27T11:00:00Z", "2026-11-27T11:00:02.9Z",
             vec!["notify deploy.started"], "already up; tracking run 777#1 by dave", Some((777, true)), false),
            ("locked: stays down, told", &locked, DOWN, "2026-11-27T19:00:00Z", "2026-11-27T19:00:02Z",
             vec!["notify deploy.started"], "not starting: locked by the budget", None, false),
            ("the run of our dispatch: its id kept, nothing done", &ours, UP, "2026-11-27T10:00:03Z", "2026-11-27T10:00:04Z",
             vec![], "ignored: the run of our dispatch for 2222222 started (777#1)", Some((777, false)), false),
            ("a manual run while ours is in flight: not tracked", &ours, UP, "2026-11-27T10:20:00Z", "2026-11-27T10:20:01Z",
             vec!["notify deploy.started"], "already up; a deploy is already in flight: this run is not tracked", Some((0, false)), false),
            ("a second manual run a minute after another: not ours", &other_by_hand, UP, "2026-11-27T10:01:00Z", "2026-11-27T10:01:01Z",
             vec!["notify deploy.started"], "already up; a deploy is already in flight: this run is not tracked", Some((700, true)), false),
            ("the same run again: nothing", &tracked, UP, "2026-11-27T10:00:00Z", "2026-11-27T10:00:09Z",
             vec![], "ignored: run 777#1 is already tracked", Some((777, true)), false),
            ("requested after its completed: nothing", &finished, UP, "2026-11-27T10:00:00Z", "2026-11-27T10:09:00Z",
             vec![], "ignored: run 777#1 was already handled", None, false),
            ("a run of ours that never reported gives way; its pushes wait", &stale, UP, "2026-11-27T10:00:00Z", "2026-11-27T10:00:01Z",
             vec!["notify deploy.started"], "already up; the run for 2222222 never reported and gives way; tracking run 777#1 by dave", Some((777, true)), true),
        ];
        for (name, state, observed, created, now, expected, summary, after, waiting) in cases {
            let d = decide_deploy_requested(state, observed.clone(), &manual(created), utc(now), &config).unwrap();
            assert_eq!(kinds(&d), expected, "{name}");
            assert_eq!(d.summary, summary, "{name}");
            let in_flight = d.next_state.deployment_in_flight.as_ref();
            assert_eq!(in_flight.map(|t| (t.run_id.unwrap_or_default(), t.by_hand.is_some())), after, "{name}");
            assert_eq!(d.next_state.pending_deployment.is_some(), waiting, "{name}");
            if let Some(t) = in_flight.filter(|t| t.by_hand.is_some() && t.run_id == Some(777)) {
                assert_eq!(
                    (t.status, t.deployment_type, t.pushes.len()),
                    (DeploymentStatus::InProgress, None, 0),
                    "{name}"
                );
                assert_eq!(t.started_at.map(|t| t.timestamp_subsec_nanos()), Some(0), "{name}: whole seconds");
            }
        }
    }

    #[test]
    fn a_rerun_or_a_run_judged_someone_elses_never_closes_ours() {
        let config = config_with(true);
        let ours = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:01.5Z");
        // A re-run of an earlier run, created (first) a second after our dispatch.
        let rerun = WorkflowRun {
            id: Some(700),
            run_attempt: Some(2),
            conclusion: None,
            created_at: Some(utc("2026-11-27T10:00:02Z")),
            ..run("success", SHA)
        };
        let d = decide_deploy_requested(&ours, UP, &rerun, utc("2026-11-27T10:03:00Z"), &config).unwrap();
        assert_eq!(d.next_state.deployment_in_flight.as_ref().unwrap().run_id, None, "{}", d.summary);
        let d = decide_deploy_finished(
            &ours,
            UP,
            &WorkflowRun { conclusion: Some("success".into()), ..rerun },
            utc("2026-11-27T10:05:00Z"),
            &config,
        );
        assert!(d.next_state.deployment_in_flight.is_some(), "{}", d.summary);
        // Dave's run, requested three minutes later: judged not ours (told, not tracked);
        // its completion does not close ours either, though it was created after the dispatch.
        let daves = WorkflowRun {
            id: Some(778),
            conclusion: None,
            created_at: Some(utc("2026-11-27T10:03:30Z")),
            ..run("success", SHA)
        };
        let mut state = ours.clone();
        let d = decide_deploy_requested(&state, UP, &daves, utc("2026-11-27T10:03:31Z"), &config).unwrap();
        assert!(d.summary.ends_with("this run is not tracked"), "{}", d.summary);
        state = EnvironmentState { version: state.version + 1, ..d.next_state };
        let d = decide_deploy_finished(
            &state,
            UP,
            &WorkflowRun { conclusion: Some("success".into()), ..daves },
            utc("2026-11-27T10:06:00Z"),
            &config,
        );
        assert!(d.next_state.deployment_in_flight.is_some(), "{}", d.summary);
    }

    #[test]
    fn a_deferred_teardown_goes_ahead_when_the_deploy_it_waited_for_finishes() {
        let config = config_with(true);
        let state = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T17:55:00.3Z");
        let teardown = crate::decide::lifecycle::Command::Scheduled(crate::model::action::ScheduledCommand::Teardown {
            scheduled_time: Some(utc("2026-11-27T18:00:00Z")),
        });
        let d =
            crate::decide::lifecycle::decide(&state, UP, &teardown, utc("2026-11-27T18:00:00.6Z"), &config).unwrap();
        assert!(d.summary.contains("deferred"), "{}", d.summary);
        let state = EnvironmentState { version: state.version + 1, ..d.next_state };
        let finished = WorkflowRun {
            created_at: Some(utc("2026-11-27T17:55:02Z")),
            run_started_at: Some(utc("2026-11-27T17:55:05Z")),
            updated_at: Some(utc("2026-11-27T18:19:00Z")),
            ..run("success", SHA)
        };
        let d = decide_deploy_finished(&state, UP, &finished, utc("2026-11-27T18:20:00.4Z"), &config);
        assert_eq!(
            kinds(&d),
            ["record", "notify deploy.succeeded", "ScaleService { desired_count: 0 }", "notify env.teardown"],
            "{}",
            d.summary
        );
        assert_eq!(d.summary, "deploy succeeded; stopping");
        assert!(!crate::decide::lifecycle::teardown_overdue(&d.next_state, utc("2026-11-27T18:40:00Z"), &config));
        // Inside business hours there is nothing to go ahead with.
        let state = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:00Z");
        let d = decide_deploy_finished(
            &state,
            UP,
            &WorkflowRun { created_at: Some(utc("2026-11-27T10:00:02Z")), ..run("success", SHA) },
            utc("2026-11-27T10:05:00Z"),
            &config,
        );
        assert_eq!(d.summary, "deploy succeeded");
    }

    #[test]
    fn once_ours_is_known_by_id_another_run_finishing_does_not_close_it() {
        let config = config_with(true);
        let ours = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:01.5Z");
        let requested = WorkflowRun {
            id: Some(777),
            conclusion: None,
            created_at: Some(utc("2026-11-27T10:00:03Z")),
            ..run("success", SHA)
        };
        let d = decide_deploy_requested(&ours, UP, &requested, utc("2026-11-27T10:00:04.2Z"), &config).unwrap();
        let state = EnvironmentState { version: 4, ..d.next_state };
        // Dave's run, created after our dispatch, finishes first: not ours.
        let daves = WorkflowRun { id: Some(778), created_at: Some(utc("2026-11-27T10:01:00Z")), ..run("success", SHA) };
        let d = decide_deploy_finished(&state, UP, &daves, utc("2026-11-27T10:05:00Z"), &config);
        assert!(d.summary.starts_with("ignored"), "{}", d.summary);
        assert!(d.next_state.deployment_in_flight.is_some());
        let d = decide_deploy_finished(
            &state,
            UP,
            &WorkflowRun { conclusion: Some("success".into()), ..requested },
            utc("2026-11-27T10:06:00.9Z"),
            &config,
        );
        assert_eq!(d.summary, "deploy succeeded");
        assert!(d.next_state.deployment_in_flight.is_none());
    }

    #[test]
    fn a_run_started_by_hand_finishes_like_ours_and_the_teardown_waits_for_it() {
        let config = config_with(true);
        let down = EnvironmentState { phase: crate::Phase::Down, version: 4, ..EnvironmentState::new("staging") };
        let requested = WorkflowRun {
            id: Some(777),
            conclusion: None,
            created_at: Some(utc("2026-11-27T19:00:00Z")),
            actor: Some(Actor { login: "dave".into() }),
            ..run("success", SHA)
        };
        let d = decide_deploy_requested(&down, DOWN, &requested, utc("2026-11-27T19:00:00.5Z"), &config).unwrap();
        let state = EnvironmentState { version: 5, ..d.next_state };
        // Round trip through JSON and the upgrade every read applies, as the store does.
        let state =
            serde_json::from_str::<EnvironmentState>(&serde_json::to_string(&state).unwrap()).unwrap().upgraded();
        assert!(state.deployment_in_flight.as_ref().unwrap().pushes.is_empty(), "a run by hand gets no push");
        let finished = WorkflowRun {
            conclusion: Some("success".into()),
            run_started_at: Some(utc("2026-11-27T19:00:04Z")),
            updated_at: Some(utc("2026-11-27T19:06:04Z")),
            ..requested.clone()
        };
        let d = decide_deploy_finished(&state, UP, &finished, utc("2026-11-27T19:06:05.3Z"), &config);
        assert_eq!(kinds(&d), ["record", "notify deploy.succeeded"]);
        let Some(Action::Notify(n)) = d.actions.last() else { panic!() };
        assert_eq!(n.subject, "staging: deploy succeeded @ 2222222 in 6m");
        assert!(n.body.contains("Pushes: none (run by hand by dave at 2222222)"), "{}", n.body);

        // Run by hand just before 18:00: the scheduled teardown waits for it.
        let up = EnvironmentState { phase: crate::Phase::Up, version: 4, ..EnvironmentState::new("staging") };
        let late = WorkflowRun { created_at: Some(utc("2026-11-27T17:58:00Z")), ..requested };
        let d = decide_deploy_requested(&up, UP, &late, utc("2026-11-27T17:58:01.1Z"), &config).unwrap();
        let state = EnvironmentState { version: 5, ..d.next_state };
        let teardown = crate::decide::lifecycle::Command::Scheduled(crate::model::action::ScheduledCommand::Teardown {
            scheduled_time: Some(utc("2026-11-27T18:00:00Z")),
        });
        let d =
            crate::decide::lifecycle::decide(&state, UP, &teardown, utc("2026-11-27T18:00:00.8Z"), &config).unwrap();
        assert!(
            d.summary.starts_with("scheduled teardown deferred to 18:15 UTC: the deploy of 2222222"),
            "{}",
            d.summary
        );
        assert!(d.next_state.wants_running());
    }
}
