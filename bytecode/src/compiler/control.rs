//! Control flow: conditions, 如果, loops, 返回/跳出/继续, and 尝试/捕获/最终.
//!
//! `最终` blocks are compiled inline on every path out of their `尝试`: the normal end,
//! each `返回`/`跳出`/`继续` that leaves it (after popping the handler), and a handler path
//! that runs the block and rethrows. A `返回` inside a `最终` therefore replaces whatever
//! was pending, as QI-LANGUAGE.md §10 asks.

use crate::ast::*;
use crate::diagnostic::Code;
use crate::opcode::Op;
use crate::source::Span;

use super::Compiler;
use super::function::{LoopCtx, TryCtx};

impl<'a> Compiler<'a, '_> {
    /// Emits a test of `cond` and returns the jumps to patch to the "false" target.
    pub fn cond_jumps(&mut self, cond: &'a Expr<'a>) -> Vec<usize> {
        crate::deep::deep(|| self.cond_jumps_level(cond))
    }

    /// `cond_jumps`, one level of the tree (`deep` grows the stack between levels).
    fn cond_jumps_level(&mut self, cond: &'a Expr<'a>) -> Vec<usize> {
        self.check_literal_condition(cond);
        let mark = self.fref().free_reg;
        let jumps = match &cond.kind {
            ExprKind::Binary { op, lhs, rhs }
                if matches!(
                    op,
                    BinaryOp::Lt
                        | BinaryOp::Le
                        | BinaryOp::Gt
                        | BinaryOp::Ge
                        | BinaryOp::Eq
                        | BinaryOp::Ne
                ) =>
            {
                self.check_literal_operands(*op, lhs, rhs, cond.span);
                let l = self.expr_reg(lhs);
                // A number literal on the right is compared straight from the constants.
                if let Some(k) = self.number_constant(rhs) {
                    let test = match op {
                        BinaryOp::Lt => Op::TestLtK,
                        BinaryOp::Le => Op::TestLeK,
                        BinaryOp::Gt => Op::TestGtK,
                        BinaryOp::Ge => Op::TestGeK,
                        BinaryOp::Eq => Op::TestEqK,
                        _ => Op::TestNeK,
                    };
                    let pc = self.f().op(test, l, k, 0, cond.span);
                    self.mark_small_int(pc);
                    return self.finish_cond(mark, cond.span);
                }
                let r = self.expr_reg(rhs);
                let test = match op {
                    BinaryOp::Lt => Op::TestLt,
                    BinaryOp::Le => Op::TestLe,
                    BinaryOp::Gt => Op::TestGt,
                    BinaryOp::Ge => Op::TestGe,
                    BinaryOp::Eq => Op::TestEq,
                    _ => Op::TestNe,
                };
                self.f().op(test, l, r, 0, cond.span);
                vec![self.f().jump(Op::Jmp, 0, cond.span)]
            }
            ExprKind::Binary {
                op: BinaryOp::And,
                lhs,
                rhs,
            } => {
                let mut j = self.cond_jumps(lhs);
                j.extend(self.cond_jumps(rhs));
                j
            }
            _ => {
                let r = self.expr_reg(cond);
                vec![self.f().jump(Op::JmpIfNot, r, cond.span)]
            }
        };
        self.f().free_to(mark);
        jumps
    }

    /// The `Jmp` after a test, and the temporaries released.
    fn finish_cond(&mut self, mark: u16, span: Span) -> Vec<usize> {
        let j = self.f().jump(Op::Jmp, 0, span);
        self.f().free_to(mark);
        vec![j]
    }

    /// The constant index of an 整数 or 浮点数 literal (negated ones too).
    /// A test against an 整数 constant that fits in 16 bits also carries it in C, with
    /// hint 1: the fast loop compares with it without loading the constant.
    fn mark_small_int(&mut self, pc: usize) {
        let f = self.f();
        let Some(ins) = f.code.get(pc).copied() else {
            return;
        };
        if let Some(crate::proto::Constant::Int(n)) = f.consts.get(ins.b as usize)
            && let Ok(small) = i16::try_from(*n)
            && let Some(ins) = f.code.get_mut(pc)
        {
            ins.hint = 1;
            ins.c = small as u16;
        }
    }

    pub fn number_constant(&mut self, e: &Expr<'_>) -> Option<u16> {
        let c = match &e.kind {
            ExprKind::Int(n) => crate::proto::Constant::Int(*n),
            ExprKind::Float(x) => crate::proto::Constant::Float(*x),
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => match &operand.kind {
                ExprKind::Int(n) if *n != i64::MIN => crate::proto::Constant::Int(-n),
                ExprKind::Float(x) => crate::proto::Constant::Float(-x),
                _ => return None,
            },
            _ => return None,
        };
        let k = self.f().constant(c);
        u16::try_from(k).ok()
    }

    /// `如果` as a statement: no value is made.
    pub fn if_stmt(
        &mut self,
        cond: &'a Expr<'a>,
        then: &'a Block<'a>,
        otherwise: Option<&'a Expr<'a>>,
        span: Span,
    ) {
        let false_jumps = self.cond_jumps(cond);
        self.block_discard(then);
        match otherwise {
            Some(e) => {
                let end = self.f().jump(Op::Jmp, 0, span);
                self.patch_all_here(false_jumps);
                // `否则 如果 …` and `否则 { … }` are statements like any other.
                self.expr_stmt(e);
                self.f().patch_to_here(end);
            }
            None => self.patch_all_here(false_jumps),
        }
    }

    fn patch_all_here(&mut self, jumps: Vec<usize>) {
        for j in jumps {
            self.f().patch_to_here(j);
        }
    }

    /// A block's statements and its value into `dst` (空 without a tail).
    pub fn block_value(&mut self, block: &'a Block<'a>, dst: u16) {
        self.f().begin_scope();
        for s in block.stmts {
            self.stmt(s);
        }
        match block.tail {
            Some(t) => self.expr(t, dst),
            None => {
                let end = Span::new(block.span.end.saturating_sub(1), block.span.end);
                self.f().op(Op::LoadNil, dst, 0, 0, end);
            }
        }
        self.f().end_scope();
    }

    /// A block run for its effects.
    pub fn block_discard(&mut self, block: &'a Block<'a>) {
        self.f().begin_scope();
        for s in block.stmts {
            self.stmt(s);
        }
        if let Some(t) = block.tail {
            self.expr_stmt(t);
        }
        self.f().end_scope();
    }

    pub fn if_expr(
        &mut self,
        cond: &'a Expr<'a>,
        then: &'a Block<'a>,
        otherwise: Option<&'a Expr<'a>>,
        dst: u16,
        span: Span,
    ) {
        let false_jumps = self.cond_jumps(cond);
        self.block_value(then, dst);
        let end = self.f().jump(Op::Jmp, 0, span);
        self.patch_all_here(false_jumps);
        match otherwise {
            Some(e) => self.expr(e, dst),
            None => {
                self.f().op(Op::LoadNil, dst, 0, 0, span);
            }
        }
        self.f().patch_to_here(end);
    }

    fn begin_loop(&mut self, continue_target: Option<usize>) {
        let f = self.f();
        let ctx = LoopCtx {
            break_jumps: Vec::new(),
            continue_target,
            continue_jumps: Vec::new(),
            try_depth: f.tries.len(),
        };
        f.loops.push(ctx);
    }

    /// Ends a loop: `跳出` jumps land here; pending `继续` jumps land at `continue_at`.
    fn end_loop(&mut self, continue_at: Option<usize>) {
        let Some(ctx) = self.f().loops.pop() else {
            return;
        };
        if let Some(at) = continue_at {
            for j in ctx.continue_jumps {
                self.f().patch(j, at);
            }
        }
        self.patch_all_here(ctx.break_jumps);
    }

    pub fn while_loop(&mut self, cond: &'a Expr<'a>, body: &'a Block<'a>) {
        let start = self.fref().pc();
        let exits = self.cond_jumps(cond);
        self.begin_loop(Some(start));
        self.block_discard(body);
        self.f().loop_to(start, body.span.after());
        self.patch_all_here(exits);
        self.end_loop(None);
    }

    pub fn infinite_loop(&mut self, body: &'a Block<'a>) {
        let start = self.fref().pc();
        self.begin_loop(Some(start));
        self.block_discard(body);
        self.f().loop_to(start, body.span.after());
        self.end_loop(None);
    }

    pub fn for_loop(
        &mut self,
        var: Ident<'a>,
        iter: &'a Expr<'a>,
        body: &'a Block<'a>,
        span: Span,
    ) {
        let mark = self.fref().free_reg;
        if let ExprKind::Range {
            start,
            end,
            inclusive,
        } = &iter.kind
        {
            // A literal range: a counting loop, no iterator object.
            let base = self.f().alloc_n(2);
            self.expr(start, base);
            self.expr(end, base + 1);
            let prep = if *inclusive {
                Op::ForPrepIncl
            } else {
                Op::ForPrep
            };
            self.f().op(prep, base, 0, 0, iter.span);
            let exit = self.f().jump(Op::Jmp, 0, iter.span);
            let body_start = self.fref().pc();
            self.begin_loop(None);
            self.f().begin_scope();
            // The binding is immutable (QI-LANGUAGE.md §10), so the body cannot change the
            // counter through it: it names the counter's register itself, and the copy
            // an iteration would cost is not made. A captured one gets a register of its
            // own, which becomes the iteration's cell.
            let v = if self.res.captured.contains(&var.span.start) {
                let v = self.f().alloc();
                self.f().op(Op::Move, v, base, 0, var.span);
                self.f().op(Op::NewCell, v, 0, 0, var.span);
                v
            } else {
                base
            };
            self.declare_local(var, v, false, None);
            self.block_discard(body);
            self.f().end_scope();
            let step = self.fref().pc();
            let offset = body_start as i64 - (step as i64 + 1);
            self.f().emit(
                crate::opcode::Instr::with_sbx(Op::ForLoop, base, offset as i32),
                span,
            );
            self.f().patch_to_here(exit);
            self.end_loop(Some(step));
        } else {
            let it = self.f().alloc();
            self.expr(iter, it);
            self.f().op(Op::IterInit, it, it, 0, iter.span);
            let start = self.fref().pc();
            self.f().begin_scope();
            let v = self.f().alloc();
            self.f().op(Op::IterNext, it, v, 0, iter.span);
            let exit = self.f().jump(Op::Jmp, 0, iter.span);
            self.begin_loop(Some(start));
            if self.res.captured.contains(&var.span.start) {
                self.f().op(Op::NewCell, v, 0, 0, var.span);
            }
            self.declare_local(var, v, false, None);
            self.block_discard(body);
            self.f().loop_to(start, body.span.after());
            self.f().end_scope();
            self.f().patch_to_here(exit);
            self.end_loop(None);
        }
        self.f().free_to(mark);
    }

    /// Pops handlers and runs `最终` blocks of the `尝试` regions above `depth`, innermost
    /// first, as a jump out of them requires.
    fn unwind_tries(&mut self, depth: usize, span: Span) {
        let saved: Vec<TryCtx<'a>> = self.fref().tries.clone();
        for i in (depth..saved.len()).rev() {
            let t = saved[i];
            self.f().tries.truncate(i);
            if t.handler_active {
                self.f().op(Op::PopHandler, 0, 0, 0, span);
            }
            if let Some(fin) = t.finally {
                self.block_discard(fin);
            }
        }
        self.f().tries = saved;
    }

    /// Whether returning `value` cannot fail the declared return type's check (also when
    /// there is none).
    pub fn return_checked(&mut self, value: Option<&Expr<'_>>) -> bool {
        let Some(want) = self.fref().return_type.as_ref().map(|t| t.kind.clone()) else {
            return true;
        };
        value
            .and_then(|v| self.static_kind(v))
            .is_some_and(|k| k == want)
    }

    pub fn return_stmt(&mut self, value: Option<&'a Expr<'a>>, span: Span) {
        if let (Some(ty), Some(v)) = (self.fref().return_type.clone(), value) {
            self.check_literal_type(&ty, v);
        }
        let mark = self.fref().free_reg;
        let checked = self.return_checked(value);
        // `返回 局部变量;` with nothing to unwind and nothing to check: return it in place.
        if let Some(v) = value
            && self.fref().tries.is_empty()
            && checked
            && !self.fref().wraps_future
            && let ExprKind::Name(id) = &v.kind
            && let Some(reg) = self.local_reg(id.name)
        {
            self.f().op(Op::Return, reg, 0, 0, v.span);
            return;
        }
        let r = self.f().alloc();
        match value {
            Some(v) => self.expr(v, r),
            None => {
                self.f().op(Op::LoadNil, r, 0, 0, span);
            }
        }
        self.unwind_tries(0, span);
        let at = value.map_or(span, |v| v.span);
        self.emit_return(r, at, checked);
        self.f().free_to(mark);
    }

    pub fn break_stmt(&mut self, span: Span) {
        let Some(depth) = self.fref().loops.last().map(|l| l.try_depth) else {
            let d = self
                .diag(Code::E2001, span)
                .with_detail("：「跳出」只能用在循环里");
            self.error(d);
            return;
        };
        self.unwind_tries(depth, span);
        let j = self.f().jump(Op::Jmp, 0, span);
        if let Some(l) = self.f().loops.last_mut() {
            l.break_jumps.push(j);
        }
    }

    pub fn continue_stmt(&mut self, span: Span) {
        let Some((depth, target)) = self
            .fref()
            .loops
            .last()
            .map(|l| (l.try_depth, l.continue_target))
        else {
            let d = self
                .diag(Code::E2001, span)
                .with_detail("：「继续」只能用在循环里");
            self.error(d);
            return;
        };
        self.unwind_tries(depth, span);
        match target {
            Some(t) => self.f().loop_to(t, span),
            None => {
                let j = self.f().jump(Op::Jmp, 0, span);
                if let Some(l) = self.f().loops.last_mut() {
                    l.continue_jumps.push(j);
                }
            }
        }
    }

    pub fn try_stmt(&mut self, t: &'a TryStmt<'a>, span: Span) {
        let mark = self.fref().free_reg;
        let err = self.f().alloc();
        let handler = self.f().jump(Op::PushHandler, err, span);
        self.f().tries.push(TryCtx {
            handler_active: true,
            finally: t.finally,
        });
        self.block_discard(t.body);
        self.f().tries.pop();
        self.f().op(Op::PopHandler, 0, 0, 0, t.body.span.after());
        if let Some(fin) = t.finally {
            self.block_discard(fin);
        }
        let mut ends = vec![self.f().jump(Op::Jmp, 0, span)];
        self.f().patch_to_here(handler);
        match &t.catch {
            Some(catch) => {
                let rethrow = t.finally.map(|_| {
                    let err2 = self.f().alloc();
                    let h = self.f().jump(Op::PushHandler, err2, catch.span);
                    (err2, h)
                });
                if t.finally.is_some() {
                    self.f().tries.push(TryCtx {
                        handler_active: true,
                        finally: t.finally,
                    });
                }
                self.f().begin_scope();
                if let Some(b) = catch.binding {
                    if self.res.captured.contains(&b.span.start) {
                        self.f().op(Op::NewCell, err, 0, 0, b.span);
                    }
                    self.declare_binding_at(b, err);
                }
                self.block_discard(catch.body);
                self.f().end_scope();
                if let (Some(fin), Some((err2, h))) = (t.finally, rethrow) {
                    self.f().tries.pop();
                    self.f()
                        .op(Op::PopHandler, 0, 0, 0, catch.body.span.after());
                    self.block_discard(fin);
                    ends.push(self.f().jump(Op::Jmp, 0, span));
                    self.f().patch_to_here(h);
                    self.block_discard(fin);
                    self.f().op(Op::Throw, err2, 0, 0, fin.span);
                }
            }
            None => {
                if let Some(fin) = t.finally {
                    self.block_discard(fin);
                    self.f().op(Op::Throw, err, 0, 0, fin.span);
                }
            }
        }
        for e in ends {
            self.f().patch_to_here(e);
        }
        self.f().free_to(mark);
    }

    /// Declares an immutable binding at an already-allocated register below `free_reg`
    /// (a catch variable), without disturbing the temporaries above it.
    fn declare_binding_at(&mut self, name: Ident<'a>, reg: u16) {
        self.declare_local(name, reg, false, None);
    }
}
