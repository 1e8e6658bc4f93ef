//! `stagingctl`: the operator's view of Staging Control's decisions.
//!
//! Every answer comes from `staging-core`, the same code the Lambda functions run, so
//! the CLI and the functions cannot disagree. Human-readable output by default, `--json`
//! for scripts; bad input exits with code 2 and a message naming what was wrong.

mod audit;
mod cost;
mod doctor;
mod error;
mod invite;
mod invoke;
mod operate;
mod plan;
mod report;
mod schedule;
mod settings;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use staging_core::Config;

use crate::error::CliError;

#[derive(Parser)]
#[command(
    name = "stagingctl",
    version,
    about = "Staging Control: plan deployments, see the schedule and what it costs"
)]
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
    /// The projected month under the schedule, per component, against always-on; or
    /// (--compare) every way of running staging, its month and its time to ready.
    Cost(cost::Args),
    /// Phase, counts, hold, budget lock, deployments, health, next transition.
    Status(operate::StatusArgs),
    /// Start now (held outside business hours).
    Up(operate::UpArgs),
    /// Stop now, dropping any hold.
    Down(operate::CommonArgs),
    /// Keep it up for DURATION whatever the schedule says.
    Hold(operate::HoldArgs),
    /// Drop the hold; the schedule applies again.
    Release(operate::CommonArgs),
    /// Lift the budget lock.
    Unlock(operate::CommonArgs),
    /// Point the service back at the last good task definition (or --to one).
    Rollback(operate::RollbackArgs),
    /// Run one function's handler in process on an event file.
    Invoke(invoke::Args),
    /// The daily cost report (--day), or the month's figures against the seed's targets
    /// (--month, --html FILE).
    Report(report::Args),
    /// The audit trail: every decision, newest first (`history` is its old name).
    #[command(visible_alias = "history")]
    Audit(audit::Args),
    /// Checks the setup end to end (configuration, table, service, secrets, GitHub,
    /// budget, schedules), read-only: one line per check, exit code 1 if any fails.
    Doctor(doctor::Args),
    /// A personal link that lets NAME wake staging from its front door (--revoke: end
    /// NAME's links at once).
    Invite(invite::Args),
    /// The settings document in Parameter Store (STAGING_SETTINGS_PARAMETER): get, set
    /// (checked with the functions' own parsers first), check a file.
    Settings(settings::Args),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let result = match cli.command {
        // Pure: each reads only the settings it needs (see settings::narrow), so a bad
        // variable it does not read cannot stop it.
        Command::Plan(args) => plan::run(args, &mut out).await,
        Command::Schedule(args) => schedule::run(args, &mut out).await,
        command => match (Config::from_env(), command) {
            // doctor reports a configuration that does not parse as its first failed check.
            (Err(e), Command::Doctor(args)) => doctor::run(Err(e), args, &mut out).await,
            (Err(e), _) => Err(CliError::from(e)),
            (Ok(config), Command::Settings(args)) => settings::run(&config, args, &mut out).await,
            (Ok(config), Command::Doctor(args)) => doctor::run(Ok(&config), args, &mut out).await,
            // Every other command decides with what the functions decide with.
            (Ok(config), command) => dispatch(&settings::in_force(config).await, command, &mut out).await,
        },
    }
    .and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stagingctl: error: {e}");
            e.exit_code()
        }
    }
}

async fn dispatch(config: &Config, command: Command, out: &mut impl Write) -> Result<(), CliError> {
    let (lifecycle_command, json) = match command {
        Command::Plan(args) => return plan::run(args, out).await,
        Command::Schedule(args) => return schedule::run(args, out).await,
        Command::Cost(args) => return cost::run(config, args, out).await,
        Command::Status(args) => return operate::status(config, args, out).await,
        Command::Invoke(args) => return invoke::run(config, args, out).await,
        Command::Report(args) => return report::run(config, args, out).await,
        Command::Audit(args) => return audit::run(config, args, out).await,
        Command::Doctor(args) => return doctor::run(Ok(config), args, out).await,
        Command::Settings(args) => return settings::run(config, args, out).await,
        Command::Invite(args) => return invite::run(config, args, out).await,
        Command::Rollback(args) => return operate::rollback(config, args, out).await,
        Command::Up(args) => operate::up(args),
        Command::Down(args) => operate::down(args),
        Command::Hold(args) => operate::hold(args),
        Command::Release(args) => operate::release(args),
        Command::Unlock(args) => operate::unlock(args),
    };
    operate::run(config, lifecycle_command, json, out).await
}

/// Writes `value` as pretty JSON and a newline.
fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| CliError::Failed(e.to_string()))?;
    writeln!(out)?;
    Ok(())
}
