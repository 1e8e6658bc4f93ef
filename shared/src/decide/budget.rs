//! AWS Budgets notifications, pure: what an alert says (it arrives as plain text, not
//! JSON), and what it means for the environment — warn, or lock it for the budget
//! period and scale it to zero.
//!
//! AWS Budgets can stop EC2 or RDS by itself, but nothing stops an ECS service: this is
//! the part that does.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::decide::draft::Draft;
use crate::model::action::{Action, Decision, Notification, NotificationEvent, Severity};
use crate::model::observed::Observed;
use crate::model::state::{BudgetPeriod, EnvironmentState};
use crate::time::whole_seconds;

/// An amount of money in hundredths (cents, pence), with its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Amount {
    pub hundredths: u64,
    /// `USD`, `GBP`, `EUR`, `JPY`, or the code the message used.
    pub currency: String,
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = match self.currency.as_str() {
            "USD" => "$",
            "GBP" => "£",
            "EUR" => "€",
            _ => "",
        };
        let (units, cents) = (self.hundredths / 100, self.hundredths % 100);
        if symbol.is_empty() {
            write!(f, "{units}.{cents:02} {}", self.currency)
        } else {
            write!(f, "{symbol}{units}.{cents:02}")
        }
    }
}

/// Parses `$1,234.56`, `£6`, `€ 6.00`, `6.00 USD`, `USD 6.00`. More than two decimals
/// are cut (Budgets shows two).
pub fn parse_amount(text: &str) -> Option<Amount> {
    let text = text.trim().trim_start_matches(['>', '=', '≥']).trim();
    let (currency, number) = [("$", "USD"), ("£", "GBP"), ("€", "EUR"), ("¥", "JPY")]
        .iter()
        .find_map(|(symbol, code)| text.strip_prefix(symbol).map(|rest| (code.to_string(), rest.trim())))
        .or_else(|| {
            let (first, rest) = text.split_once(char::is_whitespace)?;
            is_code(first).then(|| (first.to_string(), rest.trim()))
        })
        .or_else(|| {
            let (rest, last) = text.rsplit_once(char::is_whitespace)?;
            is_code(last).then(|| (last.to_string(), rest.trim()))
        })?;
    let number: String = number.chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = number.split_once('.').unwrap_or((&number, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let cents: u64 = format!("{:0<2}", fraction.get(..2).unwrap_or(fraction)).parse().ok()?;
    Some(Amount { hundredths: whole.checked_mul(100)?.checked_add(cents)?, currency })
}

fn is_code(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Which figure crossed the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AlertType {
    Actual,
    Forecasted,
}

impl fmt::Display for AlertType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Actual => "ACTUAL",
            Self::Forecasted => "FORECASTED",
        })
    }
}

/// What an AWS Budgets notification says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetAlert {
    pub budget_name: String,
    pub budget_type: Option<String>,
    pub budgeted: Amount,
    pub alert_type: AlertType,
    /// The threshold as Budgets sends it: an amount.
    pub threshold: Amount,
    /// The actual or forecasted spend.
    pub amount: Amount,
    /// A daily budget ("per day") rather than a monthly one.
    pub daily: bool,
    /// The date in the notification's header (`AWS Budget Notification November 27, 2026`).
    pub notified_on: Option<chrono::NaiveDate>,
}

impl BudgetAlert {
    /// Where a decision on this alert came from, for the audit trail.
    pub fn origin(&self, message_id: &str) -> crate::audit::Origin {
        crate::audit::Origin::new(
            crate::audit::Source::Budget,
            "AWS Budgets",
            format!(
                "{} {} alert at {}% ({} of {}; message {message_id})",
                self.budget_name,
                self.alert_type,
                self.threshold_percent(),
                self.amount,
                self.budgeted
            ),
        )
    }

    /// The threshold as a whole percentage of the budgeted amount.
    pub fn threshold_percent(&self) -> u64 {
        percent(self.threshold.hundredths, self.budgeted.hundredths)
    }

    /// The spend as a whole percentage of the budgeted amount.
    pub fn amount_percent(&self) -> u64 {
        percent(self.amount.hundredths, self.budgeted.hundredths)
    }
}

/// `part` as a whole percentage of `whole` (0 when `whole` is 0: no budget to measure
/// against; the policy refuses to act on it).
fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    u64::try_from(u128::from(part) * 100 / u128::from(whole)).unwrap_or(u64::MAX)
}

/// A message from the budget topic: an alert, or something else (forwarded as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Alert(BudgetAlert),
    Other,
}

/// A budget notification that lacks what every one carries: cut short in transit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a truncated AWS Budgets notification: {reason}")]
pub struct Truncated {
    pub reason: String,
}

