use super::*;
use crate::report::month::{
    Availability, BudgetEvents, CostSource, DaySpan, Deployments, KindDurations, Lifecycle, MonthCost, Target, UpHours,
    Wakes,
};
use chrono::NaiveDate;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const ENVIRONMENT: &str = "staging <b>&\"x'";

/// October 2026 in Europe/London: BST until the 25th (a 25-hour day), figures
/// through the 28th at noon, so the 29th to the 31st are in the future.
fn report() -> MonthReport {
    let tz: Tz = "Europe/London".parse().unwrap();
    let mut days = Vec::new();
    let mut cumulative = 0.0;
    let through = utc("2026-10-28T12:00:00.500Z");
    for d in 1..=31 {
        let date = NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let from = date.and_hms_opt(0, 0, 0).unwrap().and_local_timezone(tz).unwrap().with_timezone(&Utc);
        let to =
            date.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap().and_local_timezone(tz).unwrap().with_timezone(&Utc);
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
            if working_day {
                // 08:00–18:00 local.
                day.up.push(DaySpan {
                    from: from + chrono::Duration::hours(8),
                    to: from + chrono::Duration::hours(18),
                    kind: UpKind::Scheduled,
                });
            }
            day.cost_gbp = if working_day { 0.21 } else { 0.04 };
        }
        cumulative += day.cost_gbp;
        day.cumulative_gbp = cumulative;
        days.push(day);
    }
    // The 25-hour day (a Sunday): up on demand from 07:00:00.250 UTC (07:00 GMT) for 10 hours.
    let dst = &mut days[24];
    dst.up.push(DaySpan {
        from: utc("2026-10-25T07:00:00.250Z"),
        to: utc("2026-10-25T17:00:00.250Z"),
        kind: UpKind::OnDemand,
    });
    // A held evening on the 20th (BST: 17:00Z is 18:00 local).
    let held = &mut days[19];
    held.up.push(DaySpan {
        from: utc("2026-10-20T17:00:00Z"),
        to: utc("2026-10-20T21:30:00.750Z"),
        kind: UpKind::Held,
    });
    held.deploys = vec![
        DayDeploy {
            finished_at: utc("2026-10-20T09:14:30.125Z"),
            sha: "a1b2c3d4e5f6".into(),
            kind: Some(DeployKind::Backend),
            status: DeploymentStatus::Succeeded,
            minutes: Some(4.2),
            rolled_back: false,
        },
        DayDeploy {
            finished_at: utc("2026-10-20T11:02:00Z"),
            sha: "<sha>&".into(),
            kind: Some(DeployKind::Frontend),
            status: DeploymentStatus::Failed,
            minutes: Some(2.0),
            rolled_back: false,
        },
        DayDeploy {
            finished_at: utc("2026-10-20T15:40:00Z"),
            sha: "cafef00d".into(),
            kind: None,
            status: DeploymentStatus::Cancelled,
            minutes: None,
            rolled_back: false,
        },
    ];
    let outage =
        Outage { from: utc("2026-10-20T13:05:00.400Z"), to: Some(utc("2026-10-20T13:35:00.400Z")), minutes: 30.0 };
    held.outages.push(outage.clone());

    let target = |key: &'static str, name: &'static str, target: &str, value: &str, met: Option<bool>| Target {
        key,
        name,
        target: target.into(),
        value: value.into(),
        met,
    };
    MonthReport {
        environment: ENVIRONMENT.into(),
        month: "2026-10".into(),
        time_zone: "Europe/London".into(),
        from: days[0].from,
        to: days[30].to,
        through,
        decisions: 412,
        deployments: Deployments {
            count: 3,
            succeeded: 1,
            failed: 1,
            cancelled: 1,
            rolled_back: 0,
            success_rate: Some(50.0),
            by_kind: DeployKind::ALL
                .iter()
                .map(|&kind| KindDurations {
                    kind,
                    count: u32::from(kind == DeployKind::Backend),
                    median_minutes: None,
                    p90_minutes: None,
                    target_minutes: 10.0,
                })
                .collect(),
        },
        up_hours: UpHours { scheduled: 190.0, on_demand: 10.0, held: 4.5, total: 204.5 },
        availability: Availability {
            since: utc("2026-10-01T00:00:00Z"),
            business_hours: 190.0,
            outage_hours: 0.5,
            percent: Some(99.7),
        },
        outages: vec![outage],
        mttr_minutes: Some(30.0),
        budget: BudgetEvents { alerts: 1, locks: 1, unlocks: 0 },
        cost: MonthCost {
            source: CostSource::Model,
            gbp: cumulative,
            usd: cumulative * 1.27,
            per_deployment_gbp: Some(cumulative / 3.0),
            target_gbp: 5.0,
        },
        lifecycle: Lifecycle { transitions: 40, automated: 39, percent: Some(97.5) },
        wakes: Wakes { since: days[0].from, ..Wakes::default() },
        targets: vec![
            target("deploy_success_rate", "Deployment success rate", "> 99.5 %", "50.0 % (1 of 2)", Some(false)),
            target("full_deploy_minutes", "Full deployment", "< 15 min", "no data", None),
            target("backend_deploy_minutes", "Backend deployment", "< 10 min", "4.3 min", Some(true)),
            target("availability", "Availability <in hours>", "> 99 %", "99.7 %", Some(true)),
            target("month_cost", "Month cost", "< £5.00", "£4.43", Some(true)),
        ],
        days,
    }
}

