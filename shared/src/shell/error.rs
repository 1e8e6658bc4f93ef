//! The shell's error: what failed, and whether trying again can help.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Error codes AWS services use for throttling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    // A write that met an item inside another invocation's transaction.
    "TransactionConflictException",
    "TransactionInProgressException",
    "SlowDown",
];

#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// An AWS call failed (after the SDK's own retries).
    #[error("{operation} failed{}: {message}", if *retryable { " (retryable)" } else { "" })]
    Aws { operation: &'static str, code: Option<String>, message: String, retryable: bool },
    /// Another service (GitHub) failed. `refused`: it answered with an error status,
    /// so it did nothing; otherwise (a timeout, a dropped connection) it may have acted.
    #[error("{message}")]
    Upstream { message: String, retryable: bool, refused: bool },
    /// The core refused (bad input, a transition that is not allowed).
    #[error(transparent)]
    Core(#[from] crate::Error),
    /// The event is not one this function understands.
    #[error("bad event: {0}")]
    BadEvent(String),
    /// A resource the action needs is not configured.
    #[error("{0} is not set")]
    NotConfigured(&'static str),
    /// Someone else kept committing the state first.
    #[error("the state of `{environment}` kept changing under us ({attempts} attempts); try again")]
    Conflict { environment: String, attempts: u32 },
    /// A stored record does not parse.
    #[error("stored record `{id}` is unreadable: {reason}")]
    Corrupt { id: String, reason: String },
    /// An idempotency key came back with a different payload.
    #[error("key `{key}` was already used for a different payload")]
    KeyReused { key: String },
    /// An action this build cannot carry out.
    #[error("{0}")]
    Unsupported(String),
    /// The pause stack cannot be paused or resumed as it is (a NoEcho parameter, a
    /// template too large, no saved copy); nothing was changed.
    #[error("{0}")]
    StackRefused(String),
    /// The decision was committed, but carrying it out failed in part: what was done
    /// and what failed are listed. The state stands; a retry reconciles.
    #[error("{summary} (committed), but: {}{}", failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        if done.is_empty() { String::new() } else { format!(" (done: {})", done.join("; ")) })]
    AfterCommit { summary: String, done: Vec<String>, failures: Vec<ShellError> },
}

impl ShellError {
    /// Whether the call was refused outright (GitHub answered with an error status) or
    /// could not be made at all (not configured): nothing happened, and trying again
    /// the same way would be refused again.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Upstream { refused, .. } => *refused,
            Self::NotConfigured(_) | Self::Unsupported(_) | Self::StackRefused(_) => true,
            _ => false,
        }
    }

    /// Whether ECS said the service (or its cluster) does not exist: in stack mode, one
    /// paused with its stack.
    pub fn is_missing_service(&self) -> bool {
        matches!(self, Self::Aws { code: Some(code), .. } if code == "ServiceNotFoundException" || code == "ClusterNotFoundException")
    }

    /// Whether another service (GitHub) is what failed.
    pub fn is_upstream(&self) -> bool {
        match self {
            Self::Upstream { .. } => true,
            Self::AfterCommit { failures, .. } => failures.iter().any(Self::is_upstream),
            _ => false,
        }
    }

    /// Whether the invocation should be retried (by Lambda, SNS or Scheduler): AWS
    /// throttling, 5xx, timeouts and connection failures, and lost races.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Aws { retryable, .. } => *retryable,
            Self::Conflict { .. } => true,
            Self::Upstream { retryable, .. } => *retryable,
            // The decision stands; a retry (or any later invocation) reconciles — unless
            // all that failed was refused outright or is not configured, which a retry
            // would only repeat.
            Self::AfterCommit { failures, .. } => !failures.iter().all(Self::is_refusal),
            _ => false,
        }
    }

    /// Classifies an SDK error (any service: they share the error types).
    pub fn aws<E>(operation: &'static str, err: SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let (code, retryable) = match &err {
            SdkError::ServiceError(ctx) => {
                let code = ctx.err().code().map(str::to_string);
                let throttled = code.as_deref().is_some_and(|c| THROTTLING_CODES.contains(&c));
                (code, throttled || ctx.raw().status().is_server_error())
            }
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => (None, true),
            _ => (None, false),
        };
        Self::Aws { operation, code, message: DisplayErrorContext(&err).to_string(), retryable }
    }
}

#[cfg(feature = "github")]
impl From<crate::shell::github::GitHubError> for ShellError {
    fn from(e: crate::shell::github::GitHubError) -> Self {
        let retryable = e.is_retryable();
        Self::Upstream { message: e.to_string(), retryable, refused: e.is_refusal() }
    }
}
