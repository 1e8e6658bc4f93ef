use super::*;
use std::collections::HashMap;
use std::time::Duration;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

fn refused_key(result: Result<Config>) -> String {
    match result {
        Err(Error::Settings { key, .. }) => key,
        other => panic!("expected a settings error, got {other:?}"),
    }
}

#[test]
fn each_key_is_read_by_its_variables_parser() {
    let document = r#"
working_days: [Mon, Tue, Thu]
holidays: [2026-12-24, 2026-12-25]
hold_default: 90m
hold_max: 4h
deploy_grace: 45m
probes:
  - api=http://127.0.0.1:9/health;status=200
  - web=http://127.0.0.1:9/
gbp_per_usd: 0.8
health_failures: 3
health_successes: 2
health_reminder: 2h
health_grace: 0s
heal_after: 4
heal_interval: 20m
auto_rollback: true
filters:
  backend: ['server/**']
rates: {components: {fargate: {monthly_usd: 9.0, billing: stops_at_zero}}}
"#;
    let c = read(env(&[]), document).unwrap();
    assert_eq!(c.business_hours.working_days, crate::config::parse_working_days("Mon,Tue,Thu").unwrap());
    assert_eq!(c.business_hours.holidays.len(), 2);
    assert_eq!(
        (c.hold_default, c.hold_max, c.deploy_grace),
        (Duration::from_secs(5400), Duration::from_secs(14400), Duration::from_secs(2700))
    );
    assert_eq!(c.probes.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["api", "web"]);
    assert_eq!(c.gbp_per_usd, Some(0.8));
    assert_eq!((c.health.failures, c.health.successes, c.health.heal_after), (3, 2, 4));
    assert_eq!(
        (c.health.reminder, c.health.grace, c.health.heal_interval),
        (Duration::from_secs(7200), Duration::ZERO, Duration::from_secs(1200))
    );
    assert!(c.health.auto_rollback);
    let filters = match &c.filters {
        Some(YamlSetting::Inline { text, .. }) => crate::Filters::from_yaml(text).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(filters.classify(["server/main.rs"]).plan().deployment_type(), Some(crate::DeploymentType::BackendOnly));
    assert!(matches!(&c.rates, Some(YamlSetting::Inline { text, .. }) if text.contains("monthly_usd")));
}

#[test]
fn the_document_wins_over_the_environment_and_leaves_the_rest() {
    let environment = env(&[
        ("STAGING_WORKING_DAYS", "Mon-Fri"),
        ("STAGING_HOLD_MAX", "12h"),
        ("STAGING_FILTERS_FILE", "filters.yml"),
        ("STAGING_COST_FILE", "rates.yml"),
        ("STAGING_CLUSTER", "c"),
    ]);
    let c = read(&environment, "working_days: Mon-Wed\nfilters: {backend: ['server/**']}").unwrap();
    assert_eq!(c.business_hours.working_days, crate::config::parse_working_days("Mon-Wed").unwrap());
    assert_eq!(c.hold_max, Duration::from_secs(12 * 3600), "a key left out keeps the variable");
    assert_eq!(c.resources.cluster.as_deref(), Some("c"));
    // The document's filters hide the file the environment names; its rates do not.
    assert!(matches!(&c.filters, Some(YamlSetting::Inline { variable: "STAGING_FILTERS", .. })));
    assert!(matches!(&c.rates, Some(YamlSetting::File { .. })));
    // `null` and an empty document leave every variable as deployed.
    let c = read(&environment, "working_days: ~\n# nothing else\n").unwrap();
    assert_eq!(c.business_hours.working_days, crate::config::parse_working_days("Mon-Fri").unwrap());
    assert!(Settings::parse("").unwrap().is_empty());
    assert!(Settings::parse("# only a comment").unwrap().is_empty());
}

#[test]
fn a_bad_value_is_refused_with_its_key() {
    #[rustfmt::skip]
    let cases: &[(&[(&str, &str)], &str, &str)] = &[
        (&[], "holidays: [2026-12-25, 2026-13-01]", "holidays"),
        (&[], "working_days: Mon-Fryday", "working_days"),
        (&[], "working_days: [[Mon]]", "working_days"),
        (&[], "hold_max: forever", "hold_max"),
        (&[], "hold_default: 3h\nhold_max: 2h", "hold_default"),
        // Against a variable as deployed, the key from the document is named.
        (&[("STAGING_HOLD_MAX", "1h")], "hold_default: 2h", "hold_default"),
        (&[("STAGING_HOLD_DEFAULT", "9h")], "hold_max: 8h", "hold_max"),
        (&[], "probes: [api=ftp://example.com]", "probes"),
        (&[], "filters: {backend: ['server/[']}", "filters"),
        (&[], "filters: [server]", "filters"),
        (&[], "rates: {components: {fargate: {monthly_usd: lots}}}", "rates"),
        (&[], "gbp_per_usd: -1", "gbp_per_usd"),
        (&[], "auto_rollback: maybe", "auto_rollback"),
        (&[], "heal_after: {n: 1}", "heal_after"),
        (&[], "up_time: '07:00'", "up_time"),
        (&[], "time_zone: UTC", "time_zone"),
        (&[], "workingdays: Mon-Fri", "workingdays"),
        (&[], "- a list", "(document)"),
        (&[], "working_days: [Mon", "(document)"),
    ];
    for (vars, document, key) in cases {
        assert_eq!(refused_key(read(env(vars), document)), *key, "{document}");
    }
}

#[test]
fn a_refusal_says_why_and_never_repeats_a_document() {
    let message = read(env(&[]), "holidays: 2026-13-01").unwrap_err().to_string();
    assert!(message.contains("holidays") && message.contains("2026-13-01"), "{message}");
    let message = read(env(&[]), "filters: {backend: ['server/[']}").unwrap_err().to_string();
    assert!(message.starts_with("settings `filters`") && message.contains("server/["), "{message}");
    let message = read(env(&[]), "up_time: '07:00'").unwrap_err().to_string();
    assert!(message.contains("UpTime"), "{message}");
    let message = read(env(&[]), "workingdays: Mon").unwrap_err().to_string();
    assert!(message.contains("working_days"), "the keys it takes are listed: {message}");
    // An error in the environment alone stays the variable's.
    assert!(matches!(
        read(env(&[("STAGING_HOLD_MAX", "x")]), "working_days: Mon"),
        Err(Error::Config { variable: "STAGING_HOLD_MAX", .. })
    ));
}

#[test]
fn the_parameter_is_read_again_when_five_minutes_old() {
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let read_at = t("2026-12-07T09:00:00.250000001Z");
    #[rustfmt::skip]
    let cases = [
        (None, t("2026-12-07T09:00:00.25Z"), true),
        (Some(read_at), read_at, false),
        (Some(read_at), t("2026-12-07T09:05:00.25Z"), false),
        (Some(read_at), t("2026-12-07T09:05:00.250000001Z"), true),
        (Some(read_at), t("2026-12-07T10:00:00Z"), true),
        // A clock that went back reads again rather than hold on for good.
        (Some(read_at), t("2026-12-07T08:59:59.9Z"), true),
    ];
    for (at, now, due) in cases {
        assert_eq!(refresh_due(at, now), due, "{at:?} {now}");
    }
}
