//! The daily cost report, pure: what the bill says (Cost Explorer's figures, when there
//! are any), what the model projects, and whether the month stays under the target.
//! The shell fetches the figures; everything said about them is decided here.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::model::action::{Notification, NotificationEvent, Severity};
use crate::model::state::{BudgetPeriod, EnvironmentState};
use crate::report::cost::{CostModel, Mode, ModeCost, Recorded};
use crate::time::whole_seconds;

/// What one Cost Explorer request costs.
pub const COST_EXPLORER_REQUEST_USD: f64 = 0.01;
/// Requests the report makes a day: the costs, and the forecast.
pub const REQUESTS_PER_REPORT: u32 = 2;

/// One service's spend on one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceCost {
    pub service: String,
    pub usd: f64,
}

/// What Cost Explorer says, day by day, from the start of the month (or yesterday, on
/// the 1st) to today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bill {
    /// Each day's spend by service, oldest first.
    pub days: Vec<(NaiveDate, Vec<ServiceCost>)>,
}

/// What the shell could learn: the bill and the forecast, or why not.
#[derive(Debug, Clone, PartialEq)]
pub struct CostFacts {
    pub bill: Result<Bill, String>,
    pub forecast_usd: Result<f64, String>,
}

/// The report's figures (`stagingctl report --day --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyReport {
    pub month: BudgetPeriod,
    pub day: NaiveDate,
    /// Yesterday's spend, and by service (largest first); `None` without data.
    pub yesterday_usd: Option<f64>,
    pub yesterday_by_service: Vec<ServiceCost>,
    pub month_to_date_usd: Option<f64>,
    /// Why there are no figures from the bill, when there are none.
    pub bill_unavailable: Option<String>,
    pub forecast_usd: Option<f64>,
    pub forecast_unavailable: Option<String>,
    /// The model's projection of the whole month under the schedule.
    pub projected_usd: f64,
    pub projected_gbp: f64,
    /// Scheduled up-hours from the start of the month to now.
    pub up_hours_so_far: f64,
    pub deployments: u32,
    pub deployments_succeeded: u32,
    /// Month-to-date spend per deployment, when both are known.
    pub cost_per_deployment_usd: Option<f64>,
    /// What the report itself costs a month (Cost Explorer requests).
    pub controller_usd_per_month: f64,
    /// The month's expected spend in pounds: the forecast when there is one, else the model.
    pub expected_gbp: f64,
    pub target_gbp: f64,
    pub within_target: bool,
    /// The way staging is configured to run (`STAGING_TEARDOWN`, `STAGING_UP_TIME`).
    pub configured_mode: Mode,
    /// The cheapest way of running staging that keeps the month within the target, by
    /// the model and the state's records (`stagingctl cost --compare`); `None` when none does.
    pub cheapest_mode_meeting_target: Option<Mode>,
    /// That mode's month, or the cheapest mode's when none meets the target.
    pub cheapest_mode: ModeCost,
}

/// The day a report made at `now` is about, and the range of days to ask the bill for:
/// the month so far, and yesterday (on the 1st, yesterday is last month).
pub fn bill_range(now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let today = now.date_naive();
    let yesterday = today.pred_opt().unwrap_or(today);
    let month_start = today.with_day(1).unwrap_or(today);
    (month_start.min(yesterday), today)
}

