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
use crate::model::state::DeploymentStatus;
use crate::report::month::{Day, DayDeploy, MonthReport, Outage, UpKind, plural};

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
fn escape(s: &str) -> String {
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
mod tests {
    use super::*;
    use crate::report::month::{
        Availability, BudgetEvents, CostSource, DaySpan, Deployments, KindDurations, Lifecycle, MonthCost, Target,
        UpHours,
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
            let to = date
                .succ_opt()
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_local_timezone(tz)
                .unwrap()
                .with_timezone(&Utc);
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
        assert!(
            rest.match_indices("url(").all(|(i, _)| rest[i..].starts_with("url(#")),
            "only the page's own patterns"
        );
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
}
