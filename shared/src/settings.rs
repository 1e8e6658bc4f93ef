//! The settings document: the settings a team changes often (working days, holidays,
//! holds, probes, path filters, rates, health thresholds) as one YAML document, kept in
//! an SSM Parameter Store parameter (`STAGING_SETTINGS_PARAMETER`) so a change needs no
//! redeploy. The functions read it at a cold start and again when what they hold is
//! [`REFRESH_EVERY`] old; a document that does not hold is refused with its key, and the
//! last good settings stay in force.
//!
//! Each key stands for one environment variable and is parsed by that variable's own
//! parser ([`Config::from_lookup`]): the document wins over the variable, and a key left
//! out (or `null`) leaves the variable as deployed. The daily times and the time zone are
//! not keys: they are when the startup and teardown schedules fire, which only a deploy
//! changes.
//!
//! ```yaml
//! working_days: Mon-Thu
//! holidays: [2026-12-24, 2026-12-25]
//! hold_max: 8h
//! probes:
//!   - api=https://staging.example.com/health;status=200
//! filters:
//!   backend: ['server/**']
//!   frontend: ['web/**']
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_yaml_ng::Value;

use crate::config::{Config, YamlSetting};
use crate::error::{Error, Result};

/// How old the settings a function holds may be before it reads the parameter again.
pub const REFRESH_EVERY: chrono::Duration = chrono::Duration::minutes(5);

/// Whether the parameter is due to be read again: never read, or last read
/// [`REFRESH_EVERY`] or longer ago (a clock that went back counts as due).
pub fn refresh_due(read_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    read_at.is_none_or(|at| now - at >= REFRESH_EVERY || now < at)
}

/// How a key's value becomes its variable's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A scalar (text, number, true/false).
    Scalar,
    /// A scalar, or a list of scalars joined with commas.
    List,
    /// A YAML document: a mapping (written back as YAML) or its text.
    Document,
}

/// One key of the document.
struct Key {
    key: &'static str,
    variable: &'static str,
    shape: Shape,
    /// A variable the key also hides when set (the file form of a document).
    hides: Option<&'static str>,
}

const fn key(key: &'static str, variable: &'static str, shape: Shape) -> Key {
    Key { key, variable, shape, hides: None }
}

/// Every key the document may hold, with the variable it stands for.
const KEYS: &[Key] = &[
    key("working_days", "STAGING_WORKING_DAYS", Shape::List),
    key("holidays", "STAGING_HOLIDAYS", Shape::List),
    key("hold_default", "STAGING_HOLD_DEFAULT", Shape::Scalar),
    key("hold_max", "STAGING_HOLD_MAX", Shape::Scalar),
    key("deploy_grace", "STAGING_DEPLOY_GRACE", Shape::Scalar),
    key("probes", "STAGING_PROBES", Shape::List),
    Key { key: "filters", variable: "STAGING_FILTERS", shape: Shape::Document, hides: Some("STAGING_FILTERS_FILE") },
    Key { key: "rates", variable: "STAGING_RATES", shape: Shape::Document, hides: Some("STAGING_COST_FILE") },
    key("gbp_per_usd", "STAGING_GBP_PER_USD", Shape::Scalar),
    key("health_failures", "STAGING_HEALTH_FAILURES", Shape::Scalar),
    key("health_successes", "STAGING_HEALTH_SUCCESSES", Shape::Scalar),
    key("health_reminder", "STAGING_HEALTH_REMINDER", Shape::Scalar),
    key("health_grace", "STAGING_HEALTH_GRACE", Shape::Scalar),
    key("heal_after", "STAGING_HEAL_AFTER", Shape::Scalar),
    key("heal_interval", "STAGING_HEAL_INTERVAL", Shape::Scalar),
    key("auto_rollback", "STAGING_AUTO_ROLLBACK", Shape::Scalar),
    key("wake_for", "STAGING_WAKE_FOR", Shape::Scalar),
    key("wake_per_day", "STAGING_WAKE_PER_DAY", Shape::Scalar),
    key("wake_hours_month", "STAGING_WAKE_HOURS_MONTH", Shape::Scalar),
    key("idle_after", "STAGING_IDLE_AFTER", Shape::Scalar),
    key("idle_stop", "STAGING_IDLE_STOP", Shape::Scalar),
    key("idle_warn", "STAGING_IDLE_WARN", Shape::Scalar),
    key("deep_sleep_after", "STAGING_DEEP_SLEEP_AFTER", Shape::Scalar),
];

/// Keys a team may expect here that only a deploy can change, and why.
const DEPLOY_ONLY: &[(&str, &str)] = &[
    ("up_time", "the startup schedule fires at the stack's UpTime: change that parameter (a deploy)"),
    ("down_time", "the teardown schedule fires at the stack's DownTime: change that parameter (a deploy)"),
    ("time_zone", "the schedules fire in the stack's TimeZone: change that parameter (a deploy)"),
];

/// The names of the keys a document may hold, for messages and `stagingctl settings`.
pub fn keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|k| k.key)
}

/// A parsed settings document: each key's text as its variable would hold it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Variable → (key, text).
    values: BTreeMap<&'static str, (&'static str, String)>,
}

