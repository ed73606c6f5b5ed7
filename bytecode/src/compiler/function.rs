//! Building one function's bytecode: registers, scopes, constants and jumps.
//!
//! Registers are allocated as a stack: locals take the next free register when they are
//! declared and keep it until their scope ends; temporaries sit above the locals and are
//! released by resetting `free_reg` to a mark. Every instruction is emitted with the span
//! of the source it came from.

use std::collections::HashMap;
use std::sync::Arc;

use crate::opcode::{Instr, Op};
use crate::proto::{Capture, Constant, FunctionKind, FunctionProto, TypeDesc};
use crate::source::{SourceFile, Span};

/// Registers are `u16`; a function needing more is rejected with E2003.
pub const MAX_REGS: u32 = u16::MAX as u32 - 1;

/// A local variable in scope.
#[derive(Clone, Debug)]
pub struct Local<'a> {
    pub name: &'a str,
    pub reg: u16,
    pub mutable: bool,
    /// The register holds a cell (closures capture it or `取地址` takes it).
    pub cell: bool,
    pub ty: Option<TypeDesc>,
    /// Declared without a value (`可变 x: 整数;`): it holds 空 until assigned, so its
    /// annotation proves nothing about it.
    pub unset: bool,
}

/// An upvalue of a closure: a cell captured from an enclosing function.
#[derive(Clone, Debug)]
pub struct Upvalue<'a> {
    pub name: &'a str,
    pub capture: Capture,
    pub mutable: bool,
    pub ty: Option<TypeDesc>,
}

/// A loop being compiled: where `跳出` and `继续` go.
#[derive(Debug)]
pub struct LoopCtx {
    pub break_jumps: Vec<usize>,
    /// `Some(pc)` when the continue target is already known (a backward jump);
    /// otherwise `继续` jumps are patched when the target is reached.
    pub continue_target: Option<usize>,
    pub continue_jumps: Vec<usize>,
    /// How many `尝试` blocks were open when the loop began.
    pub try_depth: usize,
}

/// An open `尝试` region: what `返回`/`跳出`/`继续` must undo when they leave it.
#[derive(Clone, Copy, Debug)]
pub struct TryCtx<'a> {
    /// A handler is pushed at this point (inside the try body, or inside a catch body that
    /// has a finally).
    pub handler_active: bool,
    pub finally: Option<&'a crate::ast::Block<'a>>,
}

pub struct FunctionBuilder<'a> {
    pub name: Arc<str>,
    pub kind: FunctionKind,
    pub span: Span,
    pub arity: u16,
    pub uses_self: bool,
    pub is_async: bool,
    pub code: Vec<Instr>,
    pub spans: Vec<Span>,
    pub consts: Vec<Constant>,
    const_index: HashMap<ConstKey, u32>,
    pub protos: Vec<Arc<FunctionProto>>,
    pub upvalues: Vec<Upvalue<'a>>,
    pub locals: Vec<Local<'a>>,
    /// `locals.len()` and `free_reg` at the start of each open block.
    pub scope_marks: Vec<(usize, u16)>,
    pub free_reg: u16,
    pub max_regs: u16,
    pub loops: Vec<LoopCtx>,
    pub tries: Vec<TryCtx<'a>>,
    pub arg_spans: Vec<(u32, Vec<Span>)>,
    /// The declared return type, checked at every `返回` and at the tail.
    pub return_type: Option<TypeDesc>,
    /// Declared `: 未来<T>` without 异步: every return wraps its value in a finished 未来.
    pub wraps_future: bool,
    /// Too many registers or constants: reported once.
    pub overflowed: bool,
    /// The registers kept for the `TaskClosure`s still to come (`reserve_task_caches`).
    task_caches: std::ops::Range<u16>,
}

#[derive(Hash, PartialEq, Eq)]
enum ConstKey {
    Int(i64),
    Float(u64),
    Str(Arc<str>),
    Name(Arc<str>),
}

