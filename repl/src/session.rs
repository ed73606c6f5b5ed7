//! The evaluation loop as a library: entries in, what to show out.
//!
//! Each entry is compiled as its own module against the names earlier entries defined,
//! which it reaches as members of those entries' modules (so a later entry sees a
//! variable's current value and can assign a `可变` one). The entry's top level runs as
//! a task on a [`Runtime`] that lives as long as the session, so tasks started with 启动
//! keep running between prompts and 等待 works at the prompt.
//!
//! Names are bound statically, as in OCaml's or GHCi's top level: redefining `f` in a
//! later entry makes later entries see the new `f`, while functions defined earlier keep
//! calling the one they were compiled against.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use qi_bytecode::compiler::{OuterKind, OuterName};
use qi_bytecode::diagnostic::{Diagnostic, render};
use qi_bytecode::proto::Decl;
use qi_bytecode::source::SourceFile;
use qi_vm::Value;
use qi_vm::object::ModuleObj;
use qi_vm::runtime::{Outcome, Runtime};
use qi_vm::vm::Shared;

use crate::input;

/// What an entry produced, for the front end to show.
#[derive(Debug, Default, PartialEq)]
pub struct Reply {
    /// The value of an expression entry in its printed form, or a command's answer.
    pub shown: Option<String>,
    /// Rendered diagnostics (errors and warnings), for stderr.
    pub diagnostics: String,
    /// Whether the entry failed (a compile or runtime error).
    pub failed: bool,
    /// The session should end with this exit code (`:退出`, `退出(码)`).
    pub exit: Option<i32>,
}

/// A REPL session: the VM and everything the entries so far defined.
pub struct Session {
    runtime: Runtime,
    /// Entry `n` is `entries[n]`; kept alive for as long as later code may refer to it.
    entries: Vec<Arc<ModuleObj>>,
    /// The newest definition of each name.
    names: HashMap<Arc<str>, OuterName>,
    color: bool,
    /// Set by the front end while an entry runs: Ctrl-C cancels it.
    interrupt: Option<Arc<AtomicBool>>,
}

impl Session {
    pub fn new(shared: Arc<Shared>) -> Session {
        Session {
            runtime: Runtime::start(shared),
            entries: Vec::new(),
            names: HashMap::new(),
            color: false,
            interrupt: None,
        }
    }

    /// Renders diagnostics with terminal colours.
    pub fn set_color(&mut self, color: bool) {
        self.color = color;
    }

    pub fn shared(&self) -> &Arc<Shared> {
        self.runtime.shared()
    }

