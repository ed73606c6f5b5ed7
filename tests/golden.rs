//! The golden-program harness: every `名.qi` under tests/programs/ and examples/ that has a
//! `名.out` (expected stdout) or `名.err` (expected exit code, then lines that must appear
//! in stderr in order, each as a substring) is run with `qi run`, from its own directory.
//! A `.qi` with neither file is a helper module for imports.
//!
//! Each program runs in four ways, and all must give the expected output:
//! - one worker (deterministic scheduling: the expected output is written for this);
//! - one worker with a step budget of 7, so tasks are preempted at many more points: a
//!   program whose output changes depends on preemption points;
//! - one worker with `QI_GC=stress`: the cycle collector runs at every safepoint that has
//!   suspects, so an object it frees while still in use shows up as a wrong result;
//! - four workers. A program whose output order depends on scheduling says so with a
//!   comment line `// 顺序依赖` (skipped here) or `// 排序比较` (stdout compared after
//!   sorting its lines). A line `// 参数：甲 乙` passes 甲 and 乙 to the program (servers in
//!   examples/ take `自测` to act as their own client and exit).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::run_with_timeout;

use libtest_mimic::{Arguments, Failed, Trial};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "qi")
            && (p.with_extension("out").exists() || p.with_extension("err").exists())
        {
            out.push(p);
        }
    }
}

/// How a program is run.
#[derive(Clone, Copy)]
struct Mode {
    threads: &'static str,
    /// `QI_BUDGET`, if not the default.
    budget: Option<&'static str>,
    /// Compare stdout with its lines sorted.
    sorted: bool,
    /// `QI_GC=stress`: the cycle collector runs at every safepoint that has suspects.
    gc_stress: bool,
}

fn sorted_lines(s: &str) -> String {
    let mut lines: Vec<&str> = s.lines().collect();
    lines.sort_unstable();
    lines.join("\n")
}

/// Runs one program and compares what it did with its `.out` and `.err`.
fn check(program: &Path, mode: Mode, args: &[String]) -> Result<(), Failed> {
    let dir = program.parent().ok_or("没有目录")?;
    let name = program.file_name().ok_or("没有文件名")?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qi"));
    cmd.arg("run")
        .arg(name)
        .args(args)
        // Not the harness's own stdin: 读取行() must see the end of input, every run.
        .stdin(Stdio::null())
        .current_dir(dir)
        .env("QI_THREADS", mode.threads)
        .env("NO_COLOR", "1")
        .env("QI_SEED", "42");
    if let Some(b) = mode.budget {
        cmd.env("QI_BUDGET", b);
    }
    if mode.gc_stress {
        cmd.env("QI_GC", "stress");
    }
    let output = run_with_timeout(&mut cmd)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code().unwrap_or(-1);

    let expected_out = std::fs::read_to_string(program.with_extension("out")).unwrap_or_default();
    let mut problems = Vec::new();
    let same = if mode.sorted {
        sorted_lines(&stdout) == sorted_lines(&expected_out)
    } else {
        stdout == expected_out
    };
    if !same {
        problems.push(format!(
            "标准输出不同：\n--- 期望\n{expected_out}\n--- 实际\n{stdout}"
        ));
    }
    match std::fs::read_to_string(program.with_extension("err")) {
        Ok(err) => {
            let mut lines = err.lines();
            let want_code: i32 = lines
                .next()
                .and_then(|l| l.trim().parse().ok())
                .ok_or("`.err` 的第一行应当是退出码")?;
            if code != want_code {
                problems.push(format!("退出码是 {code}，期望 {want_code}"));
            }
            let mut rest = &stderr[..];
            for line in lines.filter(|l| !l.trim().is_empty()) {
                match rest.find(line) {
                    Some(at) => rest = &rest[at + line.len()..],
                    None => problems.push(format!("标准错误里（按顺序）没有：{line}")),
                }
            }
        }
        Err(_) => {
            if code != 0 {
                problems.push(format!("退出码是 {code}，期望 0"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.push(format!("--- 标准错误\n{stderr}"));
        Err(problems.join("\n").into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut programs = Vec::new();
    collect(&root.join("tests/programs"), &mut programs);
    collect(&root.join("examples"), &mut programs);
    let one = Mode {
        threads: "1",
        budget: None,
        sorted: false,
        gc_stress: false,
    };
    let mut trials = Vec::new();
    for p in programs {
        let name = p
            .strip_prefix(root)
            .unwrap_or(&p)
            .to_string_lossy()
            .to_string();
        let source = std::fs::read_to_string(&p).unwrap_or_default();
        let order_dependent = source.lines().any(|l| l.trim() == "// 顺序依赖");
        let sort = source.lines().any(|l| l.trim() == "// 排序比较");
        let args: Vec<String> = source
            .lines()
            .find_map(|l| l.trim().strip_prefix("// 参数："))
            .map(|a| a.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        let small_budget = Mode {
            budget: Some("7"),
            ..one
        };
        let four = Mode {
            threads: "4",
            budget: None,
            sorted: sort,
            gc_stress: false,
        };
        let stress = Mode {
            gc_stress: true,
            ..one
        };
        let (a, b, c, d) = (p.clone(), p.clone(), p.clone(), p);
        let (args_a, args_b, args_c, args_d) = (args.clone(), args.clone(), args.clone(), args);
        trials.push(Trial::test(name.clone(), move || check(&a, one, &args_a)));
        trials.push(Trial::test(format!("{name} [小预算]"), move || {
            check(&b, small_budget, &args_b)
        }));
        trials.push(Trial::test(format!("{name} [回收压力]"), move || {
            check(&d, stress, &args_d)
        }));
        if !order_dependent {
            trials.push(Trial::test(format!("{name} [4线程]"), move || {
                check(&c, four, &args_c)
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
