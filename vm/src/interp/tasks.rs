//! The instructions of QI-LANGUAGE.md §7 for coroutines and tasks (channels and `选择`
//! are in `channel.rs`).
//!
//! Each tries to complete at once (a finished task, a coroutine to switch to); only when
//! it cannot does the interpreter leave its loop with `Outcome::Block`, and the scheduler
//! parks the task.

use std::sync::Arc;

use qi_bytecode::diagnostic::Code;

use super::Cx;
use super::frame::Cursor;
use crate::fiber::Fiber;
use crate::native::{Exit, error};
use crate::object::{BoundMethod, Closure, CoroutineObj, NativeFunction};
use crate::print::type_name;
use crate::sched::fresh::Fresh;
use crate::sched::task::{Ending, SiteAt, Task};
use crate::value::{Tag, Value};

/// `c.恢复(值)` on a coroutine: the same as the built-in method, without looking it up
/// and calling it as a native. `Some((coroutine, value))` when `Invoke A B C` is that call.
///
/// The coroutine moves out of `R[A]`, which gets what it yields: copied, its count went up
/// here and down again when the yield overwrote the copy, two locked instructions per round
/// trip. (`R[A]` is the call's own register, which only the call's result is read from.)
#[inline]
pub fn resume_method(
    mut cur: Cursor,
    a: u16,
    argc: u16,
    name_index: u16,
) -> Option<(Value, Value)> {
    static RESUME: std::sync::LazyLock<crate::symbol::Symbol> =
        std::sync::LazyLock::new(|| crate::symbol::Symbol::intern("恢复"));
    if cur.r(a).tag() != Tag::Coroutine
        || argc > 1
        || cur.info().syms[name_index as usize] != *RESUME
    {
        return None;
    }
    let value = if argc == 1 {
        cur.r(a + 1).clone()
    } else {
        Value::NIL
    };
    Some((cur.r_mut(a).take(), value))
}

/// What a coroutine or task will run: a Qi closure and its arguments (a bound method's
/// receiver first).
fn callable(callee: Value, args: &[Value]) -> Result<(Value, Vec<Value>), Exit> {
    match callee.tag() {
        Tag::Function => Ok((callee, args.to_vec())),
        Tag::BoundMethod => {
            let Some(b) = callee.as_obj::<BoundMethod>() else {
                return Err(not_runnable(&callee));
            };
            if b.method.tag() != Tag::Function {
                return Err(not_runnable(&callee));
            }
            let mut all = Vec::with_capacity(args.len() + 1);
            let uses_receiver = b
                .method
                .as_obj::<Closure>()
                .is_some_and(|c| c.info.uses_self || c.info.arity as usize == args.len() + 1);
            if uses_receiver {
                all.push(b.receiver.clone());
            }
            all.extend_from_slice(args);
            Ok((b.method.clone(), all))
        }
        _ => Err(not_runnable(&callee)),
    }
}

fn not_runnable(v: &Value) -> Exit {
    error(
        Code::E3007,
        format!(
            "：「{}」不能在协程或任务里运行，只能运行气函数",
            type_name(v)
        ),
    )
}

/// A fiber ready to run `closure(args)`, after the arity check.
/// A fiber that will run `callee(args)`: a Qi function, a method bound to a receiver, or
/// a native (through the prelude's `__调用`).
pub fn fiber_for_call(
    shared: &crate::vm::Shared,
    callee: &Value,
    args: &[Value],
) -> Result<Fiber, Exit> {
    if let Some((apply, apply_args)) = via_apply(shared, callee, args) {
        return fiber_for_call(shared, &apply, &apply_args);
    }
    let (closure, args) = callable(callee.clone(), args)?;
    fiber_for(closure, args)
}

/// The name of the prelude function that calls a function with a list of arguments.
const APPLY: &str = "__调用";

