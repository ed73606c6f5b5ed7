//! 气 (Qi) Cranelift tier — not built yet.
//!
//! This crate will lower hot bytecode functions to native code with Cranelift, on the same
//! heap frame layout the interpreter uses, so compiled code stays suspendable (DESIGN.md
//! "JIT tier"). Until that milestone it holds no code: the interpreter is the only tier,
//! and nothing here pretends otherwise.
