//! `stagingctl` run as a process: arguments, stdin, environment, exit codes, output.

#![allow(clippy::type_complexity)] // tables of test cases

mod common;

use common::Run;
use serde_json::{Value, json};

/// Runs the binary with only `env` set (no inherited STAGING_* or GITHUB_*).
fn stagingctl(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    common::run(args, env.iter().copied(), stdin)
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stagingctl-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn plan_json_lists_every_filter_with_its_sorted_paths() {
    let run = stagingctl(
        &[
            "plan",
            "--json",
            "packages/db/migrations/0002.sql",
            "apps/express-api/src/b.ts",
            "apps/express-api/src/a.ts",
            "docs/x.md",
        ],
        &[],
        "",
    );
    assert_eq!(
        run.json(),
        json!({
            "changed": 4,
            "filters": {
                "backend": ["apps/express-api/src/a.ts", "apps/express-api/src/b.ts", "packages/db/migrations/0002.sql"],
                "frontend": [],
                "infrastructure": [],
                "shared": [],
                "database": ["packages/db/migrations/0002.sql"],
            },
            "plan": {"backend": true, "frontend": false, "infrastructure": false, "database_migration": true},
            "deployment_type": "backend-only",
        })
    );
}

#[test]
fn plan_reads_paths_from_stdin_one_per_line() {
    let run = stagingctl(&["plan", "--json"], &[], "apps/client-ui/src/App.tsx\n\n  infrastructure/alb.tf  \n");
    let v = run.json();
    assert_eq!(v["changed"], 2);
    assert_eq!(v["filters"]["infrastructure"], json!(["infrastructure/alb.tf"]));
    assert_eq!(
        v["plan"],
        json!({"backend": false, "frontend": true, "infrastructure": true, "database_migration": false})
    );
    assert_eq!(v["deployment_type"], "full");
}

#[test]
fn a_docs_only_change_deploys_nothing() {
    let run = stagingctl(&["plan", "--json", "README.md", "docs/guide.md"], &[], "");
    assert_eq!(run.json()["deployment_type"], Value::Null);
    let human = stagingctl(&["plan", "README.md"], &[], "");
    assert_eq!(human.code, 0);
    assert!(human.stdout.contains("Plan: validation only (nothing to deploy)"), "{}", human.stdout);
    assert!(human.stdout.contains("Deployment type: none"), "{}", human.stdout);
}

#[test]
fn plan_human_output_names_filters_counts_and_the_deployment_type() {
    let run = stagingctl(&["plan", "pnpm-lock.yaml"], &[], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shared = run.stdout.lines().find(|l| l.trim_start().starts_with("shared")).unwrap();
    assert_eq!(shared.split_whitespace().collect::<Vec<_>>(), ["shared", "1", "pnpm-lock.yaml"]);
    assert!(run.stdout.contains("Plan: backend, frontend"), "{}", run.stdout);
    assert!(run.stdout.contains("Deployment type: full"), "{}", run.stdout);
}

#[test]
fn a_filters_file_replaces_the_built_in_filters_and_exclusions_subtract() {
    let file = temp_file("filters.yml", "backend: ['api/**', '!**/*.md']\nfrontend: 'web/**'\n");
    for (args, env) in [
        (vec!["plan", "--json", "--filters", file.to_str().unwrap()], vec![]),
        (vec!["plan", "--json"], vec![("STAGING_FILTERS_FILE", file.to_str().unwrap())]),
    ] {
        let mut argv = args.clone();
        argv.extend(["api/README.md", "api/main.rs", "apps/express-api/x.ts"]);
        let v = stagingctl(&argv, &env, "").json();
        assert_eq!(v["filters"], json!({"backend": ["api/main.rs"], "frontend": []}), "{args:?} {env:?}");
        assert_eq!(v["deployment_type"], "backend-only");
    }
}

#[test]
fn bad_filters_exit_2_naming_the_file_filter_and_pattern() {
    let file = temp_file("bad.yml", "backend: ['apps/{a,b']\n");
    let run = stagingctl(&["plan", "--filters", file.to_str().unwrap(), "x"], &[], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad.yml"), "{}", run.stderr);
    assert!(run.stderr.contains("filter `backend`: invalid pattern `apps/{a,b`"), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    let run = stagingctl(&["plan", "--filters", "/nonexistent/filters.yml", "x"], &[], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read filters file /nonexistent/filters.yml"), "{}", run.stderr);
}

#[test]
fn schedule_json_lists_the_windows_in_utc() {
    let run = stagingctl(&["schedule", "--json", "--from", "2026-11-27T10:00:00Z", "--days", "4"], &[], "");
    let v = run.json();
    assert_eq!(
        v["windows"],
        json!([
            {"start": "2026-11-27T10:00:00Z", "end": "2026-11-27T18:00:00Z"},
            {"start": "2026-11-30T08:00:00Z", "end": "2026-11-30T18:00:00Z"},
            {"start": "2026-12-01T08:00:00Z", "end": "2026-12-01T10:00:00Z"},
        ])
    );
    assert_eq!(v["next_transition"], json!({"at": "2026-11-27T18:00:00Z", "kind": "teardown"}));
    assert_eq!(v["up_hours"], 20.0);
}

#[test]
fn schedule_follows_the_configured_zone_days_and_holidays_across_a_dst_change() {
    let env = [
        ("STAGING_TIME_ZONE", "Europe/London"),
        ("STAGING_WORKING_DAYS", "Mon,Fri"),
        ("STAGING_UP_TIME", "09:00"),
        ("STAGING_DOWN_TIME", "17:00"),
        ("STAGING_HOLIDAYS", "2026-04-03"),
    ];
    // Fri 27 March (GMT), the clocks change on Sunday 29th, Mon 30th (BST), Fri 3 April is a holiday.
    let v = stagingctl(&["schedule", "--json", "--from", "2026-03-27T00:00:00+00:00", "--days", "8"], &env, "").json();
    assert_eq!(
        v["windows"],
        json!([
            {"start": "2026-03-27T09:00:00Z", "end": "2026-03-27T17:00:00Z"},
            {"start": "2026-03-30T08:00:00Z", "end": "2026-03-30T16:00:00Z"},
        ])
    );
}

#[test]
fn schedule_human_output_shows_local_and_utc_times() {
    let env = [("STAGING_TIME_ZONE", "America/New_York")];
    let run = stagingctl(&["schedule", "--from", "2026-11-30T00:00:00Z", "--days", "1"], &env, "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Business hours: Mon-Fri 08:00–18:00 America/New_York"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Mon 2026-11-30  08:00–18:00 America/New_York  (11-30 13:00Z–11-30 23:00Z)"),
        "{}",
        run.stdout
    );
}

#[test]
fn cost_json_projects_the_month() {
    let v = stagingctl(&["cost", "--json", "--month", "2026-11"], &[], "").json();
    assert_eq!(v["month"], "2026-11");
    assert_eq!(v["hours"], 720.0);
    assert_eq!(v["up_hours"], 210.0);
    let components = v["components"].as_array().unwrap();
    let names: Vec<&str> = components.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["fargate", "alb", "nat_gateway", "redis", "neon", "cloudwatch"]);
    let total: f64 = components.iter().map(|c| c["scheduled_usd"].as_f64().unwrap()).sum();
    assert!((total - v["scheduled_usd"].as_f64().unwrap()).abs() < 1e-9);
    assert_eq!(v["within_target"], false);
    // Fewer up hours, lower bill: on-demand only leaves the always-billing parts.
    let on_demand = stagingctl(&["cost", "--json", "--month", "2026-11"], &[("STAGING_UP_TIME", "none")], "").json();
    assert_eq!(on_demand["up_hours"], 0.0);
    assert!(on_demand["scheduled_usd"].as_f64() < v["scheduled_usd"].as_f64());
}

#[test]
fn cost_human_output_is_honest_about_what_keeps_billing() {
    let run = stagingctl(&["cost", "--month", "2026-11"], &[], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Saving: $6.29 a month, 9.1% of the whole bill (70.8% of what can stop)."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Scaling to zero does not stop: alb, nat_gateway, redis, cloudwatch."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Deleting the pause stack too (STAGING_TEARDOWN=stack) stops: alb, nat_gateway, redis"),
        "{}",
        run.stdout
    );
}

#[test]
fn cost_with_the_seeds_rates_shows_its_arithmetic_beside_the_list_prices() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/cost.seed.yml");
    let v = stagingctl(&["cost", "--json", "--month", "2026-11", "--rates", seed], &[], "").json();
    assert_eq!(v["rates"], seed);
    assert!((v["scheduled_usd"].as_f64().unwrap() - 16.20).abs() < 0.01, "{v}");
    assert!((v["list_price_usd"].as_f64().unwrap() - 63.21).abs() < 0.01, "{v}");
    assert!(v["over_target_usd"].as_f64().unwrap() > 9.0, "{v}");
    // The same file through the environment, at another exchange rate.
    let env = [("STAGING_COST_FILE", seed), ("STAGING_GBP_PER_USD", "0.5")];
    let v = stagingctl(&["cost", "--json", "--month", "2026-11"], &env, "").json();
    assert!((v["scheduled_gbp"].as_f64().unwrap() - 8.10).abs() < 0.01, "{v}");
    let run = stagingctl(&["cost", "--month", "2026-11", "--rates", seed], &[], "");
    assert!(
        run.stdout.contains("Over the target by $9.87; what the month pays for, largest first: neon $5.92,"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("at the built-in list prices the month is $63.21."), "{}", run.stdout);
}

#[test]
fn cost_compare_json_lists_every_mode_with_its_month_and_time_to_ready() {
    let v = stagingctl(&["cost", "--compare", "--json", "--month", "2026-11"], &[], "").json();
    assert_eq!(
        (v["month"].as_str(), v["teardown"].as_str(), v["target_gbp"].as_f64()),
        (Some("2026-11"), Some("scale"), Some(5.0))
    );
    #[rustfmt::skip]
    let expected = [
        // mode, up-hours, $ cents, £ pence, meets £5, ready secs
        ("always_on", 720.0, 6950, 5490, false, 0),
        ("scale", 210.0, 6321, 4993, false, 60),
        ("stack", 210.0, 2062, 1629, false, 600),
        ("stack_on_demand", 42.0, 452, 357, true, 600),
    ];
    let modes = v["modes"].as_array().unwrap();
    assert_eq!(modes.len(), expected.len(), "{v}");
    let cents =
        |m: &Value, key: &str| (m[key].as_f64().unwrap_or_else(|| panic!("no {key}: {m}")) * 100.0).round() as i64;
    for ((mode, up, usd, gbp, meets, ready), m) in expected.into_iter().zip(modes) {
        assert_eq!(m["mode"], mode);
        assert_eq!(m["up_hours"], up, "{m}");
        assert_eq!((cents(m, "monthly_usd"), cents(m, "monthly_gbp")), (usd, gbp), "{m}");
        assert_eq!((m["meets_target"].as_bool(), m["time_to_ready_secs"].as_u64()), (Some(meets), Some(ready)), "{m}");
        assert_eq!(m["time_to_ready_recorded"], false, "nothing is recorded without a table: {m}");
    }
    assert_eq!(
        (v["cheapest"].as_str(), v["cheapest_meeting_target"].as_str()),
        (Some("stack_on_demand"), Some("stack_on_demand"))
    );
    assert_eq!(
        v["recorded"],
        json!({"from_state": false, "why_not": "STAGING_TABLE is not set", "days": 30, "up_hours": null, "on_demand_up_hours": null, "stack_start_secs": null, "wakes": 0, "use_hours": null})
    );
    assert_eq!(
        v["on_use"],
        json!({"source": {"from": "nothing"}, "basis": "no use recorded: give --hours-per-day H to cost it", "up_hours": null, "modes": [], "target_gbp": 5.0, "shallow_hours": 0.0})
    );

    // The seed's rates: nothing meets £5; configured to pause the stack on demand only.
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/cost.seed.yml");
    let env = [("STAGING_TEARDOWN", "stack"), ("STAGING_PAUSE_STACK", "staging-pause"), ("STAGING_UP_TIME", "none")];
    let v = stagingctl(&["cost", "--compare", "--json", "--month", "2026-11", "--rates", seed], &env, "").json();
    assert_eq!((v["teardown"].as_str(), v["configured_mode"].as_str()), (Some("stack"), Some("stack_on_demand")));
    assert_eq!((v["cheapest"].as_str(), &v["cheapest_meeting_target"]), (Some("stack_on_demand"), &Value::Null));
}

#[test]
fn cost_compare_human_output_marks_the_configured_mode_and_what_is_assumed() {
    let run = stagingctl(&["cost", "--compare", "--month", "2026-11"], &[], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let row = |mode: &str| {
        run.stdout.lines().find(|l| l.trim_start().starts_with(mode)).unwrap().split_whitespace().collect::<Vec<_>>()
    };
    assert_eq!(row("scale *"), ["scale", "*", "210.0", "$63.21", "£49.93", "no", "~60", "s", "(assumed)"]);
    assert_eq!(
        row("stack_on_demand "),
        ["stack_on_demand", "42.0", "$4.52", "£3.57", "yes", "~10", "min", "(assumed)"]
    );
    for line in [
        "Cheapest that meets £5.00: stack_on_demand, $4.52 (£3.57) a month, ready in ~10 min (assumed).",
        "Nothing recorded read (STAGING_TABLE is not set): on-demand up-hours and start times are assumptions.",
        "one default hold (2h) on each of 21 working days (assumed)",
    ] {
        assert!(run.stdout.contains(line), "missing {line:?} in\n{}", run.stdout);
    }
}

#[test]
fn cost_compare_hours_per_day_costs_staging_up_only_while_used() {
    let run = stagingctl(&["cost", "--compare", "--month", "2026-11", "--hours-per-day", "1.5"], &[], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let row = |mode: &str| {
        run.stdout.lines().find(|l| l.trim_start().starts_with(mode)).unwrap().split_whitespace().collect::<Vec<_>>()
    };
    // 1.5 h on each of November's 21 working days: 31.5 h. In stack mode each day's wake
    // ends with an idle stop that keeps the stack 2 h more (STAGING_DEEP_SLEEP_AFTER): what
    // stops with the stack bills 31.5 + 42 h, which takes the month over £5.
    assert_eq!(row("on_use scale"), ["on_use", "scale", "31.5", "$61.00", "£48.19", "no", "~60", "s", "(assumed)"]);
    assert_eq!(row("on_use stack"), ["on_use", "stack", "31.5", "$7.02", "£5.55", "no", "~10", "min", "(assumed)"]);
    let line = "  up only while used (--hours-per-day 1.5: 1.5 h on each of 21 working days), 31.5 h in the month:";
    assert!(run.stdout.lines().any(|l| l == line), "missing {line:?} in\n{}", run.stdout);
    let shallow =
        "  on_use stack also bills its stack 42.0 h asleep: a shallow sleep of up to 2h after each wake's idle stop.";
    assert!(run.stdout.lines().any(|l| l == shallow), "missing {shallow:?} in\n{}", run.stdout);
    // A 30-minute shallow sleep: 10.5 h more, and the month meets £5 again. Without idle
    // stops' shallow sleeps (the figure before them): $3.51.
    let short = stagingctl(
        &["cost", "--compare", "--month", "2026-11", "--hours-per-day", "1.5"],
        &[("STAGING_DEEP_SLEEP_AFTER", "30m")],
        "",
    );
    let short_row = short.stdout.lines().find(|l| l.trim_start().starts_with("on_use stack ")).unwrap();
    assert_eq!(
        short_row.split_whitespace().collect::<Vec<_>>(),
        ["on_use", "stack", "31.5", "$4.39", "£3.47", "yes", "~10", "min", "(assumed)"]
    );

    let v =
        stagingctl(&["cost", "--compare", "--json", "--month", "2026-11", "--hours-per-day", "1.5"], &[], "").json();
    let u = &v["on_use"];
    assert_eq!(u["source"], json!({"from": "hours_per_day", "hours_per_day": 1.5, "working_days": 21}));
    assert_eq!((u["up_hours"].as_f64(), u["target_gbp"].as_f64()), (Some(31.5), Some(5.0)));
    let modes: Vec<(&str, i64, bool)> = u["modes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["mode"].as_str().unwrap(),
                (m["monthly_gbp"].as_f64().unwrap() * 100.0).round() as i64,
                m["meets_target"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(modes, [("scale", 4819, false), ("stack", 555, false)]);
    assert_eq!(u["shallow_hours"].as_f64(), Some(42.0));
    // The other modes are as without the flag.
    assert_eq!(v["modes"][3]["up_hours"], 42.0, "{v}");
}

/// The AWS variables that point the SDK at `endpoint`, with the state table set.
fn aws_at(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("STAGING_TABLE", "staging-control".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_REGION", "eu-west-2".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_MAX_ATTEMPTS", "1".into()),
    ]
}

#[tokio::test(flavor = "current_thread")]
async fn cost_compare_uses_the_use_and_start_times_recorded_in_the_state() {
    use chrono::{Duration, Utc};
    use staging_core::model::state::{EnvironmentState, UpWindow};
    // The last 30 days as the state records them (from a scheduled hour 29.5 days ago):
    // 15 h on demand, 11 h scheduled, and three creates of the pause stack.
    let now = Utc::now();
    let mut state = EnvironmentState::new("staging");
    state.up_windows = vec![
        UpWindow {
            from: now - Duration::hours(29 * 24 + 12),
            to: now - Duration::hours(29 * 24 + 11),
            on_demand: false,
        },
        UpWindow { from: now - Duration::days(3), to: now - Duration::days(3) + Duration::hours(15), on_demand: true },
        UpWindow { from: now - Duration::days(2), to: now - Duration::days(2) + Duration::hours(10), on_demand: false },
    ];
    for secs in [380, 460, 420] {
        state.record_stack_start(secs);
    }
    // DynamoDB on loopback: GetItem answers the stored state record.
    let dynamodb = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::header("x-amz-target", "DynamoDB_20120810.GetItem"))
        .and(wiremock::matchers::body_partial_json(
            json!({"TableName": "staging-control", "Key": {"id": {"S": "state#staging"}}}),
        ))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .insert_header("content-type", "application/x-amz-json-1.0")
                .set_body_json(json!({"Item": {
                    "id": {"S": "state#staging"},
                    "version": {"N": "7"},
                    "state": {"S": serde_json::to_string(&state).unwrap()},
                }})),
        )
        .expect(1)
        .mount(&dynamodb)
        .await;
    let env = aws_at(&dynamodb.uri());
    let run = tokio::task::spawn_blocking(move || {
        common::run(&["cost", "--compare", "--json", "--month", "2026-11"], env, "")
    })
    .await
    .unwrap();
    let v = run.json();
    assert_eq!(
        v["recorded"],
        json!({"from_state": true, "why_not": null, "days": 30, "up_hours": 26.0, "on_demand_up_hours": 15.0, "stack_start_secs": 420, "wakes": 0, "use_hours": 15.0})
    );
    // Up only while used, from the record: the 15 h on demand of 30 days, no wakes.
    assert_eq!(v["on_use"]["source"], json!({"from": "record", "wakes": 0, "hours": 15.0, "days": 30}));
    assert_eq!(v["on_use"]["up_hours"], 15.0);
    assert!(
        v["on_use"]["basis"].as_str().unwrap().starts_with("from the record: 0 wakes, 15.0 h over 30 days"),
        "{}",
        v["on_use"]
    );
    let mode = |name: &str| v["modes"].as_array().unwrap().iter().find(|m| m["mode"] == name).unwrap().clone();
    // 15 h in 30 days is 15 h of November's 30; the stack's median create replaces 600 s.
    let on_demand = mode("stack_on_demand");
    assert_eq!(
        (
            on_demand["up_hours"].as_f64(),
            on_demand["time_to_ready_secs"].as_u64(),
            on_demand["time_to_ready_recorded"].as_bool()
        ),
        (Some(15.0), Some(420), Some(true)),
        "{on_demand}"
    );
    assert!(on_demand["up_hours_basis"].as_str().unwrap().ends_with("(recorded)"), "{on_demand}");
    assert_eq!(
        (mode("stack")["time_to_ready_secs"].as_u64(), mode("scale")["time_to_ready_recorded"].as_bool()),
        (Some(420), Some(false))
    );
    assert_eq!(mode("stack")["up_hours"], 210.0, "the schedule's hours, not the record");
}

#[test]
fn cost_compare_fails_when_the_table_is_set_but_cannot_be_read() {
    // A port nothing listens on: the read fails at once, no AWS involved.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = common::run(
        &["cost", "--compare", "--json", "--month", "2026-11"],
        aws_at(&format!("http://127.0.0.1:{port}")),
        "",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot read the recorded up-hours and start times of `staging` from table staging-control"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn bad_input_exits_2_with_a_message_naming_it() {
    #[rustfmt::skip]
    let cases: &[(&[&str], &[(&str, &str)], &str)] = &[
        (&["schedule", "--from", "tomorrow"], &[], "`tomorrow` is not an RFC 3339 time"),
        (&["schedule", "--days", "0"], &[], "--days"),
        (&["schedule", "--days", "400"], &[], "--days"),
        (&["cost", "--month", "2026-13"], &[], "`2026-13` is not a month like 2026-11"),
        (&["cost", "--compare", "--hours-per-day", "25"], &[], "`25` is not a number of hours from 0 to 24"),
        (&["cost", "--compare", "--hours-per-day", "-1"], &[], "`-1` is not a number of hours from 0 to 24"),
        (&["cost", "--hours-per-day", "1.5"], &[], "--compare"),
        (&["cost", "--rates", "/nonexistent.yml"], &[], r#"--rates="/nonexistent.yml""#),
        (&["cost"], &[("STAGING_GBP_PER_USD", "abc")], r#"STAGING_GBP_PER_USD="abc""#),
        (&["report"], &[], "stagingctl report --day"),
        (&["cost"], &[("STAGING_TIME_ZONE", "Mars/Base")], r#"STAGING_TIME_ZONE="Mars/Base""#),
        (&["schedule"], &[("STAGING_HOLIDAYS", "someday")], r#"STAGING_HOLIDAYS="someday""#),
        (&["deploy"], &[], "unrecognized subcommand"),
        // clap refuses a function that is not one, listing those that are.
        (&["invoke", "nope", "--event", "e.json"], &[], "invalid value 'nope' for '<FUNCTION>'"),
        (&["invoke", "nope", "--event", "e.json"], &[], "[possible values: lifecycle, github-webhook, budget-alert, health-check, front-door]"),
    ];
    for (args, env, expected) in cases {
        let run = stagingctl(args, env, "");
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}

/// `plan` and `schedule` are pure: each reads only its own settings (the path filters, the
/// business hours), so they run with no variables at all, and a bad variable they do not
/// read, which every command reading the whole configuration refuses, does not stop them.
#[test]
fn plan_and_schedule_read_only_their_own_settings() {
    let unrelated: &[(&str, &str)] = &[("STAGING_TABLE", "staging-control"), ("GITHUB_API_URL", "not-a-url")];
    for env in [&[][..], unrelated] {
        let plan = stagingctl(&["plan", "--json", "apps/express-api/src/a.ts"], env, "");
        assert_eq!(plan.json()["deployment_type"], "backend-only", "{env:?}");
        let plan = stagingctl(&["plan"], env, "pnpm-lock.yaml\n");
        assert_eq!(plan.code, 0, "{env:?}: {}", plan.stderr);
        assert!(plan.stdout.contains("Deployment type: full"), "{env:?}: {}", plan.stdout);
        assert!(plan.stderr.is_empty(), "{env:?}: {}", plan.stderr);

        let schedule = stagingctl(&["schedule", "--json", "--from", "2026-11-27T10:00:00Z", "--days", "1"], env, "");
        assert_eq!(schedule.json()["up_hours"], 8.0, "{env:?}");
        let schedule = stagingctl(&["schedule", "--days", "1"], env, "");
        assert_eq!(schedule.code, 0, "{env:?}: {}", schedule.stderr);
        assert!(schedule.stdout.contains("Business hours: Mon-Fri 08:00–18:00 UTC"), "{env:?}: {}", schedule.stdout);
        assert!(schedule.stderr.is_empty(), "{env:?}: {}", schedule.stderr);
    }

    // The variable is bad: a command that reads the whole configuration refuses it.
    let run = stagingctl(&["cost"], unrelated, "");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains(r#"GITHUB_API_URL="not-a-url""#), "{}", run.stderr);

    // A bad variable of their own still stops them, naming it.
    let both = [("STAGING_FILTERS", "backend: ['api/**']"), ("STAGING_FILTERS_FILE", "filters.yml")];
    #[rustfmt::skip]
    let cases: &[(&[&str], &[(&str, &str)], &str)] = &[
        (&["plan", "x"], &[unrelated, &both].concat(), "set either STAGING_FILTERS or STAGING_FILTERS_FILE"),
        (&["plan", "x"], &[("STAGING_FILTERS", "backend: ['api/{a']")], "STAGING_FILTERS=\"<the document in STAGING_FILTERS>\""),
        (&["schedule"], &[unrelated, &[("STAGING_UP_TIME", "8am")]].concat(), r#"STAGING_UP_TIME="8am""#),
    ];
    for (args, env, expected) in cases {
        let run = stagingctl(args, env, "");
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("GITHUB_API_URL"), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_secret_in_a_bad_variable_never_reaches_the_output() {
    // `cost` reads the whole configuration (`plan` no longer reads the secret at all).
    let run = stagingctl(&["cost"], &[("GITHUB_WEBHOOK_SECRET", "s3cr3t,,x")], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("GITHUB_WEBHOOK_SECRET"), "{}", run.stderr);
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
}

/// The README's "main job": the sample push through the example filters.
#[test]
fn the_sample_push_through_the_example_filters() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let paths = std::fs::read_to_string(format!("{root}/events/changed-paths.txt")).unwrap();
    let filters = format!("{root}/events/filters.example.yml");
    let v = stagingctl(&["plan", "--json", "--filters", &filters], &[], &paths).json();
    assert_eq!(
        v["filters"],
        json!({
            "shared": [],
            "backend": ["apps/express-api/src/db/migrations/0007_add_teams.sql", "apps/express-api/src/routes/users.ts"],
            "frontend": ["packages/ui-library/src/Button.tsx"],
            "infrastructure": [],
            "database": ["apps/express-api/src/db/migrations/0007_add_teams.sql"],
            "docs": ["docs/runbook.md"],
            "everything-shared": [],
        })
    );
    assert_eq!(v["deployment_type"], "full");
}
