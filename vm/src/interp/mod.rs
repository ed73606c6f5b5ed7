//! The interpreter loop.
//!
//! `run` executes the top frame of a fiber until the fiber finishes, throws past its last
//! handler, spends its step budget, or asks to exit. Qi calls push a heap frame and go
//! round the same loop — nothing here recurses on the Rust stack for a Qi call. Every
//! exit from the loop happens at an instruction boundary with the frame's pc saved: the
//! start of a function, a loop header, or the instruction that failed.
//!
//! A run starts in `fast::run`, which takes the instructions it can (see `fast.rs`);
//! what it hands back goes to `run_steps`, which finishes an entry frame's return itself
//! and runs anything else in the big `match` of `run_full`, and each time round after
//! that the fast loop takes over again. The driver calls the two parts itself
//! (`run_fast`, `run_steps`), so that a channel operation that parked the task in the
//! fast loop goes back to the scheduler without an `Outcome` (`parked`). Those hand-offs
//! are in `run.rs`; the full loop, `run_full`, is here.

pub mod frame;

mod call;
pub mod channel;
mod fast;
mod fetched;
mod member;
mod misc;
mod run;
pub mod tasks;
mod unwind;

use qi_bytecode::diagnostic::Code;
use qi_bytecode::opcode::Op;

use crate::fiber::{Fiber, Handler};
use crate::native::error;
use crate::object::{CellObj, RangeObj, ThrowSite};
use crate::ops::{self, ArithOp};
use crate::sched::wait::WaitToken;
use crate::value::{Tag, Value};
use crate::vm::Shared;
use frame::Cursor;

pub use call::{enter_entry, enter_kept, enter_module_init};
pub use member::{dict_key, resolve_index};
pub use misc::check_type;
pub use unwind::{format_stack, stack_lines};

/// Everything a running instruction can reach: the VM, the scheduler, the worker and the
/// task it runs on.
pub struct Cx<'a> {
    pub shared: &'a Shared,
    pub sched: &'a crate::sched::Scheduler,
    pub local: &'a crate::sched::worker::Local,
    pub task: &'a std::sync::Arc<crate::sched::task::Task>,
    /// Steps taken in this turn so far (calls and loop back-edges), for the step limit.
    pub steps: std::cell::Cell<u64>,
    /// Steps a native charged for work proportional to its input (DESIGN.md "Natives
    /// pay for their work"): taken from the budget when it returns.
    pub charged: std::cell::Cell<u32>,
    /// The run-queue entry of the task's turn while it runs on a worker, so that a channel
    /// operation that must wait can register the task under the channel's lock, with the
    /// entry's handle on the task, and leave the loop already parked
    /// (`BlockOp::Registered`). `None` where the code does not run as a task's turn (an
    /// inline host call): its operations wait the general way.
    pub entry: Option<&'a crate::sched::wait::Entry<'a>>,
}

impl<'a> Cx<'a> {
    /// The context of a turn of `task` on `local`'s worker, with its run-queue `entry`.
    #[inline(always)]
    pub fn of_turn(
        shared: &'a Shared,
        sched: &'a crate::sched::Scheduler,
        local: &'a crate::sched::worker::Local,
        task: &'a std::sync::Arc<crate::sched::task::Task>,
        entry: &'a crate::sched::wait::Entry<'a>,
    ) -> Cx<'a> {
        Cx {
            shared,
            sched,
            local,
            task,
            steps: std::cell::Cell::new(0),
            charged: std::cell::Cell::new(0),
            entry: Some(entry),
        }
    }

    /// Starts a wait of the task, marked as blocked, and gives the token to register with a
    /// channel now; `None` when this code cannot park in place. Call it only when the
    /// registration follows.
    #[inline]
    pub fn park_waiter(&self) -> Option<WaitToken> {
        let entry = self.entry?;
        let generation = self.sched.begin_wait(self.task);
        // Before the waiter is where a waker can claim it: the waker makes it runnable.
        self.task.set_status(crate::sched::task::Status::Blocked);
        Some(WaitToken::new(
            entry.handle_for_waiter(self.task),
            generation,
        ))
    }
}

