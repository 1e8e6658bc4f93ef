//! The idle stop: staging that nobody uses goes back to sleep, after a warning.
//!
//! The health check reads the load balancer's use figures every tick (CloudWatch
//! `RequestCount` and `ActiveConnectionCount`, per minute, over the last
//! `STAGING_IDLE_AFTER` and a margin) and asks [`decide`] what they mean. The rules:
//!
//! - **Use.** A minute is *used* when its requests exceed the controller's own probes
//!   ([`probes_per_tick`]: the health check's HTTP probes, which reach the app through the
//!   same load balancer, once per tick), or its active connections do. So long requests
//!   and WebSockets (a connection open across minutes) count, and the controller's probes
//!   never keep staging awake. The limit: up to that many real requests (or connections)
//!   in one minute cannot be told from the probes and are not use; a tick run twice in
//!   one minute (a retry, one by hand) may look like use.
//! - **Last use** is the end of the latest used minute, never earlier than the one stored,
//!   the last start (`started_at`), the last wake's request, the last deploy's end, nor
//!   `now` while a deploy is in flight (a push is use: someone will look at it). Nothing
//!   known at all: the start of the figures' window.
//! - **Who is subject.** `STAGING_IDLE_STOP=off`: nothing. `on-demand` (the default): only
//!   outside business hours, while an on-demand hold (a wake, `stagingctl up` out of hours)
//!   keeps staging up; in business hours the calendar keeps it up, whatever hold there is.
//!   `always`: whenever staging is meant to be up, business hours too. In both, a hold
//!   placed with `--keep`, and an emergency hold (`stagingctl hold`), are never cut by
//!   idleness. Staging not meant to be up is not watched. The figures are read only while
//!   staging is subject ([`look`]: `GetMetricData` bills per metric read); the last use is
//!   then taken from the window's figures, which reach back further than the idle time.
//! - **Scaled up by hand.** A service found running while the committed state wants it
//!   down is scaled back to zero by the reconciler that every tick runs
//!   ([`crate::decide::lifecycle::reconcile`]) before the idle stop is asked: the stricter
//!   rule already holds, so this one adds none. A state never written (a fresh install
//!   that finds staging running) is read as started now ([`crate::decide::draft::as_found`])
//!   and is then subject like any start.
//! - **Warning.** The stop is due at `last use + STAGING_IDLE_AFTER`. From
//!   `STAGING_IDLE_WARN` before it, the team is told once per stop ("stops at 14:35: no
//!   requests since 14:05", in the business time zone) and the state records `stop_at` and
//!   `warned_at` (what the page shows). No stop without a warning first: a warning given
//!   late (a tick missed) moves the stop to at least [`MIN_NOTICE`] after it, so a later
//!   tick makes it.
//! - **Use after the warning** calls the stop off, and the team is told (it was warned);
//!   the stop is warned of again when idleness comes back. So is a stop that staging is no
//!   longer subject to while it stays up (business hours began, the hold was replaced by
//!   one with `--keep`); one it simply went down before is forgotten quietly.
//! - **No data** (the query failed, or not one data point in the window, not even the
//!   controller's own probes) is never idle: a warned stop is called off, the team is told
//!   once (`no_data_since`), and the record clears when figures come back. With no probes
//!   through the load balancer, a quiet staging reports no data points at all (the load
//!   balancer reports only while requests flow), so it is never stopped for idleness.
//! - **The stop** ends the hold (and its schedule), scales to zero (the teardown's own
//!   notice, `env.teardown`, says why: "idle: no requests since …"), ends the current wake
//!   (`ended_at`) and records `stopped_at`. In stack mode it is a shallow sleep: the
//!   stack stays standing `STAGING_DEEP_SLEEP_AFTER` (a wake restores the service in about
//!   a minute), then the health check deletes it ([`crate::decide::draft`]'s `deepen`);
//!   the scheduled teardown deletes it sooner. The figures arrive a minute or two late, so use
//!   in the last moments before a stop can be missed; the warning is the safeguard.

use chrono::{DateTime, Utc};

use crate::config::{Config, IdleStop};
use crate::decide::draft::Draft;
use crate::model::action::{Decision, NotificationEvent, Severity};
use crate::model::observed::Observed;
use crate::model::state::{EnvironmentState, HoldKind};

