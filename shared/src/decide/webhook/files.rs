//! Which files a push changed, and whether the payload's lists can be trusted: the
//! Compare API's answer, the commits' own lists, or a full deploy when neither holds.

use std::collections::BTreeSet;

use serde::Serialize;

use super::payload::Push;

/// GitHub lists at most 3,000 files per commit in a push payload.
pub const COMMIT_FILE_CAP: usize = 3000;
/// The Compare API lists at most 300 files, on its first page only (it pages commits,
/// never files).
pub const COMPARE_FILE_CAP: usize = 300;
/// A push payload lists at most 2,048 commits, with no flag when it cut some.
pub const PUSH_COMMIT_CAP: usize = 2048;

pub(super) const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// Where the list of changed files came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilesSource {
    /// The commits' `added`/`modified`/`removed` lists.
    Payload,
    /// `GET /repos/{o}/{r}/compare/{before}...{after}`.
    Compare,
    /// No list could be trusted: deploy everything.
    Full,
}

/// The changed files, where they came from, and why (for a fallback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFiles {
    pub files: Vec<String>,
    pub source: FilesSource,
    pub reason: Option<String>,
}

impl ChangedFiles {
    fn full(reason: impl Into<String>) -> Self {
        Self { files: Vec::new(), source: FilesSource::Full, reason: Some(reason.into()) }
    }
}

/// Whether the Compare API is worth asking for this push: not for a new branch (there
/// is no base) nor a forced push (the base may be gone); both deploy in full anyway.
pub fn compare_applies(push: &Push) -> bool {
    !(push.created || push.before == ZERO_SHA || push.forced)
}

/// Decides the changed files: a new branch or a forced push deploys in full; otherwise
/// the Compare API's answer when there is one; at its cap (300 files), the commits' own
/// lists (up to 3,000 files each), when they hold every file the Compare API listed (a
/// check that they were not cut); a failed Compare, or lists that cannot be trusted,
/// mean full; without a Compare answer, the payload's lists, unless GitHub capped or
/// emptied them.
pub fn changed_files(push: &Push, compare: Option<std::result::Result<Vec<String>, String>>) -> ChangedFiles {
    if push.created || push.before == ZERO_SHA {
        return ChangedFiles::full("the branch was just created");
    }
    if push.forced {
        return ChangedFiles::full("the push was forced");
    }
    match compare {
        Some(Ok(compared)) if compared.len() >= COMPARE_FILE_CAP => {
            let cap = format!("the Compare API lists {} files, its cap", compared.len());
            match payload_files(push, true) {
                Err(full) => ChangedFiles::full(format!("{cap}, and {}", full.reason.unwrap_or_default())),
                Ok(listed) if compared.iter().all(|f| listed.contains(f)) => ChangedFiles {
                    reason: Some(format!("{cap}: the commits' lists ({} files) hold all of them", listed.len())),
                    files: listed.into_iter().collect(),
                    source: FilesSource::Payload,
                },
                Ok(_) => {
                    ChangedFiles::full(format!("{cap}, and the commits' lists miss some of those (cut by GitHub)"))
                }
            }
        }
        Some(Ok(files)) => ChangedFiles {
            files: files.into_iter().collect::<BTreeSet<_>>().into_iter().collect(),
            source: FilesSource::Compare,
            reason: None,
        },
        Some(Err(error)) => ChangedFiles::full(format!("the Compare API failed: {error}")),
        None => match payload_files(push, false) {
            Ok(files) => {
                ChangedFiles { files: files.into_iter().collect(), source: FilesSource::Payload, reason: None }
            }
            Err(full) => full,
        },
    }
}

/// The union of the commits' `added`/`removed`/`modified` lists, or why it cannot be
/// trusted: a commit at GitHub's per-commit cap, as many commits as a payload holds, or
/// no file listed at all for a push that moved the branch.
/// At the Compare API's cap (`cap_reached`), a commit listing no file may be one GitHub
/// emptied: the union cannot be trusted then.
fn payload_files(push: &Push, cap_reached: bool) -> std::result::Result<BTreeSet<String>, ChangedFiles> {
    if push.commits.iter().any(|c| c.file_count() >= COMMIT_FILE_CAP) {
        return Err(ChangedFiles::full(format!("a commit lists {COMMIT_FILE_CAP} files, GitHub's cap")));
    }
    if push.commits.len() >= PUSH_COMMIT_CAP {
        return Err(ChangedFiles::full(format!("the payload lists {PUSH_COMMIT_CAP} commits, GitHub's cap")));
    }
    if cap_reached && push.commits.iter().any(|c| c.file_count() == 0) {
        return Err(ChangedFiles::full("a commit lists no file (GitHub empties the lists of very large commits)"));
    }
    let files: BTreeSet<String> =
        push.commits.iter().flat_map(|c| c.added.iter().chain(&c.removed).chain(&c.modified)).cloned().collect();
    if files.is_empty() && push.after != push.before {
        return Err(ChangedFiles::full(
            "no commit lists a file (GitHub leaves the lists empty for very large commits)",
        ));
    }
    Ok(files)
}
