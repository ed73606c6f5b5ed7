//! Running a loaded program to its end: the scheduler, task #1 (top level, then `入口`),
//! and what the end of the program prints and returns (QI-LANGUAGE.md §7.2, §10).

use std::sync::Arc;

use qi_bytecode::diagnostic::{Code, Diagnostic};

use crate::fiber::Fiber;
use crate::object::{ErrorObj, ModuleObj, ThrowSite};
use crate::sched::reactor::Fired;
use crate::sched::task::Task;
use crate::sched::worker::{self, Local};
use crate::sched::{End, Scheduler, report};
use crate::value::Value;
use crate::vm::Shared;

/// How a program ended: its exit code and what to print on stderr, in order.
pub struct Ending {
    pub code: i32,
    pub diagnostics: Vec<Diagnostic>,
}

impl Ending {
    pub fn exit_code(&self) -> i32 {
        self.code
    }
}

/// Runs `module`'s top level, then its `入口` if it has one, as task #1, with the
/// configured number of workers; returns when no task can make progress.
///
/// The program runs solo whenever one worker runs alone (`sched/solo.rs`): only this
/// call's workers may run Qi code of `shared` until it returns — nothing else (another
/// scheduler, a `Runtime` on the same VM) may run its code or use its values meanwhile.
/// `qi run` and the benches build a VM for each program.
pub fn run_main(shared: &Shared, module: &Arc<ModuleObj>) -> Ending {
    let mut sched = Scheduler::new(shared.config.workers, shared.config.budget);
    // Only this call's workers run the program (`sched/solo.rs`).
    sched.set_solo();
    let mut fiber = Fiber::new(1024);
    if let Err(e) = crate::interp::enter_module_init(&mut fiber, module) {
        let value = match e {
            crate::native::Exit::Throw(v) => v,
            _ => Value::NIL,
        };
        return Ending {
            code: 1,
            diagnostics: vec![uncaught(&value, None)],
        };
    }
    let main = Arc::new(Task::new(sched.next_id(), Some(fiber), false, None));
    let entry = module
        .proto
        .as_ref()
        .and_then(|p| p.entry)
        .map(|slot| module.decl(slot));
    sched.set_main(main.clone(), entry);
    sched.register(&main);
    sched.schedule(main, None, false);

    let alone = sched.workers == 1;
    let mut locals: Vec<Local> = (0..sched.workers).map(|i| Local::new(i, alone)).collect();
    worker::install_stealers(&sched, &locals);
    // Worker 0 is this thread; the others start when there is work for them, on the
    // reactor thread's request (`Scheduler::defer_workers`).
    sched.defer_workers();
    let first = locals.remove(0);
    let waiting = parking_lot::Mutex::new(locals);
    // SIGQUIT (Ctrl-\) prints every live task and its stack, then the program goes on:
    // the handler sets a flag that workers look at between turns and while parked.
    let signal = signal_hook::flag::register(signal_hook::consts::SIGQUIT, sched.snapshot_flag());
    std::thread::scope(|s| {
        let sched = &sched;
        let waiting = &waiting;
        // The reactor thread starts when something first needs it (a timer, a socket, a
        // worker to start): asked between turns of this thread's worker, the only one
        // running until then.
        let start_reactor = || {
            if !sched.reactor.take_thread_request() {
                return;
            }
            s.spawn(move || {
                sched.reactor.run(|fired| match fired {
                    // The workers act on it (`sched/solo.rs`).
                    fired @ (Fired::Wake(..)
                    | Fired::Timer(..)
                    | Fired::Complete(..)
                    | Fired::TimeOut(_)) => sched.defer(fired),
                    Fired::Batch => sched.poke(),
                    Fired::StartWorker => {
                        // `unstarted` and `waiting` change together, here: a claimed
                        // worker always has its `Local`.
                        let mut waiting = waiting.lock();
                        if !waiting.is_empty()
                            && sched.claim_unstarted()
                            && let Some(local) = waiting.pop()
                        {
                            s.spawn(move || worker::run(shared, sched, &local));
                        }
                    }
                })
            });
        };
        if let Some(every) = shared.config.snapshot_every {
            s.spawn(move || {
                // Until the end, or until a worker's panic shut the scheduler down
                // (`worker::StopOnPanic`), which sets no end.
                while !sched.wait_for_end_timeout(every) && !sched.is_shut_down() {
                    // A worker reads the tasks (`sched/solo.rs`).
                    sched.request_snapshot();
                }
            });
        }
        worker::run_with(shared, sched, &first, start_reactor);
        sched.shut_down();
    });
    if let Ok(id) = signal {
        signal_hook::low_level::unregister(id);
    }
    shared.flush_out();
    conclude(&sched)
}

/// Turns the reason the scheduler stopped into an exit code and diagnostics.
fn conclude(sched: &Scheduler) -> Ending {
    let end = sched.wait_for_end();
    match end {
        End::Exit(code) => Ending {
            code,
            diagnostics: Vec::new(),
        },
        End::Failed(task) => Ending {
            code: 1,
            diagnostics: report::failure(&task).into_iter().collect(),
        },
        End::Quiescent => {
            let main_done = sched.main.get().is_some_and(|m| m.is_finished());
            if !main_done {
                return Ending {
                    code: 2,
                    diagnostics: vec![report::deadlock(sched)],
                };
            }
            let mut diagnostics: Vec<Diagnostic> =
                report::still_waiting(sched).into_iter().collect();
            let failures = report::unobserved_failures(sched);
            let code = if failures.is_empty() { 0 } else { 1 };
            diagnostics.extend(failures);
            Ending { code, diagnostics }
        }
    }
}

/// The diagnostic for a value nobody caught (QI-LANGUAGE.md §6, §9, §11).
pub fn uncaught(value: &Value, site: Option<ThrowSite>) -> Diagnostic {
    let (mut d, site) = match value.as_obj::<ErrorObj>() {
        Some(e) => {
            let mut d = match Code::parse(&e.code) {
                Some(code) => Diagnostic::bare(code),
                None => {
                    let mut d = Diagnostic::bare(Code::E7000);
                    d.custom_code = Some(e.code.clone());
                    d
                }
            };
            d.message = e.message.clone();
            d.hint = e.hint.clone();
            (d, e.site().or(site))
        }
        None => (
            Diagnostic::bare(Code::E7000)
                .with_detail(format!("：{}", crate::print::display(value))),
            site,
        ),
    };
    if let Some(site) = site {
        d.location = Some((site.file.clone(), site.span));
        d.trailer = site.stack.as_ref().clone();
    }
    d
}
