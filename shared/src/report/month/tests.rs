use super::*;
use crate::config::Config;
use crate::model::state::BudgetPeriod;
use crate::model::state::Wake;
use crate::report::cost::Component;
use crate::report::daily::{Bill, ServiceCost};
use DeploymentStatus::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn assert_close(got: f64, expected: f64, what: &str) {
    assert!(close(got, expected), "{what}: got {got}, expected {expected}");
}

fn assert_close_opt(got: Option<f64>, expected: Option<f64>, what: &str) {
    match (got, expected) {
        (Some(g), Some(e)) => assert_close(g, e, what),
        _ => assert_eq!(got, expected, "{what}"),
    }
}

/// Europe/London, 08:00–18:00 Mon–Fri (the defaults), `scale` teardown.
fn london() -> Config {
    Config::from_lookup(|k| (k == "STAGING_TIME_ZONE").then(|| "Europe/London".to_string())).unwrap()
}

/// A task at $0.20 an hour while up, logs at $0.01 an hour always; £0.50 a dollar.
fn model() -> CostModel {
    let component =
        |name: &str, hourly_usd, billing| Component { name: name.into(), hourly_usd, billing, basis: "test".into() };
    CostModel {
        components: vec![
            component("task", 0.20, Billing::StopsWhenScaledToZero),
            component("logs", 0.01, Billing::AlwaysBills),
        ],
        gbp_per_usd: 0.5,
        target_gbp: 10.0,
    }
}

fn month(s: &str) -> BudgetPeriod {
    s.parse().unwrap()
}

fn entry(at: &str, source: Source, events: Vec<Event>) -> Entry {
    Entry {
        at: utc(at),
        source,
        who: "test".into(),
        input: "test input".into(),
        summary: "test decision".into(),
        actions: Vec::new(),
        errors: Vec::new(),
        version: Some(1),
        events,
    }
}

fn up(from: &str, to: &str, on_demand: bool) -> Event {
    Event::UpWindow { from: utc(from), to: utc(to), on_demand }
}

fn phase(from: Phase, to: Phase) -> Event {
    Event::Phase { from, to }
}

fn health(at: &str, from: HealthStatus, to: HealthStatus) -> Event {
    Event::Health { at: utc(at), from, to }
}

fn deploy(
    sha: &str,
    kind: Option<DeployKind>,
    status: DeploymentStatus,
    requested: &str,
    started: Option<&str>,
    finished: &str,
    run_secs: Option<i64>,
) -> Event {
    Event::Deployment {
        sha: sha.into(),
        kind,
        status,
        requested_at: utc(requested),
        started_at: started.map(utc),
        finished_at: utc(finished),
        run_secs,
    }
}

struct Case<'a> {
    month: &'a str,
    entries: &'a [Entry],
    state: &'a EnvironmentState,
    bill: Option<&'a Bill>,
    config: &'a Config,
    now: &'a str,
}

fn run(case: Case) -> MonthReport {
    let model = model();
    month_report(&MonthInput {
        month: month(case.month),
        entries: case.entries,
        state: case.state,
        bill: case.bill,
        model: &model,
        config: case.config,
        now: utc(case.now),
    })
}

fn down() -> EnvironmentState {
    EnvironmentState::new("staging")
}

fn day<'a>(r: &'a MonthReport, date: &str) -> &'a Day {
    let date: NaiveDate = date.parse().unwrap();
    r.days.iter().find(|d| d.date == date).unwrap()
}

fn met(r: &MonthReport) -> Vec<(&'static str, Option<bool>)> {
    r.targets.iter().map(|t| (t.key, t.met)).collect()
}

fn target<'a>(r: &'a MonthReport, key: &str) -> &'a Target {
    r.targets.iter().find(|t| t.key == key).unwrap()
}

const KEYS: [&str; 10] = [
    "deploy_success_rate",
    "full_deploy_minutes",
    "backend_deploy_minutes",
    "frontend_deploy_minutes",
    "infrastructure_deploy_minutes",
    "availability",
    "mttr",
    "cost_per_deployment",
    "month_cost",
    "automated_lifecycle",
];

