//! Deciding when an entry is complete (the final `;` is added by
//! [`qi_vm::entries::complete_statement`]).

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
}
