//! Running a loaded program to its end: top level, then `入口`, then the exit code.

use std::sync::Arc;

use qi_bytecode::diagnostic::{Code, Diagnostic};

use crate::fiber::Fiber;
use crate::interp::{self, Outcome};
use crate::object::{ErrorObj, ModuleObj, ThrowSite};
use crate::value::Value;
use crate::vm::Shared;

/// How a program ended.
pub enum Ending {
    /// Finished normally.
    Done,
    /// `退出(n)`.
    Exit(i32),
    /// An uncaught error, ready to print.
    Failed(Box<Diagnostic>),
}

impl Ending {
    pub fn exit_code(&self) -> i32 {
        match self {
            Ending::Done => 0,
            Ending::Exit(n) => *n,
            Ending::Failed(_) => 1,
        }
    }
}

/// Runs `module`'s top level, then its `入口` if it has one.
pub fn run_main(shared: &Shared, module: &Arc<ModuleObj>) -> Ending {
    let mut fiber = Fiber::new(1024);
    if let Err(e) = interp::enter_module_init(&mut fiber, module) {
        return ending_of(Outcome::Threw {
            value: exit_value(e),
            site: None,
        });
    }
    let outcome = run_to_end(shared, &mut fiber);
    if !matches!(outcome, Outcome::Returned(_)) {
        return ending_of(outcome);
    }
    let entry = module
        .proto
        .as_ref()
        .and_then(|p| p.entry)
        .map(|slot| module.decl(slot));
    if let Some(entry) = entry {
        let mut fiber = Fiber::new(1024);
        if let Err(e) = interp::enter_entry(&mut fiber, entry, Vec::new()) {
            return ending_of(Outcome::Threw {
                value: exit_value(e),
                site: None,
            });
        }
        let outcome = run_to_end(shared, &mut fiber);
        return ending_of(outcome);
    }
    Ending::Done
}

fn exit_value(e: crate::native::Exit) -> Value {
    match e {
        crate::native::Exit::Throw(v) => v,
        crate::native::Exit::Exit(_) => Value::NIL,
    }
}

/// Runs a fiber until it finishes (the single-task runner; budgets only pause it).
pub fn run_to_end(shared: &Shared, fiber: &mut Fiber) -> Outcome {
    loop {
        match interp::run(shared, fiber, shared.config.budget) {
            Outcome::Yield => continue,
            other => return other,
        }
    }
}

fn ending_of(outcome: Outcome) -> Ending {
    match outcome {
        Outcome::Returned(_) | Outcome::Yield => Ending::Done,
        Outcome::Exit(n) => Ending::Exit(n),
        Outcome::Threw { value, site } => Ending::Failed(Box::new(uncaught(&value, site))),
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
