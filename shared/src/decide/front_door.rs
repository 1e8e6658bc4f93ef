//! The front door: what the staging address answers while staging sleeps, and who may
//! wake it. Pure: the front-door function reads the request, the state and what it sees,
//! and asks here.
//!
//! - [`visitor`]: a person in a browser, an API client, or a robot (`HEAD`, link previews,
//!   crawlers, uptime monitors: they get the page and never wake anything).
//! - [`view`]: what the page (or the JSON answer) says: asleep, waking with its steps and
//!   an ETA from the last wakes, or ready (and the way back to the path asked for).
//! - [`decide_wake`]: a person with a valid invite asks to wake staging: refused (budget
//!   lock, quotas) with the HTTP status that says why, or a start with an on-demand hold
//!   by that name. A staging already awake or waking is not started twice, so fifty wakes
//!   at once make one start and one hold.
//! - [`progress`]: while a wake runs, each look records the steps reached, points the
//!   staging address at the app once its targets are healthy, and marks the wake ready
//!   when the app answers its probe.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::decide::draft::Draft;
use crate::decide::invite::Invite;
use crate::error::{Error, Result};
use crate::model::action::{Action, Decision};
use crate::model::observed::{Observed, Route};
use crate::model::state::{BudgetPeriod, EnvironmentState, WAKES_KEPT_DAYS, Wake};
use crate::time::whole_seconds;

/// The paths the front door keeps for itself; everything else is the app's.
pub const PREFIX: &str = "/_staging/";
/// Where an invite link lands (`?token=…&next=/path`).
pub const INVITE_PATH: &str = "/_staging/invite";
/// Where the page's wake form posts (`next=/path`).
pub const WAKE_PATH: &str = "/_staging/wake";
/// How many recent wakes the ETA is the median of.
pub const ETA_WAKES: usize = 9;
/// The ETA before any wake was measured: a service from zero, a stack created again.
pub const ETA_DEFAULT_SECS: i64 = 90;
pub const ETA_DEFAULT_DEEP_SECS: i64 = 600;

/// Who is asking, as far as the request tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visitor {
    /// A browser a person drives: the page, and the wake form with an invite.
    Person,
    /// A program wanting the API: `503` with `Retry-After` and a JSON body.
    Api,
    /// `HEAD`, a link preview, a crawler, an uptime monitor: the page, never a wake.
    Robot,
}

/// User-agent words of link previews, crawlers and monitors (matched lower-case).
const ROBOTS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slack",
    "facebookexternalhit",
    "discord",
    "whatsapp",
    "telegram",
    "skype",
    "linkedin",
    "embedly",
    "preview",
    "pingdom",
    "uptime",
    "monitor",
    "statuscake",
    "site24x7",
    "datadog",
    "newrelic",
    "elb-healthchecker",
    "lighthouse",
];

/// Who is asking: `HEAD` and robots by user agent (or none) first, then API clients
/// (JSON wanted, or a method other than `GET` and a browser's form `POST`), then people.
pub fn visitor(method: &str, accept: Option<&str>, user_agent: Option<&str>) -> Visitor {
    let agent = user_agent.unwrap_or("").to_ascii_lowercase();
    if method.eq_ignore_ascii_case("HEAD") || agent.trim().is_empty() || ROBOTS.iter().any(|r| agent.contains(r)) {
        return Visitor::Robot;
    }
    let accept = accept.unwrap_or("").to_ascii_lowercase();
    let html = accept.contains("text/html");
    let wants_json = accept.contains("application/json") && !html;
    // A browser's form post (the wake form) asks for HTML; any other method is an API call.
    let page_method = method.eq_ignore_ascii_case("GET") || (method.eq_ignore_ascii_case("POST") && html);
    if !page_method || wants_json {
        return Visitor::Api;
    }
    Visitor::Person
}

/// The path to send someone back to: the one they asked for, when it is a plain path on
/// this site (not another site's, not the front door's own).
pub fn back_to(path: Option<&str>) -> String {
    match path {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with(PREFIX)
                && !p.contains(['\\', '\r', '\n', '"', '<', '>'])
                && p.len() <= 2048 =>
        {
            p.to_string()
        }
        _ => "/".into(),
    }
}

/// Where staging is, as the page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sleep {
    Asleep,
    Waking,
    Ready,
}

impl Sleep {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Asleep => "asleep",
            Self::Waking => "waking",
            Self::Ready => "ready",
        }
    }
}

/// One step of a wake, and when it was first seen done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub at: Option<DateTime<Utc>>,
}

