//! Wake-ups: how a parked task is woken exactly once.
//!
//! A task that blocks gets a [`WaitToken`] and hands clones of it to everything that might
//! wake it (a channel's waiter queue, the timer heap, the task it awaits, a `选择`'s several
//! channels). The first to [`claim`](WaitToken::claim) it wins: it delivers the wake-up
//! and schedules the task. Later attempts find it claimed and do nothing, and queues drop
//! claimed tokens lazily when they meet them.
//!
//! The wake-up itself is handed over without a lock. Claiming is the one atomic
//! read-modify-write: it makes the claimer the only writer, so delivering is a plain store
//! of the phase after the value, and the woken task, which runs only once it has been
//! queued after that, reads it with a load. (A spin lock around the value cost two more
//! read-modify-writes per channel hand-off.) The value, its kind and a `选择` case number
//! are kept apart rather than as one `Wake`, so that a token is 32 bytes: 48 with its
//! counts, one per parked task.

use std::cell::{Cell, UnsafeCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use super::task::{Task, TaskExec};
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
    /// A `选择` chose case `index`, receiving `value` (空 for other cases).
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

/// Where a token's wake-up stands: the low two bits of `WaitToken::state`.
const OPEN: u8 = 0;
/// Claimed: the claimer alone may deliver (or it never will: a task that took its own
/// token back).
const CLAIMED: u8 = 1;
/// Delivered: the kind is in the bits above the phase, the rest in `carried` and `case`.
const DELIVERED: u8 = 2;
/// Taken by the woken task.
const TAKEN: u8 = 3;
const PHASE: u8 = 0b11;

/// A wake-up's kind, in `WaitToken::state` above the phase.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Kind {
    Value = 1,
    Throw,
    End,
    Case,
    AwaitError,
    Retry,
}

impl Kind {
    fn of(bits: u8) -> Option<Kind> {
        Some(match bits >> 2 {
            1 => Kind::Value,
            2 => Kind::Throw,
            3 => Kind::End,
            4 => Kind::Case,
            5 => Kind::AwaitError,
            6 => Kind::Retry,
            _ => return None,
        })
    }
}

/// What a delivered wake-up carries besides its kind and case number (16 bytes: the
/// other variants fit in the value's tag).
enum Carried {
    None,
    Value(Value),
    AwaitError(Box<(Value, Arc<Task>)>),
}

pub struct WaitToken {
    pub task: Arc<Task>,
    /// The phase (`OPEN` …) in the low two bits, and once delivered the `Kind` above.
    state: AtomicU8,
    /// Written only by the claimer, before `state` says `DELIVERED`; read only by the
    /// token's task, after (see `take_wake`).
    carried: UnsafeCell<Carried>,
    case: UnsafeCell<u32>,
    /// A timer entry refers to this token and counts as pending work until it fires or
    /// the token fires by other means.
    pub timer_armed: AtomicBool,
    /// A socket's waiter list holds this token and counts as pending work the same way.
    pub io_armed: AtomicBool,
}

// SAFETY: `carried` and `case` are written by one thread at a time and read after that
// write is published: the claimer alone writes them (`claim` lets one caller through per
// wait), before its release store of `DELIVERED`; the token's task reads them after an
// acquire load sees `DELIVERED`, holding its task's execution lock, which no two threads
// hold at once; and `reuse` resets them only when no other handle to the token exists.
// Everything else is atomic or immutable.
unsafe impl Sync for WaitToken {}
// SAFETY: the cells hold `Send` values (`Value`, `Arc<Task>`).
unsafe impl Send for WaitToken {}

/// The right to deliver a token's wake-up, which one caller gets per wait.
pub struct Claim<'a> {
    token: &'a WaitToken,
}

impl Claim<'_> {
    /// Stores the wake-up for the task; the caller then schedules it. (Inlined, as is
    /// `take_wake`: a `Wake` passed through memory was stored in halves and reloaded
    /// whole, a store-forwarding stall that cost a channel hand-off more than the two
    /// locks this replaced.)
    #[inline(always)]
    pub fn deliver(self, wake: Wake) {
        let (kind, case, carried) = match wake {
            Wake::Value(v) => (Kind::Value, 0, Carried::Value(v)),
            Wake::Throw(v) => (Kind::Throw, 0, Carried::Value(v)),
            Wake::End => (Kind::End, 0, Carried::None),
            Wake::Case(i, v) => (Kind::Case, i, Carried::Value(v)),
            Wake::AwaitError(e) => (Kind::AwaitError, 0, Carried::AwaitError(e)),
            Wake::Retry => (Kind::Retry, 0, Carried::None),
        };
        let t = self.token;
        // SAFETY: the claim makes this the only writer, and no reader looks before the
        // store of `DELIVERED` below (see the `Sync` impl). What the cell held is an
        // empty `Carried` (a new or reset token), dropped here.
        unsafe {
            *t.carried.get() = carried;
            *t.case.get() = case;
        }
        t.state
            .store(DELIVERED | (kind as u8) << 2, Ordering::Release);
    }
}

