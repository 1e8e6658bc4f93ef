//! Lifecycle decisions: what to do about an operator's command or a scheduled event,
//! given the stored state and what ECS reports. `stagingctl` and the lifecycle function
//! both call [`decide`], so they cannot disagree.
//!
//! The rules: a budget lock wins over a hold, a hold wins over the schedule. A scheduled
//! startup or teardown acts on its transition only (a manual `down` in working hours is
//! respected until the next startup, as AWS Instance Scheduler does). A hold always has
//! a one-time schedule at its end that tears the environment down again if the schedule
//! wants it down then.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::action::{Action, Decision, Notification, NotificationEvent, ScheduledCommand, Severity};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::state::{EnvironmentState, Hold, HoldKind, Phase, Wanted};

/// What ECS says about the service now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub desired_count: u32,
    pub running_count: u32,
}

impl Observed {
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

/// The one-time schedule that ends an environment's hold.
pub fn hold_schedule_name(environment: &str) -> String {
    format!("{environment}-hold-expiry")
}

/// Decides what `command` means now. Refusals (a start while locked, a hold that cannot
/// be placed) are errors and change nothing.
pub fn decide(
    state: &EnvironmentState,
    observed: Observed,
    command: &Command,
    now: DateTime<Utc>,
    config: &Config,
) -> Result<Decision> {
    let mut plan = Plan::new(state, observed, now, config);
    let summary = match command {
        Command::Up { hold, reason, who, force } => {
            if let Some(lock) = plan.next.active_budget_lock(now) {
                if !force {
                    return Err(Error::BudgetLocked {
                        period: lock.period.to_string(),
                    });
                }
                plan.unlock(who, "overridden with --force");
            }
            let mut summary = String::new();
            if hold.is_some() || !config.business_hours.is_up_time(now) {
                let duration = hold.unwrap_or(config.hold_default);
                let until = plan.hold(HoldKind::OnDemand, duration, reason, who)?;
                summary = format!("held until {}; ", hhmm(until));
            }
            summary + &plan.start(&format!("started by {who}: {reason}"))
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
        Command::Scheduled(ScheduledCommand::Startup) => match plan.next.wanted(now, &config.business_hours) {
            Wanted::UpScheduled | Wanted::UpHeld => plan.start("scheduled startup"),
            Wanted::DownBudgetLocked => "not starting: locked by the budget".into(),
            Wanted::DownScheduled => "not starting: not a working day (or a holiday)".into(),
        },
        Command::Scheduled(ScheduledCommand::Teardown) => match plan.next.active_hold(now) {
            Some(hold) => format!("teardown deferred: held until {} by {}", hhmm(hold.until), hold.who),
            None if plan.next.wanted(now, &config.business_hours).is_up() => {
                "not tearing down: inside business hours".into()
            }
            None => plan.stop("scheduled teardown"),
        },
        Command::Scheduled(ScheduledCommand::HoldExpired { until }) => match &plan.next.hold {
            Some(hold) if hold.until == *until => {
                plan.next.release_hold();
                format!("hold expired; {}", plan.follow_schedule("hold expired"))
            }
            Some(_) => "ignored: the hold was replaced".into(),
            None => "ignored: no hold".into(),
        },
    };
    Ok(plan.into_decision(summary))
}

/// A decision being built: the next state and the actions so far.
pub(crate) struct Plan<'a> {
    pub(crate) next: EnvironmentState,
    pub(crate) actions: Vec<Action>,
    observed: Observed,
    now: DateTime<Utc>,
    config: &'a Config,
    /// Leave the team notifications to the caller (a deploy tells the team once).
    pub(crate) quiet: bool,
}

impl<'a> Plan<'a> {
    /// Starts from `state`, its phase brought up to date with what ECS reports.
    pub(crate) fn new(state: &EnvironmentState, observed: Observed, now: DateTime<Utc>, config: &'a Config) -> Self {
        let mut next = state.clone();
        next.phase = observed.phase();
        Self {
            next,
            actions: Vec::new(),
            observed,
            now,
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

    pub(crate) fn notify(&mut self, event: NotificationEvent, severity: Severity, subject: String, body: String) {
        if self.quiet {
            return;
        }
        self.actions
            .push(Action::Notify(Notification::new(event, severity, subject, body)));
    }

    /// Places a hold and the schedule that ends it; returns when it ends.
    pub(crate) fn hold(&mut self, kind: HoldKind, duration: std::time::Duration, reason: &str, who: &str) -> Result<DateTime<Utc>> {
        let duration = chrono::Duration::from_std(duration).map_err(|_| Error::Hold {
            reason: "the duration is too long".into(),
        })?;
        let max = chrono::Duration::from_std(self.config.hold_max).unwrap_or(chrono::Duration::MAX);
        let until = self
            .next
            .place_hold(
                Hold {
                    until: self.now + duration,
                    reason: reason.into(),
                    who: who.into(),
                    kind,
                },
                self.now,
                max,
            )?
            .until;
        self.actions.push(Action::PutOneTimeSchedule {
            name: hold_schedule_name(self.env()),
            at: until,
            command: ScheduledCommand::HoldExpired { until },
        });
        let subject = format!("{}: held up until {} by {who}", self.env(), hhmm(until));
        let body = format!(
            "{who} placed a hold on {} until {} ({kind:?}): {reason}\nThe scheduled teardown waits for it.",
            self.env(),
            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        self.notify(NotificationEvent::EnvHold, Severity::Info, subject, body);
        Ok(until)
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

    /// Brings the service back if it is scaled to zero.
    pub(crate) fn start(&mut self, why: &str) -> String {
        if self.observed.desired_count > 0 {
            return "already up".into();
        }
        self.actions.push(Action::RestoreService);
        self.next.phase = Phase::Starting;
        let subject = format!("{}: starting ({why})", self.env());
        self.notify(NotificationEvent::EnvStartup, Severity::Info, subject, format!("{}: {why}.", self.env()));
        "starting".into()
    }

    /// Scales the service to zero if it is not already.
    fn stop(&mut self, why: &str) -> String {
        if self.observed.desired_count == 0 {
            return "already down".into();
        }
        self.actions.push(Action::ScaleService { desired_count: 0 });
        self.next.phase = Phase::Stopping;
        let subject = format!("{}: tearing down ({why})", self.env());
        self.notify(NotificationEvent::EnvTeardown, Severity::Info, subject, format!("{}: {why}.", self.env()));
        "stopping".into()
    }

    /// Up or down as the schedule (and any lock) says now.
    fn follow_schedule(&mut self, why: &str) -> String {
        if self.next.wanted(self.now, &self.config.business_hours).is_up() {
            self.start(why)
        } else {
            self.stop(why)
        }
    }
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

    const UP: Observed = Observed { desired_count: 2, running_count: 2 };
    const DOWN: Observed = Observed { desired_count: 0, running_count: 0 };
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
                Action::Notify(n) => match n.event {
                    NotificationEvent::EnvStartup => "notify_startup",
                    NotificationEvent::EnvTeardown => "notify_teardown",
                    NotificationEvent::EnvHold => "notify_hold",
                    NotificationEvent::BudgetUnlocked => "notify_unlocked",
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
                Command::Scheduled(ScheduledCommand::Startup), &["restore", "notify_startup"], "starting"),
            ("scheduled startup on a Saturday does nothing", "2026-11-28T08:00:00Z", DOWN, None, None,
                Command::Scheduled(ScheduledCommand::Startup), &[], "not starting: not a working day (or a holiday)"),
            ("scheduled startup while locked does nothing", "2026-11-27T08:00:00Z", DOWN, None, locked(),
                Command::Scheduled(ScheduledCommand::Startup), &[], "not starting: locked by the budget"),
            ("scheduled teardown", "2026-11-27T18:00:00Z", UP, None, None,
                Command::Scheduled(ScheduledCommand::Teardown), &["scale_to_zero", "notify_teardown"], "stopping"),
            ("teardown is deferred while a hold is active", "2026-11-27T18:00:00Z", UP, held("2026-11-27T21:00:00Z"), None,
                Command::Scheduled(ScheduledCommand::Teardown), &[], "teardown deferred: held until 21:00 UTC by alice"),
            ("teardown after an expired hold proceeds", "2026-11-27T22:00:00Z", UP, held("2026-11-27T21:00:00Z"), None,
                Command::Scheduled(ScheduledCommand::Teardown), &["scale_to_zero", "notify_teardown"], "stopping"),
            ("hold expiry in the evening tears down", "2026-11-27T21:00:00Z", UP, held("2026-11-27T21:00:00Z"), None,
                expire.clone(), &["scale_to_zero", "notify_teardown"], "hold expired; stopping"),
            ("hold expiry of a replaced hold is ignored", "2026-11-27T21:00:00Z", UP, held("2026-11-27T23:00:00Z"), None,
                expire.clone(), &[], "ignored: the hold was replaced"),
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
            assert_eq!(Observed { desired_count, running_count }.phase(), phase);
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
            Command::Scheduled(ScheduledCommand::Teardown)
        );
        let hold = Command::Hold { duration: Duration::from_secs(5400), reason: "r".into(), who: "w".into() };
        let text = serde_json::to_string(&hold).unwrap();
        assert!(text.contains(r#""duration":"1h 30m""#), "{text}");
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), hold);
        assert!(serde_json::from_str::<Command>(r#"{"command":"explode"}"#).is_err());
    }
}
