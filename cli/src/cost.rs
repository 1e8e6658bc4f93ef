//! `stagingctl cost`: the projected month under the schedule beside always-on; with
//! `--compare`, every way of running staging side by side.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use staging_core::Config;
use staging_core::model::state::BudgetPeriod;
use staging_core::report::cost::{
    Billing, Comparison, CostModel, HoursPerDay, Mode, ModeCost, OnUse, Projection, Recorded,
};
use staging_core::shell::Clients;
use staging_core::shell::executor::Executor;

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// The month to project, like 2026-11 [default: this month, UTC]
    #[arg(long, value_name = "YYYY-MM", value_parser = |s: &str| s.parse::<BudgetPeriod>())]
    month: Option<BudgetPeriod>,
    /// A rates file in place of the list prices (see events/cost.seed.yml) [default:
    /// STAGING_RATES (inline), STAGING_COST_FILE, else the built-in list prices]
    #[arg(long, value_name = "FILE")]
    rates: Option<std::path::PathBuf>,
    /// Every way of running staging (always_on, scale, stack, stack_on_demand): the
    /// month, whether it meets the target, the time to ready; recorded use and start
    /// times from the state when STAGING_TABLE is set.
    #[arg(long)]
    compare: bool,
    /// With --compare: cost staging up only while used for H hours on each working day,
    /// in place of the use recorded in the state (wakes and on-demand starts).
    #[arg(long, value_name = "H", requires = "compare", allow_negative_numbers = true, value_parser = |s: &str| s.parse::<HoursPerDay>())]
    hours_per_day: Option<HoursPerDay>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    month: BudgetPeriod,
    gbp_per_usd: f64,
    /// Where the rates came from (a file, or `STAGING_RATES`), or `null` for the built-in
    /// list prices.
    rates: Option<String>,
    /// How far over the target the month is, in US dollars (`null` when within it).
    over_target_usd: Option<f64>,
    /// The same month at the built-in list prices, when a rates file is used.
    list_price_usd: Option<f64>,
    #[serde(flatten)]
    projection: &'a Projection,
}

pub async fn run(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    let month = args.month.unwrap_or_else(|| BudgetPeriod::containing(staging_core::shell::now()));
    let (from, to): (DateTime<Utc>, DateTime<Utc>) = month.bounds();
    // Where the rates came from, for the report: the file given, the file set, or the variable.
    let rates = match (&args.rates, &config.rates) {
        (Some(path), _) => Some(path.display().to_string()),
        (None, Some(staging_core::config::YamlSetting::File { path, .. })) => Some(path.display().to_string()),
        (None, Some(setting)) => Some(setting.variable().to_string()),
        (None, None) => None,
    };
    let model =
        staging_core::shell::cost_model(config, args.rates.as_deref()).map_err(|e| CliError::Input(e.to_string()))?;
    if args.compare {
        let recorded = recorded(config, staging_core::shell::now()).await?;
        let comparison = model.compare(&config.business_hours, from, to, config.hold_default, &recorded.figures);
        let on_use = model.on_use(
            &config.business_hours,
            from,
            to,
            args.hours_per_day,
            &recorded.figures,
            config.front_door.deep_sleep_after,
        );
        let report = CompareReport {
            month,
            gbp_per_usd: model.gbp_per_usd,
            rates: rates.clone(),
            teardown: config.teardown.as_str(),
            configured_mode: Mode::configured(&config.teardown, &config.business_hours),
            comparison: &comparison,
            on_use: &on_use,
            recorded,
        };
        return if args.json { crate::write_json(out, &report) } else { print_comparison(config, &report, out) };
    }
    let p = model.project(&config.business_hours, from, to);
    let list_price =
        rates.as_ref().map(|_| CostModel::default().project(&config.business_hours, from, to).scheduled_usd);
    let over = p.over_target(model.gbp_per_usd);
    if args.json {
        return crate::write_json(
            out,
            &Report {
                month,
                gbp_per_usd: model.gbp_per_usd,
                rates: rates.clone(),
                over_target_usd: over.as_ref().map(|(usd, _)| *usd),
                list_price_usd: list_price,
                projection: &p,
            },
        );
    }
    writeln!(
        out,
        "Projected {month}: {:.0} h, of which {:.1} h up under {}",
        p.hours,
        p.up_hours,
        crate::schedule::describe(&config.business_hours)
    )?;
    writeln!(out, "  {:<12} {:<14} {:>10} {:>10}", "component", "billing", "scheduled", "always-on")?;
    for c in &p.components {
        let billing = match c.billing {
            Billing::StopsWhenScaledToZero => "stops at zero",
            Billing::StopsWithStack => "with the stack",
            Billing::AlwaysBills => "always bills",
        };
        writeln!(out, "  {:<12} {:<14} {:>10} {:>10}", c.name, billing, usd(c.scheduled_usd), usd(c.always_on_usd))?;
    }
    writeln!(out, "  {:<27} {:>10} {:>10}", "total", usd(p.scheduled_usd), usd(p.always_on_usd))?;
    writeln!(
        out,
        "Saving: {} a month, {:.1}% of the whole bill ({:.1}% of what can stop).",
        usd(p.saving_usd),
        p.saving_percent,
        p.stoppable_saving_percent
    )?;
    let verdict = if p.within_target { "within" } else { "over" };
    writeln!(
        out,
        "£{:.2} a month at £{:.2}/$ — {verdict} the £{:.2} target.",
        p.scheduled_gbp, model.gbp_per_usd, p.target_gbp
    )?;
    let billing = |kinds: &[Billing]| -> Vec<&str> {
        p.components
            .iter()
            .filter(|c| kinds.contains(&c.billing) && c.always_on_usd > 0.0)
            .map(|c| c.name.as_str())
            .collect()
    };
    writeln!(
        out,
        "Scaling to zero does not stop: {}.",
        billing(&[Billing::StopsWithStack, Billing::AlwaysBills]).join(", ")
    )?;
    let with_stack = billing(&[Billing::StopsWithStack]);
    if !with_stack.is_empty() {
        writeln!(
            out,
            "Deleting the pause stack too (STAGING_TEARDOWN=stack) stops: {} (see `stagingctl cost --compare`).",
            with_stack.join(", ")
        )?;
    }
    if let Some((usd_over, culprits)) = over {
        let list: Vec<String> = culprits.iter().map(|c| format!("{} {}", c.name, usd(c.scheduled_usd))).collect();
        writeln!(
            out,
            "Over the target by {}; what the month pays for, largest first: {}.",
            usd(usd_over),
            list.join(", ")
        )?;
    }
    if let (Some(source), Some(list)) = (rates, list_price) {
        writeln!(out, "Rates from {source}; at the built-in list prices the month is {}.", usd(list))?;
    }
    Ok(())
}

