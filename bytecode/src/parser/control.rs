//! The expressions that hold blocks or whole expressions: 如果, 匹配, closures, 协程/创建/
//! 启动 and 挂起.

use super::Parser;
use super::stmt::assign_op;
use crate::ast::{Expr, ExprKind, Ident, MatchArm, Stmt, StmtKind, TaskBody};
use crate::source::Span;
use crate::token::{Keyword, TokenKind};

impl<'a> Parser<'a> {
    /// `如果 c { … } 否则 如果 c2 { … } 否则 { … }`. The `否则 如果` chain is read in a loop
    /// and nested from the back; each link counts one nesting level.
    pub(super) fn parse_if_expr(&mut self) -> Expr<'a> {
        let base_depth = self.depth;
        let mut links = self.new_vec();
        let mut otherwise: Option<&'a Expr<'a>> = None;
        let mut too_deep = false;
        let first = self.span();
        loop {
            let start = self.span();
            // The header nests inside the 如果 (`如果 如果 a {…} 否则 {…} {…}`).
            if !self.enter() {
                too_deep = true;
                self.skip_too_deep();
                break;
            }
            self.bump();
            let cond = self.parse_header_expr();
            self.leave();
            let then = self.parse_block();
            links.push((start, cond, then));
            if !self.eat_kw(Keyword::Else) {
                break;
            }
            if self.at_kw(Keyword::If) {
                if !self.enter() {
                    too_deep = true;
                    self.skip_too_deep();
                    break;
                }
                continue;
            }
            let block = self.parse_block_expr();
            otherwise = Some(self.alloc(block));
            break;
        }
        self.depth = base_depth;
        if too_deep {
            return self.error_expr(self.span_from(first));
        }
        let end = self.prev_span;
        let mut result = None;
        while let Some((start, cond, then)) = links.pop() {
            let expr = Expr {
                kind: ExprKind::If {
                    cond: self.alloc(cond),
                    then,
                    otherwise,
                },
                span: start.to(end),
            };
            if links.is_empty() {
                result = Some(expr);
                break;
            }
            otherwise = Some(self.alloc(expr));
        }
        result.unwrap_or_else(|| self.error_expr(first))
    }

    /// `匹配 值 { 模式 (如果 条件)? => 分支, … }`
    pub(super) fn parse_match_expr(&mut self) -> Expr<'a> {
        let start = self.span();
        if !self.enter() {
            return self.too_deep_expr();
        }
        self.bump();
        let saved = std::mem::replace(&mut self.no_struct, true);
        let scrutinee = self.parse_expr_ref();
        self.no_struct = saved;
        self.leave();
        let arms = self.parse_match_arms();
        Expr {
            kind: ExprKind::Match { scrutinee, arms },
            span: self.span_from(start),
        }
    }

    /// `{ 分支, … }`
    #[inline(never)]
    fn parse_match_arms(&mut self) -> &'a [MatchArm<'a>] {
        let open = self.span();
        if !self.at(TokenKind::LBrace) {
            self.error_expected("「{」");
            return &[];
        }
        if !self.enter() {
            self.skip_too_deep();
            return &[];
        }
        self.bump();
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut arms = self.new_vec();
        while !matches!(self.peek(), TokenKind::RBrace | TokenKind::Eof) {
            let Some(arm) = self.parse_match_arm() else {
                if self.skip_in_list(TokenKind::RBrace) && self.eat(TokenKind::Comma) {
                    continue;
                }
                break;
            };
            arms.push(arm);
            if self.eat(TokenKind::Comma) || self.at(TokenKind::RBrace) {
                continue;
            }
            // No `,` is needed after an arm whose body ends with `}`.
            if self.pos > 0 && self.tokens[self.pos - 1].kind == TokenKind::RBrace {
                continue;
            }
            if !self.list_recover(TokenKind::RBrace) {
                break;
            }
        }
        self.no_struct = saved;
        self.leave();
        self.close_group(TokenKind::RBrace, open);
        arms.into_bump_slice()
    }

    /// One arm; `None` when there is no `=>` (the caller skips to the next arm).
    fn parse_match_arm(&mut self) -> Option<MatchArm<'a>> {
        let start = self.span();
        let pattern = self.parse_pattern_ref();
        let guard = if self.eat_kw(Keyword::If) {
            Some(self.parse_expr_ref())
        } else {
            None
        };
        if !self.expect(TokenKind::FatArrow) {
            return None;
        }
        let body = self.parse_arm_body();
        Some(MatchArm {
            pattern,
            guard,
            body,
            span: self.span_from(start),
        })
    }

    /// An arm's body: a block, an expression, an assignment, or 返回/跳出/继续/抛出 — all
    /// without `;`.
    fn parse_arm_body(&mut self) -> &'a Stmt<'a> {
        match self.peek() {
            TokenKind::Keyword(
                Keyword::Return | Keyword::Break | Keyword::Continue | Keyword::Throw,
            ) => self.parse_arm_jump(),
            _ => self.parse_arm_expr(),
        }
    }

    #[inline(never)]
    fn parse_arm_jump(&mut self) -> &'a Stmt<'a> {
        let start = self.span();
        let kind = match self.bump().kind {
            TokenKind::Keyword(Keyword::Return) => {
                if matches!(
                    self.peek(),
                    TokenKind::Comma | TokenKind::RBrace | TokenKind::Eof
                ) {
                    StmtKind::Return(None)
                } else {
                    StmtKind::Return(Some(self.parse_expr_ref()))
                }
            }
            TokenKind::Keyword(Keyword::Break) => StmtKind::Break,
            TokenKind::Keyword(Keyword::Continue) => StmtKind::Continue,
            _ => StmtKind::Throw(self.parse_expr_ref()),
        };
        self.alloc(Stmt {
            kind,
            span: self.span_from(start),
        })
    }

    /// A block, an expression or an assignment.
    #[inline(never)]
    fn parse_arm_expr(&mut self) -> &'a Stmt<'a> {
        let start = self.span();
        let expr = if self.at(TokenKind::LBrace) {
            self.parse_block_expr()
        } else {
            self.parse_expr()
        };
        let kind = match assign_op(self.peek()) {
            Some(op) if !matches!(expr.kind, ExprKind::Block(_)) => {
                self.check_assign_target(&expr);
                self.bump();
                let value = self.parse_expr_ref();
                StmtKind::Assign {
                    target: self.alloc(expr),
                    op,
                    value,
                }
            }
            _ => StmtKind::Expr {
                expr: self.alloc(expr),
                semi: false,
            },
        };
        self.alloc(Stmt {
            kind,
            span: self.span_from(start),
        })
    }

    /// `函数(x, y: 整数): 整数 { … }` and `异步 函数() { … }`. The closure's name is empty
    /// and points at the `函数` keyword.
    pub(super) fn parse_closure(&mut self) -> Expr<'a> {
        let start = self.span();
        let is_async = self.eat_kw(Keyword::Async);
        let keyword = self.bump().span;
        if let TokenKind::Ident(name) = self.peek() {
            let span = self.bump().span;
            self.error_at(span, &format!("：函数表达式不能有名字「{name}」"))
                .hint_last("声明函数要单独写一条语句；作为值使用时写成 函数(参数) { … }");
        }
        let decl = self.parse_function_rest(
            Ident {
                name: "",
                span: keyword,
            },
            start,
            false,
            is_async,
            &[],
        );
        Expr {
            kind: ExprKind::Closure(decl),
            span: self.span_from(start),
        }
    }

    /// `协程 f(x)` / `创建 { … }` / `启动 …`: a block, or a postfix expression ending in a
    /// call; anything else is E2001.
    pub(super) fn parse_task(&mut self) -> Expr<'a> {
        let start = self.span();
        if !self.enter() {
            return self.too_deep_expr();
        }
        let keyword = self.bump().kind;
        let body = if self.at(TokenKind::LBrace) {
            Some(TaskBody::Block(self.parse_block()))
        } else {
            let operand = self.parse_postfix();
            match operand.kind {
                ExprKind::Call { .. } => Some(TaskBody::Call(self.alloc(operand))),
                ExprKind::Error => None,
                _ => {
                    let word = match keyword {
                        TokenKind::Keyword(k) => k.text(),
                        _ => "",
                    };
                    self.error_at(
                        operand.span,
                        &format!("：「{word}」后面应是函数调用或代码块"),
                    )
                    .hint_last(&format!("写成 {word} f(参数) 或 {word} {{ … }}"));
                    None
                }
            }
        };
        self.leave();
        let span = self.span_from(start);
        let kind = match (keyword, body) {
            (_, None) => ExprKind::Error,
            (TokenKind::Keyword(Keyword::Coroutine), Some(body)) => ExprKind::Coroutine(body),
            (TokenKind::Keyword(Keyword::Create), Some(body)) => ExprKind::Create(body),
            (_, Some(body)) => ExprKind::Spawn(body),
        };
        Expr { kind, span }
    }

    /// `挂起` alone before `; , ) ] } =>` `:` or the end; else `挂起 表达式` (a whole
    /// expression, like 返回).
    pub(super) fn parse_suspend(&mut self) -> Expr<'a> {
        let start = self.span();
        if matches!(
            self.nth(1),
            TokenKind::Semi
                | TokenKind::Comma
                | TokenKind::RParen
                | TokenKind::RBracket
                | TokenKind::RBrace
                | TokenKind::FatArrow
                | TokenKind::Colon
                | TokenKind::Eof
        ) {
            self.bump();
            return Expr {
                kind: ExprKind::Suspend(None),
                span: start,
            };
        }
        if !self.enter() {
            return self.too_deep_expr();
        }
        self.bump();
        let value = self.parse_expr();
        self.leave();
        let span: Span = start.to(value.span);
        Expr {
            kind: ExprKind::Suspend(Some(self.alloc(value))),
            span,
        }
    }
}
