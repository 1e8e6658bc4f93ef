//! lifecycle: EventBridge Scheduler → teardown, startup, on-demand starts, hold expiry, emergency bypass.
//!
//! This build starts the Lambda runtime with a checked configuration; the handler is
//! wired in the issue "lifecycle" and answers every event with a non-retryable error
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
    Err(format!("lifecycle for {} is not wired yet (issue \"lifecycle\")", config.environment).into())
}
