//! Health: what a probe's answer means, the Gatus-like state machine that turns ticks
//! into alerts, self-healing and rollback. The month's availability and MTTR are a
//! report: [`crate::report::figures`].
//!
//! The rules:
//! - A tick is *failing* when any probe fails (the ECS service among them), *slow* when
//!   all answer but one is over its latency limit, *fine* otherwise.
//! - `failures` failing ticks in a row → unhealthy → one `health.down` (critical) naming
//!   the probes and their errors; while unhealthy, a reminder every `reminder`.
//!   `successes` answering ticks in a row → one `health.resolved` with the outage's
//!   length. Slow ticks → `health.degraded` (warning) with the same thresholds.
//!   Healthy and steady says nothing.
//! - Staging down or stopping by design is planned downtime: nothing is probed, the
//!   counters start again at the next start, and an outage still open is closed.
//! - In the grace period after a start, a deployment or a rollback, ticks are counted
//!   but raise no alert (a deployment that turns unhealthy is rolled back, once, when
//!   `STAGING_AUTO_ROLLBACK` is on).
//! - After `heal_after` failing ticks with fewer tasks running than desired, or a
//!   backend probe failing, a new ECS deployment is forced — at most once per
//!   `heal_interval`.
//!
//! Instants are whole seconds, as everywhere in the core.

use crate::config::HealthPolicy;
use crate::model::probe::ECS_PROBE;
use crate::model::probe::*;
use crate::model::state::HealthTransition;
use crate::model::state::TRANSITIONS_KEPT;
use crate::time::length;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::action::{Action, Decision, Notification, NotificationEvent, Severity};
use crate::model::observed::Observed;
use crate::model::state::{Deployment, DeploymentStatus, EnvironmentState, HealthChange, HealthStatus, short_sha};
use crate::time::{hhmm, whole_seconds};

