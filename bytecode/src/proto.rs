//! Compiled code: what the compiler produces and the VM links and runs.
//!
//! A [`ModuleProto`] is one compiled file: its top-level code, its declarations and its
//! imports. A [`FunctionProto`] is one function's bytecode with its constants, a span per
//! instruction (for errors and stack traces) and the protos of the closures it creates.

use std::sync::Arc;

use crate::opcode::Instr;
use crate::source::{SourceFile, Span};

/// A constant referenced by `K[n]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    /// A field, method or built-in name; the VM interns it when it links the function.
    Name(Arc<str>),
    /// A type annotation to check against.
    Type(TypeDesc),
    /// The field names of a struct literal, in the order its values are in registers.
    /// `ordered` is true when the compiler proved they are the type's declaration order.
    Fields {
        names: Vec<Arc<str>>,
        ordered: bool,
    },
    /// The cases of a `选择`, in order.
    Select(Vec<SelectCase>),
    /// A range pattern (`3..=9`).
    RangePattern {
        start: PatternLiteral,
        end: PatternLiteral,
        inclusive: bool,
    },
}

/// One case of a `选择`: which operand registers it uses, counted from the select's base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectCase {
    /// `情况 <-ch:` — one register (the channel).
    Recv,
    /// `情况 ch <- v:` — two registers (channel, value).
    Send,
    /// `情况 超时(毫秒):` — one register (the milliseconds).
    Timeout,
    /// `默认:` — none.
    Default,
}

impl SelectCase {
    pub fn operands(self) -> usize {
        match self {
            SelectCase::Recv | SelectCase::Timeout => 1,
            SelectCase::Send => 2,
            SelectCase::Default => 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PatternLiteral {
    Int(i64),
    Float(f64),
}

/// An annotation: the outer type only (QI-LANGUAGE.md §3: generic arguments are not checked).
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDesc {
    /// As written, for messages: `列表<整数>`.
    pub written: Arc<str>,
    pub kind: TypeKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    Any,
    Int,
    Float,
    Bool,
    Str,
    Nil,
    List,
    Dict,
    Function,
    Coroutine,
    Task,
    Channel,
    Ref,
    Error,
    Range,
    Module,
    /// A struct or enum, compared by name.
    Named(Arc<str>),
}

/// The kinds an instruction's hint can name: hint `n` is `HINTED[n - 1]`.
pub static HINTED: [TypeKind; 16] = [
    TypeKind::Any,
    TypeKind::Int,
    TypeKind::Float,
    TypeKind::Bool,
    TypeKind::Str,
    TypeKind::Nil,
    TypeKind::List,
    TypeKind::Dict,
    TypeKind::Function,
    TypeKind::Coroutine,
    TypeKind::Task,
    TypeKind::Channel,
    TypeKind::Ref,
    TypeKind::Error,
    TypeKind::Range,
    TypeKind::Module,
];

impl TypeKind {
    /// One byte that says which kind this is, for an instruction's hint: its place in
    /// [`HINTED`] plus one, or zero for a named type.
    pub fn hint(&self) -> u8 {
        HINTED
            .iter()
            .position(|k| k == self)
            .map_or(0, |i| i as u8 + 1)
    }
}

/// How a closure's upvalue `n` is found when the closure is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// The cell in register `r` of the creating frame.
    Local(u16),
    /// Upvalue `i` of the creating closure.
    Upvalue(u16),
}

/// What a function is, for stack traces and calling rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    /// A module's top-level code: `<顶层>`.
    TopLevel,
    Function,
    /// A method; `uses_self` on the proto tells whether `R[0]` is 自己.
    Method,
    Closure,
}

#[derive(Debug)]
pub struct FunctionProto {
    /// The name shown in stack traces and printed forms: `加法`, `点.长度`, `<匿名>`.
    pub name: Arc<str>,
    pub kind: FunctionKind,
    pub file: Arc<SourceFile>,
    /// The declaration's span (the whole function).
    pub span: Span,
    /// Parameters, not counting 自己.
    pub arity: u16,
    /// `异步 函数`: calling it starts a task.
    pub is_async: bool,
    /// `R[0]` is 自己 and the parameters follow it.
    pub uses_self: bool,
    /// Registers the frame needs (parameters included).
    pub num_regs: u16,
    pub code: Vec<Instr>,
    /// The source span of every instruction, `spans.len() == code.len()`.
    pub spans: Vec<Span>,
    pub consts: Vec<Constant>,
    /// Nested functions (closures) this one creates, by index for `Closure`.
    pub protos: Vec<Arc<FunctionProto>>,
    /// How to build this function's upvalues when a closure of it is made.
    pub captures: Vec<Capture>,
    /// For calls: the spans of each argument, so a parameter type error can point at the
    /// argument in the call. Sorted by pc.
    pub arg_spans: Vec<(u32, Vec<Span>)>,
    /// Hidden from stack traces (the Qi-written parts of the standard library).
    pub hidden: bool,
}

impl FunctionProto {
    /// The argument spans of the call at `pc`, if recorded.
    pub fn arg_span(&self, pc: u32, index: usize) -> Option<Span> {
        let i = self.arg_spans.binary_search_by_key(&pc, |(p, _)| *p).ok()?;
        self.arg_spans[i].1.get(index).copied()
    }
}

/// A struct declaration.
#[derive(Debug)]
pub struct StructInfo {
    pub name: Arc<str>,
    pub public: bool,
    pub fields: Vec<(Arc<str>, Option<TypeDesc>)>,
    pub methods: Vec<Arc<FunctionProto>>,
}

/// An enum declaration.
#[derive(Debug)]
pub struct EnumInfo {
    pub name: Arc<str>,
    pub public: bool,
    /// Each variant's name and payload arity.
    pub variants: Vec<(Arc<str>, u16)>,
    /// Each variant's payload annotations (checked, with 整数 widening to 浮点数).
    pub payload_types: Vec<Vec<Option<TypeDesc>>>,
    pub methods: Vec<Arc<FunctionProto>>,
}

/// What occupies one declaration slot `D[n]`.
#[derive(Debug)]
pub enum Decl {
    Function {
        proto: Arc<FunctionProto>,
        public: bool,
    },
    Struct(StructInfo),
    Enum(EnumInfo),
}

impl Decl {
    pub fn name(&self) -> &Arc<str> {
        match self {
            Decl::Function { proto, .. } => &proto.name,
            Decl::Struct(s) => &s.name,
            Decl::Enum(e) => &e.name,
        }
    }

