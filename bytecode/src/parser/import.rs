//! `包 名;` and `导入 路径 (作为 别名)?;`, and the order rule that puts them first.
//!
//! An import path is read raw from the source text (QI-LANGUAGE.md §10): after `导入` comes
//! everything up to whitespace or `;`, whatever tokens the lexer made of it (`./工具` is a
//! `Dot`, a `Slash` and an `Ident`); those tokens are skipped, and the lexer's diagnostics
//! inside the path are dropped, since the path is not code.

use unicode_ident::{is_xid_continue, is_xid_start};

use super::{Parser, StmtContext};
use crate::ast::{Ident, Import, ImportKind, Program, Stmt, StmtKind};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::token::{Keyword, TokenKind};

/// Where the top of a file is: `包` may only come first, `导入` only before anything else.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Start,
    Imports,
    Body,
}

const IMPORT_HINT: &str = "「导入」只能写在文件开头（「包」之后、其他语句之前）";
const PACKAGE_HINT: &str = "「包」只能是文件的第一条语句";

impl<'a> Parser<'a> {
    /// The whole file.
    pub(super) fn parse_program(&mut self) -> Program<'a> {
        let mut stmts = self.new_vec();
        let mut phase = Phase::Start;
        while !self.at_eof() {
            let before = self.pos;
            let stmt = match self.peek() {
                TokenKind::Keyword(Keyword::Package) => {
                    let misplaced = phase != Phase::Start;
                    phase = phase.max(Phase::Imports);
                    self.parse_package(misplaced)
                }
                TokenKind::Keyword(Keyword::Import) => {
                    let misplaced = phase == Phase::Body;
                    phase = phase.max(Phase::Imports);
                    self.parse_import(misplaced)
                }
                TokenKind::Semi => self.parse_stmt(StmtContext::TopLevel),
                TokenKind::RBrace => {
                    if !self.recovering {
                        let span = self.span();
                        self.error_at(span, "：多余的「}」");
                    }
                    self.bump();
                    self.recovering = false;
                    continue;
                }
                _ => {
                    phase = Phase::Body;
                    self.parse_stmt(StmtContext::TopLevel)
                }
            };
            stmts.push(stmt);
            if self.recovering {
                self.synchronize(StmtContext::TopLevel, before);
            }
            if self.pos == before {
                debug_assert!(false, "顶层语句没有消耗记号：{:?}", self.tok());
                self.bump();
            }
        }
        Program {
            stmts: stmts.into_bump_slice(),
            span: Span::new(0, self.file.text.len() as u32),
        }
    }

    /// `包 名;`
    pub(super) fn parse_package(&mut self, misplaced: bool) -> Stmt<'a> {
        let start = self.bump().span;
        if misplaced {
            let detail = "：「包」只能写在文件开头";
            self.error_at(start, detail).hint_last(PACKAGE_HINT);
        }
        let name = self.expect_ident("包名").unwrap_or(Ident {
            name: "",
            span: self.span(),
        });
        self.expect_semi();
        Stmt {
            kind: StmtKind::Package(name),
            span: self.span_from(start),
        }
    }

    /// `导入 路径 (作为 别名)?;`
    pub(super) fn parse_import(&mut self, misplaced: bool) -> Stmt<'a> {
        let keyword = self.bump().span;
        if misplaced {
            self.error_at(keyword, "：「导入」只能写在文件开头")
                .hint_last(IMPORT_HINT);
        }
        let file = self.file;
        let text: &'a str = file.text.as_str();
        // The raw path: from the first non-whitespace character after the keyword up to
        // whitespace or a semicolon (either twin).
        let after = keyword.end as usize;
        let rest = text.get(after..).unwrap_or("");
        let lead = rest.len() - rest.trim_start().len();
        let path_start = after + lead;
        let body = &text[path_start..];
        let path_len = body
            .char_indices()
            .find(|&(_, c)| c.is_whitespace() || c == ';' || c == '；')
            .map_or(body.len(), |(i, _)| i);
        let path = &body[..path_len];
        let path_span = Span::new(path_start as u32, (path_start + path_len) as u32);

        // Drop the tokens and the lexer's complaints inside the raw path.
        while !self.at_eof() && self.span().start < path_span.end {
            self.bump();
        }
        if !path.is_empty() {
            self.drop_lexer_errors_in(path_span);
            self.lex_errors
                .retain(|&s| s < path_span.start || s >= path_span.end);
        }

        let (kind, segments) = if path.is_empty() {
            let span = self.span();
            self.error_at(span, "：「导入」后面缺少模块路径");
            (ImportKind::Module, &[][..])
        } else {
            self.import_segments(path, path_span)
        };

        let alias = if self.eat_kw(Keyword::As) {
            self.expect_ident("别名")
        } else {
            None
        };
        if alias.is_none() {
            // The binding is the last segment; it must be usable as a name.
            if let Some(last) = segments.last()
                && Keyword::from_text(last).is_some()
                && !self.recovering
            {
                let detail = format!("：「{last}」是关键字，不能用作模块名");
                self.error_code(
                    Code::E4001,
                    path_span,
                    &detail,
                    Some("用「作为」给它起一个别名"),
                );
            }
        }
        self.expect_semi();
        let import = self.alloc(Import {
            path,
            path_span,
            kind,
            segments,
            alias,
        });
        Stmt {
            kind: StmtKind::Import(import),
            span: self.span_from(keyword),
        }
    }

    /// The lexer read the raw path as code; whatever it complained about there is moot.
    fn drop_lexer_errors_in(&mut self, span: Span) {
        self.diags.retain(|d: &Diagnostic| {
            !(d.code.as_str().starts_with("E1")
                && d.location
                    .as_ref()
                    .is_some_and(|(_, s)| s.start >= span.start && s.start < span.end))
        });
    }

    /// Splits and checks a raw path; E4001 when it is not a valid module path.
    fn import_segments(&mut self, path: &'a str, span: Span) -> (ImportKind, &'a [&'a str]) {
        let mut segments = self.new_vec();
        if path.starts_with("./") || path.starts_with("../") {
            let mut parts = path.split('/').peekable();
            // Leading `.` and `..` segments.
            while let Some(&part) = parts.peek() {
                if part != "." && part != ".." {
                    break;
                }
                segments.push(if part == "." { "." } else { ".." });
                parts.next();
            }
            let mut names = 0;
            for part in parts {
                if let Some(problem) = check_name(part) {
                    self.bad_path(span, path, &problem);
                    break;
                }
                segments.push(part);
                names += 1;
            }
            if names == 0 && !self.recovering {
                self.bad_path(span, path, "路径里缺少模块名");
            }
            (ImportKind::Relative, segments.into_bump_slice())
        } else {
            if path.contains('/') || path.contains('\\') {
                self.error_code(
                    Code::E4001,
                    span,
                    &format!("：「{path}」不是合法的模块路径"),
                    Some("同目录下的文件写成「导入 ./名字;」，上级目录写成「导入 ../名字;」"),
                );
            } else {
                for part in path.split('.') {
                    if let Some(problem) = check_name(part) {
                        self.bad_path(span, path, &problem);
                        break;
                    }
                    segments.push(part);
                }
            }
            (ImportKind::Module, segments.into_bump_slice())
        }
    }

    fn bad_path(&mut self, span: Span, path: &str, problem: &str) {
        let detail = format!("：「{path}」{problem}");
        let hint = if path.ends_with(".qi") {
            Some("导入时不写「.qi」后缀：写成「导入 ./工具;」")
        } else {
            None
        };
        self.error_code(Code::E4001, span, &detail, hint);
    }
}

/// Why `part` is not a module name (a Unicode identifier), if it is not.
fn check_name(part: &str) -> Option<String> {
    if part == "." || part == ".." {
        return Some(format!("里的「{part}」只能出现在路径开头"));
    }
    let mut chars = part.chars();
    match chars.next() {
        None => Some("里有空的路径段".to_string()),
        Some(c) if !(is_xid_start(c) || c == '_') => Some(format!("里的「{part}」不是合法的名字")),
        Some(_) if !chars.all(is_xid_continue) => Some(format!("里的「{part}」不是合法的名字")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn module_path_segments_must_be_identifiers() {
        assert_eq!(check_name("工具"), None);
        assert_eq!(check_name("_私有"), None);
        assert_eq!(check_name("tool2"), None);
        assert!(check_name("").is_some());
        assert!(check_name("2工具").is_some());
        assert!(check_name("工具.qi").is_some());
        assert!(check_name("..").is_some());
        assert!(check_name("a-b").is_some());
    }
}
