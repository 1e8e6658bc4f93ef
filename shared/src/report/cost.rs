//! The cost model: what each component of the staging stack costs, which of them stop
//! billing when the service is scaled to zero or when the pause stack is deleted, what a
//! month under a business-hours policy comes to beside the same month always on, and
//! what each way of running staging costs and how long it takes to wake.

use crate::model::observed::STACK_START_ASSUMED_SECS;
use std::fmt;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::state::{EnvironmentState, UP_WINDOW_DAYS};
use crate::schedule::BusinessHours;

/// AWS prices a month as 730 hours.
pub const HOURS_PER_PRICED_MONTH: f64 = 730.0;

/// What stops a component's bill: scaling the service to zero, deleting the pause
/// stack (`STAGING_TEARDOWN=stack`), or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// Billed only while the environment is up.
    StopsWhenScaledToZero,
    /// Billed while the pause stack exists: every hour in `scale` mode, only the
    /// up-hours in `stack` mode.
    StopsWithStack,
    /// Billed every hour whatever the service does.
    AlwaysBills,
}

/// One billed part of the stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    pub name: String,
    /// US dollars per hour while billed.
    pub hourly_usd: f64,
    pub billing: Billing,
    /// What the rate assumes.
    pub basis: String,
}

/// Rates, the exchange rate and the monthly target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostModel {
    pub components: Vec<Component>,
    pub gbp_per_usd: f64,
    pub target_gbp: f64,
}

impl Default for CostModel {
    /// On-demand list prices, us-east-1, as published by AWS and Neon in 2025.
    fn default() -> Self {
        use Billing::*;
        Self {
            components: vec![
                Component {
                    name: "fargate".into(),
                    hourly_usd: 0.25 * 0.04048 + 0.5 * 0.004445,
                    billing: StopsWhenScaledToZero,
                    basis: "1 task, 0.25 vCPU / 0.5 GB, Linux x86 ($0.04048 vCPU-h, $0.004445 GB-h)".into(),
                },
                Component {
                    name: "alb".into(),
                    hourly_usd: 0.0225,
                    billing: StopsWithStack,
                    basis: "Application Load Balancer hour; LCUs extra".into(),
                },
                Component {
                    name: "nat_gateway".into(),
                    hourly_usd: 0.045,
                    billing: StopsWithStack,
                    basis: "NAT Gateway hour; data processed extra".into(),
                },
                Component {
                    name: "redis".into(),
                    hourly_usd: 0.016,
                    billing: StopsWithStack,
                    basis: "ElastiCache cache.t4g.micro; it has no stop, but can be deleted and created again with the pause stack".into(),
                },
                Component {
                    name: "neon".into(),
                    hourly_usd: 0.0,
                    billing: StopsWhenScaledToZero,
                    basis: "Neon free plan; compute suspends itself when idle".into(),
                },
                Component {
                    name: "cloudwatch".into(),
                    hourly_usd: 0.50 / HOURS_PER_PRICED_MONTH,
                    billing: AlwaysBills,
                    basis: "about 1 GB of logs a month ($0.50/GB ingested)".into(),
                },
            ],
            gbp_per_usd: 0.79,
            target_gbp: 5.0,
        }
    }
}

impl CostModel {
    /// Measures the month against the deployed budget instead of the £5 target: in pounds at
    /// the model's rate for a budget in US dollars, as it is for one in pounds. A budget in
    /// any other currency cannot be converted here and leaves the target as it is (`false`).
    pub fn with_budget_target(mut self, budget: &crate::config::BudgetAmount) -> (Self, bool) {
        let target = match budget.currency.as_str() {
            "USD" => budget.amount * self.gbp_per_usd,
            "GBP" => budget.amount,
            _ => return (self, false),
        };
        self.target_gbp = target;
        (self, true)
    }
}

