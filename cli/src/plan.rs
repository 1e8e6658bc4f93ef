//! `stagingctl plan`: changed paths → matched filters → deployment plan.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use serde::Serialize;
use staging_core::config::{self, YamlSetting};
use staging_core::{DeploymentPlan, DeploymentType, FilterMatches, Filters};

use crate::error::CliError;

/// How many paths of each filter the human output lists.
const SHOWN_PATHS: usize = 5;

#[derive(clap::Args)]
pub struct Args {
    /// A paths-filter YAML file [default: $STAGING_FILTERS (inline), $STAGING_FILTERS_FILE, else the built-in filters]
    #[arg(long, value_name = "FILE")]
    filters: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Changed paths; read one per line from stdin when none are given.
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
}

#[derive(Serialize)]
struct Report<'a> {
    changed: usize,
    filters: &'a FilterMatches<'a>,
    plan: DeploymentPlan,
    deployment_type: Option<DeploymentType>,
}

/// Reads only the filters (`--filters`, else as the functions read them): no other setting
/// can stop a plan.
pub async fn run(args: Args, out: &mut impl Write) -> Result<(), CliError> {
    let filters = match &args.filters {
        Some(file) => load_filters(file)?,
        None => configured(crate::settings::narrow(config::filters, |c| c.filters.clone()).await?)?,
    };
    let paths = if args.paths.is_empty() { read_stdin_paths()? } else { args.paths };
    let matches = filters.classify(paths.iter().map(String::as_str));
    let plan = matches.plan();
    let report = Report { changed: paths.len(), filters: &matches, plan, deployment_type: plan.deployment_type() };
    if args.json {
        return crate::write_json(out, &report);
    }
    writeln!(out, "Changed paths: {}", report.changed)?;
    writeln!(out, "Filters:")?;
    let width = matches.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (name, paths) in matches.iter() {
        write!(out, "  {name:<width$}  {:>4}", paths.len())?;
        let shown: Vec<&str> = paths.iter().take(SHOWN_PATHS).copied().collect();
        if !shown.is_empty() {
            write!(out, "  {}", shown.join(", "))?;
        }
        if paths.len() > SHOWN_PATHS {
            write!(out, " … and {} more", paths.len() - SHOWN_PATHS)?;
        }
        writeln!(out)?;
    }
    writeln!(out, "Plan: {plan}")?;
    match report.deployment_type {
        Some(t) => writeln!(out, "Deployment type: {t}")?,
        None => writeln!(out, "Deployment type: none")?,
    }
    Ok(())
}

/// The filters `STAGING_FILTERS` or `STAGING_FILTERS_FILE` (or the settings document) hold,
/// else the built-in ones. A bad document is bad input naming its variable, as the
/// functions say it.
fn configured(setting: Option<YamlSetting>) -> Result<Filters, CliError> {
    Ok(staging_core::shell::filters_from(setting.as_ref())?)
}

fn load_filters(file: &PathBuf) -> Result<Filters, CliError> {
    let yaml = std::fs::read_to_string(file)
        .map_err(|e| CliError::Input(format!("cannot read filters file {}: {e}", file.display())))?;
    Filters::from_yaml(&yaml).map_err(|e| CliError::Input(format!("{}: {e}", file.display())))
}

fn read_stdin_paths() -> Result<Vec<String>, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CliError::Input("no changed paths: pass them as arguments, or one per line on stdin".into()));
    }
    let mut paths = Vec::new();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| CliError::Input(format!("cannot read paths from stdin: {e}")))?;
        let path = line.trim();
        if !path.is_empty() {
            paths.push(path.to_string());
        }
    }
    Ok(paths)
}
