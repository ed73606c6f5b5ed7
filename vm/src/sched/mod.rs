//! The scheduler: tasks on N worker threads, with work stealing, parking and timers.
//!
//! # The moving parts
//!
//! - **Tasks** ([`task::Task`]) hold their fibers and their ending. A task is *active* while
//!   it is queued or running, and *parked* during a wait ([`wait`]) that something else
//!   will claim: a channel operation, a timer, a task it awaits, a lock.
//! - **Workers** each own a crossbeam-deque FIFO queue and a LIFO slot. A task woken by the
//!   task running on a worker goes into that worker's LIFO slot, so a ping-pong pair stays
//!   on one core and in cache; the slot is used at most [`LIFO_LIMIT`] times in a row so the
//!   pair cannot starve the queue. New tasks and yielding tasks go to the back of the queue.
//!   An idle worker takes from the global injector, then steals half of another worker's
//!   queue, then parks on a condition variable.
//! - **The injector** takes tasks scheduled from outside the workers (the reactor, the main
//!   thread) and is checked every [`INJECTOR_INTERVAL`] ticks even when the local queue is
//!   busy, so injected work cannot starve.
//! - **The reactor** ([`reactor::Reactor`]) is one thread with a `mio::Poll` and the timer
//!   heap.
//! - **Budgets** preempt: a task's turn is `budget` steps (calls and loop back-edges), after
//!   which it goes to the back of the queue. `循环 {}` cannot starve others, and with one
//!   worker the order is deterministic (no wall clock involved).
//!
//! # Invariants
//!
//! - A wait is claimed at most once (`WaitToken::claim`), and only the one who claimed it
//!   delivers and schedules the task. So a parked task is queued exactly once per wake-up.
//! - `active` counts queued plus running tasks. It is incremented *before* a task is made
//!   visible in a queue (or, for a task a turn queues where no other worker can take it,
//!   when that turn ends: the running task's own count covers it meanwhile) and
//!   decremented only after a finished or parked task is fully put away. A worker may
//!   count ahead and give back late (its *surplus*, which it gives back before it idles),
//!   so `active` can be too high for a while but never too low. Timers count in
//!   `reactor.live` until they fire, and a firing timer schedules before it stops
//!   counting. So "`active == 0` and no live timers" — quiescence — really
//!   means nothing can ever happen again: the end of the program, or a deadlock.
//! - A worker about to park first announces itself idle, then re-checks the queues; a
//!   scheduler pushes first, then looks for idle workers. Sequentially consistent ordering
//!   of those two steps means no wake-up is lost.
//!
//! # Rejected designs
//!
//! - *A thread per task / stackful coroutines*: kilobytes per task and a stack switch per
//!   suspension; Qi's heap frames make a task a few hundred bytes and a switch a pointer swap.
//! - *One global queue under a mutex*: simple, but every spawn and wake contends on it.
//! - *Polling futures as Tokio does*: Qi code is not Rust futures; the interpreter already
//!   returns at every suspension point with the frame saved, which is all a scheduler needs.

pub mod block;
pub mod credit;
pub mod driver;
pub mod fresh;
mod hand_off;
pub mod pool;
pub mod queue;
pub mod reactor;
pub mod recycle;
pub mod report;
pub mod solo;
pub mod task;
pub mod wait;
pub mod worker;

use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use crossbeam_deque::{Injector, Stealer};
use crossbeam_utils::CachePadded;
use parking_lot::{Condvar, Mutex};

use crate::value::Value;
use queue::{Queued, Runnable};
use reactor::Reactor;
use task::{Ending, Status, Task};
use wait::{WaitToken, Wake};
use worker::Local;

/// How many times in a row the LIFO slot may be used before the queue gets a turn.
/// Tokio uses 3 for the same ping-pong-starvation reason.
pub const LIFO_LIMIT: u32 = 3;

/// Every this many ticks a worker takes from the injector first. Go uses 61: a prime, so
/// it does not fall into step with loop periods in programs.
pub const INJECTOR_INTERVAL: u32 = 61;

/// How long a parked worker sleeps before looking at the queues and the quiescence
/// condition again, even without a wake-up.
const PARK_RECHECK: std::time::Duration = std::time::Duration::from_millis(50);

/// Why the program stops.
#[derive(Clone)]
pub enum End {
    /// `退出(n)`.
    Exit(i32),
    /// A failure that ends the program at once: main failed, or a detached task did.
    Failed(Arc<Task>),
    /// Nothing can happen any more.
    Quiescent,
}

