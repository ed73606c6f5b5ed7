//! References to one closure that a worker holds in hand, so that spawning and finishing
//! tasks of a `启动 { … }` loop do not change the closure's count one by one.
//!
//! A loop that runs `启动 { … }` spawns every task with the one closure its `TaskClosure`
//! keeps (`interp::misc::kept_closure`), and each task holds a reference to it while it
//! runs (frame invariant 3). Counted one at a time, the spawning worker raised the count
//! and the worker that ran the task lowered it. With two workers, the cache line holding
//! the count — and the closure's captures, which every task reads — went from one core to
//! the other two or three times per task: a tenth of a million spawns' samples.
//!
//! So a worker keeps references to one closure in hand ([`Credit`]). A task that finishes
//! here gives its reference to the worker instead of dropping it; a spawn takes one from
//! the worker instead of raising the count; and the count changes in bursts of
//! [`BATCH`], a few times per hundred tasks, by one worker at a time.
//!
//! With two workers, one spawns and both finish tasks, so the spawner runs out of
//! references and the other collects them. Past [`MAX_HELD`], a worker deposits the
//! surplus in the scheduler's [`Bank`] (one lock for a few hundred), and a worker that
//! runs out withdraws from there before it counts new ones.
//!
//! References in hand or in the bank keep the closure, and what it captures, alive. They
//! go back (`release`) when a worker runs out of work and parks, when it ends a turn that
//! neither spawned with the closure nor finished a task of it, and when the worker or the
//! scheduler goes away. So a closure that holds a file or a socket is let go of at the end
//! of the next turn, or some tens of microseconds after the last one (a worker looks for
//! work a while before it parks), where it used to be let go of when its last task
//! finished. The cycle collector sees such a reference as one from outside the graph it
//! examines: the closure stays alive.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::object::Closure;
use crate::value::Value;

/// How many references a worker takes at once when it has none left to spawn with.
pub const BATCH: u32 = 64;
/// The most a worker holds; past it, all but `BATCH` go back.
pub const MAX_HELD: u32 = 256;

/// A worker's references in hand. Only its own thread touches it.
pub struct Credit {
    /// Off on a worker that runs alone, where the count's line never leaves its core: a
    /// locked increment there costs less than the bookkeeping (a million spawns on one
    /// worker, 133 → 139 ms with it on).
    on: bool,
    /// The closure they are to (`Arc::into_raw`'s pointer), null when none are held.
    closure: Cell<*const Closure>,
    /// How many: each is one count of `closure`'s that this holder owns.
    held: Cell<u32>,
    /// Whether the running turn took or gave one (see `end_turn`).
    used: Cell<bool>,
}

impl Credit {
    /// A worker's credit; `on` unless the worker runs alone.
    pub fn new(on: bool) -> Credit {
        Credit {
            on,
            closure: Cell::new(std::ptr::null()),
            held: Cell::new(0),
            used: Cell::new(false),
        }
    }

    /// A counted reference to `c` for a new task: one in hand when there is one.
    /// (`c` is borrowed from a value the caller holds, so its count is above zero.)
    #[inline(always)]
    pub fn take(&self, c: &Closure, bank: &Bank) -> Value {
        let ptr: *const Closure = c;
        if self.on && self.closure.get() == ptr && self.held.get() != 0 {
            self.held.set(self.held.get() - 1);
            self.used.set(true);
            // SAFETY: one of the counts this holder owned on `ptr` (non-zero `held`)
            // moves to the new `Arc`.
            return Value::object(unsafe { Arc::from_raw(ptr) });
        }
        if self.on {
            return self.take_new(ptr, bank);
        }
        counted(ptr)
    }

    /// `take` with none of `ptr`'s in hand: a batch of them, from the bank or counted
    /// anew, if none of another closure's are held either; else a reference counted the
    /// usual way.
    #[inline(never)]
    fn take_new(&self, ptr: *const Closure, bank: &Bank) -> Value {
        if self.held.get() != 0 && self.closure.get() != ptr {
            return counted(ptr);
        }
        self.closure.set(ptr);
        let mut got = bank.withdraw(ptr, MAX_HELD / 2);
        if got == 0 {
            for _ in 0..BATCH {
                // SAFETY: `ptr` points at the data of a live `Arc<Closure>` (`take`'s
                // caller holds one); each increment is a count this holder now owns.
                unsafe { Arc::increment_strong_count(ptr) };
            }
            got = BATCH;
        }
        self.held.set(got - 1);
        self.used.set(true);
        // SAFETY: one of the counts just taken moves to the new `Arc`.
        Value::object(unsafe { Arc::from_raw(ptr) })
    }

