//! The REPL end to end: the real binary behind a pseudo-terminal, driven the way a person
//! types — a multi-line function, a call, an error and more entries after it, 等待 at the
//! prompt, Ctrl-C abandoning a line, Ctrl-D leaving.

#![cfg(unix)]

use std::process::Command;

use rexpect::session::spawn_command;

const TIMEOUT_MS: u64 = 30_000;

/// rexpect hands the output over one byte per `char`; expected text is compared the same
/// way, so Chinese matches byte for byte.
fn raw(s: &str) -> String {
    s.bytes().map(char::from).collect()
}

#[test]
fn a_session_at_the_terminal() -> Result<(), rexpect::error::Error> {
    let home = std::env::temp_dir().join(format!("qi-repl-pty-{}", std::process::id()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qi"));
    cmd.arg("repl")
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("XDG_DATA_HOME", &home);
    let mut p = spawn_command(cmd, Some(TIMEOUT_MS))?;
    p.exp_string(&raw("交互式解释器"))?;
    p.exp_string(&raw("气> "))?;

    // A function over three lines: the continuation prompt shows while the block is open.
    p.send_line("函数 平方(x) {")?;
    p.exp_string(&raw("……"))?;
    p.send_line("    返回 x * x;")?;
    p.exp_string(&raw("……"))?;
    p.send_line("}")?;
    p.exp_string(&raw("气> "))?;
    p.send_line("平方(12)")?;
    p.exp_string(&raw("144"))?;
    p.exp_string(&raw("气> "))?;

    // An error, with its code, the source line and a caret; then the session goes on.
    p.send_line("平方(2) / 0")?;
    p.exp_string(&raw("错误[E7001]"))?;
    p.exp_string(&raw("^"))?;
    p.exp_string(&raw("气> "))?;
    p.send_line("平方(7) + 1")?;
    p.exp_string(&raw("50"))?;
    p.exp_string(&raw("气> "))?;

    // 等待 at the prompt.
    p.send_line("变量 任务一 = 创建 { 睡眠(10); 返回 \"好了\"; }")?;
    p.exp_string(&raw("气> "))?;
    p.send_line("等待 任务一")?;
    p.exp_string(&raw("\"好了\""))?;
    p.exp_string(&raw("气> "))?;

    // Ctrl-C abandons a half-typed entry, even in a continuation line.
    p.send_line("函数 不要(")?;
    p.exp_string(&raw("……"))?;
    p.send_control('c')?;
    p.exp_string(&raw("气> "))?;
    p.send_line("平方(11)")?;
    p.exp_string(&raw("121"))?;
    p.exp_string(&raw("气> "))?;

    // Ctrl-D leaves with status 0, and the history was written.
    p.send_control('d')?;
    p.exp_eof()?;
    let status = p.process().wait()?;
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    let history = std::fs::read_to_string(home.join("qi").join("历史")).unwrap_or_default();
    assert!(history.contains("平方(12)"), "历史：{history}");
    let _ = std::fs::remove_dir_all(&home);
    Ok(())
}
