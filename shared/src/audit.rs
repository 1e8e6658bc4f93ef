//! The audit trail, pure: one [`Entry`] per decision any function or `stagingctl`
//! makes, kept beside the state (the shell writes it after acting, with a TTL), read
//! back by `stagingctl history` and summed into the month's figures by
//! [`crate::report::month`].
//!
//! An entry says where the decision came from ([`Origin`]: a schedule, a webhook
//! delivery, a budget alert, a health tick, a stack event, an operator), the input in a
//! line, the decision's summary, what was carried out and what failed, the state
//! version it produced, and the facts the figures are made of ([`Event`]s: the phase
//! changed, an up-window closed, a deployment finished, health changed, the budget
//! locked). The events are read off the decision itself (the state before and after,
//! the actions), so a figure never depends on how a summary was worded.

use crate::time::seconds;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::model::action::Action;
use crate::model::state::{DeploymentStatus, EnvironmentState, HealthStatus, Phase};
use crate::scope::DeploymentPlan;

/// Where a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// EventBridge Scheduler: the startup, the teardown, a hold's end, the stack check.
    Schedule,
    /// A GitHub webhook delivery (a push, a run of the deploy workflow).
    Webhook,
    /// An AWS Budgets alert on the SNS topic.
    Budget,
    /// The 5-minute health check.
    Health,
    /// CloudFormation's status event for the pause stack.
    Stack,
    /// A person, through `stagingctl` or an invoke of the lifecycle function.
    Operator,
    /// A person with an invite, waking staging from its front door. Stored as its name,
    /// `front-door` (entries written as `front_door` before that read the same).
    #[serde(rename = "front-door", alias = "front_door")]
    FrontDoor,
}

impl Source {
    pub const ALL: [Source; 7] =
        [Self::Schedule, Self::Webhook, Self::Budget, Self::Health, Self::Stack, Self::Operator, Self::FrontDoor];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Webhook => "webhook",
            Self::Budget => "budget",
            Self::Health => "health",
            Self::Stack => "stack",
            Self::Operator => "operator",
            Self::FrontDoor => "front-door",
        }
    }

    /// A source by its name (`--kind`), or an error listing the names.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|s| s.as_str() == name).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(Source::as_str).collect();
            format!("unknown kind `{name}`: expected one of {}", names.join(", "))
        })
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asked, and what they sent, in a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub source: Source,
    /// The operator's name, the pusher, the schedule's name, the SNS message id.
    pub who: String,
    /// The input in one line (no secrets: commands, shas, figures).
    pub input: String,
}

impl Origin {
    pub fn new(source: Source, who: impl Into<String>, input: impl Into<String>) -> Self {
        Self { source, who: one_line(&who.into(), WHO_CHARS), input: one_line(&input.into(), INPUT_CHARS) }
    }
}

/// The longest input line kept.
pub const INPUT_CHARS: usize = 300;
/// The longest name of who asked kept.
pub const WHO_CHARS: usize = 100;

/// `text` on one line, at most `max` characters (an ellipsis says it was cut), with no
/// control characters (a name sent by an operator reaches a terminal).
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// How a deployment is counted in the figures: the seed's four kinds, with their
/// targets (minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployKind {
    Full,
    Backend,
    Frontend,
    Infrastructure,
}

impl DeployKind {
    pub const ALL: [DeployKind; 4] = [Self::Full, Self::Backend, Self::Frontend, Self::Infrastructure];

    /// The kind a plan is: infrastructure alone is `infrastructure`; backend and
    /// frontend together, or with infrastructure, are `full`.
    pub fn of(plan: &DeploymentPlan) -> Option<Self> {
        let backend = plan.backend || plan.database_migration;
        match (plan.infrastructure, backend, plan.frontend) {
            (true, false, false) => Some(Self::Infrastructure),
            (true, _, _) | (false, true, true) => Some(Self::Full),
            (false, true, false) => Some(Self::Backend),
            (false, false, true) => Some(Self::Frontend),
            (false, false, false) => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Backend => "backend",
            Self::Frontend => "frontend",
            Self::Infrastructure => "infrastructure",
        }
    }

    /// The seed's target: a full deployment under 15 minutes, backend-only about 5,
    /// frontend-only about 3, infrastructure-only about 8.
    pub fn target_minutes(&self) -> f64 {
        match self {
            Self::Full => 15.0,
            Self::Backend => 5.0,
            Self::Frontend => 3.0,
            Self::Infrastructure => 8.0,
        }
    }
}

