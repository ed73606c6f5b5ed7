//! Hand-offs: a turn that parks at a plain channel send runs the next task's turn itself,
//! and goes on as its own task's next turn when that one woke it and it is next in line.
//!
//! A channel hand-off between two tasks on one worker — a ping-pong, a producer whose
//! every send waits for its consumer — is a turn of one, a turn of the other, and so on.
//! Between two such turns the worker did what it does between any two: the fast loop's
//! exit, the turn's end in `worker::turn_of` and `run_task`, choosing the next task, the
//! next turn's start through every layer, and the fast loop's entry. Here the task that
//! parked (A) keeps its execution locked and its driver loop running; the next task's turn
//! (B) runs from here, and if B parks in place, which is how a hand-off ends, only what a
//! parked turn must do is done. When B's turn woke A and A is what the worker would take
//! next, A's next turn goes on in A's driver loop.
//!
//! What decides each step is what the worker's loop would have done, in the same order:
//! the task taken is the one `Local::next` would take (`Local::take_woken_if`), the turns
//! count towards the round (`TURNS_PER_ROUND`), and nothing is handed off when something
//! must happen between turns — a collection waiting (`Safepoint::stop_requested`), the end
//! of the program, what the reactor handed over, a snapshot. A turn of B that does anything
//! but park in place goes on through the general driver and `turn_of` from where it
//! stopped (`driver::go_on`).
//!
//! Only a plain send hands off. A's execution stays locked, and borrowed by A's driver,
//! while B runs: a waker of A finds the lock taken and leaves its wake-up aside for A's
//! next turn (`wait::HeldWakes`), so nothing B does touches A's state under the driver's
//! borrow. A plain send's waiter is woken without its execution being touched
//! (`object::channel::send_wake`), so nothing is left aside and A goes on at once; a
//! receive's waiter is woken with its value, which would then take the slow way round.
//! Anything left aside for A (a throw, a cancellation) ends A's turn as usual, and its
//! next turn takes it up.

use std::mem::ManuallyDrop;
use std::sync::Arc;

use super::Scheduler;
use super::driver::{self, Carry};
use super::queue::{Queued, Runnable};
use super::task::{Resume, Task, TaskExec};
use super::wait::Entry;
use super::worker::{self, Local, TurnEnd};
use crate::interp::{self, Cx};
use crate::vm::Shared;

/// After the turn of `cx`'s task (A) parked in place at `resume`: runs the next task's
/// turn here if it may. `true` when that turn woke A and A is next: A's turn has ended,
/// its queue entry is taken back (`Entry::take_back`), and the caller goes on with A's
/// next turn.
///
/// (Only the look at `resume` is inlined into the driver: with the rest, the driver grew
/// past what LLVM inlines into `worker::run_task`, and every turn paid for the calls.)
#[inline(always)]
pub fn run_next(cx: &Cx<'_>, resume: Resume) -> bool {
    resume.dest == interp::NO_RESULT && !resume.for_loop && hand_off(cx)
}

/// Whether another turn may run before the worker's loop looks again: the turn runs as a
/// task's turn on a worker, the round has room, no hand-off runs already, and nothing waits
/// to be done between turns (see the module docs).
#[inline(always)]
fn may_run_next(cx: &Cx<'_>) -> bool {
    let sched = cx.sched;
    cx.entry.is_some()
        && cx.local.may_hand_off()
        && !sched.safepoint.stop_requested()
        && !sched.is_shut_down()
        && !sched.has_deferred()
        && !sched.snapshot_requested()
}

