//! Solo scheduling: while one worker thread runs alone, it is the only one that locks
//! the scheduler's tasks' executions and its channels, and claims its tasks' waits.
//!
//! Under `qi run` (`program::run_main`) a worker runs alone whenever the others are
//! parked — with one worker, always; with several, in any program that runs one task at
//! a time, such as a channel ping-pong whose woken task runs next on the waker's worker.
//! Locking an execution or a channel, or claiming a wait, with a compare-and-swap bought
//! nothing then: nobody else took those locks, yet a locked instruction drains the store
//! buffer each time, and a ping-pong took ten of them per round trip (`perf annotate`:
//! two fifths of its time on the instructions after them). So in solo mode those locks
//! are taken, and waits claimed, with a plain load and store (`SpinRef::lock_unshared`,
//! `WaitToken::claim_unshared`).
//!
//! For that, nothing else may touch them while the mode lasts:
//! - The reactor never acts on what it finds ready — a wake-up, a timer, a host future's
//!   ending, a `限时等待` deadline, all of which claim waits or lock executions. Under
//!   `qi run` it hands them to the workers instead (`defer`), solo or not, and a worker
//!   acts on them between turns (`run_deferred`). So the reactor never races a change of
//!   mode. The periodic snapshot thread likewise asks a worker to print.
//! - The other workers are parked, and stay parked. A worker goes solo between turns,
//!   under the lock of the parked-worker count, only when every other worker is parked
//!   or not started (`review_solo`), and none has been told to wake and is not out of
//!   its wait yet (`woken`: else the woken one would find it solo and sleep again, which
//!   it did a thousand times in one run of a million spawns); a parked worker leaves
//!   `park` only under that lock and only while nobody is solo, and a newly started one
//!   begins in `park`. Once solo,
//!   a worker leaves the mode between turns, under the same lock, before it wakes another
//!   for the work it queued (`Local::wants_company`; looked at once every
//!   `worker::TURNS_PER_ROUND` turns at most) and before it parks. The lock orders
//!   everything either side of a change of mode.
//!
//! So the mode changes only between turns, when the solo worker holds no lock it took
//! without atomics.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Scheduler;
use super::reactor::Fired;
use super::task::{Task, TaskExec, TaskState};
use super::wait::{Claim, WaitToken};
use super::worker::Local;
use crate::object::{ChanInner, ChannelObj, CoStatus, CoroutineObj};
use crate::spin::{SpinGuard, SpinRef};

/// What a snapshot says of the workers (`Scheduler::worker_summary`).
pub struct WorkerSummary {
    pub workers: usize,
    pub parked: usize,
    pub unstarted: usize,
    pub solo: bool,
    pub solo_entries: u64,
}

impl Scheduler {
    /// Lets this scheduler go solo (before any thread but the caller uses it): no thread
    /// other than its workers will run Qi code or lock its tasks' executions or its
    /// channels, and whoever runs its reactor hands what fires to `defer`. `qi run`.
    /// With one worker, the caller's thread, it is solo from now on.
    pub fn set_solo(&mut self) {
        self.may_solo = true;
        self.solo_always = self.workers == 1;
        *self.solo.get_mut() = self.solo_always;
    }

    /// Whether the reactor must hand what fires to the workers (`defer`) and the snapshot
    /// thread ask them to print (`request_snapshot`): this scheduler may go solo.
    pub fn may_solo(&self) -> bool {
        self.may_solo
    }

    /// Whether one worker runs alone now, without atomics for its locks and claims.
    #[inline(always)]
    pub fn is_solo(&self) -> bool {
        self.solo_always || self.solo.load(Ordering::Relaxed)
    }

    /// Whether a parked worker must stay parked: another one runs solo. (One worker is
    /// solo throughout, parked or not.)
    pub(super) fn solo_elsewhere(&self) -> bool {
        self.workers > 1 && self.is_solo()
    }

