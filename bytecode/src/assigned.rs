//! Definite assignment: no instruction reads a register that was not written first.
//!
//! The VM relies on it (frame invariant 5 in `vm/src/interp/frame.rs`): the registers a
//! frame gets hold whatever an earlier frame left there — 空, or a scalar a frame that
//! did not need clearing left behind — and code that read one before writing it would
//! see that instead of 空. The compiler never does; this check, run by the verifier on
//! every function, makes that a proven property of everything the VM runs rather than a
//! tested one.
//!
//! A forward analysis with one bit per register, "written on every path here": the
//! parameters at entry; an instruction adds what it writes; after a call, the registers
//! above the callee slot are the callee's leftovers and count as unwritten again. Where
//! paths meet the sets intersect. A handler's entry gets its error register plus what is
//! written at every instruction of the code it protects (an over-approximation of where
//! a throw can come from: the protected code lies between the `PushHandler` and its
//! target).

use crate::flow::{self, States, contains, insert, jump_target, remove_from};
use crate::opcode::{ChanAt, Instr, Op};
use crate::proto::{Capture, Constant, FunctionProto};

/// The first read of an unwritten register: `(pc, register)`.
pub fn first_unassigned_read(f: &FunctionProto) -> Option<(usize, u16)> {
    let n = f.num_regs as usize;
    let len = f.code.len();
    if len == 0 {
        return None;
    }
    let mut states = States::new(len, n);
    let params = (f.arity as usize + usize::from(f.uses_self)).min(n);
    let mut entry = vec![0u64; states.words];
    for r in 0..params {
        insert(&mut entry, r);
    }
    states.merge(0, &entry);
    let handlers: Vec<(usize, usize, u16)> = f
        .code
        .iter()
        .enumerate()
        .filter(|(_, i)| i.op == Op::PushHandler)
        .filter_map(|(pc, i)| Some((pc, jump_target(pc, *i, len)?, i.a)))
        .collect();
    // The handlers' entries depend on the states in their protected code, which can
    // depend on the handlers (a `尝试` in a loop): repeat until nothing changes.
    let mut work: Vec<usize> = vec![0];
    loop {
        propagate(f, &mut states, &mut work);
        for &(push, target, error_reg) in &handlers {
            let mut acc: Option<Vec<u64>> = None;
            for pc in push..target {
                if let Some(s) = states.get(pc) {
                    match &mut acc {
                        None => acc = Some(s.to_vec()),
                        Some(acc) => acc.iter_mut().zip(s).for_each(|(a, b)| *a &= b),
                    }
                }
            }
            if let Some(mut state) = acc {
                insert(&mut state, error_reg as usize);
                if states.merge(target, &state) {
                    work.push(target);
                }
            }
        }
        if work.is_empty() {
            break;
        }
    }
    f.code.iter().enumerate().find_map(|(pc, ins)| {
        let state = states.get(pc)?;
        let mut bad = None;
        for_each_read(f, *ins, |r| {
            if bad.is_none() && !contains(state, r as usize) {
                bad = Some(r);
            }
        });
        bad.map(|r| (pc, r))
    })
}

/// Runs the analysis to a fixpoint from the instructions in `work`.
fn propagate(f: &FunctionProto, states: &mut States, work: &mut Vec<usize>) {
    let len = f.code.len();
    let mut out = vec![0u64; states.words];
    while let Some(pc) = work.pop() {
        let (Some(state), Some(&ins)) = (states.get(pc), f.code.get(pc)) else {
            continue;
        };
        out.copy_from_slice(state);
        after(ins, &mut out);
        let [next, jump] = flow::successors(pc, ins, len);
        if let Some(next) = next
            && states.merge(next, &out)
        {
            work.push(next);
        }
        if let Some(jump) = jump {
            if let Some(r) = written_on_jump(ins) {
                insert(&mut out, r as usize);
            }
            if states.merge(jump, &out) {
                work.push(jump);
            }
        }
    }
}

