//! Functions: Qi closures, native (Rust) functions and bound methods.

use std::sync::{Arc, Weak};

use qi_bytecode::proto::FunctionProto;

use super::{CellObj, ModuleObj};
use crate::native::{Arity, NativeCtx, NativeResult};
use crate::symbol::Symbol;
use crate::value::{Value, drop_queue};

/// A function proto linked into a module: its constants turned into values and its names
/// interned. Shared by every closure made from it.
#[derive(Debug)]
pub struct FunctionInfo {
    pub proto: Arc<FunctionProto>,
    /// Copied from the proto, one pointer hop closer for calls.
    pub code: *const qi_bytecode::opcode::Instr,
    pub arity: u16,
    pub num_regs: u16,
    pub uses_self: bool,
    /// Where a call whose arguments the compiler proved to match the parameters'
    /// annotations starts: past the leading `CheckParam`s (see `CallDecl`'s hint).
    pub checked_entry: u16,
    /// Its registers hold only scalars whenever it returns (`qi_bytecode::kinds`), so a
    /// return leaves them as they are instead of clearing them.
    pub scalar_frame: bool,
    /// Weak: the module owns the function (through its declarations), not the reverse;
    /// the VM keeps every module it loaded alive until it shuts down.
    module: Weak<ModuleObj>,
    /// `K[n]` as values (整数, 浮点数, 字符串); 空 where the constant is not a value.
    pub consts: Box<[Value]>,
    /// `K[n]` as interned names, where the constant is a name.
    pub syms: Box<[Symbol]>,
    /// Nested functions, by index for `Closure`.
    pub protos: Box<[Arc<FunctionInfo>]>,
}

// SAFETY: `code` points into `proto.code`, which this info owns through an `Arc` and which
// is never changed after compilation; everything else is Send + Sync already.
unsafe impl Send for FunctionInfo {}
// SAFETY: as above: the pointer is only ever read through.
unsafe impl Sync for FunctionInfo {}

impl FunctionInfo {
    pub fn new(
        proto: Arc<FunctionProto>,
        module: Weak<ModuleObj>,
        consts: Box<[Value]>,
        syms: Box<[Symbol]>,
        protos: Box<[Arc<FunctionInfo>]>,
        scalar_frame: bool,
    ) -> FunctionInfo {
        let checked_entry = proto
            .code
            .iter()
            .take_while(|i| i.op == qi_bytecode::opcode::Op::CheckParam)
            .count() as u16;
        FunctionInfo {
            code: proto.code.as_ptr(),
            checked_entry,
            scalar_frame,
            arity: proto.arity,
            num_regs: proto.num_regs,
            uses_self: proto.uses_self,
            proto,
            module,
            consts,
            syms,
            protos,
        }
    }

    /// The module the function belongs to.
    ///
    /// Running code may rely on it: a VM holds a strong reference to each module it loaded
    /// for as long as it can run code, and it only runs functions of its own modules.
    #[inline]
    pub fn module(&self) -> &ModuleObj {
        // SAFETY: see above — while any code of this function can run, the VM that loaded
        // the module keeps it alive, so the weak pointer's target is live.
        unsafe { &*self.module.as_ptr() }
    }

    /// The module, if it is still alive (for hosts holding values past the VM's end).
    pub fn module_arc(&self) -> Option<Arc<ModuleObj>> {
        self.module.upgrade()
    }
}

/// A Qi function value: linked code plus the cells it captured.
#[derive(Debug)]
pub struct Closure {
    pub info: Arc<FunctionInfo>,
    pub upvalues: Box<[Arc<CellObj>]>,
}

impl Closure {
    pub fn name(&self) -> &str {
        &self.info.proto.name
    }
}

/// The Rust side of a built-in: gets the arguments (the receiver first, for methods).
pub type NativeFn = fn(&mut NativeCtx<'_>, &[Value]) -> NativeResult;

/// A built-in function value.
pub struct NativeFunction {
    pub name: Arc<str>,
    /// Arguments, not counting the receiver of a method.
    pub arity: Arity,
    /// A method of a built-in type: its first argument is the receiver.
    pub method: bool,
    pub f: NativeFn,
    /// Data the function closes over (the enum type of a variant constructor).
    pub data: Value,
    /// A small number the function closes over (the variant's index).
    pub aux: u32,
}

impl std::fmt::Debug for NativeFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<原生函数 {}>", self.name)
    }
}

impl Drop for NativeFunction {
    fn drop(&mut self) {
        drop_queue::release_one(self.data.take());
    }
}

/// `值.方法` taken without calling it: calling it later binds 自己.
#[derive(Debug)]
pub struct BoundMethod {
    pub receiver: Value,
    pub method: Value,
    /// The printed name, `点.长度`.
    pub name: Arc<str>,
}

impl Drop for BoundMethod {
    fn drop(&mut self) {
        drop_queue::release([self.receiver.take(), self.method.take()]);
    }
}
