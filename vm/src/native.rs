//! The interface between the VM and functions written in Rust.
//!
//! A native gets its arguments as a slice (the receiver first, for methods) and a
//! [`NativeCtx`] for what it needs from the VM, and returns a value or an [`Exit`]. It never
//! calls back into the interpreter on the Rust stack: built-ins that need to call Qi code
//! (映射, 排序按 …) are written in Qi (the prelude), so they stay suspendable.

use qi_bytecode::diagnostic::Code;

use crate::object::{ErrorObj, StrObj};
use crate::value::Value;
use crate::vm::Shared;

/// How many arguments a native takes (not counting a method's receiver).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Exact(u16),
    AtLeast(u16),
    Between(u16, u16),
}

impl Arity {
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exact(k) => n == k as usize,
            Arity::AtLeast(k) => n >= k as usize,
            Arity::Between(a, b) => n >= a as usize && n <= b as usize,
        }
    }

    /// `需要{describe}参数`: ` 2 个`, `至少 1 个`, ` 1 到 2 个`.
    pub fn describe(self) -> String {
        match self {
            Arity::Exact(k) => format!(" {k} 个"),
            Arity::AtLeast(k) => format!("至少 {k} 个"),
            Arity::Between(a, b) => format!(" {a} 到 {b} 个"),
        }
    }
}

/// Why a native (or an instruction) did not produce a value.
pub enum Exit {
    /// A thrown Qi value (an 错误 for runtime errors).
    Throw(Value),
    /// `退出(n)`: flush and end the process with this code, skipping 最终 blocks.
    Exit(i32),
    /// The task must wait; the value it gets later is the call's result.
    Block(Box<crate::sched::block::BlockOp>),
    /// `c.恢复(值)`: run the coroutine; what it yields is the call's result.
    Resume { coroutine: Value, value: Value },
}

impl std::fmt::Debug for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Throw(v) => write!(f, "Throw({v:?})"),
            Exit::Exit(n) => write!(f, "Exit({n})"),
            Exit::Block(_) => f.write_str("Block"),
            Exit::Resume { .. } => f.write_str("Resume"),
        }
    }
}

pub type NativeResult = Result<Value, Exit>;

/// Makes the 错误 value for a runtime error: the catalogue title plus `detail`.
pub fn error_value(code: Code, detail: &str) -> Value {
    let mut message = code.title().to_string();
    message.push_str(detail);
    let mut e = ErrorObj::new(code.as_str(), message);
    e.hint = code.default_hint().map(str::to_string);
    Value::new(e)
}

/// A runtime error as an [`Exit`].
pub fn error(code: Code, detail: impl AsRef<str>) -> Exit {
    Exit::Throw(error_value(code, detail.as_ref()))
}

/// A runtime error with a hint of its own.
pub fn error_with_hint(code: Code, detail: impl AsRef<str>, hint: impl Into<String>) -> Exit {
    let mut message = code.title().to_string();
    message.push_str(detail.as_ref());
    let mut e = ErrorObj::new(code.as_str(), message);
    e.hint = Some(hint.into());
    Exit::Throw(Value::new(e))
}

/// What a native can reach of the VM while it runs.
pub struct NativeCtx<'a> {
    /// The VM, the scheduler, and the task running the native.
    pub cx: &'a crate::interp::Cx<'a>,
    pub shared: &'a Shared,
    /// The native function being called (its `data` and `aux` are its closure).
    pub callee: &'a crate::object::NativeFunction,
}

/// An outside resource a native needs permission for.
#[derive(Clone, Copy, Debug)]
pub enum Capability {
    Files,
    Network,
    Process,
}

impl NativeCtx<'_> {
    /// E9004/E9005/E9006 unless the VM was given `cap`.
    pub fn require(&self, cap: Capability) -> Result<(), Exit> {
        let caps = self.shared.config.capabilities;
        let (allowed, code) = match cap {
            Capability::Files => (caps.files, Code::E9004),
            Capability::Network => (caps.network, Code::E9005),
            Capability::Process => (caps.process, Code::E9006),
        };
        if allowed {
            Ok(())
        } else {
            Err(error(code, format!("：「{}」", self.callee.name)))
        }
    }

    /// Charges `steps` for work proportional to the input (a large copy, a long scan), so
    /// budgets, fairness and the step limit hold: the task yields when its budget is
    /// used up, right after this call returns.
    pub fn charge(&self, steps: u32) {
        let c = &self.cx.charged;
        c.set(c.get().saturating_add(steps));
    }

    /// `value` is being stored into `container`: the cycle collector's write barrier.
    pub fn stored(&self, container: &Value, value: &Value) {
        self.shared.gc.stored(self.cx.local.index, container, value);
    }

    /// Makes the task wait; `op` decides for what.
    pub fn block(&self, op: crate::sched::block::BlockOp) -> Exit {
        Exit::Block(Box::new(op))
    }

    /// Writes to the program's output (打印).
    pub fn write_out(&mut self, text: &str) {
        self.shared.write_out(text);
    }

    pub fn flush_out(&mut self) {
        self.shared.flush_out();
    }
}

/// A new 字符串 value.
pub fn string(s: impl Into<String>) -> Value {
    Value::new(StrObj::new(s))
}
