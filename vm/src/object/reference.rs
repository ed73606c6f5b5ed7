//! 引用: made by `取地址 变量`; reads and writes the variable itself.

use std::sync::Arc;

use super::{CellObj, ModuleObj};
use crate::value::Value;

#[derive(Debug)]
pub enum RefTarget {
    Cell(Arc<CellObj>),
    Global(Arc<ModuleObj>, u32),
}

#[derive(Debug)]
pub struct RefObj {
    pub target: RefTarget,
    /// False for a reference to a `变量` binding: writing through it is E3005.
    pub writable: bool,
    /// The variable's annotation: a write through the reference is checked like any
    /// assignment to it.
    pub ty: Option<qi_bytecode::proto::TypeDesc>,
}

impl RefObj {
    pub fn get(&self) -> Value {
        match &self.target {
            RefTarget::Cell(c) => c.get(),
            RefTarget::Global(m, slot) => m.global(*slot),
        }
    }

    /// `false` if the target is a fixed cell (see `CellObj::set`).
    #[must_use]
    pub fn set(&self, v: Value) -> bool {
        match &self.target {
            RefTarget::Cell(c) => c.set(v),
            RefTarget::Global(m, slot) => {
                m.set_global(*slot, v);
                true
            }
        }
    }
}
