//! The compiler: from a parsed file to a [`ModuleProto`].
//!
//! Two passes. [`resolve`] decides which variables live in cells and which top-level
//! variables are module globals. Then the code generator walks the tree once, emitting
//! register bytecode function by function: first every top-level declaration (so they are
//! visible whatever the order, QI-LANGUAGE.md §9), then the top-level statements.
//!
//! The compiler reports every error it can find in one run (E3xxx, some E2001 and E4001)
//! and never panics on a tree the parser produced, error nodes included.

mod call;
mod concurrency;
mod control;
mod expr;
mod function;
mod names;
mod pattern;
mod resolve;
mod stmt;
mod types;

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::opcode::Op;
use crate::proto::*;
use crate::source::{SourceFile, Span};
use function::FunctionBuilder;
use resolve::Resolution;

/// What the compiler needs to know from outside the file.
pub struct CompileOptions<'o> {
    /// Whether a name is a built-in global (打印行, 长度 …).
    pub is_builtin: &'o dyn Fn(&str) -> bool,
    /// REPL entries: every top-level variable is a module global, so later entries see it.
    pub repl: bool,
    /// Standard-library code written in Qi: hidden from stack traces.
    pub hidden: bool,
    /// The module's name (`主程序` for the main file, the file stem for imports).
    pub module_name: &'o str,
    /// REPL entries: names that earlier entries defined.
    pub outer: Option<&'o OuterLookup<'o>>,
}

/// How the compiler asks what an earlier REPL entry defined under a name.
pub type OuterLookup<'a> = dyn Fn(&str) -> Option<OuterName> + 'a;

/// A name an earlier REPL entry defined, as the entry being compiled sees it.
#[derive(Clone, Debug)]
pub struct OuterName {
    /// Which entry (the REPL links it as an import).
    pub entry: u32,
    pub kind: OuterKind,
}

#[derive(Clone, Debug)]
pub enum OuterKind {
    Var {
        mutable: bool,
        ty: Option<TypeDesc>,
    },
    Function,
    /// A struct or enum: usable in annotations, literals and patterns, and open to more
    /// `方法` blocks.
    Type,
}

/// A successful compilation: the module and any warnings.
pub struct Compiled {
    pub module: ModuleProto,
    pub warnings: Vec<Diagnostic>,
}

/// Compiles one parsed file. On failure, every error and warning found.
pub fn compile(
    program: &Program<'_>,
    file: &Arc<SourceFile>,
    options: &CompileOptions<'_>,
) -> Result<Compiled, Vec<Diagnostic>> {
    let res = resolve::resolve(program, options.repl);
    let mut c = Compiler::new(file, options, res);
    c.module(program);
    c.finish()
}

/// The expression whose value a REPL entry shows: its last statement, when that is an
/// expression statement that makes a value (not 如果 or a block used as a statement, and
/// not 启动/创建 whose handle a statement throws away).
fn shown_value<'a>(program: &'a Program<'a>) -> Option<&'a Expr<'a>> {
    let StmtKind::Expr { expr, .. } = program.stmts.last()?.kind else {
        return None;
    };
    match expr.kind {
        ExprKind::If { .. } | ExprKind::Block(_) | ExprKind::Spawn(_) | ExprKind::Create(_) => None,
        _ => Some(expr),
    }
}

/// The built-in type names: they cannot take `方法` blocks (E3014) and name annotations.
pub const BUILTIN_TYPES: &[&str] = &[
    "整数",
    "浮点数",
    "字符串",
    "布尔",
    "列表",
    "字典",
    "函数类型",
    "未来",
    "任务",
    "通道",
    "协程类型",
    "引用",
    "错误",
    "任意",
    "空",
    "范围",
    "模块",
];

/// A method known at compile time.
#[derive(Clone, Debug)]
pub(crate) struct MethodInfo {
    pub slot: u32,
    pub uses_self: bool,
    pub arity: u16,
}

/// A struct or enum declared in this file.
#[derive(Clone, Debug)]
pub(crate) enum TypeInfo<'a> {
    Struct {
        slot: u32,
        fields: Vec<(&'a str, Option<TypeDesc>)>,
        methods: HashMap<&'a str, MethodInfo>,
    },
    Enum {
        slot: u32,
        /// Name and payload arity of each variant.
        variants: Vec<(&'a str, u16)>,
        methods: HashMap<&'a str, MethodInfo>,
    },
}

impl TypeInfo<'_> {
    pub fn methods(&self) -> &HashMap<&str, MethodInfo> {
        match self {
            TypeInfo::Struct { methods, .. } | TypeInfo::Enum { methods, .. } => methods,
        }
    }
}