    /// Takes over a finished task's reference to its closure.
    #[inline]
    pub fn give(&self, c: Arc<Closure>, bank: &Bank) {
        let ptr = Arc::as_ptr(&c);
        if !self.on {
            return;
        }
        if self.closure.get() != ptr {
            if self.held.get() != 0 {
                // Another closure's are in hand: this one is dropped the usual way.
                return;
            }
            self.closure.set(ptr);
        }
        let _ = Arc::into_raw(c);
        let held = self.held.get() + 1;
        self.held.set(held);
        self.used.set(true);
        if held > MAX_HELD {
            let surplus = held - BATCH;
            self.held.set(BATCH);
            // The counts move to the bank, or go back if it holds another closure's.
            if !bank.deposit(ptr, surplus) {
                give_back(ptr, surplus);
            }
        }
    }

    /// At the end of a turn: the references in hand, and those in the bank, go back unless
    /// the turn took or gave one, so that none are held through turns that have nothing
    /// to do with their closure.
    #[inline(always)]
    pub fn end_turn(&self, bank: &Bank) {
        // Off, nothing is held here or banked by this worker.
        if self.on && !self.used.replace(false) {
            if self.held.get() != 0 {
                self.release();
            }
            bank.release();
        }
    }

    /// Every reference in hand goes back; the last one may free the closure.
    pub fn release(&self) {
        // Recorded first: freeing the closure drops what it captured, which may be
        // anything — though nothing dropped reaches this worker's credit.
        let n = self.held.replace(0);
        let ptr = self.closure.replace(std::ptr::null());
        give_back(ptr, n);
    }

    /// How many references are in hand (for tests).
    #[cfg(test)]
    pub fn held(&self) -> u32 {
        self.held.get()
    }
}

// SAFETY: what a `Credit` owns is counts of an `Arc<Closure>`, which is `Send`: moving the
// holder to another thread (a worker's `Local` is made before its thread starts) moves
// those counts with it. It is not `Sync`: only the thread that owns it touches it.
unsafe impl Send for Credit {}

/// Gives up `n` counts of the closure at `ptr` that the caller owned.
fn give_back(ptr: *const Closure, n: u32) {
    for _ in 0..n {
        // SAFETY: each of the `n` counts was owned by the caller (a credit's `held` or the
        // bank's counted it, and no longer does), and is given up once here.
        unsafe { Arc::decrement_strong_count(ptr) };
    }
}

/// References to one closure that workers had past [`MAX_HELD`], for one that runs out
/// (see the module docs).
#[derive(Default)]
pub struct Bank {
    deposit: Mutex<Deposit>,
    /// Whether the deposit holds any, read without the lock.
    any: AtomicBool,
}

/// What the bank holds: `held` counts of the closure at `closure`, which it owns.
struct Deposit {
    closure: *const Closure,
    held: u32,
}

impl Default for Deposit {
    fn default() -> Deposit {
        Deposit {
            closure: std::ptr::null(),
            held: 0,
        }
    }
}

// SAFETY: a `Deposit` owns counts of an `Arc<Closure>`, which is `Send`; the bank's mutex
// lets one thread at a time touch it.
unsafe impl Send for Deposit {}

impl Bank {
    /// Takes over `n` counts of the closure at `ptr` from the caller, unless the bank
    /// holds another closure's (`false`: the caller keeps them).
    fn deposit(&self, ptr: *const Closure, n: u32) -> bool {
        let mut d = self.deposit.lock();
        if d.held != 0 && d.closure != ptr {
            return false;
        }
        d.closure = ptr;
        d.held += n;
        self.any.store(true, Ordering::Relaxed);
        true
    }

    /// Up to `most` counts of the closure at `ptr` for the caller to own; 0 if the bank
    /// holds none of it.
    fn withdraw(&self, ptr: *const Closure, most: u32) -> u32 {
        if !self.any.load(Ordering::Relaxed) {
            return 0;
        }
        let mut d = self.deposit.lock();
        if d.closure != ptr {
            return 0;
        }
        let n = d.held.min(most);
        d.held -= n;
        if d.held == 0 {
            self.any.store(false, Ordering::Relaxed);
        }
        n
    }

    /// Every count in the bank goes back; the last one may free the closure.
    #[inline(always)]
    pub fn release(&self) {
        if self.any.load(Ordering::Relaxed) {
            self.release_held();
        }
    }

    #[inline(never)]
    fn release_held(&self) {
        let (ptr, n) = {
            let mut d = self.deposit.lock();
            self.any.store(false, Ordering::Relaxed);
            let taken = std::mem::take(&mut *d);
            (taken.closure, taken.held)
        };
        give_back(ptr, n);
    }
}

impl Drop for Bank {
    fn drop(&mut self) {
        self.release();
    }
}

/// A new counted reference to the closure at `ptr`, of which the caller holds one.
#[inline(always)]
fn counted(ptr: *const Closure) -> Value {
    // SAFETY: `ptr` points at the data of a live `Arc<Closure>` (see `Credit::take`); the
    // increment gives the new `Arc` its own count.
    Value::object(unsafe {
        Arc::increment_strong_count(ptr);
        Arc::from_raw(ptr)
    })
}