/// Builds the report and the message that tells the team.
pub fn daily_report(
    state: &EnvironmentState,
    facts: &CostFacts,
    clock: DateTime<Utc>,
    config: &Config,
    model: &CostModel,
) -> (DailyReport, Notification) {
    let now = whole_seconds(clock);
    let today = now.date_naive();
    let yesterday = today.pred_opt().unwrap_or(today);
    let month = BudgetPeriod::containing(now);
    let (start, end) = month.bounds();
    let projection = model.project(&config.business_hours, start, end);
    let so_far = model.project(&config.business_hours, start, now);

    let total = |services: &[ServiceCost]| services.iter().map(|s| s.usd).sum::<f64>();
    let (yesterday_usd, yesterday_by_service, month_to_date_usd, bill_unavailable) = match &facts.bill {
        // Cost Explorer answers a row a day even with nothing billed: only groups with
        // a figure are data.
        Ok(bill) if bill.days.iter().any(|(_, services)| !services.is_empty()) => {
            let row = bill.days.iter().find(|(day, _)| *day == yesterday);
            let mut by_service: Vec<ServiceCost> = row.map(|(_, services)| services.clone()).unwrap_or_default();
            by_service.sort_by(|a, b| b.usd.total_cmp(&a.usd));
            let mtd: f64 = bill.days.iter().filter(|(day, _)| day.month() == today.month() && day.year() == today.year()).map(|(_, s)| total(s)).sum();
            (row.map(|_| total(&by_service)), by_service, Some(mtd), None)
        }
        Ok(_) => (None, Vec::new(), None, Some("Cost Explorer has no data for this month yet (a new account, or the cost-allocation tag not active yet)".to_string())),
        Err(e) => (None, Vec::new(), None, Some(format!("Cost Explorer could not be read: {e}"))),
    };
    let (forecast_usd, forecast_unavailable) = match &facts.forecast_usd {
        Ok(f) => (Some(*f), None),
        Err(e) => (None, Some(e.clone())),
    };
    let tally = state.deployments_this_month(now);
    let cost_per_deployment_usd = match (month_to_date_usd, tally.count) {
        (Some(mtd), n) if n > 0 => Some(mtd / f64::from(n)),
        _ => None,
    };
    let days_in_month = (end - start).num_days().max(1) as f64;
    let controller_usd_per_month = COST_EXPLORER_REQUEST_USD * f64::from(REQUESTS_PER_REPORT) * days_in_month;
    // The month = what is billed so far + what is still to come. The forecast covers
    // today to the month's end; the model fills in whichever part the bill lacks.
    // The model's month in the mode staging runs in (stack mode stops more than `project`,
    // which is the scale view); so far, in proportion.
    let configured = Mode::configured(&config.teardown, &config.business_hours);
    let modes =
        model.compare(&config.business_hours, start, end, config.hold_default, &Recorded::from_state(state, now));
    let scale_usd = modes.mode(Mode::Scale).monthly_usd;
    let ratio = if scale_usd > 0.0 { modes.mode(configured).monthly_usd / scale_usd } else { 1.0 };
    let (model_month_usd, model_so_far_usd) = (projection.scheduled_usd * ratio, so_far.scheduled_usd * ratio);
    let model_rest = (model_month_usd - model_so_far_usd).max(0.0);
    let month_usd = month_to_date_usd.unwrap_or(model_so_far_usd) + forecast_usd.unwrap_or(model_rest);
    // Filtered by the staging tag, the bill leaves out Cost Explorer's own charges.
    let controller = if config.cost_tag.is_some() { controller_usd_per_month } else { 0.0 };
    let expected_gbp = (month_usd + controller) * model.gbp_per_usd;
    let cheapest = modes.cheapest_meeting_target.unwrap_or(modes.cheapest);
    let report = DailyReport {
        month,
        day: yesterday,
        yesterday_usd,
        yesterday_by_service,
        month_to_date_usd,
        bill_unavailable,
        forecast_usd,
        forecast_unavailable,
        projected_usd: model_month_usd,
        projected_gbp: model_month_usd * model.gbp_per_usd,
        up_hours_so_far: so_far.up_hours,
        deployments: tally.count,
        deployments_succeeded: tally.succeeded,
        cost_per_deployment_usd,
        controller_usd_per_month,
        expected_gbp,
        target_gbp: model.target_gbp,
        within_target: expected_gbp <= model.target_gbp,
        configured_mode: configured,
        cheapest_mode_meeting_target: modes.cheapest_meeting_target,
        cheapest_mode: modes.mode(cheapest).clone(),
    };
    let notification = message(&state.environment, &report, model);
    (report, notification)
}