/// For a native callee: `__调用` and its arguments `[callee, [args…]]`.
fn via_apply(
    shared: &crate::vm::Shared,
    callee: &Value,
    args: &[Value],
) -> Option<(Value, Vec<Value>)> {
    let native = match callee.tag() {
        Tag::Native => true,
        Tag::BoundMethod => callee
            .as_obj::<BoundMethod>()
            .is_some_and(|b| b.method.tag() == Tag::Native),
        _ => false,
    };
    if !native {
        return None;
    }
    let apply = shared
        .builtin(crate::symbol::Symbol::intern(APPLY))?
        .clone();
    let list = Value::new(crate::object::ListObj::new(args.to_vec()));
    Some((apply, vec![callee.clone(), list]))
}

fn fiber_for(closure: Value, args: Vec<Value>) -> Result<Fiber, Exit> {
    let mut fiber = Fiber::new(entry_registers(&closure));
    enter_checked(&mut fiber, closure, &args)?;
    Ok(fiber)
}

/// The registers a fiber's first segment needs for entering `closure`.
fn entry_registers(closure: &Value) -> usize {
    closure
        .as_obj::<Closure>()
        .map_or(0, |c| c.info.num_regs as usize)
}

/// Pushes the entry frame of `closure(args)` on `fiber`, after the arity check. (By
/// value: the fiber keeps this reference, where a copy and a drop of the caller's cost
/// two atomic operations per task.)
fn enter_checked(fiber: &mut Fiber, closure: Value, args: &[Value]) -> Result<(), Exit> {
    check_arity(&closure, args)?;
    super::enter_entry(fiber, closure, args)
}

/// E3006 unless `closure` takes `args`.
fn check_arity(closure: &Value, args: &[Value]) -> Result<(), Exit> {
    let Some(c) = closure.as_obj::<Closure>() else {
        return Err(not_runnable(closure));
    };
    let expected = c.info.arity as usize + c.info.uses_self as usize;
    if args.len() != expected {
        return Err(error(
            Code::E3006,
            format!(
                "：「{}」需要 {} 个参数，这里给了 {} 个",
                crate::print::function_name(c.name()),
                c.info.arity,
                args.len().saturating_sub(c.info.uses_self as usize)
            ),
        ));
    }
    Ok(())
}

/// Pushes the entry frame of `callee(args)` on an empty `fiber` (natives go through the
/// prelude's `__调用`).
pub fn enter_call(
    shared: &crate::vm::Shared,
    fiber: &mut Fiber,
    callee: &Value,
    args: &[Value],
) -> Result<(), Exit> {
    if let Some((apply, apply_args)) = via_apply(shared, callee, args) {
        return enter_call(shared, fiber, &apply, &apply_args);
    }
    if callee.tag() == Tag::Function {
        // The common case, without copying the arguments first.
        return enter_checked(fiber, callee.clone(), args);
    }
    let (closure, args) = callable(callee.clone(), args)?;
    enter_checked(fiber, closure, &args)
}

/// `NewCoroutine A B`: a coroutine that will run `R[A](R[A+1]…)`.
pub fn new_coroutine(cur: Cursor, a: u16, argc: u16) -> Result<Value, Exit> {
    let (closure, args) = callable(cur.r(a).clone(), cur.slice(a + 1, argc))?;
    let fiber = fiber_for(closure, args)?;
    Ok(Value::new(CoroutineObj::new(Box::new(fiber))))
}

/// `Spawn A B C`: a task running `R[A](R[A+1]…)`, queued behind the running ones.
pub fn spawn(
    cx: &Cx<'_>,
    mut cur: Cursor,
    a: u16,
    argc: u16,
    detached: bool,
) -> Result<Value, Exit> {
    // `R[A]` gets the handle, so the callee moves out of it instead of being copied and
    // then dropped there.
    let callee = std::mem::replace(cur.r_mut(a), Value::NIL);
    let here = cur;
    let site = SiteAt {
        file: &here.info().proto.file,
        span: current_span(cur),
    };
    if detached && argc == 0 && cx.sched.workers > 1 {
        return spawn_detached(cx, callee, site);
    }
    spawn_call(cx, callee, cur.slice_mut(a + 1, argc), detached, Some(site))
}

