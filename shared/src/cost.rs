//! The cost model: what each component of the staging stack costs, which of them stop
//! billing when the service is scaled to zero, and what a month under a business-hours
//! policy comes to beside the same month always on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::schedule::BusinessHours;

/// AWS prices a month as 730 hours.
pub const HOURS_PER_PRICED_MONTH: f64 = 730.0;

/// Whether scaling the service to zero stops a component's bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// Billed only while the environment is up.
    StopsWhenScaledToZero,
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
                    billing: AlwaysBills,
                    basis: "Application Load Balancer hour; LCUs extra".into(),
                },
                Component {
                    name: "nat_gateway".into(),
                    hourly_usd: 0.045,
                    billing: AlwaysBills,
                    basis: "NAT Gateway hour; data processed extra".into(),
                },
                Component {
                    name: "redis".into(),
                    hourly_usd: 0.016,
                    billing: AlwaysBills,
                    basis: "ElastiCache cache.t4g.micro (cannot be stopped)".into(),
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

/// A rates file (`STAGING_COST_FILE`, `stagingctl cost --rates`): per component an
/// hourly or a monthly (730-hour) rate and whether it stops billing at zero.
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
    /// `stops_at_zero` or `always`.
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
                "always" => Billing::AlwaysBills,
                other => return Err(format!("component `{name}`: billing `{other}` is neither stops_at_zero nor always")),
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
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::schedule::rfc3339_z")]
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
    /// Projects `[from, to)` under `hours`.
    pub fn project(&self, hours: &BusinessHours, from: DateTime<Utc>, to: DateTime<Utc>) -> Projection {
        let period_hours = ((to - from).num_seconds().max(0)) as f64 / 3600.0;
        let up_hours = hours.up_hours(from, to);
        let components: Vec<ComponentCost> = self
            .components
            .iter()
            .map(|c| {
                let billed_hours = match c.billing {
                    Billing::StopsWhenScaledToZero => up_hours,
                    Billing::AlwaysBills => period_hours,
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
            components
                .iter()
                .filter(|c| !only_stoppable || c.billing == Billing::StopsWhenScaledToZero)
                .map(f)
                .sum()
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

#[cfg(test)]
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
        let p = model.project(
            &BusinessHours::default(),
            utc("2026-11-23T00:00:00Z"),
            utc("2026-11-30T00:00:00Z"),
        );
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
        let seed = CostModel::default().with_rates_yaml(include_str!("../../events/cost.seed.yml")).unwrap();
        let november = seed.project(&BusinessHours::default(), utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
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
            ("components: {x: {hourly_usd: 1, billing: sometimes}}", "billing `sometimes`"),
            ("components: {x: {hourly_usd: 1, billing: always, colour: red}}", "not a rates file"),
            ("gbp_per_usd: 0\ncomponents: {x: {hourly_usd: 1, billing: always}}", "gbp_per_usd must be a positive number"),
        ] {
            let err = CostModel::default().with_rates_yaml(yaml).unwrap_err();
            assert!(err.contains(fragment), "{yaml}: {err}");
        }
    }
}