fn message(environment: &str, r: &DailyReport, model: &CostModel) -> Notification {
    let money = |usd: f64| format!("${usd:.2}");
    let subject = match r.yesterday_usd {
        Some(y) => format!(
            "{environment}: cost {} on {}, {} this month, {}",
            money(y),
            r.day.format("%b %-d"),
            money(r.month_to_date_usd.unwrap_or_default()),
            if r.within_target { "on target" } else { "OVER target" }
        ),
        None => format!(
            "{environment}: cost report {} (no bill data), {}",
            r.day.format("%b %-d"),
            if r.within_target { "on target" } else { "OVER target" }
        ),
    };
    let mut body = String::new();
    match (&r.bill_unavailable, r.yesterday_usd) {
        (Some(why), _) => body.push_str(&format!("{why}; the figures below are the model's alone.\n")),
        (None, Some(y)) => {
            body.push_str(&format!("Yesterday ({}): {}\n", r.day, money(y)));
            for s in r.yesterday_by_service.iter().filter(|s| s.usd >= 0.005).take(8) {
                body.push_str(&format!("  {:<40} {}\n", s.service, money(s.usd)));
            }
            body.push_str(&format!(
                "Month to date ({}): {}\n",
                r.month,
                money(r.month_to_date_usd.unwrap_or_default())
            ));
        }
        (None, None) => {}
    }
    match (r.forecast_usd, &r.forecast_unavailable) {
        (Some(f), _) => body.push_str(&format!("Forecast for the rest of {}: {}\n", r.month, money(f))),
        (None, Some(why)) => body.push_str(&format!("Forecast: unavailable ({why})\n")),
        (None, None) => {}
    }
    body.push_str(&format!(
        "Model's projection for {}: {} (£{:.2}) with {:.1} scheduled up-hours so far\n",
        r.month,
        money(r.projected_usd),
        r.projected_gbp,
        r.up_hours_so_far
    ));
    body.push_str(&format!(
        "Deployments this month: {} ({} succeeded){}\n",
        r.deployments,
        r.deployments_succeeded,
        r.cost_per_deployment_usd.map(|c| format!(", {} per deployment", money(c))).unwrap_or_default()
    ));
    body.push_str(&format!(
        "Staging Control itself: {} a month (Cost Explorer, {} requests a day at {}); Lambda, DynamoDB and Scheduler stay in the free tier\n",
        money(r.controller_usd_per_month),
        REQUESTS_PER_REPORT,
        money(COST_EXPLORER_REQUEST_USD)
    ));
    body.push_str(&format!(
        "Expected month (billed so far + to come): £{:.2} against the £{:.2} target ({}; at £{:.2}/$)\n",
        r.expected_gbp,
        r.target_gbp,
        if r.within_target { "on target" } else { "over" },
        model.gbp_per_usd
    ));
    let m = &r.cheapest_mode;
    let lead = match r.cheapest_mode_meeting_target {
        Some(_) => format!("Cheapest way to meet £{:.2}", r.target_gbp),
        None => format!("No mode meets £{:.2}; cheapest", r.target_gbp),
    };
    body.push_str(&format!(
        "{lead}: {} (£{:.2}/month, ready {}{}); {}\n",
        m.mode,
        m.monthly_gbp,
        m.ready_in(),
        if m.time_to_ready_recorded {
            ", recorded"
        } else if m.time_to_ready_secs > 0 {
            ", assumed"
        } else {
            ""
        },
        if m.mode == r.configured_mode {
            "that is how it runs".to_string()
        } else {
            format!("it runs as {}", r.configured_mode)
        }
    ));
    Notification::new(NotificationEvent::CostReport, Severity::Info, subject, body)
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
