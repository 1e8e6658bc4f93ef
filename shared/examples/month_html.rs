//! Writes the month page for a made-up October 2026 (Europe/London, the clocks going back
//! on the 25th, figures through the 28th) to a file, to look at in a browser:
//!
//! ```text
//! cargo run -p staging-core --example month_html -- /tmp/month.html
//! ```

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use staging_core::audit::DeployKind;
use staging_core::model::state::DeploymentStatus;
use staging_core::report::month::{
    Availability, BudgetEvents, CostSource, Day, DayDeploy, DaySpan, Deployments, KindDurations, Lifecycle, MonthCost,
    MonthReport, Outage, Target, UpHours, UpKind,
};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "/tmp/month.html".to_string());
    std::fs::write(&path, staging_core::report::month_html::render(&october())).unwrap();
    eprintln!("wrote {path}");
}

fn october() -> MonthReport {
    let through = utc("2026-10-28T14:20:00Z");
    let mut tally = Tally::default();
    let days: Vec<Day> = (1..=31u32).map(|d| day(d, through, &mut tally)).collect();
    let Tally { scheduled, on_demand, held, cumulative, .. } = tally;
    let deployments = deployments(&tally);
    let count = deployments.count;
    let targets = targets(&tally);
    MonthReport {
        environment: "staging".into(),
        month: "2026-10".into(),
        time_zone: "Europe/London".into(),
        from: days[0].from,
        to: days[30].to,
        through,
        decisions: 1187,
        deployments,
        up_hours: UpHours { scheduled, on_demand, held, total: scheduled + on_demand + held },
        availability: Availability {
            since: utc("2026-10-01T00:00:00Z"),
            business_hours: 190.0,
            outage_hours: 0.92,
            percent: Some(99.5),
        },
        outages: tally.outages,
        mttr_minutes: Some(27.5),
        budget: BudgetEvents { alerts: 1, locks: 0, unlocks: 0 },
        cost: MonthCost {
            source: CostSource::CostExplorer,
            gbp: cumulative,
            usd: cumulative * 1.27,
            per_deployment_gbp: Some(cumulative / f64::from(count)),
            target_gbp: 5.0,
        },
        lifecycle: Lifecycle { transitions: 44, automated: 43, percent: Some(97.7) },
        wakes: Default::default(),
        targets,
        days,
    }
}

/// What the days add up to, for the month's figures.
#[derive(Default)]
struct Tally {
    outages: Vec<Outage>,
    cumulative: f64,
    scheduled: f64,
    on_demand: f64,
    held: f64,
    succeeded: u32,
    failed: u32,
    cancelled: u32,
}

impl Tally {
    /// Up from `a` to `b` (cut at `end`) on `day`, counted by kind.
    fn up(&mut self, day: &mut Day, end: DateTime<Utc>, a: DateTime<Utc>, b: DateTime<Utc>, kind: UpKind) {
        let b = b.min(end);
        if a < b {
            let h = (b - a).num_minutes() as f64 / 60.0;
            match kind {
                UpKind::Scheduled => self.scheduled += h,
                UpKind::OnDemand => self.on_demand += h,
                UpKind::Held => self.held += h,
            }
            day.up.push(DaySpan { from: a, to: b, kind });
        }
    }
}

/// The business hours' time zone.
const LONDON: Tz = chrono_tz::Europe::London;

fn local(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    date.and_hms_opt(h, m, 0).unwrap().and_local_timezone(LONDON).unwrap().with_timezone(&Utc)
}

/// The `d`th of October: its up-time, deployments, outage and cost, up to `through`.
fn day(d: u32, through: DateTime<Utc>, tally: &mut Tally) -> Day {
    let date = NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
    let from = local(date, 0, 0);
    let to = local(date.succ_opt().unwrap(), 0, 0);
    let working_day = date.weekday().number_from_monday() <= 5;
    let future = from >= through;
    let mut day = Day {
        date,
        from,
        to,
        working_day,
        up: vec![],
        deploys: vec![],
        outages: vec![],
        cost_gbp: 0.0,
        cumulative_gbp: 0.0,
        future,
    };
    if !future {
        let end = through.min(to);
        if working_day {
            tally.up(&mut day, end, local(date, 8, 0), local(date, 18, 0), UpKind::Scheduled);
            if d % 6 == 2 {
                tally.up(&mut day, end, local(date, 18, 0), local(date, 20, 45), UpKind::Held);
            }
            if d % 9 == 4 {
                tally.up(&mut day, end, local(date, 6, 30), local(date, 7, 50), UpKind::OnDemand);
            }
            deploys(&mut day, d, end, tally);
        } else if d == 25 {
            sunday_push(&mut day, end, tally);
        }
        outage(&mut day, d, tally);
        let hours: f64 = day.up.iter().map(|s| (s.to - s.from).num_minutes() as f64 / 60.0).sum();
        day.cost_gbp = 0.015 * hours + 0.035;
    }
    tally.cumulative += day.cost_gbp;
    day.cumulative_gbp = tally.cumulative;
    day
}

