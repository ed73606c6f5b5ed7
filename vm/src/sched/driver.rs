//! Driving one task's turn: running its fibers and switching between a task's root fiber
//! and the coroutines it resumes.
//!
//! 恢复 pushes the coroutine's fiber on the task's chain; 挂起 pops it and hands the value
//! to the fiber below. Both are a pointer move, done here between two calls of the
//! interpreter loop — no Rust stack is kept across a suspension.

use std::sync::atomic::Ordering;

use qi_bytecode::diagnostic::Code;

use super::Scheduler;
use super::block::{BlockOp, cancellation};
use super::queue::Runnable;
use super::task::{Ending, Resume, Resumed, TaskExec};
use super::wait::{self, Entry, Wake};
use super::worker::Local;
use crate::fiber::Fiber;
use crate::interp::{self, Cx, Outcome};
use crate::native::{Exit, error_value};
use crate::object::{CoStatus, CoroutineObj};
use crate::value::Value;
use crate::vm::Shared;

/// How a turn ended.
pub enum Step {
    Finished(Ending),
    /// The budget ran out, or a bare 挂起: back of the queue.
    Yielded,
    Blocked(BlockOp, Resume),
    /// A channel operation registered the task's wait and marked it blocked; it is parked
    /// (`TaskExec::park`).
    Parked,
    Exit(i32),
}

/// What one turn of a task carries from one `drive` to the next.
pub struct Carry {
    /// The result of an operation that completed as the task was about to wait, for the
    /// next drive to take up.
    pub ready: Option<(Wake, Resume)>,
    /// What is left of the turn's budget. A task whose waits all complete at once
    /// (`任一等待` of finished futures, in a loop) is driven again and again within one
    /// turn; with a budget of its own each time it never yielded, and one worker never
    /// came back to the other tasks.
    pub left: u32,
}

impl Carry {
    pub fn new(budget: u32) -> Carry {
        Carry {
            ready: None,
            left: budget.max(1),
        }
    }
}

/// Runs `task` until it finishes, blocks, or yields. First it takes up `carry.ready`
/// (by reference: a value of that size passed by value was copied through memory at
/// every turn, and mostly it is `None`), and it spends `carry.left`. `entry` is the
/// turn's run-queue entry, whose handle on the task the first waiter may take
/// (`wait::Entry`). The caller reads the `Step`, not this function: with
/// nothing to do after `turn`, it is written straight into the caller's instead of being
/// copied out wider than it was written — a store-forwarding stall at every turn.
/// `HANDED`: the turn of a task a hand-off runs (`hand_off`), which drives through its own
/// copy of the turn (`turn_handed`): with a second caller, `turn` was no longer inlined
/// into the worker's turns.
#[inline(always)]
pub fn drive<const HANDED: bool>(
    shared: &Shared,
    sched: &Scheduler,
    local: &Local,
    runnable: &Runnable,
    exec: &mut TaskExec,
    carry: &mut Carry,
    entry: &Entry<'_>,
) -> Step {
    let cx = Cx::of_turn(shared, sched, local, runnable.task(), entry);
    if HANDED {
        turn_handed(&cx, exec, carry)
    } else {
        turn(&cx, exec, carry)
    }
}

#[inline(always)]
fn turn(cx: &Cx<'_>, exec: &mut TaskExec, carry: &mut Carry) -> Step {
    turn_body(cx, exec, carry)
}

/// `turn` for a hand-off's turn (see `drive`).
#[inline(never)]
fn turn_handed(cx: &Cx<'_>, exec: &mut TaskExec, carry: &mut Carry) -> Step {
    turn_body(cx, exec, carry)
}

