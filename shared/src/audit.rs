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
}

impl Source {
    pub const ALL: [Source; 6] =
        [Self::Schedule, Self::Webhook, Self::Budget, Self::Health, Self::Stack, Self::Operator];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Webhook => "webhook",
            Self::Budget => "budget",
            Self::Health => "health",
            Self::Stack => "stack",
            Self::Operator => "operator",
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
mod tests {
    use super::*;
    use crate::model::state::{BudgetLock, BudgetPeriod, Deployment, HealthChange, UpWindow};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn deployment(sha: &str, plan: DeploymentPlan, status: DeploymentStatus, finished: &str) -> Deployment {
        let mut d = Deployment::started_by_hand(
            sha,
            "dave",
            Some(7),
            None,
            utc("2026-11-24T10:00:00.125Z"),
            utc("2026-11-24T10:00:00.125Z"),
        );
        d.plan = plan;
        d.status = status;
        d.finished_at = Some(utc(finished));
        d.run_duration_secs = Some(245);
        d
    }

    fn plan(backend: bool, frontend: bool, infrastructure: bool, migration: bool) -> DeploymentPlan {
        DeploymentPlan { backend, frontend, infrastructure, database_migration: migration }
    }

    #[test]
    fn a_plan_is_counted_as_one_of_the_seeds_four_kinds() {
        #[rustfmt::skip]
        let table = [
            (plan(true, false, false, false), Some(DeployKind::Backend)),
            (plan(false, false, false, true), Some(DeployKind::Backend)),
            (plan(false, true, false, false), Some(DeployKind::Frontend)),
            (plan(false, false, true, false), Some(DeployKind::Infrastructure)),
            (plan(true, true, false, false), Some(DeployKind::Full)),
            (plan(false, true, true, false), Some(DeployKind::Full)),
            (plan(true, false, true, true), Some(DeployKind::Full)),
            (plan(false, false, false, false), None),
        ];
        for (p, kind) in table {
            assert_eq!(DeployKind::of(&p), kind, "{p:?}");
        }
    }

