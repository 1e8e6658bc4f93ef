//! Properties of business hours over arbitrary policies, zones and instants.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use staging_core::{BusinessHours, TransitionKind, WorkingDays};

/// Zones with the awkward cases: DST at 01:00, 02:00, midnight (Santiago), a 30-minute
/// DST shift (Lord Howe), none at all (Kolkata), and a southern-hemisphere summer.
const ZONES: &[Tz] = &[
    Tz::UTC,
    chrono_tz::Europe::London,
    chrono_tz::America::New_York,
    chrono_tz::America::Santiago,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Pacific::Auckland,
];

fn policy() -> impl Strategy<Value = BusinessHours> {
    (
        0..ZONES.len(),
        0u8..128,
        0u32..24 * 4,
        1u32..24 * 4,
        prop::collection::vec(0i64..800, 0..20),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(zone, days, up, len, holidays, on_demand)| {
            let quarter = |q: u32| NaiveTime::from_hms_opt(q / 4, (q % 4) * 15, 0).unwrap();
            let up_q = up.min(24 * 4 - 2);
            let down_q = (up_q + len).min(24 * 4 - 1);
            let base = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
            BusinessHours {
                time_zone: ZONES[zone],
                working_days: WorkingDays::from_days(
                    (0..7u8).filter(|d| days & (1 << d) != 0).map(|d| Weekday::try_from(d).unwrap()),
                ),
                up_time: (!on_demand).then(|| quarter(up_q)),
                down_time: quarter(down_q.max(up_q + 1)),
                holidays: holidays.into_iter().map(|d| base + Duration::days(d)).collect(),
            }
        })
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2025-01-01 .. 2027-03-01, to the minute.
    (0i64..(790 * 24 * 60)).prop_map(|m| Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_next_transition_is_strictly_later_and_flips_the_state(p in policy(), t in instant()) {
        let now_up = p.is_up_time(t);
        if let Some(next) = p.next_transition(t) {
            prop_assert!(next.at > t, "{:?} not after {t}", next.at);
            prop_assert_eq!(next.kind == TransitionKind::Startup, !now_up);
            prop_assert_eq!(p.is_up_time(next.at), !now_up, "state flips at {}", next.at);
            // Nothing changes in between.
            let just_before = next.at - Duration::seconds(1);
            prop_assert_eq!(p.is_up_time(just_before), now_up);
            let middle = t + (next.at - t) / 2;
            prop_assert_eq!(p.is_up_time(middle), now_up);
        } else {
            // With no transition ahead, the state holds a year on.
            prop_assert_eq!(p.is_up_time(t + Duration::days(365)), now_up);
        }
    }

    #[test]
    fn walking_transitions_from_their_own_instants_alternates_and_advances(p in policy(), t in instant()) {
        // Starting exactly on a transition is the boundary case a random instant misses.
        let mut at = t;
        let mut previous = None;
        for _ in 0..12 {
            let Some(next) = p.next_transition(at) else { break };
            prop_assert!(next.at > at, "{:?} not after {at}", next.at);
            if let Some(kind) = previous {
                prop_assert!(kind != next.kind, "two {kind:?} in a row at {}", next.at);
            }
            previous = Some(next.kind);
            at = next.at;
        }
    }

    #[test]
    fn windows_are_ordered_non_empty_and_never_overlap(p in policy(), t in instant(), days in 1i64..60) {
        let end = t + Duration::days(days);
        let windows = p.windows(t, end);
        for w in &windows {
            prop_assert!(w.start < w.end, "empty window {w:?}");
            prop_assert!(t <= w.start && w.end <= end, "{w:?} outside the span");
            prop_assert!(p.is_up_time(w.start), "up at the start of {w:?}");
        }
        for pair in windows.windows(2) {
            prop_assert!(pair[0].end < pair[1].start, "{:?} overlaps or touches {:?}", pair[0], pair[1]);
            prop_assert!(!p.is_up_time(pair[0].end), "down between windows at {}", pair[0].end);
        }
    }
}
