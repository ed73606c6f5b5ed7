//! Wake-ups: how a parked task is woken exactly once.
//!
//! A task that blocks starts a *wait* (`Scheduler::begin_wait`): the next generation in the
//! task's wait word. Everything that might wake it (a channel's waiter queue, the timer
//! heap, the task it awaits, a `选择`'s several channels) holds a [`WaitToken`]: the task
//! and that generation. The first to [`claim`](WaitToken::claim) the wait wins — a
//! compare-and-swap in the task, which fails for anyone holding an older generation or
//! coming second — and delivers the wake-up and schedules the task. Queues drop the tokens
//! of finished waits lazily when they meet them. (Go's `sudog` tickets and `selectDone`
//! work the same way.) A token is two words and no allocation: a parked task costs no
//! more than its waiter entries, where a token of its own cost 48 bytes per parked task.
//! With one worker, whose thread alone changes wait words, a claim is a plain load and
//! store instead (`claim_unshared`, `sched/solo.rs`).
//!
//! Delivering puts the wake-up where the task's suspension point wants it — straight into
//! its registers — under the task's execution lock, which the claimer only `try_lock`s:
//! it never waits for it. When the lock is busy (the worker that parked the task has not
//! finished that turn yet, a snapshot is reading the task) or the wake-up is thrown (that
//! takes the interpreter), the wake-up waits in the scheduler's table of held wake-ups
//! ([`HeldWakes`]) and the task's next turn takes it from there.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::task::{Resume, Task, TaskExec};
use crate::fiber::Fiber;
use crate::value::Value;

/// What a woken task finds.
#[derive(Debug)]
pub enum Wake {
    /// The operation produced this value (a received item, an awaited result, 空).
    Value(Value),
    /// The operation failed with this thrown value (E6005 cancellation, E6004 timeout, an
    /// awaited task's error …).
    Throw(Value),
    /// A `对于` loop's source ended (closed channel); outside a loop, 空.
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

/// The wait word's bits below the generation.
///
/// The current wait has been claimed (or there is none: a task that is not waiting).
const CLAIMED: u64 = 1;
/// A timer entry for the current wait counts as pending work (`Reactor::add`).
pub const TIMER: u64 = 1 << 1;
/// A socket's waiter list holds the current wait, which counts as pending work.
pub const IO: u64 = 1 << 2;
/// The wake-up waits in the scheduler's [`HeldWakes`].
const HELD: u64 = 1 << 3;
/// The generation is the word's top 48 bits: a `选择`'s waiter can sit in a channel
/// nobody touches for as many waits as the task makes, and a generation that wrapped
/// would let it wake the wrong one. 2^48 waits at one per 100 ns take most of a year.
const GEN_SHIFT: u32 = 16;
const GEN_MASK: u64 = (1 << (64 - GEN_SHIFT)) - 1;

/// Where a task's waits stand: the current wait's generation and bits (above). Only the
/// task's own turn starts a wait; anyone holding a token may claim it.
pub struct WaitWord(AtomicU64);

impl Default for WaitWord {
    fn default() -> WaitWord {
        WaitWord(AtomicU64::new(CLAIMED))
    }
}

impl WaitWord {
    /// Starts the next wait and returns its generation, with the pending-work bits the
    /// last one still had (the caller stops counting them: `Scheduler::begin_wait`).
    ///
    /// Called by the task's turn only. The last wait is over by then (claimed), and only
    /// the task's own turn sets bits, so nobody else can change the word between the load
    /// and the store but to clear bits, which the swap then sees.
    pub fn begin(&self) -> (u64, u64) {
        let old = self.0.load(Ordering::Relaxed);
        let generation = ((old >> GEN_SHIFT) + 1) & GEN_MASK;
        let new = generation << GEN_SHIFT;
        if old & (TIMER | IO | HELD) == 0 {
            self.0.store(new, Ordering::Release);
            return (generation, 0);
        }
        let old = self.0.swap(new, Ordering::AcqRel);
        (generation, old & (TIMER | IO))
    }

    /// The current wait's generation.
    pub fn generation(&self) -> u64 {
        self.0.load(Ordering::Acquire) >> GEN_SHIFT
    }

