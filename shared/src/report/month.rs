//! The month at a glance, pure: the seed's success figures computed from the audit
//! trail ([`crate::audit::Entry`]s and their [`Event`]s), each beside its target
//! with met / not met, and the month day by day for the calendar
//! (`stagingctl report --month`, `--json`, `--html`).
//!
//! The month is a calendar month in the business hours' time zone (the team's days);
//! every instant is UTC. Figures cover `[from, through)`, where `through` is the end of
//! the month or now, whichever is first. Every rule the figures follow is in
//! [`month_report`]'s documentation and nowhere else.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

use crate::audit::{DeployKind, Entry, Event, Source};
use crate::config::Teardown;
use crate::model::state::{DeploymentStatus, EnvironmentState, HealthStatus, Phase, WAKES_KEPT_DAYS};
use crate::report::cost::{Billing, CostModel};
use crate::schedule::BusinessHours;
use crate::time::seconds;

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
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub to: DateTime<Utc>,
    pub kind: UpKind,
}

/// A deployment, on the day it finished.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayDeploy {
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub finished_at: DateTime<Utc>,
    pub sha: String,
    pub kind: Option<DeployKind>,
    pub status: DeploymentStatus,
    /// Dispatch to finish (the run's own duration when GitHub said).
    pub minutes: Option<f64>,
    /// It succeeded, then was rolled back.
    #[serde(default)]
    pub rolled_back: bool,
}

/// An outage (health unhealthy), clipped to the day or the month where it is shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outage {
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub from: DateTime<Utc>,
    /// `None`: not over when the figures were taken.
    #[serde(serialize_with = "crate::time::opt_rfc3339_z")]
    pub to: Option<DateTime<Utc>>,
    pub minutes: f64,
}

/// One day of the calendar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    /// The day's first instant and the next day's (23 or 25 hours apart across DST).
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339_z")]
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
    /// Of the succeeded, rolled back since (they count as failures in the rate).
    pub rolled_back: u32,
    /// (Succeeded − rolled back) / (succeeded + failed), in percent; cancelled runs
    /// (superseded) do not count. `None` without one.
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
    /// Where the measure begins: the month's first instant, or the audit trail's first
    /// entry when the trail began inside the month (before it nothing is known).
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub since: DateTime<Utc>,
    /// Business hours (working days, not holidays) in `[since, through)`.
    pub business_hours: f64,
    /// Outage hours inside them.
    pub outage_hours: f64,
    /// `100 × (1 − outage / business)`; `None` without business hours.
    pub percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetEvents {
    /// Budget alerts handled (each once, however often SNS delivered it).
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

/// The front door's wakes in the month (see [`month_report`]'s **Wakes**).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Wakes {
    /// Where the wakes are known from: the month's first instant, or
    /// [`WAKES_KEPT_DAYS`] before now when that is later (the state forgets older wakes).
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub since: DateTime<Utc>,
    /// Wakes requested in `[since, through)`.
    pub count: u32,
    /// Of them, from a deleted pause stack (a deep sleep).
    pub from_deep_sleep: u32,
    /// Of them, seen ready (a requested → ready time known).
    pub ready: u32,
    /// Requested → ready, seconds, by nearest rank; `None` without a ready wake.
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    /// Of them, ended before the end of the hold they placed (an idle stop; `down` or a
    /// budget lock end one early too).
    pub ended_early: u32,
    /// The hold those did not use: the sum of `held_until − ended_at`.
    pub hours_saved: f64,
}

impl Wakes {
    /// For people: `4 wakes (1 from a deep sleep), requested → ready median 72 s, p90
    /// 9.5 min (3 ready); 3.5 h saved by idle stops (2 wakes ended early)`.
    pub fn summary(&self) -> String {
        if self.count == 0 {
            return "no wakes".into();
        }
        let mut text = plural(self.count, "wake", "wakes");
        if self.from_deep_sleep > 0 {
            text.push_str(&format!(" ({} from a deep sleep)", self.from_deep_sleep));
        }
        match (self.median_seconds, self.p90_seconds) {
            (Some(median), Some(p90)) => text.push_str(&format!(
                ", requested → ready median {}, p90 {} ({} ready)",
                wake_time(median),
                wake_time(p90),
                self.ready
            )),
            _ => text.push_str(", none seen ready"),
        }
        text.push_str(&format!(
            "; {:.1} h saved by idle stops ({} ended early)",
            self.hours_saved,
            plural(self.ended_early, "wake", "wakes")
        ));
        text
    }
}

/// A wake's requested → ready for people: `72 s`, `9.5 min`.
pub fn wake_time(seconds: f64) -> String {
    if seconds < 90.0 { format!("{seconds:.0} s") } else { format!("{:.1} min", seconds / 60.0) }
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
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub to: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339_z")]
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
    /// The front door's wakes.
    pub wakes: Wakes,
    /// The seed's targets, in the order of [`Target::key`]'s list.
    pub targets: Vec<Target>,
    pub days: Vec<Day>,
}

