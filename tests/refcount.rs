//! Reference counting, measured: a counting allocator tracks live heap bytes, and Qi
//! programs that build and drop many objects must leave them where they started.

#[path = "common/live_bytes.rs"]
mod live_bytes;

use qi_bytecode::source::SourceFile;

/// Live-bytes growth across running `source`. The program runs twice and the second run
/// is measured, so one-time lazy allocations (thread-locals, interned names) do not count.
fn growth_of(source: &str, workers: usize) -> isize {
    let run = || {
        // The standard library, for 等待组 and 原子整数.
        let mut builder = qi_stdlib::builder();
        builder.output(Box::new(std::io::sink()));
        builder.config().workers = workers;
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

/// Tasks on two workers: the closure every task of a loop shares, held in hand by the
/// workers between spawns (`sched/credit.rs`); a closure per iteration; tasks entered at
/// their first turn, and some cancelled before it (`TaskExec::entry_pending`); a task's
/// arguments moved out of the spawner's registers.
const TASKS: &str = "
    函数 加(c: 原子整数, 数: 列表) { c.增加(数.长度()); }
    变量 组 = 等待组();
    变量 数据 = [1, 2, 3];
    变量 计数 = 原子整数(0);
    组.添加(30000);
    可变 i = 0;
    当 i < 30000 {
        启动 { 计数.增加(数据.长度()); 组.完成(); };
        变量 这次 = [i];
        启动 { 计数.增加(这次[0]); };
        启动 加(计数, 数据);
        变量 t = 创建 { 计数.增加(1); };
        t.取消();
        i += 1;
    }
    组.等待();";

const SLACK: isize = 64 * 1024;

/// One test, one thread: the allocation counter is process-wide, so measurements must not
/// overlap with other tests' allocations. The small stack proves that dropping a
/// million-deep chain does not recurse.
#[test]
fn building_and_dropping_objects_leaves_the_heap_where_it_was() {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            [
                ("列表", LISTS, 1),
                ("对象", OBJECTS, 1),
                ("深链", DEEP_CHAIN, 1),
                ("任务", TASKS, 2),
            ]
            .map(|(name, src, workers)| (name, growth_of(src, workers)))
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