/// Whether the bearer of the request may wake staging now, and if not why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WakeRefusal {
    /// 401 no invite, 403 a refused invite or a budget lock, 429 over a quota.
    pub status: u16,
    pub reason: String,
    pub retry_after: Option<DateTime<Utc>>,
}

impl WakeRefusal {
    pub fn from_error(e: &Error) -> Self {
        match e {
            Error::Wake { status, reason, retry_after } => {
                Self { status: *status, reason: reason.clone(), retry_after: *retry_after }
            }
            other => Self { status: 400, reason: other.to_string(), retry_after: None },
        }
    }
}

/// Everything the page and the JSON answer say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    pub environment: String,
    pub state: Sleep,
    /// The wake in progress (or the last one, when ready): its steps, first to last.
    pub steps: Vec<Step>,
    /// Who asked for the wake in progress.
    pub woken_by: Option<String>,
    /// Seconds until ready (waking), or a wake's expected length (asleep).
    pub eta_seconds: Option<i64>,
    /// Whether a wake starts from a deleted stack (minutes) rather than from zero tasks.
    pub deep_sleep: bool,
    /// The invite's name, when the request carries a valid one.
    pub guest: Option<String>,
    /// Why this request may not wake staging (`None`: it may, or it is awake).
    pub refusal: Option<WakeRefusal>,
    /// The path the tester asked for, to go back to once ready.
    pub back_to: String,
    /// The idle stop in sight ("stops at 14:35: no requests since 14:05").
    pub warning: Option<String>,
    /// Seconds before the page asks again (its meta refresh).
    pub refresh_seconds: u32,
    pub now: DateTime<Utc>,
}

/// The wake in progress: the last one, while it is not ready and its hold runs.
pub fn current_wake(state: &EnvironmentState, now: DateTime<Utc>) -> Option<&Wake> {
    state.wakes.last().filter(|w| w.ready_at.is_none() && w.ended_at.is_none() && w.held_until > now)
}

/// Whether a wake now would start from a deleted stack.
fn deep(observed: &Observed) -> bool {
    observed.stack.as_ref().is_some_and(|s| !s.stands())
}

/// The median requested → ready of the last [`ETA_WAKES`] wakes of the same depth, or
/// the default for that depth.
pub fn expected_wake_secs(state: &EnvironmentState, deep: bool) -> i64 {
    let mut times: Vec<i64> = state
        .wakes
        .iter()
        .rev()
        .filter(|w| w.from_deep_sleep == deep)
        .filter_map(|w| w.wake_time().map(|d| d.num_seconds()))
        .take(ETA_WAKES)
        .collect();
    if times.is_empty() {
        return if deep {
            state.expected_stack_start_secs().map(i64::from).unwrap_or(ETA_DEFAULT_DEEP_SECS)
        } else {
            ETA_DEFAULT_SECS
        };
    }
    times.sort_unstable();
    let mid = times.len() / 2;
    if times.len() % 2 == 1 { times[mid] } else { (times[mid - 1] + times[mid]) / 2 }
}

/// The state the page shows: asleep when the intent is down; waking while a wake (or a
/// start) has not reached the app; ready otherwise.
pub fn sleep(state: &EnvironmentState, observed: &Observed, now: DateTime<Utc>) -> Sleep {
    if !state.wants_running() {
        return Sleep::Asleep;
    }
    let routed = observed.route.is_none_or(|r| r == Route::App);
    if current_wake(state, now).is_some() || observed.running_count == 0 || !routed {
        Sleep::Waking
    } else {
        Sleep::Ready
    }
}

/// What the page says for a request at `now`: `guest` is the request's invite, if valid;
/// `refusal` why it may not wake (already decided by the caller from [`check_wake`]).
pub fn view(
    state: &EnvironmentState,
    observed: &Observed,
    guest: Option<&Invite>,
    refusal: Option<WakeRefusal>,
    path: Option<&str>,
    now: DateTime<Utc>,
    config: &Config,
) -> View {
    let sleep = sleep(state, observed, now);
    let is_deep = match current_wake(state, now) {
        Some(w) => w.from_deep_sleep,
        None => deep(observed),
    };
    let expected = expected_wake_secs(state, is_deep);
    let wake = current_wake(state, now).or_else(|| state.wakes.last().filter(|w| w.ended_at.is_none()));
    let eta_seconds = match (sleep, current_wake(state, now)) {
        (Sleep::Asleep, _) => Some(expected),
        (Sleep::Waking, Some(w)) => Some((expected - (now - w.requested_at).num_seconds()).max(0)),
        (Sleep::Waking, None) => Some(expected),
        (Sleep::Ready, _) => None,
    };
    let steps = wake.filter(|_| sleep != Sleep::Asleep).map(|w| steps(w, config)).unwrap_or_default();
    View {
        environment: state.environment.clone(),
        state: sleep,
        steps,
        woken_by: wake.filter(|_| sleep != Sleep::Asleep).map(|w| w.by.clone()),
        eta_seconds,
        deep_sleep: is_deep,
        guest: guest.map(|g| g.name.clone()),
        refusal: if sleep == Sleep::Asleep { refusal } else { None },
        back_to: back_to(path),
        warning: warning(state, now, config),
        refresh_seconds: match sleep {
            Sleep::Waking => 5,
            Sleep::Asleep => 60,
            Sleep::Ready => 0,
        },
        now,
    }
}