/// What the month's figures are made of.
#[derive(Debug, Clone, Copy)]
pub struct MonthInput<'a> {
    /// The calendar month (in the business hours' time zone).
    pub month: crate::model::state::BudgetPeriod,
    /// The audit trail from at least 7 days before the month's first instant to its
    /// end, in any order (earlier entries say what was going on when the month began).
    pub entries: &'a [crate::audit::Entry],
    /// The state now: the up-window still open, the outage not over, and the front door's
    /// wakes (`state.wakes`, the last [`WAKES_KEPT_DAYS`] (35) days: the whole of the
    /// month just ended when it is reported in the first days of the next, by the 4th after
    /// a 31-day month; of a month further back, only its wakes since then).
    pub state: &'a crate::model::state::EnvironmentState,
    /// Cost Explorer's days, when it could be read.
    pub bill: Option<&'a crate::report::daily::Bill>,
    pub model: &'a crate::report::cost::CostModel,
    pub config: &'a crate::config::Config,
    pub now: DateTime<Utc>,
}

/// The month's figures, day by day and against the seed's targets.
///
/// Pure: no clock (time is `input.now`), no I/O, and no input makes it panic. The rules:
///
/// **The month.** The calendar month `input.month` in the business hours' time zone:
/// `from` is local midnight of the 1st, `to` local midnight of the next month's 1st (as
/// UTC instants; a midnight that falls in a DST gap moves forward, as
/// [`BusinessHours::instant`] does). `through = min(to, max(from, now))`; every figure
/// covers `[from, through)`. `days` holds every local date of the month, each from its
/// local midnight to the next (23 or 25 hours across a DST change), a working day when
/// the schedule has a window on it, and `future` when it begins at or after `through`
/// (a future day has no figures and costs nothing). A month whose dates cannot be
/// written (a year outside 1–9999) is empty: `from = to = through = now`, no days.
///
/// **Entries** may come in any order; they are sorted by `at`. `decisions` counts those
/// with `at` in `[from, through)`. Earlier ones only say what was going on when the
/// month began (an outage in progress).
///
/// **Up-time.** Every [`Event::UpWindow`] of every entry (one whose `to` is not after its
/// `from` is ignored), plus, when the state wants running and `state.started_at` is
/// before `through`, the window still open, `[started_at, through)`, on demand when the
/// start was (a recorded window with the same `from` wins over it). Windows are clipped
/// to `[from, through)`; where two overlap, the time counts once, for the one that began
/// first. An on-demand window is [`UpKind::OnDemand`] throughout; any other is
/// [`UpKind::Scheduled`] inside the schedule's windows and [`UpKind::Held`] outside them.
/// Each day's `up` is the spans clipped to the day.
///
/// **Deployments.** [`Event::Deployment`]s that finished in `[from, through)`, shown on
/// the local day they finished; pending and in-progress ones are ignored. Its minutes:
/// `run_secs / 60` when GitHub said, else finish − dispatch (− request when never
/// dispatched), to the microsecond; a negative duration is unknown (`None`).
/// A succeeded deployment whose sha an [`Event::RolledBack`] names (anywhere in the
/// entries given) is `rolled_back`: it counts as a failure in the rate, and its
/// duration still counts.
/// `success_rate = 100 × (succeeded − rolled back) / (succeeded + failed)` (cancelled runs were
/// superseded), `None` when that is 0 / 0. Durations per [`DeployKind`] are the
/// succeeded deployments of that kind with a known duration; the median and the p90 are
/// by nearest rank: the ⌈p × n⌉-th of the n sorted minutes (so the median of two is the
/// shorter). A deployment without a kind counts in the totals only.
///
/// **Outages.** On a timeline of health changes (at their own `at`) and phase changes
/// (at their entry's `at`), an outage begins when health turns unhealthy (not already
/// in one) and ends at the first later health change to anything else, or at the first
/// phase change to stopping or down (planned downtime ends it), whichever comes first.
/// When the state says unhealthy since an instant at which the trail records no such
/// change (it fell before the trail began), an outage begins then too. An outage with
/// no end has `to: None` and is counted up to `through`; one ending at the instant it
/// began is dropped. `outages` lists those overlapping `[from, through)`, clipped to it
/// (an end after `through` shows as `through`). `mttr_minutes` is the mean unclipped
/// length of the outages that ended in `(from, through]`; `None` without one.
///
/// **Availability.** From `since`: the month's first instant, or the first entry's when
/// no entry comes before the month (the trail began inside it; `stagingctl` reads a
/// week before the month, so a trail that merely paused for a quiet week counts as
/// begun). `business_hours`: the schedule's windows in `[since, through)`;
/// `outage_hours`: outage time inside them; `percent = 100 × (1 − outage / business)`,
/// `None` when there are no business hours, or when the trail says nothing at all about
/// the month's service (no up-time and no outage): a silent trail is not 100 %.
///
/// **Budget.** `alerts`: [`Event::BudgetAlert`]s in the month (an alert handled for the
/// first time; a redelivery is not counted); `locks` and
/// `unlocks`: [`Event::BudgetLocked`] and [`Event::BudgetUnlocked`] in the month.
///
/// **Wakes.** From `state.wakes` (the audit trail does not carry them), which holds the
/// last [`WAKES_KEPT_DAYS`] days: `since = min(through, max(from, now − WAKES_KEPT_DAYS
/// days))`, and the wakes counted are those requested in `[since, through)` (a wake
/// older than `since` that the state still holds is not counted: the figure covers a
/// span in which every wake is known). `from_deep_sleep` counts those from a deleted
/// pause stack. Requested → ready: for each with `ready_at` not before `requested_at`,
/// the seconds between (to the microsecond); the median and the p90 by nearest rank, as
/// for deployments; `None` without one. `ended_early`: those with `ended_at` before
/// `held_until`; `hours_saved` sums, for each, `held_until − max(ended_at,
/// requested_at)`: the hold an idle stop did not use (only the idle stop sets `ended_at`;
/// a `down` or a budget lock ending a wake's hold is not counted as saved).
///
/// **Lifecycle.** `transitions`: [`Event::Phase`] in the month; `automated`: those whose
/// entry is not from [`Source::Operator`]; `percent` is `None` without transitions.
///
/// **Cost.** Each past day (cut at `through`) is billed by the model: per component,
/// `hourly_usd ×` the day's up-hours when it [`Billing::StopsWhenScaledToZero`], or
/// [`Billing::StopsWithStack`] in `stack` teardown mode; every hour of the day when it
/// stops with the stack in `scale` mode, or [`Billing::AlwaysBills`]. When the bill has a
/// row for the day's local date with at least one service (Cost Explorer's days are UTC;
/// an empty row is no data), the day costs the bill's sum instead, and `cost.source` is
/// [`CostSource::CostExplorer`] if any day did. Pounds are dollars × `gbp_per_usd`.
/// `per_deployment_gbp = gbp / deployments.count`, `None` without deployments.
///
/// **Targets**, in [`Target::key`]'s order; `met: None` with `value: "no data"` when
/// there is nothing to judge:
/// - `deploy_success_rate`: met when the rate is above 99.5 %;
/// - `<kind>_deploy_minutes`: met when the kind's p90 is at most its target minutes;
/// - `availability`: met when the percent is above 99.9;
/// - `mttr`: met under 10 minutes ("no outages" when there were none);
/// - `cost_per_deployment`: met under £0.10;
/// - `month_cost`: met under `model.target_gbp`; for a month not over, judged on the
///   projection: the cost so far plus the model's `[through, to)` under the schedule
///   (billed as above, with the schedule's windows as the up-time);
/// - `automated_lifecycle`: met when every transition was automated.
pub fn month_report(input: &MonthInput) -> MonthReport {
    let config = input.config;
    let hours = &config.business_hours;
    let calendar = Calendar::of(input.month, hours, input.now);
    let Calendar { from, to, through, .. } = calendar;
    let in_month = |t: DateTime<Utc>| from <= t && t < through;

    let mut entries: Vec<&Entry> = input.entries.iter().collect();
    entries.sort_by_key(|e| e.at);
    let month_entries: Vec<&Entry> = entries.iter().copied().filter(|e| in_month(e.at)).collect();

    let spans = up_spans(&entries, input.state, hours, from, through);
    let deploys = finished_deployments(&entries, from, through);
    let all_outages = outages(&entries, input.state);
    let month_outages: Vec<Outage> = all_outages.iter().filter_map(|o| o.clipped(from, through, through)).collect();

    let stack_mode = matches!(config.teardown, Teardown::Stack(_));
    let Costed { days, usd: month_usd, source: cost_source } =
        days(input, &calendar, &spans, &deploys, &month_outages, stack_mode);
    let up_hours = up_hours(&spans);
    let deployments = deployments(&deploys);
    let mttr_minutes = mttr_minutes(&all_outages, from, through);
    let availability = availability(&entries, hours, &calendar, &spans, &month_outages);
    let budget = budget_events(&month_entries);
    let lifecycle = lifecycle(&month_entries);
    let wakes = wakes(input.state, &calendar, input.now);
    let (cost, projected_gbp) = cost(input, &calendar, month_usd, cost_source, deployments.count, stack_mode);

    let targets = targets(&deployments, &availability, &month_outages, mttr_minutes, &cost, projected_gbp, &lifecycle);
    MonthReport {
        environment: config.environment.clone(),
        month: input.month.to_string(),
        time_zone: hours.time_zone.name().to_string(),
        from,
        to,
        through,
        decisions: month_entries.len() as u32,
        deployments,
        up_hours,
        availability,
        outages: month_outages,
        mttr_minutes,
        budget,
        cost,
        lifecycle,
        wakes,
        targets,
        days,
    }
}

