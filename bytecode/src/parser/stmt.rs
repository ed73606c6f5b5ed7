//! Statements and blocks: what ends with `;`, what ends with `}`, and a block's value.
//!
//! `;` ends 包 导入 变量 可变 返回 跳出 继续 抛出, assignments, sends and expression statements
//! (E2002 just after the previous token when missing). Declarations and the statements
//! 如果 当 对于 循环 匹配 尝试 选择 end with their `}`. In a block, a final expression without
//! `;` is the block's value (`Block::tail`).

use super::{Parser, StmtContext};
use crate::ast::{
    AssignOp, Block, CatchClause, Expr, ExprKind, Ident, LetDecl, SelectCase, SelectCaseKind,
    SelectStmt, Stmt, StmtKind, TryStmt,
};
use crate::source::Span;
use crate::token::{Keyword, TokenKind};

impl<'a> Parser<'a> {
    /// One statement or declaration.
    pub(super) fn parse_stmt(&mut self, ctx: StmtContext) -> Stmt<'a> {
        use Keyword as K;
        match self.peek() {
            TokenKind::Semi => {
                let span = self.bump().span;
                self.recovering = false;
                Stmt {
                    kind: StmtKind::Empty,
                    span,
                }
            }
            TokenKind::Keyword(K::Public | K::Private) => self.parse_modified_decl(),
            TokenKind::Keyword(K::Async)
                if self.nth(1) == TokenKind::Keyword(K::Function)
                    && matches!(self.nth(2), TokenKind::Ident(_)) =>
            {
                self.parse_function_stmt(false)
            }
            TokenKind::Keyword(K::Function) if matches!(self.nth(1), TokenKind::Ident(_)) => {
                self.parse_function_stmt(false)
            }
            TokenKind::Keyword(K::Let | K::Mut) => self.parse_let(false),
            TokenKind::Keyword(K::Struct) => self.parse_struct(false),
            TokenKind::Keyword(K::Enum) => self.parse_enum(false),
            TokenKind::Keyword(K::Methods) => self.parse_methods(),
            TokenKind::Keyword(K::While) => self.parse_while(),
            TokenKind::Keyword(K::For) => self.parse_for(),
            TokenKind::Keyword(K::Loop) => self.parse_loop(),
            TokenKind::Keyword(K::Return | K::Break | K::Continue | K::Throw) => self.parse_jump(),
            TokenKind::Keyword(K::Try) => self.parse_try(),
            TokenKind::Keyword(K::Select) => self.parse_select(),
            TokenKind::Keyword(K::Package) => self.parse_package(true),
            TokenKind::Keyword(K::Import) => self.parse_import(true),
            _ => self.parse_expr_stmt(ctx),
        }
    }

    /// Consumes the `;` that ends a statement, which resynchronises after an error; or
    /// reports E2002 just after the previous token. When what follows clearly starts
    /// something new (a later line, a statement keyword, `}`), parsing goes on as if the `;`
    /// were there; otherwise the statement list skips to the next synchronisation point.
    pub(super) fn expect_semi(&mut self) {
        if self.eat(TokenKind::Semi) {
            self.recovering = false;
            return;
        }
        // Only a plain missing `;` can be mended by pretending it was there; after an
        // earlier error in the statement, the statement list resynchronises.
        let plain =
            !self.recovering && !matches!(self.peek(), TokenKind::RParen | TokenKind::RBracket);
        self.error_missing_semi();
        let next = self.tok();
        let gap = self
            .file
            .text
            .get(self.prev_span.end as usize..next.span.start as usize)
            .unwrap_or("");
        if plain
            && (gap.contains('\n')
                || Self::starts_statement(next.kind)
                || matches!(next.kind, TokenKind::RBrace | TokenKind::Eof))
        {
            self.recovering = false;
        }
    }

    /// `{ 语句… 尾表达式 }`. Without a `{` here: E2001 and an empty block.
    pub(super) fn parse_block(&mut self) -> &'a Block<'a> {
        if !self.at(TokenKind::LBrace) {
            self.error_expected("「{」");
            let at = self.span().start;
            return self.empty_block(Span::new(at, at));
        }
        if !self.enter() {
            let span = self.skip_too_deep();
            return self.empty_block(span);
        }
        let block = self.parse_block_body();
        self.leave();
        block
    }

    fn empty_block(&self, span: Span) -> &'a Block<'a> {
        self.alloc(Block {
            stmts: &[],
            tail: None,
            span,
        })
    }

    /// From the `{` to the `}` of a block; the nesting level is already entered.
    #[inline(never)]
    fn parse_block_body(&mut self) -> &'a Block<'a> {
        let open = self.bump().span;
        // A `{` is a strong synchronisation point: an error before it (in a header or a
        // parameter list) says nothing about the statements inside.
        self.recovering = false;
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut stmts = self.new_vec();
        let mut tail = None;
        while !matches!(self.peek(), TokenKind::RBrace | TokenKind::Eof) {
            let before = self.pos;
            let stmt = self.parse_stmt(StmtContext::Block);
            match stmt.kind {
                StmtKind::Expr { expr, semi: false } if self.at(TokenKind::RBrace) => {
                    tail = Some(expr)
                }
                _ => stmts.push(stmt),
            }
            if self.recovering {
                self.synchronize(StmtContext::Block, before);
            }
            self.ensure_progress(before);
        }
        self.no_struct = saved;
        self.close_group(TokenKind::RBrace, open);
        self.alloc(Block {
            stmts: stmts.into_bump_slice(),
            tail,
            span: self.span_from(open),
        })
    }

    /// A statement loop that consumed nothing would never end: consume one token (and
    /// complain in debug builds, where this is a parser bug the fuzzer should find).
    pub(super) fn ensure_progress(&mut self, before: usize) {
        if self.pos == before && !self.at_eof() {
            debug_assert!(false, "语句没有消耗记号：{:?}", self.tok());
            self.bump();
        }
    }

    /// An expression statement, an assignment or a send.
    fn parse_expr_stmt(&mut self, ctx: StmtContext) -> Stmt<'a> {
        match self.peek() {
            TokenKind::LBrace | TokenKind::Keyword(Keyword::If | Keyword::Match) => {
                self.parse_block_like_stmt()
            }
            _ => self.parse_simple_stmt(ctx),
        }
    }

    /// A block-like expression at the start of a statement ends at its `}`; a `;` after it
    /// is optional.
    #[inline(never)]
    fn parse_block_like_stmt(&mut self) -> Stmt<'a> {
        let start = self.span();
        let expr = match self.peek() {
            TokenKind::LBrace => self.parse_block_expr(),
            TokenKind::Keyword(Keyword::If) => self.parse_if_expr(),
            _ => self.parse_match_expr(),
        };
        let expr = self.alloc(expr);
        let semi = self.eat(TokenKind::Semi);
        Stmt {
            kind: StmtKind::Expr { expr, semi },
            span: self.span_from(start),
        }
    }

    #[inline(never)]
    fn parse_simple_stmt(&mut self, ctx: StmtContext) -> Stmt<'a> {
        let first = self.tok();
        let reported = self.diags.len();
        let expr = self.parse_expr_send_ok();
        let stmt = self.finish_simple_stmt(first.span, expr, ctx);
        // `如果计数 > 0 { … }` lexes as the name 如果计数: say so when it went wrong.
        if self.diags.len() > reported
            && let TokenKind::Ident(name) = first.kind
            && let Some(hint) = keyword_prefix_hint(name)
        {
            self.hint_last(&hint);
        }
        stmt
    }

    /// After a statement's leading expression: an assignment, a send, or the `;`.
    fn finish_simple_stmt(&mut self, start: Span, expr: Expr<'a>, ctx: StmtContext) -> Stmt<'a> {
        let kind = if let Some(op) = assign_op(self.peek()) {
            self.parse_assign_rest(expr, op)
        } else if self.eat(TokenKind::LeftArrow) {
            let value = self.parse_expr();
            self.expect_semi();
            StmtKind::Send {
                channel: self.alloc(expr),
                value: self.alloc(value),
            }
        } else if self.eat(TokenKind::Semi) {
            self.recovering = false;
            StmtKind::Expr {
                expr: self.alloc(expr),
                semi: true,
            }
        } else if ctx == StmtContext::Block && self.at(TokenKind::RBrace) {
            StmtKind::Expr {
                expr: self.alloc(expr),
                semi: false,
            }
        } else {
            let colon = self.at(TokenKind::Colon);
            let reported = self.diags.len();
            self.expect_semi();
            if colon && self.diags.len() > reported {
                // `{"甲": 1}` at the start of a statement is a block, not a dict.
                self.hint_last("语句开头的「{」是代码块；字典要写在表达式里，如 返回 {\"甲\": 1};");
            }
            StmtKind::Expr {
                expr: self.alloc(expr),
                semi: true,
            }
        };
        Stmt {
            kind,
            span: self.span_from(start),
        }
    }

    /// After `目标`, at the assignment operator: checks the target, parses the value and the
    /// `;`.
    fn parse_assign_rest(&mut self, target: Expr<'a>, op: AssignOp) -> StmtKind<'a> {
        self.check_assign_target(&target);
        self.bump();
        let value = self.parse_expr();
        self.expect_semi();
        StmtKind::Assign {
            target: self.alloc(target),
            op,
            value: self.alloc(value),
        }
    }

    /// Only a name, `a[i]`, `p.字段` and `解引用 r` can be assigned to (§9).
    pub(super) fn check_assign_target(&mut self, target: &Expr<'a>) {
        match target.kind {
            ExprKind::Name(_)
            | ExprKind::Index { .. }
            | ExprKind::Field { .. }
            | ExprKind::Deref(_)
            | ExprKind::Error => {}
            _ => {
                self.error_at(target.span, "：不能给这个表达式赋值")
                    .hint_last("赋值的左边只能是名字、a[i]、对象.字段 或 解引用 r");
            }
        }
    }

    /// `变量 x: T = e;` / `可变 x;`; `公开` has been consumed by the caller if `public`.
    pub(super) fn parse_let_decl(&mut self, start: Span, public: bool) -> Stmt<'a> {
        let mutable = self.bump().kind == TokenKind::Keyword(Keyword::Mut);
        let name = self.expect_ident("变量名").unwrap_or(Ident {
            name: "",
            span: self.prev_span.after(),
        });
        let ty = if self.eat(TokenKind::Colon) {
            Some(self.parse_type_ref())
        } else {
            None
        };
        let value = if self.eat(TokenKind::Eq) {
            Some(self.parse_expr_ref())
        } else {
            None
        };
        self.expect_semi();
        let decl = self.alloc(LetDecl {
            mutable,
            public,
            name,
            ty,
            value,
        });
        Stmt {
            kind: StmtKind::Let(decl),
            span: self.span_from(start),
        }
    }

    /// An expression, in the arena.
    #[inline(never)]
    pub(super) fn parse_expr_ref(&mut self) -> &'a Expr<'a> {
        let expr = self.parse_expr();
        self.alloc(expr)
    }

    fn parse_let(&mut self, public: bool) -> Stmt<'a> {
        let start = self.span();
        self.parse_let_decl(start, public)
    }

    /// A statement header's expression: `名 {` is not a struct literal in it.
    pub(super) fn parse_header_expr(&mut self) -> Expr<'a> {
        if self.at(TokenKind::LBrace) {
            // `如果 { … }`: the condition is missing (a dict here would only confuse).
            self.error_expected("表达式");
            let at = self.span().start;
            return self.error_expr(Span::new(at, at));
        }
        let saved = std::mem::replace(&mut self.no_struct, true);
        let expr = self.parse_expr();
        self.no_struct = saved;
        expr
    }

    /// `当 条件 { … }`
    fn parse_while(&mut self) -> Stmt<'a> {
        let start = self.bump().span;
        let cond = self.parse_header_expr();
        let body = self.parse_block();
        Stmt {
            kind: StmtKind::While {
                cond: self.alloc(cond),
                body,
            },
            span: self.span_from(start),
        }
    }

    /// `对于 x 在 e { … }` / `对于 i 从 a 到 b { … }` (stored as `a..=b`).
    fn parse_for(&mut self) -> Stmt<'a> {
        let start = self.bump().span;
        let var = self.expect_ident("循环变量名").unwrap_or(Ident {
            name: "",
            span: self.prev_span.after(),
        });
        let iter = if self.eat_kw(Keyword::In) {
            self.parse_header_expr()
        } else if self.eat_kw(Keyword::From) {
            let from = self.parse_header_expr();
            if self.eat_kw(Keyword::To) {
                let to = self.parse_header_expr();
                let span = from.span.to(to.span);
                Expr {
                    kind: ExprKind::Range {
                        start: self.alloc(from),
                        end: self.alloc(to),
                        inclusive: true,
                    },
                    span,
                }
            } else {
                self.error_expected("「到」");
                from
            }
        } else {
            self.error_expected("「在」或「从」");
            self.error_expr(self.prev_span.after())
        };
        let body = self.parse_block();
        Stmt {
            kind: StmtKind::For {
                var,
                iter: self.alloc(iter),
                body,
            },
            span: self.span_from(start),
        }
    }

    /// `循环 { … }`
    fn parse_loop(&mut self) -> Stmt<'a> {
        let start = self.bump().span;
        let body = self.parse_block();
        Stmt {
            kind: StmtKind::Loop { body },
            span: self.span_from(start),
        }
    }

    /// `返回 e?;` `跳出;` `继续;` `抛出 e;`
    fn parse_jump(&mut self) -> Stmt<'a> {
        let tok = self.bump();
        let kind = match tok.kind {
            TokenKind::Keyword(Keyword::Return) => {
                let value = if matches!(
                    self.peek(),
                    TokenKind::Semi | TokenKind::RBrace | TokenKind::Eof
                ) {
                    None
                } else {
                    Some(self.parse_expr_ref())
                };
                StmtKind::Return(value)
            }
            TokenKind::Keyword(Keyword::Break) => StmtKind::Break,
            TokenKind::Keyword(Keyword::Continue) => StmtKind::Continue,
            _ => {
                let value = self.parse_expr();
                StmtKind::Throw(self.alloc(value))
            }
        };
        self.expect_semi();
        Stmt {
            kind,
            span: self.span_from(tok.span),
        }
    }

    /// `尝试 { … } 捕获 (e) { … } 最终 { … }`; 捕获 takes `(e)`, `e` or nothing.
    fn parse_try(&mut self) -> Stmt<'a> {
        let start = self.bump().span;
        let body = self.parse_block();
        let catch = if self.at_kw(Keyword::Catch) {
            let span = self.bump().span;
            let binding = match self.peek() {
                TokenKind::LParen => {
                    let open = self.bump().span;
                    let name = self.expect_ident("错误变量名");
                    self.close_group(TokenKind::RParen, open);
                    name
                }
                TokenKind::Ident(_) => self.expect_ident("错误变量名"),
                _ => None,
            };
            let body = self.parse_block();
            Some(CatchClause {
                binding,
                body,
                span,
            })
        } else {
            None
        };
        let finally = if self.eat_kw(Keyword::Finally) {
            Some(self.parse_block())
        } else {
            None
        };
        if catch.is_none() && finally.is_none() {
            let span = self.span();
            self.error_at(
                span,
                &format!(
                    "：「尝试」后面需要「捕获」或「最终」，却遇到{}",
                    self.tok().kind.describe()
                ),
            );
        }
        let stmt = self.alloc(TryStmt {
            body,
            catch,
            finally,
        });
        Stmt {
            kind: StmtKind::Try(stmt),
            span: self.span_from(start),
        }
    }

    /// `选择 { 情况 …: … 默认: … }`
    fn parse_select(&mut self) -> Stmt<'a> {
        let start = self.bump().span;
        let open = self.span();
        let mut cases = self.new_vec();
        if !self.at(TokenKind::LBrace) {
            self.error_expected("「{」");
        } else if !self.enter() {
            self.skip_too_deep();
        } else {
            self.bump();
            let saved = std::mem::replace(&mut self.no_struct, false);
            let mut seen_default = false;
            while !matches!(self.peek(), TokenKind::RBrace | TokenKind::Eof) {
                let before = self.pos;
                let head = self.span();
                let kind = match self.peek() {
                    TokenKind::Keyword(Keyword::Case) => {
                        self.bump();
                        self.parse_case_head()
                    }
                    TokenKind::Keyword(Keyword::Default) => {
                        let span = self.bump().span;
                        if seen_default {
                            self.error_at(span, "：「选择」里只能有一个「默认」");
                        }
                        seen_default = true;
                        SelectCaseKind::Default
                    }
                    _ => {
                        self.error_expected("「情况」或「默认」");
                        self.synchronize(StmtContext::SelectArm, before);
                        self.ensure_progress(before);
                        continue;
                    }
                };
                self.expect(TokenKind::Colon);
                let span = self.span_from(head);
                let body = self.parse_select_body();
                cases.push(SelectCase { kind, body, span });
                self.ensure_progress(before);
            }
            self.no_struct = saved;
            self.leave();
            self.close_group(TokenKind::RBrace, open);
        }
        let select = self.alloc(SelectStmt {
            cases: cases.into_bump_slice(),
        });
        Stmt {
            kind: StmtKind::Select(select),
            span: self.span_from(start),
        }
    }

    /// After `情况`: `<-E`, `名 = <-E`, `名 := <-E`, `E <- E` or `超时(E)`, up to the `:`.
    fn parse_case_head(&mut self) -> SelectCaseKind<'a> {
        if self.eat(TokenKind::LeftArrow) {
            let channel = self.parse_expr();
            return SelectCaseKind::Recv {
                binding: None,
                channel: self.alloc(channel),
            };
        }
        if let TokenKind::Ident(name) = self.peek()
            && matches!(self.nth(1), TokenKind::Eq | TokenKind::ColonEq)
        {
            let span = self.bump().span;
            self.bump();
            self.expect(TokenKind::LeftArrow);
            let channel = self.parse_expr();
            return SelectCaseKind::Recv {
                binding: Some(Ident { name, span }),
                channel: self.alloc(channel),
            };
        }
        let expr = self.parse_expr_send_ok();
        if self.eat(TokenKind::LeftArrow) {
            let value = self.parse_expr();
            return SelectCaseKind::Send {
                channel: self.alloc(expr),
                value: self.alloc(value),
            };
        }
        if let ExprKind::Call { callee, args } = &expr.kind
            && let ExprKind::Name(Ident { name: "超时", .. }) = callee.kind
            && let [ms] = args
        {
            return SelectCaseKind::Timeout(ms);
        }
        if !matches!(expr.kind, ExprKind::Error) {
            self.error_at(
                expr.span,
                "：「情况」后面应是 <-通道、名 = <-通道、通道 <- 值 或 超时(毫秒)",
            );
        }
        SelectCaseKind::Timeout(self.alloc(expr))
    }

    /// A 选择 case's statements, up to the next `情况`, `默认` or the closing `}`.
    fn parse_select_body(&mut self) -> &'a [Stmt<'a>] {
        let mut stmts = self.new_vec();
        while !matches!(
            self.peek(),
            TokenKind::RBrace
                | TokenKind::Eof
                | TokenKind::Keyword(Keyword::Case | Keyword::Default)
        ) {
            let before = self.pos;
            stmts.push(self.parse_stmt(StmtContext::SelectArm));
            if self.recovering {
                self.synchronize(StmtContext::SelectArm, before);
            }
            self.ensure_progress(before);
        }
        stmts.into_bump_slice()
    }

    /// `{ … }` as an expression (after `=>`, `否则`, or at the start of a statement).
    pub(super) fn parse_block_expr(&mut self) -> Expr<'a> {
        let block = self.parse_block();
        Expr {
            kind: ExprKind::Block(block),
            span: block.span,
        }
    }
}

/// The assignment operator a token is, if any.
pub(super) fn assign_op(kind: TokenKind<'_>) -> Option<AssignOp> {
    Some(match kind {
        TokenKind::Eq => AssignOp::Assign,
        TokenKind::PlusEq => AssignOp::Add,
        TokenKind::MinusEq => AssignOp::Sub,
        TokenKind::StarEq => AssignOp::Mul,
        TokenKind::SlashEq => AssignOp::Div,
        TokenKind::PercentEq => AssignOp::Rem,
        _ => return None,
    })
}

/// `如果计数` → `是不是想写 如果 计数？` (QI-LANGUAGE.md §10).
pub(super) fn keyword_prefix_hint(name: &str) -> Option<String> {
    let kw = Keyword::ALL
        .iter()
        .filter(|k| name.len() > k.text().len() && name.starts_with(k.text()))
        .max_by_key(|k| k.text().len())?;
    let rest = &name[kw.text().len()..];
    Some(format!("是不是想写 {} {rest}？", kw.text()))
}