    /// Between turns on `local`'s worker: goes solo if every other worker is parked, or
    /// stops being solo if this worker queued work that another could take (which it
    /// then wakes). (Inlined, a few loads: the mode rarely changes; while a woken worker
    /// is not up yet, `try_go_solo` would refuse, so its lock is not taken.)
    #[inline(always)]
    pub fn review_solo(&self, local: &Local) {
        if !self.may_solo || self.solo_always {
            return;
        }
        if self.is_solo() {
            if local.wants_company() {
                self.leave_solo(local);
                self.notify();
            }
        } else if self.idle_count.load(Ordering::Relaxed) + self.unstarted.load(Ordering::Relaxed)
            == self.workers - 1
            && self.woken.load(Ordering::Relaxed) == 0
        {
            self.try_go_solo();
        }
    }

    /// Goes solo if every other worker is still parked or not started, and none has been
    /// told to wake and not come out of its wait yet. Under `idle`'s lock: a parked
    /// worker leaves `park` only under it, seeing this.
    #[cold]
    #[inline(never)]
    fn try_go_solo(&self) {
        let idle = self.idle.lock();
        if *idle + self.unstarted.load(Ordering::SeqCst) == self.workers - 1
            && self.woken.load(Ordering::Relaxed) == 0
            && !self.is_shut_down()
        {
            self.solo.store(true, Ordering::Relaxed);
            self.solo_entries.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// For snapshots: the workers, how many are parked and how many not started, whether
    /// one runs solo, and how many times one went solo.
    pub fn worker_summary(&self) -> WorkerSummary {
        WorkerSummary {
            workers: self.workers,
            parked: self.idle_count.load(Ordering::SeqCst),
            unstarted: self.unstarted.load(Ordering::SeqCst),
            solo: self.is_solo(),
            solo_entries: self.solo_entries.load(Ordering::Relaxed),
        }
    }

    /// Stops being solo, between turns of the solo worker (`local`'s): from the next
    /// lock on, every worker uses atomics. (The lock's release hands the others what
    /// this worker wrote without atomics.)
    #[cold]
    #[inline(never)]
    pub(super) fn leave_solo(&self, local: &Local) {
        local.clear_wants_company();
        if self.workers > 1 && self.is_solo() {
            let _idle = self.idle.lock();
            self.solo.store(false, Ordering::Relaxed);
        }
    }

    /// Locks `task`'s execution for a turn.
    #[inline(always)]
    pub fn lock_exec<'a>(&self, task: &'a Task) -> SpinGuard<'a, TaskExec> {
        if self.is_solo() {
            // SAFETY: solo: only the solo worker's thread, which runs this, locks
            // executions until the mode changes between its turns (module docs;
            // `set_solo`'s contract).
            unsafe { task.exec().lock_unshared() }
        } else {
            task.exec().lock()
        }
    }

