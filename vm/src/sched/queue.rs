//! A worker's FIFO run queue, and what run queues hold.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::Arc;

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use super::fresh::Fresh;
use super::task::Task;
use crate::object::Closure;

/// A task to run a turn of (in a queue, inside a [`Queued`]). A task woken by a waker is
/// queued with the handle the waiter held (a channel's queue, a timer), which moves on
/// without a count change, and moves again into the next waiter when the task's turn ends
/// parked (`wait::Entry`).
pub struct Runnable(Arc<Task>);

impl Runnable {
    pub fn task(&self) -> &Arc<Task> {
        &self.0
    }

    pub fn into_task(self) -> Arc<Task> {
        self.0
    }
}

impl From<Arc<Task>> for Runnable {
    #[inline(always)]
    fn from(task: Arc<Task>) -> Runnable {
        Runnable(task)
    }
}

/// What run queues hold: a task, or one not made yet (`fresh.rs`), in two words.
///
/// The first word is never null, so `Option<Queued>` is two words too, and a pop gives it
/// back in registers. (As an enum of the two, the option took a third word for its tag:
/// every pop wrote it to the stack and read it back wider than it had been written, a
/// stalled load that made one worker's million spawns 8% slower.)
pub struct Queued {
    /// An `Arc<Task>`, or the `Arc<Closure>` of a task not made yet, from `Arc::into_raw`:
    /// the one count this entry owns.
    ptr: NonNull<()>,
    /// [`TASK`] for a task, else the number of the task not made yet.
    word: u64,
}

/// `Queued::word` of a task. No task is numbered so: numbers count up from 1.
const TASK: u64 = u64::MAX;

/// A queue entry taken apart (`Queued::unpack`). (Not `wait::Entry`, a turn's hold on
/// the task it runs.)
pub enum Unpacked {
    Task(Runnable),
    Fresh(Fresh),
}

// SAFETY: an entry owns one count of an `Arc<Task>` or an `Arc<Closure>`, both of which
// are `Send` and `Sync`: moving the entry to another thread moves that count.
unsafe impl Send for Queued {}

impl Queued {
    /// The entry taken apart, its count moving into what comes back.
    #[inline(always)]
    pub fn unpack(self) -> Unpacked {
        let this = std::mem::ManuallyDrop::new(self);
        if this.word == TASK {
            // SAFETY: `word` says `ptr` came from `Arc::<Task>::into_raw` (`From<Runnable>`),
            // and this entry, which is not dropped, owned its count.
            Unpacked::Task(Runnable(unsafe {
                Arc::from_raw(this.ptr.as_ptr().cast::<Task>())
            }))
        } else {
            // SAFETY: as above, from `Arc::<Closure>::into_raw` (`From<Fresh>`).
            let closure = unsafe { Arc::from_raw(this.ptr.as_ptr().cast::<Closure>()) };
            Unpacked::Fresh(Fresh::from_parts(closure, this.word))
        }
    }

    /// The task, when this is one (not one not made yet).
    pub fn task(&self) -> Option<&Task> {
        // SAFETY: `word` says `ptr` is an `Arc<Task>`'s, alive while this entry owns its
        // count, which it does while borrowed.
        (self.word == TASK).then(|| unsafe { &*self.ptr.as_ptr().cast::<Task>() })
    }

    /// The task to run a turn of, made now if it was not (by `local`'s worker, which
    /// runs it).
    #[inline(always)]
    pub fn into_runnable(self, sched: &super::Scheduler, local: &super::worker::Local) -> Runnable {
        match self.unpack() {
            Unpacked::Task(r) => r,
            Unpacked::Fresh(f) => f.make(sched, local),
        }
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        let this = Queued {
            ptr: self.ptr,
            word: self.word,
        };
        // What owned the count (a task, or a closure) is dropped here.
        drop(this.unpack());
    }
}

impl From<Runnable> for Queued {
    #[inline(always)]
    fn from(r: Runnable) -> Queued {
        let ptr = Arc::into_raw(r.0).cast_mut().cast::<()>();
        Queued {
            // SAFETY: `Arc::into_raw` never gives a null pointer.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            word: TASK,
        }
    }
}

