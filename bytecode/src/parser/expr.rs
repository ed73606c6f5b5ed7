//! Expressions: binary operators by precedence climbing, prefix operators, the postfix chain
//! (`.名` `(…)` `[…]` `::名` `<类型>` `名 {…}`) and primary expressions.
//!
//! Precedence, high to low (QI-LANGUAGE.md §3): postfix · prefix `! - 取地址 解引用 等待 恢复 <-` ·
//! `* / %` · `+ -` · `.. ..=` · `< <= > >=` · `== !=` · `&&` · `||`. Ranges do not associate,
//! and no two comparisons chain without parentheses (`a < b == c` is E2001, §11).

use super::{MAX_CHAIN, MAX_DEPTH, Parser};
use crate::ast::{BinaryOp, Expr, ExprKind, FieldInit, Ident, TypePath, UnaryOp};
use crate::source::Span;
use crate::token::{Keyword, TokenKind};

/// 2^63, the literal that is legal only right after unary `-`.
const MIN_MAGNITUDE: u64 = 1 << 63;

/// How far ahead `generic_ahead` looks for the `>` that closes a type-argument list. Real
/// lists are a few tokens; the bound keeps `a<b<c<…` linear instead of quadratic.
const GENERIC_LOOKAHEAD: usize = 256;

/// What a binary operator token is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BinKind {
    Op(BinaryOp),
    Range { inclusive: bool },
}

/// Binding power of a binary operator token (higher binds tighter).
fn binary_op(kind: TokenKind<'_>) -> Option<(BinKind, u8)> {
    use BinaryOp::*;
    Some(match kind {
        TokenKind::OrOr => (BinKind::Op(Or), 1),
        TokenKind::AndAnd => (BinKind::Op(And), 2),
        TokenKind::EqEq => (BinKind::Op(Eq), 3),
        TokenKind::BangEq => (BinKind::Op(Ne), 3),
        TokenKind::Lt => (BinKind::Op(Lt), 4),
        TokenKind::Le => (BinKind::Op(Le), 4),
        TokenKind::Gt => (BinKind::Op(Gt), 4),
        TokenKind::Ge => (BinKind::Op(Ge), 4),
        TokenKind::DotDot => (BinKind::Range { inclusive: false }, 5),
        TokenKind::DotDotEq => (BinKind::Range { inclusive: true }, 5),
        TokenKind::Plus => (BinKind::Op(Add), 6),
        TokenKind::Minus => (BinKind::Op(Sub), 6),
        TokenKind::Star => (BinKind::Op(Mul), 7),
        TokenKind::Slash => (BinKind::Op(Div), 7),
        TokenKind::Percent => (BinKind::Op(Rem), 7),
        _ => return None,
    })
}

/// Comparisons (3 and 4) and ranges (5) do not chain.
fn non_associative(prec: u8) -> bool {
    (3..=5).contains(&prec)
}

/// Whether a token continues a postfix chain (so a literal before it is not the direct
/// operand of a unary minus).
fn starts_postfix(kind: TokenKind<'_>) -> bool {
    matches!(
        kind,
        TokenKind::Dot | TokenKind::LParen | TokenKind::LBracket | TokenKind::ColonColon
    )
}

