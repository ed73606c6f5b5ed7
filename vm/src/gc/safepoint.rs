//! Stopping the world for a collection.
//!
//! A collection must not run while any thread changes the object graph: the workers
//! between instructions, and host threads running a call inline. Each worker raises its
//! own flag for the length of a turn (its own cache line, so the common path is one store
//! and one load that no other core touches); host threads count in a shared counter,
//! which is rare. The collector sets `stop`, then waits until every flag is down; a
//! worker that sees `stop` when starting a turn lowers its flag and waits for the
//! collection to end. Both sides use sequentially consistent operations on their own
//! flag and on `stop`, so one of them always sees the other (as in Dekker's algorithm).
//!
//! Collections happen only where a worker stands between turns — a budget check, a
//! suspension, the end of a task — which is also where the JIT tier will leave native
//! code, so compiled code never has to stop in the middle.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// A flag alone on its cache line.
#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicBool);

pub struct Safepoint {
    stop: AtomicBool,
    busy: Box<[Padded]>,
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
            stop: AtomicBool::new(false),
            busy: (0..workers.max(1)).map(|_| Padded::default()).collect(),
            hosts: AtomicUsize::new(0),
            lock: Mutex::new(()),
            resumed: Condvar::new(),
        }
    }

    /// Worker `i` starts a turn (waiting first if a collection is on).
    #[inline]
    pub fn enter(&self, i: usize) {
        let Some(flag) = self.busy.get(i) else {
            return;
        };
        loop {
            flag.0.store(true, Ordering::SeqCst);
            if !self.stop.load(Ordering::SeqCst) {
                INSIDE.with(|c| c.set(true));
                return;
            }
            flag.0.store(false, Ordering::SeqCst);
            self.wait_while_stopped();
        }
    }

    /// Worker `i` ends its turn.
    #[inline]
    pub fn leave(&self, i: usize) {
        if let Some(flag) = self.busy.get(i) {
            INSIDE.with(|c| c.set(false));
            flag.0.store(false, Ordering::SeqCst);
        }
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

    /// From inside worker `i`'s turn (a native): steps out of the turn, stops the world,
    /// runs `f`, and steps back in. The worker's own task is not traced while it runs
    /// (an unfinished task is a root), so stepping out is safe. `None` when `i` is not a
    /// worker (a host thread running Qi inline) or another collection is on.
    pub fn stop_the_world_from_turn<R>(&self, i: usize, f: impl FnOnce() -> R) -> Option<R> {
        if i >= self.busy.len() {
            return None;
        }
        self.leave(i);
        let r = self.stop_the_world(f);
        self.enter(i);
        r
    }

    /// Stops every mutator, runs `f`, and lets them go on. `None` if another thread is
    /// collecting already (it will have done the work). Call only between turns.
    pub fn stop_the_world<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        if self.stop.swap(true, Ordering::SeqCst) {
            return None;
        }
        // Turns are short (one budget), so waiting for the last ones to end is brief.
        let mut spins = 0u32;
        while self.busy.iter().any(|b| b.0.load(Ordering::SeqCst))
            || self.hosts.load(Ordering::SeqCst) > 0
        {
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let r = f();
        {
            let _guard = self.lock.lock();
            self.stop.store(false, Ordering::SeqCst);
        }
        self.resumed.notify_all();
        Some(r)
    }
}