/// The least notice a warning gives before the stop it warns of (less than the health
/// check's 5-minute tick, so the next tick makes the stop despite the schedule's jitter).
pub const MIN_NOTICE: chrono::Duration = chrono::Duration::minutes(4);

/// How far before `STAGING_IDLE_AFTER` the figures are read from: CloudWatch's figures
/// arrive a few minutes late, and the window must hold at least one of the controller's
/// own 5-minute ticks to tell "no data" from "idle".
pub const WINDOW_MARGIN: chrono::Duration = chrono::Duration::minutes(10);

/// One minute of the load balancer's figures (a minute with no data point is a minute
/// without requests: the load balancer reports nothing then).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Minute {
    pub start: DateTime<Utc>,
    /// `RequestCount`, summed over the minute.
    pub requests: f64,
    /// `ActiveConnectionCount`, summed over the minute.
    pub connections: f64,
}

/// What the shell learnt of the load balancer's use.
#[derive(Debug, Clone, PartialEq)]
pub enum Usage {
    /// The minutes with data points in the window that starts at `from`.
    Figures { from: DateTime<Utc>, minutes: Vec<Minute> },
    /// No figures, and why (for people): the query failed.
    NoData { why: String },
}

/// How many requests (and connections) the controller itself adds to a minute: the health
/// check's HTTP probes, each made once per tick.
pub fn probes_per_tick(config: &Config) -> u32 {
    u32::try_from(config.probes.len()).unwrap_or(u32::MAX)
}

/// The window the figures should cover at `now`: `STAGING_IDLE_AFTER` and a margin.
pub fn window(now: DateTime<Utc>, config: &Config) -> (DateTime<Utc>, DateTime<Utc>) {
    let after = chrono::Duration::from_std(config.front_door.idle_after).unwrap_or(chrono::Duration::days(1));
    let from = now.checked_sub_signed(after + WINDOW_MARGIN).unwrap_or(now);
    (crate::time::whole_seconds(from), crate::time::whole_seconds(now))
}

/// What the health check does about the idle stop after its own decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Nothing: the idle stop is off, no load balancer is named, or staging is down with
    /// nothing warned of.
    Skip,
    /// Decide without reading the figures (staging is down: a warning left over is cleared).
    Decide,
    /// Read the figures, then decide.
    ReadAndDecide,
}

/// What the health check does about the idle stop at `now`, given the state its tick
/// committed. The figures are read only while staging is subject to the stop:
/// `GetMetricData` bills per metric read, and a sleeping staging, or one that business
/// hours or a `--keep` hold keep up, has nothing to stop. A warned stop is always decided
/// (to call it off).
pub fn look(state: &EnvironmentState, now: DateTime<Utc>, config: &Config) -> Look {
    let warned = state.idle.stop_at.is_some() || state.idle.warned_at.is_some();
    if config.front_door.idle_stop == IdleStop::Off || config.front_door.load_balancer.is_none() {
        Look::Skip
    } else if exempt(state, crate::time::whole_seconds(now), config).is_none() {
        Look::ReadAndDecide
    } else if warned {
        Look::Decide
    } else {
        Look::Skip
    }
}

/// Whether a minute saw use beyond the controller's own probes. Figures that are not
/// numbers are not use.
pub fn used(minute: &Minute, probes: u32) -> bool {
    let own = f64::from(probes);
    minute.requests > own || minute.connections > own
}

/// An instant as people read it in the business time zone: `14:35 CET`.
fn local(t: DateTime<Utc>, config: &Config) -> String {
    t.with_timezone(&config.business_hours.time_zone).format("%H:%M %Z").to_string()
}

/// Why staging is not subject to the idle stop at `now`, or `None` when it is.
fn exempt(state: &EnvironmentState, now: DateTime<Utc>, config: &Config) -> Option<&'static str> {
    let mode = config.front_door.idle_stop;
    if mode == IdleStop::Off {
        return Some("STAGING_IDLE_STOP is off");
    }
    if !state.wants_running() {
        return Some("staging is not meant to be up");
    }
    let hold = state.active_hold(now);
    match hold {
        Some(h) if h.keep => return Some("its hold was placed with --keep"),
        Some(h) if h.kind == HoldKind::EmergencyBypass => return Some("an emergency hold keeps it up"),
        _ => {}
    }
    match mode {
        IdleStop::Always | IdleStop::Off => None,
        IdleStop::OnDemand if config.business_hours.is_up_time(now) => Some("business hours keep it up"),
        IdleStop::OnDemand if hold.is_some() => None,
        IdleStop::OnDemand => Some("no on-demand hold keeps it up"),
    }
}

