//! `stagingctl report --day`: the daily cost report the budget-alert function sends each
//! morning, printed here (and not sent).

use std::io::Write;

use chrono::Utc;
use staging_core::Config;
use staging_core::shell::executor::Executor;

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// Yesterday's spend, the month so far, the forecast and the model's month.
    #[arg(long)]
    day: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    if !args.day {
        return Err(CliError::Input("say which report: `stagingctl report --day`".into()));
    }
    let (clients, config, _) = crate::operate::connect(config).await?;
    let answer = budget_alert::daily_report(&Executor::new(&clients, &config), Utc::now(), false).await?;
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