/// The text between the first `open` at or after `from` and the next `close`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap_or_else(|| panic!("no {open}"));
    let end = start + text[start..].find(close).unwrap_or_else(|| panic!("no {close} after {open}"));
    &text[start..end]
}

/// Every value of `attr="…"` in `text`, in order.
fn values<'a>(text: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    text.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &text[i + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// The one element `<{tag} class="{class}"…>` in `text`: its opening tag.
fn element<'a>(text: &'a str, tag: &str, class: &str) -> &'a str {
    let open = format!("<{tag} class=\"{class}\"");
    assert_eq!(text.matches(&open).count(), 1, "{open}");
    between(text, &open, ">")
}

fn number(tag: &str, attr: &str) -> f64 {
    values(tag, &format!(" {attr}"))[0].parse().unwrap()
}

#[test]
fn one_group_a_day_in_order() {
    let report = report();
    let page = render(&report);
    let calendar = between(&page, "<svg class=\"calendar\"", "</svg>");
    assert_eq!(page.matches("<svg").count(), 2, "the calendar and the cost chart");
    assert_eq!(calendar.matches("class=\"day\"").count(), 31);
    assert_eq!(page.matches("class=\"day\"").count(), 31, "day groups only in the calendar");
    let groups: Vec<&str> =
        calendar.match_indices("<g class=\"day\" data-date=\"").map(|(i, _)| &calendar[i + 26..i + 36]).collect();
    let expected: Vec<String> = report.days.iter().map(|d| d.date.format("%Y-%m-%d").to_string()).collect();
    assert_eq!(groups, expected);
    // Every day group holds its label and its background, and closes.
    for date in &expected {
        let group = between(calendar, &format!("data-date=\"{date}\""), "</g>");
        assert_eq!(group.matches("<text class=\"date\"").count(), 1, "{date}");
        assert_eq!(group.matches("<rect class=\"bg ").count(), 1, "{date}");
    }
    let future = between(calendar, "data-date=\"2026-10-30\"", "</g>");
    assert!(future.contains("class=\"bg future\"") && future.contains("url(#future)"), "{future}");
    let sunday = between(calendar, "data-date=\"2026-10-18\"", "</g>");
    assert!(sunday.contains("class=\"bg off\""), "{sunday}");
    let today = between(calendar, "data-date=\"2026-10-28\"", "</g>");
    assert!(today.contains("<rect class=\"rest\""), "the rest of today, not yet: {today}");
}

#[test]
fn spans_deploys_and_outages_with_their_hover_text() {
    let page = render(&report());
    let day = between(&page, "data-date=\"2026-10-20\"", "</g>");
    // Local time (BST, UTC+1).
    assert!(day.contains("><title>08:00–18:00 scheduled</title>"), "{day}");
    assert!(day.contains("><title>18:00–22:30 held</title>"), "{day}");
    assert_eq!(day.matches("<rect class=\"up held\"").count(), 1);
    assert!(day.contains("<circle class=\"deploy succeeded\""));
    assert!(day.contains("<title>10:14 a1b2c3d backend 4.2 min succeeded</title>"), "{day}");
    assert!(day.contains("<circle class=\"deploy failed\""));
    assert!(day.contains("<title>12:02 &lt;sha&gt;&amp; frontend 2.0 min failed</title>"), "{day}");
    assert!(day.contains("<circle class=\"deploy cancelled\""));
    assert!(day.contains("<title>16:40 cafef00 cancelled</title>"), "{day}");
    let outage = element(day, "rect", "outage");
    // 14:05:00.4 BST on a 24-hour day.
    let x = number(outage, "x");
    let expected = BAR_X + BAR_W * (14.0 * 60.0 + 5.0 + 0.4 / 60.0) / (24.0 * 60.0);
    assert!((x - expected).abs() < 0.01, "{x} vs {expected}");
    assert!((number(outage, "width") - BAR_W * 30.0 / (24.0 * 60.0)).abs() < 0.01);
    assert!(day.contains("<title>outage 14:05–14:35 (30.0 min)</title>"), "{day}");
    // The deploy at 09:14:30.125 UTC = 10:14:30.125 BST.
    let circle = element(day, "circle", "deploy succeeded");
    let cx = number(circle, "cx");
    let expected = BAR_X + BAR_W * (10.0 * 3600.0 + 14.0 * 60.0 + 30.125) / 86400.0;
    assert!((cx - expected).abs() < 0.01, "{cx} vs {expected}");
}

