//! The examples in docs/*.md are a contract: every one of them is run with the real `qi`.
//!
//! Conventions (docs/语言参考.md follows them; any other docs/*.md may too):
//!
//! - A fenced block opened with ```` ```qi ```` is a program. The next fenced block must be
//!   ```` ```输出 ````: the program's exact stdout (a final newline is normalised away), and
//!   the program must exit with code 0.
//! - ```` ```qi 错误 ```` is a program that must fail: its exit code is not 0, and the first
//!   line of the following ```` ```输出 ```` block equals the first line of its stderr. When
//!   the block has more lines, each must equal the stderr line at the same position (so a
//!   whole diagnostic can be shown and checked).
//! - ```` ```qi 文件 名.qi ```` (or `qi 文件 目录/名.qi`) is a helper module for `导入 ./名`:
//!   it is not run and takes no 输出 block; it is written, at that path relative to the
//!   program, beside the next program, which may import it.
//!
//! Every program is written as `例.qi` in its own temporary directory and run there with
//! `qi run 例.qi`, `NO_COLOR=1`, `QI_SEED=42` and one worker thread. All mismatches are
//! reported together, each with the file and line of the example in the markdown.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A program that runs longer than this is reported as hanging.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What an example expects.
#[derive(Debug)]
enum Expect {
    /// Exit code 0 and exactly this stdout.
    Output(String),
    /// A non-zero exit code and these first stderr lines.
    Failure(Vec<String>),
}

#[derive(Debug)]
struct Example {
    /// The markdown file, relative to the workspace root, for messages.
    doc: String,
    /// 1-based line of the ```` ```qi ```` fence.
    line: usize,
    source: String,
    /// Helper modules written beside the program: (file name, source).
    helpers: Vec<(String, String)>,
    expect: Expect,
}

/// Something wrong with one example or one block: where it is, and what.
struct Problem {
    doc: String,
    line: usize,
    message: String,
}

/// One fenced block: its info string, body and the line of its opening fence.
struct Block {
    info: String,
    body: Vec<String>,
    line: usize,
}

/// Splits markdown into its fenced blocks (``` or longer backtick fences).
fn fenced_blocks(text: &str) -> Result<Vec<Block>, (usize, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        let ticks = trimmed.chars().take_while(|&c| c == '`').count();
        if ticks < 3 {
            continue;
        }
        let info = trimmed[ticks..].trim().to_string();
        let mut body = Vec::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            let t = inner.trim();
            if t.len() >= ticks && t.chars().all(|c| c == '`') {
                closed = true;
                break;
            }
            body.push(inner.to_string());
        }
        if !closed {
            return Err((i + 1, "代码块没有结束".to_string()));
        }
        blocks.push(Block {
            info,
            body,
            line: i + 1,
        });
    }
    Ok(blocks)
}

