//! CloudFormation: the pause stack of `STAGING_TEARDOWN=stack`. Pausing saves the
//! stack's template (as submitted), parameters, capabilities, tags and service role in
//! the state table, then deletes the stack; resuming creates it again from that copy.
//! Both are idempotent: they look first and do nothing to a stack that is already where
//! it should be, or busy getting there.
//!
//! Why a saved copy rather than a `Paused` parameter the template's conditions honour: it
//! asks nothing of the user's template, and it can be verified against local AWS (moto
//! does not re-evaluate conditions on UpdateStack).

use aws_sdk_cloudformation::types::{Capability, Parameter, Tag};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ShellError;
use super::store::Store;
use crate::model::observed::{StackCondition, StackObserved};

/// CloudFormation's limit on a template passed in the request (`TemplateBody`).
pub const MAX_TEMPLATE_BODY_BYTES: usize = 51_200;

/// What DescribeStacks shows for a NoEcho parameter: the value cannot be saved.
const MASKED: &str = "****";

/// The saved copy of the pause stack, kept beside the state (`stack#<environment>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackCopy {
    pub stack_name: String,
    pub template_body: String,
    pub parameters: Vec<(String, String)>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The service's count when it was scaled to zero before the pause (a service
    /// inside the stack comes back with the template's count; this puts it right).
    #[serde(default)]
    pub service_count: Option<u32>,
    /// The task definition the service ran when the stack was paused (the deploy
    /// workflow moves it past the template's).
    #[serde(default)]
    pub task_definition: Option<String>,
    pub saved_at: DateTime<Utc>,
}

/// What the service was when its stack was paused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAsPaused {
    pub count: Option<u32>,
    pub task_definition: Option<String>,
}

/// The pause stack of one environment.
#[derive(Debug, Clone, Copy)]
pub struct PauseStack<'a> {
    pub client: &'a aws_sdk_cloudformation::Client,
    pub store: Store<'a>,
    pub name: &'a str,
    pub environment: &'a str,
    /// The only service role the functions may create it with (`STAGING_PAUSE_STACK_ROLE_ARN`):
    /// a stack running with another is not paused.
    pub role_arn: Option<&'a str>,
}

fn is_missing(e: &ShellError) -> bool {
    // DescribeStacks answers a stack that does not exist with a ValidationError.
    matches!(e, ShellError::Aws { code: Some(code), message, .. } if code == "ValidationError" && message.contains("does not exist"))
}

