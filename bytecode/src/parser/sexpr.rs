//! A compact S-expression form of the tree, for tests: `(call (name 打印行) (str "你好"))`.
//!
//! One line, no spans. Expression statements that ended without `;` print as
//! `(nosemi …)`; types print as written (`列表<整数>`); patterns print as `_`, `(bind x)`,
//! `(lit 1)`, `(range 3 9 =)`, `(or …)`, `(variant 形状::圆 …)`, `(struct-pat 点 …)`.

use std::fmt::Write;

use crate::ast::*;

/// The whole program: one S-expression per top-level statement, separated by spaces.
pub fn program(program: &Program<'_>) -> String {
    let mut out = String::new();
    for (i, stmt) in program.stmts.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_stmt(&mut out, stmt);
    }
    out
}

/// One expression.
pub fn expr(expr: &Expr<'_>) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

/// One statement.
pub fn stmt(stmt: &Stmt<'_>) -> String {
    let mut out = String::new();
    write_stmt(&mut out, stmt);
    out
}

fn write_stmt(out: &mut String, stmt: &Stmt<'_>) {
    match &stmt.kind {
        StmtKind::Package(name) => {
            let _ = write!(out, "(package {})", name.name);
        }
        StmtKind::Import(import) => {
            let kind = match import.kind {
                ImportKind::Relative => "relative",
                ImportKind::Module => "module",
            };
            let _ = write!(out, "(import {kind} {}", import.path);
            if let Some(alias) = &import.alias {
                let _ = write!(out, " as {}", alias.name);
            }
            out.push(')');
        }
        StmtKind::Let(decl) => {
            out.push('(');
            if decl.public {
                out.push_str("pub ");
            }
            out.push_str(if decl.mutable { "mut " } else { "let " });
            out.push_str(decl.name.name);
            if let Some(ty) = decl.ty {
                out.push_str(" :");
                write_type(out, ty);
            }
            if let Some(value) = decl.value {
                out.push(' ');
                write_expr(out, value);
            }
            out.push(')');
        }
        StmtKind::Function(decl) => write_function(out, decl, "fn"),
        StmtKind::Struct(decl) => {
            out.push('(');
            if decl.public {
                out.push_str("pub ");
            }
            out.push_str("struct-decl ");
            out.push_str(decl.name.name);
            write_type_params(out, decl.type_params);
            for field in decl.fields {
                out.push(' ');
                out.push_str(field.name.name);
                if let Some(ty) = field.ty {
                    out.push(':');
                    write_type(out, ty);
                }
            }
            out.push(')');
        }
        StmtKind::Enum(decl) => {
            out.push('(');
            if decl.public {
                out.push_str("pub ");
            }
            out.push_str("enum ");
            out.push_str(decl.name.name);
            write_type_params(out, decl.type_params);
            for variant in decl.variants {
                out.push(' ');
                if variant.fields.is_empty() {
                    out.push_str(variant.name.name);
                } else {
                    out.push('(');
                    out.push_str(variant.name.name);
                    for ty in variant.fields {
                        out.push(' ');
                        write_type(out, ty);
                    }
                    out.push(')');
                }
            }
            out.push(')');
        }
        StmtKind::Methods(decl) => {
            out.push_str("(methods ");
            out.push_str(decl.target.name);
            write_type_params(out, decl.type_params);
            for method in decl.methods {
                out.push(' ');
                write_function(out, method, "fn");
            }
            out.push(')');
        }
        StmtKind::Expr { expr, semi } => {
            if *semi {
                write_expr(out, expr);
            } else {
                out.push_str("(nosemi ");
                write_expr(out, expr);
                out.push(')');
            }
        }
        StmtKind::Assign { target, op, value } => {
            let op = match op {
                AssignOp::Assign => "=",
                AssignOp::Add => "+=",
                AssignOp::Sub => "-=",
                AssignOp::Mul => "*=",
                AssignOp::Div => "/=",
                AssignOp::Rem => "%=",
            };
            let _ = write!(out, "({op} ");
            write_expr(out, target);
            out.push(' ');
            write_expr(out, value);
            out.push(')');
        }
        StmtKind::Send { channel, value } => {
            out.push_str("(send ");
            write_expr(out, channel);
            out.push(' ');
            write_expr(out, value);
            out.push(')');
        }
        StmtKind::While { cond, body } => {
            out.push_str("(while ");
            write_expr(out, cond);
            out.push(' ');
            write_block(out, body);
            out.push(')');
        }
        StmtKind::For { var, iter, body } => {
            let _ = write!(out, "(for {} ", var.name);
            write_expr(out, iter);
            out.push(' ');
            write_block(out, body);
            out.push(')');
        }
        StmtKind::Loop { body } => {
            out.push_str("(loop ");
            write_block(out, body);
            out.push(')');
        }
        StmtKind::Return(value) => {
            out.push_str("(return");
            if let Some(value) = value {
                out.push(' ');
                write_expr(out, value);
            }
            out.push(')');
        }
        StmtKind::Break => out.push_str("(break)"),
        StmtKind::Continue => out.push_str("(continue)"),
        StmtKind::Throw(value) => {
            out.push_str("(throw ");
            write_expr(out, value);
            out.push(')');
        }
        StmtKind::Try(stmt) => {
            out.push_str("(try ");
            write_block(out, stmt.body);
            if let Some(catch) = &stmt.catch {
                out.push_str(" (catch ");
                if let Some(binding) = &catch.binding {
                    out.push_str(binding.name);
                    out.push(' ');
                }
                write_block(out, catch.body);
                out.push(')');
            }
            if let Some(finally) = stmt.finally {
                out.push_str(" (finally ");
                write_block(out, finally);
                out.push(')');
            }
            out.push(')');
        }
        StmtKind::Select(select) => {
            out.push_str("(select");
            for case in select.cases {
                out.push_str(" (");
                match &case.kind {
                    SelectCaseKind::Recv { binding, channel } => {
                        out.push_str("recv ");
                        if let Some(b) = binding {
                            out.push_str(b.name);
                            out.push(' ');
                        }
                        write_expr(out, channel);
                    }
                    SelectCaseKind::Send { channel, value } => {
                        out.push_str("send ");
                        write_expr(out, channel);
                        out.push(' ');
                        write_expr(out, value);
                    }
                    SelectCaseKind::Timeout(ms) => {
                        out.push_str("timeout ");
                        write_expr(out, ms);
                    }
                    SelectCaseKind::Default => out.push_str("default"),
                }
                for stmt in case.body {
                    out.push(' ');
                    write_stmt(out, stmt);
                }
                out.push(')');
            }
            out.push(')');
        }
        StmtKind::Empty => out.push_str("(empty)"),
    }
}

fn write_type_params(out: &mut String, params: &[Ident<'_>]) {
    if params.is_empty() {
        return;
    }
    out.push('<');
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(p.name);
    }
    out.push('>');
}

fn write_function(out: &mut String, decl: &FunctionDecl<'_>, word: &str) {
    out.push('(');
    if decl.public {
        out.push_str("pub ");
    }
    if decl.is_async {
        out.push_str("async ");
    }
    out.push_str(word);
    if !decl.name.name.is_empty() {
        out.push(' ');
        out.push_str(decl.name.name);
    }
    write_type_params(out, decl.type_params);
    out.push_str(" (");
    for (i, param) in decl.params.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(param.name.name);
        if let Some(ty) = param.ty {
            out.push(':');
            write_type(out, ty);
        }
    }
    out.push(')');
    if let Some(ret) = decl.ret {
        out.push_str(" -> ");
        write_type(out, ret);
    }
    out.push(' ');
    write_block(out, decl.body);
    out.push(')');
}

