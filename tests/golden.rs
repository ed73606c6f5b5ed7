//! The golden-program harness: every `名.qi` under tests/programs/ and examples/ that has a
//! `名.out` (expected stdout) or `名.err` (expected exit code, then lines that must appear
//! in stderr in order, each as a substring) is run with `qi run`, from its own directory,
//! with one worker thread. A `.qi` with neither file is a helper module for imports.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// Runs one program and compares what it did with its `.out` and `.err`.
fn check(program: &Path) -> Result<(), Failed> {
    let dir = program.parent().ok_or("没有目录")?;
    let name = program.file_name().ok_or("没有文件名")?;
    let output = run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_qi"))
            .arg("run")
            .arg(name)
            .current_dir(dir)
            .env("QI_THREADS", "1")
            .env("NO_COLOR", "1")
            .env("QI_SEED", "42"),
    )?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code().unwrap_or(-1);

    let expected_out = std::fs::read_to_string(program.with_extension("out")).unwrap_or_default();
    let mut problems = Vec::new();
    if stdout != expected_out {
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
    let trials = programs
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .to_string();
            Trial::test(name, move || check(&p))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