/// Methods this REPL entry adds to a type an earlier one declared.
pub(crate) struct ExtensionInfo<'a> {
    pub target: &'a str,
    /// The import linking in the entry that declared the type.
    pub import: u32,
    pub methods: HashMap<&'a str, MethodInfo>,
    /// Compiled, in declaration order.
    pub protos: Vec<Arc<FunctionProto>>,
}

/// A module variable slot as the code generator sees it.
#[derive(Clone, Debug)]
pub(crate) struct GlobalVar {
    pub slot: u32,
    pub mutable: bool,
    pub ty: Option<TypeDesc>,
}

pub(crate) struct Compiler<'a, 'o> {
    pub file: Arc<SourceFile>,
    pub opts: &'o CompileOptions<'o>,
    pub res: Resolution,
    /// The functions being compiled, outermost first.
    pub fns: Vec<FunctionBuilder<'a>>,
    pub decls: Vec<Option<Decl>>,
    /// Top-level functions by name.
    pub functions: HashMap<&'a str, (u32, u16)>,
    /// Their declarations, for compile-time checks of literal arguments.
    pub function_decls: HashMap<&'a str, &'a FunctionDecl<'a>>,
    /// Top-level functions declared `异步`: a call starts a task, so it goes through `Call`.
    pub async_functions: std::collections::HashSet<&'a str>,
    pub types: HashMap<&'a str, TypeInfo<'a>>,
    /// `方法` blocks for types that earlier REPL entries declared, in order.
    pub extensions: Vec<ExtensionInfo<'a>>,
    pub globals: Vec<GlobalInfo>,
    /// Module globals by name, as seen from inside functions (the last declaration wins).
    pub global_vars: HashMap<&'a str, GlobalVar>,
    /// Module globals declared so far by the top-level code, as the top level sees them.
    pub toplevel_vars: HashMap<&'a str, GlobalVar>,
    pub imports: Vec<ImportInfo>,
    pub entry: Option<u32>,
    /// The top-level code, once compiled.
    pub main: Option<Arc<FunctionProto>>,
    /// Type parameters in scope (`枚举 选项<T>`, `函数 f<T>`): annotations naming them
    /// check nothing (QI-LANGUAGE.md §5: accepted, unchecked).
    pub type_params: Vec<&'a str>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl<'a, 'o> Compiler<'a, 'o> {
    fn new(file: &Arc<SourceFile>, opts: &'o CompileOptions<'o>, res: Resolution) -> Self {
        Compiler {
            file: file.clone(),
            opts,
            res,
            fns: Vec::new(),
            decls: Vec::new(),
            functions: HashMap::new(),
            function_decls: HashMap::new(),
            async_functions: std::collections::HashSet::new(),
            types: HashMap::new(),
            extensions: Vec::new(),
            globals: Vec::new(),
            global_vars: HashMap::new(),
            toplevel_vars: HashMap::new(),
            imports: Vec::new(),
            entry: None,
            main: None,
            type_params: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    pub fn diag(&self, code: Code, span: Span) -> Diagnostic {
        Diagnostic::new(code, &self.file, span)
    }

    /// The function being compiled.
    pub fn f(&mut self) -> &mut FunctionBuilder<'a> {
        let last = self.fns.len() - 1;
        &mut self.fns[last]
    }

    pub fn fref(&self) -> &FunctionBuilder<'a> {
        &self.fns[self.fns.len() - 1]
    }

    /// Whether the code being compiled is the file's top-level code itself (not a
    /// function declared at top level, nor a closure).
    pub fn in_toplevel_code(&self) -> bool {
        self.fns.len() == 1 && self.fns[0].kind == FunctionKind::TopLevel
    }

