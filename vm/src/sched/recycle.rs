//! Recycling finished tasks.
//!
//! A task that finishes with nobody else holding it — a `启动` task, or a `创建` one
//! whose handle is gone — is not freed. Its memory (the task, its fiber's frame vector
//! and first register segment) goes to a pool on the thread that ran it, emptied of
//! everything it held, and the next `创建` or `启动` on that thread starts from it.
//!
//! The reason is the allocator. On two workers, one spawning a million small tasks and
//! the other stealing and running them, a third of the time went to mimalloc: every
//! block the running worker freed had been allocated by the spawning one, which mimalloc
//! handles with an atomic push per block that the owner later collects. Go recycles
//! goroutines the same way: a free list per processor, moved between processors in
//! batches through one global list.
//!
//! A thread's pool holds at most [`LOCAL_MAX`] tasks. Past that, half of them move to the
//! scheduler's list as one batch (one lock per batch), and a thread whose pool is empty
//! takes a batch from there. The scheduler keeps at most [`GLOBAL_MAX`] batches and frees
//! the tasks beyond.
//!
//! A recycled task is as new (`Task::new`): it keeps nothing of its last life but its
//! allocations and its creation site's file (`Task::renew`). Only a task of which this is
//! the only handle is taken (`Arc::get_mut`), so no value, registry entry or waiter can
//! still see it.
//!
//! With one worker nothing is kept: memory never crosses threads there, and mimalloc's
//! free and allocation on one thread cost less than emptying a task (192 instructions
//! more per task, measured).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Scheduler;
use super::queue::Runnable;
use super::task::Task;
use super::worker::Local;

/// The most tasks a thread keeps.
pub const LOCAL_MAX: usize = 64;
/// The most batches (of `LOCAL_MAX / 2`) the scheduler keeps for threads that run out.
pub const GLOBAL_MAX: usize = 16;

/// Keeps the finished task of `entry` for a later spawn on this thread, if nothing else
/// holds it; otherwise it is just dropped. `untouched`: only its execution changed in its
/// life (a `启动` task that finished without anything else reaching it, `worker::turn_of`),
/// so only that is emptied.
pub fn put(sched: &Scheduler, local: &Local, entry: Runnable, untouched: bool) {
    let mut task = entry.into_task();
    if sched.workers == 1 {
        return;
    }
    let Some(t) = super::solo::task_mut(&mut task) else {
        return;
    };
    // Its reference to its closure goes to this worker's hand, for the next spawn with
    // it (`credit`). (Only from a fiber whose frames have all returned.)
    if let Some(fiber) = t.exec_mut().root.as_mut()
        && fiber.frames.is_empty()
        && let Some(closure) = fiber.keep.take()
    {
        local.credit.give(closure, &sched.credit_bank);
    }
    let cleared = if untouched {
        t.clear_execution_for_reuse()
    } else {
        t.clear_for_reuse()
    };
    if !cleared {
        return;
    }
    let overflow = local.pool_push(task, LOCAL_MAX);
    if let Some(batch) = overflow {
        let mut global = sched.recycled.lock();
        if global.len() < GLOBAL_MAX {
            global.push(batch);
            sched
                .recycled_batches
                .store(global.len(), Ordering::Relaxed);
        }
        // A batch that does not fit is freed here, after the lock.
    }
}

/// A recycled task to start a new one in, if this thread or the scheduler has one. It is
/// the only handle to the task.
#[inline(always)]
pub fn take(sched: &Scheduler, local: &Local) -> Option<Arc<Task>> {
    // Nothing is kept with one worker (`put`).
    if sched.workers == 1 {
        return None;
    }
    take_kept(sched, local)
}