    /// Claims wait `generation`, if it is still the current one and nobody has.
    pub fn claim(&self, generation: u64) -> bool {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            if cur >> GEN_SHIFT != generation || cur & CLAIMED != 0 {
                return false;
            }
            match self.0.compare_exchange_weak(
                cur,
                cur | CLAIMED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// `claim` with a plain load and store, for a word that no other thread changes
    /// meanwhile.
    ///
    /// # Safety
    ///
    /// No other thread may change this word while this runs (`sched/solo.rs`).
    #[inline]
    unsafe fn claim_unshared(&self, generation: u64) -> bool {
        let cur = self.0.load(Ordering::Relaxed);
        if cur >> GEN_SHIFT != generation || cur & CLAIMED != 0 {
            return false;
        }
        self.0.store(cur | CLAIMED, Ordering::Relaxed);
        true
    }

    fn is_fired(&self, generation: u64) -> bool {
        let cur = self.0.load(Ordering::Acquire);
        cur >> GEN_SHIFT != generation || cur & CLAIMED != 0
    }

    /// Sets `bit` for wait `generation` if it is still the current wait; whether it was
    /// not set before.
    fn set_bit(&self, generation: u64, bit: u64) -> bool {
        self.update(generation, |w| (w & bit == 0).then_some(w | bit))
    }

    /// Clears `bit` of wait `generation` if it is still the current wait and has it;
    /// whether it did. (A load first: at almost every wake-up the bit is clear.)
    fn clear_bit(&self, generation: u64, bit: u64) -> bool {
        if self.0.load(Ordering::Acquire) & bit == 0 {
            return false;
        }
        self.update(generation, |w| (w & bit != 0).then_some(w & !bit))
    }

    /// Changes the word by `f` while wait `generation` is current; whether it did.
    fn update(&self, generation: u64, f: impl Fn(u64) -> Option<u64>) -> bool {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            if cur >> GEN_SHIFT != generation {
                return false;
            }
            let Some(new) = f(cur) else {
                return false;
            };
            match self
                .0
                .compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// Whether a wake-up for this task waits in the held table. (Inlined: every turn
    /// asks, and almost never is there one.)
    #[inline(always)]
    pub fn has_held(&self) -> bool {
        self.0.load(Ordering::Acquire) & HELD != 0
    }
}

/// A handle on one wait of one task: what a waiter holds.
///
/// Besides the generation, the word that holds it has 16 bits for the holder
/// ([`WaitToken::note`]): a channel's receive waiter keeps its `选择` case there, and
/// stays two words.
#[derive(Clone)]
pub struct WaitToken {
    pub task: Arc<Task>,
    /// The generation above `GEN_SHIFT`, the holder's note below.
    key: u64,
}

impl WaitToken {
    /// A token for wait `generation` of `task` (`Scheduler::begin_wait`).
    pub fn new(task: Arc<Task>, generation: u64) -> WaitToken {
        WaitToken {
            task,
            key: generation << GEN_SHIFT,
        }
    }

    /// The same token with `note` kept in it.
    pub fn with_note(mut self, note: u16) -> WaitToken {
        self.key = (self.key & !0xFFFF) | u64::from(note);
        self
    }

    pub fn note(&self) -> u16 {
        (self.key & 0xFFFF) as u16
    }

    /// Which wait of its task this is.
    pub fn generation(&self) -> u64 {
        self.key >> GEN_SHIFT
    }

    /// Whether the wait is over (claimed by anyone, or the task has moved on).
    pub fn is_fired(&self) -> bool {
        self.task.wait.is_fired(self.generation())
    }

    /// Whether this is a wait of `task`.
    pub fn is_for(&self, task: &Task) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.task), task)
    }

    /// Claims the wait. Only the caller that gets the claim may deliver (with
    /// `Scheduler::put_wake`) and schedule; a claim dropped undelivered leaves the wait
    /// claimed for good (a task that took its own wait back).
    pub fn claim(&self) -> Option<Claim<'_>> {
        self.task
            .wait
            .claim(self.generation())
            .then_some(Claim { token: self })
    }

