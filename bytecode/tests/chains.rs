//! Long chains of operators — `a + b + …`, `a && b && …`, `s.f().g() …` — are not nesting in
//! the language (QI-LANGUAGE.md §10 caps brackets, blocks and prefix operators at 256): up
//! to `MAX_CHAIN` operators parse and compile, in every place an expression can be, on a
//! thread with a 2 MiB stack in a debug build. Each pass recurses once per operator and
//! grows its stack as it goes; before, more than 256 operators in a row were E2003.

use bumpalo::Bump;
use qi_bytecode::compiler::{CompileOptions, compile};
use qi_bytecode::diagnostic::Code;
use qi_bytecode::parser::{MAX_CHAIN, parse, sexpr};
use qi_bytecode::source::SourceFile;

/// The codes of every diagnostic from parsing and compiling `src` on a 2 MiB thread (the
/// tree also printed, as the parser tests do, which is one more recursive walk).
fn compile_on_small_stack(src: String) -> Vec<Code> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let file = SourceFile::new("链.qi", src);
            let arena = Bump::new();
            let parsed = parse(&arena, &file);
            let mut codes: Vec<Code> = parsed.diagnostics.iter().map(|d| d.code).collect();
            let _ = sexpr::program(&parsed.program);
            if codes.is_empty() {
                let builtins = |n: &str| matches!(n, "打印行" | "长度");
                let options = CompileOptions {
                    is_builtin: &builtins,
                    repl: false,
                    hidden: false,
                    module_name: "主程序",
                    outer: None,
                };
                if let Err(diags) = compile(&parsed.program, &file, &options) {
                    codes.extend(diags.iter().map(|d| d.code));
                }
            }
            codes
        })
        .expect("线程")
        .join()
        .expect("编译器不应崩溃")
}

/// `n` terms joined by `op`.
fn chain(term: &str, op: &str, n: usize) -> String {
    vec![term; n].join(op)
}

#[test]
fn chains_of_max_chain_operators_compile_everywhere() {
    let n = MAX_CHAIN as usize + 1;
    let sum = chain("x", " + ", n);
    let ands = chain("真", " && ", n);
    let ors = chain("假", " || ", n);
    // A method call is two postfix operations: the member, then the call.
    let calls = format!("s{}", ".长度()".repeat(MAX_CHAIN as usize / 2));
    let src = format!(
        "变量 x = 1;\n\
         变量 s = \"气\";\n\
         函数 和() {{ 返回 {sum}; }}\n\
         函数 用(v) {{ 返回 v; }}\n\
         变量 闭 = 函数() {{ 返回 {sum}; }};\n\
         如果 {ands} {{ 打印行(用({sum})); }}\n\
         当 {ors} {{ 跳出; }}\n\
         变量 列 = [{sum}, {sum}];\n\
         打印行({calls});\n\
         启动 打印行({sum});\n"
    );
    assert_eq!(compile_on_small_stack(src), []);
}

#[test]
fn a_chain_past_max_chain_is_one_e2003() {
    let n = MAX_CHAIN as usize + 2;
    for src in [
        format!("变量 x = {};", chain("1", " + ", n)),
        format!("变量 x = s{};", ".长度()".repeat(n)),
    ] {
        assert_eq!(compile_on_small_stack(src), [Code::E2003]);
    }
}
