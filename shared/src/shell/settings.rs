//! The settings document in Parameter Store (`STAGING_SETTINGS_PARAMETER`), kept live:
//! read at the cold start and again when what is held is
//! [`REFRESH_EVERY`](crate::settings::REFRESH_EVERY) old, so a change needs no redeploy.
//! The rules are the core's ([`crate::settings`]); this holds what was last read.
//!
//! Never a dead function: a document that does not hold is logged with its key and the
//! last good settings stay in force (at a cold start, the variables as deployed); a read
//! that fails keeps them too and is tried again at the next refresh. A parameter deleted
//! on purpose means no document: the variables as deployed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use chrono::{DateTime, Utc};

use super::{Lazy, ShellError};
use crate::config::Config;
use crate::settings;

/// The document as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub text: String,
    pub version: i64,
    pub modified: Option<DateTime<Utc>>,
}

/// Reads the parameter: `None` when it does not exist.
pub async fn read(client: &aws_sdk_ssm::Client, name: &str) -> Result<Option<Stored>, ShellError> {
    // With decryption: a SecureString document (a probe URL carrying a token) reads too.
    let out = match client.get_parameter().name(name).with_decryption(true).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(GetParameterError::is_parameter_not_found) => return Ok(None),
        Err(e) => return Err(ShellError::aws("ssm:GetParameter", e)),
    };
    let Some(parameter) = out.parameter() else { return Ok(None) };
    Ok(Some(Stored {
        text: parameter.value().unwrap_or_default().to_string(),
        version: parameter.version(),
        modified: parameter.last_modified_date().and_then(|d| DateTime::from_timestamp(d.secs(), d.subsec_nanos())),
    }))
}

/// Writes the document: a new version of the parameter, keeping its type (a SecureString
/// stays one), or (`exists` false) a new String parameter. The version written.
pub async fn write(client: &aws_sdk_ssm::Client, name: &str, text: &str, exists: bool) -> Result<i64, ShellError> {
    let put = client
        .put_parameter()
        .name(name)
        .value(text)
        .description("Staging Control settings (stagingctl settings set)")
        // Standard (free, 4 KB) while the document fits; Advanced only when it must.
        .tier(aws_sdk_ssm::types::ParameterTier::IntelligentTiering);
    let put = if exists { put.overwrite(true) } else { put.r#type(aws_sdk_ssm::types::ParameterType::String) };
    put.send().await.map(|out| out.version()).map_err(|e| ShellError::aws("ssm:PutParameter", e))
}

/// Every stored version of the parameter, oldest first (Parameter Store keeps the last 100).
pub async fn history(client: &aws_sdk_ssm::Client, name: &str) -> Result<Vec<Stored>, ShellError> {
    let mut pages = client.get_parameter_history().name(name).with_decryption(true).into_paginator().send();
    let mut versions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ShellError::aws("ssm:GetParameterHistory", e))?;
        versions.extend(page.parameters().iter().map(|p| Stored {
            text: p.value().unwrap_or_default().to_string(),
            version: p.version(),
            modified: p.last_modified_date().and_then(|d| DateTime::from_timestamp(d.secs(), d.subsec_nanos())),
        }));
    }
    versions.sort_by_key(|s| s.version);
    Ok(versions)
}

/// The configuration `text` makes over the variables read through `lookup`, checked as
/// the functions use it: the core's rules ([`settings::read`]), and (with the probes) each
/// probe's URL as the prober parses it, so a document the health check could not probe
/// with is refused, not half taken.
pub fn check(lookup: impl Fn(&str) -> Option<String>, text: &str) -> crate::Result<Config> {
    let config = settings::read(lookup, text)?;
    #[cfg(feature = "probes")]
    if let Err(e) = super::probe::Prober::new(&config.probes) {
        return Err(crate::Error::Settings { key: "probes".into(), reason: e.to_string() });
    }
    Ok(config)
}

/// What a read of the parameter came to.
#[derive(Debug)]
pub enum Reading {
    /// Not due, or no parameter configured: the settings held stand.
    NotDue,
    /// The version held already.
    Unchanged,
    /// A new version, now in force.
    Applied { version: i64 },
    /// A new version that does not hold (the error names its key): the last good
    /// settings stay in force, those of version `kept` (`None`: the variables as
    /// deployed). An instance that never held a good one looks back through the
    /// parameter's history for it, so a cold start decides as the warm instances do.
    Refused { version: i64, error: crate::Error, kept: Option<i64> },
    /// No such parameter: the variables as deployed.
    Missing,
    /// The read failed: the settings held stand until the next refresh.
    Failed(ShellError),
}

/// What was read last.
struct Held {
    config: Arc<Config>,
    read_at: Option<DateTime<Utc>>,
    /// The version last seen, in force or refused (a refused one is not parsed again), with
    /// its date: a parameter deleted and created again starts again at version 1.
    version: Option<(i64, Option<DateTime<Utc>>)>,
    /// The version in force (`None`: the variables as deployed).
    good: Option<i64>,
}

/// The configuration in force: the variables as deployed, with the settings document
/// over them when there is one.
pub struct LiveConfig {
    /// The variables the process started with.
    vars: HashMap<String, String>,
    /// The configuration from the variables alone.
    deployed: Arc<Config>,
    client: Lazy<aws_sdk_ssm::Client>,
    held: Mutex<Held>,
}

impl LiveConfig {
    /// The process environment's configuration (an error names a bad variable), with the
    /// settings document read on first use.
    pub fn from_env(client: Lazy<aws_sdk_ssm::Client>) -> crate::Result<Self> {
        // `vars_os`: a variable that is not UTF-8 (none of ours) is left out, not a panic.
        let vars = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Self::new(vars.collect(), client)
    }

