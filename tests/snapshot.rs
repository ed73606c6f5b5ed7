//! The task snapshot: `qi run --任务快照` and SIGQUIT print every live task with its state
//! and Qi stack, and the program goes on to finish normally.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

const PROGRAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stress/快照.qi");

fn assert_snapshot(stderr: &str) {
    assert!(stderr.contains("—— 任务快照 ——"), "{stderr}");
    assert!(stderr.contains("任务 #1（等待中）"), "{stderr}");
    assert!(stderr.contains("任务 #2（等待中）"), "{stderr}");
    assert!(stderr.contains("在 等着 ("), "{stderr}");
    assert!(stderr.contains("任务 #2 创建于 ("), "{stderr}");
}

#[test]
fn snapshot_flag_prints_tasks_and_the_program_goes_on() {
    let out = common::run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_qi"))
            .args(["run", "--任务快照=50", PROGRAM])
            .env("NO_COLOR", "1"),
    )
    .expect("runs");
    assert!(out.status.success());
    assert_snapshot(&String::from_utf8_lossy(&out.stderr));
}

#[test]
fn sigquit_prints_a_snapshot_and_the_program_goes_on() {
    let child = Command::new(env!("CARGO_BIN_EXE_qi"))
        .args(["run", PROGRAM])
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    std::thread::sleep(Duration::from_millis(100));
    let killed = Command::new("kill")
        .args(["-QUIT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("finishes");
    assert!(out.status.success(), "{out:?}");
    assert_snapshot(&String::from_utf8_lossy(&out.stderr));
}

/// With two workers, the one running alone goes solo (`vm/src/sched/solo.rs`); the
/// snapshot says how the workers stand and how often one did.
#[test]
fn a_snapshot_shows_the_workers_and_the_solo_mode() {
    let out = common::run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_qi"))
            .args(["run", "--线程", "2", "--任务快照=50", PROGRAM])
            .env("NO_COLOR", "1"),
    )
    .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_snapshot(&stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("（工作线程 2："))
        .unwrap_or_else(|| panic!("no worker line: {stderr}"));
    // The main task ran alone before it started task #2: solo at least once.
    let entries: u64 = line
        .split("已进入 ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count: {line}"));
    assert!(entries >= 1, "{line}");
}

/// A snapshot to a closed stderr is lost; the program goes on and ends normally.
#[test]
fn a_snapshot_to_a_closed_stderr_does_not_stop_the_program() {
    for workers in ["1", "2"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qi"))
            .args(["run", "--线程", workers, "--任务快照=20", PROGRAM])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs");
        // The read end closes: every write to stderr fails.
        drop(child.stderr.take());
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("waits") {
                break status;
            }
            if started.elapsed() > common::TIMEOUT {
                let _ = child.kill();
                panic!(
                    "{workers} 个线程：超过 {} 秒没有结束",
                    common::TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(status.success(), "{workers} 个线程：{status}");
    }
}

/// Tasks that have not finished a turn yet are not in the registry a snapshot lists
/// (`Scheduler::record`): the snapshot counts them on a line of their own.
#[test]
fn a_snapshot_counts_the_tasks_that_have_not_run_yet() {
    let program = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/stress/快照里未运行的任务.qi"
    );
    let out = common::run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_qi"))
            // A snapshot every 20 ms; the main task's first turn runs its whole loop (a
            // budget big enough for it), and the tasks it started have not run when that
            // turn ends. With one worker the worker itself prints, between turns
            // (`sched/solo.rs`): the first snapshot comes as the main task starts waiting.
            .args(["run", "--线程", "1", "--任务快照=20", program])
            .env("QI_BUDGET", "4000000000")
            .env("NO_COLOR", "1"),
    )
    .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Taken once the main task's loop is done, with the five it started queued.
    let first = stderr.split("—— 任务快照 ——").nth(1).expect("a snapshot");
    assert!(first.contains("（可运行 5，"), "{stderr}");
    assert!(first.contains("任务 #1（等待中）"), "{stderr}");
    assert!(
        first.contains("（另有 5 个任务还在第一轮运行或排队中）"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}30000000\n", "任务运行了\n".repeat(5))
    );
}
