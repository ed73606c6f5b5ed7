//! The lexer and parser never panic and never hang, whatever bytes they are given.
//!
//! Every `.qi` file under tests/programs/ and examples/, plus a built-in corpus covering the
//! whole grammar, is mutated thousands of times by a deterministic xorshift generator (no
//! `rand` dependency): byte deletions, insertions of random bytes and of interesting tokens,
//! swaps, truncations and duplications. Each input goes through `SourceFile::from_bytes` and
//! `parse`, and every diagnostic is rendered. A panic is caught per case and reported with
//! the input that caused it; a batch that runs longer than `BATCH_TIMEOUT` fails the test.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bumpalo::Bump;
use qi_bytecode::diagnostic::render;
use qi_bytecode::parser::parse;
use qi_bytecode::source::SourceFile;

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

/// About how many mutated inputs to check in all, shared among the corpus files (at least
/// `MIN_PER_FILE` each, so a large corpus costs more but still tests every file).
const TARGET_TOTAL: usize = 200_000;
const MIN_PER_FILE: usize = 200;
/// A batch (one corpus file's mutations) that takes longer than this is a hang.
const BATCH_TIMEOUT: Duration = Duration::from_secs(20);

/// Tokens worth inserting: openers without closers, unterminated strings and comments,
/// keywords that start constructs, operators the parser treats specially.
const INTERESTING: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "“",
    "”",
    "'",
    "/*",
    "*/",
    "//",
    "如果",
    "否则",
    "匹配",
    "<-",
    "..=",
    "..",
    "::",
    "=>",
    ";",
    "；",
    ",",
    "，",
    "：",
    "（",
    "）",
    "｛",
    "｝",
    "【",
    "】",
    "。",
    "函数",
    "变量",
    "可变",
    "返回",
    "挂起",
    "创建",
    "启动",
    "协程",
    "选择",
    "情况",
    "默认",
    "尝试",
    "捕获",
    "最终",
    "导入",
    "包",
    "<",
    ">",
    ">=",
    "-",
    "!",
    "9223372036854775808",
    "-9223372036854775808",
    "_",
    "点 {",
    "形状::圆(",
    "\\u{D800}",
    "\u{3000}",
    "\r\n",
    "\u{FEFF}",
    "结构体",
    "枚举",
    "方法",
    "对于",
    "在",
    "从",
    "到",
    "当",
    "循环",
    "等待",
    "恢复",
    "取地址",
    "解引用",
    "公开",
    "异步",
    "@",
    "&",
    "|",
    "0x",
    "1e",
    "2年",
    "否则如果",
];

/// Valid programs covering the grammar, so the test means something even before anyone
/// has written programs under tests/programs/.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "声明.qi",
        r#"包 主程序;
导入 ./工具;
导入 ../共享/日志 作为 日志;
导入 数学;
导入 宿主.数据库;

公开 变量 名字 = "张三";
可变 计数: 整数 = 0;
可变 未定;
变量 d: 字典<字符串, 列表<整数>>= {};

公开 函数 加法(a: 整数, b: 整数): 整数 { 返回 a + b; }
函数 泛型<T>(x: T) -> 列表<T> { [x] }
异步 函数 取(地址) { 等待 连接到(地址) }

结构体 点 { x: 浮点数, y: 浮点数 }
公开 结构体 对<T> { 左: T, 右, }
枚举 形状 { 圆(浮点数), 矩形(浮点数, 浮点数), 无 }
枚举 选项<T> { 有(T), 无 }

方法 点 {
    函数 长度(): 浮点数 { 返回 (自己.x * 自己.x + 自己.y * 自己.y).平方根(); }
    公开 函数 原点(): 点 { 点 { x: 0.0, y: 0.0 } }
    异步 函数 慢() { 睡眠(10); }
}

