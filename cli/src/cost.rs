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
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    month: BudgetPeriod,
    gbp_per_usd: f64,
    #[serde(flatten)]
    projection: &'a Projection,
}

pub fn run(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    let month = args.month.unwrap_or_else(|| BudgetPeriod::containing(Utc::now()));
    let (from, to): (DateTime<Utc>, DateTime<Utc>) = month.bounds();
    let model = CostModel::default();
    let p = model.project(&config.business_hours, from, to);
    if args.json {
        return crate::write_json(
            out,
            &Report {
                month,
                gbp_per_usd: model.gbp_per_usd,
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
        .map(|c| c.name)
        .collect();
    writeln!(out, "Scaling to zero does not stop: {}.", always_billing.join(", "))?;
    Ok(())
}

fn usd(v: f64) -> String {
    format!("${v:.2}")
}
