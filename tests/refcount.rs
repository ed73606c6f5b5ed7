//! Reference counting, measured: a counting allocator tracks live heap bytes, and Qi
//! programs that build and drop many objects must leave them where they started.

#[path = "common/live_bytes.rs"]
mod live_bytes;

use qi_bytecode::source::SourceFile;
use qi_vm::vm::VmBuilder;

/// Live-bytes growth across running `source`. The program runs twice and the second run
/// is measured, so one-time lazy allocations (thread-locals, interned names) do not count.
fn growth_of(source: &str) -> isize {
    let run = || {
        let mut builder = VmBuilder::new();
        builder.output(Box::new(std::io::sink()));
        let shared = builder.build().expect("VM");
        let loaded = qi_vm::loader::load_text(
            &shared,
            SourceFile::new("计数.qi", source),
            "计数",
            false,
            false,
        )
        .expect("compiles");
        let before = live_bytes::live();
        let ending = qi_vm::program::run_main(&shared, &loaded.module);
        assert_eq!(ending.exit_code(), 0);
        live_bytes::live() - before
    };
    run();
    run()
}

const LISTS: &str = "
    可变 i = 0;
    当 i < 1000000 {
        变量 l = [i, [i, \"甲\"], {\"键\": i}];
        i += 1;
    }";

const OBJECTS: &str = "
    结构体 点 { x, y }
    枚举 形状 { 圆(浮点数), 无 }
    可变 i = 0;
    当 i < 200000 {
        变量 p = 点 { x: i, y: [i] };
        变量 s = 形状::圆(1.5);
        变量 f = 函数(k) { 返回 p.x + k; };
        变量 r = f(1);
        i += 1;
    }";

const DEEP_CHAIN: &str = "
    可变 链 = [];
    可变 i = 0;
    当 i < 1000000 {
        链 = [链];
        i += 1;
    }";

const SLACK: isize = 64 * 1024;

/// One test, one thread: the allocation counter is process-wide, so measurements must not
/// overlap with other tests' allocations. The small stack proves that dropping a
/// million-deep chain does not recurse.
#[test]
fn building_and_dropping_objects_leaves_the_heap_where_it_was() {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            [("列表", LISTS), ("对象", OBJECTS), ("深链", DEEP_CHAIN)]
                .map(|(name, src)| (name, growth_of(src)))
        })
        .expect("thread");
    let results = handle.join().expect("no stack overflow");
    // Each program allocates in a loop of 200k–1M iterations, so leaking even one small
    // object per iteration would grow the heap by megabytes. A few KiB of slack absorbs
    // process-wide state outside the VM (the signal registry, thread bookkeeping of the
    // scoped worker threads) whose size varies from run to run.
    for (name, growth) in results {
        assert!(growth.abs() < SLACK, "{name}: live bytes grew by {growth}");
    }
}
