//! The front door against local AWS (moto): a browser without an invite sees the page and
//! nothing wakes; robots never wake; an invite link sets its cookie; the page's wake form
//! starts staging with a hold by the invite's name; the page then shows the steps and
//! sends the tester to the path they asked for; a revoked name stops working at once; fifty
//! wakes at once make one start and one hold; with the listener switched, the address leads
//! to the app only once a target of it is healthy (moto's ELBv2).
#![allow(clippy::await_holding_lock)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use front_door::{FrontDoor, as_json, handle};
use serde_json::{Value, json};
use staging_core::decide::invite::Invite;
use staging_core::model::state::EnvironmentState;
use staging_core::shell::Lazy;
use staging_core::shell::executor::Executor;
use staging_core::shell::settings::LiveConfig;
use staging_system_tests::{clients, config, reset, sdk_config, serial};

const SECRET: &str = "local-invite-secret";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

fn environment() -> BTreeMap<String, String> {
    let mut env = reset();
    // On demand only: every wake is out of hours, so each places a hold.
    env.insert("STAGING_UP_TIME".into(), "none".into());
    env.insert("STAGING_INVITE_SECRET".into(), SECRET.into());
    env.insert("STAGING_URL".into(), "https://api.staging.example.com".into());
    env
}

async fn app(env: &BTreeMap<String, String>) -> FrontDoor {
    let clients = clients(env).await;
    let live = LiveConfig::fixed(config(env), clients.ssm.clone());
    let secrets = Lazy::from(aws_sdk_secretsmanager::Client::new(&sdk_config(env).await));
    FrontDoor::new(clients, live, secrets).unwrap()
}

/// A Function URL request, as Lambda delivers it (parsed by lambda_http as in the binary).
fn request(
    method: &str,
    path_and_query: &str,
    agent: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> lambda_http::Request {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut headers = json!({ "user-agent": agent, "accept": "text/html,application/xhtml+xml" });
    if form.is_some() {
        headers["content-type"] = json!("application/x-www-form-urlencoded");
    }
    let mut event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous", "apiId": "frontdoor", "domainName": "frontdoor.lambda-url.us-east-1.on.aws",
            "domainPrefix": "frontdoor", "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "06/Dec/2026:19:00:00 +0000", "timeEpoch": 1796583600000u64,
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": agent }
        },
        "body": form.unwrap_or(""), "isBase64Encoded": false
    });
    if let Some(c) = cookie {
        event["cookies"] = json!([c]);
    }
    lambda_http::request::from_str(&event.to_string()).expect("a Function URL request")
}

async fn state(env: &BTreeMap<String, String>) -> EnvironmentState {
    let (clients, config) = (clients(env).await, config(env));
    Executor::new(&clients, &config).store().unwrap().load("staging").await.unwrap()
}

async fn desired(env: &BTreeMap<String, String>) -> u32 {
    let (clients, config) = (clients(env).await, config(env));
    Executor::new(&clients, &config).observe().await.unwrap().desired_count
}

fn token(name: &str, now: DateTime<Utc>, valid: Duration) -> String {
    Invite::new(name, now, valid).unwrap().token(&staging_core::config::Secret::new(SECRET))
}