/// How a call to [`run`] ended. Every variant leaves the fiber's frames consistent, with
/// the pc saved at an instruction boundary.
pub enum Outcome {
    /// The fiber's entry function returned this value.
    Returned(Value),
    /// A value was thrown and nothing caught it. `site` is where (for values that are not
    /// 错误, which carry their own).
    Threw {
        value: Value,
        site: Option<ThrowSite>,
    },
    /// `退出(n)`.
    Exit(i32),
    /// The step budget ran out; call `run` again to continue.
    Yield,
    /// `恢复`: run `co` with `value`; what it yields or returns goes to `resume`.
    Resume {
        co: Value,
        value: Value,
        resume: crate::sched::task::Resume,
    },
    /// `挂起 value`: hand `value` to the resumer; the next resume's value goes to `dest`.
    Suspend { value: Value, dest: u16 },
    /// The task must wait for `op`; what wakes it goes to `resume`.
    Block {
        op: crate::sched::block::BlockOp,
        resume: crate::sched::task::Resume,
    },
}

/// Throws in `fiber` (at its saved pc): `Ok` if a handler took it.
pub fn throw(cx: &Cx<'_>, fiber: &mut Fiber, exit: crate::native::Exit) -> Result<(), Outcome> {
    unwind::throw(cx.shared, fiber, exit)
}

/// A register number no frame has: a value woken into it is dropped (`Frame::set_reg`
/// ignores registers past the frame's count).
pub(crate) const NO_RESULT: u16 = u16::MAX;

fn resume_at(dest: u16) -> crate::sched::task::Resume {
    crate::sched::task::Resume {
        dest,
        for_loop: false,
    }
}

/// Reloads the cursor from the top frame.
#[inline(always)]
fn reload(fiber: &Fiber) -> Option<Cursor> {
    // SAFETY: the top frame of a fiber satisfies the frame invariants.
    fiber.frames.last().map(|f| unsafe { Cursor::load(f) })
}

#[inline(always)]
fn save_pc(fiber: &mut Fiber, cur: Cursor) {
    if let Some(f) = fiber.frames.last_mut() {
        f.pc = cur.pc_in(f);
    }
}

/// Why the instruction loop stopped early.
enum Trap {
    /// An instruction failed; the frame's pc is not saved yet.
    Raise(crate::native::Exit),
    /// An error whose frames were already adjusted (a parameter check popped its callee).
    Raised(crate::native::Exit),
}

/// Why the fast loop stopped: what `run_fast` gives and `run_steps` takes.
pub(crate) use fast::Stop;
use run::blocked;
pub use run::run;
pub(crate) use run::{parked, run_fast, run_steps};

