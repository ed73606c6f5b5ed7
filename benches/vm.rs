//! The bytecode interpreter's hot paths, measured through the Rust API of the crates.
//!
//! `cargo bench --bench vm` (add `-- --quick` for a fast pass).
//!
//! One VM is built for the whole run with the standard library and a silent output. A
//! module's top level runs only once, so every sample compiles a fresh copy of the
//! benchmark's program in the untimed setup of `iter_batched` and times only
//! `run_main` (top level, then 入口). Each program keeps its work inside functions, so a
//! run leaves nothing large behind in the module's globals (the VM keeps every module it
//! loaded alive). Each program does well over a millisecond of work.
//!
//! The last group isolates compile time: lexing, parsing and compiling (with
//! verification) a generated 1,000-line program, without running it.

mod common;

use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;

use common::{load, run, vm};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qi_bytecode::source::SourceFile;
use qi_vm::loader::compile_source;

/// (benchmark name, Qi program). Every program computes a value from its work and prints
/// it, so nothing it does is dead.
const PROGRAMS: &[(&str, &str)] = &[
    (
        "整数运算循环 1e6",
        r#"
函数 跑(): 整数 {
    可变 i = 0;
    可变 和 = 0;
    当 i < 1_000_000 {
        和 = 和 + i * 3 % 7 - 1;
        i += 1;
    }
    返回 和;
}
打印行(跑());
"#,
    ),
    (
        "函数调用 fib(20)",
        r#"
函数 fib(n: 整数): 整数 {
    如果 n < 2 {
        返回 n;
    }
    返回 fib(n - 1) + fib(n - 2);
}
打印行(fib(20));
"#,
    ),
    (
        "结构体方法调用 2e5",
        r#"
结构体 计数器 { 值: 整数, 步长: 整数 }
方法 计数器 {
    函数 前进(n: 整数) {
        自己.值 = 自己.值 + n * 自己.步长;
    }
    函数 读数(): 整数 { 自己.值 }
}
函数 跑(): 整数 {
    变量 c = 计数器 { 值: 0, 步长: 2 };
    可变 i = 0;
    当 i < 200_000 {
        c.前进(i);
        i += 1;
    }
    返回 c.读数();
}
打印行(跑());
"#,
    ),
    (
        "列表 添加+下标 2e5",
        r#"
函数 跑(): 整数 {
    变量 a = [];
    可变 i = 0;
    当 i < 200_000 {
        a.添加(i);
        i += 1;
    }
    可变 和 = 0;
    i = 0;
    当 i < 200_000 {
        和 += a[i];
        a[i] = 0;
        i += 1;
    }
    返回 和 + a.长度();
}
打印行(跑());
"#,
    ),
    (
        "字典 插入+查找 1e5",
        r#"
函数 跑(): 整数 {
    变量 d = {};
    可变 i = 0;
    当 i < 100_000 {
        d[i] = i * 2;
        i += 1;
    }
    可变 和 = 0;
    i = 0;
    当 i < 100_000 {
        和 += d[i];
        i += 1;
    }
    返回 和 + d.长度();
}
打印行(跑());
"#,
    ),
    (
        "字符串拼接 2e5",
        r#"
函数 跑(): 整数 {
    可变 s = "";
    可变 i = 0;
    当 i < 200_000 {
        s = s + "气";
        i += 1;
    }
    可变 t = 0;
    i = 0;
    当 i < 20_000 {
        t += ("第" + i + "行").长度();
        i += 1;
    }
    返回 s.长度() + t;
}
打印行(跑());
"#,
    ),
    (
        "闭包调用 2e5",
        r#"
函数 做累加器(步长: 整数) {
    可变 总数 = 0;
    返回 函数(x) {
        总数 += x * 步长;
        返回 总数;
    };
}
函数 跑(): 整数 {
    变量 加 = 做累加器(3);
    变量 平方 = 函数(x) { x * x };
    可变 结果 = 0;
    可变 i = 0;
    当 i < 200_000 {
        结果 = 加(平方(i % 100));
        i += 1;
    }
    返回 结果;
}
打印行(跑());
"#,
    ),
    (
        "枚举匹配 2e5",
        r#"
枚举 形状 { 圆(整数), 矩形(整数, 整数), 三角(整数, 整数, 整数), 无 }
函数 面积(s): 整数 {
    匹配 s {
        形状::圆(r) => 3 * r * r,
        形状::矩形(w, h) => w * h,
        形状::三角(a, b, c) 如果 a == b => a * c,
        形状::三角(_, b, c) => b * c / 2,
        形状::无 => 0,
    }
}
函数 跑(): 整数 {
    变量 形状们 = [形状::圆(2), 形状::矩形(3, 4), 形状::三角(5, 5, 6), 形状::三角(1, 7, 8), 形状::无];
    可变 和 = 0;
    可变 i = 0;
    当 i < 200_000 {
        和 += 面积(形状们[i % 5]);
        i += 1;
    }
    返回 和;
}
打印行(跑());
"#,
    ),
];

