//! Statements, declarations of variables, assignments, and function bodies.

use std::sync::Arc;

use crate::ast::*;
use crate::diagnostic::Code;
use crate::opcode::Op;
use crate::proto::{Constant, FunctionKind, FunctionProto};
use crate::source::Span;

use super::Compiler;
use super::function::{FunctionBuilder, Local};
use super::names::NameRef;

/// The built-in that makes a finished 未来 of a value that is not one already (for
/// functions declared `: 未来<T>` that are not 异步).
pub const WRAP_FUTURE: &str = "__作为未来";

/// What a function is made of: a declaration, a closure, or a task block.
struct FunctionParts<'a> {
    type_params: &'a [Ident<'a>],
    params: &'a [Param<'a>],
    ret: Option<&'a TypeExpr<'a>>,
    body: &'a Block<'a>,
    span: Span,
    is_async: bool,
}

impl<'a> Compiler<'a, '_> {
    pub fn stmt(&mut self, s: &'a Stmt<'a>) {
        match s.kind {
            StmtKind::Package(_) | StmtKind::Empty => {}
            StmtKind::Import(_) => {
                let d = self
                    .diag(Code::E2001, s.span)
                    .with_detail("：「导入」只能写在文件开头")
                    .with_hint("把「导入」移到文件最前面（「包」声明之后）");
                self.error(d);
            }
            StmtKind::Struct(d) => self.nested_declaration(d.name, "结构体"),
            StmtKind::Enum(d) => self.nested_declaration(d.name, "枚举"),
            StmtKind::Methods(d) => self.nested_declaration(d.target, "方法"),
            StmtKind::Function(f) => {
                if !self.in_toplevel_code() || self.fref().scope_marks.len() > 1 {
                    self.local_function(f);
                }
                // Top-level functions were compiled in the declaration pass.
            }
            StmtKind::Let(decl) => self.let_decl(decl, s.span),
            StmtKind::Expr { expr, .. } => self.expr_stmt(expr),
            StmtKind::Assign { target, op, value } => self.assign(target, op, value, s.span),
            StmtKind::Send { channel, value } => self.send(channel, value, s.span),
            StmtKind::While { cond, body } => self.while_loop(cond, body),
            StmtKind::For { var, iter, body } => self.for_loop(var, iter, body, s.span),
            StmtKind::Loop { body } => self.infinite_loop(body),
            StmtKind::Return(value) => self.return_stmt(value, s.span),
            StmtKind::Break => self.break_stmt(s.span),
            StmtKind::Continue => self.continue_stmt(s.span),
            StmtKind::Throw(value) => {
                let mark = self.fref().free_reg;
                let r = self.expr_reg(value);
                self.f().op(Op::Throw, r, 0, 0, s.span);
                self.f().free_to(mark);
            }
            StmtKind::Try(t) => self.try_stmt(t, s.span),
            StmtKind::Select(sel) => self.select(sel, s.span),
        }
    }

    fn nested_declaration(&mut self, name: Ident<'a>, what: &str) {
        if !self.in_toplevel_code() || self.fref().scope_marks.len() > 1 {
            let d = self
                .diag(Code::E2001, name.span)
                .with_detail(format!("：「{what}」只能在文件顶层声明"));
            self.error(d);
        }
    }

    /// An expression statement: evaluate and discard.
    pub fn expr_stmt(&mut self, e: &'a Expr<'a>) {
        let mark = self.fref().free_reg;
        match &e.kind {
            // A statement-level 如果 or block makes no value.
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => self.if_stmt(cond, then, *otherwise, e.span),
            ExprKind::Block(b) => self.block_discard(b),
            // The handle is thrown away: a failure of this task ends the program.
            ExprKind::Create(body) => {
                let r = self.f().alloc();
                self.spawn(*body, r, true, e.span);
            }
            ExprKind::Coroutine(_) => {
                let w = self
                    .diag(crate::diagnostic::Code::W6001, e.span)
                    .with_detail("：这个协程被丢弃了");
                self.warnings.push(w);
                let r = self.f().alloc();
                self.expr(e, r);
            }
            ExprKind::Call { callee, args } => {
                let r = self.f().alloc();
                self.call_discarding(callee, args, r, e.span);
            }
            _ => {
                let r = self.f().alloc();
                self.expr(e, r);
            }
        }
        self.f().free_to(mark);
    }

    /// Declares a local in the current scope at register `reg`.
    pub fn declare_local(
        &mut self,
        name: Ident<'a>,
        reg: u16,
        mutable: bool,
        ty: Option<crate::proto::TypeDesc>,
    ) {
        let cell = self.res.captured.contains(&name.span.start);
        self.f().locals.push(Local {
            name: name.name,
            reg,
            mutable,
            cell,
            ty,
            unset: false,
        });
    }

    fn let_decl(&mut self, decl: &'a LetDecl<'a>, span: Span) {
        let ty = decl.ty.map(|t| self.type_desc(t));
        if let (Some(ty), Some(v)) = (&ty, decl.value) {
            self.check_literal_type(ty, v);
        }
        let value_span = decl.value.map_or(span, |v| v.span);
        let is_global = self.in_toplevel_code()
            && self.fref().scope_marks.len() == 1
            && self.res.global_vars.contains(&decl.name.span.start);
        if is_global {
            let Some(var) = self.global_vars.get(decl.name.name).cloned() else {
                return;
            };
            let r = self.f().alloc();
            self.initial_value(decl, ty.as_ref(), r, span, value_span);
            self.f().op_bx(Op::DefGlobal, r, var.slot, span);
            self.f().free_to(r);
            self.toplevel_vars.insert(
                decl.name.name,
                super::GlobalVar {
                    slot: var.slot,
                    mutable: decl.mutable,
                    ty,
                },
            );
            return;
        }
        let reg = self.f().alloc();
        let captured = self.res.captured.contains(&decl.name.span.start);
        let closure_init = decl
            .value
            .is_some_and(|v| matches!(v.kind, ExprKind::Closure(_)));
        if captured && closure_init {
            // The closure may call itself: the cell exists before the closure is made.
            self.f().op(Op::LoadNil, reg, 0, 0, span);
            self.f().op(Op::NewCell, reg, 0, 0, span);
            self.declare_local(decl.name, reg, decl.mutable, ty);
            let tmp = self.f().alloc();
            if let Some(v) = decl.value {
                self.expr(v, tmp);
            }
            self.f().op(Op::SetCell, reg, tmp, 0, span);
            self.f().free_to(tmp);
            return;
        }
        self.initial_value(decl, ty.as_ref(), reg, span, value_span);
        if captured {
            // An immutable binding with its value never changes: a fixed cell, read
            // without a lock.
            let fixed = u16::from(!decl.mutable && decl.value.is_some());
            self.f().op(Op::NewCell, reg, fixed, 0, span);
        }
        self.f().free_to(reg + 1);
        self.declare_local(decl.name, reg, decl.mutable, ty);
        if decl.value.is_none()
            && let Some(local) = self.f().locals.last_mut()
        {
            local.unset = true;
        }
    }

    /// `函数 名() {…}` inside a block: a local closure that can call itself.
    fn local_function(&mut self, f: &'a FunctionDecl<'a>) {
        let reg = self.f().alloc();
        let captured = self.res.captured.contains(&f.name.span.start);
        if captured {
            self.f().op(Op::LoadNil, reg, 0, 0, f.span);
            self.f().op(Op::NewCell, reg, 0, 0, f.span);
            self.declare_local(f.name, reg, false, None);
            let tmp = self.f().alloc();
            self.closure(f, f.name.name.into(), tmp);
            self.f().op(Op::SetCell, reg, tmp, 0, f.span);
            self.f().free_to(tmp);
        } else {
            self.closure(f, f.name.name.into(), reg);
            self.declare_local(f.name, reg, false, None);
        }
    }

    fn assign(&mut self, target: &'a Expr<'a>, op: AssignOp, value: &'a Expr<'a>, span: Span) {
        let mark = self.fref().free_reg;
        let bin = match op {
            AssignOp::Assign => None,
            AssignOp::Add => Some(Op::Add),
            AssignOp::Sub => Some(Op::Sub),
            AssignOp::Mul => Some(Op::Mul),
            AssignOp::Div => Some(Op::Div),
            AssignOp::Rem => Some(Op::Rem),
        };
        match &target.kind {
            ExprKind::Name(id) => {
                if op == AssignOp::Assign
                    && let Some(
                        NameRef::Local { ty: Some(ty), .. }
                        | NameRef::Upvalue { ty: Some(ty), .. }
                        | NameRef::Global { ty: Some(ty), .. }
                        | NameRef::Outer { ty: Some(ty), .. },
                    ) = self.lookup(id.name)
                {
                    self.check_literal_type(&ty, value);
                }
                // Check before evaluating, so E3005 points at the name.
                match self.lookup(id.name) {
                    Some(
                        NameRef::Local { mutable, .. }
                        | NameRef::Upvalue { mutable, .. }
                        | NameRef::Global { mutable, .. }
                        | NameRef::Outer { mutable, .. },
                    ) if !mutable => {
                        let d = self
                            .diag(Code::E3005, id.span)
                            .with_detail(format!("「{}」", id.name));
                        self.error(d);
                        return;
                    }
                    _ => {}
                }
                let src = match bin {
                    None => {
                        // Straight into a plain local's register when possible.
                        if let Some(reg) = self.local_reg(id.name)
                            && self.local_is_plain_untyped(id.name)
                        {
                            self.expr(value, reg);
                            self.f().free_to(mark);
                            return;
                        }
                        self.expr_reg(value)
                    }
                    Some(bop) => {
                        // A plain local is updated in its own register.
                        if let Some(reg) = self.local_reg(id.name)
                            && self.local_is_plain_untyped(id.name)
                        {
                            self.arith_into(bop, reg, reg, value, span);
                            self.f().free_to(mark);
                            return;
                        }
                        let cur = self.f().alloc();
                        self.load_name(id.name, cur, id.span);
                        self.arith_into(bop, cur, cur, value, span);
                        cur
                    }
                };
                self.store_name(id.name, src, id.span);
            }
            ExprKind::Index { object, index } => {
                let obj = self.expr_reg(object);
                let idx = self.expr_reg(index);
                let read = (Op::GetIndex, obj, idx);
                let val = self.assigned_value(value, bin, read, target.span, span);
                self.f().op(Op::SetIndex, obj, idx, val, target.span);
            }
            ExprKind::Field { object, name } => {
                let obj = self.expr_reg(object);
                let k = self.f().name_const(name.name);
                let val =
                    self.assigned_value(value, bin, (Op::GetField, obj, k), target.span, span);
                self.f().op(Op::SetField, obj, val, k, target.span);
            }
            ExprKind::Deref(r) => {
                let rr = self.expr_reg(r);
                let val = self.assigned_value(value, bin, (Op::Deref, rr, 0), target.span, span);
                self.f().op(Op::SetDeref, rr, val, 0, target.span);
            }
            _ => {
                let d = self
                    .diag(Code::E2001, target.span)
                    .with_detail("：不能给这个表达式赋值")
                    .with_hint("可以赋值的是变量、下标 a[i]、字段 p.x 和 解引用 r");
                self.error(d);
            }
        }
        self.f().free_to(mark);
    }

    /// A declaration's initial value into `r` (空 without one), checked against its
    /// annotation.
    fn initial_value(
        &mut self,
        decl: &'a LetDecl<'a>,
        ty: Option<&crate::proto::TypeDesc>,
        r: u16,
        span: Span,
        value_span: Span,
    ) {
        match decl.value {
            Some(v) => self.expr(v, r),
            None => {
                self.f().op(Op::LoadNil, r, 0, 0, span);
            }
        }
        if let (Some(ty), Some(_)) = (ty, decl.value) {
            let k = self.f().constant(Constant::Type(ty.clone()));
            self.f().op_bx(Op::CheckType, r, k, value_span);
        }
    }

    /// The register holding what an assignment to `a[i]`, `p.x` or `解引用 r` stores:
    /// `value` itself, or for a compound operator `bin` the target's current value —
    /// read with `read` (an op and its B and C operands) — combined with `value`.
    fn assigned_value(
        &mut self,
        value: &'a Expr<'a>,
        bin: Option<Op>,
        (get, b, c): (Op, u16, u16),
        target: Span,
        span: Span,
    ) -> u16 {
        let Some(bop) = bin else {
            return self.expr_reg(value);
        };
        let cur = self.f().alloc();
        self.f().op(get, cur, b, c, target);
        let rhs = self.expr_reg(value);
        self.f().op(bop, cur, cur, rhs, span);
        cur
    }

    fn local_is_plain_untyped(&self, name: &str) -> bool {
        let f = self.fref();
        f.find_local(name)
            .is_some_and(|i| !f.locals[i].cell && f.locals[i].ty.is_none() && f.locals[i].mutable)
    }

    // ---- functions ------------------------------------------------------------------

    /// Compiles a function declaration or closure body into a proto.
    pub fn function(
        &mut self,
        f: &'a FunctionDecl<'a>,
        name: Arc<str>,
        kind: FunctionKind,
        uses_self: bool,
    ) -> Arc<FunctionProto> {
        let parts = FunctionParts {
            type_params: f.type_params,
            params: f.params,
            ret: f.ret,
            body: f.body,
            span: f.span,
            is_async: f.is_async,
        };
        self.function_from(parts, name, kind, uses_self)
    }

    /// A block run later as a function of no parameters (`协程 {…}`, `创建 {…}`).
    pub fn block_function(&mut self, body: &'a Block<'a>, span: Span) -> Arc<FunctionProto> {
        let parts = FunctionParts {
            type_params: &[],
            params: &[],
            ret: None,
            body,
            span,
            is_async: false,
        };
        self.function_from(parts, "<匿名>".into(), FunctionKind::Closure, false)
    }

    fn function_from(
        &mut self,
        f: FunctionParts<'a>,
        name: Arc<str>,
        kind: FunctionKind,
        uses_self: bool,
    ) -> Arc<FunctionProto> {
        let type_mark = self.push_type_params(f.type_params);
        let proto = self.function_body(f, name, kind, uses_self);
        self.type_params.truncate(type_mark);
        proto
    }

    fn function_body(
        &mut self,
        f: FunctionParts<'a>,
        name: Arc<str>,
        kind: FunctionKind,
        uses_self: bool,
    ) -> Arc<FunctionProto> {
        let mut b = FunctionBuilder::new(name, kind, f.span);
        b.arity = f.params.len() as u16;
        b.uses_self = uses_self;
        b.is_async = f.is_async;
        self.fns.push(b);
        self.f().begin_scope();
        if uses_self {
            let r = self.f().alloc();
            if self.res.self_captured.contains(&f.span.start) {
                let cell = self.f().alloc();
                self.f().op(Op::Move, cell, r, 0, f.span);
                self.f().op(Op::NewCell, cell, 0, 0, f.span);
                self.push_self_local(cell, true);
            } else {
                self.push_self_local(r, false);
            }
        }
        let first_param = self.fref().free_reg;
        let params: Vec<u16> = (0..f.params.len()).map(|_| self.f().alloc()).collect();
        // With a captured 自己 the parameters do not follow R[0] directly; the calling
        // convention puts them right after 自己, so move them up.
        let expected_first = if uses_self { 1 } else { 0 };
        if first_param != expected_first {
            for (i, &reg) in params.iter().enumerate().rev() {
                self.f().op(
                    Op::Move,
                    reg,
                    FunctionBuilder::reg_at(expected_first, i),
                    0,
                    f.span,
                );
            }
        }
        for (i, p) in f.params.iter().enumerate() {
            let reg = params[i];
            let ty = p.ty.map(|t| self.type_desc(t));
            if let Some(ty) = &ty {
                let k = self.f().constant(Constant::Type(ty.clone())) as u16;
                self.f().op(Op::CheckParam, reg, k, i as u16, p.name.span);
            }
            if self.res.captured.contains(&p.name.span.start) {
                self.f().op(Op::NewCell, reg, 0, 0, p.name.span);
            }
            self.declare_local(p.name, reg, true, ty);
        }
        let task_blocks = self
            .res
            .task_blocks
            .get(&f.body.span.start)
            .copied()
            .unwrap_or(0);
        self.f().reserve_task_caches(task_blocks);
        // `: 未来<T>`: an 异步 函数 returns a T (the call makes the 未来); any other
        // function's result is wrapped in a finished 未来 (QI-LANGUAGE.md §7.2, §10).
        let ret_ty = match f.ret {
            Some(t) if t.path.len() == 1 && matches!(t.name(), "未来" | "任务") => {
                if f.is_async {
                    t.args.first().map(|a| self.type_desc(a))
                } else {
                    self.f().wraps_future = true;
                    None
                }
            }
            Some(t) => Some(self.type_desc(t)),
            None => None,
        };
        self.body(f.body, ret_ty);
        self.check_overflow(f.span);
        let b = self.fns.pop().expect("正在编译的函数");
        Arc::new(b.finish(&self.file, self.opts.hidden))
    }

    fn push_self_local(&mut self, reg: u16, cell: bool) {
        self.f().locals.push(Local {
            name: "自己",
            reg,
            mutable: false,
            cell,
            ty: None,
            unset: false,
        });
    }

    /// A function body: its statements, then its value (the tail expression) returned.
    fn body(&mut self, body: &'a Block<'a>, ret_ty: Option<crate::proto::TypeDesc>) {
        self.f().begin_scope();
        self.f().return_type = ret_ty.clone();
        for s in body.stmts {
            self.stmt(s);
        }
        match body.tail {
            Some(tail) => {
                let checked = self.return_checked(Some(tail));
                let r = self.f().alloc();
                self.expr(tail, r);
                self.emit_return(r, tail.span, checked);
            }
            None => {
                let end = Span::new(body.span.end.saturating_sub(1), body.span.end);
                if let Some(ty) = &ret_ty {
                    let r = self.f().alloc();
                    self.f().op(Op::LoadNil, r, 0, 0, end);
                    let k = self.f().constant(Constant::Type(ty.clone()));
                    self.f().op_bx(Op::CheckType, r, k, end);
                    self.f().op(Op::Return, r, 0, 0, end);
                } else {
                    self.f().op(Op::ReturnNil, 0, 0, 0, end);
                }
            }
        }
        self.f().end_scope();
    }

    /// `return R[r]`, checking the declared return type unless `checked` (the value is
    /// known to be of that type).
    pub fn emit_return(&mut self, r: u16, span: Span, checked: bool) {
        if let Some(ty) = self.fref().return_type.clone()
            && !checked
        {
            let k = self.f().constant(Constant::Type(ty));
            self.f().op_bx(Op::CheckType, r, k, span);
        }
        if self.fref().wraps_future {
            let base = self.f().alloc_n(2);
            let k = self.f().name_const(WRAP_FUTURE) as u32;
            self.f().op_bx(Op::GetBuiltin, base, k, span);
            self.f().op(Op::Move, base + 1, r, 0, span);
            self.f().op(Op::Call, base, 1, 0, span);
            self.f().op(Op::Return, base, 0, 0, span);
            return;
        }
        self.f().op(Op::Return, r, 0, 0, span);
    }

    /// Makes a closure of `f` into `dst`.
    pub fn closure(&mut self, f: &'a FunctionDecl<'a>, name: Arc<str>, dst: u16) {
        let proto = self.function(f, name, FunctionKind::Closure, false);
        let idx = self.f().protos.len() as u32;
        self.f().protos.push(proto);
        self.f().op_bx(Op::Closure, dst, idx, f.span);
    }
}
