//! Deployment scope: which filters a push's changed paths match, and what that redeploys.
//!
//! Filters are written in the dorny/paths-filter YAML format: a mapping of filter name to
//! a glob or a list of globs (nested lists, as YAML anchors produce, are flattened).
//! Globs follow picomatch with `dot: true`, which is what paths-filter uses: `*` and `?`
//! never cross `/`, `*.sql` matches root-level files only, `**` spans directories and
//! `dir/**` also matches `dir` itself. Globs are parsed and translated by `globset`; the
//! gaps between the two (`dir/**` vs `dir`, `[!a]`) are closed here and the rest is
//! checked against picomatch's own answers in `tests/picomatch.rs`.
//!
//! Matching runs every glob of every filter at once, in one pass over each path, on a
//! lazy DFA (`regex-automata`) built from globset's own regex translation of the globs:
//! about three times faster than a `GlobSet` on a 3,000-file push (`benches/classify.rs`).
//!
//! **One deliberate difference from paths-filter:** a pattern starting with `!`
//! *subtracts* from its filter (a path matches when some plain pattern matches it and no
//! `!` pattern does). paths-filter ORs every pattern, so there `!**/*.md` matches every
//! file that is not markdown *in addition to* the others — the surprise behind its issues
//! #97 and #154. A filter made only of `!` patterns means "every path except these".

use std::fmt;

use std::sync::OnceLock;

use globset::{Candidate, Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use regex_automata::hybrid::dfa::DFA;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_yaml_ng::Value;

use crate::error::{Error, Result};

/// The filters used when neither `STAGING_FILTERS` nor `STAGING_FILTERS_FILE` is set, from the
/// project's seed.
pub const BUILTIN_FILTERS_YAML: &str = "\
backend:
  - 'apps/express-api/**'
  - 'packages/macro-ai-api-client/**'
  - 'packages/config-*/**'
  - 'drizzle.config.ts'
  - '**/*.sql'
frontend:
  - 'apps/client-ui/**'
  - 'packages/ui-library/**'
  - 'tailwind.config.ts'
  - 'postcss.config.js'
infrastructure:
  - 'infrastructure/**'
  - '.github/workflows/**'
  - 'docker-compose.yml'
shared:
  - 'package.json'
  - 'pnpm-lock.yaml'
  - 'turbo.json'
  - 'eslint.config.js'
database:
  - 'drizzle.config.ts'
  - '**/*.sql'
  - '**/migrations/**'
";

/// A compiled set of named path filters.
#[derive(Debug, Clone)]
pub struct Filters {
    /// Filter names and their patterns as written, in document order.
    filters: Vec<(String, Vec<String>)>,
    /// Every glob of every filter as one multi-pattern automaton: a path is scanned once.
    dfa: DFA,
    /// The same globs, for the fallback.
    globs: Vec<Glob>,
    /// Built only if the DFA ever refuses a search, which our configuration rules out;
    /// kept so that a surprise degrades to slower matching rather than a wrong answer.
    fallback: OnceLock<GlobSet>,
    /// The lazy DFA's transitions computed so far, kept between classifications: a warm
    /// function's next push walks transitions already computed instead of determinizing
    /// them again (most of a classification's time with a fresh cache).
    cache: CachePool,
    /// For glob `i`: the filter it belongs to and whether it subtracts.
    owners: Vec<GlobOwner>,
}

/// One lazy-DFA cache, lent to one classification at a time (another running at the same
/// moment makes its own). A clone of the filters starts with none.
#[derive(Debug, Default)]
struct CachePool(std::sync::Mutex<Option<regex_automata::hybrid::dfa::Cache>>);

impl Clone for CachePool {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl CachePool {
    fn take(&self, dfa: &DFA) -> regex_automata::hybrid::dfa::Cache {
        let held = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        held.unwrap_or_else(|| dfa.create_cache())
    }

    fn give_back(&self, cache: regex_automata::hybrid::dfa::Cache) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cache);
    }
}

#[derive(Debug, Clone, Copy)]
struct GlobOwner {
    filter: usize,
    exclude: bool,
}

