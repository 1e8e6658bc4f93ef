//! The environment's state: the intent the shell makes the world match.
//!
//! One `EnvironmentState` per environment is stored and written with a version check;
//! every method here either applies a whole change or refuses it and changes nothing.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schedule::BusinessHours;
use crate::scope::{DeploymentPlan, DeploymentType};

/// What the last committed decision asked of the compute: `Up`/`Starting` mean the
/// service should run, `Down`/`Stopping` that it should be scaled to zero. The shell
/// makes ECS match it (see `lifecycle::reconcile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Up,
    Down,
    Starting,
    Stopping,
}

impl Phase {
    /// Up or starting: the service should be running.
    pub fn wants_running(&self) -> bool {
        matches!(self, Self::Up | Self::Starting)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Starting => "starting",
            Self::Stopping => "stopping",
        })
    }
}

/// Why a hold keeps the environment up outside its hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// Someone (or a push) started it on demand.
    OnDemand,
    /// The scheduled shutdown is bypassed in an emergency.
    EmergencyBypass,
}

/// A time-boxed override that keeps the environment up until `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub until: DateTime<Utc>,
    pub reason: String,
    pub who: String,
    pub kind: HoldKind,
    /// Placed with `--keep`: never ended early because staging is idle.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep: bool,
}

/// How many days of wakes are kept (the quotas look back a month; the month report reads
/// the trail).
pub const WAKES_KEPT_DAYS: i64 = 35;

/// One wake from the front door: who asked, when, and when staging answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wake {
    /// The invite's name.
    pub by: String,
    pub requested_at: DateTime<Utc>,
    /// The steps on the way, when the front door first saw each: the pause stack standing
    /// again (stack mode), the tasks running, the targets healthy behind the load balancer.
    #[serde(default)]
    pub stack_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub tasks_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub targets_at: Option<DateTime<Utc>>,
    /// When the app first answered behind the load balancer after it.
    #[serde(default)]
    pub ready_at: Option<DateTime<Utc>>,
    /// The end of the hold it placed.
    pub held_until: DateTime<Utc>,
    /// When it ended before `held_until` (an idle stop, `down`, a budget lock).
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Whether staging woke from a deleted stack (a deep sleep) rather than from zero tasks.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_deep_sleep: bool,
}

impl Wake {
    /// How long it kept staging awake, up to `now`.
    pub fn awake(&self, now: DateTime<Utc>) -> Duration {
        let end = self.ended_at.unwrap_or(self.held_until).min(now);
        (end - self.requested_at).max(Duration::zero())
    }

    /// Requested → ready, once ready.
    pub fn wake_time(&self) -> Option<Duration> {
        self.ready_at.map(|r| r - self.requested_at)
    }
}

/// What the health check last learnt of the staging address's use, and the idle stop it
/// warned of (see [`crate::decide::idle`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdleWatch {
    /// The last minute the load balancer saw use that was not the controller's own probes.
    #[serde(default)]
    pub last_use: Option<DateTime<Utc>>,
    /// The idle stop the team was warned of, and when.
    #[serde(default)]
    pub stop_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub warned_at: Option<DateTime<Utc>>,
    /// When the metrics first came back empty (told once; never idle without data).
    #[serde(default)]
    pub no_data_since: Option<DateTime<Utc>>,
    /// The last idle stop.
    #[serde(default)]
    pub stopped_at: Option<DateTime<Utc>>,
}

/// An invite name revoked: invites for it issued at or before `at` no longer work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub name: String,
    pub at: DateTime<Utc>,
    pub by: String,
}

/// A calendar month in UTC, the period of an AWS monthly budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BudgetPeriod {
    year: i32,
    month: u32,
}

impl BudgetPeriod {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        (1..=12).contains(&month).then_some(Self { year, month })
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn month(&self) -> u32 {
        self.month
    }

    pub fn containing(t: DateTime<Utc>) -> Self {
        Self { year: t.year(), month: t.month() }
    }

