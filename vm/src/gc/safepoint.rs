//! Stopping the world for a collection.
//!
//! A collection must not run while any thread changes the object graph: the workers
//! between instructions, and host threads running a call inline. The collector sets
//! `stop` and waits until every worker is either idle (parked with nothing to run) or has
//! acknowledged at the start of a turn, and no host thread is inside. A worker checks
//! `stop` at the start of every turn — a plain load on x86, which is what keeps the
//! common path free — and waits at the barrier while it is set.
//!
//! The one race is a worker leaving idle just as the collector counts it idle. Both sides
//! use sequentially consistent operations there (the worker lowers the idle count, then
//! reads `stop`; the collector sets `stop`, then reads the idle count), so in their single
//! total order one of them sees the other, as in Dekker's algorithm: either the
//! collector does not count the worker idle, or the worker sees `stop` and waits.
//!
//! Collections happen only where a worker stands between turns — a budget check, a
//! suspension, the end of a task — which is also where the JIT tier will leave native
//! code, so compiled code never has to stop in the middle.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

pub struct Safepoint {
    workers: usize,
    stop: AtomicBool,
    /// Workers waiting at the barrier.
    acked: AtomicUsize,
    /// Host threads running Qi code inline.
    hosts: AtomicUsize,
    lock: Mutex<()>,
    resumed: Condvar,
}

thread_local! {
    /// This thread is inside a turn or an inline host call already (a host function
    /// called from Qi that calls back into the VM must not wait for itself).
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

impl Safepoint {
    pub fn new(workers: usize) -> Safepoint {
        Safepoint {
            workers: workers.max(1),
            stop: AtomicBool::new(false),
            acked: AtomicUsize::new(0),
            hosts: AtomicUsize::new(0),
            lock: Mutex::new(()),
            resumed: Condvar::new(),
        }
    }

    /// A worker starts a turn (waiting first if a collection is on).
    #[inline]
    pub fn enter(&self) {
        if self.stop.load(Ordering::SeqCst) {
            self.acked.fetch_add(1, Ordering::SeqCst);
            self.wait_while_stopped();
            self.acked.fetch_sub(1, Ordering::SeqCst);
        }
        INSIDE.with(|c| c.set(true));
    }

    /// Whether a collection waits for the workers to stop (they do at their next turn).
    #[inline(always)]
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A worker ends its turn.
    #[inline]
    pub fn leave(&self) {
        INSIDE.with(|c| c.set(false));
    }

    /// A host thread starts running Qi code inline. `false`: it was inside already, and
    /// must not call [`Safepoint::leave_host`].
    pub fn enter_host(&self) -> bool {
        if INSIDE.with(Cell::get) {
            return false;
        }
        loop {
            self.hosts.fetch_add(1, Ordering::SeqCst);
            if !self.stop.load(Ordering::SeqCst) {
                INSIDE.with(|c| c.set(true));
                return true;
            }
            self.hosts.fetch_sub(1, Ordering::SeqCst);
            self.wait_while_stopped();
        }
    }

    pub fn leave_host(&self) {
        INSIDE.with(|c| c.set(false));
        self.hosts.fetch_sub(1, Ordering::SeqCst);
    }

    fn wait_while_stopped(&self) {
        let mut guard = self.lock.lock();
        while self.stop.load(Ordering::SeqCst) {
            self.resumed.wait_for(&mut guard, Duration::from_millis(10));
        }
    }

    /// Stops every mutator, runs `f`, and lets them go on. `idle` counts the scheduler's
    /// parked workers and those not started yet; `caller_is_worker` when the caller is a
    /// worker between turns (or inside one, in a native that steps out). `None` if
    /// another thread is collecting already, or if `ended` says the scheduler has shut
    /// down while this one waited: a worker that saw the end leaves for good without
    /// coming to the barrier, and waiting for it hung the program (one run in three of a
    /// program that failed on one worker while the other began a collection, under
    /// `QI_GC=stress`).
    pub fn stop_the_world<R>(
        &self,
        idle: &dyn Fn() -> usize,
        ended: &dyn Fn() -> bool,
        caller_is_worker: bool,
        f: impl FnOnce() -> R,
    ) -> Option<R> {
        if self.stop.swap(true, Ordering::SeqCst) {
            return None;
        }
        let me = usize::from(caller_is_worker);
        // Turns are short (one budget), so waiting for the last ones to end is brief.
        let mut spins = 0u32;
        while self.acked.load(Ordering::SeqCst) + idle() + me < self.workers
            || self.hosts.load(Ordering::SeqCst) > 0
        {
            if ended() {
                self.resume();
                return None;
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let r = f();
        self.resume();
        Some(r)
    }

    /// Lets the stopped threads go on.
    fn resume(&self) {
        {
            let _guard = self.lock.lock();
            self.stop.store(false, Ordering::SeqCst);
        }
        self.resumed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A collection waits for a worker in its turn, and runs once it comes to the barrier.
    #[test]
    fn a_collection_waits_for_a_worker_at_the_barrier() {
        let sp = std::sync::Arc::new(Safepoint::new(2));
        let worker = {
            let sp = sp.clone();
            std::thread::spawn(move || {
                // Mid-turn for a while, then the next turn's start: the barrier.
                std::thread::sleep(Duration::from_millis(20));
                sp.enter();
                sp.leave();
            })
        };
        let ran = sp.stop_the_world(&|| 0, &|| false, true, || true);
        assert_eq!(ran, Some(true));
        worker
            .join()
            .expect("the worker goes on after the collection");
    }

    /// A worker that has left for good never comes to the barrier: once the scheduler has
    /// ended, the collection gives up instead of waiting for ever, and lets others go on.
    #[test]
    fn a_collection_gives_up_when_the_scheduler_has_ended() {
        let sp = Safepoint::new(2);
        let ended = AtomicBool::new(false);
        let checks = AtomicUsize::new(0);
        let ran = sp.stop_the_world(
            &|| 0,
            &|| {
                // The end comes while the collector waits.
                if checks.fetch_add(1, Ordering::SeqCst) == 100 {
                    ended.store(true, Ordering::SeqCst);
                }
                ended.load(Ordering::SeqCst)
            },
            true,
            || true,
        );
        assert_eq!(ran, None);
        assert!(!sp.stop.load(Ordering::SeqCst), "the world goes on");
        sp.enter();
        sp.leave();
    }
}
