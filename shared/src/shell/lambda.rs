//! What the four Lambda functions share around their handlers: the cold start (logging,
//! the AWS clients, the settings kept live), each invocation's clock and settings, and
//! what an asynchronously invoked function answers.
//!
//! The runtime loop itself (`lambda_runtime::run(service_fn(..))`, `lambda_http::run`)
//! stays in each binary: this crate does not depend on the Lambda runtime, so the
//! runtime's `Diagnostic` is built there, from a [`Failure`].

use std::sync::Arc;

use aws_config::SdkConfig;
use chrono::{DateTime, Utc};

use super::settings::LiveConfig;
use super::{Clients, ShellError};
use crate::config::Config;

/// What a cold start builds.
pub struct ColdStart {
    /// The one SDK configuration (credentials, region, endpoint, retries) every client is
    /// built from.
    pub sdk: SdkConfig,
    pub clients: Clients,
    /// The variables as deployed, with the settings document over them, read on first use
    /// and when it is 5 minutes old.
    pub live: LiveConfig,
}

/// The cold start every function makes: logging, the SDK configuration and the clients
/// built from it, and the live settings over the process environment. A bad variable
/// fails it, naming the variable.
pub async fn start() -> crate::Result<ColdStart> {
    super::init_logging();
    let sdk = super::sdk_config().await;
    let clients = Clients::new(&sdk);
    let live = LiveConfig::from_env(clients.ssm.clone())?;
    Ok(ColdStart { sdk, clients, live })
}

/// Secrets Manager, built the first time a secret is read.
#[cfg(feature = "github")]
pub fn secrets(sdk: &SdkConfig) -> super::Lazy<aws_sdk_secretsmanager::Client> {
    let sdk = sdk.clone();
    super::Lazy::new(move || aws_sdk_secretsmanager::Client::new(&sdk))
}

/// An invocation's clock ([`super::now`]) and the configuration in force then (the
/// settings document read first when due).
pub async fn invocation(live: &LiveConfig) -> (DateTime<Utc>, Arc<Config>) {
    let now = super::now();
    (now, live.current(now).await)
}

/// An error answer, which Lambda retries: the fields of the runtime's `Diagnostic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error_type: &'static str,
    pub error_message: String,
}

/// What an asynchronously invoked function (Scheduler, SNS) answers for its handler's
/// result: the value, or (an error a retry can help, see [`super::async_answer`]) a
/// `Retryable` failure.
pub fn answer(result: Result<serde_json::Value, ShellError>) -> Result<serde_json::Value, Failure> {
    super::async_answer(result).map_err(|e| Failure { error_type: "Retryable", error_message: e.to_string() })
}