    /// The first instant of the period and of the next one.
    pub fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = |y: i32, m: u32| {
            chrono::NaiveDate::from_ymd_opt(y, m, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        let (ny, nm) = if self.month == 12 { (self.year + 1, 1) } else { (self.year, self.month + 1) };
        (start(self.year, self.month), start(ny, nm))
    }
}

impl fmt::Display for BudgetPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for BudgetPeriod {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is not a month like 2026-11");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if y.len() != 4 || m.len() != 2 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }
}

impl Serialize for BudgetPeriod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BudgetPeriod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// The budget has locked the environment down for one budget period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLock {
    pub period: BudgetPeriod,
    pub locked_at: DateTime<Utc>,
    pub reason: String,
}

/// Where a deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Planned, waiting (for a budget unlock, or to be dispatched).
    Pending,
    InProgress,
    Succeeded,
    Failed,
    Cancelled,
}

impl DeploymentStatus {
    /// The status a GitHub `workflow_run` conclusion means.
    pub fn from_conclusion(conclusion: &str) -> Self {
        match conclusion {
            "success" => Self::Succeeded,
            "cancelled" | "skipped" => Self::Cancelled,
            _ => Self::Failed,
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// One deployment: the pushes merged into it, and what they need redeployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The newest push merged in (its `after`).
    pub sha: String,
    /// Every push merged in, oldest first (their `after`s).
    #[serde(default)]
    pub pushes: Vec<String>,
    pub plan: DeploymentPlan,
    pub deployment_type: Option<DeploymentType>,
    pub status: DeploymentStatus,
    pub requested_at: DateTime<Utc>,
    /// When the workflow was dispatched.
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub run_url: Option<String>,
    /// How long the workflow run took (`updated_at - run_started_at`).
    #[serde(default)]
    pub run_duration_secs: Option<i64>,
    /// The commit the run built (`workflow_run.head_sha`): a dispatch runs the branch
    /// head, which may be newer than `sha`.
    #[serde(default)]
    pub built_sha: Option<String>,
    /// The workflow run's id, once it reported.
    #[serde(default)]
    pub run_id: Option<u64>,
    /// The task definition the service ran when this was dispatched (what a rollback
    /// of it goes back to).
    #[serde(default)]
    pub task_definition_before: Option<String>,
    /// The task definition the service ran when the run reported success.
    #[serde(default)]
    pub task_definition_after: Option<String>,
    /// When it was rolled back (by hand or automatically).
    #[serde(default)]
    pub rolled_back_at: Option<DateTime<Utc>>,
    /// Who started it by hand in GitHub ("Run workflow"); `None` for our dispatches.
    #[serde(default)]
    pub by_hand: Option<String>,
}

impl Deployment {
    fn new(sha: &str, plan: DeploymentPlan, now: DateTime<Utc>) -> Self {
        Self {
            sha: sha.to_string(),
            pushes: vec![sha.to_string()],
            plan,
            deployment_type: plan.deployment_type(),
            status: DeploymentStatus::Pending,
            requested_at: now,
            started_at: None,
            finished_at: None,
            run_url: None,
            run_duration_secs: None,
            built_sha: None,
            run_id: None,
            task_definition_before: None,
            task_definition_after: None,
            rolled_back_at: None,
            by_hand: None,
        }
    }

    /// A run of the deploy workflow that a person started (GitHub's "Run workflow"), in
    /// progress since `started_at`: no push of ours, and what it deploys is the person's
    /// choice (`deployment_type` unknown).
    pub fn started_by_hand(
        sha: &str,
        who: &str,
        run_id: Option<u64>,
        run_url: Option<String>,
        started_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            by_hand: Some(who.to_string()),
            pushes: Vec::new(),
            deployment_type: None,
            status: DeploymentStatus::InProgress,
            started_at: Some(started_at),
            run_id,
            run_url,
            ..Self::new(sha, DeploymentPlan::default(), now)
        }
    }

    /// Folds `later` into this one: the union of both plans (a migration if either
    /// needs one), every push, the newest sha, the earliest request.
    fn merge(&mut self, later: Deployment) {
        self.plan = self.plan.union(later.plan);
        self.deployment_type = self.plan.deployment_type();
        for sha in later.pushes {
            if !self.pushes.contains(&sha) {
                self.pushes.push(sha);
            }
        }
        self.sha = later.sha;
        self.requested_at = self.requested_at.min(later.requested_at);
    }

    /// The pushes, short, for people: `abc1234, def5678`.
    pub fn push_list(&self) -> String {
        if let Some(who) = &self.by_hand
            && self.pushes.is_empty()
        {
            return format!("none (run by hand by {who} at {})", short_sha(&self.sha));
        }
        self.pushes.iter().map(|s| short_sha(s)).collect::<Vec<_>>().join(", ")
    }
}

/// What the probes last said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Not probed yet since the last start (or paused: down by design).
    #[default]
    Unknown,
    Healthy,
    /// Answering, but slower than a probe's limit.
    Degraded,
    Unhealthy,
}

