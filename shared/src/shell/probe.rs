//! HTTP health probes, over the SDK's own stack ([`super::http`]): every probe at once,
//! each with its own timeout, on a fresh connection (a pooled one frozen with the
//! Lambda sandbox would fail for the wrong reason). What an answer *means* is
//! [`Probe::judge`]'s, in the core.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;

use super::ShellError;
use super::http::HttpClient;
use crate::model::probe::{Probe, ProbeResult, Reply};

/// How much of a body is read to look for the expected text.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The configured probes, their URLs checked at cold start, and a client built on the
/// first probe (loading the TLS roots is not a cost a tick that probes nothing pays).
#[derive(Debug, Clone)]
pub struct Prober {
    probes: Arc<[(Probe, http::Uri)]>,
    client: HttpClient,
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
                        value: crate::model::probe::redact_urls(&p.url),
                        reason: format!("probe `{}`: {e}", p.name),
                    })
                })?;
                Ok((p.clone(), uri))
            })
            .collect::<Result<Vec<_>, ShellError>>()?;
        Ok(Self { probes: probes.into(), client: HttpClient::new(false) })
    }

    pub fn is_empty(&self) -> bool {
        self.probes.is_empty()
    }

    /// Probes every endpoint at once; the verdicts in the configured order.
    pub async fn probe_all(&self) -> Vec<ProbeResult> {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (probe, uri)) in self.probes.iter().enumerate() {
            let (client, uri, timeout) = (self.client.clone(), uri.clone(), probe.timeout);
            tasks.spawn(async move { (i, one(&client, uri, timeout).await) });
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
async fn one(client: &HttpClient, uri: http::Uri, timeout: Duration) -> Reply {
    let started = Instant::now();
    let request = http::Request::get(uri)
        .header(http::header::USER_AGENT, concat!("staging-control-health/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::new()));
    let request = match request {
        Ok(r) => r,
        Err(e) => return Reply::NoAnswer { latency: Duration::ZERO, error: e.to_string() },
    };
    match client.send(request, timeout, BODY_LIMIT).await {
        Ok(answer) => Reply::Answer {
            status: answer.status,
            latency: started.elapsed(),
            body: String::from_utf8_lossy(&answer.body).into_owned(),
        },
        Err(e) => Reply::NoAnswer { latency: started.elapsed(), error: e.detail },
    }
}
