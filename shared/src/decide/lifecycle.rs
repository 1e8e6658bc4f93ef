//! Lifecycle decisions: what to do about an operator's command or a scheduled event,
//! given the stored state and what ECS reports. `stagingctl` and the lifecycle function
//! both call [`decide`], so they cannot disagree.
//!
//! The rules: a budget lock wins over a hold, a hold wins over the schedule. A scheduled
//! startup or teardown acts on its transition only (a manual `down` in working hours is
//! respected until the next startup, as AWS Instance Scheduler does). A hold always has
//! a one-time schedule at its end that tears the environment down again if the schedule
//! wants it down then. Holds only grow; `release` and `down` end them. A scheduled
//! teardown waits (15 minutes at a time) for a deploy in flight, up to the grace period.
//!
//! The committed state is the intent; [`reconcile`] says what makes ECS match it, so a
//! decision acted on late, or not at all, is put right by the next invocation.

use crate::decide::draft::Draft;
use crate::decide::draft::hold_schedule;
use crate::decide::draft::up_until;
use crate::model::action::stack_handoff_schedule_name;
use crate::model::observed::{Observed, StackCondition, StackObserved};
use crate::time::hhmm;
use crate::time::humantime_serde;
use crate::time::humantime_serde_opt;
use crate::time::rfc3339;
use crate::time::whole_seconds;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::action::{Action, Decision, Notification, NotificationEvent, ScheduledCommand, Severity};
use crate::model::state::{
    EnvironmentState, HoldKind, Phase, ScalableTarget, StackFailure, StackOperation, Wanted, short_sha,
};
use crate::schedule::{Transition, TransitionKind};

/// How far a schedule's own time may be from the clock: Scheduler retries for at most
/// a day, so anything further is not a schedule's.
const MAX_SCHEDULE_LAG: chrono::Duration = chrono::Duration::days(2);

/// Something asked of the lifecycle: by a person, or by a schedule firing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Start now. Outside business hours (or with `hold`) the start is held for `hold`
    /// (default `STAGING_HOLD_DEFAULT`); `force` overrides a budget lock by lifting it.
    Up {
        #[serde(default, with = "humantime_serde_opt")]
        hold: Option<std::time::Duration>,
        reason: String,
        who: String,
        #[serde(default)]
        force: bool,
        /// The hold is never ended early because staging is idle (`up --keep`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        keep: bool,
    },
    /// Stop now, dropping any hold.
    Down { who: String },
    /// Keep it up for `duration` whatever the schedule says (emergency bypass).
    Hold {
        #[serde(with = "humantime_serde")]
        duration: std::time::Duration,
        reason: String,
        who: String,
    },
    /// Drop the hold; the schedule applies again at once.
    Release { who: String },
    /// Lift the budget lock.
    Unlock { who: String },
    /// A schedule fired.
    #[serde(untagged)]
    Scheduled(ScheduledCommand),
}

impl Command {
    /// When a scheduled startup or teardown was due, when it says.
    pub fn due(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Scheduled(scheduled) => scheduled.due(),
            _ => None,
        }
    }
}

/// The transition that came due between a scheduled command's own time and now, if
/// any: the command arrived too late to mean anything (a startup retried at 19:30 must
/// not start staging for the night; a teardown retried next morning must not stop it).
fn overtaken(config: &Config, due: DateTime<Utc>, now: DateTime<Utc>) -> Option<Transition> {
    config.business_hours.next_transition(due).filter(|t| t.at <= now)
}

/// EventBridge's `detail-type` of CloudFormation's stack status events.
pub const STACK_STATUS_CHANGE: &str = "CloudFormation Stack Status Change";

/// What the lifecycle function was sent: a command, or an event about a stack that is
/// not the pause stack (answered, and ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleEvent {
    Command(Command),
    Ignored(String),
}

