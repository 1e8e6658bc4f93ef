//! EventBridge Scheduler: one-time `at()` schedules that invoke the lifecycle function
//! (hold expiry, deferred teardown), deleted by the service once they have fired.

use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
use chrono::{DateTime, Utc};

use super::ShellError;

/// The time zone is always given: an update without one resets it to UTC.
const TIME_ZONE: &str = "UTC";

/// One-time schedules in one group, all targeting the lifecycle function.
#[derive(Debug, Clone, Copy)]
pub struct Schedules<'a> {
    pub client: &'a aws_sdk_scheduler::Client,
    pub group: &'a str,
    pub target_arn: &'a str,
    pub role_arn: &'a str,
}

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleInfo {
    pub expression: String,
    pub time_zone: Option<String>,
    pub input: Option<String>,
}

/// `at(2026-11-27T20:00:00)`, to the second, in UTC.
pub fn at_expression(at: DateTime<Utc>) -> String {
    format!("at({})", at.format("%Y-%m-%dT%H:%M:%S"))
}

impl Schedules<'_> {
    /// Creates the schedule, or replaces it if one of that name exists.
    pub async fn put_one_time(&self, name: &str, at: DateTime<Utc>, input: &str) -> Result<(), ShellError> {
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .expect("mode is set");
        let target = Target::builder()
            .arn(self.target_arn)
            .role_arn(self.role_arn)
            .input(input)
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
            })),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(None),
            Err(e) => Err(ShellError::aws("scheduler:GetSchedule", e)),
        }
    }
}