/// Health with the counters that debounce it (see [`crate::decide::health`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    /// When the status began: the first tick of the streak that made it.
    pub since: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    /// Ticks in a row on which every probe answered (slow or not).
    pub consecutive_successes: u32,
    #[serde(default)]
    pub consecutive_slow: u32,
    #[serde(default)]
    pub consecutive_fast: u32,
    /// The first tick of the current failing (or answering) streak.
    #[serde(default)]
    pub streak_since: Option<DateTime<Utc>>,
    /// The first tick of the current slow streak, and of the current fast one.
    #[serde(default)]
    pub slow_since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub fast_since: Option<DateTime<Utc>>,
    /// The last `health.down` alert or reminder.
    #[serde(default)]
    pub last_alert_at: Option<DateTime<Utc>>,
    /// The last forced deployment (self-healing).
    #[serde(default)]
    pub last_heal_at: Option<DateTime<Utc>>,
    /// The last forced deployment or rollback: the grace period runs from it.
    #[serde(default)]
    pub redeployed_at: Option<DateTime<Utc>>,
    /// The scheduled time of the last tick counted: a tick delivered twice counts once.
    #[serde(default)]
    pub last_tick: Option<DateTime<Utc>>,
    /// The task definition that last ran healthy outside a grace period.
    #[serde(default)]
    pub last_good_task_definition: Option<String>,
    /// The last transitions, oldest first (at most [`TRANSITIONS_KEPT`]). Stored as
    /// `history`, its name before the audit trail took that word.
    #[serde(default, rename = "history")]
    pub transitions: Vec<crate::model::state::HealthTransition>,
}

/// A change of health status, which is what gets alerted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthChange {
    pub from: HealthStatus,
    pub to: HealthStatus,
}

/// What the schedule, holds and budget together want.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wanted {
    /// Locked by the budget: down, whatever else says up.
    DownBudgetLocked,
    /// A hold keeps it up outside its hours.
    UpHeld,
    UpScheduled,
    DownScheduled,
}

impl Wanted {
    pub fn is_up(&self) -> bool {
        matches!(self, Self::UpHeld | Self::UpScheduled)
    }
}

/// Deployments finished in one budget period (for the daily report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeployTally {
    pub period: Option<BudgetPeriod>,
    pub count: u32,
    pub succeeded: u32,
}

/// How many pushes the state remembers to recognise one seen again.
pub const RECENT_PUSHES: usize = 50;

/// How long the up-windows are kept (what `stagingctl cost --compare` projects
/// on-demand use from).
pub const UP_WINDOW_DAYS: i64 = 30;

/// How many start durations of the pause stack are kept (what "ready in about N
/// minutes" is estimated from).
pub const STACK_STARTS: usize = 5;

/// A span during which staging was meant to be up, closed by the stop that ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Started on demand (a hold, `up`, a push or a run outside business hours) rather
    /// than by the schedule.
    pub on_demand: bool,
}

