//! The bytecode verifier: the promise the interpreter's unchecked register access rests on.
//!
//! Every function the VM links passes through [`verify_module`]. It checks that every
//! register operand lies below the function's register count, every constant, upvalue,
//! nested-function, global, declaration and import operand is in range and of the right
//! kind, every jump lands inside the code, every test is followed by its `Jmp`, the
//! code cannot run off its end, and no register is read before it is written
//! ([`crate::assigned`]).

use crate::opcode::{ChanAt, Instr, Op};
use crate::proto::{Capture, Constant, FunctionProto, ModuleProto};

/// Checks a whole module. The error names the function and the instruction.
pub fn verify_module(m: &ModuleProto) -> Result<(), String> {
    let ctx = Ctx {
        globals: m.globals.len(),
        decls: m.decls.len(),
        imports: m.imports.len(),
    };
    let mut work: Vec<(&FunctionProto, Option<&FunctionProto>)> = vec![(&m.main, None)];
    for d in &m.decls {
        if let crate::proto::Decl::Function { proto, .. } = d {
            work.push((proto, None));
        }
    }
    while let Some((f, parent)) = work.pop() {
        ctx.function(f, parent)?;
        for p in &f.protos {
            work.push((p, Some(f)));
        }
    }
    Ok(())
}

struct Ctx {
    globals: usize,
    decls: usize,
    imports: usize,
}

impl Ctx {
    fn function(&self, f: &FunctionProto, parent: Option<&FunctionProto>) -> Result<(), String> {
        let fail = |pc: usize, what: &str| -> Result<(), String> {
            Err(format!(
                "{} 第 {pc} 条指令 {:?}：{what}",
                f.name,
                f.code.get(pc)
            ))
        };
        let n = f.num_regs as usize;
        if f.code.is_empty() || f.spans.len() != f.code.len() {
            return fail(0, "代码为空或行号表不符");
        }
        if (f.arity as usize + f.uses_self as usize) > n {
            return fail(0, "寄存器少于参数");
        }
        if !matches!(
            f.code.last().map(|i| i.op),
            Some(Op::Return | Op::ReturnNil | Op::Jmp | Op::Loop | Op::Throw | Op::MatchFail)
        ) {
            return fail(f.code.len() - 1, "代码可能越过结尾");
        }
        // Captures are checked against the creating function.
        if let Some(p) = parent {
            for c in &f.captures {
                let ok = match *c {
                    Capture::Local(r) => (r as usize) < p.num_regs as usize,
                    Capture::Upvalue(i) => (i as usize) < p.captures.len(),
                };
                if !ok {
                    return fail(0, "捕获越界");
                }
            }
        } else if !f.captures.is_empty() {
            return fail(0, "顶层函数不能捕获");
        }
        for (pc, ins) in f.code.iter().enumerate() {
            if let Err(e) = self.instr(f, pc, *ins) {
                return fail(pc, e);
            }
        }
        if let Some((pc, r)) = crate::assigned::first_unassigned_read(f) {
            return fail(pc, &format!("读取了没有赋过值的寄存器 {r}"));
        }
        Ok(())
    }