/// How far (minutes) a tick's scheduled time may be from the clock to be remembered:
/// Scheduler delivers within seconds, and retries a failed invocation within minutes.
pub const MAX_TICK_LAG_MINUTES: i64 = 30;
/// The outcome of one tick, for the function's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tick {
    Fine,
    Slow,
    Failing,
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(chrono(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Why the grace period is in force at `now`, if it is: staging was started, a
/// deployment is running or just finished, or the service was just redeployed.
pub fn grace(
    state: &EnvironmentState,
    now: DateTime<Utc>,
    policy: &HealthPolicy,
    deploy_grace: Duration,
) -> Option<String> {
    let within = |t: Option<DateTime<Utc>>| t.is_some_and(|t| now < after(t, policy.grace));
    if let Some(p) = state.stack.in_progress
        && now < p.since + STACK_OPERATION_GRACE
    {
        return Some(format!("the pause stack's {} is under way", p.operation));
    }
    if within(state.started_at) || within(state.stack.ready_at) {
        return Some("staging was just started".into());
    }
    if let Some(d) = state.active_deployment(now, chrono(deploy_grace)) {
        return Some(format!("the deploy of {} is running", short_sha(&d.sha)));
    }
    if let Some(d) = &state.last_deployment
        && within(d.finished_at)
    {
        return Some(format!("the deploy of {} just finished", short_sha(&d.sha)));
    }
    if within(state.health.redeployed_at) {
        return Some("the service was just redeployed".into());
    }
    None
}

/// Decides one health tick: `results` are the HTTP probes' verdicts (`None`: not
/// probed, because staging was not meant to be up when the tick began), `observed` is
/// ECS. `tick` is the schedule's own time, when it says: a tick seen again is not
/// counted twice.
/// Where a health tick's decision came from, for the audit trail: its time, and the
/// probes that failed (by name; never a URL).
pub fn origin(tick: Option<DateTime<Utc>>, results: Option<&[ProbeResult]>) -> crate::audit::Origin {
    let when = match tick {
        Some(t) => format!("tick {}", crate::audit::sort_key(t)),
        None => "tick (by hand)".to_string(),
    };
    let probes = match results {
        None => "nothing probed".to_string(),
        Some(r) => {
            let failing: Vec<&str> = r.iter().filter(|p| !p.ok).map(|p| p.name.as_str()).collect();
            let probes = if r.len() == 1 { "1 probe".to_string() } else { format!("{} probes", r.len()) };
            if failing.is_empty() {
                format!("{probes} ok")
            } else {
                format!("{probes}, failing: {}", failing.join(", "))
            }
        }
    };
    crate::audit::Origin::new(crate::audit::Source::Health, "health-check", format!("{when}: {probes}"))
}

pub fn decide(
    state: &EnvironmentState,
    observed: &Observed,
    results: Option<&[ProbeResult]>,
    tick: Option<DateTime<Utc>>,
    clock: DateTime<Utc>,
    config: &Config,
) -> Decision {
    let state = &crate::decide::draft::as_found(state, observed, clock, config);
    let mut decision = decide_tick(state, observed, results, tick, clock, config);
    // The tick is the first to see a scalable target registered while staging sleeps.
    crate::decide::draft::save_scaling(&mut decision.next_state, observed);
    decision.actions.extend(stack_check_fallback(state, whole_seconds(clock)));
    decision
}

/// How long a create or delete of the pause stack may go unsettled before the health
/// check, the fallback of the fallback, asks the lifecycle function to look (the stack
/// check schedule re-arms itself every 5 minutes; this puts it back if that chain broke).
pub const STACK_CHECK_OVERDUE: chrono::Duration = chrono::Duration::minutes(12);

/// How long a stack operation keeps the health check quiet: longer than any create or
/// delete should take; after it, staging not answering is an outage worth telling.
pub const STACK_OPERATION_GRACE: chrono::Duration = chrono::Duration::hours(1);

/// The stack check the lifecycle function should make in a minute, when a create or
/// delete of the pause stack has gone unsettled for [`STACK_CHECK_OVERDUE`].
pub fn stack_check_fallback(state: &EnvironmentState, now: DateTime<Utc>) -> Option<Action> {
    let p = state.stack.in_progress?;
    (now - p.since >= STACK_CHECK_OVERDUE).then(|| Action::PutOneTimeSchedule {
        name: crate::model::action::stack_check_schedule_name(&state.environment),
        at: now + chrono::Duration::minutes(1),
        command: crate::model::action::ScheduledCommand::StackCheck,
    })
}

fn decide_tick(
    state: &EnvironmentState,
    observed: &Observed,
    results: Option<&[ProbeResult]>,
    tick: Option<DateTime<Utc>>,
    clock: DateTime<Utc>,
    config: &Config,
) -> Decision {
    let now = whole_seconds(clock);
    // A tick's own time far from the clock is not a schedule's (an event file replayed
    // by hand): it counts, but is not remembered, so it cannot mask the real ticks.
    let tick = tick.map(whole_seconds).filter(|t| (*t - now).abs() <= chrono::Duration::minutes(MAX_TICK_LAG_MINUTES));
    let mut next = state.clone();
    let mut actions = Vec::new();

    if !state.wants_running() {
        // A shallow sleep (stack mode) that has lasted its time: the stack goes too.
        let mut plan = crate::decide::draft::Draft::new(state, observed.clone(), clock, config);
        if let Some(line) = plan.deepen() {
            return plan.into_decision(line);
        }
        let summary = pause(&mut next, &mut actions, now);
        return Decision { actions, next_state: next, summary };
    }
    let Some(results) = results else {
        return Decision {
            actions,
            next_state: next,
            summary: "not probed: staging was not meant to be up when the tick began".into(),
        };
    };
    if let (Some(t), Some(last)) = (tick, state.health.last_tick)
        && t <= last
    {
        return Decision {
            actions,
            next_state: next,
            summary: format!(
                "ignored: the tick of {} was already counted",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        };
    }
    if tick.is_some() {
        next.health.last_tick = tick;
    }

    let mut all: Vec<ProbeResult> = results.to_vec();
    all.push(judge_ecs(observed));
    let verdict = verdict(&all);
    count(&mut next.health, verdict, now);
    let probed = Probed::of(state, &next.health, &all, verdict, now, config);
    let summary = probed.summary(all.len());
    let mut out = Outcome { next, actions, summary, told_down: false };

    roll_back(&mut out, &probed, observed);
    // A rollback is a transition to unhealthy even inside the grace period.
    let to = if out.told_down { HealthStatus::Unhealthy } else { probed.to };
    let heal_line = heal(&mut out, &probed, observed);
    alert(&mut out, &probed, state.health.since, to, heal_line.as_deref());
    tell_healing(&mut out, &probed, heal_line.as_deref());
    remember_last_good(&mut out.next, &probed, observed);
    Decision { actions: out.actions, next_state: out.next, summary: out.summary }
}

/// What a health tick decided so far: the steps after counting add to it in turn.
struct Outcome {
    next: EnvironmentState,
    actions: Vec<Action>,
    summary: String,
    /// A `health.down` notice went out this tick (none is sent twice).
    told_down: bool,
}

/// One probed tick, counted: what the probes said and the status the counters call for.
struct Probed<'a> {
    env: &'a str,
    now: DateTime<Utc>,
    policy: &'a HealthPolicy,
    verdict: Tick,
    failing: Vec<&'a ProbeResult>,
    slow: Vec<&'a ProbeResult>,
    fail_list: String,
    /// Why the grace period is in force, if it is.
    grace: Option<String>,
    /// The status before the tick, and the one the counters call for.
    from: HealthStatus,
    to: HealthStatus,
    /// The first tick of the current streak (failing, or answering).
    streak_start: DateTime<Utc>,
    /// When the status the counters call for began.
    began: DateTime<Utc>,
}

impl<'a> Probed<'a> {
    /// `h` is the health record with the tick counted; `all` the probes' results, ECS among them.
    fn of(
        state: &'a EnvironmentState,
        h: &crate::model::state::Health,
        all: &'a [ProbeResult],
        verdict: Tick,
        now: DateTime<Utc>,
        config: &'a Config,
    ) -> Self {
        let policy = &config.health;
        let failing: Vec<&ProbeResult> = all.iter().filter(|r| !r.ok).collect();
        let slow: Vec<&ProbeResult> = all.iter().filter(|r| r.slow).collect();
        let grace = grace(state, now, policy, config.deploy_grace);
        let from = h.status;
        let to = target(from, h, policy, grace.is_some());
        let streak_start = h.streak_since.unwrap_or(now);
        // When the new status began: an outage with the first failing tick of its streak,
        // its end with the first answer again, a slow spell with its first slow tick, its
        // end with the first fast one.
        let began = match (from, to) {
            (_, HealthStatus::Unhealthy) | (HealthStatus::Unhealthy, _) => streak_start,
            (_, HealthStatus::Degraded) => h.slow_since.unwrap_or(now),
            (_, HealthStatus::Healthy) => h.fast_since.unwrap_or(now),
            _ => now,
        };
        let fail_list = list(&failing);
        let env = state.environment.as_str();
        Self { env, now, policy, verdict, failing, slow, fail_list, grace, from, to, streak_start, began }
    }

    /// The summary's start: how many probes, what they said, and the grace period.
    fn summary(&self, probes: usize) -> String {
        let mut summary = format!(
            "{} probe{}: {}",
            probes,
            if probes == 1 { "" } else { "s" },
            match self.verdict {
                Tick::Fine => "all fine".to_string(),
                Tick::Slow => format!("slow: {}", list(&self.slow)),
                Tick::Failing => format!("failing: {}", self.fail_list),
            }
        );
        if let Some(why) = &self.grace {
            summary.push_str(&format!(" (grace: {why})"));
        }
        summary
    }
}

/// A tick is failing when any probe fails, slow when one is over its limit, else fine.
fn verdict(all: &[ProbeResult]) -> Tick {
    if all.iter().any(|r| !r.ok) {
        Tick::Failing
    } else if all.iter().any(|r| r.slow) {
        Tick::Slow
    } else {
        Tick::Fine
    }
}

/// Count: the tick's verdict into the health record's streaks.
fn count(h: &mut crate::model::state::Health, verdict: Tick, now: DateTime<Utc>) {
    let was_failing = h.consecutive_failures > 0;
    match verdict {
        Tick::Failing => {
            if !was_failing {
                h.streak_since = Some(now);
            }
            h.consecutive_failures = h.consecutive_failures.saturating_add(1);
            h.consecutive_successes = 0;
            (h.consecutive_slow, h.slow_since) = (0, None);
            (h.consecutive_fast, h.fast_since) = (0, None);
        }
        Tick::Slow | Tick::Fine => {
            if was_failing || h.consecutive_successes == 0 {
                h.streak_since = Some(now);
            }
            h.consecutive_failures = 0;
            h.consecutive_successes = h.consecutive_successes.saturating_add(1);
            if verdict == Tick::Slow {
                if h.consecutive_slow == 0 {
                    h.slow_since = Some(now);
                }
                h.consecutive_slow = h.consecutive_slow.saturating_add(1);
                (h.consecutive_fast, h.fast_since) = (0, None);
            } else {
                if h.consecutive_fast == 0 {
                    h.fast_since = Some(now);
                }
                h.consecutive_fast = h.consecutive_fast.saturating_add(1);
                (h.consecutive_slow, h.slow_since) = (0, None);
            }
        }
    }
}

/// Roll back: a deployment that turns unhealthy within its grace period is rolled back,
/// once, and told as the outage's `health.down`. Only an outage that began after the
/// deploy finished is the deploy's, and only one the service can cause (a backend probe
/// or ECS failing).
fn roll_back(out: &mut Outcome, p: &Probed, observed: &Observed) {
    let (env, now, policy) = (p.env, p.now, p.policy);
    let rollback = (p.verdict == Tick::Failing
        && out.next.health.consecutive_failures >= policy.failures
        && policy.auto_rollback
        && p.failing.iter().any(|r| r.backend))
    .then(|| auto_rollback_target(&out.next, observed, p.streak_start, now, policy))
    .flatten();
    let Some((deployment, target)) = rollback else {
        return;
    };
    let failed = deployment.clone();
    out.actions.push(Action::RollbackService { task_definition: target.clone() });
    if let Some(d) = out.next.last_deployment.as_mut() {
        d.rolled_back_at = Some(now);
        out.actions.push(Action::RecordDeployment(d.clone()));
    }
    out.next.health.redeployed_at = Some(now);
    let subject = format!("{env}: deploy of {} rolled back: unhealthy after deploying", short_sha(&failed.sha));
    let body = format!(
        "The deploy of {} (pushes {}{}) turned staging unhealthy within {} of finishing.\nFailing: {}\n\n\
         Rolled back: the service is back on {} (it ran {}).",
        short_sha(&failed.sha),
        failed.push_list(),
        failed.run_url.as_deref().map(|u| format!("; run {u}")).unwrap_or_default(),
        humantime::format_duration(policy.grace),
        p.fail_list,
        task_name(&target),
        observed.task_definition.as_deref().map(task_name).unwrap_or("an unknown task definition"),
    );
    out.actions.push(notify(NotificationEvent::HealthDown, Severity::Critical, subject, body));
    out.told_down = true;
    out.summary.push_str(&format!("; rolled back the deploy of {} to {}", short_sha(&failed.sha), task_name(&target)));
}

/// Heal: a new deployment of the same task definition, when the failing service is one a
/// restart can fix; the line that tells it, for the alert it goes with.
fn heal(out: &mut Outcome, p: &Probed, observed: &Observed) -> Option<String> {
    let (now, policy) = (p.now, p.policy);
    let h = &out.next.health;
    let heal = !out.told_down
        && p.grace.is_none()
        && p.verdict == Tick::Failing
        && h.consecutive_failures >= policy.heal_after
        && observed.desired_count > 0
        && (observed.running_count < observed.desired_count
            || p.failing.iter().any(|r| r.backend && r.name != ECS_PROBE))
        && h.last_heal_at.is_none_or(|t| now >= after(t, policy.heal_interval));
    if !heal {
        return None;
    }
    let line = format!(
        "Self-healing: forced a new deployment of the ECS service after {} failing checks in a row (at most once every {}).",
        h.consecutive_failures,
        humantime::format_duration(policy.heal_interval)
    );
    out.actions.push(Action::ForceNewDeployment);
    out.next.health.last_heal_at = Some(now);
    out.next.health.redeployed_at = Some(now);
    out.summary.push_str("; forced a new deployment");
    Some(line)
}

/// Alert: a change of status is recorded and told; an outage that goes on is reminded
/// every `reminder`. `since` is when the status before the tick began; `to` the status
/// the tick ends in.
fn alert(out: &mut Outcome, p: &Probed, since: Option<DateTime<Utc>>, to: HealthStatus, heal_line: Option<&str>) {
    if to != p.from {
        tell_change(out, p, since, to, heal_line);
    } else {
        remind(out, p, to, heal_line);
    }
}

/// A change of status: recorded, and told (a `health.down` the rollback told is not told again).
fn tell_change(out: &mut Outcome, p: &Probed, began: Option<DateTime<Utc>>, to: HealthStatus, heal_line: Option<&str>) {
    let (env, now, from, at) = (p.env, p.now, p.from, p.began);
    let fail_list = &p.fail_list;
    transition(&mut out.next, &mut out.actions, at, from, to);
    out.summary.push_str(&format!("; {} -> {}", status_name(from), status_name(to)));
    match (from, to) {
        (_, HealthStatus::Unhealthy) if !out.told_down => {
            out.next.health.last_alert_at = Some(now);
            let subject = format!("{env}: DOWN — {}", first_line(fail_list));
            let mut body = format!(
                "{env} failed {} health checks in a row, since {}.\nFailing: {fail_list}",
                out.next.health.consecutive_failures,
                hhmm(p.streak_start)
            );
            if let Some(line) = heal_line {
                body.push_str(&format!("\n\n{line}"));
            }
            out.actions.push(notify(NotificationEvent::HealthDown, Severity::Critical, subject, body));
            out.told_down = true;
        }
        (_, HealthStatus::Unhealthy) => out.next.health.last_alert_at = Some(now),
        (HealthStatus::Unhealthy, _) => {
            let lasted = began.map(|b| length(at - b)).unwrap_or_else(|| "an unknown time".into());
            let still =
                if to == HealthStatus::Degraded { format!("; still slow: {}", list(&p.slow)) } else { String::new() };
            let subject = format!("{env}: resolved after {lasted}");
            let body = format!(
                "{env} answers again: {} checks in a row passed since {}. The outage lasted {lasted}{still}.",
                out.next.health.consecutive_successes,
                hhmm(at)
            );
            out.actions.push(notify(NotificationEvent::HealthResolved, Severity::Info, subject, body));
        }
        (_, HealthStatus::Degraded) => {
            let subject = format!("{env}: slow — {}", first_line(&list(&p.slow)));
            let body = format!(
                "{env} answers, but slowly, {} checks in a row.\nSlow: {}",
                out.next.health.consecutive_slow,
                list(&p.slow)
            );
            out.actions.push(notify(NotificationEvent::HealthDegraded, Severity::Warning, subject, body));
        }
        (HealthStatus::Degraded, HealthStatus::Healthy) => {
            let lasted = began.map(|b| length(at - b)).unwrap_or_else(|| "an unknown time".into());
            let subject = format!("{env}: no longer slow after {lasted}");
            let body = format!("{env} answers within its limits again; it was slow for {lasted}.");
            out.actions.push(notify(NotificationEvent::HealthResolved, Severity::Info, subject, body));
        }
        _ => {}
    }
}

/// Still down, outside the grace period, and nothing told for `reminder`: told again.
fn remind(out: &mut Outcome, p: &Probed, to: HealthStatus, heal_line: Option<&str>) {
    let (env, now) = (p.env, p.now);
    if !(to == HealthStatus::Unhealthy
        && p.verdict == Tick::Failing
        && !out.told_down
        && p.grace.is_none()
        && out.next.health.last_alert_at.is_none_or(|t| now >= after(t, p.policy.reminder)))
    {
        return;
    }
    out.next.health.last_alert_at = Some(now);
    let since = out.next.health.since.unwrap_or(now);
    let subject = format!("{env}: still DOWN after {}", length(now - since));
    let mut body =
        format!("{env} has been unhealthy since {} ({}).\nFailing: {}", hhmm(since), length(now - since), p.fail_list);
    if let Some(line) = heal_line {
        body.push_str(&format!("\n\n{line}"));
    }
    out.actions.push(notify(NotificationEvent::HealthDown, Severity::Critical, subject, body));
    out.told_down = true;
    out.summary.push_str("; reminded");
}

/// A forced deployment no `health.down` notice told of is told on its own.
fn tell_healing(out: &mut Outcome, p: &Probed, heal_line: Option<&str>) {
    if let (Some(line), false) = (heal_line, out.told_down) {
        let subject = format!("{}: forced a new deployment (self-healing)", p.env);
        let body = format!("{line}\nFailing: {}", p.fail_list);
        out.actions.push(notify(NotificationEvent::HealthHealing, Severity::Warning, subject, body));
    }
}

/// The task definition that ran healthy outside any grace period is the last good one.
fn remember_last_good(next: &mut EnvironmentState, p: &Probed, observed: &Observed) {
    if next.health.status == HealthStatus::Healthy
        && p.verdict == Tick::Fine
        && p.grace.is_none()
        && let Some(td) = &observed.task_definition
        && next.health.last_good_task_definition.as_ref() != Some(td)
    {
        next.health.last_good_task_definition = Some(td.clone());
    }
}

/// Staging is down by design: nothing to probe. The counters start again at the next
/// start; an outage still open is closed (and told), since nobody will resolve it now.
fn pause(next: &mut EnvironmentState, actions: &mut Vec<Action>, now: DateTime<Utc>) -> String {
    let from = next.health.status;
    let h = &mut next.health;
    h.consecutive_failures = 0;
    h.consecutive_successes = 0;
    (h.consecutive_slow, h.slow_since) = (0, None);
    (h.consecutive_fast, h.fast_since) = (0, None);
    h.streak_since = None;
    if from == HealthStatus::Unknown {
        return "not probed: staging is down by design".into();
    }
    let began = h.since;
    transition(next, actions, now, from, HealthStatus::Unknown);
    if from == HealthStatus::Unhealthy {
        let env = next.environment.clone();
        let lasted = began.map(|b| length(now - b)).unwrap_or_else(|| "an unknown time".into());
        let subject = format!("{env}: outage closed by the teardown after {lasted}");
        let body = format!(
            "{env} was scaled down by design while unhealthy (for {lasted}). Health checks pause until it starts \
             again; if it is still broken then, it is reported again."
        );
        actions.push(notify(NotificationEvent::HealthResolved, Severity::Info, subject, body));
    }
    format!("not probed: staging is down by design; health {} -> unknown (paused)", status_name(from))
}

fn transition(
    next: &mut EnvironmentState,
    actions: &mut Vec<Action>,
    at: DateTime<Utc>,
    from: HealthStatus,
    to: HealthStatus,
) {
    let h = &mut next.health;
    h.status = to;
    h.since = Some(at);
    if to != HealthStatus::Unhealthy {
        h.last_alert_at = None;
    }
    h.transitions.push(HealthTransition { at, from, to });
    let excess = h.transitions.len().saturating_sub(TRANSITIONS_KEPT);
    h.transitions.drain(..excess);
    actions.push(Action::RecordHealth { at, change: HealthChange { from, to } });
}

/// The status the counters call for. Entering unhealthy or degraded waits out the
/// grace period; leaving them does not.
fn target(from: HealthStatus, h: &crate::model::state::Health, p: &HealthPolicy, in_grace: bool) -> HealthStatus {
    use HealthStatus::*;
    let (f, s) = (p.failures.max(1), p.successes.max(1));
    if h.consecutive_failures >= f && !in_grace {
        return Unhealthy;
    }
    match from {
        Unhealthy if h.consecutive_successes >= s => {
            if h.consecutive_slow > 0 {
                Degraded
            } else {
                Healthy
            }
        }
        Unhealthy => Unhealthy,
        _ if h.consecutive_slow >= f && !in_grace => Degraded,
        Degraded if h.consecutive_fast >= s => Healthy,
        Degraded => Degraded,
        Unknown if h.consecutive_fast > 0 => Healthy,
        Healthy | Unknown => from,
    }
}

/// The deployment to roll back and the task definition to go back to: the last
/// deployment succeeded within the grace period, the outage began after it finished,
/// it was not rolled back yet, and it changed the task definition the service runs.
fn auto_rollback_target<'s>(
    state: &'s EnvironmentState,
    observed: &Observed,
    outage_began: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: &HealthPolicy,
) -> Option<(&'s Deployment, String)> {
    let d = state.last_deployment.as_ref()?;
    let finished = d.finished_at?;
    if d.status != DeploymentStatus::Succeeded
        || d.rolled_back_at.is_some()
        || outage_began < finished
        || now >= after(finished, policy.grace)
    {
        return None;
    }
    let before = d.task_definition_before.clone()?;
    (observed.task_definition.as_ref() != Some(&before)).then_some((d, before))
}

/// `stagingctl rollback [--to TASKDEF] [--force]`: points the service back at `to`, or
/// at the last good task definition (the one that last ran healthy, or the one the last
/// deployment replaced), and tells the team. Refused while a deploy is in flight (it
/// would undo the rollback when it finishes) unless forced.
pub fn decide_rollback(
    state: &EnvironmentState,
    observed: &Observed,
    to: Option<&str>,
    who: &str,
    force: bool,
    clock: DateTime<Utc>,
) -> Result<Decision> {
    let now = whole_seconds(clock);
    let current = observed.task_definition.as_deref();
    let bad = |reason: String| Error::Rollback { reason };
    if who.trim().is_empty() {
        return Err(bad("it must say who rolls back".into()));
    }
    if let Some(d) = state.deployment_in_flight.as_ref().filter(|_| !force) {
        return Err(bad(format!(
            "the deploy of {} is in flight, and would replace the rollback when it finishes; wait for it, or pass --force",
            short_sha(&d.sha)
        )));
    }
    let last = state.last_deployment.as_ref();
    let target = match to.map(str::trim) {
        Some("") => return Err(bad("--to is empty".into())),
        Some(t) => t.to_string(),
        None => {
            [state.health.last_good_task_definition.as_deref(), last.and_then(|d| d.task_definition_before.as_deref())]
                .into_iter()
                .flatten()
                .find(|t| current.is_none_or(|c| task_name(c) != task_name(t)))
                .map(str::to_string)
                .ok_or_else(|| {
                    bad(format!(
                        "nothing to go back to: the service runs {}, the last good task definition; name one with --to",
                        current.map(task_name).unwrap_or("an unknown task definition")
                    ))
                })?
        }
    };
    if current.is_some_and(|c| task_name(c) == task_name(&target)) {
        return Err(bad(format!("the service already runs {}", task_name(&target))));
    }
    let mut next = state.clone();
    let mut actions = vec![Action::RollbackService { task_definition: target.clone() }];
    next.health.redeployed_at = Some(now);
    let mut about = String::new();
    if let Some(d) = next.last_deployment.as_mut()
        && d.task_definition_before.as_deref().is_some_and(|b| task_name(b) == task_name(&target))
        && d.rolled_back_at.is_none()
    {
        d.rolled_back_at = Some(now);
        about = format!(", undoing the deploy of {} (pushes {})", short_sha(&d.sha), d.push_list());
        actions.push(Action::RecordDeployment(d.clone()));
    }
    let env = &state.environment;
    let from = current.map(task_name).unwrap_or("an unknown task definition");
    let subject = format!("{env}: rolled back to {} by {who}", task_name(&target));
    let body =
        format!("{who} rolled {env} back from {from} to {}{about}. ECS replaces the tasks now.", task_name(&target));
    actions.push(notify(NotificationEvent::DeployRolledBack, Severity::Warning, subject, body));
    Ok(Decision { actions, next_state: next, summary: format!("rolled back from {from} to {}", task_name(&target)) })
}

/// A rollback or a forced deployment failed after its decision was committed: what
/// assumed it happened is undone (no grace period runs from it; a rollback can be tried
/// again, by the next failing check within the deploy's grace period or by hand; a
/// forced deployment waits out its interval), and the team is told, with the notice the
/// failure withheld.
pub fn decide_repair_failed(
    state: &EnvironmentState,
    action: &Action,
    error: &str,
    withheld: Option<&Notification>,
) -> Decision {
    let mut next = state.clone();
    let env = &state.environment;
    next.health.redeployed_at = None;
    // What the withheld alert said about the outage (its first paragraph; the rest
    // announced the repair that did not happen).
    let withheld_body = withheld
        .filter(|n| n.event == NotificationEvent::HealthDown)
        .and_then(|n| n.body.split("\n\n").next())
        .map(|b| format!("\n\n{b}"))
        .unwrap_or_default();
    let event = withheld.map(|n| n.event).unwrap_or(NotificationEvent::HealthDown);
    let (subject, body, summary) = match action {
        Action::RollbackService { task_definition } => {
            let name = task_name(task_definition);
            if let Some(d) = next.last_deployment.as_mut()
                && d.task_definition_before.as_deref().is_some_and(|b| task_name(b) == name)
            {
                d.rolled_back_at = None;
            }
            (
                format!("{env}: rollback to {name} FAILED"),
                format!(
                    "{error}\n\nThe service was not pointed back at {name}; it still runs what it ran.{withheld_body}"
                ),
                format!("the rollback to {name} failed"),
            )
        }
        _ => (
            format!("{env}: forced deployment FAILED"),
            format!(
                "{error}\n\nNo new deployment was started; the next try is after the healing interval.{withheld_body}"
            ),
            "the forced deployment failed".to_string(),
        ),
    };
    Decision { actions: vec![notify(event, Severity::Critical, subject, body)], next_state: next, summary }
}

/// `family:revision` of a task definition ARN (the ARN's last part), as people name it.
pub fn task_name(task_definition: &str) -> &str {
    task_definition.rsplit('/').next().unwrap_or(task_definition)
}

fn notify(event: NotificationEvent, severity: Severity, subject: String, body: String) -> Action {
    Action::Notify(Notification::new(event, severity, subject, body))
}

fn list(results: &[&ProbeResult]) -> String {
    results.iter().map(|r| format!("{}: {}", r.name, r.error.as_deref().unwrap_or("ok"))).collect::<Vec<_>>().join("; ")
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn status_name(s: HealthStatus) -> &'static str {
    match s {
        HealthStatus::Unknown => "unknown",
        HealthStatus::Healthy => "healthy",
        HealthStatus::Degraded => "degraded",
        HealthStatus::Unhealthy => "unhealthy",
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