#[test]
fn a_span_on_the_25_hour_day_is_placed_in_proportion() {
    let report = report();
    let day = &report.days[24];
    assert_eq!((day.to - day.from).num_hours(), 25);
    let page = render(&report);
    let group = between(&page, "data-date=\"2026-10-25\"", "</g>");
    let span = element(group, "rect", "up on_demand");
    // From 08:00:00.250 into the day (midnight was 23:00 UTC, BST) for 10 of 25 hours.
    let expected_x = BAR_X + BAR_W * (8.0 * 3600.0 + 0.25) / (25.0 * 3600.0);
    let expected_w = BAR_W * 10.0 / 25.0;
    assert!((number(span, "x") - expected_x).abs() < 0.01, "{span}: x {expected_x}");
    assert!((number(span, "width") - expected_w).abs() < 0.01, "{span}: width {expected_w}");
    // The bar still fills its width, and the day says it is 25 hours long.
    let bg = between(group, "<rect class=\"bg ", ">");
    assert!((number(bg, "width") - BAR_W).abs() < 0.01);
    assert!(group.contains(">25 h</text>"), "{group}");
    // 07:00 UTC is 07:00 GMT after the clocks went back.
    assert!(group.contains("<title>07:00–17:00 on demand</title>"), "{group}");
}

#[test]
fn one_row_a_target_in_order_with_met_missed_and_no_data() {
    let report = report();
    let page = render(&report);
    let table = between(&page, "<table class=\"figures\">", "</table>");
    let keys: Vec<&str> = values(table, "<tr data-key");
    let expected: Vec<&str> = report.targets.iter().map(|t| t.key).collect();
    assert_eq!(keys, expected);
    assert_eq!(table.matches("<tr").count(), expected.len() + 1, "the heading and a row a target");
    let row = |key: &str| between(table, &format!("data-key=\"{key}\""), "</tr>");
    assert!(row("deploy_success_rate").contains("<td class=\"missed\">✗ not met</td>"));
    assert!(row("full_deploy_minutes").contains("<td class=\"nodata\">– no data</td>"));
    assert!(row("backend_deploy_minutes").contains("<td class=\"met\">✓ met</td>"));
    assert!(row("availability").contains("Availability &lt;in hours&gt;"));
    assert!(row("deploy_success_rate").contains("&gt; 99.5 %"));
    assert!(page.contains("<p class=\"verdict missed\">3 of 5 targets met, 1 without data</p>"), "the verdict");
    let other = between(&page, "<table class=\"other\">", "</table>");
    for text in
        ["204.5 h", "3 — 1 succeeded, 1 failed, 1 cancelled", "1 alert, 1 lock, 0 unlocks", "412", "the cost model"]
    {
        assert!(other.contains(text), "{text} in {other}");
    }
}

#[test]
fn data_is_escaped_and_nothing_is_fetched() {
    let page = render(&report());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<title>Staging Control — staging &lt;b&gt;&amp;&quot;x&#39; — 2026-10</title>"));
    assert!(page.contains("<h1>Staging Control — staging &lt;b&gt;&amp;&quot;x&#39; — 2026-10</h1>"));
    assert!(!page.contains(ENVIRONMENT));
    assert!(!page.contains("<b>"));
    assert!(!page.contains("<sha>"));
    assert!(!page.to_lowercase().contains("<script"));
    let rest = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!rest.contains("http://") && !rest.contains("https://"), "nothing from elsewhere");
    assert!(!rest.contains("//"), "no protocol-relative address either");
    assert!(rest.match_indices("url(").all(|(i, _)| rest[i..].starts_with("url(#")), "only the page's own patterns");
    assert!(!rest.contains("@import") && !rest.contains("<link") && !rest.contains("<img"));
    assert_eq!(escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
}