/// A rates file (`STAGING_COST_FILE`, `stagingctl cost --rates`): per component an
/// hourly or a monthly (730-hour) rate and what stops its bill.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatesFile {
    components: std::collections::BTreeMap<String, RateEntry>,
    #[serde(default)]
    gbp_per_usd: Option<f64>,
    #[serde(default)]
    target_gbp: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateEntry {
    #[serde(default)]
    hourly_usd: Option<f64>,
    #[serde(default)]
    monthly_usd: Option<f64>,
    /// `stops_at_zero`, `stops_with_stack` or `always`.
    billing: String,
    #[serde(default)]
    basis: Option<String>,
}

impl CostModel {
    /// Rates from a rates file; the exchange rate and the target are kept from `self`
    /// unless the file sets them. Errors name the component and what is wrong.
    pub fn with_rates_yaml(&self, yaml: &str) -> Result<Self, String> {
        let file: RatesFile = serde_yaml_ng::from_str(yaml).map_err(|e| format!("not a rates file: {e}"))?;
        if file.components.is_empty() {
            return Err("no components".into());
        }
        let mut components = Vec::with_capacity(file.components.len());
        for (name, entry) in file.components {
            let hourly_usd = match (entry.hourly_usd, entry.monthly_usd) {
                (Some(h), None) => h,
                (None, Some(m)) => m / HOURS_PER_PRICED_MONTH,
                _ => return Err(format!("component `{name}`: give one of hourly_usd or monthly_usd")),
            };
            if !hourly_usd.is_finite() || !(0.0..=1000.0).contains(&hourly_usd) {
                return Err(format!("component `{name}`: the rate must be a number from 0 to $1,000 an hour"));
            }
            let billing = match entry.billing.as_str() {
                "stops_at_zero" => Billing::StopsWhenScaledToZero,
                "stops_with_stack" => Billing::StopsWithStack,
                "always" => Billing::AlwaysBills,
                other => {
                    return Err(format!(
                        "component `{name}`: billing `{other}` is not one of stops_at_zero, stops_with_stack, always"
                    ));
                }
            };
            let basis = entry.basis.unwrap_or_else(|| "from the rates file".into());
            components.push(Component { name, hourly_usd, billing, basis });
        }
        let positive = |v: Option<f64>, what: &str, default: f64| match v {
            None => Ok(default),
            Some(v) if v.is_finite() && v > 0.0 && v < 1e6 => Ok(v),
            Some(_) => Err(format!("{what} must be a positive number")),
        };
        Ok(Self {
            components,
            gbp_per_usd: positive(file.gbp_per_usd, "gbp_per_usd", self.gbp_per_usd)?,
            target_gbp: positive(file.target_gbp, "target_gbp", self.target_gbp)?,
        })
    }
}

impl Projection {
    /// When the month is over the target: by how much (US dollars), and the
    /// components that bill, largest first — what keeps the bill above the target.
    pub fn over_target(&self, gbp_per_usd: f64) -> Option<(f64, Vec<&ComponentCost>)> {
        if self.within_target || gbp_per_usd <= 0.0 {
            return None;
        }
        let over = self.scheduled_usd - self.target_gbp / gbp_per_usd;
        let mut culprits: Vec<&ComponentCost> = self.components.iter().filter(|c| c.scheduled_usd >= 0.005).collect();
        culprits.sort_by(|a, b| b.scheduled_usd.total_cmp(&a.scheduled_usd));
        Some((over, culprits))
    }
}

/// One component's share of a projection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentCost {
    pub name: String,
    pub billing: Billing,
    pub billed_hours: f64,
    pub scheduled_usd: f64,
    pub always_on_usd: f64,
}

/// A period's cost under the schedule beside the same period always on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339_z")]
    pub to: DateTime<Utc>,
    pub hours: f64,
    pub up_hours: f64,
    pub components: Vec<ComponentCost>,
    pub scheduled_usd: f64,
    pub always_on_usd: f64,
    pub saving_usd: f64,
    /// The saving against the whole always-on bill.
    pub saving_percent: f64,
    /// The saving against the bill of the components that can stop: the number that
    /// "~75% reduction" claims describe.
    pub stoppable_saving_percent: f64,
    pub scheduled_gbp: f64,
    pub target_gbp: f64,
    pub within_target: bool,
}