impl UpWindow {
    pub fn hours(&self) -> f64 {
        (self.to - self.from).num_seconds().max(0) as f64 / 3600.0
    }
}

/// What the pause stack (`STAGING_TEARDOWN=stack`) was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StackOperation {
    /// Created again from its saved template and parameters (a start).
    Create,
    /// Deleted after its template and parameters were saved (a teardown).
    Delete,
}

impl fmt::Display for StackOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Create => "create",
            Self::Delete => "delete",
        })
    }
}

/// A create or delete of the pause stack asked for and not yet seen finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackProgress {
    pub operation: StackOperation,
    pub since: DateTime<Utc>,
}

/// A create or delete of the pause stack that failed, as CloudFormation said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackFailure {
    pub operation: StackOperation,
    /// The stack's status (`ROLLBACK_COMPLETE`, `DELETE_FAILED`, ...).
    pub status: String,
    /// The stack's status reason.
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The pause stack's side of the state (empty in `scale` mode).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseStackState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<StackProgress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<StackFailure>,
    /// How long the last starts took (create asked → complete), seconds, newest last,
    /// at most [`STACK_STARTS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start_secs: Vec<u32>,
    /// The stack was created again from its copy and its service not yet restored as
    /// paused: a pause now must keep the copy's service (see `Action::PauseStack`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unrestored: bool,
    /// The task definition the service ran when the stack was last paused (what it runs
    /// again once the stack is created and the service restored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_task_definition: Option<String>,
    /// When the last start was seen complete (the health check's grace runs from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<DateTime<Utc>>,
    /// A shallow sleep: an idle stop scaled the service to zero and keeps the stack
    /// standing until then (a wake needs no create); after it, or at the scheduled
    /// teardown, the stack is deleted too (`STAGING_DEEP_SLEEP_AFTER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shallow_until: Option<DateTime<Utc>>,
}

/// What a finished workflow run reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub status: DeploymentStatus,
    pub built_sha: String,
    pub run_url: Option<String>,
    pub run_id: Option<u64>,
    pub duration_secs: Option<i64>,
}

/// The one state record of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentState {
    pub environment: String,
    pub phase: Phase,
    pub hold: Option<Hold>,
    pub budget_lock: Option<BudgetLock>,
    /// When the last start was decided (the health check's grace period runs from it).
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    /// Until when the last start keeps staging up by itself: the end of the business hours
    /// it was made in, or the start itself when made outside them (then only a hold keeps
    /// it up). Instants only: whoever compares with it needs no time zone.
    #[serde(default)]
    pub up_until: Option<DateTime<Utc>>,
    /// Pushes waiting to be deployed, merged into one plan: behind the run in flight,
    /// behind a budget lock, or (without a token) recorded only.
    pub pending_deployment: Option<Deployment>,
    /// The run dispatched and not yet reported: one at a time.
    #[serde(default)]
    pub deployment_in_flight: Option<Deployment>,
    pub last_deployment: Option<Deployment>,
    /// The pushes taken (`before..after`), newest last, at most [`RECENT_PUSHES`]: a
    /// push seen again (a redelivery, or a signed body replayed under a new delivery
    /// id) does nothing.
    #[serde(default)]
    pub recent_pushes: Vec<String>,
    /// The deploy workflow runs (`id#attempt`) already handled, newest last: a
    /// `requested` delivered again, or after its `completed`, changes nothing.
    #[serde(default)]
    pub recent_runs: Vec<String>,
    /// When a scheduled teardown was first deferred for a deploy in flight (told once).
    #[serde(default)]
    pub teardown_deferred_at: Option<DateTime<Utc>>,
    /// Budget alerts handled (`<period>:<type>:<threshold %>`) and their SNS message ids,
    /// newest last: the same alert again does nothing.
    #[serde(default)]
    pub recent_alerts: Vec<String>,
    /// The budget period in which on-demand holds are capped at the default length (a
    /// forecast over the budget).
    #[serde(default)]
    pub hold_cap: Option<BudgetPeriod>,
    /// Deployments finished this budget period.
    #[serde(default)]
    pub deploy_tally: DeployTally,
    /// Whether the last start was on demand (see [`UpWindow::on_demand`]).
    #[serde(default)]
    pub started_on_demand: bool,
    /// The up-windows of the last [`UP_WINDOW_DAYS`] days, oldest first.
    #[serde(default)]
    pub up_windows: Vec<UpWindow>,
    /// When up-windows began to be recorded (the first one's start; never pruned): how
    /// many days the records cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_windows_since: Option<DateTime<Utc>>,
    /// The pause stack, in `stack` teardown mode.
    #[serde(default)]
    pub stack: PauseStackState,
    /// The service's scalable target as it was before the last teardown parked it (what
    /// the next start puts back); `None` when the service has none or was never parked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScalableTarget>,
    /// The front door's wakes of the last [`WAKES_KEPT_DAYS`] days, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wakes: Vec<Wake>,
    /// Use of the staging address and the idle stop in sight.
    #[serde(default)]
    pub idle: IdleWatch,
    /// Invite names revoked (`stagingctl invite --revoke`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<Revocation>,
    pub health: Health,
    /// Incremented by every committed write; a write expecting another version loses.
    pub version: u64,
}

