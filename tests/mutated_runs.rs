//! Whole programs, mutated, never crash the compiler or the VM.
//!
//! `robustness.rs` feeds mutated bytes to the lexer and parser in-process. This test goes
//! further down the pipeline: the golden programs are mutated a token at a time (so most
//! mutants still parse, and many still compile and run), and each mutant is run by the
//! `qi` binary with one, two or four workers. Whatever a mutant does, the process must end
//! the way a user's program may end — normally, with a Chinese error that carries a code,
//! or by `退出(n)` — and never with a Rust panic (exit code 101) or a signal.
//!
//! A mutant may loop for ever or sleep for a very long time (a loop bound or a duration
//! replaced by `9223372036854775807`): that is the program, not a hang of the VM, so it is
//! killed after `LIMIT` and counted, not failed. The programs under 文件, 网络 and 进程
//! reach outside the VM (files, sockets, child processes) and are left out; mutants run in
//! a scratch directory (one per thread of the test), removed at the end.
//!
//! Deterministic: each case comes from a seed of its own number, so a failure names a case
//! that fails again. `QI_MUTANTS=40000 cargo test --test mutated_runs -- --nocapture` runs
//! more of them (that many ran clean, in about five minutes, when the test was written; so
//! did about 150,000 coarser mutants run by hand through the release binary before), and
//! `QI_MUTANTS_FROM=40000` starts at that case, for a long run past the ones run already.

mod common;
#[path = "common/rng.rs"]
mod rng;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use rng::Rng;

const QI: &str = env!("CARGO_BIN_EXE_qi");

/// How many mutants in all, unless `QI_MUTANTS` says (for a longer run by hand).
const CASES: usize = 1500;
/// A mutant still running after this is taken to loop or sleep by itself, and killed. (A
/// run of 40,000 mutants had 0.5% of them killed, the rest ending by themselves.)
const LIMIT: Duration = Duration::from_secs(1);

/// Directories of golden programs that reach outside the VM.
const LEFT_OUT: &[&str] = &["文件", "网络", "进程"];

fn cases() -> std::ops::Range<usize> {
    let number = |name: &str| std::env::var(name).ok().and_then(|n| n.parse().ok());
    let first = number("QI_MUTANTS_FROM").unwrap_or(0);
    first..first.saturating_add(number("QI_MUTANTS").unwrap_or(CASES))
}

/// Tokens worth putting in a program: the integer limits, values of every kind, and
/// keywords that change control flow or start a task.
const EDGE: &[&str] = &[
    "0",
    "-1",
    "1",
    "9223372036854775807",
    "-9223372036854775808",
    "1.0e308",
    "0.0",
    "空",
    "真",
    "假",
    "\"\"",
    "[]",
    "{}",
    "自身",
    "挂起",
    "等待",
    "启动",
    "返回",
    "抛出",
    "中断",
    "继续",
    "通道()",
    "协程 { 挂起 1; }",
];

