//! The interpreter's fast path: a small loop over the instructions whose common case
//! needs no call — integer and float arithmetic, tests and jumps, moves, annotation
//! checks that pass, and calls and returns between Qi functions — and over the common
//! instructions that need one: method calls, indexing and fields, channel sends and
//! receives. Those calls take the cursor by value, so its copy here stays in registers.
//!
//! It exists for the machine code it lets the compiler produce. In the full loop the
//! cursor lives on the stack, because dozens of arms call out and the register allocator
//! gives up on it; here the few calls left are on rare paths, so the next instruction and
//! the register base stay in machine registers and a dispatch is a handful of
//! instructions (`benches/compare`: loop and fib).
//!
//! The fast loop never decides anything the full loop would decide differently: on any
//! instruction or case it does not handle — a string `+`, an overflow, a failing check, a
//! native callee — it stops with the cursor *at* that instruction, which the full loop then
//! runs as if the fast loop did not exist. So every error is raised in one place. The
//! interpreter is left only through the full loop too: a budget's end or a channel
//! operation that must wait stops the fast loop at an instruction boundary, and the full
//! loop saves the pc and returns.
//!
//! The machine code of this function is fragile: a guard on a new match arm (`Op::X if …`)
//! once made every call and return nine instructions longer, and so did borrowing two
//! registers of the cursor at once (pass the cursor by value instead). Two rules keep the
//! cursor in machine registers: the fetched instruction is a `Fetched`, whose operands are
//! taken out in the arms that use them (`fetched.rs`), and the loop's own cursor `c` never
//! has its address taken by a call that is not inlined (lend a copy). CI counts the
//! instructions of fib(25) and fails past a ceiling (`benches/compare/instructions.sh`).

use qi_bytecode::diagnostic::Code;
use qi_bytecode::opcode::Op;

use super::channel::{self, ChanStep};
use super::fetched::Fetched;
use super::frame::{Cursor, Frame, FrameKind};
use super::{Cx, call};
use super::{member, misc};
use crate::fiber::Fiber;
use crate::native::{Exit, error};
use crate::object::Closure;
use crate::sched::block::BlockOp;
use crate::sched::task::Resume;
use crate::value::{Tag, Value};

/// Why the fast loop stopped.
pub(crate) enum Stop {
    /// The instruction at the cursor is not a fast case: the full loop runs it.
    Slow,
    /// The step budget ran out at a call or back-edge; the cursor is where to go on, and
    /// the top frame's pc is not saved yet.
    Yield,
    /// A channel operation must wait: the cursor is past it, as the full loop leaves it
    /// when it blocks, and the pc is not saved yet.
    Block(BlockOp, Resume),
    /// Not from the fast loop: the fiber has no frame to run (`interp::run_fast`).
    NoFrame,
    /// An instruction that calls out failed (or a native asked to wait or to resume a
    /// coroutine): the cursor is past it, as the full loop's own failures leave it.
    Fail(Exit),
}