#[test]
fn a_month_with_nothing_recorded_has_no_figures_but_its_cost() {
    let config = london();
    let state = down();
    let r = run(Case {
        month: "2026-11",
        entries: &[],
        state: &state,
        bill: None,
        config: &config,
        now: "2026-11-15T12:00:00.250Z",
    });
    assert_eq!(
        (r.month.as_str(), r.time_zone.as_str(), r.environment.as_str()),
        ("2026-11", "Europe/London", config.environment.as_str())
    );
    assert_eq!(
        (r.from, r.to, r.through),
        (utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"), utc("2026-11-15T12:00:00.250Z"))
    );
    assert_eq!(r.days.len(), 30);
    assert_eq!(r.days.iter().filter(|d| d.future).count(), 15, "16 to 30 November are to come");
    assert_eq!(r.days.iter().filter(|d| d.working_day).count(), 21);
    assert_eq!(r.decisions, 0);
    let d = &r.deployments;
    assert_eq!((d.count, d.succeeded, d.failed, d.cancelled, d.success_rate), (0, 0, 0, 0, None));
    let kinds: Vec<(DeployKind, u32, Option<f64>, Option<f64>)> =
        d.by_kind.iter().map(|k| (k.kind, k.count, k.median_minutes, k.p90_minutes)).collect();
    assert_eq!(kinds, DeployKind::ALL.map(|k| (k, 0, None, None)));
    assert_eq!(r.up_hours, UpHours { scheduled: 0.0, on_demand: 0.0, held: 0.0, total: 0.0 });
    // 2–6 and 9–13 November.
    assert_eq!(r.availability, Availability { since: r.from, business_hours: 100.0, outage_hours: 0.0, percent: None });
    assert_eq!((r.outages.len(), r.mttr_minutes), (0, None));
    assert_eq!(r.budget, BudgetEvents { alerts: 0, locks: 0, unlocks: 0 });
    assert_eq!(r.lifecycle, Lifecycle { transitions: 0, automated: 0, percent: None });
    assert_eq!(r.wakes, Wakes { since: r.from, ..Wakes::default() });
    // The logs bill every hour: 14.5 days and a quarter second at $0.01.
    let hours = 14.5 * 24.0 + 0.25 / 3600.0;
    assert_eq!(r.cost.source, CostSource::Model);
    assert_close(r.cost.usd, 0.01 * hours, "usd so far");
    assert_close(r.cost.gbp, 0.005 * hours, "gbp so far");
    assert_eq!((r.cost.per_deployment_gbp, r.cost.target_gbp), (None, 10.0));
    assert_close(r.days.last().unwrap().cumulative_gbp, r.cost.gbp, "cumulative");
    assert!(r.days.iter().all(|d| d.up.is_empty() && d.deploys.is_empty() && d.outages.is_empty()));
    assert!(r.days.iter().filter(|d| d.future).all(|d| d.cost_gbp == 0.0));
    // Only the month's cost can be judged: the rest of the month under the schedule
    // (11 working days, 110 h of the task) takes it over £10.
    assert_eq!(r.targets.iter().map(|t| t.key).collect::<Vec<_>>(), KEYS);
    for t in &r.targets {
        match t.key {
            "month_cost" => {
                assert_eq!(t.met, Some(false));
                assert_eq!(t.value, "£1.74 so far, £14.60 projected");
                assert_eq!(t.target, "< £10.00");
            }
            "mttr" => assert_eq!((t.value.as_str(), t.met), ("no outages", None)),
            _ => assert_eq!((t.value.as_str(), t.met), ("no data", None), "{}", t.key),
        }
    }
}

/// November 2026 (GMT all month, so local is UTC): two scheduled days, the second
/// held to 20:00; a Saturday on demand; ten deployments; two outages; the budget.
fn synthetic_november() -> Vec<Entry> {
    use DeployKind::*;
    use HealthStatus::*;
    use Phase::{Down, Stopping, Up};
    use Source::{Budget, Health as HealthCheck, Operator, Schedule, Webhook};
    vec![
        // Before the month: not counted.
        entry("2026-10-28T09:00:00.250Z", Budget, vec![]),
        entry(
            "2026-10-30T10:10:00.500Z",
            Webhook,
            vec![deploy(
                "a0",
                Some(Full),
                Succeeded,
                "2026-10-30T10:00:00.500Z",
                None,
                "2026-10-30T10:10:00.500Z",
                Some(600),
            )],
        ),
        // Monday 2 November.
        entry("2026-11-02T08:00:00.250Z", Schedule, vec![phase(Down, Up)]),
        entry(
            "2026-11-02T09:12:01.250Z",
            Webhook,
            vec![deploy(
                "a1",
                Some(Full),
                Succeeded,
                "2026-11-02T09:00:00.250Z",
                Some("2026-11-02T09:00:01.250Z"),
                "2026-11-02T09:12:01.250Z",
                Some(690),
            )],
        ),
        entry("2026-11-02T10:05:00.500Z", HealthCheck, vec![health("2026-11-02T10:00:00.500Z", Healthy, Unhealthy)]),
        entry("2026-11-02T10:07:00.500Z", HealthCheck, vec![health("2026-11-02T10:07:00.500Z", Unhealthy, Healthy)]),
        entry(
            "2026-11-02T10:14:00.750Z",
            Webhook,
            vec![deploy(
                "a2",
                Some(Full),
                Succeeded,
                "2026-11-02T09:59:00.250Z",
                Some("2026-11-02T10:00:00.500Z"),
                "2026-11-02T10:14:00.750Z",
                None,
            )],
        ),
        entry(
            "2026-11-02T11:06:00.250Z",
            Webhook,
            vec![deploy(
                "a5",
                Some(Backend),
                Succeeded,
                "2026-11-02T11:00:00.250Z",
                None,
                "2026-11-02T11:06:00.250Z",
                None,
            )],
        ),
        entry(
            "2026-11-02T18:00:00.250Z",
            Schedule,
            vec![phase(Up, Down), up("2026-11-02T08:00:00.250Z", "2026-11-02T18:00:00.250Z", false)],
        ),
        // Tuesday 3 November, held to 20:00.
        entry("2026-11-03T08:00:00.250Z", Schedule, vec![phase(Down, Up)]),
        entry(
            "2026-11-03T09:30:00.500Z",
            Webhook,
            vec![deploy(
                "a3",
                Some(Full),
                Failed,
                "2026-11-03T09:25:00.500Z",
                None,
                "2026-11-03T09:30:00.500Z",
                Some(300),
            )],
        ),
        entry(
            "2026-11-03T10:04:00.500Z",
            Webhook,
            vec![deploy(
                "a4",
                Some(Backend),
                Succeeded,
                "2026-11-03T10:00:00.500Z",
                None,
                "2026-11-03T10:04:00.500Z",
                Some(240),
            )],
        ),
        entry(
            "2026-11-03T10:20:00.500Z",
            Webhook,
            vec![deploy(
                "a6",
                Some(Backend),
                Cancelled,
                "2026-11-03T10:15:00.500Z",
                None,
                "2026-11-03T10:20:00.500Z",
                None,
            )],
        ),
        entry(
            "2026-11-03T11:02:30.250Z",
            Webhook,
            vec![deploy(
                "a7",
                Some(Frontend),
                Succeeded,
                "2026-11-03T11:00:00.250Z",
                None,
                "2026-11-03T11:02:30.250Z",
                Some(150),
            )],
        ),
        entry(
            "2026-11-03T12:09:00.750Z",
            Webhook,
            vec![deploy(
                "a8",
                Some(Infrastructure),
                Succeeded,
                "2026-11-03T12:00:00.750Z",
                None,
                "2026-11-03T12:09:00.750Z",
                Some(540),
            )],
        ),
        entry(
            "2026-11-03T13:01:00.250Z",
            Webhook,
            vec![deploy("a9", None, Succeeded, "2026-11-03T13:00:00.250Z", None, "2026-11-03T13:01:00.250Z", Some(60))],
        ),
        entry(
            "2026-11-03T14:10:00.250Z",
            Webhook,
            vec![deploy(
                "a12",
                Some(Full),
                Succeeded,
                "2026-11-03T14:00:00.250Z",
                None,
                "2026-11-03T14:10:00.250Z",
                Some(600),
            )],
        ),
        // Not finished: ignored.
        entry(
            "2026-11-03T14:30:00.250Z",
            Webhook,
            vec![deploy(
                "a10",
                Some(Full),
                InProgress,
                "2026-11-03T14:30:00.250Z",
                None,
                "2026-11-03T14:30:00.250Z",
                None,
            )],
        ),
        entry("2026-11-03T17:55:00.250Z", Operator, vec![]),
        // The health check saw the streak begin at 19:50; the teardown ends the outage.
        entry("2026-11-03T19:55:00.250Z", HealthCheck, vec![health("2026-11-03T19:50:00.250Z", Healthy, Unhealthy)]),
        entry(
            "2026-11-03T20:00:00.250Z",
            Schedule,
            vec![phase(Up, Stopping), up("2026-11-03T08:00:00.250Z", "2026-11-03T20:00:00.250Z", false)],
        ),
        entry("2026-11-03T20:00:05.500Z", Schedule, vec![phase(Stopping, Down)]),
        // Saturday 7 November, on demand.
        entry("2026-11-07T10:00:00.500Z", Operator, vec![phase(Down, Up)]),
        entry("2026-11-07T10:05:00.500Z", HealthCheck, vec![health("2026-11-07T10:05:00.500Z", Unknown, Healthy)]),
        entry(
            "2026-11-07T12:30:00.500Z",
            Schedule,
            vec![phase(Up, Down), up("2026-11-07T10:00:00.500Z", "2026-11-07T12:30:00.500Z", true)],
        ),
        // The budget.
        entry("2026-11-20T09:00:00.250Z", Budget, vec![Event::BudgetAlert]),
        // The same alert delivered again: answered "already handled", not counted.
        entry("2026-11-20T09:00:07.250Z", Budget, vec![]),
        entry(
            "2026-11-25T09:00:00.250Z",
            Budget,
            vec![Event::BudgetAlert, Event::BudgetLocked { reason: "actual over 100 %".into() }],
        ),
        entry("2026-11-26T10:00:00.250Z", Operator, vec![Event::BudgetUnlocked]),
        // After the month.
        entry("2026-12-01T08:00:00.250Z", Schedule, vec![phase(Down, Up)]),
    ]
}

#[test]
fn a_synthetic_month_gives_every_figure_and_target() {
    let config = london();
    let state = down();
    let entries = synthetic_november();
    // The stored form gives the same figures.
    let stored: Vec<Entry> = serde_json::from_str(&serde_json::to_string(&entries).unwrap()).unwrap();
    assert_eq!(stored, entries);
    let r = run(Case {
        month: "2026-11",
        entries: &stored,
        state: &state,
        bill: None,
        config: &config,
        now: "2026-12-02T09:00:00.500Z",
    });
    // In any order.
    let reversed: Vec<Entry> = entries.iter().rev().cloned().collect();
    assert_eq!(
        run(Case {
            month: "2026-11",
            entries: &reversed,
            state: &state,
            bill: None,
            config: &config,
            now: "2026-12-02T09:00:00.500Z"
        }),
        r
    );

    assert_eq!(
        (r.from, r.to, r.through),
        (utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"))
    );
    assert_eq!(r.days.len(), 30);
    assert!(r.days.iter().all(|d| !d.future));
    assert_eq!(r.decisions, 27, "a redelivered alert is a decision too");

    // Deployments: 8 succeeded, 1 failed, 1 cancelled; the one in progress and October's ignored.
    let d = &r.deployments;
    assert_eq!((d.count, d.succeeded, d.failed, d.cancelled), (10, 8, 1, 1));
    assert_close_opt(d.success_rate, Some(100.0 * 8.0 / 9.0), "success rate");
    // Full: 10, 11.5 (run_secs 690), 14 min and a quarter second (dispatch to finish).
    let full_slow = 14.0 + 0.25 / 60.0;
    #[rustfmt::skip]
    let kinds: [(DeployKind, u32, f64, f64); 4] = [
        (DeployKind::Full, 3, 11.5, full_slow),
        (DeployKind::Backend, 2, 4.0, 6.0), // nearest rank: the median of two is the shorter
        (DeployKind::Frontend, 1, 2.5, 2.5),
        (DeployKind::Infrastructure, 1, 9.0, 9.0),
    ];
    assert_eq!(d.by_kind.len(), 4);
    for ((kind, count, median, p90), k) in kinds.into_iter().zip(&d.by_kind) {
        assert_eq!((k.kind, k.count, k.target_minutes), (kind, count, kind.target_minutes()));
        assert_close_opt(k.median_minutes, Some(median), &format!("{kind:?} median"));
        assert_close_opt(k.p90_minutes, Some(p90), &format!("{kind:?} p90"));
    }

    // Up-time: two scheduled days (the second held 2 h past 18:00) and 2.5 h on demand.
    let u = &r.up_hours;
    assert_close(u.scheduled, 2.0 * (36000.0 - 0.25) / 3600.0, "scheduled");
    assert_close(u.held, (0.25 + 7200.25) / 3600.0, "held");
    assert_close(u.on_demand, 2.5, "on demand");
    assert_close(u.total, 24.5, "total");

    // Outages: 7 min in business hours, 10 min ended by the teardown.
    let outages: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = r.outages.iter().map(|o| (o.from, o.to)).collect();
    assert_eq!(
        outages,
        [
            (utc("2026-11-02T10:00:00.500Z"), Some(utc("2026-11-02T10:07:00.500Z"))),
            (utc("2026-11-03T19:50:00.250Z"), Some(utc("2026-11-03T20:00:00.250Z"))),
        ]
    );
    assert_close(r.outages[0].minutes, 7.0, "first outage");
    assert_close(r.outages[1].minutes, 10.0, "second outage");
    assert_close_opt(r.mttr_minutes, Some(8.5), "mttr");
    // 21 working days of 10 hours; only the first outage is in them.
    assert_close(r.availability.business_hours, 210.0, "business hours");
    assert_close(r.availability.outage_hours, 7.0 / 60.0, "outage hours");
    assert_close_opt(r.availability.percent, Some(100.0 * (1.0 - (7.0 / 60.0) / 210.0)), "availability");

    assert_eq!(r.budget, BudgetEvents { alerts: 2, locks: 1, unlocks: 1 });
    assert_eq!((r.lifecycle.transitions, r.lifecycle.automated), (7, 6));
    assert_close_opt(r.lifecycle.percent, Some(600.0 / 7.0), "automated");

    // Cost: the task's 24.5 up-hours at $0.20 and the logs' 720 h at $0.01.
    assert_eq!(r.cost.source, CostSource::Model);
    assert_close(r.cost.usd, 4.9 + 7.2, "usd");
    assert_close(r.cost.gbp, 6.05, "gbp");
    assert_close_opt(r.cost.per_deployment_gbp, Some(0.605), "per deployment");
    #[rustfmt::skip]
    let costs = [
        ("2026-11-01", 0.12, 0.12),
        ("2026-11-02", 0.5 * (0.2 * 10.0 + 0.24), 1.24),
        ("2026-11-03", 0.5 * (0.2 * 12.0 + 0.24), 2.56),
        ("2026-11-07", 0.5 * (0.2 * 2.5 + 0.24), 0.12 * 4.0 + 1.12 + 1.32 + 0.37),
    ];
    for (date, cost, cumulative) in costs {
        assert_close(day(&r, date).cost_gbp, cost, date);
        assert_close(day(&r, date).cumulative_gbp, cumulative, date);
    }
    assert_close(r.days.last().unwrap().cumulative_gbp, r.cost.gbp, "cumulative at the end");

    // The calendar.
    let monday = day(&r, "2026-11-02");
    assert!(monday.working_day);
    assert_eq!(
        monday.up,
        [
            DaySpan { from: utc("2026-11-02T08:00:00.250Z"), to: utc("2026-11-02T18:00:00Z"), kind: UpKind::Scheduled },
            DaySpan { from: utc("2026-11-02T18:00:00Z"), to: utc("2026-11-02T18:00:00.250Z"), kind: UpKind::Held },
        ]
    );
    let shas: Vec<&str> = monday.deploys.iter().map(|d| d.sha.as_str()).collect();
    assert_eq!(shas, ["a1", "a2", "a5"]);
    assert_close_opt(monday.deploys[1].minutes, Some(full_slow), "a2");
    assert_eq!(monday.outages, r.outages[..1]);
    let tuesday = day(&r, "2026-11-03");
    assert_eq!(
        tuesday.up[1],
        DaySpan { from: utc("2026-11-03T18:00:00Z"), to: utc("2026-11-03T20:00:00.250Z"), kind: UpKind::Held }
    );
    assert_eq!(tuesday.deploys.len(), 7, "a3, a4, a6, a7, a8, a9, a12");
    assert_eq!(tuesday.outages, r.outages[1..]);
    let saturday = day(&r, "2026-11-07");
    assert!(!saturday.working_day);
    assert_eq!(
        saturday.up,
        [DaySpan {
            from: utc("2026-11-07T10:00:00.500Z"),
            to: utc("2026-11-07T12:30:00.500Z"),
            kind: UpKind::OnDemand
        }]
    );

    // The targets.
    #[rustfmt::skip]
    let expected: [(&str, Option<bool>, &str); 10] = [
        ("deploy_success_rate", Some(false), "88.9 % (8 of 9; 1 cancelled)"),
        ("full_deploy_minutes", Some(true), "14.0 min (median 11.5, 3 deploys)"),
        ("backend_deploy_minutes", Some(false), "6.0 min (median 4.0, 2 deploys)"),
        ("frontend_deploy_minutes", Some(true), "2.5 min (median 2.5, 1 deploy)"),
        ("infrastructure_deploy_minutes", Some(false), "9.0 min (median 9.0, 1 deploy)"),
        ("availability", Some(true), "99.94 % (7.0 min down in 210.0 business hours)"),
        ("mttr", Some(true), "8.5 min (2 outages)"),
        ("cost_per_deployment", Some(false), ""),
        ("month_cost", Some(true), "£6.05"),
        ("automated_lifecycle", Some(false), "85.7 % (6 of 7)"),
    ];
    assert_eq!(met(&r), expected.map(|(k, m, _)| (k, m)));
    for (key, _, value) in expected.into_iter().filter(|e| !e.2.is_empty()) {
        assert_eq!(target(&r, key).value, value, "{key}");
    }
    assert!(target(&r, "cost_per_deployment").value.ends_with("(£6.05 over 10 deploys)"));
    let names: Vec<&str> = r.targets.iter().map(|t| t.target.as_str()).collect();
    assert_eq!(
        names,
        [
            "> 99.5 %",
            "< 15 min (p90)",
            "≈ 5 min (p90)",
            "≈ 3 min (p90)",
            "≈ 8 min (p90)",
            "> 99.9 % in business hours",
            "< 10 min",
            "< £0.10",
            "< £10.00",
            "100 %"
        ]
    );
    // The JSON the CLI prints.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["outages"][0]["from"], "2026-11-02T10:00:00.500Z");
    assert_eq!(json["days"][6]["up"][0]["kind"], "on_demand");
}

#[test]
fn a_rolled_back_deployment_is_a_failure_in_the_rate_but_keeps_its_duration() {
    let config = london();
    let state = down();
    let entries = [
        entry("2026-11-01T00:00:00.250Z", Source::Schedule, vec![]),
        entry(
            "2026-11-02T09:04:00.500Z",
            Source::Webhook,
            vec![deploy(
                "b1",
                Some(DeployKind::Backend),
                Succeeded,
                "2026-11-02T09:00:00.500Z",
                None,
                "2026-11-02T09:04:00.500Z",
                Some(240),
            )],
        ),
        entry(
            "2026-11-02T10:04:00.500Z",
            Source::Webhook,
            vec![deploy(
                "b2",
                Some(DeployKind::Backend),
                Succeeded,
                "2026-11-02T10:00:00.500Z",
                None,
                "2026-11-02T10:04:00.500Z",
                Some(240),
            )],
        ),
        // b2 turned staging unhealthy: rolled back by the health check.
        entry(
            "2026-11-02T10:15:00.250Z",
            Source::Health,
            vec![Event::RolledBack { sha: "b2".into(), at: utc("2026-11-02T10:15:00.250Z") }],
        ),
    ];
    let r = run(Case {
        month: "2026-11",
        entries: &entries,
        state: &state,
        bill: None,
        config: &config,
        now: "2026-12-01T00:00:00.250Z",
    });
    let d = &r.deployments;
    assert_eq!((d.count, d.succeeded, d.failed, d.rolled_back), (2, 2, 0, 1));
    assert_close_opt(d.success_rate, Some(50.0), "one of two stood");
    assert_eq!(d.by_kind[1].count, 2, "both durations count: the run itself took 4 minutes");
    let day = r.days.iter().find(|d| d.date.to_string() == "2026-11-02").unwrap();
    assert_eq!(
        day.deploys.iter().map(|d| (d.sha.as_str(), d.rolled_back)).collect::<Vec<_>>(),
        [("b1", false), ("b2", true)]
    );
    assert_eq!(r.targets[0].value, "50.0 % (1 of 2; 1 rolled back)");
}

#[test]
fn availability_is_measured_from_the_trails_first_entry_when_it_began_inside_the_month() {
    let config = london();
    let state = down();
    // Installed on Monday 23 November at 07:59:59.5; up 08:00–18:00 and 15 minutes out.
    let entries = [
        entry("2026-11-23T07:59:59.500Z", Source::Operator, vec![]),
        entry(
            "2026-11-23T18:00:00.250Z",
            Source::Schedule,
            vec![up("2026-11-23T08:00:00.250Z", "2026-11-23T18:00:00.250Z", false)],
        ),
        entry(
            "2026-11-23T11:10:00.500Z",
            Source::Health,
            vec![health("2026-11-23T11:05:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
        ),
        entry(
            "2026-11-23T11:25:00.500Z",
            Source::Health,
            vec![health("2026-11-23T11:20:00.500Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
        ),
    ];
    let r = run(Case {
        month: "2026-11",
        entries: &entries,
        state: &state,
        bill: None,
        config: &config,
        now: "2026-11-24T00:00:00.250Z",
    });
    let a = &r.availability;
    assert_eq!(a.since, utc("2026-11-23T07:59:59.500Z"), "not the 1st: nothing was known before");
    assert_close(a.business_hours, 10.0, "Monday's ten hours, not 15 working days'");
    assert_close(a.outage_hours, 0.25, "outage");
    assert_close(a.percent.unwrap(), 100.0 * (1.0 - 0.25 / 10.0), "percent");
    // With an entry before the month, the whole month is measured.
    let mut earlier = entries.to_vec();
    earlier.push(entry("2026-10-30T18:00:00.500Z", Source::Schedule, vec![]));
    let r = run(Case {
        month: "2026-11",
        entries: &earlier,
        state: &state,
        bill: None,
        config: &config,
        now: "2026-11-24T00:00:00.250Z",
    });
    assert_eq!(r.availability.since, r.from);
    assert_close(r.availability.business_hours, 160.0, "2–6, 9–13, 16–20 and 23 November");
}

#[test]
fn a_month_across_the_autumn_clock_change_follows_local_time() {
    let config = london();
    let state = down();
    let entries = [
        // The trail reaches back before the month (the last teardown of September).
        entry("2026-09-30T17:00:00.500Z", Source::Schedule, vec![]),
        // Friday 23 October (BST: business hours 07:00–17:00 UTC), up from 07:30 to 18:30 local.
        entry(
            "2026-10-23T17:30:00.500Z",
            Source::Schedule,
            vec![up("2026-10-23T06:30:00.500Z", "2026-10-23T17:30:00.500Z", false)],
        ),
        entry(
            "2026-10-23T07:05:00.500Z",
            Source::Health,
            vec![health("2026-10-23T06:50:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
        ),
        entry(
            "2026-10-23T07:05:00.750Z",
            Source::Health,
            vec![health("2026-10-23T07:02:00.500Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
        ),
        // Over the night the clocks go back, on demand.
        entry(
            "2026-10-25T02:00:00.500Z",
            Source::Schedule,
            vec![up("2026-10-24T22:00:00.500Z", "2026-10-25T02:00:00.500Z", true)],
        ),
        // Monday 26 October (GMT: business hours 08:00–18:00 UTC), the same local times.
        entry(
            "2026-10-26T18:30:00.500Z",
            Source::Schedule,
            vec![up("2026-10-26T07:30:00.500Z", "2026-10-26T18:30:00.500Z", false)],
        ),
        entry(
            "2026-10-26T08:05:00.500Z",
            Source::Health,
            vec![health("2026-10-26T07:50:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
        ),
        entry(
            "2026-10-26T08:05:00.750Z",
            Source::Health,
            vec![health("2026-10-26T08:01:00.500Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
        ),
    ];
    let r = run(Case {
        month: "2026-10",
        entries: &entries,
        state: &state,
        bill: None,
        config: &config,
        now: "2026-11-05T12:00:00.250Z",
    });
    assert_eq!(
        (r.from, r.to, r.through),
        (utc("2026-09-30T23:00:00Z"), utc("2026-11-01T00:00:00Z"), utc("2026-11-01T00:00:00Z"))
    );
    assert_eq!(r.days.len(), 31);
    let length = |d: &Day| (d.to - d.from).num_hours();
    assert_eq!(r.days.iter().map(length).sum::<i64>(), 31 * 24 + 1);
    let sunday = day(&r, "2026-10-25");
    assert_eq!(
        (sunday.from, sunday.to, length(sunday)),
        (utc("2026-10-24T23:00:00Z"), utc("2026-10-26T00:00:00Z"), 25)
    );
    assert!(r.days.iter().filter(|d| d.date != sunday.date).all(|d| length(d) == 24));
    // 22 working days of 10 hours.
    assert_eq!(r.days.iter().filter(|d| d.working_day).count(), 22);
    assert_close(r.availability.business_hours, 220.0, "business hours");

    use UpKind::*;
    let span = |from: &str, to: &str, kind| DaySpan { from: utc(from), to: utc(to), kind };
    #[rustfmt::skip]
    let days: [(&str, Vec<DaySpan>); 4] = [
        ("2026-10-23", vec![
            span("2026-10-23T06:30:00.500Z", "2026-10-23T07:00:00Z", Held),
            span("2026-10-23T07:00:00Z", "2026-10-23T17:00:00Z", Scheduled),
            span("2026-10-23T17:00:00Z", "2026-10-23T17:30:00.500Z", Held),
        ]),
        ("2026-10-24", vec![span("2026-10-24T22:00:00.500Z", "2026-10-24T23:00:00Z", OnDemand)]),
        ("2026-10-25", vec![span("2026-10-24T23:00:00Z", "2026-10-25T02:00:00.500Z", OnDemand)]),
        ("2026-10-26", vec![
            span("2026-10-26T07:30:00.500Z", "2026-10-26T08:00:00Z", Held),
            span("2026-10-26T08:00:00Z", "2026-10-26T18:00:00Z", Scheduled),
            span("2026-10-26T18:00:00Z", "2026-10-26T18:30:00.500Z", Held),
        ]),
    ];
    for (date, spans) in days {
        assert_eq!(day(&r, date).up, spans, "{date}");
    }
    assert_close(r.up_hours.scheduled, 20.0, "scheduled");
    assert_close(r.up_hours.held, 2.0, "held");
    assert_close(r.up_hours.on_demand, 4.0, "on demand");
    // Of the 12- and 11-minute outages, 2 min 0.5 s and 1 min 0.5 s fall in business hours.
    assert_close(r.availability.outage_hours, 181.0 / 3600.0, "outage hours");
    assert_close_opt(r.availability.percent, Some(100.0 * (1.0 - 181.0 / 3600.0 / 220.0)), "availability");
    assert_close_opt(r.mttr_minutes, Some(11.5), "mttr");
    // The 25-hour day costs 25 hours of logs, and the task's 23:00 to 02:00:00.5 UTC.
    assert_close(sunday.cost_gbp, 0.5 * (0.01 * 25.0 + 0.2 * (3.0 + 0.5 / 3600.0)), "the long day's cost");
}

#[test]
fn a_deployment_counts_on_the_local_day_and_in_the_month_it_finished() {
    let config = london();
    let state = down();
    let finished = |sha: &str, started: &str, done: &str| {
        entry(
            done,
            Source::Webhook,
            vec![deploy(sha, Some(DeployKind::Backend), Succeeded, started, Some(started), done, None)],
        )
    };
    let entries = [
        // Across local midnight in November (GMT).
        finished("midnight", "2026-11-10T23:55:00.250Z", "2026-11-11T00:07:00.250Z"),
        // Across October's last midnight: November's.
        finished("october", "2026-10-31T23:58:00.500Z", "2026-11-01T00:05:00.500Z"),
        // 00:05 on 1 July in BST is 23:05 UTC on 30 June: July's.
        finished("july", "2026-06-30T22:58:00.500Z", "2026-06-30T23:05:00.500Z"),
    ];
    let report = |m: &str| {
        run(Case {
            month: m,
            entries: &entries,
            state: &state,
            bill: None,
            config: &config,
            now: "2026-12-05T00:00:00.500Z",
        })
    };
    let shas = |r: &MonthReport, date: &str| day(r, date).deploys.iter().map(|d| d.sha.clone()).collect::<Vec<_>>();
    #[rustfmt::skip]
    let cases: &[(&str, u32, &[(&str, &[&str])])] = &[
        ("2026-11", 2, &[("2026-11-01", &["october"]), ("2026-11-10", &[]), ("2026-11-11", &["midnight"])]),
        ("2026-10", 0, &[("2026-10-31", &[])]),
        ("2026-07", 1, &[("2026-07-01", &["july"])]),
        ("2026-06", 0, &[("2026-06-30", &[])]),
    ];
    for (m, count, days) in cases {
        let r = report(m);
        assert_eq!(r.deployments.count, *count, "{m}");
        for (date, expected) in *days {
            assert_eq!(shas(&r, date), *expected, "{m} {date}");
        }
    }
    let november = report("2026-11");
    assert_close_opt(day(&november, "2026-11-11").deploys[0].minutes, Some(12.0), "midnight");
    assert_close_opt(day(&november, "2026-11-01").deploys[0].minutes, Some(7.0), "october");
    let july = report("2026-07");
    assert_eq!(july.from, utc("2026-06-30T23:00:00Z"));
    assert_close_opt(day(&july, "2026-07-01").deploys[0].minutes, Some(7.0), "july");
}

#[test]
fn outages_begun_before_the_month_are_clipped_and_open_ones_run_to_now() {
    let config = london();
    let mut state = down();
    state.phase = Phase::Up;
    state.started_at = Some(utc("2026-11-16T08:00:00.250Z"));
    state.health.status = HealthStatus::Unhealthy;
    state.health.since = Some(utc("2026-11-16T09:00:00.500Z"));
    let now = "2026-11-16T09:30:00.750Z";
    let recorded = [
        entry(
            "2026-10-31T23:55:00.250Z",
            Source::Health,
            vec![health("2026-10-31T23:50:00.250Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
        ),
        entry(
            "2026-11-01T00:10:00.250Z",
            Source::Health,
            vec![health("2026-11-01T00:10:00.250Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
        ),
        entry(
            "2026-11-16T09:05:00.500Z",
            Source::Health,
            vec![health("2026-11-16T09:00:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
        ),
    ];
    // The same open outage when the trail holds its start, and when only the state does.
    for entries in [&recorded[..], &recorded[..2]] {
        let r = run(Case { month: "2026-11", entries, state: &state, bill: None, config: &config, now });
        assert_eq!(r.through, utc(now));
        let outages: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = r.outages.iter().map(|o| (o.from, o.to)).collect();
        assert_eq!(
            outages,
            [
                (utc("2026-11-01T00:00:00Z"), Some(utc("2026-11-01T00:10:00.250Z"))),
                (utc("2026-11-16T09:00:00.500Z"), None)
            ]
        );
        assert_close(r.outages[0].minutes, 10.0 + 0.25 / 60.0, "clipped");
        assert_close(r.outages[1].minutes, 30.0 + 0.25 / 60.0, "open");
        // Only the ended one, unclipped: 20 minutes.
        assert_close_opt(r.mttr_minutes, Some(20.0), "mttr");
        assert_eq!(day(&r, "2026-11-01").outages, r.outages[..1]);
        assert_eq!(day(&r, "2026-11-16").outages, r.outages[1..]);
        // The open window runs to now, in business hours.
        assert_eq!(
            day(&r, "2026-11-16").up,
            [DaySpan { from: utc("2026-11-16T08:00:00.250Z"), to: utc(now), kind: UpKind::Scheduled }]
        );
        assert_close(r.up_hours.scheduled, 1.5 + 0.5 / 3600.0, "open window");
        // Ten working days, then 08:00 to now; the Sunday-midnight outage is outside them.
        let business = 101.5 + 0.75 / 3600.0;
        assert_close(r.availability.business_hours, business, "business hours");
        assert_close(r.availability.outage_hours, (30.0 * 60.0 + 0.25) / 3600.0, "outage hours");
        assert_eq!(target(&r, "mttr").value, "20.0 min (2 outages)");
        assert_eq!(target(&r, "mttr").met, Some(false));
    }
    // A teardown ends an outage the state alone knew of.
    let teardown = [entry("2026-11-16T09:20:00.500Z", Source::Operator, vec![phase(Phase::Up, Phase::Down)])];
    let r = run(Case { month: "2026-11", entries: &teardown, state: &state, bill: None, config: &config, now });
    assert_eq!(r.outages.iter().map(|o| o.to).collect::<Vec<_>>(), [Some(utc("2026-11-16T09:20:00.500Z"))]);
    assert_close_opt(r.mttr_minutes, Some(20.0), "ended by the teardown");
}

#[test]
fn bill_days_replace_the_models_on_those_days() {
    let config = london();
    let state = down();
    let entries = [
        entry(
            "2026-11-02T18:00:00.250Z",
            Source::Schedule,
            vec![up("2026-11-02T08:00:00.250Z", "2026-11-02T18:00:00.250Z", false)],
        ),
        entry(
            "2026-11-03T18:00:00.250Z",
            Source::Schedule,
            vec![up("2026-11-03T08:00:00.250Z", "2026-11-03T18:00:00.250Z", false)],
        ),
    ];
    let service = |service: &str, usd| ServiceCost { service: service.into(), usd };
    let bill = Bill {
        days: vec![
            ("2026-11-02".parse().unwrap(), vec![service("AWS Fargate", 1.5), service("Elastic Load Balancing", 0.5)]),
            // A row without a figure is no data: the model's.
            ("2026-11-03".parse().unwrap(), vec![]),
            // Not yet: a future day costs nothing.
            ("2026-11-20".parse().unwrap(), vec![service("AWS Fargate", 5.0)]),
        ],
    };
    let empty = Bill { days: vec![("2026-11-02".parse().unwrap(), vec![])] };
    let model_day = 0.5 * (0.2 * 10.0 + 0.01 * 24.0);
    #[rustfmt::skip]
    let cases: [(&str, Option<&Bill>, CostSource, f64); 3] = [
        ("with the bill", Some(&bill), CostSource::CostExplorer, 1.0),
        ("without", None, CostSource::Model, model_day),
        ("with an empty bill", Some(&empty), CostSource::Model, model_day),
    ];
    for (name, bill, source, monday) in cases {
        let r = run(Case {
            month: "2026-11",
            entries: &entries,
            state: &state,
            bill,
            config: &config,
            now: "2026-11-16T12:00:00.250Z",
        });
        assert_eq!(r.cost.source, source, "{name}");
        assert_close(day(&r, "2026-11-02").cost_gbp, monday, name);
        assert_close(day(&r, "2026-11-03").cost_gbp, model_day, name);
        assert_eq!(day(&r, "2026-11-20").cost_gbp, 0.0, "{name}");
        let sum: f64 = r.days.iter().map(|d| d.cost_gbp).sum();
        assert_close(r.cost.gbp, sum, name);
        assert_close(r.cost.usd * 0.5, sum, name);
        assert_close(r.days.last().unwrap().cumulative_gbp, sum, name);
    }
}

#[test]
fn stack_mode_bills_what_stops_with_the_stack_for_the_up_hours_only() {
    let stack = Config::from_lookup(|k| match k {
        "STAGING_TIME_ZONE" => Some("Europe/London".into()),
        "STAGING_TEARDOWN" => Some("stack".into()),
        "STAGING_PAUSE_STACK" => Some("staging-pause".into()),
        _ => None,
    })
    .unwrap();
    let mut model = model();
    model.components.push(Component {
        name: "alb".into(),
        hourly_usd: 0.1,
        billing: Billing::StopsWithStack,
        basis: "test".into(),
    });
    let state = down();
    let entries = [entry(
        "2026-11-02T18:00:00.250Z",
        Source::Schedule,
        vec![up("2026-11-02T08:00:00.250Z", "2026-11-02T18:00:00.250Z", false)],
    )];
    for (config, alb_hours) in [(&stack, 10.0), (&london(), 24.0)] {
        let r = month_report(&MonthInput {
            month: month("2026-11"),
            entries: &entries,
            state: &state,
            bill: None,
            model: &model,
            config,
            now: utc("2026-12-01T00:00:00Z"),
        });
        assert_close(day(&r, "2026-11-02").cost_gbp, 0.5 * (0.2 * 10.0 + 0.01 * 24.0 + 0.1 * alb_hours), "alb");
    }
}

#[test]
fn odd_inputs_give_figures_not_panics() {
    let config = london();
    let mut running = down();
    running.phase = Phase::Up;
    running.started_at = Some(DateTime::<Utc>::MIN_UTC);
    running.started_on_demand = true;
    running.health.status = HealthStatus::Unhealthy;
    running.health.since = Some(DateTime::<Utc>::MIN_UTC);
    let entries = [
        // A window ending before it began, a deployment finishing before it was
        // requested, a negative run, health the wrong way round.
        entry(
            "2026-11-05T12:00:00.500Z",
            Source::Schedule,
            vec![up("2026-11-05T12:00:00.500Z", "2026-11-05T08:00:00.500Z", false)],
        ),
        entry(
            "2026-11-05T12:00:00.500Z",
            Source::Webhook,
            vec![deploy("back", None, Succeeded, "2026-11-05T12:00:00.500Z", None, "2026-11-05T11:00:00.500Z", None)],
        ),
        entry(
            "2026-11-05T12:00:00.500Z",
            Source::Webhook,
            vec![deploy(
                "neg",
                Some(DeployKind::Full),
                Succeeded,
                "2026-11-05T11:00:00.500Z",
                None,
                "2026-11-05T11:30:00.500Z",
                Some(-5),
            )],
        ),
        entry(
            "2026-11-05T12:00:00.500Z",
            Source::Health,
            vec![health("2026-11-05T13:00:00.500Z", HealthStatus::Unhealthy, HealthStatus::Healthy)],
        ),
        entry(
            "2026-11-05T11:00:00.500Z",
            Source::Health,
            vec![health("2026-11-05T11:00:00.500Z", HealthStatus::Healthy, HealthStatus::Unhealthy)],
        ),
        // Two windows overlapping: the time counts once.
        entry(
            "2026-11-06T12:00:00.500Z",
            Source::Schedule,
            vec![up("2026-11-06T09:00:00.500Z", "2026-11-06T12:00:00.500Z", false)],
        ),
        entry(
            "2026-11-06T13:00:00.500Z",
            Source::Schedule,
            vec![up("2026-11-06T11:00:00.500Z", "2026-11-06T13:00:00.500Z", false)],
        ),
    ];
    let months = [
        BudgetPeriod::new(0, 1).unwrap(),
        BudgetPeriod::new(i32::MAX, 12).unwrap(),
        BudgetPeriod::new(-5000, 3).unwrap(),
        month("9999-12"),
        month("2026-11"),
    ];
    let instants = [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        utc("2026-11-06T12:30:00.250Z"),
        utc("2026-10-01T00:00:00.5Z"),
    ];
    let model = model();
    for m in months {
        for now in instants {
            for state in [&down(), &running] {
                for entries in [&entries[..], &[]] {
                    let r = month_report(&MonthInput {
                        month: m,
                        entries,
                        state,
                        bill: None,
                        model: &model,
                        config: &config,
                        now,
                    });
                    assert!(r.from <= r.through && r.through <= r.to, "{m} {now}");
                    assert_eq!(r.targets.len(), 10);
                }
            }
        }
    }
    let r = month_report(&MonthInput {
        month: month("2026-11"),
        entries: &entries,
        state: &down(),
        bill: None,
        model: &model,
        config: &config,
        now: utc("2026-12-01T00:00:00Z"),
    });
    assert_eq!(r.deployments.count, 2);
    assert_eq!(r.deployments.by_kind[0].count, 0, "a negative run is no duration");
    assert!(r.deployments.by_kind.iter().all(|k| k.p90_minutes.is_none()));
    assert_eq!(r.days[4].deploys.iter().map(|d| d.minutes).collect::<Vec<_>>(), [None, None]);
    assert_close(r.up_hours.total, 4.0, "09:00 to 13:00 once");
    assert_eq!(
        r.outages.iter().map(|o| (o.from, o.to)).collect::<Vec<_>>(),
        [(utc("2026-11-05T11:00:00.500Z"), Some(utc("2026-11-05T13:00:00.500Z")))]
    );
    // A month not begun: every day to come, nothing spent.
    let r = month_report(&MonthInput {
        month: month("2026-12"),
        entries: &entries,
        state: &running,
        bill: None,
        model: &model,
        config: &config,
        now: utc("2026-11-06T12:30:00.250Z"),
    });
    assert!(r.days.iter().all(|d| d.future && d.cost_gbp == 0.0));
    assert_eq!((r.through, r.cost.gbp, r.outages.len()), (r.from, 0.0, 0));
}

#[test]
fn a_recorded_window_wins_over_the_open_one_with_the_same_start() {
    let config = london();
    let mut state = down();
    state.phase = Phase::Up;
    state.started_at = Some(utc("2026-11-02T08:00:00.250Z"));
    let entries = [entry(
        "2026-11-02T09:00:00.250Z",
        Source::Schedule,
        vec![up("2026-11-02T08:00:00.250Z", "2026-11-02T09:00:00.250Z", false)],
    )];
    let r = run(Case {
        month: "2026-11",
        entries: &entries,
        state: &state,
        bill: None,
        config: &config,
        now: "2026-11-02T12:00:00.250Z",
    });
    assert_close(r.up_hours.total, 1.0, "the recorded hour, not four");
    let r = run(Case {
        month: "2026-11",
        entries: &[],
        state: &state,
        bill: None,
        config: &config,
        now: "2026-11-02T12:00:00.250Z",
    });
    assert_close(r.up_hours.scheduled, 4.0, "the open window");
}

#[test]
fn nearest_rank_table() {
    #[rustfmt::skip]
    let cases: &[(&[f64], usize, Option<f64>)] = &[
        (&[], 50, None),
        (&[3.0], 50, Some(3.0)),
        (&[3.0], 90, Some(3.0)),
        (&[1.0, 2.0], 50, Some(1.0)),
        (&[1.0, 2.0], 90, Some(2.0)),
        (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90, Some(9.0)),
        (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0], 90, Some(10.0)),
    ];
    for (sorted, p, expected) in cases {
        assert_eq!(nearest_rank(sorted, *p), *expected, "{sorted:?} p{p}");
    }
}

fn wake(requested: &str, ready: Option<&str>, held_until: &str, ended: Option<&str>, deep: bool) -> Wake {
    Wake {
        by: "ada".into(),
        requested_at: utc(requested),
        stack_at: None,
        tasks_at: None,
        targets_at: None,
        ready_at: ready.map(utc),
        held_until: utc(held_until),
        ended_at: ended.map(utc),
        from_deep_sleep: deep,
    }
}

/// November 2026 in London (GMT: local is UTC): four wakes in the month, one each side.
fn november_wakes() -> Vec<Wake> {
    vec![
        // Ended early the day before the month: not November's.
        wake("2026-10-31T23:59:59.999999Z", None, "2026-11-01T01:59:59.999999Z", Some("2026-11-01T00:30:00Z"), false),
        // Ready in 45.5 s, held to the end.
        wake(
            "2026-11-03T19:02:03.456789Z",
            Some("2026-11-03T19:02:48.956789Z"),
            "2026-11-03T21:02:03.456789Z",
            None,
            false,
        ),
        // From a deep sleep: ready in 612.000001 s, stopped idle 1 h 15 min before its hold's end.
        wake(
            "2026-11-10T20:00:00.000001Z",
            Some("2026-11-10T20:10:12.000002Z"),
            "2026-11-10T22:00:00.000001Z",
            Some("2026-11-10T20:45:00.000001Z"),
            true,
        ),
        // Ready in 70.25 s, ended at its hold's end: not early.
        wake(
            "2026-11-17T07:30:00.25Z",
            Some("2026-11-17T07:31:10.5Z"),
            "2026-11-17T09:30:00.25Z",
            Some("2026-11-17T09:30:00.25Z"),
            false,
        ),
        // Never ready; ended 1 h 40 min early (a budget lock).
        wake("2026-11-24T18:00:00.75Z", None, "2026-11-24T20:00:00.75Z", Some("2026-11-24T18:20:00.75Z"), false),
        // December's first instant: not November's.
        wake(
            "2026-12-01T00:00:00Z",
            Some("2026-12-01T00:01:00Z"),
            "2026-12-01T02:00:00Z",
            Some("2026-12-01T00:30:00Z"),
            false,
        ),
    ]
}

#[test]
fn wakes_of_the_month_table() {
    let config = london();
    let from = utc("2026-11-01T00:00:00Z");
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<Wake>, &str, Wakes)> = vec![
        ("no wakes", vec![], "2026-12-02T09:00:00.5Z", Wakes { since: from, ..Wakes::default() }),
        ("the month's four: median and p90 by nearest rank, two ended early", november_wakes(), "2026-12-02T09:00:00.5Z",
            Wakes { since: from, count: 4, from_deep_sleep: 1, ready: 3, median_seconds: Some(70.25),
                p90_seconds: Some(612.000001), ended_early: 2, hours_saved: 1.25 + 100.0 / 60.0 }),
        ("reported late: only the wakes of the last 35 days, the one before kept or not",
            vec![
                wake("2026-11-05T12:00:00.4Z", Some("2026-11-05T12:00:30.4Z"), "2026-11-05T14:00:00.4Z", Some("2026-11-05T13:00:00.4Z"), false),
                wake("2026-11-05T12:00:00.5Z", Some("2026-11-05T12:00:30.5Z"), "2026-11-05T14:00:00.5Z", Some("2026-11-05T13:30:00.5Z"), false),
            ],
            "2026-12-10T12:00:00.5Z",
            Wakes { since: utc("2026-11-05T12:00:00.5Z"), count: 1, from_deep_sleep: 0, ready: 1, median_seconds: Some(30.0),
                p90_seconds: Some(30.0), ended_early: 1, hours_saved: 0.5 }),
        ("reported so late that no wake of the month is kept", november_wakes(), "2027-01-06T00:00:00.5Z",
            Wakes { since: utc("2026-12-01T00:00:00Z"), ..Wakes::default() }),
        ("a month in progress: a wake at `through` is not yet",
            vec![
                wake("2026-11-15T11:00:00.25Z", Some("2026-11-15T11:01:00.25Z"), "2026-11-15T13:00:00.25Z", None, false),
                wake("2026-11-15T12:00:00.25Z", None, "2026-11-15T14:00:00.25Z", None, false),
            ],
            "2026-11-15T12:00:00.250Z",
            Wakes { since: from, count: 1, from_deep_sleep: 0, ready: 1, median_seconds: Some(60.0),
                p90_seconds: Some(60.0), ended_early: 0, hours_saved: 0.0 }),
        ("odd records: ready before the request is unknown; an end before it saves the whole hold",
            vec![wake("2026-11-20T10:00:00.5Z", Some("2026-11-20T09:59:59.5Z"), "2026-11-20T12:00:00.5Z", Some("2026-11-20T09:00:00.5Z"), false)],
            "2026-12-02T09:00:00.5Z",
            Wakes { since: from, count: 1, from_deep_sleep: 0, ready: 0, median_seconds: None,
                p90_seconds: None, ended_early: 1, hours_saved: 2.0 }),
    ];
    for (name, wakes, now, expected) in cases {
        let mut state = down();
        state.wakes = wakes;
        let r = run(Case { month: "2026-11", entries: &[], state: &state, bill: None, config: &config, now });
        let w = &r.wakes;
        assert_eq!(
            (w.since, w.count, w.from_deep_sleep, w.ready, w.ended_early),
            (expected.since, expected.count, expected.from_deep_sleep, expected.ready, expected.ended_early),
            "{name}"
        );
        assert_close_opt(w.median_seconds, expected.median_seconds, name);
        assert_close_opt(w.p90_seconds, expected.p90_seconds, name);
        assert_close(w.hours_saved, expected.hours_saved, name);
    }
}

#[test]
fn wakes_for_people_table() {
    let wakes = |count, deep, ready, median, p90, early, saved| Wakes {
        since: utc("2026-11-01T00:00:00Z"),
        count,
        from_deep_sleep: deep,
        ready,
        median_seconds: median,
        p90_seconds: p90,
        ended_early: early,
        hours_saved: saved,
    };
    #[rustfmt::skip]
    let cases = [
        (wakes(0, 0, 0, None, None, 0, 0.0), "no wakes"),
        (wakes(4, 1, 3, Some(70.25), Some(612.000001), 2, 1.25 + 100.0 / 60.0),
            "4 wakes (1 from a deep sleep), requested → ready median 70 s, p90 10.2 min (3 ready); 2.9 h saved by idle stops (2 wakes ended early)"),
        (wakes(1, 0, 0, None, None, 0, 0.0), "1 wake, none seen ready; 0.0 h saved by idle stops (0 wakes ended early)"),
        (wakes(2, 0, 2, Some(89.4), Some(90.0), 1, 0.5),
            "2 wakes, requested → ready median 89 s, p90 1.5 min (2 ready); 0.5 h saved by idle stops (1 wake ended early)"),
    ];
    for (w, text) in cases {
        assert_eq!(w.summary(), text);
    }
}
