use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn, tracing};
use serde_json::Value;
use staging_core::Config;
use staging_core::aws::Clients;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let clients = Clients::from_env().await;
    run(service_fn(|event: LambdaEvent<Value>| {
        let (clients, config) = (&clients, &config);
        async move {
            lifecycle::handle(clients, config, event.payload, chrono::Utc::now())
                .await
                .map_err(|e| Diagnostic {
                    error_type: if e.is_retryable() { "Retryable" } else { "NonRetryable" }.into(),
                    error_message: e.to_string(),
                })
        }
    }))
    .await
}
