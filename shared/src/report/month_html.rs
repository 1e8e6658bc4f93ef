//! The month at a glance as one HTML page, pure (`stagingctl report --html FILE`): the
//! title and verdict, the calendar (one SVG, a row per day, up-time, deployments and
//! outages placed by time of day), the targets with met / not met, the other figures,
//! and the cost day by day against the budget.
//!
//! The page is self-contained: inline CSS and inline SVG, no script, no font, image or
//! style sheet from anywhere else. Every text that comes from the report is escaped.
//! Times are shown in the report's time zone (UTC when it is not one chrono-tz knows).

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use crate::audit::DeployKind;
use crate::model::state::{DeploymentStatus, WAKES_KEPT_DAYS};
use crate::report::month::{Day, DayDeploy, MonthReport, Outage, UpKind, plural, wake_time};

/// Appends to a `String` (which cannot fail).
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// The calendar's geometry, in SVG user units (1 unit = 1 CSS px at 1120 wide).
const WIDTH: f64 = 1120.0;
/// Where the day's bar starts (the date label is left of it).
const BAR_X: f64 = 104.0;
/// The bar's width: the day's 24 hours (23 or 25 across a clock change).
const BAR_W: f64 = 912.0;
const AXIS_H: f64 = 26.0;
const ROW_H: f64 = 24.0;
const BAR_H: f64 = 16.0;
/// Extra space after each Sunday.
const WEEK_GAP: f64 = 8.0;

/// The palette (fills are written on the elements, so the SVG reads the same alone).
const SCHEDULED: &str = "#3569c9";
const ON_DEMAND: &str = "#8a5cd6";
const HELD: &str = "#e19a1d";
const SUCCEEDED: &str = "#1f9d55";
const FAILED: &str = "#d93b3b";
const CANCELLED: &str = "#8d949e";
const OUTAGE: &str = "#d93b3b";
const WORKING_BG: &str = "#e8edf4";
const OFF_BG: &str = "#d3d7de";
const INK: &str = "#1d2330";
const MUTED: &str = "#6b7280";
const GRID: &str = "#b9c0cb";

/// The page for `report`: one HTML5 document.
pub fn render(report: &MonthReport) -> String {
    let tz = report.time_zone.parse::<Tz>().ok();
    let clock = Clock { tz: tz.unwrap_or(chrono_tz::UTC) };
    let title = format!("Staging Control — {} — {}", report.environment, report.month);

    let mut o = String::with_capacity(64 * 1024);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    w!(o, "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n", escape(&title), CSS);

    header(&mut o, report, &title, tz.is_some(), &clock);

    o.push_str("<section>\n<h2>The month day by day</h2>\n");
    legend(&mut o);
    calendar(&mut o, report, &clock);
    o.push_str("</section>\n");

    o.push_str("<section>\n<h2>Targets</h2>\n");
    figures(&mut o, report);
    o.push_str("<h3>Other figures</h3>\n");
    other_figures(&mut o, report);
    o.push_str("</section>\n");

    o.push_str("<section>\n<h2>Cost by day against the budget</h2>\n");
    cost_chart(&mut o, report);
    o.push_str("</section>\n");

    o.push_str("</main>\n</body>\n</html>\n");
    o
}

/// `s` made safe for HTML text and attribute values (`&`, `<`, `>`, `"`, `'`).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Instants as the team reads them.
struct Clock {
    tz: Tz,
}

impl Clock {
    /// The report's zone (UTC when it is not one chrono-tz knows).
    fn of(report: &MonthReport) -> Self {
        Self { tz: report.time_zone.parse::<Tz>().unwrap_or(chrono_tz::UTC) }
    }

    fn hm(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%H:%M").to_string()
    }

    /// `from–to` within `day`; the day's end reads 24:00.
    fn range(&self, day: &Day, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
        let end = if to >= day.to { "24:00".to_string() } else { self.hm(to) };
        format!("{}–{}", self.hm(from), end)
    }

    fn day_and_time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%a %-d %b %H:%M").to_string()
    }
}

fn gbp(x: f64) -> String {
    if x < 0.0 { format!("−£{:.2}", -x) } else { format!("£{x:.2}") }
}

