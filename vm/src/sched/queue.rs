//! A worker's FIFO run queue, and what run queues hold.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use super::task::Task;

/// A task to run, as queues hold it: one word. A task woken by a waker is queued with
/// the handle the waiter held (a channel's queue, a timer), which moves on without a count
/// change, and moves again into the next waiter when the task's turn ends parked
/// (`wait::Entry`).
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

pub enum RunQueue {
    /// Other workers steal from it: crossbeam's deque, whose pop is an atomic
    /// read-modify-write because a stealer may race for the same task.
    Shared(Worker<Runnable>),
    /// The only worker's: nobody steals, so a plain deque. A channel hand-off between two
    /// tasks queues and takes one task, and paid that atomic operation for nobody.
    Alone(RefCell<VecDeque<Runnable>>),
}

impl RunQueue {
    /// `alone`: this is the scheduler's only worker (or a host thread's queue, which only
    /// its own thread touches).
    pub fn new(alone: bool) -> RunQueue {
        if alone {
            RunQueue::Alone(RefCell::new(VecDeque::new()))
        } else {
            RunQueue::Shared(Worker::new_fifo())
        }
    }

    #[inline(always)]
    pub fn push(&self, task: Runnable) {
        match self {
            RunQueue::Shared(q) => q.push(task),
            RunQueue::Alone(q) => q.borrow_mut().push_back(task),
        }
    }

    pub fn pop(&self) -> Option<Runnable> {
        match self {
            RunQueue::Shared(q) => q.pop(),
            RunQueue::Alone(q) => q.borrow_mut().pop_front(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            RunQueue::Shared(q) => q.is_empty(),
            RunQueue::Alone(q) => q.borrow().is_empty(),
        }
    }

    /// A handle other workers steal with; none for a queue nobody may steal from.
    pub fn stealer(&self) -> Option<Stealer<Runnable>> {
        match self {
            RunQueue::Shared(q) => Some(q.stealer()),
            RunQueue::Alone(_) => None,
        }
    }

    /// Takes a task from `source` (a batch of them into this queue, where it can).
    pub fn take_from(&self, source: &Injector<Runnable>) -> Option<Runnable> {
        until_decided(|| match self {
            RunQueue::Shared(q) => source.steal_batch_and_pop(q),
            RunQueue::Alone(_) => source.steal(),
        })
    }

    /// Steals half of `victim`'s queue into this one and takes one of its tasks.
    pub fn steal_from(&self, victim: &Stealer<Runnable>) -> Option<Runnable> {
        until_decided(|| match self {
            RunQueue::Shared(q) => victim.steal_batch_and_pop(q),
            RunQueue::Alone(_) => victim.steal(),
        })
    }
}

/// Repeats `attempt` while it lost a race with another thief and asks to be retried.
fn until_decided(mut attempt: impl FnMut() -> Steal<Runnable>) -> Option<Runnable> {
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

    fn task(id: u64) -> Runnable {
        Arc::new(Task::new(id, None, false, None)).into()
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
            let ids: Vec<u64> = std::iter::from_fn(|| q.pop())
                .map(|t| t.task().id)
                .collect();
            assert_eq!(ids, [1, 2, 3]);
            let injector = Injector::new();
            injector.push(task(7));
            assert_eq!(q.take_from(&injector).map(|t| t.task().id), Some(7));
            assert!(q.take_from(&injector).is_none());
            assert_eq!(q.stealer().is_some(), !alone);
        }
        let victim = RunQueue::new(false);
        (1..=4).for_each(|i| victim.push(task(i)));
        let thief = RunQueue::new(true);
        let stealer = victim.stealer().expect("a shared queue has a stealer");
        assert_eq!(thief.steal_from(&stealer).map(|t| t.task().id), Some(1));
    }
}
