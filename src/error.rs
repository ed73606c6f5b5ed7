//! [`Error`]: everything that can go wrong for a host, printed as the same Chinese
//! diagnostics the command line prints.

use qi_bytecode::diagnostic::{Diagnostic, render};
use qi_vm::Value;
use qi_vm::value::convert::ConvertError;

/// Why a call into the VM failed.
#[derive(Debug)]
#[non_exhaustive]
/// Why a call into the VM failed. `Display` gives the same Chinese diagnostic the
/// command line prints.
///
/// ```
/// let vm = qi::Vm::new()?;
/// match vm.eval("1 / 0") {
///     Err(qi::Error::Runtime { diagnostic, .. }) => {
///         assert_eq!(diagnostic.message, "除以零");
///     }
///     other => panic!("{other:?}"),
/// }
/// let text = vm.eval("变量 = ;").unwrap_err().to_string();
/// assert!(text.starts_with("错误[E2"));
/// # Ok::<(), qi::Error>(())
/// ```
pub enum Error {
    /// The source did not compile (every error and warning found).
    Compile(Vec<Diagnostic>),
    /// The script threw and nothing caught it: `value` is what it threw (an 错误 for
    /// runtime errors), `diagnostic` the report with its source line and stack.
    Runtime {
        diagnostic: Box<Diagnostic>,
        value: Value,
    },
    /// A limit was exceeded (E9001 steps, E9002 heap, E9003 tasks). The script was
    /// stopped without running 捕获 or 最终; the VM is still usable.
    Limit(Box<Diagnostic>),
    /// The script waited for something that can never happen (E6006).
    Deadlock(Box<Diagnostic>),
    /// The script called `退出(码)`.
    Exit(i32),
    /// `call` of a name that no code defined.
    NotFound(String),
    /// A value was not of the type the host asked for.
    Convert(ConvertError),
    /// The builder was asked for something it cannot do.
    Config(String),
}

impl Error {
    /// The error code (`E7001`, `E9001` …), where there is one.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// let e = vm.eval("抛出 错误(\"E42\", \"自定义\");").unwrap_err();
    /// assert_eq!(e.code().as_deref(), Some("E42"));
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn code(&self) -> Option<String> {
        match self {
            Error::Compile(ds) => ds.iter().find(|d| !d.is_warning()).map(code_of),
            Error::Runtime { diagnostic: d, .. } | Error::Limit(d) | Error::Deadlock(d) => {
                Some(code_of(d))
            }
            _ => None,
        }
    }

    /// Whether this is a limit error (E9001–E9003).
    ///
    /// ```
    /// let vm = qi::Vm::builder().max_steps(1000).build()?;
    /// assert!(vm.eval("循环 {}").unwrap_err().is_limit());
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn is_limit(&self) -> bool {
        matches!(self, Error::Limit(_))
    }

    /// From a runtime failure's diagnostic: a limit, or an ordinary error.
    pub(crate) fn from_failure(diagnostic: Box<Diagnostic>, value: Value) -> Error {
        if matches!(code_of(&diagnostic).as_str(), "E9001" | "E9002" | "E9003") {
            Error::Limit(diagnostic)
        } else {
            Error::Runtime { diagnostic, value }
        }
    }
}

fn code_of(d: &Diagnostic) -> String {
    d.custom_code
        .clone()
        .unwrap_or_else(|| d.code.as_str().to_string())
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Compile(ds) => {
                for d in ds {
                    f.write_str(&render(d, false))?;
                }
                Ok(())
            }
            Error::Runtime { diagnostic: d, .. } | Error::Limit(d) | Error::Deadlock(d) => {
                f.write_str(&render(d, false))
            }
            Error::Exit(code) => write!(f, "脚本调用了 退出({code})"),
            Error::NotFound(name) => write!(f, "错误：没有定义「{name}」"),
            Error::Convert(e) => write!(f, "错误：{e}"),
            Error::Config(m) => write!(f, "错误：{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ConvertError> for Error {
    fn from(e: ConvertError) -> Error {
        Error::Convert(e)
    }
}
