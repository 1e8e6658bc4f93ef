//! Local AWS for tests: moto in server mode, started (or reused) once per test process
//! through `scripts/local-aws`, the same script developers use. Tests share one server,
//! so they take [`serial`] and start from a [`reset`] stack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sqs::config::Credentials;
use staging_core::Config;
use staging_core::shell::Clients;

/// Tests use their own port, so a developer's server on 5055 is left alone.
pub const MOTO_PORT: &str = "5155";

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time against the shared server.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the repo").to_path_buf()
}

/// The variables `scripts/local-aws` exports, after clearing and bootstrapping the stack
/// (installing and starting moto first if needed).
pub fn reset() -> BTreeMap<String, String> {
    let out = Command::new(repo_root().join("scripts/local-aws"))
        .arg("reset")
        .env("MOTO_PORT", MOTO_PORT)
        .output()
        .expect("scripts/local-aws runs");
    assert!(
        out.status.success(),
        "scripts/local-aws reset failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("exports are UTF-8")
        .lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

/// The configuration the functions would read from these variables.
pub fn config(env: &BTreeMap<String, String>) -> Config {
    Config::from_lookup(|name| env.get(name).cloned()).expect("the exported configuration is valid")
}

/// The SDK configuration pointing at the local server.
pub async fn sdk_config(env: &BTreeMap<String, String>) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&env["AWS_ENDPOINT_URL"])
        .region(Region::new(env["AWS_REGION"].clone()))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "local-aws"))
        .load()
        .await
}

pub async fn clients(env: &BTreeMap<String, String>) -> Clients {
    Clients::new(&sdk_config(env).await)
}

/// Every message waiting in the team queue (the SNS envelope of each, parsed), removed.
pub async fn drain_team_queue(env: &BTreeMap<String, String>) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(env).await);
    let url = &env["STAGING_TEAM_QUEUE_URL"];
    let mut messages = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("sqs:ReceiveMessage");
        if out.messages().is_empty() {
            return messages;
        }
        for m in out.messages() {
            messages.push(serde_json::from_str(m.body().unwrap_or_default()).expect("an SNS envelope"));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("sqs:DeleteMessage");
        }
    }
}
