use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use staging_core::shell::executor::Executor;
use staging_core::shell::github::GitHubApi;
use staging_core::shell::lambda::{self, ColdStart};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The variables as deployed (a bad one fails the cold start, naming it), with the
    // settings document over them, read on the first event and when it is 5 minutes old.
    let ColdStart { sdk, clients, live } = lambda::start().await?;
    // A start or an unlock dispatches what waited for it; the token is read from Secrets
    // Manager only then.
    let secrets = lambda::secrets(&sdk);
    let github = GitHubApi::with_secrets(&live.deployed().github, &secrets);
    run(service_fn(|event: LambdaEvent<Value>| {
        let (clients, live, github) = (&clients, &live, &github);
        async move {
            let (now, config) = lambda::invocation(live).await;
            let mut executor = Executor::new(clients, &config);
            executor.github = github.as_ref();
            executor.emit_metrics = true;
            // Boxed: the handler's future nests deep enough to overflow the compiler's
            // layout queries for this block in a release build.
            let result = Box::pin(lifecycle::handle(&executor, event.payload, now)).await;
            lambda::answer(result)
                .map_err(|f| Diagnostic { error_type: f.error_type.into(), error_message: f.error_message })
        }
    }))
    .await
}
