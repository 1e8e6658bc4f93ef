//! `stagingctl schedule`: the up-windows of the business-hours policy.

use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use staging_core::config;
use staging_core::{BusinessHours, Transition, Window};

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// Start of the span, RFC 3339 [default: now]
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    from: Option<DateTime<Utc>>,
    /// Length of the span in days (1 to 366).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..=366))]
    days: u16,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// An RFC 3339 instant, in any offset.
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{s}` is not an RFC 3339 time like 2026-11-27T09:00:00Z ({e})"))
}

#[derive(Serialize)]
struct Report {
    #[serde(serialize_with = "staging_core::time::rfc3339_z")]
    from: DateTime<Utc>,
    #[serde(serialize_with = "staging_core::time::rfc3339_z")]
    to: DateTime<Utc>,
    windows: Vec<Window>,
    up_hours: f64,
    next_transition: Option<Transition>,
}

/// Reads only the business hours (as the functions read them): no other setting can stop it.
pub async fn run(args: Args, out: &mut impl Write) -> Result<(), CliError> {
    let hours = &crate::settings::narrow(config::business_hours, |c| c.business_hours.clone()).await?;
    let from = args.from.unwrap_or_else(Utc::now);
    let to = from + Duration::days(i64::from(args.days));
    let windows = hours.windows(from, to);
    let report = Report {
        from,
        to,
        up_hours: windows.iter().map(Window::hours).sum(),
        next_transition: hours.next_transition(from),
        windows,
    };
    if args.json {
        return crate::write_json(out, &report);
    }
    writeln!(out, "Business hours: {}", describe(hours))?;
    writeln!(
        out,
        "Up-windows from {} for {} day{}:",
        from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        args.days,
        if args.days == 1 { "" } else { "s" }
    )?;
    if report.windows.is_empty() {
        writeln!(out, "  none")?;
    }
    let tz = hours.time_zone;
    for w in &report.windows {
        let (start, end) = (w.start.with_timezone(&tz), w.end.with_timezone(&tz));
        writeln!(
            out,
            "  {}  {}–{} {tz}  ({}Z–{}Z)  {:.1} h",
            start.format("%a %Y-%m-%d"),
            start.format("%H:%M"),
            end.format("%H:%M"),
            w.start.format("%m-%d %H:%M"),
            w.end.format("%m-%d %H:%M"),
            w.hours()
        )?;
    }
    writeln!(out, "Up: {:.1} h", report.up_hours)?;
    match report.next_transition {
        Some(t) => writeln!(
            out,
            "Next transition: {:?} at {} ({})",
            t.kind,
            t.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            t.at.with_timezone(&tz).format("%a %H:%M %Z")
        )?,
        None => writeln!(out, "Next transition: none within a year")?,
    }
    Ok(())
}

/// `Mon,Tue,Wed,Thu,Fri 08:00–18:00 Europe/London; 2 holidays`.
pub fn describe(hours: &BusinessHours) -> String {
    let up = hours.up_time.map(|t| t.format("%H:%M").to_string()).unwrap_or_else(|| "on demand".into());
    let mut s = format!("{} {up}–{} {}", hours.working_days, hours.down_time.format("%H:%M"), hours.time_zone);
    if !hours.holidays.is_empty() {
        s.push_str(&format!("; {} holiday(s)", hours.holidays.len()));
    }
    s
}
