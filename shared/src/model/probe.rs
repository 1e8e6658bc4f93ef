//! The health check's probes: their grammar (`STAGING_PROBES`), how an answer is judged,
//! and how a URL is said without its secrets.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::observed::Observed;

/// How long a probe may take when its entry does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest timeout a probe may ask for (the function must answer within its own).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(20);

/// The name of the ECS service's probe in results and messages.
pub const ECS_PROBE: &str = "ecs";

/// Which HTTP statuses count as up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusSpec {
    /// `2xx`, `3xx`…: every status of one class.
    Class(u16),
    /// `200`, or `200|204`.
    Exact(Vec<u16>),
}

impl StatusSpec {
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            Self::Class(c) => status / 100 == *c,
            Self::Exact(list) => list.contains(&status),
        }
    }
}

impl Default for StatusSpec {
    fn default() -> Self {
        Self::Class(2)
    }
}

impl fmt::Display for StatusSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Class(c) => write!(f, "{c}xx"),
            Self::Exact(list) => {
                let list: Vec<String> = list.iter().map(u16::to_string).collect();
                f.write_str(&list.join("|"))
            }
        }
    }
}

/// An HTTP endpoint the health check probes (one entry of `STAGING_PROBES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub name: String,
    pub url: String,
    /// The statuses that count as up (`status=`; any 2xx by default).
    pub status: StatusSpec,
    /// Slower than this (but up) is degraded (`latency=`).
    pub max_latency: Option<Duration>,
    /// Text the body must contain (`body=`).
    pub body: Option<String>,
    /// No answer within this is a failure (`timeout=`; [`DEFAULT_TIMEOUT`]).
    pub timeout: Duration,
    /// Served by the ECS service, so its failure is something a new deployment can heal
    /// (`backend`; a probe named `backend` is one).
    pub backend: bool,
}

impl Probe {
    /// A probe of `url` with every option at its default.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            backend: name == "backend",
            name,
            url: url.into(),
            status: StatusSpec::default(),
            max_latency: None,
            body: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// `STAGING_PROBES`: entries separated by commas or new lines, each
/// `name=url[;option]…` with the options `status=200|204` or `status=2xx`,
/// `latency=800ms`, `body=TEXT`, `timeout=5s` and `backend`. A URL holding `,` or `;`
/// must percent-encode them.
pub fn parse_probes(value: &str) -> std::result::Result<Vec<Probe>, String> {
    let mut probes: Vec<Probe> = Vec::new();
    for entry in value.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        let mut parts = entry.split(';').map(str::trim);
        let head = parts.next().unwrap_or_default();
        let (name, url) = head.split_once('=').ok_or_else(|| format!("`{entry}` is not name=url"))?;
        let (name, url) = (name.trim(), url.trim());
        if name.is_empty() || !crate::model::probe::is_http_url(url) {
            return Err(format!("`{entry}` is not name=http(s)://..."));
        }
        if name == ECS_PROBE {
            return Err(format!("`{ECS_PROBE}` is the ECS service's probe; name this one otherwise"));
        }
        if probes.iter().any(|p| p.name == name) {
            return Err(format!("probe `{name}` is named twice"));
        }
        let mut probe = Probe::new(name, url);
        for option in parts.filter(|s| !s.is_empty()) {
            let (key, val) = option.split_once('=').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((option, ""));
            let bad = |why: &str| format!("probe `{name}`: `{option}`: {why}");
            match key {
                "backend" if val.is_empty() => probe.backend = true,
                "status" => probe.status = parse_status(val).map_err(|why| bad(&why))?,
                "latency" | "timeout" => {
                    let d = humantime::parse_duration(val)
                        .ok()
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| bad("expected a duration like 800ms or 5s"))?;
                    if key == "latency" {
                        probe.max_latency = Some(d);
                    } else if d > MAX_TIMEOUT {
                        return Err(bad(&format!("at most {}", humantime::format_duration(MAX_TIMEOUT))));
                    } else {
                        probe.timeout = d;
                    }
                }
                "body" if !val.is_empty() => probe.body = Some(val.to_string()),
                _ => return Err(bad("options are status=, latency=, body=, timeout= and backend")),
            }
        }
        if probe.max_latency.is_some_and(|l| l >= probe.timeout) {
            return Err(format!(
                "probe `{name}`: latency must be under the timeout ({})",
                humantime::format_duration(probe.timeout)
            ));
        }
        probes.push(probe);
    }
    Ok(probes)
}