impl CostModel {
    /// Projects `[from, to)` under `hours` in `scale` mode: what stops with the pause
    /// stack bills every hour, as the stack stays.
    pub fn project(&self, hours: &BusinessHours, from: DateTime<Utc>, to: DateTime<Utc>) -> Projection {
        let period_hours = ((to - from).num_seconds().max(0)) as f64 / 3600.0;
        let up_hours = hours.up_hours(from, to);
        let components: Vec<ComponentCost> = self
            .components
            .iter()
            .map(|c| {
                let billed_hours = match c.billing {
                    Billing::StopsWhenScaledToZero => up_hours,
                    Billing::StopsWithStack | Billing::AlwaysBills => period_hours,
                };
                ComponentCost {
                    name: c.name.clone(),
                    billing: c.billing,
                    billed_hours,
                    scheduled_usd: c.hourly_usd * billed_hours,
                    always_on_usd: c.hourly_usd * period_hours,
                }
            })
            .collect();
        let sum = |f: fn(&ComponentCost) -> f64, only_stoppable: bool| -> f64 {
            components.iter().filter(|c| !only_stoppable || c.billing == Billing::StopsWhenScaledToZero).map(f).sum()
        };
        let scheduled_usd = sum(|c| c.scheduled_usd, false);
        let always_on_usd = sum(|c| c.always_on_usd, false);
        let stoppable_always = sum(|c| c.always_on_usd, true);
        let stoppable_scheduled = sum(|c| c.scheduled_usd, true);
        let percent = |saved: f64, of: f64| if of > 0.0 { 100.0 * saved / of } else { 0.0 };
        let scheduled_gbp = scheduled_usd * self.gbp_per_usd;
        Projection {
            from,
            to,
            hours: period_hours,
            up_hours,
            scheduled_usd,
            always_on_usd,
            saving_usd: always_on_usd - scheduled_usd,
            saving_percent: percent(always_on_usd - scheduled_usd, always_on_usd),
            stoppable_saving_percent: percent(stoppable_always - stoppable_scheduled, stoppable_always),
            scheduled_gbp,
            target_gbp: self.target_gbp,
            within_target: scheduled_gbp <= self.target_gbp,
            components,
        }
    }
}

/// How long a Fargate task takes to start and pass its health check: an assumption,
/// as no start of the task is timed.
pub const TASK_START_SECS: u32 = 60;