impl From<Arc<Task>> for Queued {
    #[inline(always)]
    fn from(task: Arc<Task>) -> Queued {
        Queued::from(Runnable(task))
    }
}

impl From<Fresh> for Queued {
    #[inline(always)]
    fn from(f: Fresh) -> Queued {
        let (closure, id) = f.into_parts();
        let ptr = Arc::into_raw(closure).cast_mut().cast::<()>();
        Queued {
            // SAFETY: `Arc::into_raw` never gives a null pointer.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            word: id,
        }
    }
}

pub enum RunQueue {
    /// Other workers steal from it: crossbeam's deque, whose pop is an atomic
    /// read-modify-write because a stealer may race for the same task.
    Shared(Worker<Queued>, Ahead),
    /// The only worker's: nobody steals, so a plain deque. A channel hand-off between two
    /// tasks queues and takes one task, and paid that atomic operation for nobody.
    Alone(Alone),
}

impl RunQueue {
    /// `alone`: this is the scheduler's only worker (or a host thread's queue, which only
    /// its own thread touches).
    pub fn new(alone: bool) -> RunQueue {
        if alone {
            RunQueue::Alone(Alone::default())
        } else {
            RunQueue::Shared(Worker::new_fifo(), Ahead::default())
        }
    }

    #[inline(always)]
    pub fn push(&self, task: Queued) {
        match self {
            RunQueue::Shared(q, _) => q.push(task),
            RunQueue::Alone(q) => q.push(task),
        }
    }

    #[inline(always)]
    pub fn pop(&self) -> Option<Queued> {
        match self {
            RunQueue::Shared(q, ahead) => ahead.pop(q),
            RunQueue::Alone(q) => q.pop(),
        }
    }

    /// A lone worker's first task, taken if `wanted` (a task, not one to make): what `pop`
    /// would give. `None` for a shared queue.
    #[inline(always)]
    pub fn take_first_if(&self, wanted: impl FnOnce(&Task) -> bool) -> Option<Queued> {
        match self {
            RunQueue::Shared(..) => None,
            RunQueue::Alone(q) => q.take_first_if(wanted),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            RunQueue::Shared(q, ahead) => ahead.is_empty() && q.is_empty(),
            RunQueue::Alone(q) => q.is_empty(),
        }
    }

    /// A handle other workers steal with; none for a queue nobody may steal from.
    pub fn stealer(&self) -> Option<Stealer<Queued>> {
        match self {
            RunQueue::Shared(q, _) => Some(q.stealer()),
            RunQueue::Alone(_) => None,
        }
    }

    /// Takes a task from `source` (a batch of them into this queue, where it can).
    pub fn take_from(&self, source: &Injector<Queued>) -> Option<Queued> {
        until_decided(|| match self {
            RunQueue::Shared(q, _) => source.steal_batch_and_pop(q),
            RunQueue::Alone(_) => source.steal(),
        })
    }

    /// Steals half of `victim`'s queue into this one and takes one of its tasks.
    pub fn steal_from(&self, victim: &Stealer<Queued>) -> Option<Queued> {
        until_decided(|| match self {
            RunQueue::Shared(q, _) => victim.steal_batch_and_pop(q),
            RunQueue::Alone(_) => victim.steal(),
        })
    }
}

/// A queue only its own thread touches: FIFO, with its first task kept apart while the rest
/// is empty. A channel hand-off between two tasks on one worker queues the woken task into
/// an empty queue and takes it out at the next turn; through the deque, with its borrow
/// flag, wrap-around and growth check, that was some 25 instructions of every turn.
///
/// The first task is set only while the rest is empty, and taken before it, so it is always
/// the oldest: the order is the deque's.
#[derive(Default)]
pub struct Alone {
    first: Cell<Option<Queued>>,
    rest: RefCell<VecDeque<Queued>>,
}

impl Alone {
    #[inline(always)]
    fn push(&self, task: Queued) {
        match self.first.take() {
            None if self.rest.borrow().is_empty() => self.first.set(Some(task)),
            first => {
                self.first.set(first);
                self.rest.borrow_mut().push_back(task);
            }
        }
    }

