//! The reactor: one thread owning a `mio::Poll`, the timer heap and a `mio::Waker`.
//!
//! Timers wake parked tasks (睡眠, 选择's 超时, 限时等待) or complete futures (超时(ms)).
//! Adding a timer earlier than the current earliest wakes the poll so it re-arms its
//! timeout. Sockets join the same poll with the I/O milestone.
//!
//! Pending timers count as work that can still happen: the scheduler's quiescence check
//! (deadlock, end of program) reads `live`, which a timer leaves when it fires or when its
//! token fires by other means.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::task::Task;
use super::wait::{WaitToken, Wake};

/// What a timer does when it fires.
pub enum TimerAction {
    /// Wake a parked task with this value (unless something else woke it first).
    Wake(Arc<WaitToken>, Wake),
    /// Finish a 未来 made by `超时(ms)` with 空.
    Complete(Arc<Task>),
    /// 限时等待's deadline.
    TimeOut(Arc<super::block::Combiner>),
}

/// What the reactor hands the scheduler when a timer fires.
pub enum Fired {
    /// A parked task was woken: queue it.
    Schedule(Arc<Task>),
    /// A timer future finished: complete it (waking its awaiters).
    Complete(Arc<Task>),
    /// 限时等待's deadline passed.
    TimeOut(Arc<super::block::Combiner>),
    /// A batch of timers was processed: the pending work changed, so parked workers
    /// should look again (the last timer going may mean the program is over).
    Batch,
}

struct Entry {
    deadline: Instant,
    /// Tie-breaker: timers with the same deadline fire in the order they were made.
    seq: u64,
    action: TimerAction,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Entry) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Entry) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

#[derive(Default)]
struct Heap {
    entries: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

const WAKER: mio::Token = mio::Token(0);

pub struct Reactor {
    heap: Mutex<Heap>,
    waker: Mutex<Option<Arc<mio::Waker>>>,
    /// Timers that can still wake something.
    pub live: AtomicUsize,
    stop: AtomicBool,
}

impl Default for Reactor {
    fn default() -> Self {
        Reactor {
            heap: Mutex::new(Heap::default()),
            waker: Mutex::new(None),
            live: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        }
    }
}

impl Reactor {
    /// Arms a timer. For a `Wake`, the token remembers it so that firing the token by
    /// other means retires the timer from `live` at once.
    pub fn add(&self, after: Duration, action: TimerAction) {
        match &action {
            TimerAction::Wake(token, _) => token.timer_armed.store(true, Ordering::Release),
            TimerAction::TimeOut(c) => c.timer_armed.store(true, Ordering::Release),
            TimerAction::Complete(task) => task.timer_armed.store(true, Ordering::Release),
        }
        self.live.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + after;
        let earliest = {
            let mut heap = self.heap.lock();
            heap.seq += 1;
            let seq = heap.seq;
            let earlier = heap
                .entries
                .peek()
                .is_none_or(|Reverse(e)| deadline < e.deadline);
            heap.entries.push(Reverse(Entry {
                deadline,
                seq,
                action,
            }));
            earlier
        };
        if earliest {
            self.wake();
        }
    }

    /// A token armed with a timer fired by other means: the timer no longer counts.
    pub fn retire(&self, token: &WaitToken) {
        self.retire_flag(&token.timer_armed);
    }

    /// Stops counting a timer whose `armed` flag is still set.
    pub fn retire_flag(&self, armed: &AtomicBool) {
        if armed.swap(false, Ordering::AcqRel) {
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn wake(&self) {
        if let Some(w) = self.waker.lock().as_ref() {
            let _ = w.wake();
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake();
    }

    /// The reactor thread's loop. `fire` schedules what a timer wakes.
    pub fn run(&self, mut fire: impl FnMut(Fired)) {
        let Ok(mut poll) = mio::Poll::new() else {
            return;
        };
        let Ok(waker) = mio::Waker::new(poll.registry(), WAKER) else {
            return;
        };
        *self.waker.lock() = Some(Arc::new(waker));
        let mut events = mio::Events::with_capacity(64);
        while !self.stop.load(Ordering::Acquire) {
            let now = Instant::now();
            let mut due = Vec::new();
            let timeout = {
                let mut heap = self.heap.lock();
                while let Some(Reverse(e)) = heap.entries.peek() {
                    if e.deadline > now {
                        break;
                    }
                    if let Some(Reverse(e)) = heap.entries.pop() {
                        due.push(e.action);
                    }
                }
                heap.entries
                    .peek()
                    .map(|Reverse(e)| e.deadline.saturating_duration_since(now))
            };
            let any_due = !due.is_empty();
            for action in due {
                match action {
                    TimerAction::Wake(token, wake) => {
                        let armed = token.timer_armed.swap(false, Ordering::AcqRel);
                        if token.claim() {
                            token.deliver(wake);
                            fire(Fired::Schedule(token.task.clone()));
                        }
                        // Schedule first, then stop counting the timer, so the
                        // quiescence check never sees neither.
                        if armed {
                            self.live.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                    TimerAction::Complete(task) => {
                        let armed = task.timer_armed.swap(false, Ordering::AcqRel);
                        fire(Fired::Complete(task));
                        if armed {
                            self.live.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                    TimerAction::TimeOut(c) => {
                        let armed = c.timer_armed.swap(false, Ordering::AcqRel);
                        fire(Fired::TimeOut(c));
                        if armed {
                            self.live.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                }
            }
            if any_due {
                fire(Fired::Batch);
            }
            let _ = poll.poll(&mut events, timeout);
        }
    }
}