/// Wakes: the month's, since the state knows them (see [`month_report`]'s **Wakes**).
fn wakes(state: &EnvironmentState, calendar: &Calendar, now: DateTime<Utc>) -> Wakes {
    let (from, through) = (calendar.from, calendar.through);
    let kept_from = now.checked_sub_signed(chrono::Duration::days(WAKES_KEPT_DAYS)).unwrap_or(from);
    let since = from.max(kept_from).min(through);
    let month: Vec<&crate::model::state::Wake> =
        state.wakes.iter().filter(|w| since <= w.requested_at && w.requested_at < through).collect();
    let mut ready: Vec<f64> =
        month.iter().filter_map(|w| w.wake_time()).filter(|d| *d >= chrono::Duration::zero()).map(seconds).collect();
    ready.sort_by(f64::total_cmp);
    let early: Vec<f64> = month
        .iter()
        .filter_map(|w| w.ended_at.filter(|end| *end < w.held_until).map(|end| (w, end)))
        .map(|(w, end)| hours_between(end.max(w.requested_at), w.held_until))
        .collect();
    Wakes {
        since,
        count: month.len() as u32,
        from_deep_sleep: month.iter().filter(|w| w.from_deep_sleep).count() as u32,
        ready: ready.len() as u32,
        median_seconds: nearest_rank(&ready, 50),
        p90_seconds: nearest_rank(&ready, 90),
        ended_early: early.len() as u32,
        hours_saved: early.into_iter().fold(0.0, add),
    }
}