fn page_state(answer: &Value) -> String {
    let body = answer["body"].as_str().unwrap_or_default();
    body.split("data-state=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("none").to_string()
}

/// Puts staging to sleep the way a teardown does, so the front door has something to wake.
async fn asleep(env: &BTreeMap<String, String>, now: DateTime<Utc>) {
    let (clients, config) = (clients(env).await, config(env));
    let executor = Executor::new(&clients, &config);
    let down = staging_core::decide::lifecycle::Command::Down { who: "ops".into() };
    staging_core::shell::runner::run(&executor, &down, now).await.unwrap();
    assert_eq!(desired(env).await, 0);
}

#[tokio::test]
async fn a_browser_needs_an_invite_to_wake_staging_and_then_reaches_its_path() {
    let _serial = serial();
    let env = environment();
    let app = app(&env).await;
    let t0: DateTime<Utc> = "2026-12-06T19:00:00.123456789Z".parse().unwrap();
    asleep(&env, t0).await;
    let before = state(&env).await;

    // Without an invite, robots and people alike: the page, nothing wakes.
    let cases = [
        ("a browser without an invite", request("GET", "/orders/42", FIREFOX, None, None), 503, "asleep"),
        ("Slack's link preview", request("GET", "/orders/42", "Slackbot-LinkExpanding 1.0", None, None), 503, "asleep"),
        ("HEAD", request("HEAD", "/", FIREFOX, None, None), 503, "asleep"),
        (
            "the wake form without a cookie",
            request("POST", "/_staging/wake", FIREFOX, None, Some("next=%2F")),
            401,
            "asleep",
        ),
        (
            "a forged invite",
            request("POST", "/_staging/wake", FIREFOX, Some("staging_invite=v1.eve.1.9999999999.00"), Some("next=%2F")),
            403,
            "asleep",
        ),
        (
            "an expired invite",
            request(
                "POST",
                "/_staging/wake",
                FIREFOX,
                Some(&format!("staging_invite={}", token("bob", t0 - Duration::days(31), Duration::days(30)))),
                Some("next=%2F"),
            ),
            403,
            "asleep",
        ),
        (
            "a bot with a valid invite",
            request(
                "POST",
                "/_staging/wake",
                "Twitterbot/1.0",
                Some(&format!("staging_invite={}", token("bob", t0, Duration::days(1)))),
                Some("next=%2F"),
            ),
            403,
            "asleep",
        ),
    ];
    for (name, req, status, shown) in cases {
        let answer = as_json(&handle(&app, &req, t0 + Duration::seconds(1)).await);
        assert_eq!(answer["statusCode"], status, "{name}: {answer}");
        assert_eq!(page_state(&answer), shown, "{name}");
        assert_eq!(state(&env).await.version, before.version, "{name}: nothing committed");
        assert_eq!(desired(&env).await, 0, "{name}: nothing started");
    }
    let page = as_json(&handle(&app, &request("GET", "/orders/42", FIREFOX, None, None), t0).await);
    assert!(page["body"].as_str().unwrap().contains("invite"), "the page says how to get in");
    assert!(page["headers"]["retry-after"].as_str().is_some());

    // The invite link: its cookie, and on to the path asked for.
    let invite = token("alice", t0, Duration::days(30));
    let opened = as_json(
        &handle(
            &app,
            &request("GET", &format!("/_staging/invite?token={invite}&next=%2Forders%2F42"), FIREFOX, None, None),
            t0,
        )
        .await,
    );
    assert_eq!(opened["statusCode"], 303, "{opened}");
    assert_eq!(opened["headers"]["location"], "/orders/42");
    let set = opened["cookies"][0].as_str().unwrap();
    assert!(set.starts_with(&format!("staging_invite={invite};")), "{set}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let cookie = format!("staging_invite={invite}");

    // With it, the page offers the wake; the form wakes staging.
    let page = as_json(&handle(&app, &request("GET", "/orders/42", FIREFOX, Some(&cookie), None), t0).await);
    assert!(page["body"].as_str().unwrap().contains("action=\"/_staging/wake\""), "the wake form");
    let t1 = t0 + Duration::seconds(30) + Duration::milliseconds(500);
    let woke = as_json(
        &handle(&app, &request("POST", "/_staging/wake", FIREFOX, Some(&cookie), Some("next=%2Forders%2F42")), t1)
            .await,
    );
    assert_eq!(
        (woke["statusCode"].as_u64(), woke["headers"]["location"].as_str()),
        (Some(303), Some("/orders/42")),
        "{woke}"
    );
    let s = state(&env).await;
    let hold = s.hold.as_ref().expect("a hold");
    assert_eq!(hold.who, "alice");
    assert_eq!(s.wakes.len(), 1);
    assert_eq!(s.wakes[0].requested_at, staging_core::time::whole_seconds(t1));
    assert!(desired(&env).await > 0, "the service was started");

    // The next look: moto runs tasks at once; with no probes the tasks are the last step.
    let t2 = t1 + Duration::seconds(40);
    let ready = as_json(&handle(&app, &request("GET", "/orders/42", FIREFOX, Some(&cookie), None), t2).await);
    assert_eq!(page_state(&ready), "ready", "{ready}");
    assert_eq!(ready["statusCode"], 200);
    assert!(ready["body"].as_str().unwrap().contains("url=/orders/42"), "sent on to the path asked for");
    let s = state(&env).await;
    assert_eq!(s.wakes[0].wake_time(), Some(Duration::seconds(40)), "requested → ready kept, to the second");

    // Revoked: refused at once, even with the cookie in hand.
    let (clients, cfg) = (clients(&env).await, config(&env));
    let executor = Executor::new(&clients, &cfg);
    let origin =
        staging_core::audit::Origin::new(staging_core::audit::Source::Operator, "ops", "invite --revoke alice");
    let t3 = t2 + Duration::seconds(5);
    staging_core::shell::runner::run_with(&executor, &origin, t3, |s, _| {
        staging_core::decide::front_door::revoke(s, "alice", "ops", t3)
    })
    .await
    .unwrap();
    asleep(&env, t3 + Duration::seconds(1)).await;
    let version = state(&env).await.version;
    let refused = as_json(
        &handle(
            &app,
            &request("POST", "/_staging/wake", FIREFOX, Some(&cookie), Some("next=%2F")),
            t3 + Duration::seconds(2),
        )
        .await,
    );
    assert_eq!(refused["statusCode"], 403, "{refused}");
    assert!(refused["body"].as_str().unwrap().contains("revoked"));
    assert_eq!(state(&env).await.version, version);
    assert_eq!(desired(&env).await, 0);
}

/// Where the listener's default action forwards: "app", "front-door" or the ARN.
async fn forwards_to(env: &BTreeMap<String, String>) -> String {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk_config(env).await);
    let listener = elb.describe_listeners().listener_arns(&env["LOCAL_LISTENER_ARN"]).send().await.unwrap();
    let arn = listener.listeners()[0].default_actions()[0].target_group_arn().unwrap_or_default().to_string();
    match arn {
        a if a == env["LOCAL_APP_TARGET_GROUP_ARN"] => "app".into(),
        a if a == env["LOCAL_FRONT_DOOR_TARGET_GROUP_ARN"] => "front-door".into(),
        a => a,
    }
}

/// Scale mode with the listener switched (the bootstrap's load balancer, as the template's
/// `LoadBalancerListenerArn` and target groups set it up): asleep, the address leads to the
/// front door; a wake starts the app, but the address stays on the front door until a
/// target of the app is healthy; the look that finds one points the address at the app and
/// says ready at once (the tester's next request reaches the app, not this page); a
/// teardown points it back.
#[tokio::test]
async fn the_address_leads_to_the_app_only_once_a_target_is_healthy_and_back_to_the_front_door_asleep() {
    let _serial = serial();
    let mut env = environment();
    for (to, from) in [
        ("STAGING_LISTENER_ARN", "LOCAL_LISTENER_ARN"),
        ("STAGING_APP_TARGET_GROUP_ARN", "LOCAL_APP_TARGET_GROUP_ARN"),
        ("STAGING_FRONT_DOOR_TARGET_GROUP_ARN", "LOCAL_FRONT_DOOR_TARGET_GROUP_ARN"),
    ] {
        let value = env[from].clone();
        env.insert(to.into(), value);
    }
    let app = app(&env).await;
    assert_eq!(forwards_to(&env).await, "app", "the bootstrap's listener starts on the app");
    let t0: DateTime<Utc> = "2026-12-06T19:00:00.987654321Z".parse().unwrap();
    asleep(&env, t0).await;
    assert_eq!(forwards_to(&env).await, "front-door", "asleep: the address leads to the front door");

    let cookie = format!("staging_invite={}", token("erin", t0, Duration::days(7)));
    let t1 = t0 + Duration::seconds(20) + Duration::milliseconds(300);
    let woke = as_json(
        &handle(&app, &request("POST", "/_staging/wake", FIREFOX, Some(&cookie), Some("next=%2Forders%2F42")), t1)
            .await,
    );
    assert_eq!(woke["statusCode"], 303, "{woke}");
    assert!(desired(&env).await > 0, "the service was started");
    assert_eq!(forwards_to(&env).await, "front-door", "no healthy target yet: the address stays on the page");

    // Tasks run (moto starts them at once), but no target is healthy: still waking.
    let t2 = t1 + Duration::seconds(30);
    let waking = as_json(&handle(&app, &request("GET", "/orders/42", FIREFOX, Some(&cookie), None), t2).await);
    assert_eq!((page_state(&waking).as_str(), waking["statusCode"].as_u64()), ("waking", Some(503)), "{waking}");
    assert_eq!(forwards_to(&env).await, "front-door");
    let s = state(&env).await;
    assert_eq!(s.wakes[0].tasks_at, Some(staging_core::time::whole_seconds(t2)), "the tasks' step kept");
    assert_eq!(s.wakes[0].ready_at, None);

    // The app's task passes the load balancer's health checks (moto: a registered target).
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk_config(&env).await);
    let task = aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder().id("10.0.1.7").port(3000).build();
    elb.register_targets().target_group_arn(&env["LOCAL_APP_TARGET_GROUP_ARN"]).targets(task).send().await.unwrap();
    let t3 = t2 + Duration::seconds(25) + Duration::milliseconds(400);
    let ready = as_json(&handle(&app, &request("GET", "/orders/42", FIREFOX, Some(&cookie), None), t3).await);
    assert_eq!((page_state(&ready).as_str(), ready["statusCode"].as_u64()), ("ready", Some(200)), "{ready}");
    assert!(ready["body"].as_str().unwrap().contains("url=/orders/42"), "sent on to the path asked for");
    assert_eq!(forwards_to(&env).await, "app", "the address leads to the app");
    let s = state(&env).await;
    let wake = &s.wakes[0];
    assert_eq!(wake.targets_at, Some(staging_core::time::whole_seconds(t3)));
    assert_eq!(wake.ready_at, Some(staging_core::time::whole_seconds(t3)), "ready in the look that switched");
    assert_eq!(wake.wake_time(), Some(staging_core::time::whole_seconds(t3) - staging_core::time::whole_seconds(t1)));

    // Asleep again: the address goes back to the front door.
    asleep(&env, t3 + Duration::minutes(40)).await;
    assert_eq!(forwards_to(&env).await, "front-door");
}

