//! Tasks: a Qi computation scheduled on the workers, and the handle Qi code holds.
//!
//! A task's *execution* (its fibers: the root one and any coroutines it is resuming) is
//! touched only by the worker running it, behind `exec`. Its *state* (status, result,
//! who waits for it) is shared with other tasks, behind `state`. A `未来::就绪(v)` or a
//! `超时(ms)` is a task without execution.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use thin_vec::ThinVec;

use qi_bytecode::source::{SourceFile, Span};

use super::block::Combiner;
use super::wait::{WaitToken, WaitWord};
use crate::fiber::Fiber;
use crate::object::ThrowSite;
use crate::spin::{SpinPair, SpinRef};
use crate::value::Value;

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// Queued or running.
    Runnable,
    /// Parked, waiting for a wake-up.
    Blocked,
    Done,
    Failed,
    Cancelled,
}

/// How a finished task ended. (Two words: a failure is boxed, as failures are rare, and
/// every task's state is smaller for it.)
#[derive(Clone, Debug)]
pub enum Ending {
    Value(Value),
    Error(Box<Failure>),
}

/// How a task failed.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The thrown value: an 错误 for runtime errors; E6005 for a cancelled task.
    pub value: Value,
    /// For a value that is not an 错误, where it was thrown.
    pub site: Option<ThrowSite>,
    /// When it failed, as a sequence number across the VM, set by `Scheduler::complete`:
    /// `全部等待` reports the error that happened first.
    pub seq: u64,
}

impl Ending {
    /// A failure with `value`, thrown at `site` (not numbered yet).
    pub fn error(value: Value, site: Option<ThrowSite>) -> Ending {
        Ending::Error(Box::new(Failure {
            value,
            site,
            seq: 0,
        }))
    }

    /// The value or the thrown value.
    pub fn value(&self) -> &Value {
        match self {
            Ending::Value(v) => v,
            Ending::Error(f) => &f.value,
        }
    }
}

/// Something waiting for this task to finish.
pub enum Awaiter {
    /// A parked task (`等待`).
    Token(WaitToken),
    /// A combined future (全部等待, 任一等待, 限时等待), as its part `usize`.
    Combine(Arc<Combiner>, usize),
    /// A thread outside the workers (the REPL, an embedding host).
    Host(Arc<HostWait>),
}

/// How a thread that is not a worker waits for a task: blocking on a condition variable,
/// or as a `std::future::Future` through a waker.
#[derive(Default)]
pub struct HostWait {
    done: parking_lot::Mutex<bool>,
    cv: parking_lot::Condvar,
    waker: parking_lot::Mutex<Option<std::task::Waker>>,
}

impl HostWait {
    /// The task finished.
    pub fn fire(&self) {
        *self.done.lock() = true;
        self.cv.notify_all();
        if let Some(w) = self.waker.lock().take() {
            w.wake();
        }
    }

    /// Waits up to `timeout`; whether the task has finished.
    pub fn wait_for(&self, timeout: std::time::Duration) -> bool {
        let mut done = self.done.lock();
        if !*done {
            self.cv.wait_for(&mut done, timeout);
        }
        *done
    }

    pub fn is_done(&self) -> bool {
        *self.done.lock()
    }

    /// Wakes `waker` when the task finishes.
    pub fn set_waker(&self, waker: &std::task::Waker) {
        *self.waker.lock() = Some(waker.clone());
    }
}

pub struct TaskState {
    pub ending: Option<Ending>,
    pub awaiters: ThinVec<Awaiter>,
}

impl TaskState {
    fn new() -> TaskState {
        TaskState {
            ending: None,
            awaiters: ThinVec::new(),
        }
    }
}

/// Where a task suspended and what to do with the value that wakes it.
#[derive(Clone, Copy, Debug)]
pub struct Resume {
    /// The register of the top fiber's top frame that receives the value.
    pub dest: u16,
    /// A `对于` loop over a channel or coroutine: a value goes to `dest` and skips the
    /// loop's exit jump; the end takes it.
    pub for_loop: bool,
}

/// A coroutine being resumed by this task, above the task's root fiber.
pub struct Resumed {
    pub fiber: Box<Fiber>,
    /// The coroutine object, to hand the fiber back when it suspends (typed, so that
    /// taking and dropping it are an inlined count change).
    pub coroutine: Arc<crate::object::CoroutineObj>,
    /// Where the resumer (the fiber below) wants the yielded or returned value.
    pub resumer: Resume,
}

