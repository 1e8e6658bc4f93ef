//! The idle stop end to end: `health_check::handle` ticks with sub-second clocks five
//! minutes apart; the state (DynamoDB), ECS, Scheduler and the team topic in moto; the load
//! balancer's figures from a CloudWatch on loopback.
//!
//! Why not moto's CloudWatch: the Rust SDK's CloudWatch client speaks the Smithy RPC v2
//! CBOR protocol (`POST /service/GraniteServiceVersion20100801/operation/GetMetricData`,
//! header `smithy-protocol: rpc-v2-cbor`), and moto 5.2.5 serves CloudWatch only at `/` in
//! the query and JSON protocols: it answers the SDK's requests 404. So the figures come
//! from [`FakeCloudWatch`], a loopback HTTP server that speaks that protocol itself
//! (decoding and encoding CBOR with `minicbor`, not with the SDK's own codec), answers
//! `GetMetricData` from the data points the test scripts, and keeps every query so the
//! test checks what the adapter asked for.
// Each test takes the process-wide lock for its whole run to serialize access to the
// one moto server; each has its own runtime, so holding it across awaits is the point.
#![allow(clippy::await_holding_lock)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use staging_core::shell::Lazy;
use staging_core::shell::executor::Executor;
use staging_core::shell::probe::Prober;
use staging_system_tests::{clients, config, drain_team_queue, reset, sdk_config, serial};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const LOAD_BALANCER: &str = "app/staging-alb/50dc6c495c0c9188";

/// A CBOR value, as much of it as the protocol uses.
#[derive(Debug, Clone, PartialEq)]
enum Cbor {
    Text(String),
    Number(f64),
    Bool(bool),
    Time(f64),
    List(Vec<Cbor>),
    Map(BTreeMap<String, Cbor>),
    Null,
}

impl Cbor {
    fn get(&self, key: &str) -> &Cbor {
        match self {
            Cbor::Map(m) => m.get(key).unwrap_or(&Cbor::Null),
            _ => &Cbor::Null,
        }
    }

    fn list(&self) -> &[Cbor] {
        match self {
            Cbor::List(l) => l,
            _ => &[],
        }
    }

    fn text(&self) -> &str {
        match self {
            Cbor::Text(t) => t,
            _ => "",
        }
    }

    fn number(&self) -> f64 {
        match self {
            Cbor::Number(n) | Cbor::Time(n) => *n,
            _ => f64::NAN,
        }
    }
}

fn decode(d: &mut minicbor::Decoder<'_>) -> Result<Cbor, minicbor::decode::Error> {
    use minicbor::data::Type;
    Ok(match d.datatype()? {
        Type::String | Type::StringIndef => Cbor::Text(d.str_iter()?.collect::<Result<Vec<_>, _>>()?.concat()),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            Cbor::Number(d.i64()? as f64)
        }
        Type::F16 | Type::F32 | Type::F64 => Cbor::Number(d.f64()?),
        Type::Bool => Cbor::Bool(d.bool()?),
        Type::Null | Type::Undefined => {
            d.skip()?;
            Cbor::Null
        }
        Type::Tag => {
            d.tag()?;
            Cbor::Time(decode(d)?.number())
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array()?;
            let mut items = Vec::new();
            while len.is_none_or(|n| (items.len() as u64) < n) {
                if len.is_none() && d.datatype()? == Type::Break {
                    d.skip()?;
                    break;
                }
                items.push(decode(d)?);
            }
            Cbor::List(items)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map()?;
            let mut entries = BTreeMap::new();
            while len.is_none_or(|n| (entries.len() as u64) < n) {
                if len.is_none() && d.datatype()? == Type::Break {
                    d.skip()?;
                    break;
                }
                let key = decode(d)?.text().to_string();
                entries.insert(key, decode(d)?);
            }
            Cbor::Map(entries)
        }
        _ => {
            d.skip()?;
            Cbor::Null
        }
    })
}