/// The calendar's days with their up-time, deployments, outages and cost, and what the
/// month cost so far.
struct Costed {
    days: Vec<Day>,
    /// The days' cost in dollars, `[from, through)`.
    usd: f64,
    source: CostSource,
}

/// Days: each date of the month with its share of the up-time, deployments and outages,
/// billed (see [`month_report`]'s **Cost**).
fn days(
    input: &MonthInput,
    calendar: &Calendar,
    spans: &[DaySpan],
    deploys: &[DayDeploy],
    month_outages: &[Outage],
    stack_mode: bool,
) -> Costed {
    let hours = &input.config.business_hours;
    let through = calendar.through;
    let mut cost_source = CostSource::Model;
    let mut cumulative_gbp = 0.0;
    let mut month_usd = 0.0;
    let mut days = Vec::with_capacity(calendar.days.len());
    for &(date, day_from, day_to) in &calendar.days {
        let future = day_from >= through;
        let end = day_to.min(through);
        let clip = |a: DateTime<Utc>, b: DateTime<Utc>| {
            let (a, b) = (a.max(day_from), b.min(end));
            (a < b).then_some((a, b))
        };
        let up: Vec<DaySpan> = if future {
            Vec::new()
        } else {
            spans
                .iter()
                .filter_map(|s| clip(s.from, s.to).map(|(from, to)| DaySpan { from, to, kind: s.kind }))
                .collect()
        };
        let day_deploys: Vec<DayDeploy> =
            deploys.iter().filter(|d| day_from <= d.finished_at && d.finished_at < day_to).cloned().collect();
        let day_outages: Vec<Outage> = if future {
            Vec::new()
        } else {
            month_outages.iter().filter_map(|o| o.clipped(day_from, day_to, through)).collect()
        };
        let usd = if future {
            0.0
        } else {
            let billed =
                input.bill.and_then(|bill| bill.days.iter().find(|(d, services)| *d == date && !services.is_empty()));
            match billed {
                Some((_, services)) => {
                    cost_source = CostSource::CostExplorer;
                    services.iter().map(|s| s.usd).fold(0.0, add)
                }
                None => {
                    let up_hours: f64 = up.iter().map(|s| hours_between(s.from, s.to)).fold(0.0, add);
                    model_usd(input.model, stack_mode, hours_between(day_from, end), up_hours)
                }
            }
        };
        month_usd += usd;
        let cost_gbp = usd * input.model.gbp_per_usd;
        cumulative_gbp += cost_gbp;
        days.push(Day {
            date,
            from: day_from,
            to: day_to,
            working_day: hours.window_on(date).is_some(),
            up,
            deploys: day_deploys,
            outages: day_outages,
            cost_gbp,
            cumulative_gbp,
            future,
        });
    }
    Costed { days, usd: month_usd, source: cost_source }
}

/// Up-hours: the spans' hours by kind.
fn up_hours(spans: &[DaySpan]) -> UpHours {
    let sum_kind =
        |kind: UpKind| spans.iter().filter(|s| s.kind == kind).map(|s| hours_between(s.from, s.to)).fold(0.0, add);
    let (scheduled, on_demand, held) =
        (sum_kind(UpKind::Scheduled), sum_kind(UpKind::OnDemand), sum_kind(UpKind::Held));
    UpHours { scheduled, on_demand, held, total: scheduled + on_demand + held }
}

