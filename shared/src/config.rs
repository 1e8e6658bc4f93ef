//! Configuration from environment variables, parsed once into a typed `Config`.
//!
//! Every variable has the default docs/configuration.md lists; an empty value counts as unset (so
//! templates can pass empty parameters). A bad value fails with the variable's name, the
//! value (never a secret's) and what was expected.

use crate::model::probe::Probe;
use crate::model::probe::is_http_url;
use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::schedule::{BusinessHours, WorkingDays};

/// A value that must never be printed: `Debug` and `Display` show `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `owner/name` of a GitHub repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub owner: String,
    pub name: String,
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Names of the AWS resources the functions act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub table: Option<String>,
    pub team_topic_arn: Option<String>,
    pub team_queue_url: Option<String>,
    pub schedule_group: Option<String>,
    pub scheduler_role_arn: Option<String>,
    pub lifecycle_function_arn: Option<String>,
    /// Where EventBridge Scheduler sends a one-time schedule's event it could not
    /// deliver after its retries (`STAGING_SCHEDULE_DLQ_ARN`, an SQS queue; optional).
    pub schedule_dlq_arn: Option<String>,
    pub budget_name: Option<String>,
    /// The service role the pause stack is created with (`STAGING_PAUSE_STACK_ROLE_ARN`,
    /// stack mode): the only one the functions may pass, so a stack running with another
    /// is not paused.
    pub pause_stack_role_arn: Option<String>,
}

impl Resources {
    /// The AWS account, read from the first configured ARN that names one (the
    /// Budgets API needs it, and the ARNs already carry it).
    pub fn account_id(&self) -> Option<&str> {
        [&self.team_topic_arn, &self.scheduler_role_arn, &self.lifecycle_function_arn]
            .into_iter()
            .flatten()
            .filter_map(|arn| arn.split(':').nth(4))
            .find(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// How the functions talk to GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHub {
    pub repository: Option<Repository>,
    pub branch: String,
    /// One secret, or two while rotating.
    pub webhook_secrets: Vec<Secret>,
    pub webhook_secret_arn: Option<String>,
    pub token: Option<Secret>,
    pub token_arn: Option<String>,
    pub deploy_workflow: String,
    /// The workflow's input names for the deployment type and for skipping tests.
    pub deploy_type_input: String,
    pub skip_tests_input: String,
    /// The workflow's input that runs the database migration (`true`/`false`), when it
    /// has one (`GITHUB_MIGRATE_INPUT`).
    pub migrate_input: Option<String>,
    pub api_url: String,
}

impl GitHub {
    /// Whether deploys can be dispatched (a repository, and a token or the ARN of the
    /// secret holding one); otherwise dry mode.
    pub fn can_dispatch(&self) -> bool {
        self.repository.is_some() && (self.token.is_some() || self.token_arn.is_some())
    }
}

/// The monthly budget as deployed (`STAGING_BUDGET_AMOUNT`, `STAGING_BUDGET_CURRENCY`): what
/// the reports measure the month against, instead of a fixed £5.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetAmount {
    pub amount: f64,
    /// ISO 4217, as AWS Budgets takes it (`USD` unless set).
    pub currency: String,
}

/// When a budget alert acts: percentages of the budgeted amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetPolicy {
    /// ACTUAL spend at or over this warns (`STAGING_BUDGET_WARN_PERCENT`, 80).
    pub warn_percent: u64,
    /// ACTUAL spend at or over this locks and scales to zero (`STAGING_BUDGET_LOCK_PERCENT`, 100).
    pub lock_percent: u64,
    /// A FORECASTED spend at or over this warns and caps holds (`STAGING_BUDGET_FORECAST_PERCENT`, 100).
    pub forecast_percent: u64,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        Self { warn_percent: 80, lock_percent: 100, forecast_percent: 100 }
    }
}

/// What a teardown stops (`STAGING_TEARDOWN`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Teardown {
    /// Scale the service to zero; everything else keeps billing.
    #[default]
    Scale,
    /// Also delete the CloudFormation stack named here (`STAGING_PAUSE_STACK`), which
    /// holds what bills while idle (load balancer, NAT Gateway, cache, and perhaps the
    /// service), after saving its template and parameters; a start creates it again
    /// from them.
    Stack(String),
}

impl Teardown {
    /// The pause stack, in `stack` mode.
    pub fn pause_stack(&self) -> Option<&str> {
        match self {
            Self::Scale => None,
            Self::Stack(name) => Some(name),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Scale => "scale",
            Self::Stack(_) => "stack",
        }
    }
}

/// Everything the functions and `stagingctl` read from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub environment: String,
    pub business_hours: BusinessHours,
    pub hold_default: Duration,
    pub hold_max: Duration,
    /// How long a dispatched deploy may go without reporting before it stops holding
    /// back the next one and the teardown (`STAGING_DEPLOY_GRACE`, default 30 min).
    pub deploy_grace: Duration,
    pub budget: BudgetPolicy,
    /// The budget's amount, when the deployment says it; the model's £5 target otherwise.
    pub budget_amount: Option<BudgetAmount>,
    /// The cost-allocation tag that marks staging's resources (`STAGING_COST_TAG`,
    /// `Key=Value`): the daily report asks Cost Explorer for those only.
    pub cost_tag: Option<(String, String)>,
    /// Rates replacing the built-in list prices: the YAML inline (`STAGING_RATES`, what a
    /// deployed function reads) or a file (`STAGING_COST_FILE`, local use).
    pub rates: Option<YamlSetting>,
    /// Pounds per US dollar (`STAGING_GBP_PER_USD`; the model's 0.79 when unset).
    pub gbp_per_usd: Option<f64>,
    /// The paths-filter document: inline (`STAGING_FILTERS`, what a deployed function
    /// reads) or a file (`STAGING_FILTERS_FILE`, local use); the built-in filters when `None`.
    pub filters: Option<YamlSetting>,
    pub resources: Resources,
    /// What a teardown stops (`STAGING_TEARDOWN`, `scale` or `stack`).
    pub teardown: Teardown,
    pub github: GitHub,
    /// What the health check probes (`STAGING_PROBES`, see [`crate::model::probe::parse_probes`]).
    pub probes: Vec<Probe>,
    pub health: HealthPolicy,
    /// How long the audit trail keeps a decision (`STAGING_HISTORY_DAYS`, 400).
    pub history_days: u32,
    /// The SSM parameter holding the settings document (`STAGING_SETTINGS_PARAMETER`), read
    /// over these variables (see [`crate::settings`]).
    pub settings_parameter: Option<String>,
    /// The front door, wakes by invitation and the idle stop (`STAGING_URL`, `STAGING_WAKE_*`,
    /// `STAGING_IDLE_*`, `STAGING_INVITE_SECRET*`, the load balancer's names).
    pub front_door: FrontDoor,
}

