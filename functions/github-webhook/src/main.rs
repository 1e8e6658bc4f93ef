//! github-webhook: GitHub push and workflow_run webhooks (Function URL) → verify, plan, wake, deploy, notify.
//!
//! This build starts the Lambda runtime with a checked configuration; the handler is
//! wired in the issue "github-webhook: push to develop → verified, planned, deployed, reported" and answers every event with a non-retryable error
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
    Err(format!("github-webhook for {} is not wired yet (issue \"github-webhook: push to develop → verified, planned, deployed, reported\")", config.environment).into())
}
