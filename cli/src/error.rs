//! The one error type of `stagingctl`, and the exit code each kind maps to.

use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The user's input (arguments, files, environment) is wrong: exit code 2.
    #[error("{0}")]
    Input(String),
    /// Something else failed: exit code 1.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Input(_) => ExitCode::from(2),
            Self::Failed(_) => ExitCode::from(1),
        }
    }
}

impl From<staging_core::Error> for CliError {
    /// Everything the core refuses is bad input.
    fn from(e: staging_core::Error) -> Self {
        Self::Input(e.to_string())
    }
}

impl From<staging_core::shell::ShellError> for CliError {
    /// Refusals and missing configuration are the user's to fix (exit 2); AWS
    /// failures are not.
    fn from(e: staging_core::shell::ShellError) -> Self {
        use staging_core::shell::ShellError::*;
        match e {
            Core(_) | NotConfigured(_) | BadEvent(_) => Self::Input(e.to_string()),
            _ => Self::Failed(e.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::Failed(e.to_string())
    }
}
