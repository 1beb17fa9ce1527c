//! Running the `rapport` binary as an operator would.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

pub struct Outcome {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `rapport --database-url URL ARGS...` with `stdin` piped in.
pub fn rapport(url: &str, args: &[&str], stdin: &str) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("RAPPORT_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the rapport binary starts");
    child.stdin.take().expect("stdin is piped").write_all(stdin.as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("the rapport binary finishes");
    Outcome {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[track_caller]
pub fn refused(outcome: Outcome, mentions: &str) {
    assert!(!outcome.ok, "expected a refusal mentioning {mentions:?}; stdout: {}", outcome.stdout);
    assert!(outcome.stderr.contains(mentions), "the refusal should mention {mentions:?}: {}", outcome.stderr);
}

/// Panics with the command's stderr unless it succeeded.
#[track_caller]
pub fn succeeded(outcome: Outcome) -> Outcome {
    assert!(outcome.ok, "the command failed: {}", outcome.stderr);
    outcome
}