/// Reads the lifecycle function's event: a [`Command`] (a schedule's input, an
/// operator's command) or a "CloudFormation Stack Status Change" event, which means
/// "look at the pause stack" when it is about the pause stack (the status it carries is
/// not trusted: events can arrive out of order, so the stack is described again).
pub fn parse_event(event: serde_json::Value, config: &Config) -> Result<LifecycleEvent> {
    if event.get("detail-type").and_then(|d| d.as_str()) == Some(STACK_STATUS_CHANGE) {
        let stack_id = event.pointer("/detail/stack-id").and_then(|v| v.as_str()).ok_or_else(|| Error::Command {
            reason: "a CloudFormation Stack Status Change event without detail.stack-id".into(),
        })?;
        // arn:aws:cloudformation:<region>:<account>:stack/<name>/<guid>
        let name = stack_id.split(':').nth(5).and_then(|r| r.strip_prefix("stack/")).and_then(|r| r.split('/').next());
        return Ok(match (name, config.teardown.pause_stack()) {
            (Some(name), Some(pause)) if name == pause => {
                LifecycleEvent::Command(Command::Scheduled(ScheduledCommand::StackCheck))
            }
            (_, None) => {
                LifecycleEvent::Ignored(format!("ignored: a stack event ({stack_id}) while STAGING_TEARDOWN is scale"))
            }
            _ => LifecycleEvent::Ignored(format!("ignored: {stack_id} is not the pause stack")),
        });
    }
    serde_json::from_value(event).map(LifecycleEvent::Command).map_err(|e| Error::Command {
        reason: format!(
            "expected a lifecycle command like {{\"command\":\"teardown\"}} or a CloudFormation stack event: {e}"
        ),
    })
}

/// Where a lifecycle command came from, for the audit trail: an operator (who they
/// said they are), a schedule, or the pause stack's status event. `event` is what the
/// function was sent (only its stack-event fields are read; the input line is the
/// parsed command).
pub fn origin(command: &Command, event: &serde_json::Value) -> crate::audit::Origin {
    use crate::audit::{Origin, Source};
    if event.get("detail-type").and_then(|d| d.as_str()) == Some(STACK_STATUS_CHANGE) {
        let stack = event.pointer("/detail/stack-id").and_then(|v| v.as_str()).unwrap_or("a stack");
        let status = event.pointer("/detail/status-details/status").and_then(|v| v.as_str()).unwrap_or("a status");
        return Origin::new(Source::Stack, "cloudformation", format!("{STACK_STATUS_CHANGE}: {stack} {status}"));
    }
    // What was understood, not what was sent: a field the command does not know (a note,
    // a pasted token) never reaches the trail.
    let input = serde_json::to_string(command).expect("commands serialize");
    match command {
        Command::Up { who, .. }
        | Command::Down { who }
        | Command::Hold { who, .. }
        | Command::Release { who }
        | Command::Unlock { who } => Origin::new(Source::Operator, who.as_str(), input),
        // Scheduler always fills in the time; a startup or teardown without it was sent by
        // hand (`stagingctl invoke`, the console), and is not automation.
        Command::Scheduled(
            ScheduledCommand::Teardown { scheduled_time: None } | ScheduledCommand::Startup { scheduled_time: None },
        ) => Origin::new(Source::Operator, "by hand", input),
        Command::Scheduled(scheduled) => {
            let name = match scheduled {
                ScheduledCommand::Teardown { .. } => "teardown",
                ScheduledCommand::Startup { .. } => "startup",
                ScheduledCommand::StackCheck => "stack-check",
                ScheduledCommand::HoldExpired { .. } => "hold-expiry",
            };
            Origin::new(Source::Schedule, name, input)
        }
    }
}

/// How soon the lifecycle function takes a handed-off stack operation: the earliest a
/// one-time schedule can be trusted to fire.
pub const STACK_HANDOFF_AFTER: chrono::Duration = chrono::Duration::minutes(1);

/// A decision's actions as a function without CloudFormation rights carries them out: a
/// create or delete of the pause stack becomes the one-time schedule that asks the
/// lifecycle function to look at the stack a minute after `now` (the decision's clock).
/// Its stack check reconciles, so the create (or delete) the committed intent wants is made
/// by the one function allowed to make it. Everything else is kept as it is.
pub fn hand_off_stack_operations(actions: &[Action], environment: &str, now: DateTime<Utc>) -> Vec<Action> {
    let handoff = Action::PutOneTimeSchedule {
        name: stack_handoff_schedule_name(environment),
        at: whole_seconds(now) + STACK_HANDOFF_AFTER,
        command: ScheduledCommand::StackCheck,
    };
    let mut out: Vec<Action> = Vec::with_capacity(actions.len());
    for action in actions {
        match action {
            Action::ResumeStack | Action::PauseStack { .. } if out.contains(&handoff) => {}
            Action::ResumeStack | Action::PauseStack { .. } => out.push(handoff.clone()),
            other => out.push(other.clone()),
        }
    }
    out
}