fn usd(v: f64) -> String {
    format!("${v:.2}")
}

/// What the state recorded, or why nothing was read.
#[derive(Serialize)]
struct RecordSource {
    /// Whether the figures were read from the environment's state.
    from_state: bool,
    /// Why they were not (`null` when they were).
    why_not: Option<String>,
    #[serde(flatten)]
    figures: Recorded,
}

/// The recorded up-hours and start times from the state when `STAGING_TABLE` is set;
/// without it, none (and why). A table that cannot be read is an error, not "none".
async fn recorded(config: &Config, now: DateTime<Utc>) -> Result<RecordSource, CliError> {
    let Some(table) = config.resources.table.as_deref() else {
        return Ok(RecordSource {
            from_state: false,
            why_not: Some("STAGING_TABLE is not set".into()),
            figures: Recorded::NONE,
        });
    };
    let clients = Clients::from_env().await;
    let state = Executor::new(&clients, config).store()?.load(&config.environment).await.map_err(|e| {
        CliError::Failed(format!(
            "cannot read the recorded up-hours and start times of `{}` from table {table}: {e}",
            config.environment
        ))
    })?;
    Ok(RecordSource { from_state: true, why_not: None, figures: Recorded::from_state(&state, now) })
}

/// `cost --compare --json`.
#[derive(Serialize)]
struct CompareReport<'a> {
    month: BudgetPeriod,
    gbp_per_usd: f64,
    /// The rates file used, or `null` for the built-in list prices.
    rates: Option<String>,
    /// `STAGING_TEARDOWN`: `scale` or `stack`.
    teardown: &'static str,
    /// The mode that is: the teardown, on demand when there is no up time.
    configured_mode: Mode,
    /// `hours`, `target_gbp`, `modes`, `cheapest`, `cheapest_meeting_target`.
    #[serde(flatten)]
    comparison: &'a Comparison,
    /// Staging up only while used: the hours, where they came from (`source.from`:
    /// `hours_per_day`, `record` or `nothing`; `basis` for people), `scale` and `stack`.
    on_use: &'a OnUse,
    recorded: RecordSource,
}