    pub fn public(&self) -> bool {
        match self {
            Decl::Function { public, .. } => *public,
            Decl::Struct(s) => s.public,
            Decl::Enum(e) => e.public,
        }
    }
}

/// A module variable slot `G[n]`.
#[derive(Debug, Clone)]
pub struct GlobalInfo {
    pub name: Arc<str>,
    pub public: bool,
    pub mutable: bool,
    pub ty: Option<TypeDesc>,
}

/// An import as the loader must satisfy it.
#[derive(Debug, Clone)]
pub struct ImportInfo {
    /// As written: `./工具`.
    pub path: Arc<str>,
    pub relative: bool,
    pub segments: Vec<Arc<str>>,
    pub span: Span,
    /// An earlier REPL entry rather than a file or standard module.
    pub repl_entry: Option<u32>,
}

/// One compiled file.
#[derive(Debug)]
pub struct ModuleProto {
    pub name: Arc<str>,
    pub file: Arc<SourceFile>,
    /// The top-level statements, run once.
    pub main: Arc<FunctionProto>,
    pub decls: Vec<Decl>,
    pub globals: Vec<GlobalInfo>,
    pub imports: Vec<ImportInfo>,
    /// The declaration slot of `入口`, if the file defines one.
    pub entry: Option<u32>,
    /// A REPL entry: every name it defines is visible to later entries.
    pub exports_all: bool,
    /// A REPL entry's `方法` blocks for types that earlier entries declared.
    pub extensions: Vec<Extension>,
}

/// Methods that a REPL entry adds to a type an earlier entry declared: the loader adds
/// them to that type's method table when it links the entry.
#[derive(Debug)]
pub struct Extension {
    /// The import under which the declaring entry is linked in.
    pub import: u32,
    pub type_name: Arc<str>,
    /// Each also in its own declaration slot, as `类型.方法`.
    pub methods: Vec<Arc<FunctionProto>>,
}