#[inline(always)]
fn turn_body(cx: &Cx<'_>, exec: &mut TaskExec, carry: &mut Carry) -> Step {
    let (sched, task) = (cx.sched, cx.task);
    let mut pending: Option<Outcome> = None;
    if !exec.started {
        exec.started = true;
        if task.cancel_requested() {
            drop(sched.take_held_outcome(task, exec));
            return Step::Finished(Ending::error(cancellation(), None));
        }
        if exec.entry_pending {
            exec.entry_pending = false;
            if let Some(fiber) = exec.root.as_mut()
                && let Err(exit) = interp::enter_kept(fiber)
            {
                pending = Some(exit_outcome(exit));
            }
        }
    }
    if let Some((wake, resume)) = carry.ready.take() {
        pending = apply_wake(cx, exec, wake, resume);
    } else if let Some(o) = sched.take_held_outcome(task, exec) {
        pending = Some(o);
    } else if task.wait.has_held()
        && let Some(wake) = sched.held_wakes.take(task)
        && let Some(resume) = exec.parked.take()
    {
        // A wake-up its waker could not put in place (a throw, or the turn that parked
        // had not ended yet).
        pending = apply_wake(cx, exec, wake, resume);
    }
    // Running, so not parked. A sender whose value was taken is woken without its
    // execution being touched (`object::channel::send_wake`), and comes here still marked
    // parked: left so, a cancellation after a later wait that completed at once (which
    // no waker claims) would take the task for parked on it, and queue it a second time.
    exec.parked = None;
    go_on_from(cx, exec, carry, &mut pending)
}

/// The rest of a turn whose first run stopped, in a hand-off's turn, for anything but a
/// park in place: `outcome`, and on from there as any turn would.
#[inline(never)]
pub fn go_on(cx: &Cx<'_>, exec: &mut TaskExec, carry: &mut Carry, outcome: Outcome) -> Step {
    go_on_from(cx, exec, carry, &mut Some(outcome))
}

/// A turn from its start (`turn`, where what the task was woken with is taken up), taking
/// `pending` first. (By reference: an `Outcome` moved in was copied word by word at every
/// turn.)
#[inline(always)]
fn go_on_from(
    cx: &Cx<'_>,
    exec: &mut TaskExec,
    carry: &mut Carry,
    pending: &mut Option<Outcome>,
) -> Step {
    let left = &mut carry.left;
    let (shared, sched, task) = (cx.shared, cx.sched, cx.task);
    let limited = shared.metered();
    // One budget per turn, however many fibers it runs: a task that switches to a
    // coroutine and back in a loop yields like any other.
    loop {
        let outcome = match pending.take() {
            Some(o) => o,
            None => {
                if *left == 0 {
                    // Out of budget: a preemption point, where a `取消` is delivered.
                    if let Some(o) = deliver_cancel(cx, exec) {
                        *pending = Some(o);
                        continue;
                    }
                    return Step::Yielded;
                }
                let Some(fiber) = exec.top() else {
                    return Step::Finished(Ending::Value(Value::NIL));
                };
                let budget = *left;
                let mut cur = None;
                let mut stop = interp::run_fast(cx, fiber, &mut cur, left);
                if limited {
                    let outcome = interp::run_steps(cx, fiber, left, cur, &mut stop);
                    // Nothing left in it to drop (`run_steps` took what it held).
                    std::mem::forget(stop);
                    // (Steps a native charged past the budget leave it at 0 as well: `pay!`.)
                    cx.steps.set(cx.steps.get() + u64::from(budget - *left));
                    within_limits(cx, exec, outcome)
                } else {
                    // A channel operation that parked in place, the most common way a
                    // turn ends, comes back without an `Outcome` (`interp::parked`).
                    if let Some(resume) = interp::parked(fiber, cur, &stop) {
                        // Nothing in it to drop: forgotten, it costs no call of the drop
                        // glue on every park.
                        std::mem::forget(stop);
                        if super::hand_off::run_next(cx, resume) {
                            // Woken by the turn handed off to, and next: a new turn.
                            *left = sched.budget.max(1);
                            continue;
                        }
                        exec.park(resume);
                        return Step::Parked;
                    }
                    // Written by `run_steps` straight where the match below reads it:
                    // moved on through a binding or two, the outcome was copied (48 bytes)
                    // at every turn that did not park.
                    interp::run_steps(cx, fiber, left, cur, &mut stop)
                }
            }
        };
        match outcome {
            Outcome::Returned(v) => match exec.chain.pop() {
                None => {
                    if let Some(entry) = sched.take_entry(task)
                        && let Some(root) = exec.root.as_mut()
                    {
                        // The main task: top level done, now 入口.
                        if let Err(e) = interp::enter_entry(root, entry, &[]) {
                            *pending = Some(exit_outcome(e));
                        }
                        continue;
                    }
                    return Step::Finished(Ending::Value(v));
                }
                Some(r) => {
                    finish_coroutine(&r);
                    if let Some(top) = exec.top() {
                        if r.resumer.for_loop {
                            top.take_exit_jump();
                        } else {
                            top.set_top_reg(r.resumer.dest, v);
                        }
                    }
                }
            },
            Outcome::Threw { value, site } => match exec.chain.pop() {
                None => return Step::Finished(Ending::error(value, site)),
                Some(r) => {
                    // The error comes out of the 恢复 that ran the coroutine.
                    finish_coroutine(&r);
                    if let Some(top) = exec.top() {
                        extend_stack(&value, top.stack_lines());
                        *pending = throw_into(cx, top, value);
                    }
                }
            },
            Outcome::Exit(code) => return Step::Exit(code),
            Outcome::Yield => {
                if let Some(o) = deliver_cancel(cx, exec) {
                    *pending = Some(o);
                    continue;
                }
                return Step::Yielded;
            }
            Outcome::Resume { co, value, resume } => {
                *pending = resume_coroutine(cx, exec, co, value, resume);
            }
            Outcome::Suspend { value, dest } => {
                if let Some(step) = suspend(exec, value, dest) {
                    // A bare 挂起 yields the task: a suspension point, where a `取消` is
                    // delivered (a task spinning on 挂起 was never cancelled).
                    if let Some(o) = deliver_cancel(cx, exec) {
                        *pending = Some(o);
                        continue;
                    }
                    return step;
                }
            }
            Outcome::Block {
                op: BlockOp::Registered(_),
                resume,
            } => {
                // Registered already: park it here, and leave the worker nothing to carry
                // but the fact. (A registered wait is cancelled by the worker, which
                // claims it.)
                exec.park(resume);
                return Step::Parked;
            }
            Outcome::Block { op, resume } => {
                if let Some(o) = deliver_cancel(cx, exec) {
                    *pending = Some(o);
                    continue;
                }
                return Step::Blocked(op, resume);
            }
        }
    }
}

