//! A run of a fiber, and the hand-offs within it: the run starts in the fast loop
//! (`run_fast`); a channel operation that parked there goes straight back to the driver
//! (`parked`); an entry frame's return is finished without the full loop
//! (`entry_return`); anything else goes on to the full loop (`run_steps`, `run_full`).
//!
//! The driver calls these parts itself, rather than one `run`, for the machine code: an
//! `Outcome` (48 bytes) made in two places and merged, or a stop moved into a struct, was
//! copied word by word at every turn.

use qi_bytecode::opcode::Op;

use super::fast;
use super::frame::{self, Cursor};
use super::{Cx, Outcome, Stop, reload, run_full, save_pc};
use crate::fiber::Fiber;
use crate::value::Value;

/// Runs `fiber` for at most `*left` steps (one at least), leaving in `*left` what is left
/// of them; adds the steps it took to `cx.steps`. (The budget is spent in place: the
/// driver carries what is left of a turn's budget from one run to the next.)
#[inline(always)]
pub fn run(cx: &Cx<'_>, fiber: &mut Fiber, left: &mut u32) -> Outcome {
    let budget = (*left).max(1);
    *left = budget;
    let mut cur = None;
    let mut stop = run_fast(cx, fiber, &mut cur, left);
    let outcome = run_steps(cx, fiber, left, cur, &mut stop);
    // Nothing left in it to drop (`run_steps` took what it held).
    std::mem::forget(stop);
    cx.steps.set(cx.steps.get() + u64::from(budget - *left));
    outcome
}

/// The first part of a run, inlined into its caller: the fast loop, from the top frame
/// (`*left` at least 1), with `cur` its cursor (`None` for a fiber without frames). What
/// it stopped at goes on to `run_steps` — unless it is a park the caller takes up itself
/// (`parked`).
///
/// The stop stays where the caller's `let` put it, and `run_steps` takes it by reference:
/// moved into a struct, or made in two places, it was copied word by word at every turn.
#[inline(always)]
pub(crate) fn run_fast(
    cx: &Cx<'_>,
    fiber: &mut Fiber,
    cur: &mut Option<Cursor>,
    left: &mut u32,
) -> Stop {
    *cur = reload(fiber);
    match cur {
        Some(c) => fast::run(cx, fiber, c, left),
        None => Stop::NoFrame,
    }
}

/// Where the wake-up goes, when the fast loop stopped at a channel operation that parked
/// the task in place (`BlockOp::Registered`) — the most common way a turn ends — with the
/// pc saved: the driver parks the task straight away, without an `Outcome` (48 bytes,
/// written in one function and read in another).
#[inline(always)]
pub(crate) fn parked(
    fiber: &mut Fiber,
    cur: Option<Cursor>,
    stop: &Stop,
) -> Option<crate::sched::task::Resume> {
    match (cur, stop) {
        (Some(cur), Stop::Block(crate::sched::block::BlockOp::Registered(_), resume)) => {
            save_pc(fiber, cur);
            Some(*resume)
        }
        _ => None,
    }
}

/// The value the fiber's only frame, an entry frame with no `尝试` open, returns, when
/// the fast loop handed back its return instruction — the last instruction of every
/// `启动` task — with the frame popped as `call::ret` pops it. `None`, having changed
/// nothing, for anything else.
#[inline(always)]
fn entry_return(fiber: &mut Fiber, cur: Option<Cursor>, stop: &Stop) -> Option<Value> {
    let (Some(mut cur), Stop::Slow) = (cur, stop) else {
        return None;
    };
    let [only] = fiber.frames.as_slice() else {
        return None;
    };
    if only.kind != frame::FrameKind::Entry || !fiber.handlers.is_empty() {
        return None;
    }
    let ins = cur.fetch();
    let v = match ins.op {
        Op::Return => cur.r_mut(ins.a).take(),
        Op::ReturnNil => Value::NIL,
        _ => return None,
    };
    if let Some(frame) = fiber.frames.pop() {
        frame.clear_on_return();
    }
    Some(v)
}

/// The outcome of a channel operation of the fast loop that must wait. One that parked,
/// the common case, is rebuilt from its parts: moved whole, the stop was read back wider
/// than it had been written, a stalled load at 4% of a ping-pong.
#[inline(always)]
pub(super) fn blocked(
    op: crate::sched::block::BlockOp,
    resume: crate::sched::task::Resume,
) -> Outcome {
    if let crate::sched::block::BlockOp::Registered(generation) = op {
        // It holds nothing: forgotten, it costs no call of the drop glue (which the
        // compiler does not inline here) on every park.
        std::mem::forget(op);
        return Outcome::Block {
            op: crate::sched::block::BlockOp::Registered(generation),
            resume,
        };
    }
    Outcome::Block { op, resume }
}

/// The rest of a run, from where the fast loop stopped (`run_fast`). It takes what `stop`
/// holds, leaving nothing to drop.
///
/// An entry frame's return (every `启动` task's last instruction) is finished here, in a
/// small function, without entering the full loop: `run_full`'s entry and exit alone were
/// more than what such a return needs (a million `启动` tasks: 3.6–4.4% fewer
/// instructions, about 3% less time). Done in the driver instead, the check made LLVM
/// stop inlining `turn`, and a ping-pong took 3% more instructions.
#[inline(never)]
pub(crate) fn run_steps(
    cx: &Cx<'_>,
    fiber: &mut Fiber,
    budget: &mut u32,
    cur: Option<Cursor>,
    stop: &mut Stop,
) -> Outcome {
    if let Some(v) = entry_return(fiber, cur, stop) {
        return Outcome::Returned(v);
    }
    run_full(cx, fiber, budget, cur, stop)
}
