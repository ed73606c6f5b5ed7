//! Code that arrives a piece at a time — REPL entries, an embedding host's `eval` calls —
//! with each piece seeing what the earlier ones defined.
//!
//! Each piece is compiled as its own module against the names earlier pieces defined,
//! which it reaches as members of those pieces' modules (so it sees a variable's current
//! value and can assign a `可变` one). Names are bound statically, as in OCaml's or GHCi's
//! top level: redefining `f` makes later pieces see the new `f`, while functions defined
//! earlier keep calling the one they were compiled against.

use std::collections::HashMap;
use std::sync::Arc;

use qi_bytecode::compiler::{OuterKind, OuterName};
use qi_bytecode::diagnostic::Diagnostic;
use qi_bytecode::proto::{Decl, FunctionProto};
use qi_bytecode::source::SourceFile;

use crate::loader::Loaded;
use crate::object::ModuleObj;
use crate::symbol::Symbol;
use crate::value::{Tag, Value};
use crate::vm::Shared;

#[derive(Default)]
pub struct Entries {
    /// Piece `n` is `modules[n]`; kept alive for as long as later code may refer to it.
    modules: Vec<Arc<ModuleObj>>,
    /// The newest definition of each name.
    names: HashMap<Arc<str>, OuterName>,
}

impl Entries {
    /// Compiles and links `file` against the names defined so far (adding a final `;`
    /// the code left out, see [`complete_statement`]). Its names become visible once it
    /// has run: call [`Entries::record`] then.
    pub fn load(
        &mut self,
        shared: &Shared,
        file: Arc<SourceFile>,
    ) -> Result<Loaded, Vec<Diagnostic>> {
        let completed = complete_statement(&file.text);
        let file = if completed == file.text {
            file
        } else {
            SourceFile::new(file.path.clone(), completed)
        };
        let names = &self.names;
        let outer = |name: &str| names.get(name).cloned();
        let loaded = crate::loader::load_entry(shared, file, &outer, &self.modules)?;
        self.modules.push(loaded.module.clone());
        Ok(loaded)
    }

    /// The file name the next piece's diagnostics will show.
    pub fn next_file_name(&self, prefix: &str) -> String {
        format!("<{prefix} {}>", self.modules.len() + 1)
    }

    /// Makes what `module` (the last one loaded) defined visible to later pieces. A
    /// variable whose declaration did not run (the piece failed first) keeps its older
    /// meaning.
    pub fn record(&mut self, module: &Arc<ModuleObj>) {
        let Some(number) = self.modules.iter().rposition(|m| Arc::ptr_eq(m, module)) else {
            return;
        };
        let number = number as u32;
        let Some(proto) = &module.proto else {
            return;
        };
        for (slot, g) in proto.globals.iter().enumerate() {
            if module.global(slot as u32).tag() == Tag::Uninit {
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

    /// Forgets every name (the modules stay alive: running code may still use them).
    pub fn forget_names(&mut self) {
        self.names.clear();
    }

    /// Every name defined so far.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(|k| &**k)
    }

    /// The current value of a defined name.
    pub fn value_of(&self, name: &str) -> Option<Value> {
        let o = self.names.get(name)?;
        self.modules
            .get(o.entry as usize)?
            .export(Symbol::intern(name))
    }

    /// The compiled function defined under `name`.
    pub fn function_proto(&self, name: &str) -> Option<Arc<FunctionProto>> {
        let o = self.names.get(name)?;
        let proto = self.modules.get(o.entry as usize)?.proto.clone()?;
        proto.decls.iter().find_map(|d| match d {
            Decl::Function { proto: f, .. } if &*f.name == name => Some(f.clone()),
            _ => None,
        })
    }
}

/// `code`, with the final `;` added when it was left out and adding it is what makes the
/// code parse (`1 + 2` → `1 + 2;`, `启动 { … }` → `启动 { … };`).
pub fn complete_statement(code: &str) -> String {
    if parses(code) {
        return code.to_string();
    }
    let with_semi = format!("{};", code.trim_end());
    if parses(&with_semi) {
        with_semi
    } else {
        code.to_string()
    }
}

fn parses(code: &str) -> bool {
    let arena = bumpalo::Bump::new();
    let file = SourceFile::new("<输入>", code);
    let parsed = qi_bytecode::parser::parse(&arena, &file);
    !parsed.diagnostics.iter().any(|d| !d.is_warning())
}

#[cfg(test)]
mod tests {
    use super::complete_statement;

    #[test]
    fn a_missing_final_semicolon_is_added() {
        assert_eq!(complete_statement("1 + 2"), "1 + 2;");
        assert_eq!(complete_statement("变量 x = 1"), "变量 x = 1;");
        assert_eq!(complete_statement("打印行(1);"), "打印行(1);");
        assert_eq!(
            complete_statement("函数 f() { 返回 1; }"),
            "函数 f() { 返回 1; }"
        );
        // Not fixable by a `;`: left alone for the compiler to report.
        assert_eq!(complete_statement("变量 = ;"), "变量 = ;");
    }
}