    #[inline(always)]
    fn take_first_if(&self, wanted: impl FnOnce(&Task) -> bool) -> Option<Queued> {
        let Some(first) = self.first.take() else {
            return self.take_front_of_rest_if(wanted);
        };
        if first.task().is_some_and(wanted) {
            return Some(first);
        }
        self.first.set(Some(first));
        None
    }

    /// `take_first_if` with no first task kept apart: the deque's front.
    #[inline(never)]
    fn take_front_of_rest_if(&self, wanted: impl FnOnce(&Task) -> bool) -> Option<Queued> {
        let mut rest = self.rest.borrow_mut();
        if rest.front()?.task().is_some_and(wanted) {
            return rest.pop_front();
        }
        None
    }

    #[inline(always)]
    fn pop(&self) -> Option<Queued> {
        self.first
            .take()
            .or_else(|| self.rest.borrow_mut().pop_front())
    }

    fn is_empty(&self) -> bool {
        let first = self.first.take();
        let empty = first.is_none() && self.rest.borrow().is_empty();
        self.first.set(first);
        empty
    }
}

/// The task a shared queue will give next, taken out early so that its memory can be asked
/// for (`Task::prefetch`) while the task before it runs. With two workers, one spawning
/// and one running, every task's lines were written on the other core, and the first
/// touch of each waited for it.
///
/// Only a queue with two more tasks behind it gives one up this way, so a thief always
/// finds one: a task held here waits for the current turn to end, and two long tasks on
/// one worker must not hide one of them from an idle neighbour.
#[derive(Default)]
pub struct Ahead(Cell<Option<Queued>>);

impl Ahead {
    /// The next task (the one held, else the queue's first), after holding the one behind
    /// it when the queue is long enough.
    #[inline(always)]
    fn pop(&self, q: &Worker<Queued>) -> Option<Queued> {
        let first = self.0.take().or_else(|| q.pop())?;
        // Behind a task not made yet, most likely more of them (a `启动` loop's), whose
        // memory the worker taking them makes: nothing to ask for early.
        if first.task().is_some()
            && q.len() > 2
            && let Some(next) = q.pop()
        {
            if let Some(t) = next.task() {
                Task::prefetch(t);
            }
            self.0.set(Some(next));
        }
        Some(first)
    }

    fn is_empty(&self) -> bool {
        let held = self.0.take();
        let empty = held.is_none();
        self.0.set(held);
        empty
    }
}

