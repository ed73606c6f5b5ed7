//! 错误: error values with 代码, 消息 and 堆栈.

use std::sync::Arc;

use parking_lot::Mutex;
use qi_bytecode::source::{SourceFile, Span};

/// An error value. Runtime errors make one; so does `错误(消息)`. The stack and the
/// location are filled in at its first throw and kept by rethrows.
#[derive(Debug)]
pub struct ErrorObj {
    pub code: String,
    pub message: String,
    /// `提示：…` when the error is reported uncaught.
    pub hint: Option<String>,
    pub thrown: Mutex<Option<ThrowSite>>,
}

/// Where an error was first thrown.
#[derive(Debug, Clone)]
pub struct ThrowSite {
    pub file: Arc<SourceFile>,
    pub span: Span,
    /// `  在 函数名 (文件:行:列)` lines, failing frame first.
    pub stack: Arc<Vec<String>>,
}

impl ErrorObj {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ErrorObj {
        ErrorObj {
            code: code.into(),
            message: message.into(),
            hint: None,
            thrown: Mutex::new(None),
        }
    }

    pub fn site(&self) -> Option<ThrowSite> {
        self.thrown.lock().clone()
    }
}
