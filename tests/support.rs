//! Local AWS for tests: moto in server mode, started (or reused) once per test process
//! through `scripts/local-aws`, the same script developers use. Tests share one server,
//! so they take [`serial`] and start from a [`reset`] stack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sqs::config::Credentials;
use staging_core::Config;
use staging_core::shell::Clients;

/// Tests use their own port, so a developer's server on 5055 is left alone: `MOTO_PORT`
/// when set (scripts/test sets 5155; a second checkout or a clock-shifted run takes
/// another), else 5155.
pub fn moto_port() -> String {
    std::env::var("MOTO_PORT").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "5155".into())
}

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time against the shared server.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the repo").to_path_buf()
}

/// The variables `scripts/local-aws` exports, after clearing and bootstrapping the stack
/// (installing and starting moto first if needed).
pub fn reset() -> BTreeMap<String, String> {
    let out = Command::new(repo_root().join("scripts/local-aws"))
        .arg("reset")
        .env("MOTO_PORT", moto_port())
        .output()
        .expect("scripts/local-aws runs");
    assert!(out.status.success(), "scripts/local-aws reset failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .expect("exports are UTF-8")
        .lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

/// The configuration the functions would read from these variables.
pub fn config(env: &BTreeMap<String, String>) -> Config {
    Config::from_lookup(|name| env.get(name).cloned()).expect("the exported configuration is valid")
}

/// The SDK configuration pointing at the local server.
pub async fn sdk_config(env: &BTreeMap<String, String>) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&env["AWS_ENDPOINT_URL"])
        .region(Region::new(env["AWS_REGION"].clone()))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "local-aws"))
        .load()
        .await
}

pub async fn clients(env: &BTreeMap<String, String>) -> Clients {
    Clients::new(&sdk_config(env).await)
}

/// Every message waiting in the team queue (the SNS envelope of each, parsed), removed.
pub async fn drain_team_queue(env: &BTreeMap<String, String>) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(env).await);
    let url = &env["STAGING_TEAM_QUEUE_URL"];
    let mut messages = Vec::new();
    loop {
        let out =
            sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.expect("sqs:ReceiveMessage");
        if out.messages().is_empty() {
            return messages;
        }
        for m in out.messages() {
            messages.push(serde_json::from_str(m.body().unwrap_or_default()).expect("an SNS envelope"));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("sqs:DeleteMessage");
        }
    }
}

/// A fault injected into a real SDK client: every call whose input is of type `T`
/// fails before it is sent; every other call goes to moto as usual. (aws-smithy-mocks
/// would replace the whole client; here ECS must stay real for everything else.)
#[derive(Debug, Default)]
pub struct FailOperation<T>(std::marker::PhantomData<fn() -> T>);

impl<T> FailOperation<T> {
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<T: std::fmt::Debug + Send + Sync + 'static> aws_sdk_ecs::config::Intercept for FailOperation<T> {
    fn name(&self) -> &'static str {
        "FailOperation"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_ecs::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_sdk_ecs::config::ConfigBag,
    ) -> Result<(), aws_sdk_ecs::error::BoxError> {
        match context.input().downcast_ref::<T>() {
            Some(_) => Err(format!("injected fault: {}", std::any::type_name::<T>()).into()),
            None => Ok(()),
        }
    }
}

/// An ECS client on the local server whose `UpdateService` calls fail.
pub async fn ecs_failing_updates(env: &BTreeMap<String, String>) -> aws_sdk_ecs::Client {
    let sdk = sdk_config(env).await;
    let config = aws_sdk_ecs::config::Builder::from(&sdk)
        .interceptor(FailOperation::<aws_sdk_ecs::operation::update_service::UpdateServiceInput>::new())
        .build();
    aws_sdk_ecs::Client::from_conf(config)
}

/// An SNS client whose every call is answered 500 by `server` (a real HTTP server on
/// loopback), with the SDK's retries kept short.
pub async fn sns_failing(env: &BTreeMap<String, String>, server: &str) -> aws_sdk_sns::Client {
    let sdk = sdk_config(env).await;
    let config = aws_sdk_sns::config::Builder::from(&sdk)
        .endpoint_url(server)
        .retry_config(
            aws_sdk_sns::config::retry::RetryConfig::standard()
                .with_initial_backoff(std::time::Duration::from_millis(1)),
        )
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// An HTTP client that holds back every ECS `UpdateService` request by `delay` before
/// sending it on to the real one: latency injected to force one interleaving of two
/// invocations (the first commits, the second commits after it, the first acts last).
#[derive(Debug, Clone)]
pub struct SlowUpdates {
    pub inner: aws_sdk_ecs::config::SharedHttpClient,
    pub delay: std::time::Duration,
}

#[derive(Debug)]
struct SlowConnector {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    delay: std::time::Duration,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for SlowConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let slow = request.headers().get("x-amz-target").is_some_and(|t| t.ends_with(".UpdateService"));
        let (inner, delay) = (self.inner.clone(), self.delay);
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(async move {
            if slow {
                tokio::time::sleep(delay).await;
            }
            inner.call(request).await
        })
    }
}

impl aws_sdk_ecs::config::HttpClient for SlowUpdates {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_sdk_ecs::config::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(SlowConnector {
            inner: self.inner.http_connector(settings, components),
            delay: self.delay,
        })
    }
}

/// An ECS client on the local server whose `UpdateService` calls arrive `delay` late.
pub async fn ecs_slow_updates(env: &BTreeMap<String, String>, delay: std::time::Duration) -> aws_sdk_ecs::Client {
    let sdk = sdk_config(env).await;
    // The local server speaks plain HTTP.
    let inner = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_ecs::config::Builder::from(&sdk).http_client(SlowUpdates { inner, delay }).build();
    aws_sdk_ecs::Client::from_conf(config)
}

/// Asks local AWS a question about a service the functions do not call (ELBv2, EC2,
/// Route 53), with boto3 from moto's venv (`scripts/local-aws.d/observe.py`); the answer
/// is JSON.
pub fn observe(env: &BTreeMap<String, String>, question: &[&str]) -> serde_json::Value {
    let python = repo_root().join(".local/moto/bin/python");
    let out = Command::new(python)
        .arg(repo_root().join("scripts/local-aws.d/observe.py"))
        .arg(&env["AWS_ENDPOINT_URL"])
        .arg(&env["AWS_REGION"])
        .args(question)
        .output()
        .expect("moto's python runs");
    assert!(out.status.success(), "observe.py {question:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("observe.py prints JSON")
}

/// A GitHub delivery as the Function URL hands it to the webhook: POSTed JSON with its
/// event and delivery headers, signed with `secret` (X-Hub-Signature-256).
pub fn signed_request(secret: &str, event: &str, delivery: &str, body: &[u8]) -> lambda_http::Request {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://example.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
        .body(lambda_http::Body::from(body.to_vec()))
        .expect("a valid request")
}
