//! The instruction set: register-based, one 8-byte word per instruction.
//!
//! ```text
//!  byte 0   1       2..4    4..6    6..8
//!       op  hint    A: u16  B: u16  C: u16
//! ```
//!
//! `R[n]` is register `n` of the current frame, `K[n]` constant `n` of the current function,
//! `G[n]` variable slot `n` of the current module, `D[n]` its declaration slot (functions and
//! types, fixed at load), `U[n]` upvalue cell `n` of the running closure. `Bx` is `B | C << 16`
//! and `sBx` the same bits as an `i32`; jump offsets are relative to the instruction after
//! the jump. Calls place the callee (or receiver) at `R[A]` and the arguments in
//! `R[A+1]..=R[A+B]`; the result lands in `R[A]`.
//!
//! Steps (QI-LANGUAGE.md §9) are counted by `Loop` (the only backward jump) and by every
//! call, in every tier, so budgets and limits behave the same interpreted or compiled.

/// One instruction.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, align(8))]
pub struct Instr {
    pub op: Op,
    /// What the compiler knows that saves the interpreter work: for `CheckType` and
    /// `CheckParam`, the [`TypeKind::hint`] of the checked type (the verifier checks it
    /// agrees with the constant); for `CallDecl`, 1 when every argument is proven to have
    /// its parameter's annotated type, so the callee's leading `CheckParam`s are skipped;
    /// for a test against a constant (`TestLtK` …), 1 when the constant is an 整数 that C
    /// holds too, as an `i16`. Zero elsewhere.
    ///
    /// [`TypeKind::hint`]: crate::proto::TypeKind::hint
    pub hint: u8,
    pub a: u16,
    pub b: u16,
    pub c: u16,
}

const _: () = assert!(std::mem::size_of::<Instr>() == 8);

impl Instr {
    pub const fn new(op: Op, a: u16, b: u16, c: u16) -> Instr {
        Instr {
            op,
            hint: 0,
            a,
            b,
            c,
        }
    }

    pub const fn with_bx(op: Op, a: u16, bx: u32) -> Instr {
        Instr::new(op, a, bx as u16, (bx >> 16) as u16)
    }

    pub const fn with_sbx(op: Op, a: u16, sbx: i32) -> Instr {
        Instr::with_bx(op, a, sbx as u32)
    }

    #[inline(always)]
    pub const fn bx(self) -> u32 {
        self.b as u32 | (self.c as u32) << 16
    }

    #[inline(always)]
    pub const fn sbx(self) -> i32 {
        self.bx() as i32
    }
}

impl std::fmt::Debug for Instr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {} {} {}", self.op, self.a, self.b, self.c)
    }
}

macro_rules! opcodes {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// Operation codes. The doc line of each gives its operands' meaning.
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Op { $($(#[doc = $doc])* $name,)* }

        /// Where a `Recv` or `Send` finds its channel: its C operand.
///
/// A task's loop over a channel it captured (`启动 { 对于 … { <-乒; 乓 <- v; } }`) would
/// otherwise load the channel into a temporary register at every step; two channels
/// alternating in one temporary made each load an atomic count increment and decrement.
/// Read from an immutable binding's cell, the channel is borrowed where it sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum ChanAt {
    /// In a register (`R[B]` for `Recv`, `R[A]` for `Send`).
    Reg = 0,
    /// In upvalue cell `U[B]` (`U[A]` for `Send`) of an immutable binding.
    Upval = 1,
    /// In the cell `R[B]` (`R[A]` for `Send`) holds, of an immutable binding.
    Cell = 2,
}

impl ChanAt {
    pub const fn from_c(c: u16) -> Option<ChanAt> {
        match c {
            0 => Some(ChanAt::Reg),
            1 => Some(ChanAt::Upval),
            2 => Some(ChanAt::Cell),
            _ => None,
        }
    }
}

impl Op {
            pub const ALL: &'static [Op] = &[$(Op::$name,)*];

            pub fn name(self) -> &'static str {
                match self { $(Op::$name => stringify!($name),)* }
            }
        }
    };
}