/// `outcome`, or the E9001/E9002 it gives way to once this VM is over a limit
/// (`over_limit`), thrown where the task stands. (Only with limits set: `cx.steps` is
/// counted only then.)
#[inline(never)]
fn within_limits(cx: &Cx<'_>, exec: &mut TaskExec, outcome: Outcome) -> Outcome {
    let Some(e) = over_limit(cx) else {
        return outcome;
    };
    // A task that parked in place can only fail instead if it takes its wait back first;
    // if a waker got there before, it has been woken and stays parked, and its next turn
    // checks the limit again. Its waiter may hold the turn's handle on the task, which can
    // go once the wait is taken back: the turn keeps one of its own first.
    if let Outcome::Block {
        op: BlockOp::Registered(generation),
        ..
    } = &outcome
    {
        if let Some(entry) = cx.entry {
            entry.keep(cx.task);
        }
        if !cx.task.wait.claim(*generation) {
            return outcome;
        }
    }
    let fallback = match outcome {
        Outcome::Block {
            op: BlockOp::Registered(_),
            ..
        } => Outcome::Threw {
            value: e.clone(),
            site: None,
        },
        other => other,
    };
    // Thrown where the task stands; the limit errors are uncatchable, so this unwinds
    // every fiber of the task without running 捕获 or 最终.
    match exec.top().map(|top| interp::throw(cx, top, Exit::Throw(e))) {
        Some(Err(o)) => o,
        _ => fallback,
    }
}

/// `挂起 value`: the coroutine on top of the chain hands `value` to its resumer. `Some`
/// ends the turn: a bare 挂起 outside any coroutine yields the task, and gives 空.
fn suspend(exec: &mut TaskExec, value: Value, dest: u16) -> Option<Step> {
    match exec.chain.pop() {
        None => {
            if let Some(top) = exec.top() {
                top.set_top_reg(dest, Value::NIL);
            }
            Some(Step::Yielded)
        }
        Some(r) => {
            r.coroutine.suspend(r.fiber, dest);
            if let Some(top) = exec.top() {
                top.set_top_reg(r.resumer.dest, value);
                if r.resumer.for_loop {
                    top.skip_exit_jump();
                }
            }
            None
        }
    }
}

