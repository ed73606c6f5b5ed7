//! Functions: Qi closures, native (Rust) functions and bound methods.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
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
    /// The module's declaration slots (`ModuleObj::decls`), for `CallDecl`: two loads
    /// fewer on every call than going through `module`. Set once the module is linked
    /// (`set_decl_slots`), before any of its code can run; null until then.
    decl_slots: AtomicPtr<Value>,
    /// `K[n]` as values (整数, 浮点数, 字符串); 空 where the constant is not a value.
    pub consts: Box<[Value]>,
    /// `K[n]` as interned names, where the constant is a name.
    pub syms: Box<[Symbol]>,
    /// Beside each name, the built-in method a call of it found last
    /// (`Shared::method_cached`).
    pub method_cache: Box<[AtomicU64]>,
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
            decl_slots: AtomicPtr::new(std::ptr::null_mut()),
            consts,
            method_cache: syms.iter().map(|_| AtomicU64::new(0)).collect(),
            syms,
            protos,
        }
    }

    /// Points this function and the functions nested in it at their module's declaration
    /// slots. The loader calls it once the module is built.
    pub fn set_decl_slots(&self, slots: &[Value]) {
        self.decl_slots
            .store(slots.as_ptr().cast_mut(), Ordering::Release);
        for p in &self.protos {
            p.set_decl_slots(slots);
        }
    }

    /// The module's declaration slots (`ModuleObj::decls`) as set by `set_decl_slots`;
    /// null before. Slot `n` is valid for every `n` the verifier allowed in this
    /// function's code, and lives as long as the module.
    #[inline(always)]
    pub fn decl_slots(&self) -> *const Value {
        // Relaxed: the module was published to this thread after its slots were set.
        self.decl_slots.load(Ordering::Relaxed)
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
    pub upvalues: Upvalues,
}

/// A closure's captured cells. Up to three are held inline — most closures capture one to
/// three, as a task body does its channel and wait group — which saves an allocation per
/// closure: a parked task 393 → 376 bytes (benches/tasks/park.qi), spawning a million
/// tasks about 2% slower (276 → 282 ms). With smallvec's `union` feature this is four
/// words, and a closure is 56 bytes with its counts, which mimalloc keeps in 64-byte
/// blocks, a cache line of its own (see `object::cell::APART`; with two inline, 48 bytes,
/// a closure sat beside task frames and a million spawns on two workers were 11% slower).
pub type Upvalues = smallvec::SmallVec<[Arc<CellObj>; 3]>;

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
