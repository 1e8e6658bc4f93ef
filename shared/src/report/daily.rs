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
mod tests {
    use super::*;
    use crate::model::state::{DeploymentStatus, RunOutcome};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn services(pairs: &[(&str, f64)]) -> Vec<ServiceCost> {
        pairs.iter().map(|(s, usd)| ServiceCost { service: s.to_string(), usd: *usd }).collect()
    }

    #[test]
    fn the_bill_range_covers_the_month_and_yesterday() {
        assert_eq!(bill_range(utc("2026-11-27T07:00:00.3Z")), (day("2026-11-01"), day("2026-11-27")));
        assert_eq!(bill_range(utc("2026-12-01T07:00:00Z")), (day("2026-11-30"), day("2026-12-01")));
    }

    #[test]
    fn a_report_with_the_bill_and_without() {
        let config = Config::from_lookup(|_| None).unwrap();
        let model = CostModel::default();
        let now = utc("2026-11-27T07:00:00.42Z");
        let mut state = EnvironmentState::new("staging");
        for (sha, status) in [("a", DeploymentStatus::Succeeded), ("b", DeploymentStatus::Failed)] {
            state.queue_deployment(sha, crate::DeploymentPlan::FULL, utc("2026-11-20T10:00:00Z"));
            state.dispatch_pending(utc("2026-11-20T10:00:00Z"), chrono::Duration::minutes(30));
            let outcome =
                RunOutcome { status, built_sha: sha.into(), run_url: None, run_id: None, duration_secs: None };
            state.deployment_finished(outcome, utc("2026-11-20T10:05:00Z")).unwrap();
        }
        let bill = Bill {
            days: vec![
                (day("2026-11-25"), services(&[("Amazon Elastic Container Service", 0.10)])),
                (
                    day("2026-11-26"),
                    services(&[("Amazon Elastic Container Service", 0.12), ("Elastic Load Balancing", 0.54)]),
                ),
            ],
        };
        let facts = CostFacts { bill: Ok(bill), forecast_usd: Err("GetCostForecast is not available".into()) };
        let (r, n) = daily_report(&state, &facts, now, &config, &model);
        assert_eq!((r.day, r.yesterday_usd.map(|u| (u * 100.0).round())), (day("2026-11-26"), Some(66.0)));
        assert_eq!(r.yesterday_by_service[0].service, "Elastic Load Balancing");
        assert_eq!(r.month_to_date_usd.map(|u| (u * 100.0).round()), Some(76.0));
        assert_eq!((r.deployments, r.deployments_succeeded), (2, 1));
        assert_eq!(r.cost_per_deployment_usd.map(|u| (u * 100.0).round()), Some(38.0));
        assert!((r.controller_usd_per_month - 0.60).abs() < 1e-9);
        assert!(!r.within_target, "the list-price model is over £5");
        assert_eq!((n.event, n.severity), (NotificationEvent::CostReport, Severity::Info));
        assert_eq!(n.subject, "staging: cost $0.66 on Nov 26, $0.76 this month, OVER target");
        for line in [
            "Yesterday (2026-11-26): $0.66",
            "Month to date (2026-11): $0.76",
            "Forecast: unavailable (GetCostForecast is not available)",
            "Deployments this month: 2 (1 succeeded), $0.38 per deployment",
            "Staging Control itself: $0.60 a month",
            "Cheapest way to meet £5.00: stack_on_demand (£3.57/month, ready in ~10 min, assumed); it runs as scale\n",
        ] {
            assert!(n.body.contains(line), "missing {line:?} in\n{}", n.body);
        }

        // Rows with nothing billed are no data; the model fills in the month so far.
        let empty = CostFacts { bill: Ok(Bill { days: vec![(day("2026-11-26"), Vec::new())] }), forecast_usd: Ok(0.5) };
        let (r, n) = daily_report(&EnvironmentState::new("staging"), &empty, now, &config, &model);
        assert!(r.yesterday_usd.is_none() && r.bill_unavailable.is_some());
        assert!(n.body.starts_with("Cost Explorer has no data for this month yet"), "{}", n.body);
        assert!(!r.within_target, "the model's month so far is already over £5");
        assert_eq!(n.subject, "staging: cost report Nov 26 (no bill data), OVER target");

        // A small bill so far and a small forecast for the rest: on target; the month is
        // the two together, not the forecast alone.
        let small = CostFacts {
            bill: Ok(Bill { days: vec![(day("2026-11-26"), services(&[("Amazon Elastic Container Service", 4.0)]))] }),
            forecast_usd: Ok(1.5),
        };
        let (r, _) = daily_report(&EnvironmentState::new("staging"), &small, now, &config, &model);
        assert!((r.expected_gbp - 5.5 * 0.79).abs() < 1e-9, "{}", r.expected_gbp);
        assert!(r.within_target);
        let (r, _) = daily_report(
            &EnvironmentState::new("staging"),
            &CostFacts { forecast_usd: Ok(3.0), ..small },
            now,
            &config,
            &model,
        );
        assert!(!r.within_target, "$4 billed + $3 to come is over £5");
    }

