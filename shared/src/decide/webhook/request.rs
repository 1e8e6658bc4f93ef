//! Is the request genuine: its method, size, headers and HMAC-SHA256 signature, checked
//! in a fixed order, each refusal naming what was wrong; how often the webhook secret is
//! read again; the delivery a genuine request names.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Secret;
use crate::error::Result;

/// GitHub caps webhook payloads at 25 MB.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// A request refused: the HTTP status and a message naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub status: u16,
    pub message: String,
}

/// A well-formed signature that matches none of the secrets in hand: the one refusal a
/// rotated secret explains (a malformed one never is).
const SIGNATURE_MISMATCH: &str = "X-Hub-Signature-256 does not match the body";

impl Rejection {
    pub(super) fn new(status: u16, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    /// Whether the signature was well formed but matched no secret in hand: worth reading
    /// the secret again for (a rotation), where any other refusal is not.
    pub fn is_signature_mismatch(&self) -> bool {
        self.status == 401 && self.message == SIGNATURE_MISMATCH
    }
}

/// The headers that identify a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event: String,
    /// `X-GitHub-Delivery`: kept on redelivery, so it is the idempotency key.
    pub id: String,
    pub hook_id: Option<String>,
}

/// Checks a request in order: method (405), size (413), required headers (400),
/// signature (401), content type (415). `header` looks a header up by lower-case name.
/// Without a configured secret nothing can be verified: 500.
pub fn check_request<'h>(
    method: &str,
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    secrets: &[Secret],
) -> Result<Delivery, Rejection> {
    if !method.eq_ignore_ascii_case("POST") {
        return Err(Rejection::new(405, format!("method {method} not allowed; GitHub delivers with POST")));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(Rejection::new(413, format!("body of {} bytes exceeds GitHub's 25 MB cap", body.len())));
    }
    let required = |name: &'static str| {
        header(&name.to_ascii_lowercase())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Rejection::new(400, format!("missing header {name}")))
    };
    let event = required("X-GitHub-Event")?;
    let id = required("X-GitHub-Delivery")?;
    let signature = required("X-Hub-Signature-256")?;
    verify_signature(body, signature, secrets)?;
    let content_type = header("content-type").unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(Rejection::new(
            415,
            format!("content type `{content_type}` is not application/json; set the webhook's content type to JSON"),
        ));
    }
    Ok(Delivery {
        event: event.to_string(),
        id: id.to_string(),
        hook_id: header("x-github-hook-id").map(str::to_string),
    })
}

/// How often a signature that matches none of the secrets in hand may have the webhook
/// secret read again from Secrets Manager: enough to pick up a rotation within a delivery
/// or two, while a flood of forged signatures costs at most one read a minute.
pub const SECRET_REREAD_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// Whether a signature mismatch at `now` may read the webhook secret again, the last read
/// having been at `last` (a clock that went back allows it: the read is harmless).
pub fn may_reread_secret(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|t| now - t >= SECRET_REREAD_EVERY || now < t)
}

/// How long a webhook secret read from Secrets Manager is used before it is read again,
/// whatever the signatures say: a secret taken out of the stored value (a leaked one,
/// revoked) stops being accepted by warm instances within this.
pub const SECRET_REFRESH_EVERY: chrono::Duration = chrono::Duration::minutes(15);

/// Whether the webhook secret last read at `last` is due to be read again at `now`.
pub fn secret_refresh_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_some_and(|t| now - t >= SECRET_REFRESH_EVERY)
}

/// The secrets a stored value holds: `new,old` while rotating, at most two, trimmed.
pub fn parse_webhook_secrets(value: &str) -> Vec<Secret> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).take(2).map(Secret::new).collect()
}

/// Checks `X-Hub-Signature-256` (`sha256=` and 64 hex digits) against the HMAC-SHA256
/// of the raw body under each configured secret (two while rotating), in constant time.
pub fn verify_signature(body: &[u8], header: &str, secrets: &[Secret]) -> Result<(), Rejection> {
    if secrets.is_empty() {
        return Err(Rejection::new(500, "no webhook secret is configured; nothing can be verified"));
    }
    let digest = header
        .strip_prefix("sha256=")
        .filter(|hex| hex.len() == 64)
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or_else(|| Rejection::new(401, "X-Hub-Signature-256 is not `sha256=` followed by 64 hex digits"))?;
    let genuine = secrets.iter().any(|secret| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key length");
        mac.update(body);
        mac.verify_slice(&digest).is_ok()
    });
    if genuine { Ok(()) } else { Err(Rejection::new(401, SIGNATURE_MISMATCH)) }
}

/// The hex SHA-256 of a body: the idempotency record's payload check.
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}
