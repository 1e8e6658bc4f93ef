use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use staging_core::{Config, metrics};
use staging_core::shell::executor::Executor;
use staging_core::shell::probe::Prober;
use staging_core::shell::Clients;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    staging_core::shell::init_logging();
    let config = Config::from_env()?;
    // A bad probe URL fails the cold start, naming it.
    let prober = Prober::new(&config.probes)?;
    let clients = Clients::from_env().await;
    let mut executor = Executor::new(&clients, &config);
    executor.emit_metrics = true;
    run(service_fn(|event: LambdaEvent<Value>| {
        let (executor, prober) = (&executor, &prober);
        async move {
            // Boxed: the handler's future nests deep enough to overflow the compiler's
            // layout queries for this block in a release build.
            let now = staging_core::shell::now();
            let result = Box::pin(health_check::handle(executor, prober, event.payload, now)).await;
            if let Some(overdue) = result.as_ref().ok().and_then(|a| a["teardown_overdue"].as_bool()) {
                // An embedded-metric-format line: CloudWatch Logs makes it a metric.
                let metric = (metrics::TEARDOWN_OVERDUE, if overdue { 1.0 } else { 0.0 }, "Count");
                println!("{}", metrics::emf_line(&executor.config.environment, now, &[metric]));
            }
            staging_core::shell::async_answer(result).map_err(|e| Diagnostic {
                error_type: "Retryable".into(),
                error_message: e.to_string(),
            })
        }
    }))
    .await
}
