//! A readable listing of compiled code, for `qi check --字节码` and the REPL's `:反汇编`.

use std::fmt::Write;

use crate::opcode::{Instr, Op};
use crate::proto::{Constant, Decl, FunctionProto, ModuleProto};

/// The listing of every function of a module: the top level, then each declaration.
pub fn module(m: &ModuleProto) -> String {
    let mut out = String::new();
    function_into(&m.main, &mut out);
    for d in &m.decls {
        if let Decl::Function { proto, .. } = d {
            function_into(proto, &mut out);
        }
    }
    out
}

/// The listing of one function and the closures it creates.
pub fn function(f: &FunctionProto) -> String {
    let mut out = String::new();
    function_into(f, &mut out);
    out
}

fn function_into(f: &FunctionProto, out: &mut String) {
    let mut work = vec![f];
    while let Some(f) = work.pop() {
        let (line, _) = f.file.line_col(f.span.start);
        let _ = writeln!(
            out,
            "函数 {}（参数 {}，寄存器 {}{}）{}:{line}",
            f.name,
            f.arity,
            f.num_regs,
            if f.uses_self { "，使用 自己" } else { "" },
            f.file.path
        );
        for (pc, ins) in f.code.iter().enumerate() {
            let (l, c) = f.file.line_col(f.spans[pc].start);
            let _ = writeln!(
                out,
                "  {pc:>4}  {:<12}{:<20}; {l}:{c}{}",
                ins.op.name(),
                operands(*ins),
                comment(f, pc, *ins)
            );
        }
        if !f.consts.is_empty() {
            let _ = writeln!(out, "  常量：");
            for (i, k) in f.consts.iter().enumerate() {
                let _ = writeln!(out, "  {i:>4}  {}", constant(k));
            }
        }
        out.push('\n');
        work.extend(f.protos.iter().rev().map(|p| &**p));
    }
}

fn operands(i: Instr) -> String {
    match i.op {
        Op::LoadInt
        | Op::Jmp
        | Op::Loop
        | Op::JmpIf
        | Op::JmpIfNot
        | Op::ForLoop
        | Op::PushHandler => format!("{} {}", i.a, i.sbx()),
        Op::LoadConst
        | Op::GetGlobal
        | Op::SetGlobal
        | Op::DefGlobal
        | Op::GetDecl
        | Op::GetBuiltin
        | Op::Closure
        | Op::CheckType
        | Op::RefGlobal
        | Op::RefGlobalRo
        | Op::Import => format!("{} {}", i.a, i.bx()),
        _ => format!("{} {} {}", i.a, i.b, i.c),
    }
}

/// A note on what an operand means: the jump target, the constant, the name.
fn comment(f: &FunctionProto, pc: usize, i: Instr) -> String {
    let k = |n: usize| f.consts.get(n).map(constant).unwrap_or_default();
    match i.op {
        Op::Jmp | Op::Loop | Op::JmpIf | Op::JmpIfNot | Op::ForLoop | Op::PushHandler => {
            format!(" → {}", pc as i64 + 1 + i.sbx() as i64)
        }
        Op::LoadConst | Op::GetBuiltin | Op::CheckType => format!(" {}", k(i.bx() as usize)),
        Op::GetField | Op::SetField | Op::GetPath | Op::Invoke | Op::IsVariant => {
            format!(" {}", k(i.c as usize))
        }
        Op::TestLtK | Op::TestLeK | Op::TestGtK | Op::TestGeK | Op::TestEqK | Op::TestNeK => {
            format!(" {}", k(i.b as usize))
        }
        Op::AddI | Op::SubI => format!(" {}", i.c as i16),
        Op::CallDecl if i.hint == 1 => " 参数类型已证明，跳过检查".to_string(),
        Op::NewCell if i.b == 1 => " 不可变，读取不加锁".to_string(),
        Op::Recv | Op::Send => match crate::opcode::ChanAt::from_c(i.c) {
            Some(crate::opcode::ChanAt::Upval) => " 通道在上值单元里".to_string(),
            Some(crate::opcode::ChanAt::Cell) => " 通道在寄存器的单元里".to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

fn constant(c: &Constant) -> String {
    match c {
        Constant::Int(n) => n.to_string(),
        Constant::Float(x) => format!("{x:?}"),
        Constant::Str(s) => format!("{s:?}"),
        Constant::Name(n) => format!("名字 {n}"),
        Constant::Type(t) => format!("类型 {}", t.written),
        Constant::Fields { names, .. } => format!("字段 {}", names.join("，")),
        Constant::Select(cases) => format!("选择 {cases:?}"),
        Constant::RangePattern {
            start,
            end,
            inclusive,
        } => format!(
            "范围 {start:?}{}{end:?}",
            if *inclusive { "..=" } else { ".." }
        ),
    }
}
