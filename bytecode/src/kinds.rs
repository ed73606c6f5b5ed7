//! Which registers can hold a heap value: the analysis that lets a return skip clearing
//! its frame.
//!
//! Returning must leave no heap value in the registers it gives up (frame invariant 4 in
//! the VM's `interp/frame.rs`), so it normally clears them all — a fifth of the time of a
//! call-heavy function like `fib`. But a function whose registers provably hold only
//! *scalars* (整数, 浮点数, 布尔, 空) at every return has nothing to release, and its
//! return can leave them as they are.
//!
//! The analysis runs forward over the bytecode, one bit per register: "surely a scalar".
//! An instruction it understands writes what it knows (a number from arithmetic on
//! numbers, a 布尔 from a comparison, a checked annotation's kind); any other instruction
//! may write anything anywhere, so it clears every bit. A function with an error handler
//! is not analysed (a throw can reach the handler from anywhere). Calls of this module's
//! own functions (`CallDecl`) yield a scalar when the callee returns one on every path:
//! that is found for all of them together, starting from "every function returns a
//! scalar" and withdrawing it until nothing changes, which is sound because a call's
//! value comes from a call that finished, deeper down.

use crate::flow;
use crate::opcode::{Instr, Op};
use crate::proto::{Constant, Decl, FunctionProto, HINTED, ModuleProto, TypeKind};

/// For each declaration slot of `m`: whether calling it always yields a scalar.
pub fn scalar_returns(m: &ModuleProto) -> Vec<bool> {
    let mut returns: Vec<bool> = m
        .decls
        .iter()
        .map(|d| matches!(d, Decl::Function { proto, .. } if !proto.is_async))
        .collect();
    let mut first = true;
    loop {
        let mut changed = false;
        for (i, d) in m.decls.iter().enumerate() {
            let Decl::Function { proto, .. } = d else {
                continue;
            };
            // After the first round only a function that calls others can change.
            let depends = first || proto.code.iter().any(|i| i.op == Op::CallDecl);
            if returns[i] && depends && !analyse(proto, &returns).is_some_and(|f| f.returns_scalar)
            {
                returns[i] = false;
                changed = true;
            }
        }
        first = false;
        if !changed {
            return returns;
        }
    }
}

/// Whether every register of `f` holds a scalar whenever it returns, so that returning
/// need not clear them. `returns` is [`scalar_returns`] of its module.
pub fn scalar_registers(f: &FunctionProto, returns: &[bool]) -> bool {
    analyse(f, returns).is_some_and(|facts| facts.scalar_at_return)
}

struct Facts {
    /// Every `Return` returns a scalar.
    returns_scalar: bool,
    /// At every return, every register holds a scalar.
    scalar_at_return: bool,
}

/// "Surely a scalar", one bit per register (`flow`'s bit sets).
struct State<'a>(&'a mut [u64]);

impl State<'_> {
    fn get(&self, r: u16) -> bool {
        flow::contains(self.0, r as usize)
    }

    fn set(&mut self, r: u16, scalar: bool) {
        if scalar {
            flow::insert(self.0, r as usize);
        } else {
            flow::remove(self.0, r as usize);
        }
    }

    fn clear_all(&mut self) {
        self.0.fill(0);
    }
}

fn analyse(f: &FunctionProto, returns: &[bool]) -> Option<Facts> {
    if f.code.iter().any(|i| i.op == Op::PushHandler) {
        return None;
    }
    let n = f.num_regs as usize;
    let len = f.code.len();
    let mut states = flow::States::new(len, n);
    let words = states.words;
    // Every register's bit set: the state at every return must have all of them.
    let mut full = vec![0u64; words];
    for r in 0..n {
        State(&mut full).set(r as u16, true);
    }
    // Arguments (自己 first, for a method that uses it) can be anything until checked; the
    // other registers hold 空 or scalars left by earlier frames (invariant 4).
    let mut entry = full.clone();
    for r in 0..(f.arity as usize + usize::from(f.uses_self)).min(n) {
        State(&mut entry).set(r as u16, false);
    }
    if f.code.is_empty() {
        return Some(Facts {
            returns_scalar: true,
            scalar_at_return: true,
        });
    }
    states.merge(0, &entry);
    let mut work = vec![0usize];
    let mut out = vec![0u64; words];
    let mut facts = Facts {
        returns_scalar: true,
        scalar_at_return: true,
    };
    while let Some(pc) = work.pop() {
        let (Some(state), Some(&ins)) = (states.get(pc), f.code.get(pc)) else {
            continue;
        };
        out.copy_from_slice(state);
        step(f, returns, ins, &mut State(&mut out));
        match ins.op {
            Op::Return => {
                facts.returns_scalar &= State(&mut out).get(ins.a);
                facts.scalar_at_return &= out == full;
            }
            Op::ReturnNil => facts.scalar_at_return &= out == full,
            _ => {}
        }
        for next in flow::successors(pc, ins, len).into_iter().flatten() {
            if states.merge(next, &out) {
                work.push(next);
            }
        }
    }
    Some(facts)
}

