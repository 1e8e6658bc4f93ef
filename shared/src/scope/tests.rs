use super::*;

fn plan(backend: bool, frontend: bool, infrastructure: bool, db: bool) -> DeploymentPlan {
    DeploymentPlan { backend, frontend, infrastructure, database_migration: db }
}

/// The seed's scope matrix, row by row, through the built-in filters.
#[test]
fn scope_matrix_follows_the_seed_row_by_row() {
    use DeploymentType::*;
    let filters = Filters::builtin();
    #[rustfmt::skip]
    let rows: &[(&str, &[&str], DeploymentPlan, Option<DeploymentType>)] = &[
        ("backend only", &["apps/express-api/src/app.ts"], plan(true, false, false, false), Some(BackendOnly)),
        ("api client package", &["packages/macro-ai-api-client/src/index.ts"], plan(true, false, false, false), Some(BackendOnly)),
        ("config package", &["packages/config-eslint/index.js"], plan(true, false, false, false), Some(BackendOnly)),
        ("frontend only", &["apps/client-ui/src/App.tsx"], plan(false, true, false, false), Some(FrontendOnly)),
        ("ui library", &["packages/ui-library/button.tsx", "tailwind.config.ts"], plan(false, true, false, false), Some(FrontendOnly)),
        ("infrastructure only", &["infrastructure/ecs.tf"], plan(false, false, true, false), Some(Full)),
        ("workflow change", &[".github/workflows/deploy-staging.yml"], plan(false, false, true, false), Some(Full)),
        ("shared lockfile", &["pnpm-lock.yaml"], plan(true, true, false, false), Some(Full)),
        ("shared root config", &["turbo.json", "eslint.config.js"], plan(true, true, false, false), Some(Full)),
        ("sql migration", &["apps/express-api/drizzle/0001_init.sql"], plan(true, false, false, true), Some(BackendOnly)),
        ("drizzle config", &["drizzle.config.ts"], plan(true, false, false, true), Some(BackendOnly)),
        ("migration metadata only", &["packages/db/migrations/meta/_journal.json"], plan(false, false, false, true), Some(BackendOnly)),
        ("backend and frontend", &["apps/express-api/a.ts", "apps/client-ui/b.tsx"], plan(true, true, false, false), Some(Full)),
        ("frontend and infrastructure", &["apps/client-ui/b.tsx", "docker-compose.yml"], plan(false, true, true, false), Some(Full)),
        ("docs only", &["README.md", "docs/setup.md"], DeploymentPlan::NOTHING, None),
        ("no files", &[], DeploymentPlan::NOTHING, None),
    ];
    for (name, paths, expected_plan, expected_type) in rows {
        let matches = filters.classify(paths.iter().copied());
        let got = matches.plan();
        assert_eq!(got, *expected_plan, "{name}: plan");
        assert_eq!(got.deployment_type(), *expected_type, "{name}: deployment type");
    }
}

#[test]
fn infrastructure_only_change_does_not_redeploy_the_backend() {
    let plan = Filters::builtin().classify(["infrastructure/alb.tf"]).plan();
    assert!(plan.infrastructure && !plan.backend && !plan.frontend);
}

#[test]
fn every_filter_is_listed_even_when_it_matched_nothing() {
    let filters = Filters::builtin();
    let matches = filters.classify(["apps/client-ui/x.ts"]);
    let names: Vec<_> = matches.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["backend", "frontend", "infrastructure", "shared", "database"]);
    assert_eq!(matches.get("backend"), Some(&[][..]));
    assert_eq!(matches.get("frontend").unwrap(), ["apps/client-ui/x.ts"]);
}

#[test]
fn matched_paths_are_sorted_and_deduplicated() {
    let filters = Filters::builtin();
    let matches = filters.classify(["apps/express-api/z.ts", "apps/express-api/a.ts", "apps/express-api/z.ts"]);
    assert_eq!(matches.get("backend").unwrap(), ["apps/express-api/a.ts", "apps/express-api/z.ts"]);
}

#[test]
fn exclusions_subtract_from_their_own_filter_only() {
    let filters = Filters::from_yaml("api:\n  - 'apps/api/**'\n  - '!**/*.md'\nall:\n  - '**'\n").unwrap();
    let m = filters.classify(["apps/api/README.md", "apps/api/main.rs", "docs/x.md"]);
    assert_eq!(m.get("api").unwrap(), ["apps/api/main.rs"]);
    assert_eq!(m.get("all").unwrap(), ["apps/api/README.md", "apps/api/main.rs", "docs/x.md"]);
}

