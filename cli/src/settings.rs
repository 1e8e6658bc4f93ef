//! `stagingctl settings get|set|check`: the settings document in Parameter Store
//! (`STAGING_SETTINGS_PARAMETER`), checked with the functions' own parsers before it is
//! written, so the functions never read one that does not hold.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Subcommand;
use staging_core::Config;
use staging_core::config::{self, Vars};
use staging_core::settings::Settings;
use staging_core::shell::settings::{self as stored, LiveConfig, Reading};

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SettingsCommand,
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Prints the stored document (its version and date on stderr).
    Get {
        /// The name, version, date and text as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Checks FILE (`-` for stdin) as the functions would read it, then stores it as the
    /// parameter's next version; nothing is written when it does not hold.
    Set {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Checks FILE (`-` for stdin) as the functions would read it, without writing.
    Check {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    match args.command {
        SettingsCommand::Check { file, json } => {
            let text = read_file(&file)?;
            let effective = check(&text)?;
            report(out, json, None, &text, &effective)
        }
        SettingsCommand::Get { json } => {
            let name = parameter(config)?;
            let client = client().await;
            let Some(found) = stored::read(&client, name).await? else {
                return Err(CliError::Input(format!(
                    "no parameter {name} (STAGING_SETTINGS_PARAMETER): store one with `stagingctl settings set FILE`"
                )));
            };
            if json {
                let value = serde_json::json!({
                    "parameter": name,
                    "version": found.version,
                    "modified": found.modified,
                    "document": found.text,
                    "valid": check(&found.text).err().map(|e| e.to_string()).map_or(serde_json::json!(true), |e| serde_json::json!(e)),
                });
                return crate::write_json(out, &value);
            }
            let modified =
                found.modified.map(|m| format!(", {}", m.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            eprintln!("{name} version {}{}", found.version, modified.unwrap_or_default());
            write!(out, "{}", found.text)?;
            if !found.text.ends_with('\n') {
                writeln!(out)?;
            }
            Ok(())
        }
        SettingsCommand::Set { file, json } => {
            let name = parameter(config)?;
            let text = read_file(&file)?;
            // Checked first: a document that does not hold is never written.
            let effective = check(&text)?;
            let client = client().await;
            let exists = stored::read(&client, name).await?.is_some();
            let version = stored::write(&client, name, &text, exists).await?;
            report(out, json, Some((name, version)), &text, &effective)
        }
    }
}

/// The document checked against this process's variables, as a function started with
/// them would read it: the configuration it makes, or the key at fault.
fn check(text: &str) -> Result<Config, CliError> {
    stored::check(|name| std::env::var(name).ok(), text).map_err(CliError::from)
}

fn parameter(config: &Config) -> Result<&str, CliError> {
    config.settings_parameter.as_deref().ok_or_else(|| {
        CliError::Input("STAGING_SETTINGS_PARAMETER is not set: name the parameter (the stack's SettingsParameter), like /staging/settings".into())
    })
}

async fn client() -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&staging_core::shell::sdk_config().await)
}

fn read_file(file: &PathBuf) -> Result<String, CliError> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return Ok(text);
    }
    std::fs::read_to_string(file).map_err(|e| CliError::Input(format!("{}: {e}", file.display())))
}

/// What a good document sets, and (after `set`) where it was stored.
fn report(
    out: &mut impl Write,
    json: bool,
    stored: Option<(&str, i64)>,
    text: &str,
    effective: &Config,
) -> Result<(), CliError> {
    let keys = Settings::parse(text).map(|s| s.keys()).unwrap_or_default();
    let hours = &effective.business_hours;
    let probes: Vec<&str> = effective.probes.iter().map(|p| p.name.as_str()).collect();
    if json {
        let value = serde_json::json!({
            "valid": true,
            "parameter": stored.map(|(name, _)| name),
            "version": stored.map(|(_, version)| version),
            "sets": keys,
            "working_days": hours.working_days.to_string(),
            "holidays": hours.holidays.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "hold_default": humantime::format_duration(effective.hold_default).to_string(),
            "hold_max": humantime::format_duration(effective.hold_max).to_string(),
            "probes": probes,
        });
        return crate::write_json(out, &value);
    }
    match stored {
        Some((name, version)) => {
            writeln!(out, "✓ stored as {name} version {version}: the functions read it within 5 minutes")?
        }
        None => writeln!(out, "✓ the document holds (nothing written)")?,
    }
    let sets = if keys.is_empty() { "nothing (every setting as deployed)".to_string() } else { keys.join(", ") };
    writeln!(out, "  sets: {sets}")?;
    writeln!(
        out,
        "  working days {}, {} holidays, holds {} (at most {})",
        hours.working_days,
        hours.holidays.len(),
        humantime::format_duration(effective.hold_default),
        humantime::format_duration(effective.hold_max)
    )?;
    if !probes.is_empty() {
        writeln!(out, "  probes {}", probes.join(", "))?;
    }
    Ok(())
}

/// The configuration the functions decide with now: the variables, with the settings
/// document over them when `STAGING_SETTINGS_PARAMETER` names one. One that cannot be read
/// or does not hold is said on stderr, and the variables as deployed answer.
pub async fn in_force(config: Config) -> Config {
    let Some(name) = config.settings_parameter.clone() else { return config };
    let sdk = staging_core::shell::sdk_config().await;
    let client = staging_core::shell::Lazy::from(aws_sdk_ssm::Client::new(&sdk));
    let live = match LiveConfig::from_env(client) {
        Ok(live) => live,
        Err(_) => return config,
    };
    match live.refresh(chrono::Utc::now()).await {
        Reading::Applied { .. } | Reading::Unchanged | Reading::NotDue => {}
        Reading::Missing => eprintln!("stagingctl: note: no settings parameter {name}: the variables as deployed"),
        Reading::Refused { version, error, kept } => eprintln!(
            "stagingctl: warning: {name} version {version} does not hold ({error}); {}",
            match kept {
                Some(kept) => format!("deciding with version {kept}, the last that holds, as the functions do"),
                None => "no earlier version holds: deciding with the variables as deployed, as the functions do".into(),
            }
        ),
        Reading::Failed(e) => eprintln!("stagingctl: warning: {name} not read ({e}); the variables as deployed"),
    }
    (*live.held()).clone()
}

/// One group of settings as the functions decide with it now, for a command that needs no
/// more (`plan` the filters, `schedule` the business hours): `read` from the variables
/// alone, so a bad variable of another group does not stop the command; or, when
/// `STAGING_SETTINGS_PARAMETER` names a document, `pick`ed from the configuration
/// [`in_force`]. The document goes over every variable, so it is read only when they all
/// hold; when one does not (the functions would not start), that is said on stderr and the
/// variables as deployed answer.
pub async fn narrow<T>(read: fn(Vars<'_>) -> staging_core::Result<T>, pick: fn(&Config) -> T) -> Result<T, CliError> {
    let vars = Vars::env();
    let deployed = read(vars)?;
    let Some(name) = config::settings_parameter(vars)? else { return Ok(deployed) };
    match Config::from_env() {
        Ok(config) => Ok(pick(&in_force(config).await)),
        Err(e) => {
            eprintln!(
                "stagingctl: warning: {name} not read: a variable does not hold ({e}); the variables as deployed"
            );
            Ok(deployed)
        }
    }
}