fn bench_run(c: &mut Criterion) {
    let shared = vm(None);
    let mut group = c.benchmark_group("运行");
    for (name, src) in PROGRAMS {
        // Fail early and clearly if a program does not compile or run.
        run(&shared, &load(&shared, src), name);
        group.bench_function(*name, |b| {
            b.iter_batched(
                || load(&shared, src),
                |loaded| {
                    run(&shared, &loaded, name);
                    loaded
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// One block of about 70 lines of ordinary code; `n` makes its names unique.
fn unit(out: &mut String, n: usize) {
    let _ = write!(
        out,
        r#"// 第 {n} 单元：几何与统计
结构体 点{n} {{ x: 浮点数, y: 浮点数 }}
枚举 形状{n} {{ 圆(浮点数), 矩形(浮点数, 浮点数), 无 }}

方法 点{n} {{
    函数 长度(): 浮点数 {{ 返回 (自己.x * 自己.x + 自己.y * 自己.y).平方根(); }}
    公开 函数 平移(dx: 浮点数, dy: 浮点数): 点{n} {{
        点{n} {{ x: 自己.x + dx, y: 自己.y + dy }}
    }}
}}

/* 计算面积：
   每种形状一个分支 */
函数 面积{n}(s: 形状{n}): 浮点数 {{
    匹配 s {{
        形状{n}::圆(r) => 3.14159 * r * r,
        形状{n}::矩形(w, h) => w * h,
        形状{n}::无 => 0.0,
    }}
}}

公开 函数 统计{n}(数据: 列表<整数>): 字典<字符串, 整数> {{
    可变 总和 = 0;
    可变 最大 = -9223372036854775808;
    对于 x 在 数据 {{
        总和 += x;
        如果 x > 最大 {{ 最大 = x; }} 否则 如果 x == 0 {{ 继续; }}
    }}
    对于 i 从 1 到 10 {{ 总和 = 总和 + i * 2 - 1; }}
    可变 计数 = 0;
    当 计数 < 100 && 总和 != 0 {{ 计数 += 1; }}
    变量 等级 = 匹配 总和 {{
        0 => "零",
        1 | 2 | 3 => "小",
        4..=99 => "中",
        _ => "大",
    }};
    打印行(格式化("总和：\t{{}}，等级：\"{{}}\"", 总和, 等级));
    返回 {{"总和": 总和, "最大": 最大, "计数": 计数}};
}}

函数 主流程{n}(): 整数 {{
    变量 平方 = [1, 2, 3, 4].映射(函数(x) {{ x * x }}).过滤(函数(x: 整数): 布尔 {{ x % 2 == 0 }});
    可变 累计 = 0;
    变量 加 = 函数(k) {{ 累计 += k; }};
    尝试 {{
        对于 v 在 平方 {{ 加(v); }}
        如果 累计 > 1000 {{ 抛出 错误("E7000", "太大"); }}
    }} 捕获 (e) {{
        打印行("出错：" + e.消息);
    }} 最终 {{
        打印行('完成');
    }}
    变量 p = 点{n} {{ x: 3.0, y: 4.0 }}.平移(1.0, -1.0);
    变量 名单 = ["甲", "乙", "丙"];
    变量 表 = {{}};
    对于 i 在 0..名单.长度() {{
        表[名单[i]] = i;
    }}
    返回 平方.长度() + 面积{n}(形状{n}::圆(1.5)).向下取整() + p.长度().向下取整() + 表["乙"];
}}

"#
    );
}

/// A generated program of at least `lines` lines, and its exact line count.
fn program(lines: usize) -> (String, usize) {
    let mut text = String::new();
    let mut count = 0;
    let mut n = 0;
    while count < lines {
        let before = text.len();
        unit(&mut text, n);
        count += text[before..].lines().count();
        n += 1;
    }
    (text, count)
}

fn bench_compile(c: &mut Criterion) {
    let shared = vm(None);
    let (text, lines) = program(1_000);
    let file = SourceFile::new("编译.qi", text);
    // The benchmark is only meaningful if the program is valid.
    if let Err(diags) = compile_source(&shared, &file, "bench", false, false) {
        panic!("生成的程序有错误：{}", diags[0]);
    }
    let mut group = c.benchmark_group("编译");
    group.throughput(Throughput::Elements(lines as u64));
    group.bench_function(format!("词法+语法+编译 {lines} 行"), |b| {
        b.iter(|| {
            let compiled = compile_source(&shared, black_box(&file), "bench", false, false);
            black_box(compiled.map(|(module, _)| module.decls.len()).unwrap_or(0))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_run, bench_compile
}
criterion_main!(benches);
