//! 互斥锁, 等待组 and 原子整数 (QI-LANGUAGE.md §7.4). Each blocks only the calling task.

use std::collections::VecDeque;
use std::sync::Arc;
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
    pub waiters: VecDeque<Arc<WaitToken>>,
}

impl std::fmt::Debug for MutexObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<互斥锁>")
    }
}

/// Counts outstanding work; `等待()` parks until the count is zero.
#[derive(Default)]
pub struct WaitGroupObj {
    pub inner: Mutex<GroupState>,
}

#[derive(Default)]
pub struct GroupState {
    pub count: i64,
    pub waiters: Vec<Arc<WaitToken>>,
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