impl Settings {
    /// Parses the document. An empty document (or only comments) sets nothing.
    pub fn parse(text: &str) -> Result<Self> {
        let document: Value =
            serde_yaml_ng::from_str(text).map_err(|e| refused("(document)", format!("not YAML: {e}")))?;
        let mapping = match document {
            Value::Null => return Ok(Self::default()),
            Value::Mapping(m) => m,
            _ => return Err(refused("(document)", "expected a mapping of keys like `working_days: Mon-Fri`")),
        };
        let mut values = BTreeMap::new();
        for (name, value) in mapping {
            let Some(name) = name.as_str() else {
                return Err(refused(&format!("{name:?}"), "a key must be text"));
            };
            let Some(key) = KEYS.iter().find(|k| k.key == name) else {
                let reason = match DEPLOY_ONLY.iter().find(|(k, _)| *k == name) {
                    Some((_, why)) => format!("not a setting of the document: {why}"),
                    None => format!("unknown key; the document takes {}", keys().collect::<Vec<_>>().join(", ")),
                };
                return Err(refused(name, reason));
            };
            if let Some(text) = text_of(key, value).map_err(|reason| refused(key.key, reason))? {
                values.insert(key.variable, (key.key, text));
            }
        }
        Ok(Self { values })
    }

    /// Whether the document sets nothing.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The keys the document sets, in order.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<_> = self.values.values().map(|(key, _)| *key).collect();
        keys.sort_unstable();
        keys
    }

    /// What `variable` reads with the document over `lookup`: the document's text, nothing
    /// for a variable a set key hides, else the environment's.
    fn lookup(&self, lookup: &impl Fn(&str) -> Option<String>, variable: &str) -> Option<String> {
        if let Some((_, text)) = self.values.get(variable) {
            return Some(text.clone());
        }
        let hidden = KEYS.iter().any(|k| k.hides == Some(variable) && self.values.contains_key(k.variable));
        if hidden { None } else { lookup(variable) }
    }

    /// The key standing for `variable`, when the document sets it.
    fn key_of(&self, variable: &str) -> Option<&'static str> {
        self.values.get(variable).map(|(key, _)| *key)
    }
}

/// The configuration with `settings` over the environment read through `lookup`, the
/// filters and rates documents it sets checked by their own parsers. An error for a value
/// from the document names its key ([`Error::Settings`]); one from the environment alone
/// is the variable's, as [`Config::from_lookup`] says it.
pub fn apply(lookup: impl Fn(&str) -> Option<String>, settings: &Settings) -> Result<Config> {
    let config = Config::from_lookup(|name| settings.lookup(&lookup, name)).map_err(|e| match e {
        Error::Config { variable, reason, value } => match settings.key_of(variable) {
            Some(key) => settings_error(key, &value, &reason),
            // A variable as deployed that holds alone but not with the document (a
            // `hold_max` below the deployed hold default): the key it clashes with.
            None if Config::from_lookup(&lookup).is_ok() => {
                let key = settings
                    .values
                    .iter()
                    .find(|(v, _)| reason.contains(**v))
                    .map_or("(document)", |(_, (key, _))| *key);
                refused(key, format!("{variable}={value:?} as deployed: {reason}"))
            }
            None => Error::Config { variable, value, reason },
        },
        other => other,
    })?;
    let from_document = |setting: &Option<YamlSetting>| match setting {
        Some(YamlSetting::Inline { variable, text }) => settings.key_of(variable).map(|key| (key, text.clone())),
        _ => None,
    };
    if let Some((key, text)) = from_document(&config.filters) {
        crate::Filters::from_yaml(&text).map_err(|e| refused(key, e.to_string()))?;
    }
    if let Some((key, text)) = from_document(&config.rates) {
        crate::CostModel::default().with_rates_yaml(&text).map_err(|e| refused(key, e))?;
    }
    Ok(config)
}

/// Parses `text` and applies it ([`apply`]): what the functions, `stagingctl settings
/// set|check` and `doctor` all do with a document.
pub fn read(lookup: impl Fn(&str) -> Option<String>, text: &str) -> Result<Config> {
    apply(lookup, &Settings::parse(text)?)
}

/// A key's value as its variable's text; `None` for `null` (the variable as deployed).
fn text_of(key: &Key, value: Value) -> std::result::Result<Option<String>, String> {
    let scalar = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    match (key.shape, value) {
        (_, Value::Null) => Ok(None),
        (Shape::Document, Value::Mapping(m)) => serde_yaml_ng::to_string(&m).map(Some).map_err(|e| e.to_string()),
        (Shape::Document, Value::String(s)) => Ok(Some(s)),
        (Shape::Document, _) => Err("expected a mapping (or its YAML as text)".into()),
        (Shape::List, Value::Sequence(items)) => {
            let texts: Option<Vec<String>> = items.iter().map(scalar).collect();
            texts.map(|t| Some(t.join(","))).ok_or_else(|| "expected a list of values, not of lists or mappings".into())
        }
        (shape, v) => match scalar(&v) {
            Some(text) => Ok(Some(text)),
            None if shape == Shape::List => Err("expected a value or a list of values".into()),
            None => Err("expected a single value".into()),
        },
    }
}

fn refused(key: &str, reason: impl Into<String>) -> Error {
    Error::Settings { key: key.to_string(), reason: reason.into() }
}

/// A value the variable's parser refused, said with the document's key.
fn settings_error(key: &str, value: &str, reason: &str) -> Error {
    match value {
        // A document's text is not repeated (filters, rates: long, and said by the key).
        v if v.starts_with("<the document") || v.contains('\n') || v.is_empty() => refused(key, reason),
        v => refused(key, format!("{v:?}: {reason}")),
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
