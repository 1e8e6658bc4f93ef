//! Carries out a decision's actions against AWS (and GitHub) and reports what it did.
//! The actions run after the commit and are independent of each other, so one failing
//! does not stop the rest: a failed ECS call must not hold back a dispatch whose intent
//! is already recorded.

use super::autoscaling::ScalableTargets;
use super::ecs::Service;
use super::scheduler::Schedules;
use super::stack::PauseStack;
use super::store::Store;
use super::{Clients, ShellError, notify, required};
use crate::config::Config;
use crate::model::action::Action;
use crate::model::observed::Observed;

/// An action that failed (none: the reconciler could not read the state or ECS), and why.
#[derive(Debug)]
pub struct Failure {
    pub action: Option<Action>,
    pub error: ShellError,
}

impl Failure {
    /// Whether losing this action leaves the committed decision standing as it is: a
    /// notification is told late or not at all, but nothing in the world is wrong.
    pub fn is_only_a_notification(&self) -> bool {
        matches!(self.action, Some(Action::Notify(_)))
    }
}

/// What carrying out a list of actions did.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per action done.
    pub done: Vec<String>,
    pub failed: Vec<Failure>,
    /// Notices not sent because they announced a dispatch, a rollback or a forced
    /// deployment that failed.
    pub withheld: Vec<crate::model::action::Notification>,
    /// Why the audit trail did not keep the decision, when it did not (the decision
    /// stands; reported like a notification that was not sent).
    pub unkept: Option<ShellError>,
}

/// Carries out actions for one environment.
pub struct Executor<'a> {
    pub clients: &'a Clients,
    pub config: &'a Config,
    /// For `DispatchDeploy`; without it a dispatch is refused.
    #[cfg(feature = "github")]
    pub github: Option<&'a crate::shell::github::GitHubApi>,
    /// Print each decision's CloudWatch metrics (embedded metric format) to stdout: set
    /// by the Lambda functions, whose stdout CloudWatch Logs reads; not by `stagingctl`.
    pub emit_metrics: bool,
    /// This function may not create or delete the pause stack (the public webhook holds
    /// no CloudFormation rights): the runner hands a create or delete to the lifecycle
    /// function instead ([`crate::decide::lifecycle::hand_off_stack_operations`]).
    pub stack_by_lifecycle: bool,
    /// This function may not register the scalable target (the public webhook): parking
    /// and restoring it is left to the scheduled functions, whose reconciler (the health
    /// check within five minutes) does it from the committed state.
    pub leaves_scaling: bool,
}

impl<'a> Executor<'a> {
    pub fn new(clients: &'a Clients, config: &'a Config) -> Self {
        Self {
            clients,
            config,
            #[cfg(feature = "github")]
            github: None,
            emit_metrics: false,
            stack_by_lifecycle: false,
            leaves_scaling: false,
        }
    }

