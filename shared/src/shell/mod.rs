//! The imperative shell: AWS adapters that observe the environment and carry out the
//! core's [`Action`](crate::Action)s. They hold no policy; every rule is in the pure
//! modules. Every client comes from one `SdkConfig` loaded once per cold start, and
//! `AWS_ENDPOINT_URL` points them all at a local emulator when it is set.

pub mod autoscaling;
#[cfg(feature = "budgets")]
pub mod budgets;
#[cfg(feature = "metrics")]
pub mod cloudwatch;
#[cfg(feature = "costs")]
pub mod costs;
pub mod ecs;
pub mod elb;
pub mod error;
pub mod executor;
#[cfg(feature = "github")]
pub mod github;
#[cfg(feature = "http")]
pub mod http;
pub mod lambda;
pub mod notify;
#[cfg(feature = "probes")]
pub mod probe;
pub mod runner;
pub mod scheduler;
pub mod settings;
pub mod stack;
pub mod store;

pub use error::ShellError;

/// Secrets Manager's client (the GitHub token, the webhook and invite secrets).
#[cfg(feature = "github")]
pub type SecretsClient = aws_sdk_secretsmanager::Client;

use aws_config::{BehaviorVersion, SdkConfig};

/// Logging as `lambda_runtime`'s default subscriber sets it up — Lambda's advanced logging
/// controls: `AWS_LAMBDA_LOG_FORMAT=JSON` for JSON lines, the level from
/// `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO — but with a plain level filter
/// instead of an `EnvFilter`, whose directive parser links a regex engine (about 200 KB)
/// into functions that otherwise have none. `RUST_LOG` is read as one level (`debug`),
/// not as per-module directives.
pub fn init_logging() {
    let var = |name: &str| std::env::var(name).ok();
    let level = log_level(var("AWS_LAMBDA_LOG_LEVEL"), var("RUST_LOG"));
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_target(false).without_time().with_max_level(level);
    // Set once per process; a second call (a test) keeps the first.
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// The level: Lambda's setting, else `RUST_LOG`, else INFO; one that does not parse as a
/// level counts as unset.
fn log_level(lambda: Option<String>, rust_log: Option<String>) -> tracing_subscriber::filter::LevelFilter {
    [lambda, rust_log]
        .into_iter()
        .flatten()
        // Lambda's levels include FATAL, which tracing calls ERROR.
        .find_map(|l| {
            if l.trim().eq_ignore_ascii_case("fatal") {
                Some(tracing_subscriber::filter::LevelFilter::ERROR)
            } else {
                l.trim().parse().ok()
            }
        })
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO)
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::filter::LevelFilter;

    #[test]
    fn the_log_level_comes_from_lambda_then_rust_log_then_info() {
        let s = |v: &str| Some(v.to_string());
        #[rustfmt::skip]
        let cases = [
            (s("DEBUG"), s("error"), LevelFilter::DEBUG),
            (None, s("warn"), LevelFilter::WARN),
            (s("not a level"), s("trace"), LevelFilter::TRACE),
            (None, s("staging_core=debug"), LevelFilter::INFO),
            (None, None, LevelFilter::INFO),
            (s("FATAL"), s("debug"), LevelFilter::ERROR),
        ];
        for (lambda, rust_log, expected) in cases {
            assert_eq!(super::log_level(lambda.clone(), rust_log.clone()), expected, "{lambda:?} {rust_log:?}");
        }
    }
}

/// The clock the functions decide by: the system's. Built with the feature `demo-clock`
/// (only `scripts/demo` builds it so; release packages never do), the RFC 3339 instant in
/// the file named by `STAGING_DEMO_CLOCK`, read at every invocation, so that a day can be
/// replayed through the real Lambda runtime. A missing or unreadable file is the system
/// clock, said once per invocation in the log.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    #[cfg(feature = "demo-clock")]
    if let Some(path) = std::env::var_os("STAGING_DEMO_CLOCK") {
        match std::fs::read_to_string(&path).map(|s| chrono::DateTime::parse_from_rfc3339(s.trim())) {
            Ok(Ok(t)) => return t.with_timezone(&chrono::Utc),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "STAGING_DEMO_CLOCK: not an RFC 3339 instant; using the system clock")
            }
            Err(e) => tracing::warn!(error = %e, "STAGING_DEMO_CLOCK: unreadable; using the system clock"),
        }
    }
    chrono::Utc::now()
}

