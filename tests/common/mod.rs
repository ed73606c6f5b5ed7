//! Helpers shared by the integration tests that run the `qi` binary.

// Each test crate that includes this module uses part of it.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// No golden program may run longer than this (a hang is a failure, not a stuck CI).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs a command to completion, killing it after [`TIMEOUT`].
pub fn run_with_timeout(cmd: &mut Command) -> Result<Output, String> {
    run_within(cmd, TIMEOUT)?.ok_or_else(|| format!("超过 {} 秒没有结束", TIMEOUT.as_secs()))
}

/// Runs a command to completion; `None` if it was still running after `limit`, and was
/// killed.
pub fn run_within(cmd: &mut Command, limit: Duration) -> Result<Option<Output>, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("无法运行 qi：{e}"))?;
    let mut out = child.stdout.take().ok_or("没有标准输出")?;
    let mut err = child.stderr.take().ok_or("没有标准错误")?;
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ok(Some(Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }))
}