#[tokio::test]
async fn an_api_client_gets_503_with_retry_after_and_json() {
    let _serial = serial();
    let env = environment();
    let app = app(&env).await;
    let t0: DateTime<Utc> = "2026-12-06T19:00:00.5Z".parse().unwrap();
    asleep(&env, t0).await;
    let mut req = request("GET", "/api/orders", "axios/1.7", None, None);
    req.headers_mut().insert("accept", "application/json".parse().unwrap());
    let answer = as_json(&handle(&app, &req, t0).await);
    assert_eq!(answer["statusCode"], 503);
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["state"], "asleep");
    assert!(body["eta_seconds"].as_i64().is_some(), "{body}");
    assert!(answer["headers"]["retry-after"].as_str().unwrap().parse::<u64>().unwrap() >= 5);
}

#[tokio::test]
async fn fifty_wakes_at_once_make_one_start_and_one_hold() {
    let _serial = serial();
    let env = environment();
    let app = app(&env).await;
    let t0: DateTime<Utc> = "2026-12-06T19:10:00.25Z".parse().unwrap();
    asleep(&env, t0).await;
    let requests: Vec<_> = (0..50)
        .map(|i| {
            let cookie = format!("staging_invite={}", token(&format!("tester{}", i % 10), t0, Duration::days(1)));
            request("POST", "/_staging/wake", FIREFOX, Some(&cookie), Some("next=%2F"))
        })
        .collect();
    let answers = futures_join(&app, &requests, t0 + Duration::seconds(1)).await;
    assert!(answers.iter().all(|a| a["statusCode"] == 303), "{answers:?}");
    let s = state(&env).await;
    assert_eq!(s.wakes.len(), 1, "one wake");
    assert!(s.hold.is_some(), "one hold");
}

/// Runs every request concurrently on this runtime (each awaits moto in turn, so their
/// reads and commits interleave).
async fn futures_join(app: &FrontDoor, requests: &[lambda_http::Request], now: DateTime<Utc>) -> Vec<Value> {
    let mut set = Vec::new();
    for r in requests {
        set.push(handle(app, r, now));
    }
    let mut answers = Vec::new();
    let joined = join_all(set).await;
    for a in joined {
        answers.push(as_json(&a));
    }
    answers
}

/// A minimal join_all over boxed futures (no extra crate).
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().map(|o| o.expect("every future finished")).collect()
}