    fn finish(mut self) -> Result<Compiled, Vec<Diagnostic>> {
        if !self.errors.is_empty() {
            self.errors
                .sort_by_key(|d| d.location.as_ref().map(|(_, s)| s.start));
            let mut all = self.errors;
            all.extend(self.warnings);
            return Err(all);
        }
        let main = self.main.take();
        let decls = self
            .decls
            .into_iter()
            .map(|d| d.expect("每个声明槽都已填好"))
            .collect();
        Ok(Compiled {
            module: ModuleProto {
                name: self.opts.module_name.into(),
                file: self.file,
                main: main.expect("顶层代码已编译"),
                decls,
                globals: self.globals,
                imports: self.imports,
                entry: self.entry,
                exports_all: self.opts.repl,
                extensions: self
                    .extensions
                    .into_iter()
                    .map(|e| Extension {
                        import: e.import,
                        type_name: e.target.into(),
                        methods: e.protos,
                    })
                    .collect(),
            },
            warnings: self.warnings,
        })
    }

    // ---- the module -----------------------------------------------------------------

    fn module(&mut self, program: &'a Program<'a>) {
        self.declare_items(program);
        self.compile_items(program);
        self.compile_toplevel(program);
    }

    /// Pass one: give every top-level declaration its slot, so all of them are visible
    /// everywhere in the file.
    fn declare_items(&mut self, program: &'a Program<'a>) {
        for stmt in program.stmts {
            match stmt.kind {
                StmtKind::Function(f) => self.declare_function(f),
                StmtKind::Struct(s) => self.declare_struct(s),
                StmtKind::Enum(e) => self.declare_enum(e),
                StmtKind::Let(decl) if self.res.global_vars.contains(&decl.name.span.start) => {
                    let ty = decl.ty.map(|t| self.type_desc(t));
                    let slot = match self.global_vars.get(decl.name.name) {
                        Some(g) => g.slot,
                        None => {
                            self.globals.push(GlobalInfo {
                                name: decl.name.name.into(),
                                public: decl.public,
                                mutable: decl.mutable,
                                ty: ty.clone(),
                            });
                            self.globals.len() as u32 - 1
                        }
                    };
                    let info = &mut self.globals[slot as usize];
                    info.public |= decl.public;
                    info.mutable = decl.mutable;
                    info.ty = ty.clone();
                    self.global_vars.insert(
                        decl.name.name,
                        GlobalVar {
                            slot,
                            mutable: decl.mutable,
                            ty,
                        },
                    );
                }
                StmtKind::Import(imp) => self.declare_import(imp, stmt.span),
                _ => {}
            }
        }
        // Methods last: their target types must all be known.
        for stmt in program.stmts {
            if let StmtKind::Methods(m) = stmt.kind {
                self.declare_methods(m);
            }
        }
    }

    fn declare_function(&mut self, f: &'a FunctionDecl<'a>) {
        if !self.check_unique(f.name) {
            return;
        }
        let slot = self.new_decl();
        self.functions
            .insert(f.name.name, (slot, f.params.len() as u16));
        self.function_decls.insert(f.name.name, f);
        if f.is_async {
            self.async_functions.insert(f.name.name);
        }
        if f.name.name == "入口" {
            self.entry = Some(slot);
            if !f.params.is_empty() {
                let d = self
                    .diag(Code::E3006, f.name.span)
                    .with_detail("：「入口」不接受参数")
                    .with_hint("程序的参数用 参数() 取得");
                self.error(d);
            }
        }
    }

    fn declare_struct(&mut self, s: &'a StructDecl<'a>) {
        if !self.check_unique(s.name) {
            return;
        }
        let slot = self.new_decl();
        let fields = self.struct_fields(s);
        self.types.insert(
            s.name.name,
            TypeInfo::Struct {
                slot,
                fields,
                methods: HashMap::new(),
            },
        );
    }