/// Splits source text into tokens, roughly as the lexer would: runs of white space, line
/// comments, string literals, numbers, words (identifiers and keywords, Chinese or not),
/// and single characters for the rest. Concatenated, the tokens give back the text.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        i += 1;
        let taken = |i: &mut usize, keep: &dyn Fn(char) -> bool| {
            while *i < chars.len() && keep(chars[*i]) {
                *i += 1;
            }
        };
        if c.is_whitespace() {
            taken(&mut i, &|c| c.is_whitespace());
        } else if c == '/' && chars.get(i) == Some(&'/') {
            taken(&mut i, &|c| c != '\n');
        } else if c == '"' {
            while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
        } else if c.is_ascii_digit() {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
            {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            taken(&mut i, &|c| c.is_alphanumeric() || c == '_');
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

/// What kind of token a token is, for replacing it with one of its kind.
fn kind(token: &str) -> u8 {
    match token.chars().next() {
        Some(c) if c.is_ascii_digit() || c == '-' && token.len() > 1 => 0,
        Some('"') => 1,
        Some(c) if c.is_alphanumeric() || c == '_' => 2,
        _ => 3,
    }
}

/// One or two token edits of `base`. Most replace a token with another of its kind, from
/// the program itself or from `EDGE` — a number with a limit, a name with another name or
/// a keyword — so that most mutants still compile and the VM runs them; the rest delete,
/// insert or swap tokens.
fn mutate(base: &[String], rng: &mut Rng) -> String {
    let mut toks = base.to_vec();
    let words: Vec<&str> = base
        .iter()
        .map(String::as_str)
        .chain(EDGE.iter().copied())
        .filter(|t| !t.trim().is_empty() && !t.starts_with("//"))
        .collect();
    for _ in 0..1 + rng.below(2) {
        let spots: Vec<usize> = (0..toks.len())
            .filter(|&i| !toks[i].trim().is_empty() && !toks[i].starts_with("//"))
            .collect();
        // Literals half the time: a program with another number or string in it still
        // compiles, and then runs into the limits of what it computes.
        let literals: Vec<usize> = spots
            .iter()
            .copied()
            .filter(|&i| kind(&toks[i]) < 2)
            .collect();
        let spots = if !literals.is_empty() && rng.below(2) == 0 {
            literals
        } else {
            spots
        };
        if spots.is_empty() {
            break;
        }
        let at = spots[rng.below(spots.len())];
        match rng.below(8) {
            0..=4 => {
                let same: Vec<&str> = words
                    .iter()
                    .copied()
                    .filter(|w| kind(w) == kind(&toks[at]))
                    .collect();
                if !same.is_empty() {
                    toks[at] = same[rng.below(same.len())].to_string();
                }
            }
            5 => {
                toks.remove(at);
            }
            6 => {
                let t = words[rng.below(words.len())];
                toks.insert(at, format!("{t} "));
            }
            _ => {
                let other = spots[rng.below(spots.len())];
                toks.swap(at, other);
            }
        }
    }
    toks.concat()
}

/// Every `.qi` file under `dir`, recursively, but for the directories left out.
fn programs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !LEFT_OUT.iter().any(|d| name == *d) {
                programs(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "qi") {
            out.push(path);
        }
    }
}

/// How a mutant's run ended, when that is not allowed.
fn wrong_ending(code: Option<i32>, stderr: &str) -> Option<String> {
    match code {
        None => Some("被信号终止".to_string()),
        Some(101) => Some("退出码 101（Rust panic）".to_string()),
        _ if stderr.contains("panicked") => Some("标准错误里有 panic".to_string()),
        // A compile error or an uncaught error: a diagnostic with its code.
        Some(1) if !stderr.is_empty() && !stderr.contains("错误[") => {
            Some("退出码 1，但标准错误里没有带编号的错误".to_string())
        }
        _ => None,
    }
}

/// What the cases of one thread came to.
#[derive(Default)]
struct Tally {
    /// Ran to the end (exit code 0, or `退出(n)`).
    finished: usize,
    /// Ran, and ended with an uncaught error (its trace names a frame).
    failed_running: usize,
    /// Did not compile.
    rejected: usize,
    /// Killed after `LIMIT`.
    timed_out: usize,
    failures: Vec<String>,
}

/// Runs the cases `first, first + step, …`.
fn run_cases(
    corpus: &[Vec<String>],
    cases: std::ops::Range<usize>,
    step: usize,
    dir: &Path,
) -> Tally {
    let mut tally = Tally::default();
    let failures = &mut tally.failures;
    for case in cases.step_by(step) {
        let mut rng =
            Rng::new(0x9E37_79B9_7F4A_7C15 ^ (case as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let base = &corpus[rng.below(corpus.len())];
        let program = mutate(base, &mut rng);
        let workers = [1, 1, 2, 4][rng.below(4)];
        let path = dir.join("变异.qi");
        if let Err(e) = std::fs::write(&path, &program) {
            failures.push(format!("第 {case} 例：写不了程序：{e}"));
            continue;
        }
        let mut cmd = Command::new(QI);
        cmd.args(["run", "--线程", &workers.to_string()])
            .arg(&path)
            .current_dir(dir)
            .stdin(Stdio::null())
            .env_remove("QI_THREADS");
        match common::run_within(&mut cmd, LIMIT) {
            Ok(Some(out)) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                if let Some(why) = wrong_ending(out.status.code(), &stderr) {
                    failures.push(format!(
                        "第 {case} 例（{workers} 个工作线程）：{why}\n--- 程序 ---\n{program}\n--- 标准错误 ---\n{stderr}"
                    ));
                } else if out.status.code() != Some(1) {
                    tally.finished += 1;
                } else if stderr.contains("\n  在 ") {
                    tally.failed_running += 1;
                } else {
                    tally.rejected += 1;
                }
            }
            Ok(None) => tally.timed_out += 1,
            Err(e) => failures.push(format!("第 {case} 例：{e}")),
        }
    }
    tally
}

#[test]
fn mutated_programs_end_as_user_programs_do() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    programs(&root.join("tests/programs"), &mut paths);
    paths.sort();
    let corpus: Vec<Vec<String>> = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|text| tokens(&text))
        .collect();
    assert!(corpus.len() > 100, "只找到 {} 个程序", corpus.len());

    let scratch = std::env::temp_dir().join(format!("qi-mutated-{}", std::process::id()));
    let cases = cases();
    let total = cases.len();
    let threads = 2;
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let dir = scratch.join(t.to_string());
                let corpus = &corpus;
                s.spawn(move || {
                    std::fs::create_dir_all(&dir).expect("临时目录");
                    run_cases(corpus, cases.start + t..cases.end, threads, &dir)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("线程"))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&scratch);

    let sum = |f: fn(&Tally) -> usize| tallies.iter().map(f).sum::<usize>();
    let (finished, failed_running) = (sum(|t| t.finished), sum(|t| t.failed_running));
    let (rejected, timed_out) = (sum(|t| t.rejected), sum(|t| t.timed_out));
    let failures: Vec<&String> = tallies.iter().flat_map(|t| &t.failures).collect();
    eprintln!(
        "{total} 个变异程序：{finished} 个运行完，{failed_running} 个运行时出错，\
         {rejected} 个没通过编译，{timed_out} 个超过 {LIMIT:?} 被终止，{} 个失败",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures[0]);
    // Nearly all mutants end by themselves; many more hanging would be the VM's doing.
    assert!(timed_out * 20 < total, "{timed_out} 个变异程序没有结束");
    // And enough of them get past the compiler for this to test the VM.
    assert!(
        (finished + failed_running) * 10 > total,
        "只有 {} 个变异程序运行了",
        finished + failed_running
    );
}

/// What counts as a crash, and what is a user program's ending.
#[test]
fn crashes_are_told_from_endings() {
    assert!(wrong_ending(None, "").is_some());
    assert!(wrong_ending(Some(101), "").is_some());
    assert!(wrong_ending(Some(1), "thread 'main' panicked at src/x.rs").is_some());
    assert!(wrong_ending(Some(1), "something went wrong").is_some());
    assert!(wrong_ending(Some(1), "错误[E7001]：除以零").is_none());
    assert!(wrong_ending(Some(0), "").is_none());
    assert!(wrong_ending(Some(3), "").is_none());
    assert!(wrong_ending(Some(2), "错误[E6006]：死锁").is_none());
}

/// The tokens of a text give back the text.
#[test]
fn tokens_give_back_the_text() {
    let text = "变量 x = 1.5e3; // 注释\n打印行(\"a\\\"b\", 0..n, x);\n";
    let toks = tokens(text);
    assert_eq!(toks.concat(), text);
    assert!(toks.contains(&"1.5e3".to_string()));
    assert!(toks.contains(&"\"a\\\"b\"".to_string()));
    assert!(toks.contains(&"0".to_string()) && toks.contains(&"n".to_string()));
}
