//! A worker thread: take a task, run its turn, put it away; park when there is nothing.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::credit::Credit;
use super::driver::{self, Step};
use super::queue::{Queued, RunQueue, Runnable};
use super::task::{Ending, Status, Task};
use super::wait::{self, WaitToken};
use super::{End, INJECTOR_INTERVAL, LIFO_LIMIT, Scheduler};
use crate::value::Value;
use crate::vm::Shared;

/// A worker's own queues. Only its thread touches them (stealers aside).
pub struct Local {
    pub index: usize,
    queue: RunQueue,
    /// The task most recently woken by this worker's running task.
    lifo: Cell<Option<Queued>>,
    lifo_streak: Cell<u32>,
    tick: Cell<u32>,
    /// xorshift state for choosing steal victims.
    rng: Cell<u64>,
    /// This thread's net heap bytes when last handed to the VM's meter.
    heap_seen: Cell<i64>,
    /// A task's turn is running here: tasks it queues where no other worker can take them
    /// are counted apart (`Scheduler::settle`), and added to `active` when the turn ends.
    in_turn: Cell<bool>,
    /// Finished tasks kept for the next spawns on this thread (`recycle`).
    recycled: RefCell<Vec<Arc<Task>>>,
    /// Solo, this worker queued a task another worker could take: it leaves the mode and
    /// wakes one between turns (`Scheduler::review_solo`).
    wants_company: Cell<bool>,
    /// References to a spawning loop's closure in hand (`credit`).
    pub credit: Credit,
    /// Turns run so far in `run_task`'s round, hand-offs included (`hand_off`).
    round_turns: Cell<u32>,
    /// Tasks put away by hand-offs in this round, for `Scheduler::settle`.
    handed_put_away: Cell<usize>,
    /// A hand-off is running: the turns it runs do not hand off themselves.
    handing_off: Cell<bool>,
}

impl Local {
    /// The queues of worker `index`; `alone` when it is the scheduler's only worker (or
    /// a host thread's), so nobody steals from it.
    pub fn new(index: usize, alone: bool) -> Local {
        Local {
            index,
            queue: RunQueue::new(alone),
            lifo: Cell::new(None),
            lifo_streak: Cell::new(0),
            tick: Cell::new(0),
            rng: Cell::new(0x9E37_79B9_7F4A_7C15 ^ (index as u64).wrapping_add(1)),
            heap_seen: Cell::new(crate::heap::thread_net()),
            in_turn: Cell::new(false),
            recycled: RefCell::new(Vec::new()),
            wants_company: Cell::new(false),
            credit: Credit::new(!alone),
            round_turns: Cell::new(0),
            handed_put_away: Cell::new(0),
            handing_off: Cell::new(false),
        }
    }

    /// Keeps a recycled task (`recycle::put`). When `max` are kept already, half of them
    /// come back, to be handed to the scheduler.
    #[inline]
    pub fn pool_push(&self, task: Arc<Task>, max: usize) -> Option<Vec<Arc<Task>>> {
        let mut pool = self.recycled.borrow_mut();
        let overflow = if pool.len() >= max {
            Some(split_pool(&mut pool, max / 2))
        } else {
            None
        };
        pool.push(task);
        overflow
    }

    /// The task kept last. The one after it is asked for (`Task::prefetch`), for the next
    /// spawn: the worker that ran it last wrote its lines. (Its fiber's frame and
    /// registers once too; but a `启动 { … }` task's are written first by the worker that
    /// runs it, `interp::tasks::new_task`, and asking for them here only took them away
    /// from that core.)
    pub fn pool_pop(&self) -> Option<Arc<Task>> {
        let mut pool = self.recycled.borrow_mut();
        let task = pool.pop()?;
        if let Some(next) = pool.last() {
            Task::prefetch(next);
        }
        Some(task)
    }

    /// Takes over a batch of recycled tasks (this thread had none left).
    pub fn pool_refill(&self, batch: Vec<Arc<Task>>) {
        self.recycled.borrow_mut().extend(batch);
    }

    /// Adds what this thread allocated (net) since the last call to `meter`; the total.
    /// Called on the worker's own thread.
    pub fn sync_heap(&self, meter: &crate::heap::Meter) -> i64 {
        let now = crate::heap::thread_net();
        let delta = now - self.heap_seen.replace(now);
        meter
            .heap
            .fetch_add(delta, std::sync::atomic::Ordering::Relaxed)
            + delta
    }

