//! The instructions of QI-LANGUAGE.md §7: coroutines, tasks, channels and `选择`.
//!
//! Each tries to complete at once (a buffered item, a finished task, a ready case); only
//! when it cannot does the interpreter leave its loop with `Outcome::Block`, and the
//! scheduler parks the task.

use std::sync::Arc;

use qi_bytecode::diagnostic::Code;
use qi_bytecode::proto::{Constant, SelectCase};

use super::Cx;
use super::frame::Cursor;
use crate::fiber::Fiber;
use crate::native::{Exit, error};
use crate::object::{
    BoundMethod, ChannelObj, Closure, CoroutineObj, NativeFunction, Received, RecvWaiter,
    SendWaiter, Sent,
};
use crate::print::type_name;
use crate::sched::block::SelectArm;
use crate::sched::task::{Ending, Task};
use crate::sched::wait::WaitToken;
use crate::value::{Tag, Value};

/// `c.恢复(值)` on a coroutine: the same as the built-in method, without looking it up
/// and calling it as a native. `Some((coroutine, value))` when `Invoke A B C` is that call.
#[inline]
pub fn resume_method(cur: &Cursor, a: u16, argc: u16, name_index: u16) -> Option<(Value, Value)> {
    static RESUME: std::sync::LazyLock<crate::symbol::Symbol> =
        std::sync::LazyLock::new(|| crate::symbol::Symbol::intern("恢复"));
    let receiver = cur.r(a);
    if receiver.tag() != Tag::Coroutine
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
    // Typed, so the count change is inlined (a `Value` clone goes through the tag).
    let co = receiver.to_arc::<CoroutineObj>()?;
    Some((Value::object(co), value))
}