/// A type as written, without spaces: `字典<字符串,列表<整数>>`.
pub fn write_type(out: &mut String, ty: &TypeExpr<'_>) {
    for (i, seg) in ty.path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(seg.name);
    }
    if !ty.args.is_empty() {
        out.push('<');
        for (i, arg) in ty.args.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_type(out, arg);
        }
        out.push('>');
    }
}

fn write_block(out: &mut String, block: &Block<'_>) {
    out.push_str("(block");
    for stmt in block.stmts {
        out.push(' ');
        write_stmt(out, stmt);
    }
    if let Some(tail) = block.tail {
        out.push_str(" (tail ");
        write_expr(out, tail);
        out.push(')');
    }
    out.push(')');
}

fn write_task(out: &mut String, word: &str, body: &TaskBody<'_>) {
    let _ = write!(out, "({word} ");
    match body {
        TaskBody::Block(block) => write_block(out, block),
        TaskBody::Call(call) => write_expr(out, call),
    }
    out.push(')');
}

fn write_unary(out: &mut String, word: &str, operand: &Expr<'_>) {
    let _ = write!(out, "({word} ");
    write_expr(out, operand);
    out.push(')');
}

fn write_expr(out: &mut String, expr: &Expr<'_>) {
    crate::deep::deep(|| write_expr_level(out, expr));
}

