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

use super::pool::Finished;
use super::task::Task;
use super::wait::{IO, TIMER, WaitToken, Wake};
use crate::value::Value;

/// What a timer does when it fires.
pub enum TimerAction {
    /// Wake a parked task with this value (unless something else woke it first).
    Wake(WaitToken, Wake),
    /// Finish a 未来 made by `超时(ms)` with 空.
    Complete(Arc<Task>),
    /// 限时等待's deadline.
    TimeOut(Arc<super::block::Combiner>),
    /// A socket's read deadline (its readers count as pending work already, so this
    /// timer does not).
    SocketDeadline(std::sync::Weak<crate::object::SocketObj>),
}

/// What the reactor hands the scheduler when a timer fires.
pub enum Fired {
    /// A pool job or a socket has this for a parked task: wake it, unless something else
    /// did (`Scheduler::reactor_wake`). The reactor does not claim the wait itself: with
    /// one worker, only that worker's thread touches waits (`sched/solo.rs`).
    Wake(WaitToken, Wake),
    /// A timer for a parked task's wait fired (`Scheduler::timer_wake`).
    Timer(WaitToken, Wake),
    /// A timer future or a host function's task finished: complete it with this ending
    /// (waking its awaiters).
    Complete(Arc<Task>, super::task::Ending),
    /// 限时等待's deadline passed.
    TimeOut(Arc<super::block::Combiner>),
    /// A batch of timers was processed: the pending work changed, so parked workers
    /// should look again (the last timer going may mean the program is over).
    Batch,
    /// There is work for a worker whose thread has not started yet: start one
    /// (`Scheduler::defer_workers`).
    StartWorker,
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

/// Sockets registered with the poll, by token.
#[derive(Default)]
struct Sockets {
    next: usize,
    map: std::collections::HashMap<usize, std::sync::Weak<crate::object::SocketObj>>,
}

pub struct Reactor {
    heap: Mutex<Heap>,
    /// The poll, until the reactor thread takes it.
    poll: Mutex<Option<mio::Poll>>,
    /// For registering sockets from any thread.
    registry: Option<mio::Registry>,
    waker: Option<Arc<mio::Waker>>,
    /// Timers that can still wake something.
    pub live: AtomicUsize,
    /// Tasks parked on a socket.
    pub io_waiting: AtomicUsize,
    /// File and DNS work.
    pub pool: Arc<super::pool::Pool>,
    sockets: Mutex<Sockets>,
    stop: AtomicBool,
    /// A worker thread should be started (see `Fired::StartWorker`).
    worker_wanted: AtomicBool,
    /// Something needs the reactor thread: a timer, a socket wait, pool work, a worker
    /// to start. `qi run` starts the thread then, not before (`take_thread_request`).
    thread_wanted: AtomicBool,
    thread_started: AtomicBool,
}

impl Default for Reactor {
    fn default() -> Self {
        let poll = mio::Poll::new().ok();
        let registry = poll.as_ref().and_then(|p| p.registry().try_clone().ok());
        let waker = poll
            .as_ref()
            .and_then(|p| mio::Waker::new(p.registry(), WAKER).ok())
            .map(Arc::new);
        Reactor {
            heap: Mutex::new(Heap::default()),
            poll: Mutex::new(poll),
            registry,
            waker,
            live: AtomicUsize::new(0),
            io_waiting: AtomicUsize::new(0),
            pool: Arc::new(super::pool::Pool::default()),
            sockets: Mutex::new(Sockets {
                next: 1,
                ..Sockets::default()
            }),
            stop: AtomicBool::new(false),
            worker_wanted: AtomicBool::new(false),
            thread_wanted: AtomicBool::new(false),
            thread_started: AtomicBool::new(false),
        }
    }
}

impl Reactor {
    /// Notes that the reactor thread is needed. Called before anything that only the
    /// thread can finish is handed to it.
    fn need_thread(&self) {
        if !self.thread_wanted.load(Ordering::Relaxed) {
            self.thread_wanted.store(true, Ordering::Release);
        }
    }