/// A pending `t.取消()`: E6005 thrown at this suspension point (once).
fn deliver_cancel(cx: &Cx<'_>, exec: &mut TaskExec) -> Option<Outcome> {
    // A load first: this runs at every suspension point, and the flag is almost never set.
    let cancel = &cx.task.flags().cancel;
    if !cancel.load(std::sync::atomic::Ordering::Acquire)
        || !cancel.swap(false, std::sync::atomic::Ordering::AcqRel)
    {
        return None;
    }
    let top = exec.top()?;
    match throw_into(cx, top, cancellation()) {
        Some(o) => Some(o),
        // Caught: the task goes on from its handler.
        None => Some(Outcome::Yield),
    }
}

fn finish_coroutine(r: &Resumed) {
    r.coroutine.finish();
}

fn exit_outcome(e: Exit) -> Outcome {
    match e {
        Exit::Exit(code) => Outcome::Exit(code),
        Exit::Throw(value) => Outcome::Threw { value, site: None },
        _ => Outcome::Threw {
            value: error_value(Code::E7000, "：内部状态错误"),
            site: None,
        },
    }
}

/// Throws `value` at `fiber`'s current suspension point: `None` if a handler took it.
fn throw_into(cx: &Cx<'_>, fiber: &mut Fiber, value: Value) -> Option<Outcome> {
    interp::throw(cx, fiber, Exit::Throw(value)).err()
}

use super::task::extend_stack;

fn resume_coroutine(
    cx: &Cx<'_>,
    exec: &mut TaskExec,
    co: Value,
    value: Value,
    resume: Resume,
) -> Option<Outcome> {
    let taken = match co.into_arc::<CoroutineObj>() {
        Err(other) => Err(error_value(
            Code::E3009,
            &format!(
                "：「恢复」需要协程，这里是「{}」",
                crate::print::type_name(&other)
            ),
        )),
        Ok(c) => match cx.sched.start_coroutine(&c) {
            Ok((mut fiber, dest)) => {
                if let Some(dest) = dest {
                    fiber.set_top_reg(dest, value);
                }
                Ok((fiber, c))
            }
            Err(CoStatus::Running) => Err(error_value(Code::E6002, "")),
            Err(_) => Err(error_value(Code::E6001, "")),
        },
    };
    match taken {
        Ok((fiber, coroutine)) => {
            // The chain holds the coroutine object from here on, to hand the fiber back.
            exec.chain.push(Resumed {
                fiber,
                coroutine,
                resumer: resume,
            });
            None
        }
        Err(e) => {
            let top = exec.top()?;
            throw_into(cx, top, e)
        }
    }
}

/// Puts the value a parked task was woken with where its suspension point wants it
/// (`wait::put_in_registers`, as a waker would), or throws what it was woken with.
/// (Inlined: its `Option<Outcome>`, returned through memory, was written in words and
/// read back in halves — a store-forwarding stall on every wake-up.)
#[inline(always)]
fn apply_wake(cx: &Cx<'_>, exec: &mut TaskExec, wake: Wake, resume: Resume) -> Option<Outcome> {
    let task_id = cx.task.id;
    let top = exec.top()?;
    let thrown = wait::put_in_registers(top, resume, wake);
    // Nothing here holds a lock: what the registers held goes now.
    wait::drop_displaced();
    match thrown {
        Ok(()) => None,
        Err(Wake::AwaitError(failure)) => {
            let (e, failed) = *failure;
            super::task::chain_await_error(&e, &failed, task_id, top);
            throw_into(cx, top, e)
        }
        Err(Wake::Throw(e)) => throw_into(cx, top, e),
        // `put_in_registers` gives back throws only.
        Err(_) => None,
    }
}

/// E9001 or E9002 once this VM's request has used more steps or heap than its limits
/// allow. The turn's steps and the worker's heap change are added to the meter here.
pub fn over_limit(cx: &Cx<'_>) -> Option<Value> {
    let limits = &cx.shared.config.limits;
    let meter = &cx.shared.meter;
    if let Some(max) = limits.steps {
        let used = cx.steps.take();
        let total = meter.steps.fetch_add(used, Ordering::Relaxed) + used;
        if total > max {
            return Some(error_value(
                Code::E9001,
                &format!("：超过了 {max} 步的限制"),
            ));
        }
    }
    if let Some(max) = limits.heap_bytes {
        let total = cx.local.sync_heap(meter);
        if total > max as i64 {
            return Some(error_value(
                Code::E9002,
                &format!("：超过了 {max} 字节的限制"),
            ));
        }
    }
    None
}