/// A way of running staging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Never torn down.
    AlwaysOn,
    /// Business hours; the service is scaled to zero outside them (`STAGING_TEARDOWN=scale`).
    Scale,
    /// Business hours; outside them the service is scaled to zero and the pause stack
    /// deleted (`STAGING_TEARDOWN=stack`).
    Stack,
    /// `stack` without business hours (`STAGING_UP_TIME=none`): up only when started on
    /// demand.
    StackOnDemand,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::AlwaysOn, Mode::Scale, Mode::Stack, Mode::StackOnDemand];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AlwaysOn => "always_on",
            Self::Scale => "scale",
            Self::Stack => "stack",
            Self::StackOnDemand => "stack_on_demand",
        }
    }

    /// The mode a configuration runs in: its teardown, on demand when there is no up time.
    pub fn configured(teardown: &crate::config::Teardown, hours: &BusinessHours) -> Self {
        match (teardown, hours.up_time) {
            (crate::config::Teardown::Scale, _) => Self::Scale,
            (crate::config::Teardown::Stack(_), Some(_)) => Self::Stack,
            (crate::config::Teardown::Stack(_), None) => Self::StackOnDemand,
        }
    }

    /// The hours a component bills in a period of `period_hours` with `up_hours` up.
    fn billed_hours(&self, billing: Billing, period_hours: f64, up_hours: f64) -> f64 {
        match (self, billing) {
            (Self::AlwaysOn, _) | (_, Billing::AlwaysBills) => period_hours,
            (Self::Scale, Billing::StopsWithStack) => period_hours,
            (_, Billing::StopsWhenScaledToZero | Billing::StopsWithStack) => up_hours,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the environment's state recorded that a comparison can use instead of
/// assumptions: the up-hours of the last [`UP_WINDOW_DAYS`] days and how long the pause
/// stack took to create.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Recorded {
    /// The days the up-hours cover.
    pub days: i64,
    /// Up-hours recorded in those days, all of them; `None` when none are recorded.
    pub up_hours: Option<f64>,
    /// Of those, the ones started on demand.
    pub on_demand_up_hours: Option<f64>,
    /// The median of the last creates of the pause stack; `None` before any.
    pub stack_start_secs: Option<u32>,
    /// The front door's wakes requested in those days.
    pub wakes: u32,
    /// Hours of use in those days: the union of the on-demand up-windows and the wakes'
    /// awake spans (see [`Recorded::from_state`]); `None` before anything was recorded.
    pub use_hours: Option<f64>,
}

impl Recorded {
    /// Nothing recorded: every figure is an assumption.
    pub const NONE: Self = Self {
        days: UP_WINDOW_DAYS,
        up_hours: None,
        on_demand_up_hours: None,
        stack_start_secs: None,
        wakes: 0,
        use_hours: None,
    };

    /// What `state` recorded in the [`UP_WINDOW_DAYS`] days before `now`.
    ///
    /// `days`: since recording began (the first up-window ever, or the first wake kept
    /// when it is earlier; a quiet spell since then is covered too), in whole days rounded
    /// up, at most [`UP_WINDOW_DAYS`], at least one; [`UP_WINDOW_DAYS`] when nothing was
    /// ever recorded.
    ///
    /// `wakes`: the wakes requested in `[now − days, now)`. `use_hours`: the hours in
    /// `[now − days, now)` covered by an on-demand up-window or by a wake's awake span
    /// (`requested_at` for [`Wake::awake`](crate::model::state::Wake::awake)`(now)`),
    /// counted once where they overlap (a wake's start closes as an on-demand window);
    /// scheduled windows are not use. `None` when recording never began, `Some(0.0)` when
    /// it did and staging was not used.
    pub fn from_state(state: &EnvironmentState, now: DateTime<Utc>) -> Self {
        let hours = state.recorded_up_hours(now, UP_WINDOW_DAYS);
        let first_wake = state.wakes.iter().map(|w| w.requested_at).min();
        let since = match (state.up_windows_since.or(state.up_windows.first().map(|w| w.from)), first_wake) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let covered = since
            .map(|since| ((now - since).num_seconds().max(0) as f64 / 86_400.0).ceil() as i64)
            .unwrap_or(UP_WINDOW_DAYS)
            .clamp(1, UP_WINDOW_DAYS);
        let horizon = now - chrono::Duration::days(covered);
        let wakes = state.wakes.iter().filter(|w| horizon <= w.requested_at && w.requested_at < now);
        let spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = state
            .up_windows
            .iter()
            .filter(|w| w.on_demand)
            .map(|w| (w.from, w.to))
            .chain(state.wakes.iter().map(|w| (w.requested_at, w.requested_at + w.awake(now))))
            .collect();
        Self {
            days: covered,
            up_hours: hours.map(|(all, _)| all),
            on_demand_up_hours: hours.map(|(_, on_demand)| on_demand),
            stack_start_secs: state.expected_stack_start_secs(),
            wakes: u32::try_from(wakes.count()).unwrap_or(u32::MAX),
            use_hours: since.map(|_| union_hours(spans, horizon, now)),
        }
    }
}

/// The hours of `[from, to)` covered by at least one of `spans`.
fn union_hours(mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)>, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    spans.sort();
    let mut covered = from;
    let mut secs = 0.0;
    for (a, b) in spans {
        let (a, b) = (a.max(covered), b.min(to));
        if a < b {
            secs += crate::time::seconds(b - a);
            covered = b;
        }
    }
    secs / 3600.0
}

/// Hours of use on each working day (`stagingctl cost --compare --hours-per-day H`): a
/// number from 0 to 24.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct HoursPerDay(f64);

impl HoursPerDay {
    pub fn get(&self) -> f64 {
        self.0
    }
}

