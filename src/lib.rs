//! 气 (Qi) embedded in Rust.
//!
//! ```
//! let vm = qi::Vm::builder()
//!     .function("平方", |args| Ok::<_, String>(qi::arg::<i64>(args, 0)?.pow(2)))
//!     .build()?;
//! vm.eval("函数 面积(边) { 返回 平方(边); }")?;
//! let area: i64 = vm.call("面积", (12,))?.try_into()?;
//! assert_eq!(area, 144);
//! # Ok::<(), qi::Error>(())
//! ```
//!
//! A [`Vm`] runs scripts on its own worker threads: [`Vm::eval`] and [`Vm::call`] block
//! the calling thread until the script's task ends, [`Vm::spawn`] gives a [`TaskHandle`]
//! to `.await` instead. Rust functions become Qi functions with
//! [`Builder::function`] and [`Builder::async_function`]; whole modules with
//! [`Builder::module`]. Values cross with `From`/`TryFrom` ([`Value`]). Scripts get no
//! files, network or process access unless the builder allows it, and run under the
//! limits it sets. See `docs/嵌入指南.md` for the full guide.

mod args;
mod error;
mod task;
mod vm;

pub use args::{IntoArgs, arg};
pub use error::Error;
pub use qi_vm::Value;
pub use qi_vm::gc::{GcMode, GcStats};
pub use qi_vm::heap::CountingAllocator;
pub use qi_vm::value::convert::{ConvertError, FromValue};
pub use task::TaskHandle;
pub use vm::{Builder, JitPolicy, ModuleBuilder, Vm};

/// The building blocks, for tools that need more than the embedding API.
pub use qi_bytecode;
pub use qi_stdlib;
pub use qi_vm;
