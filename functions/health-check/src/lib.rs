//! health-check: EventBridge Scheduler (every 5 minutes) → probe the HTTP endpoints and
//! the ECS service, count the tick, alert on transitions, heal, roll back.
//!
//! The event is the schedule's input, `{"command":"health","scheduled_time":
//! "<aws.scheduler.scheduled-time>"}` (a tick delivered twice counts once), `{}` or
//! `{"command":"health"}` by hand, or an EventBridge "Scheduled Event". Nothing is
//! probed while staging is down or stopping by design. Every tick also makes ECS match
//! the committed state (and the hold's schedule exist), so a failed or overtaken
//! lifecycle action is put right within 5 minutes. After the tick's own decision, the idle
//! stop ([`staging_core::decide::idle`]) reads the load balancer's use figures (while
//! staging is meant to be up, the idle stop is on and `STAGING_LOAD_BALANCER` is set) and
//! is committed as a decision of its own when it changes something. The same handler runs
//! in the Lambda binary and in `stagingctl invoke health-check`.

use std::cell::RefCell;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use staging_core::config::LoadBalancer;
use staging_core::decide::health;
use staging_core::decide::idle::{self, Look, Usage};
use staging_core::model::observed::Observed;
use staging_core::model::probe::ProbeResult;
use staging_core::shell::executor::Executor;
use staging_core::shell::probe::Prober;
use staging_core::shell::{ShellError, runner};

#[derive(Deserialize)]
struct Tick {
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    scheduled_time: Option<DateTime<Utc>>,
    /// An EventBridge "Scheduled Event" carries its time here.
    #[serde(default, rename = "detail-type")]
    detail_type: Option<String>,
    #[serde(default)]
    time: Option<DateTime<Utc>>,
}

/// The tick's own time (when the schedule says), or a bad-event error.
fn parse(event: Value) -> Result<Option<DateTime<Utc>>, ShellError> {
    if event.is_null() {
        return Ok(None);
    }
    let tick: Tick = serde_json::from_value(event)
        .map_err(|e| ShellError::BadEvent(format!("expected {{\"command\":\"health\"}} or a scheduled event: {e}")))?;
    match tick.command.as_deref() {
        None | Some("health") => {}
        Some(other) => {
            return Err(ShellError::BadEvent(format!(
                "unknown command `{other}`: the health check takes {{\"command\":\"health\"}}"
            )));
        }
    }
    let scheduled = tick.detail_type.as_deref() == Some("Scheduled Event");
    Ok(tick.scheduled_time.or(if scheduled { tick.time } else { None }))
}

/// One tick. Answers every probe (name, ok, status, latency, error), the decision, what
/// was done, and the health status now.
pub async fn handle(
    executor: &Executor<'_>,
    prober: &Prober,
    event: Value,
    clock: DateTime<Utc>,
) -> Result<Value, ShellError> {
    let tick = parse(event)?;
    let config = executor.config;
    let state = executor.store()?.load(&config.environment).await?;
    // A state never written reads as what ECS shows (one look, only then).
    let state = match state.version {
        0 => staging_core::decide::draft::as_found(&state, &executor.observe().await?, clock, config),
        _ => state,
    };
    let results: Option<Vec<ProbeResult>> = if state.wants_running() { Some(prober.probe_all().await) } else { None };
    let seen: RefCell<Option<Observed>> = RefCell::new(None);
    let origin = health::origin(tick, results.as_deref());
    let outcome = runner::run_with(executor, &origin, clock, |state, observed| {
        let decision = health::decide(state, &observed, results.as_deref(), tick, clock, config);
        seen.replace(Some(observed));
        Ok(decision)
    })
    .await?;
    // The hold's end must stay scheduled: put it back if it went missing.
    let mut done = outcome.done;
    if outcome.state.active_hold(clock).is_some() {
        done.extend(runner::ensure_hold_schedule(executor, clock).await?);
    }
    // The ECS service is a probe too, when anything was probed.
    let probes: Vec<ProbeResult> = match (results, seen.into_inner()) {
        (Some(mut probes), Some(observed)) => {
            probes.push(staging_core::model::probe::judge_ecs(&observed));
            probes
        }
        (probes, _) => probes.unwrap_or_default(),
    };
    let idle = Box::pin(idle_stop(executor, &origin, &outcome.state, clock)).await?;
    if let Some(idle) = &idle {
        done.extend(idle.done.iter().cloned());
    }
    let state = idle.as_ref().map_or(&outcome.state, |o| &o.state);
    for failed in outcome.failed.iter().chain(idle.iter().flat_map(|o| o.failed.iter())) {
        lambda_runtime::tracing::warn!(error = %failed, "a notification was not sent; the decision stands");
    }
    Ok(json!({
        "decision": outcome.summary,
        "idle": idle.as_ref().map(|o| o.summary.as_str()),
        "health": state.health.status,
        // The Lambda binary turns it into the TeardownOverdue metric (an alarm watches it).
        "teardown_overdue": staging_core::decide::lifecycle::teardown_overdue(state, clock, config),
        "probes": probes,
        "done": done,
        "failed": outcome.failed.iter().chain(idle.iter().flat_map(|o| o.failed.iter())).collect::<Vec<_>>(),
    }))
}

/// The load balancer whose figures are read, as CloudWatch names it; why none, when the
/// pause stack's cannot be found.
async fn load_balancer_name(executor: &Executor<'_>, load_balancer: &LoadBalancer) -> Result<String, String> {
    match load_balancer {
        LoadBalancer::Named(name) => Ok(name.clone()),
        LoadBalancer::OfPauseStack => match executor.pause_stack() {
            Ok(Some(stack)) => match stack.load_balancer().await {
                Ok(Some(name)) => Ok(name),
                Ok(None) => Err("the pause stack has no load balancer".into()),
                Err(e) => Err(format!("the pause stack's load balancer could not be read: {e}")),
            },
            Ok(None) | Err(_) => Err("no pause stack (STAGING_LOAD_BALANCER=pause-stack needs stack mode)".into()),
        },
    }
}

/// The idle stop, after the tick's own decision (`state`, as it committed it): the load
/// balancer's figures when the core asks for them (a CloudWatch failure is "no data", never
/// a failed tick), then the core's decision, committed and carried out like any other.
/// `None` when the core says there is nothing to look at.
async fn idle_stop(
    executor: &Executor<'_>,
    origin: &staging_core::audit::Origin,
    state: &staging_core::EnvironmentState,
    clock: DateTime<Utc>,
) -> Result<Option<runner::Outcome>, ShellError> {
    let config = executor.config;
    let usage = match (idle::look(state, clock, config), config.front_door.load_balancer.as_ref()) {
        (Look::Skip, _) => return Ok(None),
        (Look::ReadAndDecide, Some(load_balancer)) => match load_balancer_name(executor, load_balancer).await {
            Ok(name) => {
                let (from, to) = idle::window(clock, config);
                staging_core::shell::cloudwatch::usage(&executor.clients.cloudwatch, &name, from, to).await
            }
            Err(why) => Usage::NoData { why },
        },
        (Look::ReadAndDecide | Look::Decide, _) => {
            Usage::NoData { why: "not read: staging is not meant to be up".into() }
        }
    };
    let probes = idle::probes_per_tick(config);
    let outcome = runner::run_with(executor, origin, clock, |state, observed| {
        Ok(idle::decide(state, &observed, &usage, probes, clock, config))
    })
    .await?;
    Ok(Some(outcome))
}