impl<'a> FunctionBuilder<'a> {
    pub fn new(name: Arc<str>, kind: FunctionKind, span: Span) -> FunctionBuilder<'a> {
        FunctionBuilder {
            name,
            kind,
            span,
            arity: 0,
            uses_self: false,
            is_async: false,
            code: Vec::new(),
            spans: Vec::new(),
            consts: Vec::new(),
            const_index: HashMap::new(),
            protos: Vec::new(),
            upvalues: Vec::new(),
            locals: Vec::new(),
            scope_marks: Vec::new(),
            free_reg: 0,
            max_regs: 0,
            loops: Vec::new(),
            tries: Vec::new(),
            arg_spans: Vec::new(),
            return_type: None,
            wraps_future: false,
            overflowed: false,
            task_caches: 0..0,
        }
    }

    pub fn finish(mut self, file: &Arc<SourceFile>, hidden: bool) -> FunctionProto {
        self.fill_hints();
        FunctionProto {
            name: self.name,
            kind: self.kind,
            file: file.clone(),
            span: self.span,
            arity: self.arity,
            is_async: self.is_async,
            uses_self: self.uses_self,
            num_regs: self.max_regs.max(1),
            code: self.code,
            spans: self.spans,
            consts: self.consts,
            protos: self.protos,
            captures: self.upvalues.iter().map(|u| u.capture).collect(),
            arg_spans: self.arg_spans,
            hidden,
        }
    }

    /// Gives each annotation check the hint of its type (see [`Instr::hint`]).
    fn fill_hints(&mut self) {
        for ins in &mut self.code {
            let k = match ins.op {
                Op::CheckType => ins.bx() as usize,
                Op::CheckParam => ins.b as usize,
                _ => continue,
            };
            if let Some(Constant::Type(t)) = self.consts.get(k) {
                ins.hint = t.kind.hint();
            }
        }
    }

    // ---- emission -------------------------------------------------------------------

    /// Keeps `n` registers, from here up, for the function's `TaskClosure`s (`n` is the
    /// number of task and coroutine blocks the function makes). Called before any other
    /// register is allocated but the parameters, so that every call's frame starts above
    /// them: a callee's registers overlap its caller's from the call's slot up, and would
    /// otherwise overwrite a kept closure at every call in a loop.
    pub fn reserve_task_caches(&mut self, n: u16) {
        let first = self.alloc_n(n as u32);
        self.task_caches = first..first.saturating_add(n);
    }

    /// `R[a]` = a closure of nested function `proto` that is the body of a task or
    /// coroutine (see `Op::TaskClosure`); a plain `Closure` when no register is left for
    /// it.
    pub fn task_closure(&mut self, a: u16, proto: u32, span: Span) {
        match (u16::try_from(proto), self.task_caches.next()) {
            (Ok(b), Some(cache)) => self.op(Op::TaskClosure, a, b, cache, span),
            _ => self.op_bx(Op::Closure, a, proto, span),
        };
    }

    pub fn emit(&mut self, instr: Instr, span: Span) -> usize {
        self.code.push(instr);
        self.spans.push(span);
        self.code.len() - 1
    }

    pub fn op(&mut self, op: Op, a: u16, b: u16, c: u16, span: Span) -> usize {
        self.emit(Instr::new(op, a, b, c), span)
    }

    pub fn op_bx(&mut self, op: Op, a: u16, bx: u32, span: Span) -> usize {
        self.emit(Instr::with_bx(op, a, bx), span)
    }

    pub fn pc(&self) -> usize {
        self.code.len()
    }

    /// Emits a forward jump to be patched with [`patch_to_here`](Self::patch_to_here).
    pub fn jump(&mut self, op: Op, a: u16, span: Span) -> usize {
        self.emit(Instr::with_sbx(op, a, 0), span)
    }

    /// Points the jump at `at` to the next instruction to be emitted.
    pub fn patch_to_here(&mut self, at: usize) {
        let target = self.code.len();
        self.patch(at, target);
    }

    pub fn patch(&mut self, at: usize, target: usize) {
        let offset = target as i64 - (at as i64 + 1);
        let instr = self.code[at];
        self.code[at] = Instr::with_sbx(instr.op, instr.a, offset as i32);
    }

    /// A backward `Loop` jump to `target` (counts a step).
    pub fn loop_to(&mut self, target: usize, span: Span) {
        let offset = target as i64 - (self.code.len() as i64 + 1);
        self.emit(Instr::with_sbx(Op::Loop, 0, offset as i32), span);
    }

    // ---- registers ------------------------------------------------------------------

    pub fn alloc(&mut self) -> u16 {
        self.alloc_n(1)
    }

    /// The register `offset` places after `base`. Past the last register number it wraps
    /// instead of overflowing: that only happens once `alloc_n` has found the registers
    /// exhausted and marked the function, which is then rejected with E2003, so the
    /// wrapped number is never run.
    pub fn reg_at(base: u16, offset: usize) -> u16 {
        base.wrapping_add(offset as u16)
    }

    /// Allocates `n` consecutive registers and returns the first.
    pub fn alloc_n(&mut self, n: u32) -> u16 {
        let first = self.free_reg as u32;
        let end = first + n;
        if end > MAX_REGS {
            self.overflowed = true;
            return 0;
        }
        self.free_reg = end as u16;
        self.max_regs = self.max_regs.max(self.free_reg);
        first as u16
    }

    /// Releases every register from `mark` up.
    pub fn free_to(&mut self, mark: u16) {
        self.free_reg = mark;
    }

    // ---- constants ------------------------------------------------------------------

    pub fn constant(&mut self, c: Constant) -> u32 {
        let key = match &c {
            Constant::Int(n) => Some(ConstKey::Int(*n)),
            Constant::Float(x) => Some(ConstKey::Float(x.to_bits())),
            Constant::Str(s) => Some(ConstKey::Str(s.clone())),
            Constant::Name(s) => Some(ConstKey::Name(s.clone())),
            _ => None,
        };
        if let Some(key) = &key
            && let Some(&i) = self.const_index.get(key)
        {
            return i;
        }
        let i = self.consts.len() as u32;
        if i >= u16::MAX as u32 {
            self.overflowed = true;
        }
        self.consts.push(c);
        if let Some(key) = key {
            self.const_index.insert(key, i);
        }
        i
    }

    pub fn name_const(&mut self, name: &str) -> u16 {
        self.constant(Constant::Name(name.into())) as u16
    }

    // ---- scopes ---------------------------------------------------------------------

    pub fn begin_scope(&mut self) {
        self.scope_marks.push((self.locals.len(), self.free_reg));
    }

    /// Ends the innermost block: its locals go out of scope and the registers allocated
    /// since it began are freed.
    pub fn end_scope(&mut self) {
        let (len, free) = self.scope_marks.pop().unwrap_or((0, 0));
        self.locals.truncate(len);
        self.free_reg = free;
    }

    pub fn find_local(&self, name: &str) -> Option<usize> {
        self.locals.iter().rposition(|l| l.name == name)
    }

    pub fn find_upvalue(&self, name: &str) -> Option<usize> {
        self.upvalues.iter().position(|u| u.name == name)
    }
}