impl WaitToken {
    pub fn new(task: Arc<Task>) -> Arc<WaitToken> {
        Arc::new(WaitToken {
            task,
            state: AtomicU8::new(OPEN),
            carried: UnsafeCell::new(Carried::None),
            case: UnsafeCell::new(0),
            timer_armed: AtomicBool::new(false),
            io_armed: AtomicBool::new(false),
        })
    }

    pub fn is_fired(&self) -> bool {
        self.state.load(Ordering::Acquire) & PHASE != OPEN
    }

    /// Claims the token. Only the caller that gets the claim may deliver (with
    /// [`Claim::deliver`]) and schedule; a claim dropped undelivered leaves the token
    /// claimed for good (a task that took its own token back).
    pub fn claim(&self) -> Option<Claim<'_>> {
        self.state
            .compare_exchange(OPEN, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Claim { token: self })
    }

    /// The delivered wake-up, taken by the token's task: `exec` is its execution, which
    /// the caller holds locked. `None` if nothing was delivered, or it was taken.
    #[inline(always)]
    pub fn take_wake(&self, exec: &mut TaskExec) -> Option<Wake> {
        // The lock on the token's own task is what makes this the only reader; anyone
        // else gets nothing.
        if !std::ptr::eq(self.task.exec().data_ptr(), exec) {
            return None;
        }
        let state = self.state.load(Ordering::Acquire);
        if state & PHASE != DELIVERED {
            return None;
        }
        // SAFETY: `DELIVERED` was published by the claimer's release store after its
        // last write to the cells, and seen by the acquire load above; the claim admits
        // no other writer; and the caller holds the task's execution lock (checked
        // above), so no other thread reads here. `TAKEN` below keeps this thread from
        // taking it twice.
        let (carried, case) = unsafe {
            (
                std::mem::replace(&mut *self.carried.get(), Carried::None),
                *self.case.get(),
            )
        };
        self.state.store(TAKEN, Ordering::Release);
        let value = |c: Carried| match c {
            Carried::Value(v) => v,
            _ => Value::NIL,
        };
        Some(match Kind::of(state)? {
            Kind::Value => Wake::Value(value(carried)),
            Kind::Throw => Wake::Throw(value(carried)),
            Kind::End => Wake::End,
            Kind::Case => Wake::Case(case, value(carried)),
            Kind::AwaitError => match carried {
                Carried::AwaitError(e) => Wake::AwaitError(e),
                _ => Wake::Value(Value::NIL),
            },
            Kind::Retry => Wake::Retry,
        })
    }

    /// Makes a token that no one else holds any more as good as new, for the next time
    /// its task blocks: a task that blocks often then allocates one token, not one per
    /// wait. `also` is another handle of the caller's own that may be this token (the
    /// run queue entry its task was woken as, `Runnable::Woken`): it does not count.
    /// `None` when another handle is still out there (a queue that has not dropped it
    /// yet, a timer), and the token must not be reused.
    pub fn reuse(token: Arc<WaitToken>, also: Option<&Arc<WaitToken>>) -> Option<Arc<WaitToken>> {
        // No weak handles to tokens are ever made, so a strong count of one (two, with
        // `also`) means the caller holds every handle, and nobody can make another. The
        // fence pairs with the release decrement of whoever dropped the last other
        // handle, so their writes (a claim, a delivery) are seen before the fields are
        // reset. (`Arc::get_mut` would say the same with a compare-and-swap, on every
        // wait.)
        let ours = 1 + usize::from(also.is_some_and(|a| Arc::ptr_eq(a, &token)));
        if Arc::strong_count(&token) != ours {
            return None;
        }
        std::sync::atomic::fence(Ordering::Acquire);
        if token.state.load(Ordering::Relaxed) & PHASE == DELIVERED {
            // Delivered and never taken (the task was woken while taking its token
            // back): the value goes now, not with the next delivery.
            // SAFETY: this is the only handle (above), so nothing else reads or writes.
            drop(unsafe { std::mem::replace(&mut *token.carried.get(), Carried::None) });
        }
        token.state.store(OPEN, Ordering::Relaxed);
        token.timer_armed.store(false, Ordering::Relaxed);
        token.io_armed.store(false, Ordering::Relaxed);
        Some(token)
    }
}

