//! Calls, method calls, type paths (`点::原点`, `形状::圆`) and struct literals.
//!
//! When the callee is known at compile time — a top-level function, a variant of an enum
//! of this file, a method called as `类型::名` — the argument count is checked here
//! (E3006), 自己 in a static call is rejected (E3012), and the call binds directly to the
//! declaration slot with no lookup at run time.

use std::sync::Arc;

use crate::ast::*;
use crate::diagnostic::Code;
use crate::opcode::Op;
use crate::proto::Constant;
use crate::source::Span;

use super::function::FunctionBuilder;
use super::{Compiler, TypeInfo};

/// What a `类型::名` path names when the type is declared in this file.
enum StaticPath {
    Variant {
        type_slot: u32,
        index: u16,
        arity: u16,
    },
    Method(super::MethodInfo),
}

impl<'a> Compiler<'a, '_> {
    /// A register to build a call in: `dst` itself when it is a free temporary on top.
    fn call_base(&mut self, dst: u16, n: u32) -> u16 {
        let f = self.fref();
        let dst_is_top_temp = dst + 1 == f.free_reg && !f.locals.iter().any(|l| l.reg == dst);
        if dst_is_top_temp {
            self.f().alloc_n(n - 1);
            dst
        } else {
            self.f().alloc_n(n)
        }
    }

    /// Compiles arguments into `base + 1 …` and records their spans for E3001.
    fn args(&mut self, base: u16, args: &'a [Expr<'a>]) -> Vec<Span> {
        for (i, a) in args.iter().enumerate() {
            self.expr(a, FunctionBuilder::reg_at(base, 1 + i));
        }
        args.iter().map(|a| a.span).collect()
    }

    fn record_arg_spans(&mut self, pc: usize, spans: Vec<Span>) {
        self.f().arg_spans.push((pc as u32, spans));
    }

    fn arity_error(&mut self, span: Span, what: &str, expected: u16, got: usize) {
        let d = self.diag(Code::E3006, span).with_detail(format!(
            "：「{what}」需要 {expected} 个参数，这里给了 {got} 个"
        ));
        self.error(d);
    }

    pub fn call(&mut self, callee: &'a Expr<'a>, args: &'a [Expr<'a>], dst: u16, span: Span) {
        self.call_with(callee, args, dst, span, false);
    }

    /// A call whose result is thrown away (an expression statement): an 异步 function called
    /// like this starts a detached task.
    pub fn call_discarding(
        &mut self,
        callee: &'a Expr<'a>,
        args: &'a [Expr<'a>],
        dst: u16,
        span: Span,
    ) {
        self.call_with(callee, args, dst, span, true);
    }

    fn call_with(
        &mut self,
        callee: &'a Expr<'a>,
        args: &'a [Expr<'a>],
        dst: u16,
        span: Span,
        discarded: bool,
    ) {
        let mark = self.fref().free_reg;
        // (Wraps past 65,535 arguments, but `call_base` then finds the registers exhausted,
        // and the function is rejected with E2003.)
        let argc = args.len() as u16;
        let callee = match &callee.kind {
            ExprKind::Generic { base, .. } => *base,
            _ => callee,
        };
        match &callee.kind {
            ExprKind::Name(id)
                if self.lookup_is_function(id.name) && !self.async_functions.contains(id.name) =>
            {
                let (slot, arity) = self.functions[id.name];
                // Whether every annotated parameter gets an argument proven to be of its
                // kind: then the call skips the callee's parameter checks.
                let mut proven = false;
                if usize::from(arity) != args.len() {
                    self.arity_error(span, id.name, arity, args.len());
                } else if let Some(decl) = self.function_decls.get(id.name).copied() {
                    proven = true;
                    for (p, a) in decl.params.iter().zip(args) {
                        if let Some(t) = p.ty {
                            let ty = self.type_desc_quiet(t);
                            self.check_literal_type(&ty, a);
                            proven &= self.static_kind(a).is_some_and(|k| k == ty.kind);
                        }
                    }
                }
                let base = self.call_base(dst, 1 + args.len() as u32);
                let spans = self.args(base, args);
                let pc = self.f().op(Op::CallDecl, base, argc, slot as u16, span);
                if proven {
                    self.f().code[pc].hint = 1;
                }
                self.record_arg_spans(pc, spans);
                self.move_result(base, dst, span);
            }
            ExprKind::Path(path) if self.static_path(path).is_some() => {
                match self.static_path(path) {
                    Some(StaticPath::Variant {
                        type_slot,
                        index,
                        arity,
                    }) => {
                        if usize::from(arity) != args.len() {
                            self.arity_error(span, &path_text(path), arity, args.len());
                        }
                        let base = self.call_base(dst, 1 + args.len() as u32);
                        self.f().op_bx(Op::GetDecl, base, type_slot, path.span);
                        self.args(base, args);
                        self.f().op(Op::NewVariant, dst, base, index, span);
                    }
                    Some(StaticPath::Method(m)) => {
                        if m.uses_self {
                            let d = self
                                .diag(Code::E3012, span)
                                .with_detail(format!("：「{}」用到了「自己」", path_text(path)));
                            self.error(d);
                        }
                        if usize::from(m.arity) != args.len() {
                            self.arity_error(span, &path_text(path), m.arity, args.len());
                        }
                        let base = self.call_base(dst, 1 + args.len() as u32);
                        let spans = self.args(base, args);
                        let pc = self.f().op(Op::CallDecl, base, argc, m.slot as u16, span);
                        self.record_arg_spans(pc, spans);
                        self.move_result(base, dst, span);
                    }
                    None => {}
                }
            }
            // `值.名(…)` calls a method; `(值.名)(…)` — a closing parenthesis right after
            // the name — calls what the field holds.
            ExprKind::Field { object, name } if !self.parenthesized(callee) => {
                let base = self.call_base(dst, 1 + args.len() as u32);
                let last = self.receiver_loads_last(object, args);
                if !last {
                    self.expr(object, base);
                }
                let spans = self.args(base, args);
                if last {
                    self.expr(object, base);
                }
                let k = self.f().name_const(name.name);
                let pc = self.f().op(Op::Invoke, base, argc, k, span);
                self.record_arg_spans(pc, spans);
                self.move_result(base, dst, span);
            }
            _ => {
                let base = self.call_base(dst, 1 + args.len() as u32);
                self.expr(callee, base);
                let spans = self.args(base, args);
                let pc = self.f().op(Op::Call, base, argc, discarded as u16, span);
                self.record_arg_spans(pc, spans);
                self.move_result(base, dst, span);
            }
        }
        self.f().free_to(mark);
    }

    /// Whether the source has a `)` right after `e` (the parser keeps no paren nodes).
    fn parenthesized(&self, e: &Expr<'_>) -> bool {
        self.file
            .text
            .get(e.span.end as usize..)
            .is_some_and(|rest| rest.trim_start().starts_with([')', '）']))
    }

    fn move_result(&mut self, base: u16, dst: u16, span: Span) {
        if base != dst {
            self.f().op(Op::Move, dst, base, 0, span);
        }
    }

    /// Whether `name` resolves to a top-level function (not shadowed by a local).
    pub(super) fn lookup_is_function(&mut self, name: &str) -> bool {
        self.functions.contains_key(name)
            && matches!(self.lookup(name), Some(super::names::NameRef::Decl(_)))
    }

    /// Whether a method call's receiver can be loaded after its arguments, right before
    /// the `Invoke`, without anyone telling the difference: a captured binding nothing can
    /// reassign, with arguments that are literals (the binding may not be initialized yet,
    /// E3010, and no argument can act or fail before that is found). The interpreter then
    /// calls a native method on the captured value in place (`fast.rs`, `invoke_lent!`),
    /// with no copy counted up and down.
    fn receiver_loads_last(&mut self, object: &Expr<'a>, args: &[Expr<'a>]) -> bool {
        let ExprKind::Name(id) = &object.kind else {
            return false;
        };
        let literal = |e: &Expr<'_>| {
            matches!(
                e.kind,
                ExprKind::Int(_)
                    | ExprKind::Float(_)
                    | ExprKind::Str(_)
                    | ExprKind::Bool(_)
                    | ExprKind::Nil
            )
        };
        matches!(
            self.lookup(id.name),
            Some(super::names::NameRef::Upvalue { mutable: false, .. })
        ) && args.iter().all(literal)
    }

    /// A `类型::名` whose type is declared in this file and not shadowed.
    fn static_path(&mut self, path: &TypePath<'a>) -> Option<StaticPath> {
        let q = path.qualifier?;
        let ExprKind::Name(type_name) = &q.kind else {
            return None;
        };
        if !matches!(
            self.lookup(type_name.name),
            Some(super::names::NameRef::Decl(_))
        ) {
            return None;
        }
        let info = self.types.get(type_name.name)?;
        if let Some(m) = info.methods().get(path.name.name) {
            return Some(StaticPath::Method(m.clone()));
        }
        if let TypeInfo::Enum { slot, variants, .. } = info {
            let index = variants.iter().position(|(n, _)| *n == path.name.name)?;
            return Some(StaticPath::Variant {
                type_slot: *slot,
                index: index as u16,
                arity: variants[index].1,
            });
        }
        None
    }

    /// `未来::就绪` (also `未来<整数>::就绪`): a built-in path, when 未来 is not shadowed.
    fn builtin_path(&mut self, path: &TypePath<'a>) -> Option<String> {
        let mut q = path.qualifier?;
        if let ExprKind::Generic { base, .. } = &q.kind {
            q = base;
        }
        let ExprKind::Name(id) = &q.kind else {
            return None;
        };
        let full = format!("{}::{}", id.name, path.name.name);
        (self.lookup(id.name).is_none() && (self.opts.is_builtin)(&full)).then_some(full)
    }

    /// A `类型::名` used as a value (not called).
    pub fn path_expr(&mut self, path: &'a TypePath<'a>, dst: u16, span: Span) {
        if let Some(full) = self.builtin_path(path) {
            let k = self.f().name_const(&full) as u32;
            self.f().op_bx(Op::GetBuiltin, dst, k, span);
            return;
        }
        match self.static_path(path) {
            Some(StaticPath::Variant {
                type_slot,
                index,
                arity: 0,
            }) => {
                let mark = self.fref().free_reg;
                let t = self.f().alloc();
                self.f().op_bx(Op::GetDecl, t, type_slot, span);
                self.f().op(Op::NewVariant, dst, t, index, span);
                self.f().free_to(mark);
                return;
            }
            Some(StaticPath::Method(m)) => {
                self.f().op_bx(Op::GetDecl, dst, m.slot, span);
                return;
            }
            _ => {}
        }
        let Some(q) = path.qualifier else {
            self.load_name(path.name.name, dst, path.name.span);
            return;
        };
        if let ExprKind::Name(type_name) = &q.kind
            && let Some(info) = self.types.get(type_name.name)
            && matches!(info, TypeInfo::Struct { .. })
            && !info.methods().contains_key(path.name.name)
        {
            let d = self.diag(Code::E3008, path.name.span).with_detail(format!(
                "：「{}」没有「{}」",
                type_name.name, path.name.name
            ));
            self.error(d);
            return;
        }
        if let ExprKind::Name(type_name) = &q.kind
            && let Some(TypeInfo::Enum { .. }) = self.types.get(type_name.name)
            && self.static_path(path).is_none()
        {
            let d = self.diag(Code::E3008, path.name.span).with_detail(format!(
                "：「{}」没有变体或方法「{}」",
                type_name.name, path.name.name
            ));
            self.error(d);
            return;
        }
        let mark = self.fref().free_reg;
        let qr = self.expr_reg(q);
        let k = self.f().name_const(path.name.name);
        self.f().op(Op::GetPath, dst, qr, k, span);
        self.f().free_to(mark);
    }

    pub fn struct_lit(
        &mut self,
        path: &'a TypePath<'a>,
        fields: &'a [FieldInit<'a>],
        dst: u16,
        span: Span,
    ) {
        let mark = self.fref().free_reg;
        // Duplicates are an error whatever the type.
        let mut seen = std::collections::HashSet::with_capacity(fields.len());
        for f in fields {
            if !seen.insert(f.name.name) {
                let d = self
                    .diag(Code::E3011, f.name.span)
                    .with_detail(format!("：字段「{}」写了两次", f.name.name));
                self.error(d);
            }
        }
        let local = match path.qualifier {
            None => match self.lookup(path.name.name) {
                Some(super::names::NameRef::Decl(_)) => self.types.get(path.name.name).cloned(),
                _ => None,
            },
            Some(_) => None,
        };
        match local {
            Some(TypeInfo::Struct {
                slot,
                fields: decl_fields,
                ..
            }) => {
                // By name, through a map: searching the declaration for each field of the
                // literal was quadratic in the field count.
                let index: std::collections::HashMap<&str, usize> = decl_fields
                    .iter()
                    .enumerate()
                    .map(|(i, (n, _))| (*n, i))
                    .collect();
                for f in fields {
                    if !index.contains_key(f.name.name) {
                        let d = self.diag(Code::E3011, f.name.span).with_detail(format!(
                            "：「{}」没有字段「{}」",
                            path.name.name, f.name.name
                        ));
                        self.error(d);
                    }
                }
                let missing: Vec<&str> = decl_fields
                    .iter()
                    .filter(|(n, _)| !seen.contains(n))
                    .map(|(n, _)| *n)
                    .collect();
                if !missing.is_empty() {
                    let d = self
                        .diag(Code::E3011, span)
                        .with_detail(format!("：缺少字段「{}」", missing.join("」「")));
                    self.error(d);
                }
                let base = self.f().alloc_n(1 + decl_fields.len() as u32);
                self.f().op_bx(Op::GetDecl, base, slot, path.span);
                for f in fields {
                    let Some(&i) = index.get(f.name.name) else {
                        continue;
                    };
                    if let (Some(ty), Some(v)) = (&decl_fields[i].1, f.value) {
                        self.check_literal_type(ty, v);
                    }
                    let reg = FunctionBuilder::reg_at(base, 1 + i);
                    match f.value {
                        Some(v) => self.expr(v, reg),
                        None => self.load_name(f.name.name, reg, f.name.span),
                    }
                }
                let names = decl_fields.iter().map(|(n, _)| Arc::from(*n)).collect();
                let k = self.f().constant(Constant::Fields {
                    names,
                    ordered: true,
                }) as u16;
                self.f().op(Op::NewStruct, dst, base, k, span);
            }
            Some(TypeInfo::Enum { .. }) => {
                let d = self
                    .diag(Code::E3011, path.name.span)
                    .with_detail(format!("：「{}」是枚举，不是结构体", path.name.name));
                self.error(d);
            }
            None => {
                let base = self.f().alloc_n(1 + fields.len() as u32);
                match path.qualifier {
                    Some(q) => {
                        let qr = self.expr_reg(q);
                        let k = self.f().name_const(path.name.name);
                        self.f().op(Op::GetField, base, qr, k, path.span);
                    }
                    None => self.load_name(path.name.name, base, path.name.span),
                }
                for (i, f) in fields.iter().enumerate() {
                    let reg = FunctionBuilder::reg_at(base, 1 + i);
                    match f.value {
                        Some(v) => self.expr(v, reg),
                        None => self.load_name(f.name.name, reg, f.name.span),
                    }
                }
                let names = fields.iter().map(|f| Arc::from(f.name.name)).collect();
                let k = self.f().constant(Constant::Fields {
                    names,
                    ordered: false,
                }) as u16;
                self.f().op(Op::NewStruct, dst, base, k, span);
            }
        }
        self.f().free_to(mark);
    }
}

/// `类型::名` as written, for messages.
pub fn path_text(path: &TypePath<'_>) -> String {
    match path.qualifier.map(|q| &q.kind) {
        Some(ExprKind::Name(q)) => format!("{}::{}", q.name, path.name.name),
        _ => path.name.name.to_string(),
    }
}