/// A working day's deployments: one to three, some failed or cancelled.
fn deploys(day: &mut Day, d: u32, end: DateTime<Utc>, tally: &mut Tally) {
    let shas = ["a1b2c3d", "9f8e7d6", "4c4c4c1", "be11e5a", "0ddba11", "f00dcafe", "decade5", "c0ffee0"];
    let kinds =
        [DeployKind::Backend, DeployKind::Frontend, DeployKind::Full, DeployKind::Backend, DeployKind::Infrastructure];
    for (i, minute) in [(0, 10 * 60 + 12), (1, 14 * 60 + 47), (2, 16 * 60 + 5)].into_iter().take(1 + (d as usize % 3)) {
        let n = (d as usize) * 3 + i;
        let status = match n % 11 {
            3 => DeploymentStatus::Failed,
            7 => DeploymentStatus::Cancelled,
            _ => DeploymentStatus::Succeeded,
        };
        match status {
            DeploymentStatus::Failed => tally.failed += 1,
            DeploymentStatus::Cancelled => tally.cancelled += 1,
            _ => tally.succeeded += 1,
        }
        let finished_at = local(day.date, minute / 60, minute % 60);
        if finished_at < end {
            day.deploys.push(DayDeploy {
                finished_at,
                sha: format!("{}{:04x}", shas[n % shas.len()], n),
                kind: Some(kinds[n % kinds.len()]),
                status,
                minutes: Some(3.0 + (n % 7) as f64 * 1.35),
                rolled_back: false,
            });
        }
    }
}

/// The Sunday the clocks go back: a push brings it up for the afternoon.
fn sunday_push(day: &mut Day, end: DateTime<Utc>, tally: &mut Tally) {
    tally.up(day, end, utc("2026-10-25T13:00:00.250Z"), utc("2026-10-25T16:30:00Z"), UpKind::OnDemand);
    day.deploys.push(DayDeploy {
        finished_at: utc("2026-10-25T13:06:10Z"),
        sha: "5eed5eed".into(),
        kind: Some(DeployKind::Backend),
        status: DeploymentStatus::Succeeded,
        minutes: Some(4.2),
        rolled_back: false,
    });
    tally.succeeded += 1;
}

/// Two outages: the 14th before noon, the 27th in the afternoon.
fn outage(day: &mut Day, d: u32, tally: &mut Tally) {
    if d == 14 || d == 27 {
        let (a, b) = if d == 14 {
            (local(day.date, 11, 5), local(day.date, 11, 48))
        } else {
            (local(day.date, 15, 30), local(day.date, 15, 42))
        };
        let outage = Outage { from: a, to: Some(b), minutes: (b - a).num_minutes() as f64 };
        day.outages.push(outage.clone());
        tally.outages.push(outage);
    }
}

fn deployments(tally: &Tally) -> Deployments {
    let Tally { succeeded, failed, cancelled, .. } = *tally;
    Deployments {
        count: succeeded + failed + cancelled,
        succeeded,
        failed,
        cancelled,
        rolled_back: 0,
        success_rate: Some(100.0 * f64::from(succeeded) / f64::from(succeeded + failed)),
        by_kind: DeployKind::ALL
            .iter()
            .map(|&kind| KindDurations {
                kind,
                count: 9,
                median_minutes: Some(5.4),
                p90_minutes: Some(9.1),
                target_minutes: 10.0,
            })
            .collect(),
    }
}

fn targets(tally: &Tally) -> Vec<Target> {
    let Tally { succeeded, failed, cancelled, cumulative, .. } = *tally;
    let count = succeeded + failed + cancelled;
    let rate = 100.0 * f64::from(succeeded) / f64::from(succeeded + failed);
    let target = |key: &'static str, name: &'static str, target: &str, value: &str, met: Option<bool>| Target {
        key,
        name,
        target: target.into(),
        value: value.into(),
        met,
    };
    vec![
        target(
            "deploy_success_rate",
            "Deployment success rate",
            "> 99.5 %",
            &format!("{rate:.1} % ({succeeded} of {})", succeeded + failed),
            Some(rate > 99.5),
        ),
        target("full_deploy_minutes", "Full deployment, median", "< 15 min", "7.9 min (9)", Some(true)),
        target("backend_deploy_minutes", "Backend deployment, median", "< 10 min", "5.4 min (18)", Some(true)),
        target("frontend_deploy_minutes", "Frontend deployment, median", "< 5 min", "5.6 min (9)", Some(false)),
        target("infrastructure_deploy_minutes", "Infrastructure deployment, median", "< 20 min", "no data", None),
        target("availability", "Availability in business hours", "> 99 %", "99.5 %", Some(true)),
        target("mttr", "Mean time to recovery", "< 30 min", "27.5 min (2 outages)", Some(true)),
        target(
            "cost_per_deployment",
            "Cost per deployment",
            "< £0.10",
            &format!("£{:.2}", cumulative / f64::from(count)),
            Some(cumulative / f64::from(count) < 0.10),
        ),
        target("month_cost", "Month cost", "< £5.00", &format!("£{cumulative:.2}"), Some(cumulative < 5.0)),
        target("automated_lifecycle", "Automated lifecycle", "> 95 %", "no data", None),
    ]
}
