//! 匹配 patterns: `_`, names, literals (negative numbers too), ranges, `|` alternatives,
//! qualified variants `形状::圆(r)` / `模块.形状::无`, and struct patterns `点 { x, y: 0 }`.

use super::Parser;
use crate::ast::{Expr, ExprKind, FieldPattern, Ident, Literal, Pattern, PatternKind, TypePath};
use crate::source::Span;
use crate::token::{Keyword, TokenKind};

impl<'a> Parser<'a> {
    /// A pattern, in the arena.
    pub(super) fn parse_pattern_ref(&mut self) -> &'a Pattern<'a> {
        let pattern = self.parse_pattern();
        self.alloc(pattern)
    }

    /// A pattern, with `|` alternatives.
    pub(super) fn parse_pattern(&mut self) -> Pattern<'a> {
        let first = self.parse_single_pattern();
        if !self.at(TokenKind::Pipe) {
            return first;
        }
        let start = first.span;
        let mut alternatives = self.new_vec();
        alternatives.push(first);
        while self.eat(TokenKind::Pipe) {
            alternatives.push(self.parse_single_pattern());
        }
        Pattern {
            kind: PatternKind::Or(alternatives.into_bump_slice()),
            span: self.span_from(start),
        }
    }

    /// One alternative.
    fn parse_single_pattern(&mut self) -> Pattern<'a> {
        let start = self.span();
        match self.peek() {
            TokenKind::Ident("_") => {
                self.bump();
                Pattern {
                    kind: PatternKind::Wildcard,
                    span: start,
                }
            }
            TokenKind::Ident(_) => self.parse_path_pattern(),
            TokenKind::Int(_)
            | TokenKind::Float(_)
            | TokenKind::Str(_)
            | TokenKind::Minus
            | TokenKind::Keyword(Keyword::True | Keyword::False | Keyword::Nil) => {
                let Some(literal) = self.parse_literal() else {
                    return self.error_pattern(start);
                };
                let inclusive = match self.peek() {
                    TokenKind::DotDot => false,
                    TokenKind::DotDotEq => true,
                    _ => {
                        return Pattern {
                            kind: PatternKind::Literal(literal),
                            span: self.span_from(start),
                        };
                    }
                };
                self.bump();
                let Some(end) = self.parse_literal() else {
                    return self.error_pattern(start);
                };
                Pattern {
                    kind: PatternKind::Range {
                        start: literal,
                        end,
                        inclusive,
                    },
                    span: self.span_from(start),
                }
            }
            _ => {
                self.error_expected("模式");
                self.error_pattern(start)
            }
        }
    }

    /// A pattern where there was none: a wildcard, so nothing downstream trips on it (the
    /// error is already reported).
    fn error_pattern(&self, start: Span) -> Pattern<'a> {
        Pattern {
            kind: PatternKind::Wildcard,
            span: Span::new(start.start, start.start.max(self.prev_span.end)),
        }
    }

    /// A literal, with an optional leading `-` on numbers.
    fn parse_literal(&mut self) -> Option<Literal<'a>> {
        let negative = self.eat(TokenKind::Minus);
        let tok = self.tok();
        let literal = match tok.kind {
            TokenKind::Int(value) => {
                if negative && value == 1 << 63 {
                    Literal::Int(i64::MIN)
                } else if value >= 1 << 63 {
                    self.error_magnitude(tok.span);
                    Literal::Int(0)
                } else if negative {
                    Literal::Int(-(value as i64))
                } else {
                    Literal::Int(value as i64)
                }
            }
            TokenKind::Float(value) => Literal::Float(if negative { -value } else { value }),
            TokenKind::Str(text) if !negative => Literal::Str(text),
            TokenKind::Keyword(Keyword::True) if !negative => Literal::Bool(true),
            TokenKind::Keyword(Keyword::False) if !negative => Literal::Bool(false),
            TokenKind::Keyword(Keyword::Nil) if !negative => Literal::Nil,
            _ => {
                self.error_expected(if negative { "数字" } else { "字面量" });
                return None;
            }
        };
        self.bump();
        Some(literal)
    }

    /// A name (binds), or `路径::变体(…)?`, or `路径 { 字段… }`.
    fn parse_path_pattern(&mut self) -> Pattern<'a> {
        let start = self.span();
        let TokenKind::Ident(name) = self.peek() else {
            return self.error_pattern(start);
        };
        let first = Ident {
            name,
            span: self.bump().span,
        };
        // `模块.形状`: build the qualifier as the expression the tree stores.
        let mut path = Expr {
            kind: ExprKind::Name(first),
            span: first.span,
        };
        let mut last = first;
        let mut dotted = false;
        let base_depth = self.depth;
        while self.at(TokenKind::Dot) {
            // Each `.` nests the path one level deeper in the tree.
            if !self.enter() {
                self.skip_too_deep();
                self.depth = base_depth;
                return self.error_pattern(start);
            }
            self.bump();
            let Some(name) = self.expect_ident("名字") else {
                self.depth = base_depth;
                return self.error_pattern(start);
            };
            let span = path.span.to(name.span);
            path = Expr {
                kind: ExprKind::Field {
                    object: self.alloc(path),
                    name,
                },
                span,
            };
            last = name;
            dotted = true;
        }
        let pattern = self.finish_path_pattern(start, path, first, last, dotted);
        self.depth = base_depth;
        pattern
    }

    /// After the dotted path of a pattern: `::变体(…)?`, `{ 字段… }`, or a binding.
    fn finish_path_pattern(
        &mut self,
        start: Span,
        path: Expr<'a>,
        first: Ident<'a>,
        last: Ident<'a>,
        dotted: bool,
    ) -> Pattern<'a> {
        let name = first.name;
        match self.peek() {
            TokenKind::ColonColon => {
                self.bump();
                let Some(variant) = self.member_name() else {
                    return self.error_pattern(start);
                };
                let type_path = self.alloc(TypePath {
                    qualifier: Some(self.alloc(path)),
                    name: variant,
                    span: self.span_from(start),
                });
                let args = if self.at(TokenKind::LParen) {
                    Some(self.parse_variant_args())
                } else {
                    None
                };
                Pattern {
                    kind: PatternKind::Variant {
                        path: type_path,
                        args,
                    },
                    span: self.span_from(start),
                }
            }
            TokenKind::LBrace => {
                // The struct's name, and the module part before it (`模块.点`), if any.
                let qualifier = match path.kind {
                    ExprKind::Field { object, .. } => Some(object),
                    _ => None,
                };
                let type_path = self.alloc(TypePath {
                    qualifier,
                    name: last,
                    span: self.span_from(start),
                });
                let fields = self.parse_field_patterns();
                Pattern {
                    kind: PatternKind::Struct {
                        path: type_path,
                        fields,
                    },
                    span: self.span_from(start),
                }
            }
            TokenKind::LParen if !dotted => {
                let span = self.span();
                self.error_at(span, &format!("：枚举变体要带上类型名，如 类型::{name}(…)"));
                self.parse_variant_args();
                self.error_pattern(start)
            }
            _ if dotted => {
                self.error_expected("「::」或「{」");
                self.error_pattern(start)
            }
            _ => Pattern {
                kind: PatternKind::Binding(first),
                span: first.span,
            },
        }
    }

    /// `(模式, …)` after a variant.
    fn parse_variant_args(&mut self) -> &'a [Pattern<'a>] {
        let open = self.span();
        if !self.enter() {
            self.skip_too_deep();
            return &[];
        }
        self.bump();
        let mut args = self.new_vec();
        while !matches!(self.peek(), TokenKind::RParen | TokenKind::Eof) {
            args.push(self.parse_pattern());
            if self.eat(TokenKind::Comma) {
                continue;
            }
            if self.at(TokenKind::RParen) {
                break;
            }
            if !self.list_recover(TokenKind::RParen) {
                break;
            }
        }
        self.leave();
        self.close_group(TokenKind::RParen, open);
        args.into_bump_slice()
    }

    /// `{ x, y: 模式, }` after a struct name.
    fn parse_field_patterns(&mut self) -> &'a [FieldPattern<'a>] {
        let open = self.span();
        if !self.enter() {
            self.skip_too_deep();
            return &[];
        }
        self.bump();
        let fields = self.named_list(TokenKind::RBrace, "字段名", |p, name| FieldPattern {
            name,
            pattern: p.eat(TokenKind::Colon).then(|| p.parse_pattern_ref()),
        });
        self.leave();
        self.close_group(TokenKind::RBrace, open);
        fields.into_bump_slice()
    }
}