    /// Locks the execution of the task whose turn starts, through `task`, the run-queue
    /// entry's handle: without an atomic read-modify-write when solo, or when that handle
    /// is the task's only one (`out_of_reach`) — a task's first turn, as a rule.
    #[inline(always)]
    pub fn lock_exec_for_turn<'a>(&self, task: &'a Arc<Task>) -> SpinGuard<'a, TaskExec> {
        self.lock_out_of_reach(task, task.exec())
            .unwrap_or_else(|| self.lock_exec(task))
    }

    /// Locks `task`'s execution if it is free now.
    #[inline(always)]
    pub fn try_lock_exec<'a>(&self, task: &'a Task) -> Option<SpinGuard<'a, TaskExec>> {
        if self.is_solo() {
            // SAFETY: as in `lock_exec`.
            unsafe { task.exec().try_lock_unshared() }
        } else {
            task.exec().try_lock()
        }
    }

    /// Locks `task`'s state (its ending and awaiters): once per task, to finish it.
    #[inline(always)]
    pub fn lock_state<'a>(&self, task: &'a Task) -> SpinGuard<'a, TaskState> {
        if self.is_solo() {
            // SAFETY: solo: task states are locked by Qi code, by the endings the
            // reactor hands over, by snapshots and by the collector, and only the solo
            // worker's thread, which runs this, does any of those while the mode lasts.
            unsafe { task.state().lock_unshared() }
        } else {
            task.state().lock()
        }
    }

    /// `lock_state` for finishing `task` through a handle the caller holds: without an
    /// atomic read-modify-write when that is the only handle (`out_of_reach`), as for a
    /// `启动` task that finishes in its first turn.
    #[inline(always)]
    pub fn lock_state_to_finish<'a>(&self, task: &'a Arc<Task>) -> SpinGuard<'a, TaskState> {
        self.lock_out_of_reach(task, task.state())
            .unwrap_or_else(|| self.lock_state(task))
    }

    /// `lock`, one of `task`'s two locks, taken with a plain load and store if the caller's
    /// handle is the task's only one (`out_of_reach`); `None` otherwise, and when solo
    /// (the solo paths take it so already).
    #[inline(always)]
    fn lock_out_of_reach<'a, T>(
        &self,
        task: &Arc<Task>,
        lock: SpinRef<'a, T>,
    ) -> Option<SpinGuard<'a, T>> {
        if self.is_solo() || !out_of_reach(task) {
            return None;
        }
        // SAFETY: no other thread holds a handle to the task, strong or weak, and one can
        // only be made from this one. A handle the caller hands on (a waiter's, in a
        // channel's queue) is published under a lock or through a queue, whose release
        // orders this store before anything its taker does with the task. Such a taker
        // may run the task's next turn before it is recorded, its handle then the only
        // one: it finds the flag set and waits for this turn to let go (`lock_unshared`
        // spins on a set flag), and the turn never takes the lock again.
        Some(unsafe { lock.lock_unshared() })
    }

    /// Starts (`恢复`) coroutine `co` (see `CoroutineObj::start`).
    #[inline(always)]
    pub fn start_coroutine(
        &self,
        co: &CoroutineObj,
    ) -> Result<(Box<crate::fiber::Fiber>, Option<u16>), CoStatus> {
        if self.is_solo() {
            // SAFETY: solo: only the solo worker's thread, which runs this, runs Qi code
            // and collects, and only those change coroutines' statuses.
            unsafe { co.start_unshared() }
        } else {
            co.start()
        }
    }

    /// Locks a channel for an operation of a task's turn.
    #[inline(always)]
    pub fn lock_channel<'a>(&self, ch: &'a ChannelObj) -> SpinGuard<'a, ChanInner> {
        if self.is_solo() {
            // SAFETY: solo: only the solo worker's thread, which runs this, runs Qi code,
            // and only Qi code (and the collector, on a worker's thread too) locks
            // channels.
            unsafe { ch.inner.lock_unshared() }
        } else {
            ch.inner.lock()
        }
    }

    /// Claims `token`'s wait (see `WaitToken::claim`).
    #[inline(always)]
    pub fn claim<'t>(&self, token: &'t WaitToken) -> Option<Claim<'t>> {
        if self.is_solo() {
            // SAFETY: solo: only the solo worker's thread, which runs this, changes wait
            // words — the reactor hands its wake-ups over unclaimed (module docs).
            unsafe { token.claim_unshared() }
        } else {
            token.claim()
        }
    }

    /// The reactor hands `fired` to the workers (`may_solo`). It counts as active until a
    /// worker has acted on it, so that nobody sees the program quiescent meanwhile (the
    /// reactor stops counting a timer or a pool job only after this). Parked workers are
    /// woken by the `Fired::Batch` that ends each of the reactor's rounds, not once per
    /// event: a hundred thousand timers firing together had paid a wake-up each.
    pub fn defer(&self, fired: Fired) {
        self.active.fetch_add(1, Ordering::SeqCst);
        self.deferred.lock().push(fired);
        self.deferred_any.store(true, Ordering::SeqCst);
    }

    /// Whether the reactor has handed the workers something (`defer`).
    pub fn has_deferred(&self) -> bool {
        self.deferred_any.load(Ordering::SeqCst)
    }

    /// On a worker, between turns: acts on what the reactor handed over. (Inlined, a load:
    /// almost always there is nothing.)
    #[inline(always)]
    pub fn run_deferred(&self, local: &Local) {
        if self.deferred_any.load(Ordering::Relaxed) {
            self.act_on_deferred(local);
        }
    }

    /// The tasks this queues are counted as a turn's are, once at the end, and the events
    /// stop counting only after that: a hundred thousand timers firing together had paid
    /// two more atomic operations each.
    #[cold]
    #[inline(never)]
    fn act_on_deferred(&self, local: &Local) {
        if !self.deferred_any.swap(false, Ordering::AcqRel) {
            return;
        }
        let fired = std::mem::take(&mut *self.deferred.lock());
        let n = fired.len();
        local.set_in_turn(true);
        for f in fired {
            match f {
                Fired::Wake(token, wake) => self.reactor_wake(token, wake, Some(local)),
                Fired::Timer(token, wake) => self.timer_wake(token, wake, Some(local)),
                Fired::Complete(task, ending) => self.complete(&task, ending, Some(local)),
                Fired::TimeOut(c) => c.time_out(self, Some(local)),
                Fired::Batch | Fired::StartWorker => {}
            }
        }
        local.set_in_turn(false);
        self.settle(local, 0);
        self.active.fetch_sub(n, Ordering::SeqCst);
    }

    /// Asks a worker to print a snapshot of every task, as SIGQUIT does.
    pub fn request_snapshot(&self) {
        self.snapshot_wanted.store(true, Ordering::SeqCst);
        self.poke();
    }
}