#[test]
fn a_filter_of_only_exclusions_means_everything_except_them() {
    let filters = Filters::from_yaml("code: ['!**/*.md', '!docs/**']").unwrap();
    let m = filters.classify(["README.md", "docs/a.txt", "src/main.rs", ".env"]);
    assert_eq!(m.get("code").unwrap(), [".env", "src/main.rs"]);
}

#[test]
fn anchors_are_flattened_into_the_referring_filter() {
    let yaml = "\
shared: &shared
  - 'common/**'
  - 'package.json'
backend:
  - *shared
  - 'api/**'
";
    let filters = Filters::from_yaml(yaml).unwrap();
    assert_eq!(filters.patterns("backend").unwrap(), ["common/**", "package.json", "api/**"]);
    let m = filters.classify(["common/x.ts"]);
    assert_eq!(m.matched().collect::<Vec<_>>(), ["shared", "backend"]);
}

#[test]
fn a_single_string_is_a_filter_of_one_pattern() {
    let filters = Filters::from_yaml("docs: 'docs/**'").unwrap();
    assert_eq!(filters.patterns("docs").unwrap(), ["docs/**"]);
}

#[test]
fn unknown_filter_names_are_reported_but_deploy_nothing() {
    let filters = Filters::from_yaml("docs: ['**/*.md']").unwrap();
    let m = filters.classify(["README.md"]);
    assert_eq!(m.matched().collect::<Vec<_>>(), ["docs"]);
    assert!(m.plan().is_empty());
}

#[test]
fn bad_filter_documents_are_refused_with_the_filter_and_pattern_named() {
    let cases: &[(&str, &str)] = &[
        ("backend: ['apps/{a,b']", "filter `backend`: invalid pattern `apps/{a,b`"),
        ("backend: ['[z-a]']", "filter `backend`: invalid pattern `[z-a]`"),
        ("web: ['!']", "filter `web`: invalid pattern `!`: the pattern is empty"),
        ("web: ['!!a']", "filter `web`: invalid pattern `!!a`"),
        ("web: ['src/@(a|b).ts']", "filter `web`: invalid pattern `src/@(a|b).ts`: extglobs"),
        ("web: [{added: '**'}]", "filter `web`: change-type rules"),
        ("web: [1]", "filter `web`: expected a glob or a list of globs, found a number"),
        ("web: []", "filter `web`: has no patterns"),
        ("web:", "filter `web`: expected a glob or a list of globs, found null"),
        ("- a\n- b", "expected a mapping of filter name to globs, found a list"),
        ("", "the document is empty"),
        ("web: [a\n", "filters are not valid paths-filter YAML"),
        ("web: a\nweb: b\n", "filters are not valid paths-filter YAML"),
    ];
    for (yaml, expected) in cases {
        let err = Filters::from_yaml(yaml).unwrap_err().to_string();
        assert!(err.contains(expected), "{yaml:?}: got `{err}`, want `{expected}`");
    }
}

proptest::proptest! {
    /// The one-pass automaton and globset's own `GlobSet` agree on every path.
    #[test]
    fn the_automaton_matches_exactly_what_globset_matches(
        paths in proptest::collection::vec("[a-c./\\-]{0,3}(apps/express-api|packages/config-x|infrastructure|migrations|\\.github/workflows)?[/a-z.\n!\\[\\]]{0,12}(\\.sql|\\.md|\\.ts)?", 1..40)
    ) {
        let filters = Filters::from_yaml(
            "a: ['apps/express-api/**', '**/*.sql', 'packages/config-*/**', '!**/*.md']\n\
                 b: ['**/migrations/**', '.github/**', '[!a]*', 'x[!]', '{a,b/c}?']\n\
                 c: ['!infrastructure/**']\n",
        ).unwrap();
        let mut cache = filters.dfa.create_cache();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for path in &paths {
            filters.matching_globs(&mut cache, path, &mut ours);
            filters.fallback_set().matches_candidate_into(&Candidate::new(path.as_str()), &mut theirs);
            ours.sort_unstable();
            proptest::prop_assert_eq!(&ours, &theirs, "path {:?}", path);
        }
    }
}

#[test]
fn deployment_type_strings_are_the_workflow_inputs() {
    assert_eq!(DeploymentType::Full.as_str(), "full");
    assert_eq!(serde_json::to_string(&DeploymentType::BackendOnly).unwrap(), "\"backend-only\"");
    assert_eq!(DeploymentType::FrontendOnly.to_string(), "frontend-only");
}