    pub fn queue(&self) -> &RunQueue {
        &self.queue
    }

    /// Queues a task at the back of this worker's queue.
    #[inline(always)]
    pub fn push(&self, task: Queued) {
        self.queue.push(task);
    }

    /// Puts a woken task in the LIFO slot; its previous occupant, to go to the queue.
    #[inline(always)]
    pub fn put_lifo(&self, task: Queued) -> Option<Queued> {
        self.lifo.replace(Some(task))
    }

    /// Whether a task's turn is running on this worker (`Scheduler::schedule` may then
    /// leave the count of what it queues to `Scheduler::settle`).
    pub fn in_turn(&self) -> bool {
        self.in_turn.get()
    }

    /// Says whether what runs on this worker now queues tasks as a turn does (see
    /// `in_turn`); the caller then settles (`Scheduler::settle`).
    pub(super) fn set_in_turn(&self, in_turn: bool) {
        self.in_turn.set(in_turn);
    }

    /// Records that this worker, solo, queued a task another could take.
    pub(super) fn want_company(&self) {
        self.wants_company.set(true);
    }

    pub(super) fn wants_company(&self) -> bool {
        self.wants_company.get()
    }

    pub(super) fn clear_wants_company(&self) {
        self.wants_company.set(false);
    }

    /// Everything queued here (the LIFO slot first).
    pub fn drain(&self) -> Vec<Queued> {
        let mut out: Vec<Queued> = self.lifo.take().into_iter().collect();
        while let Some(t) = self.queue.pop() {
            out.push(t);
        }
        out
    }

    pub fn has_work(&self) -> bool {
        let lifo = self.lifo.take();
        let occupied = lifo.is_some();
        self.lifo.set(lifo);
        occupied || !self.queue.is_empty()
    }

    pub fn random(&self) -> u64 {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        x
    }

    /// Whether the LIFO slot's task may run now, counted in the slot's streak: for
    /// `LIFO_LIMIT` turns in a row, and after that only if nothing waits in the queue.
    #[inline(always)]
    fn slot_may_run(&self) -> bool {
        let streak = self.lifo_streak.get();
        if streak < LIFO_LIMIT {
            self.lifo_streak.set(streak + 1);
            return true;
        }
        self.past_lifo_limit()
    }

    /// The slot's task after `LIFO_LIMIT` turns in a row waits its turn in the queue —
    /// unless nothing waits there, and it would be popped straight back (`true`: a
    /// ping-pong on two workers sent one turn in four through the shared queue's push and
    /// locked pop, 103.9 → 100.2 ms). Apart, so that `next`'s common path keeps its code.
    #[cold]
    fn past_lifo_limit(&self) -> bool {
        if self.queue.is_empty() {
            self.lifo_streak.set(0);
            return true;
        }
        false
    }

    /// The task `next` would give now, taken with `next`'s bookkeeping, if it is the one
    /// a turn just woke here (in the LIFO slot, or first in a lone worker's queue), made,
    /// and `wanted`; `None`, with nothing changed, otherwise (`hand_off`).
    #[inline(always)]
    pub(super) fn take_woken_if(&self, wanted: impl Fn(&Task) -> bool) -> Option<Queued> {
        let tick = self.tick.get().wrapping_add(1);
        if tick.is_multiple_of(INJECTOR_INTERVAL) {
            // `next` looks at the injector first this time.
            return None;
        }
        let taken = match self.lifo.take() {
            Some(t) if t.task().is_some_and(&wanted) => {
                if self.slot_may_run() {
                    Some(t)
                } else {
                    self.lifo.set(Some(t));
                    None
                }
            }
            Some(t) => {
                self.lifo.set(Some(t));
                None
            }
            None => {
                let t = self.queue.take_first_if(&wanted)?;
                self.lifo_streak.set(0);
                Some(t)
            }
        }?;
        self.tick.set(tick);
        Some(taken)
    }

    /// Whether this worker may run one more turn in its round, and is not running a
    /// hand-off already.
    pub(super) fn may_hand_off(&self) -> bool {
        !self.handing_off.get() && self.round_turns.get() + 1 < TURNS_PER_ROUND
    }

