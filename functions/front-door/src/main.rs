use lambda_http::{Error, Request, run, service_fn};
use staging_core::shell::lambda::{self, ColdStart};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The variables as deployed (a bad one fails the cold start, naming it), with the
    // settings document (wake quotas, idle times) over them.
    let ColdStart { sdk, clients, live } = lambda::start().await?;
    // The invite secret is read on the first request that needs it, not at the cold start.
    let mut app = front_door::FrontDoor::new(clients, live, lambda::secrets(&sdk))?;
    app.emit_metrics = true;
    run(service_fn(|request: Request| {
        let app = &app;
        async move { Ok::<_, Error>(front_door::handle(app, &request, staging_core::shell::now()).await) }
    }))
    .await
}