    fn declare_enum(&mut self, e: &'a EnumDecl<'a>) {
        if !self.check_unique(e.name) {
            return;
        }
        let slot = self.new_decl();
        let mut variants: Vec<(&'a str, u16)> = Vec::new();
        for v in e.variants {
            if variants.iter().any(|(n, _)| *n == v.name.name) {
                let d = self
                    .diag(Code::E3003, v.name.span)
                    .with_detail(format!("：变体「{}」", v.name.name));
                self.error(d);
                continue;
            }
            variants.push((v.name.name, v.fields.len() as u16));
        }
        self.types.insert(
            e.name.name,
            TypeInfo::Enum {
                slot,
                variants,
                methods: HashMap::new(),
            },
        );
    }

    fn check_unique(&mut self, name: Ident<'a>) -> bool {
        if self.functions.contains_key(name.name) || self.types.contains_key(name.name) {
            let d = self
                .diag(Code::E3003, name.span)
                .with_detail(format!("「{}」", name.name))
                .with_hint("同一个文件里，函数、结构体和枚举的名字不能重复");
            self.error(d);
            return false;
        }
        true
    }

    fn new_decl(&mut self) -> u32 {
        self.decls.push(None);
        self.decls.len() as u32 - 1
    }

    fn struct_fields(&mut self, s: &'a StructDecl<'a>) -> Vec<(&'a str, Option<TypeDesc>)> {
        let mut fields: Vec<(&'a str, Option<TypeDesc>)> = Vec::with_capacity(s.fields.len());
        // A set, not a search of the list so far: that was quadratic (a struct with 70,000
        // fields took 6.8 s to check).
        let mut seen = std::collections::HashSet::with_capacity(s.fields.len());
        for f in s.fields {
            if !seen.insert(f.name.name) {
                let d = self
                    .diag(Code::E3003, f.name.span)
                    .with_detail(format!("：字段「{}」", f.name.name));
                self.error(d);
                continue;
            }
            // Annotations are resolved in pass two, when every type of the file is known.
            fields.push((f.name.name, None));
        }
        fields
    }

    /// Brings type parameters into scope; returns the mark to truncate back to.
    pub fn push_type_params(&mut self, params: &'a [Ident<'a>]) -> usize {
        let mark = self.type_params.len();
        self.type_params.extend(params.iter().map(|p| p.name));
        mark
    }

    /// Pass two for a struct: its field annotations, now that every type is declared.
    fn resolve_field_types(&mut self, s: &'a StructDecl<'a>) {
        let mark = self.push_type_params(s.type_params);
        let resolved: Vec<(&'a str, Option<TypeDesc>)> = s
            .fields
            .iter()
            .map(|f| (f.name.name, f.ty.map(|t| self.type_desc(t))))
            .collect();
        self.type_params.truncate(mark);
        if let Some(TypeInfo::Struct { fields, .. }) = self.types.get_mut(s.name.name) {
            let index: HashMap<&str, usize> = fields
                .iter()
                .enumerate()
                .map(|(i, (n, _))| (*n, i))
                .collect();
            for (name, ty) in resolved {
                if let Some(&i) = index.get(name) {
                    fields[i].1 = ty;
                }
            }
        }
    }

    fn declare_import(&mut self, imp: &'a Import<'a>, span: Span) {
        let binding = imp.binding();
        self.imports.push(ImportInfo {
            path: imp.path.into(),
            relative: imp.kind == ImportKind::Relative,
            segments: imp.segments.iter().map(|s| Arc::from(*s)).collect(),
            span,
            repl_entry: None,
        });
        if binding.is_empty() {
            return;
        }
        let slot = match self.global_vars.get(binding) {
            Some(g) => g.slot,
            None => {
                self.globals.push(GlobalInfo {
                    name: binding.into(),
                    public: false,
                    mutable: false,
                    ty: None,
                });
                self.globals.len() as u32 - 1
            }
        };
        let var = GlobalVar {
            slot,
            mutable: false,
            ty: None,
        };
        self.global_vars.insert(binding, var.clone());
        self.toplevel_vars.insert(binding, var);
    }

    fn declare_methods(&mut self, m: &'a MethodsDecl<'a>) {
        let target = m.target.name;
        if BUILTIN_TYPES.contains(&target) {
            let d = self
                .diag(Code::E3014, m.target.span)
                .with_detail(format!("「{target}」"))
                .with_hint("内置类型的方法由标准库提供；可以写一个普通函数代替");
            self.error(d);
            return;
        }
        if !self.types.contains_key(target) {
            if let Some(o) = self.outer(target)
                && let OuterKind::Type = o.kind
            {
                self.declare_extension(m, o.entry);
                return;
            }
            let hint = if self.opts.repl {
                "「方法」块的类型要先声明：在这次输入里，或之前的输入里"
            } else {
                "「方法」块要跟在同一文件的结构体或枚举之后使用"
            };
            let d = self
                .diag(Code::E3002, m.target.span)
                .with_detail(format!("：类型「{target}」"))
                .with_hint(hint);
            self.error(d);
            return;
        }
        for f in m.methods {
            let uses_self = self.res.self_used.contains(&f.span.start);
            let exists = self
                .types
                .get(target)
                .is_some_and(|t| t.methods().contains_key(f.name.name));
            if exists {
                let d = self
                    .diag(Code::E3003, f.name.span)
                    .with_detail(format!("：方法「{}.{}」", target, f.name.name));
                self.error(d);
                continue;
            }
            let slot = self.new_decl();
            let info = MethodInfo {
                slot,
                uses_self,
                arity: f.params.len() as u16,
            };
            match self.types.get_mut(target) {
                Some(TypeInfo::Struct { methods, .. } | TypeInfo::Enum { methods, .. }) => {
                    methods.insert(f.name.name, info);
                }
                None => {}
            }
        }
    }

    /// A REPL entry's `方法` block for a type an earlier entry (`entry`) declared: its
    /// methods get slots here, and the loader adds them to that type. A method it already
    /// has is replaced for the code that comes after, as a redefined function is.
    fn declare_extension(&mut self, m: &'a MethodsDecl<'a>, entry: u32) {
        let target = m.target.name;
        let import = self.outer_import(entry);
        let index = match self.extensions.iter().position(|e| e.target == target) {
            Some(i) => i,
            None => {
                self.extensions.push(ExtensionInfo {
                    target,
                    import,
                    methods: HashMap::new(),
                    protos: Vec::new(),
                });
                self.extensions.len() - 1
            }
        };
        for f in m.methods {
            if self.extensions[index].methods.contains_key(f.name.name) {
                let d = self
                    .diag(Code::E3003, f.name.span)
                    .with_detail(format!("：方法「{}.{}」", target, f.name.name));
                self.error(d);
                continue;
            }
            let info = MethodInfo {
                slot: self.new_decl(),
                uses_self: self.res.self_used.contains(&f.span.start),
                arity: f.params.len() as u16,
            };
            self.extensions[index].methods.insert(f.name.name, info);
        }
    }

    /// Pass two: compile every top-level function, type and method into its slot.
    fn compile_items(&mut self, program: &'a Program<'a>) {
        for stmt in program.stmts {
            match stmt.kind {
                StmtKind::Function(f) => {
                    let Some(&(slot, _)) = self.functions.get(f.name.name) else {
                        continue;
                    };
                    if self.decls[slot as usize].is_some() {
                        continue; // a duplicate, already reported
                    }
                    let proto = self.function(f, f.name.name.into(), FunctionKind::Function, false);
                    self.decls[slot as usize] = Some(Decl::Function {
                        proto,
                        public: f.public,
                    });
                }
                StmtKind::Struct(s) => {
                    self.resolve_field_types(s);
                    if let Some(TypeInfo::Struct { slot, fields, .. }) =
                        self.types.get(s.name.name).cloned()
                        && self.decls[slot as usize].is_none()
                    {
                        self.decls[slot as usize] = Some(Decl::Struct(StructInfo {
                            name: s.name.name.into(),
                            public: s.public,
                            fields: fields.into_iter().map(|(n, t)| (n.into(), t)).collect(),
                            methods: Vec::new(),
                        }));
                    }
                }
                StmtKind::Enum(e) => {
                    if let Some(TypeInfo::Enum { slot, variants, .. }) =
                        self.types.get(e.name.name).cloned()
                        && self.decls[slot as usize].is_none()
                    {
                        let mark = self.push_type_params(e.type_params);
                        let payload_types = e
                            .variants
                            .iter()
                            .map(|v| v.fields.iter().map(|t| Some(self.type_desc(t))).collect())
                            .collect();
                        self.type_params.truncate(mark);
                        self.decls[slot as usize] = Some(Decl::Enum(EnumInfo {
                            name: e.name.name.into(),
                            public: e.public,
                            variants: variants.into_iter().map(|(n, a)| (n.into(), a)).collect(),
                            payload_types,
                            methods: Vec::new(),
                        }));
                    }
                }
                _ => {}
            }
        }
        for stmt in program.stmts {
            if let StmtKind::Methods(m) = stmt.kind {
                self.compile_methods(m);
            }
        }
    }

    fn compile_methods(&mut self, m: &'a MethodsDecl<'a>) {
        let Some(info) = self.types.get(m.target.name).cloned() else {
            self.compile_extension(m);
            return;
        };
        let type_slot = match &info {
            TypeInfo::Struct { slot, .. } | TypeInfo::Enum { slot, .. } => *slot,
        };
        for f in m.methods {
            let Some(method) = info.methods().get(f.name.name).cloned() else {
                continue;
            };
            let Some(proto) = self.compile_method(m, f, &method) else {
                continue;
            };
            match &mut self.decls[type_slot as usize] {
                Some(Decl::Struct(s)) => s.methods.push(proto),
                Some(Decl::Enum(e)) => e.methods.push(proto),
                _ => {}
            }
        }
    }

    /// One method of block `m` into its slot (`None` if it is there already: a duplicate,
    /// reported when it was declared).
    fn compile_method(
        &mut self,
        m: &'a MethodsDecl<'a>,
        f: &'a FunctionDecl<'a>,
        method: &MethodInfo,
    ) -> Option<Arc<FunctionProto>> {
        if self.decls[method.slot as usize].is_some() {
            return None;
        }
        let name: Arc<str> = format!("{}.{}", m.target.name, f.name.name).into();
        let mark = self.push_type_params(m.type_params);
        let proto = self.function(f, name, FunctionKind::Method, method.uses_self);
        self.type_params.truncate(mark);
        self.decls[method.slot as usize] = Some(Decl::Function {
            proto: proto.clone(),
            public: false,
        });
        Some(proto)
    }

    /// The methods of a `方法` block for an earlier entry's type (`declare_extension`).
    fn compile_extension(&mut self, m: &'a MethodsDecl<'a>) {
        let Some(index) = self
            .extensions
            .iter()
            .position(|e| e.target == m.target.name)
        else {
            return;
        };
        for f in m.methods {
            let Some(method) = self.extensions[index].methods.get(f.name.name).cloned() else {
                continue;
            };
            if let Some(proto) = self.compile_method(m, f, &method) {
                self.extensions[index].protos.push(proto);
            }
        }
    }

    /// Pass three: the top-level statements, in order.
    fn compile_toplevel(&mut self, program: &'a Program<'a>) {
        let span = program.span;
        self.fns.push(FunctionBuilder::new(
            "<顶层>".into(),
            FunctionKind::TopLevel,
            span,
        ));
        self.f().begin_scope();
        let task_blocks = self.res.toplevel_task_blocks;
        self.f().reserve_task_caches(task_blocks);
        let mut import_index = 0u32;
        let shown = self.opts.repl.then(|| shown_value(program)).flatten();
        for stmt in program.stmts {
            if let StmtKind::Import(imp) = stmt.kind {
                self.import(imp, import_index, stmt.span);
                import_index += 1;
                continue;
            }
            if let Some(e) = shown
                && std::ptr::eq(stmt, &program.stmts[program.stmts.len() - 1])
            {
                // The REPL shows the value of a final expression: return it.
                let r = self.expr_reg(e);
                self.f().op(Op::Return, r, 0, 0, e.span);
                continue;
            }
            self.stmt(stmt);
        }
        let end = Span::new(span.end, span.end);
        self.f().op(Op::ReturnNil, 0, 0, 0, end);
        self.check_overflow(span);
        let builder = self.fns.pop().expect("顶层函数");
        self.main = Some(Arc::new(builder.finish(&self.file, self.opts.hidden)));
    }

    fn import(&mut self, imp: &'a Import<'a>, index: u32, span: Span) {
        let binding = imp.binding();
        let Some(var) = self.global_vars.get(binding).cloned() else {
            return;
        };
        let r = self.f().alloc();
        self.f().op_bx(Op::Import, r, index, span);
        self.f().op_bx(Op::DefGlobal, r, var.slot, span);
        self.f().free_to(r);
    }

    /// Reports a function that needs more registers or constants than the format allows.
    pub fn check_overflow(&mut self, span: Span) {
        if self.fref().overflowed {
            let d = self
                .diag(Code::E2003, span)
                .with_detail("：函数太大（寄存器或常量超过 65535 个）")
                .with_hint("把这个函数拆成几个小函数");
            self.error(d);
        }
    }
}