/// Deployments: counted by status, the success rate, and the durations by kind.
fn deployments(deploys: &[DayDeploy]) -> Deployments {
    let count_status = |status: DeploymentStatus| deploys.iter().filter(|d| d.status == status).count() as u32;
    let (succeeded, failed, cancelled) = (
        count_status(DeploymentStatus::Succeeded),
        count_status(DeploymentStatus::Failed),
        count_status(DeploymentStatus::Cancelled),
    );
    let judged = succeeded + failed;
    let rolled_back = deploys.iter().filter(|d| d.rolled_back).count() as u32;
    let by_kind = DeployKind::ALL
        .iter()
        .map(|&kind| {
            let mut minutes: Vec<f64> = deploys
                .iter()
                .filter(|d| d.kind == Some(kind) && d.status == DeploymentStatus::Succeeded)
                .filter_map(|d| d.minutes)
                .collect();
            minutes.sort_by(f64::total_cmp);
            KindDurations {
                kind,
                count: minutes.len() as u32,
                median_minutes: nearest_rank(&minutes, 50),
                p90_minutes: nearest_rank(&minutes, 90),
                target_minutes: kind.target_minutes(),
            }
        })
        .collect();
    Deployments {
        count: succeeded + failed + cancelled,
        succeeded,
        failed,
        cancelled,
        rolled_back,
        success_rate: (judged > 0).then(|| 100.0 * f64::from(succeeded - rolled_back) / f64::from(judged)),
        by_kind,
    }
}

/// The mean length of the outages that ended in `(from, through]`.
fn mttr_minutes(all_outages: &[Outage], from: DateTime<Utc>, through: DateTime<Utc>) -> Option<f64> {
    let ended: Vec<f64> = all_outages
        .iter()
        .filter_map(|o| o.to.filter(|&end| from < end && end <= through).map(|end| minutes_between(o.from, end)))
        .collect();
    (!ended.is_empty()).then(|| ended.iter().sum::<f64>() / ended.len() as f64)
}

/// Availability: the month's outages inside its business hours, since the trail knows.
fn availability(
    entries: &[&Entry],
    hours: &BusinessHours,
    calendar: &Calendar,
    spans: &[DaySpan],
    month_outages: &[Outage],
) -> Availability {
    let (from, through) = (calendar.from, calendar.through);
    // The trail began inside the month (nothing before `from` among the entries, which
    // reach back a week): the hours before its first entry are not known, not available.
    let since = match entries.first() {
        Some(first) if first.at > from => first.at.min(through),
        _ => from,
    };
    let business = hours.windows(since, through);
    let business_hours: f64 = business.iter().map(|w| hours_between(w.start, w.end)).fold(0.0, add);
    let outage_hours: f64 = month_outages
        .iter()
        .flat_map(|o| {
            business.iter().map(move |w| hours_between(o.from.max(w.start), o.to.unwrap_or(through).min(w.end)))
        })
        .fold(0.0, add);
    let silent = spans.is_empty() && month_outages.is_empty();
    Availability {
        since,
        business_hours,
        outage_hours,
        percent: (business_hours > 0.0 && !silent).then(|| 100.0 * (1.0 - outage_hours / business_hours)),
    }
}

/// How many of the month's events `matches`.
fn count_events(month_entries: &[&Entry], matches: impl Fn(&Entry, &Event) -> bool) -> u32 {
    month_entries.iter().flat_map(|e| e.events.iter().map(move |ev| (*e, ev))).filter(|(e, ev)| matches(e, ev)).count()
        as u32
}

/// Budget: the month's alerts, locks and unlocks.
fn budget_events(month_entries: &[&Entry]) -> BudgetEvents {
    BudgetEvents {
        alerts: count_events(month_entries, |_, ev| matches!(ev, Event::BudgetAlert)),
        locks: count_events(month_entries, |_, ev| matches!(ev, Event::BudgetLocked { .. })),
        unlocks: count_events(month_entries, |_, ev| matches!(ev, Event::BudgetUnlocked)),
    }
}

/// Lifecycle: the month's phase changes, and how many were automated.
fn lifecycle(month_entries: &[&Entry]) -> Lifecycle {
    let transitions = count_events(month_entries, |_, ev| matches!(ev, Event::Phase { .. }));
    let automated =
        count_events(month_entries, |e, ev| matches!(ev, Event::Phase { .. }) && e.source != Source::Operator);
    Lifecycle {
        transitions,
        automated,
        percent: (transitions > 0).then(|| 100.0 * f64::from(automated) / f64::from(transitions)),
    }
}