/// An Application Auto Scaling target of the service's desired count: its bounds and what
/// is suspended. While staging sleeps it is [`ScalableTarget::PARKED`], so no scaling
/// activity (a scheduled action, an alarm, or the raise of a count below the minimum to
/// the minimum) can bring the service back up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalableTarget {
    pub min_capacity: u32,
    pub max_capacity: u32,
    #[serde(default)]
    pub dynamic_scaling_in_suspended: bool,
    #[serde(default)]
    pub dynamic_scaling_out_suspended: bool,
    #[serde(default)]
    pub scheduled_scaling_suspended: bool,
}

impl ScalableTarget {
    /// Nothing may scale it: both bounds 0, every kind of scaling suspended.
    pub const PARKED: Self = Self {
        min_capacity: 0,
        max_capacity: 0,
        dynamic_scaling_in_suspended: true,
        dynamic_scaling_out_suspended: true,
        scheduled_scaling_suspended: true,
    };

    /// Whether it is parked: at most 0 tasks, whatever asks for more.
    pub fn is_parked(&self) -> bool {
        self.max_capacity == 0
    }
}

impl EnvironmentState {
    /// A never-written environment: down, no history, version 0.
    pub fn new(environment: impl Into<String>) -> Self {
        Self {
            environment: environment.into(),
            phase: Phase::Down,
            hold: None,
            budget_lock: None,
            started_at: None,
            up_until: None,
            pending_deployment: None,
            deployment_in_flight: None,
            last_deployment: None,
            recent_pushes: Vec::new(),
            recent_runs: Vec::new(),
            teardown_deferred_at: None,
            recent_alerts: Vec::new(),
            hold_cap: None,
            deploy_tally: DeployTally::default(),
            started_on_demand: false,
            up_windows: Vec::new(),
            up_windows_since: None,
            stack: PauseStackState::default(),
            scaling: None,
            wakes: Vec::new(),
            idle: IdleWatch::default(),
            revoked: Vec::new(),
            health: Health::default(),
            version: 0,
        }
    }

    /// The hold in force at `now`; an expired hold is no hold.
    pub fn active_hold(&self, now: DateTime<Utc>) -> Option<&Hold> {
        self.hold.as_ref().filter(|h| h.until > now)
    }

    /// The budget lock in force at `now`. A lock applies to its budget period only:
    /// when a new month starts, the budget resets and the lock lapses.
    pub fn active_budget_lock(&self, now: DateTime<Utc>) -> Option<&BudgetLock> {
        self.budget_lock.as_ref().filter(|l| l.period == BudgetPeriod::containing(now))
    }