方法 形状 {
    函数 面积() {
        匹配 自己 {
            形状::圆(r) => 数学.圆周率 * r * r,
            形状::矩形(w, h) => w * h,
            形状::无 => 0.0,
        }
    }
}
"#,
    ),
    (
        "控制.qi",
        r#"函数 入口() {
    可变 总和 = 0;
    对于 i 从 1 到 10 { 总和 += i; }
    对于 x 在 [1, 2, 3] { 如果 x == 2 { 继续; } 总和 -= x; }
    对于 i 在 0..10 { }
    当 总和 > 0 && !完成 { 总和 /= 2; }
    循环 { 如果 总和 < 100 { 跳出; } 否则 如果 总和 == 5 { 总和 *= 2; } 否则 { 总和 %= 7; } }
    变量 分级 = 匹配 总和 {
        0 => "零",
        1 | 2 => "小",
        3..=9 => { "中" }
        -5..=-1 => "负",
        n 如果 n > 100 => "大",
        _ => "其他",
    };
    尝试 {
        抛出 错误("E7001", "坏了");
    } 捕获 (e) {
        打印行(e.消息);
    } 最终 {
        打印行("完");
    }
    尝试 { 打印行(1); } 捕获 e { }
    尝试 { } 最终 { }
    变量 结果 = 如果 总和 > 0 { 1 } 否则 { -1 };
    变量 m = -9223372036854775808;
    // 注释
    /* 块注释 */
    打印行（“全角”）；
    列表。添加(4)；
    变量 l = 【1，2】;
    如果 a ！= b { }
    变量 圆 = 形状：：圆(1.5);
    结果
}
"#,
    ),
    (
        "并发.qi",
        r#"变量 ch = 通道<整数>(10);
ch <- 42;
变量 v = <-ch;
变量 任务 = 创建 计算(1, 2);
启动 { 打印行("后台"); };
(创建 f(x)).取消();
变量 未 = 未来<整数>::就绪(1);
变量 生成器 = 协程 {
    挂起 1;
    挂起 a + b;
    变量 收到 = 挂起;
    返回 收到;
};
变量 c = 协程 f(1, 2);
打印行(恢复 c, c.恢复(5), c.状态());
变量 结果 = 等待 任务 + 等待 创建 g();
选择 {
    情况 v = <-ch1:   打印行("收到", v);
    情况 w := <-ch1:  打印行(w);
    情况 <-ch2:       打印行("ch2 有数据");
    情况 ch3 <- 7:    打印行("已发送");
    情况 超时(100):   打印行("超时");
    默认:             打印行("都没就绪");
}
变量 r = 取地址 计数;
解引用 r = 5;
解引用 r += 1;
变量 加一 = 函数(x) { 返回 x + 1; };
变量 异 = 异步 函数() { 1 };
变量 列 = [1, 2, 3].映射(函数(x: 整数): 整数 { x * 2 }).过滤(函数(x) { x > 2 });
变量 字 = {"甲": 1, "乙": [点 { x: 1.0, y }], };
变量 p = 模块.点 { x: 1, y: 2 };
如果 (p == 点 { x: 1, y: 2 }) { }
组.等待();
"#,
    ),
];

/// FNV-1a, to seed each file's generator from its name.
fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One to four random edits of `base`.
fn mutate(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(8) {
            0 if !bytes.is_empty() => {
                let len = 1 + rng.below(8);
                let end = (at + len).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            1 => bytes.insert(at, rng.next() as u8),
            2 | 3 => {
                let token = INTERESTING[rng.below(INTERESTING.len())];
                bytes.splice(at..at, token.bytes());
            }
            4 if bytes.len() > 1 => {
                let other = rng.below(bytes.len());
                let at = at.min(bytes.len() - 1);
                bytes.swap(at, other);
            }
            5 => bytes.truncate(at),
            6 if !bytes.is_empty() => {
                let start = at.min(bytes.len() - 1);
                let end = (start + 1 + rng.below(64)).min(bytes.len());
                let piece = bytes[start..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, piece);
            }
            _ => {
                // Replace a character-sized run with an interesting token.
                let token = INTERESTING[rng.below(INTERESTING.len())];
                let end = (at + 1 + rng.below(3)).min(bytes.len());
                bytes.splice(at.min(end)..end, token.bytes());
            }
        }
    }
    bytes
}

