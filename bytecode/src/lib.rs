//! 气 (Qi) front end: source text to bytecode.
//!
//! The pipeline, in the order data flows through it:
//! [`source`] (files and spans) → [`lexer`] (tokens, full-width punctuation folded) →
//! [`parser`] (an arena-allocated [`ast`]) → resolver and compiler → bytecode.
//! Every error along the way is a [`diagnostic::Diagnostic`] from one catalogue of codes.
//!
//! This crate never runs Qi code and never panics on user input: malformed source becomes
//! diagnostics, and the parser recovers to report several independent errors in one run.

pub mod assigned;
pub mod ast;
pub mod compiler;
mod deep;
pub mod diagnostic;
pub mod disasm;
pub mod flow;
pub mod kinds;
pub mod lexer;
pub mod opcode;
pub mod parser;
pub mod proto;
pub mod source;
pub mod token;
pub mod verify;
