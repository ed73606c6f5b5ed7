//! 列表: a growable vector of values, shared by reference, guarded by a lock.
//!
//! The lock is a [`SpinLock`]: every section under it is one element operation, or one
//! pass over the elements (a snapshot, `反转`, the collector's scan) — never a call into
//! Qi code; sorting and the like work on a snapshot and swap the result in. A `添加` or a
//! `对于` step is then one atomic operation instead of two.

use crate::spin::SpinLock;
use crate::value::{Value, drop_queue};

#[derive(Debug, Default)]
pub struct ListObj {
    pub items: SpinLock<Vec<Value>>,
}

impl ListObj {
    pub fn new(items: Vec<Value>) -> ListObj {
        ListObj {
            items: SpinLock::new(items),
        }
    }

    pub fn len(&self) -> usize {
        self.items.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.lock().is_empty()
    }

    /// A copy of the element at `i`, if in range.
    pub fn get(&self, i: usize) -> Option<Value> {
        self.items.lock().get(i).cloned()
    }

    /// A snapshot of the elements (one lock, then no lock held while the caller works).
    pub fn snapshot(&self) -> Vec<Value> {
        self.items.lock().clone()
    }
}

impl Drop for ListObj {
    fn drop(&mut self) {
        drop_queue::release(std::mem::take(self.items.get_mut()));
    }
}
