//! [`TaskHandle`]: a Qi task as a Rust future.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use qi_vm::Value;
use qi_vm::runtime::{Outcome, Runtime};
use qi_vm::sched::task::{HostWait, Task};

use crate::Error;

/// A task running in a [`Vm`](crate::Vm). `.await` it from any executor, or
/// [`join`](TaskHandle::join) it from a plain thread.
pub struct TaskHandle {
    task: Arc<Task>,
    wait: Arc<HostWait>,
    runtime: Arc<Runtime>,
}

impl TaskHandle {
    pub(crate) fn new(task: Arc<Task>, runtime: Arc<Runtime>) -> TaskHandle {
        let wait = task.host_wait();
        TaskHandle {
            task,
            wait,
            runtime,
        }
    }

    /// Blocks this thread until the task ends.
    pub fn join(self) -> Result<Value, Error> {
        crate::vm::outcome_result(self.runtime.wait(&self.task, None))
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the task at its next suspension point (it ends with E6005).
    pub fn cancel(&self) {
        qi_vm::sched::block::cancel(self.runtime.scheduler(), &self.task, None);
    }

    /// The task's number (`#N` in messages).
    pub fn id(&self) -> u64 {
        self.task.id
    }

    fn result(&self) -> Result<Value, Error> {
        match self.task.ending() {
            Some(ending) => crate::vm::outcome_result(Outcome::from(ending)),
            None => Ok(Value::NIL),
        }
    }
}

impl Future for TaskHandle {
    type Output = Result<Value, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.wait.is_done() {
            return Poll::Ready(self.result());
        }
        self.wait.set_waker(cx.waker());
        let sched = self.runtime.scheduler();
        sched.wake_when_quiet(cx.waker());
        // Checked after registering, so a wake-up in between is not lost.
        if self.wait.is_done() {
            return Poll::Ready(self.result());
        }
        if sched.quiescent() && !self.task.is_finished() {
            let d = qi_vm::sched::report::deadlock(sched);
            qi_vm::sched::block::cancel(sched, &self.task, None);
            return Poll::Ready(Err(Error::Deadlock(Box::new(d))));
        }
        Poll::Pending
    }
}