impl std::str::FromStr for HoursPerDay {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().parse::<f64>() {
            Ok(h) if h.is_finite() && (0.0..=24.0).contains(&h) => Ok(Self(h + 0.0)),
            _ => Err(format!("`{s}` is not a number of hours from 0 to 24")),
        }
    }
}

impl fmt::Display for HoursPerDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where the hours of an [`OnUse`] month came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum UseSource {
    /// `--hours-per-day`: that many hours on each working day of the period.
    HoursPerDay { hours_per_day: HoursPerDay, working_days: u32 },
    /// The state's record ([`Recorded::wakes`], [`Recorded::use_hours`] over
    /// [`Recorded::days`]).
    Record { wakes: u32, hours: f64, days: i64 },
    /// Neither: nothing to cost.
    Nothing,
}

/// One mode's month up only while used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UseCost {
    pub mode: Mode,
    pub monthly_usd: f64,
    pub monthly_gbp: f64,
    pub meets_target: bool,
}

/// Staging up only while used (the front door wakes it, the idle stop puts it back to
/// sleep): the period's up-hours, where they came from, and the month in `scale` and in
/// `stack` mode for them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnUse {
    pub source: UseSource,
    /// For people: `from the record: 4 wakes, 6.5 h over 30 days`, `--hours-per-day 1.5`.
    pub basis: String,
    /// The up-hours in the period; `None` with nothing to cost them from.
    pub up_hours: Option<f64>,
    /// [`Mode::Scale`] then [`Mode::Stack`] for those hours; empty without them.
    pub modes: Vec<UseCost>,
    pub target_gbp: f64,
    /// Stack mode: the hours the pause stack stands asleep after idle stops (a shallow
    /// sleep of `STAGING_DEEP_SLEEP_AFTER` after each wake, at most: a wake whose hold runs
    /// out is deleted at once), billed by what stops with the stack.
    pub shallow_hours: f64,
}

impl CostModel {
    /// `[from, to)` with staging up only while used. The hours: with `hours_per_day`,
    /// that many on each working day of `hours` whose local noon is in the period (the
    /// flag wins over the record); else, when `recorded` has use hours, those hours
    /// scaled from its days to the period (`use × period hours / (days × 24)`); both at
    /// most the period's hours. Without either, nothing is costed (`up_hours: None`, no
    /// modes). Each mode bills as [`CostModel::compare`] does for those up-hours (`scale`:
    /// what stops with the pause stack bills every hour), and meets the target when its
    /// pounds are at most `target_gbp` (the budget's, when the model was given it).
    /// `stack` also bills what stops with the pause stack for `deep_sleep_after` after each
    /// wake (the shallow sleep an idle stop leaves; one wake per working day with
    /// `hours_per_day`, the record's wakes scaled like its hours otherwise).
    pub fn on_use(
        &self,
        hours: &BusinessHours,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        hours_per_day: Option<HoursPerDay>,
        recorded: &Recorded,
        deep_sleep_after: std::time::Duration,
    ) -> OnUse {
        let period_hours = ((to - from).num_seconds().max(0)) as f64 / 3600.0;
        let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let (source, basis, up_hours) = match (hours_per_day, recorded.use_hours) {
            (Some(h), _) => {
                let days = working_days(hours, from, to);
                (
                    UseSource::HoursPerDay { hours_per_day: h, working_days: days },
                    format!(
                        "--hours-per-day {h}: {h} h on each of {}",
                        plural(i64::from(days), "working day", "working days")
                    ),
                    Some((f64::from(days) * h.get()).min(period_hours)),
                )
            }
            (None, Some(used)) if recorded.days > 0 => {
                let mut basis = format!(
                    "from the record: {}, {used:.1} h over {}",
                    plural(i64::from(recorded.wakes), "wake", "wakes"),
                    plural(recorded.days, "day", "days")
                );
                if hours.up_time.is_some() {
                    basis.push_str(" (use inside the schedule's hours is not seen: staging was up anyway)");
                }
                (
                    UseSource::Record { wakes: recorded.wakes, hours: used, days: recorded.days },
                    basis,
                    Some((used * period_hours / (recorded.days as f64 * 24.0)).min(period_hours)),
                )
            }
            _ => (UseSource::Nothing, "no use recorded: give --hours-per-day H to cost it".to_string(), None),
        };
        // No use, no wake to sleep after.
        let wakes = match &source {
            _ if up_hours.is_none_or(|up| up <= 0.0) => 0.0,
            UseSource::HoursPerDay { working_days, .. } => f64::from(*working_days),
            UseSource::Record { wakes, days, .. } if *days > 0 => {
                f64::from(*wakes) * period_hours / (*days as f64 * 24.0)
            }
            _ => 0.0,
        };
        let shallow_hours = up_hours
            .map_or(0.0, |up| (wakes * deep_sleep_after.as_secs_f64() / 3600.0).min((period_hours - up).max(0.0)));
        let modes = up_hours
            .map(|up| {
                [Mode::Scale, Mode::Stack]
                    .into_iter()
                    .map(|mode| {
                        let monthly_usd: f64 = self
                            .components
                            .iter()
                            .map(|c| {
                                let billed = match (mode, c.billing) {
                                    (Mode::Stack, Billing::StopsWithStack) => up + shallow_hours,
                                    _ => mode.billed_hours(c.billing, period_hours, up),
                                };
                                c.hourly_usd * billed
                            })
                            .sum();
                        let monthly_gbp = monthly_usd * self.gbp_per_usd;
                        UseCost { mode, monthly_usd, monthly_gbp, meets_target: monthly_gbp <= self.target_gbp }
                    })
                    .collect()
            })
            .unwrap_or_default();
        OnUse { source, basis, up_hours, modes, target_gbp: self.target_gbp, shallow_hours }
    }
}