/// A wake's steps: the stack (stack mode), the tasks, the load balancer (with routing),
/// the app's probe.
fn steps(wake: &Wake, config: &Config) -> Vec<Step> {
    let mut steps = vec![Step { name: "wake asked", at: Some(wake.requested_at) }];
    // From a shallow sleep the stack stands already: nothing to wait for there.
    if wake.from_deep_sleep {
        steps.push(Step { name: "stack created", at: wake.stack_at });
    }
    steps.push(Step { name: "tasks running", at: wake.tasks_at });
    if config.front_door.routing.is_some() {
        steps.push(Step { name: "healthy behind the load balancer", at: wake.targets_at });
    }
    steps.push(Step { name: "the app answers its health probe", at: wake.ready_at });
    steps
}

/// The idle stop in sight, in the business time zone.
fn warning(state: &EnvironmentState, now: DateTime<Utc>, config: &Config) -> Option<String> {
    let stop_at = state.idle.stop_at.filter(|s| *s > now && state.idle.warned_at.is_some())?;
    let tz = config.business_hours.time_zone;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
    Some(match state.idle.last_use {
        Some(last) => format!("stops at {}: no requests since {}", local(stop_at), local(last)),
        None => format!("stops at {}: no requests", local(stop_at)),
    })
}

/// The start of the next local day after `now`, in UTC (when a per-day quota resets).
fn next_local_midnight(now: DateTime<Utc>, config: &Config) -> DateTime<Utc> {
    let tz = config.business_hours.time_zone;
    let tomorrow = now.with_timezone(&tz).date_naive().succ_opt().unwrap_or(chrono::NaiveDate::MAX);
    tomorrow
        .and_hms_opt(0, 0, 0)
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now + Duration::days(1))
}

