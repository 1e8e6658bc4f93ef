//! Every time helper of the core: whole seconds, `hh:mm`, RFC 3339 as stored and shown,
//! lengths of time as people read them, and the serde forms of durations.

use chrono::SubsecRound;
use chrono::{DateTime, Utc};
use serde::Serializer;
use std::time::Duration;

/// Every instant the core stores or sends is whole seconds: what crosses a boundary
/// (a schedule's input, DynamoDB, SNS, JSON) then compares equal when it comes back.
pub fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn hhmm(t: DateTime<Utc>) -> String {
    t.format("%H:%M UTC").to_string()
}

/// `"2h"`-style durations in command JSON.
pub mod humantime_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

pub mod humantime_serde_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::humantime_serde::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| humantime::parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// How long, for people: `12m`, `1h 5m`.
pub fn length(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0) as u64;
    let rounded = if secs >= 60 { secs / 60 * 60 } else { secs };
    humantime::format_duration(Duration::from_secs(rounded)).to_string()
}

/// A span in seconds, the fraction kept to the nanosecond.
pub fn seconds(d: chrono::TimeDelta) -> f64 {
    d.num_seconds() as f64 + f64::from(d.subsec_nanos()) / 1e9
}

/// Serializes an instant as RFC 3339 in UTC with a `Z`.
pub fn rfc3339_z<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// Serializes an optional instant as RFC 3339 in UTC with a `Z`, or null.
pub fn opt_rfc3339_z<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => crate::time::rfc3339_z(t, s),
        None => s.serialize_none(),
    }
}
