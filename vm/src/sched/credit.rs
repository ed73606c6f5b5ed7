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
//! References in hand keep the closure, and what it captures, alive. They go back
//! (`release`) when the worker runs out of work, when it ends a turn that neither spawned
//! with the closure nor finished a task of it, and when the worker goes away. So a closure
//! that holds a file or a socket is let go of at the end of the next turn at the latest,
//! where it used to be let go of when its last task finished. The cycle collector sees a
//! reference in hand as one from outside the graph it examines: the closure stays alive.

use std::cell::Cell;
use std::sync::Arc;

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
    pub fn take(&self, c: &Closure) -> Value {
        let ptr: *const Closure = c;
        if self.on && self.closure.get() == ptr && self.held.get() != 0 {
            self.held.set(self.held.get() - 1);
            self.used.set(true);
            // SAFETY: one of the counts this holder owned on `ptr` (non-zero `held`)
            // moves to the new `Arc`.
            return Value::object(unsafe { Arc::from_raw(ptr) });
        }
        if self.on {
            return self.take_new(ptr);
        }
        counted(ptr)
    }

    /// `take` with none of `ptr`'s in hand: a batch of them if none of another closure's
    /// are held either, else a reference counted the usual way.
    #[inline(never)]
    fn take_new(&self, ptr: *const Closure) -> Value {
        if self.held.get() != 0 && self.closure.get() != ptr {
            return counted(ptr);
        }
        self.closure.set(ptr);
        for _ in 0..BATCH {
            // SAFETY: `ptr` points at the data of a live `Arc<Closure>` (`take`'s caller
            // holds one); each increment is a count this holder now owns.
            unsafe { Arc::increment_strong_count(ptr) };
        }
        self.held.set(BATCH - 1);
        self.used.set(true);
        // SAFETY: one of the counts just taken moves to the new `Arc`.
        Value::object(unsafe { Arc::from_raw(ptr) })
    }

    /// Takes over a finished task's reference to its closure.
    #[inline]
    pub fn give(&self, c: Arc<Closure>) {
        let ptr = Arc::as_ptr(&c);
        if !self.on || self.closure.get() != ptr {
            if !self.on || self.held.get() != 0 {
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
            self.give_back(held - BATCH);
        }
    }

    /// At the end of a turn: the references go back unless the turn took or gave one, so
    /// that none are held through turns that have nothing to do with their closure.
    #[inline]
    pub fn end_turn(&self) {
        if !self.used.replace(false) && self.held.get() != 0 {
            self.release();
        }
    }

    /// Every reference in hand goes back; the last one may free the closure.
    pub fn release(&self) {
        let n = self.held.get();
        self.give_back(n);
        self.closure.set(std::ptr::null());
    }

    /// `n` of the references in hand go back.
    fn give_back(&self, n: u32) {
        let ptr = self.closure.get();
        // Recorded first: freeing the closure drops what it captured, which may be
        // anything — though nothing dropped reaches this worker's credit.
        self.held.set(self.held.get() - n);
        for _ in 0..n {
            // SAFETY: each of the `n` counts was owned by this holder (`held` counted it),
            // and is given up once here.
            unsafe { Arc::decrement_strong_count(ptr) };
        }
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
        let Ok(shared) = crate::vm::VmBuilder::new().build() else {
            panic!("an empty VM builds");
        };
        let file = qi_bytecode::source::SourceFile::new("测试.qi", "变量 x = 1;\n");
        let module = match crate::loader::load_text(&shared, file, "测试", false, false) {
            Ok(loaded) => loaded.module,
            Err(d) => panic!("compiles: {} diagnostics", d.len()),
        };
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
        let credit = Credit::new(true);
        let taken: Vec<Value> = (0..10).map(|_| credit.take(&c)).collect();
        assert_eq!(Arc::strong_count(&c), 1 + BATCH as usize);
        assert_eq!(credit.held(), BATCH - 10);
        for v in taken {
            credit.give(v.into_arc::<Closure>().unwrap_or_else(|_| panic!()));
        }
        assert_eq!(credit.held(), BATCH);
        assert_eq!(Arc::strong_count(&c), 1 + BATCH as usize);
        credit.release();
        assert_eq!(Arc::strong_count(&c), 1);
        assert_eq!(credit.held(), 0);
    }

    /// Past `MAX_HELD`, all but a batch go back.
    #[test]
    fn holds_at_most_max() {
        let c = closure();
        let credit = Credit::new(true);
        for _ in 0..=MAX_HELD {
            credit.give(c.clone());
        }
        assert_eq!(credit.held(), BATCH);
        assert_eq!(Arc::strong_count(&c), 1 + BATCH as usize);
    }

    /// Another closure is counted and dropped the usual way while one is in hand.
    #[test]
    fn another_closure_is_counted_as_usual() {
        let (a, b) = (closure(), closure());
        let credit = Credit::new(true);
        let from_a = credit.take(&a);
        let from_b = credit.take(&b);
        assert_eq!(Arc::strong_count(&b), 2);
        drop(from_b);
        credit.give(b.clone());
        assert_eq!(Arc::strong_count(&b), 1, "dropped, not held");
        drop(from_a);
        drop(credit);
        assert_eq!(Arc::strong_count(&a), 1, "released when the holder goes");
    }

    /// A turn that neither takes nor gives lets go of what is in hand; one that does
    /// keeps it.
    #[test]
    fn an_unrelated_turn_releases() {
        let c = closure();
        let credit = Credit::new(true);
        credit.give(c.clone());
        credit.end_turn();
        assert_eq!(credit.held(), 1, "the turn gave");
        credit.end_turn();
        assert_eq!(credit.held(), 0, "the turn did nothing with it");
        assert_eq!(Arc::strong_count(&c), 1);
    }

    /// The last reference in hand frees the closure, and what it captured, on release.
    #[test]
    fn release_can_free() {
        let c = closure();
        let weak = Arc::downgrade(&c);
        let credit = Credit::new(true);
        credit.give(c);
        assert!(weak.upgrade().is_some());
        credit.release();
        assert!(weak.upgrade().is_none());
    }
}