    /// `true` once, the first time this is asked after something needed the thread: the
    /// caller starts it then. A program that never sleeps, waits on a socket or runs two
    /// tasks at once never starts it, and saves 0.2 ms of start-up
    /// and exit (`perf stat` on hello world). Only one thread may ask: for `qi run`, the
    /// main thread's worker, between turns, which is the only thread running Qi code
    /// until the reactor starts another.
    pub fn take_thread_request(&self) -> bool {
        if self.thread_wanted.load(Ordering::Acquire)
            && !self.thread_started.load(Ordering::Relaxed)
        {
            self.thread_started.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Arms a timer. For a `Wake`, the wait remembers it (its `TIMER` bit) so that waking
    /// the task by other means retires the timer from `live` at once.
    pub fn add(&self, after: Duration, action: TimerAction) {
        let counted = match &action {
            TimerAction::Wake(token, _) => token.arm(TIMER),
            TimerAction::TimeOut(c) => !c.timer_armed.swap(true, Ordering::AcqRel),
            TimerAction::Complete(task) => !task.flags().timer_armed.swap(true, Ordering::AcqRel),
            TimerAction::SocketDeadline(_) => false,
        };
        if counted {
            self.live.fetch_add(1, Ordering::SeqCst);
            self.pool.added_work();
        }
        self.need_thread();
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

    /// A wait was claimed (by whatever means): its timer and socket wait no longer count.
    /// (`disarm` looks before it writes: this runs at every wake-up, and only a few waits
    /// have a timer or a socket.)
    #[inline(always)]
    pub fn retire(&self, token: &WaitToken) {
        if token.disarm(TIMER) {
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
        if token.disarm(IO) {
            self.io_waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Stops counting what a wait that is over left armed (`bits`: `TIMER`, `IO`), when
    /// its task starts the next one (`Scheduler::begin_wait`).
    pub fn stop_counting(&self, bits: u64) {
        if bits & TIMER != 0 {
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
        if bits & IO != 0 {
            self.io_waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// A task parks on a socket: it counts as pending work until woken.
    pub fn arm_io(&self, token: &WaitToken) {
        self.need_thread();
        if token.arm(IO) {
            self.io_waiting.fetch_add(1, Ordering::SeqCst);
            self.pool.added_work();
        }
    }

    /// Stops counting a timer whose `armed` flag is still set.
    pub fn retire_flag(&self, armed: &AtomicBool) {
        // Most tasks never armed a timer: a load spares them the read-modify-write.
        if armed.load(Ordering::Acquire) && armed.swap(false, Ordering::AcqRel) {
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Asks the reactor thread to start a worker thread (once, until it has done so).
    pub fn want_worker(&self) {
        self.need_thread();
        if !self.worker_wanted.load(Ordering::Relaxed)
            && !self.worker_wanted.swap(true, Ordering::AcqRel)
        {
            self.wake();
        }
    }

    /// Wakes the reactor thread (new timer, finished pool job).
    pub fn wake(&self) {
        if let Some(w) = &self.waker {
            let _ = w.wake();
        }
    }

    /// A function that wakes the reactor, for threads that do not hold it.
    pub fn notifier(&self) -> Arc<dyn Fn() + Send + Sync> {
        self.need_thread();
        let waker = self.waker.clone();
        Arc::new(move || {
            if let Some(w) = &waker {
                let _ = w.wake();
            }
        })
    }

    /// Runs `work` on the blocking pool; `token`'s task is woken with its result.
    pub fn submit(&self, token: WaitToken, work: super::pool::Work) {
        self.pool.submit(token, work, self.notifier());
    }

    /// How many times pending work was added so far (`Pool::added`).
    pub fn pending_epoch(&self) -> u64 {
        self.pool.added.load(Ordering::SeqCst)
    }

    /// Pending work that can still wake a task: timers, pool jobs, socket waits.
    pub fn pending(&self) -> usize {
        self.live.load(Ordering::SeqCst)
            + self.pool.pending.load(Ordering::SeqCst)
            + self.io_waiting.load(Ordering::SeqCst)
    }

    /// Registers a socket for readiness events (both directions, edge-triggered).
    pub fn register(
        &self,
        fd: std::os::fd::RawFd,
        socket: std::sync::Weak<crate::object::SocketObj>,
    ) -> std::io::Result<mio::Token> {
        let Some(registry) = &self.registry else {
            return Err(std::io::Error::other("没有可用的事件轮询"));
        };
        self.need_thread();
        let token = {
            let mut s = self.sockets.lock();
            // Sockets dropped without 关闭 leave stale entries: prune as the map grows.
            if s.map.len() >= 1024 && s.map.len().is_power_of_two() {
                s.map.retain(|_, w| w.strong_count() > 0);
            }
            let t = s.next;
            s.next += 1;
            s.map.insert(t, socket);
            mio::Token(t)
        };
        registry.register(
            &mut mio::unix::SourceFd(&fd),
            token,
            mio::Interest::READABLE | mio::Interest::WRITABLE,
        )?;
        Ok(token)
    }

    pub fn deregister(&self, fd: std::os::fd::RawFd, token: mio::Token) {
        if let Some(registry) = &self.registry {
            let _ = registry.deregister(&mut mio::unix::SourceFd(&fd));
        }
        self.sockets.lock().map.remove(&token.0);
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.pool.shut_down();
        self.wake();
    }

    /// The reactor thread's loop. `fire` schedules what a timer, a socket or a pool job
    /// wakes.
    pub fn run(&self, mut fire: impl FnMut(Fired)) {
        let Some(mut poll) = self.poll.lock().take() else {
            return;
        };
        let mut events = mio::Events::with_capacity(256);
        while !self.stop.load(Ordering::Acquire) {
            if self.worker_wanted.swap(false, Ordering::AcqRel) {
                fire(Fired::StartWorker);
            }
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
                self.fire_timer(action, &mut fire);
            }
            let done = std::mem::take(&mut *self.pool.done.lock());
            let any_done = !done.is_empty();
            for finished in done {
                match finished {
                    Finished::Wake(token, wake) => fire(Fired::Wake(token, wake)),
                    Finished::Complete(task, ending) => fire(Fired::Complete(task, ending)),
                }
                // Schedule first, then stop counting, as for timers.
                self.pool.pending.fetch_sub(1, Ordering::SeqCst);
            }
            if any_due || any_done {
                fire(Fired::Batch);
            }
            if poll.poll(&mut events, timeout).is_err() {
                continue;
            }
            let mut any_socket = false;
            for event in events.iter() {
                if event.token() == WAKER {
                    continue;
                }
                let socket = self
                    .sockets
                    .lock()
                    .map
                    .get(&event.token().0)
                    .and_then(|w| w.upgrade());
                if let Some(socket) = socket {
                    let readable =
                        event.is_readable() || event.is_read_closed() || event.is_error();
                    let writable =
                        event.is_writable() || event.is_write_closed() || event.is_error();
                    for (token, wake) in socket.on_ready(readable, writable) {
                        any_socket = true;
                        fire(Fired::Wake(token, wake));
                    }
                }
            }
            if any_socket {
                fire(Fired::Batch);
            }
        }
    }

    fn fire_timer(&self, action: TimerAction, fire: &mut impl FnMut(Fired)) {
        match action {
            // It stops counting where it is acted on, after the task is queued.
            TimerAction::Wake(token, wake) => fire(Fired::Timer(token, wake)),
            TimerAction::Complete(task) => {
                let armed = task.flags().timer_armed.swap(false, Ordering::AcqRel);
                fire(Fired::Complete(
                    task,
                    super::task::Ending::Value(Value::NIL),
                ));
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
            TimerAction::SocketDeadline(socket) => {
                let Some(sock) = socket.upgrade() else {
                    return;
                };
                let mut st = sock.state.lock();
                let now = Instant::now();
                let expired = match st.read_deadline {
                    // Moved forward by a later read: wait again, until then.
                    Some((at, _)) if at > now && !st.readers.is_empty() => {
                        drop(st);
                        self.add(at - now, TimerAction::SocketDeadline(Arc::downgrade(&sock)));
                        return;
                    }
                    Some((_, ms)) if !st.readers.is_empty() => ms,
                    // Nobody is waiting with a deadline.
                    _ => {
                        st.deadline_armed = false;
                        return;
                    }
                };
                st.read_deadline = None;
                st.deadline_armed = false;
                let readers = std::mem::take(&mut st.readers);
                drop(st);
                let e = crate::native::error_value(
                    qi_bytecode::diagnostic::Code::E6004,
                    &format!("：{expired} 毫秒内没有收到数据"),
                );
                for token in readers {
                    fire(Fired::Wake(token, Wake::Throw(e.clone())));
                }
            }
        }
    }
}