/// Lexes, parses and renders one input; panics propagate to the caller's `catch_unwind`.
fn check_one(name: &str, bytes: Vec<u8>) {
    let file = match SourceFile::from_bytes(name, bytes) {
        Ok(file) => file,
        Err(diag) => {
            let _ = render(&diag, false);
            return;
        }
    };
    let arena = Bump::new();
    let parsed = parse(&arena, &file);
    for diag in &parsed.diagnostics {
        let text = render(diag, false);
        assert!(
            text.starts_with("错误[") || text.starts_with("警告["),
            "{text}"
        );
        if let Some((_, span)) = &diag.location {
            assert!(span.start <= span.end && span.end as usize <= file.text.len());
        }
    }
}

/// Every `.qi` file under `dir`, recursively.
fn qi_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            qi_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "qi") {
            out.push(path);
        }
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    qi_files(&root.join("tests/programs"), &mut paths);
    qi_files(&root.join("examples"), &mut paths);
    paths.sort();
    let mut corpus: Vec<(String, Vec<u8>)> = BUILT_IN
        .iter()
        .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()))
        .collect();
    for path in paths {
        if let Ok(bytes) = std::fs::read(&path) {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            corpus.push((name, bytes));
        }
    }
    corpus
}

/// A failing case: which file, which mutation, what went wrong, and the input.
struct Failure {
    name: String,
    case: usize,
    message: String,
    input: Vec<u8>,
}

/// Parses the original and `mutations` mutants of one file; returns the count of inputs
/// checked and the first failure.
fn run_batch(name: String, base: Vec<u8>, mutations: usize) -> (usize, Option<Failure>) {
    let mut rng = Rng::new(seed_of(&name));
    for case in 0..=mutations {
        let input = if case == 0 {
            base.clone()
        } else {
            mutate(&base, &mut rng)
        };
        let copy = input.clone();
        let result = catch_unwind(AssertUnwindSafe(|| check_one(&name, copy)));
        if let Err(payload) = result {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return (
                case + 1,
                Some(Failure {
                    name,
                    case,
                    message,
                    input,
                }),
            );
        }
    }
    (mutations + 1, None)
}

#[test]
fn mutated_programs_never_panic_or_hang() {
    let corpus = corpus();
    let per_file = (TARGET_TOTAL / corpus.len().max(1)).max(MIN_PER_FILE);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    let mut queue = corpus.into_iter();
    let mut running = 0;
    let mut total = 0;
    let mut failures = Vec::new();
    // Keep `workers` batches in flight; each runs on its own thread (2 MiB stack, the
    // default) so that a hang or a stack overflow in one is seen as such.
    loop {
        while running < workers {
            let Some((name, bytes)) = queue.next() else {
                break;
            };
            let tx = tx.clone();
            let label = name.clone();
            std::thread::Builder::new()
                .name(format!("变异 {label}"))
                .spawn(move || {
                    let outcome = run_batch(name, bytes, per_file);
                    let _ = tx.send(outcome);
                })
                .expect("线程");
            running += 1;
        }
        if running == 0 {
            break;
        }
        match rx.recv_timeout(BATCH_TIMEOUT) {
            Ok((count, failure)) => {
                running -= 1;
                total += count;
                failures.extend(failure);
            }
            Err(_) => panic!("一批变异输入超过 {BATCH_TIMEOUT:?} 仍未完成：解析器可能陷入死循环"),
        }
    }
    if let Some(f) = failures.first() {
        let dump = std::env::temp_dir().join("qi-robustness-failure.qi");
        let _ = std::fs::write(&dump, &f.input);
        panic!(
            "{} 的第 {} 个变异使解析器崩溃：{}\n输入已写入 {}\n{}",
            f.name,
            f.case,
            f.message,
            dump.display(),
            String::from_utf8_lossy(&f.input)
        );
    }
    assert!(total >= 10_000, "只检查了 {total} 个输入");
    eprintln!("检查了 {total} 个输入，用时 {:?}", started.elapsed());
}