pub struct Scheduler {
    pub workers: usize,
    /// Steps per turn (QI-LANGUAGE.md §9: 1,000; `QI_BUDGET` changes it).
    pub budget: u32,
    injector: Injector<Queued>,
    stealers: OnceLock<Vec<Stealer<Queued>>>,
    /// Queued plus running tasks. (Every worker changes it at every spawn and at the end
    /// of turns, so it has a cache line of its own: beside the fields every turn reads,
    /// each change made the other core fetch those again.)
    active: CachePadded<AtomicUsize>,
    /// By worker: what only that worker writes (`WorkerCounts`).
    counts: Box<[CachePadded<WorkerCounts>]>,
    /// Numbered tasks made or finished off the workers (host calls, the reactor), as in
    /// `WorkerCounts::live`.
    live_elsewhere: AtomicIsize,
    /// Parked workers (mirrored in `idle_count` for the lock-free check in `notify`).
    idle: Mutex<usize>,
    idle_count: AtomicUsize,
    idle_cv: Condvar,
    /// Parked workers told to wake that have not come out of their wait yet; changed
    /// under `idle`'s lock. While there are any, no worker goes solo (`solo.rs`): the
    /// woken one would find it solo and sleep again, and the work it was woken for would
    /// stay with the solo worker. (A million spawns on two workers: in about one run in
    /// three, the second worker woke a thousand times and ran nothing.)
    woken: AtomicUsize,
    /// Workers whose threads have not started (`defer_workers`): they count as idle for
    /// stop-the-world, and `notify` has one started when there is work for it.
    unstarted: AtomicUsize,
    pub reactor: Reactor,
    /// On a line of its own, as `active`: the spawning worker bumps it for every task.
    next_id: CachePadded<AtomicU64>,
    /// Every task made, for reports (W6002, E6006, snapshots). Pruned as it grows.
    registry: Mutex<Vec<Weak<Task>>>,
    end: Mutex<Option<End>>,
    end_cv: Condvar,
    shutdown: AtomicBool,
    /// Task #1.
    pub main: OnceLock<Arc<Task>>,
    /// The `入口` function task #1 runs after its top level (kept here, not in every task).
    entry: Mutex<Option<Value>>,
    /// How the fibers of tasks made by a host call that ran inline and then had to wait
    /// had stopped, by task number, for their first turns to take up
    /// (`TaskExec::outcome_held`). Rare, so kept here rather than a word in every task.
    held_outcomes: Mutex<Vec<(u64, crate::interp::Outcome)>>,
    /// Wake-ups their wakers could not put in place, for the tasks' next turns.
    pub held_wakes: wait::HeldWakes,
    /// `qi run`: the scheduler goes solo whenever one worker runs alone (`solo.rs`).
    may_solo: bool,
    /// `qi run` with one worker: solo throughout. (A plain field, which the compiler
    /// reads once for a whole channel operation.)
    solo_always: bool,
    /// Solo now: one worker thread alone locks tasks' executions and channels, and
    /// claims waits, without atomic read-modify-writes (`solo.rs`). Set and cleared
    /// under `idle`'s lock (or set once, with `solo_always`).
    solo: AtomicBool,
    /// How many times a worker has gone solo (for snapshots).
    solo_entries: AtomicU64,
    /// What the reactor handed the workers (`Scheduler::defer`), and whether there is
    /// any.
    deferred: Mutex<Vec<reactor::Fired>>,
    deferred_any: AtomicBool,
    /// Tasks that failed with nobody waiting yet: kept alive, because if nobody awaits
    /// them by the end of the program their errors are reported then.
    pub failed: Mutex<Vec<Arc<Task>>>,
    /// Batches of finished tasks for threads that have none left (`recycle`), and how
    /// many there are (read without the lock).
    recycled: Mutex<Vec<Vec<Arc<Task>>>>,
    recycled_batches: AtomicUsize,
    /// References to a spawning loop's closure that workers had past their most
    /// (`credit`).
    pub credit_bank: credit::Bank,
    /// Counts finished tasks, to order endings in time.
    finish_seq: AtomicU64,
    /// Hosted (REPL, embedding): no task #1, and running out of work does not end
    /// anything — the host may submit more.
    hosted: bool,
    /// Hosted only: detached tasks that failed, for the host to report.
    pub orphans: Mutex<Vec<Arc<Task>>>,
    /// Where the cycle collector stops the workers.
    pub safepoint: crate::gc::safepoint::Safepoint,
    /// Hosted only: wakers of host futures awaiting a task, woken when the VM runs out of
    /// work so they can see a deadlock.
    quiet_wakers: Mutex<Vec<std::task::Waker>>,
    /// Bumped each time `quiet_wakers` is woken and emptied.
    quiet_epoch: AtomicU64,
    /// Set by the SIGQUIT handler (`qi run` registers it): the next worker between turns,
    /// or parked, prints a task snapshot.
    snapshot_wanted: Arc<AtomicBool>,
}

/// What one worker counts, written by that worker alone (a load and a store, no atomic
/// read-modify-write), on a cache line of its own, and summed by readers.
#[derive(Default)]
struct WorkerCounts {
    /// Tasks its running turn has queued where no other worker can take them, not in
    /// `active` yet (`schedule`, `settle`).
    uncounted: AtomicUsize,
    /// How much of `active` this worker holds beyond the tasks it counts for: counts of
    /// tasks it put away, not given back yet, and counts taken ahead for tasks it will
    /// queue. `active` is only ever too high by this, never too low, so quiescence is
    /// never seen early; and a worker gives its surplus back before it idles, so it is
    /// seen. With an exact count, the worker that spawned each task and the one that
    /// finished it changed the same cache line once each per task.
    surplus: AtomicUsize,
    /// Numbered tasks it made minus those it finished: the sum over workers (and
    /// `live_elsewhere`) is the tasks not finished yet, for the task limit (E9003) and
    /// reports. With one shared counter, the worker that spawns and the one that
    /// finishes each task fought over its cache line.
    live: AtomicIsize,
}

impl WorkerCounts {
    fn add(counter: &AtomicUsize, n: usize) {
        counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }

    fn bump(counter: &AtomicIsize, by: isize) {
        counter.store(counter.load(Ordering::Relaxed) + by, Ordering::Relaxed);
    }
}

