use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::files::ZERO_SHA;
use super::*;
use crate::config::{Config, GitHub, Secret};
use crate::error::Result;
use crate::model::action::{Action, Decision, NotificationEvent, Severity};
use crate::model::observed::Observed;
use crate::model::state::{DeploymentStatus, EnvironmentState};
use crate::scope::{DeploymentPlan, DeploymentType, Filters};

#[test]
fn a_signature_mismatch_rereads_the_secret_at_most_once_a_minute() {
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    #[rustfmt::skip]
    let cases: [(&str, Option<&str>, &str, bool); 5] = [
        ("never read since the cold start", None, "2026-11-27T10:00:00.5Z", true),
        ("read 59.9 s ago", Some("2026-11-27T10:00:00.1Z"), "2026-11-27T10:01:00.0Z", false),
        ("read a minute ago to the nanosecond", Some("2026-11-27T10:00:00.123456789Z"), "2026-11-27T10:01:00.123456789Z", true),
        ("read two minutes ago", Some("2026-11-27T10:00:00Z"), "2026-11-27T10:02:00.25Z", true),
        ("a clock that went back", Some("2026-11-27T10:05:00Z"), "2026-11-27T10:00:00Z", true),
    ];
    for (name, last, now, expected) in cases {
        assert_eq!(may_reread_secret(last.map(t), t(now)), expected, "{name}");
    }
    for (last, now, due) in [
        (Some("2026-11-27T10:00:00.5Z"), "2026-11-27T10:14:59.9Z", false),
        (Some("2026-11-27T10:00:00.5Z"), "2026-11-27T10:15:00.5Z", true),
        (None, "2026-11-27T10:15:00Z", false),
    ] {
        assert_eq!(secret_refresh_due(last.map(t), t(now)), due, "{last:?} {now}");
    }
    assert_eq!(parse_webhook_secrets(" new , old ,older"), [Secret::new("new"), Secret::new("old")]);
    assert!(parse_webhook_secrets(" , ").is_empty());
}

fn secrets(values: &[&str]) -> Vec<Secret> {
    values.iter().map(|s| Secret::new(*s)).collect()
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// GitHub's documented test vector ("Validating webhook deliveries").
#[test]
fn the_github_documentation_test_vector_is_accepted_and_one_flipped_bit_is_not() {
    let secret = secrets(&["It's a Secret to Everybody"]);
    let body = b"Hello, World!";
    let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(verify_signature(body, signature, &secret), Ok(()));

    let mut flipped_body = body.to_vec();
    flipped_body[0] ^= 1;
    assert_eq!(verify_signature(&flipped_body, signature, &secret).unwrap_err().status, 401);
    let flipped_signature = signature.replace("757107", "757106");
    assert_eq!(verify_signature(body, &flipped_signature, &secret).unwrap_err().status, 401);
}

#[test]
fn either_of_two_secrets_verifies_while_rotating() {
    let body = b"{}";
    let both = secrets(&["new", "old"]);
    assert!(verify_signature(body, &sign("new", body), &both).is_ok());
    assert!(verify_signature(body, &sign("old", body), &both).is_ok());
    assert_eq!(verify_signature(body, &sign("other", body), &both).unwrap_err().status, 401);
}

#[test]
fn request_checks_run_in_order_and_name_what_is_wrong() {
    let body = br#"{"zen":"x"}"#;
    const SECRET: &str = "hunter2-webhook-secret";
    let good = sign(SECRET, body);
    let headers = |drop: &str, overrides: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut h: Vec<(String, String)> = [
            ("x-github-event", "ping"),
            ("x-github-delivery", "d-1"),
            ("x-hub-signature-256", good.as_str()),
            ("content-type", "application/json"),
        ]
        .iter()
        .filter(|(k, _)| *k != drop)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in overrides {
            h.retain(|(name, _)| name != k);
            h.push((k.to_string(), v.to_string()));
        }
        h
    };
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, Vec<(String, String)>, &[u8], u16, &str)> = vec![
        ("GET", "GET", headers("", &[]), body, 405, "method GET not allowed"),
        ("too big", "POST", headers("", &[]), &big, 413, "exceeds GitHub's 25 MB cap"),
        ("no event", "POST", headers("x-github-event", &[]), body, 400, "missing header X-GitHub-Event"),
        ("no delivery", "POST", headers("x-github-delivery", &[]), body, 400, "missing header X-GitHub-Delivery"),
        ("no signature", "POST", headers("x-hub-signature-256", &[]), body, 400, "missing header X-Hub-Signature-256"),
        ("sha1 signature", "POST", headers("", &[("x-hub-signature-256", "sha1=0123456789abcdef0123456789abcdef01234567")]), body, 401, "not `sha256=`"),
        ("short hex", "POST", headers("", &[("x-hub-signature-256", "sha256=abcd")]), body, 401, "64 hex digits"),
        ("not hex", "POST", headers("", &[("x-hub-signature-256", &format!("sha256={}", "zz".repeat(32)))]), body, 401, "64 hex digits"),
        ("wrong signature", "POST", headers("", &[("x-hub-signature-256", &sign("t", body))]), body, 401, "does not match"),
        ("form content", "POST", headers("", &[("content-type", "application/x-www-form-urlencoded")]), body, 415, "is not application/json"),
        ("no content type", "POST", headers("content-type", &[]), body, 415, "is not application/json"),
    ];
    for (name, method, headers, body, status, message) in cases {
        let got = check_request(
            method,
            |n| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()),
            body,
            &secrets(&[SECRET]),
        );
        let err = got.expect_err(name);
        assert_eq!(err.status, status, "{name}: {}", err.message);
        assert!(err.message.contains(message), "{name}: {}", err.message);
        assert!(!err.message.contains(SECRET), "{name}: the secret leaked into {}", err.message);
    }
    let ok = headers("", &[("content-type", "application/json; charset=utf-8"), ("x-github-hook-id", "42")]);
    let delivery =
        check_request("POST", |n| ok.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()), body, &secrets(&[SECRET]))
            .unwrap();
    assert_eq!(
        (delivery.event.as_str(), delivery.id.as_str(), delivery.hook_id.as_deref()),
        ("ping", "d-1", Some("42"))
    );
    let unconfigured = check_request("POST", |n| ok.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()), body, &[]);
    assert_eq!(unconfigured.unwrap_err().status, 500);
}

