//! The lexer (to be written).
use bumpalo::Bump;

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use crate::token::Token;

/// Splits `file` into tokens ending with `Eof`. Errors are pushed to `diags` and lexing goes
/// on after them.
pub fn tokenize<'a>(
    _arena: &'a Bump,
    _file: &'a std::sync::Arc<SourceFile>,
    _diags: &mut Vec<Diagnostic>,
) -> Vec<Token<'a>> {
    todo!()
}