#[inline(always)]
fn take_kept(sched: &Scheduler, local: &Local) -> Option<Arc<Task>> {
    if let Some(task) = local.pool_pop() {
        return Some(task);
    }
    // A load first: with one worker the scheduler's list is always empty.
    if sched.recycled_batches.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let batch = {
        let mut global = sched.recycled.lock();
        let batch = global.pop();
        sched
            .recycled_batches
            .store(global.len(), Ordering::Relaxed);
        batch
    }?;
    local.pool_refill(batch);
    local.pool_pop()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiber::Fiber;
    use crate::sched::task::{Ending, Status};
    use crate::value::Value;

    fn finished_task(id: u64) -> Arc<Task> {
        let task = Arc::new(Task::new(id, Some(Fiber::new(4)), true, None));
        task.set_status(Status::Failed);
        task.flags().cancel.store(true, Ordering::Relaxed);
        task.flags().cancelled.store(true, Ordering::Relaxed);
        task.flags().timer_armed.store(true, Ordering::Relaxed);
        task.mark_observed();
        task.state().lock().ending = Some(Ending::Value(Value::int(5)));
        {
            let exec = task.exec();
            let mut exec = exec.lock();
            exec.started = true;
            exec.recorded = true;
            exec.outcome_held = true;
        }
        task
    }

    /// A task comes back as new: no ending, flags, number or stack of its last life.
    #[test]
    fn a_recycled_task_is_as_new() {
        let sched = Scheduler::new(2, 1000);
        let local = Local::new(0, false);
        put(&sched, &local, Runnable::from(finished_task(7)), false);
        let mut task = take(&sched, &local).expect("kept");
        let t = Arc::get_mut(&mut task).expect("the only handle");
        assert_eq!(t.id, 0);
        assert_eq!(t.status(), Status::Runnable);
        assert!(!t.cancel_requested() && !t.flags().detached && t.created_at.is_none());
        let flags = t.flags();
        assert!(!flags.cancelled.load(Ordering::Relaxed) && !t.is_observed());
        assert!(!flags.timer_armed.load(Ordering::Relaxed));
        assert!(t.state().lock().ending.is_none());
        let exec = t.exec_mut();
        assert!(!exec.started && exec.parked.is_none() && exec.chain.is_empty());
        assert!(!exec.recorded && !exec.outcome_held && !exec.entry_pending);
        assert_eq!(exec.root.as_ref().map(Fiber::depth), Some(0));
        assert!(take(&sched, &local).is_none(), "taken once");
    }

    /// A task made again at the place of its last life keeps that file's handle and takes
    /// the new span; made elsewhere, it takes the new file.
    #[test]
    fn a_renewed_task_keeps_its_site_file_when_it_is_the_same() {
        use crate::sched::task::SiteAt;
        use qi_bytecode::source::{SourceFile, Span};
        let here = SourceFile::new("甲.qi", "启动 {};");
        let there = SourceFile::new("乙.qi", "启动 {};");
        let mut task = Task::new(
            1,
            Some(Fiber::new(1)),
            true,
            Some((here.clone(), Span::new(0, 2))),
        );
        assert!(task.clear_for_reuse());
        let at = |file, start| {
            Some(SiteAt {
                file,
                span: Span::new(start, start + 2),
            })
        };
        task.renew(2, false, at(&here, 3));
        assert_eq!(Arc::strong_count(&here), 2, "no new handle");
        assert!(matches!(&task.created_at, Some((f, s)) if Arc::ptr_eq(f, &here) && s.start == 3));
        task.renew(3, false, at(&there, 4));
        assert_eq!(Arc::strong_count(&here), 1);
        assert!(matches!(&task.created_at, Some((f, _)) if Arc::ptr_eq(f, &there)));
        task.renew(4, false, None);
        assert!(task.created_at.is_none());
        assert_eq!((task.id, task.flags().detached), (4, false));
    }

    /// A task of which only the execution changed (a `启动` task that finished while
    /// nothing else could reach it) comes back as new too, with only that emptied.
    #[test]
    fn an_untouched_task_is_emptied_of_its_execution() {
        let sched = Scheduler::new(2, 1000);
        let local = Local::new(0, false);
        let task = Arc::new(Task::new(11, Some(Fiber::new(4)), true, None));
        {
            let exec = task.exec();
            let mut exec = exec.lock();
            exec.started = true;
            exec.entry_pending = true;
        }
        put(&sched, &local, Runnable::from(task), true);
        let mut task = take(&sched, &local).expect("kept");
        let t = Arc::get_mut(&mut task).expect("the only handle");
        assert_eq!((t.id, t.status()), (0, Status::Runnable));
        let exec = t.exec_mut();
        assert!(!exec.started && !exec.entry_pending);
        assert_eq!(exec.root.as_ref().map(Fiber::depth), Some(0));
    }

    /// Emptying only the execution of a task whose state changed too is a bug, which a
    /// debug build catches.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "more than its execution changed")]
    fn a_touched_task_is_not_taken_for_untouched() {
        let sched = Scheduler::new(2, 1000);
        let local = Local::new(0, false);
        put(&sched, &local, Runnable::from(finished_task(12)), true);
    }

    /// With one worker nothing is kept: memory never crosses threads there.
    #[test]
    fn one_worker_keeps_nothing() {
        let sched = Scheduler::new(1, 1000);
        let local = Local::new(0, true);
        put(&sched, &local, Runnable::from(finished_task(9)), false);
        assert!(take(&sched, &local).is_none());
    }

    /// A task someone still holds is not kept.
    #[test]
    fn a_task_held_elsewhere_is_not_kept() {
        let sched = Scheduler::new(2, 1000);
        let local = Local::new(0, false);
        let task = finished_task(8);
        let handle = task.clone();
        put(&sched, &local, Runnable::from(task), false);
        assert!(take(&sched, &local).is_none());
        assert!(handle.state().lock().ending.is_some(), "untouched");
    }

    /// A thread's overflow goes to the scheduler, where a thread with none takes it.
    #[test]
    fn overflow_moves_between_threads_in_batches() {
        let sched = Scheduler::new(2, 1000);
        let (runner, spawner) = (Local::new(0, false), Local::new(1, false));
        for i in 0..=LOCAL_MAX as u64 {
            put(&sched, &runner, Runnable::from(finished_task(i)), false);
        }
        assert_eq!(sched.recycled.lock().len(), 1);
        let mut got = 0;
        while take(&sched, &spawner).is_some() {
            got += 1;
        }
        assert_eq!(got, LOCAL_MAX / 2);
        assert!(sched.recycled.lock().is_empty());
    }
}