/// One scripted data point: metric, minute, value.
type Point = (&'static str, DateTime<Utc>, f64);

/// CloudWatch on loopback, in the SDK's own protocol (RPC v2 CBOR).
struct FakeCloudWatch {
    addr: SocketAddr,
    points: Arc<Mutex<Vec<Point>>>,
    /// Every GetMetricData request, decoded, with its `smithy-protocol` header.
    queries: Arc<Mutex<Vec<(String, Cbor)>>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeCloudWatch {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (points, queries) = (Arc::default(), Arc::default());
        let server = tokio::spawn(serve(listener, Arc::clone(&points), Arc::clone(&queries)));
        Self { addr, points, queries, server }
    }

    fn add(&self, points: &[Point]) {
        self.points.lock().unwrap().extend_from_slice(points);
    }

    /// The controller's own probe (one request, one connection) every five minutes from
    /// `from` to `to`.
    fn probes(&self, from: &str, to: &str) {
        let (mut t, to) = (utc(from), utc(to));
        while t < to {
            self.add(&[("RequestCount", t, 1.0), ("ActiveConnectionCount", t, 1.0)]);
            t += Duration::minutes(5);
        }
    }

    async fn client(&self, env: &BTreeMap<String, String>) -> aws_sdk_cloudwatch::Client {
        let sdk = sdk_config(env).await;
        let config =
            aws_sdk_cloudwatch::config::Builder::from(&sdk).endpoint_url(format!("http://{}", self.addr)).build();
        aws_sdk_cloudwatch::Client::from_conf(config)
    }
}

impl Drop for FakeCloudWatch {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    points: Arc<Mutex<Vec<Point>>>,
    queries: Arc<Mutex<Vec<(String, Cbor)>>>,
) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else { return };
        let (points, queries) = (Arc::clone(&points), Arc::clone(&queries));
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, length) = loop {
                let Ok(n) = socket.read(&mut chunk).await else { return };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (end + 4, length);
                }
            };
            while buf.len() < head_end + length {
                let Ok(n) = socket.read(&mut chunk).await else { return };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let protocol = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("smithy-protocol:").map(|v| v.trim().to_string()))
                .unwrap_or_default();
            let (status, body) =
                if head.starts_with("POST /service/GraniteServiceVersion20100801/operation/GetMetricData ") {
                    let request = decode(&mut minicbor::Decoder::new(&buf[head_end..head_end + length])).unwrap();
                    let body = answer(&request, &points.lock().unwrap());
                    queries.lock().unwrap().push((protocol, request));
                    ("200 OK", body)
                } else {
                    ("404 Not Found", Vec::new())
                };
            let response = format!(
                "HTTP/1.1 {status}\r\nsmithy-protocol: rpc-v2-cbor\r\ncontent-type: application/cbor\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.write_all(&body).await;
        });
    }
}

/// GetMetricData's answer: for each query, the scripted points of its metric in
/// [StartTime, EndTime), oldest first.
fn answer(request: &Cbor, points: &[Point]) -> Vec<u8> {
    let (start, end) = (request.get("StartTime").number(), request.get("EndTime").number());
    let mut e = minicbor::Encoder::new(Vec::new());
    let queries = request.get("MetricDataQueries").list();
    e.map(2).unwrap().str("MetricDataResults").unwrap().array(queries.len() as u64).unwrap();
    for q in queries {
        let metric = q.get("MetricStat").get("Metric").get("MetricName").text();
        let mut mine: Vec<&Point> =
            points.iter().filter(|(m, t, _)| *m == metric && (start..end).contains(&(t.timestamp() as f64))).collect();
        mine.sort_by_key(|(_, t, _)| *t);
        e.map(5).unwrap();
        e.str("Id").unwrap().str(q.get("Id").text()).unwrap();
        e.str("Label").unwrap().str(metric).unwrap();
        e.str("Timestamps").unwrap().array(mine.len() as u64).unwrap();
        for (_, t, _) in &mine {
            e.tag(minicbor::data::IanaTag::Timestamp).unwrap().f64(t.timestamp() as f64).unwrap();
        }
        e.str("Values").unwrap().array(mine.len() as u64).unwrap();
        for (_, _, v) in &mine {
            e.f64(*v).unwrap();
        }
        e.str("StatusCode").unwrap().str("Complete").unwrap();
    }
    e.str("Messages").unwrap().array(0).unwrap();
    e.into_writer()
}

/// The app behind the load balancer, for the health check's one probe: answers 200.
async fn app() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
            });
        }
    });
    (url, server)
}