/// Whether no thread but the caller's can reach `task`: the caller's handle is its only
/// one, strong or weak (a task is in the registry, with a weak handle, once it has
/// blocked or yielded). Nobody can then lock or read it until a new handle is made from
/// this one. Two loads, where `Arc::get_mut` takes a compare-and-swap.
#[inline(always)]
pub(super) fn out_of_reach(task: &Arc<Task>) -> bool {
    let alone = Arc::strong_count(task) == 1 && Arc::weak_count(task) == 0;
    if alone {
        // What threads that dropped their handles wrote is seen from here on, as the
        // acquiring decrement of the last drop would make it.
        std::sync::atomic::fence(Ordering::Acquire);
    }
    alone
}

/// `Arc::get_mut` for a task, with two loads instead of a compare-and-swap
/// (`out_of_reach`): a finished task kept for reuse and the kept task a spawn takes
/// (`recycle`), a million of each to spawn a million tasks.
#[inline(always)]
pub fn task_mut(task: &mut Arc<Task>) -> Option<&mut Task> {
    if !out_of_reach(task) {
        return None;
    }
    // SAFETY: `task` is the only handle, strong or weak, and it is borrowed mutably here
    // for as long as the result lives: no other reference to the task exists or can be
    // made meanwhile (the same condition under which `Arc::get_mut` gives one).
    Some(unsafe { &mut *Arc::as_ptr(task).cast_mut() })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;

    fn wait_until(what: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < Duration::from_secs(10), "{what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// A worker goes solo only while every other worker is parked; a parked worker that
    /// work wakes stays parked while another is solo, and leaves `park` once that one
    /// leaves the mode to wake it.
    #[test]
    fn a_parked_worker_stays_parked_while_another_runs_solo() {
        let mut sched = Scheduler::new(2, 100);
        sched.set_solo();
        // Counts as running, so the parked worker never sees the program quiescent.
        sched.activate();
        let sched = &sched;
        let solo = Local::new(0, false);
        assert!(!sched.is_solo());
        std::thread::scope(|s| {
            let parked = s.spawn(move || sched.park(&Local::new(1, false)));
            wait_until("the other parks", || {
                sched.review_solo(&solo);
                sched.is_solo()
            });
            assert_eq!(sched.worker_summary().solo_entries, 1);

            // Work it could take, and a wake-up: it must stay parked.
            sched.schedule(Arc::new(Task::new(7, None, true, None)), None, false);
            sched.poke();
            std::thread::sleep(Duration::from_millis(50));
            assert!(!parked.is_finished(), "left park while another was solo");
            assert!(sched.is_solo());

            // The solo worker queued work for company: it leaves the mode and wakes it.
            solo.want_company();
            sched.review_solo(&solo);
            assert!(!sched.is_solo());
            assert!(parked.join().expect("no panic"), "woke for the work");
        });
        sched.deactivate();
    }

    /// `task_mut` gives the task only through its sole handle: not while a clone or a
    /// weak handle (the registry's) lives.
    #[test]
    fn task_mut_needs_the_only_handle() {
        let mut task = Arc::new(Task::new(3, None, true, None));
        assert_eq!(task_mut(&mut task).map(|t| t.id), Some(3));
        let other = task.clone();
        assert!(task_mut(&mut task).is_none(), "a clone lives");
        drop(other);
        let weak = Arc::downgrade(&task);
        assert!(task_mut(&mut task).is_none(), "a weak handle lives");
        drop(weak);
        if let Some(t) = task_mut(&mut task) {
            t.id = 4;
        }
        assert_eq!(task.id, 4);
    }

    /// A task's first turn and its end lock without a compare-and-swap when the caller's
    /// handle is the only one, and with one otherwise; either way the lock is free again
    /// once the guard goes, and another thread holding a handle waits for it.
    #[test]
    fn a_task_out_of_reach_is_locked_without_a_compare_and_swap() {
        let sched = Scheduler::new(2, 100);
        let task = Arc::new(Task::new(5, None, true, None));
        assert!(out_of_reach(&task));
        drop(sched.lock_exec_for_turn(&task));
        drop(sched.lock_state_to_finish(&task));
        assert!(task.exec().try_lock().is_some() && task.state().try_lock().is_some());

        // Handed on while locked (as a waiter's handle is): another thread, locking through
        // its own handle, waits until the lock is let go. (This thread keeps its handle,
        // so the other one locks with a compare-and-swap; one that finds itself the only
        // handle spins on the set flag in `lock_unshared` the same way.)
        let guard = sched.lock_exec_for_turn(&task);
        let handle = task.clone();
        let sched = &sched;
        std::thread::scope(|s| {
            let other = s.spawn(move || {
                let task = handle;
                let mut exec = sched.lock_exec_for_turn(&task);
                exec.started = true;
            });
            std::thread::sleep(Duration::from_millis(20));
            assert!(!other.is_finished(), "took a held lock");
            drop(guard);
            other.join().expect("no panic");
        });
        assert!(task.exec().lock().started);
    }

    /// A worker told to wake keeps the others from going solo until it is out of its
    /// wait: otherwise it would find one solo, sleep again, and leave the work it was
    /// woken for to that one.
    #[test]
    fn a_worker_told_to_wake_keeps_the_others_from_going_solo_until_it_is_up() {
        let mut sched = Scheduler::new(2, 100);
        sched.set_solo();
        let solo = Local::new(0, false);
        // The other worker, parked as `park` counts it (not waiting on the condition
        // variable, so the wake-up below stays owed until it says it is up).
        *sched.idle.lock() += 1;
        sched.idle_count.fetch_add(1, Ordering::SeqCst);
        sched.notify();
        sched.review_solo(&solo);
        assert!(!sched.is_solo(), "went solo while a wake-up was owed");
        sched.came_out_of_wait(&sched.idle.lock());
        sched.review_solo(&solo);
        assert!(sched.is_solo(), "the woken worker is up and parked again");
        // A poke owes every parked worker a wake-up.
        sched.leave_solo(&solo);
        sched.poke();
        sched.review_solo(&solo);
        assert!(!sched.is_solo());
    }

    /// A worker not yet started counts as parked, so the first one goes solo alone; and
    /// `leave_solo`, which a worker calls before it parks so that the reactor's wake-ups
    /// can reach every worker, ends the mode.
    #[test]
    fn a_worker_goes_solo_before_the_others_start_and_leave_solo_ends_it() {
        let mut sched = Scheduler::new(2, 100);
        sched.set_solo();
        sched.defer_workers();
        let solo = Local::new(0, false);
        sched.review_solo(&solo);
        assert!(sched.is_solo(), "the other worker has not started");
        sched.leave_solo(&solo);
        assert!(!sched.is_solo());
    }

    /// With one worker, solo throughout; without `set_solo` (a host's runtime), never.
    #[test]
    fn one_worker_is_solo_throughout_and_a_hosted_scheduler_never() {
        let mut one = Scheduler::new(1, 100);
        one.set_solo();
        assert!(one.is_solo());
        let local = Local::new(0, true);
        one.leave_solo(&local);
        assert!(one.is_solo());

        let two = Scheduler::new(2, 100);
        two.review_solo(&Local::new(0, false));
        assert!(!two.is_solo());
    }
}