    /// What should be true at `now`: a budget lock wins over a hold, a hold wins over
    /// the schedule.
    pub fn wanted(&self, now: DateTime<Utc>, hours: &BusinessHours) -> Wanted {
        if self.active_budget_lock(now).is_some() {
            Wanted::DownBudgetLocked
        } else if self.active_hold(now).is_some() {
            Wanted::UpHeld
        } else if hours.is_up_time(now) {
            Wanted::UpScheduled
        } else {
            Wanted::DownScheduled
        }
    }

    /// A state as an earlier version stored it, brought to this one: the run it had
    /// dispatched was kept as the pending deployment (status in progress), and a
    /// deployment listed no pushes. Applied to every state read.
    pub fn upgraded(mut self) -> Self {
        if self.deployment_in_flight.is_none()
            && self.pending_deployment.as_ref().is_some_and(|d| d.status == DeploymentStatus::InProgress)
        {
            self.deployment_in_flight = self.pending_deployment.take();
        }
        for d in [&mut self.pending_deployment, &mut self.deployment_in_flight, &mut self.last_deployment]
            .into_iter()
            .flatten()
        {
            if d.pushes.is_empty() && d.by_hand.is_none() {
                d.pushes.push(d.sha.clone());
            }
        }
        self
    }

    /// The deployments finished in the budget period containing `now`.
    pub fn deployments_this_month(&self, now: DateTime<Utc>) -> DeployTally {
        if self.deploy_tally.period == Some(BudgetPeriod::containing(now)) {
            self.deploy_tally
        } else {
            DeployTally::default()
        }
    }

    /// Whether the committed intent is for the service to run.
    pub fn wants_running(&self) -> bool {
        self.phase.wants_running()
    }

    /// Places a hold, cut to at most `max` from `now`. Holds only grow: when the hold
    /// in force already ends at or after the new one, it stays (with its reason and
    /// who). Returns the hold in force and whether it changed.
    pub fn place_hold(&mut self, mut hold: Hold, now: DateTime<Utc>, max: Duration) -> Result<(&Hold, bool)> {
        if hold.until <= now {
            return Err(Error::Hold {
                reason: format!("it would end at {}, which is not after now ({now})", hold.until),
            });
        }
        if hold.who.trim().is_empty() {
            return Err(Error::Hold { reason: "it must say who placed it".into() });
        }
        if let Some(cap) = now.checked_add_signed(max) {
            hold.until = hold.until.min(cap);
        }
        let keep = self.active_hold(now).is_some_and(|h| h.until >= hold.until);
        if keep {
            return Ok((self.hold.as_ref().expect("checked above"), false));
        }
        Ok((self.hold.insert(hold), true))
    }

    /// Removes any hold; returns the one removed.
    pub fn release_hold(&mut self) -> Option<Hold> {
        self.hold.take()
    }

    /// Locks the environment for the budget period containing `now`.
    pub fn lock_budget(&mut self, now: DateTime<Utc>, reason: impl Into<String>) -> &BudgetLock {
        self.budget_lock.insert(BudgetLock {
            period: BudgetPeriod::containing(now),
            locked_at: now,
            reason: reason.into(),
        })
    }

    /// Removes the budget lock; returns it.
    pub fn unlock_budget(&mut self) -> Option<BudgetLock> {
        self.budget_lock.take()
    }

    /// Whether a push (`before..after`) was already taken.
    /// Closes the up-window of the start that `now` ends (from `started_at`), and
    /// forgets windows older than [`UP_WINDOW_DAYS`].
    pub fn close_up_window(&mut self, now: DateTime<Utc>) {
        if let Some(from) = self.started_at.filter(|from| *from < now) {
            self.up_windows_since.get_or_insert(from);
            self.up_windows.push(UpWindow { from, to: now, on_demand: self.started_on_demand });
        }
        let horizon = now - Duration::days(UP_WINDOW_DAYS);
        self.up_windows.retain(|w| w.to > horizon);
    }