/// Runs the next task's turn, if it may, then takes A back if it is next; see `run_next`.
#[inline(never)]
fn hand_off(cx: &Cx<'_>) -> bool {
    if !may_run_next(cx) {
        return false;
    }
    let (sched, local) = (cx.sched, cx.local);
    let own: *const Task = Arc::as_ptr(cx.task);
    let Some(next) = local.take_woken_if(|t| !std::ptr::eq(t, own)) else {
        return false;
    };
    local.set_handing_off(true);
    let put_away = run_turn(cx.shared, sched, local, next);
    local.credit.end_turn(&sched.credit_bank);
    local.count_handed_turn(put_away);
    local.set_handing_off(false);
    // A's turn ends here only if its next one can start at once: it is next, nothing was
    // left aside for it (a throw, a cancellation), and nothing waits to be done between
    // turns (B's turn may have ended the program).
    let (Some(entry), true) = (cx.entry, may_run_next(cx)) else {
        return false;
    };
    let Some(queued) = local
        .take_woken_if(|t| std::ptr::eq(t, own) && !t.wait.has_held() && !t.cancel_requested())
    else {
        return false;
    };
    // As the worker's loop counts a turn that parked, and the next one's start.
    local.credit.end_turn(&sched.credit_bank);
    local.count_handed_turn(true);
    entry.take_back(queued.into_runnable(sched, local));
    true
}

/// The turn of `next`, a task (`take_woken_if` took only one), as `worker::run_turn`
/// runs it; whether the task was put away.
fn run_turn(shared: &Shared, sched: &Scheduler, local: &Local, next: Queued) -> bool {
    // Dropped as `worker::finish_turn` says, or leaked by a panic (see `run_turn`).
    let runnable = ManuallyDrop::new(next.into_runnable(sched, local));
    let entry = Entry::new(runnable.task());
    let exec = sched.lock_exec_for_turn(runnable.task());
    let carry = Carry::new(sched.budget);
    let turn = if starts_plainly(runnable.task(), &exec) {
        plain_turn(shared, sched, local, &runnable, &entry, exec, carry)
    } else {
        worker::turn_of_handed(shared, sched, local, &runnable, &entry, exec, carry, None)
    };
    let given = entry.given();
    drop(entry);
    worker::finish_turn(sched, local, runnable, given, turn)
}

/// Whether a task's turn can skip what `driver::turn` looks at first: it has run before
/// and has no outcome or wake-up waiting for it (one woken from a wait had it put in place,
/// or has nothing to take), no coroutine is resumed, and its fiber has a frame to go on
/// in.
fn starts_plainly(task: &Task, exec: &TaskExec) -> bool {
    exec.started
        && !exec.entry_pending
        && !exec.outcome_held
        && exec.chain.is_empty()
        && exec.root.as_ref().is_some_and(|f| !f.frames.is_empty())
        && !task.wait.has_held()
}

/// The turn of a task that starts plainly (`starts_plainly`): the fast loop from where it
/// stopped; a park in place ends it as `turn_of` ends one, anything else goes on through the
/// general driver.
fn plain_turn(
    shared: &Shared,
    sched: &Scheduler,
    local: &Local,
    runnable: &Runnable,
    entry: &Entry<'_>,
    mut exec: crate::spin::SpinGuard<'_, TaskExec>,
    mut carry: Carry,
) -> TurnEnd {
    let task = runnable.task();
    let cx = Cx::of_turn(shared, sched, local, task, entry);
    // Running, so not parked (as `driver::turn` clears it).
    exec.parked = None;
    let step = {
        let TaskExec { root, .. } = &mut *exec;
        let Some(fiber) = root.as_mut() else {
            return worker::turn_of_handed(
                shared, sched, local, runnable, entry, exec, carry, None,
            );
        };
        let mut cur = None;
        let mut stop = interp::run_fast(&cx, fiber, &mut cur, &mut carry.left);
        if let Some(resume) = interp::parked(fiber, cur, &stop) {
            // Neither holds anything to drop (`carry.ready` is set only by `turn_of`):
            // forgotten, they cost no call of the drop glue.
            std::mem::forget(stop);
            std::mem::forget(carry);
            exec.park(resume);
            return worker::end_parked(sched, local, task, exec);
        }
        let outcome = interp::run_steps(&cx, fiber, &mut carry.left, cur, &mut stop);
        // Nothing left in it to drop (`run_steps` took what it held).
        std::mem::forget(stop);
        driver::go_on(&cx, &mut exec, &mut carry, outcome)
    };
    worker::turn_of_handed(
        shared,
        sched,
        local,
        runnable,
        entry,
        exec,
        carry,
        Some(step),
    )
}
