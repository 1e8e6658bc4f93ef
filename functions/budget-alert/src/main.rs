use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use staging_core::shell::executor::Executor;
use staging_core::shell::lambda::{self, ColdStart};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The variables as deployed (a bad one fails the cold start, naming it), with the
    // settings document (the rates) over them, read on the first event and when it is 5
    // minutes old.
    let ColdStart { clients, live, .. } = lambda::start().await?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let (clients, live) = (&clients, &live);
        async move {
            let (now, config) = lambda::invocation(live).await;
            let mut executor = Executor::new(clients, &config);
            executor.emit_metrics = true;
            // Boxed: the handler's future nests deep enough to overflow the compiler's
            // layout queries for this block.
            let result = Box::pin(budget_alert::handle(&executor, event.payload, now)).await;
            lambda::answer(result)
                .map_err(|f| Diagnostic { error_type: f.error_type.into(), error_message: f.error_message })
        }
    }))
    .await
}