impl Filters {
    /// Parses and compiles a paths-filter YAML document.
    pub fn from_yaml(source: &str) -> Result<Self> {
        let doc: Value = serde_yaml_ng::from_str(source).map_err(|e| Error::FiltersYaml { reason: e.to_string() })?;
        let mapping = match doc {
            Value::Mapping(m) => m,
            Value::Null => {
                return Err(Error::FiltersYaml {
                    reason: "the document is empty; expected a mapping of filter name to globs".into(),
                });
            }
            other => {
                return Err(Error::FiltersYaml {
                    reason: format!("expected a mapping of filter name to globs, found {}", kind_of(&other)),
                });
            }
        };
        let mut filters = Vec::with_capacity(mapping.len());
        for (key, value) in mapping {
            let name = match key {
                Value::String(s) => s,
                other => {
                    return Err(Error::FiltersYaml {
                        reason: format!("filter names must be strings, found {}", kind_of(&other)),
                    });
                }
            };
            let mut patterns = Vec::new();
            flatten(&name, value, &mut patterns)?;
            if patterns.is_empty() {
                return Err(Error::Filter { filter: name, reason: "has no patterns".into() });
            }
            filters.push((name, patterns));
        }
        if filters.is_empty() {
            return Err(Error::FiltersYaml { reason: "no filters are defined".into() });
        }
        Self::new(filters)
    }

    /// The built-in filters (see [`BUILTIN_FILTERS_YAML`]).
    pub fn builtin() -> Self {
        Self::from_yaml(BUILTIN_FILTERS_YAML).expect("the built-in filters compile")
    }

    /// Compiles named lists of patterns (as written, `!` for exclusions).
    pub fn new(filters: Vec<(String, Vec<String>)>) -> Result<Self> {
        let mut globs = Vec::new();
        let mut owners = Vec::new();
        for (index, (name, patterns)) in filters.iter().enumerate() {
            let mut has_include = false;
            for raw in patterns {
                let (exclude, compiled) = compile_pattern(name, raw)?;
                has_include |= !exclude;
                for glob in compiled {
                    globs.push(glob);
                    owners.push(GlobOwner { filter: index, exclude });
                }
            }
            if !has_include {
                // Only `!` patterns: "everything except these".
                globs.push(build_glob(name, "**", "**")?);
                owners.push(GlobOwner { filter: index, exclude: false });
            }
        }
        let dfa = DFA::builder()
            .configure(DFA::config().match_kind(MatchKind::All))
            .syntax(syntax::Config::new().unicode(false).utf8(false).dot_matches_new_line(true))
            .build_many(&globs.iter().map(Glob::regex).collect::<Vec<_>>())
            .map_err(|e| Error::FiltersYaml { reason: format!("the globs do not compile together: {e}") })?;
        Ok(Self { filters, dfa, globs, fallback: OnceLock::new(), owners, cache: CachePool::default() })
    }

    /// Puts the indices of the globs that match `path` in `hits`. Every glob is anchored at
    /// both ends (globset translates `g` to `^…$`), so a match can only end at the end of
    /// the path: the path is walked through the DFA byte by byte, and the patterns of the
    /// state after the end of input are the matches — no search machinery, no restart.
    fn matching_globs(&self, cache: &mut regex_automata::hybrid::dfa::Cache, path: &str, hits: &mut Vec<usize>) {
        hits.clear();
        if self.walk(cache, path, hits).is_err() {
            hits.clear();
            self.fallback_set().matches_candidate_into(&Candidate::new(path), hits);
        }
    }

    fn walk(
        &self,
        cache: &mut regex_automata::hybrid::dfa::Cache,
        path: &str,
        hits: &mut Vec<usize>,
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let input = Input::new(path).anchored(Anchored::Yes);
        let mut state = self.dfa.start_state_forward(cache, &input)?;
        for &byte in path.as_bytes() {
            // From an ordinary state, a transition already computed is one table read;
            // anything else (a start or match state, a transition not computed yet) takes
            // the general path, which computes and caches it.
            let mut next = if state.is_tagged() {
                self.dfa.next_state(cache, state, byte)?
            } else {
                self.dfa.next_state_untagged(cache, state, byte)
            };
            if next.is_unknown() {
                next = self.dfa.next_state(cache, state, byte)?;
            }
            if next.is_dead() {
                return Ok(());
            }
            state = next;
        }
        state = self.dfa.next_eoi_state(cache, state)?;
        if state.is_match() {
            for i in 0..self.dfa.match_len(cache, state) {
                hits.push(self.dfa.match_pattern(cache, state, i).as_usize());
            }
        }
        Ok(())
    }

    fn fallback_set(&self) -> &GlobSet {
        self.fallback.get_or_init(|| {
            let mut builder = GlobSetBuilder::new();
            for glob in &self.globs {
                builder.add(glob.clone());
            }
            builder.build().expect("globs that compiled alone compile as a set")
        })
    }

