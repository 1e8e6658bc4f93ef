//! `stagingctl invite NAME [--for 30d]`: a personal link that lets NAME wake staging from
//! its front door; `--revoke NAME` ends every link made for NAME so far, at once.

use std::io::Write;
use std::time::Duration;

use staging_core::Config;
use staging_core::audit::{Origin, Source};
use staging_core::config::Secret;
use staging_core::decide::front_door::{self, INVITE_PATH};
use staging_core::decide::invite::Invite;
use staging_core::shell::executor::Executor;
use staging_core::shell::runner::run_with;

use crate::error::CliError;
use crate::operate::CommonArgs;

#[derive(clap::Args)]
pub struct Args {
    /// The person (letters, digits, - and _): their wakes are held and kept in the trail
    /// by this name.
    name: String,
    /// How long the link works.
    #[arg(long = "for", value_name = "DURATION", default_value = "30d", value_parser = crate::operate::parse_duration)]
    valid: Duration,
    /// Revoke every invite made for NAME until now (the front door refuses them at once).
    #[arg(long)]
    revoke: bool,
    #[command(flatten)]
    common: CommonArgs,
}

/// The signing secret: given directly, or read from `STAGING_INVITE_SECRET_ARN`.
async fn secret(config: &Config) -> Result<Secret, CliError> {
    let fd = &config.front_door;
    if let Some(first) = fd.invite_secrets.first() {
        return Ok(first.clone());
    }
    let Some(arn) = &fd.invite_secret_arn else {
        return Err(CliError::Input(
            "no invite secret: set STAGING_INVITE_SECRET_ARN (the stack's InviteSecret) or STAGING_INVITE_SECRET"
                .into(),
        ));
    };
    let sdk = staging_core::shell::sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let text = staging_core::shell::github::read_secret(&client, arn).await?;
    // Read as the front door reads it (`new,old` while rotating): links are signed with the new one.
    staging_core::decide::webhook::parse_webhook_secrets(&text)
        .into_iter()
        .next()
        .ok_or_else(|| CliError::Failed(format!("the invite secret {arn} is empty")))
}

pub async fn run(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    let now = staging_core::shell::now();
    if args.revoke {
        return revoke(config, &args, out).await;
    }
    let valid = chrono::Duration::from_std(args.valid).map_err(|e| CliError::Input(format!("--for: {e}")))?;
    let invite = Invite::new(&args.name, now, valid).map_err(CliError::Input)?;
    let token = invite.token(&secret(config).await?);
    let base = config.front_door.url.as_deref().unwrap_or("");
    let link = format!("{base}{INVITE_PATH}?token={token}");
    if args.common.json {
        let value = serde_json::json!({
            "name": invite.name,
            "expires": staging_core::time::rfc3339(invite.expires),
            "link": link,
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    let tz = config.business_hours.time_zone;
    writeln!(
        out,
        "Invite for {} until {} ({}): open it once in the browser they test with.",
        invite.name,
        invite.expires.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
        humantime::format_duration(args.valid)
    )?;
    if base.is_empty() {
        writeln!(out, "(STAGING_URL is not set: put the staging address in front of the path.)")?;
    }
    writeln!(out, "{link}")?;
    Ok(())
}

async fn revoke(config: &Config, args: &Args, out: &mut impl Write) -> Result<(), CliError> {
    let (clients, config, _) = crate::operate::connect(config).await?;
    let executor = Executor::new(&clients, &config);
    let who = args.common.who();
    let now = staging_core::shell::now();
    let origin = Origin::new(Source::Operator, who.as_str(), format!("invite --revoke {}", args.name));
    let outcome =
        run_with(&executor, &origin, now, |state, _| front_door::revoke(state, &args.name, &who, now)).await?;
    if args.common.json {
        writeln!(out, "{}", serde_json::json!({ "summary": outcome.summary }))?;
    } else {
        writeln!(out, "{}", outcome.summary)?;
    }
    Ok(())
}
