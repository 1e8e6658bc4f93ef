//! Business hours: when the environment is meant to be up, in a named time zone.
//!
//! A day's window runs from the up time to the down time, local wall-clock time, on
//! working days that are not holidays. Local times are turned into instants the way
//! JavaScript's Temporal does by default ("compatible"): a time that does not exist
//! (the spring-forward gap) moves forward by the gap's length, and a time that exists
//! twice (fall-back) takes the earlier instant. Windows that would end up empty are
//! dropped, and windows that touch or overlap are merged, so "is it up time" and "the
//! next transition" can never disagree.

use crate::time::rfc3339_z;
use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

/// How far ahead `next_transition` looks before it concludes there is none.
const HORIZON_DAYS: u64 = 400;

/// The set of weekdays the environment works.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkingDays(u8);

impl WorkingDays {
    pub const MON_FRI: Self = Self(0b0001_1111);
    pub const NONE: Self = Self(0);

    pub fn from_days(days: impl IntoIterator<Item = Weekday>) -> Self {
        days.into_iter().fold(Self::NONE, |set, day| set.with(day))
    }

    pub fn with(self, day: Weekday) -> Self {
        Self(self.0 | 1 << day.num_days_from_monday())
    }

    pub fn contains(&self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn days(&self) -> impl Iterator<Item = Weekday> + '_ {
        (0..7u8).map(|n| Weekday::try_from(n).expect("0..7 is a weekday")).filter(|d| self.contains(*d))
    }
}

impl fmt::Debug for WorkingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.days()).finish()
    }
}

/// `Mon-Fri`, `Mon,Tue,Thu`, `Mon-Wed,Sat`: runs of three or more days as ranges.
impl fmt::Display for WorkingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<u8> = (0..7).filter(|n| self.0 & (1 << n) != 0).collect();
        let name = |n: u8| Weekday::try_from(n).expect("0..7 is a weekday").to_string();
        let mut parts = Vec::new();
        let mut i = 0;
        while i < days.len() {
            let mut j = i;
            while j + 1 < days.len() && days[j + 1] == days[j] + 1 {
                j += 1;
            }
            if j - i >= 2 {
                parts.push(format!("{}-{}", name(days[i]), name(days[j])));
                i = j + 1;
            } else {
                parts.push(name(days[i]));
                i += 1;
            }
        }
        f.write_str(&parts.join(","))
    }
}

/// The business-hours policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    pub time_zone: Tz,
    pub working_days: WorkingDays,
    /// `None`: on demand only, there is no morning startup.
    pub up_time: Option<NaiveTime>,
    /// The daily teardown time.
    pub down_time: NaiveTime,
    pub holidays: BTreeSet<NaiveDate>,
}

impl Default for BusinessHours {
    fn default() -> Self {
        Self {
            time_zone: Tz::UTC,
            working_days: WorkingDays::MON_FRI,
            up_time: NaiveTime::from_hms_opt(8, 0, 0),
            down_time: NaiveTime::from_hms_opt(18, 0, 0).expect("18:00 is a time"),
            holidays: BTreeSet::new(),
        }
    }
}

/// A span of time the environment is meant to be up: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    #[serde(serialize_with = "rfc3339_z")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339_z")]
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    pub fn hours(&self) -> f64 {
        (self.end - self.start).num_seconds() as f64 / 3600.0
    }
}

/// Which way a scheduled transition goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    Startup,
    Teardown,
}

/// The next scheduled change of "meant to be up".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    #[serde(serialize_with = "rfc3339_z")]
    pub at: DateTime<Utc>,
    pub kind: TransitionKind,
}

impl BusinessHours {
    /// The instant a local wall-clock time on `date` denotes (see the module docs).
    pub fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        match self.time_zone.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(earlier, later) => earlier.min(later).with_timezone(&Utc),
            LocalResult::None => {
                // In a gap: read the wall time with the offset in force before the gap,
                // which moves it forward by the gap's length.
                let before = self.time_zone.offset_from_utc_datetime(&(local - chrono::Duration::days(1))).fix();
                Utc.from_utc_datetime(&(local - before))
            }
        }
    }

    /// The window of one local date, if it is a working day with a non-empty window.
    pub fn window_on(&self, date: NaiveDate) -> Option<Window> {
        let up = self.up_time?;
        if !self.working_days.contains(date.weekday()) || self.holidays.contains(&date) {
            return None;
        }
        let window = Window { start: self.instant(date, up), end: self.instant(date, self.down_time) };
        (window.start < window.end).then_some(window)
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.time_zone).date_naive()
    }

    /// Merged windows from the local date `from` onward, at most `days` dates.
    fn windows_from(&self, from: NaiveDate, days: u64) -> impl Iterator<Item = Window> + '_ {
        let mut daily = (0..days)
            .filter_map(move |n| from.checked_add_days(Days::new(n)))
            .filter_map(|date| self.window_on(date))
            .peekable();
        std::iter::from_fn(move || {
            let mut window = daily.next()?;
            while let Some(next) = daily.next_if(|next| next.start <= window.end) {
                window.end = window.end.max(next.end);
            }
            Some(window)
        })
    }

    /// Merged windows that end after `t`, in order, looking ahead `days` dates.
    fn windows_after(&self, t: DateTime<Utc>, days: u64) -> impl Iterator<Item = Window> + '_ {
        // A date's window can start on the date before it (a gap moved forward never
        // goes back, but an early fall-back can), so begin one date early.
        let from = self.local_date(t).pred_opt().unwrap_or(NaiveDate::MIN);
        self.windows_from(from, days + 2).skip_while(move |w| w.end <= t)
    }

    /// Whether the schedule wants the environment up at `t`.
    pub fn is_up_time(&self, t: DateTime<Utc>) -> bool {
        self.windows_after(t, 2).next().is_some_and(|w| w.contains(t))
    }

    /// The first instant after `t` at which "meant to be up" changes, or `None` when it
    /// never does within a year (on demand only, no working days, all holidays).
    pub fn next_transition(&self, t: DateTime<Utc>) -> Option<Transition> {
        let window = self.windows_after(t, HORIZON_DAYS).next()?;
        Some(if window.start > t {
            Transition { at: window.start, kind: TransitionKind::Startup }
        } else {
            Transition { at: window.end, kind: TransitionKind::Teardown }
        })
    }

    /// The up-windows between `from` and `to`, clipped to that span.
    pub fn windows(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Window> {
        if to <= from {
            return Vec::new();
        }
        let days = (to - from).num_days().max(0) as u64 + 2;
        self.windows_after(from, days)
            .take_while(|w| w.start < to)
            .map(|w| Window { start: w.start.max(from), end: w.end.min(to) })
            .collect()
    }

    /// Hours meant to be up between `from` and `to`.
    pub fn up_hours(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        self.windows(from, to).iter().map(Window::hours).sum()
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
