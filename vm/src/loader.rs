//! Loading programs: reading, compiling, verifying and linking files and their imports.
//!
//! Imports are resolved before anything runs, so a missing file (E4001) or an import cycle
//! (E4003) is reported like a compile error. Each file is loaded once per VM, keyed by its
//! canonical path; its top level runs at its first `导入`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use bumpalo::Bump;
use qi_bytecode::compiler::{self, CompileOptions};
use qi_bytecode::diagnostic::{Code, Diagnostic};
use qi_bytecode::opcode::Op;
use qi_bytecode::proto::{Constant, Decl, FunctionProto, ModuleProto};
use qi_bytecode::source::SourceFile;

use crate::object::module::ModuleParts;
use crate::object::*;
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Shared;

/// A loaded program: its main module and the warnings compiling it gave.
pub struct Loaded {
    pub module: Arc<ModuleObj>,
    pub warnings: Vec<Diagnostic>,
}

/// Reads a source file as given on the command line (E8001 when missing, E1007 when not
/// UTF-8).
pub fn read_source(path: &str) -> Result<Arc<SourceFile>, Diagnostic> {
    match std::fs::read(path) {
        Ok(bytes) => SourceFile::from_bytes(path, bytes),
        Err(e) => {
            let code = match e.kind() {
                std::io::ErrorKind::NotFound => Code::E8001,
                std::io::ErrorKind::PermissionDenied => Code::E8002,
                _ => Code::E8099,
            };
            Err(Diagnostic::bare(code).with_detail(format!("：{path}")))
        }
    }
}

/// Parses and compiles one file; every diagnostic on failure.
pub fn compile_source(
    shared: &Shared,
    file: &Arc<SourceFile>,
    module_name: &str,
    repl: bool,
    hidden: bool,
) -> Result<(ModuleProto, Vec<Diagnostic>), Vec<Diagnostic>> {
    compile_with(shared, file, module_name, repl, hidden, None)
}

/// Names of earlier REPL entries, for the compiler.
pub type OuterNames<'o> = &'o compiler::OuterLookup<'o>;

fn compile_with(
    shared: &Shared,
    file: &Arc<SourceFile>,
    module_name: &str,
    repl: bool,
    hidden: bool,
    outer: Option<OuterNames<'_>>,
) -> Result<(ModuleProto, Vec<Diagnostic>), Vec<Diagnostic>> {
    let arena = Bump::new();
    let parsed = qi_bytecode::parser::parse(&arena, file);
    if parsed.diagnostics.iter().any(|d| !d.is_warning()) {
        return Err(parsed.diagnostics);
    }
    let is_builtin = |name: &str| shared.is_builtin(name);
    let options = CompileOptions {
        is_builtin: &is_builtin,
        repl,
        hidden,
        module_name,
        outer,
    };
    let mut warnings = parsed.diagnostics;
    match compiler::compile(&parsed.program, file, &options) {
        Ok(c) => {
            warnings.extend(c.warnings);
            Ok((c.module, warnings))
        }
        Err(mut diags) => {
            diags.extend(warnings);
            Err(diags)
        }
    }
}

/// Loads the program at `path` and everything it imports.
pub fn load_main(shared: &Shared, path: &str) -> Result<Loaded, Vec<Diagnostic>> {
    let file = read_source(path).map_err(|d| vec![d])?;
    let mut loader = Loader {
        shared,
        stack: Vec::new(),
        warnings: Vec::new(),
        entries: &[],
    };
    let canonical = canonical(Path::new(path));
    let module = loader.load_file(file, canonical, "主程序".into())?;
    Ok(Loaded {
        module,
        warnings: loader.warnings,
    })
}

/// Compiles and links source text that has no file of its own (REPL entries, prelude).
pub fn load_text(
    shared: &Shared,
    file: Arc<SourceFile>,
    module_name: &str,
    repl: bool,
    hidden: bool,
) -> Result<Loaded, Vec<Diagnostic>> {
    let (proto, warnings) = compile_source(shared, &file, module_name, repl, hidden)?;
    let mut loader = Loader {
        shared,
        stack: Vec::new(),
        warnings,
        entries: &[],
    };
    let module = loader.link_with_imports(proto, module_name.into(), None)?;
    shared.anonymous_modules.lock().push(module.clone());
    Ok(Loaded {
        module,
        warnings: loader.warnings,
    })
}

