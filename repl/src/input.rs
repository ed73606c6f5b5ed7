//! Deciding when an entry is complete, and finishing a statement the user left open.

use bumpalo::Bump;
use qi_bytecode::diagnostic::Code;
use qi_bytecode::lexer::tokenize;
use qi_bytecode::source::SourceFile;
use qi_bytecode::token::TokenKind;

/// Whether `text` needs more lines: a bracket or block is still open (ASCII or full-width:
/// the lexer folds the twins), or a block comment or string has not ended.
pub fn needs_more(text: &str) -> bool {
    if text.trim().is_empty() {
        return false;
    }
    let arena = Bump::new();
    let file = SourceFile::new("<输入>", text);
    let mut diags = Vec::new();
    let tokens = tokenize(&arena, &file, &mut diags);
    if diags
        .iter()
        .any(|d| matches!(d.code, Code::E1002 | Code::E1006))
    {
        return true;
    }
    let mut depth: i32 = 0;
    for t in &tokens {
        match t.kind {
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => depth -= 1,
            _ => {}
        }
    }
    // More closers than openers is an error the compiler will report, not a reason to wait.
    depth > 0
}

/// `code`, with the final `;` added when the user left it out and adding it is what makes
/// the entry parse (`1 + 2` → `1 + 2;`, `启动 { … }` → `启动 { … };`).
pub fn complete_statement(code: &str) -> String {
    if parses(code) {
        return code.to_string();
    }
    let with_semi = format!("{};", code.trim_end());
    if parses(&with_semi) {
        with_semi
    } else {
        code.to_string()
    }
}

fn parses(code: &str) -> bool {
    let arena = Bump::new();
    let file = SourceFile::new("<输入>", code);
    let parsed = qi_bytecode::parser::parse(&arena, &file);
    !parsed.diagnostics.iter().any(|d| !d.is_warning())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_brackets_need_more_lines() {
        assert!(needs_more("函数 f(x) {"));
        assert!(needs_more("函数 f（x） ｛"));
        assert!(needs_more("变量 a = [1,\n2,"));
        assert!(needs_more("/* 注释"));
        assert!(!needs_more("函数 f(x) { 返回 x; }"));
        assert!(!needs_more("1 + 2"));
        assert!(!needs_more("}"));
        assert!(!needs_more(""));
    }

    #[test]
    fn a_missing_final_semicolon_is_added() {
        assert_eq!(complete_statement("1 + 2"), "1 + 2;");
        assert_eq!(complete_statement("变量 x = 1"), "变量 x = 1;");
        assert_eq!(complete_statement("打印行(1);"), "打印行(1);");
        assert_eq!(
            complete_statement("函数 f() { 返回 1; }"),
            "函数 f() { 返回 1; }"
        );
        // Not fixable by a `;`: left alone for the compiler to report.
        assert_eq!(complete_statement("变量 = ;"), "变量 = ;");
    }
}