fn hours(x: f64) -> String {
    format!("{x:.1} h")
}

/// Where `t` falls in `day`, from 0 (its first instant) to 1 (the next day's).
fn fraction(day: &Day, t: DateTime<Utc>) -> f64 {
    let len = (day.to - day.from).num_milliseconds() as f64;
    if len <= 0.0 {
        return 0.0;
    }
    ((t - day.from).num_milliseconds() as f64 / len).clamp(0.0, 1.0)
}

fn kind_name(kind: UpKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        UpKind::Scheduled => ("scheduled", "scheduled", SCHEDULED),
        UpKind::OnDemand => ("on_demand", "on demand", ON_DEMAND),
        UpKind::Held => ("held", "held", HELD),
    }
}

fn status_name(status: DeploymentStatus) -> (&'static str, &'static str) {
    match status {
        DeploymentStatus::Succeeded => ("succeeded", SUCCEEDED),
        DeploymentStatus::Failed => ("failed", FAILED),
        DeploymentStatus::Cancelled => ("cancelled", CANCELLED),
        DeploymentStatus::Pending => ("pending", CANCELLED),
        DeploymentStatus::InProgress => ("in_progress", CANCELLED),
    }
}

fn header(o: &mut String, report: &MonthReport, title: &str, zone_known: bool, clock: &Clock) {
    w!(o, "<header>\n<h1>{}</h1>\n", escape(title));
    let total = report.targets.len();
    let met = report.targets.iter().filter(|t| t.met == Some(true)).count();
    let missed = report.targets.iter().filter(|t| t.met == Some(false)).count();
    let nodata = report.targets.iter().filter(|t| t.met.is_none()).count();
    let mut verdict = format!("{met} of {total} targets met");
    if nodata > 0 {
        w!(verdict, ", {nodata} without data");
    }
    let tone = if missed > 0 { "missed" } else { "met" };
    w!(o, "<p class=\"verdict {tone}\">{}</p>\n", escape(&verdict));

    let month = report.days.first().map(|d| d.date.format("%B %Y").to_string()).unwrap_or_else(|| report.month.clone());
    let zone = if zone_known {
        escape(&report.time_zone)
    } else {
        format!("times in UTC (“{}” is not a time zone this page knows)", escape(&report.time_zone))
    };
    let through = if report.through >= report.to {
        "the whole month".to_string()
    } else {
        format!("figures through {}", clock.day_and_time(report.through))
    };
    w!(
        o,
        "<p class=\"sub\">{} · {} · {} · {} of a {} budget</p>\n</header>\n",
        escape(&month),
        zone,
        escape(&through),
        gbp(report.cost.gbp),
        gbp(report.cost.target_gbp)
    );
}

fn legend(o: &mut String) {
    o.push_str("<ul class=\"legend\">\n");
    for (kind, label) in [(SCHEDULED, "up, scheduled"), (ON_DEMAND, "up, on demand"), (HELD, "up, held past hours")] {
        w!(o, "<li><span class=\"swatch\" style=\"background:{kind}\"></span>{label}</li>\n");
    }
    for (colour, label) in [(SUCCEEDED, "deploy succeeded"), (FAILED, "deploy failed"), (CANCELLED, "deploy cancelled")]
    {
        w!(o, "<li><span class=\"dot\" style=\"background:{colour}\"></span>{label}</li>\n");
    }
    w!(o, "<li><span class=\"swatch outage\" style=\"background:{OUTAGE}\"></span>outage</li>\n");
    w!(o, "<li><span class=\"swatch\" style=\"background:{WORKING_BG}\"></span>working day</li>\n");
    w!(o, "<li><span class=\"swatch\" style=\"background:{OFF_BG}\"></span>not a working day</li>\n");
    o.push_str("<li><span class=\"swatch future\"></span>not yet</li>\n</ul>\n");
}

fn row_positions(days: &[Day]) -> (Vec<f64>, f64) {
    let mut ys = Vec::with_capacity(days.len());
    let mut y = AXIS_H + 4.0;
    for (i, day) in days.iter().enumerate() {
        ys.push(y);
        y += ROW_H;
        if day.date.weekday() == chrono::Weekday::Sun && i + 1 < days.len() {
            y += WEEK_GAP;
        }
    }
    (ys, y + 4.0)
}