opcodes! {
    /// Does nothing (a patched-out jump).
    Nop,
    /// `R[A] = 空`
    LoadNil,
    /// `R[A] = B != 0`
    LoadBool,
    /// `R[A] = sBx` (an 整数 that fits 32 bits)
    LoadInt,
    /// `R[A] = K[Bx]`
    LoadConst,
    /// `R[A] = R[B]`
    Move,
    /// `R[A] = G[Bx]`; E3010 if its declaration has not run
    GetGlobal,
    /// `G[Bx] = R[A]`
    SetGlobal,
    /// `R[A] = D[Bx]` (a top-level function, struct or enum of this module)
    GetDecl,
    /// `R[A] = the built-in named K[Bx]`
    GetBuiltin,
    /// `R[A] = *U[B]`
    GetUpval,
    /// `*U[B] = R[A]`
    SetUpval,
    /// `R[A] = a new cell holding R[A]` (a local that closures capture); B = 1: the
    /// binding is immutable, and the cell is fixed (never stored to, read without a lock)
    NewCell,
    /// `R[A] = *R[B]` (R[B] holds a cell)
    GetCell,
    /// `*R[A] = R[B]` (R[A] holds a cell)
    SetCell,
    /// `R[A] = a closure of nested function Bx, capturing per its capture list`
    Closure,
    /// `R[A] = a closure of nested function B`, the body of a `协程`/`创建`/`启动` block:
    /// `R[C]`, a register of its own below every call's frame, keeps the first closure
    /// made here, reused while its captured cells are the ones this closure would capture.
    /// Qi code never sees such a closure, so one object can serve every task a loop makes:
    /// a parked task is 48 bytes smaller, and a spawn allocates nothing for its body.
    TaskClosure,
    /// `R[A] = R[B] + R[C]`
    Add,
    /// `R[A] = R[B] + (C as i16)` (an 整数 constant small enough to fit)
    AddI,
    /// `R[A] = R[B] - R[C]`
    Sub,
    /// `R[A] = R[B] - (C as i16)`
    SubI,
    /// `R[A] = R[B] * R[C]`
    Mul,
    /// `R[A] = R[B] / R[C]`
    Div,
    /// `R[A] = R[B] % R[C]`
    Rem,
    /// `R[A] = -R[B]`
    Neg,
    /// `R[A] = !R[B]`
    Not,
    /// `R[A] = R[B] == R[C]`
    Eq,
    /// `R[A] = R[B] != R[C]`
    Ne,
    /// `R[A] = R[B] < R[C]`
    Lt,
    /// `R[A] = R[B] <= R[C]`
    Le,
    /// `R[A] = R[B] > R[C]`
    Gt,
    /// `R[A] = R[B] >= R[C]`
    Ge,
    /// `pc += sBx` (forward)
    Jmp,
    /// `pc += sBx` (backward; counts one step)
    Loop,
    /// `if R[A] { pc += sBx }`; E3004 if R[A] is not 布尔
    JmpIf,
    /// `if !R[A] { pc += sBx }`; E3004 if R[A] is not 布尔
    JmpIfNot,
    /// If `R[A] < R[B]`, skip the next instruction (always a `Jmp`); else take that jump
    TestLt,
    /// As `TestLt`, for `<=`
    TestLe,
    /// As `TestLt`, for `>`
    TestGt,
    /// As `TestLt`, for `>=`
    TestGe,
    /// As `TestLt`, for `==`
    TestEq,
    /// As `TestLt`, for `!=`
    TestNe,
    /// If `R[A] < K[B]`, skip the next instruction (a `Jmp`); else take that jump
    TestLtK,
    /// As `TestLtK`, for `<=`
    TestLeK,
    /// As `TestLtK`, for `>`
    TestGtK,
    /// As `TestLtK`, for `>=`
    TestGeK,
    /// As `TestLtK`, for `==`
    TestEqK,
    /// As `TestLtK`, for `!=`
    TestNeK,
    /// `call R[A] with B arguments`; C != 0 when the result is discarded (an 异步 function
    /// called as a statement starts a detached task)
    Call,
    /// `call D[C] with B arguments` (R[A] is left free)
    CallDecl,
    /// `call method K[C] of R[A] with B arguments`
    Invoke,
    /// `return R[A]`
    Return,
    /// `return 空`
    ReturnNil,
    /// `R[A] = [R[B], …, R[B+C-1]]`
    NewList,
    /// `R[A] = {R[B]: R[B+1], …}` with C pairs
    NewDict,
    /// `R[A] = struct R[B] { fields K[C] = R[B+1]… }`
    NewStruct,
    /// `R[A] = variant C of enum R[B] with payload R[B+1]…`
    NewVariant,
    /// `R[A] = R[B]..R[C]`
    Range,
    /// `R[A] = R[B]..=R[C]`
    RangeIncl,
    /// `R[A] = R[B][R[C]]`
    GetIndex,
    /// `R[A][R[B]] = R[C]`
    SetIndex,
    /// `R[A] = R[B].K[C]`
    GetField,
    /// `R[A].K[C] = R[B]`
    SetField,
    /// `R[A] = R[B]::K[C]` (a static method or variant of a type value)
    GetPath,
    /// `R[A] = an iterator over R[B]`
    IterInit,
    /// `R[B] = next of iterator R[A]` and skip the next instruction (a `Jmp` out of the
    /// loop); when the iterator is done, take that jump
    IterNext,
    /// Integer loop set-up for `R[A]..R[A+1]`: both must be 整数 (E7008); the limit is made
    /// inclusive. If the range is empty take the next instruction (a `Jmp`), else skip it
    ForPrep,
    /// As `ForPrep`, for `R[A]..=R[A+1]`
    ForPrepIncl,
    /// Integer loop step: `R[A] += 1; if R[A] <= R[A+1] { pc += sBx }` (backward; one step)
    ForLoop,
    /// Push an error handler: on a throw, `R[A] = error` and `pc += sBx`
    PushHandler,
    /// Pop the innermost error handler of this frame
    PopHandler,
    /// `throw R[A]`
    Throw,
    /// Check `R[A]` against type K[Bx] (E3001); widens an 整数 for 浮点数
    CheckType,
    /// Check parameter C (`R[A]`) against type K[B]; an error points at the caller's argument
    CheckParam,
    /// `R[A] = R[B] is the variant named K[C] of the enum type in R[A]`
    IsVariant,
    /// `R[A] = R[B] is an instance of the struct type in R[A]`
    IsInstance,
    /// `R[A] = payload C of variant R[B]`
    GetPayload,
    /// `R[A] = R[B] lies in the range pattern K[C]` (false for non-numbers)
    InRange,
    /// `R[A] = R[B] equals literal-pattern R[C]` (false across kinds, never an error)
    MatchEq,
    /// E7005: no arm matched
    MatchFail,
    /// `R[A] = a reference to the cell in R[B]`; C != 0 if writable
    RefCell,
    /// `R[A] = a reference to the cell of upvalue B`; C != 0 if writable
    RefUpval,
    /// `R[A] = a reference to G[Bx]`
    RefGlobal,
    /// `R[A] = a read-only reference to G[Bx]`
    RefGlobalRo,
    /// `R[A] = *R[B]` (R[B] a reference)
    Deref,
    /// `*R[A] = R[B]` (R[A] a reference)
    SetDeref,
    /// `R[A] = module Bx of this module's import list`, running its top level first if needed
    Import,
    /// `G[Bx] = R[A]` for a declaration (`变量 x = …` at top level): initialises the slot
    DefGlobal,
    /// `R[A] = a coroutine that will run R[A](R[A+1]…R[A+B])`
    NewCoroutine,
    /// `R[A] = a task running R[A](R[A+1]…R[A+B])`; C != 0: detached (the handle was
    /// thrown away, so a failure ends the program)
    Spawn,
    /// `R[A] = resume coroutine R[B] with R[C]`
    Resume,
    /// Yield R[B] to the resumer (or the task to the scheduler); `R[A]` = the value the
    /// next resume passes
    Suspend,
    /// `R[A] = await task R[B]`
    Await,
    /// `R[A] = receive from channel R[B]`, or from the captured immutable variable `B`
    /// names as C says ([`ChanAt`])
    Recv,
    /// Send R[B] on channel R[A], or on the captured immutable variable `A` names as C
    /// says ([`ChanAt`])
    Send,
    /// Select over the cases `K[B]` whose operands start at `R[A]`: `R[C]` = the chosen
    /// case's index, `R[C+1]` = the received value
    Select,
}

impl Op {
    /// A comparison fused with the `Jmp` that follows it (`TestLt` … `TestNeK`).
    pub fn is_test(self) -> bool {
        matches!(
            self,
            Op::TestLt
                | Op::TestLe
                | Op::TestGt
                | Op::TestGe
                | Op::TestEq
                | Op::TestNe
                | Op::TestLtK
                | Op::TestLeK
                | Op::TestGtK
                | Op::TestGeK
                | Op::TestEqK
                | Op::TestNeK
        )
    }

    /// Whether operand A names a register this instruction writes.
    pub fn writes_a(self) -> bool {
        !self.is_test()
            && !matches!(
                self,
                Op::Nop
                    | Op::SetGlobal
                    | Op::SetUpval
                    | Op::SetCell
                    | Op::Jmp
                    | Op::Loop
                    | Op::JmpIf
                    | Op::JmpIfNot
                    | Op::Return
                    | Op::ReturnNil
                    | Op::SetIndex
                    | Op::SetField
                    | Op::PopHandler
                    | Op::Throw
                    | Op::MatchFail
                    | Op::SetDeref
                    | Op::DefGlobal
                    | Op::Send
            )
    }
}