    /// `claim` for a caller on the one thread that changes wait words (a solo scheduler's
    /// worker: `Scheduler::claim`).
    ///
    /// # Safety
    ///
    /// No other thread may change this task's wait word meanwhile.
    #[inline]
    pub unsafe fn claim_unshared(&self) -> Option<Claim<'_>> {
        // SAFETY: the caller's promise, passed on.
        unsafe { self.task.wait.claim_unshared(self.generation()) }.then_some(Claim { token: self })
    }

    /// Marks this wait as counted in pending work by `bit` (`TIMER`, `IO`); whether it was
    /// not marked already.
    pub fn arm(&self, bit: u64) -> bool {
        self.task.wait.set_bit(self.generation(), bit)
    }

    /// Unmarks it; whether it was marked (the caller then stops counting it).
    pub fn disarm(&self, bit: u64) -> bool {
        self.task.wait.clear_bit(self.generation(), bit)
    }
}

/// The right to deliver a wait's wake-up, which one caller gets per wait.
pub struct Claim<'a> {
    token: &'a WaitToken,
}

impl Claim<'_> {
    pub fn task(&self) -> &Arc<Task> {
        &self.token.task
    }
}

/// Puts `wake` where the suspension point of the parked task `exec` wants it, in its
/// registers (`put_in_registers`), and marks it no longer parked. `Err` gives the wake-up
/// back when that takes the task's own turn: a thrown value (the interpreter unwinds), or
/// a task not parked (yet). (Inlined into the channel operations: a `Wake` passed through
/// memory was stored in halves and reloaded whole, a store-forwarding stall on every
/// hand-off.)
#[inline(always)]
pub fn apply_in_place(exec: &mut TaskExec, wake: Wake) -> Result<(), Wake> {
    let Some(resume) = exec.parked else {
        return Err(wake);
    };
    let Some(top) = exec.top() else {
        return Err(wake);
    };
    put_in_registers(top, resume, wake)?;
    exec.parked = None;
    Ok(())
}

/// Puts a value, a channel's end, a `选择` case or a rerun where the suspension point
/// `resume` of `top` wants it; `Err` gives back a throw (`Wake::Throw`,
/// `Wake::AwaitError`), which takes the interpreter. Used by wakers (`apply_in_place`) and
/// by the task's own turn (`driver::apply_wake`).
///
/// What the registers held is not dropped here but kept for `drop_displaced`: a waker
/// holds a channel's lock, and the last handle on a large structure — the item a `对于`
/// loop received before — could take a while to free, with every other user of the
/// channel waiting. The parked task itself dropped it in its own turn before.
#[inline(always)]
pub fn put_in_registers(top: &mut Fiber, resume: Resume, wake: Wake) -> Result<(), Wake> {
    match wake {
        Wake::Value(v) => {
            displace(top.replace_top_reg(resume.dest, v));
            if resume.for_loop {
                top.skip_exit_jump();
            }
        }
        Wake::End => {
            if resume.for_loop {
                top.take_exit_jump();
            } else {
                displace(top.replace_top_reg(resume.dest, Value::NIL));
            }
        }
        Wake::Case(i, v) => {
            displace(top.replace_top_reg(resume.dest, Value::int(i64::from(i))));
            displace(top.replace_top_reg(resume.dest.wrapping_add(1), v));
        }
        Wake::Retry => top.rewind_call(),
        throw => return Err(throw),
    }
    Ok(())
}

thread_local! {
    /// Register values a wake-up displaced, to drop once the waker has let go of its
    /// locks (`drop_displaced`).
    static DISPLACED: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
    static ANY_DISPLACED: Cell<bool> = const { Cell::new(false) };
}

/// Keeps `old` for `drop_displaced`, unless dropping it frees nothing (an integer, 空 …).
#[inline(always)]
fn displace(old: Value) {
    if old.tag().is_heap() {
        DISPLACED.with_borrow_mut(|d| d.push(old));
        ANY_DISPLACED.set(true);
    }
}

