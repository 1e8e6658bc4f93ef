//! `stagingctl audit` (alias `history`): the audit trail, newest first — every decision a function or
//! `stagingctl` made, where it came from, what it did and what failed.

use std::io::Write;

use chrono::Utc;
use staging_core::Config;
use staging_core::audit::{self, Source};
use staging_core::shell::Clients;
use staging_core::shell::executor::Executor;

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// From this day (the team's day, like 2026-11-24) or instant (RFC 3339)
    /// [default: 7 days before --until]
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Up to the end of this day, or to this instant [default: now]
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Only decisions from: schedule, webhook, budget, health, stack, operator
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// At most this many decisions
    #[arg(long, default_value_t = 200)]
    limit: usize,
    /// Print JSON: an array of entries, newest first
    #[arg(long)]
    json: bool,
}

pub async fn run(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    let hours = &config.business_hours;
    let until = match &args.until {
        Some(text) => audit::parse_bound(text, hours, true).map_err(|e| CliError::Input(format!("--until: {e}")))?,
        None => Utc::now(),
    };
    let since = match &args.since {
        Some(text) => audit::parse_bound(text, hours, false).map_err(|e| CliError::Input(format!("--since: {e}")))?,
        None => until - chrono::Duration::days(7),
    };
    if since >= until {
        return Err(CliError::Input(format!(
            "--since ({}) must be before --until ({})",
            audit::sort_key(since),
            audit::sort_key(until)
        )));
    }
    // Nothing is kept longer than STAGING_HISTORY_DAYS allows (3650 days, whatever the
    // writers' setting was): no month of queries before that.
    let since = since.max(until.min(Utc::now()) - chrono::Duration::days(3651));
    let kind =
        args.kind.as_deref().map(Source::parse).transpose().map_err(|e| CliError::Input(format!("--kind: {e}")))?;
    if args.limit == 0 {
        return Err(CliError::Input("--limit must be at least 1".into()));
    }
    let clients = Clients::from_env().await;
    let executor = Executor::new(&clients, config);
    let entries = executor.store()?.entries(&config.environment, since, until, true, kind, Some(args.limit)).await?;
    if args.json {
        return crate::write_json(out, &entries);
    }
    if entries.is_empty() {
        writeln!(
            out,
            "{}: no decisions recorded from {} to {}",
            config.environment,
            audit::sort_key(since),
            audit::sort_key(until)
        )?;
        return Ok(());
    }
    for entry in &entries {
        write!(out, "{}", audit::describe(entry, hours.time_zone))?;
    }
    if entries.len() == args.limit {
        writeln!(out, "(the newest {}; --limit or --until for more)", args.limit)?;
    }
    Ok(())
}
