//! Cycles, measured: each cycle shape of ordinary Qi code, made and dropped a million
//! times, must leave the live heap where it started. A counting allocator tracks live
//! bytes; without the cycle collector each shape leaks hundreds of megabytes here.

#[path = "common/live_bytes.rs"]
mod live_bytes;

use qi_bytecode::source::SourceFile;

const ROUNDS: usize = 1_000_000;

/// Live-bytes growth across running `source` with `rounds` rounds, and the collector's
/// counters.
fn run(source: &str, rounds: usize) -> (isize, qi_vm::gc::GcStats) {
    let mut builder = qi_stdlib::builder();
    builder.output(Box::new(std::io::sink()));
    builder.config().workers = 2;
    builder.config().gc = qi_vm::gc::GcMode::Auto;
    let shared = builder.build().expect("VM");
    let src = source.replace("ROUNDS", &rounds.to_string());
    let loaded =
        qi_vm::loader::load_text(&shared, SourceFile::new("环.qi", src), "环", false, false)
            .expect("compiles");
    let before = live_bytes::live();
    let ending = qi_vm::program::run_main(&shared, &loaded.module);
    assert_eq!(ending.exit_code(), 0);
    // Garbage made since the last automatic collection is still waiting for the next:
    // collect it, as a long-running program eventually would.
    shared.gc.collect_alone();
    (live_bytes::live() - before, shared.gc.stats())
}

/// Slack for process-wide state outside the VM (see refcount.rs). A leak of one object
/// per round would be tens of megabytes.
const SLACK: isize = 256 * 1024;

const SHAPES: [(&str, &str); 5] = [
    (
        "递归闭包",
        "函数 造() { 变量 f = 函数(n) { 如果 n <= 0 { 返回 0; } 返回 f(n - 1); }; 返回 f(1); }
         可变 i = 0; 当 i < ROUNDS { 造(); i += 1; }",
    ),
    (
        "回调",
        "结构体 按钮 { 回调 }
         函数 造() { 可变 b = 按钮 { 回调: 空 }; b.回调 = 函数() { 返回 b; }; }
         可变 i = 0; 当 i < ROUNDS { 造(); i += 1; }",
    ),
    (
        "自环列表",
        "函数 造() { 变量 l = [1]; l.添加(l); }
         可变 i = 0; 当 i < ROUNDS { 造(); i += 1; }",
    ),
    (
        "协程",
        "函数 造() { 可变 co = 空; co = 协程 { 挂起 co; }; co.恢复(); }
         可变 i = 0; 当 i < ROUNDS { 造(); i += 1; }",
    ),
    (
        "任务",
        "函数 造() { 变量 ch = 通道(1); 变量 t = 创建 { 返回 <-ch; }; ch <- t; 等待 t; }
         可变 i = 0; 当 i < ROUNDS { 造(); i += 1; }",
    ),
];

/// One test, one thread: the allocation counter is process-wide.
#[test]
fn every_cycle_shape_made_a_million_times_leaves_the_heap_where_it_was() {
    let handle = std::thread::spawn(|| {
        SHAPES.map(|(name, src)| {
            // A short run first, so one-time allocations (interned names) do not count.
            run(src, 1000);
            (name, run(src, ROUNDS))
        })
    });
    let results = handle.join().expect("没有崩溃");
    for (name, (growth, stats)) in results {
        assert!(
            growth.abs() < SLACK,
            "{name}：活着的字节增加了 {growth}（{stats:?}）"
        );
        assert!(stats.freed as usize >= ROUNDS, "{name}：只回收了 {stats:?}");
    }
}