    /// The filters' names, in document order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.filters.iter().map(|(name, _)| name.as_str())
    }

    /// The patterns of one filter, as written.
    pub fn patterns(&self, filter: &str) -> Option<&[String]> {
        self.filters.iter().find(|(name, _)| name == filter).map(|(_, patterns)| patterns.as_slice())
    }

    /// Matches changed paths against every filter. Each path is matched once against
    /// all globs; the result lists every filter, with its matching paths sorted and
    /// de-duplicated. The result borrows the paths: nothing is copied.
    pub fn classify<'a, I>(&'a self, paths: I) -> FilterMatches<'a>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut matched: Vec<Vec<&'a str>> = vec![Vec::new(); self.filters.len()];
        // Per filter, for the current path: 0 = untouched, 1 = included, 2 = excluded.
        let mut verdict = vec![0u8; self.filters.len()];
        let mut hits = Vec::new();
        let mut cache = self.cache.take(&self.dfa);
        for path in paths {
            self.matching_globs(&mut cache, path, &mut hits);
            for &hit in &hits {
                let owner = self.owners[hit];
                let v = &mut verdict[owner.filter];
                if owner.exclude {
                    *v = 2;
                } else if *v == 0 {
                    *v = 1;
                }
            }
            for &hit in &hits {
                let filter = self.owners[hit].filter;
                if verdict[filter] == 1 {
                    matched[filter].push(path);
                }
                verdict[filter] = 0;
            }
        }
        self.cache.give_back(cache);
        let entries = self
            .filters
            .iter()
            .zip(matched)
            .map(|((name, _), mut paths)| {
                paths.sort_unstable();
                paths.dedup();
                (name.as_str(), paths)
            })
            .collect();
        FilterMatches { entries }
    }
}

/// Turns a filter's YAML value into its list of patterns.
fn flatten(filter: &str, value: Value, out: &mut Vec<String>) -> Result<()> {
    match value {
        Value::String(s) => out.push(s),
        Value::Sequence(items) => {
            for item in items {
                flatten(filter, item, out)?;
            }
        }
        Value::Mapping(_) => {
            return Err(Error::Filter {
                filter: filter.into(),
                reason: "change-type rules (`added|modified: glob`) are not supported; \
                         list plain globs"
                    .into(),
            });
        }
        Value::Tagged(tagged) => flatten(filter, tagged.value, out)?,
        other => {
            return Err(Error::Filter {
                filter: filter.into(),
                reason: format!("expected a glob or a list of globs, found {}", kind_of(&other)),
            });
        }
    }
    Ok(())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Compiles one pattern as written: whether it subtracts, and the globs that implement
/// it with picomatch's meaning.
fn compile_pattern(filter: &str, raw: &str) -> Result<(bool, Vec<globset::Glob>)> {
    let (exclude, pattern) = match raw.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let reject = |reason: &str| Error::Pattern { filter: filter.into(), pattern: raw.into(), reason: reason.into() };
    if pattern.is_empty() {
        return Err(reject("the pattern is empty"));
    }
    if pattern.starts_with('!') {
        return Err(reject("a pattern may be negated once (`!glob`), not twice"));
    }
    if has_extglob(pattern) {
        return Err(reject("extglobs such as `@(a|b)` are not supported; use braces `{a,b}`"));
    }
    let mut globs = vec![build_glob(filter, raw, pattern)?];
    // picomatch: `dir/**` matches `dir` itself; globset's needs a path below `dir`.
    if let Some(dir) = pattern.strip_suffix("/**")
        && !dir.is_empty()
    {
        globs.push(build_glob(filter, raw, dir)?);
    }
    Ok((exclude, globs))
}

fn build_glob(filter: &str, raw: &str, pattern: &str) -> Result<globset::Glob> {
    GlobBuilder::new(&picomatch_classes(pattern))
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| Error::Pattern { filter: filter.into(), pattern: raw.into(), reason: e.kind().to_string() })
}