/// Cost: the month's so far, and, for a month not over, its projection (the cost so far
/// plus the model's `[through, to)` under the schedule).
fn cost(
    input: &MonthInput,
    calendar: &Calendar,
    month_usd: f64,
    source: CostSource,
    deployments: u32,
    stack_mode: bool,
) -> (MonthCost, Option<f64>) {
    let hours = &input.config.business_hours;
    let (to, through) = (calendar.to, calendar.through);
    let gbp = month_usd * input.model.gbp_per_usd;
    let cost = MonthCost {
        source,
        gbp,
        usd: month_usd,
        per_deployment_gbp: (deployments > 0).then(|| gbp / f64::from(deployments)),
        target_gbp: input.model.target_gbp,
    };
    let projected_gbp = (through < to).then(|| {
        let rest_up: f64 = hours.windows(through, to).iter().map(|w| hours_between(w.start, w.end)).fold(0.0, add);
        gbp + model_usd(input.model, stack_mode, hours_between(through, to), rest_up) * input.model.gbp_per_usd
    });
    (cost, projected_gbp)
}

/// The month's bounds and its local dates, each with its first instant and the next's.
struct Calendar {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    through: DateTime<Utc>,
    days: Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)>,
}

impl Calendar {
    fn of(month: crate::model::state::BudgetPeriod, hours: &BusinessHours, now: DateTime<Utc>) -> Self {
        // Years 1–9999 keep every date and instant arithmetic below in chrono's range.
        let first = NaiveDate::from_ymd_opt(month.year(), month.month(), 1).filter(|d| (1..=9999).contains(&d.year()));
        let next = first.and_then(|d| d.checked_add_months(Months::new(1)));
        let (Some(first), Some(next)) = (first, next) else {
            return Self { from: now, to: now, through: now, days: Vec::new() };
        };
        let midnight = |date: NaiveDate| hours.instant(date, NaiveTime::MIN);
        let (from, to) = (midnight(first), midnight(next));
        let days = first
            .iter_days()
            .take_while(|d| *d < next)
            .map(|d| (d, midnight(d), midnight(d.checked_add_days(Days::new(1)).unwrap_or(next))))
            .collect();
        Self { from, to, through: now.max(from).min(to), days }
    }
}

/// The month's first instant and the next month's (local midnights in the business
/// hours' time zone, as UTC): the span `stagingctl report --month` reads the trail for.
pub fn bounds(month: crate::model::state::BudgetPeriod, hours: &BusinessHours) -> (DateTime<Utc>, DateTime<Utc>) {
    let calendar = Calendar::of(month, hours, DateTime::<Utc>::MIN_UTC);
    (calendar.from, calendar.to)
}

/// `a + b`, for folds: a sum that starts from +0.0, as `Iterator::sum` of floats does not
/// (an empty sum is -0.0, which prints as "-0.0 h").
fn add(a: f64, b: f64) -> f64 {
    a + b
}

/// Hours from `a` to `b`; 0 when `b` is not after `a`.
fn hours_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    if b > a { seconds(b - a) / 3600.0 } else { 0.0 }
}

fn minutes_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    if b > a { seconds(b - a) / 60.0 } else { 0.0 }
}

/// The up-time in `[from, through)`, split by kind, in time order.
fn up_spans(
    entries: &[&Entry],
    state: &EnvironmentState,
    hours: &BusinessHours,
    from: DateTime<Utc>,
    through: DateTime<Utc>,
) -> Vec<DaySpan> {
    let mut windows: Vec<(DateTime<Utc>, DateTime<Utc>, bool)> = entries
        .iter()
        .flat_map(|e| &e.events)
        .filter_map(|ev| match ev {
            Event::UpWindow { from, to, on_demand } if from < to => Some((*from, *to, *on_demand)),
            _ => None,
        })
        .collect();
    if state.phase.wants_running()
        && let Some(started) = state.started_at
        && started < through
        && !windows.iter().any(|w| w.0 == started)
    {
        windows.push((started, through, state.started_on_demand));
    }
    windows.sort_by_key(|w| (w.0, w.1));
    let mut spans = Vec::new();
    let mut covered = from;
    for (start, end, on_demand) in windows {
        let (start, end) = (start.max(covered), end.min(through));
        if start >= end {
            continue;
        }
        covered = end;
        if on_demand {
            spans.push(DaySpan { from: start, to: end, kind: UpKind::OnDemand });
            continue;
        }
        let mut cursor = start;
        for w in hours.windows(start, end) {
            if w.start > cursor {
                spans.push(DaySpan { from: cursor, to: w.start, kind: UpKind::Held });
            }
            if w.start < w.end {
                spans.push(DaySpan { from: w.start.max(cursor), to: w.end, kind: UpKind::Scheduled });
            }
            cursor = cursor.max(w.end);
        }
        if cursor < end {
            spans.push(DaySpan { from: cursor, to: end, kind: UpKind::Held });
        }
    }
    spans
}

