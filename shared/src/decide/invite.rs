//! Invites: who may wake staging from the front door. An invite is a name and an expiry
//! signed with HMAC-SHA256 under the invite secret (`STAGING_INVITE_SECRET[_ARN]`), so the
//! front door checks one without a lookup; a revoked name (kept in the state record) stops
//! working at once.
//!
//! The token is `v1.<name>.<issued>.<expires>.<signature>`: Unix seconds, the signature in
//! hex over everything before it. Every character is URL- and cookie-safe.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;
use crate::model::state::Revocation;

/// The cookie an opened invite link sets.
pub const COOKIE: &str = "staging_invite";
/// The longest name an invite may carry.
pub const NAME_MAX: usize = 40;

/// A person's invite: who, when it was made, until when it works (whole seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub name: String,
    pub issued: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

/// Why an invite does not let its bearer wake staging. Never quotes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the invite is not one of ours (malformed or its signature does not match)")]
    Forged,
    #[error("the invite for {name} expired at {expired}")]
    Expired { name: String, expired: String },
    #[error("the invite for {name} was revoked")]
    Revoked { name: String },
    #[error("invites cannot be checked: no invite secret is configured (STAGING_INVITE_SECRET_ARN)")]
    NoSecret,
}

/// Whether `name` may be an invite's: 1 to [`NAME_MAX`] letters, digits, `-` or `_`.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(format!("an invite name has 1 to {NAME_MAX} characters; `{name}` has {}", name.len()));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(format!("an invite name takes letters, digits, - and _ only: `{name}`"));
    }
    Ok(())
}

fn mac(secret: &Secret, payload: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac
}

impl Invite {
    /// The invite for `name` made at `issued` (cut to whole seconds, as the token keeps it)
    /// and working for `valid`.
    pub fn new(name: &str, issued: DateTime<Utc>, valid: chrono::Duration) -> Result<Self, String> {
        check_name(name)?;
        let issued = crate::time::whole_seconds(issued);
        let expires = issued.checked_add_signed(valid).filter(|e| *e > issued).ok_or("an invite must last")?;
        Ok(Self { name: name.into(), issued, expires })
    }

    /// The token, signed with `secret`.
    pub fn token(&self, secret: &Secret) -> String {
        let payload = format!("v1.{}.{}.{}", self.name, self.issued.timestamp(), self.expires.timestamp());
        let signature = hex::encode(mac(secret, &payload).finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// Reads `token`: signed with one of `secrets` (two while rotating), not expired at
    /// `now`, its name not revoked since it was issued.
    pub fn verify(
        token: &str,
        secrets: &[Secret],
        revoked: &[Revocation],
        now: DateTime<Utc>,
    ) -> Result<Self, Refused> {
        if secrets.is_empty() {
            return Err(Refused::NoSecret);
        }
        let (payload, signature) = token.rsplit_once('.').ok_or(Refused::Forged)?;
        let signature = hex::decode(signature).map_err(|_| Refused::Forged)?;
        if !secrets.iter().any(|s| mac(s, payload).verify_slice(&signature).is_ok()) {
            return Err(Refused::Forged);
        }
        let mut parts = payload.split('.');
        let (Some("v1"), Some(name), Some(issued), Some(expires), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refused::Forged);
        };
        let at = |s: &str| s.parse::<i64>().ok().and_then(|t| DateTime::from_timestamp(t, 0));
        let (Some(issued), Some(expires)) = (at(issued), at(expires)) else { return Err(Refused::Forged) };
        check_name(name).map_err(|_| Refused::Forged)?;
        if expires <= now {
            return Err(Refused::Expired { name: name.into(), expired: crate::time::rfc3339(expires) });
        }
        if revoked.iter().any(|r| r.name == name && issued <= r.at) {
            return Err(Refused::Revoked { name: name.into() });
        }
        Ok(Self { name: name.into(), issued, expires })
    }
}

#[cfg(test)]
mod tests;
