//! The webhook's checks, routing and decisions take anything the internet sends:
//! arbitrary and mutated real deliveries (headers, bodies, signatures) never panic, and
//! a refusal is always a 4xx/5xx with a message. Mutated bodies are mostly re-signed, so
//! they get past the signature into the JSON parsing, the routing, and `decide_push` /
//! `decide_deploy_finished` against a fresh, a busy and a locked state (about one case
//! in twenty reaches a decision).
//!
//! CI runs the default number of cases; `PROPTEST_CASES=100000 cargo test -p
//! staging-core --test webhook_properties --release` runs the long version.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use sha2::Sha256;
use staging_core::decide::webhook::{
    PushInput, Route, changed_files, check_request, decide_deploy_finished, decide_push, route,
};
use staging_core::model::observed::Observed;
use staging_core::{Config, DeploymentPlan, EnvironmentState, Filters};

const SECRET: &str = "property-secret";

/// GitHub's own payloads, as the samples keep them.
const BODIES: &[&str] = &[
    include_str!("../../events/github/ping.json"),
    include_str!("../../events/github/push.backend.json"),
    include_str!("../../events/github/push.docs-only.json"),
    include_str!("../../events/github/push.frontend.json"),
    include_str!("../../events/github/push.new-branch.json"),
    include_str!("../../events/github/workflow_run.deploy-succeeded.json"),
];

const EVENTS: &[&str] = &["push", "ping", "workflow_run", "issues", "", "PUSH", "push\0"];

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A real body, mutated: bytes flipped, cut short, spliced with arbitrary bytes, or a
/// JSON value replaced by another type.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let real = (0..BODIES.len()).prop_map(|i| BODIES[i].as_bytes().to_vec());
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        2 => real.clone(),
        2 => (real.clone(), prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)).prop_map(|(mut b, flips)| {
            for (at, byte) in flips {
                let i = at.index(b.len());
                b[i] = byte;
            }
            b
        }),
        1 => (real.clone(), any::<prop::sample::Index>()).prop_map(|(b, at)| b[..at.index(b.len() + 1)].to_vec()),
        1 => (real.clone(), any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(mut b, at, bytes)| {
            let i = at.index(b.len() + 1);
            b.splice(i..i, bytes);
            b
        }),
        4 => (real, any::<prop::sample::Index>(), prop_oneof![
            Just("null"), Just("[]"), Just("{}"), Just("-1"), Just("1e999"), Just("\"\u{0}\""), Just("true"),
            Just("\"refs/heads/\""), Just("18446744073709551616"), Just("\"9999-99-99T99:99:99Z\"")
        ])
            .prop_map(|(b, at, value)| {
                // Replace the value after one `":` with another type.
                let text = String::from_utf8_lossy(&b).into_owned();
                let colons: Vec<usize> = text.match_indices("\": ").map(|(i, _)| i + 3).collect();
                if colons.is_empty() {
                    return b;
                }
                let start = colons[at.index(colons.len())];
                let end = text[start..].find([',', '\n', '}']).map_or(text.len(), |e| start + e);
                format!("{}{value}{}", &text[..start], &text[end..]).into_bytes()
            }),
    ]
}

fn header_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(String::new())),
        ".{0,80}".prop_map(Some),
        "sha256=[0-9a-fA-F]{0,70}".prop_map(Some),
        "(application/json|text/plain|application/x-www-form-urlencoded)(; charset=[a-z0-9-]{0,10})?".prop_map(Some),
    ]
}

fn now() -> DateTime<Utc> {
    "2026-11-27T19:30:00.5Z".parse().unwrap()
}

/// A fresh environment, one with a run in flight and more waiting, one locked.
fn states() -> Vec<(EnvironmentState, Observed)> {
    let up = Observed::counts(1, 1);
    let down = Observed::counts(0, 0);
    let mut busy = EnvironmentState { version: 3, ..EnvironmentState::new("staging") };
    busy.queue_deployment("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", DeploymentPlan::FULL, now());
    busy.dispatch_pending(now(), chrono::Duration::minutes(30));
    busy.queue_deployment("1111111", DeploymentPlan::FULL, now());
    let mut locked = EnvironmentState::new("staging");
    locked.lock_budget(now(), "over");
    vec![(EnvironmentState::new("staging"), down.clone()), (busy, up), (locked, down)]
}

proptest! {
    #[test]
    fn no_delivery_makes_the_checks_the_routing_or_the_decisions_panic(
        method in prop_oneof![8 => Just("POST".to_string()), 1 => Just("post".to_string()), 1 => "[A-Z]{0,8}"],
        body in body(),
        resign in prop::bool::weighted(0.8),
        event in prop_oneof![
            5 => Just(Some("push".to_string())),
            2 => Just(Some("workflow_run".to_string())),
            2 => (0..EVENTS.len()).prop_map(|i| Some(EVENTS[i].to_string())),
            1 => header_value(),
        ],
        delivery in prop_oneof![8 => Just(Some("d".to_string())), 2 => header_value()],
        signature in header_value(),
        content_type in prop_oneof![8 => Just(Some("application/json".to_string())), 2 => header_value()],
    ) {
        let config = Config::from_lookup(|n| match n {
            "GITHUB_WEBHOOK_SECRET" => Some(SECRET.to_string()),
            "GITHUB_REPOSITORY" => Some("acme/app".to_string()),
            "GITHUB_TOKEN" => Some("ghp_property".to_string()),
            _ => None,
        }).unwrap();
        let signature = if resign { Some(sign(&body)) } else { signature };
            let header = |name: &str| -> Option<&str> {
            match name {
                "x-github-event" => event.as_deref(),
                "x-github-delivery" => delivery.as_deref(),
                "x-hub-signature-256" => signature.as_deref(),
                "content-type" => content_type.as_deref(),
                _ => None,
            }
        };
        match check_request(&method, header, &body, &config.github.webhook_secrets) {
            Err(rejection) => {
                prop_assert!((400..=599).contains(&rejection.status));
                prop_assert!(!rejection.message.is_empty());
                prop_assert!(!rejection.message.contains(SECRET));
            }
            Ok(checked) => match route(&checked.event, &body, &config.github) {
                Err(rejection) => prop_assert!([400, 403].contains(&rejection.status), "{rejection:?}"),
                // What the handler does next, minus AWS: no panic either, whatever the state.
                Ok(Route::Push(push)) => {
                    let files = changed_files(&push, None);
                    let filters = Filters::builtin();
                    let matches = filters.classify(files.files.iter().map(String::as_str));
                    let input = PushInput { push: &push, files: &files, matches: &matches };
                    for (state, observed) in states() {
                        let _ = decide_push(&state, observed, &input, now(), &config);
                    }
                }
                Ok(Route::DeployFinished(run)) => {
                    for (state, observed) in states() {
                        let _ = decide_deploy_finished(&state, observed, &run, now(), &config);
                    }
                }
                Ok(_) => {}
            },
        }
    }
}
