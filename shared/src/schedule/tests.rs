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
    assert_eq!(serde_json::to_string(&w).unwrap(), r#"{"start":"2026-11-27T08:00:00Z","end":"2026-11-27T18:00:00Z"}"#);
}