/// `text` with the user-info and the query of every URL in it replaced by `…`: a probe
/// URL may carry a token, and errors about it are logged.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest.find([',', ';', ' ', '`', '"', '\n']).unwrap_or(rest.len());
        let url = &rest[..end];
        let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
        let authority = &url[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("…@");
                out.push_str(&authority[at + 1..]);
            }
            None => out.push_str(authority),
        }
        let path = &url[authority_end..];
        match path.find('?') {
            Some(q) => {
                out.push_str(&path[..q]);
                out.push_str("?…");
            }
            None => out.push_str(path),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn parse_status(value: &str) -> std::result::Result<StatusSpec, String> {
    let v = value.to_ascii_lowercase();
    if let Some(class) = v.strip_suffix("xx") {
        return match class.parse::<u16>() {
            Ok(c @ 1..=5) if class.len() == 1 => Ok(StatusSpec::Class(c)),
            _ => Err("expected a class like 2xx".into()),
        };
    }
    v.split('|')
        .map(|s| match s.trim().parse::<u16>() {
            Ok(code @ 100..=599) => Ok(code),
            _ => Err(format!("`{s}` is not an HTTP status")),
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(StatusSpec::Exact)
}

/// What a probe came back with, as the shell saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An HTTP answer: its status, how long it took, the start of its body.
    Answer { status: u16, latency: Duration, body: String },
    /// No answer: refused, reset, a TLS failure, or the timeout.
    NoAnswer { latency: Duration, error: String },
}

/// One probe's verdict, as the function answers it and the state machine reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub name: String,
    pub ok: bool,
    /// Up, but slower than its limit.
    #[serde(default)]
    pub slow: bool,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// Its failure is one a new ECS deployment can heal.
    #[serde(default)]
    pub backend: bool,
}

impl Probe {
    /// What `reply` means for this probe.
    pub fn judge(&self, reply: &Reply) -> ProbeResult {
        let mut result = ProbeResult {
            name: self.name.clone(),
            ok: false,
            slow: false,
            status: None,
            latency_ms: 0,
            error: None,
            backend: self.backend,
        };
        match reply {
            Reply::NoAnswer { latency, error } => {
                result.latency_ms = millis(*latency);
                result.error = Some(error.clone());
            }
            Reply::Answer { status, latency, body } => {
                result.status = Some(*status);
                result.latency_ms = millis(*latency);
                if !self.status.accepts(*status) {
                    result.error = Some(format!("HTTP {status}, expected {}", self.status));
                } else if let Some(text) = self.body.as_deref().filter(|t| !body.contains(*t)) {
                    result.error = Some(format!("the body does not contain {text:?}"));
                } else {
                    result.ok = true;
                    if let Some(limit) = self.max_latency.filter(|l| latency > l) {
                        result.slow = true;
                        result.error = Some(format!("slow: {} ms, limit {} ms", millis(*latency), millis(limit)));
                    }
                }
            }
        }
        result
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The ECS service as a probe: the tasks it wants are running, and the primary
/// deployment has not FAILED.
pub fn judge_ecs(observed: &Observed) -> ProbeResult {
    let error = if observed.rollout_failed {
        Some("the primary deployment's rollout FAILED".to_string())
    } else if observed.desired_count == 0 {
        Some("scaled to zero".to_string())
    } else if observed.running_count < observed.desired_count {
        Some(format!("{} of {} tasks running", observed.running_count, observed.desired_count))
    } else {
        None
    };
    ProbeResult {
        name: ECS_PROBE.into(),
        ok: error.is_none(),
        slow: false,
        status: None,
        latency_ms: 0,
        error,
        backend: true,
    }
}

pub fn is_http_url(s: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        s.strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/') && !s.contains(char::is_whitespace))
    })
}
