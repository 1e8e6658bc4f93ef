use lambda_http::{Error, Request, run, service_fn};
use staging_core::Config;
use staging_core::shell::Clients;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    staging_core::shell::init_logging();
    let mut config = Config::from_env()?;
    let sdk = staging_core::shell::sdk_config().await;
    // Built on first use: with the secret given directly (locally), a cold start makes none.
    let sdk_for_secrets = sdk.clone();
    let secrets = staging_core::shell::Lazy::new(move || aws_sdk_secretsmanager::Client::new(&sdk_for_secrets));
    staging_core::shell::github::resolve_webhook_secret(&secrets, &mut config.github).await?;
    let github = staging_core::shell::github::GitHubApi::with_secrets(&config.github, &secrets);
    let mut app = github_webhook::Webhook::with_github(Clients::new(&sdk), config, github)?;
    app.emit_metrics = true;
    run(service_fn(|request: Request| {
        let app = &app;
        async move { Ok::<_, Error>(github_webhook::handle(app, &request, staging_core::shell::now()).await) }
    }))
    .await
}