    pub fn service(&self) -> Result<Service<'a>, ShellError> {
        let r = &self.config.resources;
        Ok(Service {
            client: &self.clients.ecs,
            cluster: required(&r.cluster, "STAGING_CLUSTER")?,
            service: required(&r.service, "STAGING_SERVICE")?,
        })
    }

    /// The service's scalable target (Application Auto Scaling).
    pub fn scalable_targets(&self) -> Result<ScalableTargets<'a>, ShellError> {
        let r = &self.config.resources;
        Ok(ScalableTargets {
            client: &self.clients.autoscaling,
            resource_id: format!(
                "service/{}/{}",
                required(&r.cluster, "STAGING_CLUSTER")?,
                required(&r.service, "STAGING_SERVICE")?
            ),
        })
    }

    /// The pause stack, in stack mode (`None` in scale mode).
    pub fn pause_stack(&self) -> Result<Option<PauseStack<'a>>, ShellError> {
        let Some(name) = self.config.teardown.pause_stack() else { return Ok(None) };
        Ok(Some(PauseStack {
            client: &self.clients.cloudformation,
            store: self.store()?,
            name,
            environment: &self.config.environment,
            role_arn: self.config.resources.pause_stack_role_arn.as_deref(),
        }))
    }

    /// What ECS (and, in stack mode, CloudFormation) show now. In stack mode a service
    /// that does not exist is one paused with its stack: counted as zero.
    pub async fn observe(&self) -> Result<Observed, ShellError> {
        let stack = self.pause_stack()?;
        let mut observed = match self.service()?.observe().await {
            Ok(status) => status.observed(),
            Err(e) if stack.is_some() && e.is_missing_service() => Observed::default(),
            Err(e) => return Err(e),
        };
        if let Some(stack) = stack {
            observed.stack = Some(stack.observe().await?);
        }
        // Unknown when Application Auto Scaling cannot be read (no right to, throttled):
        // decided without it, so a teardown still happens; the next look parks it.
        observed.scaling = match self.scalable_targets()?.observe().await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "the service's scalable target could not be read: decided without it");
                None
            }
        };
        if let Some(listener) = self.listener() {
            observed.route = Some(listener.route().await?);
            observed.healthy_targets = Some(listener.healthy_targets().await?);
        }
        Ok(observed)
    }

    /// The staging address's listener, when the controller switches it.
    pub fn listener(&self) -> Option<super::elb::Listener<'a>> {
        let routing = self.config.front_door.routing.as_ref()?;
        Some(super::elb::Listener { client: &self.clients.elb, routing })
    }

    pub fn store(&self) -> Result<Store<'a>, ShellError> {
        Ok(Store { client: &self.clients.dynamodb, table: required(&self.config.resources.table, "STAGING_TABLE")? })
    }

    pub fn schedules(&self) -> Result<Schedules<'a>, ShellError> {
        let r = &self.config.resources;
        Ok(Schedules {
            client: &self.clients.scheduler,
            group: required(&r.schedule_group, "STAGING_SCHEDULE_GROUP")?,
            target_arn: required(&r.lifecycle_function_arn, "STAGING_LIFECYCLE_FUNCTION_ARN")?,
            role_arn: required(&r.scheduler_role_arn, "STAGING_SCHEDULER_ROLE_ARN")?,
            dead_letter_arn: r.schedule_dlq_arn.as_deref(),
        })
    }

    /// Runs every action in order, whatever fails; reports what was done and what failed.
    /// A notice announcing what has failed is held back, as the core says
    /// ([`crate::decide::follow_up::Withholding`]).
    pub async fn execute_all(&self, actions: &[Action]) -> Report {
        let mut report = Report::default();
        let mut withholding = crate::decide::follow_up::Withholding::default();
        for action in actions {
            if let Action::Notify(n) = action
                && withholding.withholds(n)
            {
                report.withheld.push(n.clone());
                continue;
            }
            match self.run(action).await {
                Ok(line) => report.done.push(line),
                Err(error) => {
                    withholding.failed(action, error.is_retryable());
                    report.failed.push(Failure { action: Some(action.clone()), error });
                }
            }
        }
        report
    }

    async fn run(&self, action: &Action) -> Result<String, ShellError> {
        let env = &self.config.environment;
        Ok(match action {
            Action::ScaleService { desired_count } => {
                self.service()?.scale(*desired_count).await?;
                format!("scaled the service to {desired_count}")
            }
            Action::RestoreService => {
                // A service recreated with its stack has lost its tag: the copy remembers.
                let fallback = match self.pause_stack()? {
                    Some(stack) => stack.saved().await?.and_then(|copy| copy.service_count),
                    None => None,
                };
                let n = self.service()?.restore_or(fallback).await?;
                format!("restored the service to {n}")
            }
            Action::ResumeStack => {
                let stack = self.pause_stack()?.ok_or(ShellError::NotConfigured("STAGING_PAUSE_STACK"))?;
                stack.resume().await?
            }
            Action::PauseStack { keep_service } => self.pause_stack_now(*keep_service).await?,
            Action::RestorePausedService => self.restore_paused_service().await?,
            Action::ForceNewDeployment => {
                self.service()?.force_new_deployment().await?;
                "forced a new deployment of the service".to_string()
            }
            Action::RollbackService { task_definition } => {
                self.service()?.use_task_definition(task_definition).await?;
                format!("rolled the service back to {}", crate::decide::health::task_name(task_definition))
            }
            Action::PutOneTimeSchedule { name, at, command } => {
                let input = serde_json::to_string(command).expect("commands serialize");
                self.schedules()?.put_one_time(name, *at, &input).await?;
                format!("scheduled {name} at {}", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            }
            Action::SetScalableTarget(target) => {
                self.scalable_targets()?.set(target).await?;
                if target.is_parked() {
                    "parked the scalable target (0-0, scaling suspended)".to_string()
                } else {
                    format!("restored the scalable target ({}-{})", target.min_capacity, target.max_capacity)
                }
            }
            Action::Route { to } => {
                let Some(listener) = self.listener() else {
                    return Err(ShellError::NotConfigured("STAGING_LISTENER_ARN"));
                };
                listener.set_route(*to).await?;
                match to {
                    crate::model::observed::Route::App => "pointed the staging address at the app".to_string(),
                    _ => "pointed the staging address at the front door".to_string(),
                }
            }
            Action::DeleteSchedule { name } => {
                let existed = self.schedules()?.delete(name).await?;
                format!("deleted schedule {name}{}", if existed { "" } else { " (there was none)" })
            }
            Action::Notify(n) => {
                let topic = required(&self.config.resources.team_topic_arn, "STAGING_TEAM_TOPIC_ARN")?;
                let id = notify::publish(&self.clients.sns, topic, n).await?;
                format!("notified {} ({id})", n.event.as_str())
            }
            Action::DispatchDeploy { git_ref, sha, deployment_type, skip_tests, migrate } => {
                self.dispatch(git_ref, sha, *deployment_type, *skip_tests, *migrate).await?
            }
            Action::RecordDeployment(d) => {
                let id = format!("deployment#{env}#{}", d.sha);
                let record = serde_json::to_value(d).expect("deployments serialize");
                self.store()?.put_record(&id, &record, None).await?;
                format!("recorded deployment {}", crate::model::state::short_sha(&d.sha))
            }
            Action::RecordHealth { at, change } => {
                let id = format!("health#{env}#{}#{:?}-{:?}", at.timestamp(), change.from, change.to);
                let record = serde_json::to_value(change).expect("health changes serialize");
                // Kept for the audit trail and the yearly figures; the state keeps the last ones.
                self.store()?.put_record(&id, &record, Some(*at + chrono::Duration::days(400))).await?;
                format!("recorded health {:?} -> {:?}", change.from, change.to)
            }
        })
    }

    /// Pauses the stack, saving the service as it runs (what the scale to zero remembered,
    /// or what runs, and its task definition; nothing when it went with its stack already).
    async fn pause_stack_now(&self, keep_service: bool) -> Result<String, ShellError> {
        let stack = self.pause_stack()?.ok_or(ShellError::NotConfigured("STAGING_PAUSE_STACK"))?;
        // The service as it runs: the count the scale to zero remembered (or what
        // runs), and its task definition; `None` when it went with its stack already.
        let service = self.service()?;
        let live = match service.observe().await {
            Ok(status) => Some(super::stack::ServiceAsPaused {
                count: service.remembered_count(&status.arn).await?.or(Some(status.desired_count).filter(|n| *n > 0)),
                task_definition: status.task_definition,
            }),
            Err(e) if e.is_missing_service() => None,
            Err(e) => return Err(e),
        };
        stack.pause(live, keep_service, super::now()).await
    }

    /// Restores the service the stack was paused with (its count and task definition).
    async fn restore_paused_service(&self) -> Result<String, ShellError> {
        let copy = match self.pause_stack()? {
            Some(stack) => stack.saved().await?,
            None => None,
        };
        let service = self.service()?;
        let (count, task_definition) = match copy {
            Some(copy) => (copy.service_count, copy.task_definition),
            None => (None, None),
        };
        let (n, changed) = service.restore_as(count, task_definition.as_deref()).await?;
        Ok(match changed {
            Some(td) => format!("restored the service to {n} on {}", crate::decide::health::task_name(&td)),
            None => format!("restored the service to {n}"),
        })
    }

    /// Dispatches the deploy workflow with the inputs the configuration names.
    async fn dispatch(
        &self,
        git_ref: &str,
        sha: &str,
        deployment_type: crate::DeploymentType,
        skip_tests: bool,
        migrate: bool,
    ) -> Result<String, ShellError> {
        #[cfg(feature = "github")]
        if let Some(api) = self.github {
            let gh = &self.config.github;
            let mut inputs = vec![
                (gh.deploy_type_input.as_str(), deployment_type.as_str().to_string()),
                (gh.skip_tests_input.as_str(), skip_tests.to_string()),
            ];
            if let Some(name) = &gh.migrate_input {
                inputs.push((name.as_str(), migrate.to_string()));
            }
            // Boxed: the GitHub call (and the token read it may make) nests deep
            // enough to overflow the compiler's layout queries in a release build.
            Box::pin(api.dispatch(&gh.deploy_workflow, git_ref, &inputs)).await?;
            return Ok(format!(
                "dispatched {} ({deployment_type}) on {git_ref} for {}",
                gh.deploy_workflow,
                crate::model::state::short_sha(sha)
            ));
        }
        let _ = (git_ref, sha, deployment_type, skip_tests, migrate);
        Err(ShellError::Unsupported("no GitHub token is configured to dispatch the deploy workflow".into()))
    }
}