/// When an idle staging is stopped (`STAGING_IDLE_STOP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdleStop {
    /// Never: only the calendar and holds decide.
    Off,
    /// An on-demand hold (a wake, `stagingctl up` out of hours) ends early when idle.
    #[default]
    OnDemand,
    /// Also in business hours: staging sleeps whenever nobody uses it.
    Always,
}

impl IdleStop {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::OnDemand => "on-demand",
            Self::Always => "always",
        }
    }
}

/// The front door (the page staging's address reaches while it sleeps), who may wake
/// staging from it, and when an unused staging goes back to sleep.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontDoor {
    /// The team's staging address (`STAGING_URL`), the same asleep or awake; invite links
    /// are made on it. No trailing slash.
    pub url: Option<String>,
    /// The invite-signing secret inline (`STAGING_INVITE_SECRET`: one, or two while
    /// rotating), or the ARN of the Secrets Manager secret holding it
    /// (`STAGING_INVITE_SECRET_ARN`, what a deployed function reads).
    pub invite_secrets: Vec<Secret>,
    pub invite_secret_arn: Option<String>,
    /// How long a wake keeps staging up unless it goes idle first (`STAGING_WAKE_FOR`, 1h).
    pub wake_for: Duration,
    /// Wakes per person per day (`STAGING_WAKE_PER_DAY`, 5).
    pub wake_per_day: u32,
    /// Hours awake from wakes per calendar month, for the team (`STAGING_WAKE_HOURS_MONTH`, 40).
    pub wake_hours_month: u32,
    /// No use for this long makes staging idle (`STAGING_IDLE_AFTER`, 30m).
    pub idle_after: Duration,
    /// What idleness stops (`STAGING_IDLE_STOP`).
    pub idle_stop: IdleStop,
    /// How long before an idle stop the team and the page are warned (`STAGING_IDLE_WARN`, 10m).
    pub idle_warn: Duration,
    /// Stack mode: how long an idle stop keeps the pause stack standing, the service at
    /// zero (a shallow sleep: a wake in about a minute), before the stack is deleted too
    /// (`STAGING_DEEP_SLEEP_AFTER`, 2h). The scheduled teardown deletes it sooner.
    pub deep_sleep_after: Duration,
    /// The load balancer in front of the app (`STAGING_LOAD_BALANCER`): whose requests and
    /// connections count as use.
    pub load_balancer: Option<LoadBalancer>,
    /// The listener the staging address arrives at (`STAGING_LISTENER_ARN`) and the two
    /// target groups its default action forwards to: the app's
    /// (`STAGING_APP_TARGET_GROUP_ARN`) while awake, the front door's
    /// (`STAGING_FRONT_DOOR_TARGET_GROUP_ARN`) while asleep. Scale mode; all three or none.
    pub routing: Option<Routing>,
}

/// Whose requests and connections the idle stop counts as use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadBalancer {
    /// One load balancer, as CloudWatch names it (`app/<name>/<id>`): given so, or as its
    /// ARN.
    Named(String),
    /// `pause-stack` (stack mode): the pause stack's own, looked up when the figures are
    /// read, since it gets a new id each time the stack is created.
    OfPauseStack,
}

/// The listener and the two target groups the staging address is switched between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    pub listener_arn: String,
    pub app_target_group_arn: String,
    pub front_door_target_group_arn: String,
}

impl Default for FrontDoor {
    fn default() -> Self {
        Self {
            url: None,
            invite_secrets: Vec::new(),
            invite_secret_arn: None,
            wake_for: Duration::from_secs(3600),
            wake_per_day: 5,
            wake_hours_month: 40,
            idle_after: Duration::from_secs(30 * 60),
            idle_stop: IdleStop::OnDemand,
            idle_warn: Duration::from_secs(10 * 60),
            deep_sleep_after: Duration::from_secs(2 * 3600),
            load_balancer: None,
            routing: None,
        }
    }
}

/// `STAGING_URL`, `STAGING_INVITE_SECRET[_ARN]`, `STAGING_WAKE_*`, `STAGING_IDLE_*`,
/// `STAGING_LOAD_BALANCER`, the listener and its target groups.
fn front_door(vars: Vars<'_>) -> Result<FrontDoor> {
    let d = FrontDoor::default();
    let url = vars
        .get("STAGING_URL")
        .map(|v| {
            let trimmed = v.trim().trim_end_matches('/').to_string();
            let host = trimmed.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            if is_http_url(&trimmed) && !host.is_empty() && !host.contains(['?', '#', ' ']) {
                Ok(trimmed)
            } else {
                Err(bad("STAGING_URL", &v, "expected the staging address, like https://api.staging.example.com"))
            }
        })
        .transpose()?;
    let invite_secrets = match vars.get("STAGING_INVITE_SECRET") {
        None => Vec::new(),
        Some(v) => parse_secrets(&v).map_err(|r| bad("STAGING_INVITE_SECRET", "<redacted>", &r))?,
    };
    let idle_stop = match vars.get("STAGING_IDLE_STOP").map(|v| v.trim().to_ascii_lowercase()) {
        None => d.idle_stop,
        Some(v) if v == "off" => IdleStop::Off,
        Some(v) if v == "on-demand" => IdleStop::OnDemand,
        Some(v) if v == "always" => IdleStop::Always,
        Some(v) => return Err(bad("STAGING_IDLE_STOP", &v, "expected off, on-demand or always")),
    };
    let idle_after = duration(vars, "STAGING_IDLE_AFTER", d.idle_after)?;
    let idle_warn = duration(vars, "STAGING_IDLE_WARN", d.idle_warn)?;
    if idle_warn >= idle_after {
        return Err(bad(
            "STAGING_IDLE_WARN",
            &humantime::format_duration(idle_warn).to_string(),
            &format!("must be shorter than STAGING_IDLE_AFTER ({})", humantime::format_duration(idle_after)),
        ));
    }
    let load_balancer = vars
        .get("STAGING_LOAD_BALANCER")
        .map(|v| {
            let v = v.trim();
            if v == "pause-stack" {
                let stack_mode = vars.get("STAGING_TEARDOWN").is_some_and(|t| t.trim().eq_ignore_ascii_case("stack"));
                return if stack_mode {
                    Ok(LoadBalancer::OfPauseStack)
                } else {
                    Err(bad("STAGING_LOAD_BALANCER", v, "pause-stack needs STAGING_TEARDOWN=stack"))
                };
            }
            let name = v.split_once(":loadbalancer/").map(|(_, n)| n).unwrap_or(v);
            let parts: Vec<&str> = name.split('/').collect();
            if parts.len() == 3 && parts[0] == "app" && parts.iter().all(|p| !p.is_empty()) {
                Ok(LoadBalancer::Named(name.to_string()))
            } else {
                Err(bad(
                    "STAGING_LOAD_BALANCER",
                    v,
                    "expected app/<name>/<id>, the load balancer's ARN, or pause-stack (stack mode)",
                ))
            }
        })
        .transpose()?;
    let routing = match (
        vars.get("STAGING_LISTENER_ARN"),
        vars.get("STAGING_APP_TARGET_GROUP_ARN"),
        vars.get("STAGING_FRONT_DOOR_TARGET_GROUP_ARN"),
    ) {
        (None, None, None) => None,
        (Some(l), Some(a), Some(f)) => Some(Routing {
            listener_arn: l.trim().into(),
            app_target_group_arn: a.trim().into(),
            front_door_target_group_arn: f.trim().into(),
        }),
        (l, ..) => {
            return Err(bad(
                "STAGING_LISTENER_ARN",
                l.as_deref().unwrap_or(""),
                "set it with STAGING_APP_TARGET_GROUP_ARN and STAGING_FRONT_DOOR_TARGET_GROUP_ARN, all three or none",
            ));
        }
    };
    Ok(FrontDoor {
        url,
        invite_secrets,
        invite_secret_arn: vars.get("STAGING_INVITE_SECRET_ARN").map(|v| v.trim().to_string()),
        wake_for: duration(vars, "STAGING_WAKE_FOR", d.wake_for)?,
        wake_per_day: count(vars, "STAGING_WAKE_PER_DAY", d.wake_per_day)?,
        wake_hours_month: hours_in_month(vars, "STAGING_WAKE_HOURS_MONTH", d.wake_hours_month)?,
        idle_after,
        idle_stop,
        idle_warn,
        deep_sleep_after: duration(vars, "STAGING_DEEP_SLEEP_AFTER", d.deep_sleep_after)?,
        load_balancer,
        routing,
    })
}

