//! ECS: observe the service, scale it, and remember its count across a scale to zero.

use aws_sdk_ecs::types::Tag;

use super::ShellError;
use crate::model::observed::Observed;

/// The tag that keeps the desired count a scale-to-zero replaced, so that startup
/// restores it (what AWS Instance Scheduler users ask for in its issue #702).
pub const RESTORE_COUNT_TAG: &str = "staging-control:restore-count";

/// What `DescribeServices` says about the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    pub arn: String,
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    /// The primary deployment's rollout state (`IN_PROGRESS`, `COMPLETED`, `FAILED`).
    pub rollout_state: Option<String>,
    /// The task definition the service runs.
    pub task_definition: Option<String>,
}

impl ServiceStatus {
    pub fn observed(&self) -> Observed {
        Observed {
            desired_count: self.desired_count,
            running_count: self.running_count,
            task_definition: self.task_definition.clone(),
            rollout_failed: self.rollout_state.as_deref() == Some("FAILED"),
            ..Observed::default()
        }
    }
}

/// One ECS service.
#[derive(Debug, Clone, Copy)]
pub struct Service<'a> {
    pub client: &'a aws_sdk_ecs::Client,
    pub cluster: &'a str,
    pub service: &'a str,
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

impl Service<'_> {
    pub async fn observe(&self) -> Result<ServiceStatus, ShellError> {
        let out = self
            .client
            .describe_services()
            .cluster(self.cluster)
            .services(self.service)
            .send()
            .await
            .map_err(|e| ShellError::aws("ecs:DescribeServices", e))?;
        let Some(s) = out.services().iter().find(|s| s.status() == Some("ACTIVE")) else {
            return Err(ShellError::Aws {
                operation: "ecs:DescribeServices",
                code: Some("ServiceNotFoundException".into()),
                message: format!("no active service `{}` in cluster `{}`", self.service, self.cluster),
                retryable: false,
            });
        };
        let rollout_state = s
            .deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .and_then(|d| d.rollout_state())
            .map(|r| r.as_str().to_string());
        Ok(ServiceStatus {
            arn: s.service_arn().unwrap_or_default().to_string(),
            desired_count: count(s.desired_count()),
            running_count: count(s.running_count()),
            pending_count: count(s.pending_count()),
            rollout_state,
            task_definition: s.task_definition().map(str::to_string),
        })
    }

    /// The count remembered before the last scale to zero.
    pub async fn remembered_count(&self, arn: &str) -> Result<Option<u32>, ShellError> {
        let tags = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| ShellError::aws("ecs:ListTagsForResource", e))?;
        Ok(tags
            .tags()
            .iter()
            .find(|t| t.key() == Some(RESTORE_COUNT_TAG))
            .and_then(|t| t.value())
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0))
    }

    /// Sets the desired count. Scaling a running service to zero first tags it with the
    /// count it had, so [`Service::restore`] can bring exactly that back.
    pub async fn scale(&self, desired: u32) -> Result<(), ShellError> {
        if desired == 0 {
            let status = self.observe().await?;
            if status.desired_count > 0 {
                self.client
                    .tag_resource()
                    .resource_arn(&status.arn)
                    .tags(Tag::builder().key(RESTORE_COUNT_TAG).value(status.desired_count.to_string()).build())
                    .send()
                    .await
                    .map_err(|e| ShellError::aws("ecs:TagResource", e))?;
            }
        }
        self.update(desired).await
    }

    /// Brings back the count remembered before the scale to zero (1 if none was).
    /// Returns the count set.
    pub async fn restore(&self) -> Result<u32, ShellError> {
        self.restore_or(None).await
    }

    /// Brings the service back to the count its tag remembers, else to `fallback` (what
    /// a paused stack's copy remembers of a service recreated with it), else to 1.
    pub async fn restore_or(&self, fallback: Option<u32>) -> Result<u32, ShellError> {
        let status = self.observe().await?;
        let target = self.remembered_count(&status.arn).await?.or(fallback.filter(|n| *n > 0)).unwrap_or(1);
        self.update(target).await?;
        Ok(target)
    }

    /// Brings a service recreated with its stack back as it was when the stack was
    /// paused: `count` (else the tag's, else 1) on `task_definition` when it differs from
    /// what the service runs. Returns the count and the task definition it was moved to.
    pub async fn restore_as(
        &self,
        count: Option<u32>,
        task_definition: Option<&str>,
    ) -> Result<(u32, Option<String>), ShellError> {
        let status = self.observe().await?;
        let target = match count.filter(|n| *n > 0) {
            Some(n) => n,
            None => self.remembered_count(&status.arn).await?.unwrap_or(1),
        };
        // The count first, on its own: a task definition ECS refuses (deregistered with
        // the stack that made it) must not keep the count from coming back.
        self.update(target).await?;
        let Some(td) = task_definition.filter(|td| status.task_definition.as_deref() != Some(*td)) else {
            return Ok((target, None));
        };
        self.use_task_definition(td).await?;
        Ok((target, Some(td.to_string())))
    }

    async fn update(&self, desired: u32) -> Result<(), ShellError> {
        self.client
            .update_service()
            .cluster(self.cluster)
            .service(self.service)
            .desired_count(i32::try_from(desired).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| ShellError::aws("ecs:UpdateService", e))?;
        Ok(())
    }

    /// Points the service at `task_definition` (a rollback): ECS replaces the tasks.
    pub async fn use_task_definition(&self, task_definition: &str) -> Result<(), ShellError> {
        self.client
            .update_service()
            .cluster(self.cluster)
            .service(self.service)
            .task_definition(task_definition)
            .send()
            .await
            .map_err(|e| ShellError::aws("ecs:UpdateService", e))?;
        Ok(())
    }

    /// Redeploys the current task definition (new tasks, same image tag).
    pub async fn force_new_deployment(&self) -> Result<(), ShellError> {
        self.client
            .update_service()
            .cluster(self.cluster)
            .service(self.service)
            .force_new_deployment(true)
            .send()
            .await
            .map_err(|e| ShellError::aws("ecs:UpdateService", e))?;
        Ok(())
    }
}