/// `启动 callee()` with more than one worker: a block written there is queued as only its
/// closure and number, and the worker that takes it makes the task (`sched::fresh`).
/// Anything else is spawned as usual.
#[inline(never)]
fn spawn_detached(cx: &Cx<'_>, callee: Value, site: SiteAt<'_>) -> Result<Value, Exit> {
    check_task_limit(cx)?;
    match Fresh::of(callee, site, || cx.sched.next_id()) {
        Ok(fresh) => {
            cx.sched.count_spawned(Some(cx.local));
            cx.sched.schedule_fresh(fresh, cx.local);
            Ok(Value::NIL)
        }
        Err(callee) => spawn_call(cx, callee, &mut [], true, Some(site)),
    }
}

/// E9003 when the VM's limit on tasks alive at once is reached.
#[inline]
fn check_task_limit(cx: &Cx<'_>) -> Result<(), Exit> {
    match cx.shared.config.limits.tasks {
        Some(max) if cx.sched.unfinished_tasks() >= max => {
            Err(error(Code::E9003, format!("：同时存在的任务最多 {max} 个")))
        }
        _ => Ok(()),
    }
}

fn current_span(cur: Cursor) -> qi_bytecode::source::Span {
    let pc = cur.pc().saturating_sub(1) as usize;
    cur.info().proto.spans.get(pc).copied().unwrap_or_default()
}

/// Starts a task for `callee(args)` and gives its handle. The arguments may be moved out
/// of `args` (the call's own registers, which nothing reads after it).
pub fn spawn_call(
    cx: &Cx<'_>,
    callee: Value,
    args: &mut [Value],
    detached: bool,
    site: Option<SiteAt<'_>>,
) -> Result<Value, Exit> {
    check_task_limit(cx)?;
    if crate::host::is_async(cx.shared, &callee)
        && let Some(task) =
            crate::host::spawn_async(cx, &callee, args, detached, site.map(SiteAt::to_site))
    {
        return Ok(if detached {
            Value::NIL
        } else {
            Value::object(task)
        });
    }
    // A native runs in the task through the prelude's `__调用`, so one that waits (睡眠,
    // 读取文件, a host's async function) makes the new task wait, not its creator.
    if let Some((apply, mut apply_args)) = via_apply(cx.shared, &callee, args) {
        return spawn_call(cx, apply, &mut apply_args, detached, site);
    }
    // Without the prelude: the native runs now and its task is born finished.
    if let Some(n) = callee.as_obj::<NativeFunction>() {
        let mut ctx = crate::native::NativeCtx {
            cx,
            shared: cx.shared,
            callee: n,
        };
        let ending = match (n.f)(&mut ctx, args) {
            Ok(v) => Ending::Value(v),
            Err(Exit::Throw(e)) => Ending::error(e, None),
            Err(other) => return Err(other),
        };
        let task = Arc::new(Task::new(
            cx.sched.next_id(),
            None,
            detached,
            site.map(SiteAt::to_site),
        ));
        cx.sched.count_spawned(Some(cx.local));
        cx.sched.complete(&task, ending, Some(cx.local));
        return Ok(Value::object(task));
    }
    // A Qi function, by far the most common, runs with the arguments as they are; the
    // general path returned a closure and a vector through memory, read back before its
    // stores had landed (a stalled load at a tenth of a spawn).
    let task = if callee.tag() == Tag::Function {
        new_task(cx, callee, args, detached, site)?
    } else {
        let (closure, mut args) = callable(callee, args)?;
        new_task(cx, closure, &mut args, detached, site)?
    };
    cx.sched.count_spawned(Some(cx.local));
    if detached {
        // 启动: nobody keeps a handle, so the queue gets the only one.
        cx.sched.schedule(task, Some(cx.local), false);
        return Ok(Value::NIL);
    }
    cx.sched.schedule(task.clone(), Some(cx.local), false);
    Ok(Value::object(task))
}

