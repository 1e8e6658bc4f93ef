//! The environment's state and the transitions it allows.
//!
//! One `EnvironmentState` per environment is stored and written with a version check;
//! every method here either applies a whole transition or refuses it and changes nothing.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schedule::BusinessHours;
use crate::scope::{DeploymentPlan, DeploymentType};

/// Where the environment's compute is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Up,
    Down,
    Starting,
    Stopping,
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
}

/// A calendar month in UTC, the period of an AWS monthly budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BudgetPeriod {
    year: i32,
    month: u32,
}

impl BudgetPeriod {
    pub fn containing(t: DateTime<Utc>) -> Self {
        Self {
            year: t.year(),
            month: t.month(),
        }
    }

    /// The first instant of the period and of the next one.
    pub fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = |y: i32, m: u32| {
            chrono::NaiveDate::from_ymd_opt(y, m, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        let (ny, nm) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
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

/// One deployment of one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub sha: String,
    pub plan: DeploymentPlan,
    pub deployment_type: Option<DeploymentType>,
    pub status: DeploymentStatus,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub run_url: Option<String>,
    /// How long the workflow run took (`updated_at - run_started_at`).
    #[serde(default)]
    pub run_duration_secs: Option<i64>,
}

/// What the probes last said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Unknown,
    Healthy,
    Unhealthy,
}

/// Health with the counters that debounce it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub since: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            status: HealthStatus::Unknown,
            since: None,
            consecutive_failures: 0,
            consecutive_successes: 0,
        }
    }
}

/// How many probe results in a row change the health status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    pub failures_to_alert: u32,
    pub successes_to_resolve: u32,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            failures_to_alert: 2,
            successes_to_resolve: 1,
        }
    }
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

/// The one state record of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentState {
    pub environment: String,
    pub phase: Phase,
    pub hold: Option<Hold>,
    pub budget_lock: Option<BudgetLock>,
    pub pending_deployment: Option<Deployment>,
    pub last_deployment: Option<Deployment>,
    pub health: Health,
    /// Incremented by every committed write; a write expecting another version loses.
    pub version: u64,
}

