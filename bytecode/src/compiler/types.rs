//! Annotations: turning written types into checks, and the type errors the compiler can
//! prove from a literal (E3001, E3004, E3009).

use crate::ast::*;
use crate::diagnostic::Code;
use crate::proto::{TypeDesc, TypeKind};

use super::Compiler;

/// The static kind of a literal expression, when it is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiteralKind {
    Int,
    Float,
    Str,
    Bool,
    Nil,
    List,
    Dict,
    Function,
}

impl LiteralKind {
    pub fn of(e: &Expr<'_>) -> Option<LiteralKind> {
        Some(match &e.kind {
            ExprKind::Int(_) => LiteralKind::Int,
            ExprKind::Float(_) => LiteralKind::Float,
            ExprKind::Str(_) => LiteralKind::Str,
            ExprKind::Bool(_) => LiteralKind::Bool,
            ExprKind::Nil => LiteralKind::Nil,
            ExprKind::List(_) => LiteralKind::List,
            ExprKind::Dict(_) => LiteralKind::Dict,
            ExprKind::Closure(_) => LiteralKind::Function,
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => match LiteralKind::of(operand)? {
                k @ (LiteralKind::Int | LiteralKind::Float) => k,
                _ => return None,
            },
            _ => return None,
        })
    }

    pub fn type_name(self) -> &'static str {
        match self {
            LiteralKind::Int => "整数",
            LiteralKind::Float => "浮点数",
            LiteralKind::Str => "字符串",
            LiteralKind::Bool => "布尔",
            LiteralKind::Nil => "空",
            LiteralKind::List => "列表",
            LiteralKind::Dict => "字典",
            LiteralKind::Function => "函数类型",
        }
    }

    /// Whether a value of this kind satisfies `kind` (an 整数 widens to 浮点数).
    fn satisfies(self, kind: &TypeKind) -> Option<bool> {
        Some(match kind {
            TypeKind::Any => true,
            TypeKind::Int => self == LiteralKind::Int,
            TypeKind::Float => matches!(self, LiteralKind::Float | LiteralKind::Int),
            TypeKind::Bool => self == LiteralKind::Bool,
            TypeKind::Str => self == LiteralKind::Str,
            TypeKind::Nil => self == LiteralKind::Nil,
            TypeKind::List => self == LiteralKind::List,
            TypeKind::Dict => self == LiteralKind::Dict,
            TypeKind::Function => self == LiteralKind::Function,
            TypeKind::Named(_) => false,
            // A literal is never one of these.
            _ => false,
        })
    }
}

