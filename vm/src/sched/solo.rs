//! Solo scheduling: one worker thread is the only one that locks the scheduler's tasks'
//! executions and its channels, and claims its tasks' waits.
//!
//! `qi run` with one worker (`program::run_main`) runs every task on its own thread; the
//! reactor and the blocking pool only find out what is ready. Locking an execution or a
//! channel, or claiming a wait, with a compare-and-swap bought nothing there: nobody else
//! ever took those locks, yet a locked instruction drains the store buffer each time, and
//! a channel ping-pong took ten of them per round trip (`perf annotate`: two fifths of its
//! time on the instructions after them). So in solo mode those locks are taken, and waits
//! claimed, with a plain load and store (`SpinRef::lock_unshared`,
//! `WaitToken::claim_unshared`), and what the reactor would act on itself — a wake-up, a
//! timer, a host future's ending, a `限时等待` deadline, all of which claim waits or lock
//! executions — it hands to the worker instead (`defer`), which acts on it between turns
//! (`run_deferred`). The periodic snapshot thread asks the worker to print, as SIGQUIT
//! does, instead of reading the tasks itself.

use std::sync::atomic::Ordering;

use super::Scheduler;
use super::reactor::Fired;
use super::task::{Task, TaskExec};
use super::wait::{Claim, WaitToken};
use super::worker::Local;
use crate::object::{ChanInner, ChannelObj};
use crate::spin::SpinGuard;

impl Scheduler {
    /// Makes this scheduler solo (before any thread but the caller uses it): the caller's
    /// thread is its one worker, and no other thread will run Qi code or lock its tasks'
    /// executions or its channels. `qi run` with one worker.
    pub fn set_solo(&mut self) {
        self.solo = self.workers == 1;
    }

    pub fn is_solo(&self) -> bool {
        self.solo
    }

    /// Locks `task`'s execution for a turn.
    #[inline(always)]
    pub fn lock_exec<'a>(&self, task: &'a Task) -> SpinGuard<'a, TaskExec> {
        if self.solo {
            // SAFETY: solo: only the worker thread, which runs this, locks executions
            // (module docs; `set_solo`'s contract).
            unsafe { task.exec().lock_unshared() }
        } else {
            task.exec().lock()
        }
    }

    /// Locks `task`'s execution if it is free now.
    #[inline(always)]
    pub fn try_lock_exec<'a>(&self, task: &'a Task) -> Option<SpinGuard<'a, TaskExec>> {
        if self.solo {
            // SAFETY: as in `lock_exec`.
            unsafe { task.exec().try_lock_unshared() }
        } else {
            task.exec().try_lock()
        }
    }

    /// Locks a channel for an operation of a task's turn.
    #[inline(always)]
    pub fn lock_channel<'a>(&self, ch: &'a ChannelObj) -> SpinGuard<'a, ChanInner> {
        if self.solo {
            // SAFETY: solo: only the worker thread, which runs this, runs Qi code, and
            // only Qi code (and the collector, on that thread too) locks channels.
            unsafe { ch.inner.lock_unshared() }
        } else {
            ch.inner.lock()
        }
    }

    /// Claims `token`'s wait (see `WaitToken::claim`).
    #[inline(always)]
    pub fn claim<'t>(&self, token: &'t WaitToken) -> Option<Claim<'t>> {
        if self.solo {
            // SAFETY: solo: only the worker thread, which runs this, changes wait words —
            // the reactor hands its wake-ups over unclaimed (module docs).
            unsafe { token.claim_unshared() }
        } else {
            token.claim()
        }
    }

    /// Solo: the reactor hands `fired` to the worker. It counts as active until the worker
    /// has acted on it, so that nobody sees the program quiescent meanwhile (the reactor
    /// stops counting a timer or a pool job only after this). The worker, if parked, is
    /// woken by the `Fired::Batch` that ends each of the reactor's rounds, not once per
    /// event: a hundred thousand timers firing together had paid a wake-up each.
    pub fn defer(&self, fired: Fired) {
        self.active.fetch_add(1, Ordering::SeqCst);
        self.deferred.lock().push(fired);
        self.deferred_any.store(true, Ordering::SeqCst);
    }

    /// Whether the reactor has handed the worker something (`defer`).
    pub fn has_deferred(&self) -> bool {
        self.deferred_any.load(Ordering::SeqCst)
    }

    /// On the solo worker, between turns: acts on what the reactor handed over. (Inlined,
    /// a load: almost always there is nothing.)
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
        self.settle(local, false);
        self.active.fetch_sub(n, Ordering::SeqCst);
    }

    /// Asks a worker to print a snapshot of every task, as SIGQUIT does.
    pub fn request_snapshot(&self) {
        self.snapshot_wanted.store(true, Ordering::SeqCst);
        self.poke();
    }
}
