//! Expressions: each is compiled into a destination register.

use crate::ast::*;
use crate::diagnostic::Code;
use crate::opcode::Op;
use crate::proto::Constant;

use super::Compiler;
use super::function::FunctionBuilder;
use super::names::NameRef;

impl<'a> Compiler<'a, '_> {
    /// Compiles `e` so that its value ends up in `dst`.
    pub fn expr(&mut self, e: &'a Expr<'a>, dst: u16) {
        crate::deep::deep(|| self.expr_level(e, dst));
    }

    /// `expr`, one level of the tree (`deep` grows the stack between levels).
    fn expr_level(&mut self, e: &'a Expr<'a>, dst: u16) {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(n) => self.load_int(*n, dst, span),
            ExprKind::Float(x) => {
                let k = self.f().constant(Constant::Float(*x));
                self.f().op_bx(Op::LoadConst, dst, k, span);
            }
            ExprKind::Str(s) => {
                let k = self.f().constant(Constant::Str((*s).into()));
                self.f().op_bx(Op::LoadConst, dst, k, span);
            }
            ExprKind::Bool(b) => {
                self.f().op(Op::LoadBool, dst, *b as u16, 0, span);
            }
            ExprKind::Nil | ExprKind::Error => {
                self.f().op(Op::LoadNil, dst, 0, 0, span);
            }
            ExprKind::SelfValue => {
                if self.lookup("自己").is_some() {
                    self.load_name("自己", dst, span);
                } else {
                    let d = self
                        .diag(Code::E3002, span)
                        .with_detail("「自己」")
                        .with_hint("「自己」只能用在「方法」块里的函数中");
                    self.error(d);
                }
            }
            ExprKind::Name(id) => self.load_name(id.name, dst, id.span),
            ExprKind::List(items) => {
                let mark = self.fref().free_reg;
                let base = self.f().alloc_n(items.len() as u32);
                for (i, item) in items.iter().enumerate() {
                    self.expr(item, FunctionBuilder::reg_at(base, i));
                }
                self.f()
                    .op(Op::NewList, dst, base, items.len() as u16, span);
                self.f().free_to(mark);
            }
            ExprKind::Dict(pairs) => {
                let mark = self.fref().free_reg;
                let base = self.f().alloc_n(2 * pairs.len() as u32);
                for (i, (k, v)) in pairs.iter().enumerate() {
                    self.expr(k, FunctionBuilder::reg_at(base, 2 * i));
                    self.expr(v, FunctionBuilder::reg_at(base, 2 * i + 1));
                }
                self.f()
                    .op(Op::NewDict, dst, base, pairs.len() as u16, span);
                self.f().free_to(mark);
            }
            ExprKind::StructLit { path, fields } => self.struct_lit(path, fields, dst, span),
            ExprKind::Unary { op, operand } => self.unary(*op, operand, dst, span),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, dst, span),
            ExprKind::Range {
                start,
                end,
                inclusive,
            } => {
                let mark = self.fref().free_reg;
                let l = self.expr_reg(start);
                let r = self.expr_reg(end);
                let op = if *inclusive { Op::RangeIncl } else { Op::Range };
                self.f().op(op, dst, l, r, span);
                self.f().free_to(mark);
            }
            ExprKind::Call { callee, args } => self.call(callee, args, dst, span),
            ExprKind::Field { object, name } => {
                let mark = self.fref().free_reg;
                let obj = self.expr_reg(object);
                let k = self.f().name_const(name.name);
                self.f().op(Op::GetField, dst, obj, k, span);
                self.f().free_to(mark);
            }
            ExprKind::Index { object, index } => {
                let mark = self.fref().free_reg;
                let obj = self.expr_reg(object);
                let idx = self.expr_reg(index);
                self.f().op(Op::GetIndex, dst, obj, idx, span);
                self.f().free_to(mark);
            }
            ExprKind::Path(path) => self.path_expr(path, dst, span),
            ExprKind::Generic { base, .. } => self.expr(base, dst),
            ExprKind::Closure(f) => self.closure(f, "<匿名>".into(), dst),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => self.if_expr(cond, then, *otherwise, dst, span),
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, dst, span),
            ExprKind::Block(b) => self.block_value(b, dst),
            ExprKind::Coroutine(body) => self.coroutine(*body, dst, span),
            ExprKind::Create(body) => self.spawn(*body, dst, false, span),
            ExprKind::Spawn(body) => {
                self.spawn(*body, dst, true, span);
                self.f().op(Op::LoadNil, dst, 0, 0, span);
            }
            ExprKind::Await(t) => self.unary_op(Op::Await, t, dst, span),
            ExprKind::Resume(c) => {
                let mark = self.fref().free_reg;
                let cr = self.expr_reg(c);
                let v = self.f().alloc();
                self.f().op(Op::LoadNil, v, 0, 0, span);
                self.f().op(Op::Resume, dst, cr, v, span);
                self.f().free_to(mark);
            }
            ExprKind::Suspend(v) => {
                let mark = self.fref().free_reg;
                let vr = match v {
                    Some(v) => self.expr_reg(v),
                    None => {
                        let r = self.f().alloc();
                        self.f().op(Op::LoadNil, r, 0, 0, span);
                        r
                    }
                };
                self.f().op(Op::Suspend, dst, vr, 0, span);
                self.f().free_to(mark);
            }
            ExprKind::Recv(ch) => self.recv(ch, dst, span),
            ExprKind::AddrOf(target) => self.addr_of(target, dst, span),
            ExprKind::Deref(r) => {
                let mark = self.fref().free_reg;
                let rr = self.expr_reg(r);
                self.f().op(Op::Deref, dst, rr, 0, span);
                self.f().free_to(mark);
            }
        }
    }

    /// Compiles `e` into some register: a plain local's own register when `e` is one
    /// (no move), else a new temporary. The caller frees temporaries by mark.
    pub fn expr_reg(&mut self, e: &'a Expr<'a>) -> u16 {
        if let ExprKind::Name(id) = &e.kind
            && let Some(reg) = self.local_reg(id.name)
        {
            return reg;
        }
        let r = self.f().alloc();
        self.expr(e, r);
        r
    }

    pub fn load_int(&mut self, n: i64, dst: u16, span: crate::source::Span) {
        if let Ok(small) = i32::try_from(n) {
            self.f().emit(
                crate::opcode::Instr::with_sbx(Op::LoadInt, dst, small),
                span,
            );
        } else {
            let k = self.f().constant(Constant::Int(n));
            self.f().op_bx(Op::LoadConst, dst, k, span);
        }
    }

    /// `R[dst] = op R[e]` for the one-operand task operations.
    fn unary_op(&mut self, op: Op, e: &'a Expr<'a>, dst: u16, span: crate::source::Span) {
        let mark = self.fref().free_reg;
        let r = self.expr_reg(e);
        self.f().op(op, dst, r, 0, span);
        self.f().free_to(mark);
    }

    fn unary(&mut self, op: UnaryOp, operand: &'a Expr<'a>, dst: u16, span: crate::source::Span) {
        if op == UnaryOp::Neg {
            // Fold negative literals so `-1` is one load.
            match &operand.kind {
                ExprKind::Int(n) if *n != i64::MIN => return self.load_int(-n, dst, span),
                ExprKind::Float(x) => {
                    let k = self.f().constant(Constant::Float(-x));
                    self.f().op_bx(Op::LoadConst, dst, k, span);
                    return;
                }
                _ => {}
            }
        }
        if op == UnaryOp::Neg
            && let Some(kind) = super::types::LiteralKind::of(operand)
            && !matches!(
                kind,
                super::types::LiteralKind::Int | super::types::LiteralKind::Float
            )
        {
            let d = self
                .diag(Code::E3009, span)
                .with_detail(format!("：不能对「{}」取负", kind.type_name()));
            self.error(d);
        }
        if op == UnaryOp::Not
            && let Some(kind) = super::types::LiteralKind::of(operand)
            && kind != super::types::LiteralKind::Bool
        {
            let d = self
                .diag(Code::E3004, operand.span)
                .with_detail(format!("：「!」的操作数是「{}」", kind.type_name()));
            self.error(d);
        }
        let mark = self.fref().free_reg;
        let r = self.expr_reg(operand);
        let code = if op == UnaryOp::Neg { Op::Neg } else { Op::Not };
        self.f().op(code, dst, r, 0, span);
        self.f().free_to(mark);
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &'a Expr<'a>,
        rhs: &'a Expr<'a>,
        dst: u16,
        span: crate::source::Span,
    ) {
        self.check_literal_operands(op, lhs, rhs, span);
        match op {
            BinaryOp::And | BinaryOp::Or => {
                // Both sides must be 布尔 (E3004): the jump checks the left, a jump of
                // zero checks the right.
                self.expr(lhs, dst);
                let short = if op == BinaryOp::And {
                    Op::JmpIfNot
                } else {
                    Op::JmpIf
                };
                let j = self.f().jump(short, dst, lhs.span);
                self.expr(rhs, dst);
                self.f().jump(Op::JmpIfNot, dst, rhs.span);
                self.f().patch_to_here(j);
            }
            BinaryOp::Add | BinaryOp::Sub => {
                let mark = self.fref().free_reg;
                let l = self.expr_reg(lhs);
                let code = if op == BinaryOp::Add {
                    Op::Add
                } else {
                    Op::Sub
                };
                self.arith_into(code, dst, l, rhs, span);
                self.f().free_to(mark);
            }
            _ => {
                let mark = self.fref().free_reg;
                let l = self.expr_reg(lhs);
                let r = self.expr_reg(rhs);
                let code = match op {
                    BinaryOp::Add => Op::Add,
                    BinaryOp::Sub => Op::Sub,
                    BinaryOp::Mul => Op::Mul,
                    BinaryOp::Div => Op::Div,
                    BinaryOp::Rem => Op::Rem,
                    BinaryOp::Eq => Op::Eq,
                    BinaryOp::Ne => Op::Ne,
                    BinaryOp::Lt => Op::Lt,
                    BinaryOp::Le => Op::Le,
                    BinaryOp::Gt => Op::Gt,
                    _ => Op::Ge,
                };
                self.f().op(code, dst, l, r, span);
                self.f().free_to(mark);
            }
        }
    }

    /// `R[dst] = R[l] op rhs`, using `AddI`/`SubI` when `op` is `+` or `-` and `rhs` is a
    /// small 整数 literal.
    pub fn arith_into(
        &mut self,
        op: Op,
        dst: u16,
        l: u16,
        rhs: &'a Expr<'a>,
        span: crate::source::Span,
    ) {
        if matches!(op, Op::Add | Op::Sub)
            && let ExprKind::Int(n) = rhs.kind
            && let Ok(k) = i16::try_from(n)
        {
            let code = if op == Op::Add { Op::AddI } else { Op::SubI };
            self.f().op(code, dst, l, k as u16, span);
            return;
        }
        let mark = self.fref().free_reg;
        let r = self.expr_reg(rhs);
        self.f().op(op, dst, l, r, span);
        self.f().free_to(mark);
    }

    fn addr_of(&mut self, target: &'a Expr<'a>, dst: u16, span: crate::source::Span) {
        let ExprKind::Name(id) = &target.kind else {
            let d = self
                .diag(Code::E2001, target.span)
                .with_detail("：「取地址」只能用于变量");
            self.error(d);
            return;
        };
        // C: 0 read-only, 1 writable, 2 + k writable with the annotation K[k].
        let access =
            |c: &mut Self, mutable: bool, ty: Option<crate::proto::TypeDesc>| match (mutable, ty) {
                (false, _) => 0,
                (true, None) => 1,
                (true, Some(t)) => 2 + c.f().constant(Constant::Type(t)) as u16,
            };
        match self.resolve(id.name, id.span) {
            Some(NameRef::Local {
                reg,
                cell: true,
                mutable,
                ty,
            }) => {
                let c = access(self, mutable, ty);
                self.f().op(Op::RefCell, dst, reg, c, span);
            }
            Some(NameRef::Upvalue {
                index, mutable, ty, ..
            }) => {
                let c = access(self, mutable, ty);
                self.f().op(Op::RefUpval, dst, index, c, span);
            }
            Some(NameRef::Global { slot, mutable, .. }) => {
                let op = if mutable {
                    Op::RefGlobal
                } else {
                    Op::RefGlobalRo
                };
                self.f().op_bx(op, dst, slot, span);
            }
            Some(_) => {
                let d = self
                    .diag(Code::E2001, target.span)
                    .with_detail(format!("：「{}」不是变量，不能取地址", id.name));
                self.error(d);
            }
            None => {}
        }
    }
}
