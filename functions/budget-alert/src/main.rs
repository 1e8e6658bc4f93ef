//! budget-alert: SNS from AWS Budgets → warn, or lock the environment and scale it to zero; daily cost report.
//!
//! This build starts the Lambda runtime with a checked configuration; the handler is
//! wired in the issue "budget-alert" and answers every event with a non-retryable error
//! until then, rather than pretending to act.

use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use serde_json::Value;
use staging_core::Config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::from_env()?;
    run(service_fn(|event: LambdaEvent<Value>| handle(&config, event))).await
}

async fn handle(config: &Config, _event: LambdaEvent<Value>) -> Result<Value, Error> {
    Err(format!("budget-alert for {} is not wired yet (issue \"budget-alert\")", config.environment).into())
}