impl<'a> Parser<'a> {
    /// An expression. A send `a <- b` here is E2001 (sends are statements).
    pub(super) fn parse_expr(&mut self) -> Expr<'a> {
        let expr = self.parse_binary(0).0;
        if self.at(TokenKind::LeftArrow) {
            return self.misplaced_send(expr);
        }
        expr
    }

    /// An expression that may be followed by `<-` (a statement or a 选择 case head, which
    /// handle the send themselves).
    pub(super) fn parse_expr_send_ok(&mut self) -> Expr<'a> {
        self.parse_binary(0).0
    }

    /// `x <- 1` where a value is wanted: E2001 with the hint for what was probably meant.
    fn misplaced_send(&mut self, lhs: Expr<'a>) -> Expr<'a> {
        let span = self.span();
        self.error_at(span, "：发送「<-」只能作为单独的语句")
            .hint_last("若要比较，写成 x < -1");
        self.bump();
        let rhs = self.parse_expr_send_ok();
        self.error_expr(lhs.span.to(rhs.span))
    }

    /// Operators binding at least as tightly as `min_prec`. The second value is the span of
    /// the operator when the result is an unparenthesised comparison or range, which must
    /// not be an operand of another one.
    ///
    /// Every nesting construct recurses through here, so this frame is kept small (the
    /// loop lives in `parse_binary_rest`); the same goes for `parse_unary`, `parse_postfix`
    /// and `parse_primary`, which only dispatch.
    fn parse_binary(&mut self, min_prec: u8) -> (Expr<'a>, Option<(u8, Span)>) {
        let lhs = self.parse_unary();
        match binary_op(self.peek()) {
            Some((_, prec)) if prec >= min_prec => self.parse_binary_rest(lhs, min_prec),
            _ => (lhs, None),
        }
    }

    #[inline(never)]
    fn parse_binary_rest(
        &mut self,
        mut lhs: Expr<'a>,
        min_prec: u8,
    ) -> (Expr<'a>, Option<(u8, Span)>) {
        let mut lhs_chain: Option<(u8, Span)> = None;
        let base_depth = self.depth;
        let mut folds = 0u32;
        let mut too_deep = false;
        while let Some((op, prec)) = binary_op(self.peek()) {
            if prec < min_prec {
                break;
            }
            let op_span = self.bump().span;
            let (rhs, rhs_chain) = self.parse_binary(prec + 1);
            if non_associative(prec) {
                self.check_chain(prec, op_span, lhs_chain, rhs_chain);
            }
            // A chain `a + b + c …` nests its left operands in the tree; the passes over it
            // grow their stack as they go down (`deep`), up to `MAX_CHAIN` operators.
            folds += 1;
            if folds > MAX_CHAIN && !too_deep {
                self.report_chain_too_long();
                too_deep = true;
            }
            lhs = if too_deep {
                self.error_expr(lhs.span.to(rhs.span))
            } else {
                self.fold_binary(op, lhs, rhs)
            };
            lhs_chain = non_associative(prec).then_some((prec, op_span));
        }
        self.depth = base_depth;
        (lhs, lhs_chain)
    }

    fn fold_binary(&mut self, op: BinKind, lhs: Expr<'a>, rhs: Expr<'a>) -> Expr<'a> {
        let span = lhs.span.to(rhs.span);
        let lhs = self.alloc(lhs);
        let rhs = self.alloc(rhs);
        let kind = match op {
            BinKind::Op(op) => ExprKind::Binary { op, lhs, rhs },
            BinKind::Range { inclusive } => ExprKind::Range {
                start: lhs,
                end: rhs,
                inclusive,
            },
        };
        Expr { kind, span }
    }

    /// E2001 when a comparison has a comparison operand, or a range a range operand.
    fn check_chain(
        &mut self,
        prec: u8,
        op_span: Span,
        lhs: Option<(u8, Span)>,
        rhs: Option<(u8, Span)>,
    ) {
        let is_range = prec == 5;
        let same_kind = |p: u8| (p == 5) == is_range;
        let lhs_clash = lhs.is_some_and(|(p, _)| same_kind(p));
        // A range binds tighter than a comparison, so `a == b..c` is fine; only an
        // operand of the same kind clashes.
        let rhs_clash = rhs.filter(|(p, _)| same_kind(*p)).map(|(_, s)| s);
        let clash = if lhs_clash { Some(op_span) } else { rhs_clash };
        let Some(span) = clash else { return };
        if is_range {
            self.error_at(span, "：范围运算「..」「..=」不能连用")
                .hint_last("用括号写清楚");
        } else {
            self.error_at(span, "：比较运算不能连用")
                .hint_last("用括号分开，如 (a < b) == c；或用 && 连接，如 a < b && b < c");
        }
    }

    /// Prefix operators (recursively, one nesting level each), then a postfix expression.
    fn parse_unary(&mut self) -> Expr<'a> {
        match self.peek() {
            TokenKind::Minus
            | TokenKind::Bang
            | TokenKind::LeftArrow
            | TokenKind::Keyword(
                Keyword::AddrOf | Keyword::Deref | Keyword::Await | Keyword::Resume,
            ) => self.parse_prefix(),
            _ => self.parse_postfix(),
        }
    }

    #[inline(never)]
    fn parse_prefix(&mut self) -> Expr<'a> {
        let make: fn(&'a Expr<'a>) -> ExprKind<'a> = match self.peek() {
            TokenKind::Minus => {
                if let TokenKind::Int(MIN_MAGNITUDE) = self.nth(1)
                    && !starts_postfix(self.nth(2))
                {
                    return self.min_literal();
                }
                |e| ExprKind::Unary {
                    op: UnaryOp::Neg,
                    operand: e,
                }
            }
            TokenKind::Bang => |e| ExprKind::Unary {
                op: UnaryOp::Not,
                operand: e,
            },
            TokenKind::Keyword(Keyword::AddrOf) => ExprKind::AddrOf,
            TokenKind::Keyword(Keyword::Deref) => ExprKind::Deref,
            TokenKind::Keyword(Keyword::Await) => ExprKind::Await,
            TokenKind::Keyword(Keyword::Resume) => ExprKind::Resume,
            _ => ExprKind::Recv,
        };
        if !self.enter() {
            return self.too_deep_expr();
        }
        let start = self.bump().span;
        let operand = self.parse_unary();
        self.leave();
        let span = start.to(operand.span);
        Expr {
            kind: make(self.alloc(operand)),
            span,
        }
    }

    /// `-9223372036854775808` is one literal: i64::MIN.
    fn min_literal(&mut self) -> Expr<'a> {
        let start = self.bump().span;
        let end = self.bump().span;
        Expr {
            kind: ExprKind::Int(i64::MIN),
            span: start.to(end),
        }
    }

    /// A primary expression and its postfix operations.
    pub(super) fn parse_postfix(&mut self) -> Expr<'a> {
        let expr = self.parse_primary();
        match self.peek() {
            TokenKind::Dot
            | TokenKind::LParen
            | TokenKind::LBracket
            | TokenKind::ColonColon
            | TokenKind::Lt
            | TokenKind::LBrace => self.parse_postfix_rest(expr),
            _ => expr,
        }
    }

    /// The postfix chain after a primary: up to `MAX_CHAIN` operations (the chain nests its
    /// receivers in the tree, as a chain of binary operators nests its left operands).
    #[inline(never)]
    fn parse_postfix_rest(&mut self, mut expr: Expr<'a>) -> Expr<'a> {
        let base_depth = self.depth;
        let mut ops = 0u32;
        let mut too_deep = false;
        loop {
            expr = match self.peek() {
                TokenKind::Dot => self.parse_field(expr),
                TokenKind::LParen => self.parse_call(expr),
                TokenKind::LBracket => self.parse_index(expr),
                TokenKind::ColonColon => self.parse_path(expr),
                TokenKind::Lt if is_path(&expr) && self.generic_ahead() => self.parse_generic(expr),
                TokenKind::LBrace if !self.no_struct && is_path(&expr) => {
                    self.parse_struct_lit(expr)
                }
                _ => break,
            };
            ops += 1;
            if ops > MAX_CHAIN && !too_deep {
                self.report_chain_too_long();
                too_deep = true;
            }
        }
        self.depth = base_depth;
        if too_deep {
            return self.error_expr(expr.span);
        }
        expr
    }

    fn parse_field(&mut self, object: Expr<'a>) -> Expr<'a> {
        self.bump();
        let Some(name) = self.member_name() else {
            return self.error_expr(object.span);
        };
        let span = object.span.to(name.span);
        Expr {
            kind: ExprKind::Field {
                object: self.alloc(object),
                name,
            },
            span,
        }
    }

    fn parse_call(&mut self, callee: Expr<'a>) -> Expr<'a> {
        let open = self.span();
        let args = if self.enter() {
            self.bump();
            let args = self.parse_expr_list(TokenKind::RParen, open);
            self.leave();
            args
        } else {
            self.skip_too_deep();
            &[]
        };
        let span = self.span_from(callee.span);
        Expr {
            kind: ExprKind::Call {
                callee: self.alloc(callee),
                args,
            },
            span,
        }
    }

    fn parse_index(&mut self, object: Expr<'a>) -> Expr<'a> {
        let open = self.span();
        if !self.enter() {
            self.skip_too_deep();
            return self.error_expr(self.span_from(object.span));
        }
        self.bump();
        let saved = std::mem::replace(&mut self.no_struct, false);
        let index = self.parse_expr();
        self.no_struct = saved;
        self.leave();
        self.close_group(TokenKind::RBracket, open);
        let span = self.span_from(object.span);
        Expr {
            kind: ExprKind::Index {
                object: self.alloc(object),
                index: self.alloc(index),
            },
            span,
        }
    }

    /// `限定::名`: the qualifier is a name, a module member or a generic instantiation.
    fn parse_path(&mut self, qualifier: Expr<'a>) -> Expr<'a> {
        let sep = self.bump().span;
        let qualifier_ok =
            is_path(&qualifier) || matches!(qualifier.kind, ExprKind::Generic { .. });
        if !qualifier_ok && !matches!(qualifier.kind, ExprKind::Error) {
            self.error_at(sep, "：「::」前面应是类型名，如 形状::圆");
        }
        let Some(name) = self.member_name() else {
            return self.error_expr(qualifier.span);
        };
        let span = qualifier.span.to(name.span);
        if !qualifier_ok {
            return self.error_expr(span);
        }
        let path = self.alloc(TypePath {
            qualifier: Some(self.alloc(qualifier)),
            name,
            span,
        });
        Expr {
            kind: ExprKind::Path(path),
            span,
        }
    }

    /// Whether the `<` here opens a type-argument list: the tokens up to its matching `>`
    /// look like types, and the `>` is followed by `(` or `::` (§10).
    pub(super) fn generic_ahead(&self) -> bool {
        let mut level = 1u32;
        let mut want_name = true;
        let end = (self.pos + 1 + GENERIC_LOOKAHEAD).min(self.tokens.len());
        for i in self.pos + 1..end {
            match self.tokens[i].kind {
                TokenKind::Ident(_) if want_name => want_name = false,
                TokenKind::Dot | TokenKind::Comma if !want_name => want_name = true,
                TokenKind::Lt if !want_name => {
                    level += 1;
                    want_name = true;
                }
                TokenKind::Gt if !want_name => {
                    level -= 1;
                    if level == 0 {
                        return matches!(
                            self.tokens.get(i + 1).map(|t| t.kind),
                            Some(TokenKind::LParen | TokenKind::ColonColon)
                        );
                    }
                }
                _ => return false,
            }
        }
        false
    }

    fn parse_generic(&mut self, base: Expr<'a>) -> Expr<'a> {
        let args = self.parse_type_args();
        let span = self.span_from(base.span);
        Expr {
            kind: ExprKind::Generic {
                base: self.alloc(base),
                args,
            },
            span,
        }
    }

    /// `点 { x: 1, y }` (`path` is `点` or `模块.点`).
    fn parse_struct_lit(&mut self, path: Expr<'a>) -> Expr<'a> {
        let open = self.span();
        // The struct's own name, and the module part before it (`模块.点`), if any.
        let path_span = path.span;
        let (qualifier, name) = match path.kind {
            ExprKind::Name(name) => (None, name),
            ExprKind::Field { object, name } => (Some(object), name),
            _ => (
                None,
                Ident {
                    name: "",
                    span: path.span,
                },
            ),
        };
        let type_path = self.alloc(TypePath {
            qualifier,
            name,
            span: path_span,
        });
        if !self.enter() {
            self.skip_too_deep();
            return self.error_expr(self.span_from(path_span));
        }
        self.bump();
        let saved = std::mem::replace(&mut self.no_struct, false);
        let fields = self.named_list(TokenKind::RBrace, "字段名", |p, name| FieldInit {
            name,
            value: p.eat(TokenKind::Colon).then(|| p.parse_expr_ref()),
        });
        self.no_struct = saved;
        self.leave();
        self.close_group(TokenKind::RBrace, open);
        Expr {
            kind: ExprKind::StructLit {
                path: type_path,
                fields: fields.into_bump_slice(),
            },
            span: self.span_from(path_span),
        }
    }

    /// Comma-separated expressions up to `close` (already past the opener at `open`); a
    /// trailing comma is fine. Consumes the closer.
    pub(super) fn parse_expr_list(&mut self, close: TokenKind<'a>, open: Span) -> &'a [Expr<'a>] {
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut items = self.new_vec();
        while !self.at(close) && !self.at_eof() {
            items.push(self.parse_expr());
            if self.eat(TokenKind::Comma) {
                continue;
            }
            if self.at(close) {
                break;
            }
            if !self.list_recover(close) {
                break;
            }
        }
        self.no_struct = saved;
        self.close_group(close, open);
        items.into_bump_slice()
    }

    /// Literals, names, groups, lists, dicts and the keyword-led expressions.
    fn parse_primary(&mut self) -> Expr<'a> {
        match self.peek() {
            TokenKind::LParen => self.parse_group(),
            TokenKind::LBracket => self.parse_list(),
            TokenKind::LBrace => self.parse_dict(),
            TokenKind::Keyword(
                Keyword::Function
                | Keyword::Async
                | Keyword::If
                | Keyword::Match
                | Keyword::Coroutine
                | Keyword::Create
                | Keyword::Spawn
                | Keyword::Suspend,
            ) => self.parse_keyword_expr(),
            _ => self.parse_atom(),
        }
    }

    /// A literal, a name, 真 假 空 自己 — or E2001 when nothing here starts an expression.
    #[inline(never)]
    fn parse_atom(&mut self) -> Expr<'a> {
        let tok = self.tok();
        let kind = match tok.kind {
            TokenKind::Int(value) => {
                if value >= MIN_MAGNITUDE {
                    self.error_magnitude(tok.span);
                    ExprKind::Error
                } else {
                    ExprKind::Int(value as i64)
                }
            }
            TokenKind::Float(value) => ExprKind::Float(value),
            TokenKind::Str(text) => ExprKind::Str(text),
            TokenKind::Ident(name) => ExprKind::Name(Ident {
                name,
                span: tok.span,
            }),
            TokenKind::Keyword(Keyword::True) => ExprKind::Bool(true),
            TokenKind::Keyword(Keyword::False) => ExprKind::Bool(false),
            TokenKind::Keyword(Keyword::Nil) => ExprKind::Nil,
            TokenKind::Keyword(Keyword::SelfValue) => ExprKind::SelfValue,
            _ => {
                self.error_expected("表达式");
                let at = tok.span.start;
                return self.error_expr(Span::new(at, at));
            }
        };
        self.bump();
        Expr {
            kind,
            span: tok.span,
        }
    }

    /// The expressions led by a keyword.
    fn parse_keyword_expr(&mut self) -> Expr<'a> {
        match self.peek() {
            TokenKind::Keyword(Keyword::Function) => self.parse_closure(),
            TokenKind::Keyword(Keyword::Async)
                if self.nth(1) == TokenKind::Keyword(Keyword::Function) =>
            {
                self.parse_closure()
            }
            TokenKind::Keyword(Keyword::If) => self.parse_if_expr(),
            TokenKind::Keyword(Keyword::Match) => self.parse_match_expr(),
            TokenKind::Keyword(Keyword::Coroutine | Keyword::Create | Keyword::Spawn) => {
                self.parse_task()
            }
            TokenKind::Keyword(Keyword::Suspend) => self.parse_suspend(),
            _ => self.parse_atom(),
        }
    }

    /// `( 表达式 )`
    fn parse_group(&mut self) -> Expr<'a> {
        let open = self.span();
        if !self.enter() {
            return self.too_deep_expr();
        }
        self.bump();
        let saved = std::mem::replace(&mut self.no_struct, false);
        let expr = self.parse_expr();
        self.no_struct = saved;
        self.leave();
        self.close_group(TokenKind::RParen, open);
        expr
    }

    /// `[a, b, c]`
    fn parse_list(&mut self) -> Expr<'a> {
        let open = self.span();
        if !self.enter() {
            return self.too_deep_expr();
        }
        self.bump();
        let items = self.parse_expr_list(TokenKind::RBracket, open);
        self.leave();
        Expr {
            kind: ExprKind::List(items),
            span: self.span_from(open),
        }
    }

    /// `{"甲": 1, "乙": 2}` and `{}`
    fn parse_dict(&mut self) -> Expr<'a> {
        let open = self.span();
        if !self.enter() {
            return self.too_deep_expr();
        }
        self.bump();
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut entries = self.new_vec();
        while !matches!(self.peek(), TokenKind::RBrace | TokenKind::Eof) {
            let key = self.parse_expr();
            let value = if self.expect(TokenKind::Colon) {
                self.parse_expr()
            } else {
                self.error_expr(self.prev_span.after())
            };
            entries.push((key, value));
            if self.eat(TokenKind::Comma) {
                continue;
            }
            if self.at(TokenKind::RBrace) {
                break;
            }
            if !self.list_recover(TokenKind::RBrace) {
                break;
            }
        }
        self.no_struct = saved;
        self.leave();
        self.close_group(TokenKind::RBrace, open);
        Expr {
            kind: ExprKind::Dict(entries.into_bump_slice()),
            span: self.span_from(open),
        }
    }
}

/// A name or a chain of member accesses on a name (`点`, `模块.点`): what may stand before
/// type arguments, `::` and a struct literal's `{`.
fn is_path(expr: &Expr<'_>) -> bool {
    let mut e = expr;
    for _ in 0..=MAX_DEPTH {
        match &e.kind {
            ExprKind::Name(_) => return true,
            ExprKind::Field { object, .. } => e = object,
            _ => return false,
        }
    }
    false
}
