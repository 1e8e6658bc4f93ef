//! `stagingctl settings get|set|check` as a process against moto's SSM: a document is
//! checked with the functions' own parsers before it is written, a bad one is refused with
//! its key and writes nothing, and the other commands decide with what was stored.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::BTreeMap;

use serde_json::json;
use staging_system_tests::{reset, serial};

const PARAMETER: &str = "/staging/settings";

fn env() -> BTreeMap<String, String> {
    let mut env = reset();
    env.insert("STAGING_SETTINGS_PARAMETER".into(), PARAMETER.into());
    env
}

fn stagingctl(args: &[&str], env: &BTreeMap<String, String>, stdin: &str) -> common::Run {
    common::run(args, env.clone(), stdin)
}

#[test]
fn check_says_what_a_document_sets_and_names_the_key_at_fault() {
    let _serial = serial();
    let env = env();
    let good = "working_days: Mon-Thu\nholidays: [2026-12-24, 2026-12-25]\nprobes: [api=http://127.0.0.1:9/health]\n";
    let run = stagingctl(&["settings", "check", "-"], &env, good);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("✓ the document holds (nothing written)"), "{}", run.stdout);
    assert!(run.stdout.contains("sets: holidays, probes, working_days"), "{}", run.stdout);
    assert!(run.stdout.contains("working days Mon-Thu, 2 holidays"), "{}", run.stdout);

    #[rustfmt::skip]
    let cases = [
        ("hold_max: forever\n", "settings `hold_max`"),
        ("filters: {backend: ['server/[']}\n", "settings `filters`"),
        ("up_time: '07:00'\n", "UpTime"),
        ("workingdays: Mon\n", "unknown key"),
    ];
    for (document, said) in cases {
        let run = stagingctl(&["settings", "check", "-"], &env, document);
        assert_eq!(run.code, 2, "{document}: {}", run.stdout);
        assert!(run.stderr.contains(said), "{document}: {}", run.stderr);
    }
    // `check` needs no parameter, and reads no AWS.
    let mut offline = env.clone();
    offline.remove("STAGING_SETTINGS_PARAMETER");
    offline.insert("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:9".into());
    assert_eq!(stagingctl(&["settings", "check", "-"], &offline, good).code, 0);
    let run = stagingctl(&["settings", "check", "/nonexistent/settings.yml"], &offline, "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("/nonexistent/settings.yml"), "{}", run.stderr);
}

#[test]
fn set_stores_a_good_document_refuses_a_bad_one_and_get_reads_it_back() {
    let _serial = serial();
    let env = env();
    let run = stagingctl(&["settings", "get"], &env, "");
    assert_eq!(run.code, 2, "nothing stored yet: {}", run.stdout);
    assert!(run.stderr.contains("stagingctl settings set"), "{}", run.stderr);

    let first = "# the team's settings\nworking_days: Mon-Wed\n";
    let run = stagingctl(&["settings", "set", "-", "--json"], &env, first);
    let answer = run.json();
    assert_eq!((answer["parameter"].clone(), answer["version"].clone()), (json!(PARAMETER), json!(1)), "{answer}");
    assert_eq!(answer["working_days"], json!("Mon-Wed"));

    // A bad document writes nothing: the stored version stays 1.
    let run = stagingctl(&["settings", "set", "-"], &env, "working_days: Mon-Wed\nholidays: [2026-02-30]\n");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("settings `holidays`") && run.stderr.contains("2026-02-30"), "{}", run.stderr);
    let run = stagingctl(&["settings", "get"], &env, "");
    assert_eq!((run.code, run.stdout.as_str()), (0, first), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("{PARAMETER} version 1")), "{}", run.stderr);

    let run = stagingctl(&["settings", "set", "-"], &env, "working_days: [Mon, Tue]\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with(&format!("✓ stored as {PARAMETER} version 2")), "{}", run.stdout);
    let stored = stagingctl(&["settings", "get", "--json"], &env, "").json();
    assert_eq!(
        (stored["version"].clone(), stored["document"].clone(), stored["valid"].clone()),
        (json!(2), json!("working_days: [Mon, Tue]\n"), json!(true))
    );

    // The other commands decide with the document: the schedule has two working days.
    let run = stagingctl(&["schedule", "--from", "2026-12-07T00:00:00.5Z", "--days", "7", "--json"], &env, "");
    let windows = run.json()["windows"].as_array().unwrap().len();
    assert_eq!(windows, 2, "Monday and Tuesday only: {}", run.stdout);
}

#[test]
fn set_without_a_parameter_named_says_which_variable() {
    let _serial = serial();
    let mut env = env();
    env.remove("STAGING_SETTINGS_PARAMETER");
    let run = stagingctl(&["settings", "set", "-"], &env, "working_days: Mon\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("STAGING_SETTINGS_PARAMETER"), "{}", run.stderr);
}

#[test]
fn plan_and_schedule_read_the_document_unless_a_variable_keeps_it_out() {
    let _serial = serial();
    let env = env();
    let document = "working_days: [Mon, Tue]\nfilters: {backend: ['server/**']}\n";
    let run = stagingctl(&["settings", "set", "-"], &env, document);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = stagingctl(&["plan", "--json", "server/main.rs", "web/app.ts"], &env, "").json();
    assert_eq!(plan["filters"], json!({"backend": ["server/main.rs"]}), "the document's filters");
    let from = ["--from", "2026-12-07T00:00:00Z", "--days", "7", "--json"];
    let schedule = stagingctl(&[&["schedule"][..], &from].concat(), &env, "").json();
    assert_eq!(schedule["windows"].as_array().unwrap().len(), 2, "Monday and Tuesday only");

    // A bad variable the commands do not read keeps the document out (it goes over every
    // variable, and the functions would not start): said, and the variables answer.
    let mut bad = env.clone();
    bad.insert("GITHUB_API_URL".into(), "not-a-url".into());
    let run = stagingctl(&["plan", "--json", "server/main.rs"], &bad, "");
    assert!(run.json()["filters"].get("frontend").is_some(), "the built-in filters: {}", run.stdout);
    assert!(run.stderr.contains(PARAMETER) && run.stderr.contains("GITHUB_API_URL"), "{}", run.stderr);
    let run = stagingctl(&[&["schedule"][..], &from].concat(), &bad, "");
    assert_eq!(run.json()["windows"].as_array().unwrap().len(), 5, "Monday to Friday, as deployed");
    assert!(run.stderr.contains(PARAMETER), "{}", run.stderr);
}
