//! The month at a glance, pure: the seed's success figures computed from the audit
//! trail ([`crate::history::Entry`]s and their [`Event`]s), each beside its target
//! with met / not met, and the month day by day for the calendar
//! (`stagingctl report --month`, `--json`, `--html`).
//!
//! The month is a calendar month in the business hours' time zone (the team's days);
//! every instant is UTC. Figures cover `[from, through)`, where `through` is the end of
//! the month or now, whichever is first.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::history::DeployKind;
use crate::state::DeploymentStatus;

/// What kind of up-time a stretch of an up-window was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpKind {
    /// Started by the schedule, inside business hours.
    Scheduled,
    /// Started outside the schedule (a push, `stagingctl up`).
    OnDemand,
    /// Kept up past business hours (a hold, a deferred teardown) after a scheduled start.
    Held,
}

/// A stretch of one day's up-time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySpan {
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub to: DateTime<Utc>,
    pub kind: UpKind,
}

/// A deployment, on the day it finished.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayDeploy {
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub finished_at: DateTime<Utc>,
    pub sha: String,
    pub kind: Option<DeployKind>,
    pub status: DeploymentStatus,
    /// Dispatch to finish (the run's own duration when GitHub said).
    pub minutes: Option<f64>,
}

/// An outage (health unhealthy), clipped to the day or the month where it is shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outage {
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub from: DateTime<Utc>,
    /// `None`: not over when the figures were taken.
    #[serde(serialize_with = "crate::month::opt_rfc3339_z")]
    pub to: Option<DateTime<Utc>>,
    pub minutes: f64,
}

/// One day of the calendar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    /// The day's first instant and the next day's (23 or 25 hours apart across DST).
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub to: DateTime<Utc>,
    pub working_day: bool,
    pub up: Vec<DaySpan>,
    pub deploys: Vec<DayDeploy>,
    pub outages: Vec<Outage>,
    /// The day's cost (the bill's when Cost Explorer has the day, else the model's).
    pub cost_gbp: f64,
    /// The month's cost up to the end of this day.
    pub cumulative_gbp: f64,
    /// The day is after `through` (no figures yet).
    pub future: bool,
}

/// Deployment durations of one kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindDurations {
    pub kind: DeployKind,
    pub count: u32,
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
    pub target_minutes: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployments {
    /// Finished in the month: succeeded + failed + cancelled.
    pub count: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub cancelled: u32,
    /// Succeeded / (succeeded + failed), in percent; cancelled runs (superseded) do not
    /// count. `None` without one.
    pub success_rate: Option<f64>,
    /// Every kind, in [`DeployKind::ALL`] order, with or without deployments.
    pub by_kind: Vec<KindDurations>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpHours {
    pub scheduled: f64,
    pub on_demand: f64,
    pub held: f64,
    pub total: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Availability {
    /// Business hours (working days, not holidays) in `[from, through)`.
    pub business_hours: f64,
    /// Outage hours inside them.
    pub outage_hours: f64,
    /// `100 × (1 − outage / business)`; `None` without business hours.
    pub percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetEvents {
    /// Budget alerts decided (entries from the budget topic).
    pub alerts: u32,
    pub locks: u32,
    pub unlocks: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    CostExplorer,
    Model,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthCost {
    pub source: CostSource,
    /// `[from, through)`.
    pub gbp: f64,
    pub usd: f64,
    /// The month's cost / deployments finished; `None` without one.
    pub per_deployment_gbp: Option<f64>,
    pub target_gbp: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lifecycle {
    /// Phase changes in the month.
    pub transitions: u32,
    /// Of them, made by anything but an operator.
    pub automated: u32,
    pub percent: Option<f64>,
}

/// One of the seed's targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// Stable key: `deploy_success_rate`, `full_deploy_minutes`, `backend_deploy_minutes`,
    /// `frontend_deploy_minutes`, `infrastructure_deploy_minutes`, `availability`,
    /// `mttr`, `cost_per_deployment`, `month_cost`, `automated_lifecycle`.
    pub key: &'static str,
    /// For people: "Deployment success rate".
    pub name: &'static str,
    /// For people: "> 99.5 %".
    pub target: String,
    /// For people: "100.0 % (12 of 12)", or "no data".
    pub value: String,
    /// `None`: no data to judge.
    pub met: Option<bool>,
}

/// The month's figures (`stagingctl report --month --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthReport {
    pub environment: String,
    /// `2026-11`.
    pub month: String,
    pub time_zone: String,
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub to: DateTime<Utc>,
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub through: DateTime<Utc>,
    /// Decisions recorded in the month.
    pub decisions: u32,
    pub deployments: Deployments,
    pub up_hours: UpHours,
    pub availability: Availability,
    pub outages: Vec<Outage>,
    pub mttr_minutes: Option<f64>,
    pub budget: BudgetEvents,
    pub cost: MonthCost,
    pub lifecycle: Lifecycle,
    /// The seed's targets, in the order of [`Target::key`]'s list.
    pub targets: Vec<Target>,
    pub days: Vec<Day>,
}

/// Serializes an optional instant as RFC 3339 in UTC with a `Z`, or null.
pub fn opt_rfc3339_z<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => crate::schedule::rfc3339_z(t, s),
        None => s.serialize_none(),
    }
}

/// What the month's figures are made of.
#[derive(Debug, Clone, Copy)]
pub struct MonthInput<'a> {
    /// The calendar month (in the business hours' time zone).
    pub month: crate::state::BudgetPeriod,
    /// The audit trail from at least 7 days before the month's first instant to its
    /// end, in any order (earlier entries say what was going on when the month began).
    pub entries: &'a [crate::history::Entry],
    /// The state now: the up-window still open, the outage not over.
    pub state: &'a crate::state::EnvironmentState,
    /// Cost Explorer's days, when it could be read.
    pub bill: Option<&'a crate::report::Bill>,
    pub model: &'a crate::cost::CostModel,
    pub config: &'a crate::config::Config,
    pub now: DateTime<Utc>,
}