/// A turn's wait tokens. The task's spare token is lent to the interpreter, so that a
/// channel operation can register the task under the channel's lock (`Cx::park_token`).
/// The run-queue entry the task was woken as (`Runnable::Woken`) is a second handle to
/// that same token, and it is the one the waiter gets: the entry's handle moves into the
/// channel's queue instead of a new handle going in there and the entry's being dropped
/// at the end of the turn — two atomic read-modify-writes per wait that cancelled out.
pub struct Spare<'a> {
    token: Cell<Option<Arc<WaitToken>>>,
    entry: Option<&'a Arc<WaitToken>>,
    given: Cell<bool>,
}

impl<'a> Spare<'a> {
    /// For a turn of a task woken through `entry` (if it was).
    pub fn new(entry: Option<&'a Arc<WaitToken>>) -> Spare<'a> {
        Spare {
            token: Cell::new(None),
            entry,
            given: Cell::new(false),
        }
    }

    pub fn set(&self, token: Option<Arc<WaitToken>>) {
        self.token.set(token);
    }

    pub fn take(&self) -> Option<Arc<WaitToken>> {
        self.token.take()
    }

    /// The entry's handle, while it is still the caller's (it counts as one of the task's
    /// own in `WaitToken::reuse`).
    pub fn entry(&self) -> Option<&'a Arc<WaitToken>> {
        self.entry.filter(|_| !self.given.get())
    }

    /// Whether the entry's handle went to a waiter: the entry must then be forgotten, not
    /// dropped, and the turn must not use it once the task's own handle to the token is
    /// gone (see `handle_for_waiter`).
    pub fn entry_given(&self) -> bool {
        self.given.get()
    }

