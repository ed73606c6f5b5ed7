//! The evaluation loop as a library: entries in, what to show out.
//!
//! Entries are compiled and linked by [`qi_vm::entries::Entries`] (each sees what the
//! earlier ones defined, bound statically as in OCaml's or GHCi's top level). Each
//! entry's top level runs as a task on a [`Runtime`] that lives as long as the session,
//! so tasks started with 启动 keep running between prompts and 等待 works at the prompt.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use qi_bytecode::diagnostic::{Diagnostic, render};
use qi_bytecode::source::SourceFile;
use qi_vm::Value;
use qi_vm::entries::Entries;
use qi_vm::object::ModuleObj;
use qi_vm::runtime::{Outcome, Runtime};
use qi_vm::vm::Shared;

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
    entries: Entries,
    color: bool,
    /// Set by the front end while an entry runs: Ctrl-C cancels it.
    interrupt: Option<Arc<AtomicBool>>,
}

impl Session {
    pub fn new(shared: Arc<Shared>) -> Session {
        Session {
            runtime: Runtime::start(shared),
            entries: Entries::default(),
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
        self.entries.names()
    }

    /// The current value of a name an entry defined.
    pub fn value_of(&self, name: &str) -> Option<Value> {
        self.entries.value_of(name)
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
        self.entries.forget_names();
    }

    /// Compiles and runs Qi code as an entry. With `quiet`, the value is returned rather
    /// than shown.
    pub fn eval_code(&mut self, code: &str, quiet: bool) -> (Reply, Option<Value>) {
        let file = SourceFile::new(self.entries.next_file_name("输入"), code);
        self.eval_source(file, quiet)
    }

    /// `eval_code` for a file read from disk (`:载入`): its imports are found beside it,
    /// and its errors name it.
    pub fn eval_source(
        &mut self,
        file: std::sync::Arc<SourceFile>,
        quiet: bool,
    ) -> (Reply, Option<Value>) {
        let mut reply = Reply::default();
        self.report_orphans(&mut reply);
        let loaded = match self.entries.load(self.runtime.shared(), file) {
            Ok(l) => l,
            Err(diags) => {
                self.add_diagnostics(&mut reply, &diags);
                return (reply, None);
            }
        };
        self.add_diagnostics(&mut reply, &loaded.warnings);
        let module: Arc<ModuleObj> = loaded.module;
        let outcome = match self.runtime.spawn_module(&module) {
            Ok(task) => self.runtime.wait(&task, self.interrupt.as_deref()),
            Err(o) => o,
        };
        self.entries.record(&module);
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
        self.entries.function_proto(name)
    }
}
/// The names after `值.` worth completing: fields and methods of structs and enums, the
/// built-in methods of the value's type, a module's public names.
pub fn members_of(shared: &Shared, v: &Value) -> Vec<String> {
    use qi_vm::object::{Instance, VariantObj};
    let mut out: Vec<String> = Vec::new();
    let methods_of = |m: &qi_vm::object::MethodTable| {
        m.names()
            .into_iter()
            .map(|k| k.name().to_string())
            .collect::<Vec<_>>()
    };
    if let Some(i) = v.as_obj::<Instance>() {
        out.extend(i.ty.fields.iter().map(|(n, _)| n.name().to_string()));
        out.extend(methods_of(&i.ty.methods));
    } else if let Some(e) = v.as_obj::<VariantObj>() {
        out.extend(methods_of(&e.ty.methods));
    } else if let Some(m) = v.as_obj::<ModuleObj>() {
        out.extend(m.exports.keys().map(|k| k.name().to_string()));
    } else {
        let tag = v.tag();
        out.extend(
            shared
                .method_keys()
                .filter(|(t, _)| *t == tag)
                .map(|(_, n)| n.name().to_string()),
        );
    }
    out.retain(|n| !n.starts_with("__"));
    out.sort();
    out.dedup();
    out
}
