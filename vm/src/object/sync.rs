//! 互斥锁, 等待组 and 原子整数 (QI-LANGUAGE.md §7.4). Each blocks only the calling task.

use std::collections::VecDeque;
use std::sync::atomic::AtomicI64;

use parking_lot::Mutex;

use crate::sched::wait::WaitToken;

/// A lock for tasks. Unlocking hands the lock straight to the first waiter, so a waiter
/// that is woken holds it (no retry, no stampede).
#[derive(Default)]
pub struct MutexObj {
    pub inner: Mutex<LockState>,
}

#[derive(Default)]
pub struct LockState {
    pub locked: bool,
    pub waiters: VecDeque<WaitToken>,
}

impl std::fmt::Debug for MutexObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<互斥锁>")
    }
}

/// Counts outstanding work; `等待()` parks until the count is zero.
///
/// The count is an atomic, and the waiters are locked only by a task that waits and by
/// the change that brings the count to zero. So `完成` from many tasks is one atomic
/// read-modify-write each and no lock: with a lock around the count it was two, on a
/// cache line that every worker finishing a task fought over.
#[derive(Default)]
pub struct WaitGroupObj {
    pub count: AtomicI64,
    /// A waiter registers under this lock after seeing a count above zero; whoever brings
    /// the count to zero takes the waiters under it afterwards, so none is missed.
    pub waiters: Mutex<Vec<WaitToken>>,
}

impl std::fmt::Debug for WaitGroupObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<等待组>")
    }
}

#[derive(Debug, Default)]
pub struct AtomicIntObj {
    pub value: AtomicI64,
}
