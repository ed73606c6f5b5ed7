//! Freeing deep object graphs without recursion.
//!
//! A list of lists a million deep would overflow the Rust stack if each `Drop` dropped its
//! children directly. Instead, every container's `Drop` hands its children to [`release`].
//! The outermost call on a thread drains a work list in a loop; calls made while draining
//! (from the children's own `Drop`s) only append to it. Stack depth stays constant.

use std::cell::{Cell, RefCell};

use super::Value;

thread_local! {
    static DRAINING: Cell<bool> = const { Cell::new(false) };
    static PENDING: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// Drops `children`, deferring any nested frees to the thread's work list.
pub fn release(children: impl IntoIterator<Item = Value>) {
    let mut children = children
        .into_iter()
        .filter(|v| v.tag().is_heap())
        .peekable();
    if children.peek().is_none() {
        return;
    }
    if DRAINING.with(Cell::get) {
        PENDING.with(|p| p.borrow_mut().extend(children));
        return;
    }
    DRAINING.with(|d| d.set(true));
    let mut work: Vec<Value> = children.collect();
    loop {
        while let Some(v) = work.pop() {
            // May run a container's Drop, which calls `release` and lands in PENDING.
            drop(v);
        }
        let more = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        if more.is_empty() {
            break;
        }
        work = more;
    }
    DRAINING.with(|d| d.set(false));
}

/// Drops one child value through the work list.
pub fn release_one(child: Value) {
    if child.tag().is_heap() {
        release(std::iter::once(child));
    }
}