    /// A handle to `token` for the waiter the task registers with: the entry's own, once,
    /// when it is a handle to `token`; a new one otherwise.
    ///
    /// After this the entry and the task borrowed through it stay valid only while another
    /// handle keeps the token alive. The task's own does: the turn parks the task with it
    /// (`TaskExec::park`), or, when the task fails over a limit instead, keeps it in
    /// `TaskExec::token` until the turn no longer uses the task (`worker::turn_of`).
    pub fn handle_for_waiter(&self, token: &Arc<WaitToken>) -> Arc<WaitToken> {
        match self.entry() {
            Some(entry) if Arc::ptr_eq(entry, token) => {
                self.given.set(true);
                // SAFETY: `entry` is a live handle (a strong count of its own) owned by the
                // run-queue entry of this turn. Making a second `Arc` from its pointer
                // without a new count transfers that count: `given` now says the entry no
                // longer owns it, and the turn forgets the entry instead of dropping it
                // (`worker::run_turn`), so the count is released exactly once, by the
                // waiter's handle.
                unsafe { Arc::from_raw(Arc::as_ptr(entry)) }
            }
            _ => token.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Arc<WaitToken> {
        WaitToken::new(Arc::new(Task::new(1, None, false, None)))
    }

    /// Every kind of wake-up comes out as it went in, once; only the first claim counts;
    /// a reused token starts over.
    #[test]
    fn a_wake_up_is_delivered_once_and_taken_once() {
        let wakes = || {
            vec![
                Wake::Value(Value::int(5)),
                Wake::Throw(Value::int(6)),
                Wake::End,
                Wake::case(3, Value::int(7)),
                Wake::Retry,
            ]
        };
        let mut t = token();
        for wake in wakes() {
            let expected = format!("{wake:?}");
            assert!(!t.is_fired());
            let claim = t.claim().expect("an open token can be claimed");
            assert!(t.claim().is_none());
            assert!(t.is_fired());
            claim.deliver(wake);
            let task = t.task.clone();
            let mut exec = task.exec().lock();
            let got = t.take_wake(&mut exec).expect("delivered");
            assert_eq!(format!("{got:?}"), expected);
            assert!(t.take_wake(&mut exec).is_none());
            drop(exec);
            t = WaitToken::reuse(t, None).expect("no other handle");
        }
        // Another handle out there: not reused.
        let other = t.clone();
        assert!(WaitToken::reuse(t, None).is_none());
        drop(other);
    }

    /// The task's execution is the proof of who reads: another task's is refused.
    #[test]
    fn only_the_tokens_task_takes() {
        let t = token();
        if let Some(c) = t.claim() {
            c.deliver(Wake::End);
        }
        let stranger = Task::new(2, None, false, None);
        assert!(t.take_wake(&mut stranger.exec().lock()).is_none());
        assert!(t.take_wake(&mut t.task.exec().lock()).is_some());
    }

    /// The run-queue entry a task was woken as is the caller's own handle: with it the
    /// token is reused, with a third handle (a queue that still holds it) it is not.
    #[test]
    fn the_entry_a_task_was_woken_as_does_not_stop_reuse() {
        let t = token();
        if let Some(c) = t.claim() {
            c.deliver(Wake::End);
        }
        let entry = t.clone();
        // Another token's entry is no excuse: the token is held twice.
        let stranger = token();
        assert!(WaitToken::reuse(t, Some(&stranger)).is_none());
        // A third handle (a waiter) stops it.
        let waiter = entry.clone();
        assert!(WaitToken::reuse(entry.clone(), Some(&entry)).is_none());
        drop(waiter);
        let t = WaitToken::reuse(entry.clone(), Some(&entry)).expect("only the entry besides");
        assert!(!t.is_fired());
    }

    /// The entry's handle goes to the first waiter for its token, without a count of its
    /// own; every other waiter gets a new handle. Forgetting the entry then leaves the
    /// count right.
    #[test]
    fn the_entry_hands_its_handle_to_one_waiter() {
        let t = token();
        let entry = t.clone();
        let spare = Spare::new(Some(&entry));
        assert!(spare.entry().is_some());
        let stranger = token();
        let other = spare.handle_for_waiter(&stranger);
        assert_eq!(Arc::strong_count(&stranger), 2);
        assert!(!spare.entry_given());
        drop(spare);
        // The entry is forgotten below, not dropped, even if an assertion fails.
        let entry = std::mem::ManuallyDrop::new(entry);
        let spare = Spare::new(Some(&entry));
        let waiter = spare.handle_for_waiter(&t);
        assert_eq!(
            Arc::strong_count(&t),
            2,
            "the task's, and the entry's now the waiter's"
        );
        assert!(spare.entry_given());
        assert!(spare.entry().is_none(), "no longer the caller's");
        let second = spare.handle_for_waiter(&t);
        assert_eq!(Arc::strong_count(&t), 3);
        drop(spare);
        drop((second, other));
        assert_eq!(Arc::strong_count(&t), 2, "the task's and the waiter's");
        drop(waiter);
        assert!(WaitToken::reuse(t, None).is_some());
    }

    /// Without an entry (a task's first turn), a waiter always gets a new handle.
    #[test]
    fn without_an_entry_a_waiter_gets_a_new_handle() {
        let t = token();
        let spare = Spare::new(None);
        spare.set(Some(t.clone()));
        let waiter = spare.handle_for_waiter(&t);
        assert_eq!(Arc::strong_count(&t), 3);
        assert!(!spare.entry_given());
        assert!(spare.take().is_some());
        drop(waiter);
    }

    /// A token delivered to and then reused without being taken drops what it carried.
    #[test]
    fn reuse_drops_an_untaken_value() {
        let t = token();
        let awaited = Arc::new(Task::new(2, None, false, None));
        if let Some(c) = t.claim() {
            c.deliver(Wake::AwaitError(Box::new((Value::NIL, awaited.clone()))));
        }
        assert_eq!(Arc::strong_count(&awaited), 2);
        let t = WaitToken::reuse(t, None).expect("no other handle");
        assert!(!t.is_fired());
        assert_eq!(Arc::strong_count(&awaited), 1);
    }

    #[test]
    fn wake_ups_from_other_threads_arrive() {
        let t = token();
        let sender = t.clone();
        std::thread::spawn(move || {
            if let Some(c) = sender.claim() {
                c.deliver(Wake::Value(Value::int(42)));
            }
        })
        .join()
        .expect("the thread ran");
        let got = t.take_wake(&mut t.task.exec().lock());
        assert!(matches!(got, Some(Wake::Value(v)) if v.as_int() == Some(42)));
    }
}