/// A helper module's path: relative, `/`-separated, no `..` or empty segments, ends in `.qi`,
/// and not the program's own `例.qi`.
fn is_helper_path(name: &str) -> bool {
    name.ends_with(".qi")
        && name != "例.qi"
        && !name.contains('\\')
        && name
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Collects the examples of one markdown file; malformed ones become problems.
fn examples_of(doc: &str, text: &str, problems: &mut Vec<Problem>) -> Vec<Example> {
    let mut problem = |line: usize, message: String| {
        problems.push(Problem {
            doc: doc.to_string(),
            line,
            message,
        })
    };
    let blocks = match fenced_blocks(text) {
        Ok(b) => b,
        Err((line, e)) => {
            problem(line, e);
            return Vec::new();
        }
    };
    let mut examples = Vec::new();
    let mut helpers: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < blocks.len() {
        let block = &blocks[i];
        i += 1;
        let words: Vec<&str> = block.info.split_whitespace().collect();
        if words.first() != Some(&"qi") {
            if words.first() == Some(&"输出") {
                problem(block.line, "「输出」块前面没有 qi 代码块".to_string());
            }
            continue;
        }
        let source = block.body.join("\n") + "\n";
        let failing = match &words[1..] {
            [] => false,
            ["错误"] => true,
            ["文件", name] if is_helper_path(name) => {
                helpers.push((name.to_string(), source));
                continue;
            }
            _ => {
                problem(
                    block.line,
                    format!(
                        "不认识的代码块标记「{}」（可用：qi、qi 错误、qi 文件 名.qi）",
                        block.info
                    ),
                );
                continue;
            }
        };
        let Some(output) = blocks.get(i).filter(|b| b.info == "输出") else {
            problem(
                block.line,
                "qi 代码块后面应当紧跟一个「输出」块".to_string(),
            );
            continue;
        };
        i += 1;
        let expect = if failing {
            if output.body.is_empty() {
                problem(
                    block.line,
                    "「qi 错误」的输出块应当写出标准错误的第一行".to_string(),
                );
                continue;
            }
            Expect::Failure(output.body.clone())
        } else {
            Expect::Output(output.body.join("\n"))
        };
        examples.push(Example {
            doc: doc.to_string(),
            line: block.line,
            source,
            helpers: std::mem::take(&mut helpers),
            expect,
        });
    }
    if !helpers.is_empty() {
        let names: Vec<&str> = helpers.iter().map(|(n, _)| n.as_str()).collect();
        problem(
            text.lines().count(),
            format!("辅助模块 {} 后面没有使用它的程序", names.join("、")),
        );
    }
    examples
}

/// Runs `qi run 例.qi` in `dir`, killing it after [`TIMEOUT`]. Gives (exit code, stdout, stderr).
fn run_qi(dir: &Path) -> Result<(Option<i32>, String, String), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qi"))
        .arg("run")
        .arg("例.qi")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("QI_SEED", "42")
        .env("QI_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("无法运行 qi：{e}"))?;
    // Drain the pipes on their own threads so a chatty program cannot block on a full pipe.
    let mut out_pipe = child.stdout.take().ok_or("没有标准输出")?;
    let mut err_pipe = child.stderr.take().ok_or("没有标准错误")?;
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out_pipe, &mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err_pipe, &mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("运行超过 {} 秒，已终止", TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("等待 qi 时出错：{e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok((
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    ))
}

/// Runs one example in `dir`; gives a description of what went wrong, if anything.
fn check(example: &Example, dir: &Path) -> Option<String> {
    let setup = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("例.qi"), &example.source)?;
        for (name, text) in &example.helpers {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, text)?;
        }
        Ok(())
    };
    if let Err(e) = setup() {
        return Some(format!("无法写入临时文件：{e}"));
    }
    let (code, stdout, stderr) = match run_qi(dir) {
        Ok(r) => r,
        Err(e) => return Some(e),
    };
    let code_text = code.map_or("（被信号终止）".to_string(), |c| c.to_string());
    let mut problems = Vec::new();
    match &example.expect {
        Expect::Output(expected) => {
            let actual = stdout.strip_suffix('\n').unwrap_or(&stdout);
            if actual != expected {
                problems.push(format!(
                    "标准输出不同：\n--- 期望\n{expected}\n--- 实际\n{actual}"
                ));
            }
            if code != Some(0) {
                problems.push(format!("退出码是 {code_text}，期望 0"));
            }
        }
        Expect::Failure(lines) => {
            if code == Some(0) {
                problems.push("退出码是 0，期望非零（这个例子应当出错）".to_string());
            }
            let actual: Vec<&str> = stderr.lines().collect();
            for (k, want) in lines.iter().enumerate() {
                let got = actual.get(k).copied().unwrap_or("（没有这一行）");
                if got != want {
                    problems.push(format!(
                        "标准错误第 {} 行不同：\n--- 期望\n{want}\n--- 实际\n{got}",
                        k + 1
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        None
    } else {
        problems.push(format!("--- 标准错误\n{stderr}"));
        Some(problems.join("\n"))
    }
}

fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "md"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn examples_in_the_docs_print_what_they_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = root.join("docs");
    let reference = docs.join("语言参考.md");
    assert!(reference.is_file(), "找不到 {}", reference.display());

    let mut problems = Vec::new();
    let mut examples = Vec::new();
    for file in markdown_files(&docs) {
        let name = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem {
                    doc: name,
                    line: 0,
                    message: format!("无法读取：{e}"),
                });
                continue;
            }
        };
        let found = examples_of(&name, &text, &mut problems);
        if file == reference && found.is_empty() {
            problems.push(Problem {
                doc: name,
                line: 0,
                message: "一个例子也没有找到".to_string(),
            });
        }
        examples.extend(found);
    }

    let scratch = std::env::temp_dir().join(format!("qi-docs-{}", std::process::id()));
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<Problem>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get().min(8));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(example) = examples.get(k) else {
                        break;
                    };
                    let dir = scratch.join(format!("例{k}"));
                    if let Some(message) = check(example, &dir) {
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(Problem {
                                doc: example.doc.clone(),
                                line: example.line,
                                message,
                            });
                    }
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&scratch);

    problems.extend(failures.into_inner().unwrap_or_else(|e| e.into_inner()));
    problems.sort_by(|a, b| (&a.doc, a.line).cmp(&(&b.doc, b.line)));
    if !problems.is_empty() {
        let report: Vec<String> = problems
            .iter()
            .map(|p| format!("{}:{}：{}", p.doc, p.line, p.message))
            .collect();
        panic!(
            "文档里有 {} 处不符（共 {} 个例子）：\n\n{}",
            problems.len(),
            examples.len(),
            report.join("\n\n")
        );
    }
    eprintln!("文档里的 {} 个例子都符合。", examples.len());
}