/// What `ins` leaves in the registers (when it completes; a failure leaves the function).
fn step(f: &FunctionProto, returns: &[bool], ins: Instr, state: &mut State<'_>) {
    let (a, b, c) = (ins.a, ins.b, ins.c);
    match ins.op {
        Op::Nop | Op::Jmp | Op::Loop | Op::JmpIf | Op::JmpIfNot | Op::Return | Op::ReturnNil => {}
        op if op.is_test() => {}
        Op::LoadNil | Op::LoadBool | Op::LoadInt => state.set(a, true),
        Op::LoadConst => {
            let number = matches!(
                f.consts.get(ins.bx() as usize),
                Some(Constant::Int(_) | Constant::Float(_))
            );
            state.set(a, number);
        }
        Op::Move => {
            let s = state.get(b);
            state.set(a, s);
        }
        // On numbers these make numbers (anything else is an error), except that `+`
        // joins strings and lists.
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem => {
            let s = state.get(b) && state.get(c);
            state.set(a, s);
        }
        Op::AddI | Op::SubI | Op::Neg => {
            let s = state.get(b);
            state.set(a, s);
        }
        Op::Not | Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => state.set(a, true),
        // A check that passed leaves a value of the checked kind (an 整数 widened to
        // 浮点数 included).
        Op::CheckType | Op::CheckParam => {
            let kind = (ins.hint as usize)
                .checked_sub(1)
                .and_then(|k| HINTED.get(k));
            if kind.is_some_and(is_scalar) {
                state.set(a, true);
            }
        }
        // The callee's registers, from `R[A+1]` up, are cleared by its return or hold
        // scalars: what the caller knew of them still holds.
        Op::CallDecl => {
            let s = returns.get(c as usize).copied().unwrap_or(false);
            state.set(a, s);
        }
        // Integer loops: both counters are 整数 once set up.
        Op::ForPrep | Op::ForPrepIncl | Op::ForLoop => {
            state.set(a, true);
            state.set(a + 1, true);
        }
        _ => state.clear_all(),
    }
}

fn is_scalar(kind: &TypeKind) -> bool {
    matches!(
        kind,
        TypeKind::Int | TypeKind::Float | TypeKind::Bool | TypeKind::Nil
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::tests::compiled;

    fn facts(src: &str) -> Vec<(String, bool, bool)> {
        let m = compiled(src);
        let returns = scalar_returns(&m);
        m.decls
            .iter()
            .zip(&returns)
            .filter_map(|(d, &r)| match d {
                Decl::Function { proto, .. } => {
                    Some((proto.name.to_string(), r, scalar_registers(proto, &returns)))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_method_s_last_parameter_is_an_argument_too() {
        let m = compiled("结构体 盒 { v } 方法 盒 { 函数 取(x) { 变量 s = 自己; 返回 x; } }");
        let returns = scalar_returns(&m);
        let found = m.decls.iter().zip(&returns).find_map(|(d, &r)| match d {
            Decl::Function { proto, .. } if proto.uses_self => Some(r),
            _ => None,
        });
        // `x` (after 自己) is unchecked: the method may return anything.
        assert_eq!(found, Some(false));
    }

    #[test]
    fn recursion_on_checked_integers_is_scalar() {
        let f = facts(
            "函数 fib(n: 整数): 整数 { 如果 n < 2 { 返回 n; } 返回 fib(n - 1) + fib(n - 2); }",
        );
        assert_eq!(f, [("fib".to_string(), true, true)]);
    }

    #[test]
    fn an_unchecked_parameter_or_a_string_is_not() {
        let f = facts(
            "函数 加一(n) { 返回 n + 1; }
             函数 名字(n: 整数): 字符串 { 返回 \"第\" + n; }
             函数 长度(s: 字符串): 整数 { 返回 s.长度(); }",
        );
        assert_eq!(
            f,
            [
                // `n` may be a string, and `n + 1` then one too.
                ("加一".to_string(), false, false),
                ("名字".to_string(), false, false),
                // The result is checked, but `s` stays in its register.
                ("长度".to_string(), true, false),
            ]
        );
    }

    #[test]
    fn a_callee_that_may_return_a_heap_value_taints_its_callers() {
        let f = facts(
            "函数 甲(n: 整数) { 如果 n > 0 { 返回 乙(n - 1); } 返回 0; }
             函数 乙(n: 整数) { 如果 n > 5 { 返回 [n]; } 返回 甲(n); }
             函数 丙(n: 整数) { 返回 n * 2; }",
        );
        assert_eq!(
            f,
            [
                ("甲".to_string(), false, false),
                ("乙".to_string(), false, false),
                ("丙".to_string(), true, true),
            ]
        );
    }

    #[test]
    fn loops_over_integer_ranges_and_handlers() {
        let f = facts(
            "函数 和(n: 整数): 整数 { 可变 s = 0; 对于 i 在 0..n { s += i; } 返回 s; }
             函数 稳(n: 整数): 整数 { 尝试 { 返回 n; } 捕获 e { 返回 0; } }",
        );
        assert_eq!(
            f,
            [
                ("和".to_string(), true, true),
                // Not analysed: a throw reaches the handler from anywhere.
                ("稳".to_string(), false, false),
            ]
        );
    }
}
