//! Name resolution in the code generator: locals, captured upvalues, module globals,
//! declarations and built-ins, in that order (QI-LANGUAGE.md §10 "Names, blocks and values").

use crate::diagnostic::Code;
use crate::opcode::Op;
use crate::proto::{Capture, FunctionKind, TypeDesc};
use crate::source::Span;
use crate::token::Keyword;

use super::Compiler;
use super::function::Upvalue;

/// Where a name lives.
#[derive(Clone, Debug)]
pub enum NameRef {
    /// A local of the current function; `cell` when its register holds a cell.
    Local {
        reg: u16,
        cell: bool,
        mutable: bool,
        ty: Option<TypeDesc>,
    },
    Upvalue {
        index: u16,
        mutable: bool,
        ty: Option<TypeDesc>,
    },
    Global {
        slot: u32,
        mutable: bool,
        ty: Option<TypeDesc>,
    },
    /// A top-level function, struct or enum.
    Decl(u32),
    /// A name an earlier REPL entry defined: member `name` of import `import`.
    Outer {
        import: u32,
        mutable: bool,
        ty: Option<TypeDesc>,
    },
    Builtin,
}

impl<'a> Compiler<'a, '_> {
    /// Resolves `name` as seen from the current function, or `None` if it is not defined.
    pub fn lookup(&mut self, name: &str) -> Option<NameRef> {
        let current = self.fns.len() - 1;
        if let Some(r) = self.lookup_in(current, name) {
            return Some(r);
        }
        let var = if self.in_toplevel_code() {
            self.toplevel_vars.get(name)
        } else {
            self.global_vars.get(name)
        };
        if let Some(g) = var {
            return Some(NameRef::Global {
                slot: g.slot,
                mutable: g.mutable,
                ty: g.ty.clone(),
            });
        }
        if let Some(&(slot, _)) = self.functions.get(name) {
            return Some(NameRef::Decl(slot));
        }
        if let Some(t) = self.types.get(name) {
            let slot = match t {
                super::TypeInfo::Struct { slot, .. } | super::TypeInfo::Enum { slot, .. } => *slot,
            };
            return Some(NameRef::Decl(slot));
        }
        if let Some(o) = self.outer(name) {
            let import = self.outer_import(o.entry);
            let (mutable, ty) = match o.kind {
                super::OuterKind::Var { mutable, ty } => (mutable, ty),
                _ => (false, None),
            };
            return Some(NameRef::Outer {
                import,
                mutable,
                ty,
            });
        }
        if (self.opts.is_builtin)(name) {
            return Some(NameRef::Builtin);
        }
        None
    }

    /// What an earlier REPL entry defined under `name`.
    pub fn outer(&self, name: &str) -> Option<super::OuterName> {
        self.opts.outer.and_then(|f| f(name))
    }

    /// The import index under which REPL entry `entry` is linked into this one.
    pub(super) fn outer_import(&mut self, entry: u32) -> u32 {
        if let Some(i) = self
            .imports
            .iter()
            .position(|i| i.repl_entry == Some(entry))
        {
            return i as u32;
        }
        self.imports.push(crate::proto::ImportInfo {
            path: format!("<输入 {entry}>").into(),
            relative: false,
            segments: Vec::new(),
            span: Span::default(),
            repl_entry: Some(entry),
        });
        self.imports.len() as u32 - 1
    }

    /// Looks in function `index` and, through closures, in the functions enclosing it,
    /// adding upvalues along the way.
    fn lookup_in(&mut self, index: usize, name: &str) -> Option<NameRef> {
        let f = &self.fns[index];
        if let Some(i) = f.find_local(name) {
            let l = &f.locals[i];
            return Some(NameRef::Local {
                reg: l.reg,
                cell: l.cell,
                mutable: l.mutable,
                ty: l.ty.clone(),
            });
        }
        if let Some(i) = f.find_upvalue(name) {
            let u = &f.upvalues[i];
            return Some(NameRef::Upvalue {
                index: i as u16,
                mutable: u.mutable,
                ty: u.ty.clone(),
            });
        }
        if index == 0 || f.kind != FunctionKind::Closure {
            return None;
        }
        let outer = self.lookup_in(index - 1, name)?;
        let (capture, mutable, ty) = match outer {
            NameRef::Local {
                reg,
                cell: true,
                mutable,
                ty,
                ..
            } => (Capture::Local(reg), mutable, ty),
            NameRef::Upvalue {
                index: up,
                mutable,
                ty,
                ..
            } => (Capture::Upvalue(up), mutable, ty),
            // The analysis marks every local a closure uses as a cell; a plain local here
            // would mean the two passes disagree about scopes.
            NameRef::Local { cell: false, .. } => return None,
            // Globals, declarations and built-ins need no capture.
            other => return Some(other),
        };
        let name = leak_name(&self.fns[index - 1], name);
        self.fns[index].upvalues.push(Upvalue {
            name,
            capture,
            mutable,
            ty: ty.clone(),
        });
        let f = &self.fns[index];
        Some(NameRef::Upvalue {
            index: (f.upvalues.len() - 1) as u16,
            mutable,
            ty,
        })
    }

    /// Resolves a name or reports E3002 (with a hint when it starts with a keyword).
    pub fn resolve(&mut self, name: &str, span: Span) -> Option<NameRef> {
        if let Some(r) = self.lookup(name) {
            return Some(r);
        }
        let mut d = self
            .diag(Code::E3002, span)
            .with_detail(format!("「{name}」"))
            .without_hint();
        if let Some(k) = Keyword::ALL
            .iter()
            .find(|k| name.starts_with(k.text()) && name.len() > k.text().len())
        {
            let rest = &name[k.text().len()..];
            d = d.with_hint(format!(
                "是不是想写 {} {}？关键字后面要有空格",
                k.text(),
                rest
            ));
        } else if self.in_toplevel_code() && self.global_vars.contains_key(name) {
            d = d.with_hint("顶层代码不能使用在后面才声明的变量");
        }
        self.error(d);
        None
    }

    /// Emits code that puts the value of `name` into `dst`.
    pub fn load_name(&mut self, name: &str, dst: u16, span: Span) {
        let Some(r) = self.resolve(name, span) else {
            return;
        };
        match r {
            NameRef::Local {
                reg, cell: false, ..
            } => {
                if reg != dst {
                    self.f().op(Op::Move, dst, reg, 0, span);
                }
            }
            NameRef::Local {
                reg, cell: true, ..
            } => {
                self.f().op(Op::GetCell, dst, reg, 0, span);
            }
            NameRef::Upvalue { index, .. } => {
                self.f().op(Op::GetUpval, dst, index, 0, span);
            }
            NameRef::Global { slot, .. } => {
                self.f().op_bx(Op::GetGlobal, dst, slot, span);
            }
            NameRef::Decl(slot) => {
                self.f().op_bx(Op::GetDecl, dst, slot, span);
            }
            NameRef::Outer { import, .. } => {
                self.f().op_bx(Op::Import, dst, import, span);
                let k = self.f().name_const(name);
                self.f().op(Op::GetField, dst, dst, k, span);
            }
            NameRef::Builtin => {
                let k = self.f().name_const(name) as u32;
                self.f().op_bx(Op::GetBuiltin, dst, k, span);
            }
        }
    }

    /// The register of a plain (non-cell) local, so reads can use it without a move.
    pub fn local_reg(&self, name: &str) -> Option<u16> {
        let f = self.fref();
        let i = f.find_local(name)?;
        let l = &f.locals[i];
        (!l.cell).then_some(l.reg)
    }

    /// Emits code that stores `src` into `name`, checking mutability (E3005) and the
    /// annotation (E3001).
    pub fn store_name(&mut self, name: &str, src: u16, span: Span) {
        let Some(r) = self.resolve(name, span) else {
            return;
        };
        let (mutable, ty) = match &r {
            NameRef::Local { mutable, ty, .. }
            | NameRef::Upvalue { mutable, ty, .. }
            | NameRef::Global { mutable, ty, .. }
            | NameRef::Outer { mutable, ty, .. } => (*mutable, ty.clone()),
            NameRef::Decl(_) | NameRef::Builtin => (false, None),
        };
        if !mutable {
            let d = self
                .diag(Code::E3005, span)
                .with_detail(format!("「{name}」"));
            self.error(d);
            return;
        }
        if let Some(ty) = ty {
            let k = self.f().constant(crate::proto::Constant::Type(ty));
            self.f().op_bx(Op::CheckType, src, k, span);
        }
        match r {
            NameRef::Local {
                reg, cell: false, ..
            } => {
                if reg != src {
                    self.f().op(Op::Move, reg, src, 0, span);
                }
            }
            NameRef::Local {
                reg, cell: true, ..
            } => {
                self.f().op(Op::SetCell, reg, src, 0, span);
            }
            NameRef::Upvalue { index, .. } => {
                self.f().op(Op::SetUpval, src, index, 0, span);
            }
            NameRef::Global { slot, .. } => {
                self.f().op_bx(Op::SetGlobal, src, slot, span);
            }
            NameRef::Outer { import, .. } => {
                let module = self.f().alloc();
                self.f().op_bx(Op::Import, module, import, span);
                let k = self.f().name_const(name);
                self.f().op(Op::SetField, module, src, k, span);
                self.f().free_to(module);
            }
            NameRef::Decl(_) | NameRef::Builtin => {}
        }
    }
}

/// Upvalue names borrow from the source through the enclosing function's locals; find the
/// same `&'a str` there so the lifetime lines up.
fn leak_name<'a>(outer: &super::function::FunctionBuilder<'a>, name: &str) -> &'a str {
    if let Some(i) = outer.find_local(name) {
        return outer.locals[i].name;
    }
    if let Some(i) = outer.find_upvalue(name) {
        return outer.upvalues[i].name;
    }
    ""
}
