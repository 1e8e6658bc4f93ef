use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use staging_core::shell::Clients;
use staging_core::shell::executor::Executor;
use staging_core::shell::github::GitHubApi;
use staging_core::shell::settings::LiveConfig;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    staging_core::shell::init_logging();
    let sdk = staging_core::shell::sdk_config().await;
    let clients = Clients::new(&sdk);
    // The variables as deployed (a bad one fails the cold start, naming it), with the
    // settings document over them, read on the first event and when it is 5 minutes old.
    let live = LiveConfig::from_env(clients.ssm.clone())?;
    // A start or an unlock dispatches what waited for it; the token is read from Secrets
    // Manager only then.
    let sdk_for_secrets = sdk.clone();
    let secrets = staging_core::shell::Lazy::new(move || aws_sdk_secretsmanager::Client::new(&sdk_for_secrets));
    let github = GitHubApi::with_secrets(&live.deployed().github, &secrets);
    run(service_fn(|event: LambdaEvent<Value>| {
        let (clients, live, github) = (&clients, &live, &github);
        async move {
            let now = staging_core::shell::now();
            let config = live.current(now).await;
            let mut executor = Executor::new(clients, &config);
            executor.github = github.as_ref();
            executor.emit_metrics = true;
            // Boxed: the handler's future nests deep enough to overflow the compiler's
            // layout queries for this block in a release build.
            let result = Box::pin(lifecycle::handle(&executor, event.payload, now)).await;
            staging_core::shell::async_answer(result)
                .map_err(|e| Diagnostic { error_type: "Retryable".into(), error_message: e.to_string() })
        }
    }))
    .await
}
