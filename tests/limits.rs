//! Programs past the compiler's limits — more arguments, elements or pairs than a
//! function has registers — are refused with E2003 and a location, by `qi check` and by
//! `qi run` alike, never with an internal error or an arithmetic overflow (this test binary
//! is built with overflow checks). Found by fuzzing: a call with 65,536 arguments wrapped
//! its argument count to 0 and reached the bytecode verifier.

mod common;

use std::process::Command;

fn zeros(n: usize) -> String {
    vec!["0"; n].join(",")
}

/// Runs `qi <command>` on `source` and checks that it fails with E2003 and a location.
fn refused(name: &str, source: &str) {
    let dir = std::env::temp_dir().join(format!("qi-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.qi"));
    std::fs::write(&path, source).expect("write");
    for command in ["check", "run"] {
        let out = common::run_with_timeout(
            Command::new(env!("CARGO_BIN_EXE_qi"))
                .arg(command)
                .arg(&path)
                .env("NO_COLOR", "1"),
        )
        .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name} ({command}): {stderr}");
        assert!(
            stderr.contains("错误[E2003]"),
            "{name} ({command}): {stderr}"
        );
        assert!(
            stderr.contains(&format!("{name}.qi:")),
            "{name} ({command}): {stderr}"
        );
        assert!(!stderr.contains("E7000"), "{name} ({command}): {stderr}");
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_call_with_more_arguments_than_registers_is_refused() {
    refused("参数太多", &format!("打印行({});\n", zeros(65_536)));
}

#[test]
fn an_argument_count_that_wraps_does_not_pass_the_arity_check() {
    // 65,537 arguments to a one-parameter function: the count must not wrap to 1.
    refused(
        "参数个数回绕",
        &format!("函数 f(a) {{ 返回 a; }}\nf({});\n", zeros(65_537)),
    );
}

#[test]
fn a_task_with_more_arguments_than_registers_is_refused() {
    refused(
        "任务参数太多",
        &format!("函数 f(a) {{ 返回 a; }}\n启动 f({});\n", zeros(65_536)),
    );
}

#[test]
fn list_and_dict_literals_past_the_registers_are_refused() {
    refused("列表太长", &format!("变量 表 = [{}];\n", zeros(70_000)));
    let pairs: Vec<String> = (0..40_000).map(|i| format!("{i}: 0")).collect();
    refused("字典太大", &format!("变量 典 = {{{}}};\n", pairs.join(",")));
}

/// A struct with 60,000 fields, built with a literal and taken apart by a pattern, runs.
/// (Each field name used to be looked up by a search of the fields before it: a 70,000-
/// field declaration alone took 6.8 s to check in release, and this program would come
/// close to the test's time limit in a debug build if that came back.)
#[test]
fn a_struct_with_sixty_thousand_fields_compiles_in_linear_time() {
    let n = 60_000;
    let fields: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
    let source = format!(
        "结构体 大 {{ {} }}\n\
         函数 做() {{\n\
             变量 v = 大 {{ {} }};\n\
             匹配 v {{ 大 {{ f0, f{last} }} => 打印行(f0, f{last}), }}\n\
         }}\n\
         做();\n",
        fields.join(", "),
        (0..n)
            .map(|i| format!("f{i}: {i}"))
            .collect::<Vec<_>>()
            .join(", "),
        last = n - 1,
    );
    let dir = std::env::temp_dir().join(format!("qi-limits-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("大结构体.qi");
    std::fs::write(&path, source).expect("write");
    let out = common::run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_qi"))
            .arg("run")
            .arg(&path)
            .env("NO_COLOR", "1"),
    )
    .expect("runs in time");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("0 {}\n", n - 1)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