/// `write_expr`, one level of the tree (`deep` grows the stack between levels).
fn write_expr_level(out: &mut String, expr: &Expr<'_>) {
    match &expr.kind {
        ExprKind::Int(v) => {
            let _ = write!(out, "(int {v})");
        }
        ExprKind::Float(v) => {
            let _ = write!(out, "(float {v:?})");
        }
        ExprKind::Str(s) => {
            let _ = write!(out, "(str {s:?})");
        }
        ExprKind::Bool(b) => out.push_str(if *b { "真" } else { "假" }),
        ExprKind::Nil => out.push('空'),
        ExprKind::SelfValue => out.push_str("自己"),
        ExprKind::Name(name) => {
            let _ = write!(out, "(name {})", name.name);
        }
        ExprKind::List(items) => {
            out.push_str("(list");
            for item in *items {
                out.push(' ');
                write_expr(out, item);
            }
            out.push(')');
        }
        ExprKind::Dict(entries) => {
            out.push_str("(dict");
            for (k, v) in *entries {
                out.push_str(" (");
                write_expr(out, k);
                out.push(' ');
                write_expr(out, v);
                out.push(')');
            }
            out.push(')');
        }
        ExprKind::StructLit { path, fields } => {
            out.push_str("(struct ");
            write_type_path(out, path, true);
            for field in *fields {
                out.push_str(" (");
                out.push_str(field.name.name);
                if let Some(value) = field.value {
                    out.push(' ');
                    write_expr(out, value);
                }
                out.push(')');
            }
            out.push(')');
        }
        ExprKind::Unary { op, operand } => {
            let word = match op {
                UnaryOp::Neg => "neg",
                UnaryOp::Not => "not",
            };
            write_unary(out, word, operand);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let _ = write!(out, "({} ", op.symbol());
            write_expr(out, lhs);
            out.push(' ');
            write_expr(out, rhs);
            out.push(')');
        }
        ExprKind::Range {
            start,
            end,
            inclusive,
        } => {
            out.push_str(if *inclusive { "(..= " } else { "(.. " });
            write_expr(out, start);
            out.push(' ');
            write_expr(out, end);
            out.push(')');
        }
        ExprKind::Call { callee, args } => {
            out.push_str("(call ");
            write_expr(out, callee);
            for arg in *args {
                out.push(' ');
                write_expr(out, arg);
            }
            out.push(')');
        }
        ExprKind::Field { object, name } => {
            out.push_str("(field ");
            write_expr(out, object);
            let _ = write!(out, " {})", name.name);
        }
        ExprKind::Index { object, index } => {
            out.push_str("(index ");
            write_expr(out, object);
            out.push(' ');
            write_expr(out, index);
            out.push(')');
        }
        ExprKind::Path(path) => {
            out.push_str("(path ");
            if let Some(q) = path.qualifier {
                write_expr(out, q);
                out.push(' ');
            }
            out.push_str(path.name.name);
            out.push(')');
        }
        ExprKind::Generic { base, args } => {
            out.push_str("(generic ");
            write_expr(out, base);
            for arg in *args {
                out.push(' ');
                write_type(out, arg);
            }
            out.push(')');
        }
        ExprKind::Closure(decl) => write_function(out, decl, "closure"),
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            out.push_str("(if ");
            write_expr(out, cond);
            out.push(' ');
            write_block(out, then);
            if let Some(otherwise) = otherwise {
                out.push(' ');
                write_expr(out, otherwise);
            }
            out.push(')');
        }
        ExprKind::Match { scrutinee, arms } => {
            out.push_str("(match ");
            write_expr(out, scrutinee);
            for arm in *arms {
                out.push_str(" (arm ");
                write_pattern(out, arm.pattern);
                if let Some(guard) = arm.guard {
                    out.push_str(" (guard ");
                    write_expr(out, guard);
                    out.push(')');
                }
                out.push(' ');
                match &arm.body.kind {
                    StmtKind::Expr { expr, .. } => write_expr(out, expr),
                    _ => write_stmt(out, arm.body),
                }
                out.push(')');
            }
            out.push(')');
        }
        ExprKind::Block(block) => write_block(out, block),
        ExprKind::Coroutine(body) => write_task(out, "coroutine", body),
        ExprKind::Create(body) => write_task(out, "create", body),
        ExprKind::Spawn(body) => write_task(out, "spawn", body),
        ExprKind::Await(e) => write_unary(out, "await", e),
        ExprKind::Resume(e) => write_unary(out, "resume", e),
        ExprKind::Suspend(None) => out.push_str("(suspend)"),
        ExprKind::Suspend(Some(e)) => write_unary(out, "suspend", e),
        ExprKind::Recv(e) => write_unary(out, "recv", e),
        ExprKind::AddrOf(e) => write_unary(out, "addr", e),
        ExprKind::Deref(e) => write_unary(out, "deref", e),
        ExprKind::Error => out.push_str("(error)"),
    }
}

