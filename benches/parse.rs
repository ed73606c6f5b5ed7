//! Lexing and parsing speed on a generated, realistic 100,000-line Qi program.
//!
//! Goal: at least 1,000,000 lines per second in a release build (`cargo bench --bench parse`).
//! The program mixes what real code has: functions, structs and methods, enums and 匹配,
//! loops, strings with escapes, closures, comments, full-width punctuation and Chinese
//! identifiers. Throughput is reported in lines.

use std::fmt::Write;
use std::hint::black_box;

use bumpalo::Bump;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qi_bytecode::parser::parse;
use qi_bytecode::source::SourceFile;

/// How many lines the generated program has (at least).
const LINES: usize = 100_000;

/// One module-sized unit of code, about 60 lines; `n` makes its names unique.
fn unit(out: &mut String, n: usize) {
    let _ = write!(
        out,
        r#"// 第 {n} 单元：几何、统计与并发
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
    打印行("总和：\t{{}}，等级：\"{{}}\"", 总和, 等级);
    返回 {{"总和": 总和, "最大": 最大, "计数": 计数}};
}}

异步 函数 任务{n}(ch: 通道<整数>, 次数: 整数) {{
    对于 i 在 0..次数 {{ ch <- i * {n}; }}
    ch.关闭();
}}

函数 主流程{n}() {{
    变量 ch = 通道<整数>(16);
    变量 t = 创建 任务{n}(ch, 8);
    变量 平方 = [1, 2, 3, 4].映射(函数(x) {{ x * x }}).过滤(函数(x: 整数): 布尔 {{ x % 2 == 0 }});
    尝试 {{
        对于 v 在 ch {{ 打印行（“收到”， v）； }}
        等待 t;
    }} 捕获 (e) {{
        打印行("出错：" + e.消息);
    }} 最终 {{
        打印行('完成');
    }}
    选择 {{
        情况 v = <-ch: 打印行(v);
        情况 超时(100): 打印行("超时");
        默认: 打印行("无");
    }}
    返回 平方.长度() + 面积{n}(形状{n}::圆(1.5)).向下取整();
}}

"#
    );
}

/// The whole program and its line count.
fn program() -> (String, usize) {
    let mut text = String::new();
    let mut lines = 0;
    let mut n = 0;
    while lines < LINES {
        let before = text.len();
        unit(&mut text, n);
        lines += text[before..].lines().count();
        n += 1;
    }
    (text, lines)
}

fn bench_parse(c: &mut Criterion) {
    let (text, lines) = program();
    let file = SourceFile::new("基准.qi", text);
    {
        // The benchmark is only meaningful if the program is valid.
        let arena = Bump::new();
        let parsed = parse(&arena, &file);
        assert!(
            parsed.diagnostics.is_empty(),
            "生成的程序有错误：{}",
            parsed.diagnostics[0]
        );
    }
    let mut group = c.benchmark_group("解析");
    group.throughput(Throughput::Elements(lines as u64));
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(10));
    group.bench_function(format!("词法+语法 {lines} 行"), |b| {
        b.iter(|| {
            let arena = Bump::new();
            let parsed = parse(&arena, black_box(&file));
            black_box(parsed.program.stmts.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
