//! 气 (Qi) interactive REPL — not built yet.
//!
//! This crate will hold the evaluation loop (entries keep the state of earlier ones) and
//! the rustyline front end: multi-line input, history, completion and highlighting. Until
//! that milestone `qi repl` says so and exits.