/// picomatch 2 reads `[!abc]` as a class of `!`, `a`, `b`, `c` (only `[^abc]` negates),
/// where globset reads it as negation: move the `!` to the end of the class, where
/// globset takes it literally. `[!]` alone is the class of `!`.
fn picomatch_classes(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !pattern.contains("[!") {
        return pattern.into();
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(at) = rest.find("[!") {
        let escaped = rest[..at].ends_with('\\');
        out.push_str(&rest[..at]);
        let class = &rest[at + 2..];
        match class.find(']') {
            Some(0) if !escaped => {
                out.push('!');
                rest = &class[1..];
            }
            Some(end) if !escaped => {
                out.push('[');
                out.push_str(&class[..end]);
                out.push_str("!]");
                rest = &class[end + 1..];
            }
            _ => {
                out.push_str("[!");
                rest = class;
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// picomatch's extglobs (`@(..)`, `!(..)`, `+(..)`, `*(..)`, `?(..)`) have no globset
/// equivalent; refusing them beats matching them literally.
fn has_extglob(pattern: &str) -> bool {
    pattern.as_bytes().windows(2).any(|w| matches!(w, [b'@' | b'!' | b'+' | b'*' | b'?', b'(']))
}

/// What every filter matched, in the filters' order, borrowing names and paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterMatches<'a> {
    entries: Vec<(&'a str, Vec<&'a str>)>,
}

impl<'a> FilterMatches<'a> {
    /// Every filter with its matched paths (possibly none), in the filters' order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &[&'a str])> {
        self.entries.iter().map(|(name, paths)| (*name, paths.as_slice()))
    }

    /// The paths one filter matched; `None` when there is no such filter.
    pub fn get(&self, filter: &str) -> Option<&[&'a str]> {
        self.iter().find(|(name, _)| *name == filter).map(|(_, p)| p)
    }

    /// Names of the filters that matched at least one path.
    pub fn matched(&self) -> impl Iterator<Item = &'a str> {
        self.iter().filter(|(_, paths)| !paths.is_empty()).map(|(name, _)| name)
    }

    /// The deployment the matched filters call for (see [`DeploymentPlan::for_filter`]).
    pub fn plan(&self) -> DeploymentPlan {
        self.matched().map(DeploymentPlan::for_filter).fold(DeploymentPlan::NOTHING, DeploymentPlan::union)
    }
}

impl Serialize for FilterMatches<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, paths) in &self.entries {
            map.serialize_entry(name, paths)?;
        }
        map.end()
    }
}

/// What a change redeploys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeploymentPlan {
    pub backend: bool,
    pub frontend: bool,
    pub infrastructure: bool,
    pub database_migration: bool,
}

impl DeploymentPlan {
    /// No deployment: the push is validation only.
    pub const NOTHING: Self =
        Self { backend: false, frontend: false, infrastructure: false, database_migration: false };

    /// Everything: what an untrustworthy file list falls back to.
    pub const FULL: Self = Self { backend: true, frontend: true, infrastructure: true, database_migration: true };

    /// The scope matrix: what a change matched by one filter redeploys.
    ///
    /// | filter           | redeploys                          |
    /// |------------------|------------------------------------|
    /// | `backend`        | backend                            |
    /// | `frontend`       | frontend                           |
    /// | `infrastructure` | infrastructure                     |
    /// | `shared`         | backend and frontend               |
    /// | `database`       | database migration                 |
    /// | anything else    | nothing (reported, not deployed)   |
    pub fn for_filter(filter: &str) -> Self {
        let mut plan = Self::NOTHING;
        match filter {
            "backend" => plan.backend = true,
            "frontend" => plan.frontend = true,
            "infrastructure" => plan.infrastructure = true,
            "shared" => {
                plan.backend = true;
                plan.frontend = true;
            }
            "database" => plan.database_migration = true,
            _ => {}
        }
        plan
    }

    /// Both plans' deployments.
    pub fn union(self, other: Self) -> Self {
        Self {
            backend: self.backend || other.backend,
            frontend: self.frontend || other.frontend,
            infrastructure: self.infrastructure || other.infrastructure,
            database_migration: self.database_migration || other.database_migration,
        }
    }

    /// True when nothing is to be deployed.
    pub fn is_empty(&self) -> bool {
        *self == Self::NOTHING
    }

    /// The deploy workflow's `deployment-type` input, or `None` when nothing is to be
    /// deployed. Infrastructure, or backend and frontend together, need `full`; a
    /// database migration on its own ships with the backend, whose deploy runs it.
    pub fn deployment_type(&self) -> Option<DeploymentType> {
        if self.infrastructure || (self.backend && self.frontend) {
            Some(DeploymentType::Full)
        } else if self.backend || self.database_migration {
            Some(DeploymentType::BackendOnly)
        } else if self.frontend {
            Some(DeploymentType::FrontendOnly)
        } else {
            None
        }
    }

    /// The parts to deploy, for people: `backend, database migration`.
    pub fn parts(&self) -> Vec<&'static str> {
        [
            (self.backend, "backend"),
            (self.frontend, "frontend"),
            (self.infrastructure, "infrastructure"),
            (self.database_migration, "database migration"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

impl fmt::Display for DeploymentPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            f.write_str("validation only (nothing to deploy)")
        } else {
            f.write_str(&self.parts().join(", "))
        }
    }
}

/// The deploy workflow's `deployment-type` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentType {
    Full,
    BackendOnly,
    FrontendOnly,
}

impl DeploymentType {
    /// The input value as the workflow expects it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::BackendOnly => "backend-only",
            Self::FrontendOnly => "frontend-only",
        }
    }
}

impl fmt::Display for DeploymentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