/// A fact a decision established, for the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The intent changed.
    Phase { from: Phase, to: Phase },
    /// Staging was up over `[from, to)`; `on_demand` when a push or an operator started
    /// it outside the schedule.
    UpWindow { from: DateTime<Utc>, to: DateTime<Utc>, on_demand: bool },
    /// A deployment reached its end (succeeded, failed or cancelled).
    Deployment {
        sha: String,
        kind: Option<DeployKind>,
        status: DeploymentStatus,
        requested_at: DateTime<Utc>,
        /// When it was dispatched.
        started_at: Option<DateTime<Utc>>,
        finished_at: DateTime<Utc>,
        /// The workflow run's own duration, when GitHub said.
        run_secs: Option<i64>,
    },
    /// A deployment that had succeeded was rolled back (it turned staging unhealthy,
    /// or an operator took it back).
    RolledBack { sha: String, at: DateTime<Utc> },
    /// Health changed (at the first tick of the streak that made it).
    Health { at: DateTime<Utc>, from: HealthStatus, to: HealthStatus },
    /// A budget alert was handled for the first time (not a redelivery).
    BudgetAlert,
    /// The budget locked the environment.
    BudgetLocked { reason: String },
    /// The budget lock was lifted (by an operator, or a decision that found it lapsed).
    BudgetUnlocked,
    /// An event a newer version wrote that this one does not know: read, and left out of
    /// the figures, rather than failing the whole history.
    #[serde(other)]
    Unknown,
}

/// One decision, as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When it was decided (the decision's clock: a scheduled command's own time).
    pub at: DateTime<Utc>,
    pub source: Source,
    pub who: String,
    pub input: String,
    pub summary: String,
    /// What was carried out, one line each.
    pub actions: Vec<String>,
    /// What failed (a notification, an AWS call); the decision stands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The state version the decision produced; `None` when nothing was committed.
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
}

/// The longest summary, action or error line kept, and the most lines of each: an
/// entry stays far below DynamoDB's 400 KB item limit whatever a decision says.
pub const LINE_CHARS: usize = 2000;
pub const MAX_LINES: usize = 50;

impl Entry {
    /// The entry with its summary and each line cut to [`LINE_CHARS`] and at most
    /// [`MAX_LINES`] actions and errors (the last one says how many more there were).
    pub fn bounded(mut self) -> Self {
        let cut = |lines: &mut Vec<String>| {
            if lines.len() > MAX_LINES {
                let more = lines.len() - (MAX_LINES - 1);
                lines.truncate(MAX_LINES - 1);
                lines.push(format!("… and {more} more"));
            }
            for line in lines.iter_mut() {
                *line = one_line(line, LINE_CHARS);
            }
        };
        self.summary = one_line(&self.summary, LINE_CHARS);
        cut(&mut self.actions);
        cut(&mut self.errors);
        self
    }

    /// The sort key: the instant at nanosecond precision, fixed width, so that text
    /// order is time order.
    pub fn sort_key(&self) -> String {
        sort_key(self.at)
    }
}

impl Event {
    /// A finished deployment's duration in seconds: the run's own when GitHub said, else
    /// dispatch (or, never dispatched, request) to finish; `None` for any other event, and
    /// for a negative span (clocks apart), which is unknown. The month's figures and the
    /// `DeployDuration` metric both read it here.
    pub fn deploy_seconds(&self) -> Option<f64> {
        let Event::Deployment { requested_at, started_at, finished_at, run_secs, .. } = self else {
            return None;
        };
        let secs = match run_secs {
            Some(secs) => *secs as f64,
            None => seconds(*finished_at - started_at.unwrap_or(*requested_at)),
        };
        (secs >= 0.0).then_some(secs)
    }
}