/// What makes ECS match the committed state, or `None` when they agree. A state never
/// committed (version 0) holds no intent yet.
pub fn reconcile(state: &EnvironmentState, observed: Observed) -> Option<Action> {
    if state.version == 0 {
        return None;
    }
    if let Some(stack) = &observed.stack {
        // Stack mode: the service goes to zero before its stack goes (its count is
        // remembered then), and comes back once the stack stands again. A busy stack is
        // waited for; a failed one, or one the controller was refused, needs a person
        // (told once, when it failed; `up`/`down` try again).
        let refused = state.stack.failure.as_ref().map(|f| f.operation);
        return match (state.wants_running(), stack.condition(), observed.desired_count > 0) {
            (true, StackCondition::Absent, _) if refused == Some(StackOperation::Create) => None,
            // Gone without a create asked (deleted by hand): a start (`up`) creates it as a
            // start, told and settled; reconciling does not recreate it behind everyone's back.
            (true, StackCondition::Absent, _)
                if state.stack.in_progress.map(|p| p.operation) != Some(StackOperation::Create) =>
            {
                None
            }
            (false, StackCondition::Ready, false) if refused == Some(StackOperation::Delete) => None,
            // A shallow sleep keeps the stack until the decision that ends it.
            (false, StackCondition::Ready, false) if state.stack.shallow_until.is_some() => None,
            (true, StackCondition::Absent, _) => Some(Action::ResumeStack),
            (true, StackCondition::Ready, false) => Some(Action::RestoreService),
            (false, _, true) => Some(Action::ScaleService { desired_count: 0 }),
            (false, StackCondition::Ready, false) => Some(Action::PauseStack { keep_service: state.stack.unrestored }),
            _ => None,
        };
    }
    // Scale mode, with the listener switched (STAGING_LISTENER_ARN): asleep, the address
    // leads to the front door before the app goes; awake, to the app once a target of it
    // is healthy (a listener forwarding elsewhere was changed by hand: left alone).
    use crate::model::observed::Route;
    let healthy = observed.healthy_targets.unwrap_or(0) > 0;
    match (state.wants_running(), observed.desired_count > 0, observed.route) {
        (true, false, _) => Some(Action::RestoreService),
        (true, true, Some(Route::FrontDoor)) if healthy => Some(Action::Route { to: Route::App }),
        (false, _, Some(Route::App)) => Some(Action::Route { to: Route::FrontDoor }),
        (false, true, _) => Some(Action::ScaleService { desired_count: 0 }),
        _ => None,
    }
}

/// Decides what `command` means at `clock`. A scheduled startup or teardown answers the
/// schedule's question (is it up time?) at its own due time, so one delivered a moment
/// early or late is still the transition it was meant to be, and is ignored once the
/// next transition has come due. Refusals (a start while locked, a hold that cannot be
/// placed) are errors and change nothing.
/// How long staging may run past the end of business hours (or of its hold) before the
/// teardown counts as missed.
pub const TEARDOWN_OVERDUE_AFTER: chrono::Duration = chrono::Duration::minutes(15);

/// Whether the committed intent still keeps staging running when it should have been torn
/// down: more than [`TEARDOWN_OVERDUE_AFTER`] past both the end of the business hours of
/// its last start (`up_until`, recorded by the start) and the end of any hold, with no
/// deploy in flight that the teardown legitimately waits for. The health check says so
/// every tick (the metric `TeardownOverdue`), and an alarm watches it: a missed 18:00
/// teardown is the failure that costs money. It compares instants only, so the health
/// check links no time-zone tables. A state never written that finds staging running
/// records it as a start; one stored before `up_until` existed is never overdue until its
/// next start (or its next scheduled startup, which records it too).
pub fn teardown_overdue(state: &EnvironmentState, now: DateTime<Utc>, config: &Config) -> bool {
    let grace = chrono::Duration::from_std(config.deploy_grace).unwrap_or(chrono::Duration::MAX);
    let since = now - TEARDOWN_OVERDUE_AFTER;
    let Some(up_until) = state.up_until else { return false };
    state.wants_running()
        && up_until <= since
        && state.hold.as_ref().is_none_or(|h| h.until <= since)
        // A deploy past its grace still holds the teardown until the retry that gives up
        // on it: counted from `since`, it is not overdue before that retry could act.
        && state.active_deployment(since, grace).is_none()
}

