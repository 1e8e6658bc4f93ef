use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn, tracing};
use serde_json::Value;
use staging_core::Config;
use staging_core::shell::Clients;
use staging_core::shell::executor::Executor;
use staging_core::shell::github::{GitHubApi, resolve_secrets};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let mut config = Config::from_env()?;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    // The token dispatches what waited for a start or an unlock.
    resolve_secrets(&aws_sdk_secretsmanager::Client::new(&sdk), &mut config.github).await?;
    let clients = Clients::new(&sdk);
    let github = GitHubApi::new(&config.github);
    let mut executor = Executor::new(&clients, &config);
    executor.github = github.as_ref();
    run(service_fn(|event: LambdaEvent<Value>| {
        let executor = &executor;
        async move {
            lifecycle::handle(executor, event.payload, chrono::Utc::now())
                .await
                .map_err(|e| Diagnostic {
                    error_type: if e.is_retryable() { "Retryable" } else { "NonRetryable" }.into(),
                    error_message: e.to_string(),
                })
        }
    }))
    .await
}
