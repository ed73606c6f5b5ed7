//! 气 (Qi) virtual machine: values, heap objects, the interpreter, tasks and the
//! scheduler, I/O, the cycle collector, and what hosts need (a long-lived runtime,
//! inline calls, host functions).
//!
//! Layers, bottom up: [`value`] (the 16-byte value and its reference counting),
//! [`object`] (heap objects), [`ops`] and [`print`] (operators and printed forms),
//! [`interp`] (frames and the interpreter loop), [`loader`] and [`program`] (getting a
//! file from disk to its exit code). Built-in functions are not defined here: the
//! standard library registers them through a [`vm::VmBuilder`].
//!
//! The VM never recurses on the Rust stack for a Qi call, never panics on user input,
//! and keeps all of its `unsafe` in `value/mod.rs`, `heap.rs`, `interp/frame.rs` (with
//! the frame set-up in `interp/call.rs`, `interp/fast.rs` and `interp/mod.rs`),
//! `object/coroutine.rs`, `object/function.rs`, `sched/wait.rs` and `spin.rs`.

pub mod entries;
pub mod fiber;
pub mod gc;
pub mod heap;
pub mod host;
pub mod inline_call;
pub mod interp;
pub mod loader;
pub mod native;
pub mod object;
pub mod ops;
pub mod prefetch;
pub mod prelude;
pub mod print;
pub mod program;
pub mod runtime;
pub mod sched;
pub mod spin;
pub mod symbol;
pub mod value;
pub mod vm;

pub use value::{Tag, Value};