pub fn decide(
    state: &EnvironmentState,
    observed: Observed,
    command: &Command,
    clock: DateTime<Utc>,
    config: &Config,
) -> Result<Decision> {
    let now = whole_seconds(clock);
    let due = command.due().map(whole_seconds);
    if let Some(due) = due
        && (due - now).abs() > MAX_SCHEDULE_LAG
    {
        return Err(Error::Command {
            reason: format!("scheduled_time {} is more than two days from now ({})", rfc3339(due), rfc3339(now)),
        });
    }
    let mut plan = Draft::new(state, observed, now, config);
    // What the pause stack has done since the last look comes first: a start that
    // finished makes staging up before the command is weighed.
    let settled = plan.settle_stack();
    let mut summary = act_on(&mut plan, command, due, settled.is_some(), config)?;
    if let Some(settled) = settled {
        summary = if summary.is_empty() { settled } else { format!("{settled}; {summary}") };
    }
    // Whatever waited for staging to be up (and unlocked) goes once it is.
    if let Some(line) = plan.dispatch_pending() {
        summary = format!("{summary}; {line}");
    }
    Ok(plan.into_decision(summary))
}

/// What `command` does to the draft: an operator's (`stagingctl up`, `down`, `hold`,
/// `release`, `unlock`) here, a schedule's in [`on_schedule`]; its summary, or why it is
/// refused.
fn act_on(
    plan: &mut Draft<'_>,
    command: &Command,
    due: Option<DateTime<Utc>>,
    settled: bool,
    config: &Config,
) -> Result<String> {
    let now = plan.now;
    Ok(match command {
        Command::Up { hold, reason, who, force, keep } => {
            if let Some(lock) = plan.next.active_budget_lock(now) {
                if !force {
                    return Err(Error::BudgetLocked { period: lock.period.to_string() });
                }
                plan.unlock(who, "overridden (up --force)");
            }
            let started = plan.start_on_demand(*hold, reason, who)?;
            if *keep && let Some(hold) = plan.next.hold.as_mut().filter(|h| h.until > now) {
                hold.keep = true;
            }
            started
        }
        Command::Down { who } => {
            plan.drop_hold();
            plan.stop(&format!("stopped by {who}"))
        }
        Command::Hold { duration, reason, who } => {
            if let Some(lock) = plan.next.active_budget_lock(now) {
                return Err(Error::BudgetLocked { period: lock.period.to_string() });
            }
            let held = plan.hold(HoldKind::EmergencyBypass, *duration, reason, who)?;
            format!("{held}; {}", plan.start(&format!("held by {who}: {reason}")))
        }
        Command::Release { who } => {
            if plan.next.hold.is_none() {
                "no hold to release".into()
            } else {
                plan.drop_hold();
                format!("hold released; {}", plan.follow_schedule(&format!("hold released by {who}")))
            }
        }
        Command::Unlock { who } => {
            if plan.next.budget_lock.is_none() {
                "not locked".into()
            } else {
                plan.unlock(who, "lifted");
                format!("unlocked; {}", plan.follow_schedule(&format!("unlocked by {who}")))
            }
        }
        Command::Scheduled(scheduled) => on_schedule(plan, scheduled, due, settled, config),
    })
}