/// Parses an SNS message from the budget topic. Lines `Key: value` in any order, CRLF or
/// LF. A message without the notification's header or any of its fields is `Other`; one
/// with the header or `Budget Name:` but without a field every notification has is
/// truncated.
pub fn parse_message(subject: Option<&str>, text: &str) -> Result<Message, Truncated> {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let (key, value) = line.trim().split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    };
    // The notification's header, or its two defining fields together: a note that merely
    // mentions a budget is forwarded, not refused as a truncated alert.
    let looks_like_one = text.lines().any(|l| l.trim_start().starts_with("AWS Budget Notification"))
        || (field("Budget Name").is_some() && field("Alert Type").is_some());
    let _ = subject;
    if !looks_like_one {
        return Ok(Message::Other);
    }
    let missing = |name: &str| Truncated { reason: format!("no `{name}:` line") };
    let unreadable = |name: &str, value: &str| Truncated { reason: format!("`{name}: {value}` is not an amount") };
    let amount = |name: &str| -> Result<Amount, Truncated> {
        let value = field(name).ok_or_else(|| missing(name))?;
        parse_amount(value).ok_or_else(|| unreadable(name, value))
    };
    let budget_name = field("Budget Name").filter(|n| !n.is_empty()).ok_or_else(|| missing("Budget Name"))?;
    let alert_type = match field("Alert Type").map(str::to_ascii_uppercase).as_deref() {
        Some("ACTUAL") => AlertType::Actual,
        Some("FORECASTED") => AlertType::Forecasted,
        Some(other) => {
            return Err(Truncated { reason: format!("alert type `{other}` is neither ACTUAL nor FORECASTED") });
        }
        None => return Err(missing("Alert Type")),
    };
    let amount_field = format!("{alert_type} Amount");
    let alert = BudgetAlert {
        budget_name: budget_name.to_string(),
        budget_type: field("Budget Type").map(str::to_string),
        budgeted: amount("Budgeted Amount")?,
        alert_type,
        threshold: amount("Alert Threshold")?,
        amount: amount(&amount_field)?,
        daily: text.contains("per day") || text.contains("current day"),
        notified_on: text.lines().find_map(|line| {
            let date = line.trim().strip_prefix("AWS Budget Notification")?.trim();
            chrono::NaiveDate::parse_from_str(date, "%B %d, %Y").ok()
        }),
    };
    Ok(Message::Alert(alert))
}

/// What identifies an alert within its budget period: its type and threshold.
fn alert_key(alert: &BudgetAlert, period: BudgetPeriod) -> String {
    format!("{period}:{}:{}", alert.alert_type, alert.threshold_percent())
}