/// Runs instructions from `cur` while they are fast cases, spending `budget`.
#[inline(never)]
pub(super) fn run(cx: &Cx<'_>, fiber: &mut Fiber, cur: &mut Cursor, budget: &mut u32) -> Stop {
    // Local copies, so they live in machine registers; written back on the way out.
    let mut c = Cursor::reload(cur);
    let mut left = *budget;
    // What calls and returns are checked against, worked out at the first call or return
    // that needs them (`call_limits`, `handler_depth_of`), not here: a run that makes
    // none, as a task's between two channel operations, spent a tenth of its
    // instructions on them. Until then no call or return passes the checks.
    let (mut frame_limit, mut seg_end) = (0, std::ptr::null());
    let mut handler_depth = usize::MAX;
    let stop = 'run: loop {
        // Leaves the loop with the cursor back on the instruction just fetched.
        macro_rules! slow {
            () => {{
                c.unfetch();
                break 'run Stop::Slow;
            }};
        }
        macro_rules! step {
            () => {{
                left -= 1;
                if left == 0 {
                    break 'run Stop::Yield;
                }
            }};
        }
        // A plain call of `callee` (`enter_plain`). Refused while the call limits are
        // not known yet, it is tried once more with them worked out; refused then, or
        // refused with them known, it is the full loop's.
        macro_rules! enter_or_slow {
            ($callee:expr, $ins:expr, $checked:expr) => {{
                let mut known = !seg_end.is_null();
                while !enter_plain(
                    fiber,
                    &mut c,
                    (frame_limit, seg_end),
                    $callee,
                    $ins,
                    $checked,
                ) {
                    if known {
                        slow!();
                    }
                    (frame_limit, seg_end) = call_limits(cx, fiber);
                    known = true;
                }
            }};
        }
        // What follows a call made through `call.rs`: a native's result is in place (it
        // may have charged steps for its work), a Qi frame was pushed, or it failed.
        macro_rules! after_call {
            ($called:expr) => {{
                match $called {
                    Ok(call::Called::Done) => {
                        let charged = cx.charged.replace(0);
                        if charged > 0 {
                            let spent = charged.min(left - 1);
                            left -= spent;
                            cx.steps.set(cx.steps.get() + u64::from(charged - spent));
                            if left == 1 {
                                left = 0;
                                break 'run Stop::Yield;
                            }
                        }
                    }
                    Ok(call::Called::Entered) => {
                        // (A call that entered pushed a frame, so there is a top one.)
                        let Some(top) = fiber.frames.last() else {
                            break 'run Stop::Fail(error(Code::E7000, "：内部状态错误"));
                        };
                        // SAFETY: the frame just pushed satisfies the frame invariants.
                        c = unsafe { Cursor::load(top) };
                        seg_end = fiber.stack.end_of(top.seg);
                        frame_limit = cx.shared.config.max_frames.min(fiber.frames.capacity());
                        step!();
                    }
                    Err(exit) => break 'run Stop::Fail(exit),
                }
            }};
        }
        // `GetUpval A U` followed by `Invoke A …`: a native method on the captured
        // value runs as one instruction, reading `receiver` in place instead of
        // from a copy in `R[A]` (`call::invoke_lent`). Falls through, with the cursor
        // back on the `Invoke`, when that does not apply.
        macro_rules! invoke_lent {
            ($a:expr, $receiver:expr) => {{
                let receiver: &Value = $receiver;
                let next = c.peek();
                if next.op == Op::Invoke
                    && next.a == $a
                    && call::lends_to_natives(receiver.tag())
                    && let Some(caller) = fiber.frames.last_mut()
                {
                    c.skip();
                    caller.pc = c.pc_in(caller);
                    // A copy is lent, never `c` itself: see `Op::Invoke`.
                    let here = c;
                    match call::invoke_lent(cx, &here, receiver, next.a, next.b, next.c) {
                        call::Lent::Done => {
                            after_call!(Ok(call::Called::Done));
                            continue;
                        }
                        call::Lent::Failed(exit) => {
                            let v = receiver.clone();
                            c.set(next.a, v);
                            break 'run Stop::Fail(exit);
                        }
                        call::Lent::NotNative => c.unfetch(),
                    }
                }
            }};
        }
        let ins = Fetched::new(c.fetch());
        // One arm per operation, so that each is one jump from the dispatch.
        macro_rules! arith {
            ($checked:ident, $float:tt) => {{
                let (x, y) = (c.r(ins.b()), c.r(ins.c()));
                let v = if x.tag() == Tag::Int && y.tag() == Tag::Int {
                    match x.int_unchecked().$checked(y.int_unchecked()) {
                        Some(n) => Value::int(n),
                        None => slow!(),
                    }
                } else if x.tag() == Tag::Float && y.tag() == Tag::Float {
                    Value::float(x.float_unchecked() $float y.float_unchecked())
                } else {
                    slow!()
                };
                c.set(ins.a(), v);
            }};
        }
        macro_rules! arith_imm {
            ($checked:ident) => {{
                let x = c.r(ins.b());
                if x.tag() != Tag::Int {
                    slow!();
                }
                match x.int_unchecked().$checked(ins.c() as i16 as i64) {
                    Some(n) => c.set(ins.a(), Value::int(n)),
                    None => slow!(),
                }
            }};
        }
        // A test of `R[A]` against `$y` (an integer comparison; anything else is slow).
        macro_rules! test {
            ($y:expr, $cmp:tt) => {{
                let (x, y) = (c.r(ins.a()), $y);
                if x.tag() != Tag::Int || y.tag() != Tag::Int {
                    slow!();
                }
                let t = x.int_unchecked() $cmp y.int_unchecked();
                test_jump(&mut c, t);
            }};
        }
        // A test of `R[A]` against `K[B]`, which hint 1 says is the `i16` in C.
        macro_rules! test_k {
            ($cmp:tt) => {{
                if ins.hint() == 1 {
                    let x = c.r(ins.a());
                    if x.tag() != Tag::Int {
                        slow!();
                    }
                    let t = x.int_unchecked() $cmp i64::from(ins.c() as i16);
                    test_jump(&mut c, t);
                } else {
                    test!(&c.info().consts[ins.b() as usize], $cmp)
                }
            }};
        }
        match ins.op {
            Op::Nop => {}
            Op::LoadNil => c.set(ins.a(), Value::NIL),
            Op::LoadBool => c.set(ins.a(), Value::bool(ins.b() != 0)),
            Op::LoadInt => c.set(ins.a(), Value::int(ins.sbx() as i64)),
            Op::LoadConst => {
                let here = c;
                c.set_clone(ins.a(), &here.info().consts[ins.bx() as usize]);
            }
            // A module variable whose declaration has run (else E3010, from the full loop).
            Op::GetGlobal => {
                let here = c;
                if !here
                    .info()
                    .module()
                    .load_global_into(ins.bx(), c.r_mut(ins.a()))
                {
                    slow!();
                }
            }
            Op::GetUpval => {
                let here = c;
                let cell = &here.closure().upvalues[ins.b() as usize];
                if let Some(receiver) = cell.fixed_value() {
                    invoke_lent!(ins.a(), receiver);
                }
                cell.load_into(c.r_mut(ins.a()));
            }
            // A captured local read by its own function.
            Op::GetCell => {
                if !misc::get_cell(c, ins.get()) {
                    slow!();
                }
            }
            // A built-in written in Rust, resolved into the constants when the function
            // was linked (see `loader::link_function`); anything else is looked up there.
            Op::GetBuiltin => {
                let here = c;
                let k = &here.info().consts[ins.bx() as usize];
                if k.tag() != Tag::Native {
                    slow!();
                }
                c.set_clone(ins.a(), k);
            }
            Op::Move => {
                let v = c.r(ins.b()).clone();
                c.set(ins.a(), v);
            }
            Op::Add => {
                let (x, y) = (c.r(ins.b()), c.r(ins.c()));
                if x.tag() == Tag::Int && y.tag() == Tag::Int {
                    match x.int_unchecked().checked_add(y.int_unchecked()) {
                        Some(n) => c.set(ins.a(), Value::int(n)),
                        None => slow!(),
                    }
                } else if x.tag() == Tag::Float && y.tag() == Tag::Float {
                    let n = x.float_unchecked() + y.float_unchecked();
                    c.set(ins.a(), Value::float(n));
                } else if let Err(exit) = misc::add_other(c, ins.get()) {
                    break 'run Stop::Fail(exit);
                }
            }
            Op::Sub => arith!(checked_sub, -),
            Op::Mul => arith!(checked_mul, *),
            Op::AddI => arith_imm!(checked_add),
            Op::SubI => arith_imm!(checked_sub),
            Op::Jmp => c.jump(ins.sbx()),
            Op::Loop => {
                c.jump(ins.sbx());
                step!();
            }
            Op::JmpIf | Op::JmpIfNot => {
                let Some(b) = c.r(ins.a()).as_bool() else {
                    slow!();
                };
                if b == (ins.op == Op::JmpIf) {
                    c.jump(ins.sbx());
                }
            }
            Op::TestLt => test!(c.r(ins.b()), <),
            Op::TestLe => test!(c.r(ins.b()), <=),
            Op::TestGt => test!(c.r(ins.b()), >),
            Op::TestGe => test!(c.r(ins.b()), >=),
            Op::TestEq => test!(c.r(ins.b()), ==),
            Op::TestNe => test!(c.r(ins.b()), !=),
            Op::TestLtK => test_k!(<),
            Op::TestLeK => test_k!(<=),
            Op::TestGtK => test_k!(>),
            Op::TestGeK => test_k!(>=),
            Op::TestEqK => test_k!(==),
            Op::TestNeK => test_k!(!=),
            Op::ForLoop => {
                let i = c.r(ins.a()).int_unchecked();
                let limit = c.r(ins.a() + 1).int_unchecked();
                if i < limit {
                    c.set(ins.a(), Value::int(i + 1));
                    c.jump(ins.sbx());
                    step!();
                }
            }
            Op::CheckType | Op::CheckParam => {
                if !misc::passes_by_hint(c.r(ins.a()), ins.hint()) {
                    slow!();
                }
            }
            Op::CallDecl => {
                let slots = c.info().decl_slots();
                if slots.is_null() {
                    slow!();
                }
                // SAFETY: the verifier checked that C is one of the module's declaration
                // slots, which live as long as the module (see `FunctionInfo::decl_slots`).
                let decl = unsafe { &*slots.add(ins.c() as usize) };
                let Some(callee) = decl.as_obj::<Closure>() else {
                    slow!();
                };
                // The module's declarations keep the callee alive (frame invariant 3).
                let callee: *const Closure = callee;
                // SAFETY: as above.
                let callee = unsafe { &*callee };
                enter_or_slow!(callee, ins, ins.hint() == 1);
                step!();
            }
            Op::Call => {
                let callee = c.r(ins.a()).as_obj::<Closure>();
                let plain = callee.filter(|f| !f.info.proto.is_async && !f.info.proto.uses_self);
                if let Some(callee) = plain {
                    // `R[A]` holds the closure and is not touched until the call returns
                    // (frame invariant 3).
                    let callee: *const Closure = callee;
                    // SAFETY: as above.
                    let callee = unsafe { &*callee };
                    enter_or_slow!(callee, ins, false);
                    step!();
                } else {
                    // A native, a bound method, an 异步 函数: as the full loop calls them.
                    if let Some(caller) = fiber.frames.last_mut() {
                        caller.pc = c.pc_in(caller);
                    }
                    let called = call::call(cx, fiber, c, ins.a(), ins.b(), ins.c() != 0);
                    after_call!(called);
                }
            }
            // Channel operations, as the full loop does them.
            // (A channel that is not one, or sits in a variable's cell, takes the full loop.)
            Op::Recv => match channel::recv_op(cx, c, ins.get()) {
                None => slow!(),
                Some(ChanStep::Done) => {}
                Some(ChanStep::Closed) => c.set(ins.a(), Value::NIL),
                Some(ChanStep::Parked(token)) => {
                    let op = BlockOp::Registered(token);
                    break 'run Stop::Block(op, resume_at(ins.a(), false));
                }
                Some(ChanStep::Wait) => {
                    let here = c;
                    let op = BlockOp::Recv {
                        channel: channel::channel_value(&here, ins.c(), ins.b()),
                        for_loop: false,
                    };
                    break 'run Stop::Block(op, resume_at(ins.a(), false));
                }
            },
            Op::Send => match channel::send_op(cx, c, ins.get()) {
                None => slow!(),
                Some(ChanStep::Done) => {}
                Some(ChanStep::Parked(token)) => {
                    let op = BlockOp::Registered(token);
                    break 'run Stop::Block(op, resume_at(super::NO_RESULT, false));
                }
                Some(ChanStep::Wait) => {
                    let here = c;
                    let channel = channel::channel_value(&here, ins.c(), ins.a());
                    let op = BlockOp::Send {
                        channel,
                        value: c.r(ins.b()).clone(),
                    };
                    break 'run Stop::Block(op, resume_at(super::NO_RESULT, false));
                }
                Some(ChanStep::Closed) => break 'run Stop::Fail(channel::send_on_closed()),
            },
            Op::IterNext if c.r(ins.a()).tag() == Tag::Channel => {
                match channel::recv_into(cx, c, ins.a(), ins.b()) {
                    ChanStep::Done => c.skip(),
                    ChanStep::Closed => {
                        let jump = c.peek();
                        c.skip();
                        c.jump(jump.sbx());
                    }
                    // The saved pc stays on the loop's exit jump, as in the full loop.
                    ChanStep::Parked(token) => {
                        let op = BlockOp::Registered(token);
                        break 'run Stop::Block(op, resume_at(ins.b(), true));
                    }
                    ChanStep::Wait => {
                        let op = BlockOp::Recv {
                            channel: c.r(ins.a()).clone(),
                            for_loop: true,
                        };
                        break 'run Stop::Block(op, resume_at(ins.b(), true));
                    }
                }
            }
            // Any other 对于: a list, string, dict or range iterator steps here; a coroutine
            // is resumed by the full loop (asking changed nothing).
            Op::IterNext => match misc::iter_next(c.r_mut(ins.a())) {
                Ok(misc::Next::Item(v)) => {
                    c.skip();
                    c.set(ins.b(), v);
                }
                Ok(misc::Next::Done) => {
                    let jump = c.peek();
                    c.skip();
                    c.jump(jump.sbx());
                }
                Ok(misc::Next::Resume | misc::Next::Recv) => slow!(),
                Err(exit) => break 'run Stop::Fail(exit),
            },
            Op::GetIndex | Op::SetIndex | Op::GetField | Op::SetField | Op::GetPath => {
                if let Err(exit) = member::access(cx, c, ins.get()) {
                    break 'run Stop::Fail(exit);
                }
            }
            // Method calls, as the full loop makes them (its `恢复` shortcut aside).
            Op::Invoke => {
                if c.r(ins.a()).tag() == Tag::Coroutine {
                    slow!();
                }
                if let Some(caller) = fiber.frames.last_mut() {
                    caller.pc = c.pc_in(caller);
                }
                // A copy is lent, never `c` itself: once its address went to a function
                // that is not inlined, LLVM kept the whole cursor on the stack for the
                // whole loop, and every dispatch loaded and stored `ip` there (fib(25):
                // 61.4M → 57.8M instructions, loop.qi about 40% faster, with `Fetched`).
                let here = c;
                let called = call::invoke(cx, fiber, &here, ins.a(), ins.b(), ins.c());
                after_call!(called);
            }
            Op::Return | Op::ReturnNil => {
                // Only a return to a Qi caller with no 尝试 of the callee still open; an
                // entry or module frame's return ends the run or finishes a module, which
                // the full loop does.
                let depth = fiber.frames.len();
                let Some(top) = fiber.frames.last() else {
                    slow!();
                };
                if depth < 2 || top.kind != FrameKind::Call {
                    slow!();
                }
                if depth <= handler_depth {
                    if handler_depth != usize::MAX {
                        slow!();
                    }
                    handler_depth = handler_depth_of(fiber);
                    if depth <= handler_depth {
                        slow!();
                    }
                }
                let v = if ins.op == Op::Return {
                    c.r_mut(ins.a()).take()
                } else {
                    Value::NIL
                };
                let (ret, seg) = (top.ret, top.seg);
                top.clear_on_return();
                fiber.frames.pop();
                // SAFETY: `ret` is the caller's `R[A]`, live while the caller is.
                unsafe { *ret = v };
                let caller = &fiber.frames[depth - 2];
                // (Not yet known, it stays so: `enter_or_slow!` works out both limits.)
                if caller.seg != seg && !seg_end.is_null() {
                    seg_end = fiber.stack.end_of(caller.seg);
                }
                // SAFETY: `depth >= 2`, so the caller is now the top frame, and it
                // satisfies the frame invariants.
                c = unsafe { Cursor::load(caller) };
            }
            // A `启动` or `创建` in a loop: the closure kept from the first iteration, and
            // the task. Through the full loop, each was an exit from this one and a way
            // back in, a tenth of a million-task spawn's instructions.
            Op::TaskClosure => {
                match misc::kept_closure(c, ins.get(), &cx.local.credit, &cx.sched.credit_bank) {
                    Some(v) => c.set(ins.a(), v),
                    None => slow!(),
                }
            }
            Op::Spawn => match super::tasks::spawn(cx, c, ins.a(), ins.b(), ins.c() != 0) {
                Ok(t) => c.set(ins.a(), t),
                Err(exit) => break 'run Stop::Fail(exit),
            },
            // Everything else, and the cases above that are not fast, the full loop runs.
            Op::SetGlobal
            | Op::GetDecl
            | Op::SetUpval
            | Op::NewCell
            | Op::SetCell
            | Op::Closure
            | Op::Div
            | Op::Rem
            | Op::Neg
            | Op::Not
            | Op::Eq
            | Op::Ne
            | Op::Lt
            | Op::Le
            | Op::Gt
            | Op::Ge
            | Op::NewList
            | Op::NewDict
            | Op::NewStruct
            | Op::NewVariant
            | Op::Range
            | Op::RangeIncl
            | Op::IterInit
            | Op::ForPrep
            | Op::ForPrepIncl
            | Op::PushHandler
            | Op::PopHandler
            | Op::Throw
            | Op::IsVariant
            | Op::IsInstance
            | Op::GetPayload
            | Op::InRange
            | Op::MatchEq
            | Op::MatchFail
            | Op::RefCell
            | Op::RefUpval
            | Op::RefGlobal
            | Op::RefGlobalRo
            | Op::Deref
            | Op::SetDeref
            | Op::Import
            | Op::DefGlobal
            | Op::NewCoroutine
            | Op::Resume
            | Op::Suspend
            | Op::Await
            | Op::Select => slow!(),
        }
    };
    *cur = c;
    *budget = left;
    stop
}