/// One mode's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeCost {
    pub mode: Mode,
    pub up_hours: f64,
    /// Where `up_hours` comes from: the schedule, the record, or an assumption.
    pub up_hours_basis: String,
    pub monthly_usd: f64,
    pub monthly_gbp: f64,
    pub meets_target: bool,
    /// How long from "start" to serving.
    pub time_to_ready_secs: u32,
    /// Whether `time_to_ready_secs` was measured (the pause stack's recorded creates)
    /// rather than assumed.
    pub time_to_ready_recorded: bool,
    pub time_to_ready_basis: String,
}

impl ModeCost {
    /// When it is ready after a start: `at once`, `in ~60 s`, `in ~10 min`.
    pub fn ready_in(&self) -> String {
        match self.time_to_ready_secs {
            0 => "at once".into(),
            s if s < 90 => format!("in ~{s} s"),
            s => format!("in ~{} min", (f64::from(s) / 60.0).round()),
        }
    }
}

/// Every mode's month side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The hours in the period.
    pub hours: f64,
    pub target_gbp: f64,
    /// In [`Mode::ALL`] order.
    pub modes: Vec<ModeCost>,
    /// The cheapest mode (the quickest to wake among equals, then the later in
    /// [`Mode::ALL`]).
    pub cheapest: Mode,
    /// The cheapest mode within the target, if any is.
    pub cheapest_meeting_target: Option<Mode>,
}

impl Comparison {
    pub fn mode(&self, mode: Mode) -> &ModeCost {
        self.modes.iter().find(|m| m.mode == mode).expect("every mode is compared")
    }
}