/// Drops what wake-ups on this thread displaced. Called where a woken task is queued
/// (`Scheduler::woken`), which every waker does after it has let go of the channel's
/// lock. (A flag first: almost always nothing is there.)
#[inline(always)]
pub fn drop_displaced() {
    if ANY_DISPLACED.get() {
        ANY_DISPLACED.set(false);
        // Taken out before the values drop (a drop must not find the list borrowed), and
        // put back empty to keep its room.
        let mut displaced = DISPLACED.with_borrow_mut(std::mem::take);
        displaced.clear();
        DISPLACED.with_borrow_mut(|d| {
            if d.is_empty() {
                *d = displaced;
            }
        });
    }
}

/// Wake-ups that wait for their task's next turn, by task (see the module docs). A
/// table rather than a field of every task: a parked task would pay for it, and it is
/// needed only when a wake-up is thrown or races with the end of the turn that parked.
#[derive(Default)]
pub struct HeldWakes(parking_lot::Mutex<HashMap<usize, Wake>>);

impl HeldWakes {
    /// Keeps `wake` for `task`'s next turn.
    pub fn hold(&self, task: &Arc<Task>, wake: Wake) {
        self.0.lock().insert(key(task), wake);
        task.wait.0.fetch_or(HELD, Ordering::AcqRel);
    }

    /// The wake-up held for `task`, once. (The caller checks `WaitWord::has_held`
    /// first.)
    pub fn take(&self, task: &Arc<Task>) -> Option<Wake> {
        task.wait.0.fetch_and(!HELD, Ordering::AcqRel);
        self.0.lock().remove(&key(task))
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }
}

/// A live task's address names it: no two live tasks share one, and a held wake-up is
/// taken by the task's next turn, which comes before the task can go.
fn key(task: &Arc<Task>) -> usize {
    Arc::as_ptr(task) as usize
}

/// The run-queue entry of a turn. Its handle on the task goes to the first waiter the task
/// registers with under a channel's lock (`Cx::park_waiter`): the handle moves from the
/// run queue into the channel's queue instead of a new one going in there and the entry's
/// being dropped at the end of the turn — two atomic read-modify-writes per wait that
/// cancelled out.
pub struct Entry<'a> {
    entry: &'a Arc<Task>,
    given: Cell<bool>,
    /// A handle of the turn's own, taken before a wait registered with the entry's handle
    /// is taken back: the waiter's handle can then go at any time.
    kept: Cell<Option<Arc<Task>>>,
}

