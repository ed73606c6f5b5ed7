//! A lock for critical sections of a few dozen instructions that never block: a channel's
//! queues, a captured variable.
//!
//! `parking_lot::Mutex` takes one atomic read-modify-write to lock and another to unlock,
//! because a sleeping waiter must be told. On x86 each costs about 20 cycles even
//! uncontended, and a channel send or receive took four of them per item. Here nobody
//! sleeps: a waiter spins, then yields its thread, so unlocking is a plain release store
//! and a lock–unlock pair costs one read-modify-write.
//!
//! Only for sections that cannot block, call out, or run long: a holder that is descheduled
//! makes waiters yield until it runs again, which is fine for nanoseconds of work and wrong
//! for anything more. The one exception is a task's execution, held by the worker running
//! the task for a whole turn: everyone else only `try_lock`s it, or locks a task that
//! cannot be running (finished, or not yet scheduled).

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one thread at a time (a guard exists
// only while `locked` is held by it), exactly like `std::sync::Mutex`, so moving `T`
// between threads is all that is needed.
unsafe impl<T: Send> Send for SpinLock<T> {}
// SAFETY: as above: shared references to the lock give exclusive access to `T` only
// through a guard, one at a time.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T: Default> Default for SpinLock<T> {
    fn default() -> Self {
        SpinLock::new(T::default())
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpinLock { .. }")
    }
}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    #[inline]
    fn as_ref(&self) -> SpinRef<'_, T> {
        SpinRef {
            locked: &self.locked,
            value: &self.value,
        }
    }

    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        self.as_ref().lock()
    }

    /// The lock if it is free now.
    #[inline]
    pub fn try_lock(&self) -> Option<SpinGuard<'_, T>> {
        self.as_ref().try_lock()
    }

    /// `lock` without an atomic read-modify-write (see `SpinRef::lock_unshared`).
    ///
    /// # Safety
    ///
    /// No other thread may take or try this lock while this guard lives.
    #[inline]
    pub unsafe fn lock_unshared(&self) -> SpinGuard<'_, T> {
        // SAFETY: the caller's promise, passed on.
        unsafe { self.as_ref().lock_unshared() }
    }

    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

/// Two values, each behind a spin lock of its own, whose lock flags sit side by side with
/// `rest`: the owner's byte-sized fields fill the word that each flag would otherwise pad
/// out alone. (A task's execution and state, with its status and flags: 16 bytes less
/// per task than two `SpinLock`s and the flags beside them.)
pub struct SpinPair<A, B, R> {
    first: UnsafeCell<A>,
    second: UnsafeCell<B>,
    first_locked: AtomicBool,
    second_locked: AtomicBool,
    /// Not behind either lock.
    pub rest: R,
}

// SAFETY: as for `SpinLock`: each value is reached only through a guard holding its own
// flag (`SpinRef` pairs them, and only this module makes one), one thread at a time;
// `rest` is an ordinary field.
unsafe impl<A: Send, B: Send, R: Send> Send for SpinPair<A, B, R> {}
// SAFETY: as above; shared references reach `rest` as `&R`, hence `R: Sync`.
unsafe impl<A: Send, B: Send, R: Sync> Sync for SpinPair<A, B, R> {}

impl<A, B, R> SpinPair<A, B, R> {
    pub const fn new(first: A, second: B, rest: R) -> SpinPair<A, B, R> {
        SpinPair {
            first: UnsafeCell::new(first),
            second: UnsafeCell::new(second),
            first_locked: AtomicBool::new(false),
            second_locked: AtomicBool::new(false),
            rest,
        }
    }

    #[inline]
    pub fn first(&self) -> SpinRef<'_, A> {
        SpinRef {
            locked: &self.first_locked,
            value: &self.first,
        }
    }

    #[inline]
    pub fn second(&self) -> SpinRef<'_, B> {
        SpinRef {
            locked: &self.second_locked,
            value: &self.second,
        }
    }

    pub fn first_mut(&mut self) -> &mut A {
        self.first.get_mut()
    }

    pub fn second_mut(&mut self) -> &mut B {
        self.second.get_mut()
    }
}

/// A spin-locked value and its lock's flag. Only this module makes one, always pairing a
/// value with the one flag that guards it.
pub struct SpinRef<'a, T> {
    locked: &'a AtomicBool,
    value: &'a UnsafeCell<T>,
}

impl<T> Clone for SpinRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SpinRef<'_, T> {}