    /// Marks a hand-off as running (`true`) or over.
    pub(super) fn set_handing_off(&self, on: bool) {
        self.handing_off.set(on);
    }

    /// Counts a turn that ended within a hand-off, and whether it put its task away.
    pub(super) fn count_handed_turn(&self, put_away: bool) {
        self.round_turns.set(self.round_turns.get() + 1);
        self.handed_put_away
            .set(self.handed_put_away.get() + usize::from(put_away));
    }

    #[inline(always)]
    fn next(&self, sched: &Scheduler) -> Option<Queued> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        if tick.is_multiple_of(INJECTOR_INTERVAL)
            && let Some(t) = sched.take_injected(self)
        {
            return Some(t);
        }
        if let Some(t) = self.lifo.take() {
            if self.slot_may_run() {
                return Some(t);
            }
            self.queue.push(t);
        }
        self.lifo_streak.set(0);
        self.queue
            .pop()
            .or_else(|| sched.take_injected(self))
            .or_else(|| sched.steal(self))
    }
}

/// The tasks of `pool` from `at` on, taken out of it (once per `LOCAL_MAX / 2` recycled
/// tasks: out of line, so that `pool_push` inlines).
#[inline(never)]
fn split_pool(pool: &mut Vec<Arc<Task>>, at: usize) -> Vec<Arc<Task>> {
    pool.split_off(at)
}

/// Installs the stealers of all workers (once, before any worker runs).
pub fn install_stealers(sched: &Scheduler, locals: &[Local]) {
    // All workers' queues can be stolen from, or there is one worker and none: the list
    // is indexed by worker.
    let _ = sched
        .stealers
        .set(locals.iter().filter_map(|l| l.queue.stealer()).collect());
}

/// A worker's life: run tasks until the scheduler shuts down.
pub fn run(shared: &Shared, sched: &Scheduler, local: &Local) {
    // Started while another worker may run solo: it waits in `park` until none does.
    if sched.may_solo() && !sched.park(local) {
        return;
    }
    run_with(shared, sched, local, || {});
}

/// `run`, with `between` called before each task is taken and before parking: `qi run`'s
/// main thread starts the reactor thread there when it is first needed.
pub fn run_with(shared: &Shared, sched: &Scheduler, local: &Local, mut between: impl FnMut()) {
    let _stop = StopOnPanic(sched);
    loop {
        if sched.is_shut_down() {
            return;
        }
        between();
        at_every_turn(sched, local, &mut 0);
        sched.review_solo(local);
        let next = local.next(sched).or_else(|| {
            // Out of work: what this worker holds of `active` goes back first, or the
            // others could never see the VM quiescent.
            sched.give_back(local);
            spin_for_work(sched, local)
        });
        match next {
            Some(task) => run_task(shared, sched, local, task),
            None => {
                // And the references it holds in hand, which nothing here will use for a
                // while. (Not before the spin: a worker keeping up with a spawning
                // neighbour runs out of work at every batch it steals, and giving the
                // references back and counting new ones then moved the closure's line
                // between the cores every few tasks.)
                local.credit.release();
                sched.credit_bank.release();
                shared.flush_idle();
                // Others may wake while this one is parked.
                sched.leave_solo(local);
                if !sched.park(local) {
                    return;
                }
            }
        }
    }
}

/// Shuts the scheduler down if its worker's thread panics (a bug): the tasks that worker
/// held would otherwise never run again, and the others would wait for them for ever —
/// the program hung instead of failing.
struct StopOnPanic<'a>(&'a Scheduler);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.shut_down();
        }
    }
}

/// How many times an idle worker looks for work again before it parks.
const SPINS: u32 = 64;

/// With other workers, looks for work a little longer before parking (some tens of
/// microseconds), as Go's and Tokio's schedulers do: a task that spawns many short tasks
/// keeps its neighbour busy, and parking between them made each a futex wake-up for the
/// spawner and a sleep for the neighbour (a million tasks on two workers: 47,000 futex
/// calls, now 2; the time moved only from 399 to 391 ms, as what the two workers share
/// costs more). A worker spinning here is not idle, so no one wakes it.
fn spin_for_work(sched: &Scheduler, local: &Local) -> Option<Queued> {
    // Solo, the others are parked: nobody will queue anything to find.
    if sched.workers < 2 || sched.is_solo() {
        return None;
    }
    for _ in 0..SPINS {
        for _ in 0..64 {
            std::hint::spin_loop();
        }
        if sched.is_shut_down() {
            return None;
        }
        if let Some(task) = local.next(sched) {
            return Some(task);
        }
    }
    None
}

