//! `匹配`: arms tried top to bottom, each a pattern test, bindings, a guard and a body.
//!
//! A pattern compiles to tests that jump to the arm's failure label. Bindings get their
//! registers before the test runs, so every alternative of `A(x) | B(x)` writes the same
//! register; E3013 rejects alternatives that bind different names.

use std::collections::HashMap;

use crate::ast::*;
use crate::diagnostic::Code;
use crate::opcode::Op;
use crate::proto::{Constant, PatternLiteral};
use crate::source::Span;

use super::{Compiler, TypeInfo};

impl<'a> Compiler<'a, '_> {
    pub fn match_expr(
        &mut self,
        scrutinee: &'a Expr<'a>,
        arms: &'a [MatchArm<'a>],
        dst: u16,
        span: Span,
    ) {
        let mark = self.fref().free_reg;
        let value = self.f().alloc();
        self.expr(scrutinee, value);
        let mut ends = Vec::new();
        for arm in arms {
            self.f().begin_scope();
            let names = self.arm_bindings(arm.pattern);
            let mut regs: HashMap<&'a str, u16> = HashMap::new();
            for id in &names {
                let r = self.f().alloc();
                regs.insert(id.name, r);
            }
            let mut fails = Vec::new();
            self.pattern_test(arm.pattern, value, &regs, &mut fails);
            for id in &names {
                let r = regs[id.name];
                if self.res.captured.contains(&id.span.start) {
                    self.f().op(Op::NewCell, r, 0, 0, id.span);
                }
                self.declare_local(*id, r, false, None);
            }
            if let Some(guard) = arm.guard {
                fails.extend(self.cond_jumps(guard));
            }
            self.arm_body(arm.body, dst);
            ends.push(self.f().jump(Op::Jmp, 0, arm.span));
            for j in fails {
                self.f().patch_to_here(j);
            }
            self.f().end_scope();
        }
        self.f().op(Op::MatchFail, value, 0, 0, span);
        for j in ends {
            self.f().patch_to_here(j);
        }
        self.f().free_to(mark);
    }

    fn arm_body(&mut self, body: &'a Stmt<'a>, dst: u16) {
        match body.kind {
            StmtKind::Expr { expr, .. } => self.expr(expr, dst),
            _ => {
                self.stmt(body);
                self.f().op(Op::LoadNil, dst, 0, 0, body.span);
            }
        }
    }

    /// The names an arm's pattern binds, in order; checks E3013 for alternatives.
    fn arm_bindings(&mut self, p: &'a Pattern<'a>) -> Vec<Ident<'a>> {
        let mut out = Bindings::default();
        self.collect_bindings(p, &mut out);
        out.order
    }

    fn collect_bindings(&mut self, p: &'a Pattern<'a>, out: &mut Bindings<'a>) {
        match &p.kind {
            PatternKind::Wildcard | PatternKind::Literal(_) | PatternKind::Range { .. } => {}
            PatternKind::Binding(id) => out.add(*id),
            PatternKind::Or(alts) => {
                let Some((first, rest)) = alts.split_first() else {
                    return;
                };
                let mut first_names = Bindings::default();
                self.collect_bindings(first, &mut first_names);
                for alt in rest {
                    let mut names = Bindings::default();
                    self.collect_bindings(alt, &mut names);
                    let same = names.order.len() == first_names.order.len()
                        && names
                            .order
                            .iter()
                            .all(|n| first_names.seen.contains(n.name));
                    if !same {
                        let d = self.diag(Code::E3013, alt.span);
                        self.error(d);
                    }
                }
                for n in first_names.order {
                    out.add(n);
                }
            }
            PatternKind::Variant { args, .. } => {
                for a in args.iter().flat_map(|a| a.iter()) {
                    self.collect_bindings(a, out);
                }
            }
            PatternKind::Struct { fields, .. } => {
                for f in fields.iter() {
                    match f.pattern {
                        Some(p) => self.collect_bindings(p, out),
                        None => out.add(f.name),
                    }
                }
            }
        }
    }

    /// Emits the test of `p` against `R[v]`; failing jumps are added to `fails`.
    fn pattern_test(
        &mut self,
        p: &'a Pattern<'a>,
        v: u16,
        regs: &HashMap<&'a str, u16>,
        fails: &mut Vec<usize>,
    ) {
        let mark = self.fref().free_reg;
        match &p.kind {
            PatternKind::Wildcard => {}
            PatternKind::Binding(id) => {
                if let Some(&r) = regs.get(id.name) {
                    self.f().op(Op::Move, r, v, 0, id.span);
                }
            }
            PatternKind::Literal(lit) => {
                let t = self.f().alloc();
                self.load_literal(*lit, t, p.span);
                self.f().op(Op::MatchEq, t, v, t, p.span);
                fails.push(self.f().jump(Op::JmpIfNot, t, p.span));
            }
            PatternKind::Range {
                start,
                end,
                inclusive,
            } => {
                let (Some(start), Some(end)) = (numeric(*start), numeric(*end)) else {
                    let d = self
                        .diag(Code::E2001, p.span)
                        .with_detail("：范围模式的两端必须是数字");
                    self.error(d);
                    return;
                };
                let k = self.f().constant(Constant::RangePattern {
                    start,
                    end,
                    inclusive: *inclusive,
                }) as u16;
                let t = self.f().alloc();
                self.f().op(Op::InRange, t, v, k, p.span);
                fails.push(self.f().jump(Op::JmpIfNot, t, p.span));
            }
            PatternKind::Or(alts) => {
                let mut oks = Vec::new();
                for (i, alt) in alts.iter().enumerate() {
                    if i + 1 == alts.len() {
                        self.pattern_test(alt, v, regs, fails);
                    } else {
                        let mut alt_fails = Vec::new();
                        self.pattern_test(alt, v, regs, &mut alt_fails);
                        oks.push(self.f().jump(Op::Jmp, 0, alt.span));
                        for j in alt_fails {
                            self.f().patch_to_here(j);
                        }
                    }
                }
                for j in oks {
                    self.f().patch_to_here(j);
                }
            }
            PatternKind::Variant { path, args } => {
                self.check_variant_pattern(path, *args);
                let t = self.f().alloc();
                match path.qualifier {
                    Some(q) => self.expr(q, t),
                    None => self.load_name(path.name.name, t, path.name.span),
                }
                let k = self.f().name_const(path.name.name);
                self.f().op(Op::IsVariant, t, v, k, p.span);
                fails.push(self.f().jump(Op::JmpIfNot, t, p.span));
                for (i, sub) in args.iter().flat_map(|a| a.iter()).enumerate() {
                    if matches!(sub.kind, PatternKind::Wildcard) {
                        continue;
                    }
                    let item = self.f().alloc();
                    self.f().op(Op::GetPayload, item, v, i as u16, sub.span);
                    self.pattern_test(sub, item, regs, fails);
                }
            }
            PatternKind::Struct { path, fields } => {
                self.check_struct_pattern(path, fields);
                let t = self.f().alloc();
                match path.qualifier {
                    Some(q) => {
                        let qr = self.expr_reg(q);
                        let k = self.f().name_const(path.name.name);
                        self.f().op(Op::GetField, t, qr, k, path.span);
                    }
                    None => self.load_name(path.name.name, t, path.name.span),
                }
                self.f().op(Op::IsInstance, t, v, 0, p.span);
                fails.push(self.f().jump(Op::JmpIfNot, t, p.span));
                for f in fields.iter() {
                    let item = self.f().alloc();
                    let k = self.f().name_const(f.name.name);
                    self.f().op(Op::GetField, item, v, k, f.name.span);
                    match f.pattern {
                        Some(sub) => self.pattern_test(sub, item, regs, fails),
                        None => {
                            if let Some(&r) = regs.get(f.name.name) {
                                self.f().op(Op::Move, r, item, 0, f.name.span);
                            }
                        }
                    }
                }
            }
        }
        self.f().free_to(mark);
    }

    fn load_literal(&mut self, lit: Literal<'_>, dst: u16, span: Span) {
        match lit {
            Literal::Int(n) => self.load_int(n, dst, span),
            Literal::Float(x) => {
                let k = self.f().constant(Constant::Float(x));
                self.f().op_bx(Op::LoadConst, dst, k, span);
            }
            Literal::Str(s) => {
                let k = self.f().constant(Constant::Str(s.into()));
                self.f().op_bx(Op::LoadConst, dst, k, span);
            }
            Literal::Bool(b) => {
                self.f().op(Op::LoadBool, dst, b as u16, 0, span);
            }
            Literal::Nil => {
                self.f().op(Op::LoadNil, dst, 0, 0, span);
            }
        }
    }

    /// For an enum of this file: the variant exists and the payload count matches.
    fn check_variant_pattern(&mut self, path: &TypePath<'a>, args: Option<&[Pattern<'a>]>) {
        let Some(q) = path.qualifier else {
            return;
        };
        let ExprKind::Name(type_name) = &q.kind else {
            return;
        };
        let Some(info) = self.types.get(type_name.name) else {
            return;
        };
        let TypeInfo::Enum { variants, .. } = info else {
            let d = self
                .diag(Code::E3008, path.span)
                .with_detail(format!("：「{}」不是枚举", type_name.name));
            self.error(d);
            return;
        };
        let Some(&(_, arity)) = variants.iter().find(|(n, _)| *n == path.name.name) else {
            let d = self.diag(Code::E3008, path.name.span).with_detail(format!(
                "：「{}」没有变体「{}」",
                type_name.name, path.name.name
            ));
            self.error(d);
            return;
        };
        if let Some(args) = args
            && args.len() != arity as usize
        {
            let d = self.diag(Code::E3006, path.span).with_detail(format!(
                "：变体「{}::{}」有 {} 个值，模式里写了 {} 个",
                type_name.name,
                path.name.name,
                arity,
                args.len()
            ));
            self.error(d);
        }
    }

    fn check_struct_pattern(&mut self, path: &TypePath<'a>, fields: &[FieldPattern<'a>]) {
        if path.qualifier.is_some() {
            return;
        }
        let Some(info) = self.types.get(path.name.name) else {
            return;
        };
        let TypeInfo::Struct {
            fields: decl_fields,
            ..
        } = info
        else {
            let d = self
                .diag(Code::E3008, path.span)
                .with_detail(format!("：「{}」不是结构体", path.name.name));
            self.error(d);
            return;
        };
        let declared: std::collections::HashSet<&str> =
            decl_fields.iter().map(|(n, _)| *n).collect();
        let unknown: Vec<Ident<'a>> = fields
            .iter()
            .filter(|f| !declared.contains(f.name.name))
            .map(|f| f.name)
            .collect();
        for name in unknown {
            let d = self
                .diag(Code::E3008, name.span)
                .with_detail(format!("：「{}」没有字段「{}」", path.name.name, name.name));
            self.error(d);
        }
    }
}

/// The names a pattern binds, each once, in order of first appearance. (A set beside the
/// list: searching the list for each name was quadratic in a pattern's size.)
#[derive(Default)]
struct Bindings<'a> {
    order: Vec<Ident<'a>>,
    seen: std::collections::HashSet<&'a str>,
}

impl<'a> Bindings<'a> {
    fn add(&mut self, id: Ident<'a>) {
        if self.seen.insert(id.name) {
            self.order.push(id);
        }
    }
}

fn numeric(lit: Literal<'_>) -> Option<PatternLiteral> {
    match lit {
        Literal::Int(n) => Some(PatternLiteral::Int(n)),
        Literal::Float(x) => Some(PatternLiteral::Float(x)),
        _ => None,
    }
}