impl<'a> Compiler<'a, '_> {
    pub fn type_desc(&mut self, t: &TypeExpr<'_>) -> TypeDesc {
        let written = written_type(t);
        let kind = if t.path.len() == 1 && self.type_params.contains(&t.name()) {
            TypeKind::Any
        } else if t.path.len() > 1 {
            TypeKind::Named(t.name().into())
        } else {
            match t.name() {
                "任意" => TypeKind::Any,
                "整数" => TypeKind::Int,
                "浮点数" => TypeKind::Float,
                "布尔" => TypeKind::Bool,
                "字符串" => TypeKind::Str,
                "空" => TypeKind::Nil,
                "列表" => TypeKind::List,
                "字典" => TypeKind::Dict,
                "函数类型" => TypeKind::Function,
                "协程类型" => TypeKind::Coroutine,
                "任务" | "未来" => TypeKind::Task,
                "通道" => TypeKind::Channel,
                "引用" => TypeKind::Ref,
                "错误" => TypeKind::Error,
                "范围" => TypeKind::Range,
                "模块" => TypeKind::Module,
                // Built-in types without a literal form: compared by name at run time.
                "请求" | "响应" | "服务" | "连接" | "监听器" | "互斥锁" | "等待组" | "原子整数" => {
                    TypeKind::Named(t.name().into())
                }
                name => {
                    if self.types.contains_key(name)
                        || matches!(
                            self.outer(name).map(|o| o.kind),
                            Some(super::OuterKind::Type)
                        )
                    {
                        TypeKind::Named(name.into())
                    } else {
                        let span = t.path.last().map_or(t.span, |i| i.span);
                        let d = self
                            .diag(Code::E3002, span)
                            .with_detail(format!("：类型「{name}」"))
                            .with_hint("类型名可以是 整数 浮点数 字符串 布尔 列表 字典 函数类型 未来 通道 协程类型 引用 错误 任意，或本文件的结构体和枚举");
                        self.error(d);
                        // Reported once; checking against an unknown type would only add
                        // errors about the same mistake.
                        TypeKind::Any
                    }
                }
            }
        };
        TypeDesc {
            written: written.into(),
            kind,
        }
    }

    /// The check an annotation makes, without reporting anything (for a declaration seen
    /// again at a call).
    pub fn type_desc_quiet(&mut self, t: &TypeExpr<'_>) -> TypeDesc {
        let errors = self.errors.len();
        let d = self.type_desc(t);
        self.errors.truncate(errors);
        d
    }

    /// The kind `e` is sure to have if it evaluates without throwing, where the compiler
    /// can tell: literals, annotated locals that only checked stores can change (not
    /// cells, which closures and references reach, and not ones declared without a value,
    /// which hold 空 until assigned), arithmetic and comparisons of those,
    /// and calls of this file's non-async functions with a declared result. An annotation
    /// check of such a value against the same kind cannot fail, and is left out.
    pub fn static_kind(&mut self, e: &Expr<'_>) -> Option<TypeKind> {
        crate::deep::deep(|| self.static_kind_level(e))
    }

    /// `static_kind`, one level of the tree (`deep` grows the stack between levels).
    fn static_kind_level(&mut self, e: &Expr<'_>) -> Option<TypeKind> {
        let kind = match &e.kind {
            ExprKind::Int(_) => TypeKind::Int,
            ExprKind::Float(_) => TypeKind::Float,
            ExprKind::Str(_) => TypeKind::Str,
            ExprKind::Bool(_) => TypeKind::Bool,
            ExprKind::Nil => TypeKind::Nil,
            ExprKind::Name(id) => {
                // A local of this function (an outer one's would be a captured cell).
                let f = self.fref();
                let local = &f.locals[f.find_local(id.name)?];
                if local.cell || local.unset {
                    return None;
                }
                local.ty.as_ref()?.kind.clone()
            }
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => match self.static_kind(operand)? {
                k @ (TypeKind::Int | TypeKind::Float) => k,
                _ => return None,
            },
            ExprKind::Binary { op, lhs, rhs } => {
                let (l, r) = (self.static_kind(lhs)?, self.static_kind(rhs)?);
                match op {
                    BinaryOp::Add
                    | BinaryOp::Sub
                    | BinaryOp::Mul
                    | BinaryOp::Div
                    | BinaryOp::Rem
                        if l == r && matches!(l, TypeKind::Int | TypeKind::Float) =>
                    {
                        l
                    }
                    BinaryOp::Eq
                    | BinaryOp::Ne
                    | BinaryOp::Lt
                    | BinaryOp::Le
                    | BinaryOp::Gt
                    | BinaryOp::Ge => TypeKind::Bool,
                    _ => return None,
                }
            }
            ExprKind::Call { callee, .. } => {
                let ExprKind::Name(id) = &callee.kind else {
                    return None;
                };
                if !self.lookup_is_function(id.name) || self.async_functions.contains(id.name) {
                    return None;
                }
                let ret = self.function_decls.get(id.name).and_then(|d| d.ret)?;
                self.type_desc_quiet(ret).kind
            }
            _ => return None,
        };
        // A named type is compared by name at run time; leave those checks alone.
        (kind.hint() != 0).then_some(kind)
    }

    /// E3001 at compile time when `value` is a literal that cannot satisfy `ty`.
    pub fn check_literal_type(&mut self, ty: &TypeDesc, value: &Expr<'_>) {
        let Some(kind) = LiteralKind::of(value) else {
            return;
        };
        if kind.satisfies(&ty.kind) == Some(false) {
            let d = self.diag(Code::E3001, value.span).with_detail(format!(
                "：期望「{}」，得到「{}」",
                ty.written,
                kind.type_name()
            ));
            self.error(d);
        }
    }

    /// E3004 at compile time for a literal condition that is not 布尔.
    pub fn check_literal_condition(&mut self, cond: &Expr<'_>) {
        if let Some(kind) = LiteralKind::of(cond)
            && kind != LiteralKind::Bool
        {
            let d = self
                .diag(Code::E3004, cond.span)
                .with_detail(format!("：这里是「{}」", kind.type_name()));
            self.error(d);
        }
    }

    /// E3009 at compile time for arithmetic or ordering on literals of kinds it rejects.
    pub fn check_literal_operands(
        &mut self,
        op: BinaryOp,
        lhs: &Expr<'_>,
        rhs: &Expr<'_>,
        span: crate::source::Span,
    ) {
        let (Some(l), Some(r)) = (LiteralKind::of(lhs), LiteralKind::of(rhs)) else {
            return;
        };
        use LiteralKind::*;
        let numeric = |k| matches!(k, Int | Float);
        let ok = match op {
            BinaryOp::Add => {
                (numeric(l) && numeric(r)) || l == Str || r == Str || (l == List && r == List)
            }
            BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                numeric(l) && numeric(r)
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                (numeric(l) && numeric(r)) || (l == Str && r == Str)
            }
            BinaryOp::Eq | BinaryOp::Ne => true,
            BinaryOp::And | BinaryOp::Or => {
                for (k, e) in [(l, lhs), (r, rhs)] {
                    if k != Bool {
                        let d = self.diag(Code::E3004, e.span).with_detail(format!(
                            "：「{}」的操作数是「{}」",
                            op.symbol(),
                            k.type_name()
                        ));
                        self.error(d);
                    }
                }
                true
            }
        };
        if !ok {
            let d = self.diag(Code::E3009, span).with_detail(format!(
                "：不能对「{}」和「{}」使用「{}」",
                l.type_name(),
                r.type_name(),
                op.symbol()
            ));
            self.error(d);
        }
    }
}

/// The annotation as the user wrote it, for messages: `字典<字符串, 整数>`.
pub fn written_type(t: &TypeExpr<'_>) -> String {
    let mut s = t.path.iter().map(|i| i.name).collect::<Vec<_>>().join(".");
    if !t.args.is_empty() {
        s.push('<');
        let args: Vec<String> = t.args.iter().map(written_type).collect();
        s.push_str(&args.join(", "));
        s.push('>');
    }
    s
}