/// Turns of tasks, the first `task`'s and then each next one `Local::next` chooses, up to
/// `TURNS_PER_ROUND` before the worker looks again at the rest of what comes between
/// them in `run_with`: the reactor thread's start and company for a solo worker, which
/// can wait a few turns. A task is made now if it was queued unmade (`fresh.rs`), and each
/// turn hands the heap it left allocated to the meter. The end of the program, what the
/// reactor handed over and a requested snapshot are seen at every turn, as in `run_with`;
/// whether a collection is due, once the round is over.
fn run_task(shared: &Shared, sched: &Scheduler, local: &Local, task: Queued) {
    let mut next = Some(task);
    local.round_turns.set(0);
    // The tasks put away in this round, which stop counting as active once it ends: each
    // keeps `active` above zero for the tasks its turn queued uncounted until then, as
    // it did until the end of its own turn (`Scheduler::count_queued`).
    let mut put_away = 0;
    while let Some(task) = next.take() {
        sched.safepoint.enter();
        local.in_turn.set(true);
        let task = task.into_runnable(sched, local);
        put_away += usize::from(run_turn(shared, sched, local, task));
        local.in_turn.set(false);
        local.credit.end_turn(&sched.credit_bank);
        if shared.config.limits.heap_bytes.is_some() {
            local.sync_heap(&shared.meter);
        }
        sched.safepoint.leave();
        let turns = local.round_turns.get() + 1;
        local.round_turns.set(turns);
        if turns < TURNS_PER_ROUND && !sched.is_shut_down() {
            at_every_turn(sched, local, &mut put_away);
            next = local.next(sched);
        }
    }
    sched.settle(local, put_away + local.handed_put_away.take());
    // Between turns, the one place a collection may start: once a round, a few turns'
    // budgets apart at most. (Asked after every turn, it was 11 instructions of each.)
    if shared.gc.due() {
        shared.gc.collect_due(sched);
    }
}

/// What a worker looks at before every turn, in `run_with` and within `run_task`'s round
/// alike: what the reactor handed over, and a requested snapshot. (Each a load, inlined.)
/// `put_away`: the tasks put away in the round so far, which stop counting before a
/// snapshot counts the runnable ones.
#[inline(always)]
fn at_every_turn(sched: &Scheduler, local: &Local, put_away: &mut usize) {
    sched.run_deferred(local);
    if sched.snapshot_requested() {
        let handed = local.handed_put_away.take();
        sched.settle(local, std::mem::take(put_away) + handed);
        sched.print_requested_snapshot();
    }
}

/// How many turns `run_task` runs before the worker's loop comes round again (a ping-pong
/// of two tasks on one worker spends 2.7% fewer instructions than with one turn a round).
pub(super) const TURNS_PER_ROUND: u32 = 16;

/// Whether the task was put away (finished or parked): it no longer counts as active.
/// (Inlined: once its turn took a carry and a lock from it, LLVM stopped inlining it, and
/// every turn paid a call and its spills: a million spawns +1.3% instructions.)
#[inline(always)]
fn run_turn(shared: &Shared, sched: &Scheduler, local: &Local, runnable: Runnable) -> bool {
    // Dropped below unless its handle went to a waiter (`wait::Entry`); a panic leaks it
    // rather than release that handle twice.
    let runnable = std::mem::ManuallyDrop::new(runnable);
    let entry = wait::Entry::new(runnable.task());
    let exec = sched.lock_exec_for_turn(runnable.task());
    let carry = driver::Carry::new(sched.budget);
    let turn = turn_of::<false>(shared, sched, local, &runnable, &entry, exec, carry, None);
    let given = entry.given();
    drop(entry);
    finish_turn(sched, local, runnable, given, turn)
}

