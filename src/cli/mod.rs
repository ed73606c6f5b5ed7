//! Commands: `qi run`, `qi check`, `qi repl`, and the help texts.

mod help;

use std::io::{IsTerminal, Write};

use qi_bytecode::diagnostic::{Diagnostic, render};

/// The command-line arguments after the program name; `Err` with the exit code, after a
/// message, for one that is not UTF-8 (`std::env::args` would panic on it).
pub fn args() -> Result<Vec<String>, i32> {
    std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string().map_err(|bad| {
                usage_error(
                    &format!(
                        "命令行参数「{}」不是有效的 UTF-8 文本",
                        bad.to_string_lossy()
                    ),
                    help::MAIN,
                )
            })
        })
        .collect()
}

/// Runs the command line and gives the process exit code.
pub fn main(args: Vec<String>) -> i32 {
    let Some((command, rest)) = args.split_first() else {
        return repl(&[]);
    };
    match command.as_str() {
        "run" | "运行" => run(rest),
        "check" | "检查" => check(rest),
        "repl" | "交互" => repl(rest),
        "-h" | "--help" | "help" | "帮助" | "--帮助" => print_out(help::MAIN),
        "-V" | "--version" | "版本" | "--版本" => {
            print_out(&format!("qi {}\n", env!("CARGO_PKG_VERSION")))
        }
        // `qi 程序.qi` runs the file, as `python 程序.py` would.
        path if path.ends_with(".qi") => run(&args),
        other => usage_error(&format!("未知的命令「{other}」"), help::MAIN),
    }
}

fn wants_help(args: &[String]) -> bool {
    args.iter()
        .any(|a| matches!(a.as_str(), "-h" | "--help" | "--帮助"))
}

/// Whether diagnostics on stderr get colour: a terminal, and `NO_COLOR` unset.
fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// At most this many diagnostics are printed for one command: a file of garbage would
/// otherwise bury the first error, the one worth reading, under thousands.
const MAX_SHOWN: usize = 50;

pub fn print_diagnostics(diags: &[Diagnostic]) {
    let color = color();
    let mut err = std::io::stderr().lock();
    for d in diags.iter().take(MAX_SHOWN) {
        let _ = err.write_all(render(d, color).as_bytes());
    }
    if diags.len() > MAX_SHOWN {
        let _ = writeln!(
            err,
            "……另有 {} 条没有显示（只显示前 {MAX_SHOWN} 条）",
            diags.len() - MAX_SHOWN
        );
    }
}

/// Options shared by `run` and `check`: the script path and what follows it.
struct Script<'a> {
    path: &'a str,
    /// Arguments after the script path (参数()).
    args: Vec<String>,
    /// `--字节码` / `--bytecode`
    bytecode: bool,
    /// `--线程 N`
    threads: Option<usize>,
    /// `--任务快照[=毫秒]`
    snapshot: Option<u64>,
    /// `--gc-统计`: print the cycle collector's counters on exit.
    gc_stats: bool,
}

fn parse_script<'a>(args: &'a [String], command: &str) -> Result<Script<'a>, String> {
    let mut path = None;
    let mut rest = Vec::new();
    let mut bytecode = false;
    let mut threads = None;
    let mut snapshot = None;
    let mut gc_stats = false;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if path.is_some() {
            rest.push(a.clone());
        } else if a == "--字节码" || a == "--bytecode" {
            bytecode = true;
        } else if a == "--gc-统计" || a == "--gc-stats" {
            gc_stats = true;
        } else if a == "--线程" || a == "--threads" {
            i += 1;
            let n = args.get(i).and_then(|n| n.parse::<usize>().ok());
            match n {
                Some(n) if (1..=qi_vm::vm::MAX_WORKERS).contains(&n) => threads = Some(n),
                _ => {
                    return Err(format!(
                        "「--线程」后面要跟 1 到 {} 之间的整数",
                        qi_vm::vm::MAX_WORKERS
                    ));
                }
            }
        } else if let Some(rest) = a
            .strip_prefix("--任务快照")
            .or_else(|| a.strip_prefix("--task-snapshot"))
        {
            let ms = match rest.strip_prefix('=') {
                Some(n) => n
                    .parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("「--任务快照=毫秒」要一个正整数")?,
                None if rest.is_empty() => 1000,
                None => return Err(format!("未知的选项「{a}」")),
            };
            snapshot = Some(ms);
        } else if a.starts_with('-') {
            return Err(format!("未知的选项「{a}」"));
        } else {
            path = Some(a.as_str());
        }
        i += 1;
    }
    match path {
        Some(path) => Ok(Script {
            path,
            args: rest,
            bytecode,
            threads,
            snapshot,
            gc_stats,
        }),
        None => Err(format!("缺少要{command}的文件，例如：qi {command} 程序.qi")),
    }
}

