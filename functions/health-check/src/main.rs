use std::sync::{Arc, Mutex, PoisonError};

use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use staging_core::model::probe::Probe;
use staging_core::report::metrics;
use staging_core::shell::executor::Executor;
use staging_core::shell::lambda::{self, ColdStart};
use staging_core::shell::probe::Prober;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The variables as deployed (a bad one fails the cold start, naming it), with the
    // settings document (probes, thresholds, working days) over them, read on the first
    // tick and when it is 5 minutes old.
    let ColdStart { clients, live, .. } = lambda::start().await?;
    // A bad probe URL as deployed fails the cold start, naming it.
    let deployed = live.deployed().probes.clone();
    let prober = Mutex::new((deployed.clone(), Arc::new(Prober::new(&deployed)?)));
    run(service_fn(|event: LambdaEvent<Value>| {
        let (clients, live, prober) = (&clients, &live, &prober);
        async move {
            let (now, config) = lambda::invocation(live).await;
            let prober = probing(prober, &config.probes);
            let mut executor = Executor::new(clients, &config);
            executor.emit_metrics = true;
            // Boxed: the handler's future nests deep enough to overflow the compiler's
            // layout queries for this block in a release build.
            let result = Box::pin(health_check::handle(&executor, &prober, event.payload, now)).await;
            if let Some(overdue) = result.as_ref().ok().and_then(|a| a["teardown_overdue"].as_bool()) {
                // An embedded-metric-format line: CloudWatch Logs makes it a metric.
                let metric = (metrics::TEARDOWN_OVERDUE, if overdue { 1.0 } else { 0.0 }, "Count");
                println!("{}", metrics::emf_line(&config.environment, now, &[metric]));
            }
            lambda::answer(result)
                .map_err(|f| Diagnostic { error_type: f.error_type.into(), error_message: f.error_message })
        }
    }))
    .await
}

/// The prober for `probes`: the one held while they are the same, a new one when the
/// settings document changed them (one it cannot build keeps the last, logged).
fn probing(held: &Mutex<(Vec<Probe>, Arc<Prober>)>, probes: &[Probe]) -> Arc<Prober> {
    let mut held = held.lock().unwrap_or_else(PoisonError::into_inner);
    if held.0 != probes {
        match Prober::new(probes) {
            Ok(prober) => *held = (probes.to_vec(), Arc::new(prober)),
            Err(e) => {
                lambda_runtime::tracing::error!(error = %e, "the probes of the settings document are unusable: the last good ones stay")
            }
        }
    }
    held.1.clone()
}