fn calendar(o: &mut String, report: &MonthReport, clock: &Clock) {
    let (ys, height) = row_positions(&report.days);
    w!(
        o,
        "<svg class=\"calendar\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"The month day by day\">\n"
    );
    o.push_str(
        "<defs><pattern id=\"future\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#f3f4f6\"/><rect width=\"2\" height=\"6\" fill=\"#dde0e5\"/></pattern></defs>\n",
    );

    // The hours, above the bars and faintly through them.
    o.push_str("<g class=\"hours\">\n");
    let bottom = height - 4.0;
    for h in (0..=24).step_by(3) {
        let x = BAR_X + BAR_W * f64::from(h) / 24.0;
        let anchor = match h {
            0 => "start",
            24 => "end",
            _ => "middle",
        };
        w!(
            o,
            "<line x1=\"{x:.2}\" y1=\"{:.2}\" x2=\"{x:.2}\" y2=\"{bottom:.2}\" stroke=\"{GRID}\" stroke-width=\"1\"/>",
            AXIS_H - 4.0
        );
        w!(
            o,
            "<text x=\"{x:.2}\" y=\"{:.2}\" text-anchor=\"{anchor}\" font-size=\"12\" fill=\"{MUTED}\">{h:02}:00</text>\n",
            AXIS_H - 9.0
        );
    }
    w!(
        o,
        "<text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"end\" font-size=\"12\" fill=\"{MUTED}\">cost</text>\n",
        WIDTH - 2.0,
        AXIS_H - 9.0
    );
    o.push_str("</g>\n");

    for (day, &y) in report.days.iter().zip(&ys) {
        calendar_day(o, report, clock, day, y);
    }
    o.push_str("</svg>\n");
    o.push_str(
        "<p class=\"note\">Each bar is the day's hours from midnight to midnight (23 or 25 across a clock change); \
         hover over anything for its times.</p>\n",
    );
}

