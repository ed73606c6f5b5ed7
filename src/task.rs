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
///
/// ```
/// let vm = qi::Vm::new()?;
/// vm.eval("异步 函数 算(x) { 睡眠(1); 返回 x + 1; }")?;
/// let handle = vm.spawn("算", (41,))?;
/// // In async code: `let v = handle.await?;`
/// assert_eq!(handle.join()?.to_string(), "42");
/// # Ok::<(), qi::Error>(())
/// ```
pub struct TaskHandle {
    task: Arc<Task>,
    wait: Arc<HostWait>,
    runtime: Arc<Runtime>,
    /// The waker registered to hear of the VM going idle, and the epoch it was
    /// registered in: registered again only when the executor hands a different waker
    /// or that registration was used up.
    quiet: Option<(std::task::Waker, u64)>,
}

impl TaskHandle {
    pub(crate) fn new(task: Arc<Task>, runtime: Arc<Runtime>) -> TaskHandle {
        let wait = task.host_wait();
        TaskHandle {
            task,
            wait,
            runtime,
            quiet: None,
        }
    }

    /// Blocks this thread until the task ends.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// vm.eval("函数 坏() { 返回 1 / 0; }")?;
    /// let e = vm.spawn("坏", ())?.join().unwrap_err();
    /// assert_eq!(e.code().as_deref(), Some("E7001"));
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn join(self) -> Result<Value, Error> {
        crate::vm::outcome_result(self.runtime.wait(&self.task, None))
    }

    /// Whether the task has ended.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// vm.eval("函数 快() { 返回 1; }")?;
    /// let h = vm.spawn("快", ())?;
    /// while !h.is_finished() { std::thread::yield_now(); }
    /// assert_eq!(h.join()?.to_string(), "1");
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the task at its next suspension point: it ends with E6005.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// vm.eval("函数 等很久() { 睡眠(60000); }")?;
    /// let h = vm.spawn("等很久", ())?;
    /// h.cancel();
    /// assert_eq!(h.join().unwrap_err().code().as_deref(), Some("E6005"));
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn cancel(&self) {
        qi_vm::sched::block::cancel(self.runtime.scheduler(), &self.task, None);
    }

    /// The task's number (`#N` in messages).
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// vm.eval("函数 零() { 返回 0; }")?;
    /// let (a, b) = (vm.spawn("零", ())?, vm.spawn("零", ())?);
    /// assert!(b.id() > a.id());
    /// # Ok::<(), qi::Error>(())
    /// ```
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

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.wait.is_done() {
            return Poll::Ready(self.result());
        }
        self.wait.set_waker(cx.waker());
        let epoch = self.runtime.scheduler().quiet_epoch();
        let current = self
            .quiet
            .as_ref()
            .is_some_and(|(w, e)| *e == epoch && w.will_wake(cx.waker()));
        if !current {
            let e = self.runtime.scheduler().wake_when_quiet(cx.waker());
            self.quiet = Some((cx.waker().clone(), e));
        }
        let sched = self.runtime.scheduler();
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
