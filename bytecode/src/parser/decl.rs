//! Declarations: 函数 结构体 枚举 方法, the `公开`/`私有` and `异步` modifiers, parameter and
//! type-parameter lists.

use super::Parser;
use crate::ast::{
    EnumDecl, Expr, ExprKind, FieldDecl, FunctionDecl, Ident, MethodsDecl, Param, Stmt, StmtKind,
    StructDecl, TypeExpr, VariantDecl,
};
use crate::source::Span;
use crate::token::{Keyword, TokenKind};

impl<'a> Parser<'a> {
    /// `公开`/`私有` followed by 函数 (maybe 异步), 变量, 可变, 结构体 or 枚举.
    pub(super) fn parse_modified_decl(&mut self) -> Stmt<'a> {
        let start = self.span();
        let public = self.bump().kind == TokenKind::Keyword(Keyword::Public);
        match self.peek() {
            TokenKind::Keyword(Keyword::Function | Keyword::Async) => {
                let decl = self.parse_function_decl(start, public);
                Stmt {
                    kind: StmtKind::Function(decl),
                    span: self.span_from(start),
                }
            }
            TokenKind::Keyword(Keyword::Let | Keyword::Mut) => self.parse_let_decl(start, public),
            TokenKind::Keyword(Keyword::Struct) => self.parse_struct_from(start, public),
            TokenKind::Keyword(Keyword::Enum) => self.parse_enum_from(start, public),
            _ => {
                self.error_expected("「函数」「变量」「可变」「结构体」或「枚举」");
                self.error_stmt(start)
            }
        }
    }

    /// A statement that stands for what failed to parse.
    pub(super) fn error_stmt(&mut self, start: Span) -> Stmt<'a> {
        let span = self.span_from(start);
        let expr = self.alloc(Expr {
            kind: ExprKind::Error,
            span,
        });
        Stmt {
            kind: StmtKind::Expr { expr, semi: true },
            span,
        }
    }

    /// `函数 名…` or `异步 函数 名…` at the start of a statement.
    pub(super) fn parse_function_stmt(&mut self, public: bool) -> Stmt<'a> {
        let start = self.span();
        let decl = self.parse_function_decl(start, public);
        Stmt {
            kind: StmtKind::Function(decl),
            span: self.span_from(start),
        }
    }

    /// `异步? 函数 名<T>(参数…) (: 类型)? { … }`; modifiers before it were consumed.
    fn parse_function_decl(&mut self, start: Span, public: bool) -> &'a FunctionDecl<'a> {
        let decl = self.parse_function_value(start, public);
        self.alloc(decl)
    }

    fn parse_function_value(&mut self, start: Span, public: bool) -> FunctionDecl<'a> {
        let is_async = self.eat_kw(Keyword::Async);
        if !self.eat_kw(Keyword::Function) {
            self.error_expected("「函数」");
        }
        let name = self.expect_ident("函数名").unwrap_or(Ident {
            name: "",
            span: self.prev_span.after(),
        });
        let type_params = self.parse_type_params();
        self.parse_function_parts(name, start, public, is_async, type_params)
    }

    /// From the parameter list to the end of the body; the declaration goes to the arena.
    pub(super) fn parse_function_rest(
        &mut self,
        name: Ident<'a>,
        start: Span,
        public: bool,
        is_async: bool,
        type_params: &'a [Ident<'a>],
    ) -> &'a FunctionDecl<'a> {
        let decl = self.parse_function_parts(name, start, public, is_async, type_params);
        self.alloc(decl)
    }

    /// From the parameter list to the end of the body.
    fn parse_function_parts(
        &mut self,
        name: Ident<'a>,
        start: Span,
        public: bool,
        is_async: bool,
        type_params: &'a [Ident<'a>],
    ) -> FunctionDecl<'a> {
        let params = self.parse_params();
        let ret = if self.eat(TokenKind::Colon) || self.eat(TokenKind::Arrow) {
            Some(self.parse_type_ref())
        } else {
            None
        };
        let body = self.parse_block();
        FunctionDecl {
            name,
            public,
            is_async,
            type_params,
            params,
            ret,
            body,
            span: self.span_from(start),
        }
    }

    /// `(a: 整数, b)`; a trailing comma is fine.
    fn parse_params(&mut self) -> &'a [Param<'a>] {
        let open = self.span();
        if !self.at(TokenKind::LParen) {
            self.error_expected("「(」");
            return &[];
        }
        if !self.enter() {
            self.skip_too_deep();
            return &[];
        }
        self.bump();
        let params = self.named_list(TokenKind::RParen, "参数名", |p, name| Param {
            name,
            ty: p.eat(TokenKind::Colon).then(|| p.parse_type_ref()),
        });
        self.leave();
        self.close_group(TokenKind::RParen, open);
        params.into_bump_slice()
    }

    /// `<T, U>` after a declared name, or nothing.
    fn parse_type_params(&mut self) -> &'a [Ident<'a>] {
        if !self.at(TokenKind::Lt) {
            return &[];
        }
        self.bump();
        let mut params = self.new_vec();
        while let Some(name) = self.expect_ident("类型参数名") {
            params.push(name);
            if !self.eat(TokenKind::Comma) || self.at(TokenKind::Gt) {
                break;
            }
        }
        self.expect(TokenKind::Gt);
        params.into_bump_slice()
    }

    pub(super) fn parse_struct(&mut self, public: bool) -> Stmt<'a> {
        let start = self.span();
        self.parse_struct_from(start, public)
    }

    /// `结构体 名<T> { 字段: 类型, 字段2, }`
    fn parse_struct_from(&mut self, start: Span, public: bool) -> Stmt<'a> {
        self.bump();
        let name = self.decl_name("结构体名");
        let type_params = self.parse_type_params();
        let open = self.span();
        let mut fields = self.new_vec();
        if self.open_decl_body() {
            fields = self.named_list(TokenKind::RBrace, "字段名", |p, name| FieldDecl {
                name,
                ty: p.eat(TokenKind::Colon).then(|| p.parse_type_ref()),
            });
            self.leave();
            self.close_group(TokenKind::RBrace, open);
        }
        let decl = self.alloc(StructDecl {
            name,
            public,
            type_params,
            fields: fields.into_bump_slice(),
        });
        Stmt {
            kind: StmtKind::Struct(decl),
            span: self.span_from(start),
        }
    }

    pub(super) fn parse_enum(&mut self, public: bool) -> Stmt<'a> {
        let start = self.span();
        self.parse_enum_from(start, public)
    }

    /// `枚举 名<T> { 圆(浮点数), 矩形(浮点数, 浮点数), 无 }`
    fn parse_enum_from(&mut self, start: Span, public: bool) -> Stmt<'a> {
        self.bump();
        let name = self.decl_name("枚举名");
        let type_params = self.parse_type_params();
        let open = self.span();
        let mut variants = self.new_vec();
        if self.open_decl_body() {
            variants = self.named_list(TokenKind::RBrace, "变体名", |p, name| {
                let fields = if p.at(TokenKind::LParen) {
                    p.parse_payload_types()
                } else {
                    &[]
                };
                VariantDecl {
                    name,
                    fields,
                    span: p.span_from(name.span),
                }
            });
            self.leave();
            self.close_group(TokenKind::RBrace, open);
        }
        let decl = self.alloc(EnumDecl {
            name,
            public,
            type_params,
            variants: variants.into_bump_slice(),
        });
        Stmt {
            kind: StmtKind::Enum(decl),
            span: self.span_from(start),
        }
    }

    /// A variant's `(类型, …)`.
    fn parse_payload_types(&mut self) -> &'a [&'a TypeExpr<'a>] {
        let open = self.span();
        if !self.enter() {
            self.skip_too_deep();
            return &[];
        }
        self.bump();
        let mut types = self.new_vec();
        while !matches!(self.peek(), TokenKind::RParen | TokenKind::Eof) {
            types.push(self.parse_type_ref());
            if !self.list_continues(TokenKind::RParen) {
                break;
            }
        }
        self.leave();
        self.close_group(TokenKind::RParen, open);
        types.into_bump_slice()
    }

    /// `方法 类型名<T> { 函数 … }`; each method may carry 公开/私有 and 异步.
    pub(super) fn parse_methods(&mut self) -> Stmt<'a> {
        let start = self.bump().span;
        let target = self.decl_name("类型名");
        let type_params = self.parse_type_params();
        let open = self.span();
        let mut methods = self.new_vec();
        if self.open_decl_body() {
            while !matches!(self.peek(), TokenKind::RBrace | TokenKind::Eof) {
                let before = self.pos;
                let fn_start = self.span();
                let public = match self.peek() {
                    TokenKind::Keyword(Keyword::Public) => {
                        self.bump();
                        true
                    }
                    TokenKind::Keyword(Keyword::Private) => {
                        self.bump();
                        false
                    }
                    _ => false,
                };
                if matches!(
                    self.peek(),
                    TokenKind::Keyword(Keyword::Function | Keyword::Async)
                ) {
                    methods.push(self.parse_function_value(fn_start, public));
                    if self.recovering {
                        self.skip_to_next_method();
                    }
                } else {
                    self.error_expected("「函数」");
                    self.skip_to_next_method();
                }
                self.ensure_progress(before);
            }
            self.leave();
            self.close_group(TokenKind::RBrace, open);
        }
        let decl = self.alloc(MethodsDecl {
            target,
            type_params,
            methods: methods.into_bump_slice(),
        });
        Stmt {
            kind: StmtKind::Methods(decl),
            span: self.span_from(start),
        }
    }

    /// In a 方法 block after an error: to the next 函数/公开/私有/异步 or the closing `}`.
    fn skip_to_next_method(&mut self) {
        let mut nesting = 0u32;
        loop {
            match self.peek() {
                TokenKind::Eof => break,
                TokenKind::RBrace if nesting == 0 => break,
                TokenKind::Keyword(
                    Keyword::Function | Keyword::Public | Keyword::Private | Keyword::Async,
                ) if nesting == 0 => break,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => nesting += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    nesting = nesting.saturating_sub(1)
                }
                _ => {}
            }
            self.bump();
        }
        self.recovering = false;
    }

    /// The declared name after 结构体/枚举/方法.
    fn decl_name(&mut self, what: &str) -> Ident<'a> {
        self.expect_ident(what).unwrap_or(Ident {
            name: "",
            span: self.prev_span.after(),
        })
    }

    /// The `{` of a declaration's body: entered (one nesting level) when it is there.
    fn open_decl_body(&mut self) -> bool {
        if !self.at(TokenKind::LBrace) {
            self.error_expected("「{」");
            return false;
        }
        if !self.enter() {
            self.skip_too_deep();
            return false;
        }
        self.bump();
        true
    }
}