/// The parts of a task only the worker running it touches.
pub struct TaskExec {
    /// The task's own fiber (inline: one allocation less per task). `None` for a 未来
    /// without code.
    pub root: Option<Fiber>,
    /// Coroutines being resumed, innermost last.
    pub chain: ThinVec<Resumed>,
    /// Set while parked: where the waking value goes. A waker that puts the value there
    /// itself (`wait::apply_in_place`) clears it. A sender whose value a receive took is
    /// woken without its execution being touched (it has nothing to receive), and keeps it
    /// until its next turn clears it on starting (`driver::turn`); meanwhile its wait is
    /// claimed, so a cancellation that takes it for parked finds nothing to deliver.
    pub parked: Option<Resume>,
    /// The task has not run yet (a cancelled one then ends without running).
    pub started: bool,
    /// The root fiber has no frame yet: its first turn enters the closure it keeps, with
    /// no arguments (`interp::enter_kept`). A `启动 { … }` task is made so, so that its
    /// registers and frame are first written by the worker that runs it, not by the
    /// spawner on another core.
    pub entry_pending: bool,
    /// The scheduler holds how the fiber stopped before the task existed (a host call
    /// that ran inline and then had to wait, `Scheduler::hold_outcome`): the first turn
    /// takes it up.
    pub outcome_held: bool,
    /// The scheduler's registry has it (see `Scheduler::record`).
    pub recorded: bool,
}

impl TaskExec {
    fn new(root: Option<Fiber>, entry_pending: bool) -> TaskExec {
        TaskExec {
            root,
            chain: ThinVec::new(),
            parked: None,
            started: false,
            entry_pending,
            outcome_held: false,
            recorded: false,
        }
    }

    /// Parks the task, its value to go where `resume` says.
    pub fn park(&mut self, resume: Resume) {
        self.parked = Some(resume);
    }

    /// The fiber running now: the innermost resumed coroutine, else the root.
    pub fn top(&mut self) -> Option<&mut Fiber> {
        match self.chain.last_mut() {
            Some(r) => Some(&mut r.fiber),
            None => self.root.as_mut(),
        }
    }
}

/// A place in the source: where a task was made.
pub type Site = (Arc<SourceFile>, Span);

/// A [`Site`] borrowed from the code that makes the task: a task that keeps the site of
/// its last life (`Task::renew`, a recycled task made at the same place) then takes no
/// new handle to the file, whose count every spawn would change, on a line the worker
/// running the task passes back.
#[derive(Clone, Copy)]
pub struct SiteAt<'a> {
    pub file: &'a Arc<SourceFile>,
    pub span: Span,
}

impl SiteAt<'_> {
    pub fn to_site(self) -> Site {
        (self.file.clone(), self.span)
    }
}

pub struct Task {
    /// `#N` in messages; 0 for an unnumbered 未来.
    pub id: u64,
    /// The execution (`exec()`), the state (`state()`) and the flags (`flags()`), the
    /// two locks' flags and the task's own in one word.
    parts: SpinPair<TaskExec, TaskState, TaskFlags>,
    /// Its current wait, which wakers claim (`wait.rs`).
    pub wait: WaitWord,
    /// Where `创建`/`启动` made it, for stack traces.
    pub created_at: Option<Site>,
}

/// A task's byte-sized fields, outside both locks.
pub struct TaskFlags {
    /// A [`Status`]; atomic, because it flips on every park and wake-up.
    status: AtomicU8,
    /// `t.取消()` was called and E6005 is not delivered yet: it will be at the next
    /// suspension point.
    pub cancel: AtomicBool,
    /// `t.取消()` was called at some point: an E6005 ending means "cancelled", not
    /// "failed" (an E6005 that merely propagated from an awaited task is a failure).
    pub cancelled: AtomicBool,
    /// Someone awaited the ending (so an error was delivered, not lost). Set under the
    /// `state` lock; an atomic beside the other flags rather than a field behind the lock,
    /// where it took a word of its own.
    observed: AtomicBool,
    /// The handle was thrown away when made (启动, `创建 f();`): a failure ends the program.
    pub detached: bool,
    /// A `超时(ms)` future whose timer still counts as pending work.
    pub timer_armed: AtomicBool,
}

