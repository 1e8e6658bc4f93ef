use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use staging_core::Config;
use staging_core::shell::Clients;
use staging_core::shell::executor::Executor;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    staging_core::shell::init_logging();
    let config = Config::from_env()?;
    let clients = Clients::from_env().await;
    let mut executor = Executor::new(&clients, &config);
    executor.emit_metrics = true;
    run(service_fn(|event: LambdaEvent<Value>| {
        let executor = &executor;
        async move {
            // Boxed: the handler's future nests deep enough to overflow the compiler's
            // layout queries for this block.
            let result = Box::pin(budget_alert::handle(executor, event.payload, staging_core::shell::now())).await;
            staging_core::shell::async_answer(result).map_err(|e| Diagnostic {
                error_type: "Retryable".into(),
                error_message: e.to_string(),
            })
        }
    }))
    .await
}
