//! 气 (Qi): the embedding facade.
//!
//! Today this crate is the `qi` command-line tool; the `qi::Vm` embedding API arrives with
//! its milestone. The building blocks are usable directly: [`qi_vm`] (the VM) with
//! [`qi_stdlib`] (the built-ins) and [`qi_bytecode`] (the front end).

pub use qi_bytecode;
pub use qi_stdlib;
pub use qi_vm;
