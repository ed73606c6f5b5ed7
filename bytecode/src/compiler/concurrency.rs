//! Coroutines, tasks, channels and `选择` (QI-LANGUAGE.md §7, §9, §10).
//!
//! The operand of `协程`, `创建` and `启动` is a block (compiled as a closure with no
//! parameters) or a call whose callee and arguments are evaluated at once; only the call
//! itself runs later, as Go's `go` does.

use crate::ast::*;
use crate::diagnostic::Code;
use crate::opcode::{ChanAt, Op};
use crate::proto::{Constant, SelectCase};
use crate::source::Span;

use super::Compiler;
use super::function::FunctionBuilder;
use super::names::NameRef;

impl<'a> Compiler<'a, '_> {
    /// Evaluates what a coroutine or task will run into `R[base]` (callee) and `R[base+1]…`
    /// (arguments); returns the argument count.
    fn task_body(&mut self, body: TaskBody<'a>, base: u16, span: Span) -> u16 {
        match body {
            TaskBody::Block(b) => {
                let proto = self.block_function(b, span);
                let idx = self.f().protos.len() as u32;
                self.f().protos.push(proto);
                // Outside a loop the block runs once per frame: nothing to share.
                if self.fref().loops.is_empty() {
                    self.f().op_bx(Op::Closure, base, idx, span);
                } else {
                    self.f().task_closure(base, idx, span);
                }
                0
            }
            TaskBody::Call(call) => {
                let ExprKind::Call { callee, args } = &call.kind else {
                    self.expr(call, base);
                    return 0;
                };
                let callee = match &callee.kind {
                    ExprKind::Generic { base: b, .. } => *b,
                    _ => *callee,
                };
                self.f().alloc_n(args.len() as u32);
                match &callee.kind {
                    // `创建 对象.方法(x)`: bind the method now, call it later.
                    ExprKind::Field { object, name } => {
                        let obj = self.expr_reg(object);
                        let k = self.f().name_const(name.name);
                        self.f().op(Op::GetField, base, obj, k, callee.span);
                    }
                    _ => self.expr(callee, base),
                }
                for (i, a) in args.iter().enumerate() {
                    self.expr(a, FunctionBuilder::reg_at(base, 1 + i));
                }
                args.len() as u16
            }
        }
    }

    pub fn coroutine(&mut self, body: TaskBody<'a>, dst: u16, span: Span) {
        let mark = self.fref().free_reg;
        let base = self.f().alloc();
        let argc = self.task_body(body, base, span);
        self.f().op(Op::NewCoroutine, base, argc, 0, span);
        if base != dst {
            self.f().op(Op::Move, dst, base, 0, span);
        }
        self.f().free_to(mark);
    }

    /// `创建` (and, with `detached`, `启动` or a statement-level `创建`).
    pub fn spawn(&mut self, body: TaskBody<'a>, dst: u16, detached: bool, span: Span) {
        let mark = self.fref().free_reg;
        let base = self.f().alloc();
        let argc = self.task_body(body, base, span);
        self.f().op(Op::Spawn, base, argc, detached as u16, span);
        if base != dst {
            self.f().op(Op::Move, dst, base, 0, span);
        }
        self.f().free_to(mark);
    }

    pub fn send(&mut self, channel: &'a Expr<'a>, value: &'a Expr<'a>, span: Span) {
        let mark = self.fref().free_reg;
        let (ch, at) = self.channel_operand(channel);
        let v = self.expr_reg(value);
        self.f().op(Op::Send, ch, v, at as u16, span);
        self.f().free_to(mark);
    }

    /// `<-channel` into `dst`.
    pub fn recv(&mut self, channel: &'a Expr<'a>, dst: u16, span: Span) {
        let mark = self.fref().free_reg;
        let (ch, at) = self.channel_operand(channel);
        self.f().op(Op::Recv, dst, ch, at as u16, span);
        self.f().free_to(mark);
    }

    /// Where a channel operand is: a captured immutable binding is read where it sits, in
    /// its cell (see [`ChanAt`]); anything else is evaluated into a register.
    fn channel_operand(&mut self, e: &'a Expr<'a>) -> (u16, ChanAt) {
        if let ExprKind::Name(id) = &e.kind {
            match self.lookup(id.name) {
                Some(NameRef::Upvalue {
                    index,
                    mutable: false,
                    ..
                }) => return (index, ChanAt::Upval),
                Some(NameRef::Local {
                    reg,
                    cell: true,
                    mutable: false,
                    ..
                }) => return (reg, ChanAt::Cell),
                _ => {}
            }
        }
        (self.expr_reg(e), ChanAt::Reg)
    }

    /// `选择 { 情况 …: … }`: evaluate every case's operands, let the VM choose, then jump to
    /// the chosen arm.
    pub fn select(&mut self, sel: &'a SelectStmt<'a>, span: Span) {
        let mark = self.fref().free_reg;
        let mut kinds = Vec::with_capacity(sel.cases.len());
        let mut defaults = 0;
        for case in sel.cases {
            kinds.push(match case.kind {
                SelectCaseKind::Recv { .. } => SelectCase::Recv,
                SelectCaseKind::Send { .. } => SelectCase::Send,
                SelectCaseKind::Timeout(_) => SelectCase::Timeout,
                SelectCaseKind::Default => {
                    defaults += 1;
                    if defaults > 1 {
                        let d = self
                            .diag(Code::E2001, case.span)
                            .with_detail("：「选择」只能有一个「默认」");
                        self.error(d);
                    }
                    SelectCase::Default
                }
            });
        }
        let operands: u32 = kinds.iter().map(|k| k.operands() as u32).sum();
        let base = self.f().alloc_n(operands);
        let mut r = base;
        for case in sel.cases {
            match case.kind {
                SelectCaseKind::Recv { channel, .. } => {
                    self.expr(channel, r);
                    r += 1;
                }
                SelectCaseKind::Send { channel, value } => {
                    self.expr(channel, r);
                    self.expr(value, r + 1);
                    r += 2;
                }
                SelectCaseKind::Timeout(ms) => {
                    self.expr(ms, r);
                    r += 1;
                }
                SelectCaseKind::Default => {}
            }
        }
        let out = self.f().alloc_n(2);
        let k = self.f().constant(Constant::Select(kinds)) as u16;
        self.f().op(Op::Select, base, k, out, span);
        let mut ends = Vec::new();
        for (i, case) in sel.cases.iter().enumerate() {
            let ki = self.f().constant(Constant::Int(i as i64)) as u16;
            self.f().op(Op::TestEqK, out, ki, 0, case.span);
            let next = self.f().jump(Op::Jmp, 0, case.span);
            self.f().begin_scope();
            if let SelectCaseKind::Recv {
                binding: Some(name),
                ..
            } = case.kind
            {
                let v = self.f().alloc();
                self.f().op(Op::Move, v, out + 1, 0, name.span);
                if self.res.captured.contains(&name.span.start) {
                    self.f().op(Op::NewCell, v, 0, 0, name.span);
                }
                self.declare_local(name, v, false, None);
            }
            for s in case.body {
                self.stmt(s);
            }
            self.f().end_scope();
            ends.push(self.f().jump(Op::Jmp, 0, case.span));
            self.f().patch_to_here(next);
        }
        for j in ends {
            self.f().patch_to_here(j);
        }
        self.f().free_to(mark);
    }
}