impl CostModel {
    /// Every way of running staging over `[from, to)`: always on; `scale` and `stack` under
    /// `hours`; and `stack_on_demand`, up for the on-demand hours `recorded` over its days
    /// (scaled to the period), or, with none recorded, one `hold_default` per working day.
    /// Under a schedule without an up time, `scale` and `stack` are up only on demand too.
    pub fn compare(
        &self,
        hours: &BusinessHours,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        hold_default: std::time::Duration,
        recorded: &Recorded,
    ) -> Comparison {
        let period_hours = ((to - from).num_seconds().max(0)) as f64 / 3600.0;
        let on_demand = match recorded.on_demand_up_hours.filter(|h| *h > 0.0) {
            Some(h) if recorded.days > 0 => {
                let scaled = (h * period_hours / (recorded.days as f64 * 24.0)).min(period_hours);
                (
                    scaled,
                    format!(
                        "{h:.1} h started on demand in the last {} days, scaled to the period's {period_hours:.0} h (recorded)",
                        recorded.days
                    ),
                )
            }
            _ => {
                let days = working_days(hours, from, to);
                let hold = hold_default.as_secs_f64() / 3600.0;
                let scaled = (f64::from(days) * hold).min(period_hours);
                (
                    scaled,
                    format!(
                        "no on-demand use recorded: one default hold ({}) on each of {days} working days (assumed)",
                        humantime::format_duration(hold_default)
                    ),
                )
            }
        };
        let scheduled = match hours.up_time {
            Some(_) => (
                hours.up_hours(from, to),
                "the schedule's up-hours (on-demand use beyond them not counted)".to_string(),
            ),
            None => (on_demand.0, format!("no up time, so on demand only: {}", on_demand.1)),
        };
        let stack_start = match recorded.stack_start_secs {
            Some(s) => (s, true, "creating the pause stack, the median of its recorded creates (recorded)".to_string()),
            None => {
                (STACK_START_ASSUMED_SECS, false, "creating the pause stack, none recorded yet (assumed)".to_string())
            }
        };
        let modes: Vec<ModeCost> = Mode::ALL
            .iter()
            .map(|&mode| {
                let (up_hours, up_hours_basis) = match mode {
                    Mode::AlwaysOn => (period_hours, "up every hour".to_string()),
                    Mode::Scale | Mode::Stack => scheduled.clone(),
                    Mode::StackOnDemand => on_demand.clone(),
                };
                let (time_to_ready_secs, time_to_ready_recorded, time_to_ready_basis) = match mode {
                    Mode::AlwaysOn => (0, false, "it is always up".to_string()),
                    Mode::Scale => (TASK_START_SECS, false, "a Fargate task start (assumed)".to_string()),
                    Mode::Stack | Mode::StackOnDemand => stack_start.clone(),
                };
                let monthly_usd: f64 = self
                    .components
                    .iter()
                    .map(|c| c.hourly_usd * mode.billed_hours(c.billing, period_hours, up_hours))
                    .sum();
                let monthly_gbp = monthly_usd * self.gbp_per_usd;
                ModeCost {
                    mode,
                    up_hours,
                    up_hours_basis,
                    monthly_usd,
                    monthly_gbp,
                    meets_target: monthly_gbp <= self.target_gbp,
                    time_to_ready_secs,
                    time_to_ready_recorded,
                    time_to_ready_basis,
                }
            })
            .collect();
        // Among equals the quicker to wake; among exact equals the later mode, the more
        // specific (with no up time, `stack` is `stack_on_demand`).
        let cheapest_of = |only_meeting: bool| {
            modes
                .iter()
                .rev()
                .filter(|m| !only_meeting || m.meets_target)
                .min_by(|a, b| {
                    a.monthly_usd.total_cmp(&b.monthly_usd).then(a.time_to_ready_secs.cmp(&b.time_to_ready_secs))
                })
                .map(|m| m.mode)
        };
        Comparison {
            hours: period_hours,
            target_gbp: self.target_gbp,
            cheapest: cheapest_of(false).expect("there are modes"),
            cheapest_meeting_target: cheapest_of(true),
            modes,
        }
    }
}

/// The working days (not holidays) of `hours` whose local noon falls in `[from, to)`.
fn working_days(hours: &BusinessHours, from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
    if to <= from {
        return 0;
    }
    let noon = NaiveTime::from_hms_opt(12, 0, 0).expect("12:00 is a time");
    let first: NaiveDate = from.with_timezone(&hours.time_zone).date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
    let days = (to - from).num_days().max(0) as u64 + 3;
    (0..days)
        .filter_map(|n| first.checked_add_days(Days::new(n)))
        .filter(|d| hours.working_days.contains(d.weekday()) && !hours.holidays.contains(d))
        .filter(|d| {
            let t = hours.instant(*d, noon);
            from <= t && t < to
        })
        .count() as u32
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
