use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use staging_core::shell::Clients;
use staging_core::shell::executor::Executor;
use staging_core::shell::settings::LiveConfig;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    staging_core::shell::init_logging();
    let clients = Clients::from_env().await;
    // The variables as deployed (a bad one fails the cold start, naming it), with the
    // settings document (the rates) over them, read on the first event and when it is 5
    // minutes old.
    let live = LiveConfig::from_env(clients.ssm.clone())?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let (clients, live) = (&clients, &live);
        async move {
            let now = staging_core::shell::now();
            let config = live.current(now).await;
            let mut executor = Executor::new(clients, &config);
            executor.emit_metrics = true;
            // Boxed: the handler's future nests deep enough to overflow the compiler's
            // layout queries for this block.
            let result = Box::pin(budget_alert::handle(&executor, event.payload, now)).await;
            staging_core::shell::async_answer(result)
                .map_err(|e| Diagnostic { error_type: "Retryable".into(), error_message: e.to_string() })
        }
    }))
    .await
}