    /// Up-hours recorded in the `days` before `now` (windows cut at the horizon), all
    /// and on demand only; `None` when nothing is recorded.
    pub fn recorded_up_hours(&self, now: DateTime<Utc>, days: i64) -> Option<(f64, f64)> {
        let horizon = now - Duration::days(days);
        let mut seen = false;
        let (mut all, mut on_demand) = (0.0, 0.0);
        for w in &self.up_windows {
            if w.to <= horizon || w.from >= now {
                continue;
            }
            seen = true;
            let cut = UpWindow { from: w.from.max(horizon), to: w.to.min(now), on_demand: w.on_demand };
            all += cut.hours();
            if w.on_demand {
                on_demand += cut.hours();
            }
        }
        seen.then_some((all, on_demand))
    }

    /// Records how long a start of the pause stack took.
    pub fn record_stack_start(&mut self, secs: u32) {
        self.stack.start_secs.push(secs);
        let excess = self.stack.start_secs.len().saturating_sub(STACK_STARTS);
        self.stack.start_secs.drain(..excess);
    }

    /// How long a start of the pause stack is expected to take: the median of the last
    /// ones, `None` before any.
    pub fn expected_stack_start_secs(&self) -> Option<u32> {
        let mut secs = self.stack.start_secs.clone();
        if secs.is_empty() {
            return None;
        }
        secs.sort_unstable();
        Some(secs[secs.len() / 2])
    }

    pub fn knows_push(&self, key: &str) -> bool {
        self.recent_pushes.iter().any(|k| k == key)
    }

    /// Whether this workflow run (`id#attempt`) was handled already.
    pub fn knows_run(&self, key: &str) -> bool {
        self.recent_runs.iter().any(|k| k == key)
    }

    /// Remembers a workflow run as handled, forgetting the oldest beyond [`RECENT_PUSHES`].
    pub fn remember_run(&mut self, key: String) {
        remember(&mut self.recent_runs, key, RECENT_PUSHES);
    }

    /// Remembers a push as taken, forgetting the oldest beyond [`RECENT_PUSHES`].
    pub fn remember_push(&mut self, key: String) {
        remember(&mut self.recent_pushes, key, RECENT_PUSHES);
    }

    /// Remembers a budget alert (its key, or its SNS message id) as handled, forgetting
    /// the oldest beyond [`crate::model::state::RECENT_ALERTS`].
    pub fn remember_alert(&mut self, key: String) {
        remember(&mut self.recent_alerts, key, crate::model::state::RECENT_ALERTS);
    }

    /// Queues a push's deployment. Pushes merge into one pending deployment (the union
    /// of their plans, every sha kept), so none is lost while they wait.
    pub fn queue_deployment(&mut self, sha: &str, plan: DeploymentPlan, now: DateTime<Utc>) -> &Deployment {
        let push = Deployment::new(sha, plan, now);
        let merged = match self.pending_deployment.take() {
            Some(mut pending) => {
                pending.merge(push);
                pending
            }
            None => push,
        };
        self.pending_deployment.insert(merged)
    }

    /// The run in flight, unless it has gone `grace` without reporting.
    pub fn active_deployment(&self, now: DateTime<Utc>, grace: Duration) -> Option<&Deployment> {
        // A run with no dispatch time cannot be judged; it does not hold anything back.
        self.deployment_in_flight
            .as_ref()
            .filter(|d| d.started_at.is_some_and(|t| t.checked_add_signed(grace).is_none_or(|end| end > now)))
    }

    /// Moves the pending deployment in flight, dispatched at `now`. A run in flight that
    /// never reported within `grace` is folded in (it may never have run). Returns the
    /// deployment to dispatch and the stale run it replaced; `None` when nothing is
    /// pending or a run is still in flight.
    pub fn dispatch_pending(
        &mut self,
        now: DateTime<Utc>,
        grace: Duration,
    ) -> Option<(&Deployment, Option<Deployment>)> {
        if self.pending_deployment.is_none() || self.active_deployment(now, grace).is_some() {
            return None;
        }
        let mut next = self.pending_deployment.take()?;
        let stale = self.deployment_in_flight.take();
        if let Some(stale) = &stale {
            let mut merged = stale.clone();
            merged.merge(next);
            // A new run: the stale one's identity is not this one's.
            (merged.run_id, merged.run_url, merged.by_hand) = (None, None, None);
            next = merged;
        }
        next.status = DeploymentStatus::InProgress;
        next.started_at = Some(now);
        Some((self.deployment_in_flight.insert(next), stale))
    }