fn github() -> GitHub {
    Config::from_lookup(|n| (n == "GITHUB_REPOSITORY").then(|| "acme/app".to_string())).unwrap().github
}

fn push_json(overrides: serde_json::Value) -> Vec<u8> {
    let mut v = serde_json::json!({
        "ref": "refs/heads/develop",
        "before": "1111111111111111111111111111111111111111",
        "after": "2222222222222222222222222222222222222222",
        "created": false, "deleted": false, "forced": false,
        "compare": "https://github.com/acme/app/compare/111111111111...222222222222",
        "commits": [{"id": "2222222222222222222222222222222222222222", "message": "m", "added": ["apps/express-api/a.ts"], "removed": [], "modified": ["apps/express-api/b.ts"]}],
        "repository": {"full_name": "acme/app"},
        "pusher": {"name": "alice"}
    });
    for (k, val) in overrides.as_object().unwrap() {
        v[k] = val.clone();
    }
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn routing_table() {
    let gh = github();
    let run = |overrides: serde_json::Value| {
        let mut v = serde_json::json!({"action": "completed", "repository": {"full_name": "acme/app"}, "workflow_run": {
            "path": ".github/workflows/deploy-staging.yml", "head_branch": "develop", "head_sha": "2222222222222222222222222222222222222222",
            "conclusion": "success"}});
        for (k, val) in overrides.as_object().unwrap() {
            if k == "action" { v["action"] = val.clone() } else { v["workflow_run"][k] = val.clone() }
        }
        serde_json::to_vec(&v).unwrap()
    };
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, Vec<u8>, Result<&str, u16>)> = vec![
        ("ping", "ping", br#"{"zen":"z","hook_id":42}"#.to_vec(), Ok("ping")),
        ("push to develop", "push", push_json(serde_json::json!({})), Ok("push")),
        ("push to main", "push", push_json(serde_json::json!({"ref": "refs/heads/main"})), Ok("ignored: push to main, not develop")),
        ("tag", "push", push_json(serde_json::json!({"ref": "refs/tags/v1.0.0"})), Ok("ignored: refs/tags/v1.0.0 is not a branch")),
        ("branch deleted", "push", push_json(serde_json::json!({"deleted": true, "after": ZERO_SHA, "commits": []})), Ok("ignored: branch develop was deleted")),
        ("other repository", "push", push_json(serde_json::json!({"repository": {"full_name": "evil/app"}})), Err(403)),
        ("malformed json", "push", b"{not json".to_vec(), Err(400)),
        ("json of the wrong shape", "push", br#"{"ref": 1}"#.to_vec(), Err(400)),
        ("other event", "issues", b"{}".to_vec(), Ok("ignored: issues")),
        ("deploy finished", "workflow_run", run(serde_json::json!({})), Ok("deploy finished")),
        ("run requested by hand", "workflow_run", run(serde_json::json!({"action": "requested", "event": "workflow_dispatch"})), Ok("deploy requested")),
        ("run requested by a push", "workflow_run", run(serde_json::json!({"action": "requested", "event": "push"})), Ok("ignored: workflow_run requested by push, not workflow_dispatch")),
        ("run in progress", "workflow_run", run(serde_json::json!({"action": "in_progress", "event": "workflow_dispatch"})), Ok("ignored: workflow_run in_progress")),
        ("run requested on main", "workflow_run", run(serde_json::json!({"action": "requested", "event": "workflow_dispatch", "head_branch": "main"})), Ok("ignored: run on main, not develop")),
        ("another workflow", "workflow_run", run(serde_json::json!({"path": ".github/workflows/ci.yml"})), Ok("ignored: workflow .github/workflows/ci.yml is not deploy-staging.yml")),
        ("run on main", "workflow_run", run(serde_json::json!({"head_branch": "main"})), Ok("ignored: run on main, not develop")),
    ];
    for (name, event, body, expected) in cases {
        let got = route(event, &body, &gh).map(|r| match r {
            Route::Ping { .. } => "ping".to_string(),
            Route::Push(_) => "push".to_string(),
            Route::DeployFinished(_) => "deploy finished".to_string(),
            Route::DeployRequested(_) => "deploy requested".to_string(),
            Route::Ignored(why) => format!("ignored: {why}"),
        });
        match (got, expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{name}"),
            (Err(e), Err(status)) => assert_eq!(e.status, status, "{name}: {}", e.message),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}

fn push(overrides: serde_json::Value) -> Push {
    serde_json::from_slice(&push_json(overrides)).unwrap()
}

#[test]
fn changed_files_table() {
    let many: Vec<String> = (0..COMMIT_FILE_CAP).map(|i| format!("f{i}")).collect();
    let two = || Some(Ok(vec!["b".to_string(), "a".to_string(), "b".to_string()]));
    let wide: Vec<String> = (0..450).map(|i| format!("apps/client-ui/src/f{i:03}.tsx")).collect();
    let mut wide_and_zz = wide.clone();
    wide_and_zz.push("zz".into());
    #[rustfmt::skip]
    let cases: Vec<(&str, Push, Option<std::result::Result<Vec<String>, String>>, FilesSource, Vec<&str>, Option<&str>)> = vec![
        ("payload lists", push(serde_json::json!({})), None, FilesSource::Payload,
            vec!["apps/express-api/a.ts", "apps/express-api/b.ts"], None),
        ("union over commits, removed included", push(serde_json::json!({"commits": [
            {"added": ["x"], "removed": [], "modified": []}, {"added": [], "removed": ["y"], "modified": ["x"]}]})),
            None, FilesSource::Payload, vec!["x", "y"], None),
        ("new branch", push(serde_json::json!({"created": true, "before": ZERO_SHA})), two(), FilesSource::Full, vec![],
            Some("the branch was just created")),
        ("forced", push(serde_json::json!({"forced": true})), two(), FilesSource::Full, vec![], Some("the push was forced")),
        ("empty lists", push(serde_json::json!({"commits": [{"added": [], "removed": [], "modified": []}]})), None,
            FilesSource::Full, vec![], Some("no commit lists a file")),
        ("3,000-file commit", push(serde_json::json!({"commits": [{"added": many, "removed": [], "modified": []}]})), None,
            FilesSource::Full, vec![], Some("a commit lists 3000 files")),
        ("compare wins", push(serde_json::json!({})), two(), FilesSource::Compare, vec!["a", "b"], None),
        ("compare at its cap, the commits' lists hold its files", push(serde_json::json!({"commits": [
            {"added": wide.clone(), "removed": [], "modified": []}, {"added": [], "removed": [], "modified": ["zz"]}]})),
            Some(Ok(wide[..300].to_vec())), FilesSource::Payload, wide_and_zz.iter().map(String::as_str).collect(),
            Some("the Compare API lists 300 files, its cap: the commits' lists (451 files) hold all of them")),
        ("compare at its cap, the commits' lists cut", push(serde_json::json!({"commits": [
            {"added": wide[..100].to_vec(), "removed": [], "modified": []}]})),
            Some(Ok(wide[..300].to_vec())), FilesSource::Full, vec![],
            Some("the Compare API lists 300 files, its cap, and the commits' lists miss some")),
        ("compare at its cap, a commit at its cap", push(serde_json::json!({"commits": [{"added": many, "removed": [], "modified": []}]})),
            Some(Ok(wide[..300].to_vec())), FilesSource::Full, vec![],
            Some("the Compare API lists 300 files, its cap, and a commit lists 3000 files")),
        ("compare at its cap, a commit emptied by GitHub", push(serde_json::json!({"commits": [
            {"added": wide.clone(), "removed": [], "modified": []}, {"added": [], "removed": [], "modified": []}]})),
            Some(Ok(wide[..300].to_vec())), FilesSource::Full, vec![],
            Some("the Compare API lists 300 files, its cap, and a commit lists no file")),
        ("as many commits as a payload holds", push(serde_json::json!({"commits": vec![serde_json::json!({"added": ["x"], "removed": [], "modified": []}); PUSH_COMMIT_CAP]})),
            None, FilesSource::Full, vec![], Some("the payload lists 2048 commits")),
        ("compare failed", push(serde_json::json!({})), Some(Err("HTTP 500".into())), FilesSource::Full, vec![],
            Some("the Compare API failed: HTTP 500")),
        ("no commits, same sha", push(serde_json::json!({"commits": [], "after": "1111111111111111111111111111111111111111"})),
            None, FilesSource::Payload, vec![], None),
    ];
    for (name, push, compare, source, files, reason) in cases {
        let got = changed_files(&push, compare);
        assert_eq!(got.source, source, "{name}");
        assert_eq!(got.files, files, "{name}");
        match reason {
            Some(r) => assert!(got.reason.as_deref().unwrap_or("").starts_with(r), "{name}: {:?}", got.reason),
            None => assert_eq!(got.reason, None, "{name}"),
        }
    }
    assert!(!compare_applies(&push(serde_json::json!({"forced": true}))));
    assert!(!compare_applies(&push(serde_json::json!({"before": ZERO_SHA}))));
    assert!(compare_applies(&push(serde_json::json!({}))));
}

fn config_with(token: bool) -> Config {
    Config::from_lookup(|n| match n {
        "GITHUB_REPOSITORY" => Some("acme/app".to_string()),
        "GITHUB_TOKEN" if token => Some("ghp_test".to_string()),
        _ => None,
    })
    .unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const UP: Observed = Observed::counts(1, 1);
const DOWN: Observed = Observed::counts(0, 0);
const SHA: &str = "2222222222222222222222222222222222222222";

fn decide(state: &EnvironmentState, observed: Observed, push: &Push, can_dispatch: bool, now: &str) -> Decision {
    let filters = Filters::builtin();
    let files = changed_files(push, None);
    let matches = filters.classify(files.files.iter().map(String::as_str));
    let input = PushInput { push, files: &files, matches: &matches };
    decide_push(state, observed, &input, utc(now), &config_with(can_dispatch)).unwrap()
}

fn kinds(d: &Decision) -> Vec<String> {
    d.actions
        .iter()
        .map(|a| match a {
            Action::Notify(n) => format!("notify {}", n.event.as_str()),
            Action::DispatchDeploy { deployment_type, .. } => format!("dispatch {deployment_type}"),
            Action::RestoreService => "restore".into(),
            Action::PutOneTimeSchedule { .. } => "put_schedule".into(),
            Action::RecordDeployment(_) => "record".into(),
            other => format!("{other:?}"),
        })
        .collect()
}

fn in_flight(sha: &str, plan: DeploymentPlan, dispatched: &str) -> EnvironmentState {
    let mut s = EnvironmentState { phase: crate::Phase::Up, version: 3, ..EnvironmentState::new("staging") };
    s.queue_deployment(sha, plan, utc(dispatched));
    s.dispatch_pending(utc(dispatched), chrono::Duration::minutes(30)).unwrap();
    s
}

#[test]
fn push_decisions_table() {
    let backend = push(serde_json::json!({}));
    let docs = push(serde_json::json!({"commits": [{"added": ["docs/a.md"], "removed": [], "modified": []}]}));
    let forced = push(serde_json::json!({"forced": true}));
    let locked = {
        let mut s = EnvironmentState::new("staging");
        s.lock_budget(utc("2026-11-20T00:00:00Z"), "over");
        s
    };
    let already_pending = {
        let mut s = locked.clone();
        s.queue_deployment("1234567", DeploymentPlan::FULL, utc("2026-11-26T00:00:00Z"));
        s
    };
    let running = in_flight("1234567", DeploymentPlan::FULL, "2026-11-27T09:55:00Z");
    let seen = {
        let mut s = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T09:55:00Z");
        s.remember_push(backend.key());
        s
    };
    let refused = {
        let mut s = seen.clone();
        s.dispatch_refused(SHA);
        s
    };
    let torn_down = EnvironmentState { phase: crate::Phase::Stopping, version: 5, ..EnvironmentState::new("staging") };
    let fresh = EnvironmentState::new("staging");
    const WORKING: &str = "2026-11-27T10:00:00.123456789Z";
    const EVENING: &str = "2026-11-27T20:00:00.5Z";
    #[rustfmt::skip]
    let cases: Vec<(&str, &EnvironmentState, Observed, &Push, bool, &str, Vec<&str>, &str)> = vec![
        ("backend push, staging up", &fresh, UP, &backend, true, WORKING,
            vec!["dispatch backend-only", "notify deploy.planned"], "dispatched backend-only for 1 push (2222222)"),
        ("docs only: nothing, no notification", &fresh, UP, &docs, true, WORKING,
            vec![], "validation only: nothing to deploy"),
        ("down in hours: started, not held", &fresh, DOWN, &backend, true, WORKING,
            vec!["restore", "dispatch backend-only", "notify deploy.planned"], "dispatched backend-only for 1 push (2222222)"),
        ("down in the evening: held and started", &fresh, DOWN, &backend, true, EVENING,
            vec!["put_schedule", "restore", "dispatch backend-only", "notify deploy.planned"], "dispatched backend-only for 1 push (2222222)"),
        ("forced push deploys in full", &fresh, UP, &forced, true, WORKING,
            vec!["dispatch full", "notify deploy.planned"], "dispatched full for 1 push (2222222)"),
        ("no token: dry mode", &fresh, UP, &backend, false, WORKING,
            vec!["notify deploy.planned"], "dry mode (no GitHub token): backend-only recorded, not dispatched"),
        ("locked: pending, told once", &locked, DOWN, &backend, true, WORKING,
            vec!["notify deploy.pending"], "locked by the budget: backend-only pending (1 push)"),
        ("locked again: merged, not told again", &already_pending, DOWN, &backend, true, WORKING,
            vec![], "locked by the budget: full pending (2 pushes)"),
        ("a run in flight: queued behind it", &running, UP, &backend, true, WORKING,
            vec!["notify deploy.planned"], "queued behind the run for 1234567 (dispatched at 09:55 UTC): backend-only pending, 1 push"),
        ("the same push again: nothing", &seen, UP, &backend, true, WORKING,
            vec![], "already received: 2222222 is being deployed"),
        ("evening, a teardown committed but not yet carried out: woken with a hold", &torn_down, UP, &backend, true, EVENING,
            vec!["put_schedule", "dispatch backend-only", "notify deploy.planned"], "dispatched backend-only for 1 push (2222222)"),
        ("the same push again after a refused dispatch: dispatched again", &refused, UP, &backend, true, WORKING,
            vec!["dispatch full"], "already received: 2222222 is pending; dispatched full for 1 push (2222222)"),
    ];
    for (name, state, observed, push, can_dispatch, now, expected, summary) in cases {
        let d = decide(state, observed, push, can_dispatch, now);
        assert_eq!(kinds(&d), expected, "{name}");
        assert_eq!(d.summary, summary, "{name}");
    }
}

#[test]
fn a_dispatched_deploy_is_in_flight_before_it_is_made_and_a_dry_one_pending() {
    let fresh = EnvironmentState::new("staging");
    let p = push(serde_json::json!({}));
    let d = decide(&fresh, UP, &p, true, "2026-11-27T10:00:00.987Z");
    let dep = d.next_state.deployment_in_flight.as_ref().unwrap();
    assert_eq!((dep.sha.as_str(), dep.status), (SHA, DeploymentStatus::InProgress));
    assert_eq!(dep.started_at, Some(utc("2026-11-27T10:00:00Z")), "stored at whole seconds");
    assert!(d.next_state.pending_deployment.is_none());
    assert!(d.next_state.knows_push(&p.key()));
    let Some(Action::DispatchDeploy { sha, migrate, .. }) = d.actions.first() else { panic!("{:?}", d.actions) };
    assert_eq!((sha.as_str(), *migrate), (SHA, false));
    let d = decide(&fresh, UP, &p, false, "2026-11-27T10:00:00Z");
    assert_eq!(d.next_state.pending_deployment.unwrap().status, DeploymentStatus::Pending);
    assert!(d.next_state.deployment_in_flight.is_none());
}

#[test]
fn ten_pushes_while_a_run_is_in_flight_make_one_more_run() {
    let mut state = EnvironmentState::new("staging");
    let mut dispatches = 0;
    for i in 0..10 {
        let p = push(serde_json::json!({
            "before": format!("{:040}", i), "after": format!("{:040}", i + 1),
            "commits": [{"id": format!("{:040}", i + 1), "message": "m", "added": [], "removed": [],
                         "modified": [if i % 2 == 0 { "apps/express-api/a.ts" } else { "apps/client-ui/b.tsx" }]}],
        }));
        let d = decide(&state, UP, &p, true, &format!("2026-11-27T10:0{i}:00.25Z"));
        dispatches += d.actions.iter().filter(|a| matches!(a, Action::DispatchDeploy { .. })).count();
        state = EnvironmentState { version: state.version + 1, ..d.next_state };
    }
    assert_eq!(dispatches, 1, "the first push dispatches, the other nine wait");
    let waiting = state.pending_deployment.clone().unwrap();
    assert_eq!((waiting.pushes.len(), waiting.deployment_type), (9, Some(DeploymentType::Full)));
    let run = WorkflowRun { created_at: Some(utc("2026-11-27T10:00:03Z")), ..run("success", &format!("{:040}", 5)) };
    let d = decide_deploy_finished(&state, UP, &run, utc("2026-11-27T10:10:00Z"), &config_with(true));
    assert_eq!(kinds(&d), ["record", "dispatch full", "notify deploy.succeeded"]);
    assert_eq!(d.summary, format!("deploy succeeded; dispatched full for 9 pushes ({})", waiting.push_list()));
}

#[test]
fn the_deploy_notification_says_what_where_why_and_who() {
    let d = decide(&EnvironmentState::new("staging"), DOWN, &push(serde_json::json!({})), true, "2026-11-27T20:00:00Z");
    let Some(Action::Notify(n)) = d.actions.last() else { panic!("{:?}", d.actions) };
    assert_eq!(n.subject, "staging: deploying backend-only @ 2222222 (2 files)");
    for expected in [
        "alice pushed 1 commit to develop (2222222).",
        "Plan: backend -> deployment-type backend-only\n  2222222 m\n",
        "Files: 2 from the Payload list",
        "  backend (2):\n    apps/express-api/a.ts\n    apps/express-api/b.ts",
        "held until 22:00 UTC (outside business hours)",
        "Compare: https://github.com/acme/app/compare/",
    ] {
        assert!(n.body.contains(expected), "missing {expected:?} in:\n{}", n.body);
    }
}

fn run(conclusion: &str, sha: &str) -> WorkflowRun {
    WorkflowRun {
        id: Some(30433642),
        name: Some("Deploy staging".into()),
        event: Some("workflow_dispatch".into()),
        created_at: Some(utc("2026-11-27T10:00:02Z")),
        path: ".github/workflows/deploy-staging.yml".into(),
        head_branch: Some("develop".into()),
        head_sha: sha.into(),
        conclusion: Some(conclusion.into()),
        run_started_at: Some(utc("2026-11-27T10:00:05Z")),
        updated_at: Some(utc("2026-11-27T10:04:17Z")),
        html_url: Some("https://github.com/acme/app/actions/runs/1".into()),
        run_attempt: None,
        triggering_actor: None,
        actor: None,
    }
}

#[test]
fn a_finished_deploy_is_recorded_with_what_it_built_and_told() {
    let state = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:01.5Z");
    let config = config_with(true);
    let now = utc("2026-11-27T10:04:20.75Z");
    let ok = decide_deploy_finished(&state, UP, &run("success", SHA), now, &config);
    let last = ok.next_state.last_deployment.as_ref().unwrap();
    assert_eq!(
        (last.status, last.run_duration_secs, last.run_id),
        (DeploymentStatus::Succeeded, Some(252), Some(30433642))
    );
    assert_eq!(last.finished_at, Some(utc("2026-11-27T10:04:20Z")));
    assert!(ok.next_state.deployment_in_flight.is_none());
    let Action::Notify(n) = &ok.actions[1] else { panic!() };
    assert_eq!((n.severity, n.subject.as_str()), (Severity::Info, "staging: full succeeded @ 2222222 in 4m 12s"));

    let failed = decide_deploy_finished(&state, UP, &run("failure", SHA), now, &config);
    let Action::Notify(n) = &failed.actions[1] else { panic!() };
    assert_eq!((n.severity, n.event), (Severity::Critical, NotificationEvent::DeployFailed));
    assert!(n.body.contains("Run: https://github.com/acme/app/actions/runs/1"), "{}", n.body);

    // A dispatch runs the branch head: a newer commit is recorded and said.
    let newer = "3333333333333333333333333333333333333333";
    let built = decide_deploy_finished(&state, UP, &run("success", newer), now, &config);
    assert_eq!(built.next_state.last_deployment.as_ref().unwrap().built_sha.as_deref(), Some(newer));
    let Action::Notify(n) = &built.actions[1] else { panic!() };
    assert!(
        n.body.contains(
            "The run built 3333333, the branch head when it started, which is newer than the push's 2222222."
        ),
        "{}",
        n.body
    );
}

#[test]
fn a_run_we_were_not_waiting_for_changes_nothing_but_its_failure_is_told() {
    let state = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:30:00Z");
    let config = config_with(true);
    let now = utc("2026-11-27T10:31:00Z");
    // Created before the dispatch (beyond the clock skew): an earlier run.
    // Nothing changes but the run remembered (its late `requested` changes nothing).
    let remembered = EnvironmentState { recent_runs: vec!["30433642#1".into()], ..state.clone() };
    let ok = decide_deploy_finished(&state, UP, &run("success", SHA), now, &config);
    assert!(ok.actions.is_empty());
    assert_eq!(ok.next_state, remembered);
    let failed = decide_deploy_finished(&state, UP, &run("failure", SHA), now, &config);
    assert_eq!(kinds(&failed), ["notify deploy.failed"]);
    assert_eq!(failed.next_state, remembered);
    // A run started by a push, not a dispatch.
    let pushed = WorkflowRun {
        event: Some("push".into()),
        created_at: Some(utc("2026-11-27T10:30:30Z")),
        ..run("success", SHA)
    };
    assert!(decide_deploy_finished(&state, UP, &pushed, now, &config).actions.is_empty());
    // Nothing in flight.
    let idle = EnvironmentState::new("staging");
    assert!(decide_deploy_finished(&idle, UP, &run("success", SHA), now, &config).actions.is_empty());
}

/// A run requested by hand: `(name, state, observed, run created at, now) -> (kinds
/// of actions, summary, what is in flight after: (run id, by hand), whether pushes wait)`.
#[test]
fn a_deploy_run_by_hand_wakes_staging_and_is_tracked_and_ours_change_nothing() {
    let config = config_with(true);
    let manual = |created: &str| WorkflowRun {
        id: Some(777),
        conclusion: None,
        created_at: Some(utc(created)),
        triggering_actor: Some(Actor { login: "dave".into() }),
        ..run("success", SHA)
    };
    let down = EnvironmentState { phase: crate::Phase::Down, version: 4, ..EnvironmentState::new("staging") };
    let up = EnvironmentState { phase: crate::Phase::Up, version: 4, ..EnvironmentState::new("staging") };
    let ours = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:01.5Z");
    let mut tracked = up.clone();
    tracked.deployment_in_flight = Some(crate::model::state::Deployment::started_by_hand(
        SHA,
        "dave",
        Some(777),
        None,
        utc("2026-11-27T10:00:00Z"),
        utc("2026-11-27T10:00:00Z"),
    ));
    let mut other_by_hand = tracked.clone();
    other_by_hand.deployment_in_flight.as_mut().unwrap().run_id = Some(700);
    let mut locked = down.clone();
    locked.budget_lock = Some(crate::model::state::BudgetLock {
        period: "2026-11".parse().unwrap(),
        locked_at: utc("2026-11-20T00:00:00Z"),
        reason: "actual > budget".into(),
    });
    let finished = EnvironmentState { recent_runs: vec!["777#1".into()], ..up.clone() };
    let stale = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T09:00:00.5Z");
    #[rustfmt::skip]
    let cases: Vec<(&str, &EnvironmentState, Observed, &str, &str, Vec<&str>, &str, Option<(u64, bool)>, bool)> = vec![
        ("evening, down: woken, held, tracked", &down, DOWN, "2026-11-27T19:00:00.4Z", "2026-11-27T19:00:01.6Z",
         vec!["put_schedule", "notify env.hold", "restore", "notify env.startup", "notify deploy.started"],
         "held until 21:00 UTC; starting; tracking run 777#1 by dave", Some((777, true)), false),
        ("working hours, up: tracked only", &up, UP, "2026-11-27T11:00:00Z", "2026-11-27T11:00:02.9Z",
         vec!["notify deploy.started"], "already up; tracking run 777#1 by dave", Some((777, true)), false),
        ("locked: stays down, told", &locked, DOWN, "2026-11-27T19:00:00Z", "2026-11-27T19:00:02Z",
         vec!["notify deploy.started"], "not starting: locked by the budget", None, false),
        ("the run of our dispatch: its id kept, nothing done", &ours, UP, "2026-11-27T10:00:03Z", "2026-11-27T10:00:04Z",
         vec![], "ignored: the run of our dispatch for 2222222 started (777#1)", Some((777, false)), false),
        ("a manual run while ours is in flight: not tracked", &ours, UP, "2026-11-27T10:20:00Z", "2026-11-27T10:20:01Z",
         vec!["notify deploy.started"], "already up; a deploy is already in flight: this run is not tracked", Some((0, false)), false),
        ("a second manual run a minute after another: not ours", &other_by_hand, UP, "2026-11-27T10:01:00Z", "2026-11-27T10:01:01Z",
         vec!["notify deploy.started"], "already up; a deploy is already in flight: this run is not tracked", Some((700, true)), false),
        ("the same run again: nothing", &tracked, UP, "2026-11-27T10:00:00Z", "2026-11-27T10:00:09Z",
         vec![], "ignored: run 777#1 is already tracked", Some((777, true)), false),
        ("requested after its completed: nothing", &finished, UP, "2026-11-27T10:00:00Z", "2026-11-27T10:09:00Z",
         vec![], "ignored: run 777#1 was already handled", None, false),
        ("a run of ours that never reported gives way; its pushes wait", &stale, UP, "2026-11-27T10:00:00Z", "2026-11-27T10:00:01Z",
         vec!["notify deploy.started"], "already up; the run for 2222222 never reported and gives way; tracking run 777#1 by dave", Some((777, true)), true),
    ];
    for (name, state, observed, created, now, expected, summary, after, waiting) in cases {
        let d = decide_deploy_requested(state, observed.clone(), &manual(created), utc(now), &config).unwrap();
        assert_eq!(kinds(&d), expected, "{name}");
        assert_eq!(d.summary, summary, "{name}");
        let in_flight = d.next_state.deployment_in_flight.as_ref();
        assert_eq!(in_flight.map(|t| (t.run_id.unwrap_or_default(), t.by_hand.is_some())), after, "{name}");
        assert_eq!(d.next_state.pending_deployment.is_some(), waiting, "{name}");
        if let Some(t) = in_flight.filter(|t| t.by_hand.is_some() && t.run_id == Some(777)) {
            assert_eq!(
                (t.status, t.deployment_type, t.pushes.len()),
                (DeploymentStatus::InProgress, None, 0),
                "{name}"
            );
            assert_eq!(t.started_at.map(|t| t.timestamp_subsec_nanos()), Some(0), "{name}: whole seconds");
        }
    }
}

#[test]
fn a_rerun_or_a_run_judged_someone_elses_never_closes_ours() {
    let config = config_with(true);
    let ours = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:01.5Z");
    // A re-run of an earlier run, created (first) a second after our dispatch.
    let rerun = WorkflowRun {
        id: Some(700),
        run_attempt: Some(2),
        conclusion: None,
        created_at: Some(utc("2026-11-27T10:00:02Z")),
        ..run("success", SHA)
    };
    let d = decide_deploy_requested(&ours, UP, &rerun, utc("2026-11-27T10:03:00Z"), &config).unwrap();
    assert_eq!(d.next_state.deployment_in_flight.as_ref().unwrap().run_id, None, "{}", d.summary);
    let d = decide_deploy_finished(
        &ours,
        UP,
        &WorkflowRun { conclusion: Some("success".into()), ..rerun },
        utc("2026-11-27T10:05:00Z"),
        &config,
    );
    assert!(d.next_state.deployment_in_flight.is_some(), "{}", d.summary);
    // Dave's run, requested three minutes later: judged not ours (told, not tracked);
    // its completion does not close ours either, though it was created after the dispatch.
    let daves = WorkflowRun {
        id: Some(778),
        conclusion: None,
        created_at: Some(utc("2026-11-27T10:03:30Z")),
        ..run("success", SHA)
    };
    let mut state = ours.clone();
    let d = decide_deploy_requested(&state, UP, &daves, utc("2026-11-27T10:03:31Z"), &config).unwrap();
    assert!(d.summary.ends_with("this run is not tracked"), "{}", d.summary);
    state = EnvironmentState { version: state.version + 1, ..d.next_state };
    let d = decide_deploy_finished(
        &state,
        UP,
        &WorkflowRun { conclusion: Some("success".into()), ..daves },
        utc("2026-11-27T10:06:00Z"),
        &config,
    );
    assert!(d.next_state.deployment_in_flight.is_some(), "{}", d.summary);
}

#[test]
fn a_deferred_teardown_goes_ahead_when_the_deploy_it_waited_for_finishes() {
    let config = config_with(true);
    let state = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T17:55:00.3Z");
    let teardown = crate::decide::lifecycle::Command::Scheduled(crate::model::action::ScheduledCommand::Teardown {
        scheduled_time: Some(utc("2026-11-27T18:00:00Z")),
    });
    let d = crate::decide::lifecycle::decide(&state, UP, &teardown, utc("2026-11-27T18:00:00.6Z"), &config).unwrap();
    assert!(d.summary.contains("deferred"), "{}", d.summary);
    let state = EnvironmentState { version: state.version + 1, ..d.next_state };
    let finished = WorkflowRun {
        created_at: Some(utc("2026-11-27T17:55:02Z")),
        run_started_at: Some(utc("2026-11-27T17:55:05Z")),
        updated_at: Some(utc("2026-11-27T18:19:00Z")),
        ..run("success", SHA)
    };
    let d = decide_deploy_finished(&state, UP, &finished, utc("2026-11-27T18:20:00.4Z"), &config);
    assert_eq!(
        kinds(&d),
        ["record", "notify deploy.succeeded", "ScaleService { desired_count: 0 }", "notify env.teardown"],
        "{}",
        d.summary
    );
    assert_eq!(d.summary, "deploy succeeded; stopping");
    assert!(!crate::decide::lifecycle::teardown_overdue(&d.next_state, utc("2026-11-27T18:40:00Z"), &config));
    // Inside business hours there is nothing to go ahead with.
    let state = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:00Z");
    let d = decide_deploy_finished(
        &state,
        UP,
        &WorkflowRun { created_at: Some(utc("2026-11-27T10:00:02Z")), ..run("success", SHA) },
        utc("2026-11-27T10:05:00Z"),
        &config,
    );
    assert_eq!(d.summary, "deploy succeeded");
}

#[test]
fn once_ours_is_known_by_id_another_run_finishing_does_not_close_it() {
    let config = config_with(true);
    let ours = in_flight(SHA, DeploymentPlan::FULL, "2026-11-27T10:00:01.5Z");
    let requested = WorkflowRun {
        id: Some(777),
        conclusion: None,
        created_at: Some(utc("2026-11-27T10:00:03Z")),
        ..run("success", SHA)
    };
    let d = decide_deploy_requested(&ours, UP, &requested, utc("2026-11-27T10:00:04.2Z"), &config).unwrap();
    let state = EnvironmentState { version: 4, ..d.next_state };
    // Dave's run, created after our dispatch, finishes first: not ours.
    let daves = WorkflowRun { id: Some(778), created_at: Some(utc("2026-11-27T10:01:00Z")), ..run("success", SHA) };
    let d = decide_deploy_finished(&state, UP, &daves, utc("2026-11-27T10:05:00Z"), &config);
    assert!(d.summary.starts_with("ignored"), "{}", d.summary);
    assert!(d.next_state.deployment_in_flight.is_some());
    let d = decide_deploy_finished(
        &state,
        UP,
        &WorkflowRun { conclusion: Some("success".into()), ..requested },
        utc("2026-11-27T10:06:00.9Z"),
        &config,
    );
    assert_eq!(d.summary, "deploy succeeded");
    assert!(d.next_state.deployment_in_flight.is_none());
}

#[test]
fn a_run_started_by_hand_finishes_like_ours_and_the_teardown_waits_for_it() {
    let config = config_with(true);
    let down = EnvironmentState { phase: crate::Phase::Down, version: 4, ..EnvironmentState::new("staging") };
    let requested = WorkflowRun {
        id: Some(777),
        conclusion: None,
        created_at: Some(utc("2026-11-27T19:00:00Z")),
        actor: Some(Actor { login: "dave".into() }),
        ..run("success", SHA)
    };
    let d = decide_deploy_requested(&down, DOWN, &requested, utc("2026-11-27T19:00:00.5Z"), &config).unwrap();
    let state = EnvironmentState { version: 5, ..d.next_state };
    // Round trip through JSON and the upgrade every read applies, as the store does.
    let state = serde_json::from_str::<EnvironmentState>(&serde_json::to_string(&state).unwrap()).unwrap().upgraded();
    assert!(state.deployment_in_flight.as_ref().unwrap().pushes.is_empty(), "a run by hand gets no push");
    let finished = WorkflowRun {
        conclusion: Some("success".into()),
        run_started_at: Some(utc("2026-11-27T19:00:04Z")),
        updated_at: Some(utc("2026-11-27T19:06:04Z")),
        ..requested.clone()
    };
    let d = decide_deploy_finished(&state, UP, &finished, utc("2026-11-27T19:06:05.3Z"), &config);
    assert_eq!(kinds(&d), ["record", "notify deploy.succeeded"]);
    let Some(Action::Notify(n)) = d.actions.last() else { panic!() };
    assert_eq!(n.subject, "staging: deploy succeeded @ 2222222 in 6m");
    assert!(n.body.contains("Pushes: none (run by hand by dave at 2222222)"), "{}", n.body);

    // Run by hand just before 18:00: the scheduled teardown waits for it.
    let up = EnvironmentState { phase: crate::Phase::Up, version: 4, ..EnvironmentState::new("staging") };
    let late = WorkflowRun { created_at: Some(utc("2026-11-27T17:58:00Z")), ..requested };
    let d = decide_deploy_requested(&up, UP, &late, utc("2026-11-27T17:58:01.1Z"), &config).unwrap();
    let state = EnvironmentState { version: 5, ..d.next_state };
    let teardown = crate::decide::lifecycle::Command::Scheduled(crate::model::action::ScheduledCommand::Teardown {
        scheduled_time: Some(utc("2026-11-27T18:00:00Z")),
    });
    let d = crate::decide::lifecycle::decide(&state, UP, &teardown, utc("2026-11-27T18:00:00.8Z"), &config).unwrap();
    assert!(d.summary.starts_with("scheduled teardown deferred to 18:15 UTC: the deploy of 2222222"), "{}", d.summary);
    assert!(d.next_state.wants_running());
}