/// The deployments that finished in `[from, through)`, in the order they finished.
fn finished_deployments(entries: &[&Entry], from: DateTime<Utc>, through: DateTime<Utc>) -> Vec<DayDeploy> {
    let rolled_back: Vec<&str> = entries
        .iter()
        .flat_map(|e| &e.events)
        .filter_map(|ev| match ev {
            Event::RolledBack { sha, .. } => Some(sha.as_str()),
            _ => None,
        })
        .collect();
    let mut deploys: Vec<DayDeploy> = entries
        .iter()
        .flat_map(|e| &e.events)
        .filter_map(|ev| match ev {
            Event::Deployment { sha, kind, status, finished_at, .. }
                if status.is_finished() && from <= *finished_at && *finished_at < through =>
            {
                Some(DayDeploy {
                    finished_at: *finished_at,
                    sha: sha.clone(),
                    kind: *kind,
                    status: *status,
                    minutes: ev.deploy_seconds().map(|secs| secs / 60.0),
                    rolled_back: *status == DeploymentStatus::Succeeded && rolled_back.contains(&sha.as_str()),
                })
            }
            _ => None,
        })
        .collect();
    deploys.sort_by_key(|d| d.finished_at);
    // One deployment once, however often it was recorded finished (a redelivered run,
    // an entry written twice).
    deploys.dedup_by(|a, b| a.sha == b.sha && a.finished_at == b.finished_at && a.status == b.status);
    deploys
}