fn print_comparison(config: &Config, r: &CompareReport<'_>, out: &mut impl Write) -> Result<(), CliError> {
    let c = r.comparison;
    let target = format!("£{:.2}", c.target_gbp);
    writeln!(
        out,
        "Ways of running staging in {} ({:.0} h), at £{:.2}/$ against the {target} target; schedule {}:",
        r.month,
        c.hours,
        r.gbp_per_usd,
        crate::schedule::describe(&config.business_hours)
    )?;
    let meets = format!("meets {target}");
    writeln!(out, "  {:<18} {:>9} {:>9} {:>9}  {:<12} time to ready", "mode", "up-hours", "$/month", "£/month", meets)?;
    for m in &c.modes {
        let name = if m.mode == r.configured_mode { format!("{} *", m.mode) } else { m.mode.to_string() };
        writeln!(
            out,
            "  {:<18} {:>9.1} {:>9} {:>9}  {:<12} {}",
            name,
            m.up_hours,
            usd(m.monthly_usd),
            format!("£{:.2}", m.monthly_gbp),
            if m.meets_target { "yes" } else { "no" },
            ready(m).trim_start_matches("in ")
        )?;
    }
    writeln!(
        out,
        "  * configured (STAGING_TEARDOWN={}{})",
        r.teardown,
        if config.business_hours.up_time.is_none() { ", STAGING_UP_TIME=none" } else { "" }
    )?;
    let u = r.on_use;
    match u.up_hours {
        Some(up) => {
            writeln!(out, "  up only while used ({}), {up:.1} h in the month:", u.basis)?;
            for m in &u.modes {
                writeln!(
                    out,
                    "  {:<18} {:>9.1} {:>9} {:>9}  {:<12} {}",
                    format!("on_use {}", m.mode),
                    up,
                    usd(m.monthly_usd),
                    format!("£{:.2}", m.monthly_gbp),
                    if m.meets_target { "yes" } else { "no" },
                    ready(c.mode(m.mode)).trim_start_matches("in ")
                )?;
            }
            if u.shallow_hours > 0.0 {
                writeln!(
                    out,
                    "  on_use stack also bills its stack {:.1} h asleep: a shallow sleep of up to {} after each wake's idle stop.",
                    u.shallow_hours,
                    humantime::format_duration(config.front_door.deep_sleep_after)
                )?;
            }
        }
        None => writeln!(out, "  up only while used: {}.", u.basis)?,
    }
    for m in &c.modes {
        writeln!(out, "  {}: {}; ready {}, {}.", m.mode, m.up_hours_basis, m.ready_in(), m.time_to_ready_basis)?;
    }
    let line = |m: &ModeCost| {
        format!("{}, {} (£{:.2}) a month, ready {}", m.mode, usd(m.monthly_usd), m.monthly_gbp, ready(m))
    };
    match c.cheapest_meeting_target {
        Some(mode) => writeln!(out, "Cheapest that meets {target}: {}.", line(c.mode(mode)))?,
        None => writeln!(out, "No mode meets {target}; the cheapest is {}.", line(c.mode(c.cheapest)))?,
    }
    let rec = &r.recorded;
    match &rec.why_not {
        Some(why) => {
            writeln!(out, "Nothing recorded read ({why}): on-demand up-hours and start times are assumptions.")?
        }
        None => {
            let hours = match (rec.figures.up_hours, rec.figures.on_demand_up_hours) {
                (Some(all), Some(on_demand)) => format!("{all:.1} up-hours, {on_demand:.1} of them on demand"),
                _ => "no up-windows".into(),
            };
            let start = match rec.figures.stack_start_secs {
                Some(s) => format!("pause stack created in {s} s (median)"),
                None => "no pause-stack create".into(),
            };
            let wakes = match rec.figures.wakes {
                1 => "1 wake".to_string(),
                n => format!("{n} wakes"),
            };
            writeln!(out, "Recorded in the last {} days: {hours}; {wakes}; {start}.", rec.figures.days)?;
        }
    }
    if let Some(path) = &r.rates {
        writeln!(out, "Rates from {path}.")?;
    }
    Ok(())
}

/// `in ~10 min (assumed)`, `in ~7 min (recorded)`, `at once`.
fn ready(m: &ModeCost) -> String {
    match (m.time_to_ready_secs, m.time_to_ready_recorded) {
        (0, _) => m.ready_in(),
        (_, true) => format!("{} (recorded)", m.ready_in()),
        (_, false) => format!("{} (assumed)", m.ready_in()),
    }
}