fn calendar_day(o: &mut String, report: &MonthReport, clock: &Clock, day: &Day, y: f64) {
    let bar_y = y + (ROW_H - BAR_H) / 2.0;
    let hours_long = (day.to - day.from).num_minutes() as f64 / 60.0;
    let label = day.date.format("%a %-d %b").to_string();
    let mut about = format!(
        "{} · {}",
        day.date.format("%A %-d %B %Y"),
        if day.working_day { "working day" } else { "not a working day" }
    );
    if (hours_long - 24.0).abs() > 0.01 {
        w!(about, " · {hours_long:.0} hours (clock change)");
    }
    if day.future {
        about.push_str(" · not yet");
    } else {
        w!(about, " · {} that day, {} so far", gbp(day.cost_gbp), gbp(day.cumulative_gbp));
    }
    let about = escape(&about);

    w!(
        o,
        "<g class=\"day\" data-date=\"{}\" data-working=\"{}\" data-future=\"{}\">\n",
        day.date.format("%Y-%m-%d"),
        day.working_day,
        day.future
    );
    let label_colour = if day.working_day && !day.future { INK } else { MUTED };
    let weight = if day.working_day { "500" } else { "400" };
    w!(
        o,
        "<text class=\"date\" x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"end\" font-size=\"12.5\" font-weight=\"{weight}\" fill=\"{label_colour}\"><title>{about}</title>{}</text>\n",
        BAR_X - 12.0,
        bar_y + BAR_H - 3.5,
        escape(&label)
    );
    let (bg, bg_class) = if day.future {
        ("url(#future)", "bg future")
    } else if day.working_day {
        (WORKING_BG, "bg working")
    } else {
        (OFF_BG, "bg off")
    };
    w!(
        o,
        "<rect class=\"{bg_class}\" x=\"{BAR_X:.2}\" y=\"{bar_y:.2}\" width=\"{BAR_W:.2}\" height=\"{BAR_H:.2}\" rx=\"2\" fill=\"{bg}\" fill-opacity=\"0.8\"><title>{about}</title></rect>\n"
    );
    // The rest of today, not yet.
    if !day.future && report.through > day.from && report.through < day.to {
        let x = BAR_X + BAR_W * fraction(day, report.through);
        let w = BAR_X + BAR_W - x;
        w!(
            o,
            "<rect class=\"rest\" x=\"{x:.2}\" y=\"{bar_y:.2}\" width=\"{w:.2}\" height=\"{BAR_H:.2}\" fill=\"url(#future)\"><title>after {} (not yet)</title></rect>\n",
            clock.hm(report.through)
        );
    }
    for span in &day.up {
        let (class, name, colour) = kind_name(span.kind);
        let (x, w) = horizontal(day, span.from, span.to, 1.0);
        w!(
            o,
            "<rect class=\"up {class}\" x=\"{x:.2}\" y=\"{bar_y:.2}\" width=\"{w:.2}\" height=\"{BAR_H:.2}\" fill=\"{colour}\"><title>{} {name}</title></rect>\n",
            clock.range(day, span.from, span.to)
        );
    }
    for outage in &day.outages {
        let to = outage_end(report, day, outage);
        let (x, w) = horizontal(day, outage.from, to, 2.0);
        let over = if outage.to.is_none() { ", not over" } else { "" };
        w!(
            o,
            "<rect class=\"outage\" x=\"{x:.2}\" y=\"{:.2}\" width=\"{w:.2}\" height=\"{:.2}\" fill=\"{OUTAGE}\" fill-opacity=\"0.9\"><title>outage {} ({:.1} min{over})</title></rect>\n",
            bar_y - 3.0,
            BAR_H + 6.0,
            clock.range(day, outage.from, to),
            outage.minutes
        );
    }
    for deploy in &day.deploys {
        let (class, colour) = status_name(deploy.status);
        let cx = BAR_X + BAR_W * fraction(day, deploy.finished_at);
        w!(
            o,
            "<circle class=\"deploy {class}\" cx=\"{cx:.2}\" cy=\"{:.2}\" r=\"5\" fill=\"{colour}\" stroke=\"#ffffff\" stroke-width=\"1.5\"><title>{}</title></circle>\n",
            bar_y + BAR_H / 2.0,
            escape(&deploy_text(clock, deploy))
        );
    }
    if (hours_long - 24.0).abs() > 0.01 {
        w!(
            o,
            "<text class=\"dst\" x=\"{:.2}\" y=\"{:.2}\" font-size=\"11\" fill=\"{MUTED}\"><title>{about}</title>{hours_long:.0} h</text>\n",
            BAR_X + BAR_W + 8.0,
            bar_y + BAR_H - 4.0
        );
    }
    if !day.future && day.cost_gbp > 0.0 {
        w!(
            o,
            "<text class=\"day-cost\" x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"end\" font-size=\"11\" fill=\"{MUTED}\"><title>{about}</title>{}</text>\n",
            WIDTH - 2.0,
            bar_y + BAR_H - 4.0,
            gbp(day.cost_gbp)
        );
    }
    o.push_str("</g>\n");
}

/// `x` and `width` of `[from, to)` on `day`'s bar, at least `min_w` wide.
fn horizontal(day: &Day, from: DateTime<Utc>, to: DateTime<Utc>, min_w: f64) -> (f64, f64) {
    let x = BAR_X + BAR_W * fraction(day, from);
    let end = BAR_X + BAR_W * fraction(day, to);
    let w = (end - x).max(min_w).min(BAR_X + BAR_W - x).max(0.0);
    (x, w)
}

/// Where an outage ends on `day`: its end, or (not over) the figures' end.
fn outage_end(report: &MonthReport, day: &Day, outage: &Outage) -> DateTime<Utc> {
    outage.to.unwrap_or_else(|| report.through.min(day.to)).min(day.to)
}

fn deploy_text(clock: &Clock, deploy: &DayDeploy) -> String {
    let sha: String = deploy.sha.chars().take(7).collect();
    let mut text = format!("{} {sha}", clock.hm(deploy.finished_at));
    if let Some(kind) = deploy.kind {
        w!(text, " {}", kind.as_str());
    }
    if let Some(minutes) = deploy.minutes {
        w!(text, " {minutes:.1} min");
    }
    w!(text, " {}", status_name(deploy.status).0.replace('_', " "));
    if deploy.rolled_back {
        w!(text, ", then rolled back");
    }
    text
}

