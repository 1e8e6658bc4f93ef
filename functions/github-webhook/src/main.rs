use lambda_http::{Error, Request, run, service_fn};
use staging_core::shell::lambda::{self, ColdStart};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The variables as deployed (a bad one fails the cold start, naming it), with the
    // settings document (filters, working days, holds) over them, read on the first
    // verified delivery and when it is 5 minutes old.
    let ColdStart { sdk, clients, mut live } = lambda::start().await?;
    // Built on first use: with the secret given directly (locally), a cold start makes none.
    let secrets = lambda::secrets(&sdk);
    let mut github_config = live.deployed().github.clone();
    let given_directly = !github_config.webhook_secrets.is_empty();
    staging_core::shell::github::resolve_webhook_secret(&secrets, &mut github_config).await?;
    let github = staging_core::shell::github::GitHubApi::with_secrets(&github_config, &secrets);
    // Read from Secrets Manager (not given directly): read again on a signature mismatch.
    let source = match (&github_config.webhook_secret_arn, given_directly) {
        (Some(arn), false) => {
            Some(github_webhook::SecretSource::new(arn.clone(), secrets.clone(), staging_core::shell::now()))
        }
        _ => None,
    };
    live.amend(|config| config.github = github_config);
    let mut app = github_webhook::Webhook::with_live(clients, live, github)?;
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
