use super::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn november_2026_under_the_default_policy_sums_component_by_component() {
    // 720 hours in the month, 21 weekdays x 10 h = 210 up hours.
    let p = CostModel::default().project(
        &BusinessHours::default(),
        utc("2026-11-01T00:00:00Z"),
        utc("2026-12-01T00:00:00Z"),
    );
    assert_eq!((p.hours, p.up_hours), (720.0, 210.0));
    let fargate_hourly = 0.0123425;
    #[rustfmt::skip]
    let expected = [
        ("fargate", 210.0, fargate_hourly * 210.0, fargate_hourly * 720.0),
        ("alb", 720.0, 16.2, 16.2),
        ("nat_gateway", 720.0, 32.4, 32.4),
        ("redis", 720.0, 11.52, 11.52),
        ("neon", 210.0, 0.0, 0.0),
        ("cloudwatch", 720.0, 0.5 * 720.0 / 730.0, 0.5 * 720.0 / 730.0),
    ];
    for ((name, hours, scheduled, always), c) in expected.iter().zip(&p.components) {
        assert_eq!(c.name, *name);
        assert!(close(c.billed_hours, *hours), "{name} hours {}", c.billed_hours);
        assert!(close(c.scheduled_usd, *scheduled), "{name} scheduled {}", c.scheduled_usd);
        assert!(close(c.always_on_usd, *always), "{name} always {}", c.always_on_usd);
    }
    let scheduled: f64 = expected.iter().map(|e| e.2).sum();
    let always: f64 = expected.iter().map(|e| e.3).sum();
    assert!(close(p.scheduled_usd, scheduled));
    assert!(close(p.always_on_usd, always));
    assert!(close(p.saving_usd, always - scheduled));
    // Fargate, the only stoppable component with a price, is cut by 510/720.
    assert!(close(p.stoppable_saving_percent, 100.0 * 510.0 / 720.0));
    // The whole bill barely moves: the ALB, NAT and Redis keep billing.
    assert!(p.saving_percent < 10.0, "{}", p.saving_percent);
    assert!(!p.within_target, "the default stack cannot meet £5");
}

#[test]
fn a_stack_of_only_stoppable_parts_saves_its_down_hours() {
    let model = CostModel {
        components: vec![Component {
            name: "task".into(),
            hourly_usd: 1.0,
            billing: Billing::StopsWhenScaledToZero,
            basis: "test".into(),
        }],
        gbp_per_usd: 0.5,
        target_gbp: 100.0,
    };
    let p = model.project(&BusinessHours::default(), utc("2026-11-23T00:00:00Z"), utc("2026-11-30T00:00:00Z"));
    assert_eq!(p.scheduled_usd, 50.0);
    assert_eq!(p.always_on_usd, 168.0);
    assert!(close(p.saving_percent, 100.0 * 118.0 / 168.0));
    assert_eq!(p.saving_percent, p.stoppable_saving_percent);
    assert_eq!(p.scheduled_gbp, 25.0);
    assert!(p.within_target);
}

#[test]
fn an_empty_period_costs_nothing_and_divides_by_nothing() {
    let t = utc("2026-11-23T00:00:00Z");
    let p = CostModel::default().project(&BusinessHours::default(), t, t);
    assert_eq!((p.scheduled_usd, p.saving_percent, p.stoppable_saving_percent), (0.0, 0.0, 0.0));
}

