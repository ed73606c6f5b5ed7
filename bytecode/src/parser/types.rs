//! Type annotations: `整数`, `列表<整数>`, `字典<字符串, 列表<整数>>`, `模块.类型`.
//!
//! There is no `>>` token, so nested lists close naturally; a `>=` that closes a list is
//! split into `>` and `=` (`变量 d: 列表<整数>= [];`).

use super::Parser;
use crate::ast::TypeExpr;
use crate::source::Span;
use crate::token::{Token, TokenKind};

impl<'a> Parser<'a> {
    /// A type: a dotted name with optional `<…>` arguments.
    pub(super) fn parse_type(&mut self) -> TypeExpr<'a> {
        let start = self.span();
        let Some(first) = self.expect_ident("类型名") else {
            return TypeExpr {
                path: &[],
                args: &[],
                span: Span::new(start.start, start.start),
            };
        };
        let path = if self.at(TokenKind::Dot) && matches!(self.nth(1), TokenKind::Ident(_)) {
            let mut path = self.new_vec();
            path.push(first);
            while self.at(TokenKind::Dot) && matches!(self.nth(1), TokenKind::Ident(_)) {
                self.bump();
                if let Some(name) = self.expect_ident("类型名") {
                    path.push(name);
                }
            }
            path.into_bump_slice()
        } else {
            std::slice::from_ref(self.alloc(first))
        };
        let args = if self.at(TokenKind::Lt) {
            self.parse_type_args()
        } else {
            &[]
        };
        TypeExpr {
            path,
            args,
            span: self.span_from(start),
        }
    }

    /// A type, in the arena.
    pub(super) fn parse_type_ref(&mut self) -> &'a TypeExpr<'a> {
        let ty = self.parse_type();
        self.alloc(ty)
    }

    /// `<类型, …>` (at the `<`); at least one argument, a trailing comma is fine.
    pub(super) fn parse_type_args(&mut self) -> &'a [TypeExpr<'a>] {
        if !self.enter() {
            self.skip_too_deep();
            return &[];
        }
        self.bump();
        let mut args = self.new_vec();
        loop {
            args.push(self.parse_type());
            if !self.eat(TokenKind::Comma) || matches!(self.peek(), TokenKind::Gt | TokenKind::Ge) {
                break;
            }
        }
        self.leave();
        self.close_angle();
        args.into_bump_slice()
    }

    /// The `>` closing type arguments; the `>` half of a `>=`, leaving `=` to be read next.
    fn close_angle(&mut self) {
        let tok = self.tok();
        match tok.kind {
            TokenKind::Gt => {
                self.bump();
            }
            TokenKind::Ge => {
                let split = tok.span.start + 1;
                self.prev_span = Span::new(tok.span.start, split);
                self.tokens[self.pos] = Token {
                    kind: TokenKind::Eq,
                    span: Span::new(split, tok.span.end),
                };
            }
            _ => self.error_expected("「>」"),
        }
    }
}
