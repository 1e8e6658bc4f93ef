//! The GitHub REST API: the Compare API (which files a push changed),
//! `workflow_dispatch` (start the deploy workflow), and the reads `stagingctl doctor`
//! checks a setup with (the repository, a file's contents). Errors name the call, the
//! HTTP status and GitHub's message, never the token.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use serde::Deserialize;

use super::http::HttpClient;
use crate::config::{GitHub, Repository, Secret};

/// The most of an answer read (a compare of 300 files with their patches fits).
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// How long a GitHub call may take: the webhook must answer within GitHub's 10 s.
const TIMEOUT: Duration = Duration::from_secs(4);

/// GitHub's JSON, the media type every call but a file read asks for.
const JSON: &str = "application/vnd.github+json";

/// A file's bytes as they are, instead of JSON with its content in base64.
const RAW: &str = "application/vnd.github.raw+json";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("GitHub {call} failed: {detail}")]
pub struct GitHubError {
    pub call: &'static str,
    /// The status GitHub answered with, if it answered.
    pub status: Option<u16>,
    pub detail: String,
    /// Whether the request may have reached GitHub (false: no client, no token, or the
    /// connection was never made).
    pub sent: bool,
}

impl GitHubError {
    /// 5xx, 429 and connection failures may pass; 4xx will not.
    pub fn is_retryable(&self) -> bool {
        self.status.is_none_or(|s| s >= 500 || s == 429)
    }

    /// GitHub did not act on it: it answered with an error status, or never got it.
    pub fn is_refusal(&self) -> bool {
        self.status.is_some() || !self.sent
    }

    fn unsent(call: &'static str, detail: String) -> Self {
        Self { call, status: None, detail, sent: false }
    }
}

/// Where the token comes from: given, or read from Secrets Manager on first use (so a
/// cold start that dispatches nothing makes no Secrets Manager call) and read again when
/// GitHub answers 401 (a rotated or expired token needs no cold start).
#[derive(Debug)]
enum Token {
    Given(Secret),
    SecretsManager {
        arn: String,
        client: crate::shell::Lazy<aws_sdk_secretsmanager::Client>,
        /// The token last read; a std lock, never held across an await.
        held: std::sync::Mutex<Option<Secret>>,
    },
}

/// A client for one repository, with a token.
#[derive(Debug)]
pub struct GitHubApi {
    /// Built on the first call: loading the TLS roots is a cold-start cost that pings
    /// and ignored deliveries should not pay.
    http: HttpClient,
    base: String,
    repository: Repository,
    token: Token,
}

#[derive(Deserialize)]
struct Compare {
    #[serde(default)]
    files: Vec<CompareFile>,
}

#[derive(Deserialize)]
struct CompareFile {
    filename: String,
    #[serde(default)]
    previous_filename: Option<String>,
}

/// The repository as `GET /repos/{owner}/{repo}` describes it (the fields used).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RepositoryInfo {
    pub full_name: String,
    /// The branch a `workflow_dispatch` workflow must be on for GitHub to start it.
    pub default_branch: String,
}

#[derive(Deserialize)]
struct ApiMessage {
    #[serde(default)]
    message: String,
}

impl GitHubApi {
    /// A client, when a repository and a token are configured; `None` means dry mode.
    pub fn new(config: &GitHub) -> Option<Self> {
        Some(Self {
            http: HttpClient::new(true),
            base: config.api_url.clone(),
            repository: config.repository.clone()?,
            token: Token::Given(config.token.clone()?),
        })
    }

    /// A client whose token is given or, named by `GITHUB_TOKEN_ARN`, read from Secrets
    /// Manager the first time a call needs it; `None` without either (dry mode).
    /// The Secrets Manager client is built only then too.
    pub fn with_secrets(config: &GitHub, client: &crate::shell::Lazy<aws_sdk_secretsmanager::Client>) -> Option<Self> {
        let token = match (&config.token, &config.token_arn) {
            (Some(token), _) => Token::Given(token.clone()),
            (None, Some(arn)) => {
                Token::SecretsManager { arn: arn.clone(), client: client.clone(), held: std::sync::Mutex::new(None) }
            }
            (None, None) => return None,
        };
        Some(Self {
            http: HttpClient::new(true),
            base: config.api_url.clone(),
            repository: config.repository.clone()?,
            token,
        })
    }

