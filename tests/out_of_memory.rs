//! A program that uses up the memory the operating system gives it ends with E9002 in
//! Chinese and exit code 1, with what it printed before still printed — not with Rust's
//! English "memory allocation failed" and a backtrace (src/alloc.rs).

mod common;

use std::process::Command;

#[test]
fn running_out_of_memory_is_e9002_in_chinese() {
    let dir = std::env::temp_dir().join(format!("qi-oom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("内存用尽.qi");
    // Doubles a string until no allocation can hold it.
    let source = "打印行(\"开始\");\n可变 l = [];\n可变 s = \"x\";\n循环 {\n    s = s + s;\n    l.添加(s);\n}\n";
    std::fs::write(&path, source).expect("write");
    // 400 MB of address space: the VM starts in a few, and the doubling string reaches the
    // limit within a second.
    let out = common::run_with_timeout(
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 400000 && exec \"$0\" run \"$1\"")
            .arg(env!("CARGO_BIN_EXE_qi"))
            .arg(&path)
            .env("NO_COLOR", "1"),
    )
    .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("错误[E9002]：内存超限：操作系统无法再分配 "),
        "{stderr}"
    );
    assert!(stderr.trim_end().ends_with("字节的内存"), "{stderr}");
    assert!(!stderr.contains("memory allocation"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "开始\n");
    let _ = std::fs::remove_dir_all(&dir);
}