/// A whole number of hours from 1 to 744 (a month); `default` when unset.
fn hours_in_month(vars: Vars<'_>, name: &'static str, default: u32) -> Result<u32> {
    match vars.get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n @ 1..=744) => Ok(n),
            _ => Err(bad(name, &v, "expected a whole number of hours from 1 to 744")),
        },
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`, so tests need not touch the process environment.
    /// Each group of variables is read by its own step below (public where a command needs
    /// one group alone: `stagingctl plan` the filters, `schedule` the business hours), in
    /// this order, which is the order a bad value is found in.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let vars = Vars::new(&lookup);
        let business_hours = business_hours(vars)?;
        let Holds { hold_default, hold_max, deploy_grace } = holds(vars)?;
        let budget = budget_policy(vars)?;
        let Cost { cost_tag, gbp_per_usd, budget_amount } = cost(vars)?;
        let resources = resources(vars);
        let teardown = teardown(vars)?;
        let github = github(vars)?;
        let probes = probes(vars)?;
        let health = health_policy(vars)?;
        let history_days = history_days(vars)?;
        let settings_parameter = settings_parameter(vars)?;
        let front_door = front_door(vars)?;
        // The two YAML documents are read last, as they always were.
        let rates = rates(vars)?;
        let filters = filters(vars)?;
        Ok(Self {
            environment: vars
                .get("STAGING_ENVIRONMENT")
                .map(|e| e.trim().to_string())
                .unwrap_or_else(|| "staging".into()),
            business_hours,
            hold_default,
            hold_max,
            deploy_grace,
            budget,
            budget_amount,
            cost_tag,
            rates,
            gbp_per_usd,
            filters,
            resources,
            teardown,
            github,
            probes,
            health,
            history_days,
            settings_parameter,
            front_door,
        })
    }
}

/// The variables as the configuration reads them, through a lookup (the process
/// environment, a test's table, the settings document over the environment): an empty or
/// blank value counts as unset, as a template's empty parameter does.
#[derive(Clone, Copy)]
pub struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl<'a> Vars<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self(lookup)
    }

    /// The process environment.
    pub fn env() -> Vars<'static> {
        fn var(name: &str) -> Option<String> {
            std::env::var(name).ok()
        }
        Vars(&var)
    }

    /// The variable's value; `None` when it is unset, empty or blank.
    pub fn get(self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }
}

/// The business hours (`STAGING_TIME_ZONE`, `STAGING_WORKING_DAYS`, `STAGING_UP_TIME`,
/// `STAGING_DOWN_TIME`, `STAGING_HOLIDAYS`).
pub fn business_hours(vars: Vars<'_>) -> Result<BusinessHours> {
    let mut hours = BusinessHours::default();
    if let Some(v) = vars.get("STAGING_TIME_ZONE") {
        hours.time_zone = v
            .trim()
            .parse::<Tz>()
            .map_err(|_| bad("STAGING_TIME_ZONE", &v, "expected an IANA time zone like Europe/London"))?;
    }
    if let Some(v) = vars.get("STAGING_WORKING_DAYS") {
        hours.working_days = parse_working_days(&v).map_err(|reason| bad("STAGING_WORKING_DAYS", &v, &reason))?;
    }
    if let Some(v) = vars.get("STAGING_UP_TIME") {
        hours.up_time = if v.trim().eq_ignore_ascii_case("none") {
            None
        } else {
            Some(parse_time(&v).map_err(|r| bad("STAGING_UP_TIME", &v, &r))?)
        };
    }
    if let Some(v) = vars.get("STAGING_DOWN_TIME") {
        hours.down_time = parse_time(&v).map_err(|r| bad("STAGING_DOWN_TIME", &v, &r))?;
    }
    if let Some(up) = hours.up_time
        && up >= hours.down_time
    {
        let value = format!("{}", hours.down_time.format("%H:%M"));
        return Err(bad(
            "STAGING_DOWN_TIME",
            &value,
            &format!("must be later than STAGING_UP_TIME ({})", up.format("%H:%M")),
        ));
    }
    if let Some(v) = vars.get("STAGING_HOLIDAYS") {
        hours.holidays = parse_holidays(&v).map_err(|r| bad("STAGING_HOLIDAYS", &v, &r))?;
    }
    Ok(hours)
}

/// How long holds last, and a dispatched deploy may stay silent.
struct Holds {
    hold_default: Duration,
    hold_max: Duration,
    deploy_grace: Duration,
}

/// `STAGING_HOLD_DEFAULT` (at most `STAGING_HOLD_MAX`), `STAGING_HOLD_MAX`, `STAGING_DEPLOY_GRACE`.
fn holds(vars: Vars<'_>) -> Result<Holds> {
    let hold_default = duration(vars, "STAGING_HOLD_DEFAULT", Duration::from_secs(2 * 3600))?;
    let hold_max = duration(vars, "STAGING_HOLD_MAX", Duration::from_secs(12 * 3600))?;
    if hold_default > hold_max {
        return Err(bad(
            "STAGING_HOLD_DEFAULT",
            &humantime::format_duration(hold_default).to_string(),
            &format!("must not exceed STAGING_HOLD_MAX ({})", humantime::format_duration(hold_max)),
        ));
    }
    let deploy_grace = duration(vars, "STAGING_DEPLOY_GRACE", Duration::from_secs(30 * 60))?;
    Ok(Holds { hold_default, hold_max, deploy_grace })
}

/// A duration like `2h` or `90m`, longer than zero; `default` when unset.
fn duration(vars: Vars<'_>, name: &'static str, default: Duration) -> Result<Duration> {
    match vars.get(name) {
        None => Ok(default),
        Some(v) => match humantime::parse_duration(v.trim()) {
            Ok(d) if d.is_zero() => Err(bad(name, &v, "must be longer than zero")),
            Ok(d) => Ok(d),
            Err(e) => Err(bad(name, &v, &format!("expected a duration like 2h or 90m ({e})"))),
        },
    }
}

/// When a budget alert acts (`STAGING_BUDGET_*_PERCENT`); the warning at most the lock.
fn budget_policy(vars: Vars<'_>) -> Result<BudgetPolicy> {
    let defaults = BudgetPolicy::default();
    let budget = BudgetPolicy {
        warn_percent: percent(vars, "STAGING_BUDGET_WARN_PERCENT", defaults.warn_percent)?,
        lock_percent: percent(vars, "STAGING_BUDGET_LOCK_PERCENT", defaults.lock_percent)?,
        forecast_percent: percent(vars, "STAGING_BUDGET_FORECAST_PERCENT", defaults.forecast_percent)?,
    };
    if budget.warn_percent > budget.lock_percent {
        return Err(bad(
            "STAGING_BUDGET_WARN_PERCENT",
            &budget.warn_percent.to_string(),
            &format!("must not exceed STAGING_BUDGET_LOCK_PERCENT ({})", budget.lock_percent),
        ));
    }
    Ok(budget)
}

/// A percentage from 1 to 1000; `default` when unset.
fn percent(vars: Vars<'_>, name: &'static str, default: u64) -> Result<u64> {
    match vars.get(name) {
        None => Ok(default),
        // A CloudFormation Number may arrive as `80.5`: whole percent, rounded down.
        Some(v) => match v.trim().trim_end_matches('%').parse::<f64>() {
            Ok(p) if (1.0..=1000.0).contains(&p) => Ok(p as u64),
            _ => Err(bad(name, &v, "expected a percentage from 1 to 1000, like 80")),
        },
    }
}

/// What the cost reports read besides the rates.
struct Cost {
    cost_tag: Option<(String, String)>,
    gbp_per_usd: Option<f64>,
    budget_amount: Option<BudgetAmount>,
}

/// `STAGING_COST_TAG`, `STAGING_GBP_PER_USD`, `STAGING_BUDGET_AMOUNT` with `STAGING_BUDGET_CURRENCY`.
fn cost(vars: Vars<'_>) -> Result<Cost> {
    let cost_tag = vars
        .get("STAGING_COST_TAG")
        .map(|v| match v.trim().split_once('=') {
            Some((k, val)) if !k.trim().is_empty() && !val.trim().is_empty() => {
                Ok((k.trim().to_string(), val.trim().to_string()))
            }
            _ => Err(bad("STAGING_COST_TAG", &v, "expected a cost-allocation tag like Environment=staging")),
        })
        .transpose()?;

    let gbp_per_usd = vars
        .get("STAGING_GBP_PER_USD")
        .map(|v| match v.trim().parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 && r < 100.0 => Ok(r),
            _ => Err(bad("STAGING_GBP_PER_USD", &v, "expected pounds per dollar, like 0.79")),
        })
        .transpose()?;

    let budget_amount = vars
        .get("STAGING_BUDGET_AMOUNT")
        .map(|v| match v.trim().parse::<f64>() {
            Ok(a) if a.is_finite() && a > 0.0 => Ok(a),
            _ => Err(bad("STAGING_BUDGET_AMOUNT", &v, "expected the monthly budget, a number above zero like 60")),
        })
        .transpose()?
        .map(|amount| match vars.get("STAGING_BUDGET_CURRENCY").map(|c| c.trim().to_string()) {
            None => Ok(BudgetAmount { amount, currency: "USD".into() }),
            Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => {
                Ok(BudgetAmount { amount, currency: c })
            }
            Some(c) => Err(bad("STAGING_BUDGET_CURRENCY", &c, "expected a three-letter currency code like USD")),
        })
        .transpose()?;
    Ok(Cost { cost_tag, gbp_per_usd, budget_amount })
}

/// The AWS resources' names; any may be unset.
fn resources(vars: Vars<'_>) -> Resources {
    Resources {
        cluster: vars.get("STAGING_CLUSTER"),
        service: vars.get("STAGING_SERVICE"),
        table: vars.get("STAGING_TABLE"),
        team_topic_arn: vars.get("STAGING_TEAM_TOPIC_ARN"),
        team_queue_url: vars.get("STAGING_TEAM_QUEUE_URL"),
        schedule_group: vars.get("STAGING_SCHEDULE_GROUP"),
        scheduler_role_arn: vars.get("STAGING_SCHEDULER_ROLE_ARN"),
        lifecycle_function_arn: vars.get("STAGING_LIFECYCLE_FUNCTION_ARN"),
        schedule_dlq_arn: vars.get("STAGING_SCHEDULE_DLQ_ARN"),
        budget_name: vars.get("STAGING_BUDGET_NAME"),
        pause_stack_role_arn: vars.get("STAGING_PAUSE_STACK_ROLE_ARN").map(|v| v.trim().to_string()),
    }
}

/// `STAGING_TEARDOWN` (`scale` or `stack`), and in `stack` mode `STAGING_PAUSE_STACK`.
fn teardown(vars: Vars<'_>) -> Result<Teardown> {
    Ok(match vars.get("STAGING_TEARDOWN").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("scale") => Teardown::Scale,
        Some("stack") => match vars.get("STAGING_PAUSE_STACK").map(|v| v.trim().to_string()) {
            Some(name) if is_stack_name(&name) => Teardown::Stack(name),
            Some(name) => {
                return Err(bad(
                    "STAGING_PAUSE_STACK",
                    &name,
                    "expected a CloudFormation stack name (a letter, then letters, digits and hyphens; at most 128)",
                ));
            }
            None => {
                return Err(bad(
                    "STAGING_PAUSE_STACK",
                    "",
                    "STAGING_TEARDOWN=stack needs the name of the stack to pause",
                ));
            }
        },
        Some(other) => return Err(bad("STAGING_TEARDOWN", other, "expected scale or stack")),
    })
}

/// The `GITHUB_*` variables.
fn github(vars: Vars<'_>) -> Result<GitHub> {
    let repository = vars
        .get("GITHUB_REPOSITORY")
        .map(|v| parse_repository(&v).map_err(|r| bad("GITHUB_REPOSITORY", &v, &r)))
        .transpose()?;
    let webhook_secrets = match vars.get("GITHUB_WEBHOOK_SECRET") {
        None => Vec::new(),
        Some(v) => parse_secrets(&v).map_err(|r| bad("GITHUB_WEBHOOK_SECRET", "<redacted>", &r))?,
    };
    let api_url = vars
        .get("GITHUB_API_URL")
        .map(|v| {
            let trimmed = v.trim().trim_end_matches('/').to_string();
            if is_http_url(&trimmed) {
                Ok(trimmed)
            } else {
                Err(bad("GITHUB_API_URL", &v, "expected an http:// or https:// URL"))
            }
        })
        .transpose()?
        .unwrap_or_else(|| "https://api.github.com".into());
    let text =
        |name: &str, default: &str| vars.get(name).map(|v| v.trim().to_string()).unwrap_or_else(|| default.into());
    Ok(GitHub {
        repository,
        branch: text("GITHUB_BRANCH", "develop"),
        webhook_secrets,
        webhook_secret_arn: vars.get("GITHUB_WEBHOOK_SECRET_ARN"),
        token: vars.get("GITHUB_TOKEN").map(|t| Secret::new(t.trim())),
        token_arn: vars.get("GITHUB_TOKEN_ARN"),
        deploy_workflow: text("GITHUB_DEPLOY_WORKFLOW", "deploy-staging.yml"),
        deploy_type_input: text("GITHUB_DEPLOY_TYPE_INPUT", "deployment-type"),
        skip_tests_input: text("GITHUB_SKIP_TESTS_INPUT", "skip-tests"),
        migrate_input: vars.get("GITHUB_MIGRATE_INPUT").map(|w| w.trim().to_string()),
        api_url,
    })
}

/// What the health check probes (`STAGING_PROBES`).
fn probes(vars: Vars<'_>) -> Result<Vec<Probe>> {
    match vars.get("STAGING_PROBES") {
        None => Ok(Vec::new()),
        // A probe URL may carry a token: errors never repeat a query or user-info.
        Some(v) => crate::model::probe::parse_probes(&v).map_err(|r| {
            bad("STAGING_PROBES", &crate::model::probe::redact_urls(&v), &crate::model::probe::redact_urls(&r))
        }),
    }
}

/// When a tick alerts, heals and reminds (`STAGING_HEALTH_*`, `STAGING_HEAL_*`,
/// `STAGING_AUTO_ROLLBACK`).
fn health_policy(vars: Vars<'_>) -> Result<HealthPolicy> {
    let policy = HealthPolicy::default();
    let auto_rollback = match vars.get("STAGING_AUTO_ROLLBACK").map(|v| v.trim().to_ascii_lowercase()) {
        None => false,
        Some(v) if v == "true" => true,
        Some(v) if v == "false" => false,
        Some(v) => return Err(bad("STAGING_AUTO_ROLLBACK", &v, "expected true or false")),
    };
    Ok(HealthPolicy {
        failures: count(vars, "STAGING_HEALTH_FAILURES", policy.failures)?,
        successes: count(vars, "STAGING_HEALTH_SUCCESSES", policy.successes)?,
        reminder: duration(vars, "STAGING_HEALTH_REMINDER", policy.reminder)?,
        // `0s` turns the grace period off.
        grace: match vars.get("STAGING_HEALTH_GRACE").map(|v| v.trim().to_string()) {
            Some(v) if v == "0" || v == "0s" => Duration::ZERO,
            _ => duration(vars, "STAGING_HEALTH_GRACE", policy.grace)?,
        },
        heal_after: count(vars, "STAGING_HEAL_AFTER", policy.heal_after)?,
        heal_interval: duration(vars, "STAGING_HEAL_INTERVAL", policy.heal_interval)?,
        auto_rollback,
    })
}

/// A whole number from 1 to 100; `default` when unset.
fn count(vars: Vars<'_>, name: &'static str, default: u32) -> Result<u32> {
    match vars.get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n @ 1..=100) => Ok(n),
            _ => Err(bad(name, &v, "expected a whole number from 1 to 100")),
        },
    }
}

/// How long the audit trail keeps a decision (`STAGING_HISTORY_DAYS`).
fn history_days(vars: Vars<'_>) -> Result<u32> {
    match vars.get("STAGING_HISTORY_DAYS") {
        None => Ok(DEFAULT_KEEP_DAYS as u32),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n @ 1..=3650) => Ok(n),
            _ => Err(bad("STAGING_HISTORY_DAYS", &v, "expected a whole number of days from 1 to 3650")),
        },
    }
}

/// The Parameter Store parameter holding the settings document (`STAGING_SETTINGS_PARAMETER`).
pub fn settings_parameter(vars: Vars<'_>) -> Result<Option<String>> {
    vars.get("STAGING_SETTINGS_PARAMETER")
        .map(|v| match v.trim() {
            name if is_parameter_name(name) => Ok(name.to_string()),
            _ => Err(bad("STAGING_SETTINGS_PARAMETER", &v, "expected a Parameter Store name like /staging/settings")),
        })
        .transpose()
}

/// The paths-filter document: `STAGING_FILTERS` (inline) or `STAGING_FILTERS_FILE`.
pub fn filters(vars: Vars<'_>) -> Result<Option<YamlSetting>> {
    yaml_setting(vars, "STAGING_FILTERS", "STAGING_FILTERS_FILE")
}

/// The rates replacing the list prices: `STAGING_RATES` (inline) or `STAGING_COST_FILE`.
fn rates(vars: Vars<'_>) -> Result<Option<YamlSetting>> {
    yaml_setting(vars, "STAGING_RATES", "STAGING_COST_FILE")
}

/// A YAML document a team writes (path filters, rates), where it comes from. A Lambda zip
/// holds only `bootstrap`, so a deployed function takes the text inline; the file form is
/// for local use. The text is parsed by its own parser where it is used, and a bad one
/// names [`YamlSetting::variable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlSetting {
    /// The document itself, from `variable`.
    Inline { variable: &'static str, text: String },
    /// A file holding it, named by `variable`.
    File { variable: &'static str, path: PathBuf },
}

impl YamlSetting {
    /// The variable the setting came from, for messages.
    pub fn variable(&self) -> &'static str {
        match self {
            Self::Inline { variable, .. } | Self::File { variable, .. } => variable,
        }
    }

    /// The setting as a message shows it: the file's path, never an inline document.
    pub fn shown(&self) -> String {
        match self {
            Self::File { path, .. } => path.display().to_string(),
            Self::Inline { variable, .. } => format!("<the document in {variable}>"),
        }
    }
}

/// The inline form or the file form of one YAML setting; both at once is ambiguous.
fn yaml_setting(vars: Vars<'_>, inline: &'static str, file: &'static str) -> Result<Option<YamlSetting>> {
    match (vars.get(inline), vars.get(file)) {
        (Some(_), Some(path)) => {
            Err(bad(inline, "<set>", &format!("set either {inline} or {file} (now {path}), not both")))
        }
        (Some(text), None) => Ok(Some(YamlSetting::Inline { variable: inline, text })),
        (None, Some(path)) => Ok(Some(YamlSetting::File { variable: file, path: PathBuf::from(path) })),
        (None, None) => Ok(None),
    }
}

/// A Parameter Store parameter's name as the template grants it: `/`, then path segments
/// of letters, digits and `_.-`, at most 1011 characters.
pub fn is_parameter_name(name: &str) -> bool {
    name.len() <= 1011
        && name.starts_with('/')
        && name[1..]
            .split('/')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)))
}

