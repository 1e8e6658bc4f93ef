use super::*;
use crate::model::state::Phase;

/// The message of a sample SNS event in `events/`.
fn sample(name: &str) -> String {
    let text = match name {
        "actual-over" => include_str!("../../../../events/budget-alert.actual-over.json"),
        "actual-80" => include_str!("../../../../events/budget-alert.actual-80.json"),
        "forecast" => include_str!("../../../../events/budget-alert.forecast.json"),
        _ => unreachable!("no sample {name}"),
    };
    let event: serde_json::Value = serde_json::from_str(text).unwrap();
    event["Records"][0]["Sns"]["Message"].as_str().unwrap().to_string()
}

fn usd(hundredths: u64) -> Amount {
    Amount { hundredths, currency: "USD".into() }
}

#[test]
fn amounts_table() {
    let code = |h: u64, c: &str| Some(Amount { hundredths: h, currency: c.into() });
    #[rustfmt::skip]
    let cases: [(&str, Option<Amount>); 14] = [
        ("$6.00", Some(usd(600))), ("$1,234.56", Some(usd(123456))), ("> $6.00", Some(usd(600))),
        ("£5", code(500, "GBP")), ("€ 4.5", code(450, "EUR")), ("6.00 USD", Some(usd(600))),
        ("USD 6.00", Some(usd(600))), ("$0.129", Some(usd(12))), ("CHF 10.00", code(1000, "CHF")),
        ("$", None), ("$-5.00", None), ("six dollars", None), ("$1.2.3", None),
        ("$99999999999999999999", None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_amount(text), expected, "{text}");
    }
    assert_eq!(usd(123456).to_string(), "$1234.56");
    assert_eq!(Amount { hundredths: 1005, currency: "CHF".into() }.to_string(), "10.05 CHF");
}

#[test]
fn a_real_notification_parses() {
    let over = sample("actual-over");
    let Message::Alert(a) =
        parse_message(Some("AWS Budgets: staging-monthly has exceeded your alert threshold"), &over).unwrap()
    else {
        panic!("an alert")
    };
    assert_eq!(a.budget_name, "staging-monthly");
    assert_eq!((a.budgeted.clone(), a.threshold.clone(), a.amount.clone()), (usd(600), usd(600), usd(642)));
    assert_eq!(
        (a.alert_type, a.threshold_percent(), a.amount_percent(), a.daily),
        (AlertType::Actual, 100, 107, false)
    );
}

#[test]
fn notifications_table() {
    let over = sample("actual-over");
    let (at_80, forecast_sample) = (sample("actual-80"), sample("forecast"));
    let crlf = over.replace('\n', "\r\n");
    let reordered: String = over.lines().rev().collect::<Vec<_>>().join("\n");
    let daily = over.replace("for the current month", "per day");
    let pounds = over.replace('$', "£");
    let big = over.replace("$6.42", "$1,234.56");
    let truncated = &over[..over.find("Alert Threshold").unwrap()];
    // (name, text, Ok((type, threshold %, amount %, daily, currency)) or Err(reason fragment) or Other)
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, Result<Option<(AlertType, u64, u64, bool, &str)>, &str>)> = vec![
        ("actual over", &over, Ok(Some((AlertType::Actual, 100, 107, false, "USD")))),
        ("actual at 80%", &at_80, Ok(Some((AlertType::Actual, 80, 82, false, "USD")))),
        ("CRLF", &crlf, Ok(Some((AlertType::Actual, 100, 107, false, "USD")))),
        ("fields in any order", &reordered, Ok(Some((AlertType::Actual, 100, 107, false, "USD")))),
        ("forecast", &forecast_sample, Ok(Some((AlertType::Forecasted, 100, 151, false, "USD")))),
        ("daily budget", &daily, Ok(Some((AlertType::Actual, 100, 107, true, "USD")))),
        ("pounds", &pounds, Ok(Some((AlertType::Actual, 100, 107, false, "GBP")))),
        ("thousands", &big, Ok(Some((AlertType::Actual, 100, 20576, false, "USD")))),
        ("truncated", truncated, Err("no `Alert Threshold:` line")),
        ("unrelated", "Your EC2 reservation expires soon.", Ok(None)),
        ("empty", "", Ok(None)),
    ];
    for (name, text, expected) in cases {
        let got = parse_message(None, text).map(|m| match m {
            Message::Alert(a) => {
                Some((a.alert_type, a.threshold_percent(), a.amount_percent(), a.daily, a.amount.currency))
            }
            Message::Other => None,
        });
        match (got, expected) {
            (Ok(got), Ok(expected)) => {
                assert_eq!(got.as_ref().map(|g| (g.0, g.1, g.2, g.3, g.4.as_str())), expected, "{name}")
            }
            (Err(e), Err(fragment)) => assert!(e.to_string().contains(fragment), "{name}: {e}"),
            (got, expected) => panic!("{name}: got {got:?}, want {expected:?}"),
        }
    }
}

