//! The parser: tokens to the arena-allocated [`ast`](crate::ast), with error recovery.
//!
//! A hand-written recursive-descent parser with precedence climbing for binary operators.
//! It must never panic, never loop without consuming a token and never overflow the Rust
//! stack, whatever the input: it is fuzzed (tests/robustness.rs).
//!
//! # Layout
//! - this file: the [`Parser`] state, the token cursor, diagnostics, recovery and the nesting
//!   guard, and the entry point [`parse`];
//! - `import.rs`: `包` and `导入` (whose path is read raw from the source);
//! - `stmt.rs`: statements and blocks; `decl.rs`: 函数 结构体 枚举 方法 declarations;
//! - `expr.rs`: operators, postfix forms and literals; `control.rs`: the expressions that
//!   hold blocks (如果 匹配 closures 协程/创建/启动);
//! - `pattern.rs`, `types.rs`: 匹配 patterns and type annotations;
//! - `sexpr.rs`: a compact S-expression printer of the tree, for tests.
//!
//! # Recovery
//! After an error the parser records one diagnostic and enters *recovery* (`recovering`):
//! further errors are dropped until it has resynchronised, which happens when a statement's
//! `;` is consumed or when a statement list skips to a synchronisation point (the next `;` at
//! the current nesting level, the `}` that closes the current block, or a token that starts a
//! statement). Missing pieces become [`ExprKind::Error`] nodes. Parser errors that follow a
//! lexer error directly (a skipped illegal character, an unterminated string or comment that
//! ran to the end of the file) are consequences of it and are not reported.
//!
//! # Nesting
//! Every construct that nests (brackets, blocks, prefix operators, 如果/匹配 headers,
//! `否则 如果` chains) counts one level in `depth`; past [`MAX_DEPTH`] the parser reports E2003
//! once per file, skips the rest of the nested construct without recursing, and goes on. This
//! bounds both the parser's own recursion and the depth of the tree. A chain of binary
//! operators or postfix operations is not nesting in the language, though it nests in the
//! tree: the parser builds it in a loop, the passes over the tree grow their stack on the way
//! down (`crate::deep`), and only past [`MAX_CHAIN`] operators is it E2003.

mod control;
mod decl;
mod expr;
mod import;
mod pattern;
pub mod sexpr;
mod stmt;
mod types;

use std::sync::Arc;

use bumpalo::Bump;

use crate::ast::{Expr, ExprKind, Program};
use crate::diagnostic::{Code, Diagnostic};
use crate::lexer::tokenize;
use crate::source::{SourceFile, Span};
use crate::token::{Keyword, Token, TokenKind};

/// What parsing one file gives: the tree (with error nodes where it recovered) and every
/// diagnostic, in source order.
pub struct Parsed<'a> {
    pub program: Program<'a>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The deepest nesting accepted (QI-LANGUAGE.md §10). 256 levels are far beyond hand-written
/// code; the limit exists so that neither this parser nor a pass over its tree can exhaust a
/// 2 MiB thread stack, even in a debug build (tested in bytecode/tests/parser.rs).
pub const MAX_DEPTH: u32 = 256;

/// The longest chain of binary operators (`a + b + …`) or postfix operations (`a.b().c …`)
/// accepted. Each operator is one level of the tree that every pass recurses through on
/// stack segments it grows as it goes (about a kilobyte per level per pass in a debug
/// build), so the cap keeps what an absurd line costs to a few tens of megabytes.
pub const MAX_CHAIN: u32 = 20_000;

/// Lexes and parses `file` into `arena`.
pub fn parse<'a>(arena: &'a Bump, file: &'a Arc<SourceFile>) -> Parsed<'a> {
    let mut diagnostics = Vec::new();
    let tokens = tokenize(arena, file, &mut diagnostics);
    let mut parser = Parser::new(arena, file, tokens, diagnostics);
    let program = parser.parse_program();
    let mut diagnostics = parser.diags;
    // Lexer diagnostics come first in the vector; merge them with the parser's by position.
    diagnostics.sort_by_key(|d| d.location.as_ref().map_or(0, |(_, span)| span.start));
    Parsed {
        program,
        diagnostics,
    }
}

/// Where a statement list is, which decides what may end it and whether it has a value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StmtContext {
    /// The file's top level: ends at `Eof`; a stray `}` is an error.
    TopLevel,
    /// Inside `{ … }`: ends at `}`; the last expression without `;` is the block's value.
    Block,
    /// The body of a 选择 case: ends at `情况`, `默认` or `}`; has no value.
    SelectArm,
}

