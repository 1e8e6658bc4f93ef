use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use staging_core::Config;
use staging_core::shell::Clients;
use staging_core::shell::executor::Executor;
use staging_core::shell::github::GitHubApi;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    staging_core::shell::init_logging();
    let config = Config::from_env()?;
    let sdk = staging_core::shell::sdk_config().await;
    let clients = Clients::new(&sdk);
    // A start or an unlock dispatches what waited for it; the token is read from Secrets
    // Manager only then.
    let sdk_for_secrets = sdk.clone();
    let secrets = staging_core::shell::Lazy::new(move || aws_sdk_secretsmanager::Client::new(&sdk_for_secrets));
    let github = GitHubApi::with_secrets(&config.github, &secrets);
    let mut executor = Executor::new(&clients, &config);
    executor.github = github.as_ref();
    executor.emit_metrics = true;
    run(service_fn(|event: LambdaEvent<Value>| {
        let executor = &executor;
        async move {
            // Boxed: the handler's future nests deep enough to overflow the compiler's
            // layout queries for this block in a release build.
            let result = Box::pin(lifecycle::handle(executor, event.payload, staging_core::shell::now())).await;
            staging_core::shell::async_answer(result).map_err(|e| Diagnostic {
                error_type: "Retryable".into(),
                error_message: e.to_string(),
            })
        }
    }))
    .await
}