#[test]
fn a_rates_file_replaces_the_list_prices() {
    let seed = CostModel::default().with_rates_yaml(include_str!("../../../../events/cost.seed.yml")).unwrap();
    let november = seed.project(&BusinessHours::default(), utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
    let always: f64 = november.always_on_usd * HOURS_PER_PRICED_MONTH / november.hours;
    assert!(close(always, 22.80), "the seed's base month: {always}");
    let (over, culprits) = november.over_target(seed.gbp_per_usd).expect("over £5 even at the seed's prices");
    assert!(over > 0.0);
    assert_eq!(culprits[0].name, "neon");
    for (yaml, fragment) in [
        ("components: {}", "no components"),
        ("components: {x: {billing: always}}", "component `x`: give one of hourly_usd or monthly_usd"),
        ("components: {x: {hourly_usd: 1, monthly_usd: 2, billing: always}}", "give one of"),
        ("components: {x: {hourly_usd: -1, billing: always}}", "from 0 to $1,000 an hour"),
        ("components: {x: {hourly_usd: 1e308, billing: always}}", "from 0 to $1,000 an hour"),
        (
            "components: {x: {hourly_usd: 1, billing: sometimes}}",
            "component `x`: billing `sometimes` is not one of stops_at_zero, stops_with_stack, always",
        ),
        (
            "components: {x: {hourly_usd: 1, billing: stops_with_the_stack}}",
            "billing `stops_with_the_stack` is not one of",
        ),
        ("components: {x: {hourly_usd: 1, billing: always, colour: red}}", "not a rates file"),
        ("gbp_per_usd: 0\ncomponents: {x: {hourly_usd: 1, billing: always}}", "gbp_per_usd must be a positive number"),
    ] {
        let err = CostModel::default().with_rates_yaml(yaml).unwrap_err();
        assert!(err.contains(fragment), "{yaml}: {err}");
    }
}

fn november() -> (DateTime<Utc>, DateTime<Utc>) {
    (utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"))
}

const TWO_HOURS: std::time::Duration = std::time::Duration::from_secs(2 * 3600);

fn cents(usd: f64) -> i64 {
    (usd * 100.0).round() as i64
}

#[test]
fn every_mode_of_november_2026_at_list_prices_with_nothing_recorded() {
    // 720 h in the month, 210 up under the default schedule, 21 working days x a 2 h
    // hold = 42 on demand.
    let model = CostModel::default();
    let (from, to) = november();
    let c = model.compare(&BusinessHours::default(), from, to, TWO_HOURS, &Recorded::NONE);
    let fargate = 0.0123425;
    let with_stack = 0.0225 + 0.045 + 0.016;
    let always = 0.5 / 730.0;
    use Mode::*;
    #[rustfmt::skip]
    let expected = [
        // mode, up-hours, exact $, $ cents, £ pence, meets £5, ready secs
        (AlwaysOn, 720.0, (fargate + with_stack + always) * 720.0, 6950, 5490, false, 0),
        (Scale, 210.0, fargate * 210.0 + (with_stack + always) * 720.0, 6321, 4993, false, 60),
        (Stack, 210.0, (fargate + with_stack) * 210.0 + always * 720.0, 2062, 1629, false, 600),
        (StackOnDemand, 42.0, (fargate + with_stack) * 42.0 + always * 720.0, 452, 357, true, 600),
    ];
    assert_eq!(c.modes.len(), expected.len());
    for ((mode, up, usd, usd_cents, pence, meets, ready), m) in expected.into_iter().zip(&c.modes) {
        assert_eq!(m.mode, mode);
        assert!(close(m.up_hours, up), "{mode} up-hours {}", m.up_hours);
        assert!(close(m.monthly_usd, usd), "{mode} ${}", m.monthly_usd);
        assert_eq!((cents(m.monthly_usd), cents(m.monthly_gbp)), (usd_cents, pence), "{mode}");
        assert_eq!((m.meets_target, m.time_to_ready_secs, m.time_to_ready_recorded), (meets, ready, false), "{mode}");
    }
    // `scale` is what `project` has always said.
    assert!(close(c.mode(Scale).monthly_usd, model.project(&BusinessHours::default(), from, to).scheduled_usd));
    assert_eq!((c.cheapest, c.cheapest_meeting_target), (StackOnDemand, Some(StackOnDemand)));
    assert!(
        c.mode(StackOnDemand).up_hours_basis.contains("one default hold (2h) on each of 21 working days (assumed)")
    );
    assert!(c.mode(Stack).time_to_ready_basis.contains("assumed"));
}

#[test]
fn the_target_is_the_deployed_budget_in_pounds() {
    let budget = |amount: f64, currency: &str| crate::config::BudgetAmount { amount, currency: currency.into() };
    #[rustfmt::skip]
    let cases: Vec<(&str, crate::config::BudgetAmount, f64, bool)> = vec![
        ("dollars at the model's rate", budget(60.0, "USD"), 60.0 * 0.79, true),
        ("pounds as they are", budget(5.0, "GBP"), 5.0, true),
        ("a currency the model cannot convert keeps £5", budget(7000.0, "JPY"), 5.0, false),
    ];
    for (name, budget, target, converted) in cases {
        let (model, did) = CostModel::default().with_budget_target(&budget);
        assert!((model.target_gbp - target).abs() < 1e-9, "{name}: {}", model.target_gbp);
        assert_eq!(did, converted, "{name}");
    }
}

#[test]
fn recorded_use_and_start_times_replace_the_assumptions() {
    let (from, to) = november();
    let december = (utc("2026-12-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
    let rec = |up: Option<f64>, on_demand: Option<f64>, start: Option<u32>| Recorded {
        up_hours: up,
        on_demand_up_hours: on_demand,
        stack_start_secs: start,
        ..Recorded::NONE
    };
    #[rustfmt::skip]
    let cases: &[(&str, (DateTime<Utc>, DateTime<Utc>), Recorded, f64, &str, u32, bool, &str)] = &[
        ("nothing recorded", (from, to), Recorded::NONE, 42.0, "(assumed)", 600, false, "in ~10 min"),
        ("15 h on demand in 30 days is 15 h of a 30-day month", (from, to), rec(Some(40.0), Some(15.0), Some(420)),
            15.0, "15.0 h started on demand in the last 30 days, scaled to the period's 720 h (recorded)", 420, true, "in ~7 min"),
        ("and 15.5 h of a 31-day one", december, rec(Some(15.0), Some(15.0), None), 15.5, "(recorded)", 600, false, "in ~10 min"),
        ("windows recorded, none on demand: assumed", (from, to), rec(Some(200.0), Some(0.0), Some(95)), 42.0, "(assumed)", 95, true, "in ~2 min"),
        ("December has 23 working days", december, Recorded::NONE, 46.0, "on each of 23 working days", 600, false, "in ~10 min"),
    ];
    for (name, (from, to), recorded, up, basis, ready, measured, ready_in) in cases {
        let c = CostModel::default().compare(&BusinessHours::default(), *from, *to, TWO_HOURS, recorded);
        let m = c.mode(Mode::StackOnDemand);
        assert!(close(m.up_hours, *up), "{name}: {}", m.up_hours);
        assert!(m.up_hours_basis.contains(basis), "{name}: {}", m.up_hours_basis);
        assert_eq!(
            (m.time_to_ready_secs, m.time_to_ready_recorded, m.ready_in().as_str()),
            (*ready, *measured, *ready_in),
            "{name}"
        );
        // The stack's start is the same whatever the schedule; a task start is never measured.
        assert_eq!(c.mode(Mode::Stack).time_to_ready_secs, *ready, "{name}");
        assert_eq!(
            (c.mode(Mode::Scale).time_to_ready_secs, c.mode(Mode::Scale).time_to_ready_recorded),
            (TASK_START_SECS, false)
        );
        assert_eq!(c.mode(Mode::AlwaysOn).ready_in(), "at once");
    }
}

#[test]
fn the_record_is_read_from_the_state_with_sub_second_instants() {
    use crate::model::state::UpWindow;
    let mut state = EnvironmentState::new("staging");
    let now = utc("2026-11-27T07:00:00.9Z");
    state.up_windows = vec![
        // Cut at the 30-day horizon (2026-10-28T07:00:00.9Z): 1 h of it counts.
        UpWindow { from: utc("2026-10-28T05:00:00.9Z"), to: utc("2026-10-28T08:00:00.9Z"), on_demand: true },
        UpWindow { from: utc("2026-11-20T18:00:00.5Z"), to: utc("2026-11-20T21:00:00.5Z"), on_demand: true },
        UpWindow { from: utc("2026-11-23T08:00:00Z"), to: utc("2026-11-23T18:00:00Z"), on_demand: false },
    ];
    for secs in [700, 400, 500] {
        state.record_stack_start(secs);
    }
    let r = Recorded::from_state(&state, now);
    assert_eq!(
        r,
        Recorded {
            days: 30,
            up_hours: Some(14.0),
            on_demand_up_hours: Some(4.0),
            stack_start_secs: Some(500),
            wakes: 0,
            use_hours: Some(4.0)
        }
    );
    assert_eq!(Recorded::from_state(&EnvironmentState::new("staging"), now), Recorded::NONE);
    // A period with sub-second bounds counts the working days whose noon it holds.
    let c = CostModel::default().compare(
        &BusinessHours::default(),
        utc("2026-11-02T12:00:00.5Z"),
        utc("2026-11-04T12:00:00.5Z"),
        TWO_HOURS,
        &Recorded::NONE,
    );
    assert!(close(c.mode(Mode::StackOnDemand).up_hours, 2.0 * 2.0), "Tue and Wed noon, not Mon's");
}

#[test]
fn the_cheapest_mode_meeting_the_target_table() {
    let seed = CostModel::default().with_rates_yaml(include_str!("../../../../events/cost.seed.yml")).unwrap();
    let free = CostModel { components: vec![], ..CostModel::default() };
    let generous = CostModel { target_gbp: 100.0, ..CostModel::default() };
    let flat = CostModel::default().with_rates_yaml("components: {db: {monthly_usd: 3.65, billing: always}}").unwrap();
    use Mode::*;
    #[rustfmt::skip]
    let cases: &[(&str, &CostModel, Mode, Option<Mode>, &[Mode])] = &[
        ("list prices: only on demand meets £5", &CostModel::default(), StackOnDemand, Some(StackOnDemand), &[StackOnDemand]),
        ("the seed's neon bills $6 whatever: nothing meets £5", &seed, StackOnDemand, None, &[]),
        ("a target everything meets: still the cheapest", &generous, StackOnDemand, Some(StackOnDemand), &[AlwaysOn, Scale, Stack, StackOnDemand]),
        ("nothing to pay: the quickest to wake wins the tie", &free, AlwaysOn, Some(AlwaysOn), &[AlwaysOn, Scale, Stack, StackOnDemand]),
        ("only what always bills: a tie, always on", &flat, AlwaysOn, Some(AlwaysOn), &[AlwaysOn, Scale, Stack, StackOnDemand]),
    ];
    let (from, to) = november();
    for (name, model, cheapest, meeting, meet) in cases {
        let c = model.compare(&BusinessHours::default(), from, to, TWO_HOURS, &Recorded::NONE);
        assert_eq!((c.cheapest, c.cheapest_meeting_target), (*cheapest, *meeting), "{name}");
        let meeting_all: Vec<Mode> = c.modes.iter().filter(|m| m.meets_target).map(|m| m.mode).collect();
        assert_eq!(meeting_all, *meet, "{name}");
    }
}

#[test]
fn a_rates_file_says_what_stops_with_the_stack() {
    let seed = CostModel::default().with_rates_yaml(include_str!("../../../../events/cost.seed.yml")).unwrap();
    let billing: Vec<(&str, Billing)> = seed.components.iter().map(|c| (c.name.as_str(), c.billing)).collect();
    use Billing::*;
    assert_eq!(
        billing,
        [
            ("alb", StopsWithStack),
            ("cloudwatch", AlwaysBills),
            ("fargate", StopsWhenScaledToZero),
            ("nat_gateway", StopsWithStack),
            ("neon", AlwaysBills),
            ("redis", StopsWithStack)
        ]
    );
    let (from, to) = november();
    let c = seed.compare(&BusinessHours::default(), from, to, TWO_HOURS, &Recorded::NONE);
    let pence: Vec<(Mode, i64, i64)> =
        c.modes.iter().map(|m| (m.mode, cents(m.monthly_usd), cents(m.monthly_gbp))).collect();
    #[rustfmt::skip]
    assert_eq!(pence, [(Mode::AlwaysOn, 2249, 1777), (Mode::Scale, 1620, 1280), (Mode::Stack, 1180, 932), (Mode::StackOnDemand, 828, 654)]);
    // Deleting the stack saves (alb + nat + redis) $6.30 a month over the 510 down hours.
    assert!(close(c.mode(Mode::Scale).monthly_usd - c.mode(Mode::Stack).monthly_usd, 6.30 * 510.0 / 730.0));
}

#[test]
fn without_an_up_time_every_mode_but_always_on_is_up_on_demand_only() {
    let on_demand = BusinessHours { up_time: None, ..Default::default() };
    let (from, to) = november();
    let c = CostModel::default().compare(&on_demand, from, to, TWO_HOURS, &Recorded::NONE);
    let up: Vec<f64> = c.modes.iter().map(|m| m.up_hours).collect();
    assert_eq!(up, [720.0, 42.0, 42.0, 42.0]);
    assert_eq!(c.mode(Mode::Stack).monthly_usd, c.mode(Mode::StackOnDemand).monthly_usd);
    assert!(
        c.mode(Mode::Scale).up_hours_basis.starts_with("no up time, so on demand only"),
        "{}",
        c.mode(Mode::Scale).up_hours_basis
    );
    assert_eq!(c.cheapest_meeting_target, Some(Mode::StackOnDemand), "the tie goes to the mode that says how it runs");
}

#[test]
fn the_configured_mode_follows_the_teardown_and_the_up_time() {
    use crate::config::Teardown;
    let on_demand = BusinessHours { up_time: None, ..Default::default() };
    let stack = Teardown::Stack("staging-pause".into());
    #[rustfmt::skip]
    let cases = [
        (Teardown::Scale, BusinessHours::default(), Mode::Scale),
        (Teardown::Scale, on_demand.clone(), Mode::Scale),
        (stack.clone(), BusinessHours::default(), Mode::Stack),
        (stack, on_demand, Mode::StackOnDemand),
    ];
    for (teardown, hours, mode) in cases {
        assert_eq!(Mode::configured(&teardown, &hours), mode, "{teardown:?} {:?}", hours.up_time);
    }
    assert_eq!(serde_json::to_value(Mode::StackOnDemand).unwrap(), "stack_on_demand");
}

#[test]
fn working_days_are_the_local_dates_whose_noon_is_in_the_period() {
    let (from, to) = november();
    let with_holiday = BusinessHours { holidays: ["2026-11-26".parse().unwrap()].into(), ..Default::default() };
    let auckland = BusinessHours { time_zone: chrono_tz::Pacific::Auckland, ..Default::default() };
    let on_demand = BusinessHours { up_time: None, ..Default::default() };
    #[rustfmt::skip]
    let cases = [
        ("November 2026", BusinessHours::default(), 21),
        ("with Thanksgiving off", with_holiday, 20),
        // Local noon is 23:00Z the day before: Mon 2 Nov to Tue 1 Dec.
        ("Auckland in the UTC month", auckland, 22),
        ("no up time still has working days", on_demand, 21),
    ];
    for (name, hours, days) in cases {
        assert_eq!(working_days(&hours, from, to), days, "{name}");
    }
    assert_eq!(working_days(&BusinessHours::default(), to, from), 0);
}

fn wake(requested: &str, held_until: &str, ended: Option<&str>) -> crate::model::state::Wake {
    crate::model::state::Wake {
        by: "ada".into(),
        requested_at: utc(requested),
        stack_at: None,
        tasks_at: None,
        targets_at: None,
        ready_at: None,
        held_until: utc(held_until),
        ended_at: ended.map(utc),
        from_deep_sleep: false,
    }
}

#[test]
fn hours_per_day_is_a_number_of_hours_from_0_to_24() {
    #[rustfmt::skip]
    let cases: &[(&str, Option<f64>, &str)] = &[
        ("1.5", Some(1.5), "1.5"),
        ("2", Some(2.0), "2"),
        (" 0.25 ", Some(0.25), "0.25"),
        ("0", Some(0.0), "0"),
        ("-0", Some(0.0), "0"),
        ("24", Some(24.0), "24"),
        ("24.01", None, ""),
        ("-1", None, ""),
        ("NaN", None, ""),
        ("inf", None, ""),
        ("1.5h", None, ""),
        ("", None, ""),
    ];
    for (text, hours, shown) in cases {
        match (text.parse::<HoursPerDay>(), hours) {
            (Ok(h), Some(expected)) => {
                assert_eq!(h.get(), *expected, "{text:?}");
                assert_eq!(h.to_string(), *shown, "{text:?}");
            }
            (Err(e), None) => assert_eq!(e, format!("`{text}` is not a number of hours from 0 to 24")),
            (got, expected) => panic!("{text:?}: got {got:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn the_record_of_use_is_the_on_demand_windows_and_the_wakes_counted_once() {
    use crate::model::state::{UpWindow, Wake};
    let now = utc("2026-12-06T19:02:03.456789Z");
    let window = |from: &str, to: &str, on_demand: bool| UpWindow { from: utc(from), to: utc(to), on_demand };
    let month_ago = Some(utc("2026-11-06T19:02:03.456789Z"));
    #[rustfmt::skip]
    let cases: Vec<(&str, Option<DateTime<Utc>>, Vec<UpWindow>, Vec<Wake>, i64, u32, Option<f64>)> = vec![
        ("nothing recorded", None, vec![], vec![], 30, 0, None),
        ("recording began, no use since", month_ago, vec![], vec![], 30, 0, Some(0.0)),
        ("scheduled windows are not use", month_ago,
            vec![window("2026-12-01T19:00:00.25Z", "2026-12-01T22:00:00.25Z", true),
                 window("2026-12-02T08:00:00Z", "2026-12-02T18:00:00Z", false)],
            vec![], 30, 0, Some(3.0)),
        ("a wake stopped idle counts once with the window its start closed", month_ago,
            vec![window("2026-12-03T20:15:30.5Z", "2026-12-03T21:00:00.5Z", true)],
            vec![wake("2026-12-03T20:15:30.5Z", "2026-12-03T22:15:30.5Z", Some("2026-12-03T21:00:00.5Z"))],
            30, 1, Some(44.5 / 60.0)),
        ("an open wake counts up to now, and recording began with it", None, vec![],
            vec![wake("2026-12-06T18:32:03.456789Z", "2026-12-06T20:32:03.456789Z", None)],
            1, 1, Some(0.5)),
        ("a wake and a window that overlap count their union", month_ago,
            vec![window("2026-12-05T20:00:00.000001Z", "2026-12-05T23:00:00.000001Z", true)],
            vec![wake("2026-12-05T19:00:00.000001Z", "2026-12-05T21:00:00.000001Z", None)],
            30, 1, Some(4.0)),
        ("a wake before the horizon is not counted, its use is cut there", Some(utc("2026-10-01T00:00:00Z")),
            vec![window("2026-11-06T18:02:03.456789Z", "2026-11-06T20:02:03.456789Z", true)],
            vec![wake("2026-11-06T18:02:03.456789Z", "2026-11-06T20:02:03.456789Z", None)],
            30, 0, Some(1.0)),
        ("a week of record covers 7 days", Some(utc("2026-11-30T08:00:00.1Z")),
            vec![window("2026-12-01T19:00:00.1Z", "2026-12-01T19:30:00.1Z", true)],
            vec![wake("2026-12-01T19:00:00.1Z", "2026-12-01T21:00:00.1Z", Some("2026-12-01T19:30:00.1Z"))],
            7, 1, Some(0.5)),
    ];
    for (name, since, windows, wakes, days, wake_count, use_hours) in cases {
        let mut state = EnvironmentState::new("staging");
        (state.up_windows_since, state.up_windows, state.wakes) = (since, windows, wakes);
        let r = Recorded::from_state(&state, now);
        assert_eq!((r.days, r.wakes), (days, wake_count), "{name}");
        match (r.use_hours, use_hours) {
            (Some(got), Some(expected)) => assert!(close(got, expected), "{name}: {got} h, expected {expected}"),
            (got, expected) => assert_eq!(got, expected, "{name}"),
        }
    }
}

#[test]
fn a_month_up_only_while_used_table() {
    let (from, to) = november();
    let fargate = 0.0123425;
    let with_stack = 0.0225 + 0.045 + 0.016;
    let always = 0.5 / 730.0;
    // (scale $, stack $) for `up` of November's 720 h at list prices.
    let usd = |up: f64| (fargate * up + (with_stack + always) * 720.0, (fargate + with_stack) * up + always * 720.0);
    let list = CostModel::default();
    let (budget_60_usd, _) =
        CostModel::default().with_budget_target(&crate::config::BudgetAmount { amount: 60.0, currency: "USD".into() });
    let no_up_time = BusinessHours { up_time: None, ..Default::default() };
    let weekdays = BusinessHours::default();
    let rec = |wakes: u32, use_hours: Option<f64>, days: i64| Recorded { wakes, use_hours, days, ..Recorded::NONE };
    let per_day = |h: &str| Some(h.parse::<HoursPerDay>().unwrap());
    let two_days = (utc("2026-11-02T12:00:00.5Z"), utc("2026-11-04T12:00:00.5Z"));
    #[rustfmt::skip]
    let cases: Vec<(&str, &CostModel, &BusinessHours, (DateTime<Utc>, DateTime<Utc>), Option<HoursPerDay>, Recorded, Option<f64>, &str, UseSource, [bool; 2])> = vec![
        ("--hours-per-day 1.5 on November's 21 working days", &list, &weekdays, (from, to), per_day("1.5"),
            Recorded::NONE, Some(31.5), "--hours-per-day 1.5: 1.5 h on each of 21 working days",
            UseSource::HoursPerDay { hours_per_day: per_day("1.5").unwrap(), working_days: 21 }, [false, true]),
        ("the flag wins over the record", &list, &weekdays, (from, to), per_day("2"),
            rec(6, Some(15.0), 30), Some(42.0), "--hours-per-day 2: 2 h on each of 21 working days",
            UseSource::HoursPerDay { hours_per_day: per_day("2").unwrap(), working_days: 21 }, [false, true]),
        ("a period with sub-second bounds holds Tue's and Wed's noon", &list, &weekdays, two_days, per_day("1.5"),
            Recorded::NONE, Some(3.0), "on each of 2 working days",
            UseSource::HoursPerDay { hours_per_day: per_day("1.5").unwrap(), working_days: 2 }, [true, true]),
        ("15 h recorded in 30 days is 15 h of November", &list, &weekdays, (from, to), None,
            rec(6, Some(15.0), 30), Some(15.0), "from the record: 6 wakes, 15.0 h over 30 days (use inside the schedule's hours is not seen",
            UseSource::Record { wakes: 6, hours: 15.0, days: 30 }, [false, true]),
        ("a week's record is scaled to the month; no caveat without an up time", &list, &no_up_time, (from, to), None,
            rec(1, Some(7.0), 7), Some(30.0), "from the record: 1 wake, 7.0 h over 7 days",
            UseSource::Record { wakes: 1, hours: 7.0, days: 7 }, [false, true]),
        ("a record of no use costs what always bills", &list, &weekdays, (from, to), None,
            rec(0, Some(0.0), 1), Some(0.0), "from the record: 0 wakes, 0.0 h over 1 day",
            UseSource::Record { wakes: 0, hours: 0.0, days: 1 }, [false, true]),
        ("more use than hours is the whole period", &list, &weekdays, (from, to), None,
            rec(3, Some(48.0), 1), Some(720.0), "48.0 h over 1 day",
            UseSource::Record { wakes: 3, hours: 48.0, days: 1 }, [false, false]),
        ("the budget's target: $60 is £47.40", &budget_60_usd, &weekdays, (from, to), per_day("1.5"),
            Recorded::NONE, Some(31.5), "--hours-per-day 1.5", 
            UseSource::HoursPerDay { hours_per_day: per_day("1.5").unwrap(), working_days: 21 }, [false, true]),
        ("nothing recorded and no flag: nothing to cost", &list, &weekdays, (from, to), None,
            Recorded::NONE, None, "no use recorded: give --hours-per-day H to cost it", UseSource::Nothing, [false, false]),
    ];
    for (name, model, hours, (a, b), flag, recorded, up, basis, source, meets) in cases {
        let u = model.on_use(hours, a, b, flag, &recorded, std::time::Duration::ZERO);
        assert_eq!(u.source, source, "{name}");
        assert!(u.basis.starts_with(basis) || u.basis.contains(basis), "{name}: {}", u.basis);
        assert_eq!(
            u.basis.contains("not seen"),
            hours.up_time.is_some() && matches!(source, UseSource::Record { .. }),
            "{name}: {}",
            u.basis
        );
        assert_eq!(u.target_gbp, model.target_gbp, "{name}");
        let Some(up) = up else {
            assert_eq!((u.up_hours, u.modes.len()), (None, 0), "{name}");
            continue;
        };
        assert!(close(u.up_hours.unwrap(), up), "{name}: {:?}", u.up_hours);
        let modes: Vec<Mode> = u.modes.iter().map(|m| m.mode).collect();
        assert_eq!(modes, [Mode::Scale, Mode::Stack], "{name}");
        let period = (b - a).num_milliseconds() as f64 / 3_600_000.0;
        let (scale, stack) = if period == 720.0 {
            usd(up)
        } else {
            (fargate * up + (with_stack + always) * period, (fargate + with_stack) * up + always * period)
        };
        for (m, expected, meets) in [(&u.modes[0], scale, meets[0]), (&u.modes[1], stack, meets[1])] {
            assert!(close(m.monthly_usd, expected), "{name} {}: ${} expected ${expected}", m.mode, m.monthly_usd);
            assert!(close(m.monthly_gbp, expected * model.gbp_per_usd), "{name} {}", m.mode);
            assert_eq!(m.meets_target, meets, "{name} {}: £{}", m.mode, m.monthly_gbp);
        }
    }
    // What `stagingctl cost --compare --hours-per-day 1.5` prints for November, in pence.
    let u =
        list.on_use(&BusinessHours::default(), from, to, per_day("1.5"), &Recorded::NONE, std::time::Duration::ZERO);
    let pence: Vec<(Mode, i64, i64)> =
        u.modes.iter().map(|m| (m.mode, cents(m.monthly_usd), cents(m.monthly_gbp))).collect();
    assert_eq!(pence, [(Mode::Scale, 6100, 4819), (Mode::Stack, 351, 277)]);
    // With an idle stop's shallow sleep of 2 h after each of the 21 working days' wake, what
    // stops with the stack bills 42 h more in stack mode; scale mode is unchanged.
    let deep = std::time::Duration::from_secs(2 * 3600);
    let shallow = list.on_use(&BusinessHours::default(), from, to, per_day("1.5"), &Recorded::NONE, deep);
    assert!(close(shallow.shallow_hours, 42.0), "{}", shallow.shallow_hours);
    let with_stack: f64 =
        list.components.iter().filter(|c| c.billing == Billing::StopsWithStack).map(|c| c.hourly_usd).sum();
    assert!(close(shallow.modes[0].monthly_usd, u.modes[0].monthly_usd), "scale mode bills the stack anyway");
    assert!(close(shallow.modes[1].monthly_usd, u.modes[1].monthly_usd + with_stack * 42.0));
    // No use: no wake, so no shallow sleep after one.
    let none = list.on_use(&BusinessHours::default(), from, to, per_day("0"), &Recorded::NONE, deep);
    assert_eq!(none.shallow_hours, 0.0);
    // The scale mode under the budget's £47.40 target: still over it.
    assert!(
        !budget_60_usd
            .on_use(&BusinessHours::default(), from, to, per_day("1.5"), &Recorded::NONE, std::time::Duration::ZERO)
            .modes[0]
            .meets_target
    );
}