    /// Every name defined so far (for completion).
    pub fn defined_names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(|k| &**k)
    }

    /// The current value of a name an entry defined.
    pub fn value_of(&self, name: &str) -> Option<Value> {
        let o = self.names.get(name)?;
        let module = self.entries.get(o.entry as usize)?;
        module.export(qi_vm::symbol::Symbol::intern(name))
    }

    /// Like [`Session::eval`]; setting `interrupt` (Ctrl-C) cancels the running entry.
    pub fn eval_interruptible(&mut self, entry: &str, interrupt: &Arc<AtomicBool>) -> Reply {
        self.interrupt = Some(interrupt.clone());
        let reply = self.eval(entry);
        self.interrupt = None;
        reply
    }

    /// Runs one entry: a command (`:帮助` …) or Qi code.
    pub fn eval(&mut self, entry: &str) -> Reply {
        let trimmed = entry.trim();
        if trimmed.is_empty() {
            return Reply::default();
        }
        if let Some(command) = crate::commands::parse(trimmed) {
            return crate::commands::run(self, command);
        }
        self.eval_code(entry, false).0
    }

    /// Forgets every definition (tasks already running go on).
    pub fn clear(&mut self) {
        self.names.clear();
    }

    /// Compiles and runs Qi code as an entry. With `quiet`, the value is returned rather
    /// than shown.
    pub fn eval_code(&mut self, code: &str, quiet: bool) -> (Reply, Option<Value>) {
        let mut reply = Reply::default();
        self.report_orphans(&mut reply);
        let code = input::complete_statement(code);
        let number = self.entries.len() as u32;
        let file = SourceFile::new(format!("<输入 {}>", number + 1), code);
        let names = &self.names;
        let outer = |name: &str| names.get(name).cloned();
        let loaded =
            match qi_vm::loader::load_entry(self.runtime.shared(), file, &outer, &self.entries) {
                Ok(l) => l,
                Err(diags) => {
                    self.add_diagnostics(&mut reply, &diags);
                    return (reply, None);
                }
            };
        self.add_diagnostics(&mut reply, &loaded.warnings);
        let module = loaded.module;
        self.entries.push(module.clone());
        let outcome = match self.runtime.spawn_module(&module) {
            Ok(task) => self.runtime.wait(&task, self.interrupt.as_deref()),
            Err(o) => o,
        };
        self.record_names(&module, number);
        self.runtime.shared().flush_out();
        self.report_orphans(&mut reply);
        let mut value = None;
        match outcome {
            Outcome::Value(v) => {
                if !quiet && !v.is_nil() {
                    reply.shown = Some(qi_vm::print::repr(&v));
                }
                value = Some(v);
            }
            Outcome::Error(d, _) | Outcome::Deadlock(d) => {
                self.add_diagnostics(&mut reply, &[*d]);
            }
            Outcome::Exit(code) => reply.exit = Some(code),
        }
        (reply, value)
    }

    /// Makes what entry `number` defined visible to later entries. A variable whose
    /// declaration did not run (the entry failed first) keeps its older meaning.
    fn record_names(&mut self, module: &ModuleObj, number: u32) {
        let Some(proto) = &module.proto else {
            return;
        };
        for (slot, g) in proto.globals.iter().enumerate() {
            if module.global(slot as u32).tag() == qi_vm::Tag::Uninit {
                continue;
            }
            let kind = OuterKind::Var {
                mutable: g.mutable,
                ty: g.ty.clone(),
            };
            self.names.insert(
                g.name.clone(),
                OuterName {
                    entry: number,
                    kind,
                },
            );
        }
        for d in &proto.decls {
            let kind = match d {
                // Methods are reached through their type.
                Decl::Function { proto: f, .. } if f.name.contains('.') => continue,
                Decl::Function { .. } => OuterKind::Function,
                Decl::Struct(_) | Decl::Enum(_) => OuterKind::Type,
            };
            self.names.insert(
                d.name().clone(),
                OuterName {
                    entry: number,
                    kind,
                },
            );
        }
    }

    fn report_orphans(&self, reply: &mut Reply) {
        let failures = self.runtime.take_orphan_failures();
        self.add_diagnostics(reply, &failures);
    }

    pub(crate) fn add_diagnostics(&self, reply: &mut Reply, diags: &[Diagnostic]) {
        for d in diags {
            reply.failed |= !d.is_warning();
            reply.diagnostics.push_str(&render(d, self.color));
        }
    }

    /// The compiled function defined under `name`, for `:反汇编`.
    pub fn function_proto(&self, name: &str) -> Option<Arc<qi_bytecode::proto::FunctionProto>> {
        let o = self.names.get(name)?;
        let proto = self.entries.get(o.entry as usize)?.proto.clone()?;
        proto.decls.iter().find_map(|d| match d {
            Decl::Function { proto: f, .. } if &*f.name == name => Some(f.clone()),
            _ => None,
        })
    }
}

/// The names after `值.` worth completing: fields and methods of structs and enums, the
/// built-in methods of the value's type, a module's public names.
pub fn members_of(shared: &Shared, v: &Value) -> Vec<String> {
    use qi_vm::object::{Instance, VariantObj};
    let mut out: Vec<String> = Vec::new();
    let methods_of = |m: &std::collections::HashMap<qi_vm::symbol::Symbol, Value>| {
        m.keys().map(|k| k.name().to_string()).collect::<Vec<_>>()
    };
    if let Some(i) = v.as_obj::<Instance>() {
        out.extend(i.ty.fields.iter().map(|(n, _)| n.name().to_string()));
        out.extend(i.ty.methods.get().map(methods_of).unwrap_or_default());
    } else if let Some(e) = v.as_obj::<VariantObj>() {
        out.extend(e.ty.methods.get().map(methods_of).unwrap_or_default());
    } else if let Some(m) = v.as_obj::<ModuleObj>() {
        out.extend(m.exports.keys().map(|k| k.name().to_string()));
    } else {
        let tag = v.tag();
        out.extend(
            shared
                .methods
                .keys()
                .filter(|(t, _)| *t == tag)
                .map(|(_, n)| n.name().to_string()),
        );
    }
    out.retain(|n| !n.starts_with("__"));
    out.sort();
    out.dedup();
    out
}