/// Repeats `attempt` while it lost a race with another thief and asks to be retried.
fn until_decided(mut attempt: impl FnMut() -> Steal<Queued>) -> Option<Queued> {
    loop {
        match attempt() {
            Steal::Retry => continue,
            done => return done.success(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(q: &RunQueue) -> Vec<u64> {
        std::iter::from_fn(|| q.pop()).map(id).collect()
    }

    fn id(q: Queued) -> u64 {
        match q.unpack() {
            Unpacked::Task(r) => r.task().id,
            Unpacked::Fresh(f) => f.id(),
        }
    }

    fn task(id: u64) -> Queued {
        Arc::new(Task::new(id, None, false, None)).into()
    }

    /// An entry and its option are two words; each kind comes back as it went in, and the
    /// entry owns one count of what it holds, given back when it is dropped.
    #[test]
    fn an_entry_is_two_words_and_owns_one_count() {
        use crate::sched::fresh::Fresh;
        assert_eq!(std::mem::size_of::<Option<Queued>>(), 16);
        let t = Arc::new(Task::new(5, None, false, None));
        let q = Queued::from(t.clone());
        assert_eq!(Arc::strong_count(&t), 2);
        assert_eq!(q.task().map(|t| t.id), Some(5));
        drop(q);
        assert_eq!(Arc::strong_count(&t), 1);
        let module = crate::loader::test_module("启动 { 变量 x = 1; };\n");
        let main = module.main.as_obj::<Closure>().expect("top level");
        let closure = Arc::new(Closure {
            info: main.info.protos[0].clone(),
            upvalues: Default::default(),
        });
        let q = Queued::from(Fresh::from_parts(closure.clone(), 9));
        assert_eq!(Arc::strong_count(&closure), 2);
        assert!(q.task().is_none());
        match q.unpack() {
            Unpacked::Fresh(f) => assert_eq!(f.id(), 9),
            Unpacked::Task(_) => panic!("an unmade task"),
        }
        assert_eq!(Arc::strong_count(&closure), 1);
        drop(Queued::from(Fresh::from_parts(closure.clone(), 10)));
        assert_eq!(Arc::strong_count(&closure), 1);
    }

    /// Both kinds keep FIFO order, take from an injector, and only the shared one can be
    /// stolen from.
    #[test]
    fn both_kinds_are_fifo() {
        for alone in [true, false] {
            let q = RunQueue::new(alone);
            assert!(q.is_empty());
            (1..=3).for_each(|i| q.push(task(i)));
            assert!(!q.is_empty());
            assert_eq!(ids(&q), [1, 2, 3]);
            let injector = Injector::new();
            injector.push(task(7));
            assert_eq!(q.take_from(&injector).map(id), Some(7));
            assert!(q.take_from(&injector).is_none());
            assert_eq!(q.stealer().is_some(), !alone);
        }
        let victim = RunQueue::new(false);
        (1..=4).for_each(|i| victim.push(task(i)));
        let thief = RunQueue::new(true);
        let stealer = victim.stealer().expect("a shared queue has a stealer");
        assert_eq!(thief.steal_from(&stealer).map(id), Some(1));
    }

    /// A lone worker's queue, its first task kept apart, gives tasks back in the order they
    /// came whatever the mix of pushes and pops, and takes only its front task when asked
    /// for a wanted one (checked against a plain deque).
    #[test]
    fn a_lone_queue_keeps_order_through_any_mix_of_pushes_and_pops() {
        let q = RunQueue::new(true);
        let mut model = VecDeque::new();
        let (mut next_id, mut rng) = (0u64, 0x2545_F491_4F6C_DD1Du64);
        for _ in 0..2000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            match rng % 6 {
                0..3 => {
                    q.push(task(next_id));
                    model.push_back(next_id);
                    next_id += 1;
                }
                3 => {
                    // Taken only if it is what `pop` would give, and wanted.
                    let even = |t: &Task| t.id.is_multiple_of(2);
                    let expected = model.front().filter(|&&i| i.is_multiple_of(2)).copied();
                    assert_eq!(q.take_first_if(even).map(id), expected);
                    if expected.is_some() {
                        model.pop_front();
                    }
                }
                _ => assert_eq!(q.pop().map(id), model.pop_front()),
            }
            assert_eq!(q.is_empty(), model.is_empty());
        }
        assert_eq!(ids(&q), Vec::from(model));
    }

    /// A shared queue takes a task out ahead only with two more behind it: the order
    /// stays FIFO, the queue counts the held task as queued, and a thief always finds
    /// one while two or more wait.
    #[test]
    fn the_task_held_ahead_keeps_order_and_leaves_thieves_one() {
        let q = RunQueue::new(false);
        let stealer = q.stealer().expect("shared");
        (1..=2).for_each(|i| q.push(task(i)));
        assert_eq!(q.pop().map(id), Some(1));
        let thief = RunQueue::new(true);
        assert_eq!(thief.steal_from(&stealer).map(id), Some(2));
        assert!(q.is_empty());

        (1..=5).for_each(|i| q.push(task(i)));
        assert_eq!(q.pop().map(id), Some(1));
        // Task 2 is held; 3, 4 and 5 are stealable.
        assert!(!q.is_empty());
        assert_eq!(thief.steal_from(&stealer).map(id), Some(3));
        q.push(task(6));
        assert_eq!(ids(&q), [2, 4, 5, 6]);
        assert!(q.is_empty());

        (7..=9).for_each(|i| q.push(task(i)));
        assert_eq!(q.pop().map(id), Some(7));
        // Two behind it: none is held, both are there to steal.
        assert_eq!(thief.steal_from(&stealer).map(id), Some(8));
        assert_eq!(ids(&q), [9]);
    }
}