/// How many wakes `name` made on the local day of `now`.
pub fn wakes_today(state: &EnvironmentState, name: &str, now: DateTime<Utc>, config: &Config) -> u32 {
    let tz = config.business_hours.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let n =
        state.wakes.iter().filter(|w| w.by == name && w.requested_at.with_timezone(&tz).date_naive() == today).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Hours staging was kept awake by wakes in the calendar month (UTC) of `now`.
pub fn wake_hours_this_month(state: &EnvironmentState, now: DateTime<Utc>) -> f64 {
    let (start, _) = BudgetPeriod::containing(now).bounds();
    state.wakes.iter().filter(|w| w.requested_at >= start).map(|w| crate::time::seconds(w.awake(now)) / 3600.0).sum()
}

fn refuse(status: u16, reason: String, retry_after: Option<DateTime<Utc>>) -> Error {
    Error::Wake { status, reason, retry_after }
}

/// Whether `who` may wake staging at `now`: not locked by the budget, within the day's
/// wakes and the month's hours. `Ok` says nothing of whether a wake is needed.
pub fn check_wake(state: &EnvironmentState, who: &str, now: DateTime<Utc>, config: &Config) -> Result<()> {
    if let Some(lock) = state.active_budget_lock(now) {
        let (_, next) = lock.period.bounds();
        return Err(refuse(
            403,
            format!("staging is locked by the budget for {}: {}", lock.period, lock.reason),
            Some(next),
        ));
    }
    let fd = &config.front_door;
    let today = wakes_today(state, who, now, config);
    if today >= fd.wake_per_day {
        return Err(refuse(
            429,
            format!("{who} has woken staging {today} times today, the most STAGING_WAKE_PER_DAY allows"),
            Some(next_local_midnight(now, config)),
        ));
    }
    let hours = wake_hours_this_month(state, now);
    if hours >= f64::from(fd.wake_hours_month) {
        let (_, next) = BudgetPeriod::containing(now).bounds();
        return Err(refuse(
            429,
            format!(
                "wakes kept staging up {hours:.1} h this month, the most STAGING_WAKE_HOURS_MONTH ({}) allows",
                fd.wake_hours_month
            ),
            Some(next),
        ));
    }
    Ok(())
}

/// A wake by `invite`'s bearer at `clock`: refused (see [`check_wake`]) and nothing
/// changes, or — when staging is not already awake or waking — a start with an on-demand
/// hold of `STAGING_WAKE_FOR` by the invite's name, and the wake recorded.
pub fn decide_wake(
    state: &EnvironmentState,
    observed: Observed,
    invite: &Invite,
    clock: DateTime<Utc>,
    config: &Config,
) -> Result<Decision> {
    let now = whole_seconds(clock);
    check_wake(state, &invite.name, now, config)?;
    let mut plan = Draft::new(state, observed.clone(), now, config);
    if state.wants_running() {
        let summary = match current_wake(state, now) {
            Some(w) => format!("already waking (woken by {})", w.by),
            None => "already awake".into(),
        };
        return Ok(plan.into_decision(summary));
    }
    let started = plan.start_on_demand(Some(config.front_door.wake_for), "woken from the front door", &invite.name)?;
    let held_until = plan.next.hold.as_ref().map(|h| h.until).unwrap_or(now);
    let keep_from = now - Duration::days(WAKES_KEPT_DAYS);
    plan.next.wakes.retain(|w| w.requested_at >= keep_from);
    plan.next.wakes.push(Wake {
        by: invite.name.clone(),
        requested_at: now,
        stack_at: None,
        tasks_at: None,
        targets_at: None,
        ready_at: None,
        held_until,
        ended_at: None,
        from_deep_sleep: deep(&observed),
    });
    // A wake is use: the idle clock starts from it, not from the last request before the sleep.
    plan.next.idle = crate::model::state::IdleWatch { last_use: Some(now), ..Default::default() };
    Ok(plan.into_decision(format!("woken by {} from the front door; {started}", invite.name)))
}

/// One look while a wake runs: the steps reached since the last look are recorded (the
/// first time each is seen), the staging address is pointed at the app once its targets
/// are healthy, and the wake is ready when the app answers (`probe`: the app's probe
/// through the staging address, `None` when there is none to ask). `None`: nothing new.
pub fn progress(
    state: &EnvironmentState,
    observed: &Observed,
    probe: Option<bool>,
    clock: DateTime<Utc>,
) -> Option<Decision> {
    let now = whole_seconds(clock);
    current_wake(state, now)?;
    if !state.wants_running() {
        return None;
    }
    let mut next = state.clone();
    let mut actions = Vec::new();
    let wake = next.wakes.last_mut()?;
    let stands = observed.stack.as_ref().is_none_or(|s| s.stands());
    if observed.stack.is_some() && stands && wake.stack_at.is_none() {
        wake.stack_at = Some(now);
    }
    if stands && observed.running_count > 0 && wake.tasks_at.is_none() {
        wake.tasks_at = Some(now);
    }
    let healthy = match observed.healthy_targets {
        Some(n) => n > 0,
        None => wake.tasks_at.is_some(),
    };
    if healthy && wake.tasks_at.is_some() && wake.targets_at.is_none() {
        wake.targets_at = Some(now);
    }
    let routed = match observed.route {
        None | Some(Route::App) => true,
        Some(Route::FrontDoor) if healthy => {
            actions.push(Action::Route { to: Route::App });
            false
        }
        _ => false,
    };
    if routed && wake.targets_at.is_some() && probe != Some(false) && wake.ready_at.is_none() {
        wake.ready_at = Some(now);
    }
    let ready = wake.ready_at.is_some();
    let summary = match (ready, actions.is_empty()) {
        (true, _) => format!("ready: woken by {} in {}", wake.by, crate::time::length(now - wake.requested_at)),
        (false, false) => "the app's targets are healthy: the staging address now leads to it".into(),
        (false, true) => "waking".into(),
    };
    if next == *state && actions.is_empty() {
        return None;
    }
    if ready && next.phase == crate::Phase::Starting {
        next.phase = crate::Phase::Up;
    }
    Some(Decision { actions, next_state: next, summary })
}

/// Revokes every invite for `name` issued until `clock` (`stagingctl invite --revoke`): the
/// front door refuses them from the next request on. An invite made later works again.
pub fn revoke(state: &EnvironmentState, name: &str, who: &str, clock: DateTime<Utc>) -> Result<Decision> {
    crate::decide::invite::check_name(name).map_err(|reason| Error::Command { reason })?;
    let mut next = state.clone();
    next.revoked.retain(|r| r.name != name);
    next.revoked.push(crate::model::state::Revocation { name: name.into(), at: clock, by: who.into() });
    Ok(Decision { actions: Vec::new(), next_state: next, summary: format!("invites for {name} revoked by {who}") })
}

#[cfg(test)]
mod tests;