/// The full instruction loop, from where the fast loop stopped: each time round it runs
/// one instruction, then lets the fast loop take what it can. `budget` is a unique
/// reference, so it stays in a register and is written back only when the loop returns.
#[inline(never)]
fn run_full(
    cx: &Cx<'_>,
    fiber: &mut Fiber,
    budget: &mut u32,
    cur: Option<Cursor>,
    stop: &mut Stop,
) -> Outcome {
    let shared = cx.shared;
    let Some(mut cur) = cur else {
        return Outcome::Returned(Value::NIL);
    };
    // The instruction the fast loop handed back, or the error of the one before it.
    match std::mem::replace(stop, Stop::Slow) {
        Stop::Slow | Stop::NoFrame => {}
        Stop::Fail(exit) => match raise(shared, fiber, cur, Trap::Raise(exit)) {
            // Caught: the run goes on at the handler.
            Ok(()) => match reload(fiber) {
                Some(c) => cur = c,
                None => return Outcome::Returned(Value::NIL),
            },
            Err(outcome) => return outcome,
        },
        Stop::Yield => {
            save_pc(fiber, cur);
            return Outcome::Yield;
        }
        Stop::Block(op, resume) => {
            save_pc(fiber, cur);
            return blocked(op, resume);
        }
    }

    // A call or return changed the top frame.
    macro_rules! switch_frame {
        () => {{
            cur = match reload(fiber) {
                Some(c) => c,
                None => return Outcome::Returned(Value::NIL),
            };
        }};
    }
    // One step (a call or a back-edge); yields at a budget's end with the pc saved.
    macro_rules! step {
        () => {{
            *budget -= 1;
            if *budget == 0 {
                save_pc(fiber, cur);
                return Outcome::Yield;
            }
        }};
    }

    // A native that charged steps for its work: take them from the budget, and yield
    // (the call is complete, so this is an instruction boundary) if that used it up.
    macro_rules! pay {
        () => {{
            let c = cx.charged.replace(0);
            if c > 0 {
                let spent = c.min(*budget - 1);
                *budget -= spent;
                cx.steps.set(cx.steps.get() + u64::from(c - spent));
                if *budget == 1 {
                    *budget = 0;
                    save_pc(fiber, cur);
                    return Outcome::Yield;
                }
            }
        }};
    }

    loop {
        let trap = 'exec: loop {
            // An instruction failed: leave the instruction loop; the handler below finds a
            // handler or ends the run.
            macro_rules! fail {
                ($exit:expr) => {
                    break 'exec Trap::Raise($exit)
                };
            }
            macro_rules! check {
                ($e:expr) => {
                    match $e {
                        Ok(v) => v,
                        Err(exit) => fail!(exit),
                    }
                };
            }
            let ins = cur.fetch();
            match ins.op {
                Op::Nop => {}
                Op::LoadNil => cur.set(ins.a, Value::NIL),
                Op::LoadBool => cur.set(ins.a, Value::bool(ins.b != 0)),
                Op::LoadInt => cur.set(ins.a, Value::int(ins.sbx() as i64)),
                Op::LoadConst => {
                    let v = cur.info().consts[ins.bx() as usize].clone();
                    cur.set(ins.a, v);
                }
                Op::Move => {
                    let v = cur.r(ins.b).clone();
                    cur.set(ins.a, v);
                }
                Op::GetGlobal => {
                    let v = cur.info().module().global(ins.bx());
                    if v.tag() == Tag::Uninit {
                        let name = cur.info().module().global_name(ins.bx());
                        fail!(error(Code::E3010, format!("「{name}」")));
                    }
                    cur.set(ins.a, v);
                }
                Op::SetGlobal | Op::DefGlobal => {
                    let v = cur.r(ins.a).clone();
                    cur.info().module().set_global(ins.bx(), v);
                }
                Op::GetDecl => {
                    let v = cur.info().module().decl(ins.bx());
                    cur.set(ins.a, v);
                }
                Op::GetBuiltin => {
                    let sym = cur.info().syms[ins.bx() as usize];
                    let v = shared.builtin(sym).cloned().unwrap_or(Value::NIL);
                    cur.set(ins.a, v);
                }
                Op::GetUpval => {
                    // A copy of the cursor lends the closure while `cur` lends the register.
                    let here = cur;
                    here.closure().upvalues[ins.b as usize].load_into(cur.r_mut(ins.a));
                }
                Op::SetUpval => {
                    let v = cur.r(ins.a).clone();
                    let cell = &cur.closure().upvalues[ins.b as usize];
                    if crate::gc::trace::is_traced(v.tag()) {
                        shared
                            .gc
                            .suspect(cx.local.index, &Value::object(cell.clone()));
                    }
                    if !cell.set(v) {
                        fail!(misc::fixed_cell_store());
                    }
                }
                Op::NewCell => {
                    let v = cur.r_mut(ins.a).take();
                    let cell = if ins.b == 1 {
                        CellObj::fixed(v)
                    } else {
                        CellObj::new(v)
                    };
                    cur.set(ins.a, Value::new(cell));
                }
                Op::GetCell => {
                    let v = match cur.r(ins.b).as_obj::<CellObj>() {
                        Some(c) => c.get(),
                        None => cur.r(ins.b).clone(),
                    };
                    cur.set(ins.a, v);
                }
                Op::SetCell => {
                    let v = cur.r(ins.b).clone();
                    shared.gc.stored(cx.local.index, cur.r(ins.a), &v);
                    match cur.r(ins.a).as_obj::<CellObj>() {
                        Some(c) => {
                            if !c.set(v) {
                                fail!(misc::fixed_cell_store());
                            }
                        }
                        None => cur.set(ins.a, v),
                    }
                }
                Op::Closure | Op::TaskClosure => {
                    let v = misc::closure(cur, ins, &cx.local.credit, &cx.sched.credit_bank);
                    cur.set(ins.a, v);
                }

                Op::Add => {
                    let (x, y) = (cur.r(ins.b), cur.r(ins.c));
                    if x.tag() == Tag::Int && y.tag() == Tag::Int {
                        match x.int_unchecked().checked_add(y.int_unchecked()) {
                            Some(n) => cur.set(ins.a, Value::int(n)),
                            None => fail!(error(Code::E7002, "")),
                        }
                    } else if x.tag() == Tag::Float && y.tag() == Tag::Float {
                        let n = x.float_unchecked() + y.float_unchecked();
                        cur.set(ins.a, Value::float(n));
                    } else {
                        check!(misc::add_other(cur, ins));
                    }
                }
                Op::AddI | Op::SubI => {
                    let x = cur.r(ins.b);
                    let k = ins.c as i16 as i64;
                    if x.tag() == Tag::Int {
                        let n = if ins.op == Op::AddI {
                            x.int_unchecked().checked_add(k)
                        } else {
                            x.int_unchecked().checked_sub(k)
                        };
                        match n {
                            Some(n) => cur.set(ins.a, Value::int(n)),
                            None => fail!(error(Code::E7002, "")),
                        }
                    } else {
                        let v = if ins.op == Op::AddI {
                            if ins.a == ins.b && x.tag() == Tag::Str {
                                let lhs = cur.r_mut(ins.a).take();
                                check!(ops::add(lhs, &Value::int(k)))
                            } else {
                                check!(ops::add_ref(x, &Value::int(k)))
                            }
                        } else {
                            check!(ops::arith(ArithOp::Sub, x, &Value::int(k)))
                        };
                        cur.set(ins.a, v);
                    }
                }
                Op::Sub => {
                    let (x, y) = (cur.r(ins.b), cur.r(ins.c));
                    if x.tag() == Tag::Int && y.tag() == Tag::Int {
                        match x.int_unchecked().checked_sub(y.int_unchecked()) {
                            Some(n) => cur.set(ins.a, Value::int(n)),
                            None => fail!(error(Code::E7002, "")),
                        }
                    } else {
                        let v = check!(ops::arith(ArithOp::Sub, x, y));
                        cur.set(ins.a, v);
                    }
                }
                Op::Mul => {
                    let (x, y) = (cur.r(ins.b), cur.r(ins.c));
                    if x.tag() == Tag::Int && y.tag() == Tag::Int {
                        match x.int_unchecked().checked_mul(y.int_unchecked()) {
                            Some(n) => cur.set(ins.a, Value::int(n)),
                            None => fail!(error(Code::E7002, "")),
                        }
                    } else {
                        let v = check!(ops::arith(ArithOp::Mul, x, y));
                        cur.set(ins.a, v);
                    }
                }
                Op::Div => {
                    let v = check!(ops::arith(ArithOp::Div, cur.r(ins.b), cur.r(ins.c)));
                    cur.set(ins.a, v);
                }
                Op::Rem => {
                    let v = check!(ops::arith(ArithOp::Rem, cur.r(ins.b), cur.r(ins.c)));
                    cur.set(ins.a, v);
                }
                Op::Neg => {
                    let v = check!(ops::negate(cur.r(ins.b)));
                    cur.set(ins.a, v);
                }
                Op::Not => {
                    let v = check!(ops::not(cur.r(ins.b)));
                    cur.set(ins.a, v);
                }
                Op::Eq => {
                    let t = ops::equal(cur.r(ins.b), cur.r(ins.c));
                    cur.set(ins.a, Value::bool(t));
                }
                Op::Ne => {
                    let t = !ops::equal(cur.r(ins.b), cur.r(ins.c));
                    cur.set(ins.a, Value::bool(t));
                }
                Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                    let t = check!(compare(ins.op, cur.r(ins.b), cur.r(ins.c)));
                    cur.set(ins.a, Value::bool(t));
                }

                Op::Jmp => cur.jump(ins.sbx()),
                Op::Loop => {
                    cur.jump(ins.sbx());
                    step!();
                }
                Op::JmpIf | Op::JmpIfNot => {
                    let Some(b) = cur.r(ins.a).as_bool() else {
                        fail!(misc::not_bool(cur.r(ins.a)));
                    };
                    if b == (ins.op == Op::JmpIf) {
                        cur.jump(ins.sbx());
                    }
                }
                Op::TestLt | Op::TestLe | Op::TestGt | Op::TestGe | Op::TestEq | Op::TestNe => {
                    let t = check!(test_outcome(ins.op, cur.r(ins.a), cur.r(ins.b)));
                    take_test_jump(&mut cur, t);
                }

                Op::TestLtK
                | Op::TestLeK
                | Op::TestGtK
                | Op::TestGeK
                | Op::TestEqK
                | Op::TestNeK => {
                    let y = &cur.info().consts[ins.b as usize];
                    let t = check!(test_outcome(ins.op, cur.r(ins.a), y));
                    take_test_jump(&mut cur, t);
                }
                Op::Call => {
                    save_pc(fiber, cur);
                    match check!(call::call(cx, fiber, cur, ins.a, ins.b, ins.c != 0)) {
                        call::Called::Entered => {
                            switch_frame!();
                            step!();
                        }
                        call::Called::Done => pay!(),
                    }
                }
                Op::CallDecl => {
                    save_pc(fiber, cur);
                    check!(call::call_decl(shared, fiber, cur, ins.a, ins.b, ins.c));
                    switch_frame!();
                    step!();
                }
                Op::Invoke => {
                    save_pc(fiber, cur);
                    if let Some((co, value)) = tasks::resume_method(cur, ins.a, ins.b, ins.c) {
                        return Outcome::Resume {
                            co,
                            value,
                            resume: resume_at(ins.a),
                        };
                    }
                    match check!(call::invoke(cx, fiber, &cur, ins.a, ins.b, ins.c)) {
                        call::Called::Entered => {
                            switch_frame!();
                            step!();
                        }
                        call::Called::Done => pay!(),
                    }
                }
                Op::Return | Op::ReturnNil => {
                    let v = if ins.op == Op::Return {
                        cur.r_mut(ins.a).take()
                    } else {
                        Value::NIL
                    };
                    if let Some(done) = call::ret(fiber, v) {
                        return done;
                    }
                    switch_frame!();
                }

                Op::NewList => {
                    let items = cur.slice(ins.b, ins.c).to_vec();
                    cur.set(ins.a, Value::new(crate::object::ListObj::new(items)));
                }
                Op::NewDict => {
                    let v = check!(misc::new_dict(cur.slice(ins.b, 2 * ins.c)));
                    cur.set(ins.a, v);
                }
                Op::NewStruct => {
                    let v = check!(misc::new_struct(cur, ins.b, ins.c));
                    cur.set(ins.a, v);
                }
                Op::NewVariant => {
                    let v = check!(misc::new_variant(cur, ins.b, ins.c));
                    cur.set(ins.a, v);
                }
                Op::Range | Op::RangeIncl => {
                    let (Some(s), Some(e)) = (cur.r(ins.b).as_int(), cur.r(ins.c).as_int()) else {
                        fail!(misc::bad_range_bound(cur.r(ins.b), cur.r(ins.c)));
                    };
                    let r = RangeObj {
                        start: s,
                        end: e,
                        inclusive: ins.op == Op::RangeIncl,
                    };
                    cur.set(ins.a, Value::new(r));
                }
                Op::GetIndex | Op::SetIndex | Op::GetField | Op::SetField | Op::GetPath => {
                    check!(member::access(cx, cur, ins));
                }

                Op::IterInit => {
                    let it = check!(misc::iter_init(cur.r(ins.b)));
                    cur.set(ins.a, it);
                }
                Op::IterNext => match check!(misc::iter_next(cur.r_mut(ins.a))) {
                    misc::Next::Item(v) => {
                        cur.skip();
                        cur.set(ins.b, v);
                    }
                    misc::Next::Done => {
                        let jump = cur.peek();
                        cur.skip();
                        cur.jump(jump.sbx());
                    }
                    // A coroutine or a channel: the loop variable arrives from outside, and the
                    // saved pc stays on the loop's exit jump.
                    misc::Next::Resume => {
                        save_pc(fiber, cur);
                        return Outcome::Resume {
                            co: cur.r(ins.a).clone(),
                            value: Value::NIL,
                            resume: crate::sched::task::Resume {
                                dest: ins.b,
                                for_loop: true,
                            },
                        };
                    }
                    // The channel is only cloned if the task must wait on it.
                    misc::Next::Recv => match channel::recv_into(cx, cur, ins.a, ins.b) {
                        channel::ChanStep::Done => cur.skip(),
                        channel::ChanStep::Closed => {
                            let jump = cur.peek();
                            cur.skip();
                            cur.jump(jump.sbx());
                        }
                        channel::ChanStep::Parked(token) => {
                            save_pc(fiber, cur);
                            return Outcome::Block {
                                op: crate::sched::block::BlockOp::Registered(token),
                                resume: crate::sched::task::Resume {
                                    dest: ins.b,
                                    for_loop: true,
                                },
                            };
                        }
                        channel::ChanStep::Wait => {
                            save_pc(fiber, cur);
                            return Outcome::Block {
                                op: crate::sched::block::BlockOp::Recv {
                                    channel: cur.r(ins.a).clone(),
                                    for_loop: true,
                                },
                                resume: crate::sched::task::Resume {
                                    dest: ins.b,
                                    for_loop: true,
                                },
                            };
                        }
                    },
                },
                Op::ForPrep | Op::ForPrepIncl => {
                    let (Some(start), Some(end)) =
                        (cur.r(ins.a).as_int(), cur.r(ins.a + 1).as_int())
                    else {
                        fail!(misc::bad_range_bound(cur.r(ins.a), cur.r(ins.a + 1)));
                    };
                    // Make the limit inclusive; an exclusive range ending at i64::MIN is empty.
                    let limit = if ins.op == Op::ForPrepIncl {
                        Some(end)
                    } else {
                        end.checked_sub(1)
                    };
                    let jump = cur.peek();
                    cur.skip();
                    match limit {
                        Some(limit) if start <= limit => cur.set(ins.a + 1, Value::int(limit)),
                        _ => cur.jump(jump.sbx()),
                    }
                }
                Op::ForLoop => {
                    let i = cur.r(ins.a).int_unchecked();
                    let limit = cur.r(ins.a + 1).int_unchecked();
                    if i < limit {
                        cur.set(ins.a, Value::int(i + 1));
                        cur.jump(ins.sbx());
                        step!();
                    }
                }

                Op::PushHandler => {
                    let frame = fiber.frames.len() as u32 - 1;
                    let pc = (cur.pc() as i64 + ins.sbx() as i64) as u32;
                    fiber.handlers.push(Handler {
                        frame,
                        pc,
                        reg: ins.a,
                    });
                }
                Op::PopHandler => {
                    fiber.handlers.pop();
                }
                Op::Throw => {
                    let v = cur.r(ins.a).clone();
                    fail!(crate::native::Exit::Throw(v));
                }
                // Checks the tag alone passes never get here: the fast loop passes them by
                // the instruction's hint.
                Op::CheckType => {
                    let mut v = cur.r_mut(ins.a).take();
                    let checked = misc::check_type(
                        &mut v,
                        misc::type_const(&{ cur }, ins.bx() as usize),
                        None,
                    );
                    cur.set(ins.a, v);
                    check!(checked);
                }
                Op::CheckParam => {
                    let mut v = cur.r_mut(ins.a).take();
                    let checked = misc::check_type(
                        &mut v,
                        misc::type_const(&{ cur }, ins.b as usize),
                        Some(ins.c),
                    );
                    cur.set(ins.a, v);
                    if let Err(exit) = checked {
                        save_pc(fiber, cur);
                        break 'exec Trap::Raised(unwind::param_error(fiber, exit, ins.c as usize));
                    }
                }
                Op::IsVariant => {
                    let sym = cur.info().syms[ins.c as usize];
                    let t = misc::is_variant(cur.r(ins.a), cur.r(ins.b), sym);
                    cur.set(ins.a, Value::bool(t));
                }
                Op::IsInstance => {
                    let t = misc::is_instance(cur.r(ins.a), cur.r(ins.b));
                    cur.set(ins.a, Value::bool(t));
                }
                Op::GetPayload => {
                    let v = misc::payload(cur.r(ins.b), ins.c);
                    cur.set(ins.a, v);
                }
                Op::InRange => {
                    let t = misc::in_range_pattern(cur, ins.b, ins.c as usize);
                    cur.set(ins.a, Value::bool(t));
                }
                Op::MatchEq => {
                    let t = ops::equal(cur.r(ins.b), cur.r(ins.c));
                    cur.set(ins.a, Value::bool(t));
                }
                Op::MatchFail => {
                    let shown = crate::print::repr(cur.r(ins.a));
                    fail!(error(Code::E7005, format!("：值是 {shown}")));
                }
                Op::RefCell | Op::RefUpval | Op::RefGlobal | Op::RefGlobalRo => {
                    let v = misc::make_ref(cur, ins);
                    cur.set(ins.a, v);
                }
                Op::Deref => {
                    let v = check!(misc::deref(cur.r(ins.b)));
                    cur.set(ins.a, v);
                }
                Op::SetDeref => {
                    let v = cur.r(ins.b).clone();
                    if crate::gc::trace::is_traced(v.tag())
                        && let Some(r) = cur.r(ins.a).as_obj::<crate::object::RefObj>()
                        && let crate::object::RefTarget::Cell(c) = &r.target
                    {
                        shared.gc.suspect(cx.local.index, &Value::object(c.clone()));
                    }
                    check!(misc::set_deref(cur.r(ins.a), v));
                }
                Op::NewCoroutine => {
                    let co = check!(tasks::new_coroutine(cur, ins.a, ins.b));
                    cur.set(ins.a, co);
                }
                Op::Spawn => {
                    let t = check!(tasks::spawn(cx, cur, ins.a, ins.b, ins.c != 0));
                    cur.set(ins.a, t);
                }
                Op::Resume => {
                    save_pc(fiber, cur);
                    return Outcome::Resume {
                        co: cur.r(ins.b).clone(),
                        value: cur.r(ins.c).clone(),
                        resume: resume_at(ins.a),
                    };
                }
                Op::Suspend => {
                    save_pc(fiber, cur);
                    return Outcome::Suspend {
                        value: cur.r(ins.b).clone(),
                        dest: ins.a,
                    };
                }
                Op::Await => match check!(tasks::try_await(cur.r(ins.b))) {
                    tasks::AwaitNow::Value(v) => cur.set(ins.a, v),
                    tasks::AwaitNow::Failed(e, failed) => {
                        save_pc(fiber, cur);
                        let top: &Fiber = fiber;
                        crate::sched::task::chain_await_error(&e, &failed, cx.task.id, top);
                        fail!(crate::native::Exit::Throw(e));
                    }
                    tasks::AwaitNow::Wait(t) => {
                        save_pc(fiber, cur);
                        return Outcome::Block {
                            op: crate::sched::block::BlockOp::Await(t),
                            resume: resume_at(ins.a),
                        };
                    }
                },
                Op::Recv => {
                    // The channel is only cloned if the task must wait on it.
                    match check!(channel::recv_op_general(cx, cur, ins)) {
                        channel::ChanStep::Done => {}
                        channel::ChanStep::Closed => cur.set(ins.a, Value::NIL),
                        channel::ChanStep::Parked(token) => {
                            save_pc(fiber, cur);
                            return Outcome::Block {
                                op: crate::sched::block::BlockOp::Registered(token),
                                resume: resume_at(ins.a),
                            };
                        }
                        channel::ChanStep::Wait => {
                            save_pc(fiber, cur);
                            return Outcome::Block {
                                op: crate::sched::block::BlockOp::Recv {
                                    channel: channel::channel_value(&cur, ins.c, ins.b),
                                    for_loop: false,
                                },
                                resume: resume_at(ins.a),
                            };
                        }
                    }
                }
                Op::Send => {
                    // The channel is only cloned if the task must wait on it. A send is a
                    // statement: what wakes it goes nowhere (not into the channel's
                    // register, which may be a variable).
                    match check!(channel::send_op_general(cx, cur, ins)) {
                        channel::ChanStep::Done => {}
                        channel::ChanStep::Closed => fail!(channel::send_on_closed()),
                        channel::ChanStep::Parked(token) => {
                            save_pc(fiber, cur);
                            return Outcome::Block {
                                op: crate::sched::block::BlockOp::Registered(token),
                                resume: resume_at(NO_RESULT),
                            };
                        }
                        channel::ChanStep::Wait => {
                            save_pc(fiber, cur);
                            let channel = channel::channel_value(&cur, ins.c, ins.a);
                            let value = cur.r(ins.b).clone();
                            return Outcome::Block {
                                op: crate::sched::block::BlockOp::Send { channel, value },
                                resume: resume_at(NO_RESULT),
                            };
                        }
                    }
                }
                Op::Select => match check!(channel::select(cx, cur, ins.a, ins.b)) {
                    channel::Selected::Now(i, v) => {
                        cur.set(ins.c, Value::int(i as i64));
                        cur.set(ins.c + 1, v);
                    }
                    channel::Selected::Wait(arms) => {
                        save_pc(fiber, cur);
                        return Outcome::Block {
                            op: crate::sched::block::BlockOp::Select(arms),
                            resume: resume_at(ins.c),
                        };
                    }
                },
                Op::Import => {
                    save_pc(fiber, cur);
                    match check!(call::import(shared, fiber, cur, ins.a, ins.bx())) {
                        call::Called::Entered => switch_frame!(),
                        call::Called::Done => {}
                    }
                }
            }
            // The fast loop takes what it can of what follows.
            match fast::run(cx, fiber, &mut cur, budget) {
                Stop::Slow | Stop::NoFrame => {}
                Stop::Yield => {
                    save_pc(fiber, cur);
                    return Outcome::Yield;
                }
                Stop::Block(op, resume) => {
                    save_pc(fiber, cur);
                    return blocked(op, resume);
                }
                Stop::Fail(exit) => fail!(exit),
            }
        };
        match raise(shared, fiber, cur, trap) {
            Ok(()) => switch_frame!(),
            Err(outcome) => return outcome,
        }
    }
}