/// The state after `ins` completes normally (on its fall-through edge).
fn after(ins: Instr, s: &mut [u64]) {
    let (a, c) = (ins.a as usize, ins.c as usize);
    match ins.op {
        // Calls: the callee's frame starts above the slot, and what it leaves there is not
        // the caller's to read.
        Op::Call | Op::CallDecl | Op::Invoke | Op::NewCoroutine | Op::Spawn => {
            remove_from(s, a + 1);
            insert(s, a);
        }
        Op::Select => {
            insert(s, c);
            insert(s, c + 1);
        }
        Op::TaskClosure => {
            insert(s, a);
            insert(s, c);
        }
        Op::ForPrep | Op::ForPrepIncl => {
            insert(s, a);
            insert(s, a + 1);
        }
        // `IterNext` writes `R[B]` only on the way into the loop body (`written_on_jump`).
        Op::IterNext => {}
        // A handler's error register is written on the way into the handler, not here.
        Op::PushHandler => {}
        op if op.writes_a() => insert(s, a),
        _ => {}
    }
}

/// A register written only on the second edge of `successors` (an `IterNext`'s item).
fn written_on_jump(ins: Instr) -> Option<u16> {
    (ins.op == Op::IterNext).then_some(ins.b)
}

/// Calls `read` with each register `ins` reads.
fn for_each_read(f: &FunctionProto, ins: Instr, mut read: impl FnMut(u16)) {
    let (a, b, c) = (ins.a, ins.b, ins.c);
    let range = |read: &mut dyn FnMut(u16), first: u16, count: usize| {
        for k in 0..count {
            read(first.wrapping_add(k as u16));
        }
    };
    match ins.op {
        Op::Nop
        | Op::LoadNil
        | Op::LoadBool
        | Op::LoadInt
        | Op::LoadConst
        | Op::GetGlobal
        | Op::GetDecl
        | Op::GetBuiltin
        | Op::GetUpval
        | Op::Jmp
        | Op::Loop
        | Op::ReturnNil
        | Op::PopHandler
        | Op::MatchFail
        | Op::RefUpval
        | Op::RefGlobal
        | Op::RefGlobalRo
        | Op::Import
        | Op::PushHandler => {}
        Op::SetGlobal
        | Op::SetUpval
        | Op::NewCell
        | Op::JmpIf
        | Op::JmpIfNot
        | Op::TestLtK
        | Op::TestLeK
        | Op::TestGtK
        | Op::TestGeK
        | Op::TestEqK
        | Op::TestNeK
        | Op::Return
        | Op::Throw
        | Op::CheckType
        | Op::CheckParam
        | Op::DefGlobal => read(a),
        Op::Move
        | Op::GetCell
        | Op::AddI
        | Op::SubI
        | Op::Neg
        | Op::Not
        | Op::GetField
        | Op::GetPath
        | Op::IterInit
        | Op::GetPayload
        | Op::InRange
        | Op::RefCell
        | Op::Deref
        | Op::Suspend
        | Op::Await => read(b),
        Op::Recv => {
            if ChanAt::from_c(c) != Some(ChanAt::Upval) {
                read(b);
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
        | Op::MatchEq
        | Op::Resume => {
            read(b);
            read(c);
        }
        Op::SetCell
        | Op::TestLt
        | Op::TestLe
        | Op::TestGt
        | Op::TestGe
        | Op::TestEq
        | Op::TestNe
        | Op::SetField
        | Op::IsVariant
        | Op::IsInstance
        | Op::SetDeref => {
            read(a);
            read(b);
        }
        Op::Send => {
            if ChanAt::from_c(c) != Some(ChanAt::Upval) {
                read(a);
            }
            read(b);
        }
        Op::IterNext => read(a),
        Op::ForPrep | Op::ForPrepIncl | Op::ForLoop => {
            read(a);
            read(a + 1);
        }
        Op::SetIndex => {
            read(a);
            read(b);
            read(c);
        }
        Op::Call | Op::Invoke | Op::NewCoroutine | Op::Spawn => range(&mut read, a, 1 + b as usize),
        Op::CallDecl => range(&mut read, a + 1, b as usize),
        Op::NewList => range(&mut read, b, c as usize),
        Op::NewDict => range(&mut read, b, 2 * c as usize),
        Op::NewStruct => {
            let fields = match f.consts.get(c as usize) {
                Some(Constant::Fields { names, .. }) => names.len(),
                _ => 0,
            };
            range(&mut read, b, 1 + fields);
        }
        // The payload count comes from the enum type at run time: the type is what is
        // known to be read.
        Op::NewVariant => read(b),
        // A `TaskClosure`'s cache register is not read as a value: whatever an earlier
        // frame left there is only compared with the closure to make.
        Op::Closure | Op::TaskClosure => {
            let proto = match ins.op {
                Op::Closure => ins.bx() as usize,
                _ => b as usize,
            };
            if let Some(p) = f.protos.get(proto) {
                for c in &p.captures {
                    if let Capture::Local(r) = *c {
                        read(r);
                    }
                }
            }
        }
        Op::Select => {
            let operands = match f.consts.get(b as usize) {
                Some(Constant::Select(cases)) => cases.iter().map(|c| c.operands()).sum(),
                _ => 0,
            };
            range(&mut read, a, operands);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opcode::Instr;
    use crate::proto::Decl;
    use crate::verify::tests::compiled;

    #[test]
    fn compiled_code_reads_only_what_it_wrote() {
        let m = compiled(
            "函数 说(x) { 返回 x; }
             函数 f(n: 整数) { 可变 x; 如果 n > 0 { x = n; } 尝试 { 抛出 \"坏\"; } 捕获 e { 说(e); }
             对于 i 在 0..n { x = i; } 匹配 n { 1 => 说(\"一\"), _ => 说(x) } 返回 x; }",
        );
        let Some(Decl::Function { proto, .. }) = m.decls.get(1) else {
            panic!("no f");
        };
        assert_eq!(first_unassigned_read(proto), None);
        assert_eq!(first_unassigned_read(&m.main), None);
    }

    #[test]
    fn a_read_before_any_write_is_found() {
        let mut m = compiled("函数 f(n: 整数) { 变量 x = n + 1; 返回 x; }");
        let Some(Decl::Function { proto, .. }) = m.decls.first_mut() else {
            panic!("no f");
        };
        let f = std::sync::Arc::get_mut(proto).expect("sole owner");
        // Make the function return a register nothing wrote.
        let unwritten = f.num_regs;
        f.num_regs += 1;
        if let Some(ret) = f.code.iter_mut().rev().find(|i| i.op == Op::Return) {
            *ret = Instr::new(Op::Return, unwritten, 0, 0);
        }
        assert!(matches!(first_unassigned_read(f), Some((_, r)) if r == unwritten));
    }

    #[test]
    fn leftovers_of_a_callee_count_as_unwritten() {
        let mut m = compiled("函数 g(n) { 返回 n; } 函数 f() { 变量 a = g(1); 返回 a; }");
        let Some(Decl::Function { proto, .. }) = m.decls.get_mut(1) else {
            panic!("no f");
        };
        let f = std::sync::Arc::get_mut(proto).expect("sole owner");
        let Some(call) = f.code.iter().position(|i| i.op == Op::CallDecl) else {
            panic!("no call");
        };
        let arg = f.code[call].a + 1;
        // Read the argument register after the call returned.
        if let Some(ret) = f.code.iter_mut().rev().find(|i| i.op == Op::Return) {
            *ret = Instr::new(Op::Return, arg, 0, 0);
        }
        assert!(matches!(first_unassigned_read(f), Some((_, r)) if r == arg));
    }
}
