//! Application Auto Scaling: observe the service's scalable target and register it with
//! the bounds and suspensions the core asks for. No target, nothing to do.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace, SuspendedState};

use super::ShellError;
use crate::model::state::ScalableTarget;

/// The scalable target of one ECS service's desired count.
#[derive(Debug, Clone)]
pub struct ScalableTargets<'a> {
    pub client: &'a aws_sdk_applicationautoscaling::Client,
    /// `service/<cluster>/<service>`, as Application Auto Scaling names an ECS service.
    pub resource_id: String,
}

fn count(n: Option<i32>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

impl ScalableTargets<'_> {
    /// The target, or `None` when the service has none (most services).
    pub async fn observe(&self) -> Result<Option<ScalableTarget>, ShellError> {
        let out = self
            .client
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_ids(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
            .map_err(|e| ShellError::aws("application-autoscaling:DescribeScalableTargets", e))?;
        Ok(out.scalable_targets().iter().find(|t| t.resource_id() == self.resource_id).map(|t| {
            let suspended = t.suspended_state();
            ScalableTarget {
                min_capacity: count(Some(t.min_capacity())),
                max_capacity: count(Some(t.max_capacity())),
                dynamic_scaling_in_suspended: suspended
                    .and_then(SuspendedState::dynamic_scaling_in_suspended)
                    .unwrap_or(false),
                dynamic_scaling_out_suspended: suspended
                    .and_then(SuspendedState::dynamic_scaling_out_suspended)
                    .unwrap_or(false),
                scheduled_scaling_suspended: suspended
                    .and_then(SuspendedState::scheduled_scaling_suspended)
                    .unwrap_or(false),
            }
        }))
    }

    /// Registers the target with exactly these bounds and suspensions (an update of the
    /// existing target: the role and the policies attached to it stay).
    pub async fn set(&self, target: &ScalableTarget) -> Result<(), ShellError> {
        let int = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        self.client
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(int(target.min_capacity))
            .max_capacity(int(target.max_capacity))
            .suspended_state(
                SuspendedState::builder()
                    .dynamic_scaling_in_suspended(target.dynamic_scaling_in_suspended)
                    .dynamic_scaling_out_suspended(target.dynamic_scaling_out_suspended)
                    .scheduled_scaling_suspended(target.scheduled_scaling_suspended)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| ShellError::aws("application-autoscaling:RegisterScalableTarget", e))?;
        Ok(())
    }
}
