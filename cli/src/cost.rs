//! `stagingctl cost`: the projected month under the schedule beside always-on.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use staging_core::cost::{Billing, CostModel, Projection};
use staging_core::state::BudgetPeriod;
use staging_core::Config;

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// The month to project, like 2026-11 [default: this month, UTC]
    #[arg(long, value_name = "YYYY-MM", value_parser = |s: &str| s.parse::<BudgetPeriod>())]
    month: Option<BudgetPeriod>,
    /// A rates file in place of the list prices (see events/cost.seed.yml) [default:
    /// STAGING_COST_FILE, else the built-in list prices]
    #[arg(long, value_name = "FILE")]
    rates: Option<std::path::PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    month: BudgetPeriod,
    gbp_per_usd: f64,
    /// The rates file used, or `null` for the built-in list prices.
    rates: Option<String>,
    /// How far over the target the month is, in US dollars (`null` when within it).
    over_target_usd: Option<f64>,
    /// The same month at the built-in list prices, when a rates file is used.
    list_price_usd: Option<f64>,
    #[serde(flatten)]
    projection: &'a Projection,
}

pub fn run(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    let month = args.month.unwrap_or_else(|| BudgetPeriod::containing(Utc::now()));
    let (from, to): (DateTime<Utc>, DateTime<Utc>) = month.bounds();
    let rates = args.rates.as_deref().or(config.cost_file.as_deref());
    let model = staging_core::shell::cost_model(config, args.rates.as_deref()).map_err(|e| CliError::Input(e.to_string()))?;
    let p = model.project(&config.business_hours, from, to);
    let list_price = rates.map(|_| CostModel::default().project(&config.business_hours, from, to).scheduled_usd);
    let over = p.over_target(model.gbp_per_usd);
    if args.json {
        return crate::write_json(
            out,
            &Report {
                month,
                gbp_per_usd: model.gbp_per_usd,
                rates: rates.map(|r| r.display().to_string()),
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
            Billing::AlwaysBills => "always bills",
        };
        writeln!(
            out,
            "  {:<12} {:<14} {:>10} {:>10}",
            c.name,
            billing,
            usd(c.scheduled_usd),
            usd(c.always_on_usd)
        )?;
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
    let always_billing: Vec<&str> = p
        .components
        .iter()
        .filter(|c| c.billing == Billing::AlwaysBills && c.always_on_usd > 0.0)
        .map(|c| c.name.as_str())
        .collect();
    writeln!(out, "Scaling to zero does not stop: {}.", always_billing.join(", "))?;
    if let Some((usd_over, culprits)) = over {
        let list: Vec<String> = culprits.iter().map(|c| format!("{} {}", c.name, usd(c.scheduled_usd))).collect();
        writeln!(out, "Over the target by {}; what the month pays for, largest first: {}.", usd(usd_over), list.join(", "))?;
    }
    if let (Some(path), Some(list)) = (rates, list_price) {
        writeln!(out, "Rates from {}; at the built-in list prices the month is {}.", path.display(), usd(list))?;
    }
    Ok(())
}

fn usd(v: f64) -> String {
    format!("${v:.2}")
}
