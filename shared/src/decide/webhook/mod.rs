//! GitHub webhooks, pure: is the request genuine, what is it about, which files did a
//! push change (and can the payload's lists be trusted), and what a push or a finished
//! deploy run means for the environment.
//!
//! Everything sent to the Function URL is hostile until the signature checks out. The
//! checks run in a fixed order and each refusal names what was wrong.
//!
//! - `request`: the request checks (method, size, headers, the HMAC-SHA256 signature
//!   under one or two secrets), when the webhook secret is read again, the [`Delivery`]
//!   a genuine request names and the [`Rejection`] of one that is not;
//! - `payload`: the fields of GitHub's payloads we use ([`Push`], [`WorkflowRun`], …)
//!   and the [`route`] a verified delivery takes;
//! - `files`: a push's [`changed_files`], from the Compare API or the commits' lists,
//!   or a full deploy when neither can be trusted;
//! - `decisions`: [`decide_push`], [`decide_deploy_requested`] and
//!   [`decide_deploy_finished`], with their helpers.
//!
//! Every public item is re-exported here: callers name `decide::webhook::X`.

mod decisions;
mod files;
mod payload;
mod request;

pub use decisions::{PushInput, decide_deploy_finished, decide_deploy_requested, decide_push};
pub use files::{
    COMMIT_FILE_CAP, COMPARE_FILE_CAP, ChangedFiles, FilesSource, PUSH_COMMIT_CAP, changed_files, compare_applies,
};
pub use payload::{Actor, Commit, Push, Route, WorkflowRun, route};
pub use request::{
    Delivery, MAX_BODY_BYTES, Rejection, SECRET_REFRESH_EVERY, SECRET_REREAD_EVERY, check_request, may_reread_secret,
    parse_webhook_secrets, payload_hash, secret_refresh_due, verify_signature,
};

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of test cases
mod tests;
