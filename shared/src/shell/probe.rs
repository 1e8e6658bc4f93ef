//! HTTP health probes, over the SDK's own stack (hyper-util's client, hyper-rustls,
//! rustls on aws-lc-rs): every probe at once, each with its own timeout, on a fresh
//! connection (a pooled one frozen with the Lambda sandbox would fail for the wrong
//! reason). What an answer *means* is [`Probe::judge`]'s, in the core.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::ShellError;
use crate::health::{Probe, ProbeResult, Reply};

/// How much of a body is read to look for the expected text.
pub const BODY_LIMIT: usize = 64 * 1024;

type Https = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The configured probes, their URLs checked at cold start, and a client built on the
/// first probe (loading the TLS roots is not a cost a tick that probes nothing pays).
#[derive(Debug, Clone)]
pub struct Prober {
    probes: Arc<[(Probe, http::Uri)]>,
    client: Arc<OnceLock<Result<Https, String>>>,
}

impl Prober {
    /// Checks every URL; a bad one is a configuration error naming it.
    pub fn new(probes: &[Probe]) -> Result<Self, ShellError> {
        let probes = probes
            .iter()
            .map(|p| {
                let uri: http::Uri = p.url.parse().map_err(|e: http::uri::InvalidUri| {
                    ShellError::Core(crate::Error::Config {
                        variable: "STAGING_PROBES",
                        value: crate::health::redact_urls(&p.url),
                        reason: format!("probe `{}`: {e}", p.name),
                    })
                })?;
                Ok((p.clone(), uri))
            })
            .collect::<Result<Vec<_>, ShellError>>()?;
        Ok(Self {
            probes: probes.into(),
            client: Arc::new(OnceLock::new()),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.probes.is_empty()
    }

    fn client(&self) -> Result<Https, String> {
        self.client
            .get_or_init(|| {
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_provider_and_native_roots(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                    .map_err(|e| format!("no TLS roots: {e}"))?
                    .https_or_http()
                    .enable_http1()
                    .build();
                Ok(Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build(https))
            })
            .clone()
    }

    /// Probes every endpoint at once; the verdicts in the configured order.
    pub async fn probe_all(&self) -> Vec<ProbeResult> {
        let client = self.client();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (probe, uri)) in self.probes.iter().enumerate() {
            let (client, uri, timeout) = (client.clone(), uri.clone(), probe.timeout);
            tasks.spawn(async move {
                let reply = match client {
                    Ok(client) => one(&client, uri, timeout).await,
                    Err(error) => Reply::NoAnswer { latency: Duration::ZERO, error },
                };
                (i, reply)
            });
        }
        let mut replies: Vec<Option<Reply>> = vec![None; self.probes.len()];
        while let Some(joined) = tasks.join_next().await {
            if let Ok((i, reply)) = joined {
                replies[i] = Some(reply);
            }
        }
        self.probes
            .iter()
            .zip(replies)
            .map(|((probe, _), reply)| {
                probe.judge(&reply.unwrap_or_else(|| Reply::NoAnswer {
                    latency: Duration::ZERO,
                    error: "the probe did not complete".into(),
                }))
            })
            .collect()
    }
}

/// One GET: the status, the time to the end of the (capped) body, the body's start.
async fn one(client: &Https, uri: http::Uri, timeout: Duration) -> Reply {
    let started = Instant::now();
    let request = http::Request::get(uri)
        .header(http::header::USER_AGENT, concat!("staging-control-health/", env!("CARGO_PKG_VERSION")))
        .body(Empty::<Bytes>::new());
    let request = match request {
        Ok(r) => r,
        Err(e) => return Reply::NoAnswer { latency: Duration::ZERO, error: e.to_string() },
    };
    let exchange = async {
        let response = client.request(request).await.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while bytes.len() < BODY_LIMIT {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        bytes.extend_from_slice(&data[..data.len().min(BODY_LIMIT - bytes.len())]);
                    }
                }
                Some(Err(e)) => return Err(format!("the body broke off: {e}")),
                None => break,
            }
        }
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok((status, body))) => Reply::Answer { status, latency: started.elapsed(), body },
        Ok(Err(error)) => Reply::NoAnswer { latency: started.elapsed(), error },
        Err(_) => Reply::NoAnswer {
            latency: started.elapsed(),
            error: format!("no answer within {}", humantime::format_duration(timeout)),
        },
    }
}

/// The innermost cause of a client error ("connection refused", "invalid peer
/// certificate"), which is what a person needs.
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(inner) = source.source() {
        source = inner;
    }
    let inner = source.to_string();
    if e.is_connect() { format!("cannot connect: {inner}") } else { inner }
}