impl PauseStack<'_> {
    fn copy_id(&self) -> String {
        format!("stack#{}", self.environment)
    }

    /// The stack's status and reason (`status: None` when there is no such stack).
    pub async fn observe(&self) -> Result<StackObserved, ShellError> {
        let out = self.client.describe_stacks().stack_name(self.name).send().await;
        let out = match out.map_err(|e| ShellError::aws("cloudformation:DescribeStacks", e)) {
            Ok(out) => out,
            Err(e) if is_missing(&e) => return Ok(StackObserved::default()),
            Err(e) => return Err(e),
        };
        Ok(match out.stacks().first() {
            Some(s) => StackObserved {
                status: s.stack_status().map(|st| st.as_str().to_string()),
                reason: s.stack_status_reason().filter(|r| !r.is_empty()).map(str::to_string),
            },
            None => StackObserved::default(),
        })
    }

    /// The stack's Application Load Balancer as CloudWatch names it (`app/<name>/<id>`,
    /// the tail of its ARN, which is its physical id): a new one each time the stack is
    /// created. `None` when the stack has none (or is gone); an error when it has several
    /// (which one is staging's address cannot be told). Network load balancers are not
    /// counted. `DescribeStackResources` lists the stack's first 100 resources, and none in
    /// nested stacks.
    pub async fn load_balancer(&self) -> Result<Option<String>, ShellError> {
        let out = self.client.describe_stack_resources().stack_name(self.name).send().await;
        let out = match out.map_err(|e| ShellError::aws("cloudformation:DescribeStackResources", e)) {
            Ok(out) => out,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let found: Vec<String> = out
            .stack_resources()
            .iter()
            .filter(|r| r.resource_type() == Some("AWS::ElasticLoadBalancingV2::LoadBalancer"))
            .filter_map(|r| r.physical_resource_id())
            .filter_map(|arn| arn.split_once(":loadbalancer/").map(|(_, name)| name.to_string()))
            .filter(|name| name.starts_with("app/"))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            several => Err(ShellError::Unsupported(format!(
                "STAGING_LOAD_BALANCER=pause-stack: the pause stack has {} application load balancers ({}); \
                 which one is staging's address cannot be told",
                several.len(),
                several.join(", ")
            ))),
        }
    }

    /// The saved copy, if a pause has saved one.
    pub async fn saved(&self) -> Result<Option<StackCopy>, ShellError> {
        let id = self.copy_id();
        match self.store.get_record(&id).await? {
            None => Ok(None),
            Some(v) => {
                serde_json::from_value(v).map(Some).map_err(|e| ShellError::Corrupt { id, reason: e.to_string() })
            }
        }
    }

    /// Reads the standing stack into a copy; refuses (changing nothing) what could not
    /// be created again from it.
    async fn read_copy(&self, service: ServiceAsPaused, now: DateTime<Utc>) -> Result<StackCopy, ShellError> {
        let described = self
            .client
            .describe_stacks()
            .stack_name(self.name)
            .send()
            .await
            .map_err(|e| ShellError::aws("cloudformation:DescribeStacks", e))?;
        let stack = described
            .stacks()
            .first()
            .ok_or_else(|| ShellError::StackRefused(format!("the stack {} is gone", self.name)))?;
        let template = self
            .client
            .get_template()
            .stack_name(self.name)
            .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
            .send()
            .await
            .map_err(|e| ShellError::aws("cloudformation:GetTemplate", e))?;
        let template_body = template.template_body().unwrap_or_default().to_string();
        if template_body.is_empty() {
            return Err(ShellError::StackRefused(format!("the stack {} returned no template; not paused", self.name)));
        }
        if template_body.len() > MAX_TEMPLATE_BODY_BYTES {
            return Err(ShellError::StackRefused(format!(
                "the stack {}'s template is {} bytes, over CloudFormation's {MAX_TEMPLATE_BODY_BYTES}-byte TemplateBody \
                 limit, so it could not be created again from a saved copy; not paused (split the stack or shorten the template)",
                self.name,
                template_body.len()
            )));
        }
        let role_arn = stack.role_arn().map(str::to_string);
        match (&role_arn, self.role_arn) {
            (None, _) => {
                return Err(ShellError::StackRefused(format!(
                    "the stack {} has no service role, so it would be created again with the functions' own permissions, \
                     which cannot create it; not paused (update the stack with --role-arn, the PauseStackRoleArn parameter)",
                    self.name
                )));
            }
            (Some(theirs), Some(ours)) if theirs != ours => {
                return Err(ShellError::StackRefused(format!(
                    "the stack {} runs with the service role {theirs}, but the functions may create it only with {ours} \
                     (STAGING_PAUSE_STACK_ROLE_ARN); not paused (update the stack with --role-arn {ours})",
                    self.name
                )));
            }
            _ => {}
        }
        let mut parameters = Vec::new();
        for p in stack.parameters() {
            let key = p.parameter_key().unwrap_or_default().to_string();
            let value = p.parameter_value().unwrap_or_default().to_string();
            if value == MASKED {
                return Err(ShellError::StackRefused(format!(
                    "the stack {}'s parameter {key} is NoEcho, so its value cannot be saved; not paused (pass the \
                     secret as a dynamic reference, {{{{resolve:secretsmanager:...}}}}, instead)",
                    self.name
                )));
            }
            parameters.push((key, value));
        }
        Ok(StackCopy {
            stack_name: self.name.to_string(),
            template_body,
            parameters,
            capabilities: stack.capabilities().iter().map(|c| c.as_str().to_string()).collect(),
            tags: stack
                .tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
                .collect(),
            role_arn,
            service_count: service.count,
            task_definition: service.task_definition,
            saved_at: now,
        })
    }

    /// Saves the standing stack, then deletes it. Nothing to do when it is gone or
    /// busy; a stack whose create failed (nothing of it stands) or whose delete failed
    /// is deleted (again) without overwriting the copy made when it stood.
    ///
    /// `live` is the service as it runs (`None`: gone already). What is saved of it is
    /// what to come back to — unless `keep_service` (the service is the template's, made
    /// by a create that never reached up) and a copy exists: then the copy's stays; and
    /// whatever the live service cannot say, the earlier copy does.
    pub async fn pause(
        &self,
        live: Option<ServiceAsPaused>,
        keep_service: bool,
        now: DateTime<Utc>,
    ) -> Result<String, ShellError> {
        let seen = self.observe().await?;
        match seen.condition() {
            StackCondition::Absent => {
                if self.saved().await?.is_none() {
                    return Err(ShellError::StackRefused(format!(
                        "there is no stack {} and no saved copy of one: it was never there to pause (is \
                         STAGING_PAUSE_STACK right?)",
                        self.name
                    )));
                }
                return Ok(format!("the stack {} is already deleted", self.name));
            }
            StackCondition::Busy => {
                return Ok(format!("the stack {} is {}; the delete waits for it", self.name, seen.status_text()));
            }
            // A failed create (nothing of it stands) or delete: deleted (again), the copy
            // made when it stood kept.
            StackCondition::Failed if seen.is_failed_create() || seen.status.as_deref() == Some("DELETE_FAILED") => {}
            StackCondition::Failed => {
                return Err(ShellError::StackRefused(format!(
                    "the stack {} is {} ({}): its last update failed, so it is not paused (a copy of it now would \
                     not bring back what ran); fix the stack first",
                    self.name,
                    seen.status_text(),
                    seen.reason.as_deref().unwrap_or("no reason given")
                )));
            }
            StackCondition::Ready => {
                let saved = self.saved().await?;
                let kept = ServiceAsPaused {
                    count: saved.as_ref().and_then(|c| c.service_count),
                    task_definition: saved.as_ref().and_then(|c| c.task_definition.clone()),
                };
                let service = match live {
                    Some(live) if !(keep_service && saved.is_some()) => ServiceAsPaused {
                        count: live.count.or(kept.count),
                        task_definition: live.task_definition.or(kept.task_definition),
                    },
                    _ => kept,
                };
                let copy = self.read_copy(service, now).await?;
                let record = serde_json::to_value(&copy).expect("copies serialize");
                self.store.put_record(&self.copy_id(), &record, None).await?;
            }
        }
        self.delete().await?;
        Ok(format!("saved and deleted the stack {} (was {})", self.name, seen.status_text()))
    }

    async fn delete(&self) -> Result<(), ShellError> {
        self.client
            .delete_stack()
            .stack_name(self.name)
            .send()
            .await
            .map_err(|e| ShellError::aws("cloudformation:DeleteStack", e))?;
        Ok(())
    }

    /// Creates the stack again from its saved copy. Nothing to do when it stands or is
    /// busy; a stack left `ROLLBACK_COMPLETE` by a failed create is deleted first (its
    /// DELETE_COMPLETE is the cue to create).
    pub async fn resume(&self) -> Result<String, ShellError> {
        let seen = self.observe().await?;
        match (seen.condition(), seen.status.as_deref()) {
            (StackCondition::Ready, _) => {
                return Ok(format!("the stack {} already stands ({})", self.name, seen.status_text()));
            }
            (StackCondition::Busy, _) => {
                return Ok(format!("the stack {} is {}; the create waits for it", self.name, seen.status_text()));
            }
            // Left by a failed create (nothing of it stands): deleted first; its
            // DELETE_COMPLETE is the cue to create.
            (StackCondition::Failed, _) if seen.is_failed_create() => {
                self.delete().await?;
                return Ok(format!(
                    "deleting the stack {} left {} by a failed create; it is created when that is done",
                    self.name,
                    seen.status_text()
                ));
            }
            (StackCondition::Failed, _) => {
                return Err(ShellError::StackRefused(format!(
                    "the stack {} is {}: {}; it needs a person before it can be created again",
                    self.name,
                    seen.status_text(),
                    seen.reason.as_deref().unwrap_or("no reason given")
                )));
            }
            (StackCondition::Absent, _) => {}
        }
        let copy = self.saved().await?.ok_or_else(|| {
            ShellError::StackRefused(format!(
                "no saved copy of the stack {}: it was never paused by Staging Control. Create it once (it is saved at \
                 the first teardown).",
                self.name
            ))
        })?;
        let mut create = self
            .client
            .create_stack()
            .stack_name(self.name)
            .template_body(&copy.template_body)
            .set_role_arn(copy.role_arn.clone());
        for (key, value) in &copy.parameters {
            create = create.parameters(Parameter::builder().parameter_key(key).parameter_value(value).build());
        }
        for c in &copy.capabilities {
            create = create.capabilities(Capability::from(c.as_str()));
        }
        for (key, value) in &copy.tags {
            create = create.tags(Tag::builder().key(key).value(value).build());
        }
        match create.send().await.map_err(|e| ShellError::aws("cloudformation:CreateStack", e)) {
            Ok(_) => {}
            // Another invocation's create got there first.
            Err(ShellError::Aws { code: Some(code), .. }) if code == "AlreadyExistsException" => {
                return Ok(format!("the stack {} is already being created", self.name));
            }
            Err(e) => return Err(e),
        }
        Ok(format!(
            "creating the stack {} from the copy saved at {}",
            self.name,
            copy.saved_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ))
    }
}