impl TaskFlags {
    fn new(detached: bool) -> TaskFlags {
        TaskFlags {
            status: AtomicU8::new(Status::Runnable as u8),
            cancel: AtomicBool::new(false),
            cancelled: AtomicBool::new(false),
            observed: AtomicBool::new(false),
            detached,
            timer_armed: AtomicBool::new(false),
        }
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<任务 #{}>", self.id)
    }
}

impl Task {
    pub fn new(id: u64, root: Option<Fiber>, detached: bool, created_at: Option<Site>) -> Task {
        Task::entering(id, root, false, detached, created_at)
    }

    /// `Task::new` whose root fiber enters the closure it keeps at the first turn when
    /// `entry_pending` (`TaskExec::entry_pending`).
    pub fn entering(
        id: u64,
        root: Option<Fiber>,
        entry_pending: bool,
        detached: bool,
        created_at: Option<Site>,
    ) -> Task {
        let exec = TaskExec::new(root, entry_pending);
        let state = TaskState::new();
        let flags = TaskFlags::new(detached);
        Task {
            id,
            parts: SpinPair::new(exec, state, flags),
            wait: WaitWord::default(),
            created_at,
        }
    }

    /// What only the worker running the task touches: held by that worker for a whole
    /// turn; anyone else `try_lock`s it, or locks a task that cannot be running (see
    /// `spin.rs`).
    #[inline]
    pub fn exec(&self) -> SpinRef<'_, TaskExec> {
        self.parts.first()
    }

    pub fn exec_mut(&mut self) -> &mut TaskExec {
        self.parts.first_mut()
    }

    /// What other tasks read and change: short sections only (set the ending, add an
    /// awaiter). A spin lock, whose unlock is a plain store, where a `parking_lot` mutex
    /// took a second atomic read-modify-write at every task's end.
    #[inline]
    pub fn state(&self) -> SpinRef<'_, TaskState> {
        self.parts.second()
    }

    pub fn state_mut(&mut self) -> &mut TaskState {
        self.parts.second_mut()
    }

    #[inline]
    pub fn flags(&self) -> &TaskFlags {
        &self.parts.rest
    }

    /// Asks for the cache lines of `task` (its reference counts with it), which another
    /// worker may have written last, ahead of a use (`crate::prefetch`).
    pub fn prefetch(task: &Task) {
        // (Tasks live in `Arc`s, whose counts come first.)
        let counts = 2 * std::mem::size_of::<usize>();
        let start = (std::ptr::from_ref(task) as usize).wrapping_sub(counts);
        crate::prefetch::range_for_write(start, counts + std::mem::size_of::<Task>());
    }

    /// Empties a finished task for reuse (`recycle`): it becomes what `Task::new` makes,
    /// with an empty fiber that keeps its allocations. `false` for a task without a fiber
    /// (a 未来 without code), which is not worth keeping.
    pub fn clear_for_reuse(&mut self) -> bool {
        // Part by part, in place: building a whole new task and dropping the old one moved
        // the fiber twice and copied the task (179 instructions a task, now 159).
        let exec = self.parts.first_mut();
        let Some(mut fiber) = exec.root.take() else {
            return false;
        };
        fiber.reset(0);
        *exec = TaskExec::new(Some(fiber), false);
        *self.parts.second_mut() = TaskState::new();
        self.parts.rest = TaskFlags::new(false);
        self.wait = WaitWord::default();
        self.id = 0;
        // The site stays, for `renew`: tasks made at one place in a loop recycle each
        // other's.
        true
    }

    /// `clear_for_reuse` for a task of which only the execution changed since it was new
    /// or last emptied: its state, flags and wait are still as `Task::new` makes them (a
    /// `启动` task that finished while nothing else could reach it, so nothing else wrote
    /// them: `worker::turn_of`).
    #[inline]
    pub fn clear_execution_for_reuse(&mut self) -> bool {
        debug_assert!(
            self.is_as_new_but_execution(),
            "{self:?}: more than its execution changed"
        );
        let exec = self.parts.first_mut();
        let Some(mut fiber) = exec.root.take() else {
            return false;
        };
        // It returned a value: every frame returned.
        fiber.reset_returned(0);
        *exec = TaskExec::new(Some(fiber), false);
        self.id = 0;
        true
    }

    /// Whether the state, flags and wait are as `Task::new` makes them.
    fn is_as_new_but_execution(&mut self) -> bool {
        let state = self.parts.second_mut();
        state.ending.is_none()
            && state.awaiters.is_empty()
            && self.status() == Status::Runnable
            && !self.cancel_requested()
            && !self.flags().cancelled.load(Ordering::Relaxed)
            && !self.is_observed()
            && !self.flags().timer_armed.load(Ordering::Relaxed)
            && self.wait.generation() == 0
            && !self.wait.has_held()
    }

    /// Starts a recycled task anew (`clear_for_reuse`), as `Task::new` would.
    pub fn renew(&mut self, id: u64, detached: bool, created_at: Option<SiteAt<'_>>) {
        self.id = id;
        self.parts.rest.detached = detached;
        match (&mut self.created_at, created_at) {
            (Some((file, span)), Some(at)) if Arc::ptr_eq(file, at.file) => *span = at.span,
            (kept, at) => *kept = at.map(SiteAt::to_site),
        }
    }

    /// A finished 未来 holding `v` (`未来::就绪`).
    pub fn ready(v: Value) -> Task {
        let t = Task::new(0, None, false, None);
        t.set_status(Status::Done);
        t.state().lock().ending = Some(Ending::Value(v));
        t.exec().lock().started = true;
        t
    }

    pub fn status(&self) -> Status {
        match self.flags().status.load(Ordering::Acquire) {
            0 => Status::Runnable,
            1 => Status::Blocked,
            2 => Status::Done,
            3 => Status::Failed,
            _ => Status::Cancelled,
        }
    }

    pub fn set_status(&self, status: Status) {
        self.flags().status.store(status as u8, Ordering::Release);
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.status(),
            Status::Done | Status::Failed | Status::Cancelled
        )
    }

    /// Registers a thread outside the workers to hear when this task finishes.
    pub fn host_wait(&self) -> Arc<HostWait> {
        let wait = Arc::new(HostWait::default());
        let mut st = self.state().lock();
        if st.ending.is_some() {
            wait.fire();
        } else {
            st.awaiters.push(Awaiter::Host(wait.clone()));
        }
        wait
    }

    /// The ending, once finished.
    pub fn ending(&self) -> Option<Ending> {
        self.state().lock().ending.clone()
    }

    pub fn cancel_requested(&self) -> bool {
        self.flags().cancel.load(Ordering::Acquire)
    }

    /// Someone awaited the ending: a failure was delivered, not lost.
    pub fn mark_observed(&self) {
        self.flags().observed.store(true, Ordering::Release);
    }

    pub fn is_observed(&self) -> bool {
        self.flags().observed.load(Ordering::Acquire)
    }

    /// `  任务 #N 创建于 (文件:行:列)`, for stack traces.
    pub fn created_line(&self) -> Option<String> {
        let (file, span) = self.created_at.as_ref()?;
        let (line, col) = file.line_col(span.start);
        Some(format!(
            "  任务 #{} 创建于 ({}:{line}:{col})",
            self.id, file.path
        ))
    }
}

/// Adds lines to the stack of an error that crosses into another fiber or task.
/// An error that `failed` ended with, as its awaiter `awaiter` (running `top`, stopped
/// at the `等待`) rethrows it: QI-LANGUAGE.md §11 — after the failed task's frames, where
/// it was made, then who awaited it and that task's frames. The same whether the task had
/// already failed when awaited or failed later.
pub fn chain_await_error(e: &Value, failed: &Task, awaiter: u64, top: &Fiber) {
    let mut lines: Vec<String> = failed.created_line().into_iter().collect();
    if let Some((file, span)) = top.current_site() {
        let (line, col) = file.line_col(span.start);
        lines.push(format!(
            "  由 任务 #{awaiter} 等待于 ({}:{line}:{col})",
            file.path
        ));
    }
    lines.extend(top.stack_lines());
    extend_stack(e, lines);
}

pub fn extend_stack(value: &Value, lines: Vec<String>) {
    if lines.is_empty() {
        return;
    }
    if let Some(e) = value.as_obj::<crate::object::ErrorObj>()
        && let Some(site) = e.thrown.lock().as_mut()
    {
        let mut stack = site.stack.as_ref().clone();
        stack.extend(lines);
        site.stack = Arc::new(stack);
    }
}
