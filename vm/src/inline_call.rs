//! Calling Qi from a host thread without a thread switch.
//!
//! DESIGN.md "Host calls": `vm.call` runs the function inline on the calling thread and
//! moves it to the scheduler only if it must wait. Handing every call to a worker costs a
//! wake-up and a sleep on each side — tens of microseconds; a small function runs in
//! tens of nanoseconds. So the host thread gets a context of its own (a [`Local`] queue,
//! a task to stand for the caller, a spare fiber), reused call after call, and runs one
//! budget of the function there. If it returns or throws, that is the answer. If it
//! yields, blocks, resumes a coroutine or suspends, the fiber becomes a real task with
//! that outcome pending, and the driver on a worker takes it up exactly where the
//! interpreter stopped — the exit is at an instruction boundary, as every exit is.
//!
//! Tasks the inline run schedules (a 创建, a receiver woken by a send) land in the host
//! context's queue, which no worker steals from; they are moved to the injector before
//! the call returns.

use std::cell::RefCell;
use std::sync::Arc;

use crate::fiber::Fiber;
use crate::interp::{self, Cx, Outcome as Stop};
use crate::runtime::{Outcome, Runtime};
use crate::sched::task::Task;
use crate::sched::worker::Local;
use crate::value::Value;

/// A host thread's reusable context for one runtime.
struct HostContext {
    runtime: usize,
    local: Local,
    task: Arc<Task>,
    fiber: Option<Fiber>,
}

thread_local! {
    /// Boxed, so taking one out and putting it back moves a pointer, not the context
    /// (moving the contexts themselves was 15% of a `vm.call`).
    #[allow(clippy::vec_box)]
    static CONTEXTS: RefCell<Vec<Box<HostContext>>> = const { RefCell::new(Vec::new()) };
}

impl Runtime {
    /// Runs `callee(args)` to its end, inline when it does not wait.
    pub fn call(&self, callee: &Value, args: &[Value]) -> Outcome {
        let id = self as *const Runtime as usize;
        // Taken out while in use, so a host function that calls back into the VM on this
        // thread gets a context of its own.
        let mut ctx = CONTEXTS
            .with(|c| {
                let mut c = c.borrow_mut();
                let i = c.iter().position(|h| h.runtime == id)?;
                Some(c.swap_remove(i))
            })
            .unwrap_or_else(|| {
                Box::new(HostContext {
                    runtime: id,
                    local: Local::new(usize::MAX, true),
                    task: Arc::new(Task::new(0, None, false, None)),
                    fiber: None,
                })
            });
        let outcome = self.call_in(&mut ctx, callee, args);
        CONTEXTS.with(|c| c.borrow_mut().push(ctx));
        outcome
    }

    fn call_in(&self, ctx: &mut HostContext, callee: &Value, args: &[Value]) -> Outcome {
        let shared = self.shared();
        let sched = self.scheduler();
        let mut fiber = ctx.fiber.take().unwrap_or_else(|| Fiber::new(32));
        if let Err(e) = interp::tasks::enter_call(shared, &mut fiber, callee, args) {
            reset(&mut fiber);
            ctx.fiber = Some(fiber);
            return crate::runtime::exit_outcome(e);
        }
        let cx = Cx {
            shared,
            sched,
            local: &ctx.local,
            task: &ctx.task,
            steps: std::cell::Cell::new(0),
            charged: std::cell::Cell::new(0),
            entry: None,
        };
        let entered = sched.safepoint.enter_host();
        // Running here, it may wake a task another host thread is waiting for: it must
        // count as active, or that thread could see an idle VM and report a deadlock.
        sched.activate();
        let mut budget = sched.budget;
        let stop = interp::run(&cx, &mut fiber, &mut budget);
        let over = crate::sched::driver::over_limit(&cx);
        self.hand_over_queued(&ctx.local);
        sched.deactivate();
        if entered {
            sched.safepoint.leave_host();
        }
        if let Some(e) = over {
            // Uncatchable: the fiber is dropped without running 捕获 or 最终.
            return crate::runtime::exit_outcome(crate::native::Exit::Throw(e));
        }
        match stop {
            Stop::Returned(v) => {
                reset(&mut fiber);
                ctx.fiber = Some(fiber);
                Outcome::Value(v)
            }
            Stop::Threw { value, site } => {
                reset(&mut fiber);
                ctx.fiber = Some(fiber);
                crate::runtime::error_outcome(value, site)
            }
            Stop::Exit(code) => Outcome::Exit(code),
            other => {
                // It must wait (or its budget ran out): from here it is an ordinary task.
                let task = Arc::new(Task::new(sched.next_id(), Some(fiber), false, None));
                sched.hold_outcome(&task, other);
                sched.register(&task);
                sched.schedule(task.clone(), None, false);
                self.wait(&task, None)
            }
        }
    }

    /// Moves tasks the inline run queued on the host context to the injector.
    fn hand_over_queued(&self, local: &Local) {
        for task in local.drain() {
            self.scheduler().requeue(task, None);
        }
    }
}

/// Makes a finished fiber reusable: no frames, no handlers, no kept closures.
fn reset(fiber: &mut Fiber) {
    fiber.frames.clear();
    fiber.handlers.clear();
    fiber.keep.clear();
}