fn figures(o: &mut String, report: &MonthReport) {
    o.push_str("<table class=\"figures\">\n<thead><tr><th>Figure</th><th>Target</th><th>This month</th><th>Met</th></tr></thead>\n<tbody>\n");
    for t in &report.targets {
        let (class, text) = match t.met {
            Some(true) => ("met", "✓ met"),
            Some(false) => ("missed", "✗ not met"),
            None => ("nodata", "– no data"),
        };
        w!(
            o,
            "<tr data-key=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{class}\">{text}</td></tr>\n",
            escape(t.key),
            escape(t.name),
            escape(&t.target),
            escape(&t.value)
        );
    }
    o.push_str("</tbody>\n</table>\n");
}

fn other_figures(o: &mut String, report: &MonthReport) {
    let up = &report.up_hours;
    let d = &report.deployments;
    let b = &report.budget;
    let source = match report.cost.source {
        crate::report::month::CostSource::CostExplorer => "Cost Explorer (the bill)",
        crate::report::month::CostSource::Model => "the cost model (no bill)",
    };
    let mut rows: Vec<(String, String)> = vec![
        ("Up-hours, scheduled".into(), hours(up.scheduled)),
        ("Up-hours, on demand".into(), hours(up.on_demand)),
        ("Up-hours, held past hours".into(), hours(up.held)),
        ("Up-hours in all".into(), hours(up.total)),
        (
            "Deployments".into(),
            match d.rolled_back {
                0 => format!("{} — {} succeeded, {} failed, {} cancelled", d.count, d.succeeded, d.failed, d.cancelled),
                n => format!(
                    "{} — {} succeeded ({n} rolled back since), {} failed, {} cancelled",
                    d.count, d.succeeded, d.failed, d.cancelled
                ),
            },
        ),
    ];
    for k in &d.by_kind {
        if k.count == 0 {
            continue;
        }
        let median = k.median_minutes.map(|m| format!(", median {m:.1} min")).unwrap_or_default();
        let p90 = k.p90_minutes.map(|m| format!(", p90 {m:.1} min")).unwrap_or_default();
        rows.push((format!("  {} deployments", capitalised(k.kind)), format!("{}{median}{p90}", k.count)));
    }
    let wk = &report.wakes;
    let since = if wk.since > report.from {
        format!(
            " (since {}: the state keeps {WAKES_KEPT_DAYS} days of wakes)",
            Clock::of(report).day_and_time(wk.since)
        )
    } else {
        String::new()
    };
    let deep = match wk.from_deep_sleep {
        0 => String::new(),
        n => format!(", {n} from a deep sleep"),
    };
    rows.push(("Wakes from the front door".into(), format!("{}{deep}{since}", wk.count)));
    if wk.count > 0 {
        rows.push((
            "  Requested → ready".into(),
            match (wk.median_seconds, wk.p90_seconds) {
                (Some(median), Some(p90)) => format!(
                    "median {}, p90 {} ({} ready)",
                    wake_time(median),
                    wake_time(p90),
                    plural(wk.ready, "wake", "wakes")
                ),
                _ => "none seen ready".into(),
            },
        ));
        rows.push((
            "  Hours saved by idle stops".into(),
            format!(
                "{} ({} ended before the hold's end)",
                hours(wk.hours_saved),
                plural(wk.ended_early, "wake", "wakes")
            ),
        ));
    }
    rows.push(("Outages".into(), report.outages.len().to_string()));
    rows.push((
        "Budget".into(),
        format!(
            "{}, {}, {}",
            plural(b.alerts, "alert", "alerts"),
            plural(b.locks, "lock", "locks"),
            plural(b.unlocks, "unlock", "unlocks")
        ),
    ));
    rows.push(("Decisions recorded".into(), report.decisions.to_string()));
    let per = report.cost.per_deployment_gbp.map(|p| format!(", {} a deployment", gbp(p))).unwrap_or_default();
    rows.push(("Cost".into(), format!("{} (${:.2}){per}, from {source}", gbp(report.cost.gbp), report.cost.usd)));

    o.push_str("<table class=\"other\">\n<tbody>\n");
    for (name, value) in rows {
        let (class, name) = match name.strip_prefix("  ") {
            Some(name) => (" class=\"sub\"", name.to_string()),
            None => ("", name),
        };
        w!(o, "<tr{class}><th scope=\"row\">{}</th><td>{}</td></tr>\n", escape(&name), escape(&value));
    }
    o.push_str("</tbody>\n</table>\n");
}

