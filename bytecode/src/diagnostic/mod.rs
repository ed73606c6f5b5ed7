//! Diagnostics: one value type for every error and warning a user reads, and its rendering.
//!
//! ```text
//! 错误[E2002]：缺少分号
//!   --> 示例.qi:3:12
//!    |
//!  3 |     变量 x = 1
//!    |               ^
//!   提示：在这里补上「;」或「；」
//! ```
//!
//! The caret line lines up under double-width (CJK) characters. Stack lines, when a runtime
//! error has them, follow the hint. Everything a diagnostic says comes from the catalogue
//! plus the specifics its site adds.

mod catalogue;
mod render;

use std::sync::Arc;

pub use catalogue::Code;
pub use render::render;

use crate::source::{SourceFile, Span};

/// One error or warning, with where it happened.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: Code,
    /// A code the program chose (`错误("E123", "坏了")`), shown instead of `code`.
    pub custom_code: Option<String>,
    /// The first line after `错误[E…]：`; starts as the catalogue title, sites may add the
    /// specifics (`未定义的名字「计数」`).
    pub message: String,
    /// The file and span the caret points at; `None` for errors with no source location
    /// (a missing script file).
    pub location: Option<(Arc<SourceFile>, Span)>,
    /// `提示：…`; starts as the catalogue's default hint.
    pub hint: Option<String>,
    /// Lines printed after the hint: stack frames (`  在 函数名 (文件:行:列)`) and notes.
    pub trailer: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the catalogue's title and hint, pointing at `span` in `file`.
    pub fn new(code: Code, file: &Arc<SourceFile>, span: Span) -> Diagnostic {
        Diagnostic {
            code,
            custom_code: None,
            message: code.title().to_string(),
            location: Some((file.clone(), span)),
            hint: code.default_hint().map(str::to_string),
            trailer: Vec::new(),
        }
    }

    /// A diagnostic without a source location.
    pub fn bare(code: Code) -> Diagnostic {
        Diagnostic {
            code,
            custom_code: None,
            message: code.title().to_string(),
            location: None,
            hint: code.default_hint().map(str::to_string),
            trailer: Vec::new(),
        }
    }

    /// Replaces the message after `错误[E…]：` entirely.
    pub fn with_message(mut self, message: impl Into<String>) -> Diagnostic {
        self.message = message.into();
        self
    }

    /// Appends specifics to the catalogue title: `未定义的名字` + `「计数」`.
    pub fn with_detail(mut self, detail: impl AsRef<str>) -> Diagnostic {
        self.message.push_str(detail.as_ref());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn without_hint(mut self) -> Diagnostic {
        self.hint = None;
        self
    }

    pub fn is_warning(&self) -> bool {
        self.code.is_warning()
    }

    /// The code as shown: `E7001`, or the program's own.
    pub fn code_text(&self) -> &str {
        self.custom_code.as_deref().unwrap_or(self.code.as_str())
    }

    /// `路径:行:列` of the primary location, if any.
    pub fn position(&self) -> Option<(String, u32, u32)> {
        let (file, span) = self.location.as_ref()?;
        let (line, col) = file.line_col(span.start);
        Some((file.path.clone(), line, col))
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render(self, false))
    }
}

impl std::error::Error for Diagnostic {}