/// A CloudFormation stack name: a letter, then letters, digits and hyphens, at most 128.
fn is_stack_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn bad(variable: &'static str, value: &str, reason: &str) -> Error {
    Error::Config { variable, value: value.to_string(), reason: reason.to_string() }
}

/// `HH:MM` (24-hour).
fn parse_time(value: &str) -> std::result::Result<NaiveTime, String> {
    NaiveTime::parse_from_str(value.trim(), "%H:%M")
        .map_err(|_| "expected a 24-hour time like 08:00, or `none`".to_string())
}

/// `Mon-Fri`, `Mon,Tue,Thu`, `Fri-Mon` (wrapping), or a mix.
pub fn parse_working_days(value: &str) -> std::result::Result<WorkingDays, String> {
    let day = |s: &str| -> std::result::Result<Weekday, String> {
        s.trim()
            .parse::<Weekday>()
            .map_err(|_| format!("`{}` is not a day; use Mon..Sun, ranges like Mon-Fri, or lists", s.trim()))
    };
    let mut days = WorkingDays::NONE;
    for part in value.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (day(first)?, day(last)?);
                let mut d = first;
                days = days.with(d);
                while d != last {
                    d = d.succ();
                    days = days.with(d);
                }
            }
            None => days = days.with(day(part)?),
        }
    }
    Ok(days)
}

