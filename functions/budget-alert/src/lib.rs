//! budget-alert: the SNS topic AWS Budgets publishes to → warn, or lock the environment
//! for the budget period and scale it to zero; and `{"command":"daily_report"}` from its
//! own schedule → the daily cost report. The same handler runs in the Lambda binary and
//! in `stagingctl invoke budget-alert`.
//!
//! Each record is handled on its own: an alert for our budget is decided by the core
//! (`budget::decide`) through the reconciling runner; anything else on the
//! topic (another budget, a message that is not an alert) is forwarded to the team as it
//! is; a truncated alert is a non-retryable error for its record.

use aws_lambda_events::event::sns::{SnsEvent, SnsRecord};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use staging_core::Action;
use staging_core::decide::budget::{self, Message};
use staging_core::report::daily;
use staging_core::shell::costs::CostExplorer;
use staging_core::shell::executor::Executor;
use staging_core::shell::{ShellError, runner};

/// Handles one event: the daily report command, or an SNS event. Records that failed in
/// a way a retry can help make the event fail (retryable); the others are answered
/// with their error.
pub async fn handle(executor: &Executor<'_>, event: Value, clock: DateTime<Utc>) -> Result<Value, ShellError> {
    if event.get("command").and_then(Value::as_str) == Some("daily_report") {
        return daily_report(executor, clock, true).await;
    }
    let event: SnsEvent = serde_json::from_value(event)
        .map_err(|e| ShellError::BadEvent(format!("expected an SNS event ({{\"Records\":[{{\"Sns\":…}}]}}): {e}")))?;
    let mut answers = Vec::with_capacity(event.records.len());
    let mut retry = None;
    for record in &event.records {
        let id = record.sns.message_id.clone();
        match handle_record(executor, record, clock).await {
            Ok(answer) => answers.push(json!({ "message_id": id, "answer": answer })),
            Err(e) => {
                lambda_runtime::tracing::error!(message_id = %id, error = %e, "a budget-topic record failed");
                answers.push(json!({ "message_id": id, "error": e.to_string() }));
                if e.is_retryable() && retry.is_none() {
                    retry = Some(e);
                }
            }
        }
    }
    match retry {
        Some(e) => Err(e),
        None => Ok(json!({ "records": answers })),
    }
}

async fn handle_record(executor: &Executor<'_>, record: &SnsRecord, clock: DateTime<Utc>) -> Result<Value, ShellError> {
    let config = executor.config;
    let sns = &record.sns;
    let message = match budget::parse_message(sns.subject.as_deref(), &sns.message) {
        Ok(message) => message,
        Err(truncated) => {
            // Not lost: the team gets the text as it came, and the record is an error.
            let text = format!("{truncated}\n\n{}", sns.message);
            let report = executor
                .execute_all(&[budget::forward(&config.environment, Some("budget alert not understood"), &text)])
                .await;
            if let Some(failure) = report.failed.into_iter().next() {
                return Err(failure.error);
            }
            return Err(ShellError::BadEvent(truncated.to_string()));
        }
    };
    match message {
        Message::Alert(alert) if budget::is_ours(&alert, config) => {
            let origin = alert.origin(&sns.message_id);
            let outcome = Box::pin(runner::run_with(executor, &origin, clock, |state, observed| {
                Ok(budget::decide(state, observed, &alert, &sns.message_id, clock, config))
            }))
            .await?;
            Ok(serde_json::to_value(outcome).expect("outcomes serialize"))
        }
        _ => {
            let report = executor
                .execute_all(&[budget::forward(&config.environment, sns.subject.as_deref(), &sns.message)])
                .await;
            match report.failed.into_iter().next() {
                Some(failure) => Err(failure.error),
                None => Ok(json!({ "summary": "forwarded to the team", "done": report.done })),
            }
        }
    }
}

/// The daily cost report: the bill (Cost Explorer), the model, the deployments counted
/// in the state; told to the team when `tell`. Parts that cannot be read are said in the
/// report, not fatal.
pub async fn daily_report(executor: &Executor<'_>, clock: DateTime<Utc>, tell: bool) -> Result<Value, ShellError> {
    let config = executor.config;
    // The rates first: a bad file should fail before two paid Cost Explorer requests.
    let model = staging_core::shell::cost_model(config, None)?;
    let state = executor.store()?.load(&config.environment).await?;
    let explorer = CostExplorer {
        client: &executor.clients.costexplorer,
        tag: config.cost_tag.as_ref().map(|(k, v)| (k.as_str(), v.as_str())),
    };
    let facts = explorer.facts(clock).await;
    let (report, notification) = daily::daily_report(&state, &facts, clock, config, &model);
    let mut done = Vec::new();
    if tell {
        let told = executor.execute_all(&[Action::Notify(notification.clone())]).await;
        if let Some(failure) = told.failed.into_iter().next() {
            return Err(failure.error);
        }
        done = told.done;
    }
    Ok(json!({ "summary": notification.subject, "text": notification.text(), "report": report, "done": done }))
}