/// The team queue's messages: (event, subject), in order.
async fn told(env: &BTreeMap<String, String>) -> Vec<(String, String)> {
    drain_team_queue(env)
        .await
        .iter()
        .map(|m| {
            let event = m["MessageAttributes"]["event"]["Value"].as_str().unwrap_or_default().to_string();
            (event, m["Subject"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

fn tick(at: &str) -> Value {
    json!({"command": "health", "scheduled_time": at})
}

/// The local stack, staging woken on demand on Sunday 2026-12-06 at 18:00 UTC (a hold of
/// 3 hours, no business hours that day), one probe, the idle stop watching the fake
/// CloudWatch's load balancer.
struct Staging {
    env: BTreeMap<String, String>,
    config: staging_core::Config,
    clients: staging_core::shell::Clients,
    prober: Prober,
    cloudwatch: FakeCloudWatch,
    _app: tokio::task::JoinHandle<()>,
}

impl Staging {
    async fn woken() -> Self {
        let (url, app) = app().await;
        let mut env = reset();
        env.insert("STAGING_PROBES".into(), format!("backend={url}"));
        env.insert("STAGING_LOAD_BALANCER".into(), LOAD_BALANCER.into());
        env.insert("STAGING_IDLE_STOP".into(), "on-demand".into());
        let cloudwatch = FakeCloudWatch::start().await;
        let config = config(&env);
        let mut clients = clients(&env).await;
        clients.cloudwatch = Lazy::from(cloudwatch.client(&env).await);
        let prober = Prober::new(&config.probes).unwrap();
        let staging = Self { env, config, clients, prober, cloudwatch, _app: app };
        let executor = Executor::new(&staging.clients, &staging.config);
        // Asleep first (the local stack starts with the service up), then woken.
        let down = json!({"command": "down", "who": "carol"});
        lifecycle::handle(&executor, down, utc("2026-12-06T17:40:00.5Z")).await.unwrap();
        let up = json!({"command": "up", "who": "carol", "reason": "demo", "hold": "3h"});
        let out = lifecycle::handle(&executor, up, utc("2026-12-06T18:00:00.731Z")).await.unwrap();
        assert!(out["summary"].as_str().unwrap().starts_with("held until 21:00 UTC"), "{out}");
        drain_team_queue(&staging.env).await;
        staging
    }

    async fn tick(&self, at: &str, millis: u32) -> Value {
        let executor = Executor::new(&self.clients, &self.config);
        let clock = utc(&format!("{at}.{millis:03}Z"));
        health_check::handle(&executor, &self.prober, tick(&format!("{at}Z")), clock).await.unwrap()
    }

    async fn state(&self) -> staging_core::EnvironmentState {
        let executor = Executor::new(&self.clients, &self.config);
        executor.store().unwrap().load("staging").await.unwrap()
    }

    async fn desired_count(&self) -> u32 {
        Executor::new(&self.clients, &self.config).observe().await.unwrap().desired_count
    }
}

#[tokio::test]
async fn an_idle_on_demand_hold_is_warned_of_first_then_stopped_with_its_hold_ended() {
    let _serial = serial();
    let staging = Staging::woken().await;
    staging.cloudwatch.probes("2026-12-06T18:00:00Z", "2026-12-06T19:00:00Z");

    // (tick, idle summary phrase, messages)
    #[rustfmt::skip]
    let script: &[(&str, &str, &[&str])] = &[
        ("2026-12-06T18:10:00", "in use (last use 18:00 UTC; idle at 18:30 UTC)", &[]),
        ("2026-12-06T18:15:00", "in use", &[]),
        ("2026-12-06T18:20:00", "warned: stops at 18:30 UTC: no requests since 18:00 UTC", &["env.idle_warning"]),
        ("2026-12-06T18:25:00", "stops at 18:30 UTC", &[]),
        ("2026-12-06T18:30:00", "idle: no requests since 18:00 UTC: stopping", &["env.teardown"]),
    ];
    for (i, (at, says, expected)) in script.iter().enumerate() {
        let out = staging.tick(at, 250 + 17 * i as u32).await;
        let idle = out["idle"].as_str().unwrap_or_default();
        assert!(idle.contains(says), "{at}: {out}");
        let messages = told(&staging.env).await;
        assert_eq!(messages.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(), *expected, "{at}: {messages:?}");
        if *at == "2026-12-06T18:20:00" {
            assert_eq!(messages[0].1, "staging: stops at 18:30 UTC: no requests since 18:00 UTC");
            let state = staging.state().await;
            assert_eq!(state.idle.stop_at, Some(utc("2026-12-06T18:30:00Z")));
            assert_eq!(state.idle.warned_at, Some(utc("2026-12-06T18:20:00Z")));
            assert_eq!(staging.desired_count().await, 1, "warned, not stopped");
        }
    }
    let state = staging.state().await;
    assert_eq!(state.hold, None, "the hold ended");
    assert!(!state.wants_running());
    assert_eq!(state.idle.stopped_at, Some(utc("2026-12-06T18:30:00Z")));
    assert_eq!(staging.desired_count().await, 0, "ECS scaled to zero");
    let schedules = Executor::new(&staging.clients, &staging.config).schedules().unwrap();
    let hold = staging_core::model::action::hold_schedule_name("staging");
    assert!(schedules.get(&hold).await.unwrap().is_none(), "the hold's end schedule is gone");

    // What the adapter asked for, in the SDK's protocol.
    let queries = staging.cloudwatch.queries.lock().unwrap().clone();
    assert_eq!(queries.len(), 5, "one GetMetricData a tick");
    let (protocol, first) = &queries[0];
    assert_eq!(protocol, "rpc-v2-cbor");
    assert_eq!(first.get("StartTime").number(), utc("2026-12-06T17:30:00Z").timestamp() as f64);
    assert_eq!(first.get("EndTime").number(), utc("2026-12-06T18:10:00Z").timestamp() as f64);
    let asked: Vec<(&str, &str, f64, &str, &str)> = first
        .get("MetricDataQueries")
        .list()
        .iter()
        .map(|q| {
            let stat = q.get("MetricStat");
            let dimension = &stat.get("Metric").get("Dimensions").list()[0];
            assert_eq!(stat.get("Metric").get("Namespace").text(), "AWS/ApplicationELB");
            (
                stat.get("Metric").get("MetricName").text(),
                stat.get("Stat").text(),
                stat.get("Period").number(),
                dimension.get("Name").text(),
                dimension.get("Value").text(),
            )
        })
        .collect();
    assert_eq!(
        asked,
        [
            ("RequestCount", "Sum", 60.0, "LoadBalancer", LOAD_BALANCER),
            ("ActiveConnectionCount", "Sum", 60.0, "LoadBalancer", LOAD_BALANCER)
        ]
    );
}

#[tokio::test]
async fn traffic_keeps_staging_up_unwarned_and_use_after_a_warning_calls_the_stop_off() {
    let _serial = serial();
    let staging = Staging::woken().await;
    staging.cloudwatch.probes("2026-12-06T18:00:00Z", "2026-12-06T20:00:00Z");
    // Someone browses every ten minutes; then a WebSocket stays open (connections only).
    for minute in [8, 18, 28] {
        staging.cloudwatch.add(&[("RequestCount", utc("2026-12-06T18:00:00Z") + Duration::minutes(minute), 25.0)]);
    }
    for minute in 35..45 {
        let at = utc("2026-12-06T18:00:00Z") + Duration::minutes(minute);
        staging.cloudwatch.add(&[("ActiveConnectionCount", at, 3.0)]);
    }
    for (i, at) in ["18:10", "18:15", "18:20", "18:25", "18:30", "18:35", "18:40", "18:45", "18:50", "18:55", "19:00"]
        .iter()
        .enumerate()
    {
        let out = staging.tick(&format!("2026-12-06T{at}:00"), 100 + 31 * i as u32).await;
        assert!(out["idle"].as_str().unwrap().contains("in use"), "{at}: {out}");
        assert_eq!(told(&staging.env).await, [], "{at}");
    }
    assert_eq!(staging.state().await.idle.last_use, Some(utc("2026-12-06T18:45:00Z")));

    // Idle since 18:45: warned at the 19:05 tick (idle at 19:15); a request at 19:07 calls
    // it off at the 19:10 tick.
    let out = staging.tick("2026-12-06T19:05:00", 480).await;
    assert!(out["idle"].as_str().unwrap().contains("warned: stops at 19:15 UTC"), "{out}");
    assert_eq!(told(&staging.env).await.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>(), ["env.idle_warning"]);
    staging.cloudwatch.add(&[("RequestCount", utc("2026-12-06T19:07:00Z"), 4.0)]);
    let out = staging.tick("2026-12-06T19:10:00", 90).await;
    assert!(out["idle"].as_str().unwrap().contains("used at 19:08 UTC: the stop at 19:15 UTC is off"), "{out}");
    assert_eq!(told(&staging.env).await.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>(), ["env.idle_cancelled"]);
    let state = staging.state().await;
    assert_eq!((state.idle.stop_at, state.idle.warned_at), (None, None));
    assert!(state.hold.is_some() && state.wants_running(), "{state:?}");
    assert_eq!(staging.desired_count().await, 1);
}

#[tokio::test]
async fn a_hold_kept_with_keep_is_never_stopped_for_idleness() {
    let _serial = serial();
    let staging = Staging::woken().await;
    staging.cloudwatch.probes("2026-12-06T18:00:00Z", "2026-12-06T21:00:00Z");
    // The hold becomes a `--keep` one (committed as a decision would).
    let executor = Executor::new(&staging.clients, &staging.config);
    let origin = staging_core::audit::Origin::new(staging_core::audit::Source::Operator, "carol", "keep".to_string());
    staging_core::shell::runner::run_with(&executor, &origin, utc("2026-12-06T18:01:00.5Z"), |state, _| {
        let mut next = state.clone();
        next.hold.as_mut().expect("held").keep = true;
        Ok(staging_core::Decision { actions: vec![], next_state: next, summary: "kept".into() })
    })
    .await
    .unwrap();
    let queries = staging.cloudwatch.queries.lock().unwrap().len();
    for i in 0..24 {
        let at = utc("2026-12-06T18:05:00Z") + Duration::minutes(5 * i);
        let out = staging.tick(&at.format("%Y-%m-%dT%H:%M:%S").to_string(), 300 + i as u32).await;
        // Not subject: the tick neither reads the figures nor decides about idleness.
        assert_eq!(out["idle"], Value::Null, "{at}: {out}");
        assert_eq!(told(&staging.env).await, [], "{at}");
    }
    assert_eq!(staging.cloudwatch.queries.lock().unwrap().len(), queries, "no GetMetricData for a --keep hold");
    let state = staging.state().await;
    assert!(state.hold.as_ref().is_some_and(|h| h.keep) && state.wants_running());
    assert_eq!((state.idle.stop_at, state.idle.warned_at), (None, None));
    assert_eq!(staging.desired_count().await, 1);
}

/// A service scaled up by hand while the state wants it down: the tick's reconciler scales
/// it back to zero; the idle stop has nothing to add (and reads no figures).
#[tokio::test]
async fn a_service_scaled_up_by_hand_is_scaled_back_by_the_tick() {
    let _serial = serial();
    let staging = Staging::woken().await;
    let executor = Executor::new(&staging.clients, &staging.config);
    let down = json!({"command": "down", "who": "carol"});
    lifecycle::handle(&executor, down, utc("2026-12-06T18:02:00.5Z")).await.unwrap();
    drain_team_queue(&staging.env).await;
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&staging.env).await);
    ecs.update_service()
        .cluster(&staging.env["STAGING_CLUSTER"])
        .service(&staging.env["STAGING_SERVICE"])
        .desired_count(2)
        .send()
        .await
        .unwrap();
    assert_eq!(staging.desired_count().await, 2);
    let out = staging.tick("2026-12-06T18:05:00", 612).await;
    assert_eq!(out["idle"], Value::Null, "{out}");
    assert_eq!(staging.desired_count().await, 0, "{out}");
    assert!(staging.cloudwatch.queries.lock().unwrap().is_empty());
}

/// CloudWatch unreachable: the tick still succeeds, the team is told once that there are
/// no figures, and staging is never warned of nor stopped without them.
#[tokio::test]
async fn without_figures_the_tick_stands_and_staging_is_never_idle() {
    let _serial = serial();
    let mut staging = Staging::woken().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let sdk = sdk_config(&staging.env).await;
    let unreachable = aws_sdk_cloudwatch::config::Builder::from(&sdk)
        .endpoint_url(format!("http://{addr}"))
        .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    staging.clients.cloudwatch = Lazy::from(aws_sdk_cloudwatch::Client::from_conf(unreachable));
    let mut events = Vec::new();
    for (i, at) in ["18:10", "18:20", "18:30", "18:40", "19:00"].iter().enumerate() {
        let out = staging.tick(&format!("2026-12-06T{at}:00"), 700 + i as u32).await;
        assert!(out["idle"].as_str().unwrap().contains("no use figures (GetMetricData failed"), "{at}: {out}");
        events.extend(told(&staging.env).await.into_iter().map(|(e, _)| e));
    }
    assert_eq!(events, ["env.idle_no_data"]);
    let state = staging.state().await;
    assert_eq!(state.idle.no_data_since, Some(utc("2026-12-06T18:10:00Z")));
    assert!(state.wants_running() && state.hold.is_some());
    assert_eq!(staging.desired_count().await, 1);
}
