//! The scheduler under load: 10,000 tasks hammering a 互斥锁-guarded counter, an
//! 原子整数, channels and 选择, on 8 workers, 20 times — exact totals, no deadlock, no
//! panic. Each run must finish within the shared timeout.

mod common;

use std::process::Command;

const RUNS: usize = 20;
const EXPECTED: &str = "计数 10000\n原子 真\n收到 10000\n合计 真\n";

#[test]
fn ten_thousand_tasks_on_eight_workers_twenty_times() {
    hammer("8", "auto", RUNS);
}

/// The same on one worker, which runs solo (`vm/src/sched/solo.rs`), 5 times.
#[test]
fn ten_thousand_tasks_on_one_solo_worker() {
    hammer("1", "auto", 5);
}

/// The same with the cycle collector stopping the world at every safepoint that has
/// suspects: it must never free what a task still uses.
#[test]
fn the_same_with_the_cycle_collector_at_every_safepoint() {
    hammer("8", "stress", RUNS);
}

fn hammer(workers: &str, gc: &str, runs: usize) {
    let program = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stress/混合压力.qi");
    run_repeatedly(program, workers, gc, runs, EXPECTED);
}

/// Runs `program` `runs` times on `workers` workers with collector mode `gc`: each run
/// must succeed within the shared timeout and print exactly `expected`.
fn run_repeatedly(program: &str, workers: &str, gc: &str, runs: usize, expected: &str) {
    for run in 0..runs {
        let output = common::run_with_timeout(
            Command::new(env!("CARGO_BIN_EXE_qi"))
                .args(["run", program])
                .env("QI_THREADS", workers)
                .env("QI_GC", gc)
                .env("NO_COLOR", "1"),
        )
        .unwrap_or_else(|e| panic!("{workers} 个线程，第 {run} 次运行：{e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{workers} 个线程，第 {run} 次运行失败：{stderr}"
        );
        assert_eq!(
            stdout, expected,
            "{workers} 个线程，第 {run} 次运行结果不对：{stderr}"
        );
    }
}

/// Wake-ups racing for the same wait (a channel against a timer, a cancellation against a
/// closing channel) and hand-offs between pairs of tasks on every worker: each wait is
/// woken once, by the one whose result it gets. 8 workers, 10 times.
#[test]
fn racing_wake_ups_wake_once_on_eight_workers() {
    racing_wake_ups("8", 10);
}

/// The same on one worker, which runs solo (`vm/src/sched/solo.rs`): its locks and claims
/// are plain loads and stores, and the timers firing against the channels are handed to it
/// by the reactor thread, which must never touch a wait itself. 10 times.
#[test]
fn racing_wake_ups_wake_once_on_one_solo_worker() {
    racing_wake_ups("1", 10);
}

fn racing_wake_ups(workers: &str, runs: usize) {
    let program = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stress/唤醒竞争.qi");
    let expected =
        "发送 2000 接收 2000\n一一对应 真 真\n结束 2000 被取消的不超过一半 真\n乒乓 真\n";
    run_repeatedly(program, workers, "auto", runs, expected);
}

/// A worker running alone goes solo (`vm/src/sched/solo.rs`) and must leave the mode
/// before another wakes: rounds of a ping-pong (one task at a time, so solo), a burst of
/// tasks (the others woken), timers and cancellations switch the mode some two hundred
/// times a run on two workers. Exact totals, 20 runs on two workers and 10 on four.
#[test]
fn solo_mode_switches_back_and_forth_on_two_and_four_workers() {
    let program = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stress/独行切换.qi");
    let expected = "乒乓 真\n锁内 2560 原子 真\n结束 320 被取消的不超过一半 真\n";
    for (workers, runs) in [("2", 20), ("4", 10)] {
        run_repeatedly(program, workers, "auto", runs, expected);
    }
}

/// A program that fails on one worker while the other starts a collection (`QI_GC=stress`
/// collects at every safepoint with suspects) ends with its error: the collector waited
/// for the worker that had seen the end and left, and one run in three hung. 30 runs on
/// two workers.
#[test]
fn a_failure_during_a_collection_ends_the_program() {
    let program = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stress/失败时的回收.qi");
    for run in 0..30 {
        let output = common::run_with_timeout(
            Command::new(env!("CARGO_BIN_EXE_qi"))
                .args(["run", "--线程", "2", program])
                .env("QI_GC", "stress")
                .env("NO_COLOR", "1"),
        )
        .unwrap_or_else(|e| panic!("第 {run} 次运行：{e}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "第 {run} 次运行：{stderr}");
        assert!(stderr.contains("E6007"), "第 {run} 次运行：{stderr}");
    }
}