    /// As [`LiveConfig::from_env`], from `vars`.
    pub fn new(vars: HashMap<String, String>, client: Lazy<aws_sdk_ssm::Client>) -> crate::Result<Self> {
        let deployed = Arc::new(Config::from_lookup(|name| vars.get(name).cloned())?);
        let held = Held { config: deployed.clone(), read_at: None, version: None, good: None };
        Ok(Self { vars, deployed, client, held: Mutex::new(held) })
    }

    /// A configuration that never changes (no document), for tests and local runs.
    pub fn fixed(config: Config, client: Lazy<aws_sdk_ssm::Client>) -> Self {
        let mut config = config;
        config.settings_parameter = None;
        let deployed = Arc::new(config);
        let held = Held { config: deployed.clone(), read_at: None, version: None, good: None };
        Self { vars: HashMap::new(), deployed, client, held: Mutex::new(held) }
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Amends the configuration from the variables (the webhook's secrets, resolved at the
    /// cold start); kept under every document, as no key of one sets what is amended.
    pub fn amend(&mut self, amend: impl FnOnce(&mut Config)) {
        let mut deployed = (*self.deployed).clone();
        amend(&mut deployed);
        self.deployed = Arc::new(deployed);
        let held = self.held.get_mut().unwrap_or_else(PoisonError::into_inner);
        held.config = self.deployed.clone();
        held.read_at = None;
        held.version = None;
        held.good = None;
    }

    /// The configuration from the variables alone.
    pub fn deployed(&self) -> &Config {
        &self.deployed
    }

    /// The configuration in force now, without reading anything.
    pub fn held(&self) -> Arc<Config> {
        self.lock().config.clone()
    }

    /// The configuration in force at `now`, the document read first when due. Never
    /// fails: what happened is logged ([`LiveConfig::refresh`] says it), and a refused
    /// version is also a `SettingsRefused` metric line on stdout (the Lambda functions call
    /// this; `stagingctl` calls `refresh`).
    pub async fn current(&self, now: DateTime<Utc>) -> Arc<Config> {
        let reading = self.refresh(now).await;
        let parameter = self.deployed.settings_parameter.as_deref().unwrap_or_default();
        match &reading {
            Reading::Applied { version } => tracing::info!(parameter, version, "settings document in force"),
            Reading::Refused { version, error, kept } => {
                tracing::error!(
                    parameter, version, error = %error, kept_version = kept,
                    "settings document refused: the last good settings stay in force"
                );
                // The function does not fail: this metric (embedded metric format, read
                // from stdout by CloudWatch Logs) is what the SettingsRefused alarm sees.
                let metric = (crate::report::metrics::SETTINGS_REFUSED, 1.0, "Count");
                println!("{}", crate::report::metrics::emf_line(&self.deployed.environment, now, &[metric]));
            }
            Reading::Missing => tracing::warn!(parameter, "no settings document: the variables as deployed"),
            Reading::Failed(e) => {
                tracing::warn!(parameter, error = %e, "settings document not read: the settings held stand")
            }
            Reading::NotDue | Reading::Unchanged => {}
        }
        self.held()
    }

    /// The configuration `text` makes over the variables, or the key at fault.
    fn apply(&self, text: &str) -> crate::Result<Config> {
        let mut config = check(|name| self.vars.get(name).cloned(), text)?;
        // What the document cannot set is as deployed (secrets resolved at the cold start).
        config.github = self.deployed.github.clone();
        Ok(config)
    }

    /// Reads the document when due and puts a good one in force.
    pub async fn refresh(&self, now: DateTime<Utc>) -> Reading {
        let Some(name) = self.deployed.settings_parameter.as_deref() else { return Reading::NotDue };
        {
            let mut held = self.lock();
            if !settings::refresh_due(held.read_at, now) {
                return Reading::NotDue;
            }
            // Counted before the read, so a failing read is not retried by every event.
            held.read_at = Some(now);
        }
        let stored = match read(&self.client, name).await {
            Ok(stored) => stored,
            Err(e) => return Reading::Failed(e),
        };
        let Some(stored) = stored else {
            let mut held = self.lock();
            held.config = self.deployed.clone();
            (held.version, held.good) = (None, None);
            return Reading::Missing;
        };
        let good = {
            let mut held = self.lock();
            if held.version == Some((stored.version, stored.modified)) {
                return Reading::Unchanged;
            }
            held.version = Some((stored.version, stored.modified));
            held.good
        };
        let error = match self.apply(&stored.text) {
            Ok(config) => {
                let mut held = self.lock();
                (held.config, held.good) = (Arc::new(config), Some(stored.version));
                return Reading::Applied { version: stored.version };
            }
            Err(error) => error,
        };
        if good.is_some() {
            return Reading::Refused { version: stored.version, error, kept: good };
        }
        // Never held a good one (a cold start): the newest earlier version that holds.
        let earlier = match history(&self.client, name).await {
            Ok(versions) => versions,
            Err(e) => {
                // Read again at the next refresh (the version is not taken as seen).
                tracing::warn!(error = %e, "settings history not read: the variables as deployed until the next refresh");
                self.lock().version = None;
                Vec::new()
            }
        };
        let found = earlier
            .iter()
            .rev()
            .filter(|s| s.version < stored.version)
            .find_map(|s| self.apply(&s.text).ok().map(|config| (s.version, config)));
        let kept = found.map(|(version, config)| {
            let mut held = self.lock();
            (held.config, held.good) = (Arc::new(config), Some(version));
            version
        });
        Reading::Refused { version: stored.version, error, kept }
    }
}