fn capitalised(kind: DeployKind) -> &'static str {
    match kind {
        DeployKind::Full => "Full",
        DeployKind::Backend => "Backend",
        DeployKind::Frontend => "Frontend",
        DeployKind::Infrastructure => "Infrastructure",
    }
}

/// A step for about five gridlines up to `max`: 1, 2 or 5 times a power of ten.
fn nice_step(max: f64) -> f64 {
    let rough = (max / 5.0).max(0.01);
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= rough).unwrap_or(10.0 * power)
}

fn cost_chart(o: &mut String, report: &MonthReport) {
    const H: f64 = 320.0;
    const LEFT: f64 = 72.0;
    const RIGHT: f64 = 112.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 44.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let budget = report.cost.target_gbp;
    let highest = report.days.iter().filter(|d| !d.future).map(|d| d.cumulative_gbp).fold(0.0_f64, f64::max);
    let step = nice_step(highest.max(budget).max(0.01) * 1.08);
    let top = (highest.max(budget).max(0.01) * 1.08 / step).ceil() * step;
    let y_of = |v: f64| TOP + plot_h * (1.0 - (v / top).clamp(0.0, 1.0));

    w!(
        o,
        "<svg class=\"cost\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{H}\" viewBox=\"0 0 {WIDTH} {H}\" role=\"img\" aria-label=\"The month's cost so far, day by day, against the budget\">\n"
    );
    // The £ axis.
    o.push_str("<g class=\"axis\">\n");
    let ticks = (top / step).round() as u32;
    for i in 0..=ticks {
        let v = step * f64::from(i);
        let y = y_of(v);
        w!(
            o,
            "<line x1=\"{LEFT:.2}\" y1=\"{y:.2}\" x2=\"{:.2}\" y2=\"{y:.2}\" stroke=\"#e3e6eb\" stroke-width=\"1\"/>",
            LEFT + plot_w
        );
        w!(
            o,
            "<text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"end\" font-size=\"12\" fill=\"{MUTED}\">{}</text>\n",
            LEFT - 8.0,
            y + 4.0,
            gbp(v)
        );
    }
    w!(
        o,
        "<line x1=\"{LEFT:.2}\" y1=\"{:.2}\" x2=\"{:.2}\" y2=\"{:.2}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\n",
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h
    );
    o.push_str("</g>\n");

    // The cumulative cost, a bar a day.
    let n = report.days.len().max(1) as f64;
    let slot = plot_w / n;
    let bar_w = (slot * 0.68).max(1.0);
    o.push_str("<g class=\"bars\">\n");
    for (i, day) in report.days.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        let label_colour = if day.future { "#b0b6bf" } else { MUTED };
        w!(
            o,
            "<text class=\"day-label\" x=\"{cx:.2}\" y=\"{:.2}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{label_colour}\">{}</text>",
            TOP + plot_h + 16.0,
            day.date.day()
        );
        if day.future {
            o.push('\n');
            continue;
        }
        let y = y_of(day.cumulative_gbp);
        let over = budget > 0.0 && day.cumulative_gbp > budget;
        let fill = if over { FAILED } else { SCHEDULED };
        w!(
            o,
            "<rect class=\"spent{}\" data-date=\"{}\" x=\"{:.2}\" y=\"{y:.2}\" width=\"{bar_w:.2}\" height=\"{:.2}\" fill=\"{fill}\" fill-opacity=\"0.85\"><title>{}: {} that day, {} so far</title></rect>\n",
            if over { " over" } else { "" },
            day.date.format("%Y-%m-%d"),
            cx - bar_w / 2.0,
            (TOP + plot_h - y).max(0.0),
            day.date.format("%a %-d %b"),
            gbp(day.cost_gbp),
            gbp(day.cumulative_gbp)
        );
    }
    o.push_str("</g>\n");
    w!(
        o,
        "<text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{MUTED}\">day of {}</text>\n",
        LEFT + plot_w / 2.0,
        H - 8.0,
        escape(&month_name(report))
    );

    // The budget.
    let by = y_of(budget);
    w!(
        o,
        "<line class=\"budget\" x1=\"{LEFT:.2}\" y1=\"{by:.2}\" x2=\"{:.2}\" y2=\"{by:.2}\" stroke=\"{FAILED}\" stroke-width=\"2\" stroke-dasharray=\"7 4\"><title>budget {}</title></line>\n",
        LEFT + plot_w,
        gbp(budget)
    );
    w!(
        o,
        "<text class=\"budget-label\" x=\"{:.2}\" y=\"{:.2}\" font-size=\"13\" font-weight=\"600\" fill=\"{FAILED}\">budget {}</text>\n",
        LEFT + plot_w + 8.0,
        by + 4.5,
        gbp(budget)
    );
    o.push_str("</svg>\n");
    w!(
        o,
        "<p class=\"note\">The month's cost so far at the end of each day, from {}.</p>\n",
        match report.cost.source {
            crate::report::month::CostSource::CostExplorer => "Cost Explorer",
            crate::report::month::CostSource::Model => "the cost model",
        }
    );
}

