//! The decision builder every decision uses: the state as found, the next state, the
//! actions and notices, committed as one [`Decision`].

use crate::Action;
use crate::Config;
use crate::Decision;
use crate::EnvironmentState;
use crate::Error;
use crate::Hold;
use crate::HoldKind;
use crate::Notification;
use crate::NotificationEvent;
use crate::Phase;
use crate::ScheduledCommand;
use crate::Severity;
use crate::error::Result;
use crate::model::action::STACK_CHECK_EVERY;
use crate::model::action::hold_schedule_name;
use crate::model::action::stack_check_schedule_name;
use crate::model::action::teardown_retry_schedule_name;
use crate::model::observed::Observed;
use crate::model::observed::STACK_START_ASSUMED_SECS;
use crate::model::observed::StackCondition;
use crate::model::state::ScalableTarget;
use crate::model::state::StackFailure;
use crate::model::state::StackOperation;
use crate::model::state::StackProgress;
use crate::model::state::short_sha;
use crate::time::hhmm;
use crate::time::length;
use crate::time::whole_seconds;
use chrono::{DateTime, Utc};

/// How long a scheduled teardown waits before it looks again at a deploy in flight.
pub const TEARDOWN_RETRY: chrono::Duration = chrono::Duration::minutes(15);

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

/// Until when a start made at `now` keeps staging up by itself: the end of the business
/// hours it is made in, or `now` outside them (then only a hold keeps it up).
pub(crate) fn up_until(config: &Config, now: DateTime<Utc>) -> DateTime<Utc> {
    let hours = &config.business_hours;
    match hours.next_transition(now) {
        Some(t) if hours.is_up_time(now) => t.at,
        _ => now,
    }
}

/// Keeps the values of a scalable target found unparked while staging is meant to be down
/// (parked at a teardown, registered or changed since, or never seen before): the state
/// records them, to be committed before anything parks the target. Every decision applies
/// it — the lifecycle's, a push's, a budget alert's and the 5-minute health tick's — so a
/// target is saved within minutes of appearing, whoever looks first.
pub fn save_scaling(next: &mut EnvironmentState, observed: &Observed) {
    if let Some(found) = observed.scaling
        && !next.wants_running()
        && !found.is_parked()
    {
        next.scaling = Some(found);
    }
}

/// The one reading of a state never written (version 0, a fresh install): it holds no
/// intent yet, so it is what the world shows — the phase ECS shows and, found running, as
/// if started now (see `up_until`). A written state is returned as it is. Every decision
/// and every reader (the health check's "is staging meant to be up?", `stagingctl
/// status`) goes through it, so they all agree before the first commit.
pub fn as_found(
    state: &EnvironmentState,
    observed: &Observed,
    now: DateTime<Utc>,
    config: &Config,
) -> EnvironmentState {
    let mut found = state.clone();
    if state.version == 0 {
        found.phase = observed.phase();
        if found.wants_running() {
            found.up_until = Some(up_until(config, whole_seconds(now)));
        }
    }
    found
}

/// A decision being built: the next state and the actions so far.
pub(crate) struct Draft<'a> {
    pub(crate) next: EnvironmentState,
    pub(crate) actions: Vec<Action>,
    pub(crate) observed: Observed,
    pub(crate) now: DateTime<Utc>,
    pub(crate) config: &'a Config,
    /// Leave the team notifications to the caller (a deploy tells the team once).
    pub(crate) quiet: bool,
}

impl<'a> Draft<'a> {
    /// Starts from `state`. A state never committed holds no intent yet: it adopts the
    /// phase ECS shows.
    pub(crate) fn new(state: &EnvironmentState, observed: Observed, now: DateTime<Utc>, config: &'a Config) -> Self {
        let mut next = as_found(state, &observed, now, config);
        if observed.stack.is_none() {
            // Scale mode (perhaps switched from stack mode mid-operation): nothing about a
            // stack is waited for.
            next.stack.in_progress = None;
        }
        Self { next, actions: Vec::new(), observed, now: whole_seconds(now), config, quiet: false }
    }

    pub(crate) fn into_decision(mut self, summary: String) -> Decision {
        self.park_scaling();
        Decision { actions: self.actions, next_state: self.next, summary }
    }

