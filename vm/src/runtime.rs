//! A VM that stays up between requests: the REPL and embedding hosts hand it work and
//! wait for the results, while tasks started earlier keep running.
//!
//! `program::run_main` owns its threads for one program's life and ends when nothing can
//! happen any more. A [`Runtime`] instead starts the reactor and the workers once, on a
//! [hosted](Scheduler::hosted) scheduler that never ends by itself; each request becomes a
//! task, and the host blocks on that task alone. Running out of work while the host's
//! task is still parked is that request's deadlock (E6006), not the end of the VM.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use qi_bytecode::diagnostic::{Code, Diagnostic};

use crate::fiber::Fiber;
use crate::native::Exit;
use crate::object::{ModuleObj, ThrowSite};
use crate::program::uncaught;
use crate::sched::reactor::Fired;
use crate::sched::task::{Ending, Task};
use crate::sched::worker::{self, Local};
use crate::sched::{End, Scheduler, block, report};
use crate::value::Value;
use crate::vm::Shared;

/// How often a waiting host looks at the quiescence condition. A finished task wakes it
/// at once; this only bounds how long a deadlock takes to be noticed.
const QUIESCENCE_POLL: Duration = Duration::from_millis(20);

/// How a request ended.
#[derive(Debug)]
pub enum Outcome {
    Value(Value),
    /// An uncaught error, as its diagnostic, and the thrown value.
    Error(Box<Diagnostic>, Value),
    /// The task can never finish: nothing else is running and no timer or I/O is pending.
    Deadlock(Box<Diagnostic>),
    /// `退出(码)`: the script asked to end the process.
    Exit(i32),
}

pub struct Runtime {
    shared: Arc<Shared>,
    sched: Arc<Scheduler>,
    threads: Vec<JoinHandle<()>>,
}

impl Runtime {
    /// Starts the reactor and the configured number of workers.
    pub fn start(shared: Arc<Shared>) -> Runtime {
        let sched = Arc::new(Scheduler::hosted(
            shared.config.workers,
            shared.config.budget,
        ));
        let alone = sched.workers == 1;
        let locals: Vec<Local> = (0..sched.workers).map(|i| Local::new(i, alone)).collect();
        worker::install_stealers(&sched, &locals);
        let mut threads = Vec::with_capacity(locals.len() + 1);
        let s = sched.clone();
        threads.push(spawn_thread("气-反应器", move || {
            s.reactor.run(|fired| match fired {
                Fired::Wake(token, wake) => s.reactor_wake(token, wake, None),
                Fired::Timer(token, wake) => s.timer_wake(token, wake, None),
                Fired::Complete(task, ending) => s.complete(&task, ending, None),
                Fired::TimeOut(c) => c.time_out(&s, None),
                Fired::Batch => s.poke(),
                // Every worker starts with the runtime.
                Fired::StartWorker => {}
            })
        }));
        for local in locals {
            let (sh, s) = (shared.clone(), sched.clone());
            threads.push(spawn_thread("气-工作线程", move || {
                worker::run(&sh, &s, &local)
            }));
        }
        Runtime {
            shared,
            sched,
            threads,
        }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub fn scheduler(&self) -> &Arc<Scheduler> {
        &self.sched
    }

    /// Starts a new host request: the step and heap limits count from here.
    pub fn begin_request(&self) {
        self.shared.meter.reset();
    }

    /// Queues a module's top level as a new task.
    pub fn spawn_module(&self, module: &Arc<ModuleObj>) -> Result<Arc<Task>, Outcome> {
        let mut fiber = Fiber::new(256);
        crate::interp::enter_module_init(&mut fiber, module).map_err(exit_outcome)?;
        Ok(self.spawn_fiber(fiber))
    }

    /// Queues `callee(args)` (a Qi function) as a new task.
    pub fn spawn_call(&self, callee: &Value, args: &[Value]) -> Result<Arc<Task>, Outcome> {
        let fiber = crate::interp::tasks::fiber_for_call(&self.shared, callee, args)
            .map_err(exit_outcome)?;
        Ok(self.spawn_fiber(fiber))
    }

    fn spawn_fiber(&self, fiber: Fiber) -> Arc<Task> {
        let task = Arc::new(Task::new(self.sched.next_id(), Some(fiber), false, None));
        self.sched.register(&task);
        self.sched.schedule(task.clone(), None, false);
        task
    }

    /// Blocks until `task` finishes, the VM runs out of work with it still waiting
    /// (the deadlock is reported and the task cancelled), or the script calls 退出.
    /// Setting `interrupt` cancels the task (it ends with E6005 at its next suspension
    /// point, which a running loop reaches within one budget).
    pub fn wait(&self, task: &Arc<Task>, interrupt: Option<&AtomicBool>) -> Outcome {
        let wait = task.host_wait();
        loop {
            if interrupt.is_some_and(|i| i.swap(false, Ordering::SeqCst)) {
                block::cancel(&self.sched, task, None);
            }
            if wait.wait_for(QUIESCENCE_POLL) {
                return match task.ending() {
                    Some(ending) => Outcome::from(ending),
                    None => Outcome::Value(Value::NIL),
                };
            }
            if let Some(End::Exit(code)) = self.sched.end() {
                return Outcome::Exit(code);
            }
            // A finished task's ending is set before it stops counting as active, so
            // quiescence with no ending means it waits for something that cannot come.
            if self.sched.quiescent() && !task.is_finished() {
                let d = report::deadlock(&self.sched);
                block::cancel(&self.sched, task, None);
                return Outcome::Deadlock(Box::new(d));
            }
        }
    }

    /// Detached tasks (启动) that failed since the last call: their errors, to report.
    pub fn take_orphan_failures(&self) -> Vec<Diagnostic> {
        let tasks = std::mem::take(&mut *self.sched.orphans.lock());
        tasks.iter().filter_map(|t| report::failure(t)).collect()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.sched.shut_down();
        self.shared.stop_executor();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.sched.release_tasks();
    }
}

fn spawn_thread(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .unwrap_or_else(|e| panic!("无法创建线程：{e}"))
}

impl From<Ending> for Outcome {
    fn from(ending: Ending) -> Outcome {
        match ending {
            Ending::Value(v) => Outcome::Value(v),
            Ending::Error(f) => error_outcome(f.value, f.site),
        }
    }
}

pub(crate) fn error_outcome(v: Value, site: Option<ThrowSite>) -> Outcome {
    let d = uncaught(&v, site);
    Outcome::Error(Box::new(d), v)
}

pub(crate) fn exit_outcome(e: Exit) -> Outcome {
    match e {
        Exit::Throw(v) => error_outcome(v, None),
        Exit::Exit(code) => Outcome::Exit(code),
        _ => Outcome::Error(
            Box::new(Diagnostic::bare(Code::E7000).with_detail("：无法开始运行")),
            Value::NIL,
        ),
    }
}