/// How many counts a worker takes into `active` at once when it spawns where others can
/// take the tasks (`Scheduler::take_surplus`).
const SURPLUS_BATCH: usize = 64;

/// Past this surplus, a worker gives it back at the end of a turn.
const SURPLUS_LIMIT: usize = 256;

impl Scheduler {
    /// A scheduler for `workers` workers (1 to `vm::MAX_WORKERS`: a number outside is
    /// taken as the nearest).
    pub fn new(workers: usize, budget: u32) -> Scheduler {
        let workers = workers.clamp(1, crate::vm::MAX_WORKERS);
        Scheduler {
            workers,
            budget: budget.max(1),
            injector: Injector::new(),
            stealers: OnceLock::new(),
            active: CachePadded::new(AtomicUsize::new(0)),
            counts: (0..workers).map(|_| CachePadded::default()).collect(),
            live_elsewhere: AtomicIsize::new(0),
            idle: Mutex::new(0),
            idle_count: AtomicUsize::new(0),
            woken: AtomicUsize::new(0),
            idle_cv: Condvar::new(),
            unstarted: AtomicUsize::new(0),
            reactor: Reactor::default(),
            next_id: CachePadded::new(AtomicU64::new(1)),
            registry: Mutex::new(Vec::new()),
            end: Mutex::new(None),
            end_cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            main: OnceLock::new(),
            entry: Mutex::new(None),
            held_outcomes: Mutex::new(Vec::new()),
            held_wakes: wait::HeldWakes::default(),
            may_solo: false,
            solo_always: false,
            solo: AtomicBool::new(false),
            solo_entries: AtomicU64::new(0),
            deferred: Mutex::new(Vec::new()),
            deferred_any: AtomicBool::new(false),
            failed: Mutex::new(Vec::new()),
            recycled: Mutex::new(Vec::new()),
            recycled_batches: AtomicUsize::new(0),
            credit_bank: credit::Bank::default(),
            finish_seq: AtomicU64::new(0),
            hosted: false,
            orphans: Mutex::new(Vec::new()),
            safepoint: crate::gc::safepoint::Safepoint::new(workers.max(1)),
            quiet_wakers: Mutex::new(Vec::new()),
            quiet_epoch: AtomicU64::new(0),
            snapshot_wanted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A scheduler that outlives its tasks, for a host that keeps submitting work.
    pub fn hosted(workers: usize, budget: u32) -> Scheduler {
        Scheduler {
            hosted: true,
            ..Scheduler::new(workers, budget)
        }
    }

    pub fn is_hosted(&self) -> bool {
        self.hosted
    }

    /// The flag a signal handler sets to have a task snapshot printed.
    pub fn snapshot_flag(&self) -> Arc<AtomicBool> {
        self.snapshot_wanted.clone()
    }

    /// Whether a snapshot is asked for (`print_requested_snapshot`). (Inlined, a load.)
    #[inline(always)]
    pub fn snapshot_requested(&self) -> bool {
        self.snapshot_wanted.load(Ordering::Relaxed)
    }

    /// Prints the snapshot a signal asked for, if one did. Workers call this between
    /// turns and while parked, so a snapshot shows every task but the printing worker's
    /// as it is between turns.
    /// (Inlined, a load: it runs between every two turns.)
    #[inline(always)]
    pub fn print_requested_snapshot(&self) {
        if self.snapshot_wanted.load(Ordering::Relaxed) {
            self.print_snapshot_once();
        }
    }

    #[cold]
    #[inline(never)]
    fn print_snapshot_once(&self) {
        if self.snapshot_wanted.swap(false, Ordering::AcqRel) {
            // A closed stderr loses the snapshot, and must not stop the worker.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr().lock(),
                report::snapshot(self).as_bytes(),
            );
        }
    }

    /// Sets task #1 and the `入口` function it runs after its top level.
    pub fn set_main(&self, main: Arc<Task>, entry: Option<Value>) {
        *self.entry.lock() = entry;
        let _ = self.main.set(main);
    }

    /// The `入口` function, once, if `task` is task #1 and has one.
    pub fn take_entry(&self, task: &Arc<Task>) -> Option<Value> {
        if !self.main.get().is_some_and(|m| Arc::ptr_eq(m, task)) {
            return None;
        }
        self.entry.lock().take()
    }

    /// Keeps how `task`'s fiber stopped before the task existed, for its first turn
    /// (`take_held_outcome`).
    pub fn hold_outcome(&self, task: &Task, outcome: crate::interp::Outcome) {
        task.exec().lock().outcome_held = true;
        self.held_outcomes.lock().push((task.id, outcome));
    }

    /// What `hold_outcome` kept for `task`, whose execution is `exec` (locked by the
    /// caller), once. (Inlined: every turn asks, and almost never is there one.)
    #[inline]
    pub fn take_held_outcome(
        &self,
        task: &Task,
        exec: &mut task::TaskExec,
    ) -> Option<crate::interp::Outcome> {
        if !std::mem::take(&mut exec.outcome_held) {
            return None;
        }
        let mut held = self.held_outcomes.lock();
        let at = held.iter().position(|(id, _)| *id == task.id)?;
        Some(held.swap_remove(at).1)
    }

    /// The next task number (`#N`).
    pub fn next_id(&self) -> u64 {
        if self.is_solo() {
            // Solo: only the solo worker runs Qi code, which is what numbers tasks (a
            // host's `Runtime` is never solo), so a load and a store do (`solo.rs`).
            let id = self.next_id.load(Ordering::Relaxed);
            self.next_id.store(id + 1, Ordering::Relaxed);
            return id;
        }
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Stops every worker and host thread at a safepoint, runs `f`, lets them go on.
    /// `caller_is_worker`: the caller is one of this scheduler's workers.
    pub fn stop_the_world<R>(&self, caller_is_worker: bool, f: impl FnOnce() -> R) -> Option<R> {
        self.safepoint.stop_the_world(
            &|| self.idle_count.load(Ordering::SeqCst) + self.unstarted.load(Ordering::SeqCst),
            &|| self.is_shut_down(),
            caller_is_worker,
            f,
        )
    }

    /// Starts with only the calling thread's worker: the others' threads start when a
    /// task could run on them (`notify`), so a program that never runs two tasks at once
    /// never pays for them (a third of a millisecond of start-up and exit, measured).
    /// The caller handles `Fired::StartWorker` by starting one with `claim_unstarted`.
    pub fn defer_workers(&self) {
        self.unstarted
            .store(self.workers.saturating_sub(1), Ordering::SeqCst);
    }

    /// Takes one not-yet-started worker to start now; `false` if none is left or the
    /// scheduler is shutting down.
    pub fn claim_unstarted(&self) -> bool {
        !self.is_shut_down()
            && self
                .unstarted
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
    }

    /// Hosted: wakes `waker` when the VM next runs out of work. The epoch it returns
    /// changes once that has happened (the registration is used up).
    pub fn wake_when_quiet(&self, waker: &std::task::Waker) -> u64 {
        let mut wakers = self.quiet_wakers.lock();
        wakers.push(waker.clone());
        self.quiet_epoch.load(Ordering::SeqCst)
    }

    /// See [`Scheduler::wake_when_quiet`].
    pub fn quiet_epoch(&self) -> u64 {
        self.quiet_epoch.load(Ordering::SeqCst)
    }

    /// Numbered tasks not finished yet.
    pub fn unfinished_tasks(&self) -> usize {
        let on_workers: isize = self
            .counts
            .iter()
            .map(|c| c.live.load(Ordering::Relaxed))
            .sum();
        let total = on_workers + self.live_elsewhere.load(Ordering::Relaxed);
        usize::try_from(total).unwrap_or(0)
    }

    /// A numbered task made (`by` 1) or finished (-1), counted where it happened.
    fn count_live(&self, local: Option<&Local>, by: isize) {
        match local.and_then(|l| self.counts.get(l.index)) {
            Some(c) => WorkerCounts::bump(&c.live, by),
            None => {
                self.live_elsewhere.fetch_add(by, Ordering::Relaxed);
            }
        }
    }

    /// Counts a new task and records it for reports at once (task #1, a host's tasks).
    pub fn register(&self, task: &Arc<Task>) {
        self.count_spawned(None);
        task.exec().lock().recorded = true;
        self.record(task);
    }

    /// Counts a task made by `创建`/`启动`, for the task limit. Its worker records it for
    /// reports when it first blocks or yields (`worker::run_turn`): most tasks finish in
    /// their first turn, and recording every one cost a lock, a weak handle, and a sweep
    /// of the registry now and then (spawning a million tasks on one worker: 356 → 328 ms
    /// without it).
    pub fn count_spawned(&self, local: Option<&Local>) {
        self.count_live(local, 1);
    }

    /// Counts a task made by `创建`/`启动` as finished, when nothing else is left to do at
    /// its end (`worker::turn_of`); `complete` does it otherwise.
    pub fn count_finished(&self, local: Option<&Local>) {
        self.count_live(local, -1);
    }

    /// Adds a task to the registry that reports read (W6002, E6006, snapshots).
    pub fn record(&self, task: &Arc<Task>) {
        let mut reg = self.registry.lock();
        if reg.len() >= 1024 && reg.len().is_power_of_two() {
            reg.retain(|w| w.strong_count() > 0);
        }
        reg.push(Arc::downgrade(task));
    }

    /// Lets go of what tasks left unfinished when the VM stops still hold: where a parked
    /// task's value was to go, and the wake-ups held for tasks that never ran again.
    pub fn release_tasks(&self) {
        for t in self.live_tasks() {
            t.exec().lock().parked = None;
            drop(self.held_wakes.take(&t));
        }
    }

    /// Every task still alive that has been recorded (every one that ever blocked or
    /// yielded, and task #1), by number.
    pub fn live_tasks(&self) -> Vec<Arc<Task>> {
        let mut tasks: Vec<Arc<Task>> = self
            .registry
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        tasks.sort_by_key(|t| t.id);
        tasks
    }

    /// Makes a task runnable. `local` is the worker doing it, if any; `woken` says the
    /// task was woken by the task running there (a candidate for the LIFO slot).
    #[inline(always)]
    pub fn schedule(&self, task: impl Into<Runnable>, local: Option<&Local>, woken: bool) {
        let task = task.into();
        self.count_queued(local, woken);
        task.task().set_status(Status::Runnable);
        self.enqueue(Queued::from(task), local, woken);
    }

    /// Queues a `启动` task that the worker taking it will make (`fresh.rs`), counted
    /// active as `schedule` counts a task.
    #[inline(always)]
    pub fn schedule_fresh(&self, fresh: fresh::Fresh, local: &Local) {
        self.count_queued(Some(local), false);
        self.enqueue(Queued::from(fresh), Some(local), false);
    }

    /// Counts a task about to be queued as active.
    #[inline(always)]
    fn count_queued(&self, local: Option<&Local>, woken: bool) {
        match local
            .filter(|l| l.in_turn())
            .and_then(|l| self.counts.get(l.index))
        {
            // Queued where no other worker can take it before this turn ends (one worker;
            // or the LIFO slot, whose occupant is counted before it moves to the queue):
            // counted by `settle` when the worker's round of turns ends. Until then the
            // running task's own count keeps `active` above zero (a task put away in the
            // round counts until its end). A task that wakes another and then parks, as
            // in a channel hand-off, so changes `active` not at all.
            Some(slot) if self.workers == 1 || woken => WorkerCounts::add(&slot.uncounted, 1),
            // Where others can take it: counted now, out of this worker's surplus.
            Some(slot) => self.take_surplus(slot, 1),
            None => {
                self.active.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// Counts `n` tasks in `active` for the worker owning `slot`: out of its surplus, and
    /// when that runs short, with one read-modify-write for `SURPLUS_BATCH` more.
    fn take_surplus(&self, slot: &WorkerCounts, n: usize) {
        let surplus = self.draw(slot.surplus.load(Ordering::Relaxed), n);
        slot.surplus.store(surplus, Ordering::Relaxed);
    }

    /// A worker's surplus once `n` counts are taken out of `surplus`, adding to `active`
    /// when it runs short.
    #[inline(always)]
    fn draw(&self, surplus: usize, n: usize) -> usize {
        if surplus >= n {
            surplus - n
        } else {
            self.active
                .fetch_add(n - surplus + SURPLUS_BATCH, Ordering::SeqCst);
            SURPLUS_BATCH
        }
    }

    /// The end of a round of turns on `local`'s worker (`worker::run_task`): the tasks its
    /// turns queued count as active now, and the `put_away` tasks (finished or parked)
    /// stop counting — their counts become surplus, given back once there is a lot of it
    /// or the worker idles.
    pub fn settle(&self, local: &Local, put_away: usize) {
        let Some(slot) = self.counts.get(local.index) else {
            if put_away > 0 {
                self.active.fetch_sub(put_away, Ordering::SeqCst);
            }
            return;
        };
        let queued = slot.uncounted.load(Ordering::Relaxed);
        if queued > 0 {
            slot.uncounted.store(0, Ordering::Relaxed);
        }
        // Worked out in a register and stored once: reloading the surplus just stored
        // stalled every turn (a fifth of `run_task`'s samples in a ping-pong).
        let mut surplus = slot.surplus.load(Ordering::Relaxed) + put_away;
        if queued > 0 {
            surplus = self.draw(surplus, queued);
        }
        if surplus > SURPLUS_LIMIT {
            slot.surplus.store(0, Ordering::Relaxed);
            self.active.fetch_sub(surplus, Ordering::SeqCst);
        } else {
            slot.surplus.store(surplus, Ordering::Relaxed);
        }
    }

    /// Gives back the part of `active` that `local`'s worker holds beyond its tasks: when
    /// it has run out of work, before it looks for quiescence or parks, and when the
    /// surplus has grown past `SURPLUS_LIMIT`.
    pub fn give_back(&self, local: &Local) {
        if let Some(slot) = self.counts.get(local.index) {
            let surplus = slot.surplus.load(Ordering::Relaxed);
            if surplus > 0 {
                slot.surplus.store(0, Ordering::Relaxed);
                self.active.fetch_sub(surplus, Ordering::SeqCst);
            }
        }
    }

    /// Puts an already-active task back in a queue (it used up its turn).
    pub fn requeue(&self, task: impl Into<Queued>, local: Option<&Local>) {
        let task = task.into();
        match local {
            // Alone in its worker's queue, it runs again right away: waking an idle
            // worker would only have it steal the task and move it to another core at
            // every turn (20% on a single busy task with two workers).
            Some(l) if !l.has_work() => {
                l.push(task);
            }
            _ => self.enqueue(task, local, false),
        }
    }

    #[inline(always)]
    fn enqueue(&self, task: Queued, local: Option<&Local>, woken: bool) {
        let stealable = match local {
            Some(l) if woken && self.workers > 1 => match l.put_lifo(task) {
                Some(prev) => {
                    // It becomes stealable: it must be counted first.
                    self.settle(l, 0);
                    l.push(prev);
                    true
                }
                None => false,
            },
            Some(l) => {
                l.push(task);
                true
            }
            None => {
                self.injector.push(task);
                true
            }
        };
        // A task in the LIFO slot is not stealable and runs on this worker next, as in
        // Tokio: waking an idle worker for it would only make that worker look, find
        // nothing, and sleep again — a futex round trip per channel hand-off. With one
        // worker, a task it queues itself has nobody else to wake, so it skips `notify`
        // and its SeqCst fence; a host thread's queue is handed over with a notify of its
        // own. A solo worker wakes another only once it has left the mode, between turns
        // (`review_solo`).
        if stealable {
            match local {
                Some(_) if self.workers == 1 => {}
                Some(l) if self.is_solo() => l.want_company(),
                _ => self.notify(),
            }
        }
    }

    /// Wakes one parked worker if any is parked, else has one started if any is left.
    pub(super) fn notify(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.idle_count.load(Ordering::SeqCst) > 0 {
            let idle = self.idle.lock();
            let woken = self.woken.load(Ordering::Relaxed);
            if *idle > woken {
                self.woken.store(woken + 1, Ordering::Relaxed);
            }
            self.idle_cv.notify_one();
        } else if self.unstarted.load(Ordering::Relaxed) > 0 {
            self.reactor.want_worker();
        }
    }

    /// Wakes every parked worker to look at the queues and the quiescence condition again.
    pub fn poke(&self) {
        let idle = self.idle.lock();
        self.woken.store(*idle, Ordering::Relaxed);
        self.idle_cv.notify_all();
    }

    /// Starts the next wait of `task`, whose turn is running: its generation, for the
    /// tokens of its waiters. A timer or socket wait the last one left counted stops
    /// counting (its entry, of an older generation, can no longer retire it).
    #[inline]
    pub fn begin_wait(&self, task: &Task) -> u64 {
        let (generation, left) = task.wait.begin();
        if left != 0 {
            self.reactor.stop_counting(left);
        }
        generation
    }

    /// Claims `token`'s wait with `wake` if nobody has, and schedules its task.
    pub fn wake(&self, token: WaitToken, wake: Wake, local: Option<&Local>) -> bool {
        let Some(claim) = self.claim(&token) else {
            return false;
        };
        self.put_wake(claim, wake);
        self.woken(token, local);
        true
    }

    /// Delivers `wake` to the task whose wait the caller claimed: into its registers,
    /// under its execution lock, if that is free and the wake-up needs no interpreter;
    /// held for its next turn otherwise. The caller then schedules the task (`woken`).
    /// (Inlined into the channel operations, which then write a received value straight
    /// into the receiver's register.)
    #[inline(always)]
    pub fn put_wake(&self, claim: wait::Claim<'_>, wake: Wake) {
        let task = claim.task();
        let wake = match self.try_lock_exec(task) {
            Some(mut exec) => match wait::apply_in_place(&mut exec, wake) {
                Ok(()) => return,
                Err(wake) => wake,
            },
            None => wake,
        };
        self.held_wakes.hold(task, wake);
    }

    /// What the reactor has for a parked task (`Fired::Wake`: a pool job's result, a
    /// socket's readiness): claimed and delivered here unless something else woke it. The
    /// task is queued before its socket wait stops counting, so that a quiescence check
    /// never sees neither; a wait someone else woke stops counting it too.
    pub fn reactor_wake(&self, token: WaitToken, wake: Wake, local: Option<&Local>) {
        match self.claim(&token) {
            Some(claim) => {
                self.put_wake(claim, wake);
                self.schedule(token.task.clone(), local, false);
            }
            None => drop(wake),
        }
        self.reactor.retire(&token);
        wait::drop_displaced();
    }

    /// A timer for `token`'s wait fired (`Fired::Timer`): as `reactor_wake`, and the timer
    /// stops counting as pending work — after the task is queued — if the wait still had
    /// it counted.
    pub fn timer_wake(&self, token: WaitToken, wake: Wake, local: Option<&Local>) {
        let armed = token.disarm(wait::TIMER);
        self.reactor_wake(token, wake, local);
        if armed {
            self.reactor.stop_counting(wait::TIMER);
        }
    }

    /// Schedules the task of a wait someone claimed and delivered, handing the queue the
    /// waiter's handle on the task (see [`Runnable`]). (Inlined, as are `schedule`,
    /// `enqueue` and the queues' `push`: a channel hand-off then writes the entry straight
    /// into the queue, 74 instructions less per ping-pong round trip and 4% faster.)
    #[inline(always)]
    pub fn woken(&self, token: WaitToken, local: Option<&Local>) {
        self.reactor.retire(&token);
        self.schedule(token.task, local, true);
        wait::drop_displaced();
    }

    /// Queued plus running tasks (for snapshots): `active`, plus what the running turns
    /// have queued and not counted yet, minus the workers' surplus. (Read without a lock
    /// while workers run, so a snapshot's figure is approximate.)
    pub fn active_count(&self) -> usize {
        let (uncounted, surplus) = self.counts.iter().fold((0, 0), |(u, s), slot| {
            (
                u + slot.uncounted.load(Ordering::Relaxed),
                s + slot.surplus.load(Ordering::Relaxed),
            )
        });
        (self.active.load(Ordering::SeqCst) + uncounted).saturating_sub(surplus)
    }

    /// Something outside the queues runs Qi code (a host call running inline): it counts
    /// as active, so no one takes the VM for idle meanwhile. Paired with `deactivate`.
    pub fn activate(&self) {
        self.active.fetch_add(1, Ordering::SeqCst);
    }

    /// The host call `activate` counted has ended. (Workers count their tasks in and out
    /// through `schedule` and `settle`.)
    pub fn deactivate(&self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
    }

    /// Nothing queued, nothing running, no timer pending.
    pub fn quiescent(&self) -> bool {
        // Pending work first: a firing timer or finished job schedules before it stops
        // counting. The other way, a task that starts to wait on pending work counts the
        // work before it stops counting itself — but between the look at pending work and
        // the look at `active` a task can do both (a thread descheduled between the two
        // loads saw it under load: a false E6006). So the count of work ever added must
        // not have moved meanwhile; it moves after each addition, before the task can stop
        // counting.
        let epoch = self.reactor.pending_epoch();
        self.reactor.pending() == 0
            && self.active.load(Ordering::SeqCst) == 0
            && self.reactor.pending_epoch() == epoch
    }

    /// Records why the program stops (the first reason wins), stops the workers and the
    /// reactor, and wakes the main thread.
    pub fn finish_program(&self, end: End) {
        {
            let mut e = self.end.lock();
            if e.is_none() {
                *e = Some(end);
            }
            self.end_cv.notify_all();
        }
        self.shut_down();
    }

    /// Blocks the calling (main) thread until the program stops.
    pub fn wait_for_end(&self) -> End {
        let mut e = self.end.lock();
        loop {
            if let Some(end) = e.clone() {
                return end;
            }
            self.end_cv.wait(&mut e);
        }
    }

    /// Why the program stopped, if it has.
    pub fn end(&self) -> Option<End> {
        self.end.lock().clone()
    }

    /// Waits up to `timeout` for the program to stop; whether it has.
    pub fn wait_for_end_timeout(&self, timeout: std::time::Duration) -> bool {
        let mut e = self.end.lock();
        if e.is_none() {
            self.end_cv.wait_for(&mut e, timeout);
        }
        e.is_some()
    }

    /// Stops the workers and the reactor.
    pub fn shut_down(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        {
            let _guard = self.idle.lock();
            self.idle_cv.notify_all();
        }
        self.reactor.stop();
    }

    pub fn is_shut_down(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Takes a task from the injector (a batch into `local`'s queue).
    fn take_injected(&self, local: &Local) -> Option<Queued> {
        local.queue().take_from(&self.injector)
    }

    /// Steals half of another worker's queue.
    fn steal(&self, local: &Local) -> Option<Queued> {
        let stealers = self.stealers.get()?;
        let n = stealers.len();
        let start = local.random() as usize % n.max(1);
        for k in 0..n {
            let i = (start + k) % n;
            if i == local.index {
                continue;
            }
            if let Some(t) = local.queue().steal_from(&stealers[i]) {
                return Some(t);
            }
        }
        None
    }

    fn has_work(&self, local: &Local) -> bool {
        !self.injector.is_empty()
            || local.has_work()
            || self.has_deferred()
            || self
                .stealers
                .get()
                .is_some_and(|s| s.iter().any(|s| !s.is_empty()))
    }

    /// Parks the worker until there may be work. `false` when the scheduler shuts down.
    fn park(&self, local: &Local) -> bool {
        let mut idle = self.idle.lock();
        *idle += 1;
        self.idle_count.fetch_add(1, Ordering::SeqCst);
        let keep_going = loop {
            if self.is_shut_down() {
                break false;
            }
            // While another worker runs solo, this one must not touch a task
            // (`solo.rs`): it stays parked until that worker leaves the mode.
            if !self.solo_elsewhere() && self.has_work(local) {
                break true;
            }
            if self.hosted && self.quiescent() {
                let wakers = {
                    let mut w = self.quiet_wakers.lock();
                    self.quiet_epoch.fetch_add(1, Ordering::SeqCst);
                    std::mem::take(&mut *w)
                };
                wakers.into_iter().for_each(std::task::Waker::wake);
            }
            if self.quiescent() && !self.hosted {
                // `finish_program` takes the idle lock to wake the others.
                drop(idle);
                self.finish_program(End::Quiescent);
                idle = self.idle.lock();
                continue;
            }
            // A timed wait: quiescence is also re-checked now and then, so a missed
            // wake-up can delay the end of a program but never hang it.
            self.idle_cv.wait_for(&mut idle, PARK_RECHECK);
            self.came_out_of_wait(&idle);
            if self.snapshot_wanted.load(Ordering::Relaxed) && !self.solo_elsewhere() {
                // Not parked while it reads the tasks, so that no worker goes solo
                // meanwhile (the solo worker prints it otherwise).
                *idle -= 1;
                self.idle_count.fetch_sub(1, Ordering::SeqCst);
                drop(idle);
                self.print_requested_snapshot();
                idle = self.idle.lock();
                *idle += 1;
                self.idle_count.fetch_add(1, Ordering::SeqCst);
            }
        };
        *idle -= 1;
        self.idle_count.fetch_sub(1, Ordering::SeqCst);
        keep_going
    }

    /// A parked worker is out of its wait, woken or not: one wake-up fewer is owed
    /// (`woken`). Under `idle`'s lock, whose guard proves it.
    fn came_out_of_wait(&self, _idle: &parking_lot::MutexGuard<'_, usize>) {
        let woken = self.woken.load(Ordering::Relaxed);
        self.woken.store(woken.saturating_sub(1), Ordering::Relaxed);
    }

    /// Marks `task` finished and wakes everything waiting for it.
    pub fn complete(&self, task: &Arc<Task>, mut ending: Ending, local: Option<&Local>) {
        // A timer future finished early (cancelled): its timer no longer counts.
        self.reactor.retire_flag(&task.flags().timer_armed);
        let cancelled = task.flags().cancelled.load(Ordering::SeqCst)
            && matches!(&ending, Ending::Error(f) if block::is_cancellation(&f.value));
        let failed = matches!(ending, Ending::Error(..)) && !cancelled;
        let awaiters = {
            let mut st = self.lock_state_to_finish(task);
            if st.ending.is_some() {
                // Finished already (a timer future both fired and was cancelled).
                return;
            }
            task.set_status(if cancelled {
                Status::Cancelled
            } else if failed {
                Status::Failed
            } else {
                Status::Done
            });
            // Read by 全部等待 under this lock, to find the failure that happened first:
            // only failures need a number, and a VM-wide counter bumped by every task was a
            // contended line with two workers.
            if let Ending::Error(f) = &mut ending {
                f.seq = self.finish_seq.fetch_add(1, Ordering::Relaxed) + 1;
            }
            st.ending = Some(ending.clone());
            if !st.awaiters.is_empty() {
                task.mark_observed();
            }
            std::mem::take(&mut st.awaiters)
        };
        if task.id != 0 {
            self.count_live(local, -1);
        }
        for a in awaiters {
            block::notify_awaiter(self, task, a, &ending, local);
        }
        let is_main = self.main.get().is_some_and(|m| Arc::ptr_eq(m, task));
        if failed && task.flags().detached && self.hosted {
            self.orphans.lock().push(task.clone());
        } else if failed && (task.flags().detached || is_main) {
            self.finish_program(End::Failed(task.clone()));
        } else if failed && task.id != 0 {
            self.failed.lock().push(task.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Outcome;

    /// A wake-up goes into the registers of a parked task whose execution is free, and
    /// waits in the held table while that is busy (the turn that parked it has not ended,
    /// a snapshot reads it) or when it is a throw; either way the task is queued once.
    #[test]
    fn a_wake_up_waits_while_the_task_is_busy() {
        use crate::sched::task::Resume;
        let sched = Scheduler::new(1, 100);
        let task = Arc::new(Task::new(1, Some(crate::fiber::Fiber::new(2)), false, None));
        let park = |task: &Arc<Task>| {
            let generation = sched.begin_wait(task);
            task.exec().lock().park(Resume {
                dest: 0,
                for_loop: false,
            });
            WaitToken::new(task.clone(), generation)
        };
        // Free: delivered in place, nothing held.
        let token = park(&task);
        assert!(sched.wake(token.clone(), Wake::Value(Value::int(1)), None));
        assert!(!sched.wake(token, Wake::Value(Value::int(2)), None), "once");
        assert!(!task.wait.has_held());
        assert!(task.exec().lock().parked.is_none());
        // Busy: held, the task still parked where the value is to go.
        let token = park(&task);
        let busy = task.exec().lock();
        assert!(sched.wake(token, Wake::Value(Value::int(3)), None));
        drop(busy);
        assert!(task.wait.has_held());
        assert!(task.exec().lock().parked.is_some());
        assert!(
            matches!(sched.held_wakes.take(&task), Some(Wake::Value(v)) if v.as_int() == Some(3))
        );
        task.exec().lock().parked = None;
        // A throw is always held.
        let token = park(&task);
        assert!(sched.wake(token, Wake::Throw(Value::int(4)), None));
        assert!(matches!(sched.held_wakes.take(&task), Some(Wake::Throw(_))));
        assert!(sched.held_wakes.is_empty());
        assert_eq!(sched.injector.len(), 3, "queued once per wake-up");
    }

    /// Every addition of pending work moves the count that quiescence reads before and
    /// after it looks, so that a task which adds work and then stops counting between the
    /// two looks cannot be taken for the end of the program.
    #[test]
    fn adding_pending_work_moves_the_epoch_quiescence_reads() {
        let sched = Scheduler::new(2, 100);
        let task = Arc::new(Task::new(1, Some(crate::fiber::Fiber::new(2)), false, None));
        let before = sched.reactor.pending_epoch();
        assert!(sched.quiescent());
        let generation = sched.begin_wait(&task);
        let token = WaitToken::new(task.clone(), generation);
        sched.reactor.add(
            std::time::Duration::from_secs(3600),
            reactor::TimerAction::Wake(token.clone(), Wake::End),
        );
        assert_eq!(sched.reactor.pending_epoch(), before + 1);
        sched.reactor.arm_io(&token);
        assert_eq!(sched.reactor.pending_epoch(), before + 2);
        assert!(!sched.quiescent(), "a timer and a socket wait are pending");
        // The wait ends: both stop counting, and the count of additions stays.
        assert!(token.claim().is_some());
        sched.reactor.retire(&token);
        assert!(sched.quiescent());
        assert_eq!(sched.reactor.pending_epoch(), before + 2);
    }

    /// A held outcome goes to its own task's first turn, once.
    #[test]
    fn held_outcomes_go_to_their_own_task() {
        let sched = Scheduler::new(1, 100);
        let a = Task::new(7, None, false, None);
        let b = Task::new(8, None, false, None);
        sched.hold_outcome(&a, Outcome::Exit(3));
        sched.hold_outcome(&b, Outcome::Exit(4));
        assert!(a.exec().lock().outcome_held);
        assert!(matches!(
            sched.take_held_outcome(&b, &mut b.exec().lock()),
            Some(Outcome::Exit(4))
        ));
        assert!(!b.exec().lock().outcome_held);
        assert!(sched.take_held_outcome(&b, &mut b.exec().lock()).is_none());
        assert!(matches!(
            sched.take_held_outcome(&a, &mut a.exec().lock()),
            Some(Outcome::Exit(3))
        ));
        assert!(sched.held_outcomes.lock().is_empty());
    }
}