#[test]
fn the_cost_chart_has_the_budget_line() {
    let report = report();
    let page = render(&report);
    let chart = between(&page, "<svg class=\"cost\"", "</svg>");
    let line = element(chart, "line", "budget");
    let y1 = number(line, "y1");
    assert_eq!(y1, number(line, "y2"), "horizontal");
    assert!(chart.contains(">budget £5.00</text>"));
    // A bar a day up to the figures' end, none for the future, under the line.
    let bars: Vec<&str> = values(chart, "data-date");
    assert_eq!(bars.len(), 28);
    assert_eq!(bars.last(), Some(&"2026-10-28"));
    assert!(!chart.contains("class=\"spent over\""), "£4.43 is under £5.00");
    let last = between(chart, "data-date=\"2026-10-28\"", ">");
    assert!(number(last, "y") > y1, "below the budget line (further down)");
    // The £ axis: 0 to 6 in steps of 2 (5.00 and some room above it).
    for tick in ["£0.00", "£2.00", "£4.00", "£6.00"] {
        assert!(chart.contains(&format!(">{tick}</text>")), "{tick}");
    }
}

#[test]
fn times_fall_back_to_utc_without_a_known_time_zone() {
    let mut report = report();
    report.time_zone = "Mars/Olympus_Mons".into();
    let page = render(&report);
    let day = between(&page, "data-date=\"2026-10-20\"", "</g>");
    assert!(day.contains("<title>07:00–17:00 scheduled</title>"), "{day}");
    assert!(page.contains("times in UTC"));
}

#[test]
fn an_empty_month_still_renders() {
    let mut report = report();
    report.days.clear();
    report.targets.clear();
    report.cost.target_gbp = 0.0;
    let page = render(&report);
    assert!(page.contains("0 of 0 targets met"));
    assert_eq!(page.matches("class=\"day\"").count(), 0);
    assert!(page.contains("class=\"budget\""));
    assert!(!page.contains("NaN") && !page.contains("=\"inf") && !page.contains("=\"-inf"));
}

#[test]
fn the_wakes_rows_table() {
    let base = report();
    let wakes = |since: &str, count, deep, ready, median, p90, early, saved| Wakes {
        since: utc(since),
        count,
        from_deep_sleep: deep,
        ready,
        median_seconds: median,
        p90_seconds: p90,
        ended_early: early,
        hours_saved: saved,
    };
    let row = |name: &str, value: &str| format!("<th scope=\"row\">{name}</th><td>{value}</td>");
    let sub = |name: &str, value: &str| format!("<tr class=\"sub\">{}", row(name, value));
    #[rustfmt::skip]
    let cases: Vec<(&str, Wakes, Vec<String>, Vec<&str>)> = vec![
        ("no wakes: the count alone", Wakes { since: base.from, ..Wakes::default() },
            vec![row("Wakes from the front door", "0")], vec!["Requested → ready", "Hours saved"]),
        ("wakes with their times and the hours saved",
            wakes("2026-09-30T23:00:00Z", 4, 1, 3, Some(70.25), Some(612.000001), 2, 1.25 + 100.0 / 60.0),
            vec![
                row("Wakes from the front door", "4, 1 from a deep sleep"),
                sub("Requested → ready", "median 70 s, p90 10.2 min (3 wakes ready)"),
                sub("Hours saved by idle stops", "2.9 h (2 wakes ended before the hold&#39;s end)"),
            ],
            vec!["since"]),
        ("none ready, known since later than the month's start (local time)",
            wakes("2026-10-05T11:00:00.5Z", 1, 0, 0, None, None, 1, 0.75),
            vec![
                row("Wakes from the front door", "1 (since Mon 5 Oct 12:00: the state keeps 35 days of wakes)"),
                sub("Requested → ready", "none seen ready"),
                sub("Hours saved by idle stops", "0.8 h (1 wake ended before the hold&#39;s end)"),
            ],
            vec!["deep sleep"]),
    ];
    for (name, wakes, present, absent) in cases {
        let report = MonthReport { wakes, ..base.clone() };
        let page = render(&report);
        let other = between(&page, "<table class=\"other\">", "</table>");
        for text in present {
            assert!(other.contains(&text), "{name}: {text} in {other}");
        }
        for text in absent {
            assert!(!other.contains(text), "{name}: no {text} in {other}");
        }
    }
}