/// What is left of a turn once it has ended as `turn`: the queue entry goes, is requeued, or
/// goes with its finished task to be recycled; `given`: its handle went to a waiter
/// (`wait::Entry::given`). Whether the task was put away.
#[inline(always)]
pub(super) fn finish_turn(
    sched: &Scheduler,
    local: &Local,
    runnable: std::mem::ManuallyDrop<Runnable>,
    given: bool,
    turn: TurnEnd,
) -> bool {
    if given {
        // Forgotten: its handle is the waiter's now. (Never requeued: `turn_of` queues a
        // new entry instead.)
        return true;
    }
    let runnable = std::mem::ManuallyDrop::into_inner(runnable);
    match turn {
        TurnEnd::Finished => {
            super::recycle::put(sched, local, runnable, false);
            true
        }
        TurnEnd::FinishedPrivately => {
            super::recycle::put(sched, local, runnable, true);
            true
        }
        TurnEnd::PutAway => true,
        TurnEnd::Requeue => {
            sched.requeue(runnable, Some(local));
            false
        }
    }
}

/// What is left to do with the run-queue entry after a turn.
pub(super) enum TurnEnd {
    /// Finished: the entry goes, and the task may be recycled.
    Finished,
    /// Finished with nothing but its execution touched (`turn_of`): recycled the same
    /// way, with less to empty.
    FinishedPrivately,
    /// Parked (or the program ends): the entry goes.
    PutAway,
    /// Yielded: back of the queue.
    Requeue,
}

/// `turn_of` for a hand-off's turn (`hand_off`), which may have run its first drive already
/// and ended as `first`. (Apart, so that the worker's own turns keep their code.)
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(super) fn turn_of_handed(
    shared: &Shared,
    sched: &Scheduler,
    local: &Local,
    runnable: &Runnable,
    entry: &wait::Entry<'_>,
    exec: crate::spin::SpinGuard<'_, super::task::TaskExec>,
    carry: driver::Carry,
    first: Option<Step>,
) -> TurnEnd {
    turn_of::<true>(shared, sched, local, runnable, entry, exec, carry, first)
}

/// Runs the turn of `runnable`'s task, whose execution `exec` holds locked, with what
/// `carry` gives it; `first`: how its first drive ended, if that ran already (a
/// hand-off's); `HANDED`: for a hand-off's turn. Once the queue entry's handle has gone to
/// a waiter, the task is used only while its execution lock is held, or through a handle
/// the turn kept (see `wait::Entry::handle_for_waiter`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn turn_of<const HANDED: bool>(
    shared: &Shared,
    sched: &Scheduler,
    local: &Local,
    runnable: &Runnable,
    entry: &wait::Entry<'_>,
    mut exec: crate::spin::SpinGuard<'_, super::task::TaskExec>,
    mut carry: driver::Carry,
    mut first: Option<Step>,
) -> TurnEnd {
    let task = runnable.task();
    loop {
        let step = match first.take() {
            Some(step) => step,
            None => driver::drive::<HANDED>(
                shared, sched, local, runnable, &mut exec, &mut carry, entry,
            ),
        };
        match step {
            Step::Finished(ending) => {
                drop(exec);
                // A `启动` task that returned, which nothing else can reach: no one will
                // read its ending or wait for it, so only its count changes.
                let ending = match ending {
                    Ending::Value(v)
                        if task.flags().detached
                            && !entry.given()
                            && super::solo::out_of_reach(task) =>
                    {
                        // The value alone is dropped, inline: the ending's drop glue was
                        // a call on every task.
                        drop(v);
                        sched.count_finished(Some(local));
                        return TurnEnd::FinishedPrivately;
                    }
                    ending => ending,
                };
                // The ending is stored in the task: a result that holds the task's own
                // handle closes a cycle.
                let v = ending.value();
                shared
                    .gc
                    .stored_lazily(local.index, || Value::object(task.clone()), v);
                sched.complete(task, ending, Some(local));
                return TurnEnd::Finished;
            }
            Step::Yielded => {
                record(sched, task, &mut exec);
                if entry.given() {
                    // Not reached (a turn that registers ends parked or failed), but the
                    // entry is no longer the queue's to take.
                    sched.requeue(Runnable::from(task.clone()), Some(local));
                    return TurnEnd::PutAway;
                }
                return TurnEnd::Requeue;
            }
            Step::Parked => return end_parked(sched, local, task, exec),
            Step::Blocked(op, resume) => {
                record(sched, task, &mut exec);
                let generation = sched.begin_wait(task);
                let token = WaitToken::new(task.clone(), generation);
                task.set_status(Status::Blocked);
                match super::block::park(shared, sched, local, op, &token) {
                    super::block::Parked::Waiting => {
                        wait(sched, local, task, exec, token, resume);
                        return TurnEnd::PutAway;
                    }
                    super::block::Parked::Ready(wake) => {
                        // Completed without waiting: go on with the result.
                        task.set_status(Status::Runnable);
                        carry.ready = Some((wake, resume));
                    }
                }
            }
            Step::Exit(code) => {
                drop(exec);
                sched.finish_program(End::Exit(code));
                return TurnEnd::PutAway;
            }
        }
    }
}