    /// A run in flight that has gone `grace` without reporting gives way: the pushes it
    /// carried go back to waiting, ahead of anything queued since (it may never have run);
    /// a run started by hand is let go. Returns it.
    pub fn give_up_stale_run(&mut self, now: DateTime<Utc>, grace: Duration) -> Option<Deployment> {
        if self.active_deployment(now, grace).is_some() {
            return None;
        }
        let stale = self.deployment_in_flight.take()?;
        if stale.by_hand.is_none() {
            self.back_to_waiting(stale.clone());
        }
        Some(stale)
    }

    /// A run that did not happen (or may not have): its pushes wait again, ahead of
    /// anything queued since.
    fn back_to_waiting(&mut self, mut back: Deployment) {
        back.status = DeploymentStatus::Pending;
        back.started_at = None;
        (back.run_id, back.run_url) = (None, None);
        if let Some(later) = self.pending_deployment.take() {
            back.merge(later);
        }
        self.pending_deployment = Some(back);
    }

    /// GitHub refused the dispatch of `sha`: it goes back to waiting, ahead of anything
    /// queued since. Returns whether there was such a run in flight.
    pub fn dispatch_refused(&mut self, sha: &str) -> bool {
        if self.deployment_in_flight.as_ref().is_none_or(|d| d.sha != sha) {
            return false;
        }
        let back = self.deployment_in_flight.take().expect("checked above");
        self.back_to_waiting(back);
        true
    }

    /// The run in flight finished: it becomes the last deployment, with what it built.
    pub fn deployment_finished(&mut self, outcome: RunOutcome, now: DateTime<Utc>) -> Result<&mut Deployment> {
        if !outcome.status.is_finished() {
            return Err(Error::Deployment { reason: format!("{:?} is not a final status", outcome.status) });
        }
        let Some(mut d) = self.deployment_in_flight.take() else {
            return Err(Error::Deployment { reason: "no deployment is in flight".into() });
        };
        let period = BudgetPeriod::containing(now);
        if self.deploy_tally.period != Some(period) {
            self.deploy_tally = DeployTally { period: Some(period), count: 0, succeeded: 0 };
        }
        self.deploy_tally.count = self.deploy_tally.count.saturating_add(1);
        if outcome.status == DeploymentStatus::Succeeded {
            self.deploy_tally.succeeded = self.deploy_tally.succeeded.saturating_add(1);
        }
        d.status = outcome.status;
        d.finished_at = Some(now);
        d.run_url = outcome.run_url;
        d.run_duration_secs = outcome.duration_secs;
        d.built_sha = Some(outcome.built_sha);
        d.run_id = outcome.run_id;
        Ok(self.last_deployment.insert(d))
    }
}

/// Adds `key` to a newest-last list unless it is there, keeping at most `bound`.
fn remember(list: &mut Vec<String>, key: String, bound: usize) {
    if !list.contains(&key) {
        list.push(key);
    }
    let excess = list.len().saturating_sub(bound);
    list.drain(..excess);
}

/// The first seven characters of a commit id, as GitHub shows it.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// How many transitions the state keeps for the figures (a month of flapping fits).
pub const TRANSITIONS_KEPT: usize = 500;

/// A health status change, at the time it began (the first tick of the streak that
/// made it), kept in the state for the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthTransition {
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub at: DateTime<Utc>,
    pub from: HealthStatus,
    pub to: HealthStatus,
}

/// How many alert keys (and SNS message ids) the state keeps to recognise a repeat.
pub const RECENT_ALERTS: usize = 20;

#[cfg(test)]
mod tests;
