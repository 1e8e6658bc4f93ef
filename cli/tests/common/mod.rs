//! Runs the `stagingctl` binary as a process, with only the given environment.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout as JSON, after checking the run succeeded.
    pub fn json(&self) -> serde_json::Value {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// Runs the binary with `args`, only `env` set (nothing inherited but a moved clock), and
/// `stdin` piped in.
pub fn run<K, V>(args: &[&str], env: impl IntoIterator<Item = (K, V)>, stdin: &str) -> Run
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut child = Command::new(env!("CARGO_BIN_EXE_stagingctl"))
        .args(args)
        .env_clear()
        // The test's own clock: a clock moved by libfaketime (scripts/test-clock-shift)
        // reaches the binary too, so the two agree on what "now" is.
        .envs(std::env::vars_os().filter(|(k, _)| {
            k == "LD_PRELOAD"
                || k.to_string_lossy().starts_with("FAKETIME")
                || k == "DONT_FAKE_MONOTONIC"
                || k == "NO_FAKE_STAT"
        }))
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}
