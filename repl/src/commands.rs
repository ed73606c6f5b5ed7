//! The REPL's own commands: a line that starts with `:` (or the full-width `：`).

use crate::session::{Reply, Session};

pub const HELP: &str = "\
命令：
  :帮助（:help）        显示这段说明
  :退出（:quit）        离开（也可以按 Ctrl-D）
  :清空（:clear）       忘掉之前定义的所有名字，重新开始（已启动的任务继续运行）
  :类型 表达式          显示表达式的值的类型
  :反汇编 函数名        显示函数编译出的字节码
  :载入 文件.qi         运行一个文件，它定义的名字留在会话里

输入代码后按回车执行；括号或代码块没写完时会继续读下一行（提示符变成 ……）。
表达式的值会显示出来；语句末尾的分号可以省略。Ctrl-C 放弃正在输入的内容。

例子：
  气> 变量 名单 = [\"甲\", \"乙\"]
  气> 名单.长度()
  2
  气> 函数 平方(x) {
  ……     返回 x * x;
  …… }
  气> 平方(12)
  144
  气> 变量 任务一 = 创建 { 睡眠(10); 返回 \"完成\"; }
  气> 等待 任务一
  \"完成\"
";

/// A parsed command.
#[derive(Debug, PartialEq)]
pub enum Command<'a> {
    Help,
    Quit,
    Clear,
    Type(&'a str),
    Disassemble(&'a str),
    Load(&'a str),
    Unknown(&'a str),
}

/// The command in `line`, if it is one.
pub fn parse(line: &str) -> Option<Command<'_>> {
    let rest = line.strip_prefix(':').or_else(|| line.strip_prefix('：'))?;
    let (name, arg) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    Some(match name {
        "帮助" | "help" | "h" | "?" => Command::Help,
        "退出" | "quit" | "q" | "exit" => Command::Quit,
        "清空" | "clear" => Command::Clear,
        "类型" | "type" | "t" => Command::Type(arg),
        "反汇编" | "dis" => Command::Disassemble(arg),
        "载入" | "load" => Command::Load(arg),
        _ => Command::Unknown(name),
    })
}

pub fn run(session: &mut Session, command: Command<'_>) -> Reply {
    match command {
        Command::Help => answer(HELP.trim_end()),
        Command::Quit => Reply {
            exit: Some(0),
            ..Reply::default()
        },
        Command::Clear => {
            session.clear();
            answer("已清空：之前定义的名字都忘掉了。")
        }
        Command::Type("") => usage(":类型 表达式"),
        Command::Type(expr) => {
            let (mut reply, value) = session.eval_code(&format!("({expr})"), true);
            if let Some(v) = value {
                reply.shown = Some(qi_vm::print::type_name(&v));
            }
            reply
        }
        Command::Disassemble("") => usage(":反汇编 函数名"),
        Command::Disassemble(name) => match session.function_proto(name) {
            Some(f) => answer(qi_bytecode::disasm::function(&f).trim_end()),
            None if session.shared().is_builtin(name) => {
                failure(format!("「{name}」是内置函数，用 Rust 写成，没有字节码"))
            }
            None => failure(format!(
                "没有叫「{name}」的函数（只能反汇编在会话里定义的函数）"
            )),
        },
        Command::Load("") => usage(":载入 文件.qi"),
        Command::Load(path) => match qi_vm::loader::read_source(path) {
            Ok(file) => session.eval_source(file, false).0,
            Err(d) => {
                let mut reply = Reply::default();
                session.add_diagnostics(&mut reply, &[d]);
                reply
            }
        },
        Command::Unknown(name) => failure(format!("没有命令「:{name}」；输入 :帮助 查看所有命令")),
    }
}

fn answer(text: &str) -> Reply {
    Reply {
        shown: Some(text.to_string()),
        ..Reply::default()
    }
}

fn failure(message: String) -> Reply {
    Reply {
        diagnostics: format!("错误：{message}\n"),
        failed: true,
        ..Reply::default()
    }
}

fn usage(form: &str) -> Reply {
    failure(format!("用法：{form}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_in_chinese_and_english() {
        assert_eq!(parse(":帮助"), Some(Command::Help));
        assert_eq!(parse("：help"), Some(Command::Help));
        assert_eq!(parse(":类型 1 + 2"), Some(Command::Type("1 + 2")));
        assert_eq!(parse(":反汇编 平方"), Some(Command::Disassemble("平方")));
        assert_eq!(parse(":载入  a.qi "), Some(Command::Load("a.qi")));
        assert_eq!(parse(":什么"), Some(Command::Unknown("什么")));
        assert_eq!(parse("1 + 2"), None);
    }
}