/// The state of one `parse` call.
pub(crate) struct Parser<'a> {
    /// Where every node goes.
    arena: &'a Bump,
    /// For diagnostics and for the raw text of import paths.
    file: &'a Arc<SourceFile>,
    /// The lexer's output; always ends with `Eof`. Mutable only to split a `>=` that closes
    /// a type's argument list into `>` and `=`.
    tokens: Vec<Token<'a>>,
    /// Index of the current token; never past the final `Eof`.
    pos: usize,
    /// The span of the last consumed token: a missing `;` is reported just after it.
    prev_span: Span,
    /// Lexer diagnostics first, then the parser's; sorted by position at the end.
    diags: Vec<Diagnostic>,
    /// Sorted start offsets of the lexer's diagnostics: a parser error right after one of
    /// them is its consequence and is not reported.
    lex_errors: Vec<u32>,
    /// Where an unterminated string or comment started: everything after it was swallowed,
    /// so parser errors from there on are not reported.
    swallowed_from: u32,
    /// Set by an error, cleared on resynchronisation; while set, errors are not reported.
    recovering: bool,
    /// Where the last reported error starts: recovery can stop on the very token that was
    /// wrong (a keyword that may start a statement, like `异步` in `变量 异步 = 1;`), and
    /// the statement parsed from there must not report it a second time.
    last_reported: Option<u32>,
    /// Current nesting level (see the module comment).
    depth: u32,
    /// E2003 is reported once per file.
    too_deep_reported: bool,
    /// In the header of 如果/当/匹配/对于, `名 {` is not a struct literal. Cleared inside
    /// brackets and braces, restored after them.
    no_struct: bool,
}

