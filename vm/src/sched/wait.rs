//! Wake-ups: how a parked task is woken exactly once.
//!
//! A task that blocks gets a [`WaitToken`] and hands clones of it to everything that might
//! wake it (a channel's waiter queue, the timer heap, the task it awaits, a `选择`'s several
//! channels). The first to [`fire`](WaitToken::fire) it wins: it stores the wake value and
//! schedules the task. Later attempts find it fired and do nothing, and queues drop fired
//! tokens lazily when they meet them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::task::Task;
use crate::spin::SpinLock;
use crate::value::Value;

/// What a woken task finds.
#[derive(Debug)]
pub enum Wake {
    /// The operation produced this value (a received item, an awaited result, 空).
    Value(Value),
    /// The operation failed with this thrown value (E6005 cancellation, E6004 timeout, an
    /// awaited task's error …).
    Throw(Value),
    /// A `对于` loop's source ended (closed channel).
    End,
    /// A `选择` chose case `index`, receiving `value` (空 for other cases). (A `u32`, and
    /// the rare `AwaitError` boxed, keep a `Wake` at 24 bytes and a wait token in
    /// mimalloc's 64-byte class: one per parked task.)
    Case(u32, Value),
    /// An awaited task failed with this value: rethrown with the await in the stack.
    AwaitError(Box<(Value, Arc<Task>)>),
    /// Run the blocked call again (a socket became ready: try the read or accept anew).
    Retry,
}

impl Wake {
    /// Case `index` of a `选择` chose `value`. (Its cases are numbered by the compiler,
    /// which allows far fewer than `u32::MAX`.)
    pub fn case(index: usize, value: Value) -> Wake {
        Wake::Case(u32::try_from(index).unwrap_or(u32::MAX), value)
    }
}

pub struct WaitToken {
    fired: AtomicBool,
    pub task: Arc<Task>,
    /// Written once by whoever claimed the token, taken once by the woken task.
    wake: SpinLock<Option<Wake>>,
    /// A timer entry refers to this token and counts as pending work until it fires or
    /// the token fires by other means.
    pub timer_armed: AtomicBool,
    /// A socket's waiter list holds this token and counts as pending work the same way.
    pub io_armed: AtomicBool,
}

impl WaitToken {
    pub fn new(task: Arc<Task>) -> Arc<WaitToken> {
        Arc::new(WaitToken {
            fired: AtomicBool::new(false),
            task,
            wake: SpinLock::new(None),
            timer_armed: AtomicBool::new(false),
            io_armed: AtomicBool::new(false),
        })
    }

    pub fn is_fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Claims the token. Only the caller that gets `true` may deliver (with
    /// [`deliver`](Self::deliver)) and schedule.
    pub fn claim(&self) -> bool {
        self.fired
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Stores the wake value of a claimed token.
    pub fn deliver(&self, wake: Wake) {
        *self.wake.lock() = Some(wake);
    }

    pub fn take_wake(&self) -> Option<Wake> {
        self.wake.lock().take()
    }

    /// Makes a token that no one else holds any more as good as new, for the next time
    /// its task blocks: a task that blocks often then allocates one token, not one per
    /// wait. `None` when another handle is still out there (a queue that has not dropped
    /// it yet, a timer), and the token must not be reused.
    pub fn reuse(token: Arc<WaitToken>) -> Option<Arc<WaitToken>> {
        // No weak handles to tokens are ever made, so a strong count of one means this is
        // the only handle, and nobody can make another. The fence pairs with the release
        // decrement of whoever dropped the last other handle, so their writes (a claim, a
        // delivery) are seen before the fields are reset. (`Arc::get_mut` would say the
        // same with a compare-and-swap, on every wait.)
        if Arc::strong_count(&token) != 1 {
            return None;
        }
        std::sync::atomic::fence(Ordering::Acquire);
        token.fired.store(false, Ordering::Relaxed);
        token.timer_armed.store(false, Ordering::Relaxed);
        token.io_armed.store(false, Ordering::Relaxed);
        // The wake value was taken when the task woke (a value left there would be
        // replaced, and dropped, by the next delivery).
        Some(token)
    }
}