/// Writes `text` to stdout: 0, or 1 after a message when stdout cannot take it (a full
/// disk, a closed pipe), where `print!` would panic.
fn print_out(text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "错误：无法写入标准输出：{e}");
            1
        }
    }
}

fn usage_error(message: &str, help: &str) -> i32 {
    // `eprint!` would panic on a closed stderr.
    let _ = write!(std::io::stderr().lock(), "错误：{message}\n\n{help}");
    2
}

fn build_vm(script: &Script<'_>) -> Option<std::sync::Arc<qi_vm::vm::Shared>> {
    let mut builder = qi_stdlib::builder();
    if let Some(n) = script.threads {
        builder.config().workers = n;
    }
    builder.config().snapshot_every = script.snapshot.map(std::time::Duration::from_millis);
    builder.config().args = script.args.clone();
    match builder.build() {
        Ok(vm) => {
            crate::alloc::keep_output_of(&vm);
            Some(vm)
        }
        Err(diags) => {
            print_diagnostics(&diags);
            None
        }
    }
}

fn run(args: &[String]) -> i32 {
    if wants_help(args) {
        return print_out(help::RUN);
    }
    let script = match parse_script(args, "运行") {
        Ok(s) => s,
        Err(e) => return usage_error(&e, help::RUN),
    };
    let Some(vm) = build_vm(&script) else {
        return 1;
    };
    let loaded = match qi_vm::loader::load_main(&vm, script.path) {
        Ok(l) => l,
        Err(diags) => {
            print_diagnostics(&diags);
            return 1;
        }
    };
    print_diagnostics(&loaded.warnings);
    let ending = qi_vm::program::run_main(&vm, &loaded.module);
    vm.flush_out();
    print_diagnostics(&ending.diagnostics);
    if script.gc_stats {
        let _ = std::io::stderr()
            .lock()
            .write_all(vm.gc.report().as_bytes());
    }
    ending.exit_code()
}

fn check(args: &[String]) -> i32 {
    if wants_help(args) {
        return print_out(help::CHECK);
    }
    let script = match parse_script(args, "检查") {
        Ok(s) => s,
        Err(e) => return usage_error(&e, help::CHECK),
    };
    let Some(vm) = build_vm(&script) else {
        return 1;
    };
    // Compiled and linked with everything it imports, as `run` would, but not run: an
    // error in an imported file, or an import that is missing, is an error here too.
    match qi_vm::loader::load_main(&vm, script.path) {
        Ok(loaded) => {
            print_diagnostics(&loaded.warnings);
            if script.bytecode
                && let Some(proto) = &loaded.module.proto
            {
                return print_out(&qi_bytecode::disasm::module(proto));
            }
            0
        }
        Err(diags) => {
            print_diagnostics(&diags);
            1
        }
    }
}

fn repl(args: &[String]) -> i32 {
    if wants_help(args) {
        return print_out(help::REPL);
    }
    if let Some(unknown) = args.first() {
        return usage_error(&format!("未知的选项「{unknown}」"), help::REPL);
    }
    let shared = match qi_stdlib::builder().build() {
        Ok(vm) => vm,
        Err(diags) => {
            print_diagnostics(&diags);
            return 1;
        }
    };
    qi_repl::run(shared)
}