/// Every AWS client the functions use, shared by reference, each built the first time it
/// is used: a cold start pays only for the clients its invocation calls.
#[derive(Clone, Debug)]
pub struct Clients {
    /// Cost Explorer answers from us-east-1 only (feature `costs`).
    #[cfg(feature = "costs")]
    pub costexplorer: Lazy<aws_sdk_costexplorer::Client>,
    /// The pause stack (`STAGING_TEARDOWN=stack`).
    pub cloudformation: Lazy<aws_sdk_cloudformation::Client>,
    /// The service's scalable target, when it has one.
    pub autoscaling: Lazy<aws_sdk_applicationautoscaling::Client>,
    pub dynamodb: Lazy<aws_sdk_dynamodb::Client>,
    pub ecs: Lazy<aws_sdk_ecs::Client>,
    pub scheduler: Lazy<aws_sdk_scheduler::Client>,
    pub sns: Lazy<aws_sdk_sns::Client>,
    /// The settings document (`STAGING_SETTINGS_PARAMETER`).
    pub ssm: Lazy<aws_sdk_ssm::Client>,
    /// The staging address's listener and the app's target health (`STAGING_LISTENER_ARN`).
    pub elb: Lazy<aws_sdk_elasticloadbalancingv2::Client>,
    /// The load balancer's use figures, for the idle stop (feature `metrics`: the health check).
    #[cfg(feature = "metrics")]
    pub cloudwatch: Lazy<aws_sdk_cloudwatch::Client>,
}

impl Clients {
    /// Clients sharing one configuration (credentials, region, endpoint, retries).
    pub fn new(sdk: &SdkConfig) -> Self {
        fn lazy<T: 'static>(sdk: &SdkConfig, make: fn(&SdkConfig) -> T) -> Lazy<T> {
            let sdk = sdk.clone();
            Lazy::new(move || make(&sdk))
        }
        Self {
            #[cfg(feature = "costs")]
            costexplorer: lazy(sdk, |sdk| {
                aws_sdk_costexplorer::Client::from_conf(
                    aws_sdk_costexplorer::config::Builder::from(sdk)
                        .region(aws_sdk_costexplorer::config::Region::new("us-east-1"))
                        .build(),
                )
            }),
            cloudformation: lazy(sdk, aws_sdk_cloudformation::Client::new),
            autoscaling: lazy(sdk, aws_sdk_applicationautoscaling::Client::new),
            dynamodb: lazy(sdk, aws_sdk_dynamodb::Client::new),
            ecs: lazy(sdk, aws_sdk_ecs::Client::new),
            scheduler: lazy(sdk, aws_sdk_scheduler::Client::new),
            sns: lazy(sdk, aws_sdk_sns::Client::new),
            ssm: lazy(sdk, aws_sdk_ssm::Client::new),
            elb: lazy(sdk, aws_sdk_elasticloadbalancingv2::Client::new),
            #[cfg(feature = "metrics")]
            cloudwatch: lazy(sdk, aws_sdk_cloudwatch::Client::new),
        }
    }

    /// Loads the standard configuration chain (environment, profile, container or
    /// Lambda credentials; `AWS_ENDPOINT_URL`) and builds every client from it.
    pub async fn from_env() -> Self {
        Self::new(&sdk_config().await)
    }
}

/// A value built the first time it is used (and shared by clones); `Lazy::from(value)`
/// is one built already.
#[derive(Clone)]
pub struct Lazy<T> {
    cell: std::sync::Arc<std::sync::OnceLock<T>>,
    make: std::sync::Arc<dyn Fn() -> T + Send + Sync>,
}

impl<T> Lazy<T> {
    pub fn new(make: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self { cell: std::sync::Arc::new(std::sync::OnceLock::new()), make: std::sync::Arc::new(make) }
    }
}

impl<T: Clone + Send + Sync + 'static> From<T> for Lazy<T> {
    fn from(value: T) -> Self {
        let cell = std::sync::OnceLock::new();
        let _ = cell.set(value.clone());
        Self { cell: std::sync::Arc::new(cell), make: std::sync::Arc::new(move || value.clone()) }
    }
}

impl<T> std::ops::Deref for Lazy<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.cell.get_or_init(|| (self.make)())
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cell.get() {
            Some(value) => value.fmt(f),
            None => f.write_str("<not built yet>"),
        }
    }
}

/// The standard configuration chain (environment, profile, container or Lambda
/// credentials; `AWS_ENDPOINT_URL`), with the SDK's own HTTPS client, whose root
/// certificates are read on the first AWS call instead of at cold start: an invocation
/// that calls no AWS API (a ping) does not pay for them, and none pays before the
/// runtime asks for its first event.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).http_client(lazy_tls::LazyTls::new()).load().await
}