/// Comma-separated `YYYY-MM-DD`.
fn parse_holidays(value: &str) -> std::result::Result<BTreeSet<NaiveDate>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("`{s}` is not a date like 2026-12-25")))
        .collect()
}

fn parse_repository(value: &str) -> std::result::Result<Repository, String> {
    let v = value.trim();
    match v.split_once('/') {
        Some((owner, name))
            if !owner.is_empty() && !name.is_empty() && !name.contains('/') && !v.contains(char::is_whitespace) =>
        {
            Ok(Repository { owner: owner.into(), name: name.into() })
        }
        _ => Err("expected owner/name".into()),
    }
}

/// One secret, or two separated by a comma while rotating. The error never quotes them.
fn parse_secrets(value: &str) -> std::result::Result<Vec<Secret>, String> {
    let secrets: Vec<Secret> = value.split(',').map(|s| Secret::new(s.trim())).collect();
    if secrets.iter().any(|s| s.expose().is_empty()) {
        return Err("a comma-separated entry is empty".into());
    }
    if secrets.len() > 2 {
        return Err(format!("expected one secret, or two while rotating; found {}", secrets.len()));
    }
    Ok(secrets)
}

/// When a tick alerts, heals and reminds (`STAGING_HEALTH_*`, `STAGING_HEAL_*`,
/// `STAGING_AUTO_ROLLBACK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    /// Failing (or slow) ticks in a row that make it unhealthy (or degraded).
    pub failures: u32,
    /// Answering (or fast) ticks in a row that resolve it.
    pub successes: u32,
    /// How often an outage is told again.
    pub reminder: Duration,
    /// After a start, a deployment or a rollback: counted, not alerted.
    pub grace: Duration,
    /// Failing ticks in a row before a new deployment is forced.
    pub heal_after: u32,
    /// At most one forced deployment per this.
    pub heal_interval: Duration,
    /// Roll back a deployment that turns unhealthy within the grace period.
    pub auto_rollback: bool,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            failures: 2,
            successes: 2,
            reminder: Duration::from_secs(3600),
            grace: Duration::from_secs(600),
            heal_after: 3,
            heal_interval: Duration::from_secs(3600),
            auto_rollback: false,
        }
    }
}