impl<'a> Entry<'a> {
    pub fn new(entry: &'a Arc<Task>) -> Entry<'a> {
        Entry {
            entry,
            given: Cell::new(false),
            kept: Cell::new(None),
        }
    }

    /// Whether the entry's handle went to a waiter: the entry must then be forgotten, not
    /// dropped, and the turn must not use the task once it has let go of the task's
    /// execution lock (see `handle_for_waiter`).
    pub fn given(&self) -> bool {
        self.given.get()
    }

    /// A handle on `task` for a waiter: the entry's own, once, when it is `task`'s; a new
    /// one otherwise.
    ///
    /// After this the task stays valid while its execution lock is held: a waker must take
    /// that lock to deliver in place, or, finding it held, hands the waiter's handle on to
    /// a run queue — either way a handle lives until the lock is let go. A turn that takes
    /// the wait back must first `keep` a handle of its own.
    pub fn handle_for_waiter(&self, task: &Arc<Task>) -> Arc<Task> {
        if !self.given.get() && Arc::ptr_eq(self.entry, task) {
            self.given.set(true);
            // SAFETY: `entry` is a live handle (a strong count of its own) owned by the
            // run-queue entry of this turn. Making a second `Arc` from its pointer
            // without a new count transfers that count: `given` now says the entry no
            // longer owns it, and the turn forgets the entry instead of dropping it
            // (`worker::run_turn`), so the count is released exactly once, by the
            // waiter's handle.
            return unsafe { Arc::from_raw(Arc::as_ptr(self.entry)) };
        }
        task.clone()
    }

    /// Takes back the handle given to a waiter, as the queue entry `handle` it came back
    /// in when the task was woken: the turn goes on as a new turn of the same task, whose
    /// first waiter gets it again (`hand_off`). `handle` must be the entry's task's.
    pub fn take_back(&self, handle: super::queue::Runnable) {
        let task = handle.into_task();
        debug_assert!(Arc::ptr_eq(&task, self.entry));
        if self.given.replace(false) {
            // The count `given` moved to the waiter is the one `handle` holds (counts of
            // one `Arc` are interchangeable): the entry owns it again, and the turn drops
            // the entry as usual.
            std::mem::forget(task);
        }
    }

    /// Keeps a handle on `task` until the turn is over (see `handle_for_waiter`).
    pub fn keep(&self, task: &Arc<Task>) {
        self.kept.set(Some(task.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Arc<Task> {
        Arc::new(Task::new(1, Some(Fiber::new(4)), false, None))
    }

    /// A task whose fiber runs a frame with a few registers.
    fn running_task() -> Arc<Task> {
        let Ok(shared) = crate::vm::VmBuilder::new().build() else {
            panic!("an empty VM builds");
        };
        let file = qi_bytecode::source::SourceFile::new(
            "测试.qi",
            "变量 a = 1;\n变量 b = 2;\n变量 c = 3;\n",
        );
        let module = match crate::loader::load_text(&shared, file, "测试", false, false) {
            Ok(loaded) => loaded.module,
            Err(d) => panic!("compiles: {} diagnostics", d.len()),
        };
        let mut fiber = Fiber::new(8);
        assert!(crate::interp::enter_entry(&mut fiber, module.main.clone(), &[]).is_ok());
        Arc::new(Task::new(1, Some(fiber), false, None))
    }

    fn token(t: &Arc<Task>) -> WaitToken {
        let (generation, _) = t.wait.begin();
        WaitToken::new(t.clone(), generation)
    }

    /// Only the first claim of a wait counts; a new wait makes the old tokens stale.
    #[test]
    fn a_wait_is_claimed_once_and_old_tokens_go_stale() {
        let t = task();
        let first = token(&t);
        let other = first.clone();
        assert!(!first.is_fired());
        assert!(first.claim().is_some());
        assert!(other.claim().is_none());
        assert!(other.is_fired());
        let second = token(&t);
        assert!(!second.is_fired());
        assert!(first.is_fired(), "an old wait stays over");
        assert!(first.claim().is_none());
        assert!(second.claim().is_some());
    }

    /// A task that is not waiting cannot be claimed, even by a token for generation 0.
    #[test]
    fn a_task_that_never_waited_cannot_be_claimed() {
        let t = task();
        assert!(WaitToken::new(t.clone(), 0).claim().is_none());
        assert!(WaitToken::new(t, 1).claim().is_none());
    }

    /// The pending-work bits belong to one wait: an old wait's token can neither set nor
    /// clear them, and a new wait hands back what the last one left set.
    #[test]
    fn pending_bits_belong_to_their_wait() {
        let t = task();
        let first = token(&t);
        assert!(first.arm(TIMER));
        assert!(!first.arm(TIMER), "already armed");
        assert!(first.arm(IO));
        assert!(first.claim().is_some());
        assert!(first.disarm(IO));
        assert!(!first.disarm(IO));
        let (generation, left) = t.wait.begin();
        assert_eq!(left, TIMER, "the timer the last wait left armed");
        let second = WaitToken::new(t.clone(), generation);
        assert!(!first.disarm(TIMER), "a stale timer is not counted twice");
        assert!(!first.arm(TIMER));
        assert!(second.arm(TIMER));
        assert!(second.disarm(TIMER));
    }

    /// The note rides in the token without touching the generation.
    #[test]
    fn a_note_keeps_the_generation() {
        let t = task();
        let tok = token(&t).with_note(0xBEEF);
        assert_eq!(tok.note(), 0xBEEF);
        assert!(tok.is_for(&t));
        assert!(!tok.is_for(&task()));
        assert!(tok.claim().is_some());
    }

    /// Values, ends, cases and retries go straight into the parked task's registers;
    /// throws, and anything for a task not parked, come back to be held.
    #[test]
    fn wake_ups_go_into_the_registers_of_a_parked_task() {
        let t = running_task();
        let mut exec = t.exec().lock();
        assert!(apply_in_place(&mut exec, Wake::End).is_err(), "not parked");
        exec.park(Resume {
            dest: 0,
            for_loop: false,
        });
        assert!(apply_in_place(&mut exec, Wake::Throw(Value::int(1))).is_err());
        assert!(exec.parked.is_some(), "a throw leaves it parked");
        assert!(apply_in_place(&mut exec, Wake::Value(Value::int(42))).is_ok());
        assert!(exec.parked.is_none());
        exec.park(Resume {
            dest: 1,
            for_loop: false,
        });
        assert!(apply_in_place(&mut exec, Wake::case(3, Value::int(9))).is_ok());
        let top = exec.top().expect("a fiber");
        let regs: Vec<Option<i64>> = (0..3)
            .map(|r| top.top_reg(r).and_then(Value::as_int))
            .collect();
        assert_eq!(regs, [Some(42), Some(3), Some(9)]);
    }

    /// What a wake-up's value replaces in the registers is dropped by `drop_displaced`,
    /// not while the waker may still hold a channel's lock.
    #[test]
    fn a_displaced_register_value_is_dropped_later() {
        let t = running_task();
        let mut exec = t.exec().lock();
        let resume = Resume {
            dest: 0,
            for_loop: false,
        };
        let big = Value::new(crate::object::ListObj::new(vec![Value::int(1)]));
        exec.park(resume);
        assert!(apply_in_place(&mut exec, Wake::Value(big.clone())).is_ok());
        assert_eq!(big.ref_count(), 2, "ours and the register's");
        exec.park(resume);
        assert!(apply_in_place(&mut exec, Wake::Value(Value::int(7))).is_ok());
        assert_eq!(big.ref_count(), 2, "displaced, not dropped yet");
        drop_displaced();
        assert_eq!(big.ref_count(), 1);
    }

    /// A held wake-up goes to its own task, once, and the word says it is there.
    #[test]
    fn held_wake_ups_go_to_their_own_task() {
        let held = HeldWakes::default();
        let (a, b) = (task(), task());
        held.hold(&a, Wake::Value(Value::int(5)));
        assert!(a.wait.has_held());
        assert!(!b.wait.has_held());
        assert!(held.take(&b).is_none());
        assert!(matches!(held.take(&a), Some(Wake::Value(v)) if v.as_int() == Some(5)));
        assert!(!a.wait.has_held());
        assert!(held.is_empty());
    }

    /// Of many threads claiming one wait, exactly one wins, every round.
    #[test]
    fn one_claimer_wins_among_threads() {
        let t = task();
        for _ in 0..200 {
            let tok = token(&t);
            let wins = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        if tok.claim().is_some() {
                            wins.fetch_add(1, Ordering::SeqCst);
                        }
                    });
                }
            });
            assert_eq!(wins.load(Ordering::SeqCst), 1);
        }
    }

    /// The entry's handle goes to the first waiter for its task, without a count of its
    /// own; every other waiter gets a new handle. Forgetting the entry then leaves the
    /// count right.
    #[test]
    fn the_entry_hands_its_handle_to_one_waiter() {
        let t = task();
        // The entry is forgotten below, not dropped, even if an assertion fails.
        let entry = std::mem::ManuallyDrop::new(t.clone());
        let turn = Entry::new(&entry);
        let stranger = task();
        let other = turn.handle_for_waiter(&stranger);
        assert_eq!(Arc::strong_count(&stranger), 2);
        assert!(!turn.given());
        let waiter = turn.handle_for_waiter(&t);
        assert_eq!(
            Arc::strong_count(&t),
            2,
            "ours, and the entry's now the waiter's"
        );
        assert!(turn.given());
        let second = turn.handle_for_waiter(&t);
        assert_eq!(Arc::strong_count(&t), 3);
        turn.keep(&t);
        assert_eq!(Arc::strong_count(&t), 4);
        drop(turn);
        drop((second, other));
        assert_eq!(Arc::strong_count(&t), 2, "ours and the waiter's");
        drop(waiter);
        assert_eq!(Arc::strong_count(&t), 1);
    }
}