/// What a budget alert means now. A repeat (the same SNS message id, or the same type
/// and threshold already handled this budget period) does nothing and tells nobody.
/// ACTUAL spend at or over the lock threshold → locked for the period and scaled to
/// zero now, critical; FORECASTED at or over its threshold → warning, and on-demand
/// holds capped at `STAGING_HOLD_DEFAULT` for the rest of the period; ACTUAL at or over
/// the warning threshold → warning; anything under → told as a warning, nothing else.
pub fn decide(
    state: &EnvironmentState,
    observed: Observed,
    alert: &BudgetAlert,
    message_id: &str,
    clock: DateTime<Utc>,
    config: &Config,
) -> Decision {
    let now = whole_seconds(clock);
    let current = BudgetPeriod::containing(now);
    // The period the alert is about is the one it was sent in: a November alert delivered
    // just after midnight on 1 December must not lock December.
    let period = alert
        .notified_on
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|t| BudgetPeriod::containing(t.and_utc()))
        .unwrap_or(current);
    let key = alert_key(alert, period);
    let mut p = Draft::new(state, observed, now, config);
    if p.next.recent_alerts.iter().any(|k| *k == key || (!message_id.is_empty() && k == message_id)) {
        return p.into_decision(format!("already handled: {} at {}%", alert.alert_type, alert.threshold_percent()));
    }
    p.next.remember_alert(key);
    if !message_id.is_empty() {
        p.next.remember_alert(message_id.to_string());
    }

    let env = p.next.environment.clone();
    let policy = &config.budget;
    let percent = alert.amount_percent();
    let figures = format!(
        "Budget {}: {} of {} budgeted ({percent}%){}; alert threshold {} ({}%).",
        alert.budget_name,
        alert.amount,
        alert.budgeted,
        if alert.alert_type == AlertType::Forecasted { ", forecast for the period" } else { " spent" },
        alert.threshold,
        alert.threshold_percent(),
    );
    let env_ = env.clone();
    let only_tell = |p: &mut Draft<'_>, why: String| {
        let subject = format!("{env_}: budget alert: {} {percent}%", alert.alert_type);
        p.notify(NotificationEvent::BudgetWarning, Severity::Warning, subject, format!("{figures}\n\n{why}"));
        format!("warned: {why}")
    };
    let summary = match alert.alert_type {
        _ if period != current => {
            only_tell(&mut p, format!("the alert is about {period}, which has ended; nothing was changed"))
        }
        _ if alert.budgeted.hundredths == 0 => {
            only_tell(&mut p, "the budgeted amount is zero; nothing was changed".into())
        }
        AlertType::Actual if percent >= policy.lock_percent && alert.daily => only_tell(
            &mut p,
            "a daily budget was exceeded; the lock is for a monthly budget, so nothing was changed".into(),
        ),
        AlertType::Actual if percent >= policy.lock_percent && p.next.active_budget_lock(now).is_some() => {
            let stopped = p.stop("locked by the budget");
            format!("already locked for {period}; {stopped}")
        }
        AlertType::Actual if percent >= policy.lock_percent => {
            let reason = format!("actual spend {} is {percent}% of the {} budget", alert.amount, alert.budgeted);
            p.next.lock_budget(now, reason);
            p.quiet = true;
            let stopped = p.stop("locked by the budget");
            p.quiet = false;
            let (_, end) = period.bounds();
            let subject = format!("{env}: LOCKED by the budget ({percent}% spent)");
            let body = format!(
                "{figures}\n\nStaging is locked for {period}: {}. Nothing starts it until the lock lifts by \
                 itself on {} (the next budget period), when the first startup brings it back at its \
                 earlier size. Pushes are recorded and deploy after the unlock.\n\nTo override: \
                 `stagingctl unlock` (lifts the lock) or `stagingctl up --force` (lifts it and starts now).",
                if stopped.starts_with("stopping") {
                    "the service was scaled to zero now"
                } else {
                    "it was already scaled to zero"
                },
                end.format("%Y-%m-%d"),
            );
            p.notify(NotificationEvent::BudgetLocked, Severity::Critical, subject, body);
            format!("locked for {period}; {stopped}")
        }
        AlertType::Forecasted if percent >= policy.forecast_percent => {
            p.next.hold_cap = Some(period);
            let subject = format!("{env}: forecast {percent}% of the budget");
            let then = if p.next.active_budget_lock(now).is_some() {
                "Staging is already locked by the budget.".to_string()
            } else {
                format!(
                    "If actual spend reaches {}% of the budget, staging is locked and scaled to zero.",
                    policy.lock_percent
                )
            };
            let body = format!(
                "{figures}\n\nOn-demand holds are capped at {} for the rest of {period} (the usual maximum is {}). {then}",
                humantime::format_duration(config.hold_default),
                humantime::format_duration(config.hold_max),
            );
            p.notify(NotificationEvent::BudgetWarning, Severity::Warning, subject, body);
            format!("warned: forecast {percent}%; holds capped for {period}")
        }
        kind => {
            let subject = format!("{env}: {} spend at {percent}% of the budget", kind.to_string().to_lowercase());
            let next = if kind == AlertType::Actual && percent >= policy.warn_percent {
                format!("At {}% actual spend staging is locked and scaled to zero.", policy.lock_percent)
            } else {
                "Below the thresholds that act; nothing was changed.".to_string()
            };
            p.notify(NotificationEvent::BudgetWarning, Severity::Warning, subject, format!("{figures}\n\n{next}"));
            format!("warned: {kind} {percent}%")
        }
    };
    p.into_decision(summary)
}

/// Whether an alert is about the budget this environment watches (`STAGING_BUDGET_NAME`;
/// unset: any budget that publishes to the topic).
pub fn is_ours(alert: &BudgetAlert, config: &Config) -> bool {
    config.resources.budget_name.as_deref().is_none_or(|name| name == alert.budget_name)
}

/// A message on the budget topic that is not an alert for our budget: told to the team
/// as it is, nothing else.
pub fn forward(environment: &str, subject: Option<&str>, text: &str) -> Action {
    let subject = format!("{environment}: budget topic: {}", subject.unwrap_or("(no subject)"));
    Action::Notify(Notification::new(NotificationEvent::BudgetWarning, Severity::Warning, subject, text))
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests {
    use super::*;
    use crate::model::state::Phase;

    /// The message of a sample SNS event in `events/`.
    fn sample(name: &str) -> String {
        let text = match name {
            "actual-over" => include_str!("../../../events/budget-alert.actual-over.json"),
            "actual-80" => include_str!("../../../events/budget-alert.actual-80.json"),
            "forecast" => include_str!("../../../events/budget-alert.forecast.json"),
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
            let err =
                Config::from_lookup(|n| (n == "STAGING_BUDGET_LOCK_PERCENT").then(|| value.to_string())).unwrap_err();
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
        for text in
            ["Budget Name: https://example.com:8080", "AWS Budgets: see the dashboard", "Quarterly Budget Name: x"]
        {
            assert_eq!(parse_message(Some("AWS Budgets: note"), text), Ok(Message::Other), "{text}");
        }
    }
}
