//! A loaded module: its variable slots, its declarations and its exports.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use parking_lot::Mutex;
use qi_bytecode::proto::ModuleProto;

use crate::symbol::Symbol;
use crate::value::{Tag, Value};

/// Module states, in the order they happen.
pub const MODULE_NEW: u8 = 0;
pub const MODULE_RUNNING: u8 = 1;
pub const MODULE_DONE: u8 = 2;

#[derive(Debug)]
pub struct ModuleObj {
    pub name: Arc<str>,
    /// The compiled file; `None` for a module written in Rust.
    pub proto: Option<Arc<ModuleProto>>,
    /// `G[n]`: 变量 slots, `Uninit` until their declaration runs.
    globals: Box<[Mutex<Value>]>,
    /// `D[n]`: top-level functions, types and methods; fixed once linked.
    pub decls: Box<[Value]>,
    /// The top-level code as a closure, run at the first import (or by the runner).
    pub main: Value,
    /// The modules this one imports, in the order of its `导入` statements.
    pub imports: Box<[Value]>,
    /// Public names: symbol → where to find the value.
    pub exports: HashMap<Symbol, Export>,
    /// MODULE_NEW, MODULE_RUNNING (its top level is running) or MODULE_DONE.
    pub state: AtomicU8,
}

#[derive(Debug, Clone)]
pub enum Export {
    Global(u32),
    Decl(u32),
    /// A member of a module written in Rust (数学, 哈希, host modules).
    Value(Value),
}

/// Everything a compiled module is linked from.
pub struct ModuleParts {
    pub decls: Box<[Value]>,
    pub main: Value,
    pub imports: Box<[Value]>,
    pub exports: HashMap<Symbol, Export>,
}

impl ModuleObj {
    /// A compiled module, from its parts.
    pub fn new(name: Arc<str>, proto: Arc<ModuleProto>, parts: ModuleParts) -> ModuleObj {
        let globals = (0..proto.globals.len())
            .map(|_| Mutex::new(Value::UNINIT))
            .collect();
        ModuleObj {
            name,
            proto: Some(proto),
            globals,
            decls: parts.decls,
            main: parts.main,
            imports: parts.imports,
            exports: parts.exports,
            state: AtomicU8::new(MODULE_NEW),
        }
    }

    /// A module written in Rust: only exports, already run.
    pub fn native(name: Arc<str>, exports: HashMap<Symbol, Export>) -> ModuleObj {
        ModuleObj {
            name,
            proto: None,
            globals: Box::new([]),
            decls: Box::new([]),
            main: Value::NIL,
            imports: Box::new([]),
            exports,
            state: AtomicU8::new(MODULE_DONE),
        }
    }

    /// The value in `G[slot]` (`Uninit` before its declaration ran).
    #[inline]
    pub fn global(&self, slot: u32) -> Value {
        match self.globals.get(slot as usize) {
            Some(g) => g.lock().clone(),
            None => Value::UNINIT,
        }
    }

    /// Copies `G[slot]` into `dst`, which often holds it already (a function reading a
    /// module variable in a loop) and then costs no count changes. `false`, leaving `dst`
    /// alone, if the variable's declaration has not run yet.
    #[inline]
    pub fn load_global_into(&self, slot: u32, dst: &mut Value) -> bool {
        let Some(g) = self.globals.get(slot as usize) else {
            return false;
        };
        let v = {
            let cur = g.lock();
            if cur.tag() == crate::value::Tag::Uninit {
                return false;
            }
            if dst.same(&cur) {
                return true;
            }
            cur.clone()
        };
        *dst = v;
        true
    }

    #[inline]
    pub fn set_global(&self, slot: u32, v: Value) {
        if let Some(g) = self.globals.get(slot as usize) {
            let old = std::mem::replace(&mut *g.lock(), v);
            drop(old);
        }
    }

    /// The name of `G[slot]`, for messages.
    pub fn global_name(&self, slot: u32) -> Arc<str> {
        self.proto
            .as_ref()
            .and_then(|p| p.globals.get(slot as usize))
            .map_or_else(|| Arc::from("?"), |g| g.name.clone())
    }

    #[inline]
    pub fn decl(&self, slot: u32) -> Value {
        self.decls.get(slot as usize).cloned().unwrap_or(Value::NIL)
    }

    /// A public member by name (E4002 is the caller's to report).
    pub fn export(&self, name: Symbol) -> Option<Value> {
        match self.exports.get(&name)? {
            Export::Global(slot) => {
                let v = self.global(*slot);
                (v.tag() != Tag::Uninit).then_some(v)
            }
            Export::Decl(slot) => Some(self.decl(*slot)),
            Export::Value(v) => Some(v.clone()),
        }
    }

    pub fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// Drops every value the module holds, breaking the cycles between a module and its
    /// functions (they point back at it) when the VM shuts down.
    pub fn clear(&self) {
        for g in self.globals.iter() {
            let old = std::mem::replace(&mut *g.lock(), Value::NIL);
            drop(old);
        }
    }
}