    fn instr(&self, f: &FunctionProto, pc: usize, i: Instr) -> Result<(), &'static str> {
        let n = f.num_regs as usize;
        let reg = |r: u16| {
            if (r as usize) < n {
                Ok(())
            } else {
                Err("寄存器越界")
            }
        };
        let regs = |first: u16, count: usize| {
            if first as usize + count <= n {
                Ok(())
            } else {
                Err("寄存器区间越界")
            }
        };
        let konst = |k: usize| f.consts.get(k).ok_or("常量越界");
        let value_const = |k: usize| match konst(k)? {
            Constant::Int(_) | Constant::Float(_) | Constant::Str(_) => Ok(()),
            _ => Err("常量不是值"),
        };
        let name_const = |k: usize| match konst(k)? {
            Constant::Name(_) => Ok(()),
            _ => Err("常量不是名字"),
        };
        // The interpreter trusts a check's hint without looking at the constant.
        let type_const = |k: usize, hint: u8| match konst(k)? {
            Constant::Type(t) if hint == 0 || hint == t.kind.hint() => Ok(()),
            Constant::Type(_) => Err("类型检查的提示与类型不符"),
            _ => Err("常量不是类型"),
        };
        let target = |offset: i32| {
            let t = pc as i64 + 1 + offset as i64;
            if t >= 0 && (t as usize) < f.code.len() {
                Ok(())
            } else {
                Err("跳转越界")
            }
        };
        let jmp_follows = || match f.code.get(pc + 1) {
            Some(j) if j.op == Op::Jmp => target_of(pc + 1, j.sbx(), f.code.len()),
            _ => Err("测试指令后面必须是 Jmp"),
        };
        let upval = |u: u16| {
            if (u as usize) < f.captures.len() {
                Ok(())
            } else {
                Err("上值越界")
            }
        };
        let global = |g: u32| {
            if (g as usize) < self.globals {
                Ok(())
            } else {
                Err("全局槽越界")
            }
        };
        let decl = |d: u32| {
            if (d as usize) < self.decls {
                Ok(())
            } else {
                Err("声明槽越界")
            }
        };
        match i.op {
            Op::Nop | Op::PopHandler => Ok(()),
            Op::ReturnNil => Ok(()),
            Op::LoadNil | Op::LoadBool | Op::LoadInt | Op::Return | Op::Throw | Op::MatchFail => {
                reg(i.a)
            }
            Op::NewCell if i.b > 1 => Err("单元种类只能是 0 或 1"),
            Op::NewCell => reg(i.a),
            Op::LoadConst => {
                reg(i.a)?;
                value_const(i.bx() as usize)
            }
            Op::Move
            | Op::GetCell
            | Op::SetCell
            | Op::Neg
            | Op::Not
            | Op::IsInstance
            | Op::Deref
            | Op::SetDeref
            | Op::IterInit
            | Op::GetPayload => {
                reg(i.a)?;
                reg(i.b)
            }
            Op::GetGlobal | Op::SetGlobal | Op::DefGlobal | Op::RefGlobal | Op::RefGlobalRo => {
                reg(i.a)?;
                global(i.bx())
            }
            Op::GetDecl => {
                reg(i.a)?;
                decl(i.bx())
            }
            Op::GetBuiltin => {
                reg(i.a)?;
                name_const(i.bx() as usize)
            }
            Op::GetUpval | Op::SetUpval | Op::RefUpval => {
                reg(i.a)?;
                upval(i.b)
            }
            Op::Closure => {
                reg(i.a)?;
                if (i.bx() as usize) < f.protos.len() {
                    Ok(())
                } else {
                    Err("嵌套函数越界")
                }
            }
            Op::TaskClosure => {
                reg(i.a)?;
                reg(i.c)?;
                if (i.b as usize) < f.protos.len() {
                    Ok(())
                } else {
                    Err("嵌套函数越界")
                }
            }
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Rem
            | Op::Eq
            | Op::Ne
            | Op::Lt
            | Op::Le
            | Op::Gt
            | Op::Ge
            | Op::Range
            | Op::RangeIncl
            | Op::GetIndex
            | Op::SetIndex
            | Op::MatchEq
            | Op::RefCell => {
                reg(i.a)?;
                reg(i.b)?;
                if i.op == Op::RefCell {
                    Ok(())
                } else {
                    reg(i.c)
                }
            }
            Op::Jmp | Op::Loop => target(i.sbx()),
            Op::AddI | Op::SubI => {
                reg(i.a)?;
                reg(i.b)
            }
            Op::TestLtK | Op::TestLeK | Op::TestGtK | Op::TestGeK | Op::TestEqK | Op::TestNeK => {
                reg(i.a)?;
                value_const(i.b as usize)?;
                // The fast loop compares with C alone under hint 1.
                match (i.hint, konst(i.b as usize)?) {
                    (0, _) => {}
                    (1, Constant::Int(n)) if *n == i64::from(i.c as i16) => {}
                    _ => return Err("比较的提示与常量不符"),
                }
                jmp_follows()
            }
            Op::JmpIf | Op::JmpIfNot | Op::PushHandler => {
                reg(i.a)?;
                target(i.sbx())
            }
            Op::TestLt
            | Op::TestLe
            | Op::TestGt
            | Op::TestGe
            | Op::TestEq
            | Op::TestNe
            | Op::IterNext => {
                reg(i.a)?;
                reg(i.b)?;
                jmp_follows()
            }
            Op::ForPrep | Op::ForPrepIncl => {
                regs(i.a, 2)?;
                jmp_follows()
            }
            Op::ForLoop => {
                regs(i.a, 2)?;
                target(i.sbx())
            }
            Op::Call | Op::Invoke | Op::CallDecl => {
                regs(i.a, 1 + i.b as usize)?;
                match i.op {
                    Op::Invoke => name_const(i.c as usize),
                    Op::CallDecl if i.hint > 1 => Err("调用的提示无效"),
                    Op::CallDecl => decl(i.c as u32),
                    _ => Ok(()),
                }
            }
            Op::NewList => {
                reg(i.a)?;
                regs(i.b, i.c as usize)
            }
            Op::NewDict => {
                reg(i.a)?;
                regs(i.b, 2 * i.c as usize)
            }
            Op::NewStruct => {
                reg(i.a)?;
                match konst(i.c as usize)? {
                    Constant::Fields { names, .. } => regs(i.b, 1 + names.len()),
                    _ => Err("常量不是字段表"),
                }
            }
            Op::NewVariant => {
                // The payload count comes from the enum type at run time, checked there.
                reg(i.a)?;
                reg(i.b)
            }
            Op::GetField | Op::SetField | Op::GetPath | Op::IsVariant => {
                reg(i.a)?;
                reg(i.b)?;
                name_const(i.c as usize)
            }
            Op::CheckType => {
                reg(i.a)?;
                type_const(i.bx() as usize, i.hint)
            }
            Op::CheckParam => {
                reg(i.a)?;
                type_const(i.b as usize, i.hint)
            }
            Op::InRange => {
                reg(i.a)?;
                reg(i.b)?;
                match konst(i.c as usize)? {
                    Constant::RangePattern { .. } => Ok(()),
                    _ => Err("常量不是范围模式"),
                }
            }
            Op::NewCoroutine | Op::Spawn => regs(i.a, 1 + i.b as usize),
            Op::Resume => {
                reg(i.a)?;
                reg(i.b)?;
                reg(i.c)
            }
            Op::Suspend | Op::Await => {
                reg(i.a)?;
                reg(i.b)
            }
            // The channel is `B` for a receive and `A` for a send; a received value must
            // not land in the register whose cell holds the channel.
            Op::Recv => match ChanAt::from_c(i.c) {
                Some(ChanAt::Reg) => reg(i.a).and(reg(i.b)),
                Some(ChanAt::Upval) => reg(i.a).and(upval(i.b)),
                Some(ChanAt::Cell) if i.a == i.b => Err("接收的结果会覆盖通道所在的单元"),
                Some(ChanAt::Cell) => reg(i.a).and(reg(i.b)),
                None => Err("通道操作数的种类只能是 0、1 或 2"),
            },
            Op::Send => match ChanAt::from_c(i.c) {
                Some(ChanAt::Reg | ChanAt::Cell) => reg(i.a).and(reg(i.b)),
                Some(ChanAt::Upval) => upval(i.a).and(reg(i.b)),
                None => Err("通道操作数的种类只能是 0、1 或 2"),
            },
            Op::Select => match konst(i.b as usize)? {
                Constant::Select(cases) => {
                    regs(i.a, cases.iter().map(|c| c.operands()).sum())?;
                    regs(i.c, 2)
                }
                _ => Err("常量不是选择分支表"),
            },
            Op::Import => {
                reg(i.a)?;
                if (i.bx() as usize) < self.imports {
                    Ok(())
                } else {
                    Err("导入越界")
                }
            }
        }
    }
}