/// Ends the turn of a task that parked in place (its wait registered by the channel
/// operation), letting go of its execution.
#[inline(always)]
pub(super) fn end_parked(
    sched: &Scheduler,
    local: &Local,
    task: &Arc<Task>,
    mut exec: crate::spin::SpinGuard<'_, super::task::TaskExec>,
) -> TurnEnd {
    record(sched, task, &mut exec);
    // A cancellation that raced with parking is delivered now (the woken task cannot run
    // before `exec` is released).
    if task.cancel_requested() {
        let token = WaitToken::new(task.clone(), task.wait.generation());
        super::block::deliver_cancel(sched, token, Some(local));
    }
    drop(exec);
    TurnEnd::PutAway
}

/// Leaves a task parked, registered with what it waits for (`token`'s wait), and ends its
/// turn (the caller then stops counting it as active).
fn wait(
    sched: &Scheduler,
    local: &Local,
    task: &Arc<Task>,
    mut exec: crate::spin::SpinGuard<'_, super::task::TaskExec>,
    token: WaitToken,
    resume: super::task::Resume,
) {
    exec.park(resume);
    // A cancellation that raced with parking is delivered now (the woken task cannot run
    // before `exec` is released, below).
    if task.cancel_requested() {
        super::block::deliver_cancel(sched, token, Some(local));
    }
    drop(exec);
}

/// Records a task for reports the first time one of its turns ends unfinished
/// (`Scheduler::count_spawned`).
fn record(sched: &Scheduler, task: &Arc<Task>, exec: &mut super::task::TaskExec) {
    if !exec.recorded {
        exec.recorded = true;
        sched.record(task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    fn task() -> Arc<Task> {
        Arc::new(Task::new(1, None, false, None))
    }

    fn active(sched: &Scheduler) -> usize {
        sched.active.load(Ordering::SeqCst)
    }

    /// One worker spawns tasks another can take, the other finishes them: `active` is
    /// never below the true count while they run (or quiescence could be seen early),
    /// and exact once both have given back their surplus.
    #[test]
    fn active_is_never_low_and_exact_after_giving_back() {
        let sched = Scheduler::new(2, 1000);
        let (a, b) = (Local::new(0, false), Local::new(1, false));
        // The spawner's own task is running.
        sched.activate();
        let mut running = 1;
        a.in_turn.set(true);
        for _ in 0..1000 {
            sched.schedule(task(), Some(&a), false);
            running += 1;
            assert!(active(&sched) >= running);
        }
        for _ in 0..1000 {
            b.in_turn.set(true);
            b.in_turn.set(false);
            sched.settle(&b, 1);
            running -= 1;
            assert!(active(&sched) >= running);
        }
        // The spawner parks.
        a.in_turn.set(false);
        sched.settle(&a, 1);
        assert!(!sched.quiescent() || active(&sched) == 0);
        sched.give_back(&a);
        sched.give_back(&b);
        assert_eq!(active(&sched), 0);
        assert!(sched.quiescent());
        drop(a.drain());
    }

    /// A hand-off (wake a task into the LIFO slot, then park) leaves `active` alone.
    #[test]
    fn a_hand_off_changes_nothing_shared() {
        let sched = Scheduler::new(2, 1000);
        let a = Local::new(0, false);
        sched.activate();
        for _ in 0..10 {
            a.in_turn.set(true);
            sched.schedule(task(), Some(&a), true);
            a.in_turn.set(false);
            sched.settle(&a, 1);
            assert_eq!(active(&sched), 1);
            drop(a.drain());
        }
    }
}