#[cfg(test)]
mod tests {
    use crate::opcode::Op;
    use crate::proto::FunctionProto;
    use crate::verify::tests::compiled;

    /// The cache registers of `f`'s `TaskClosure`s, in code order.
    fn cache_registers(f: &FunctionProto) -> Vec<u16> {
        f.code
            .iter()
            .filter(|i| i.op == Op::TaskClosure)
            .map(|i| i.c)
            .collect()
    }

    #[test]
    fn a_task_closures_cache_register_is_its_own() {
        let m = compiled(
            "函数 新通道() { 返回 1; } 函数 说(x) { 返回 x; }
             变量 通 = 新通道(); 对于 i 在 0..3 { 变量 x = 说(i); 启动 { 通 <- x; }; }
             当 真 { 变量 c = 协程 { 挂起 1; }; 跳出; } 启动 { 说(1); };
             对于 i 在 0..3 { 变量 y = <-通; }",
        );
        let main = &m.main;
        let caches = cache_registers(main);
        // One for each block in a loop, below every other register the code uses, so below
        // every call's frame; the block outside a loop runs once and gets a plain closure.
        assert_eq!(caches, [0, 1]);
        assert_eq!(main.code.iter().filter(|i| i.op == Op::Closure).count(), 1);
        for ins in main.code.iter().filter(|i| i.op != Op::TaskClosure) {
            if ins.op.writes_a() {
                assert!(!caches.contains(&ins.a), "{ins:?}");
            }
            if matches!(ins.op, Op::Call | Op::CallDecl | Op::Invoke) {
                assert!(ins.a > caches[1], "{ins:?}");
            }
        }
        assert_eq!(crate::verify::verify_module(&m), Ok(()));
    }

    #[test]
    fn a_functions_cache_registers_follow_its_parameters() {
        let m = compiled(
            "函数 f(a, b) { 循环 { 变量 t = 协程 { 挂起 a; }; 启动 { 打(b); }; 跳出; } }
             函数 打(x) {}",
        );
        let Some(crate::proto::Decl::Function { proto, .. }) = m.decls.first() else {
            panic!("no f");
        };
        assert_eq!(cache_registers(proto), [2, 3]);
    }
}
