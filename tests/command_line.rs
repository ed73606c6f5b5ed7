//! The command line itself never panics: arguments that are not UTF-8, a stdout that
//! cannot be written, a worker count past the most the VM runs. (Each of these was a Rust
//! panic, exit code 101, found by running the binary on mutated input.)

use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Output, Stdio};

const QI: &str = env!("CARGO_BIN_EXE_qi");

fn hello() -> String {
    format!("{}/examples/你好世界.qi", env!("CARGO_MANIFEST_DIR"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The command ended with exit code `code` and `text` in its stderr, without a panic.
fn ended_with(out: &Output, code: i32, text: &str) {
    no_panic(out);
    assert_eq!(out.status.code(), Some(code), "{}", stderr(out));
    assert!(stderr(out).contains(text), "{}", stderr(out));
}

fn no_panic(out: &Output) {
    let err = stderr(out);
    assert_ne!(out.status.code(), Some(101), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A program argument or script path that is not UTF-8 is a usage error (exit 2).
#[test]
fn an_argument_that_is_not_utf8_is_an_error() {
    let bad = std::ffi::OsStr::from_bytes(b"\xff");
    for args in [vec![hello().into(), bad.to_owned()], vec![bad.to_owned()]] {
        let out = Command::new(QI)
            .arg("run")
            .args(&args)
            .output()
            .expect("runs");
        ended_with(&out, 2, "不是有效的 UTF-8 文本");
    }
}

/// Help and version text to a full disk: exit 1 and a message on stderr.
#[test]
fn help_to_a_full_stdout_is_an_error() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["run", "--帮助"],
        &["check", "--帮助"],
    ] {
        let full = File::create("/dev/full").expect("/dev/full");
        let out = Command::new(QI)
            .args(args)
            .stdout(Stdio::from(full))
            .output()
            .expect("runs");
        ended_with(&out, 1, "无法写入标准输出");
    }
}

/// The REPL's banner and replies to a full disk are dropped; it reads its input to the end.
#[test]
fn the_repl_with_a_full_stdout_goes_on() {
    let input = File::open(hello()).expect("program");
    let full = File::create("/dev/full").expect("/dev/full");
    let out = Command::new(QI)
        .arg("repl")
        .stdin(Stdio::from(input))
        .stdout(Stdio::from(full))
        .output()
        .expect("runs");
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `--线程` past 1024 is a usage error; `QI_THREADS` past it is taken as 1024.
#[test]
fn a_worker_count_past_the_most_is_refused_or_capped() {
    let out = Command::new(QI)
        .args(["run", "--线程", "18446744073709551615", &hello()])
        .output()
        .expect("runs");
    ended_with(&out, 2, "1 到 1024");
    let out = Command::new(QI)
        .args(["run", &hello()])
        .env("QI_THREADS", "18446744073709551615")
        .output()
        .expect("runs");
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `qi check` compiles what the program imports too, as `qi run` would before running: a
/// missing import, or an error in an imported file, is reported (it was passed over).
#[test]
fn check_reports_errors_in_imported_files() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("check_imports-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("建临时目录");
    let files = [
        ("主.qi", "导入 ./甲;\n打印行(甲.值);\n"),
        ("甲.qi", "导入 ./不存在的模块;\n公开 变量 值 = 1;\n"),
        ("主2.qi", "导入 ./乙;\n打印行(乙.值);\n"),
        ("乙.qi", "公开 变量 值 = 未定义的名字;\n"),
        ("好.qi", "导入 ./丙;\n打印行(丙.值);\n"),
        ("丙.qi", "公开 变量 值 = 1;\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("写文件");
    }
    for (main, code) in [("主.qi", "E4001"), ("主2.qi", "E3002")] {
        let out = Command::new(QI)
            .args(["check", main])
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
            .expect("runs");
        ended_with(&out, 1, code);
    }
    let out = Command::new(QI)
        .args(["check", "好.qi"])
        .current_dir(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "check runs nothing");
    let _ = std::fs::remove_dir_all(&dir);
}
