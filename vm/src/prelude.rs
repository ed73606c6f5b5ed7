//! The part of the standard library written in Qi, compiled the first time one of its
//! names is used.
//!
//! Most programs never call a prelude function (`列表.映射`, `HTTP服务` …), and compiling
//! the prelude was a third of hello world's user-space start-up (callgrind: 0.63M of
//! 1.66M instructions). So the VM only remembers the prelude's names when it is built; a
//! lookup that misses the Rust-written built-ins asks here, and the first one that names
//! a prelude function compiles the whole prelude, once, for every thread.

use std::sync::OnceLock;

use qi_bytecode::diagnostic::Diagnostic;

use crate::symbol::Symbol;
use crate::value::{Tag, Value};
use crate::vm::{FastMap, Shared};

/// Qi source whose functions become methods of built-in types and global built-ins.
pub struct Prelude {
    pub source: &'static str,
    /// (receiver type, method name, the Qi function implementing it)
    pub methods: Vec<(Tag, &'static str, &'static str)>,
    /// Qi functions that become global built-ins under their own names.
    pub globals: Vec<&'static str>,
}

/// A prelude not compiled yet: its names, interned, and the functions once compiled.
pub(crate) struct LazyPrelude {
    spec: Prelude,
    method_keys: Vec<(Tag, Symbol)>,
    global_names: Vec<Symbol>,
    compiled: OnceLock<Result<Compiled, Vec<Diagnostic>>>,
}

#[derive(Default)]
struct Compiled {
    methods: FastMap<(Tag, Symbol), Value>,
    globals: FastMap<Symbol, Value>,
}

impl LazyPrelude {
    pub(crate) fn new(spec: Prelude) -> LazyPrelude {
        LazyPrelude {
            method_keys: spec
                .methods
                .iter()
                .map(|&(tag, name, _)| (tag, Symbol::intern(name)))
                .collect(),
            global_names: spec.globals.iter().map(|&n| Symbol::intern(n)).collect(),
            spec,
            compiled: OnceLock::new(),
        }
    }

    /// Whether `name` is one of the prelude's global built-ins (without compiling it).
    pub(crate) fn has_global(&self, name: Symbol) -> bool {
        self.global_names.contains(&name)
    }

    pub(crate) fn method_keys(&self) -> &[(Tag, Symbol)] {
        &self.method_keys
    }

    pub(crate) fn global_names(&self) -> &[Symbol] {
        &self.global_names
    }

    /// The global built-in `name`, compiling the prelude if it is one of its names.
    pub(crate) fn global<'a>(&'a self, shared: &Shared, name: Symbol) -> Option<&'a Value> {
        if !self.has_global(name) {
            return None;
        }
        self.compiled(shared).ok()?.globals.get(&name)
    }

    /// The method `name` of `tag`, compiling the prelude if it is one of its methods.
    pub(crate) fn method<'a>(
        &'a self,
        shared: &Shared,
        tag: Tag,
        name: Symbol,
    ) -> Option<&'a Value> {
        if !self.method_keys.contains(&(tag, name)) {
            return None;
        }
        self.compiled(shared).ok()?.methods.get(&(tag, name))
    }

    /// Compiles the prelude now if it has not been; its diagnostics if it does not compile
    /// (a bug in the standard library, which a test of the standard library catches).
    pub(crate) fn force(&self, shared: &Shared) -> Result<(), Vec<Diagnostic>> {
        self.compiled(shared).map(|_| ()).map_err(Clone::clone)
    }

    fn compiled(&self, shared: &Shared) -> Result<&Compiled, &Vec<Diagnostic>> {
        self.compiled
            .get_or_init(|| compile(shared, &self.spec))
            .as_ref()
    }
}

fn compile(shared: &Shared, spec: &Prelude) -> Result<Compiled, Vec<Diagnostic>> {
    let file = qi_bytecode::source::SourceFile::new("<标准库>", spec.source);
    let module = crate::loader::load_text(shared, file, "标准库", false, true)?.module;
    let decl = |function: &str| {
        module
            .proto
            .as_ref()
            .and_then(|p| p.decls.iter().position(|d| &**d.name() == function))
            .map(|slot| module.decl(slot as u32))
    };
    let methods = spec
        .methods
        .iter()
        .filter_map(|&(tag, method, function)| {
            Some(((tag, Symbol::intern(method)), decl(function)?))
        })
        .collect();
    let globals = spec
        .globals
        .iter()
        .filter_map(|&name| Some((Symbol::intern(name), decl(name)?)))
        .collect();
    Ok(Compiled { methods, globals })
}
