//! Elastic Load Balancing: which target group the staging address's listener forwards to
//! (the app's while awake, the front door's while asleep), how many app targets are
//! healthy behind it, and the switch between the two.

use aws_sdk_elasticloadbalancingv2::types::{Action as ListenerAction, ActionTypeEnum, TargetHealthStateEnum};

use super::ShellError;
use crate::config::Routing;
use crate::model::observed::Route;

/// The listener and the two target groups it is switched between.
#[derive(Debug, Clone)]
pub struct Listener<'a> {
    pub client: &'a aws_sdk_elasticloadbalancingv2::Client,
    pub routing: &'a Routing,
}

impl Listener<'_> {
    /// Where the listener's default action forwards now.
    pub async fn route(&self) -> Result<Route, ShellError> {
        let out = self
            .client
            .describe_listeners()
            .listener_arns(&self.routing.listener_arn)
            .send()
            .await
            .map_err(|e| ShellError::aws("elasticloadbalancing:DescribeListeners", e))?;
        let listener = out.listeners().first();
        let forwards_to = listener
            .and_then(|l| l.default_actions().iter().find(|a| a.r#type() == Some(&ActionTypeEnum::Forward)))
            .and_then(|a| {
                a.target_group_arn().map(str::to_string).or_else(|| {
                    // A forward with one weighted group names it in the forward config only.
                    let groups = a.forward_config()?.target_groups();
                    (groups.len() == 1).then(|| groups[0].target_group_arn().map(str::to_string)).flatten()
                })
            });
        Ok(match forwards_to.as_deref() {
            Some(arn) if arn == self.routing.app_target_group_arn => Route::App,
            Some(arn) if arn == self.routing.front_door_target_group_arn => Route::FrontDoor,
            _ => Route::Elsewhere,
        })
    }

    /// How many of the app's targets are healthy.
    pub async fn healthy_targets(&self) -> Result<u32, ShellError> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(&self.routing.app_target_group_arn)
            .send()
            .await
            .map_err(|e| ShellError::aws("elasticloadbalancing:DescribeTargetHealth", e))?;
        let healthy = out
            .target_health_descriptions()
            .iter()
            .filter(|d| d.target_health().and_then(|h| h.state()) == Some(&TargetHealthStateEnum::Healthy))
            .count();
        Ok(u32::try_from(healthy).unwrap_or(u32::MAX))
    }

    /// Points the listener's default action at the app or the front door (idempotent).
    pub async fn set_route(&self, to: Route) -> Result<(), ShellError> {
        let group = match to {
            Route::App => &self.routing.app_target_group_arn,
            Route::FrontDoor => &self.routing.front_door_target_group_arn,
            Route::Elsewhere => return Ok(()),
        };
        let forward = ListenerAction::builder().r#type(ActionTypeEnum::Forward).target_group_arn(group).build();
        self.client
            .modify_listener()
            .listener_arn(&self.routing.listener_arn)
            .default_actions(forward)
            .send()
            .await
            .map_err(|e| ShellError::aws("elasticloadbalancing:ModifyListener", e))?;
        Ok(())
    }
}