impl Drop for Credit {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Closure;

    /// A new closure of a small module's top level.
    fn closure() -> Arc<Closure> {
        let module = crate::loader::test_module("变量 x = 1;\n");
        let Some(main) = module.main.as_obj::<Closure>() else {
            panic!("a top level");
        };
        Arc::new(Closure {
            info: main.info.clone(),
            upvalues: Default::default(),
        })
    }

    /// Taking and giving back in steady state leaves the count alone, and every reference
    /// in hand goes back on release.
    #[test]
    fn counts_balance() {
        let c = closure();
        let (credit, bank) = (Credit::new(true), Bank::default());
        let taken: Vec<Value> = (0..10).map(|_| credit.take(&c, &bank)).collect();
        assert_eq!(Arc::strong_count(&c), 1 + BATCH as usize);
        assert_eq!(credit.held(), BATCH - 10);
        for v in taken {
            credit.give(v.into_arc::<Closure>().unwrap_or_else(|_| panic!()), &bank);
        }
        assert_eq!(credit.held(), BATCH);
        assert_eq!(Arc::strong_count(&c), 1 + BATCH as usize);
        credit.release();
        assert_eq!(Arc::strong_count(&c), 1);
        assert_eq!(credit.held(), 0);
    }

    /// Past `MAX_HELD`, all but a batch go to the bank, where a worker that has none takes
    /// them instead of counting new ones; what the bank still holds goes back on release.
    #[test]
    fn the_surplus_goes_through_the_bank() {
        let c = closure();
        let bank = Bank::default();
        let (runner, spawner) = (Credit::new(true), Credit::new(true));
        for _ in 0..=MAX_HELD {
            runner.give(c.clone(), &bank);
        }
        let total = 1 + MAX_HELD as usize + 1;
        assert_eq!(runner.held(), BATCH);
        assert_eq!(Arc::strong_count(&c), total, "moved, not dropped");
        let taken = spawner.take(&c, &bank);
        assert_eq!(spawner.held(), MAX_HELD / 2 - 1, "withdrawn");
        assert_eq!(Arc::strong_count(&c), total, "no new count");
        drop(taken);
        runner.release();
        spawner.release();
        bank.release();
        assert_eq!(Arc::strong_count(&c), 1);
    }

    /// The bank holds one closure's at a time: another's surplus goes back.
    #[test]
    fn the_bank_refuses_another_closure() {
        let (a, b) = (closure(), closure());
        let bank = Bank::default();
        let credit = Credit::new(true);
        for _ in 0..=MAX_HELD {
            credit.give(a.clone(), &bank);
        }
        credit.release();
        for _ in 0..=MAX_HELD {
            credit.give(b.clone(), &bank);
        }
        assert_eq!(
            Arc::strong_count(&b),
            1 + BATCH as usize,
            "surplus went back"
        );
        drop(credit);
        drop(bank);
        assert_eq!((Arc::strong_count(&a), Arc::strong_count(&b)), (1, 1));
    }

    /// Another closure is counted and dropped the usual way while one is in hand.
    #[test]
    fn another_closure_is_counted_as_usual() {
        let (a, b) = (closure(), closure());
        let (credit, bank) = (Credit::new(true), Bank::default());
        let from_a = credit.take(&a, &bank);
        let from_b = credit.take(&b, &bank);
        assert_eq!(Arc::strong_count(&b), 2);
        drop(from_b);
        credit.give(b.clone(), &bank);
        assert_eq!(Arc::strong_count(&b), 1, "dropped, not held");
        drop(from_a);
        drop(credit);
        assert_eq!(Arc::strong_count(&a), 1, "released when the holder goes");
    }

    /// A turn that neither takes nor gives lets go of what is in hand, and of what is in
    /// the bank; one that does keeps it.
    #[test]
    fn an_unrelated_turn_releases() {
        let c = closure();
        let (credit, bank) = (Credit::new(true), Bank::default());
        for _ in 0..=MAX_HELD {
            credit.give(c.clone(), &bank);
        }
        credit.end_turn(&bank);
        assert_eq!(credit.held(), BATCH, "the turn gave");
        assert!(
            Arc::strong_count(&c) > 1 + BATCH as usize,
            "the bank holds some"
        );
        credit.end_turn(&bank);
        assert_eq!(credit.held(), 0, "the turn did nothing with it");
        assert_eq!(Arc::strong_count(&c), 1);
    }

    /// The last reference in hand frees the closure, and what it captured, on release.
    #[test]
    fn release_can_free() {
        let c = closure();
        let weak = Arc::downgrade(&c);
        let (credit, bank) = (Credit::new(true), Bank::default());
        credit.give(c, &bank);
        assert!(weak.upgrade().is_some());
        credit.release();
        assert!(weak.upgrade().is_none());
    }
}
