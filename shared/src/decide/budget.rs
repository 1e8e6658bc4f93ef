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
mod tests;
