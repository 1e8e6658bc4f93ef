//! HTTP for GitHub and the health probes, over the stack the AWS SDK already brings
//! (hyper 1, hyper-util's client, hyper-rustls with the native roots, rustls on
//! aws-lc-rs): no second HTTP client in the binaries. The client (and the TLS roots it
//! loads) is built on first use, so an invocation that calls nobody does not pay for it.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type Https = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// What went wrong, and whether the request may have reached the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    pub detail: String,
    /// False when no connection was made (nothing was sent).
    pub sent: bool,
}

/// An answer: its status and the start of its body (at most the limit asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// The body was longer than the limit and was cut.
    pub truncated: bool,
    /// Where a redirect points (`Location`).
    pub location: Option<String>,
}

/// A lazily built HTTPS (and HTTP) client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: Arc<OnceLock<Result<Https, String>>>,
    /// Keep idle connections (GitHub: compare, then dispatch); probes open fresh ones.
    pooled: bool,
}

impl HttpClient {
    pub fn new(pooled: bool) -> Self {
        Self { client: Arc::new(OnceLock::new()), pooled }
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
                let mut builder = Client::builder(TokioExecutor::new());
                if self.pooled {
                    // A connection kept across a frozen sandbox may be dead: keep them briefly.
                    builder.pool_idle_timeout(Duration::from_secs(20));
                } else {
                    builder.pool_max_idle_per_host(0);
                }
                Ok(builder.build(https))
            })
            .clone()
    }

    /// Sends `request` and reads at most `body_limit` bytes of the answer, all within
    /// `timeout`.
    pub async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
        timeout: Duration,
        body_limit: usize,
    ) -> Result<Answer, HttpError> {
        let client = self.client().map_err(|detail| HttpError { detail, sent: false })?;
        let exchange = async {
            let response =
                client.request(request).await.map_err(|e| HttpError { sent: !e.is_connect(), detail: describe(&e) })?;
            let status = response.status().as_u16();
            let location =
                response.headers().get(http::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
            let mut body = response.into_body();
            let mut bytes = Vec::new();
            let mut truncated = false;
            while !truncated {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Some(data) = frame.data_ref() {
                            let room = body_limit - bytes.len();
                            truncated = data.len() > room;
                            bytes.extend_from_slice(&data[..data.len().min(room)]);
                        }
                    }
                    Some(Err(e)) => {
                        return Err(HttpError { detail: format!("the body broke off: {e}"), sent: true });
                    }
                    None => break,
                }
            }
            Ok(Answer { status, body: bytes, truncated, location })
        };
        tokio::time::timeout(timeout, exchange).await.unwrap_or_else(|_| {
            Err(HttpError { detail: format!("no answer within {}", humantime::format_duration(timeout)), sent: true })
        })
    }
}

/// The innermost cause of a client error ("connection refused", "invalid peer
/// certificate"), which is what a person needs; never the URL.
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(inner) = source.source() {
        source = inner;
    }
    let inner = source.to_string();
    if e.is_connect() { format!("cannot connect: {inner}") } else { inner }
}