    /// The token in hand, read first if none is.
    async fn token(&self, call: &'static str) -> Result<Secret, GitHubError> {
        match &self.token {
            Token::Given(token) => Ok(token.clone()),
            Token::SecretsManager { held, .. } => {
                let in_hand = held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                match in_hand {
                    Some(token) => Ok(token),
                    None => self.read_token(call).await,
                }
            }
        }
    }

    /// Reads the token from Secrets Manager and keeps it (a given token is returned as is).
    async fn read_token(&self, call: &'static str) -> Result<Secret, GitHubError> {
        let Token::SecretsManager { arn, client, held } = &self.token else {
            return self.token_given(call);
        };
        let token = match Box::pin(read_secret(client, arn)).await {
            Ok(token) if !token.is_empty() => Secret::new(token),
            Ok(_) => return Err(GitHubError::unsent(call, "the token secret is empty".into())),
            Err(e) => return Err(GitHubError::unsent(call, format!("no token: {e}"))),
        };
        *held.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(token.clone());
        Ok(token)
    }

    fn token_given(&self, call: &'static str) -> Result<Secret, GitHubError> {
        match &self.token {
            Token::Given(token) => Ok(token.clone()),
            Token::SecretsManager { .. } => Err(GitHubError::unsent(call, "no token given".into())),
        }
    }

    /// Calls `method /repos/{owner}/{name}{path}` with the token, asking for JSON; the
    /// body of a success, or the error GitHub answered with.
    async fn call(
        &self,
        call: &'static str,
        method: http::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Vec<u8>, GitHubError> {
        self.call_accepting(call, method, path, body, JSON).await
    }

    /// [`Self::call`], asking for the media type `accept`. A token read from Secrets
    /// Manager that GitHub refuses (401) is read once more, and the call made again with it
    /// if it changed: a 401 means GitHub did nothing, so even a dispatch is safe to repeat.
    async fn call_accepting(
        &self,
        call: &'static str,
        method: http::Method,
        path: &str,
        body: Option<String>,
        accept: &'static str,
    ) -> Result<Vec<u8>, GitHubError> {
        let token = self.token(call).await?;
        let first = self.send(call, method.clone(), path, body.clone(), accept, &token).await;
        match first {
            Err(e) if e.status == Some(401) && matches!(self.token, Token::SecretsManager { .. }) => {
                // GitHub's refusal stays the error when the token cannot be read again.
                let fresh = match self.read_token(call).await {
                    Ok(fresh) => fresh,
                    Err(read) => {
                        tracing::warn!(call, error = %read, "the token GitHub refused could not be read again");
                        return Err(e);
                    }
                };
                if fresh == token {
                    return Err(e);
                }
                tracing::info!(call, "GitHub refused the token in hand: the token was read again");
                self.send(call, method, path, body, accept, &fresh).await
            }
            other => other,
        }
    }

    /// One request with `token`: the body of a success, or the error GitHub answered with.
    async fn send(
        &self,
        call: &'static str,
        method: http::Method,
        path: &str,
        body: Option<String>,
        accept: &'static str,
        token: &Secret,
    ) -> Result<Vec<u8>, GitHubError> {
        let url = format!("{}/repos/{}{path}", self.base, self.repository);
        let mut request = http::Request::builder()
            .method(method)
            .uri(url)
            .header(http::header::USER_AGENT, concat!("staging-control/", env!("CARGO_PKG_VERSION")))
            .header(
                http::header::AUTHORIZATION,
                bearer(token)
                    .ok_or_else(|| GitHubError::unsent(call, "the token is not a valid header value".into()))?,
            )
            .header(http::header::ACCEPT, accept)
            .header("X-GitHub-Api-Version", "2022-11-28");
        if body.is_some() {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| GitHubError::unsent(call, format!("cannot build the request: {e}")))?;
        let answer = self.http.send(request, TIMEOUT, BODY_LIMIT).await.map_err(|e| GitHubError {
            call,
            status: None,
            detail: e.detail,
            sent: e.sent,
        })?;
        if (200..300).contains(&answer.status) {
            if answer.truncated {
                return Err(GitHubError {
                    call,
                    status: Some(answer.status),
                    detail: format!("the answer is larger than {} MiB", BODY_LIMIT >> 20),
                    sent: true,
                });
            }
            return Ok(answer.body);
        }
        if (300..400).contains(&answer.status) {
            // Not followed: a moved repository is a configuration to fix, not to guess.
            let to = answer.location.as_deref().unwrap_or("(no Location)");
            return Err(GitHubError {
                call,
                status: Some(answer.status),
                detail: format!(
                    "HTTP {}: moved to {to}; the repository was renamed or transferred: update GITHUB_REPOSITORY",
                    answer.status
                ),
                sent: true,
            });
        }
        let text = String::from_utf8_lossy(&answer.body);
        let message = serde_json::from_str::<ApiMessage>(&text)
            .map(|m| m.message)
            .unwrap_or_else(|_| text.chars().take(200).collect());
        Err(GitHubError {
            call,
            status: Some(answer.status),
            detail: format!("HTTP {}: {message}", answer.status),
            sent: true,
        })
    }

    /// Files changed between two commits (renames count under both names). The API
    /// lists at most 300.
    pub async fn compare(&self, base: &str, head: &str) -> Result<Vec<String>, GitHubError> {
        let body = self.call("compare", http::Method::GET, &format!("/compare/{base}...{head}"), None).await?;
        let compare: Compare = serde_json::from_slice(&body).map_err(|e| GitHubError {
            call: "compare",
            status: None,
            detail: format!("unexpected response: {e}"),
            sent: true,
        })?;
        Ok(compare.files.into_iter().flat_map(|f| std::iter::once(f.filename).chain(f.previous_filename)).collect())
    }

    /// `POST /repos/{o}/{r}/actions/workflows/{workflow}/dispatches`: inputs as strings.
    pub async fn dispatch(&self, workflow: &str, git_ref: &str, inputs: &[(&str, String)]) -> Result<(), GitHubError> {
        let inputs: serde_json::Map<String, serde_json::Value> =
            inputs.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone()))).collect();
        let body = serde_json::json!({ "ref": git_ref, "inputs": inputs });
        self.call(
            "workflow dispatch",
            http::Method::POST,
            &format!("/actions/workflows/{workflow}/dispatches"),
            Some(body.to_string()),
        )
        .await?;
        Ok(())
    }

    /// `GET /repos/{o}/{r}`: whether the token can see the repository (401: a bad token;
    /// 404: no such repository, or one the token may not see), and its default branch.
    pub async fn repository(&self) -> Result<RepositoryInfo, GitHubError> {
        let body = self.call("repository", http::Method::GET, "", None).await?;
        serde_json::from_slice(&body).map_err(|e| GitHubError {
            call: "repository",
            status: None,
            detail: format!("unexpected response: {e}"),
            sent: true,
        })
    }

    /// `GET /repos/{o}/{r}/contents/{path}?ref={git_ref}`: a file's text as it is on
    /// `git_ref` (404: no such file there).
    pub async fn read_file(&self, path: &str, git_ref: &str) -> Result<String, GitHubError> {
        let path = format!("/contents/{}?ref={}", percent_encoded(path), percent_encoded(git_ref));
        let body = self.call_accepting("read file", http::Method::GET, &path, None, RAW).await?;
        String::from_utf8(body).map_err(|_| GitHubError {
            call: "read file",
            status: None,
            detail: "the file is not UTF-8 text".into(),
            sent: true,
        })
    }
}

