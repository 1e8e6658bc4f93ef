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
        let outcome = RunOutcome { status, built_sha: sha.into(), run_url: None, run_id: None, duration_secs: None };
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
    let seed = CostModel::default().with_rates_yaml(include_str!("../../../../events/cost.seed.yml")).unwrap();
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
