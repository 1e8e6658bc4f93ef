//! What a verified delivery is about: the fields of GitHub's payloads we use (`ping`,
//! `push`, `workflow_run`) and the routing that parses them, checks the repository and
//! sets aside other events, branches, tags, deletions and unrelated workflows.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::request::Rejection;
use crate::config::GitHub;
use crate::error::Result;

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
    pub(super) fn file_count(&self) -> usize {
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