/// Takes up the failure of the instruction just run at `cur`: a native that asked to wait
/// or to resume a coroutine ends the run with that; an error is thrown in the fiber, and
/// `Ok` means a handler took it and the run goes on at the handler's frame.
fn raise(shared: &Shared, fiber: &mut Fiber, cur: Cursor, trap: Trap) -> Result<(), Outcome> {
    let exit = match trap {
        Trap::Raise(exit) => {
            save_pc(fiber, cur);
            exit
        }
        Trap::Raised(exit) => exit,
    };
    // A native asked to wait or to resume a coroutine: its call's result register is the
    // `A` of the call instruction just executed.
    let exit = match exit {
        crate::native::Exit::Block(op) => {
            return Err(Outcome::Block {
                op: *op,
                resume: resume_at(cur.prev().a),
            });
        }
        crate::native::Exit::Resume { coroutine, value } => {
            return Err(Outcome::Resume {
                co: coroutine,
                value,
                resume: resume_at(cur.prev().a),
            });
        }
        other => other,
    };
    unwind::throw(shared, fiber, exit)
}

/// Whether a test instruction (`TestLt` … `TestNe`, or a `K` form of one) holds for `x`
/// and `y`.
#[inline(always)]
fn test_outcome(op: Op, x: &Value, y: &Value) -> Result<bool, crate::native::Exit> {
    if x.tag() == Tag::Int && y.tag() == Tag::Int {
        let (x, y) = (x.int_unchecked(), y.int_unchecked());
        return Ok(match op {
            Op::TestLt | Op::TestLtK => x < y,
            Op::TestLe | Op::TestLeK => x <= y,
            Op::TestGt | Op::TestGtK => x > y,
            Op::TestGe | Op::TestGeK => x >= y,
            Op::TestEq | Op::TestEqK => x == y,
            _ => x != y,
        });
    }
    match op {
        Op::TestEq | Op::TestEqK => Ok(ops::equal(x, y)),
        Op::TestNe | Op::TestNeK => Ok(!ops::equal(x, y)),
        op => compare(test_to_compare(op), x, y),
    }
}

/// After a test: on `true` skip the `Jmp` that follows, on `false` take it.
#[inline(always)]
fn take_test_jump(cur: &mut Cursor, t: bool) {
    let jump = cur.peek();
    cur.skip();
    if !t {
        cur.jump(jump.sbx());
    }
}

fn test_to_compare(op: Op) -> Op {
    match op {
        Op::TestLt | Op::TestLtK => Op::Lt,
        Op::TestLe | Op::TestLeK => Op::Le,
        Op::TestGt | Op::TestGtK => Op::Gt,
        _ => Op::Ge,
    }
}

fn compare(op: Op, x: &Value, y: &Value) -> Result<bool, crate::native::Exit> {
    if x.tag() == Tag::Int && y.tag() == Tag::Int {
        let (a, b) = (x.int_unchecked(), y.int_unchecked());
        return Ok(match op {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            _ => a >= b,
        });
    }
    match op {
        Op::Lt => ops::less(x, y),
        Op::Le => ops::less_eq(x, y),
        Op::Gt => ops::greater(x, y),
        _ => ops::greater_eq(x, y),
    }
}