impl EnvironmentState {
    /// A never-written environment: down, no history, version 0.
    pub fn new(environment: impl Into<String>) -> Self {
        Self {
            environment: environment.into(),
            phase: Phase::Down,
            hold: None,
            budget_lock: None,
            pending_deployment: None,
            last_deployment: None,
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
        self.budget_lock
            .as_ref()
            .filter(|l| l.period == BudgetPeriod::containing(now))
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

    /// Down or stopping → starting. Refused while locked by the budget.
    pub fn begin_startup(&mut self, now: DateTime<Utc>) -> Result<()> {
        if let Some(lock) = self.active_budget_lock(now) {
            return Err(Error::BudgetLocked {
                period: lock.period.to_string(),
            });
        }
        self.step(&[Phase::Down, Phase::Stopping], Phase::Starting, "start")
    }

    /// Starting → up.
    pub fn startup_complete(&mut self) -> Result<()> {
        self.step(&[Phase::Starting], Phase::Up, "finish starting")
    }

    /// Up or starting → stopping.
    pub fn begin_teardown(&mut self) -> Result<()> {
        self.step(&[Phase::Up, Phase::Starting], Phase::Stopping, "tear down")
    }

    /// Stopping → down.
    pub fn teardown_complete(&mut self) -> Result<()> {
        self.step(&[Phase::Stopping], Phase::Down, "finish tearing down")
    }

    fn step(&mut self, from: &[Phase], to: Phase, step: &'static str) -> Result<()> {
        if !from.contains(&self.phase) {
            return Err(Error::Transition {
                from: self.phase,
                step,
            });
        }
        self.phase = to;
        Ok(())
    }

    /// Places (or replaces) a hold, cut to at most `max` from `now`. Returns the hold
    /// as placed.
    pub fn place_hold(&mut self, mut hold: Hold, now: DateTime<Utc>, max: Duration) -> Result<&Hold> {
        if hold.until <= now {
            return Err(Error::Hold {
                reason: format!("it would end at {}, which is not after now ({now})", hold.until),
            });
        }
        if hold.who.trim().is_empty() {
            return Err(Error::Hold {
                reason: "it must say who placed it".into(),
            });
        }
        hold.until = hold.until.min(now + max);
        Ok(self.hold.insert(hold))
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

    /// Records a planned deployment of `sha` as pending. A newer push supersedes the
    /// one being tracked, pending or in progress: the deploy workflow queues runs, and
    /// the environment ends up at the newest commit, which is the one to report on.
    pub fn queue_deployment(
        &mut self,
        sha: impl Into<String>,
        plan: DeploymentPlan,
        now: DateTime<Utc>,
    ) -> &Deployment {
        self.pending_deployment.insert(Deployment {
            sha: sha.into(),
            plan,
            deployment_type: plan.deployment_type(),
            status: DeploymentStatus::Pending,
            requested_at: now,
            started_at: None,
            finished_at: None,
            run_url: None,
            run_duration_secs: None,
        })
    }

    /// The pending deployment has been dispatched.
    pub fn deployment_started(&mut self, now: DateTime<Utc>) -> Result<&Deployment> {
        let Some(d) = self.pending_deployment.as_mut() else {
            return Err(Error::Deployment {
                reason: "there is no pending deployment".into(),
            });
        };
        if d.status != DeploymentStatus::Pending {
            return Err(Error::Deployment {
                reason: format!("{} is not pending", short_sha(&d.sha)),
            });
        }
        d.status = DeploymentStatus::InProgress;
        d.started_at = Some(now);
        Ok(d)
    }

    /// The deployment of `sha` finished; it becomes the last deployment.
    pub fn deployment_finished(
        &mut self,
        sha: &str,
        status: DeploymentStatus,
        now: DateTime<Utc>,
        run_url: Option<String>,
    ) -> Result<&Deployment> {
        if !status.is_finished() {
            return Err(Error::Deployment {
                reason: format!("{status:?} is not a final status"),
            });
        }
        match &self.pending_deployment {
            Some(d) if d.sha == sha => {}
            Some(d) => {
                return Err(Error::Deployment {
                    reason: format!(
                        "{} finished but {} is the one pending",
                        short_sha(sha),
                        short_sha(&d.sha)
                    ),
                });
            }
            None => {
                return Err(Error::Deployment {
                    reason: format!("{} finished but nothing is pending", short_sha(sha)),
                });
            }
        }
        let mut d = self.pending_deployment.take().expect("checked above");
        d.status = status;
        d.finished_at = Some(now);
        d.run_url = run_url;
        Ok(self.last_deployment.insert(d))
    }

    /// Counts one probe result; returns the status change, if this result made one.
    pub fn record_probe(
        &mut self,
        healthy: bool,
        now: DateTime<Utc>,
        policy: HealthPolicy,
    ) -> Option<HealthChange> {
        let h = &mut self.health;
        let from = h.status;
        let to = if healthy {
            h.consecutive_successes = h.consecutive_successes.saturating_add(1);
            h.consecutive_failures = 0;
            if from == HealthStatus::Unhealthy
                && h.consecutive_successes < policy.successes_to_resolve
            {
                from
            } else {
                HealthStatus::Healthy
            }
        } else {
            h.consecutive_failures = h.consecutive_failures.saturating_add(1);
            h.consecutive_successes = 0;
            if h.consecutive_failures >= policy.failures_to_alert {
                HealthStatus::Unhealthy
            } else {
                from
            }
        };
        (to != from).then(|| {
            h.status = to;
            h.since = Some(now);
            HealthChange { from, to }
        })
    }
}

/// The first seven characters of a commit id, as GitHub shows it.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::BusinessHours;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn hold(until: &str, kind: HoldKind) -> Hold {
        Hold {
            until: utc(until),
            reason: "demo".into(),
            who: "alice".into(),
            kind,
        }
    }

    #[test]
    fn phase_transitions_table() {
        use Phase::*;
        type Step = fn(&mut EnvironmentState) -> Result<()>;
        let start: Step = |s| s.begin_startup(utc("2026-11-27T10:00:00Z"));
        let started: Step = EnvironmentState::startup_complete;
        let stop: Step = EnvironmentState::begin_teardown;
        let stopped: Step = EnvironmentState::teardown_complete;
        #[rustfmt::skip]
        let cases: &[(&str, Phase, Step, Option<Phase>)] = &[
            ("down starts", Down, start, Some(Starting)),
            ("stopping can be restarted", Stopping, start, Some(Starting)),
            ("up cannot start again", Up, start, None),
            ("starting cannot start again", Starting, start, None),
            ("starting becomes up", Starting, started, Some(Up)),
            ("down cannot become up without starting", Down, started, None),
            ("up tears down", Up, stop, Some(Stopping)),
            ("a start can be torn down", Starting, stop, Some(Stopping)),
            ("down cannot tear down", Down, stop, None),
            ("stopping becomes down", Stopping, stopped, Some(Down)),
            ("up cannot become down without stopping", Up, stopped, None),
        ];
        for (name, from, step, to) in cases {
            let mut s = EnvironmentState::new("staging");
            s.phase = *from;
            let before = s.clone();
            match (step(&mut s), to) {
                (Ok(()), Some(to)) => assert_eq!(s.phase, *to, "{name}"),
                (Err(e), None) => {
                    assert_eq!(s, before, "{name}: a refused step changes nothing");
                    assert!(matches!(e, Error::Transition { .. }), "{name}: {e}");
                }
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn startup_is_refused_while_the_budget_locks_this_month() {
        let mut s = EnvironmentState::new("staging");
        s.lock_budget(utc("2026-11-20T09:00:00Z"), "actual > 100%");
        let err = s.begin_startup(utc("2026-11-27T10:00:00Z")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the environment is locked by the budget for 2026-11; unlock it first"
        );
        assert_eq!(s.phase, Phase::Down);
        // December: a new budget period, the lock has lapsed.
        s.begin_startup(utc("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(s.phase, Phase::Starting);
    }

    #[test]
    fn wanted_table_lock_beats_hold_beats_schedule() {
        let hours = BusinessHours::default();
        let working = utc("2026-11-27T10:00:00Z");
        let evening = utc("2026-11-27T20:00:00Z");
        let held = Some(hold("2026-11-27T22:00:00Z", HoldKind::EmergencyBypass));
        let expired = Some(hold("2026-11-27T19:00:00Z", HoldKind::OnDemand));
        let lock = Some(BudgetLock {
            period: "2026-11".parse().unwrap(),
            locked_at: utc("2026-11-02T00:00:00Z"),
            reason: "over".into(),
        });
        let old_lock = Some(BudgetLock {
            period: "2026-10".parse().unwrap(),
            ..lock.clone().unwrap()
        });
        use Wanted::*;
        #[rustfmt::skip]
        let cases = [
            ("working hours", working, None, None, UpScheduled),
            ("evening", evening, None, None, DownScheduled),
            ("evening with a hold", evening, held.clone(), None, UpHeld),
            ("evening with an expired hold", evening, expired, None, DownScheduled),
            ("locked in working hours", working, None, lock.clone(), DownBudgetLocked),
            ("locked with a hold", evening, held.clone(), lock, DownBudgetLocked),
            ("last month's lock has lapsed", working, None, old_lock, UpScheduled),
        ];
        for (name, now, hold, budget_lock, expected) in cases {
            let s = EnvironmentState { hold, budget_lock, ..EnvironmentState::new("staging") };
            assert_eq!(s.wanted(now, &hours), expected, "{name}");
        }
    }

    #[test]
    fn holds_are_cut_to_the_maximum_and_must_end_in_the_future() {
        let now = utc("2026-11-27T17:00:00Z");
        let mut s = EnvironmentState::new("staging");
        let placed = s
            .place_hold(hold("2026-11-28T17:00:00Z", HoldKind::OnDemand), now, Duration::hours(12))
            .unwrap();
        assert_eq!(placed.until, utc("2026-11-28T05:00:00Z"));
        let before = s.clone();
        assert!(s.place_hold(hold("2026-11-27T17:00:00Z", HoldKind::OnDemand), now, Duration::hours(12)).is_err());
        let mut anonymous = hold("2026-11-27T18:00:00Z", HoldKind::OnDemand);
        anonymous.who = " ".into();
        assert!(s.place_hold(anonymous, now, Duration::hours(12)).is_err());
        assert_eq!(s, before);
        assert!(s.release_hold().is_some());
        assert!(s.hold.is_none());
    }

    #[test]
    fn a_deployment_goes_pending_in_progress_finished() {
        let plan = DeploymentPlan { backend: true, ..DeploymentPlan::NOTHING };
        let mut s = EnvironmentState::new("staging");
        s.queue_deployment("abc1234def", plan, utc("2026-11-27T10:00:00Z"));
        assert_eq!(s.pending_deployment.as_ref().unwrap().deployment_type, Some(DeploymentType::BackendOnly));
        s.deployment_started(utc("2026-11-27T10:00:01Z")).unwrap();
        assert!(s.deployment_finished("other", DeploymentStatus::Succeeded, utc("2026-11-27T10:05:00Z"), None).is_err());
        let last = s
            .deployment_finished("abc1234def", DeploymentStatus::from_conclusion("failure"), utc("2026-11-27T10:05:00Z"), Some("https://x".into()))
            .unwrap();
        assert_eq!(last.status, DeploymentStatus::Failed);
        assert!(s.pending_deployment.is_none());
        assert!(s.deployment_started(utc("2026-11-27T10:06:00Z")).is_err());
    }

    #[test]
    fn a_tracked_deployment_is_superseded_by_a_newer_push() {
        let plan = DeploymentPlan { frontend: true, ..DeploymentPlan::NOTHING };
        let mut s = EnvironmentState::new("staging");
        s.queue_deployment("aaa", plan, utc("2026-11-27T10:00:00Z"));
        s.deployment_started(utc("2026-11-27T10:00:01Z")).unwrap();
        s.queue_deployment("bbb", plan, utc("2026-11-27T10:01:00Z"));
        assert_eq!(s.pending_deployment.as_ref().unwrap().sha, "bbb");
        assert_eq!(s.pending_deployment.as_ref().unwrap().status, DeploymentStatus::Pending);
        // The superseded run finishing is not the one tracked.
        assert!(s.deployment_finished("aaa", DeploymentStatus::Succeeded, utc("2026-11-27T10:05:00Z"), None).is_err());
    }

    #[test]
    fn health_changes_only_after_enough_results_in_a_row() {
        let policy = HealthPolicy { failures_to_alert: 2, successes_to_resolve: 2 };
        let t = utc("2026-11-27T10:00:00Z");
        use HealthStatus::*;
        // (probe result, expected change)
        #[rustfmt::skip]
        let steps = [
            (true, Some((Unknown, Healthy))),
            (false, None),
            (true, None),               // the failure streak is broken
            (false, None),
            (false, Some((Healthy, Unhealthy))),
            (false, None),              // still down: no second alert
            (true, None),               // one success is not enough to resolve
            (true, Some((Unhealthy, Healthy))),
        ];
        let mut s = EnvironmentState::new("staging");
        for (i, (ok, expected)) in steps.into_iter().enumerate() {
            let got = s.record_probe(ok, t, policy).map(|c| (c.from, c.to));
            assert_eq!(got, expected, "step {i}");
        }
    }

    #[test]
    fn budget_periods_parse_and_bound() {
        let p: BudgetPeriod = "2026-12".parse().unwrap();
        assert_eq!(p.bounds(), (utc("2026-12-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")));
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", ""] {
            assert!(bad.parse::<BudgetPeriod>().is_err(), "{bad}");
        }
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut s = EnvironmentState::new("staging");
        s.lock_budget(utc("2026-11-20T09:00:00Z"), "over");
        s.place_hold(hold("2026-11-27T22:00:00Z", HoldKind::OnDemand), utc("2026-11-27T20:00:00Z"), Duration::hours(12)).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""period":"2026-11""#), "{json}");
        assert_eq!(serde_json::from_str::<EnvironmentState>(&json).unwrap(), s);
    }
}