/// What a schedule's command (startup, teardown, the stack check, a hold's end) does to the
/// draft, decided as of `due` when the schedule says it; its summary. `settled`: the stack's
/// own news was already told.
fn on_schedule(
    plan: &mut Draft<'_>,
    scheduled: &ScheduledCommand,
    due: Option<DateTime<Utc>>,
    settled: bool,
    config: &Config,
) -> String {
    let now = plan.now;
    match scheduled {
        scheduled @ (ScheduledCommand::Startup { .. } | ScheduledCommand::Teardown { .. })
            if let Some(late) = due.and_then(|due| overtaken(config, due, now)) =>
        {
            let what = if matches!(scheduled, ScheduledCommand::Startup { .. }) { "startup" } else { "teardown" };
            format!(
                "ignored: the {what} due at {} arrived at {}, after the next {} ({})",
                rfc3339(due.unwrap_or(now)),
                rfc3339(now),
                if late.kind == TransitionKind::Startup { "startup" } else { "teardown" },
                rfc3339(late.at)
            )
        }
        ScheduledCommand::Startup { .. } => {
            match plan.next.wanted(due.unwrap_or(now), &config.business_hours) {
                Wanted::UpScheduled | Wanted::UpHeld => {
                    let started = plan.start("scheduled startup");
                    // Decided as of its due time, a second early or a minute late alike.
                    if let Some(due) = due {
                        plan.next.up_until = Some(up_until(config, due).max(plan.now));
                    }
                    started
                }
                // A lock wins over everything: whatever is still running goes.
                Wanted::DownBudgetLocked if plan.observed.desired_count > 0 || plan.next.wants_running() => {
                    format!("not starting: locked by the budget; {}", plan.stop("locked by the budget"))
                }
                Wanted::DownBudgetLocked => "not starting: locked by the budget".into(),
                Wanted::DownScheduled => "not starting: not a working day (or a holiday)".into(),
            }
        }
        ScheduledCommand::Teardown { .. } => match plan.next.active_hold(now) {
            Some(hold) => format!("teardown deferred: held until {} by {}", hhmm(hold.until), hold.who),
            None if plan.next.active_budget_lock(now).is_none()
                && config.business_hours.is_up_time(due.unwrap_or(now)) =>
            {
                "not tearing down: inside business hours".into()
            }
            None => plan.scheduled_stop("scheduled teardown"),
        },
        ScheduledCommand::StackCheck => match (settled, plan.next.stack.in_progress) {
            (true, _) => String::new(),
            (false, Some(p)) => {
                plan.check_stack_later();
                format!(
                    "the stack's {} asked at {} is still under way ({})",
                    p.operation,
                    hhmm(p.since),
                    plan.observed.stack.as_ref().map(StackObserved::status_text).unwrap_or("not observed")
                )
            }
            (false, None) => "nothing to look at: no stack operation in progress".into(),
        },
        ScheduledCommand::HoldExpired { until } => match plan.next.hold.clone() {
            // The hold this schedule was made for (compared at the precision the schedule
            // carries), or any hold that has run out by now.
            Some(hold) if hold.until.timestamp() == until.timestamp() || hold.until <= now => {
                plan.next.release_hold();
                format!("hold expired; {}", plan.follow_schedule("hold expired"))
            }
            Some(hold) => {
                // A longer hold replaced it: make sure the longer one's end is scheduled.
                plan.actions.extend(hold_schedule(&plan.next, now));
                format!("ignored: the hold was extended to {}; its expiry is scheduled", hhmm(hold.until))
            }
            None => "ignored: no hold".into(),
        },
    }
}

/// What puts the service's scalable target where the committed intent wants it, deciding
/// nothing: parked while staging is meant to be down, the values saved at the teardown
/// while it is meant to run. Level-triggered like [`reconcile`]; commit, then act: it parks
/// only a target whose values the state has saved (a decision saves them first, see
/// [`save_scaling`]), so no value is ever lost to a park. A target never parked is left
/// alone while up, so a change a person makes to it in the day stays. It waits for the
/// service: not restored before the service runs again, not touched while the pause stack
/// (and the service with it) is gone.
pub fn reconcile_scaling(state: &EnvironmentState, observed: &Observed) -> Option<Action> {
    let found = observed.scaling?;
    if state.version == 0 || observed.stack.as_ref().is_some_and(|s| s.condition() == StackCondition::Absent) {
        return None;
    }
    match (state.wants_running(), found.is_parked(), state.scaling) {
        (false, false, Some(saved)) if saved == found => Some(Action::SetScalableTarget(ScalableTarget::PARKED)),
        (true, true, Some(saved)) if !saved.is_parked() && observed.desired_count > 0 => {
            Some(Action::SetScalableTarget(saved))
        }
        _ => None,
    }
}

