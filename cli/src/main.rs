//! `stagingctl`: the operator's view of Staging Control's decisions.
//!
//! Every answer comes from `staging-core`, the same code the Lambda functions run, so
//! the CLI and the functions cannot disagree. Human-readable output by default, `--json`
//! for scripts; bad input exits with code 2 and a message naming what was wrong.

mod cost;
mod error;
mod plan;
mod schedule;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use staging_core::Config;

use crate::error::CliError;

#[derive(Parser)]
#[command(name = "stagingctl", version, about = "Staging Control: plan deployments, see the schedule and what it costs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What a change redeploys: changed paths as arguments, or one per line on stdin.
    Plan(plan::Args),
    /// The up-windows of the business-hours policy over a span of days.
    Schedule(schedule::Args),
    /// The projected month under the schedule, per component, against always-on.
    Cost(cost::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let result = Config::from_env()
        .map_err(CliError::from)
        .and_then(|config| match cli.command {
            Command::Plan(args) => plan::run(&config, args, &mut out),
            Command::Schedule(args) => schedule::run(&config, args, &mut out),
            Command::Cost(args) => cost::run(&config, args, &mut out),
        })
        .and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stagingctl: error: {e}");
            e.exit_code()
        }
    }
}

/// Writes `value` as pretty JSON and a newline.
fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| CliError::Failed(e.to_string()))?;
    writeln!(out)?;
    Ok(())
}