/// An instant as text whose order is time order (RFC 3339, UTC, nine fraction digits).
pub fn sort_key(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The facts one committed decision established: read off the state before and after
/// it, and the actions it decided.
pub fn events(before: &EnvironmentState, after: &EnvironmentState, actions: &[Action]) -> Vec<Event> {
    let mut events = Vec::new();
    if before.phase != after.phase {
        events.push(Event::Phase { from: before.phase, to: after.phase });
    }
    // Windows are appended when they close; the state forgets old ones, so compare by
    // what is new rather than by count.
    for w in after.up_windows.iter().filter(|w| !before.up_windows.contains(w)) {
        events.push(Event::UpWindow { from: w.from, to: w.to, on_demand: w.on_demand });
    }
    // A deployment is counted when it finishes; recorded again unchanged (a rollback
    // marks it rolled back) it is the same deployment.
    let known = |d: &crate::model::state::Deployment| {
        before
            .last_deployment
            .as_ref()
            .is_some_and(|b| b.sha == d.sha && b.status == d.status && b.finished_at == d.finished_at)
    };
    for action in actions {
        match action {
            Action::RecordDeployment(d) if d.status.is_finished() && known(d) => {
                let newly = before.last_deployment.as_ref().is_some_and(|b| b.rolled_back_at.is_none());
                if let (Some(at), true) = (d.rolled_back_at, newly) {
                    events.push(Event::RolledBack { sha: d.sha.clone(), at });
                }
            }
            Action::RecordDeployment(d) if d.status.is_finished() => {
                let finished_at = d.finished_at.unwrap_or(after_time(after, d.requested_at));
                events.push(Event::Deployment {
                    sha: d.sha.clone(),
                    kind: DeployKind::of(&d.plan),
                    status: d.status,
                    requested_at: d.requested_at,
                    started_at: d.started_at,
                    finished_at,
                    run_secs: d.run_duration_secs,
                });
            }
            Action::RecordHealth { at, change } => {
                events.push(Event::Health { at: *at, from: change.from, to: change.to })
            }
            _ => {}
        }
    }
    if after.recent_alerts.iter().any(|k| !before.recent_alerts.contains(k)) {
        events.push(Event::BudgetAlert);
    }
    match (&before.budget_lock, &after.budget_lock) {
        (None, Some(lock)) => events.push(Event::BudgetLocked { reason: lock.reason.clone() }),
        (Some(a), Some(b)) if a != b => events.push(Event::BudgetLocked { reason: b.reason.clone() }),
        (Some(_), None) => events.push(Event::BudgetUnlocked),
        _ => {}
    }
    events
}

/// A finished deployment without its own finish time: the latest instant the state
/// knows of, never before it was requested.
fn after_time(state: &EnvironmentState, requested_at: DateTime<Utc>) -> DateTime<Utc> {
    state.health.last_tick.unwrap_or(requested_at).max(requested_at)
}

/// Whether a decision is kept: all are, but a health tick that changed nothing but
/// its counters, did nothing (`acted`) and failed at nothing (288 a day saying
/// "healthy").
pub fn worth_keeping(source: Source, events: &[Event], acted: bool, failed: bool) -> bool {
    source != Source::Health || !events.is_empty() || acted || failed
}

/// A `--since`/`--until` bound: an RFC 3339 instant, or a date (`2026-11-24`) meaning
/// the team's day (in the business hours' time zone) — its first instant for a start (`end: false`), the next day's
/// first instant for an end (`end: true`), so `--since D --until D` is the whole day.
pub fn parse_bound(text: &str, hours: &crate::schedule::BusinessHours, end: bool) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let date: chrono::NaiveDate = text
        .parse()
        .map_err(|_| format!("`{text}` is not a date like 2026-11-24 or an instant like 2026-11-24T10:30:00Z"))?;
    let day = if end { date.succ_opt().ok_or_else(|| format!("`{text}` is too far in the future"))? } else { date };
    Ok(hours.instant(day, chrono::NaiveTime::MIN))
}

/// One entry for people: the local time, the source and who, the summary, and what was
/// done and what failed, indented.
pub fn describe(entry: &Entry, tz: chrono_tz::Tz) -> String {
    use std::fmt::Write;
    let local = entry.at.with_timezone(&tz);
    let mut out = format!(
        "{}  {:<8}  {}: {}\n",
        local.format("%Y-%m-%d %H:%M:%S %Z"),
        entry.source.as_str(),
        entry.who,
        entry.summary
    );
    let _ = writeln!(out, "    input: {}", entry.input);
    for action in &entry.actions {
        let _ = writeln!(out, "    - {action}");
    }
    for error in &entry.errors {
        let _ = writeln!(out, "    ! {error}");
    }
    out
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