/// The last use known at `now`: the figures' latest used minute, or what the state says
/// staging was last used or started at (see the module's rules).
fn last_use(
    state: &EnvironmentState,
    from: DateTime<Utc>,
    minutes: &[Minute],
    probes: u32,
    now: DateTime<Utc>,
    config: &Config,
) -> DateTime<Utc> {
    let grace = chrono::Duration::from_std(config.deploy_grace).unwrap_or(chrono::Duration::MAX);
    let seen = minutes
        .iter()
        .filter(|m| used(m, probes))
        .filter_map(|m| m.start.checked_add_signed(chrono::Duration::minutes(1)))
        .map(|end| crate::time::whole_seconds(end).min(now))
        .max();
    let known = [
        seen,
        state.idle.last_use,
        state.started_at,
        state.wakes.last().map(|w| w.requested_at),
        state.last_deployment.as_ref().and_then(|d| d.finished_at),
        state.active_deployment(now, grace).map(|_| now),
    ];
    known.into_iter().flatten().map(|t| t.min(now)).max().unwrap_or(from.min(now))
}

/// Decides what the load balancer's `usage` means for staging at `clock` (see the
/// module's rules). `probes` is [`probes_per_tick`]. A decision that changes nothing
/// leaves the state as it is (the shell commits nothing then).
pub fn decide(
    state: &EnvironmentState,
    observed: &Observed,
    usage: &Usage,
    probes: u32,
    clock: DateTime<Utc>,
    config: &Config,
) -> Decision {
    let mut plan = Draft::new(state, observed.clone(), clock, config);
    let summary = watch(&mut plan, usage, probes);
    plan.into_decision(summary)
}

fn watch(plan: &mut Draft<'_>, usage: &Usage, probes: u32) -> String {
    let (now, config) = (plan.now, plan.config);
    let env = plan.env().to_string();
    if config.front_door.idle_stop == IdleStop::Off || !plan.next.wants_running() {
        // Nothing to watch; a warned stop it went down before is forgotten.
        plan.next.idle.stop_at = None;
        plan.next.idle.warned_at = None;
        return format!("idle stop: not watched ({})", exempt(&plan.next, now, config).unwrap_or("off"));
    }
    let warned = plan.next.idle.warned_at.zip(plan.next.idle.stop_at);
    if let Some(why) = exempt(&plan.next, now, config) {
        // Not subject: the figures are not needed (and not read, see `look`); a warned stop
        // is called off.
        if let Some((_, stop_at)) = warned {
            call_off(plan, stop_at, why);
            return format!("idle stop: the stop at {} is called off: {why}", local(stop_at, config));
        }
        return format!("idle stop: not subject: {why}");
    }
    let (from, minutes) = match usage {
        Usage::Figures { from, minutes } if !minutes.is_empty() => (*from, minutes),
        Usage::Figures { .. } => {
            return no_data(
                plan,
                "the load balancer reported no data point in the window, not even the controller's own probes",
            );
        }
        Usage::NoData { why } => return no_data(plan, why),
    };
    let mut summary = String::from("idle stop: ");
    if plan.next.idle.no_data_since.take().is_some() {
        summary.push_str("use figures back; ");
    }
    let stored = plan.next.idle.last_use;
    let last = last_use(&plan.next, from, minutes, probes, now, config);
    plan.next.idle.last_use = Some(last);
    let after = chrono::Duration::from_std(config.front_door.idle_after).unwrap_or(chrono::Duration::days(1));
    let warn = chrono::Duration::from_std(config.front_door.idle_warn).unwrap_or(chrono::Duration::zero());
    let due = last.checked_add_signed(after).unwrap_or(DateTime::<Utc>::MAX_UTC);

    let mut called_off = None;
    if let Some((_, stop_at)) = warned {
        if stored.is_none_or(|s| last > s) {
            // Used since the warning: the stop is off (warned again below if need be).
            plan.next.idle.stop_at = None;
            plan.next.idle.warned_at = None;
            called_off = Some(stop_at);
        } else if now >= stop_at {
            return stop(plan, last, &summary);
        } else {
            return format!("{summary}stops at {}: no requests since {}", local(stop_at, config), local(last, config));
        }
    }
    if now >= due - warn {
        let stop_at = due.max(now + MIN_NOTICE);
        plan.next.idle.stop_at = Some(stop_at);
        plan.next.idle.warned_at = Some(now);
        let line = format!("stops at {}: no requests since {}", local(stop_at, config), local(last, config));
        let hold = plan
            .next
            .active_hold(now)
            .map(|h| format!(", ending the hold placed by {} until {}", h.who, local(h.until, config)))
            .unwrap_or_default();
        let body = format!(
            "Nobody has used {env} since {} (requests and connections at its load balancer, the controller's own \
             health probes aside). It stops at {}{hold}, unless it is used before then: any request calls the stop off.",
            local(last, config),
            local(stop_at, config),
        );
        plan.notify(NotificationEvent::IdleWarning, Severity::Warning, format!("{env}: {line}"), body);
        return format!("{summary}warned: {line}");
    }
    if let Some(stop_at) = called_off {
        let subject = format!("{env}: used again, the idle stop at {} is off", local(stop_at, config));
        let body = format!("{env} was used at {}: it stays up.", local(last, config));
        plan.notify(NotificationEvent::IdleCancelled, Severity::Info, subject, body);
        return format!("{summary}used at {}: the stop at {} is off", local(last, config), local(stop_at, config));
    }
    format!("{summary}in use (last use {}; idle at {})", local(last, config), local(due, config))
}