fn month_name(report: &MonthReport) -> String {
    report.days.first().map(|d: &Day| d.date.format("%B").to_string()).unwrap_or_else(|| report.month.clone())
}

const CSS: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d2330;
  font: 15px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif;
  font-variant-numeric: tabular-nums; }
main { max-width: 1168px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { font-size: 26px; font-weight: 650; margin: 0 0 6px; letter-spacing: -0.01em; }
.verdict { font-size: 18px; margin: 0 0 4px; font-weight: 550; }
.verdict.met { color: #1f7a45; }
.verdict.missed { color: #a8332f; }
.sub { color: #6b7280; margin: 0; }
section { background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 18px 0 14px; margin-top: 22px; }
section > h2, section > h3, section > p, section > ul, section > table { margin-left: 20px; margin-right: 20px; }
h2 { font-size: 17px; font-weight: 650; margin: 0 0 10px; }
h3 { font-size: 15px; font-weight: 650; margin: 22px 0 8px; }
svg { display: block; max-width: 100%; height: auto; margin: 0 auto; font-family: inherit; }
svg text { font-variant-numeric: tabular-nums; }
.legend { list-style: none; padding: 0; margin-top: 0; margin-bottom: 10px; display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 13px; color: #4b5563; }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 22px; height: 12px; border-radius: 2px; }
.swatch.outage { width: 8px; height: 16px; }
.swatch.future { background: repeating-linear-gradient(45deg, #f3f4f6 0 3px, #dde0e5 3px 5px); border: 1px solid #e3e6eb; }
.dot { display: inline-block; width: 11px; height: 11px; border-radius: 50%; }
.note { color: #6b7280; font-size: 13px; margin-top: 6px; margin-bottom: 0; }
table { border-collapse: collapse; }
table.figures { width: calc(100% - 40px); font-size: 15px; }
table.figures th { text-align: left; font-size: 12.5px; text-transform: uppercase; letter-spacing: 0.04em; color: #6b7280; font-weight: 600; padding: 6px 12px; border-bottom: 2px solid #e3e6eb; }
table.figures td { padding: 8px 12px; border-bottom: 1px solid #eef0f3; }
table.figures tbody tr:hover { background: #f8f9fb; }
table.figures td.met { color: #1f7a45; font-weight: 600; white-space: nowrap; }
table.figures td.missed { color: #b42f2b; font-weight: 600; white-space: nowrap; }
table.figures td.nodata { color: #8d949e; white-space: nowrap; }
table.other { font-size: 14px; }
table.other th { text-align: left; font-weight: 500; color: #4b5563; padding: 4px 28px 4px 12px; white-space: nowrap; }
table.other td { padding: 4px 12px; }
table.other tr.sub th { padding-left: 28px; font-weight: 400; color: #6b7280; }
table.other tr + tr { border-top: 1px solid #f0f2f5; }
"#;

#[cfg(test)]
mod tests;