    /// (name, change the state before, change the state after, actions, the events expected)
    #[test]
    fn the_events_are_read_off_the_decision() {
        let backend = plan(true, false, false, false);
        let succeeded = deployment("aaaaaaa1", backend, DeploymentStatus::Succeeded, "2026-11-24T10:04:05.750Z");
        let mut rolled_back = succeeded.clone();
        rolled_back.rolled_back_at = Some(utc("2026-11-24T10:20:00.5Z"));
        let mut rerun = succeeded.clone();
        rerun.finished_at = Some(utc("2026-11-24T11:00:00.5Z"));
        let window =
            UpWindow { from: utc("2026-11-24T08:00:00.250Z"), to: utc("2026-11-24T18:00:00.5Z"), on_demand: false };
        let older =
            UpWindow { from: utc("2026-11-23T08:00:00.250Z"), to: utc("2026-11-23T18:00:00.5Z"), on_demand: false };
        let lock = BudgetLock {
            period: BudgetPeriod::new(2026, 11).unwrap(),
            locked_at: utc("2026-11-25T22:30:00.5Z"),
            reason: "actual over 100 %".into(),
        };
        let health_at = utc("2026-11-24T11:05:00.5Z");
        let deployment_event = |d: &Deployment| Event::Deployment {
            sha: d.sha.clone(),
            kind: Some(DeployKind::Backend),
            status: d.status,
            requested_at: d.requested_at,
            started_at: d.started_at,
            finished_at: d.finished_at.unwrap(),
            run_secs: Some(245),
        };
        type Edit = Box<dyn Fn(&mut EnvironmentState)>;
        let nothing = || -> Edit { Box::new(|_| {}) };
        #[rustfmt::skip]
        let table: Vec<(&str, Edit, Edit, Vec<Action>, Vec<Event>)> = vec![
            ("nothing changed", nothing(), nothing(), vec![], vec![]),
            ("the phase", nothing(), Box::new(|s| s.phase = Phase::Stopping), vec![], vec![Event::Phase { from: Phase::Up, to: Phase::Stopping }]),
            ("a window closed, the oldest forgotten",
                { let o = older; Box::new(move |s| s.up_windows = vec![o]) },
                { let w = window; Box::new(move |s| s.up_windows = vec![w]) },
                vec![], vec![Event::UpWindow { from: window.from, to: window.to, on_demand: false }]),
            ("a deployment finished", nothing(), nothing(), vec![Action::RecordDeployment(succeeded.clone())], vec![deployment_event(&succeeded)]),
            ("a deployment still running", nothing(), nothing(),
                vec![Action::RecordDeployment(deployment("b", backend, DeploymentStatus::InProgress, "2026-11-24T10:00:00Z"))], vec![]),
            ("a rollback records it again: the same deployment, rolled back",
                { let d = succeeded.clone(); Box::new(move |s| s.last_deployment = Some(d.clone())) }, nothing(),
                vec![Action::RecordDeployment(rolled_back.clone())],
                vec![Event::RolledBack { sha: "aaaaaaa1".into(), at: utc("2026-11-24T10:20:00.5Z") }]),
            ("recorded again once rolled back: nothing new",
                { let d = rolled_back.clone(); Box::new(move |s| s.last_deployment = Some(d.clone())) }, nothing(),
                vec![Action::RecordDeployment(rolled_back.clone())], vec![]),
            ("a re-run that finished later is another deployment",
                { let d = succeeded.clone(); Box::new(move |s| s.last_deployment = Some(d.clone())) }, nothing(),
                vec![Action::RecordDeployment(rerun.clone())], vec![deployment_event(&rerun)]),
            ("health changed", nothing(), nothing(),
                vec![Action::RecordHealth { at: health_at, change: HealthChange { from: HealthStatus::Healthy, to: HealthStatus::Unhealthy } }],
                vec![Event::Health { at: health_at, from: HealthStatus::Healthy, to: HealthStatus::Unhealthy }]),
            ("a budget alert handled", nothing(), Box::new(|s| s.remember_alert("2026-11:ACTUAL:100".into())), vec![], vec![Event::BudgetAlert]),
            ("a budget alert delivered again",
                Box::new(|s| s.remember_alert("2026-11:ACTUAL:100".into())), Box::new(|s| s.remember_alert("2026-11:ACTUAL:100".into())), vec![], vec![]),
            ("locked", nothing(), { let l = lock.clone(); Box::new(move |s| s.budget_lock = Some(l.clone())) }, vec![],
                vec![Event::BudgetLocked { reason: "actual over 100 %".into() }]),
            ("unlocked", { let l = lock.clone(); Box::new(move |s| s.budget_lock = Some(l.clone())) }, Box::new(|s| s.budget_lock = None), vec![], vec![Event::BudgetUnlocked]),
        ];
        for (name, edit_before, edit_after, actions, expected) in table {
            let mut before = EnvironmentState::new("staging");
            before.phase = Phase::Up;
            edit_before(&mut before);
            let mut after = before.clone();
            edit_after(&mut after);
            assert_eq!(events(&before, &after, &actions), expected, "{name}");
        }
    }

