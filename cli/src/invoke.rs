//! `stagingctl invoke FUNCTION --event FILE`: one function's handler, in process, on an
//! event file — the same handler code the Lambda binary runs, minus the runtime API.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use staging_core::Config;
use staging_core::shell::executor::Executor;

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// The function.
    #[arg(value_enum)]
    function: Function,
    /// The event, as JSON.
    #[arg(long, value_name = "FILE")]
    event: PathBuf,
    /// The clock for this run [default: now]
    #[arg(long, value_name = "RFC3339", value_parser = crate::schedule::parse_instant)]
    now: Option<DateTime<Utc>>,
    /// Print JSON (compact; the default is pretty JSON).
    #[arg(long)]
    json: bool,
}

/// The four functions, by the names of their binaries (clap refuses any other name, with
/// exit code 2, listing these).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Function {
    Lifecycle,
    GithubWebhook,
    BudgetAlert,
    HealthCheck,
    FrontDoor,
}

pub async fn run(config: &Config, args: Args, out: &mut impl Write) -> Result<(), CliError> {
    let text = std::fs::read_to_string(&args.event)
        .map_err(|e| CliError::Input(format!("cannot read event file {}: {e}", args.event.display())))?;
    let event: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Input(format!("{} is not JSON: {e}", args.event.display())))?;
    let now = args.now.unwrap_or_else(Utc::now);
    let (clients, config, github) = crate::operate::connect(config).await?;
    let response = match args.function {
        Function::GithubWebhook => {
            // The event is the Function URL request, as Lambda delivers it.
            let request = lambda_http::request::from_str(&text)
                .map_err(|e| CliError::Input(format!("{} is not a Function URL request: {e}", args.event.display())))?;
            let app = github_webhook::Webhook::with_github(clients, config, github).map_err(CliError::Input)?;
            let response = github_webhook::handle(&app, &request, now).await;
            let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or(serde_json::Value::Null);
            serde_json::json!({ "statusCode": response.status().as_u16(), "body": body })
        }
        Function::FrontDoor => {
            // The event is the Function URL (or ALB) request, as Lambda delivers it; the
            // whole answer is printed, cookies and all, so a browser's steps can be replayed.
            let request = lambda_http::request::from_str(&text)
                .map_err(|e| CliError::Input(format!("{} is not a Function URL request: {e}", args.event.display())))?;
            let sdk = staging_core::shell::sdk_config().await;
            let secrets = staging_core::shell::Lazy::from(aws_sdk_secretsmanager::Client::new(&sdk));
            let live = staging_core::shell::settings::LiveConfig::fixed(config, clients.ssm.clone());
            let app = front_door::FrontDoor::new(clients, live, secrets)?;
            front_door::as_json(&front_door::handle(&app, &request, now).await)
        }
        Function::HealthCheck => {
            let prober = staging_core::shell::probe::Prober::new(&config.probes)?;
            health_check::handle(&Executor::new(&clients, &config), &prober, event, now).await?
        }
        Function::BudgetAlert => budget_alert::handle(&Executor::new(&clients, &config), event, now).await?,
        Function::Lifecycle => {
            let mut executor = Executor::new(&clients, &config);
            executor.github = github.as_ref();
            lifecycle::handle(&executor, event, now).await?
        }
    };
    if args.json {
        writeln!(out, "{response}")?;
        Ok(())
    } else {
        crate::write_json(out, &response)
    }
}