/// How long an entry is kept (DynamoDB TTL), unless `STAGING_HISTORY_DAYS` says.
pub const DEFAULT_KEEP_DAYS: i64 = 400;

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests {
    use super::*;
    use crate::model::probe::Probe;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.environment, "staging");
        assert_eq!(c.business_hours, BusinessHours::default());
        assert_eq!(c.hold_default, Duration::from_secs(7200));
        assert_eq!(c.hold_max, Duration::from_secs(43200));
        assert_eq!(c.deploy_grace, Duration::from_secs(1800));
        assert_eq!(c.budget, BudgetPolicy { warn_percent: 80, lock_percent: 100, forecast_percent: 100 });
        assert_eq!(c.github.migrate_input, None);
        assert!(!c.github.can_dispatch());
        assert_eq!(c.github.branch, "develop");
        assert_eq!(c.github.deploy_workflow, "deploy-staging.yml");
        assert_eq!(
            (c.github.deploy_type_input.as_str(), c.github.skip_tests_input.as_str()),
            ("deployment-type", "skip-tests")
        );
        assert_eq!(c.github.api_url, "https://api.github.com");
        assert!(c.github.token.is_none() && c.github.webhook_secrets.is_empty());
        assert!(c.filters.is_none() && c.rates.is_none() && c.probes.is_empty());
        assert_eq!(c.health, HealthPolicy::default());
    }

    #[test]
    fn a_yaml_setting_is_inline_or_a_file_never_both() {
        const INLINE: &str = "backend: ['server/**']";
        #[rustfmt::skip]
        let cases: Vec<(&[(&str, &str)], std::result::Result<(Option<YamlSetting>, Option<YamlSetting>), &str>)> = vec![
            (&[], Ok((None, None))),
            (&[("STAGING_FILTERS", INLINE)], Ok((Some(YamlSetting::Inline { variable: "STAGING_FILTERS", text: INLINE.into() }), None))),
            (&[("STAGING_FILTERS_FILE", "f.yml")], Ok((Some(YamlSetting::File { variable: "STAGING_FILTERS_FILE", path: "f.yml".into() }), None))),
            (&[("STAGING_RATES", "ecs: {hourly_usd: 0.1}")], Ok((None, Some(YamlSetting::Inline { variable: "STAGING_RATES", text: "ecs: {hourly_usd: 0.1}".into() })))),
            (&[("STAGING_COST_FILE", "r.yml")], Ok((None, Some(YamlSetting::File { variable: "STAGING_COST_FILE", path: "r.yml".into() })))),
            // An empty value is unset, as every template parameter's default is.
            (&[("STAGING_FILTERS", " "), ("STAGING_FILTERS_FILE", "f.yml")], Ok((Some(YamlSetting::File { variable: "STAGING_FILTERS_FILE", path: "f.yml".into() }), None))),
            (&[("STAGING_FILTERS", INLINE), ("STAGING_FILTERS_FILE", "f.yml")], Err("STAGING_FILTERS")),
            (&[("STAGING_RATES", "x: 1"), ("STAGING_COST_FILE", "r.yml")], Err("STAGING_RATES")),
        ];
        for (vars, expected) in cases {
            match (config(vars), expected) {
                (Ok(c), Ok(settings)) => assert_eq!((c.filters, c.rates), settings, "{vars:?}"),
                (Err(Error::Config { variable, reason, .. }), Err(named)) => {
                    assert_eq!(variable, named, "{vars:?}");
                    assert!(reason.contains("not both"), "{reason}");
                }
                (got, want) => panic!("{vars:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn the_budget_amount_is_read_with_its_currency() {
        let amount = |vars: &[(&str, &str)]| config(vars).map(|c| c.budget_amount);
        assert_eq!(amount(&[]).unwrap(), None);
        assert_eq!(
            amount(&[("STAGING_BUDGET_AMOUNT", "60")]).unwrap(),
            Some(BudgetAmount { amount: 60.0, currency: "USD".into() })
        );
        assert_eq!(
            amount(&[("STAGING_BUDGET_AMOUNT", "5.5"), ("STAGING_BUDGET_CURRENCY", "GBP")]).unwrap(),
            Some(BudgetAmount { amount: 5.5, currency: "GBP".into() })
        );
        for (vars, named) in [
            (&[("STAGING_BUDGET_AMOUNT", "sixty")][..], "STAGING_BUDGET_AMOUNT"),
            (&[("STAGING_BUDGET_AMOUNT", "0")][..], "STAGING_BUDGET_AMOUNT"),
            (&[("STAGING_BUDGET_AMOUNT", "60"), ("STAGING_BUDGET_CURRENCY", "dollars")][..], "STAGING_BUDGET_CURRENCY"),
        ] {
            match amount(vars) {
                Err(Error::Config { variable, .. }) => assert_eq!(variable, named, "{vars:?}"),
                other => panic!("{vars:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_variable_is_read() {
        let c = config(&[
            ("STAGING_TIME_ZONE", "Europe/London"),
            ("STAGING_WORKING_DAYS", "Mon,Tue,Thu"),
            ("STAGING_UP_TIME", "09:30"),
            ("STAGING_DOWN_TIME", "17:45"),
            ("STAGING_HOLIDAYS", "2026-12-25, 2026-12-28"),
            ("STAGING_HOLD_DEFAULT", "90m"),
            ("STAGING_HOLD_MAX", "1h 45m"),
            ("STAGING_FILTERS_FILE", ".github/filters.yml"),
            ("STAGING_ENVIRONMENT", "qa"),
            ("STAGING_CLUSTER", "c"),
            ("STAGING_SERVICE", "s"),
            ("STAGING_TABLE", "t"),
            ("STAGING_TEAM_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:team"),
            ("STAGING_TEAM_QUEUE_URL", "http://127.0.0.1:5055/123456789012/team"),
            ("STAGING_SCHEDULE_GROUP", "g"),
            ("STAGING_SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("STAGING_LIFECYCLE_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:l"),
            ("STAGING_BUDGET_NAME", "b"),
            ("GITHUB_REPOSITORY", "acme/app"),
            ("GITHUB_BRANCH", "main"),
            ("GITHUB_WEBHOOK_SECRET", "new,old"),
            ("GITHUB_WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:w"),
            ("GITHUB_TOKEN", "ghp_x"),
            ("GITHUB_TOKEN_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:t"),
            ("GITHUB_DEPLOY_WORKFLOW", "deploy.yml"),
            ("GITHUB_DEPLOY_TYPE_INPUT", "type"),
            ("GITHUB_SKIP_TESTS_INPUT", "fast"),
            ("GITHUB_MIGRATE_INPUT", "migrate"),
            ("STAGING_DEPLOY_GRACE", "45m"),
            ("STAGING_BUDGET_WARN_PERCENT", "75"),
            ("STAGING_BUDGET_LOCK_PERCENT", "110%"),
            ("STAGING_BUDGET_FORECAST_PERCENT", "120"),
            ("GITHUB_API_URL", "http://127.0.0.1:8080/"),
            ("STAGING_PROBES", "backend=https://api.example.com/api/health, frontend=https://example.com"),
            ("STAGING_HEALTH_FAILURES", "3"),
            ("STAGING_HEALTH_SUCCESSES", "4"),
            ("STAGING_HEALTH_REMINDER", "30m"),
            ("STAGING_HEALTH_GRACE", "5m"),
            ("STAGING_HEAL_AFTER", "6"),
            ("STAGING_HEAL_INTERVAL", "2h"),
            ("STAGING_AUTO_ROLLBACK", "TRUE"),
        ])
        .unwrap();
        let h = &c.business_hours;
        assert_eq!(h.time_zone, chrono_tz::Europe::London);
        assert_eq!(h.working_days.to_string(), "Mon,Tue,Thu");
        assert_eq!(h.up_time, NaiveTime::from_hms_opt(9, 30, 0));
        assert_eq!(h.down_time, NaiveTime::from_hms_opt(17, 45, 0).unwrap());
        assert_eq!(h.holidays.len(), 2);
        assert_eq!(c.hold_default, Duration::from_secs(5400));
        assert_eq!(c.hold_max, Duration::from_secs(6300));
        assert_eq!(
            c.filters,
            Some(YamlSetting::File { variable: "STAGING_FILTERS_FILE", path: PathBuf::from(".github/filters.yml") })
        );
        assert_eq!(c.environment, "qa");
        assert_eq!(c.resources.budget_name.as_deref(), Some("b"));
        assert_eq!(c.resources.team_queue_url.as_deref(), Some("http://127.0.0.1:5055/123456789012/team"));
        assert_eq!(c.github.repository.as_ref().unwrap().to_string(), "acme/app");
        assert_eq!(c.github.branch, "main");
        assert_eq!(c.github.webhook_secrets, [Secret::new("new"), Secret::new("old")]);
        assert_eq!(c.github.token.as_ref().unwrap().expose(), "ghp_x");
        assert_eq!(c.github.api_url, "http://127.0.0.1:8080");
        assert_eq!(c.github.deploy_workflow, "deploy.yml");
        assert_eq!((c.github.deploy_type_input.as_str(), c.github.skip_tests_input.as_str()), ("type", "fast"));
        assert_eq!(c.github.migrate_input.as_deref(), Some("migrate"));
        assert_eq!(c.deploy_grace, Duration::from_secs(2700));
        assert_eq!(c.budget, BudgetPolicy { warn_percent: 75, lock_percent: 110, forecast_percent: 120 });
        assert!(c.github.can_dispatch());
        assert_eq!(c.probes[1], Probe::new("frontend", "https://example.com"));
        assert_eq!(
            c.health,
            HealthPolicy {
                failures: 3,
                successes: 4,
                reminder: Duration::from_secs(1800),
                grace: Duration::from_secs(300),
                heal_after: 6,
                heal_interval: Duration::from_secs(7200),
                auto_rollback: true,
            }
        );
    }

    #[test]
    fn the_account_id_comes_from_the_configured_arns() {
        let cases: &[(&[(&str, &str)], Option<&str>)] = &[
            (&[("STAGING_TEAM_TOPIC_ARN", "arn:aws:sns:eu-west-2:123456789012:team")], Some("123456789012")),
            (&[("STAGING_SCHEDULER_ROLE_ARN", "arn:aws:iam::210987654321:role/r")], Some("210987654321")),
            (
                &[
                    ("STAGING_TEAM_TOPIC_ARN", "not-an-arn"),
                    ("STAGING_LIFECYCLE_FUNCTION_ARN", "arn:aws:lambda:us-east-1:111122223333:function:f"),
                ],
                Some("111122223333"),
            ),
            (&[], None),
        ];
        for (vars, expected) in cases {
            assert_eq!(config(vars).unwrap().resources.account_id(), *expected, "{vars:?}");
        }
    }

    #[test]
    fn working_day_forms() {
        let cases = [
            ("Mon-Fri", "Mon-Fri"),
            ("Mon,Tue,Wed,Thu,Fri", "Mon-Fri"),
            ("mon,TUE,thu", "Mon,Tue,Thu"),
            ("Fri-Mon", "Mon,Fri-Sun"),
            ("Mon-Wed,Fri", "Mon-Wed,Fri"),
            ("Sat-Sun", "Sat,Sun"),
            ("Sunday", "Sun"),
            ("Mon-Sun", "Mon-Sun"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_working_days(input).unwrap().to_string(), expected, "{input}");
        }
    }

    #[test]
    fn the_health_grace_period_can_be_turned_off() {
        assert_eq!(config(&[("STAGING_HEALTH_GRACE", "0s")]).unwrap().health.grace, Duration::ZERO);
    }

    #[test]
    fn on_demand_only_has_no_up_time() {
        let c = config(&[("STAGING_UP_TIME", "none")]).unwrap();
        assert_eq!(c.business_hours.up_time, None);
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str)] = &[
            ("STAGING_TIME_ZONE", "Mars/Olympus", r#"STAGING_TIME_ZONE="Mars/Olympus": expected an IANA time zone"#),
            ("STAGING_WORKING_DAYS", "Mon-Fryday", r#"STAGING_WORKING_DAYS="Mon-Fryday": `Fryday` is not a day"#),
            ("STAGING_UP_TIME", "8am", r#"STAGING_UP_TIME="8am": expected a 24-hour time"#),
            ("STAGING_DOWN_TIME", "25:00", r#"STAGING_DOWN_TIME="25:00""#),
            ("STAGING_DOWN_TIME", "07:00", r#"STAGING_DOWN_TIME="07:00": must be later than STAGING_UP_TIME (08:00)"#),
            ("STAGING_HOLIDAYS", "2026-12-25,25/12/2026", r#"STAGING_HOLIDAYS="2026-12-25,25/12/2026": `25/12/2026` is not a date"#),
            ("STAGING_HOLD_DEFAULT", "two hours", r#"STAGING_HOLD_DEFAULT="two hours": expected a duration"#),
            ("STAGING_HOLD_MAX", "0s", r#"STAGING_HOLD_MAX="0s": must be longer than zero"#),
            ("STAGING_HOLD_DEFAULT", "13h", r#"STAGING_HOLD_DEFAULT="13h": must not exceed STAGING_HOLD_MAX (12h)"#),
            ("GITHUB_REPOSITORY", "acme", r#"GITHUB_REPOSITORY="acme": expected owner/name"#),
            ("GITHUB_REPOSITORY", "a/b/c", r#"GITHUB_REPOSITORY="a/b/c": expected owner/name"#),
            ("GITHUB_API_URL", "api.github.com", r#"GITHUB_API_URL="api.github.com": expected an http"#),
            ("STAGING_PROBES", "backend", r#"STAGING_PROBES="backend": `backend` is not name=url"#),
            ("STAGING_PROBES", "a=ftp://x", r#"STAGING_PROBES="a=ftp://x": `a=ftp://x` is not name=http(s)"#),
            ("STAGING_PROBES", "a=http://x,a=http://y", "probe `a` is named twice"),
            ("STAGING_PROBES", "a=http://x;latency=2", "probe `a`: `latency=2`: expected a duration"),
            ("STAGING_HEALTH_FAILURES", "0", r#"STAGING_HEALTH_FAILURES="0": expected a whole number from 1 to 100"#),
            ("STAGING_HEAL_AFTER", "three", r#"STAGING_HEAL_AFTER="three": expected a whole number"#),
            ("STAGING_HEALTH_REMINDER", "soon", r#"STAGING_HEALTH_REMINDER="soon": expected a duration"#),
            ("STAGING_AUTO_ROLLBACK", "yes", r#"STAGING_AUTO_ROLLBACK="yes": expected true or false"#),
            ("STAGING_LOAD_BALANCER", "staging-alb", r#"STAGING_LOAD_BALANCER="staging-alb": expected app/<name>/<id>"#),
            ("STAGING_LOAD_BALANCER", "pause-stack", r#"STAGING_LOAD_BALANCER="pause-stack": pause-stack needs STAGING_TEARDOWN=stack"#),
            ("STAGING_DEEP_SLEEP_AFTER", "later", r#"STAGING_DEEP_SLEEP_AFTER="later": expected a duration"#),
        ];
        for (name, value, expected) in cases {
            let err = config(&[(name, value)]).unwrap_err().to_string();
            assert!(err.contains(expected), "{name}={value}: got `{err}`");
        }
    }

    #[test]
    fn the_load_balancer_is_named_once_or_the_pause_stacks() {
        let arn = "arn:aws:elasticloadbalancing:eu-west-2:123456789012:loadbalancer/app/staging/50dc6c495c0c9188";
        let lb = |vars: &[(&str, &str)]| config(vars).unwrap().front_door.load_balancer;
        assert_eq!(lb(&[]), None);
        assert_eq!(
            lb(&[("STAGING_LOAD_BALANCER", arn)]),
            Some(LoadBalancer::Named("app/staging/50dc6c495c0c9188".into()))
        );
        let stack =
            [("STAGING_TEARDOWN", "stack"), ("STAGING_PAUSE_STACK", "app"), ("STAGING_LOAD_BALANCER", "pause-stack")];
        assert_eq!(lb(&stack), Some(LoadBalancer::OfPauseStack));
    }

    #[test]
    fn a_bad_secret_is_named_but_never_shown() {
        for value in ["s3cret-one,", "s3cret-one,s3cret-two,s3cret-three"] {
            let err = config(&[("GITHUB_WEBHOOK_SECRET", value)]).unwrap_err().to_string();
            assert!(err.starts_with(r#"GITHUB_WEBHOOK_SECRET="<redacted>""#), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let c = config(&[("GITHUB_WEBHOOK_SECRET", "hunter2"), ("GITHUB_TOKEN", "ghp_topsecret")]).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2") && !debug.contains("ghp_topsecret"), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[("GITHUB_TOKEN", ""), ("STAGING_TIME_ZONE", " "), ("GITHUB_BRANCH", "")]).unwrap();
        assert!(c.github.token.is_none());
        assert_eq!(c.business_hours.time_zone, Tz::UTC);
        assert_eq!(c.github.branch, "develop");
    }
}
