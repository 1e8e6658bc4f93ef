//! `stagingctl report --day`: the daily cost report the budget-alert function sends each
//! morning, printed here (and not sent). `stagingctl report --month [YYYY-MM]`: the
//! month's figures against the seed's targets, from the audit trail (`--json`, or
//! `--html FILE` for a page with the month as a calendar).

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, Utc};
use staging_core::Config;
use staging_core::model::state::{BudgetPeriod, WAKES_KEPT_DAYS};
use staging_core::report::month::{MonthInput, MonthReport, month_report};
use staging_core::shell::costs::CostExplorer;
use staging_core::shell::executor::Executor;

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// Yesterday's spend, the month so far, the forecast and the model's month.
    #[arg(long)]
    day: bool,
    /// The month's figures against the seed's targets [default month: this one]
    #[arg(long, value_name = "YYYY-MM", num_args = 0..=1, default_missing_value = "")]
    month: Option<String>,
    /// Also write the month as one self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// The clock for the figures [default: now]
    #[arg(long, value_name = "RFC3339", value_parser = crate::schedule::parse_instant)]
    now: Option<DateTime<Utc>>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    if args.month.is_some() || args.html.is_some() {
        return month(config, args, out).await;
    }
    if !args.day {
        return Err(CliError::Input(
            "say which report: `stagingctl report --day` or `stagingctl report --month [YYYY-MM]`".into(),
        ));
    }
    let (clients, config, _) = crate::operate::connect(config).await?;
    let answer =
        budget_alert::daily_report(&Executor::new(&clients, &config), args.now.unwrap_or_else(Utc::now), false).await?;
    if args.json {
        crate::write_json(out, &answer["report"])?;
    } else {
        write!(out, "{}", answer["text"].as_str().unwrap_or_default())?;
    }
    // The report is printed either way; a bill that could not be read is a failure.
    match answer["report"]["bill_unavailable"].as_str() {
        Some(why) if why.starts_with("Cost Explorer could not be read") => Err(CliError::Failed(why.to_string())),
        _ => Ok(()),
    }
}

/// The month's figures: the audit trail from a week before the month (what was going on
/// when it began) to its end, the state now, Cost Explorer's days when it answers, and
/// the model.
async fn month(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    if args.day {
        return Err(CliError::Input("--day and --month are different reports: give one".into()));
    }
    let now = args.now.unwrap_or_else(Utc::now);
    let hours = &config.business_hours;
    let period = match args.month.as_deref().filter(|m| !m.is_empty()) {
        Some(text) => text.parse::<BudgetPeriod>().map_err(|e| CliError::Input(format!("--month: {e}")))?,
        None => {
            let local = now.with_timezone(&hours.time_zone);
            BudgetPeriod::new(local.year(), local.month()).expect("a date's month is a month")
        }
    };
    let model = staging_core::shell::cost_model(config, None)?;
    let (clients, config, _) = crate::operate::connect(config).await?;
    let executor = Executor::new(&clients, &config);
    let store = executor.store()?;
    let (from, to) = staging_core::report::month::bounds(period, hours);
    let entries = store.entries(&config.environment, from - chrono::Duration::days(7), to, false, None, None).await?;
    let state = store.load(&config.environment).await?;
    // Cost Explorer's days (UTC) over the month; without them, the model's.
    let explorer = CostExplorer {
        client: &clients.costexplorer,
        tag: config.cost_tag.as_ref().map(|(k, v)| (k.as_str(), v.as_str())),
    };
    let first = from.date_naive();
    let last = (now.min(to)).date_naive().succ_opt().unwrap_or(to.date_naive());
    let bill = if first < last { explorer.bill(first, last).await.ok() } else { None };
    let report = month_report(&MonthInput {
        month: period,
        entries: &entries,
        state: &state,
        bill: bill.as_ref(),
        model: &model,
        config: &config,
        now,
    });
    if let Some(path) = &args.html {
        std::fs::write(path, staging_core::report::month_html::render(&report))
            .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))?;
    }
    if args.json {
        return crate::write_json(out, &report);
    }
    write!(out, "{}", describe(&report))?;
    if let Some(path) = &args.html {
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(())
}

/// The month's figures for people.
fn describe(report: &MonthReport) -> String {
    use std::fmt::Write;
    let mut text = format!(
        "{} {}: {} decisions recorded, figures through {}\n",
        report.environment,
        report.month,
        report.decisions,
        report.through.format("%Y-%m-%d %H:%M UTC")
    );
    let width = |f: fn(&staging_core::report::month::Target) -> usize| report.targets.iter().map(f).max().unwrap_or(0);
    let (name_w, value_w, target_w) =
        (width(|t| t.name.chars().count()), width(|t| t.value.chars().count()), width(|t| t.target.chars().count()));
    for t in &report.targets {
        let mark = match t.met {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "-",
        };
        let _ = writeln!(text, "  {:<name_w$}  {:<value_w$}  {:<target_w$}  {mark}", t.name, t.value, t.target);
    }
    let u = &report.up_hours;
    let count = |n: u32, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    let _ = writeln!(
        text,
        "  up-hours: {:.1} ({:.1} scheduled, {:.1} on demand, {:.1} held); {}; budget: {}, {}",
        u.total,
        u.scheduled,
        u.on_demand,
        u.held,
        count(report.outages.len() as u32, "outage"),
        count(report.budget.alerts, "alert"),
        count(report.budget.locks, "lock")
    );
    let since = if report.wakes.since > report.from {
        format!(
            " (since {}: the state keeps {WAKES_KEPT_DAYS} days of wakes)",
            report.wakes.since.format("%Y-%m-%d %H:%M UTC")
        )
    } else {
        String::new()
    };
    let _ = writeln!(text, "  wakes: {}{since}", report.wakes.summary());
    text
}
