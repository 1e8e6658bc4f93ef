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
}

impl Recorded {
    /// Nothing recorded: every figure is an assumption.
    pub const NONE: Self =
        Self { days: UP_WINDOW_DAYS, up_hours: None, on_demand_up_hours: None, stack_start_secs: None };

    /// What `state` recorded in the [`UP_WINDOW_DAYS`] days before `now`.
    pub fn from_state(state: &EnvironmentState, now: DateTime<Utc>) -> Self {
        let hours = state.recorded_up_hours(now, UP_WINDOW_DAYS);
        // The days the records cover: since recording began (the first window ever; a
        // quiet spell since then is covered too), at most the window kept, at least one.
        let covered = state
            .up_windows_since
            .or(state.up_windows.first().map(|w| w.from))
            .map(|since| ((now - since).num_seconds().max(0) as f64 / 86_400.0).ceil() as i64)
            .unwrap_or(UP_WINDOW_DAYS)
            .clamp(1, UP_WINDOW_DAYS);
        Self {
            days: covered,
            up_hours: hours.map(|(all, _)| all),
            on_demand_up_hours: hours.map(|(_, on_demand)| on_demand),
            stack_start_secs: state.expected_stack_start_secs(),
        }
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
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn november_2026_under_the_default_policy_sums_component_by_component() {
        // 720 hours in the month, 21 weekdays x 10 h = 210 up hours.
        let p = CostModel::default().project(
            &BusinessHours::default(),
            utc("2026-11-01T00:00:00Z"),
            utc("2026-12-01T00:00:00Z"),
        );
        assert_eq!((p.hours, p.up_hours), (720.0, 210.0));
        let fargate_hourly = 0.0123425;
        #[rustfmt::skip]
        let expected = [
            ("fargate", 210.0, fargate_hourly * 210.0, fargate_hourly * 720.0),
            ("alb", 720.0, 16.2, 16.2),
            ("nat_gateway", 720.0, 32.4, 32.4),
            ("redis", 720.0, 11.52, 11.52),
            ("neon", 210.0, 0.0, 0.0),
            ("cloudwatch", 720.0, 0.5 * 720.0 / 730.0, 0.5 * 720.0 / 730.0),
        ];
        for ((name, hours, scheduled, always), c) in expected.iter().zip(&p.components) {
            assert_eq!(c.name, *name);
            assert!(close(c.billed_hours, *hours), "{name} hours {}", c.billed_hours);
            assert!(close(c.scheduled_usd, *scheduled), "{name} scheduled {}", c.scheduled_usd);
            assert!(close(c.always_on_usd, *always), "{name} always {}", c.always_on_usd);
        }
        let scheduled: f64 = expected.iter().map(|e| e.2).sum();
        let always: f64 = expected.iter().map(|e| e.3).sum();
        assert!(close(p.scheduled_usd, scheduled));
        assert!(close(p.always_on_usd, always));
        assert!(close(p.saving_usd, always - scheduled));
        // Fargate, the only stoppable component with a price, is cut by 510/720.
        assert!(close(p.stoppable_saving_percent, 100.0 * 510.0 / 720.0));
        // The whole bill barely moves: the ALB, NAT and Redis keep billing.
        assert!(p.saving_percent < 10.0, "{}", p.saving_percent);
        assert!(!p.within_target, "the default stack cannot meet £5");
    }

    #[test]
    fn a_stack_of_only_stoppable_parts_saves_its_down_hours() {
        let model = CostModel {
            components: vec![Component {
                name: "task".into(),
                hourly_usd: 1.0,
                billing: Billing::StopsWhenScaledToZero,
                basis: "test".into(),
            }],
            gbp_per_usd: 0.5,
            target_gbp: 100.0,
        };
        let p = model.project(&BusinessHours::default(), utc("2026-11-23T00:00:00Z"), utc("2026-11-30T00:00:00Z"));
        assert_eq!(p.scheduled_usd, 50.0);
        assert_eq!(p.always_on_usd, 168.0);
        assert!(close(p.saving_percent, 100.0 * 118.0 / 168.0));
        assert_eq!(p.saving_percent, p.stoppable_saving_percent);
        assert_eq!(p.scheduled_gbp, 25.0);
        assert!(p.within_target);
    }

    #[test]
    fn an_empty_period_costs_nothing_and_divides_by_nothing() {
        let t = utc("2026-11-23T00:00:00Z");
        let p = CostModel::default().project(&BusinessHours::default(), t, t);
        assert_eq!((p.scheduled_usd, p.saving_percent, p.stoppable_saving_percent), (0.0, 0.0, 0.0));
    }

    #[test]
    fn a_rates_file_replaces_the_list_prices() {
        let seed = CostModel::default().with_rates_yaml(include_str!("../../../events/cost.seed.yml")).unwrap();
        let november =
            seed.project(&BusinessHours::default(), utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
        let always: f64 = november.always_on_usd * HOURS_PER_PRICED_MONTH / november.hours;
        assert!(close(always, 22.80), "the seed's base month: {always}");
        let (over, culprits) = november.over_target(seed.gbp_per_usd).expect("over £5 even at the seed's prices");
        assert!(over > 0.0);
        assert_eq!(culprits[0].name, "neon");
        for (yaml, fragment) in [
            ("components: {}", "no components"),
            ("components: {x: {billing: always}}", "component `x`: give one of hourly_usd or monthly_usd"),
            ("components: {x: {hourly_usd: 1, monthly_usd: 2, billing: always}}", "give one of"),
            ("components: {x: {hourly_usd: -1, billing: always}}", "from 0 to $1,000 an hour"),
            ("components: {x: {hourly_usd: 1e308, billing: always}}", "from 0 to $1,000 an hour"),
            (
                "components: {x: {hourly_usd: 1, billing: sometimes}}",
                "component `x`: billing `sometimes` is not one of stops_at_zero, stops_with_stack, always",
            ),
            (
                "components: {x: {hourly_usd: 1, billing: stops_with_the_stack}}",
                "billing `stops_with_the_stack` is not one of",
            ),
            ("components: {x: {hourly_usd: 1, billing: always, colour: red}}", "not a rates file"),
            (
                "gbp_per_usd: 0\ncomponents: {x: {hourly_usd: 1, billing: always}}",
                "gbp_per_usd must be a positive number",
            ),
        ] {
            let err = CostModel::default().with_rates_yaml(yaml).unwrap_err();
            assert!(err.contains(fragment), "{yaml}: {err}");
        }
    }

    fn november() -> (DateTime<Utc>, DateTime<Utc>) {
        (utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"))
    }

    const TWO_HOURS: std::time::Duration = std::time::Duration::from_secs(2 * 3600);

    fn cents(usd: f64) -> i64 {
        (usd * 100.0).round() as i64
    }

    #[test]
    fn every_mode_of_november_2026_at_list_prices_with_nothing_recorded() {
        // 720 h in the month, 210 up under the default schedule, 21 working days x a 2 h
        // hold = 42 on demand.
        let model = CostModel::default();
        let (from, to) = november();
        let c = model.compare(&BusinessHours::default(), from, to, TWO_HOURS, &Recorded::NONE);
        let fargate = 0.0123425;
        let with_stack = 0.0225 + 0.045 + 0.016;
        let always = 0.5 / 730.0;
        use Mode::*;
        #[rustfmt::skip]
        let expected = [
            // mode, up-hours, exact $, $ cents, £ pence, meets £5, ready secs
            (AlwaysOn, 720.0, (fargate + with_stack + always) * 720.0, 6950, 5490, false, 0),
            (Scale, 210.0, fargate * 210.0 + (with_stack + always) * 720.0, 6321, 4993, false, 60),
            (Stack, 210.0, (fargate + with_stack) * 210.0 + always * 720.0, 2062, 1629, false, 600),
            (StackOnDemand, 42.0, (fargate + with_stack) * 42.0 + always * 720.0, 452, 357, true, 600),
        ];
        assert_eq!(c.modes.len(), expected.len());
        for ((mode, up, usd, usd_cents, pence, meets, ready), m) in expected.into_iter().zip(&c.modes) {
            assert_eq!(m.mode, mode);
            assert!(close(m.up_hours, up), "{mode} up-hours {}", m.up_hours);
            assert!(close(m.monthly_usd, usd), "{mode} ${}", m.monthly_usd);
            assert_eq!((cents(m.monthly_usd), cents(m.monthly_gbp)), (usd_cents, pence), "{mode}");
            assert_eq!(
                (m.meets_target, m.time_to_ready_secs, m.time_to_ready_recorded),
                (meets, ready, false),
                "{mode}"
            );
        }
        // `scale` is what `project` has always said.
        assert!(close(c.mode(Scale).monthly_usd, model.project(&BusinessHours::default(), from, to).scheduled_usd));
        assert_eq!((c.cheapest, c.cheapest_meeting_target), (StackOnDemand, Some(StackOnDemand)));
        assert!(
            c.mode(StackOnDemand).up_hours_basis.contains("one default hold (2h) on each of 21 working days (assumed)")
        );
        assert!(c.mode(Stack).time_to_ready_basis.contains("assumed"));
    }

    #[test]
    fn the_target_is_the_deployed_budget_in_pounds() {
        let budget = |amount: f64, currency: &str| crate::config::BudgetAmount { amount, currency: currency.into() };
        #[rustfmt::skip]
        let cases: Vec<(&str, crate::config::BudgetAmount, f64, bool)> = vec![
            ("dollars at the model's rate", budget(60.0, "USD"), 60.0 * 0.79, true),
            ("pounds as they are", budget(5.0, "GBP"), 5.0, true),
            ("a currency the model cannot convert keeps £5", budget(7000.0, "JPY"), 5.0, false),
        ];
        for (name, budget, target, converted) in cases {
            let (model, did) = CostModel::default().with_budget_target(&budget);
            assert!((model.target_gbp - target).abs() < 1e-9, "{name}: {}", model.target_gbp);
            assert_eq!(did, converted, "{name}");
        }
    }

    #[test]
    fn recorded_use_and_start_times_replace_the_assumptions() {
        let (from, to) = november();
        let december = (utc("2026-12-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
        let rec = |up: Option<f64>, on_demand: Option<f64>, start: Option<u32>| Recorded {
            up_hours: up,
            on_demand_up_hours: on_demand,
            stack_start_secs: start,
            ..Recorded::NONE
        };
        #[rustfmt::skip]
        let cases: &[(&str, (DateTime<Utc>, DateTime<Utc>), Recorded, f64, &str, u32, bool, &str)] = &[
            ("nothing recorded", (from, to), Recorded::NONE, 42.0, "(assumed)", 600, false, "in ~10 min"),
            ("15 h on demand in 30 days is 15 h of a 30-day month", (from, to), rec(Some(40.0), Some(15.0), Some(420)),
                15.0, "15.0 h started on demand in the last 30 days, scaled to the period's 720 h (recorded)", 420, true, "in ~7 min"),
            ("and 15.5 h of a 31-day one", december, rec(Some(15.0), Some(15.0), None), 15.5, "(recorded)", 600, false, "in ~10 min"),
            ("windows recorded, none on demand: assumed", (from, to), rec(Some(200.0), Some(0.0), Some(95)), 42.0, "(assumed)", 95, true, "in ~2 min"),
            ("December has 23 working days", december, Recorded::NONE, 46.0, "on each of 23 working days", 600, false, "in ~10 min"),
        ];
        for (name, (from, to), recorded, up, basis, ready, measured, ready_in) in cases {
            let c = CostModel::default().compare(&BusinessHours::default(), *from, *to, TWO_HOURS, recorded);
            let m = c.mode(Mode::StackOnDemand);
            assert!(close(m.up_hours, *up), "{name}: {}", m.up_hours);
            assert!(m.up_hours_basis.contains(basis), "{name}: {}", m.up_hours_basis);
            assert_eq!(
                (m.time_to_ready_secs, m.time_to_ready_recorded, m.ready_in().as_str()),
                (*ready, *measured, *ready_in),
                "{name}"
            );
            // The stack's start is the same whatever the schedule; a task start is never measured.
            assert_eq!(c.mode(Mode::Stack).time_to_ready_secs, *ready, "{name}");
            assert_eq!(
                (c.mode(Mode::Scale).time_to_ready_secs, c.mode(Mode::Scale).time_to_ready_recorded),
                (TASK_START_SECS, false)
            );
            assert_eq!(c.mode(Mode::AlwaysOn).ready_in(), "at once");
        }
    }

    #[test]
    fn the_record_is_read_from_the_state_with_sub_second_instants() {
        use crate::model::state::UpWindow;
        let mut state = EnvironmentState::new("staging");
        let now = utc("2026-11-27T07:00:00.9Z");
        state.up_windows = vec![
            // Cut at the 30-day horizon (2026-10-28T07:00:00.9Z): 1 h of it counts.
            UpWindow { from: utc("2026-10-28T05:00:00.9Z"), to: utc("2026-10-28T08:00:00.9Z"), on_demand: true },
            UpWindow { from: utc("2026-11-20T18:00:00.5Z"), to: utc("2026-11-20T21:00:00.5Z"), on_demand: true },
            UpWindow { from: utc("2026-11-23T08:00:00Z"), to: utc("2026-11-23T18:00:00Z"), on_demand: false },
        ];
        for secs in [700, 400, 500] {
            state.record_stack_start(secs);
        }
        let r = Recorded::from_state(&state, now);
        assert_eq!(
            r,
            Recorded { days: 30, up_hours: Some(14.0), on_demand_up_hours: Some(4.0), stack_start_secs: Some(500) }
        );
        assert_eq!(Recorded::from_state(&EnvironmentState::new("staging"), now), Recorded::NONE);
        // A period with sub-second bounds counts the working days whose noon it holds.
        let c = CostModel::default().compare(
            &BusinessHours::default(),
            utc("2026-11-02T12:00:00.5Z"),
            utc("2026-11-04T12:00:00.5Z"),
            TWO_HOURS,
            &Recorded::NONE,
        );
        assert!(close(c.mode(Mode::StackOnDemand).up_hours, 2.0 * 2.0), "Tue and Wed noon, not Mon's");
    }

    #[test]
    fn the_cheapest_mode_meeting_the_target_table() {
        let seed = CostModel::default().with_rates_yaml(include_str!("../../../events/cost.seed.yml")).unwrap();
        let free = CostModel { components: vec![], ..CostModel::default() };
        let generous = CostModel { target_gbp: 100.0, ..CostModel::default() };
        let flat =
            CostModel::default().with_rates_yaml("components: {db: {monthly_usd: 3.65, billing: always}}").unwrap();
        use Mode::*;
        #[rustfmt::skip]
        let cases: &[(&str, &CostModel, Mode, Option<Mode>, &[Mode])] = &[
            ("list prices: only on demand meets £5", &CostModel::default(), StackOnDemand, Some(StackOnDemand), &[StackOnDemand]),
            ("the seed's neon bills $6 whatever: nothing meets £5", &seed, StackOnDemand, None, &[]),
            ("a target everything meets: still the cheapest", &generous, StackOnDemand, Some(StackOnDemand), &[AlwaysOn, Scale, Stack, StackOnDemand]),
            ("nothing to pay: the quickest to wake wins the tie", &free, AlwaysOn, Some(AlwaysOn), &[AlwaysOn, Scale, Stack, StackOnDemand]),
            ("only what always bills: a tie, always on", &flat, AlwaysOn, Some(AlwaysOn), &[AlwaysOn, Scale, Stack, StackOnDemand]),
        ];
        let (from, to) = november();
        for (name, model, cheapest, meeting, meet) in cases {
            let c = model.compare(&BusinessHours::default(), from, to, TWO_HOURS, &Recorded::NONE);
            assert_eq!((c.cheapest, c.cheapest_meeting_target), (*cheapest, *meeting), "{name}");
            let meeting_all: Vec<Mode> = c.modes.iter().filter(|m| m.meets_target).map(|m| m.mode).collect();
            assert_eq!(meeting_all, *meet, "{name}");
        }
    }

    #[test]
    fn a_rates_file_says_what_stops_with_the_stack() {
        let seed = CostModel::default().with_rates_yaml(include_str!("../../../events/cost.seed.yml")).unwrap();
        let billing: Vec<(&str, Billing)> = seed.components.iter().map(|c| (c.name.as_str(), c.billing)).collect();
        use Billing::*;
        assert_eq!(
            billing,
            [
                ("alb", StopsWithStack),
                ("cloudwatch", AlwaysBills),
                ("fargate", StopsWhenScaledToZero),
                ("nat_gateway", StopsWithStack),
                ("neon", AlwaysBills),
                ("redis", StopsWithStack)
            ]
        );
        let (from, to) = november();
        let c = seed.compare(&BusinessHours::default(), from, to, TWO_HOURS, &Recorded::NONE);
        let pence: Vec<(Mode, i64, i64)> =
            c.modes.iter().map(|m| (m.mode, cents(m.monthly_usd), cents(m.monthly_gbp))).collect();
        #[rustfmt::skip]
        assert_eq!(pence, [(Mode::AlwaysOn, 2249, 1777), (Mode::Scale, 1620, 1280), (Mode::Stack, 1180, 932), (Mode::StackOnDemand, 828, 654)]);
        // Deleting the stack saves (alb + nat + redis) $6.30 a month over the 510 down hours.
        assert!(close(c.mode(Mode::Scale).monthly_usd - c.mode(Mode::Stack).monthly_usd, 6.30 * 510.0 / 730.0));
    }

    #[test]
    fn without_an_up_time_every_mode_but_always_on_is_up_on_demand_only() {
        let on_demand = BusinessHours { up_time: None, ..Default::default() };
        let (from, to) = november();
        let c = CostModel::default().compare(&on_demand, from, to, TWO_HOURS, &Recorded::NONE);
        let up: Vec<f64> = c.modes.iter().map(|m| m.up_hours).collect();
        assert_eq!(up, [720.0, 42.0, 42.0, 42.0]);
        assert_eq!(c.mode(Mode::Stack).monthly_usd, c.mode(Mode::StackOnDemand).monthly_usd);
        assert!(
            c.mode(Mode::Scale).up_hours_basis.starts_with("no up time, so on demand only"),
            "{}",
            c.mode(Mode::Scale).up_hours_basis
        );
        assert_eq!(
            c.cheapest_meeting_target,
            Some(Mode::StackOnDemand),
            "the tie goes to the mode that says how it runs"
        );
    }

    #[test]
    fn the_configured_mode_follows_the_teardown_and_the_up_time() {
        use crate::config::Teardown;
        let on_demand = BusinessHours { up_time: None, ..Default::default() };
        let stack = Teardown::Stack("staging-pause".into());
        #[rustfmt::skip]
        let cases = [
            (Teardown::Scale, BusinessHours::default(), Mode::Scale),
            (Teardown::Scale, on_demand.clone(), Mode::Scale),
            (stack.clone(), BusinessHours::default(), Mode::Stack),
            (stack, on_demand, Mode::StackOnDemand),
        ];
        for (teardown, hours, mode) in cases {
            assert_eq!(Mode::configured(&teardown, &hours), mode, "{teardown:?} {:?}", hours.up_time);
        }
        assert_eq!(serde_json::to_value(Mode::StackOnDemand).unwrap(), "stack_on_demand");
    }

    #[test]
    fn working_days_are_the_local_dates_whose_noon_is_in_the_period() {
        let (from, to) = november();
        let with_holiday = BusinessHours { holidays: ["2026-11-26".parse().unwrap()].into(), ..Default::default() };
        let auckland = BusinessHours { time_zone: chrono_tz::Pacific::Auckland, ..Default::default() };
        let on_demand = BusinessHours { up_time: None, ..Default::default() };
        #[rustfmt::skip]
        let cases = [
            ("November 2026", BusinessHours::default(), 21),
            ("with Thanksgiving off", with_holiday, 20),
            // Local noon is 23:00Z the day before: Mon 2 Nov to Tue 1 Dec.
            ("Auckland in the UTC month", auckland, 22),
            ("no up time still has working days", on_demand, 21),
        ];
        for (name, hours, days) in cases {
            assert_eq!(working_days(&hours, from, to), days, "{name}");
        }
        assert_eq!(working_days(&BusinessHours::default(), to, from), 0);
    }
}