/// Compiles and links one REPL entry: `outer` says what earlier entries defined, and
/// `entries[n]` is entry `n`, linked in wherever this one uses its names.
pub fn load_entry(
    shared: &Shared,
    file: Arc<SourceFile>,
    outer: OuterNames<'_>,
    entries: &[Arc<ModuleObj>],
) -> Result<Loaded, Vec<Diagnostic>> {
    let (proto, warnings) = compile_with(shared, &file, "交互", true, false, Some(outer))?;
    let mut loader = Loader {
        shared,
        stack: Vec::new(),
        warnings,
        entries,
    };
    let module = loader.link_with_imports(proto, "交互".into(), None)?;
    Ok(Loaded {
        module,
        warnings: loader.warnings,
    })
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

struct Loader<'s> {
    shared: &'s Shared,
    /// Canonical paths of the files being loaded, outermost first (cycle detection).
    stack: Vec<PathBuf>,
    warnings: Vec<Diagnostic>,
    /// Earlier REPL entries, by number.
    entries: &'s [Arc<ModuleObj>],
}

impl Loader<'_> {
    fn load_file(
        &mut self,
        file: Arc<SourceFile>,
        canonical: PathBuf,
        name: Arc<str>,
    ) -> Result<Arc<ModuleObj>, Vec<Diagnostic>> {
        if let Some(m) = self.shared.modules.lock().get(&canonical) {
            return Ok(m.clone());
        }
        let (proto, warnings) = compile_source(self.shared, &file, &name, false, false)?;
        self.warnings.extend(warnings);
        self.stack.push(canonical.clone());
        let result = self.link_with_imports(proto, name, Some(&canonical));
        self.stack.pop();
        let module = result?;
        self.shared.modules.lock().insert(canonical, module.clone());
        Ok(module)
    }

    /// Links a compiled module after loading every module it imports.
    fn link_with_imports(
        &mut self,
        proto: ModuleProto,
        name: Arc<str>,
        canonical: Option<&Path>,
    ) -> Result<Arc<ModuleObj>, Vec<Diagnostic>> {
        let proto = Arc::new(proto);
        if let Err(e) = qi_bytecode::verify::verify_module(&proto) {
            let d = Diagnostic::bare(Code::E7000)
                .with_message(format!("内部错误：字节码校验失败：{e}"));
            return Err(vec![d]);
        }
        let mut imports = Vec::with_capacity(proto.imports.len());
        let mut errors = Vec::new();
        for imp in &proto.imports {
            match self.import(&proto, imp, canonical) {
                Ok(m) => imports.push(m),
                Err(mut d) => errors.append(&mut d),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(link(self.shared, proto, name, imports.into_boxed_slice()))
    }

    fn import(
        &mut self,
        importer: &ModuleProto,
        imp: &qi_bytecode::proto::ImportInfo,
        canonical: Option<&Path>,
    ) -> Result<Value, Vec<Diagnostic>> {
        let at = |code: Code, detail: String| {
            vec![Diagnostic::new(code, &importer.file, imp.span).with_detail(detail)]
        };
        if let Some(n) = imp.repl_entry {
            return match self.entries.get(n as usize) {
                Some(m) => Ok(Value::object(m.clone())),
                None => Err(at(Code::E4001, format!("「{}」", imp.path))),
            };
        }
        if !imp.relative {
            let name = imp.segments.join(".");
            return match self.shared.native_modules.get(name.as_str()) {
                Some(m) => Ok(m.clone()),
                None => Err(at(Code::E4001, format!("「{}」", imp.path))
                    .into_iter()
                    .map(|d| d.with_hint("标准模块有 数学 和 哈希；导入文件要以 ./ 或 ../ 开头"))
                    .collect()),
            };
        }
        // Relative to the importing file, as the user wrote both paths.
        let dir = Path::new(&importer.file.path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut shown = dir.clone();
        for seg in imp.segments.iter() {
            match &**seg {
                "." => {}
                ".." => shown.push(".."),
                s => shown.push(s),
            }
        }
        shown.set_extension("qi");
        let shown_str = shown.to_string_lossy().to_string();
        let base = canonical.and_then(Path::parent).map(Path::to_path_buf);
        let real = match base {
            Some(b) => {
                let mut p = b;
                for seg in imp.segments.iter() {
                    p.push(&**seg);
                }
                p.set_extension("qi");
                p
            }
            None => shown.clone(),
        };
        if !real.is_file() {
            return Err(at(
                Code::E4001,
                format!("「{}」：找不到文件 {}", imp.path, shown_str),
            ));
        }
        let real = canonical_path(&real);
        if self.stack.contains(&real) {
            let chain: Vec<String> = self
                .stack
                .iter()
                .skip_while(|p| **p != real)
                .map(|p| stem(p))
                .chain(std::iter::once(stem(&real)))
                .collect();
            return Err(at(Code::E4003, format!("：{}", chain.join(" → "))));
        }
        let file = read_source(&shown_str).map_err(|d| vec![d])?;
        let name: Arc<str> = imp
            .segments
            .last()
            .map_or_else(|| Arc::from("模块"), |s| s.clone());
        self.load_file(file, real, name).map(Value::object)
    }
}

fn canonical_path(p: &Path) -> PathBuf {
    canonical(p)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Turns a compiled module into a live one: functions, types, exports.
pub fn link(
    shared: &Shared,
    proto: Arc<ModuleProto>,
    name: Arc<str>,
    imports: Box<[Value]>,
) -> Arc<ModuleObj> {
    // Which of its functions return only scalars, for `FunctionInfo::scalar_frame`.
    let returns = qi_bytecode::kinds::scalar_returns(&proto);
    let module = Arc::new_cyclic(|weak| {
        let parts = ModuleParts {
            decls: link_decls(shared, &proto, weak, &returns),
            main: Value::new(Closure {
                info: link_function(shared, &proto.main, weak, &returns),
                upvalues: Default::default(),
            }),
            imports,
            exports: exports(&proto),
        };
        ModuleObj::new(name, proto, parts)
    });
    // The slots are in place now and never move or change again.
    let infos = module
        .decls
        .iter()
        .chain(std::iter::once(&module.main))
        .filter_map(|v| v.as_obj::<Closure>());
    for closure in infos {
        closure.info.set_decl_slots(&module.decls);
    }
    extend_earlier_types(&module);
    module
}

/// Adds a REPL entry's methods for types that earlier entries declared to those types
/// (`ModuleProto::extensions`): each method is the closure in its own slot.
fn extend_earlier_types(module: &ModuleObj) {
    let Some(proto) = &module.proto else {
        return;
    };
    for ext in &proto.extensions {
        let Some(ty) = module
            .imports
            .get(ext.import as usize)
            .and_then(|m| m.as_obj::<ModuleObj>())
            .and_then(|m| m.export(Symbol::intern(&ext.type_name)))
        else {
            continue;
        };
        let methods: HashMap<Symbol, Value> = ext
            .methods
            .iter()
            .filter_map(|m| {
                let slot = proto.decls.iter().position(
                    |d| matches!(d, Decl::Function { proto: p, .. } if Arc::ptr_eq(p, m)),
                )?;
                let short = m.name.rsplit('.').next().unwrap_or(&m.name);
                Some((Symbol::intern(short), module.decls.get(slot)?.clone()))
            })
            .collect();
        if let Some(t) = ty.as_obj::<StructType>() {
            t.methods.extend(methods);
        } else if let Some(t) = ty.as_obj::<EnumType>() {
            t.methods.extend(methods);
        }
    }
}

/// The declaration slots: closures for functions and methods, type values for structs
/// and enums (with their method tables).
fn link_decls(
    shared: &Shared,
    proto: &ModuleProto,
    weak: &Weak<ModuleObj>,
    returns: &[bool],
) -> Box<[Value]> {
    let mut decls: Vec<Value> = Vec::with_capacity(proto.decls.len());
    for d in &proto.decls {
        decls.push(match d {
            Decl::Function { proto: f, .. } => Value::new(Closure {
                info: link_function(shared, f, weak, returns),
                upvalues: Default::default(),
            }),
            Decl::Struct(s) => Value::new(StructType {
                name: s.name.clone(),
                fields: s
                    .fields
                    .iter()
                    .map(|(n, t)| (Symbol::intern(n), t.clone()))
                    .collect(),
                methods: Default::default(),
            }),
            Decl::Enum(e) => Value::new(EnumType {
                name: e.name.clone(),
                variants: e
                    .variants
                    .iter()
                    .map(|(n, a)| (Symbol::intern(n), *a))
                    .collect(),
                payload_types: e
                    .payload_types
                    .iter()
                    .map(|t| t.clone().into_boxed_slice())
                    .collect(),
                methods: Default::default(),
            }),
        });
    }
    // Methods: the closure in each method's own slot, by its short name.
    let method_value = |m: &Arc<FunctionProto>| -> Option<(Symbol, Value)> {
        let slot = proto
            .decls
            .iter()
            .position(|d| matches!(d, Decl::Function { proto: p, .. } if Arc::ptr_eq(p, m)))?;
        let short = m.name.rsplit('.').next().unwrap_or(&m.name);
        Some((Symbol::intern(short), decls[slot].clone()))
    };
    for (i, d) in proto.decls.iter().enumerate() {
        match d {
            Decl::Struct(s) => {
                let methods: HashMap<Symbol, Value> =
                    s.methods.iter().filter_map(method_value).collect();
                if let Some(t) = decls[i].as_obj::<StructType>() {
                    t.methods.set(methods);
                }
            }
            Decl::Enum(e) => {
                let methods: HashMap<Symbol, Value> =
                    e.methods.iter().filter_map(method_value).collect();
                if let Some(t) = decls[i].as_obj::<EnumType>() {
                    t.methods.set(methods);
                }
            }
            Decl::Function { .. } => {}
        }
    }
    decls.into_boxed_slice()
}

fn exports(proto: &ModuleProto) -> HashMap<Symbol, Export> {
    let mut exports = HashMap::new();
    for (i, d) in proto.decls.iter().enumerate() {
        if d.public() || proto.exports_all {
            exports.insert(Symbol::intern(d.name()), Export::Decl(i as u32));
        }
    }
    for (i, g) in proto.globals.iter().enumerate() {
        if g.public || proto.exports_all {
            exports.insert(Symbol::intern(&g.name), Export::Global(i as u32));
        }
    }
    exports
}

/// Links one function and, recursively, the closures it creates.
fn link_function(
    shared: &Shared,
    proto: &Arc<FunctionProto>,
    module: &Weak<ModuleObj>,
    returns: &[bool],
) -> Arc<FunctionInfo> {
    let mut consts: Box<[Value]> = proto
        .consts
        .iter()
        .map(|c| match c {
            Constant::Int(n) => Value::int(*n),
            Constant::Float(x) => Value::float(*x),
            Constant::Str(s) => Value::new(StrObj::new(&**s)),
            _ => Value::NIL,
        })
        .collect();
    // A `GetBuiltin` of a built-in written in Rust reads it from the constants, resolved
    // here once: the built-ins are fixed when the VM is built. (Built-ins written in Qi
    // are left to the lookup: a function holding its own closure would be a cycle.)
    for ins in proto.code.iter().filter(|i| i.op == Op::GetBuiltin) {
        let k = ins.bx() as usize;
        if let (Some(Constant::Name(n)), Some(slot)) = (proto.consts.get(k), consts.get_mut(k))
            && let Some(v) = shared.native_builtin(Symbol::intern(n))
            && v.tag() == crate::value::Tag::Native
        {
            *slot = v.clone();
        }
    }
    let syms = proto
        .consts
        .iter()
        .map(|c| match c {
            Constant::Name(n) => Symbol::intern(n),
            _ => Symbol(0),
        })
        .collect();
    let protos = proto
        .protos
        .iter()
        .map(|p| link_function(shared, p, module, returns))
        .collect();
    Arc::new(FunctionInfo::new(
        proto.clone(),
        module.clone(),
        consts,
        syms,
        protos,
        qi_bytecode::kinds::scalar_registers(proto, returns),
    ))
}

/// `source` compiled and linked as module 测试 in a VM without a prelude, for unit tests.
#[cfg(test)]
pub fn test_module(source: &str) -> Arc<ModuleObj> {
    let Ok(shared) = crate::vm::VmBuilder::new().build() else {
        panic!("an empty VM builds");
    };
    let file = SourceFile::new("测试.qi", source);
    match load_text(&shared, file, "测试", false, false) {
        Ok(loaded) => loaded.module,
        Err(d) => panic!("compiles: {} diagnostics", d.len()),
    }
}

#[cfg(test)]
mod tests {
    use crate::object::{Closure, FunctionInfo, StructType};

    fn assert_points_at(info: &FunctionInfo, slots: *const crate::value::Value) {
        assert_eq!(info.decl_slots(), slots, "{}", info.proto.name);
        for nested in &info.protos {
            assert_points_at(nested, slots);
        }
    }

    /// `CallDecl` reads the callee through `FunctionInfo::decl_slots`: every function of
    /// a linked module — top level, declared functions, methods and the closures nested
    /// in them — points at that module's slots.
    #[test]
    fn every_function_of_a_module_points_at_its_declaration_slots() {
        let shared = match crate::vm::VmBuilder::new().build() {
            Ok(s) => s,
            Err(_) => panic!("an empty VM builds"),
        };
        let source = "函数 甲() { 返回 乙(); }\n\
                      函数 乙() { 变量 f = 函数() { 返回 甲; }; 返回 f; }\n\
                      结构体 点 { x: 整数 }\n\
                      方法 点 { 函数 长度() { 返回 函数() { 返回 自己.x; }; } }\n";
        let file = qi_bytecode::source::SourceFile::new("测试.qi", source);
        let module = match super::load_text(&shared, file, "测试", false, false) {
            Ok(loaded) => loaded.module,
            Err(d) => panic!("compiles: {} diagnostics", d.len()),
        };
        let slots = module.decls.as_ptr();
        let mut functions = 0;
        for v in module.decls.iter().chain(std::iter::once(&module.main)) {
            if let Some(c) = v.as_obj::<Closure>() {
                assert_points_at(&c.info, slots);
                functions += 1;
            }
            if let Some(t) = v.as_obj::<StructType>() {
                assert!(!t.methods.names().is_empty(), "linked");
            }
        }
        // 甲, 乙, 点.长度 and the top level.
        assert_eq!(functions, 4);
    }
}