/// What a coroutine or task will run: a Qi closure and its arguments (a bound method's
/// receiver first).
fn callable(callee: &Value, args: &[Value]) -> Result<(Value, Vec<Value>), Exit> {
    match callee.tag() {
        Tag::Function => Ok((callee.clone(), args.to_vec())),
        Tag::BoundMethod => {
            let Some(b) = callee.as_obj::<BoundMethod>() else {
                return Err(not_runnable(callee));
            };
            if b.method.tag() != Tag::Function {
                return Err(not_runnable(callee));
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
        _ => Err(not_runnable(callee)),
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
    let (closure, args) = callable(callee, args)?;
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
    let regs = closure
        .as_obj::<Closure>()
        .map_or(0, |c| c.info.num_regs as usize);
    let mut fiber = Fiber::new(regs);
    enter_checked(&mut fiber, &closure, &args)?;
    Ok(fiber)
}

/// Pushes the entry frame of `closure(args)` on `fiber`, after the arity check.
fn enter_checked(fiber: &mut Fiber, closure: &Value, args: &[Value]) -> Result<(), Exit> {
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
    super::enter_entry(fiber, closure.clone(), args)
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
        return enter_checked(fiber, callee, args);
    }
    let (closure, args) = callable(callee, args)?;
    enter_checked(fiber, &closure, &args)
}

/// `NewCoroutine A B`: a coroutine that will run `R[A](R[A+1]…)`.
pub fn new_coroutine(cur: Cursor, a: u16, argc: u16) -> Result<Value, Exit> {
    let (closure, args) = callable(cur.r(a), cur.slice(a + 1, argc))?;
    let fiber = fiber_for(closure, args)?;
    Ok(Value::new(CoroutineObj::new(Box::new(fiber))))
}

/// `Spawn A B C`: a task running `R[A](R[A+1]…)`, queued behind the running ones.
pub fn spawn(cx: &Cx<'_>, cur: Cursor, a: u16, argc: u16, detached: bool) -> Result<Value, Exit> {
    let site = (cur.info().proto.file.clone(), current_span(cur));
    spawn_call(cx, cur.r(a), cur.slice(a + 1, argc), detached, Some(site))
}

fn current_span(cur: Cursor) -> qi_bytecode::source::Span {
    let pc = cur.pc().saturating_sub(1) as usize;
    cur.info().proto.spans.get(pc).copied().unwrap_or_default()
}

/// Starts a task for `callee(args)` and gives its handle.
pub fn spawn_call(
    cx: &Cx<'_>,
    callee: &Value,
    args: &[Value],
    detached: bool,
    site: Option<crate::sched::task::Site>,
) -> Result<Value, Exit> {
    if let Some(max) = cx.shared.config.limits.tasks
        && cx.sched.unfinished_tasks() >= max
    {
        return Err(error(Code::E9003, format!("：同时存在的任务最多 {max} 个")));
    }
    if crate::host::is_async(cx.shared, callee)
        && let Some(task) = crate::host::spawn_async(cx, callee, args, detached, site.clone())
    {
        return Ok(if detached {
            Value::NIL
        } else {
            Value::object(task)
        });
    }
    // A native runs in the task through the prelude's `__调用`, so one that waits (睡眠,
    // 读取文件, a host's async function) makes the new task wait, not its creator.
    if let Some((apply, apply_args)) = via_apply(cx.shared, callee, args) {
        return spawn_call(cx, &apply, &apply_args, detached, site);
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
            Err(Exit::Throw(e)) => Ending::Error(e, None),
            Err(other) => return Err(other),
        };
        let task = Arc::new(Task::new(cx.sched.next_id(), None, detached, site));
        cx.sched.count_spawned();
        cx.sched.complete(&task, ending, Some(cx.local));
        return Ok(Value::object(task));
    }
    let (closure, args) = callable(callee, args)?;
    let fiber = fiber_for(closure, args)?;
    let task = Arc::new(Task::new(cx.sched.next_id(), Some(fiber), detached, site));
    cx.sched.count_spawned();
    if detached {
        // 启动: nobody keeps a handle, so the queue gets the only one.
        cx.sched.schedule(task, Some(cx.local), false);
        return Ok(Value::NIL);
    }
    cx.sched.schedule(task.clone(), Some(cx.local), false);
    Ok(Value::object(task))
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
    let mut guard = task.state.lock();
    let st = &mut *guard;
    match &st.ending {
        Some(Ending::Value(v)) => {
            task.mark_observed();
            Ok(AwaitNow::Value(v.clone()))
        }
        Some(Ending::Error(e, _)) => {
            task.mark_observed();
            let e = e.clone();
            drop(guard);
            Ok(AwaitNow::Failed(e, task))
        }
        None => {
            drop(guard);
            Ok(AwaitNow::Wait(task))
        }
    }
}

pub fn check_channel(v: &Value) -> Result<(), Exit> {
    if v.tag() == Tag::Channel {
        Ok(())
    } else if v.is_nil() {
        Err(error(Code::E7009, "：通道是 空"))
    } else {
        Err(error(
            Code::E3009,
            format!("：「<-」需要通道，这里是「{}」", type_name(v)),
        ))
    }
}

pub enum RecvNow {
    Value(Value),
    Closed,
    Wait,
}

/// How a channel operation of the interpreter went (`recv_or_park`, `send_or_park`).
///
/// Sixteen bytes, returned in registers: with the received value in it, the result went
/// through memory, and reading it back stalled on its own stores (a third slower on
/// `benches/tasks/channel.qi`).
pub enum ChanStep {
    /// Done: a received value is in the destination register.
    Done,
    /// A receive: the channel is closed and drained. A send: E6007.
    Closed,
    /// It must wait, and cannot park in place (`Cx::park_token`): the caller makes the
    /// `BlockOp` (a send's value is still in its register).
    Wait,
    /// The task is registered with the channel with this token (`BlockOp::Registered`).
    Parked(Arc<WaitToken>),
}

/// A receive that completes now, into `dst`, or — where the task can park in place
/// (`Cx::park_token`) — registers the task as a receiver under the same lock: the worker
/// then parks it without looking at the channel again.
pub fn recv_or_park(cx: &Cx<'_>, channel: &Value, for_loop: bool, dst: &mut Value) -> ChanStep {
    let Some(ch) = channel.as_obj::<ChannelObj>() else {
        return ChanStep::Closed;
    };
    let mut woken = None;
    let mut got = None;
    let mut inner = ch.inner.lock();
    let step = match inner.try_recv(&mut woken) {
        Received::Value(v) => {
            got = Some(v);
            ChanStep::Done
        }
        Received::Closed => ChanStep::Closed,
        Received::Empty => match cx.park_token() {
            Some(token) => {
                inner.prune();
                inner.recvq.push_back(RecvWaiter {
                    token: token.clone(),
                    case: None,
                    for_loop,
                });
                ChanStep::Parked(token)
            }
            None => ChanStep::Wait,
        },
    };
    drop(inner);
    // Outside the lock: the register's old value may take a while to drop.
    if let Some(v) = got {
        *dst = v;
    }
    if let Some(t) = woken {
        cx.sched.woken(&t, Some(cx.local));
    }
    step
}

/// `recv_or_park` from register `ch` into register `dst` of `cur`'s frame, which may be
/// the same register (the channel is then held by a clone while the value arrives).
pub fn recv_into(cx: &Cx<'_>, mut cur: Cursor, ch: u16, dst: u16, for_loop: bool) -> ChanStep {
    if ch == dst {
        let channel = cur.r(ch).clone();
        return recv_or_park(cx, &channel, for_loop, cur.r_mut(dst));
    }
    let here = cur;
    recv_or_park(cx, here.r(ch), for_loop, cur.r_mut(dst))
}

/// A send that completes now or registers the task as a sender, as `recv_or_park`.
/// `ChanStep::Closed` is the caller's E6007.
pub fn send_or_park(cx: &Cx<'_>, channel: &Value, value: Value) -> ChanStep {
    cx.shared.gc.stored(cx.local.index, channel, &value);
    let Some(ch) = channel.as_obj::<ChannelObj>() else {
        return ChanStep::Done;
    };
    let mut woken = None;
    let mut inner = ch.inner.lock();
    let (sent, back) = inner.try_send(ch.capacity, value, &mut woken);
    let step = match sent {
        Sent::Done => ChanStep::Done,
        Sent::Closed => ChanStep::Closed,
        Sent::Full => match cx.park_token() {
            Some(token) => {
                inner.prune();
                inner.sendq.push_back(SendWaiter {
                    token: token.clone(),
                    case: None,
                    value: back.unwrap_or(Value::NIL),
                });
                ChanStep::Parked(token)
            }
            None => ChanStep::Wait,
        },
    };
    drop(inner);
    if let Some(t) = woken {
        cx.sched.woken(&t, Some(cx.local));
    }
    step
}

/// E6007, for a send on a closed channel.
pub fn send_on_closed() -> Exit {
    error(Code::E6007, "：不能向已关闭的通道发送")
}

/// A receive that does not wait: a buffered item, a waiting sender's item, or the end.
pub fn try_recv(cx: &Cx<'_>, channel: &Value) -> RecvNow {
    let Some(ch) = channel.as_obj::<ChannelObj>() else {
        return RecvNow::Closed;
    };
    let mut woken = None;
    let got = ch.inner.lock().try_recv(&mut woken);
    if let Some(t) = woken {
        cx.sched.woken(&t, Some(cx.local));
    }
    match got {
        Received::Value(v) => RecvNow::Value(v),
        Received::Closed => RecvNow::Closed,
        Received::Empty => RecvNow::Wait,
    }
}

/// A send that does not wait. `Some(value)` hands the value back when the task must wait.
pub fn try_send(cx: &Cx<'_>, channel: &Value, value: Value) -> Result<Option<Value>, Exit> {
    cx.shared.gc.stored(cx.local.index, channel, &value);
    let Some(ch) = channel.as_obj::<ChannelObj>() else {
        return Ok(None);
    };
    let mut woken = None;
    let sent = ch.inner.lock().try_send(ch.capacity, value, &mut woken);
    if let Some(t) = woken {
        cx.sched.woken(&t, Some(cx.local));
    }
    match sent {
        (Sent::Done, _) => Ok(None),
        (Sent::Closed, _) => Err(send_on_closed()),
        (Sent::Full, v) => Ok(v),
    }
}

pub enum Selected {
    /// Case `i` completed now (with its received value, or 空).
    Now(usize, Value),
    Wait(Vec<SelectArm>),
}

/// `选择`: a ready case chosen at random (fair), else 默认, else wait for the first.
pub fn select(cx: &Cx<'_>, cur: Cursor, base: u16, k: u16) -> Result<Selected, Exit> {
    let Some(Constant::Select(cases)) = cur.info().proto.consts.get(k as usize) else {
        return Err(error(Code::E7000, "：选择分支表缺失"));
    };
    // Operands, per case.
    let mut arms: Vec<Option<SelectArm>> = Vec::with_capacity(cases.len());
    let mut default = None;
    let mut r = base;
    for (i, case) in cases.iter().enumerate() {
        match case {
            SelectCase::Recv => {
                let ch = cur.r(r).clone();
                check_channel(&ch)?;
                arms.push(Some(SelectArm::Recv(ch)));
            }
            SelectCase::Send => {
                let ch = cur.r(r).clone();
                check_channel(&ch)?;
                arms.push(Some(SelectArm::Send(ch, cur.r(r + 1).clone())));
            }
            SelectCase::Timeout => {
                let ms = cur.r(r).as_int().ok_or_else(|| {
                    error(
                        Code::E7008,
                        format!(
                            "：超时的毫秒数应当是整数，这里是「{}」",
                            type_name(cur.r(r))
                        ),
                    )
                })?;
                arms.push(Some(SelectArm::Timeout(ms.max(0) as u64)));
            }
            SelectCase::Default => {
                default = Some(i);
                arms.push(None);
            }
        }
        r += case.operands() as u16;
    }
    // Try the ready ones, starting at a random case so none is favoured.
    let n = arms.len();
    let start = if n > 1 {
        (cx.shared.random_u64() % n as u64) as usize
    } else {
        0
    };
    for step in 0..n {
        let i = (start + step) % n;
        match &arms[i] {
            Some(SelectArm::Recv(ch)) => match try_recv(cx, ch) {
                RecvNow::Value(v) => return Ok(Selected::Now(i, v)),
                RecvNow::Closed => return Ok(Selected::Now(i, Value::NIL)),
                RecvNow::Wait => {}
            },
            Some(SelectArm::Send(ch, v)) if try_send(cx, ch, v.clone())?.is_none() => {
                return Ok(Selected::Now(i, Value::NIL));
            }
            Some(SelectArm::Timeout(0)) => return Ok(Selected::Now(i, Value::NIL)),
            _ => {}
        }
    }
    if let Some(d) = default {
        return Ok(Selected::Now(d, Value::NIL));
    }
    if n == 0 {
        // `选择 {}` waits forever (QI-LANGUAGE.md §10).
        return Ok(Selected::Wait(Vec::new()));
    }
    Ok(Selected::Wait(arms.into_iter().flatten().collect()))
}
