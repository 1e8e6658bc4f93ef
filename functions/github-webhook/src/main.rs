use lambda_http::{Error, Request, run, service_fn, tracing};
use staging_core::Config;
use staging_core::aws::Clients;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let app = github_webhook::Webhook::new(Clients::from_env().await, config)?;
    run(service_fn(|request: Request| {
        let app = &app;
        async move { Ok::<_, Error>(github_webhook::handle(app, &request, chrono::Utc::now()).await) }
    }))
    .await
}
