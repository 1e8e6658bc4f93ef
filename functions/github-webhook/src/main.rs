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
    let given_directly = !config.github.webhook_secrets.is_empty();
    staging_core::shell::github::resolve_webhook_secret(&secrets, &mut config.github).await?;
    let github = staging_core::shell::github::GitHubApi::with_secrets(&config.github, &secrets);
    // Read from Secrets Manager (not given directly): read again on a signature mismatch.
    let source = match (&config.github.webhook_secret_arn, given_directly) {
        (Some(arn), false) => Some(github_webhook::SecretSource::new(arn.clone(), secrets.clone(), staging_core::shell::now())),
        _ => None,
    };
    let mut app = github_webhook::Webhook::with_github(Clients::new(&sdk), config, github)?;
    app.emit_metrics = true;
    app.secret_source = source;
    // The template gives the public webhook no CloudFormation rights (stack mode).
    app.stack_by_lifecycle = app.config.teardown.pause_stack().is_some();
    // Nor Application Auto Scaling's RegisterScalableTarget (it may describe only).
    app.leaves_scaling = true;
    run(service_fn(|request: Request| {
        let app = &app;
        async move { Ok::<_, Error>(github_webhook::handle(app, &request, staging_core::shell::now()).await) }
    }))
    .await
}