    #[test]
    fn an_entry_round_trips_through_json_to_the_nanosecond() {
        let entry = Entry {
            at: utc("2026-11-24T11:05:00.123456789Z"),
            source: Source::Webhook,
            who: "alice".into(),
            input: "push refs/heads/develop".into(),
            summary: "dispatched backend-only".into(),
            actions: vec!["dispatched deploy-staging.yml".into()],
            errors: vec![],
            version: Some(12),
            events: vec![
                Event::Health {
                    at: utc("2026-11-24T11:00:00.5Z"),
                    from: HealthStatus::Unknown,
                    to: HealthStatus::Healthy,
                },
                Event::BudgetAlert,
            ],
        };
        let json = serde_json::to_string(&entry).unwrap();
        assert!(json.contains(r#""at":"2026-11-24T11:05:00.123456789Z""#), "{json}");
        // An event from a newer version is read as unknown, not refused.
        let newer = json.replace(r#"{"event":"budget_alert"}"#, r#"{"event":"cache_flushed","keys":3}"#);
        assert_eq!(serde_json::from_str::<Entry>(&newer).unwrap().events[1], Event::Unknown);
        assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), entry);
        assert_eq!(entry.sort_key(), "2026-11-24T11:05:00.123456789Z");
        // Fixed width: text order is time order, whole seconds included.
        assert!(sort_key(utc("2026-11-24T11:05:00Z")) < sort_key(utc("2026-11-24T11:05:00.000000001Z")));
        assert!(sort_key(utc("2026-11-24T11:05:00.9Z")) < sort_key(utc("2026-11-24T11:05:01Z")));
    }

    #[test]
    fn only_a_health_tick_that_did_nothing_is_not_kept() {
        let event = vec![Event::BudgetAlert];
        #[rustfmt::skip]
        let table: [(Source, &[Event], bool, bool, bool); 6] = [
            (Source::Health, &[], false, false, false),
            (Source::Health, &event, false, false, true),
            (Source::Health, &[], true, false, true),
            (Source::Health, &[], false, true, true),
            (Source::Schedule, &[], false, false, true),
            (Source::Operator, &[], false, false, true),
        ];
        for (source, events, acted, failed, kept) in table {
            assert_eq!(worth_keeping(source, events, acted, failed), kept, "{source} {events:?} {acted} {failed}");
        }
    }

    #[test]
    fn who_and_input_are_one_bounded_line() {
        let origin = Origin::new(Source::Operator, "carol\n\x1b[31mred\x1b[0m", "a\tb\r\nc");
        assert_eq!(origin.input, "a b c");
        assert!(!origin.who.chars().any(char::is_control), "{:?}", origin.who);
        assert!(origin.who.starts_with("carol "), "{:?}", origin.who);
        let long = Origin::new(Source::Operator, "x".repeat(500), "y".repeat(500));
        assert_eq!((long.who.chars().count(), long.input.chars().count()), (WHO_CHARS, INPUT_CHARS));
        assert!(long.input.ends_with('…'));
        assert_eq!(Source::parse("operator"), Ok(Source::Operator));
        assert_eq!(
            Source::parse("cron").unwrap_err(),
            "unknown kind `cron`: expected one of schedule, webhook, budget, health, stack, operator"
        );
    }

    #[test]
    fn a_bound_is_an_instant_or_the_teams_day_across_a_clock_change() {
        let london = crate::schedule::BusinessHours { time_zone: chrono_tz::Europe::London, ..Default::default() };
        #[rustfmt::skip]
        let table = [
            ("2026-11-24", false, Ok("2026-11-24T00:00:00Z")),
            ("2026-11-24", true, Ok("2026-11-25T00:00:00Z")),
            // Summer time: the team's day starts an hour before UTC's.
            ("2026-07-01", false, Ok("2026-06-30T23:00:00Z")),
            // The day the clocks go back is 25 hours long.
            ("2026-10-25", false, Ok("2026-10-24T23:00:00Z")),
            ("2026-10-25", true, Ok("2026-10-26T00:00:00Z")),
            ("2026-11-24T10:30:00.25+01:00", false, Ok("2026-11-24T09:30:00.25Z")),
            ("24/11/2026", false, Err("`24/11/2026` is not a date like 2026-11-24 or an instant like 2026-11-24T10:30:00Z")),
        ];
        for (text, end, expected) in table {
            let got = parse_bound(text, &london, end);
            assert_eq!(got, expected.map(utc).map_err(String::from), "{text} end={end}");
        }
    }

    #[test]
    fn lifecycle_origins_say_who_from_what_was_understood() {
        use crate::decide::lifecycle::{Command, origin};
        #[rustfmt::skip]
        let table = [
            (serde_json::json!({"command": "up", "who": "carol", "reason": "demo", "note": "ghp_secret"}), Source::Operator, "carol"),
            (serde_json::json!({"command": "teardown", "scheduled_time": "2026-11-24T18:00:00Z"}), Source::Schedule, "teardown"),
            (serde_json::json!({"command": "startup"}), Source::Operator, "by hand"),
            (serde_json::json!({"command": "hold_expired", "until": 1795640400}), Source::Schedule, "hold-expiry"),
            (serde_json::json!({"command": "stack_check"}), Source::Schedule, "stack-check"),
        ];
        for (event, source, who) in table {
            let command: Command = serde_json::from_value(event.clone()).unwrap();
            let o = origin(&command, &event);
            assert_eq!((o.source, o.who.as_str()), (source, who), "{event}");
            assert!(!o.input.contains("ghp_secret"), "a field the command does not know is not kept: {}", o.input);
        }
        let stack_event = serde_json::json!({
            "detail-type": "CloudFormation Stack Status Change",
            "detail": {"stack-id": "arn:aws:cloudformation:us-east-1:123456789012:stack/staging-app/1", "status-details": {"status": "CREATE_COMPLETE"}}
        });
        let command: Command = serde_json::from_value(serde_json::json!({"command": "stack_check"})).unwrap();
        let o = origin(&command, &stack_event);
        assert_eq!((o.source, o.who.as_str()), (Source::Stack, "cloudformation"));
        assert!(o.input.ends_with("stack/staging-app/1 CREATE_COMPLETE"), "{}", o.input);
    }
}