/// `s` with every byte but the unreserved ones and `/` percent-encoded: a file path or
/// a branch name (which may hold `#`, `%` or `+`) fit for a URL's path or query.
fn percent_encoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `Authorization` value, marked sensitive so that no header dump shows it.
fn bearer(token: &Secret) -> Option<http::HeaderValue> {
    let mut value = http::HeaderValue::from_str(&format!("Bearer {}", token.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// A secret's value, trimmed.
pub async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<String, crate::shell::ShellError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| crate::shell::ShellError::aws("secretsmanager:GetSecretValue", e))?;
    Ok(out.secret_string().unwrap_or_default().trim().to_string())
}

/// In AWS the webhook secret lives in Secrets Manager, named by
/// `GITHUB_WEBHOOK_SECRET_ARN`; a value given directly wins. Read once per cold start
/// (every request needs it). It may hold `new,old` while rotating. The token is read
/// when first needed instead (see [`GitHubApi::with_secrets`]).
pub async fn resolve_webhook_secret(
    client: &aws_sdk_secretsmanager::Client,
    github: &mut GitHub,
) -> Result<(), crate::shell::ShellError> {
    if github.webhook_secrets.is_empty()
        && let Some(arn) = &github.webhook_secret_arn
    {
        github.webhook_secrets = read_secret(client, arn)
            .await?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .take(2)
            .map(Secret::new)
            .collect();
    }
    Ok(())
}
