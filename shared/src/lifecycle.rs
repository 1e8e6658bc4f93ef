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

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::action::{Action, Decision, Notification, NotificationEvent, ScheduledCommand, Severity};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::schedule::{Transition, TransitionKind};
use crate::state::{EnvironmentState, Hold, HoldKind, Phase, Wanted, short_sha};

/// How far a schedule's own time may be from the clock: Scheduler retries for at most
/// a day, so anything further is not a schedule's.
const MAX_SCHEDULE_LAG: chrono::Duration = chrono::Duration::days(2);

/// How long a scheduled teardown waits before it looks again at a deploy in flight.
pub const TEARDOWN_RETRY: chrono::Duration = chrono::Duration::minutes(15);

/// What ECS says about the service now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub desired_count: u32,
    pub running_count: u32,
    /// The task definition the service runs (what a deployment changes and a rollback
    /// restores).
    #[serde(default)]
    pub task_definition: Option<String>,
    /// Whether the primary deployment's rollout has FAILED.
    #[serde(default)]
    pub rollout_failed: bool,
}

impl Observed {
    /// Counts only (no task definition, rollout not failed).
    pub const fn counts(desired_count: u32, running_count: u32) -> Self {
        Self {
            desired_count,
            running_count,
            task_definition: None,
            rollout_failed: false,
        }
    }

    /// The phase these counts show.
    pub fn phase(&self) -> Phase {
        match (self.desired_count, self.running_count) {
            (0, 0) => Phase::Down,
            (0, _) => Phase::Stopping,
            (d, r) if r >= d => Phase::Up,
            _ => Phase::Starting,
        }
    }
}

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

/// The one-time schedule that ends an environment's hold.
pub fn hold_schedule_name(environment: &str) -> String {
    format!("{environment}-hold-expiry")
}

/// The one-time schedule of a teardown deferred for a deploy in flight.
pub fn teardown_retry_schedule_name(environment: &str) -> String {
    format!("{environment}-teardown-retry")
}

/// Every instant the core stores or sends is whole seconds: what crosses a boundary
/// (a schedule's input, DynamoDB, SNS, JSON) then compares equal when it comes back.
pub fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

/// What makes ECS match the committed state, or `None` when they agree. A state never
/// committed (version 0) holds no intent yet.
pub fn reconcile(state: &EnvironmentState, observed: Observed) -> Option<Action> {
    if state.version == 0 {
        return None;
    }
    match (state.wants_running(), observed.desired_count > 0) {
        (true, false) => Some(Action::RestoreService),
        (false, true) => Some(Action::ScaleService { desired_count: 0 }),
        _ => None,
    }
}

