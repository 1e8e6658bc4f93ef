use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn, tracing};
use serde_json::{Value, json};
use staging_core::Config;
use staging_core::shell::Clients;
use staging_core::shell::executor::Executor;
use staging_core::shell::github::GitHubApi;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let clients = Clients::new(&sdk);
    // A start or an unlock dispatches what waited for it; the token is read from Secrets
    // Manager only then.
    let github = GitHubApi::with_secrets(&config.github, &aws_sdk_secretsmanager::Client::new(&sdk));
    let mut executor = Executor::new(&clients, &config);
    executor.github = github.as_ref();
    run(service_fn(|event: LambdaEvent<Value>| {
        let executor = &executor;
        async move {
            // Boxed: the handler's future nests deep enough to overflow the compiler's
            // layout queries for this block in a release build.
            match Box::pin(lifecycle::handle(executor, event.payload, chrono::Utc::now())).await {
                Ok(outcome) => Ok(outcome),
                // Lambda retries a failed asynchronous invocation twice whatever the error
                // says; only what a retry can help is returned as a failure.
                Err(e) if e.is_retryable() => Err(Diagnostic {
                    error_type: "Retryable".into(),
                    error_message: e.to_string(),
                }),
                Err(e) => {
                    tracing::error!(error = %e, "not retried: trying again cannot help");
                    Ok(json!({ "error": e.to_string(), "retryable": false }))
                }
            }
        }
    }))
    .await
}