    pub(crate) fn env(&self) -> &str {
        &self.next.environment
    }

    /// A decision that takes staging down first takes the service out of Application Auto
    /// Scaling's reach: the target's values are saved in the state (committed before
    /// anything acts, so the start can put them back) and the target parked before the
    /// service goes to zero, so no scaling activity can raise it again in between. A target
    /// already parked keeps the values saved when it was parked.
    pub(crate) fn park_scaling(&mut self) {
        let Some(found) = self.observed.scaling else { return };
        if self.next.wants_running() || found.is_parked() {
            return;
        }
        save_scaling(&mut self.next, &self.observed);
        if self.observed.stack.as_ref().is_some_and(|s| s.condition() == StackCondition::Absent) {
            return;
        }
        let park = Action::SetScalableTarget(ScalableTarget::PARKED);
        match self.actions.iter().position(|a| matches!(a, Action::ScaleService { .. } | Action::PauseStack { .. })) {
            Some(i) => self.actions.insert(i, park),
            None => self.actions.push(park),
        }
    }

    pub(crate) fn grace(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.deploy_grace).unwrap_or(chrono::Duration::MAX)
    }

    pub(crate) fn notify(&mut self, event: NotificationEvent, severity: Severity, subject: String, body: String) {
        if self.quiet {
            return;
        }
        self.actions.push(Action::Notify(Notification::new(event, severity, subject, body)));
    }

    /// Places a hold (holds only grow) and, when it changed, the schedule that ends it;
    /// returns when the hold in force ends, said for people: "held until 20:00 UTC", with
    /// why when the duration asked for was cut. The requested duration is cut to
    /// `STAGING_HOLD_MAX` before any arithmetic, so no duration from outside can overflow.
    pub(crate) fn hold(
        &mut self,
        kind: HoldKind,
        duration: std::time::Duration,
        reason: &str,
        who: &str,
    ) -> Result<String> {
        // A forecast over the budget caps on-demand holds for the rest of its period (an
        // emergency bypass is not capped).
        let budget_capped = kind == HoldKind::OnDemand
            && self.next.hold_cap == Some(crate::model::state::BudgetPeriod::containing(self.now));
        let limit = if budget_capped { self.config.hold_default } else { self.config.hold_max };
        let cut = (duration > limit).then(|| {
            let limit = humantime::format_duration(limit);
            if budget_capped {
                format!(
                    " (cut to {limit}: the budget's forecast caps on-demand holds at STAGING_HOLD_DEFAULT this month)"
                )
            } else {
                format!(" (cut to {limit}, the longest hold STAGING_HOLD_MAX allows)")
            }
        });
        let capped = duration.min(limit);
        let until = chrono::Duration::from_std(capped)
            .ok()
            .and_then(|d| self.now.checked_add_signed(d))
            .ok_or_else(|| Error::Hold { reason: "the duration is too long".into() })?;
        let max = chrono::Duration::from_std(limit).unwrap_or(chrono::Duration::MAX);
        let (hold, changed) = self.next.place_hold(
            Hold { until, reason: reason.into(), who: who.into(), kind, keep: false },
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
        Ok(format!("held until {}{}", hhmm(hold.until), cut.unwrap_or_default()))
    }

    pub(crate) fn drop_hold(&mut self) {
        if self.next.release_hold().is_some() {
            self.actions.push(Action::DeleteSchedule { name: hold_schedule_name(self.env()) });
        }
    }

    pub(crate) fn unlock(&mut self, who: &str, how: &str) {
        if let Some(lock) = self.next.unlock_budget() {
            let subject = format!("{}: budget lock {how} by {who}", self.env());
            let body = format!("The budget lock for {} ({}) was {how} by {who}.", lock.period, lock.reason);
            self.notify(NotificationEvent::BudgetUnlocked, Severity::Warning, subject, body);
        }
    }

    /// Starts on someone's behalf: held for `hold` (default `STAGING_HOLD_DEFAULT`) when one
    /// is asked for or outside business hours, so that the scheduled teardown waits for it.
    pub(crate) fn start_on_demand(
        &mut self,
        hold: Option<std::time::Duration>,
        reason: &str,
        who: &str,
    ) -> Result<String> {
        let mut summary = String::new();
        if hold.is_some() || !self.config.business_hours.is_up_time(self.now) {
            summary = self.hold(HoldKind::OnDemand, hold.unwrap_or(self.config.hold_default), reason, who)? + "; ";
        }
        Ok(summary + &self.start(&format!("started by {who}: {reason}")))
    }

    /// Makes the intent "running" and brings the service back if it is scaled to zero
    /// (in stack mode, creates the pause stack again first when it is not standing).
    pub(crate) fn start(&mut self, why: &str) -> String {
        self.next.teardown_deferred_at = None;
        // A start ends a shallow sleep, whatever the stack looks like now.
        self.next.stack.shallow_until = None;
        self.next.up_until = Some(up_until(self.config, self.now));
        if let Some(stack) = self.observed.stack.clone() {
            if !stack.stands() {
                return self.start_stack(why, &stack);
            }
            // Standing: a delete asked for earlier (and waiting on a busy stack) is off.
            if self.next.stack.in_progress.is_some_and(|p| p.operation == StackOperation::Delete) {
                self.next.stack.in_progress = None;
            }
            self.next.stack.failure = None;
            // Created again earlier but never restored (torn down while starting, then
            // started before the pause ran): its service is the template's.
            if self.next.stack.unrestored && self.next.stack.in_progress.is_none() {
                self.next.stack.unrestored = false;
                self.actions.push(Action::RestorePausedService);
            }
        }
        if self.observed.desired_count > 0 {
            if !self.next.wants_running() {
                self.next.phase = Phase::Up;
                self.next.started_at = Some(self.now);
                self.next.started_on_demand = self.next.active_hold(self.now).is_some();
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
        self.next.started_on_demand = self.next.active_hold(self.now).is_some();
        let subject = format!("{}: starting ({why})", self.env());
        self.notify(NotificationEvent::EnvStartup, Severity::Info, subject, format!("{}: {why}.", self.env()));
        "starting".into()
    }

    /// Makes the intent "scaled to zero" and scales the service down if it is not (in
    /// stack mode, then deletes the pause stack).
    pub(crate) fn stop(&mut self, why: &str) -> String {
        self.next.teardown_deferred_at = None;
        if let Some(stack) = self.observed.stack.clone() {
            return self.stop_stack(why, &stack);
        }
        self.stop_service(why, None)
    }

    /// Stops like [`Draft::stop`], but in stack mode keeps the pause stack standing for
    /// `STAGING_DEEP_SLEEP_AFTER` (a shallow sleep: a wake restores the service in about a
    /// minute instead of creating the stack); [`Draft::deepen`] deletes it after that, and
    /// the scheduled teardown sooner. A stack not standing is stopped as usual.
    pub(crate) fn stop_shallow(&mut self, why: &str) -> String {
        self.next.teardown_deferred_at = None;
        match self.observed.stack.clone() {
            Some(stack) if stack.condition() == StackCondition::Ready && self.next.stack.in_progress.is_none() => {
                let after = chrono::Duration::from_std(self.config.front_door.deep_sleep_after)
                    .unwrap_or(chrono::Duration::MAX);
                let until = self.now.checked_add_signed(after).unwrap_or(DateTime::<Utc>::MAX_UTC);
                self.next.stack.shallow_until = Some(until);
                let line = self.stop_service(why, Some(until));
                format!("{line}; the stack stays until {} (a shallow sleep)", hhmm(until))
            }
            Some(stack) => self.stop_stack(why, &stack),
            None => self.stop_service(why, None),
        }
    }

    /// Ends a shallow sleep that is due at `now`: the pause stack is deleted too (quietly:
    /// the team was told of the stop). `None` when there is none to end.
    pub(crate) fn deepen(&mut self) -> Option<String> {
        let until = self.next.stack.shallow_until?;
        let stack = self.observed.stack.clone()?;
        if self.next.wants_running() || self.now < until {
            return None;
        }
        if stack.condition() != StackCondition::Ready || self.next.stack.in_progress.is_some() {
            // The stack is not as the shallow sleep left it (deleted by hand, busy, failed):
            // the sleep is over, and what becomes of the stack is the reconciler's (a failed
            // one waits for a person, as always).
            self.next.stack.shallow_until = None;
            return Some(format!("shallow sleep over: the stack is {}", stack.status_text()));
        }
        let line = self.stop_stack("deep sleep", &stack);
        Some(format!("deep sleep: asleep since before {}, {line}", hhmm(until)))
    }

    /// Scales the service to zero (scale mode, or a shallow sleep kept `until`).
    fn stop_service(&mut self, why: &str, shallow_until: Option<DateTime<Utc>>) -> String {
        // The staging address goes to the front door before the app goes away.
        if self.observed.route == Some(crate::model::observed::Route::App) {
            self.actions.push(Action::Route { to: crate::model::observed::Route::FrontDoor });
        }
        if self.observed.desired_count == 0 {
            if self.next.wants_running() {
                self.next.close_up_window(self.now);
                self.next.phase = Phase::Down;
            }
            return "already down".into();
        }
        self.actions.push(Action::ScaleService { desired_count: 0 });
        if !self.next.wants_running() && self.next.version > 0 {
            // Already decided and told: this only puts ECS right.
            return "stopping".into();
        }
        self.next.close_up_window(self.now);
        self.next.phase = Phase::Stopping;
        let subject = format!("{}: tearing down ({why})", self.env());
        let body = match shallow_until {
            None => format!("{}: {why}.", self.env()),
            Some(until) => format!(
                "{}: {why}.\nThe service goes to zero; the stack {} stays until {} (a wake in about a minute), \
                 then it is deleted too.",
                self.env(),
                self.stack_name(),
                hhmm(until)
            ),
        };
        self.notify(NotificationEvent::EnvTeardown, Severity::Info, subject, body);
        "stopping".into()
    }

    /// The pause stack's name, for people.
    pub(crate) fn stack_name(&self) -> &str {
        self.config.teardown.pause_stack().unwrap_or("the pause stack")
    }

    /// When a start of the pause stack made now is expected to be ready, and whether
    /// that comes from recorded starts (or is the assumed ten minutes).
    pub(crate) fn stack_ready_estimate(&self) -> (DateTime<Utc>, bool) {
        let recorded = self.next.expected_stack_start_secs();
        let secs = recorded.unwrap_or(STACK_START_ASSUMED_SECS);
        let since = self.next.stack.in_progress.map(|p| p.since).unwrap_or(self.now);
        (since + chrono::Duration::seconds(i64::from(secs)), recorded.is_some())
    }

    /// While the pause stack is being created: when it is expected to be ready.
    pub(crate) fn stack_starting(&self) -> Option<DateTime<Utc>> {
        self.next
            .stack
            .in_progress
            .filter(|p| p.operation == StackOperation::Create)
            .map(|_| self.stack_ready_estimate().0)
    }

    /// Looks at the pause stack again in [`STACK_CHECK_EVERY`] (the fallback for a lost
    /// EventBridge event).
    pub(crate) fn check_stack_later(&mut self) {
        self.actions.push(Action::PutOneTimeSchedule {
            name: stack_check_schedule_name(self.env()),
            at: self.now + STACK_CHECK_EVERY,
            command: ScheduledCommand::StackCheck,
        });
    }

    /// A start in stack mode while the pause stack is not standing: it is created again
    /// (from the copy saved when it was paused) and staging is `starting` until the
    /// stack reports complete ([`Self::settle_stack`]).
    pub(crate) fn start_stack(&mut self, why: &str, stack: &crate::model::observed::StackObserved) -> String {
        if stack.condition() == StackCondition::Failed && !stack.is_failed_create() {
            // DELETE_FAILED (or another failure that leaves parts standing): creating is
            // not possible, and the failure already told stays recorded.
            return format!(
                "not starting: the stack is {} and needs a person (fix what blocks it, then `stagingctl down`)",
                stack.status_text()
            );
        }
        let creating = self.next.stack.in_progress.is_some_and(|p| p.operation == StackOperation::Create);
        if creating && self.next.wants_running() {
            // Already decided and told; a stack found gone again is created again.
            if stack.condition() == StackCondition::Absent {
                self.actions.push(Action::ResumeStack);
            }
            let (at, _) = self.stack_ready_estimate();
            return format!("starting: the stack is being created (ready about {})", hhmm(at));
        }
        self.next.stack.in_progress = Some(StackProgress { operation: StackOperation::Create, since: self.now });
        self.next.stack.failure = None;
        self.next.stack.unrestored = true;
        self.actions.push(Action::ResumeStack);
        self.check_stack_later();
        if !self.next.wants_running() {
            self.next.started_at = Some(self.now);
            self.next.started_on_demand = self.next.active_hold(self.now).is_some();
        }
        self.next.phase = Phase::Starting;
        let (at, recorded) = self.stack_ready_estimate();
        let basis = match self.next.expected_stack_start_secs() {
            Some(secs) if recorded => {
                format!("the last starts took about {}", length(chrono::Duration::seconds(i64::from(secs))))
            }
            _ => "about 10 minutes: no start recorded yet".into(),
        };
        let subject = format!("{}: starting ({why}); ready about {}", self.env(), hhmm(at));
        let body = format!(
            "{}: {why}.\nThe stack {} is being created again from its saved template and parameters; staging is \
             expected to be ready about {} ({basis}). The service is restored and any deploy that waits goes when \
             it is up.",
            self.env(),
            self.stack_name(),
            hhmm(at)
        );
        self.notify(NotificationEvent::EnvStartup, Severity::Info, subject, body);
        format!("starting: creating the stack (ready about {})", hhmm(at))
    }

    /// A stop in stack mode: the service goes to zero (its count remembered), then the
    /// pause stack is deleted once its template and parameters are saved.
    pub(crate) fn stop_stack(&mut self, why: &str, stack: &crate::model::observed::StackObserved) -> String {
        self.next.stack.shallow_until = None;
        let gone = stack.condition() == StackCondition::Absent;
        if gone && self.observed.desired_count == 0 {
            if self.next.wants_running() {
                self.next.close_up_window(self.now);
                self.next.phase = Phase::Down;
            }
            self.next.stack.in_progress = None;
            return "already down".into();
        }
        if self.observed.desired_count > 0 {
            self.actions.push(Action::ScaleService { desired_count: 0 });
        }
        if !self.next.stack.unrestored && self.observed.task_definition.is_some() {
            self.next.stack.paused_task_definition = self.observed.task_definition.clone();
        }
        // Even when gone: the shell checks that a copy was saved (a stack that was never
        // there is a misnamed STAGING_PAUSE_STACK, not a paused one).
        self.actions.push(Action::PauseStack { keep_service: self.next.stack.unrestored });
        if self.next.stack.in_progress.map(|p| p.operation) != Some(StackOperation::Delete) {
            self.next.stack.in_progress = Some(StackProgress { operation: StackOperation::Delete, since: self.now });
            self.next.stack.failure = None;
            self.check_stack_later();
        }
        if !self.next.wants_running() && self.next.version > 0 {
            // Already decided and told: this only puts the world right.
            return "stopping".into();
        }
        self.next.close_up_window(self.now);
        self.next.phase = Phase::Stopping;
        let subject = format!("{}: tearing down ({why})", self.env());
        let body = format!(
            "{}: {why}.\nThe service goes to zero and the stack {} is deleted (its template and parameters are saved; \
             the next start creates it again).",
            self.env(),
            self.stack_name()
        );
        self.notify(NotificationEvent::EnvTeardown, Severity::Info, subject, body);
        "stopping: deleting the stack".into()
    }

    /// What the pause stack has done since the state last looked: a create complete makes
    /// staging up (the service restored, the team told how long it took), a delete
    /// complete makes it down, a failure is critical and recorded with CloudFormation's
    /// reason. Returns a line saying what settled, if anything did.
    pub(crate) fn settle_stack(&mut self) -> Option<String> {
        let stack = self.observed.stack.clone()?;
        let progress = self.next.stack.in_progress?;
        let took = length(self.now - progress.since);
        let env = self.env().to_string();
        let name = self.stack_name().to_string();
        match (progress.operation, stack.condition()) {
            (StackOperation::Create, StackCondition::Ready) => {
                self.next.stack.in_progress = None;
                self.next.stack.failure = None;
                self.next.stack.ready_at = Some(self.now);
                self.next.stack.unrestored = false;
                let secs = (self.now - progress.since).num_seconds().clamp(0, i64::from(u32::MAX));
                self.next.record_stack_start(u32::try_from(secs).unwrap_or(u32::MAX));
                self.next.phase = Phase::Up;
                self.actions.push(Action::RestorePausedService);
                // What the service runs once restored (a deploy dispatched now goes back to
                // it, not to the template's, if it has to be rolled back).
                if let Some(td) = self.next.stack.paused_task_definition.clone() {
                    self.observed.task_definition = Some(td);
                }
                let waiting = match &self.next.pending_deployment {
                    Some(d) => format!(" The deploy that waited ({}) goes now.", d.push_list()),
                    None => String::new(),
                };
                self.notify(
                    NotificationEvent::EnvStartup,
                    Severity::Info,
                    format!("{env}: up after {took}"),
                    format!("The stack {name} was created in {took} (asked at {}); the service is restored to its count.{waiting}", hhmm(progress.since)),
                );
                Some(format!("up: the stack was created in {took}"))
            }
            (StackOperation::Delete, StackCondition::Absent) => {
                self.next.stack.in_progress = None;
                self.next.stack.failure = None;
                if !self.next.wants_running() {
                    self.next.phase = Phase::Down;
                }
                Some(format!("paused: the stack was deleted in {took}"))
            }
            // Torn down while its create failed: nothing of it stands, so it is only deleted.
            (StackOperation::Delete, StackCondition::Failed) if stack.is_failed_create() => {
                self.actions.push(Action::PauseStack { keep_service: true });
                None
            }
            (asked, StackCondition::Failed) => {
                let operation = stack.failed_operation().unwrap_or(asked);
                let status = stack.status_text().to_string();
                let reason = stack.reason.clone().unwrap_or_else(|| "CloudFormation gave no reason".into());
                self.next.stack.in_progress = None;
                self.next.stack.failure =
                    Some(StackFailure { operation, status: status.clone(), reason: reason.clone(), at: self.now });
                let (event, next_step) = if asked == StackOperation::Create {
                    if self.next.wants_running() {
                        self.next.close_up_window(self.now);
                    }
                    // Nothing runs: the intent says so, and the next start tries again.
                    self.next.phase = Phase::Down;
                    (
                        NotificationEvent::EnvStartup,
                        "Staging is down. The next start (`stagingctl up`, a push, the morning startup) tries again: what \
                         a failed create left is deleted first. Fix the cause in the stack's events first.",
                    )
                } else {
                    (
                        NotificationEvent::EnvTeardown,
                        "Parts of the stack may still be billing. Look at the stack's events, fix what blocks the delete \
                         (a retained or protected resource), then run `stagingctl down` to try again.",
                    )
                };
                self.notify(
                    event,
                    Severity::Critical,
                    format!("{env}: the stack's {operation} failed ({status})"),
                    format!(
                        "The {operation} of the stack {name}, asked at {}, failed: {status}: {reason}\n{next_step}",
                        hhmm(progress.since)
                    ),
                );
                Some(format!("the stack's {operation} failed: {status}: {reason}"))
            }
            _ => None,
        }
    }

    /// A stop the schedule asks for: it waits, 15 minutes at a time, for a deploy in
    /// flight (told once), and goes ahead past the grace period, saying the deploy
    /// never reported.
    pub(crate) fn scheduled_stop(&mut self, why: &str) -> String {
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
            return format!(
                "{why} deferred to {}: the deploy of {} (dispatched at {since}) has not finished",
                hhmm(at),
                short_sha(&d.sha)
            );
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
    pub(crate) fn follow_schedule(&mut self, why: &str) -> String {
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
            // A stack being created: the deploy waits for `up`.
            || self.next.stack.in_progress.is_some()
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
        let mut line =
            format!("dispatched {deployment_type} for {n} push{} ({})", if n == 1 { "" } else { "es" }, d.push_list());
        if let Some(stale) = stale {
            let since = stale.started_at.map(hhmm).unwrap_or_else(|| "an unknown time".into());
            line.push_str(&format!(
                "; the run dispatched at {since} for {} never reported and is folded in",
                short_sha(&stale.sha)
            ));
        }
        let subject = format!("{}: deploying {deployment_type} @ {}", self.env(), short_sha(&d.sha));
        let body = format!("Deploying what waited: {} ({}), pushes {}.", d.plan, deployment_type, d.push_list());
        self.notify(NotificationEvent::DeployPlanned, Severity::Info, subject, body);
        Some(line)
    }
}