/// The one-time schedule the hold in force needs, as the action that puts it; `None`
/// when no hold is in force (a fired schedule deletes itself).
pub fn hold_schedule(state: &EnvironmentState, now: DateTime<Utc>) -> Option<Action> {
    let hold = state.active_hold(now)?;
    Some(Action::PutOneTimeSchedule {
        name: hold_schedule_name(&state.environment),
        at: hold.until,
        command: ScheduledCommand::HoldExpired { until: hold.until },
    })
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
    let mut plan = Plan::new(state, observed, now, config);
    let mut summary = match command {
        Command::Up { hold, reason, who, force } => {
            if let Some(lock) = plan.next.active_budget_lock(now) {
                if !force {
                    return Err(Error::BudgetLocked {
                        period: lock.period.to_string(),
                    });
                }
                plan.unlock(who, "overridden (up --force)");
            }
            plan.start_on_demand(*hold, reason, who)?
        }
        Command::Down { who } => {
            plan.drop_hold();
            plan.stop(&format!("stopped by {who}"))
        }
        Command::Hold { duration, reason, who } => {
            if let Some(lock) = plan.next.active_budget_lock(now) {
                return Err(Error::BudgetLocked {
                    period: lock.period.to_string(),
                });
            }
            let until = plan.hold(HoldKind::EmergencyBypass, *duration, reason, who)?;
            format!("held until {}; {}", hhmm(until), plan.start(&format!("held by {who}: {reason}")))
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
        Command::Scheduled(scheduled @ (ScheduledCommand::Startup { .. } | ScheduledCommand::Teardown { .. }))
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
        Command::Scheduled(ScheduledCommand::Startup { .. }) => match plan.next.wanted(due.unwrap_or(now), &config.business_hours) {
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
        },
        Command::Scheduled(ScheduledCommand::Teardown { .. }) => match plan.next.active_hold(now) {
            Some(hold) => format!("teardown deferred: held until {} by {}", hhmm(hold.until), hold.who),
            None if plan.next.active_budget_lock(now).is_none()
                && config.business_hours.is_up_time(due.unwrap_or(now)) =>
            {
                "not tearing down: inside business hours".into()
            }
            None => plan.scheduled_stop("scheduled teardown"),
        },
        Command::Scheduled(ScheduledCommand::HoldExpired { until }) => match plan.next.hold.clone() {
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
    };
    // Whatever waited for staging to be up (and unlocked) goes once it is.
    if let Some(line) = plan.dispatch_pending() {
        summary = format!("{summary}; {line}");
    }
    Ok(plan.into_decision(summary))
}

/// Until when a start made at `now` keeps staging up by itself: the end of the business
/// hours it is made in, or `now` outside them (then only a hold keeps it up).
fn up_until(config: &Config, now: DateTime<Utc>) -> DateTime<Utc> {
    let hours = &config.business_hours;
    match hours.next_transition(now) {
        Some(t) if hours.is_up_time(now) => t.at,
        _ => now,
    }
}

/// A decision being built: the next state and the actions so far.
pub(crate) struct Plan<'a> {
    pub(crate) next: EnvironmentState,
    pub(crate) actions: Vec<Action>,
    pub(crate) observed: Observed,
    now: DateTime<Utc>,
    config: &'a Config,
    /// Leave the team notifications to the caller (a deploy tells the team once).
    pub(crate) quiet: bool,
}

impl<'a> Plan<'a> {
    /// Starts from `state`. A state never committed holds no intent yet: it adopts the
    /// phase ECS shows.
    pub(crate) fn new(state: &EnvironmentState, observed: Observed, now: DateTime<Utc>, config: &'a Config) -> Self {
        let mut next = state.clone();
        if state.version == 0 {
            next.phase = observed.phase();
            // Found running: as if started now (see `up_until`).
            if next.wants_running() {
                next.up_until = Some(up_until(config, whole_seconds(now)));
            }
        }
        Self {
            next,
            actions: Vec::new(),
            observed,
            now: whole_seconds(now),
            config,
            quiet: false,
        }
    }

    pub(crate) fn into_decision(self, summary: String) -> Decision {
        Decision {
            actions: self.actions,
            next_state: self.next,
            summary,
        }
    }

    fn env(&self) -> &str {
        &self.next.environment
    }

    pub(crate) fn grace(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.deploy_grace).unwrap_or(chrono::Duration::MAX)
    }

    pub(crate) fn notify(&mut self, event: NotificationEvent, severity: Severity, subject: String, body: String) {
        if self.quiet {
            return;
        }
        self.actions
            .push(Action::Notify(Notification::new(event, severity, subject, body)));
    }

    /// Places a hold (holds only grow) and, when it changed, the schedule that ends it;
    /// returns when the hold in force ends. The requested duration is cut to
    /// `STAGING_HOLD_MAX` before any arithmetic, so no duration from outside can overflow.
    pub(crate) fn hold(&mut self, kind: HoldKind, duration: std::time::Duration, reason: &str, who: &str) -> Result<DateTime<Utc>> {
        // A forecast over the budget caps on-demand holds for the rest of its period (an
        // emergency bypass is not capped).
        let limit = if kind == HoldKind::OnDemand && self.next.hold_cap == Some(crate::state::BudgetPeriod::containing(self.now)) {
            self.config.hold_default
        } else {
            self.config.hold_max
        };
        let capped = duration.min(limit);
        let until = chrono::Duration::from_std(capped)
            .ok()
            .and_then(|d| self.now.checked_add_signed(d))
            .ok_or_else(|| Error::Hold {
                reason: "the duration is too long".into(),
            })?;
        let max = chrono::Duration::from_std(limit).unwrap_or(chrono::Duration::MAX);
        let (hold, changed) = self.next.place_hold(
            Hold {
                until,
                reason: reason.into(),
                who: who.into(),
                kind,
            },
            self.now,
            max,
        )?;
        let hold = hold.clone();
        if changed {
            self.actions.extend(hold_schedule(&self.next, self.now));
            let subject = format!("{}: held up until {} by {who}", self.env(), hhmm(hold.until));
            let body = format!(
                "{who} placed a hold on {} until {} ({kind:?}): {reason}\nThe scheduled teardown waits for it.",
                self.env(),
                hold.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            self.notify(NotificationEvent::EnvHold, Severity::Info, subject, body);
        }
        Ok(hold.until)
    }

    fn drop_hold(&mut self) {
        if self.next.release_hold().is_some() {
            self.actions.push(Action::DeleteSchedule {
                name: hold_schedule_name(self.env()),
            });
        }
    }

    fn unlock(&mut self, who: &str, how: &str) {
        if let Some(lock) = self.next.unlock_budget() {
            let subject = format!("{}: budget lock {how} by {who}", self.env());
            let body = format!(
                "The budget lock for {} ({}) was {how} by {who}.",
                lock.period, lock.reason
            );
            self.notify(NotificationEvent::BudgetUnlocked, Severity::Warning, subject, body);
        }
    }

    /// Starts on someone's behalf: held for `hold` (default `STAGING_HOLD_DEFAULT`) when one
    /// is asked for or outside business hours, so that the scheduled teardown waits for it.
    pub(crate) fn start_on_demand(&mut self, hold: Option<std::time::Duration>, reason: &str, who: &str) -> Result<String> {
        let mut summary = String::new();
        if hold.is_some() || !self.config.business_hours.is_up_time(self.now) {
            let until = self.hold(HoldKind::OnDemand, hold.unwrap_or(self.config.hold_default), reason, who)?;
            summary = format!("held until {}; ", hhmm(until));
        }
        Ok(summary + &self.start(&format!("started by {who}: {reason}")))
    }

    /// Makes the intent "running" and brings the service back if it is scaled to zero.
    pub(crate) fn start(&mut self, why: &str) -> String {
        self.next.teardown_deferred_at = None;
        self.next.up_until = Some(up_until(self.config, self.now));
        if self.observed.desired_count > 0 {
            if !self.next.wants_running() {
                self.next.phase = Phase::Up;
            }
            return "already up".into();
        }
        self.actions.push(Action::RestoreService);
        if self.next.wants_running() && self.next.version > 0 {
            // Already decided and told: this only puts ECS right.
            return "starting".into();
        }
        self.next.phase = Phase::Starting;
        self.next.started_at = Some(self.now);
        let subject = format!("{}: starting ({why})", self.env());
        self.notify(NotificationEvent::EnvStartup, Severity::Info, subject, format!("{}: {why}.", self.env()));
        "starting".into()
    }

    /// Makes the intent "scaled to zero" and scales the service down if it is not.
    pub(crate) fn stop(&mut self, why: &str) -> String {
        self.next.teardown_deferred_at = None;
        if self.observed.desired_count == 0 {
            if self.next.wants_running() {
                self.next.phase = Phase::Down;
            }
            return "already down".into();
        }
        self.actions.push(Action::ScaleService { desired_count: 0 });
        if !self.next.wants_running() && self.next.version > 0 {
            // Already decided and told: this only puts ECS right.
            return "stopping".into();
        }
        self.next.phase = Phase::Stopping;
        let subject = format!("{}: tearing down ({why})", self.env());
        self.notify(NotificationEvent::EnvTeardown, Severity::Info, subject, format!("{}: {why}.", self.env()));
        "stopping".into()
    }

    /// A stop the schedule asks for: it waits, 15 minutes at a time, for a deploy in
    /// flight (told once), and goes ahead past the grace period, saying the deploy
    /// never reported.
    fn scheduled_stop(&mut self, why: &str) -> String {
        let in_flight = self.next.deployment_in_flight.clone();
        let up = self.observed.desired_count > 0 || self.next.wants_running();
        if up && let Some(d) = self.next.active_deployment(self.now, self.grace()).cloned() {
            let Some(at) = self.now.checked_add_signed(TEARDOWN_RETRY) else {
                return self.stop(why);
            };
            self.actions.push(Action::PutOneTimeSchedule {
                name: teardown_retry_schedule_name(self.env()),
                at,
                command: ScheduledCommand::Teardown { scheduled_time: Some(at) },
            });
            let since = d.started_at.map(hhmm).unwrap_or_else(|| "an unknown time".into());
            if self.next.teardown_deferred_at.is_none() {
                self.next.teardown_deferred_at = Some(self.now);
                let subject = format!("{}: teardown waits for the deploy of {}", self.env(), short_sha(&d.sha));
                let body = format!(
                    "The {why} of {} waits for the deploy of {} (dispatched at {since}) to finish; it looks again \
                     every {} minutes and goes ahead once the deploy reports or has been running for {}.",
                    self.env(),
                    short_sha(&d.sha),
                    TEARDOWN_RETRY.num_minutes(),
                    humantime::format_duration(self.config.deploy_grace),
                );
                self.notify(NotificationEvent::EnvTeardown, Severity::Info, subject, body);
            }
            return format!("{why} deferred to {}: the deploy of {} (dispatched at {since}) has not finished", hhmm(at), short_sha(&d.sha));
        }
        match in_flight {
            Some(d) if up => {
                let since = d.started_at.map(hhmm).unwrap_or_else(|| "an unknown time".into());
                let note = format!("the deploy of {} dispatched at {since} never reported", short_sha(&d.sha));
                format!("{}; {note}", self.stop(&format!("{why}; {note}")))
            }
            _ => self.stop(why),
        }
    }

    /// A teardown deferred for a deploy that has now finished goes ahead — unless business
    /// hours or a hold keep staging up, or another deploy is in flight.
    pub(crate) fn deferred_teardown_due(&mut self) -> Option<String> {
        self.next.teardown_deferred_at?;
        if self.next.active_deployment(self.now, self.grace()).is_some()
            || self.next.active_hold(self.now).is_some()
            || self.config.business_hours.is_up_time(self.now)
        {
            return None;
        }
        Some(self.scheduled_stop("deferred teardown"))
    }

    /// Up or down as the schedule (and any lock) says now.
    fn follow_schedule(&mut self, why: &str) -> String {
        if self.next.wanted(self.now, &self.config.business_hours).is_up() {
            self.start(why)
        } else {
            self.scheduled_stop(why)
        }
    }

    /// Dispatches the merged pending deployment when it can go: a token, staging meant
    /// to run and not locked, and no run in flight (or only one past its grace period,
    /// which is folded in). The dispatch is recorded in the state before it is made.
    /// Returns a line saying what was dispatched.
    pub(crate) fn dispatch_pending(&mut self) -> Option<String> {
        if !self.config.github.can_dispatch()
            || !self.next.wants_running()
            || self.next.active_budget_lock(self.now).is_some()
        {
            return None;
        }
        let grace = self.grace();
        let (d, stale) = self.next.dispatch_pending(self.now, grace)?;
        let d = d.clone();
        // What a rollback of this deployment goes back to (a stale run folded in keeps
        // what ran before it).
        if let Some(in_flight) = self.next.deployment_in_flight.as_mut()
            && in_flight.task_definition_before.is_none()
        {
            in_flight.task_definition_before = self.observed.task_definition.clone();
        }
        let Some(deployment_type) = d.deployment_type else {
            // Nothing to deploy was never queued; drop it rather than dispatch nothing.
            self.next.deployment_in_flight = None;
            return None;
        };
        self.actions.push(Action::DispatchDeploy {
            git_ref: self.config.github.branch.clone(),
            sha: d.sha.clone(),
            deployment_type,
            skip_tests: false,
            migrate: d.plan.database_migration,
        });
        let n = d.pushes.len();
        let mut line = format!(
            "dispatched {deployment_type} for {n} push{} ({})",
            if n == 1 { "" } else { "es" },
            d.push_list()
        );
        if let Some(stale) = stale {
            let since = stale.started_at.map(hhmm).unwrap_or_else(|| "an unknown time".into());
            line.push_str(&format!(
                "; the run dispatched at {since} for {} never reported and is folded in",
                short_sha(&stale.sha)
            ));
        }
        let subject = format!("{}: deploying {deployment_type} @ {}", self.env(), short_sha(&d.sha));
        let body = format!(
            "Deploying what waited: {} ({}), pushes {}.",
            d.plan,
            deployment_type,
            d.push_list()
        );
        self.notify(NotificationEvent::DeployPlanned, Severity::Info, subject, body);
        Some(line)
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
        actions: vec![Action::Notify(Notification::new(NotificationEvent::DeployFailed, Severity::Warning, subject, body))],
        next_state: next,
        summary,
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub(crate) fn hhmm(t: DateTime<Utc>) -> String {
    t.format("%H:%M UTC").to_string()
}

/// `"2h"`-style durations in command JSON.
mod humantime_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

mod humantime_serde_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::humantime_serde::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| humantime::parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests {
    use super::*;
    use crate::state::BudgetLock;
    use std::time::Duration;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn config() -> Config {
        Config::from_lookup(|_| None).unwrap()
    }

    const UP: Observed = Observed::counts(2, 2);
    const DOWN: Observed = Observed::counts(0, 0);
    // Friday 2026-11-27: 10:00 is working hours, 20:00 is not.
    const WORKING: &str = "2026-11-27T10:00:00Z";
    const EVENING: &str = "2026-11-27T20:00:00Z";

    fn up(hold: Option<u64>, force: bool) -> Command {
        Command::Up {
            hold: hold.map(|h| Duration::from_secs(h * 3600)),
            reason: "demo".into(),
            who: "alice".into(),
            force,
        }
    }

    fn held(until: &str) -> Option<Hold> {
        Some(Hold {
            until: utc(until),
            reason: "demo".into(),
            who: "alice".into(),
            kind: HoldKind::OnDemand,
        })
    }

    fn locked() -> Option<BudgetLock> {
        Some(BudgetLock {
            period: "2026-11".parse().unwrap(),
            locked_at: utc("2026-11-20T00:00:00Z"),
            reason: "actual > budget".into(),
        })
    }

    /// The kinds of actions, in order, for compact tables.
    fn kinds(d: &Decision) -> Vec<&'static str> {
        d.actions
            .iter()
            .map(|a| match a {
                Action::ScaleService { .. } => "scale_to_zero",
                Action::RestoreService => "restore",
                Action::PutOneTimeSchedule { .. } => "put_schedule",
                Action::DeleteSchedule { .. } => "delete_schedule",
                Action::DispatchDeploy { .. } => "dispatch",
                Action::Notify(n) => match n.event {
                    NotificationEvent::EnvStartup => "notify_startup",
                    NotificationEvent::EnvTeardown => "notify_teardown",
                    NotificationEvent::EnvHold => "notify_hold",
                    NotificationEvent::BudgetUnlocked => "notify_unlocked",
                    NotificationEvent::DeployPlanned => "notify_deploy",
                    _ => "notify_other",
                },
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn decisions_table() {
        let expire = Command::Scheduled(ScheduledCommand::HoldExpired { until: utc("2026-11-27T21:00:00Z") });
        #[rustfmt::skip]
        let cases: Vec<(&str, &str, Observed, Option<Hold>, Option<BudgetLock>, Command, &[&str], &str)> = vec![
            ("up in hours starts without a hold", WORKING, DOWN, None, None, up(None, false),
                &["restore", "notify_startup"], "starting"),
            ("up when already up does nothing", WORKING, UP, None, None, up(None, false),
                &[], "already up"),
            ("up in the evening holds for the default 2h", EVENING, DOWN, None, None, up(None, false),
                &["put_schedule", "notify_hold", "restore", "notify_startup"], "held until 22:00 UTC; starting"),
            ("up with an explicit hold in hours holds", WORKING, UP, None, None, up(Some(1), false),
                &["put_schedule", "notify_hold"], "held until 11:00 UTC; already up"),
            ("up --force lifts the lock first", WORKING, DOWN, None, locked(), up(None, true),
                &["notify_unlocked", "restore", "notify_startup"], "starting"),
            ("down drops the hold and scales to zero", EVENING, UP, held("2026-11-27T21:00:00Z"), None,
                Command::Down { who: "bob".into() }, &["delete_schedule", "scale_to_zero", "notify_teardown"], "stopping"),
            ("down when down does nothing", WORKING, DOWN, None, None, Command::Down { who: "bob".into() },
                &[], "already down"),
            ("hold starts a stopped environment", EVENING, DOWN, None, None,
                Command::Hold { duration: Duration::from_secs(3600), reason: "incident".into(), who: "bob".into() },
                &["put_schedule", "notify_hold", "restore", "notify_startup"], "held until 21:00 UTC; starting"),
            ("release in the evening tears down", EVENING, UP, held("2026-11-27T21:00:00Z"), None,
                Command::Release { who: "bob".into() }, &["delete_schedule", "scale_to_zero", "notify_teardown"], "hold released; stopping"),
            ("release in hours stays up", WORKING, UP, held("2026-11-27T21:00:00Z"), None,
                Command::Release { who: "bob".into() }, &["delete_schedule"], "hold released; already up"),
            ("release without a hold does nothing", WORKING, UP, None, None,
                Command::Release { who: "bob".into() }, &[], "no hold to release"),
            ("unlock in hours starts again", WORKING, DOWN, None, locked(),
                Command::Unlock { who: "bob".into() }, &["notify_unlocked", "restore", "notify_startup"], "unlocked; starting"),
            ("unlock in the evening stays down", EVENING, DOWN, None, locked(),
                Command::Unlock { who: "bob".into() }, &["notify_unlocked"], "unlocked; already down"),
            ("unlock when not locked does nothing", WORKING, UP, None, None,
                Command::Unlock { who: "bob".into() }, &[], "not locked"),
            ("scheduled startup on a working day", "2026-11-27T08:00:00Z", DOWN, None, None,
                Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None }), &["restore", "notify_startup"], "starting"),
            ("scheduled startup on a Saturday does nothing", "2026-11-28T08:00:00Z", DOWN, None, None,
                Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None }), &[], "not starting: not a working day (or a holiday)"),
            ("scheduled startup while locked does nothing", "2026-11-27T08:00:00Z", DOWN, None, locked(),
                Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None }), &[], "not starting: locked by the budget"),
            ("scheduled teardown", "2026-11-27T18:00:00Z", UP, None, None,
                Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None }), &["scale_to_zero", "notify_teardown"], "stopping"),
            ("teardown is deferred while a hold is active", "2026-11-27T18:00:00Z", UP, held("2026-11-27T21:00:00Z"), None,
                Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None }), &[], "teardown deferred: held until 21:00 UTC by alice"),
            ("teardown after an expired hold proceeds", "2026-11-27T22:00:00Z", UP, held("2026-11-27T21:00:00Z"), None,
                Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None }), &["scale_to_zero", "notify_teardown"], "stopping"),
            ("hold expiry in the evening tears down", "2026-11-27T21:00:00Z", UP, held("2026-11-27T21:00:00Z"), None,
                expire.clone(), &["scale_to_zero", "notify_teardown"], "hold expired; stopping"),
            ("hold expiry of an extended hold re-puts the longer one's schedule", "2026-11-27T21:00:00Z", UP, held("2026-11-27T23:00:00Z"), None,
                expire.clone(), &["put_schedule"], "ignored: the hold was extended to 23:00 UTC; its expiry is scheduled"),
            ("hold expiry after a shorter hold has also run out tears down", "2026-11-27T21:00:00Z", UP, held("2026-11-27T20:30:00Z"), None,
                expire.clone(), &["scale_to_zero", "notify_teardown"], "hold expired; stopping"),
            ("hold expiry with no hold is ignored", "2026-11-27T21:00:00Z", UP, None, None,
                expire.clone(), &[], "ignored: no hold"),
            ("hold expiry in working hours stays up", "2026-11-27T14:00:00Z", UP, held("2026-11-27T14:00:00Z"), None,
                Command::Scheduled(ScheduledCommand::HoldExpired { until: utc("2026-11-27T14:00:00Z") }), &[], "hold expired; already up"),
        ];
        let config = config();
        for (name, now, observed, hold, budget_lock, command, expected, summary) in cases {
            let state = EnvironmentState { hold, budget_lock, ..EnvironmentState::new("staging") };
            let d = decide(&state, observed, &command, utc(now), &config).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kinds(&d), expected, "{name}");
            assert_eq!(d.summary, summary, "{name}");
        }
    }

    #[test]
    fn starting_while_locked_is_refused_and_changes_nothing() {
        let state = EnvironmentState { budget_lock: locked(), ..EnvironmentState::new("staging") };
        let hold = Command::Hold { duration: Duration::from_secs(3600), reason: "x".into(), who: "bob".into() };
        for command in [up(None, false), hold] {
            let err = decide(&state, DOWN, &command, utc(WORKING), &config()).unwrap_err();
            assert!(matches!(err, Error::BudgetLocked { .. }), "{err}");
        }
    }

    #[test]
    fn holds_are_cut_to_the_maximum_and_their_schedule_fires_at_the_cut() {
        let d = decide(&EnvironmentState::new("staging"), DOWN, &up(Some(48), false), utc(EVENING), &config()).unwrap();
        let until = utc("2026-11-28T08:00:00Z"); // 20:00 + the 12h maximum
        assert_eq!(d.next_state.hold.as_ref().unwrap().until, until);
        assert_eq!(
            d.actions[0],
            Action::PutOneTimeSchedule {
                name: "staging-hold-expiry".into(),
                at: until,
                command: ScheduledCommand::HoldExpired { until },
            }
        );
    }

    #[test]
    fn a_hold_needs_someone_to_own_it() {
        let command = Command::Up { hold: None, reason: "x".into(), who: " ".into(), force: false };
        assert!(matches!(
            decide(&EnvironmentState::new("staging"), DOWN, &command, utc(EVENING), &config()),
            Err(Error::Hold { .. })
        ));
    }

    #[test]
    fn the_phase_follows_what_ecs_reports() {
        #[rustfmt::skip]
        let cases = [((0, 0), Phase::Down), ((0, 1), Phase::Stopping), ((2, 1), Phase::Starting), ((2, 2), Phase::Up), ((1, 3), Phase::Up)];
        for ((desired_count, running_count), phase) in cases {
            assert_eq!(Observed::counts(desired_count, running_count).phase(), phase);
        }
        let d = decide(&EnvironmentState::new("staging"), UP, &Command::Release { who: "x".into() }, utc(WORKING), &config()).unwrap();
        assert_eq!(d.next_state.phase, Phase::Up);
    }

    #[test]
    fn commands_round_trip_as_json_and_scheduled_inputs_parse_as_commands() {
        let json = r#"{"command":"up","hold":"2h","reason":"demo","who":"alice"}"#;
        assert_eq!(serde_json::from_str::<Command>(json).unwrap(), up(Some(2), false));
        assert_eq!(
            serde_json::from_str::<Command>(r#"{"command":"teardown"}"#).unwrap(),
            Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None })
        );
        let hold = Command::Hold { duration: Duration::from_secs(5400), reason: "r".into(), who: "w".into() };
        let text = serde_json::to_string(&hold).unwrap();
        assert!(text.contains(r#""duration":"1h 30m""#), "{text}");
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), hold);
        assert!(serde_json::from_str::<Command>(r#"{"command":"explode"}"#).is_err());
    }

    fn config_with(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())).unwrap()
    }

    #[test]
    fn an_on_demand_hold_placed_on_a_sub_second_clock_ends_when_its_schedule_input_comes_back() {
        let now = utc("2026-11-27T18:41:01.123456789Z");
        let d = decide(&EnvironmentState::new("staging"), DOWN, &up(Some(2), false), now, &config()).unwrap();
        let Action::PutOneTimeSchedule { at, command, .. } = &d.actions[0] else { panic!("{:?}", d.actions) };
        assert_eq!(*at, utc("2026-11-27T20:41:01Z"));
        // What Scheduler stores and later sends back.
        let input = serde_json::to_string(command).unwrap();
        assert_eq!(input, r#"{"command":"hold_expired","until":1795812061}"#);
        let replayed: Command = serde_json::from_str(&input).unwrap();
        // The state as DynamoDB gives it back.
        let stored: EnvironmentState = serde_json::from_str(&serde_json::to_string(&d.next_state).unwrap()).unwrap();
        let stored = EnvironmentState { version: 1, ..stored };
        let fired = decide(&stored, UP, &replayed, utc("2026-11-27T20:41:31.5Z"), &config()).unwrap();
        assert_eq!(fired.summary, "hold expired; stopping");
        assert!(fired.next_state.hold.is_none());
        assert!(!fired.next_state.wants_running());
    }

    #[test]
    fn holds_only_grow_and_only_release_or_down_shorten_them() {
        let now = utc("2026-11-27T18:30:00.4Z");
        let hold = |hours: u64, who: &str| Command::Hold { duration: Duration::from_secs(hours * 3600), reason: "incident".into(), who: who.into() };
        let first = decide(&EnvironmentState::new("staging"), UP, &hold(12, "alice"), now, &config()).unwrap();
        let state = EnvironmentState { version: 1, ..first.next_state };
        let shorter = Command::Up { hold: Some(Duration::from_secs(3600)), reason: "demo".into(), who: "bob".into(), force: false };
        let second = decide(&state, UP, &shorter, utc("2026-11-27T18:45:00.9Z"), &config()).unwrap();
        let kept = second.next_state.hold.as_ref().unwrap();
        assert_eq!((kept.until, kept.who.as_str()), (utc("2026-11-28T06:30:00Z"), "alice"));
        assert_eq!(kinds(&second), Vec::<&str>::new(), "no schedule change, no notification");
        assert_eq!(second.summary, "held until 06:30 UTC; already up");
        let released = decide(&state, UP, &Command::Release { who: "bob".into() }, now, &config()).unwrap();
        assert!(released.next_state.hold.is_none());
        let down = decide(&state, UP, &Command::Down { who: "bob".into() }, now, &config()).unwrap();
        assert!(down.next_state.hold.is_none());
        assert!(!down.next_state.wants_running());
    }

    #[test]
    fn durations_from_outside_never_overflow() {
        let huge = config_with(&[("STAGING_HOLD_MAX", "100000000years"), ("STAGING_HOLD_DEFAULT", "2h")]);
        let now = utc("2026-11-27T20:00:00.5Z");
        for duration in [Duration::MAX, Duration::from_secs(u64::MAX / 2), Duration::from_secs(90_000_000 * 365 * 86_400)] {
            let hold = Command::Hold { duration, reason: "x".into(), who: "bob".into() };
            // Cut to the 12h default maximum.
            let d = decide(&EnvironmentState::new("staging"), DOWN, &hold, now, &config()).unwrap();
            assert_eq!(d.next_state.hold.unwrap().until, utc("2026-11-28T08:00:00Z"));
            // A maximum beyond the calendar is a refusal, not a panic.
            assert!(matches!(decide(&EnvironmentState::new("staging"), DOWN, &hold, now, &huge), Err(Error::Hold { .. })));
        }
        let zero = Command::Hold { duration: Duration::ZERO, reason: "x".into(), who: "bob".into() };
        assert!(matches!(decide(&EnvironmentState::new("staging"), DOWN, &zero, now, &config()), Err(Error::Hold { .. })));
    }

    fn with_deploy_in_flight(dispatched: &str) -> EnvironmentState {
        let mut s = EnvironmentState { phase: Phase::Up, version: 4, ..EnvironmentState::new("staging") };
        s.queue_deployment("abcdef0123", crate::DeploymentPlan::FULL, utc(dispatched));
        s.dispatch_pending(utc(dispatched), chrono::Duration::minutes(30)).unwrap();
        s
    }

    #[test]
    fn a_teardown_is_overdue_fifteen_minutes_after_the_hours_or_the_hold_end() {
        // States made by real starts (which record `up_until`), committed through JSON.
        let started = |state: &EnvironmentState, observed: Observed, command: Command, at: &str| {
            let d = decide(state, observed, &command, utc(at), &config()).unwrap();
            let next = EnvironmentState { version: state.version + 1, ..d.next_state };
            serde_json::from_str::<EnvironmentState>(&serde_json::to_string(&next).unwrap()).unwrap()
        };
        let startup = |at: &str| Command::Scheduled(ScheduledCommand::Startup { scheduled_time: Some(utc(at)) });
        let fresh = EnvironmentState { phase: Phase::Down, version: 3, ..EnvironmentState::new("staging") };
        let day = started(&fresh, DOWN, startup("2026-11-27T08:00:00Z"), "2026-11-27T08:00:00.37Z");
        assert_eq!(day.up_until, Some(utc("2026-11-27T18:00:00Z")));
        // A startup a second early decides, and records, as of its due time.
        let early = started(&fresh, DOWN, startup("2026-11-27T08:00:00Z"), "2026-11-27T07:59:59.2Z");
        assert_eq!(early.up_until, Some(utc("2026-11-27T18:00:00Z")));
        let evening = started(&fresh, DOWN, up(Some(2), false), "2026-11-27T19:00:00.81Z");
        assert_eq!(evening.up_until, Some(utc("2026-11-27T19:00:00Z")), "outside the hours: only the hold");
        // A state never written, staging found running: as if started then.
        let release = || Command::Release { who: "ana".into() };
        let found = |at: &str| decide(&EnvironmentState::new("staging"), UP, &release(), utc(at), &config()).unwrap().next_state.up_until;
        assert_eq!(found("2026-11-27T10:00:00.6Z"), Some(utc("2026-11-27T18:00:00Z")));
        assert_eq!(found("2026-11-27T20:00:00.6Z"), Some(utc("2026-11-27T20:00:00Z")));
        let bypass = Command::Hold { duration: Duration::from_secs(3 * 3600), reason: "incident".into(), who: "bob".into() };
        let bypassed = started(&day, UP, bypass, "2026-11-27T17:00:00.5Z");
        let mut deploying = with_deploy_in_flight("2026-11-27T17:55:00.3Z");
        deploying.up_until = day.up_until;
        let unrecorded = EnvironmentState { up_until: None, ..day.clone() };
        let down = EnvironmentState { phase: Phase::Down, ..day.clone() };
        #[rustfmt::skip]
        let cases: Vec<(&str, &EnvironmentState, &str, bool)> = vec![
            ("a working day, 18:14:59.9", &day, "2026-11-27T18:14:59.9Z", false),
            ("a working day, 18:15:00.4", &day, "2026-11-27T18:15:00.4Z", true),
            ("a working day, noon", &day, "2026-11-27T12:00:00.5Z", false),
            ("still up on Saturday", &day, "2026-11-28T10:00:00Z", true),
            ("down by design", &down, "2026-11-27T19:00:00Z", false),
            ("held from 19:00 to 21:00, at 21:10", &evening, "2026-11-27T21:10:00.7Z", false),
            ("held from 19:00 to 21:00, at 21:15:00.2", &evening, "2026-11-27T21:15:00.2Z", true),
            ("an emergency bypass to 20:00, at 19:00", &bypassed, "2026-11-27T19:00:00Z", false),
            ("an emergency bypass to 20:00, at 20:16", &bypassed, "2026-11-27T20:16:00Z", true),
            ("a deploy in flight since 17:55, at 18:20", &deploying, "2026-11-27T18:20:00.5Z", false),
            ("a deploy in flight since 17:55, past its grace at 18:26", &deploying, "2026-11-27T18:26:00Z", false),
            ("a deploy in flight since 17:55, past its grace and 15 min at 18:41", &deploying, "2026-11-27T18:41:00.1Z", true),
            ("a state from before up_until was recorded", &unrecorded, "2026-11-28T10:00:00Z", false),
        ];
        for (name, state, now, overdue) in cases {
            assert_eq!(teardown_overdue(state, utc(now), &config()), overdue, "{name}");
        }
    }

    #[test]
    fn a_scheduled_teardown_waits_for_a_deploy_in_flight_up_to_the_grace_period() {
        let teardown = |at: &str| Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: Some(utc(at)) });
        let state = with_deploy_in_flight("2026-11-27T17:55:00.3Z");
        let first = decide(&state, UP, &teardown("2026-11-27T18:00:00Z"), utc("2026-11-27T18:00:02.7Z"), &config()).unwrap();
        assert_eq!(kinds(&first), ["put_schedule", "notify_teardown"]);
        assert_eq!(first.summary, "scheduled teardown deferred to 18:15 UTC: the deploy of abcdef0 (dispatched at 17:55 UTC) has not finished");
        let Action::PutOneTimeSchedule { name, at, command } = &first.actions[0] else { panic!() };
        assert_eq!((name.as_str(), *at), ("staging-teardown-retry", utc("2026-11-27T18:15:02Z")));
        assert_eq!(serde_json::to_string(command).unwrap(), r#"{"command":"teardown","scheduled_time":"2026-11-27T18:15:02Z"}"#);
        assert!(first.next_state.wants_running());

        // Told once: the second deferral only schedules the next look.
        let state = EnvironmentState { version: 5, ..first.next_state };
        let second = decide(&state, UP, &teardown("2026-11-27T18:15:00Z"), utc("2026-11-27T18:15:00Z"), &config()).unwrap();
        assert_eq!(kinds(&second), ["put_schedule"]);

        // Past the grace period (17:55 + 30 min) it goes ahead and says so.
        let third = decide(&state, UP, &teardown("2026-11-27T18:30:00Z"), utc("2026-11-27T18:30:01Z"), &config()).unwrap();
        assert_eq!(kinds(&third), ["scale_to_zero", "notify_teardown"]);
        assert_eq!(third.summary, "stopping; the deploy of abcdef0 dispatched at 17:55 UTC never reported");
        assert!(third.next_state.teardown_deferred_at.is_none());

        // A manual down does not wait.
        let down = decide(&state, UP, &Command::Down { who: "bob".into() }, utc("2026-11-27T18:16:00Z"), &config()).unwrap();
        assert_eq!(kinds(&down), ["scale_to_zero", "notify_teardown"]);
    }

    #[test]
    fn after_an_unlock_the_merged_pending_deploy_is_dispatched() {
        let token = config_with(&[("GITHUB_REPOSITORY", "acme/app"), ("GITHUB_TOKEN", "t"), ("GITHUB_MIGRATE_INPUT", "migrate")]);
        let mut state = EnvironmentState { budget_lock: locked(), phase: Phase::Down, version: 9, ..EnvironmentState::new("staging") };
        let backend = crate::DeploymentPlan { backend: true, database_migration: true, ..crate::DeploymentPlan::NOTHING };
        let frontend = crate::DeploymentPlan { frontend: true, ..crate::DeploymentPlan::NOTHING };
        state.queue_deployment("aaaaaaa1", backend, utc("2026-11-26T10:00:00Z"));
        state.queue_deployment("bbbbbbb2", frontend, utc("2026-11-26T11:00:00Z"));
        let d = decide(&state, DOWN, &Command::Unlock { who: "bob".into() }, utc(WORKING), &token).unwrap();
        assert_eq!(kinds(&d), ["notify_unlocked", "restore", "notify_startup", "dispatch", "notify_deploy"]);
        assert_eq!(d.summary, "unlocked; starting; dispatched full for 2 pushes (aaaaaaa, bbbbbbb)");
        let Some(Action::DispatchDeploy { deployment_type, migrate, sha, .. }) = d.actions.iter().find(|a| matches!(a, Action::DispatchDeploy { .. })) else { panic!() };
        assert_eq!((*deployment_type, *migrate, sha.as_str()), (crate::DeploymentType::Full, true, "bbbbbbb2"));
        // Unlocked in the evening: nothing starts, so the deploy keeps waiting.
        let evening = decide(&state, DOWN, &Command::Unlock { who: "bob".into() }, utc(EVENING), &token).unwrap();
        assert_eq!(kinds(&evening), ["notify_unlocked"]);
        assert!(evening.next_state.pending_deployment.is_some());
    }

    #[test]
    fn reconcile_makes_ecs_match_the_committed_intent() {
        let committed = |phase: Phase| EnvironmentState { phase, version: 2, ..EnvironmentState::new("staging") };
        #[rustfmt::skip]
        let cases = [
            ("up and running", committed(Phase::Up), UP, None),
            ("starting and running", committed(Phase::Starting), UP, None),
            ("up but scaled to zero", committed(Phase::Up), DOWN, Some(Action::RestoreService)),
            ("starting but scaled to zero", committed(Phase::Starting), DOWN, Some(Action::RestoreService)),
            ("down but running", committed(Phase::Down), UP, Some(Action::ScaleService { desired_count: 0 })),
            ("stopping but running", committed(Phase::Stopping), UP, Some(Action::ScaleService { desired_count: 0 })),
            ("down and scaled to zero", committed(Phase::Down), DOWN, None),
            ("never committed: no intent", EnvironmentState::new("staging"), UP, None),
        ];
        for (name, state, observed, expected) in cases {
            assert_eq!(reconcile(&state, observed), expected, "{name}");
        }
    }

    #[test]
    fn a_committed_intent_is_kept_against_what_ecs_shows() {
        // Down was committed, but ECS is still up (the teardown has not acted yet): a
        // start makes the intent "up" without touching ECS; the reconciler does the rest.
        let state = EnvironmentState { phase: Phase::Stopping, version: 7, ..EnvironmentState::new("staging") };
        let hold = Command::Hold { duration: Duration::from_secs(3600), reason: "x".into(), who: "bob".into() };
        let d = decide(&state, UP, &hold, utc(EVENING), &config()).unwrap();
        assert!(d.next_state.wants_running());
        assert_eq!(kinds(&d), ["put_schedule", "notify_hold"]);
        assert_eq!(reconcile(&EnvironmentState { version: 8, ..d.next_state.clone() }, DOWN), Some(Action::RestoreService));
    }

    #[test]
    fn a_decision_repeated_after_a_failed_action_puts_ecs_right_without_telling_again() {
        let stopping = EnvironmentState { phase: Phase::Stopping, version: 3, ..EnvironmentState::new("staging") };
        let teardown = Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: None });
        let d = decide(&stopping, UP, &teardown, utc("2026-11-27T18:05:00Z"), &config()).unwrap();
        assert_eq!((kinds(&d), d.summary.as_str()), (vec!["scale_to_zero"], "stopping"));
        let starting = EnvironmentState { phase: Phase::Starting, version: 3, ..EnvironmentState::new("staging") };
        let startup = Command::Scheduled(ScheduledCommand::Startup { scheduled_time: None });
        let d = decide(&starting, DOWN, &startup, utc("2026-11-27T08:05:00Z"), &config()).unwrap();
        assert_eq!((kinds(&d), d.summary.as_str()), (vec!["restore"], "starting"));
    }

    #[test]
    fn the_sample_scheduler_events_carry_when_they_were_due() {
        for (text, due) in [
            (include_str!("../../events/lifecycle.teardown.scheduled.json"), Some(utc("2026-11-27T18:00:00Z"))),
            (include_str!("../../events/lifecycle.startup.scheduled.json"), Some(utc("2026-11-30T08:00:00Z"))),
            (include_str!("../../events/lifecycle.teardown.json"), None),
        ] {
            let command: Command = serde_json::from_str(text).unwrap();
            assert!(matches!(command, Command::Scheduled(_)), "{text}");
            assert_eq!(command.due(), due, "{text}");
        }
    }

    #[test]
    fn scheduled_commands_answer_at_their_due_time_and_are_ignored_once_overtaken() {
        let startup = |due: &str| Command::Scheduled(ScheduledCommand::Startup { scheduled_time: Some(utc(due)) });
        let teardown = |due: &str| Command::Scheduled(ScheduledCommand::Teardown { scheduled_time: Some(utc(due)) });
        #[rustfmt::skip]
        let cases = [
            ("a startup delivered a moment early still starts", startup("2026-11-27T08:00:00Z"), "2026-11-27T07:59:59.87Z", DOWN, "starting"),
            ("a startup retried at 09:10 still starts", startup("2026-11-27T08:00:00Z"), "2026-11-27T09:10:00.5Z", DOWN, "starting"),
            ("a startup retried after the teardown was due is ignored", startup("2026-11-27T08:00:00Z"), "2026-11-27T19:30:00.25Z", DOWN,
                "ignored: the startup due at 2026-11-27T08:00:00Z arrived at 2026-11-27T19:30:00Z, after the next teardown (2026-11-27T18:00:00Z)"),
            ("a teardown delivered a moment early still tears down", teardown("2026-11-27T18:00:00Z"), "2026-11-27T17:59:59.9Z", UP, "stopping"),
            ("a teardown retried at 18:40 still tears down", teardown("2026-11-27T18:00:00Z"), "2026-11-27T18:40:00Z", UP, "stopping"),
            ("a teardown retried next morning is ignored", teardown("2026-11-26T18:00:00Z"), "2026-11-27T08:30:00Z", UP,
                "ignored: the teardown due at 2026-11-26T18:00:00Z arrived at 2026-11-27T08:30:00Z, after the next startup (2026-11-27T08:00:00Z)"),
        ];
        for (name, command, clock, observed, summary) in cases {
            let d = decide(&EnvironmentState::new("staging"), observed, &command, utc(clock), &config()).unwrap();
            assert_eq!(d.summary, summary, "{name}");
        }
    }

    #[test]
    fn a_failed_dispatch_waits_when_refused_and_stays_in_flight_when_unanswered() {
        let state = with_deploy_in_flight("2026-11-27T10:00:00Z");
        let refused = decide_dispatch_failed(&state, "abcdef0123", true, "GitHub workflow dispatch failed: HTTP 422: x", Some("alice pushed"), &config());
        assert!(refused.next_state.deployment_in_flight.is_none());
        assert_eq!(refused.next_state.pending_deployment.as_ref().unwrap().sha, "abcdef0123");
        assert_eq!(refused.summary, "dispatch refused: the deploy of abcdef0 waits");
        let Action::Notify(n) = &refused.actions[0] else { panic!() };
        assert_eq!((n.severity, n.subject.as_str()), (Severity::Warning, "staging: deploy of abcdef0 not dispatched; it waits"));
        assert!(n.body.starts_with("GitHub workflow dispatch failed: HTTP 422: x\n\n") && n.body.ends_with("\n\nalice pushed"), "{}", n.body);

        let unanswered = decide_dispatch_failed(&state, "abcdef0123", false, "GitHub workflow dispatch failed: timed out", None, &config());
        assert_eq!(unanswered.next_state, state);
        assert_eq!(unanswered.summary, "dispatch unconfirmed: the deploy of abcdef0 stays in flight");

        let gone = decide_dispatch_failed(&state, "0000000", true, "x", None, &config());
        assert!(gone.actions.is_empty());
        assert_eq!(gone.next_state, state);
    }

    #[test]
    fn a_schedule_time_far_from_the_clock_is_refused_not_a_panic() {
        for due in ["-262143-01-01T00:00:00Z", "+262142-12-31T23:59:59Z", "2026-11-24T18:00:00Z"] {
            let command: Command = serde_json::from_str(&format!(r#"{{"command":"startup","scheduled_time":"{due}"}}"#)).unwrap();
            let config = config_with(&[("STAGING_TIME_ZONE", "America/New_York")]);
            let err = decide(&EnvironmentState::new("staging"), UP, &command, utc("2026-11-27T08:00:00Z"), &config).unwrap_err();
            assert!(matches!(err, Error::Command { .. }), "{due}: {err}");
        }
    }

    #[test]
    fn a_startup_under_a_budget_lock_stops_what_still_runs() {
        let startup = Command::Scheduled(ScheduledCommand::Startup { scheduled_time: Some(utc("2026-11-27T08:00:00Z")) });
        let state = EnvironmentState { budget_lock: locked(), phase: Phase::Up, version: 3, ..EnvironmentState::new("staging") };
        let d = decide(&state, UP, &startup, utc("2026-11-27T08:00:05Z"), &config()).unwrap();
        assert_eq!(d.summary, "not starting: locked by the budget; stopping");
        assert!(!d.next_state.wants_running());
        let down = EnvironmentState { phase: Phase::Down, ..state };
        let d = decide(&down, DOWN, &startup, utc("2026-11-27T08:00:05Z"), &config()).unwrap();
        assert_eq!((d.summary.as_str(), d.actions.len()), ("not starting: locked by the budget", 0));
    }
}