impl<'a> Parser<'a> {
    fn new(
        arena: &'a Bump,
        file: &'a Arc<SourceFile>,
        mut tokens: Vec<Token<'a>>,
        diags: Vec<Diagnostic>,
    ) -> Parser<'a> {
        let end = file.text.len() as u32;
        if tokens.last().is_none_or(|t| t.kind != TokenKind::Eof) {
            tokens.push(Token {
                kind: TokenKind::Eof,
                span: Span::new(end, end),
            });
        }
        let mut lex_errors: Vec<u32> = diags
            .iter()
            .filter_map(|d| d.location.as_ref().map(|(_, s)| s.start))
            .collect();
        lex_errors.sort_unstable();
        let swallowed_from = diags
            .iter()
            .filter(|d| matches!(d.code, Code::E1002 | Code::E1006))
            .filter_map(|d| d.location.as_ref().map(|(_, s)| s.start))
            .min()
            .unwrap_or(u32::MAX);
        Parser {
            arena,
            file,
            tokens,
            pos: 0,
            prev_span: Span::new(0, 0),
            diags,
            lex_errors,
            swallowed_from,
            recovering: false,
            last_reported: None,
            depth: 0,
            too_deep_reported: false,
            no_struct: false,
        }
    }

    // ---------------------------------------------------------------------------------
    // The cursor

    fn tok(&self) -> Token<'a> {
        self.tokens[self.pos]
    }

    fn peek(&self) -> TokenKind<'a> {
        self.tokens[self.pos].kind
    }

    /// The kind of the token `n` places ahead (`Eof` past the end).
    fn nth(&self, n: usize) -> TokenKind<'a> {
        self.tokens
            .get(self.pos + n)
            .map_or(TokenKind::Eof, |t| t.kind)
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span
    }

    fn at(&self, kind: TokenKind<'_>) -> bool {
        self.peek() == kind
    }

    fn at_kw(&self, kw: Keyword) -> bool {
        self.peek() == TokenKind::Keyword(kw)
    }

    fn at_eof(&self) -> bool {
        self.peek() == TokenKind::Eof
    }

    /// Consumes the current token (never the final `Eof`) and returns it.
    fn bump(&mut self) -> Token<'a> {
        let tok = self.tokens[self.pos];
        if tok.kind != TokenKind::Eof {
            self.pos += 1;
            self.prev_span = tok.span;
        }
        tok
    }

    fn eat(&mut self, kind: TokenKind<'_>) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: Keyword) -> bool {
        self.eat(TokenKind::Keyword(kw))
    }

    /// Consumes `kind` or reports that it was expected; returns whether it was there.
    fn expect(&mut self, kind: TokenKind<'_>) -> bool {
        if self.eat(kind) {
            return true;
        }
        self.error_expected(&format!("「{}」", kind.punct_text()));
        false
    }

    /// From `start` to the end of the last consumed token.
    fn span_from(&self, start: Span) -> Span {
        if self.prev_span.end < start.start {
            // Nothing consumed since `start`: an empty span where the node would have been.
            Span::new(start.start, start.start)
        } else {
            start.to(self.prev_span)
        }
    }

    // ---------------------------------------------------------------------------------
    // Allocation

    fn alloc<T>(&self, value: T) -> &'a T {
        self.arena.alloc(value)
    }

    fn new_vec<T>(&self) -> bumpalo::collections::Vec<'a, T> {
        bumpalo::collections::Vec::new_in(self.arena)
    }

    fn error_expr(&self, span: Span) -> Expr<'a> {
        Expr {
            kind: ExprKind::Error,
            span,
        }
    }

    // ---------------------------------------------------------------------------------
    // Diagnostics

    /// Whether an error at `span` should be reported: not while recovering, not inside text an
    /// unterminated string or comment swallowed, and not right after a lexer error (which
    /// removed or replaced what the parser trips over).
    fn should_report(&self, span: Span) -> bool {
        if self.recovering
            || span.start >= self.swallowed_from
            || self.last_reported == Some(span.start)
        {
            return false;
        }
        // A lexer error between the previous token and the current one.
        let gap_start = self.prev_span.end.min(span.start);
        let gap_end = self.span().start.max(span.start);
        let i = self.lex_errors.partition_point(|&s| s < gap_start);
        self.lex_errors.get(i).is_none_or(|&s| s > gap_end)
    }

    /// Reports `diag` unless recovering (see `should_report`), and enters recovery.
    fn report(&mut self, diag: Diagnostic) {
        let span = diag.location.as_ref().map_or(Span::default(), |(_, s)| *s);
        if self.should_report(span) {
            self.diags.push(diag);
            self.last_reported = Some(span.start);
        }
        self.recovering = true;
    }

    /// E2001 at the current token: `意外的记号：期望{what}，却遇到「;」`.
    fn error_expected(&mut self, what: &str) {
        if self.recovering {
            return;
        }
        let tok = self.tok();
        let detail = format!("：期望{what}，却遇到{}", tok.kind.describe());
        let diag = Diagnostic::new(Code::E2001, self.file, tok.span).with_detail(detail);
        self.report(diag);
    }

    /// E2001 at `span` with a detail that says what is wrong.
    fn error_at(&mut self, span: Span, detail: &str) -> &mut Parser<'a> {
        if !self.recovering {
            let diag = Diagnostic::new(Code::E2001, self.file, span).with_detail(detail);
            self.report(diag);
        }
        self
    }

    /// Reports `code` at `span` with an optional detail and hint.
    fn error_code(&mut self, code: Code, span: Span, detail: &str, hint: Option<&str>) {
        if self.recovering {
            return;
        }
        let mut diag = Diagnostic::new(code, self.file, span).with_detail(detail);
        if let Some(hint) = hint {
            diag = diag.with_hint(hint);
        }
        self.report(diag);
    }

    /// E1005 for 9223372036854775808 anywhere but right after a unary `-` (the lexer
    /// lets it through for `-9223372036854775808`), worded like the lexer's E1005.
    fn error_magnitude(&mut self, span: Span) {
        let detail = format!("「{}」", self.file.slice(span));
        self.error_code(
            Code::E1005,
            span,
            &detail,
            Some("整数的范围是 -9223372036854775808 到 9223372036854775807；9223372036854775808 只能紧跟在负号后面"),
        );
    }

    /// Adds a hint to the diagnostic just reported, if `span` is where it points.
    fn hint_last(&mut self, hint: &str) {
        if let Some(last) = self.diags.last_mut() {
            last.hint = Some(hint.to_string());
        }
    }

    /// E2002 just after the previous token.
    fn error_missing_semi(&mut self) {
        let span = self.prev_span.after();
        if self.recovering {
            return;
        }
        let tok = self.tok();
        let diag = match tok.kind {
            // A stray closer is the real problem, not the semicolon.
            TokenKind::RParen | TokenKind::RBracket => {
                Diagnostic::new(Code::E2001, self.file, tok.span)
                    .with_detail(format!("：多余的{}", tok.kind.describe()))
            }
            _ => Diagnostic::new(Code::E2002, self.file, span),
        };
        self.report(diag);
    }

    // ---------------------------------------------------------------------------------
    // Recovery

    /// Whether `kind` starts a statement or declaration and so is a place to resynchronise.
    fn starts_statement(kind: TokenKind<'_>) -> bool {
        use Keyword::*;
        matches!(
            kind,
            TokenKind::Keyword(
                Package
                    | Import
                    | Function
                    | Let
                    | Mut
                    | Struct
                    | Enum
                    | Methods
                    | Public
                    | Private
                    | Async
                    | If
                    | While
                    | For
                    | Loop
                    | Match
                    | Return
                    | Break
                    | Continue
                    | Try
                    | Throw
                    | Select
            )
        )
    }

    /// Skips to the next synchronisation point of a statement list and leaves recovery:
    /// past the next `;` at this nesting level, or up to the `}` that closes the current
    /// block, or up to a token that starts a statement. At the top level a stray `}` is
    /// skipped too. In a 选择 arm, `情况` and `默认` also stop.
    ///
    /// `before` is where the failed statement started: if it consumed nothing, its first
    /// token is skipped, so that the list always makes progress.
    fn synchronize(&mut self, ctx: StmtContext, before: usize) {
        if self.pos == before {
            self.bump();
        }
        let mut nesting = 0u32;
        loop {
            let kind = self.peek();
            match kind {
                TokenKind::Eof => break,
                TokenKind::Semi if nesting == 0 => {
                    self.bump();
                    break;
                }
                TokenKind::RBrace if nesting == 0 && ctx != StmtContext::TopLevel => break,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => nesting += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    nesting = nesting.saturating_sub(1)
                }
                TokenKind::Keyword(Keyword::Case | Keyword::Default)
                    if nesting == 0 && ctx == StmtContext::SelectArm =>
                {
                    break;
                }
                _ if nesting == 0 && Self::starts_statement(kind) => break,
                _ => {}
            }
            self.bump();
        }
        self.recovering = false;
    }

    /// Inside a comma-separated list closed by `close`, after an unexpected token: skips to
    /// the next `,` or `close` at this level (without consuming it), or stops at a `;`, a
    /// `}` that is not ours, or a statement keyword. Returns whether the list can go on.
    fn skip_in_list(&mut self, close: TokenKind<'_>) -> bool {
        let mut nesting = 0u32;
        loop {
            let kind = self.peek();
            if nesting == 0 {
                if kind == TokenKind::Comma || kind == close {
                    return true;
                }
                if matches!(kind, TokenKind::Semi | TokenKind::RBrace | TokenKind::Eof)
                    || Self::starts_statement(kind)
                    || (kind == TokenKind::LBrace && close != TokenKind::RBrace)
                {
                    // A `{` after a broken `(…` or `[…` most likely opens a body.
                    return false;
                }
            }
            match kind {
                TokenKind::Eof => return false,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => nesting += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if nesting == 0 {
                        // A closer of some other kind at our level: give up on this list.
                        return false;
                    }
                    nesting -= 1;
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// In a comma-separated list closed by `close`, at a token that is neither `,` nor
    /// `close`: reports it and skips to the next item; returns whether the list goes on (a
    /// `,` was consumed). In a `(…)` or `[…]` list, a `;`, a brace, a statement keyword or
    /// the end means the closer is missing: that is left to `close_group`, which also says
    /// where the list opened.
    fn list_recover(&mut self, close: TokenKind<'a>) -> bool {
        let kind = self.peek();
        let closer_missing = close != TokenKind::RBrace
            && (matches!(
                kind,
                TokenKind::Semi | TokenKind::LBrace | TokenKind::RBrace | TokenKind::Eof
            ) || Self::starts_statement(kind));
        if closer_missing {
            return false;
        }
        self.error_expected(&format!("「,」或「{}」", close.punct_text()));
        self.skip_in_list(close) && self.eat(TokenKind::Comma)
    }

    /// After an item of a comma-separated list closed by `close`: whether another item
    /// follows (consuming the `,`), with recovery from anything unexpected.
    fn list_continues(&mut self, close: TokenKind<'a>) -> bool {
        if self.eat(TokenKind::Comma) {
            return true;
        }
        if self.at(close) {
            return false;
        }
        self.list_recover(close)
    }

    /// The items of a comma-separated list up to `close` (left for the caller), each a
    /// name (`what` in the message when it is missing) followed by whatever `rest`
    /// parses: parameters, struct fields, field patterns, struct literal fields, enum
    /// variants. An item without a name is skipped to the next `,`.
    fn named_list<T>(
        &mut self,
        close: TokenKind<'a>,
        what: &str,
        mut rest: impl FnMut(&mut Self, crate::ast::Ident<'a>) -> T,
    ) -> bumpalo::collections::Vec<'a, T> {
        let mut items = self.new_vec();
        while !(self.at(close) || self.at_eof()) {
            let Some(name) = self.expect_ident(what) else {
                if self.skip_in_list(close) && self.eat(TokenKind::Comma) {
                    continue;
                }
                break;
            };
            items.push(rest(self, name));
            if !self.list_continues(close) {
                break;
            }
        }
        items
    }

    /// Consumes the closer of a bracketed group opened at `open`. If it is not there:
    /// E2001 (with a hint saying where the group opened), then skips to the closer if it
    /// comes before the end of the statement, and consumes it.
    fn close_group(&mut self, close: TokenKind<'a>, open: Span) {
        if self.eat(close) {
            return;
        }
        if !self.recovering {
            let tok = self.tok();
            let (line, col) = self.file.line_col(open.start);
            let detail = format!(
                "：期望「{}」，却遇到{}",
                close.punct_text(),
                tok.kind.describe()
            );
            let hint = format!(
                "第 {line} 行第 {col} 列的「{}」没有对应的「{}」",
                self.file.slice(open),
                close.punct_text()
            );
            let diag = Diagnostic::new(Code::E2001, self.file, tok.span)
                .with_detail(detail)
                .with_hint(hint);
            self.report(diag);
        }
        let mut nesting = 0u32;
        loop {
            let kind = self.peek();
            if nesting == 0 {
                if kind == close {
                    self.bump();
                    return;
                }
                if matches!(
                    kind,
                    TokenKind::Semi
                        | TokenKind::Eof
                        | TokenKind::RParen
                        | TokenKind::RBracket
                        | TokenKind::RBrace
                ) || Self::starts_statement(kind)
                    || (kind == TokenKind::LBrace && close != TokenKind::RBrace)
                {
                    return;
                }
            }
            match kind {
                TokenKind::Eof => return,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => nesting += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => nesting -= 1,
                _ => {}
            }
            self.bump();
        }
    }

    // ---------------------------------------------------------------------------------
    // Nesting

    /// Enters one nesting level. Past [`MAX_DEPTH`] it reports E2003 (once per file), leaves
    /// the level again and returns `false`: the caller must then call `skip_too_deep` and
    /// return an error node instead of recursing.
    fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            self.report_too_deep();
            return false;
        }
        self.depth += 1;
        true
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// E2003 for a chain of more than [`MAX_CHAIN`] operators, once per file as for nesting.
    fn report_chain_too_long(&mut self) {
        if !self.too_deep_reported && !self.recovering {
            self.too_deep_reported = true;
            let diag = Diagnostic::new(Code::E2003, self.file, self.span())
                .with_detail(format!("：一串运算符或后缀操作超过 {MAX_CHAIN} 个"));
            self.report(diag);
        }
        self.recovering = true;
    }

    fn report_too_deep(&mut self) {
        if !self.too_deep_reported && !self.recovering {
            self.too_deep_reported = true;
            let diag = Diagnostic::new(Code::E2003, self.file, self.span());
            self.report(diag);
        }
        self.recovering = true;
    }

    /// After E2003: skips, without recursing, the rest of the construct that was too deep —
    /// up to a `;` or a closing bracket of an enclosing level (not consumed), or the end.
    /// Returns the span skipped.
    fn skip_too_deep(&mut self) -> Span {
        let start = self.span();
        let mut nesting = 0u32;
        loop {
            match self.peek() {
                TokenKind::Eof => break,
                TokenKind::Semi if nesting == 0 => break,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => nesting += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if nesting == 0 {
                        break;
                    }
                    nesting -= 1;
                }
                _ => {}
            }
            self.bump();
        }
        self.span_from(start)
    }

    /// `skip_too_deep` wrapped as an error expression.
    fn too_deep_expr(&mut self) -> Expr<'a> {
        let span = self.skip_too_deep();
        self.error_expr(span)
    }

    // ---------------------------------------------------------------------------------
    // Small shared pieces

    /// An identifier, or E2001 naming `what` was expected (an error ident is returned, and
    /// nothing is consumed).
    fn expect_ident(&mut self, what: &str) -> Option<crate::ast::Ident<'a>> {
        match self.peek() {
            TokenKind::Ident(name) => {
                let span = self.bump().span;
                Some(crate::ast::Ident { name, span })
            }
            _ => {
                self.error_expected(what);
                None
            }
        }
    }

    /// A name after `.` or `::`: an identifier or any keyword (`c.恢复(值)`).
    fn member_name(&mut self) -> Option<crate::ast::Ident<'a>> {
        let name = match self.peek() {
            TokenKind::Ident(name) => name,
            TokenKind::Keyword(kw) => kw.text(),
            _ => {
                self.error_expected("成员名");
                return None;
            }
        };
        let span = self.bump().span;
        Some(crate::ast::Ident { name, span })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser_for<'a>(arena: &'a Bump, file: &'a Arc<SourceFile>) -> Parser<'a> {
        let mut diags = Vec::new();
        let tokens = tokenize(arena, file, &mut diags);
        Parser::new(arena, file, tokens, diags)
    }

    #[test]
    fn generic_lookahead_needs_a_call_or_path_after_the_angle() {
        let cases = [
            ("通道<整数>(10)", true),
            ("未来<整数>::就绪", true),
            ("字典<字符串, 列表<整数>>()", true),
            ("a < b", false),
            ("a < b > c", false),
            ("a < b && c > (d)", false),
            ("列表<整数>= 1", false),
        ];
        for (src, expected) in cases {
            let file = SourceFile::new("t.qi", src);
            let arena = Bump::new();
            let mut p = parser_for(&arena, &file);
            p.bump();
            assert_eq!(p.generic_ahead(), expected, "{src}");
        }
    }

    #[test]
    fn keyword_prefix_hint_takes_the_longest_keyword() {
        assert_eq!(
            stmt::keyword_prefix_hint("如果计数").as_deref(),
            Some("是不是想写 如果 计数？")
        );
        assert_eq!(
            stmt::keyword_prefix_hint("解引用r").as_deref(),
            Some("是不是想写 解引用 r？")
        );
        assert_eq!(stmt::keyword_prefix_hint("如果"), None);
        assert_eq!(stmt::keyword_prefix_hint("计数"), None);
    }

    #[test]
    fn the_cursor_never_moves_past_eof() {
        let file = SourceFile::new("t.qi", "x");
        let arena = Bump::new();
        let mut p = parser_for(&arena, &file);
        for _ in 0..5 {
            p.bump();
        }
        assert!(p.at_eof());
        assert_eq!(p.nth(10), TokenKind::Eof);
    }

    #[test]
    fn a_ge_closing_type_arguments_is_split() {
        let file = SourceFile::new("t.qi", "列表<整数>= 1");
        let arena = Bump::new();
        let mut p = parser_for(&arena, &file);
        let ty = p.parse_type();
        assert_eq!(ty.name(), "列表");
        assert_eq!(ty.args.len(), 1);
        assert_eq!(p.peek(), TokenKind::Eq);
        assert_eq!(file.slice(p.span()), "=");
        assert_eq!(file.slice(p.prev_span), ">");
    }

    #[test]
    fn a_token_is_reported_once_even_when_recovery_stops_on_it() {
        let file = SourceFile::new("t.qi", "变量 异步 = 1;\n打印行(异步);\n");
        let arena = Bump::new();
        let parsed = parse(&arena, &file);
        let lines: Vec<u32> = parsed
            .diagnostics
            .iter()
            .filter_map(|d| d.location.as_ref().map(|(_, s)| file.line_col(s.start).0))
            .collect();
        assert_eq!(lines, [1, 2]);
    }

    #[test]
    fn errors_while_recovering_are_not_reported() {
        let file = SourceFile::new("t.qi", "a b c");
        let arena = Bump::new();
        let mut p = parser_for(&arena, &file);
        p.error_expected("「;」");
        p.bump();
        p.error_expected("「;」");
        assert_eq!(p.diags.len(), 1);
        p.synchronize(StmtContext::TopLevel, p.pos);
        assert!(!p.recovering);
    }
}