fn alert(alert_type: AlertType, threshold: u64, amount: u64) -> BudgetAlert {
    BudgetAlert {
        budget_name: "staging-monthly".into(),
        budget_type: Some("Cost".into()),
        budgeted: usd(600),
        alert_type,
        threshold: usd(threshold),
        amount: usd(amount),
        daily: false,
        notified_on: None,
    }
}

fn kinds(d: &Decision) -> Vec<String> {
    d.actions
        .iter()
        .map(|a| match a {
            Action::Notify(n) => format!("notify {} {}", n.event.as_str(), n.severity.as_str()),
            Action::ScaleService { desired_count } => format!("scale {desired_count}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn budget_policy_table() {
    let config = Config::from_lookup(|_| None).unwrap();
    let now: DateTime<Utc> = "2026-11-27T14:03:00.25Z".parse().unwrap();
    let up = Observed::counts(2, 2);
    let running = EnvironmentState { phase: Phase::Up, version: 4, ..EnvironmentState::new("staging") };
    let handled = {
        let mut s = running.clone();
        s.recent_alerts.push("2026-11:ACTUAL:100".into());
        s
    };
    #[rustfmt::skip]
    let cases: Vec<(&str, &EnvironmentState, BudgetAlert, &str, Vec<&str>, &str)> = vec![
        ("actual over 100%: locked, scaled to zero, critical", &running, alert(AlertType::Actual, 600, 642), "m1",
            vec!["scale 0", "notify budget.locked critical"], "locked for 2026-11; stopping"),
        ("actual at 80%: warned", &running, alert(AlertType::Actual, 480, 490), "m2",
            vec!["notify budget.warning warning"], "warned: ACTUAL 81%"),
        ("forecast over: warned, holds capped", &running, alert(AlertType::Forecasted, 600, 910), "m3",
            vec!["notify budget.warning warning"], "warned: forecast 151%; holds capped for 2026-11"),
        ("the same threshold again this period: nothing", &handled, alert(AlertType::Actual, 600, 700), "m4",
            vec![], "already handled: ACTUAL at 100%"),
        ("below every threshold: told only", &running, alert(AlertType::Actual, 300, 310), "m5",
            vec!["notify budget.warning warning"], "warned: ACTUAL 51%"),
    ];
    for (name, state, alert, id, expected, summary) in cases {
        let d = decide(state, up.clone(), &alert, id, now, &config);
        assert_eq!(kinds(&d), expected, "{name}");
        assert_eq!(d.summary, summary, "{name}");
    }
    let locked = decide(&running, up.clone(), &alert(AlertType::Actual, 600, 642), "m1", now, &config);
    assert!(locked.next_state.active_budget_lock(now).is_some());
    assert!(!locked.next_state.wants_running());
    let again = decide(
        &EnvironmentState { version: 5, ..locked.next_state.clone() },
        up.clone(),
        &alert(AlertType::Forecasted, 600, 900),
        "m1",
        now,
        &config,
    );
    assert!(again.actions.is_empty(), "the same SNS message id");
    let forecast = decide(&running, up.clone(), &alert(AlertType::Forecasted, 600, 910), "m3", now, &config);
    assert_eq!(forecast.next_state.hold_cap, Some(BudgetPeriod::containing(now)));
}

#[test]
fn after_a_forecast_over_the_budget_holds_are_capped_at_the_default_for_the_period() {
    let config = Config::from_lookup(|_| None).unwrap();
    let now: DateTime<Utc> = "2026-11-27T19:00:00.5Z".parse().unwrap();
    let state = EnvironmentState {
        hold_cap: Some(BudgetPeriod::containing(now)),
        version: 2,
        ..EnvironmentState::new("staging")
    };
    let hold = crate::decide::lifecycle::Command::Up {
        hold: Some(std::time::Duration::from_secs(12 * 3600)),
        reason: "x".into(),
        who: "bob".into(),
        force: false,
        keep: false,
    };
    let down = Observed::counts(0, 0);
    let d = crate::decide::lifecycle::decide(&state, down.clone(), &hold, now, &config).unwrap();
    assert_eq!(d.next_state.hold.unwrap().until, "2026-11-27T21:00:00Z".parse::<DateTime<Utc>>().unwrap());
    // An emergency bypass is not capped.
    let bypass = crate::decide::lifecycle::Command::Hold {
        duration: std::time::Duration::from_secs(12 * 3600),
        reason: "x".into(),
        who: "bob".into(),
    };
    let d = crate::decide::lifecycle::decide(&state, down.clone(), &bypass, now, &config).unwrap();
    assert_eq!(d.next_state.hold.unwrap().until, "2026-11-28T07:00:00Z".parse::<DateTime<Utc>>().unwrap());
    // Next month the cap is gone.
    let december: DateTime<Utc> = "2026-12-01T19:00:00Z".parse().unwrap();
    let d = crate::decide::lifecycle::decide(&state, down.clone(), &hold, december, &config).unwrap();
    assert_eq!(d.next_state.hold.unwrap().until, "2026-12-02T07:00:00Z".parse::<DateTime<Utc>>().unwrap());
}

#[test]
fn bad_thresholds_are_configuration_errors() {
    assert_eq!(
        Config::from_lookup(|n| (n == "STAGING_BUDGET_WARN_PERCENT").then(|| "80.5".to_string()))
            .unwrap()
            .budget
            .warn_percent,
        80
    );
    let err = Config::from_lookup(|n| (n == "STAGING_BUDGET_WARN_PERCENT").then(|| "120".to_string())).unwrap_err();
    assert!(err.to_string().contains("must not exceed STAGING_BUDGET_LOCK_PERCENT (100)"), "{err}");
    for value in ["0", "abc", "-5", "1001", "NaN"] {
        let err = Config::from_lookup(|n| (n == "STAGING_BUDGET_LOCK_PERCENT").then(|| value.to_string())).unwrap_err();
        assert!(err.to_string().starts_with("STAGING_BUDGET_LOCK_PERCENT="), "{err}");
    }
}

#[test]
fn an_alert_acts_on_the_period_it_was_sent_in() {
    let config = Config::from_lookup(|_| None).unwrap();
    let up = Observed::counts(1, 1);
    let running = EnvironmentState { phase: Phase::Up, version: 4, ..EnvironmentState::new("staging") };
    let Message::Alert(november) = parse_message(None, &sample("actual-over")).unwrap() else { panic!() };
    assert_eq!(november.notified_on, chrono::NaiveDate::from_ymd_opt(2026, 11, 27));
    // Delivered (or retried) just after midnight on 1 December: nothing is locked.
    let late = decide(&running, up.clone(), &november, "m1", "2026-12-01T00:00:04.5Z".parse().unwrap(), &config);
    assert_eq!(late.summary, "warned: the alert is about 2026-11, which has ended; nothing was changed");
    assert!(late.next_state.budget_lock.is_none());
    // December's own alert at the same threshold still acts.
    let december = BudgetAlert { notified_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 20), ..november.clone() };
    let d = decide(
        &EnvironmentState { version: 5, ..late.next_state },
        up,
        &december,
        "m2",
        "2026-12-20T10:00:00Z".parse().unwrap(),
        &config,
    );
    assert_eq!(d.summary, "locked for 2026-12; stopping");
}

#[test]
fn what_does_not_act_table() {
    let config = Config::from_lookup(|_| None).unwrap();
    let now: DateTime<Utc> = "2026-11-27T14:03:00Z".parse().unwrap();
    let up = Observed::counts(1, 1);
    let running = EnvironmentState { phase: Phase::Up, version: 4, ..EnvironmentState::new("staging") };
    let locked = {
        let mut s = running.clone();
        s.lock_budget(now, "earlier");
        s.phase = Phase::Down;
        s
    };
    let down = Observed::counts(0, 0);
    #[rustfmt::skip]
    let cases: Vec<(&str, &EnvironmentState, Observed, BudgetAlert, &str, Vec<&str>, &str)> = vec![
        ("a daily budget warns only", &running, up.clone(), BudgetAlert { daily: true, ..alert(AlertType::Actual, 600, 700) }, "d1",
            vec!["notify budget.warning warning"], "warned: a daily budget was exceeded; the lock is for a monthly budget, so nothing was changed"),
        ("a zero budget warns only", &running, up.clone(), BudgetAlert { budgeted: usd(0), ..alert(AlertType::Actual, 0, 700) }, "z1",
            vec!["notify budget.warning warning"], "warned: the budgeted amount is zero; nothing was changed"),
        ("a higher threshold while locked: no second lock notice", &locked, down.clone(), alert(AlertType::Actual, 720, 750), "h1",
            vec![], "already locked for 2026-11; already down"),
    ];
    for (name, state, observed, alert, id, expected, summary) in cases {
        let d = decide(state, observed, &alert, id, now, &config);
        assert_eq!(kinds(&d), expected, "{name}");
        assert_eq!(d.summary, summary, "{name}");
    }
    // An empty message id is not remembered as one.
    let first = decide(&running, up.clone(), &alert(AlertType::Actual, 480, 490), "", now, &config);
    assert!(!first.next_state.recent_alerts.iter().any(String::is_empty));
    let other = decide(
        &EnvironmentState { version: 5, ..first.next_state },
        up,
        &alert(AlertType::Forecasted, 600, 900),
        "",
        now,
        &config,
    );
    assert_eq!(other.summary, "warned: forecast 150%; holds capped for 2026-11");
}

#[test]
fn a_note_that_mentions_a_budget_is_not_an_alert() {
    for text in ["Budget Name: https://example.com:8080", "AWS Budgets: see the dashboard", "Quarterly Budget Name: x"]
    {
        assert_eq!(parse_message(Some("AWS Budgets: note"), text), Ok(Message::Other), "{text}");
    }
}