/// The ⌈p/100 × n⌉-th of `sorted` (nearest rank); `None` when it is empty.
fn nearest_rank(sorted: &[f64], p: usize) -> Option<f64> {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// What moves an outage on the timeline.
#[derive(Clone, Copy, PartialEq)]
enum Signal {
    Unhealthy,
    Recovered,
    PlannedDown,
}

/// Every outage the trail (and the state) tells of, unclipped, in time order.
fn outages(entries: &[&Entry], state: &EnvironmentState) -> Vec<Outage> {
    let mut signals: Vec<(DateTime<Utc>, Signal)> = Vec::new();
    for entry in entries {
        for ev in &entry.events {
            match ev {
                Event::Health { at, to, .. } => {
                    signals.push((
                        *at,
                        if *to == HealthStatus::Unhealthy { Signal::Unhealthy } else { Signal::Recovered },
                    ));
                }
                Event::Phase { to: Phase::Stopping | Phase::Down, .. } => signals.push((entry.at, Signal::PlannedDown)),
                _ => {}
            }
        }
    }
    if state.health.status == HealthStatus::Unhealthy
        && let Some(since) = state.health.since
        && !signals.contains(&(since, Signal::Unhealthy))
    {
        signals.push((since, Signal::Unhealthy));
    }
    signals.sort_by_key(|s| s.0);
    let mut found = Vec::new();
    let mut open: Option<DateTime<Utc>> = None;
    for (at, signal) in signals {
        match (open, signal) {
            (None, Signal::Unhealthy) => open = Some(at),
            (Some(began), Signal::Recovered | Signal::PlannedDown) => {
                if at > began {
                    found.push(Outage { from: began, to: Some(at), minutes: minutes_between(began, at) });
                }
                open = None;
            }
            _ => {}
        }
    }
    if let Some(began) = open {
        found.push(Outage { from: began, to: None, minutes: 0.0 });
    }
    found
}

impl Outage {
    /// The part of the outage in `[from, to)`, an open one counted up to `through`;
    /// `to` stays `None` where the outage is still open at the part's end.
    fn clipped(&self, from: DateTime<Utc>, to: DateTime<Utc>, through: DateTime<Utc>) -> Option<Outage> {
        let end = self.to.unwrap_or(through).min(through);
        let (a, b) = (self.from.max(from), end.min(to));
        (a < b).then(|| Outage {
            from: a,
            to: if self.to.is_none() && end <= to { None } else { Some(b) },
            minutes: minutes_between(a, b),
        })
    }
}

/// What the model bills for a span of `hours`, `up` of them up.
fn model_usd(model: &CostModel, stack_mode: bool, hours: f64, up: f64) -> f64 {
    model
        .components
        .iter()
        .map(|c| {
            let billed = match c.billing {
                Billing::StopsWhenScaledToZero => up,
                Billing::StopsWithStack if stack_mode => up,
                Billing::StopsWithStack | Billing::AlwaysBills => hours,
            };
            c.hourly_usd * billed
        })
        .fold(0.0, add)
}

const NO_DATA: &str = "no data";

pub(crate) fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

fn pounds(gbp: f64) -> String {
    format!("£{gbp:.2}")
}

/// The seed's targets, judged (see [`month_report`]).
fn targets(
    deployments: &Deployments,
    availability: &Availability,
    outages: &[Outage],
    mttr_minutes: Option<f64>,
    cost: &MonthCost,
    projected_gbp: Option<f64>,
    lifecycle: &Lifecycle,
) -> Vec<Target> {
    let mut targets = Vec::with_capacity(10);
    targets.push(success_rate_target(deployments));
    targets.extend(deployments.by_kind.iter().map(duration_target));
    targets.push(availability_target(availability));
    targets.push(mttr_target(outages, mttr_minutes));
    targets.push(cost_per_deployment_target(cost, deployments));
    targets.push(month_cost_target(cost, projected_gbp));
    targets.push(lifecycle_target(lifecycle));
    targets
}

/// A value and whether it meets its target, or "no data".
fn judged(value: Option<(String, bool)>) -> (String, Option<bool>) {
    match value {
        Some((value, met)) => (value, Some(met)),
        None => (NO_DATA.to_string(), None),
    }
}

fn target(key: &'static str, name: &'static str, target: String, (value, met): (String, Option<bool>)) -> Target {
    Target { key, name, target, value, met }
}

fn success_rate_target(deployments: &Deployments) -> Target {
    target(
        "deploy_success_rate",
        "Deployment success rate",
        "> 99.5 %".into(),
        judged(deployments.success_rate.map(|rate| {
            let cancelled = match deployments.cancelled {
                0 => String::new(),
                n => format!("; {n} cancelled"),
            };
            let rolled_back = match deployments.rolled_back {
                0 => String::new(),
                n => format!("; {n} rolled back"),
            };
            let good = deployments.succeeded - deployments.rolled_back;
            (
                format!(
                    "{rate:.1} % ({good} of {}{rolled_back}{cancelled})",
                    deployments.succeeded + deployments.failed
                ),
                rate > 99.5,
            )
        })),
    )
}

fn duration_target(k: &KindDurations) -> Target {
    let (key, name, sign) = match k.kind {
        DeployKind::Full => ("full_deploy_minutes", "Full deployment time", "<"),
        DeployKind::Backend => ("backend_deploy_minutes", "Backend deployment time", "≈"),
        DeployKind::Frontend => ("frontend_deploy_minutes", "Frontend deployment time", "≈"),
        DeployKind::Infrastructure => ("infrastructure_deploy_minutes", "Infrastructure deployment time", "≈"),
    };
    let value = match (k.p90_minutes, k.median_minutes) {
        (Some(p90), Some(median)) => Some((
            format!("{p90:.1} min (median {median:.1}, {})", plural(k.count, "deploy", "deploys")),
            p90 <= k.target_minutes,
        )),
        _ => None,
    };
    target(key, name, format!("{sign} {} min (p90)", k.target_minutes), judged(value))
}

fn availability_target(availability: &Availability) -> Target {
    target(
        "availability",
        "Availability in business hours",
        "> 99.9 % in business hours".into(),
        judged(availability.percent.map(|p| {
            (
                format!(
                    "{p:.2} % ({:.1} min down in {:.1} business hours)",
                    availability.outage_hours * 60.0,
                    availability.business_hours
                ),
                p > 99.9,
            )
        })),
    )
}

fn mttr_target(outages: &[Outage], mttr_minutes: Option<f64>) -> Target {
    let mttr = match (mttr_minutes, outages.is_empty()) {
        (Some(m), _) => (format!("{m:.1} min ({})", plural(outages.len() as u64, "outage", "outages")), Some(m < 10.0)),
        (None, true) => ("no outages".to_string(), None),
        (None, false) => (format!("{}, not over", plural(outages.len() as u64, "outage", "outages")), None),
    };
    target("mttr", "Mean time to recovery", "< 10 min".into(), mttr)
}

fn cost_per_deployment_target(cost: &MonthCost, deployments: &Deployments) -> Target {
    target(
        "cost_per_deployment",
        "Cost per deployment",
        "< £0.10".into(),
        judged(cost.per_deployment_gbp.map(|per| {
            (
                format!(
                    "{} ({} over {})",
                    pounds(per),
                    pounds(cost.gbp),
                    plural(deployments.count, "deploy", "deploys")
                ),
                per < 0.10,
            )
        })),
    )
}

fn month_cost_target(cost: &MonthCost, projected_gbp: Option<f64>) -> Target {
    let month_cost = match projected_gbp {
        Some(projected) => {
            (format!("{} so far, {} projected", pounds(cost.gbp), pounds(projected)), projected < cost.target_gbp)
        }
        None => (pounds(cost.gbp), cost.gbp < cost.target_gbp),
    };
    target("month_cost", "Month's cost", format!("< {}", pounds(cost.target_gbp)), judged(Some(month_cost)))
}

fn lifecycle_target(lifecycle: &Lifecycle) -> Target {
    target(
        "automated_lifecycle",
        "Automated lifecycle",
        "100 %".into(),
        judged(lifecycle.percent.map(|p| {
            (
                format!("{p:.1} % ({} of {})", lifecycle.automated, lifecycle.transitions),
                lifecycle.automated == lifecycle.transitions,
            )
        })),
    )
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
