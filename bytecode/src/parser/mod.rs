//! The parser (to be written).
use std::sync::Arc;

use bumpalo::Bump;

use crate::ast::Program;
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// What parsing one file gives: the tree (with error nodes where it recovered) and every
/// diagnostic, in source order.
pub struct Parsed<'a> {
    pub program: Program<'a>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes and parses `file` into `arena`.
pub fn parse<'a>(_arena: &'a Bump, _file: &'a Arc<SourceFile>) -> Parsed<'a> {
    todo!()
}
