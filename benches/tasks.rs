//! Tasks, coroutine switches and channel operations, measured through the Rust API of the
//! crates.
//!
//! `cargo bench --bench tasks` (add `-- --quick` for a fast pass).
//!
//! As in `benches/vm.rs`: one VM for the whole run with the standard library, a silent
//! output and here one worker thread (`workers = 1`, so scheduling is deterministic and
//! nothing is measured twice over two threads); every sample compiles a fresh copy of the
//! benchmark's program in the untimed setup of `iter_batched` and times only `run_main`,
//! which starts a scheduler (its worker and reactor threads) for the run. Each program keeps
//! its work inside a function and prints a value computed from it. The throughput of each
//! benchmark is its number of operations (tasks started, round trips, values through the
//! channel), so criterion also reports the time per operation; that includes the fixed cost
//! of one `run_main`, which the `空程序` benchmark measures by itself.
//!
//! Whole-process comparisons with Go, Lua, Python and Node are in `benches/tasks/run.sh`.

mod common;

use std::time::Duration;

use common::{load, run, vm};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qi_vm::vm::Shared;

/// A benchmark: its name, the number of operations one run does, and the Qi program.
struct Bench {
    name: &'static str,
    ops: u64,
    src: &'static str,
}

/// Starting tasks.
const SPAWN: &[Bench] = &[
    Bench {
        name: "空程序",
        ops: 1,
        src: r#"
打印行(0);
"#,
    },
    Bench {
        name: "启动 1e4 任务+等待组",
        ops: 10_000,
        src: r#"
函数 跑(): 整数 {
    变量 n = 10_000;
    变量 计数 = 原子整数(0);
    变量 组 = 等待组();
    组.添加(n);
    对于 i 在 0..n {
        启动 { 计数.增加(1); 组.完成(); };
    }
    组.等待();
    返回 计数.获取();
}
打印行(跑());
"#,
    },
    Bench {
        name: "创建+等待 1e4 次",
        ops: 10_000,
        src: r#"
函数 跑(): 整数 {
    可变 和 = 0;
    对于 i 在 0..10_000 {
        变量 t = 创建 { i * 2 };
        和 += 等待 t;
    }
    返回 和;
}
打印行(跑());
"#,
    },
];

/// Switching: a coroutine's resume/suspend round trip, two tasks handing over to each
/// other through unbuffered channels, two tasks yielding to the scheduler.
const SWITCH: &[Bench] = &[
    Bench {
        name: "协程 恢复/挂起 往返 1e5",
        ops: 100_000,
        src: r#"
函数 跑(): 整数 {
    变量 c = 协程 {
        可变 x = 0;
        循环 { x = 挂起 x + 1; }
    };
    可变 v = 0;
    对于 i 在 0..100_000 { v = c.恢复(v); }
    返回 v;
}
打印行(跑());
"#,
    },
    Bench {
        name: "通道乒乓 往返 1e4",
        ops: 10_000,
        src: r#"
函数 跑(): 整数 {
    变量 n = 10_000;
    变量 乒 = 通道();
    变量 乓 = 通道();
    启动 {
        对于 i 在 0..n {
            变量 v = <-乒;
            乓 <- v + 1;
        }
    };
    可变 和 = 0;
    对于 i 在 0..n {
        乒 <- i;
        和 += <-乓;
    }
    返回 和;
}
打印行(跑());
"#,
    },
    Bench {
        name: "两个任务 挂起 让出 2×2e4",
        ops: 40_000,
        src: r#"
函数 跑(): 整数 {
    变量 计数 = 原子整数(0);
    变量 组 = 等待组();
    组.添加(2);
    对于 k 在 0..2 {
        启动 {
            对于 i 在 0..20_000 { 计数.增加(1); 挂起; }
            组.完成();
        };
    }
    组.等待();
    返回 计数.获取();
}
打印行(跑());
"#,
    },
];

/// Channel operations.
const CHANNEL: &[Bench] = &[
    Bench {
        name: "容量 128 生产者到消费者 1e5",
        ops: 100_000,
        src: r#"
函数 跑(): 整数 {
    变量 ch = 通道(128);
    启动 {
        对于 i 在 0..100_000 { ch <- i; }
        ch.关闭();
    };
    可变 和 = 0;
    对于 v 在 ch { 和 += v; }
    返回 和;
}
打印行(跑());
"#,
    },
    Bench {
        name: "同一任务 发送+接收 不等待 1e5",
        ops: 100_000,
        src: r#"
函数 跑(): 整数 {
    变量 ch = 通道(1);
    可变 和 = 0;
    对于 i 在 0..100_000 {
        ch <- i;
        和 += <-ch;
    }
    返回 和;
}
打印行(跑());
"#,
    },
    Bench {
        name: "选择 两个通道一个就绪 1e5",
        ops: 100_000,
        src: r#"
函数 跑(): 整数 {
    变量 a = 通道(1);
    变量 b = 通道(1);
    可变 和 = 0;
    对于 i 在 0..100_000 {
        a <- i;
        选择 {
            情况 v = <-a: 和 += v;
            情况 v = <-b: 和 -= v;
        }
    }
    返回 和;
}
打印行(跑());
"#,
    },
];

fn bench_group(c: &mut Criterion, shared: &Shared, group_name: &str, benches: &[Bench]) {
    let mut group = c.benchmark_group(group_name);
    for bench in benches {
        // Fail early and clearly if a program does not compile or run.
        run(shared, &load(shared, bench.src), bench.name);
        group.throughput(Throughput::Elements(bench.ops));
        group.bench_function(bench.name, |b| {
            b.iter_batched(
                || load(shared, bench.src),
                |loaded| {
                    run(shared, &loaded, bench.name);
                    loaded
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn bench_tasks(c: &mut Criterion) {
    let shared = vm(Some(1));
    bench_group(c, &shared, "启动", SPAWN);
    bench_group(c, &shared, "切换", SWITCH);
    bench_group(c, &shared, "通道", CHANNEL);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_tasks
}
criterion_main!(benches);