/// A warned stop is called off for `why`, and the team told.
fn call_off(plan: &mut Draft<'_>, stop_at: DateTime<Utc>, why: &str) {
    plan.next.idle.stop_at = None;
    plan.next.idle.warned_at = None;
    let env = plan.env().to_string();
    let subject = format!("{env}: the idle stop at {} is off", local(stop_at, plan.config));
    plan.notify(NotificationEvent::IdleCancelled, Severity::Info, subject, format!("{env} stays up: {why}."));
}

/// No figures: never idle. Told once; a warned stop is called off.
fn no_data(plan: &mut Draft<'_>, why: &str) -> String {
    let now = plan.now;
    let warned = plan.next.idle.warned_at.zip(plan.next.idle.stop_at);
    plan.next.idle.stop_at = None;
    plan.next.idle.warned_at = None;
    if plan.next.idle.no_data_since.is_some() {
        return format!("idle stop: no use figures ({why}); never idle without them");
    }
    plan.next.idle.no_data_since = Some(now);
    let env = plan.env().to_string();
    let off = warned
        .map(|(_, stop_at)| format!(" The idle stop warned of for {} is off.", local(stop_at, plan.config)))
        .unwrap_or_default();
    let body = format!(
        "The load balancer's use figures (CloudWatch RequestCount, ActiveConnectionCount) could not be read: \
         {why}.\n{env} is never stopped for idleness without them; this is told once, until they come back.{off}"
    );
    let subject = format!("{env}: no use figures, no idle stop");
    plan.notify(NotificationEvent::IdleNoData, Severity::Warning, subject, body);
    format!("idle stop: no use figures ({why}); told")
}

/// The stop: the hold ends, staging scales to zero, the wake it served ends.
fn stop(plan: &mut Draft<'_>, last: DateTime<Utc>, summary: &str) -> String {
    let now = plan.now;
    let why = format!("idle: no requests since {}", local(last, plan.config));
    plan.drop_hold();
    let stopped = plan.stop_shallow(&why);
    if let Some(wake) =
        plan.next.wakes.iter_mut().rev().find(|w| w.ended_at.is_none() && w.requested_at <= now && w.held_until > now)
    {
        wake.ended_at = Some(now);
    }
    let idle = &mut plan.next.idle;
    (idle.stop_at, idle.warned_at, idle.stopped_at) = (None, None, Some(now));
    format!("{summary}{why}: {stopped}")
}

#[cfg(test)]
mod tests;
