//! EventBridge Scheduler: one-time `at()` schedules that invoke the lifecycle function
//! (hold expiry, deferred teardown), deleted by the service once they have fired.

use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target,
};
use chrono::{DateTime, Utc};

use super::ShellError;

/// The time zone is always given: an update without one resets it to UTC.
const TIME_ZONE: &str = "UTC";

/// How often Scheduler retries delivering a one-time schedule's event, and for how long.
pub const RETRY_ATTEMPTS: i32 = 10;
pub const RETRY_FOR_SECONDS: i32 = 3600;

/// One-time schedules in one group, all targeting the lifecycle function.
#[derive(Debug, Clone, Copy)]
pub struct Schedules<'a> {
    pub client: &'a aws_sdk_scheduler::Client,
    pub group: &'a str,
    pub target_arn: &'a str,
    pub role_arn: &'a str,
    /// The SQS queue for events Scheduler could not deliver after its retries.
    pub dead_letter_arn: Option<&'a str>,
}

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleInfo {
    pub expression: String,
    pub time_zone: Option<String>,
    pub input: Option<String>,
    pub dead_letter_arn: Option<String>,
    pub retry_attempts: Option<i32>,
}

/// `at(2026-11-27T20:00:00)`, to the second, in UTC.
pub fn at_expression(at: DateTime<Utc>) -> String {
    format!("at({})", at.format("%Y-%m-%dT%H:%M:%S"))
}

impl Schedules<'_> {
    /// Creates the schedule, or replaces it if one of that name exists.
    pub async fn put_one_time(&self, name: &str, at: DateTime<Utc>, input: &str) -> Result<(), ShellError> {
        let window = FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off).build().expect("mode is set");
        // A missed hold expiry leaves staging up and billing: retried for up to an hour,
        // then kept in the dead-letter queue (where an alarm sees it).
        let retry = RetryPolicy::builder()
            .maximum_retry_attempts(RETRY_ATTEMPTS)
            .maximum_event_age_in_seconds(RETRY_FOR_SECONDS)
            .build();
        let target = Target::builder()
            .arn(self.target_arn)
            .role_arn(self.role_arn)
            .input(input)
            .retry_policy(retry)
            .set_dead_letter_config(self.dead_letter_arn.map(|arn| DeadLetterConfig::builder().arn(arn).build()))
            .build()
            .expect("arn and role are set");
        let created = self
            .client
            .create_schedule()
            .name(name)
            .group_name(self.group)
            .schedule_expression(at_expression(at))
            .schedule_expression_timezone(TIME_ZONE)
            .flexible_time_window(window.clone())
            .target(target.clone())
            .action_after_completion(ActionAfterCompletion::Delete)
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conflict_exception()) => {
                self.client
                    .update_schedule()
                    .name(name)
                    .group_name(self.group)
                    .schedule_expression(at_expression(at))
                    .schedule_expression_timezone(TIME_ZONE)
                    .flexible_time_window(window)
                    .target(target)
                    .action_after_completion(ActionAfterCompletion::Delete)
                    .send()
                    .await
                    .map_err(|e| ShellError::aws("scheduler:UpdateSchedule", e))?;
                Ok(())
            }
            Err(e) => Err(ShellError::aws("scheduler:CreateSchedule", e)),
        }
    }

    /// Deletes the schedule; returns whether there was one.
    pub async fn delete(&self, name: &str) -> Result<bool, ShellError> {
        match self.client.delete_schedule().name(name).group_name(self.group).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(false),
            Err(e) => Err(ShellError::aws("scheduler:DeleteSchedule", e)),
        }
    }

    /// The schedule, if it exists.
    pub async fn get(&self, name: &str) -> Result<Option<ScheduleInfo>, ShellError> {
        match self.client.get_schedule().name(name).group_name(self.group).send().await {
            Ok(out) => Ok(Some(ScheduleInfo {
                expression: out.schedule_expression().unwrap_or_default().to_string(),
                time_zone: out.schedule_expression_timezone().map(str::to_string),
                input: out.target().and_then(|t| t.input()).map(str::to_string),
                dead_letter_arn: out
                    .target()
                    .and_then(|t| t.dead_letter_config())
                    .and_then(|d| d.arn())
                    .map(str::to_string),
                retry_attempts: out.target().and_then(|t| t.retry_policy()).and_then(|r| r.maximum_retry_attempts()),
            })),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(None),
            Err(e) => Err(ShellError::aws("scheduler:GetSchedule", e)),
        }
    }
}
