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
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::London};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn every_day(tz: Tz, up: NaiveTime, down: NaiveTime) -> BusinessHours {
        BusinessHours {
            time_zone: tz,
            working_days: WorkingDays(0b111_1111),
            up_time: Some(up),
            down_time: down,
            holidays: BTreeSet::new(),
        }
    }

    #[test]
    fn default_policy_is_weekdays_eight_to_six_utc() {
        let p = BusinessHours::default();
        #[rustfmt::skip]
        let cases = [
            ("2026-11-27T07:59:59Z", false), // Friday before 08:00
            ("2026-11-27T08:00:00Z", true),
            ("2026-11-27T17:59:59Z", true),
            ("2026-11-27T18:00:00Z", false), // teardown instant is down
            ("2026-11-28T12:00:00Z", false), // Saturday
            ("2026-11-29T12:00:00Z", false), // Sunday
            ("2026-11-30T12:00:00Z", true),  // Monday
        ];
        for (t, up) in cases {
            assert_eq!(p.is_up_time(utc(t)), up, "{t}");
        }
    }

    /// Table of windows across DST changes: (policy, local date, window start, end).
    #[test]
    fn windows_follow_wall_clock_time_across_dst_changes() {
        #[rustfmt::skip]
        let cases: &[(&str, BusinessHours, &str, Option<(&str, &str)>)] = &[
            ("London winter", every_day(London, hm(8, 0), hm(18, 0)), "2026-01-15",
                Some(("2026-01-15T08:00:00Z", "2026-01-15T18:00:00Z"))),
            ("London summer", every_day(London, hm(8, 0), hm(18, 0)), "2026-07-15",
                Some(("2026-07-15T07:00:00Z", "2026-07-15T17:00:00Z"))),
            // 29 March 2026: clocks go 01:00 GMT -> 02:00 BST.
            ("London spring-forward day", every_day(London, hm(8, 0), hm(18, 0)), "2026-03-29",
                Some(("2026-03-29T07:00:00Z", "2026-03-29T17:00:00Z"))),
            ("London up time in the gap moves forward an hour", every_day(London, hm(1, 30), hm(18, 0)), "2026-03-29",
                Some(("2026-03-29T01:30:00Z", "2026-03-29T17:00:00Z"))),
            ("London up time pushed by the gap past the down time: no window", every_day(London, hm(1, 30), hm(2, 15)), "2026-03-29",
                None),
            // 25 October 2026: clocks go 02:00 BST -> 01:00 GMT; 01:30 happens twice.
            ("London fall-back day", every_day(London, hm(8, 0), hm(18, 0)), "2026-10-25",
                Some(("2026-10-25T08:00:00Z", "2026-10-25T18:00:00Z"))),
            ("London ambiguous up time takes the earlier instant", every_day(London, hm(1, 30), hm(3, 0)), "2026-10-25",
                Some(("2026-10-25T00:30:00Z", "2026-10-25T03:00:00Z"))),
            // 8 March 2026: 02:00 EST -> 03:00 EDT.
            ("New York spring-forward day", every_day(New_York, hm(8, 0), hm(18, 0)), "2026-03-08",
                Some(("2026-03-08T12:00:00Z", "2026-03-08T22:00:00Z"))),
            ("New York down time in the gap", every_day(New_York, hm(0, 0), hm(2, 30)), "2026-03-08",
                Some(("2026-03-08T05:00:00Z", "2026-03-08T07:30:00Z"))),
            // 1 November 2026: 02:00 EDT -> 01:00 EST.
            ("New York fall-back day", every_day(New_York, hm(8, 0), hm(18, 0)), "2026-11-01",
                Some(("2026-11-01T13:00:00Z", "2026-11-01T23:00:00Z"))),
            ("New York window spanning the repeated hour is an hour longer", every_day(New_York, hm(0, 0), hm(23, 59)), "2026-11-01",
                Some(("2026-11-01T04:00:00Z", "2026-11-02T04:59:00Z"))),
        ];
        for (name, policy, day, expected) in cases {
            let got = policy.window_on(date(day));
            let expected = expected.map(|(s, e)| Window { start: utc(s), end: utc(e) });
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn a_spring_forward_day_is_an_hour_shorter_and_fall_back_an_hour_longer() {
        let p = every_day(London, hm(0, 0), hm(23, 0));
        let hours = |d: &str| p.window_on(date(d)).unwrap().hours();
        assert_eq!(hours("2026-03-28"), 23.0);
        assert_eq!(hours("2026-03-29"), 22.0);
        assert_eq!(hours("2026-10-25"), 24.0);
    }

    #[test]
    fn next_transition_table() {
        let mut london = BusinessHours { time_zone: London, ..Default::default() };
        // Friday 2026-12-25 and Monday 2026-12-28 (substitute Boxing Day) are holidays.
        london.holidays = [date("2026-12-25"), date("2026-12-28")].into();
        let on_demand = BusinessHours { up_time: None, ..Default::default() };
        use TransitionKind::*;
        #[rustfmt::skip]
        let cases: &[(&str, &BusinessHours, &str, Option<(&str, TransitionKind)>)] = &[
            ("before opening", &london, "2026-12-22T06:00:00Z", Some(("2026-12-22T08:00:00Z", Startup))),
            ("at opening the next is teardown", &london, "2026-12-22T08:00:00Z", Some(("2026-12-22T18:00:00Z", Teardown))),
            ("at teardown the next is tomorrow", &london, "2026-12-22T18:00:00Z", Some(("2026-12-23T08:00:00Z", Startup))),
            ("Thursday evening skips the Friday holiday, the weekend and the Monday holiday",
                &london, "2026-12-24T18:00:00Z", Some(("2026-12-29T08:00:00Z", Startup))),
            ("summer time shifts the UTC instant", &london, "2026-06-05T18:30:00Z", Some(("2026-06-08T07:00:00Z", Startup))),
            ("across the spring change over a weekend", &london, "2026-03-27T17:30:00Z", Some(("2026-03-27T18:00:00Z", Teardown))),
            ("Monday after the spring change", &london, "2026-03-27T18:00:00Z", Some(("2026-03-30T07:00:00Z", Startup))),
            ("on demand only: never", &on_demand, "2026-12-22T06:00:00Z", None),
        ];
        for (name, policy, t, expected) in cases {
            let got = policy.next_transition(utc(t));
            let expected = expected.map(|(at, kind)| Transition { at: utc(at), kind });
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn a_holiday_on_a_weekend_changes_nothing() {
        let mut p = BusinessHours::default();
        let before = p.windows(utc("2026-12-21T00:00:00Z"), utc("2026-12-31T00:00:00Z"));
        p.holidays = [date("2026-12-26"), date("2026-12-27")].into(); // Sat, Sun
        let after = p.windows(utc("2026-12-21T00:00:00Z"), utc("2026-12-31T00:00:00Z"));
        assert_eq!(before, after);
        assert_eq!(after.len(), 8);
    }

    #[test]
    fn windows_are_clipped_to_the_span() {
        let p = BusinessHours::default();
        let w = p.windows(utc("2026-11-27T10:30:00Z"), utc("2026-12-01T09:00:00Z"));
        assert_eq!(
            w,
            [
                Window { start: utc("2026-11-27T10:30:00Z"), end: utc("2026-11-27T18:00:00Z") },
                Window { start: utc("2026-11-30T08:00:00Z"), end: utc("2026-11-30T18:00:00Z") },
                Window { start: utc("2026-12-01T08:00:00Z"), end: utc("2026-12-01T09:00:00Z") },
            ]
        );
        assert!(p.windows(utc("2026-11-27T10:30:00Z"), utc("2026-11-27T10:30:00Z")).is_empty());
    }

    #[test]
    fn up_hours_of_a_weekday_month() {
        // November 2026 has 21 weekdays.
        let p = BusinessHours::default();
        assert_eq!(p.up_hours(utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z")), 210.0);
    }

    #[test]
    fn windows_serialize_as_utc_with_z() {
        let w = Window { start: utc("2026-11-27T08:00:00Z"), end: utc("2026-11-27T18:00:00Z") };
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"start":"2026-11-27T08:00:00Z","end":"2026-11-27T18:00:00Z"}"#
        );
    }
}