fn target_of(pc: usize, offset: i32, len: usize) -> Result<(), &'static str> {
    let t = pc as i64 + 1 + offset as i64;
    if t >= 0 && (t as usize) < len {
        Ok(())
    } else {
        Err("跳转越界")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::compiler::{CompileOptions, compile};
    use crate::proto::{Decl, TypeKind};
    use crate::source::SourceFile;

    /// `src` compiled as a main module (for the tests of other modules too).
    pub(crate) fn compiled(src: &str) -> ModuleProto {
        let file = SourceFile::new("t.qi", src);
        let arena = bumpalo::Bump::new();
        let parsed = crate::parser::parse(&arena, &file);
        let options = CompileOptions {
            is_builtin: &|_| false,
            repl: false,
            hidden: false,
            module_name: "主程序",
            outer: None,
        };
        match compile(&parsed.program, &file, &options) {
            Ok(c) => c.module,
            Err(e) => panic!("{e:?}"),
        }
    }

    fn first_function(m: &mut ModuleProto) -> &mut FunctionProto {
        match m.decls.first_mut() {
            Some(Decl::Function { proto, .. }) => Arc::get_mut(proto).expect("sole owner"),
            _ => panic!("no function"),
        }
    }

    #[test]
    fn annotation_checks_carry_the_hint_of_their_type_and_a_wrong_one_is_rejected() {
        let mut m = compiled("函数 f(n: 整数): 字符串 { 返回 \"\" + n; }");
        let f = first_function(&mut m);
        let hints: Vec<(Op, u8)> = f
            .code
            .iter()
            .filter(|i| matches!(i.op, Op::CheckParam | Op::CheckType))
            .map(|i| (i.op, i.hint))
            .collect();
        assert!(hints.contains(&(Op::CheckParam, TypeKind::Int.hint())));
        assert!(hints.contains(&(Op::CheckType, TypeKind::Str.hint())));
        assert!(verify_module(&m).is_ok());

        // The interpreter would let an 整数 through a 字符串 check on this hint alone.
        let f = first_function(&mut m);
        let Some(check) = f.code.iter_mut().find(|i| i.op == Op::CheckType) else {
            panic!("no CheckType");
        };
        check.hint = TypeKind::Int.hint();
        assert!(verify_module(&m).is_err());
    }

    #[test]
    fn a_call_with_proven_arguments_is_marked_and_other_marks_are_rejected() {
        let mut m = compiled("函数 f(n: 整数): 整数 { n } 函数 g(n: 整数): 整数 { f(n + 1) }");
        let Some(Decl::Function { proto, .. }) = m.decls.get_mut(1) else {
            panic!("no g");
        };
        let g = Arc::get_mut(proto).expect("sole owner");
        let Some(call) = g.code.iter_mut().find(|i| i.op == Op::CallDecl) else {
            panic!("no CallDecl");
        };
        assert_eq!(call.hint, 1);
        call.hint = 2;
        assert!(verify_module(&m).is_err());
    }

    #[test]
    fn a_test_against_a_small_integer_carries_it_and_a_wrong_copy_is_rejected() {
        let mut m = compiled("函数 f(n: 整数): 整数 { 如果 n < 2 { 返回 n; } 返回 0; }");
        let f = first_function(&mut m);
        let Some(test) = f.code.iter_mut().find(|i| i.op == Op::TestLtK) else {
            panic!("no TestLtK");
        };
        assert_eq!((test.hint, test.c), (1, 2));
        assert!(verify_module(&m).is_ok());
        let f = first_function(&mut m);
        let Some(test) = f.code.iter_mut().find(|i| i.op == Op::TestLtK) else {
            panic!("no TestLtK");
        };
        test.c = 3;
        assert!(verify_module(&m).is_err());
    }

    #[test]
    fn only_immutable_captured_bindings_get_fixed_cells() {
        let mut m = compiled(
            "函数 f() { 变量 a = 1; 可变 b = 2; 变量 g = 函数() { 返回 a + b; }; 返回 g; }",
        );
        let f = first_function(&mut m);
        let kinds: Vec<u16> = f
            .code
            .iter()
            .filter(|i| i.op == Op::NewCell)
            .map(|i| i.b)
            .collect();
        assert_eq!(kinds, [1, 0]);
        assert!(verify_module(&m).is_ok());

        let f = first_function(&mut m);
        let Some(cell) = f.code.iter_mut().find(|i| i.op == Op::NewCell) else {
            panic!("no NewCell");
        };
        cell.b = 2;
        assert!(verify_module(&m).is_err());
    }

    /// A captured immutable channel is read where it sits (`ChanAt`): from its cell in a
    /// register in the function that declares it, from an upvalue in a closure; a mutable
    /// one goes through a register. Operands that do not fit are rejected.
    #[test]
    fn channel_operands_say_where_the_channel_is_and_are_checked() {
        let mut m = compiled(
            "函数 f(c, d) { 变量 a = c; 可变 b = d; \
             a <- 1; 变量 x = <-a; \
             变量 g = 函数() { a <- 2; b <- 3; 返回 <-a; }; 返回 g; }",
        );
        let modes = |f: &FunctionProto| -> Vec<(Op, u16)> {
            f.code
                .iter()
                .filter(|i| matches!(i.op, Op::Recv | Op::Send))
                .map(|i| (i.op, i.c))
                .collect()
        };
        let f = first_function(&mut m);
        let (cell, upval, reg) = (
            ChanAt::Cell as u16,
            ChanAt::Upval as u16,
            ChanAt::Reg as u16,
        );
        assert_eq!(modes(f), [(Op::Send, cell), (Op::Recv, cell)]);
        let g = f.protos.first().expect("the closure");
        assert_eq!(
            modes(g),
            [(Op::Send, upval), (Op::Send, reg), (Op::Recv, upval)]
        );
        assert!(verify_module(&m).is_ok());

        // An unknown place, an upvalue the closure does not have, a receive into the
        // register of the channel's own cell: all rejected.
        let corrupt: [&dyn Fn(&mut Instr); 3] = [
            &|i| i.c = 3,
            &|i| {
                i.c = upval;
                i.b = 40;
            },
            &|i| i.a = i.b,
        ];
        for change in corrupt {
            let f = first_function(&mut m);
            let Some(recv) = f.code.iter_mut().find(|i| i.op == Op::Recv) else {
                panic!("no Recv");
            };
            let kept = *recv;
            change(recv);
            assert!(verify_module(&m).is_err());
            if let Some(recv) = first_function(&mut m)
                .code
                .iter_mut()
                .find(|i| i.op == Op::Recv)
            {
                *recv = kept;
            }
        }
        assert!(verify_module(&m).is_ok());
    }

    #[test]
    fn hints_number_every_unnamed_kind_and_only_those() {
        assert_eq!(TypeKind::Named("点".into()).hint(), 0);
        for (i, k) in crate::proto::HINTED.iter().enumerate() {
            assert_eq!(k.hint() as usize, i + 1);
        }
    }
}
