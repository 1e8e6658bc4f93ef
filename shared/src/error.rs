//! The one error type of `staging-core`: every message names what was wrong.

/// Anything the core can refuse. Messages name the filter, pattern, variable or
/// transition at fault, and never carry a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The filters document is not YAML of the paths-filter shape.
    #[error("filters are not valid paths-filter YAML: {reason}")]
    FiltersYaml { reason: String },

    /// A filter's value is of a shape we do not accept.
    #[error("filter `{filter}`: {reason}")]
    Filter { filter: String, reason: String },

    /// One glob of a filter does not compile.
    #[error("filter `{filter}`: invalid pattern `{pattern}`: {reason}")]
    Pattern { filter: String, pattern: String, reason: String },

    /// A configuration variable has a value we cannot use.
    #[error("{variable}={value:?}: {reason}")]
    Config {
        variable: &'static str,
        /// The offending value, or `<redacted>` for secrets.
        value: String,
        reason: String,
    },

    /// A key of the settings document (`STAGING_SETTINGS_PARAMETER`) with a value we
    /// cannot use, or a key the document does not take.
    #[error("settings `{key}`: {reason}")]
    Settings { key: String, reason: String },

    /// A command that cannot be what it claims to be.
    #[error("invalid command: {reason}")]
    Command { reason: String },

    /// The environment is locked by the budget for this period.
    #[error("the environment is locked by the budget for {period}; unlock it first")]
    BudgetLocked { period: String },

    /// A hold that cannot be placed (already expired, empty reason...).
    #[error("invalid hold: {reason}")]
    Hold { reason: String },

    /// A rollback that cannot be made (nothing to go back to, already there).
    #[error("cannot roll back: {reason}")]
    Rollback { reason: String },

    /// The front door will not wake staging for this request: `status` is the HTTP status
    /// that says why (401 no invite, 403 refused or locked, 429 over a quota), `retry_after`
    /// when asking again can succeed.
    #[error("{reason}")]
    Wake { status: u16, reason: String, retry_after: Option<chrono::DateTime<chrono::Utc>> },

    /// A recorded deployment step that does not match the state.
    #[error("deployment: {reason}")]
    Deployment { reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