/// A dispatch failed after its intent was committed. `refused` (GitHub answered with an
/// error status, or no token was at hand): nothing was started, so the deploy goes back
/// to waiting, ahead of anything queued since, and the team is told what dispatches it.
/// No answer at all: GitHub may have accepted it, so the run stays in flight (one
/// dispatch at most) and the team is told to look for it.
/// `announced` is the notice of the push that was withheld because its dispatch failed
/// (it says what the push asked for and whether staging was woken); it is kept in this
/// one.
pub fn decide_dispatch_failed(
    state: &EnvironmentState,
    sha: &str,
    refused: bool,
    error: &str,
    announced: Option<&str>,
    config: &Config,
) -> Decision {
    let mut next = state.clone();
    let env = &state.environment;
    let announced = announced.map(|body| format!("\n\n{body}")).unwrap_or_default();
    let (subject, body, summary) = if refused {
        if !next.dispatch_refused(sha) {
            return Decision {
                actions: Vec::new(),
                next_state: state.clone(),
                summary: format!("the deploy of {} is no longer in flight", short_sha(sha)),
            };
        }
        (
            format!("{env}: deploy of {} not dispatched; it waits", short_sha(sha)),
            format!(
                "{error}\n\nThe deploy workflow was not started. The deploy waits as pending: a redelivery of the \
                 push, the next push, a start or an unlock dispatches it.{announced}"
            ),
            format!("dispatch refused: the deploy of {} waits", short_sha(sha)),
        )
    } else {
        (
            format!("{env}: deploy of {} unconfirmed", short_sha(sha)),
            format!(
                "{error}\n\nGitHub did not answer, so the run may have started: it is kept as in flight and not \
                 dispatched again. If no run appears, the next push after {} dispatches the deploy again.{announced}",
                humantime::format_duration(config.deploy_grace)
            ),
            format!("dispatch unconfirmed: the deploy of {} stays in flight", short_sha(sha)),
        )
    };
    Decision {
        actions: vec![Action::Notify(Notification::new(
            NotificationEvent::DeployFailed,
            Severity::Warning,
            subject,
            body,
        ))],
        next_state: next,
        summary,
    }
}

/// A pause or a resume of the pause stack was refused after its decision was committed
/// (a NoEcho parameter, no service role, no saved copy, access denied...): nothing of the
/// stack changed. The refusal is recorded as the stack's failure (reconcile then leaves it
/// to a person: `stagingctl up`/`down` try again), the operation is no longer waited for,
/// and the team is told, critically: a stack not paused keeps billing; one not created
/// leaves staging down.
pub fn decide_stack_refused(
    state: &EnvironmentState,
    operation: StackOperation,
    error: &str,
    now: DateTime<Utc>,
    config: &Config,
) -> Decision {
    let now = whole_seconds(now);
    let mut next = state.clone();
    let env = &state.environment;
    let name = config.teardown.pause_stack().unwrap_or("the pause stack");
    if state.stack.in_progress.map(|p| p.operation) != Some(operation) {
        // A later decision changed what is asked of the stack: this refusal is stale.
        return Decision {
            actions: Vec::new(),
            next_state: next,
            summary: format!("the stack's {operation} was refused, but it is no longer asked for: {error}"),
        };
    }
    next.stack.in_progress = None;
    if operation == StackOperation::Create {
        next.stack.unrestored = false;
    }
    next.stack.failure = Some(StackFailure { operation, status: "REFUSED".into(), reason: error.to_string(), at: now });
    let (subject, body) = match operation {
        StackOperation::Delete => (
            format!("{env}: the stack {name} was not paused"),
            format!(
                "{error}\n\nThe service was scaled to zero, but the stack still stands and bills. Fix the cause, then run \
                 `stagingctl down` to pause it."
            ),
        ),
        StackOperation::Create => {
            if next.wants_running() {
                next.close_up_window(now);
            }
            next.phase = Phase::Down;
            (
                format!("{env}: the stack {name} was not created; staging is down"),
                format!("{error}\n\nNothing was created. Fix the cause, then run `stagingctl up` to start staging."),
            )
        }
    };
    Decision {
        actions: vec![Action::Notify(Notification::new(
            if operation == StackOperation::Create {
                NotificationEvent::EnvStartup
            } else {
                NotificationEvent::EnvTeardown
            },
            Severity::Critical,
            subject,
            body,
        ))],
        next_state: next,
        summary: format!("the stack's {operation} was refused: {error}"),
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
