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
use crate::model::state::{DeploymentStatus, EnvironmentState, HealthStatus, Phase};
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
    /// The state now: the up-window still open, the outage not over.
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
        targets,
        days,
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
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::state::BudgetPeriod;
    use crate::report::cost::Component;
    use crate::report::daily::{Bill, ServiceCost};
    use DeploymentStatus::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn assert_close(got: f64, expected: f64, what: &str) {
        assert!(close(got, expected), "{what}: got {got}, expected {expected}");
    }

    fn assert_close_opt(got: Option<f64>, expected: Option<f64>, what: &str) {
        match (got, expected) {
            (Some(g), Some(e)) => assert_close(g, e, what),
            _ => assert_eq!(got, expected, "{what}"),
        }
    }

    /// Europe/London, 08:00–18:00 Mon–Fri (the defaults), `scale` teardown.
    fn london() -> Config {
        Config::from_lookup(|k| (k == "STAGING_TIME_ZONE").then(|| "Europe/London".to_string())).unwrap()
    }

    /// A task at $0.20 an hour while up, logs at $0.01 an hour always; £0.50 a dollar.
    fn model() -> CostModel {
        let component = |name: &str, hourly_usd, billing| Component {
            name: name.into(),
            hourly_usd,
            billing,
            basis: "test".into(),
        };
        CostModel {
            components: vec![
                component("task", 0.20, Billing::StopsWhenScaledToZero),
                component("logs", 0.01, Billing::AlwaysBills),
            ],
            gbp_per_usd: 0.5,
            target_gbp: 10.0,
        }
    }

    fn month(s: &str) -> BudgetPeriod {
        s.parse().unwrap()
    }

    fn entry(at: &str, source: Source, events: Vec<Event>) -> Entry {
        Entry {
            at: utc(at),
            source,
            who: "test".into(),
            input: "test input".into(),
            summary: "test decision".into(),
            actions: Vec::new(),
            errors: Vec::new(),
            version: Some(1),
            events,
        }
    }

    fn up(from: &str, to: &str, on_demand: bool) -> Event {
        Event::UpWindow { from: utc(from), to: utc(to), on_demand }
    }

    fn phase(from: Phase, to: Phase) -> Event {
        Event::Phase { from, to }
    }

    fn health(at: &str, from: HealthStatus, to: HealthStatus) -> Event {
        Event::Health { at: utc(at), from, to }
    }

    fn deploy(
        sha: &str,
        kind: Option<DeployKind>,
        status: DeploymentStatus,
        requested: &str,
        started: Option<&str>,
        finished: &str,
        run_secs: Option<i64>,
    ) -> Event {
        Event::Deployment {
            sha: sha.into(),
            kind,
            status,
            requested_at: utc(requested),
            started_at: started.map(utc),
            finished_at: utc(finished),
            run_secs,
        }
    }

    struct Case<'a> {
        month: &'a str,
        entries: &'a [Entry],
        state: &'a EnvironmentState,
        bill: Option<&'a Bill>,
        config: &'a Config,
        now: &'a str,
    }

    fn run(case: Case) -> MonthReport {
        let model = model();
        month_report(&MonthInput {
            month: month(case.month),
            entries: case.entries,
            state: case.state,
            bill: case.bill,
            model: &model,
            config: case.config,
            now: utc(case.now),
        })
    }

    fn down() -> EnvironmentState {
        EnvironmentState::new("staging")
    }

    fn day<'a>(r: &'a MonthReport, date: &str) -> &'a Day {
        let date: NaiveDate = date.parse().unwrap();
        r.days.iter().find(|d| d.date == date).unwrap()
    }

    fn met(r: &MonthReport) -> Vec<(&'static str, Option<bool>)> {
        r.targets.iter().map(|t| (t.key, t.met)).collect()
    }

    fn target<'a>(r: &'a MonthReport, key: &str) -> &'a Target {
        r.targets.iter().find(|t| t.key == key).unwrap()
    }

    const KEYS: [&str; 10] = [
        "deploy_success_rate",
        "full_deploy_minutes",
        "backend_deploy_minutes",
        "frontend_deploy_minutes",
        "infrastructure_deploy_minutes",
        "availability",
        "mttr",
        "cost_per_deployment",
        "month_cost",
        "automated_lifecycle",
    ];

    #[test]
    fn a_month_with_nothing_recorded_has_no_figures_but_its_cost() {
        let config = london();
        let state = down();
        let r = run(Case {
            month: "2026-11",
            entries: &[],
            state: &state,
            bill: None,
            config: &config,
            now: "2026-11-15T12:00:00.250Z",
        });
        assert_eq!(
            (r.month.as_str(), r.time_zone.as_str(), r.environment.as_str()),
            ("2026-11", "Europe/London", config.environment.as_str())
        );
        assert_eq!(
            (r.from, r.to, r.through),
            (utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"), utc("2026-11-15T12:00:00.250Z"))
        );
        assert_eq!(r.days.len(), 30);
        assert_eq!(r.days.iter().filter(|d| d.future).count(), 15, "16 to 30 November are to come");
        assert_eq!(r.days.iter().filter(|d| d.working_day).count(), 21);
        assert_eq!(r.decisions, 0);
        let d = &r.deployments;
        assert_eq!((d.count, d.succeeded, d.failed, d.cancelled, d.success_rate), (0, 0, 0, 0, None));
        let kinds: Vec<(DeployKind, u32, Option<f64>, Option<f64>)> =
            d.by_kind.iter().map(|k| (k.kind, k.count, k.median_minutes, k.p90_minutes)).collect();
        assert_eq!(kinds, DeployKind::ALL.map(|k| (k, 0, None, None)));
        assert_eq!(r.up_hours, UpHours { scheduled: 0.0, on_demand: 0.0, held: 0.0, total: 0.0 });
        // 2–6 and 9–13 November.
        assert_eq!(
            r.availability,
            Availability { since: r.from, business_hours: 100.0, outage_hours: 0.0, percent: None }
        );
        assert_eq!((r.outages.len(), r.mttr_minutes), (0, None));
        assert_eq!(r.budget, BudgetEvents { alerts: 0, locks: 0, unlocks: 0 });
        assert_eq!(r.lifecycle, Lifecycle { transitions: 0, automated: 0, percent: None });
        // The logs bill every hour: 14.5 days and a quarter second at $0.01.
        let hours = 14.5 * 24.0 + 0.25 / 3600.0;
        assert_eq!(r.cost.source, CostSource::Model);
        assert_close(r.cost.usd, 0.01 * hours, "usd so far");
        assert_close(r.cost.gbp, 0.005 * hours, "gbp so far");
        assert_eq!((r.cost.per_deployment_gbp, r.cost.target_gbp), (None, 10.0));
        assert_close(r.days.last().unwrap().cumulative_gbp, r.cost.gbp, "cumulative");
        assert!(r.days.iter().all(|d| d.up.is_empty() && d.deploys.is_empty() && d.outages.is_empty()));
        assert!(r.days.iter().filter(|d| d.future).all(|d| d.cost_gbp == 0.0));
        // Only the month's cost can be judged: the rest of the month under the schedule
        // (11 working days, 110 h of the task) takes it over £10.
        assert_eq!(r.targets.iter().map(|t| t.key).collect::<Vec<_>>(), KEYS);
        for t in &r.targets {
            match t.key {
                "month_cost" => {
                    assert_eq!(t.met, Some(false));
                    assert_eq!(t.value, "£1.74 so far, £14.60 projected");
                    assert_eq!(t.target, "< £10.00");
                }
                "mttr" => assert_eq!((t.value.as_str(), t.met), ("no outages", None)),
                _ => assert_eq!((t.value.as_str(), t.met), ("no data", None), "{}", t.key),
            }
        }
    }

    /// November 2026 (GMT all month, so local is UTC): two scheduled days, the second
    /// held to 20:00; a Saturday on demand; ten deployments; two outages; the budget.
    fn synthetic_november() -> Vec<Entry> {
        use DeployKind::*;
        use HealthStatus::*;
        use Phase::{Down, Stopping, Up};
        use Source::{Budget, Health as HealthCheck, Operator, Schedule, Webhook};
        vec![
            // Before the month: not counted.
            entry("2026-10-28T09:00:00.250Z", Budget, vec![]),
            entry(
                "2026-10-30T10:10:00.500Z",
                Webhook,
                vec![deploy(
                    "a0",
                    Some(Full),
                    Succeeded,
                    "2026-10-30T10:00:00.500Z",
                    None,
                    "2026-10-30T10:10:00.500Z",
                    Some(600),
                )],
            ),
            // Monday 2 November.
            entry("2026-11-02T08:00:00.250Z", Schedule, vec![phase(Down, Up)]),
            entry(
                "2026-11-02T09:12:01.250Z",
                Webhook,
                vec![deploy(
                    "a1",
                    Some(Full),
                    Succeeded,
                    "2026-11-02T09:00:00.250Z",
                    Some("2026-11-02T09:00:01.250Z"),
                    "2026-11-02T09:12:01.250Z",
                    Some(690),
                )],
            ),
            entry(
                "2026-11-02T10:05:00.500Z",
                HealthCheck,
                vec![health("2026-11-02T10:00:00.500Z", Healthy, Unhealthy)],
            ),
            entry(
                "2026-11-02T10:07:00.500Z",
                HealthCheck,
                vec![health("2026-11-02T10:07:00.500Z", Unhealthy, Healthy)],
            ),
            entry(
                "2026-11-02T10:14:00.750Z",
                Webhook,
                vec![deploy(
                    "a2",
                    Some(Full),
                    Succeeded,
                    "2026-11-02T09:59:00.250Z",
                    Some("2026-11-02T10:00:00.500Z"),
                    "2026-11-02T10:14:00.750Z",
                    None,
                )],
            ),
            entry(
                "2026-11-02T11:06:00.250Z",
                Webhook,
                vec![deploy(
                    "a5",
                    Some(Backend),
                    Succeeded,
                    "2026-11-02T11:00:00.250Z",
                    None,
                    "2026-11-02T11:06:00.250Z",
                    None,
                )],
            ),
            entry(
                "2026-11-02T18:00:00.250Z",
                Schedule,
                vec![phase(Up, Down), up("2026-11-02T08:00:00.250Z", "2026-11-02T18:00:00.250Z", false)],
            ),
            // Tuesday 3 November, held to 20:00.
            entry("2026-11-03T08:00:00.250Z", Schedule, vec![phase(Down, Up)]),
            entry(
                "2026-11-03T09:30:00.500Z",
                Webhook,
                vec![deploy(
                    "a3",
                    Some(Full),
                    Failed,
                    "2026-11-03T09:25:00.500Z",
                    None,
                    "2026-11-03T09:30:00.500Z",
                    Some(300),
                )],
            ),
            entry(
                "2026-11-03T10:04:00.500Z",
                Webhook,
                vec![deploy(
                    "a4",
                    Some(Backend),
                    Succeeded,
                    "2026-11-03T10:00:00.500Z",
                    None,
                    "2026-11-03T10:04:00.500Z",
                    Some(240),
                )],
            ),
            entry(
                "2026-11-03T10:20:00.500Z",
                Webhook,
                vec![deploy(
                    "a6",
                    Some(Backend),
                    Cancelled,
                    "2026-11-03T10:15:00.500Z",
                    None,
                    "2026-11-03T10:20:00.500Z",
                    None,
                )],
            ),
            entry(
                "2026-11-03T11:02:30.250Z",
                Webhook,
                vec![deploy(
                    "a7",
                    Some(Frontend),
                    Succeeded,
                    "2026-11-03T11:00:00.250Z",
                    None,
                    "2026-11-03T11:02:30.250Z",
                    Some(150),
                )],
            ),
            entry(
                "2026-11-03T12:09:00.750Z",
                Webhook,
                vec![deploy(
                    "a8",
                    Some(Infrastructure),
                    Succeeded,
                    "2026-11-03T12:00:00.750Z",
                    None,
                    "2026-11-03T12:09:00.750Z",
                    Some(540),
                )],
            ),
            entry(
                "2026-11-03T13:01:00.250Z",
                Webhook,
                vec![deploy(
                    "a9",
                    None,
                    Succeeded,
                    "2026-11-03T13:00:00.250Z",
                    None,
                    "2026-11-03T13:01:00.250Z",
                    Some(60),
                )],
            ),
            entry(
                "2026-11-03T14:10:00.250Z",
                Webhook,
                vec![deploy(
                    "a12",
                    Some(Full),
                    Succeeded,
                    "2026-11-03T14:00:00.250Z",
                    None,
                    "2026-11-03T14:10:00.250Z",
                    Some(600),
                )],
            ),
            // Not finished: ignored.
            entry(
                "2026-11-03T14:30:00.250Z",
                Webhook,
                vec![deploy(
                    "a10",
                    Some(Full),
                    InProgress,
                    "2026-11-03T14:30:00.250Z",
                    None,
                    "2026-11-03T14:30:00.250Z",
                    None,
                )],
            ),
            entry("2026-11-03T17:55:00.250Z", Operator, vec![]),
            // The health check saw the streak begin at 19:50; the teardown ends the outage.
            entry(
                "2026-11-03T19:55:00.250Z",
                HealthCheck,
                vec![health("2026-11-03T19:50:00.250Z", Healthy, Unhealthy)],
            ),
            entry(
                "2026-11-03T20:00:00.250Z",
                Schedule,
                vec![phase(Up, Stopping), up("2026-11-03T08:00:00.250Z", "2026-11-03T20:00:00.250Z", false)],
            ),
            entry("2026-11-03T20:00:05.500Z", Schedule, vec![phase(Stopping, Down)]),
            // Saturday 7 November, on demand.
            entry("2026-11-07T10:00:00.500Z", Operator, vec![phase(Down, Up)]),
            entry("2026-11-07T10:05:00.500Z", HealthCheck, vec![health("2026-11-07T10:05:00.500Z", Unknown, Healthy)]),
            entry(
                "2026-11-07T12:30:00.500Z",
                Schedule,
                vec![phase(Up, Down), up("2026-11-07T10:00:00.500Z", "2026-11-07T12:30:00.500Z", true)],
            ),
            // The budget.
            entry("2026-11-20T09:00:00.250Z", Budget, vec![Event::BudgetAlert]),
            // The same alert delivered again: answered "already handled", not counted.
            entry("2026-11-20T09:00:07.250Z", Budget, vec![]),
            entry(
                "2026-11-25T09:00:00.250Z",
                Budget,
                vec![Event::BudgetAlert, Event::BudgetLocked { reason: "actual over 100 %".into() }],
            ),
            entry("2026-11-26T10:00:00.250Z", Operator, vec![Event::BudgetUnlocked]),
            // After the month.
            entry("2026-12-01T08:00:00.250Z", Schedule, vec![phase(Down, Up)]),
        ]
    }

    #[test]
    fn a_synthetic_month_gives_every_figure_and_target() {
        let config = london();
        let state = down();
        let entries = synthetic_november();
        // The stored form gives the same figures.
        let stored: Vec<Entry> = serde_json::from_str(&serde_json::to_string(&entries).unwrap()).unwrap();
        assert_eq!(stored, entries);
        let r = run(Case {
            month: "2026-11",
            entries: &stored,
            state: &state,
            bill: None,
            config: &config,
            now: "2026-12-02T09:00:00.500Z",
        });
        // In any order.
        let reversed: Vec<Entry> = entries.iter().rev().cloned().collect();
        assert_eq!(
            run(Case {
                month: "2026-11",
                entries: &reversed,
                state: &state,
                bill: None,
                config: &config,
                now: "2026-12-02T09:00:00.500Z"
            }),
            r
        );

        assert_eq!(
            (r.from, r.to, r.through),
            (utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"))
        );
        assert_eq!(r.days.len(), 30);
        assert!(r.days.iter().all(|d| !d.future));
        assert_eq!(r.decisions, 27, "a redelivered alert is a decision too");

        // Deployments: 8 succeeded, 1 failed, 1 cancelled; the one in progress and October's ignored.
        let d = &r.deployments;
        assert_eq!((d.count, d.succeeded, d.failed, d.cancelled), (10, 8, 1, 1));
        assert_close_opt(d.success_rate, Some(100.0 * 8.0 / 9.0), "success rate");
        // Full: 10, 11.5 (run_secs 690), 14 min and a quarter second (dispatch to finish).
        let full_slow = 14.0 + 0.25 / 60.0;
        #[rustfmt::skip]
        let kinds: [(DeployKind, u32, f64, f64); 4] = [
            (DeployKind::Full, 3, 11.5, full_slow),
            (DeployKind::Backend, 2, 4.0, 6.0), // nearest rank: the median of two is the shorter
            (DeployKind::Frontend, 1, 2.5, 2.5),
            (DeployKind::Infrastructure, 1, 9.0, 9.0),
        ];
        assert_eq!(d.by_kind.len(), 4);
        for ((kind, count, median, p90), k) in kinds.into_iter().zip(&d.by_kind) {
            assert_eq!((k.kind, k.count, k.target_minutes), (kind, count, kind.target_minutes()));
            assert_close_opt(k.median_minutes, Some(median), &format!("{kind:?} median"));
            assert_close_opt(k.p90_minutes, Some(p90), &format!("{kind:?} p90"));
        }

        // Up-time: two scheduled days (the second held 2 h past 18:00) and 2.5 h on demand.
        let u = &r.up_hours;
        assert_close(u.scheduled, 2.0 * (36000.0 - 0.25) / 3600.0, "scheduled");
        assert_close(u.held, (0.25 + 7200.25) / 3600.0, "held");
        assert_close(u.on_demand, 2.5, "on demand");
        assert_close(u.total, 24.5, "total");

        // Outages: 7 min in business hours, 10 min ended by the teardown.
        let outages: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = r.outages.iter().map(|o| (o.from, o.to)).collect();
        assert_eq!(
            outages,
            [
                (utc("2026-11-02T10:00:00.500Z"), Some(utc("2026-11-02T10:07:00.500Z"))),
                (utc("2026-11-03T19:50:00.250Z"), Some(utc("2026-11-03T20:00:00.250Z"))),
            ]
        );
        assert_close(r.outages[0].minutes, 7.0, "first outage");
        assert_close(r.outages[1].minutes, 10.0, "second outage");
        assert_close_opt(r.mttr_minutes, Some(8.5), "mttr");
        // 21 working days of 10 hours; only the first outage is in them.
        assert_close(r.availability.business_hours, 210.0, "business hours");
        assert_close(r.availability.outage_hours, 7.0 / 60.0, "outage hours");
        assert_close_opt(r.availability.percent, Some(100.0 * (1.0 - (7.0 / 60.0) / 210.0)), "availability");

        assert_eq!(r.budget, BudgetEvents { alerts: 2, locks: 1, unlocks: 1 });
        assert_eq!((r.lifecycle.transitions, r.lifecycle.automated), (7, 6));
        assert_close_opt(r.lifecycle.percent, Some(600.0 / 7.0), "automated");

        // Cost: the task's 24.5 up-hours at $0.20 and the logs' 720 h at $0.01.
        assert_eq!(r.cost.source, CostSource::Model);
        assert_close(r.cost.usd, 4.9 + 7.2, "usd");
        assert_close(r.cost.gbp, 6.05, "gbp");
        assert_close_opt(r.cost.per_deployment_gbp, Some(0.605), "per deployment");
        #[rustfmt::skip]
        let costs = [
            ("2026-11-01", 0.12, 0.12),
            ("2026-11-02", 0.5 * (0.2 * 10.0 + 0.24), 1.24),
            ("2026-11-03", 0.5 * (0.2 * 12.0 + 0.24), 2.56),
            ("2026-11-07", 0.5 * (0.2 * 2.5 + 0.24), 0.12 * 4.0 + 1.12 + 1.32 + 0.37),
        ];
        for (date, cost, cumulative) in costs {
            assert_close(day(&r, date).cost_gbp, cost, date);
            assert_close(day(&r, date).cumulative_gbp, cumulative, date);
        }
        assert_close(r.days.last().unwrap().cumulative_gbp, r.cost.gbp, "cumulative at the end");

        // The calendar.
        let monday = day(&r, "2026-11-02");
        assert!(monday.working_day);
        assert_eq!(
            monday.up,
            [
                DaySpan {
                    from: utc("2026-11-02T08:00:00.250Z"),
                    to: utc("2026-11-02T18:00:00Z"),
                    kind: UpKind::Scheduled
                },
                DaySpan { from: utc("2026-11-02T18:00:00Z"), to: utc("2026-11-02T18:00:00.250Z"), kind: UpKind::Held },
            ]
        );
        let shas: Vec<&str> = monday.deploys.iter().map(|d| d.sha.as_str()).collect();
        assert_eq!(shas, ["a1", "a2", "a5"]);
        assert_close_opt(monday.deploys[1].minutes, Some(full_slow), "a2");
        assert_eq!(monday.outages, r.outages[..1]);
        let tuesday = day(&r, "2026-11-03");
        assert_eq!(
            tuesday.up[1],
            DaySpan { from: utc("2026-11-03T18:00:00Z"), to: utc("2026-11-03T20:00:00.250Z"), kind: UpKind::Held }
        );
        assert_eq!(tuesday.deploys.len(), 7, "a3, a4, a6, a7, a8, a9, a12");
        assert_eq!(tuesday.outages, r.outages[1..]);
        let saturday = day(&r, "2026-11-07");
        assert!(!saturday.working_day);
        assert_eq!(
            saturday.up,
            [DaySpan {
                from: utc("2026-11-07T10:00:00.500Z"),
                to: utc("2026-11-07T12:30:00.500Z"),
                kind: UpKind::OnDemand
            }]
        );

        // The targets.
        #[rustfmt::skip]
        let expected: [(&str, Option<bool>, &str); 10] = [
            ("deploy_success_rate", Some(false), "88.9 % (8 of 9; 1 cancelled)"),
            ("full_deploy_minutes", Some(true), "14.0 min (median 11.5, 3 deploys)"),
            ("backend_deploy_minutes", Some(false), "6.0 min (median 4.0, 2 deploys)"),
            ("frontend_deploy_minutes", Some(true), "2.5 min (median 2.5, 1 deploy)"),
            ("infrastructure_deploy_minutes", Some(false), "9.0 min (median 9.0, 1 deploy)"),
            ("availability", Some(true), "99.94 % (7.0 min down in 210.0 business hours)"),
            ("mttr", Some(true), "8.5 min (2 outages)"),
            ("cost_per_deployment", Some(false), ""),
            ("month_cost", Some(true), "£6.05"),
            ("automated_lifecycle", Some(false), "85.7 % (6 of 7)"),
        ];
        assert_eq!(met(&r), expected.map(|(k, m, _)| (k, m)));
        for (key, _, value) in expected.into_iter().filter(|e| !e.2.is_empty()) {
            assert_eq!(target(&r, key).value, value, "{key}");
        }
        assert!(target(&r, "cost_per_deployment").value.ends_with("(£6.05 over 10 deploys)"));
        let names: Vec<&str> = r.targets.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(
            names,
            [
                "> 99.5 %",
                "< 15 min (p90)",
                "≈ 5 min (p90)",
                "≈ 3 min (p90)",
                "≈ 8 min (p90)",
                "> 99.9 % in business hours",
                "< 10 min",
                "< £0.10",
                "< £10.00",
                "100 %"
            ]
        );
        // The JSON the CLI prints.
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["outages"][0]["from"], "2026-11-02T10:00:00.500Z");
        assert_eq!(json["days"][6]["up"][0]["kind"], "on_demand");
    }

    #[test]
    fn a_rolled_back_deployment_is_a_failure_in_the_rate_but_keeps_its_duration() {
        let config = london();
        let state = down();
        let entries = [
            entry("2026-11-01T00:00:00.250Z", Source::Schedule, vec![]),
            entry(
                "2026-11-02T09:04:00.500Z",
                Source::Webhook,
                vec![deploy(
                    "b1",
                    Some(DeployKind::Backend),
                    Succeeded,
                    "2026-11-02T09:00:00.500Z",
                    None,
                    "2026-11-02T09:04:00.500Z",
                    Some(240),
                )],
            ),
            entry(
                "2026-11-02T10:04:00.500Z",
                Source::Webhook,
                vec![deploy(
                    "b2",
                    Some(DeployKind::Backend),
                    Succeeded,
                    "2026-11-02T10:00:00.500Z",
                    None,
                    "2026-11-02T10:04:00.500Z",
                    Some(240),
                )],
            ),
            // b2 turned staging unhealthy: rolled back by the health check.
            entry(
                "2026-11-02T10:15:00.250Z",
                Source::Health,
                vec![Event::RolledBack { sha: "b2".into(), at: utc("2026-11-02T10:15:00.250Z") }],
            ),
        ];
        let r = run(Case {
            month: "2026-11",
            entries: &entries,
            state: &state,
            bill: None,
            config: &config,
            now: "2026-12-01T00:00:00.250Z",
        });
        let d = &r.deployments;
        assert_eq!((d.count, d.succeeded, d.failed, d.rolled_back), (2, 2, 0, 1));
        assert_close_opt(d.success_rate, Some(50.0), "one of two stood");
        assert_eq!(d.by_kind[1].count, 2, "both durations count: the run itself took 4 minutes");
        let day = r.days.iter().find(|d| d.date.to_string() == "2026-11-02").unwrap();
        assert_eq!(
            day.deploys.iter().map(|d| (d.sha.as_str(), d.rolled_back)).collect::<Vec<_>>(),
            [("b1", false), ("b2", true)]
        );
        assert_eq!(r.targets[0].value, "50.0 % (1 of 2; 1 rolled back)");
    }

    #[test]
    fn availability_is_measured_from_the_trails_first_entry_when_it_began_inside_the_month() {
        let config = london();
        let state = down();
        // Installed on Monday 23 November at 07:59:59.5; up 08:00–18:00 and 15 minutes out.
        let entries = [
            entry("2026-11-23T07:59:59.500Z", Source::Operator, vec![]),
            entry(
                "2026-11-23T18:00:00.250Z",
                Source::Schedule,
                vec![up("2026-11-23T08:00:00.250Z", "2026-11-23T18:00:00.250Z", false)],
            ),
            entry(
                "2026-11-23T11:10:00.500Z",
                Source::Health,
                vec![health("2026-11-23T11:05:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
            ),
            entry(
                "2026-11-23T11:25:00.500Z",
                Source::Health,
                vec![health("2026-11-23T11:20:00.500Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
            ),
        ];
        let r = run(Case {
            month: "2026-11",
            entries: &entries,
            state: &state,
            bill: None,
            config: &config,
            now: "2026-11-24T00:00:00.250Z",
        });
        let a = &r.availability;
        assert_eq!(a.since, utc("2026-11-23T07:59:59.500Z"), "not the 1st: nothing was known before");
        assert_close(a.business_hours, 10.0, "Monday's ten hours, not 15 working days'");
        assert_close(a.outage_hours, 0.25, "outage");
        assert_close(a.percent.unwrap(), 100.0 * (1.0 - 0.25 / 10.0), "percent");
        // With an entry before the month, the whole month is measured.
        let mut earlier = entries.to_vec();
        earlier.push(entry("2026-10-30T18:00:00.500Z", Source::Schedule, vec![]));
        let r = run(Case {
            month: "2026-11",
            entries: &earlier,
            state: &state,
            bill: None,
            config: &config,
            now: "2026-11-24T00:00:00.250Z",
        });
        assert_eq!(r.availability.since, r.from);
        assert_close(r.availability.business_hours, 160.0, "2–6, 9–13, 16–20 and 23 November");
    }

    #[test]
    fn a_month_across_the_autumn_clock_change_follows_local_time() {
        let config = london();
        let state = down();
        let entries = [
            // The trail reaches back before the month (the last teardown of September).
            entry("2026-09-30T17:00:00.500Z", Source::Schedule, vec![]),
            // Friday 23 October (BST: business hours 07:00–17:00 UTC), up from 07:30 to 18:30 local.
            entry(
                "2026-10-23T17:30:00.500Z",
                Source::Schedule,
                vec![up("2026-10-23T06:30:00.500Z", "2026-10-23T17:30:00.500Z", false)],
            ),
            entry(
                "2026-10-23T07:05:00.500Z",
                Source::Health,
                vec![health("2026-10-23T06:50:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
            ),
            entry(
                "2026-10-23T07:05:00.750Z",
                Source::Health,
                vec![health("2026-10-23T07:02:00.500Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
            ),
            // Over the night the clocks go back, on demand.
            entry(
                "2026-10-25T02:00:00.500Z",
                Source::Schedule,
                vec![up("2026-10-24T22:00:00.500Z", "2026-10-25T02:00:00.500Z", true)],
            ),
            // Monday 26 October (GMT: business hours 08:00–18:00 UTC), the same local times.
            entry(
                "2026-10-26T18:30:00.500Z",
                Source::Schedule,
                vec![up("2026-10-26T07:30:00.500Z", "2026-10-26T18:30:00.500Z", false)],
            ),
            entry(
                "2026-10-26T08:05:00.500Z",
                Source::Health,
                vec![health("2026-10-26T07:50:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
            ),
            entry(
                "2026-10-26T08:05:00.750Z",
                Source::Health,
                vec![health("2026-10-26T08:01:00.500Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
            ),
        ];
        let r = run(Case {
            month: "2026-10",
            entries: &entries,
            state: &state,
            bill: None,
            config: &config,
            now: "2026-11-05T12:00:00.250Z",
        });
        assert_eq!(
            (r.from, r.to, r.through),
            (utc("2026-09-30T23:00:00Z"), utc("2026-11-01T00:00:00Z"), utc("2026-11-01T00:00:00Z"))
        );
        assert_eq!(r.days.len(), 31);
        let length = |d: &Day| (d.to - d.from).num_hours();
        assert_eq!(r.days.iter().map(length).sum::<i64>(), 31 * 24 + 1);
        let sunday = day(&r, "2026-10-25");
        assert_eq!(
            (sunday.from, sunday.to, length(sunday)),
            (utc("2026-10-24T23:00:00Z"), utc("2026-10-26T00:00:00Z"), 25)
        );
        assert!(r.days.iter().filter(|d| d.date != sunday.date).all(|d| length(d) == 24));
        // 22 working days of 10 hours.
        assert_eq!(r.days.iter().filter(|d| d.working_day).count(), 22);
        assert_close(r.availability.business_hours, 220.0, "business hours");

        use UpKind::*;
        let span = |from: &str, to: &str, kind| DaySpan { from: utc(from), to: utc(to), kind };
        #[rustfmt::skip]
        let days: [(&str, Vec<DaySpan>); 4] = [
            ("2026-10-23", vec![
                span("2026-10-23T06:30:00.500Z", "2026-10-23T07:00:00Z", Held),
                span("2026-10-23T07:00:00Z", "2026-10-23T17:00:00Z", Scheduled),
                span("2026-10-23T17:00:00Z", "2026-10-23T17:30:00.500Z", Held),
            ]),
            ("2026-10-24", vec![span("2026-10-24T22:00:00.500Z", "2026-10-24T23:00:00Z", OnDemand)]),
            ("2026-10-25", vec![span("2026-10-24T23:00:00Z", "2026-10-25T02:00:00.500Z", OnDemand)]),
            ("2026-10-26", vec![
                span("2026-10-26T07:30:00.500Z", "2026-10-26T08:00:00Z", Held),
                span("2026-10-26T08:00:00Z", "2026-10-26T18:00:00Z", Scheduled),
                span("2026-10-26T18:00:00Z", "2026-10-26T18:30:00.500Z", Held),
            ]),
        ];
        for (date, spans) in days {
            assert_eq!(day(&r, date).up, spans, "{date}");
        }
        assert_close(r.up_hours.scheduled, 20.0, "scheduled");
        assert_close(r.up_hours.held, 2.0, "held");
        assert_close(r.up_hours.on_demand, 4.0, "on demand");
        // Of the 12- and 11-minute outages, 2 min 0.5 s and 1 min 0.5 s fall in business hours.
        assert_close(r.availability.outage_hours, 181.0 / 3600.0, "outage hours");
        assert_close_opt(r.availability.percent, Some(100.0 * (1.0 - 181.0 / 3600.0 / 220.0)), "availability");
        assert_close_opt(r.mttr_minutes, Some(11.5), "mttr");
        // The 25-hour day costs 25 hours of logs, and the task's 23:00 to 02:00:00.5 UTC.
        assert_close(sunday.cost_gbp, 0.5 * (0.01 * 25.0 + 0.2 * (3.0 + 0.5 / 3600.0)), "the long day's cost");
    }

    #[test]
    fn a_deployment_counts_on_the_local_day_and_in_the_month_it_finished() {
        let config = london();
        let state = down();
        let finished = |sha: &str, started: &str, done: &str| {
            entry(
                done,
                Source::Webhook,
                vec![deploy(sha, Some(DeployKind::Backend), Succeeded, started, Some(started), done, None)],
            )
        };
        let entries = [
            // Across local midnight in November (GMT).
            finished("midnight", "2026-11-10T23:55:00.250Z", "2026-11-11T00:07:00.250Z"),
            // Across October's last midnight: November's.
            finished("october", "2026-10-31T23:58:00.500Z", "2026-11-01T00:05:00.500Z"),
            // 00:05 on 1 July in BST is 23:05 UTC on 30 June: July's.
            finished("july", "2026-06-30T22:58:00.500Z", "2026-06-30T23:05:00.500Z"),
        ];
        let report = |m: &str| {
            run(Case {
                month: m,
                entries: &entries,
                state: &state,
                bill: None,
                config: &config,
                now: "2026-12-05T00:00:00.500Z",
            })
        };
        let shas = |r: &MonthReport, date: &str| day(r, date).deploys.iter().map(|d| d.sha.clone()).collect::<Vec<_>>();
        #[rustfmt::skip]
        let cases: &[(&str, u32, &[(&str, &[&str])])] = &[
            ("2026-11", 2, &[("2026-11-01", &["october"]), ("2026-11-10", &[]), ("2026-11-11", &["midnight"])]),
            ("2026-10", 0, &[("2026-10-31", &[])]),
            ("2026-07", 1, &[("2026-07-01", &["july"])]),
            ("2026-06", 0, &[("2026-06-30", &[])]),
        ];
        for (m, count, days) in cases {
            let r = report(m);
            assert_eq!(r.deployments.count, *count, "{m}");
            for (date, expected) in *days {
                assert_eq!(shas(&r, date), *expected, "{m} {date}");
            }
        }
        let november = report("2026-11");
        assert_close_opt(day(&november, "2026-11-11").deploys[0].minutes, Some(12.0), "midnight");
        assert_close_opt(day(&november, "2026-11-01").deploys[0].minutes, Some(7.0), "october");
        let july = report("2026-07");
        assert_eq!(july.from, utc("2026-06-30T23:00:00Z"));
        assert_close_opt(day(&july, "2026-07-01").deploys[0].minutes, Some(7.0), "july");
    }

    #[test]
    fn outages_begun_before_the_month_are_clipped_and_open_ones_run_to_now() {
        let config = london();
        let mut state = down();
        state.phase = Phase::Up;
        state.started_at = Some(utc("2026-11-16T08:00:00.250Z"));
        state.health.status = HealthStatus::Unhealthy;
        state.health.since = Some(utc("2026-11-16T09:00:00.500Z"));
        let now = "2026-11-16T09:30:00.750Z";
        let recorded = [
            entry(
                "2026-10-31T23:55:00.250Z",
                Source::Health,
                vec![health("2026-10-31T23:50:00.250Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
            ),
            entry(
                "2026-11-01T00:10:00.250Z",
                Source::Health,
                vec![health("2026-11-01T00:10:00.250Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
            ),
            entry(
                "2026-11-16T09:05:00.500Z",
                Source::Health,
                vec![health("2026-11-16T09:00:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
            ),
        ];
        // The same open outage when the trail holds its start, and when only the state does.
        for entries in [&recorded[..], &recorded[..2]] {
            let r = run(Case { month: "2026-11", entries, state: &state, bill: None, config: &config, now });
            assert_eq!(r.through, utc(now));
            let outages: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> =
                r.outages.iter().map(|o| (o.from, o.to)).collect();
            assert_eq!(
                outages,
                [
                    (utc("2026-11-01T00:00:00Z"), Some(utc("2026-11-01T00:10:00.250Z"))),
                    (utc("2026-11-16T09:00:00.500Z"), None)
                ]
            );
            assert_close(r.outages[0].minutes, 10.0 + 0.25 / 60.0, "clipped");
            assert_close(r.outages[1].minutes, 30.0 + 0.25 / 60.0, "open");
            // Only the ended one, unclipped: 20 minutes.
            assert_close_opt(r.mttr_minutes, Some(20.0), "mttr");
            assert_eq!(day(&r, "2026-11-01").outages, r.outages[..1]);
            assert_eq!(day(&r, "2026-11-16").outages, r.outages[1..]);
            // The open window runs to now, in business hours.
            assert_eq!(
                day(&r, "2026-11-16").up,
                [DaySpan { from: utc("2026-11-16T08:00:00.250Z"), to: utc(now), kind: UpKind::Scheduled }]
            );
            assert_close(r.up_hours.scheduled, 1.5 + 0.5 / 3600.0, "open window");
            // Ten working days, then 08:00 to now; the Sunday-midnight outage is outside them.
            let business = 101.5 + 0.75 / 3600.0;
            assert_close(r.availability.business_hours, business, "business hours");
            assert_close(r.availability.outage_hours, (30.0 * 60.0 + 0.25) / 3600.0, "outage hours");
            assert_eq!(target(&r, "mttr").value, "20.0 min (2 outages)");
            assert_eq!(target(&r, "mttr").met, Some(false));
        }
        // A teardown ends an outage the state alone knew of.
        let teardown = [entry("2026-11-16T09:20:00.500Z", Source::Operator, vec![phase(Phase::Up, Phase::Down)])];
        let r = run(Case { month: "2026-11", entries: &teardown, state: &state, bill: None, config: &config, now });
        assert_eq!(r.outages.iter().map(|o| o.to).collect::<Vec<_>>(), [Some(utc("2026-11-16T09:20:00.500Z"))]);
        assert_close_opt(r.mttr_minutes, Some(20.0), "ended by the teardown");
    }

    #[test]
    fn bill_days_replace_the_models_on_those_days() {
        let config = london();
        let state = down();
        let entries = [
            entry(
                "2026-11-02T18:00:00.250Z",
                Source::Schedule,
                vec![up("2026-11-02T08:00:00.250Z", "2026-11-02T18:00:00.250Z", false)],
            ),
            entry(
                "2026-11-03T18:00:00.250Z",
                Source::Schedule,
                vec![up("2026-11-03T08:00:00.250Z", "2026-11-03T18:00:00.250Z", false)],
            ),
        ];
        let service = |service: &str, usd| ServiceCost { service: service.into(), usd };
        let bill = Bill {
            days: vec![
                (
                    "2026-11-02".parse().unwrap(),
                    vec![service("AWS Fargate", 1.5), service("Elastic Load Balancing", 0.5)],
                ),
                // A row without a figure is no data: the model's.
                ("2026-11-03".parse().unwrap(), vec![]),
                // Not yet: a future day costs nothing.
                ("2026-11-20".parse().unwrap(), vec![service("AWS Fargate", 5.0)]),
            ],
        };
        let empty = Bill { days: vec![("2026-11-02".parse().unwrap(), vec![])] };
        let model_day = 0.5 * (0.2 * 10.0 + 0.01 * 24.0);
        #[rustfmt::skip]
        let cases: [(&str, Option<&Bill>, CostSource, f64); 3] = [
            ("with the bill", Some(&bill), CostSource::CostExplorer, 1.0),
            ("without", None, CostSource::Model, model_day),
            ("with an empty bill", Some(&empty), CostSource::Model, model_day),
        ];
        for (name, bill, source, monday) in cases {
            let r = run(Case {
                month: "2026-11",
                entries: &entries,
                state: &state,
                bill,
                config: &config,
                now: "2026-11-16T12:00:00.250Z",
            });
            assert_eq!(r.cost.source, source, "{name}");
            assert_close(day(&r, "2026-11-02").cost_gbp, monday, name);
            assert_close(day(&r, "2026-11-03").cost_gbp, model_day, name);
            assert_eq!(day(&r, "2026-11-20").cost_gbp, 0.0, "{name}");
            let sum: f64 = r.days.iter().map(|d| d.cost_gbp).sum();
            assert_close(r.cost.gbp, sum, name);
            assert_close(r.cost.usd * 0.5, sum, name);
            assert_close(r.days.last().unwrap().cumulative_gbp, sum, name);
        }
    }

    #[test]
    fn stack_mode_bills_what_stops_with_the_stack_for_the_up_hours_only() {
        let stack = Config::from_lookup(|k| match k {
            "STAGING_TIME_ZONE" => Some("Europe/London".into()),
            "STAGING_TEARDOWN" => Some("stack".into()),
            "STAGING_PAUSE_STACK" => Some("staging-pause".into()),
            _ => None,
        })
        .unwrap();
        let mut model = model();
        model.components.push(Component {
            name: "alb".into(),
            hourly_usd: 0.1,
            billing: Billing::StopsWithStack,
            basis: "test".into(),
        });
        let state = down();
        let entries = [entry(
            "2026-11-02T18:00:00.250Z",
            Source::Schedule,
            vec![up("2026-11-02T08:00:00.250Z", "2026-11-02T18:00:00.250Z", false)],
        )];
        for (config, alb_hours) in [(&stack, 10.0), (&london(), 24.0)] {
            let r = month_report(&MonthInput {
                month: month("2026-11"),
                entries: &entries,
                state: &state,
                bill: None,
                model: &model,
                config,
                now: utc("2026-12-01T00:00:00Z"),
            });
            assert_close(day(&r, "2026-11-02").cost_gbp, 0.5 * (0.2 * 10.0 + 0.01 * 24.0 + 0.1 * alb_hours), "alb");
        }
    }

    #[test]
    fn odd_inputs_give_figures_not_panics() {
        let config = london();
        let mut running = down();
        running.phase = Phase::Up;
        running.started_at = Some(DateTime::<Utc>::MIN_UTC);
        running.started_on_demand = true;
        running.health.status = HealthStatus::Unhealthy;
        running.health.since = Some(DateTime::<Utc>::MIN_UTC);
        let entries = [
            // A window ending before it began, a deployment finishing before it was
            // requested, a negative run, health the wrong way round.
            entry(
                "2026-11-05T12:00:00.500Z",
                Source::Schedule,
                vec![up("2026-11-05T12:00:00.500Z", "2026-11-05T08:00:00.500Z", false)],
            ),
            entry(
                "2026-11-05T12:00:00.500Z",
                Source::Webhook,
                vec![deploy(
                    "back",
                    None,
                    Succeeded,
                    "2026-11-05T12:00:00.500Z",
                    None,
                    "2026-11-05T11:00:00.500Z",
                    None,
                )],
            ),
            entry(
                "2026-11-05T12:00:00.500Z",
                Source::Webhook,
                vec![deploy(
                    "neg",
                    Some(DeployKind::Full),
                    Succeeded,
                    "2026-11-05T11:00:00.500Z",
                    None,
                    "2026-11-05T11:30:00.500Z",
                    Some(-5),
                )],
            ),
            entry(
                "2026-11-05T12:00:00.500Z",
                Source::Health,
                vec![health("2026-11-05T13:00:00.500Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
            ),
            entry(
                "2026-11-05T11:00:00.500Z",
                Source::Health,
                vec![health("2026-11-05T11:00:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
            ),
            // Two windows overlapping: the time counts once.
            entry(
                "2026-11-06T12:00:00.500Z",
                Source::Schedule,
                vec![up("2026-11-06T09:00:00.500Z", "2026-11-06T12:00:00.500Z", false)],
            ),
            entry(
                "2026-11-06T13:00:00.500Z",
                Source::Schedule,
                vec![up("2026-11-06T11:00:00.500Z", "2026-11-06T13:00:00.500Z", false)],
            ),
        ];
        let months = [
            BudgetPeriod::new(0, 1).unwrap(),
            BudgetPeriod::new(i32::MAX, 12).unwrap(),
            BudgetPeriod::new(-5000, 3).unwrap(),
            month("9999-12"),
            month("2026-11"),
        ];
        let instants = [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            utc("2026-11-06T12:30:00.250Z"),
            utc("2026-10-01T00:00:00.5Z"),
        ];
        let model = model();
        for m in months {
            for now in instants {
                for state in [&down(), &running] {
                    for entries in [&entries[..], &[]] {
                        let r = month_report(&MonthInput {
                            month: m,
                            entries,
                            state,
                            bill: None,
                            model: &model,
                            config: &config,
                            now,
                        });
                        assert!(r.from <= r.through && r.through <= r.to, "{m} {now}");
                        assert_eq!(r.targets.len(), 10);
                    }
                }
            }
        }
        let r = month_report(&MonthInput {
            month: month("2026-11"),
            entries: &entries,
            state: &down(),
            bill: None,
            model: &model,
            config: &config,
            now: utc("2026-12-01T00:00:00Z"),
        });
        assert_eq!(r.deployments.count, 2);
        assert_eq!(r.deployments.by_kind[0].count, 0, "a negative run is no duration");
        assert!(r.deployments.by_kind.iter().all(|k| k.p90_minutes.is_none()));
        assert_eq!(r.days[4].deploys.iter().map(|d| d.minutes).collect::<Vec<_>>(), [None, None]);
        assert_close(r.up_hours.total, 4.0, "09:00 to 13:00 once");
        assert_eq!(
            r.outages.iter().map(|o| (o.from, o.to)).collect::<Vec<_>>(),
            [(utc("2026-11-05T11:00:00.500Z"), Some(utc("2026-11-05T13:00:00.500Z")))]
        );
        // A month not begun: every day to come, nothing spent.
        let r = month_report(&MonthInput {
            month: month("2026-12"),
            entries: &entries,
            state: &running,
            bill: None,
            model: &model,
            config: &config,
            now: utc("2026-11-06T12:30:00.250Z"),
        });
        assert!(r.days.iter().all(|d| d.future && d.cost_gbp == 0.0));
        assert_eq!((r.through, r.cost.gbp, r.outages.len()), (r.from, 0.0, 0));
    }

    #[test]
    fn a_recorded_window_wins_over_the_open_one_with_the_same_start() {
        let config = london();
        let mut state = down();
        state.phase = Phase::Up;
        state.started_at = Some(utc("2026-11-02T08:00:00.250Z"));
        let entries = [entry(
            "2026-11-02T09:00:00.250Z",
            Source::Schedule,
            vec![up("2026-11-02T08:00:00.250Z", "2026-11-02T09:00:00.250Z", false)],
        )];
        let r = run(Case {
            month: "2026-11",
            entries: &entries,
            state: &state,
            bill: None,
            config: &config,
            now: "2026-11-02T12:00:00.250Z",
        });
        assert_close(r.up_hours.total, 1.0, "the recorded hour, not four");
        let r = run(Case {
            month: "2026-11",
            entries: &[],
            state: &state,
            bill: None,
            config: &config,
            now: "2026-11-02T12:00:00.250Z",
        });
        assert_close(r.up_hours.scheduled, 4.0, "the open window");
    }

    #[test]
    fn nearest_rank_table() {
        #[rustfmt::skip]
        let cases: &[(&[f64], usize, Option<f64>)] = &[
            (&[], 50, None),
            (&[3.0], 50, Some(3.0)),
            (&[3.0], 90, Some(3.0)),
            (&[1.0, 2.0], 50, Some(1.0)),
            (&[1.0, 2.0], 90, Some(2.0)),
            (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90, Some(9.0)),
            (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0], 90, Some(10.0)),
        ];
        for (sorted, p, expected) in cases {
            assert_eq!(nearest_rank(sorted, *p), *expected, "{sorted:?} p{p}");
        }
    }
}