/// A task that will run `closure(args)`: in a finished task's memory when this thread has
/// one (`sched::recycle`), else new.
///
/// Without arguments (a `创建 { … }`; a `启动 { … }` is queued unmade, `sched::fresh`) and
/// with more than one worker, the fiber only keeps the closure, and the task's first turn
/// pushes the entry frame (`TaskExec::entry_pending`): the frame and registers of a task
/// were written by the spawner and then by the worker that stole it, each first touch
/// waiting for the line to come from the other core (a million spawns on two workers:
/// 108.1 → 104.4 ms). One worker enters at once: the deferral cost it 134.3 → 138.8 ms.
fn new_task(
    cx: &Cx<'_>,
    closure: Value,
    args: &mut [Value],
    detached: bool,
    site: Option<SiteAt<'_>>,
) -> Result<Arc<Task>, Exit> {
    check_arity(&closure, args)?;
    let defer = args.is_empty() && cx.sched.workers > 1;
    if let Some(mut task) = crate::sched::recycle::take(cx.sched, cx.local)
        && let Some(t) = crate::sched::solo::task_mut(&mut task)
    {
        let exec = t.exec_mut();
        if let Some(fiber) = exec.root.as_mut() {
            // Emptied when it was kept (`Task::clear_for_reuse`).
            exec.entry_pending = start(fiber, closure, args, defer)?;
            t.renew(cx.sched.next_id(), detached, site);
            return Ok(task);
        }
    }
    // Built here rather than by `fiber_for`, whose fiber came back through memory.
    let mut fiber = Fiber::new(entry_registers(&closure));
    let pending = start(&mut fiber, closure, args, defer)?;
    Ok(Arc::new(Task::entering(
        cx.sched.next_id(),
        Some(fiber),
        pending,
        detached,
        site.map(SiteAt::to_site),
    )))
}

/// Sets up `fiber` — new, or emptied with its registers given up — to run
/// `closure(args)`, whose arity was checked: with `defer` (and no arguments), keeps the
/// closure for the first turn to enter (`true`), else enters it now.
fn start(fiber: &mut Fiber, closure: Value, args: &mut [Value], defer: bool) -> Result<bool, Exit> {
    let closure = if defer {
        match closure.into_arc::<Closure>() {
            Ok(c) => {
                fiber.keep.set(c);
                return Ok(true);
            }
            Err(other) => other,
        }
    } else {
        closure
    };
    fiber.stack.fit_first(entry_registers(&closure));
    super::call::enter_entry_taking(fiber, closure, args)?;
    Ok(false)
}

/// What `等待` found.
pub enum AwaitNow {
    Value(Value),
    /// The task had already failed with this error: rethrow it (with the await chain).
    Failed(Value, Arc<Task>),
    Wait(Arc<Task>),
}

/// `等待 t`: the result of a finished task (or its error, rethrown), else wait.
pub fn try_await(v: &Value) -> Result<AwaitNow, Exit> {
    let Some(task) = v.to_arc::<Task>() else {
        return Err(error(Code::E6003, format!("：这里是「{}」", type_name(v))));
    };
    let mut guard = task.state().lock();
    let st = &mut *guard;
    match &st.ending {
        Some(Ending::Value(v)) => {
            task.mark_observed();
            Ok(AwaitNow::Value(v.clone()))
        }
        Some(Ending::Error(f)) => {
            task.mark_observed();
            let e = f.value.clone();
            drop(guard);
            Ok(AwaitNow::Failed(e, task))
        }
        None => {
            drop(guard);
            Ok(AwaitNow::Wait(task))
        }
    }
}