/// How deep a call may go in the fast loop (past the depth limit is an error, and past
/// the frames already allocated a reallocation, both for the full loop), and the end of
/// the register segment the top frame is in (a callee whose registers do not fit below it
/// goes to the next segment, which the full loop arranges).
#[cold]
fn call_limits(cx: &Cx<'_>, fiber: &Fiber) -> (usize, *const Value) {
    let frame_limit = cx.shared.config.max_frames.min(fiber.frames.capacity());
    let seg_end = fiber
        .frames
        .last()
        .map_or(std::ptr::null(), |f| fiber.stack.end_of(f.seg));
    (frame_limit, seg_end)
}

/// Frames at or below this depth have a `尝试` open: their return is the full loop's.
/// (Only the full loop pushes or pops handlers, so this holds for a whole run.)
#[cold]
fn handler_depth_of(fiber: &Fiber) -> usize {
    fiber.handlers.last().map_or(0, |h| h.frame as usize + 1)
}

/// Pushes a frame for the call `ins` (of `callee`, at `R[A]` with `B` arguments) and
/// moves the cursor into it, past the parameter checks if `checked`; `false` (having
/// changed nothing) when the call is not a plain one the fast loop can make: wrong arity,
/// too deep (`limits.0` frames), or registers past the end of the segment (`limits.1`).
#[inline(always)]
fn enter_plain(
    fiber: &mut Fiber,
    c: &mut Cursor,
    limits: (usize, *const Value),
    callee: &Closure,
    ins: Fetched,
    checked: bool,
) -> bool {
    let (a, argc) = (ins.a(), ins.b());
    let (frame_limit, seg_end) = limits;
    let info = &*callee.info;
    if info.arity != argc || fiber.frames.len() >= frame_limit {
        return false;
    }
    // The callee's registers start at its first argument (frame invariant 2 holds when
    // they end within the segment).
    let base = c.ptr(a + 1);
    if base.wrapping_add(info.num_regs as usize).cast_const() > seg_end {
        return false;
    }
    let Some(caller) = fiber.frames.last_mut() else {
        return false;
    };
    caller.pc = c.pc_in(caller);
    let seg = caller.seg;
    // The caller's `R[A]` or the module's declarations keep the closure alive (frame
    // invariant 3).
    let frame = Frame::new(callee, base, c.ptr(a), seg, FrameKind::Call);
    fiber.frames.push(frame);
    *c = Cursor::start(callee, base, checked);
    true
}

fn resume_at(dest: u16, for_loop: bool) -> Resume {
    Resume { dest, for_loop }
}

/// A test's outcome: on `true` skip the `Jmp` that follows, on `false` take it.
///
/// It must compile to a branch: as a conditional move, the address of the next
/// instruction would wait for the comparison, and the processor could not run ahead
/// (that made the 30M-iteration loop 40% slower). Marking one side cold is what keeps
/// LLVM from turning it into a select; which side does not matter to the processor.
#[inline(always)]
fn test_jump(c: &mut Cursor, t: bool) {
    let jump = c.peek();
    c.skip();
    if !t {
        std::hint::cold_path();
        c.jump(jump.sbx());
    }
}