/// `形状::圆`, `模块.形状::圆`; for struct literals and struct patterns (`whole`) the
/// qualifier is the module part, printed as `模块.点`.
fn write_type_path(out: &mut String, path: &TypePath<'_>, whole: bool) {
    if let Some(q) = path.qualifier {
        write_path_expr(out, q);
        out.push_str(if whole { "." } else { "::" });
    }
    out.push_str(path.name.name);
}

/// A qualifier as written: `形状`, `模块.形状`, `未来<整数>`.
fn write_path_expr(out: &mut String, expr: &Expr<'_>) {
    match &expr.kind {
        ExprKind::Name(name) => out.push_str(name.name),
        ExprKind::Field { object, name } => {
            write_path_expr(out, object);
            out.push('.');
            out.push_str(name.name);
        }
        _ => write_expr(out, expr),
    }
}

fn write_literal(out: &mut String, lit: &Literal<'_>) {
    let _ = match lit {
        Literal::Int(v) => write!(out, "{v}"),
        Literal::Float(v) => write!(out, "{v:?}"),
        Literal::Str(s) => write!(out, "{s:?}"),
        Literal::Bool(b) => write!(out, "{}", if *b { "真" } else { "假" }),
        Literal::Nil => write!(out, "空"),
    };
}

/// One pattern.
pub fn pattern(p: &Pattern<'_>) -> String {
    let mut out = String::new();
    write_pattern(&mut out, p);
    out
}

fn write_pattern(out: &mut String, p: &Pattern<'_>) {
    match &p.kind {
        PatternKind::Wildcard => out.push('_'),
        PatternKind::Binding(name) => {
            let _ = write!(out, "(bind {})", name.name);
        }
        PatternKind::Literal(lit) => {
            out.push_str("(lit ");
            write_literal(out, lit);
            out.push(')');
        }
        PatternKind::Range {
            start,
            end,
            inclusive,
        } => {
            out.push_str("(range ");
            write_literal(out, start);
            out.push(' ');
            write_literal(out, end);
            if *inclusive {
                out.push_str(" =");
            }
            out.push(')');
        }
        PatternKind::Or(alts) => {
            out.push_str("(or");
            for alt in *alts {
                out.push(' ');
                write_pattern(out, alt);
            }
            out.push(')');
        }
        PatternKind::Variant { path, args } => {
            out.push_str("(variant ");
            write_type_path(out, path, false);
            if let Some(args) = args {
                out.push_str(" (");
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    write_pattern(out, arg);
                }
                out.push(')');
            }
            out.push(')');
        }
        PatternKind::Struct { path, fields } => {
            out.push_str("(struct-pat ");
            write_type_path(out, path, true);
            for field in *fields {
                out.push_str(" (");
                out.push_str(field.name.name);
                if let Some(p) = field.pattern {
                    out.push(' ');
                    write_pattern(out, p);
                }
                out.push(')');
            }
            out.push(')');
        }
    }
}