impl<'a, T> SpinRef<'a, T> {
    #[inline]
    pub fn lock(self) -> SpinGuard<'a, T> {
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            lock_contended(self.locked);
        }
        SpinGuard { lock: self }
    }

    /// The lock if it is free now.
    #[inline]
    pub fn try_lock(self) -> Option<SpinGuard<'a, T>> {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| SpinGuard { lock: self })
    }

    /// `lock` for a lock that only the calling thread takes while it holds it: a plain
    /// load and store instead of a compare-and-swap, whose locked instruction drains the
    /// store buffer (with one worker, such instructions were two fifths of a channel
    /// ping-pong's time). A flag found set (the thread holds it already, or held it
    /// through a path that did not promise) spins as `lock` does.
    ///
    /// # Safety
    ///
    /// No other thread may take or try this lock while this guard lives: a thread that
    /// does so between the load and the store would hold it too.
    #[inline]
    pub unsafe fn lock_unshared(self) -> SpinGuard<'a, T> {
        if self.locked.load(Ordering::Relaxed) {
            lock_contended(self.locked);
        } else {
            self.locked.store(true, Ordering::Relaxed);
        }
        SpinGuard { lock: self }
    }

    /// `try_lock` for a lock that only the calling thread takes (`lock_unshared`).
    ///
    /// # Safety
    ///
    /// As for `lock_unshared`.
    #[inline]
    pub unsafe fn try_lock_unshared(self) -> Option<SpinGuard<'a, T>> {
        if self.locked.load(Ordering::Relaxed) {
            return None;
        }
        self.locked.store(true, Ordering::Relaxed);
        Some(SpinGuard { lock: self })
    }
}

#[cold]
fn lock_contended(locked: &AtomicBool) {
    let mut spins = 0u32;
    loop {
        // Wait on a plain load, so waiters do not fight over the cache line.
        while locked.load(Ordering::Relaxed) {
            if spins < 6 {
                for _ in 0..1 << spins {
                    std::hint::spin_loop();
                }
                spins += 1;
            } else {
                // The holder may have lost its core: let it run.
                std::thread::yield_now();
            }
        }
        if locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
    }
}

pub struct SpinGuard<'a, T> {
    lock: SpinRef<'a, T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the value's own lock (`SpinRef` pairs them), so no
        // other reference to the value exists.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the value's own lock, and `&mut self` makes this the
        // only reference through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// The unshared forms take a free lock and refuse (or wait for) a held one, as the
    /// others do, and a guard from either releases the lock for both.
    #[test]
    fn unshared_locking_agrees_with_shared() {
        let lock = SpinLock::new(1);
        // SAFETY: this thread is the only one that ever touches `lock`.
        unsafe {
            let mut g = lock.lock_unshared();
            *g += 1;
            assert!(lock.try_lock().is_none());
            assert!(lock.as_ref().try_lock_unshared().is_none());
            drop(g);
            let g = lock.as_ref().try_lock_unshared().expect("free again");
            assert!(lock.try_lock().is_none());
            drop(g);
        }
        assert_eq!(*lock.lock(), 2);
    }

    #[test]
    fn threads_never_lose_an_update() {
        // More threads than this machine's cores, so holders get descheduled mid-section.
        let lock = Arc::new(SpinLock::new((0u64, 0u64)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut g = lock.lock();
                        // Two fields written apart: a torn section would leave them unequal.
                        g.0 += 1;
                        std::hint::black_box(&mut *g);
                        g.1 += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let g = lock.lock();
        assert_eq!(*g, (160_000, 160_000));
    }

    #[test]
    fn try_lock_fails_while_held() {
        let lock = SpinLock::new(0);
        let held = lock.lock();
        assert!(lock.try_lock().is_none());
        drop(held);
        assert!(lock.try_lock().is_some());
    }

    #[test]
    fn a_guard_dropped_by_a_panic_unlocks() {
        let lock = SpinLock::new(1);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _g = lock.lock();
            panic!("inside");
        }));
        assert!(r.is_err());
        assert_eq!(*lock.lock(), 1);
    }

    /// The pair's two locks are independent, each keeps its own value whole under
    /// contention, and the two flags share a word with `rest`.
    #[test]
    fn a_pairs_locks_guard_their_own_values() {
        let pair = Arc::new(SpinPair::new((0u64, 0u64), 0u64, [0u8; 6]));
        let held = pair.first().lock();
        assert!(pair.first().try_lock().is_none());
        assert!(pair.second().try_lock().is_some(), "the other lock is free");
        drop(held);
        let threads: Vec<_> = (0..6)
            .map(|i| {
                let pair = pair.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        if i % 2 == 0 {
                            let mut g = pair.first().lock();
                            g.0 += 1;
                            std::hint::black_box(&mut *g);
                            g.1 += 1;
                        } else {
                            *pair.second().lock() += 1;
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(*pair.first().lock(), (30_000, 30_000));
        assert_eq!(*pair.second().lock(), 30_000);
        assert_eq!(
            std::mem::size_of::<SpinPair<(u64, u64), u64, [u8; 6]>>(),
            32
        );
    }
}