mod lazy_tls {
    use aws_sdk_dynamodb::config::ConfigBag;
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
    use aws_smithy_runtime_api::box_error::BoxError;
    use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};

    /// The client `aws-config` builds by default (hyper 1, rustls on aws-lc, proxy from
    /// the environment), minus its eager certificate load: that client builds its TCP
    /// connector when a Smithy client is created, so that certificates load at
    /// initialisation; this one builds it on the first request.
    #[derive(Debug, Clone)]
    pub struct LazyTls(SharedHttpClient);

    impl LazyTls {
        pub fn new() -> Self {
            Self(Builder::new().build_with_connector_fn(|settings, components| {
                let mut builder = ConnectorBuilder::default()
                    .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
                builder.set_connector_settings(settings.cloned());
                if let Some(components) = components {
                    builder.set_sleep_impl(components.sleep_impl());
                }
                builder.set_proxy_config(Some(ProxyConfig::from_env()));
                builder.build()
            }))
        }
    }

    impl HttpClient for LazyTls {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            self.0.http_connector(settings, components)
        }

        /// Deliberately not the inner client's (which builds the connector now).
        fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
            Ok(())
        }

        fn connector_metadata(&self) -> Option<ConnectorMetadata> {
            self.0.connector_metadata()
        }
    }
}

/// The text of a YAML setting: inline as given, or read from its file. A file that cannot
/// be read is bad input naming the variable and the path.
pub fn yaml_text(setting: &crate::config::YamlSetting) -> Result<std::borrow::Cow<'_, str>, ShellError> {
    use crate::config::YamlSetting;
    match setting {
        YamlSetting::Inline { text, .. } => Ok(std::borrow::Cow::Borrowed(text)),
        YamlSetting::File { variable, path } => {
            std::fs::read_to_string(path).map(std::borrow::Cow::Owned).map_err(|e| {
                ShellError::Core(crate::Error::Config {
                    variable,
                    value: path.display().to_string(),
                    reason: e.to_string(),
                })
            })
        }
    }
}

/// The path filters: `STAGING_FILTERS` (inline), `STAGING_FILTERS_FILE`, else the built-in
/// ones. A bad document is bad input naming its variable.
pub fn filters(config: &crate::Config) -> Result<crate::Filters, ShellError> {
    filters_from(config.filters.as_ref())
}

/// The path filters of one setting (the built-in ones for `None`): what [`filters`] reads
/// from a whole configuration, for a caller that reads only this setting (`stagingctl plan`).
pub fn filters_from(setting: Option<&crate::config::YamlSetting>) -> Result<crate::Filters, ShellError> {
    let Some(setting) = setting else {
        return Ok(crate::Filters::builtin());
    };
    crate::Filters::from_yaml(&yaml_text(setting)?).map_err(|e| {
        ShellError::Core(crate::Error::Config {
            variable: setting.variable(),
            value: setting.shown(),
            reason: e.to_string(),
        })
    })
}

/// The cost model: the built-in list prices, or the rates in `STAGING_RATES` (inline) or
/// `STAGING_COST_FILE` (or the file `rates`, when given); `STAGING_GBP_PER_USD`, when set,
/// wins over the rates' `gbp_per_usd`; the target is the deployed budget when
/// `STAGING_BUDGET_AMOUNT` says it. A bad document is bad input naming its variable.
pub fn cost_model(config: &crate::Config, rates: Option<&std::path::Path>) -> Result<crate::CostModel, ShellError> {
    let mut model = crate::CostModel::default();
    let given = rates.map(|path| crate::config::YamlSetting::File { variable: "--rates", path: path.to_path_buf() });
    if let Some(setting) = given.as_ref().or(config.rates.as_ref()) {
        let bad = |reason: String| {
            ShellError::Core(crate::Error::Config { variable: setting.variable(), value: setting.shown(), reason })
        };
        let yaml = yaml_text(setting)?;
        model = model.with_rates_yaml(&yaml).map_err(bad)?;
    }
    if let Some(rate) = config.gbp_per_usd {
        model.gbp_per_usd = rate;
    }
    if let Some(budget) = &config.budget_amount {
        let (targeted, converted) = model.with_budget_target(budget);
        if !converted {
            tracing::warn!(currency = %budget.currency, "a budget in this currency cannot be converted: the reports keep the model's £ target");
        }
        model = targeted;
    }
    Ok(model)
}

/// What an asynchronously invoked function (Scheduler, SNS) answers for its handler's
/// result. Lambda retries a failed asynchronous invocation whatever the error says, so
/// only an error a retry can help stays an error; any other is logged and answered as
/// `{"error": …, "retryable": false}`.
pub fn async_answer(result: Result<serde_json::Value, ShellError>) -> Result<serde_json::Value, ShellError> {
    match result {
        Err(e) if !e.is_retryable() => {
            tracing::error!(error = %e, "not retried: trying again cannot help");
            Ok(serde_json::json!({ "error": e.to_string(), "retryable": false }))
        }
        other => other,
    }
}

/// A required resource name, or an error naming its variable.
pub(crate) fn required<'a>(value: &'a Option<String>, variable: &'static str) -> Result<&'a str, ShellError> {
    value.as_deref().ok_or(ShellError::NotConfigured(variable))
}
