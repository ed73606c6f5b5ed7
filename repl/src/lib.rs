//! 气 (Qi) interactive REPL.
//!
//! [`Session`] is the evaluation loop as a library: feed it entries, read back what to
//! show. Entries keep the state of earlier ones (see [`session`] for how). [`editor`] is
//! the terminal front end on rustyline: continuation prompts while brackets are open,
//! persistent history, completion of keywords, built-ins, defined names and members, and
//! highlighting with bracket matching.

pub mod commands;
pub mod editor;
pub mod highlight;
pub mod input;
pub mod session;

pub use editor::run;
pub use session::{Reply, Session};