    #[test]
    fn the_report_names_the_cheapest_way_to_meet_the_target() {
        use crate::model::state::UpWindow;
        use crate::report::cost::Mode::*;
        let now = utc("2026-11-27T07:00:00.42Z");
        let facts = CostFacts { bill: Ok(Bill { days: Vec::new() }), forecast_usd: Err("none".into()) };
        let scale = Config::from_lookup(|_| None).unwrap();
        let on_demand_stack = Config::from_lookup(|k| match k {
            "STAGING_TEARDOWN" => Some("stack".into()),
            "STAGING_PAUSE_STACK" => Some("staging-pause".into()),
            "STAGING_UP_TIME" => Some("none".into()),
            _ => None,
        })
        .unwrap();
        // 15 h on demand in the last 30 days (one window with sub-second ends), and the
        // pause stack's creates timed.
        let mut recorded = EnvironmentState::new("staging");
        // Recording began 30 days ago (a scheduled hour then).
        recorded.up_windows = vec![
            UpWindow { from: utc("2026-10-28T07:00:00.5Z"), to: utc("2026-10-28T08:00:00.5Z"), on_demand: false },
            UpWindow { from: utc("2026-11-20T09:00:00.5Z"), to: utc("2026-11-21T00:00:00.5Z"), on_demand: true },
        ];
        assert_eq!(crate::report::cost::Recorded::from_state(&recorded, now).days, 30);
        // Records of one week count as a week, not as thirty days.
        let week = EnvironmentState { up_windows: recorded.up_windows[1..].to_vec(), ..recorded.clone() };
        assert_eq!(crate::report::cost::Recorded::from_state(&week, now).days, 7);
        // ...unless recording began earlier and the weeks between were quiet.
        let quiet = EnvironmentState { up_windows_since: Some(utc("2026-09-01T08:00:00.5Z")), ..week };
        assert_eq!(crate::report::cost::Recorded::from_state(&quiet, now).days, 30);
        for secs in [380, 420, 460] {
            recorded.record_stack_start(secs);
        }
        let seed = CostModel::default().with_rates_yaml(include_str!("../../../events/cost.seed.yml")).unwrap();
        let nothing = EnvironmentState::new("staging");
        #[rustfmt::skip]
        let cases: &[(&str, &EnvironmentState, &Config, &CostModel, Option<crate::report::cost::Mode>, &str)] = &[
            ("nothing recorded, list prices", &nothing, &scale, &CostModel::default(), Some(StackOnDemand),
                "Cheapest way to meet £5.00: stack_on_demand (£3.57/month, ready in ~10 min, assumed); it runs as scale\n"),
            ("recorded use and starts, configured on demand", &recorded, &on_demand_stack, &CostModel::default(), Some(StackOnDemand),
                "Cheapest way to meet £5.00: stack_on_demand (£1.53/month, ready in ~7 min, recorded); that is how it runs\n"),
            ("the seed's rates: nothing meets £5", &nothing, &scale, &seed, None,
                "No mode meets £5.00; cheapest: stack_on_demand (£6.54/month, ready in ~10 min, assumed); it runs as scale\n"),
        ];
        for (name, state, config, model, meeting, line) in cases {
            let (r, n) = daily_report(state, &facts, now, config, model);
            assert_eq!(r.cheapest_mode_meeting_target, *meeting, "{name}");
            assert_eq!(r.cheapest_mode.mode, StackOnDemand, "{name}");
            assert!(n.body.contains(line), "{name}: missing {line:?} in\n{}", n.body);
        }
        let (r, _) = daily_report(&recorded, &facts, now, &on_demand_stack, &CostModel::default());
        assert_eq!(r.configured_mode, StackOnDemand);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["cheapest_mode_meeting_target"], "stack_on_demand");
        assert_eq!(json["cheapest_mode"]["time_to_ready_secs"], 420);
        assert_eq!(json["cheapest_mode"]["time_to_ready_recorded"], true);
    }
}
