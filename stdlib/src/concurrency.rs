//! Tasks, coroutines, channels, locks and time (QI-LANGUAGE.md §7, §9, §10). Each blocks
//! only the calling task: a native that must wait returns a block request, and the
//! scheduler parks the task.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{Arity, Exit, NativeCtx, NativeResult, error, string};
use qi_vm::object::{AtomicIntObj, ChannelObj, CoroutineObj, MutexObj, WaitGroupObj, Woken};
use qi_vm::sched::block::{self, BlockOp, CombineKind, Combiner};
use qi_vm::sched::reactor::TimerAction;
use qi_vm::sched::task::Task;
use qi_vm::sched::wait::Wake;
use qi_vm::value::{Tag, Value};
use qi_vm::vm::VmBuilder;

use crate::args;

pub fn install(b: &mut VmBuilder) {
    b.function("通道", Arity::Between(0, 1), channel)
        .function("互斥锁", Arity::Exact(0), mutex)
        .function("等待组", Arity::Exact(0), wait_group)
        .function("原子整数", Arity::Between(0, 1), atomic_int)
        .function("睡眠", Arity::Exact(1), sleep)
        .function("超时", Arity::Exact(1), timeout)
        .function("计时", Arity::Exact(0), elapsed)
        .function("现在", Arity::Exact(0), now)
        .function("__回收", Arity::Exact(0), collect_garbage)
        .function("全部等待", Arity::Exact(1), await_all)
        .function("任一等待", Arity::Exact(1), await_any)
        .function("限时等待", Arity::Exact(2), await_with_timeout)
        .function("未来::就绪", Arity::Exact(1), ready)
        .function("__作为未来", Arity::Exact(1), as_future);
    b.method(Tag::Task, "取消", Arity::Exact(0), cancel).method(
        Tag::Task,
        "已完成",
        Arity::Exact(0),
        is_done,
    );
    b.method(Tag::Coroutine, "恢复", Arity::Between(0, 1), resume)
        .method(Tag::Coroutine, "状态", Arity::Exact(0), status);
    b.method(Tag::Channel, "关闭", Arity::Exact(0), close)
        .method(Tag::Channel, "长度", Arity::Exact(0), channel_len)
        .method(Tag::Channel, "容量", Arity::Exact(0), capacity)
        .method(Tag::Channel, "已关闭", Arity::Exact(0), is_closed);
    b.method(Tag::Mutex, "加锁", Arity::Exact(0), lock).method(
        Tag::Mutex,
        "解锁",
        Arity::Exact(0),
        unlock,
    );
    b.method(Tag::WaitGroup, "添加", Arity::Between(0, 1), group_add)
        .method(Tag::WaitGroup, "完成", Arity::Exact(0), group_done)
        .method(Tag::WaitGroup, "等待", Arity::Exact(0), group_wait);
    b.method(Tag::AtomicInt, "增加", Arity::Between(0, 1), atomic_add)
        .method(Tag::AtomicInt, "获取", Arity::Exact(0), atomic_get)
        .method(Tag::AtomicInt, "设置", Arity::Exact(1), atomic_set)
        .method(Tag::AtomicInt, "比较交换", Arity::Exact(2), atomic_cas);
}

fn milliseconds(args: &[Value], i: usize) -> Result<u64, Exit> {
    let ms = args::number(args, i, "毫秒数")?;
    if ms.is_nan() {
        return Err(error(Code::E7008, "：毫秒数不能是 NaN"));
    }
    Ok(ms.max(0.0).min(u64::MAX as f64 / 2.0) as u64)
}

fn channel(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let cap = if args.is_empty() {
        0
    } else {
        args::int(args, 0, "容量")?
    };
    if cap < 0 {
        return Err(error(Code::E7008, format!("：通道容量不能是负数（{cap}）")));
    }
    Ok(Value::new(ChannelObj::new(cap as usize)))
}

fn mutex(_: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    Ok(Value::new(MutexObj::default()))
}

fn wait_group(_: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    Ok(Value::new(WaitGroupObj::default()))
}

fn atomic_int(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let n = if args.is_empty() {
        0
    } else {
        args::int(args, 0, "初值")?
    };
    let a = AtomicIntObj::default();
    a.value.store(n, Ordering::SeqCst);
    Ok(Value::new(a))
}

fn sleep(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let ms = milliseconds(args, 0)?;
    Err(ctx.block(BlockOp::Sleep(ms)))
}

/// `超时(毫秒)`: a 未来 that finishes (with 空) after that time.
fn timeout(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let ms = milliseconds(args, 0)?;
    let task = Arc::new(Task::new(0, None, false, None));
    task.exec().lock().started = true;
    ctx.cx.sched.reactor.add(
        Duration::from_millis(ms),
        TimerAction::Complete(task.clone()),
    );
    Ok(Value::object(task))
}

/// `计时()`: milliseconds since the program started, as 浮点数.
fn elapsed(ctx: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    Ok(Value::float(
        ctx.shared.started.elapsed().as_secs_f64() * 1000.0,
    ))
}

/// `现在()`: milliseconds since the Unix epoch, as 整数.
/// `__回收()`: runs the cycle collector now and gives how many objects it freed (for
/// tests; the collector runs by itself). 0 when called from a host thread or while
/// another collection is on.
fn collect_garbage(ctx: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    // A host thread running Qi inline is not a worker: it cannot step out of the VM.
    if ctx.cx.local.index >= ctx.cx.sched.workers {
        return Ok(Value::int(0));
    }
    let done = ctx.shared.gc.collect_from_turn(ctx.cx.sched);
    Ok(Value::int(done.map_or(0, |d| d.freed as i64)))
}

fn now(_: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Ok(Value::int(ms))
}

fn tasks_of(args: &[Value]) -> Result<Vec<Arc<Task>>, Exit> {
    block::task_list(&args[0]).ok_or_else(|| error(Code::E6003, "：需要由任务或未来组成的列表"))
}

/// Waits for a future built from `parts`.
fn await_combined(
    ctx: &mut NativeCtx<'_>,
    kind: CombineKind,
    parts: Vec<Arc<Task>>,
    ms: Option<u64>,
) -> NativeResult {
    let future = Arc::new(Task::new(0, None, false, None));
    future.exec().lock().started = true;
    let c = Combiner::new(kind, future.clone(), parts);
    // Parts that are already finished decide first; the deadline only races the others.
    c.start(ctx.cx.sched, Some(ctx.cx.local));
    if let Some(ms) = ms
        && !future.is_finished()
    {
        ctx.cx
            .sched
            .reactor
            .add(Duration::from_millis(ms), TimerAction::TimeOut(c.clone()));
    }
    Err(ctx.block(BlockOp::Await(future)))
}

/// `全部等待(列表)`: every result, in order; the first error (in time) wins and cancels the
/// rest.
fn await_all(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let parts = tasks_of(args)?;
    if parts.is_empty() {
        return Ok(Value::new(qi_vm::object::ListObj::new(Vec::new())));
    }
    await_combined(ctx, CombineKind::All, parts, None)
}

/// `任一等待(列表)`: the first to settle; the others are cancelled.
fn await_any(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let parts = tasks_of(args)?;
    if parts.is_empty() {
        return Err(error(Code::E7008, "：任一等待 需要至少一个任务"));
    }
    await_combined(ctx, CombineKind::Any, parts, None)
}

/// `限时等待(t, 毫秒)`: the value or error, or E6004 (and `t` is cancelled).
fn await_with_timeout(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let Some(task) = args[0].to_arc::<Task>() else {
        return Err(error(
            Code::E6003,
            format!("：这里是「{}」", qi_vm::print::type_name(&args[0])),
        ));
    };
    let ms = milliseconds(args, 1)?;
    await_combined(ctx, CombineKind::Timeout, vec![task], Some(ms))
}

fn ready(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::new(Task::ready(args[0].clone())))
}

/// A finished 未来 of `v`, unless `v` is one already.
fn as_future(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if args[0].tag() == Tag::Task {
        return Ok(args[0].clone());
    }
    Ok(Value::new(Task::ready(args[0].clone())))
}

fn cancel(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if let Some(task) = args[0].to_arc::<Task>() {
        block::cancel(ctx.cx.sched, &task, Some(ctx.cx.local));
    }
    Ok(Value::NIL)
}

fn is_done(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::bool(
        args[0].as_obj::<Task>().is_some_and(|t| t.is_finished()),
    ))
}

/// `c.恢复(值)`: runs the coroutine; its yield (or return) is this call's result.
fn resume(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Err(Exit::Resume {
        coroutine: args[0].clone(),
        value: args.get(1).cloned().unwrap_or(Value::NIL),
    })
}

fn status(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let name = args[0]
        .as_obj::<CoroutineObj>()
        .map_or("已结束", |c| c.status().name());
    Ok(string(name))
}

fn chan(args: &[Value]) -> Result<&ChannelObj, Exit> {
    args[0]
        .as_obj::<ChannelObj>()
        .ok_or_else(|| error(Code::E3001, "：需要通道"))
}

fn close(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let ch = chan(args)?;
    let mut woken = Woken::new();
    {
        let mut inner = ch.inner.lock();
        if inner.closed {
            return Err(error(Code::E6007, "：通道已经关闭过了"));
        }
        inner.close(ctx.cx.sched, &mut woken, || {
            qi_vm::native::error_value(Code::E6007, "：通道在等待发送时被关闭")
        });
    }
    for t in woken {
        ctx.cx.sched.woken(t, Some(ctx.cx.local));
    }
    Ok(Value::NIL)
}

fn channel_len(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::int(chan(args)?.inner.lock().buf.len() as i64))
}

fn capacity(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::int(chan(args)?.capacity as i64))
}

fn is_closed(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::bool(chan(args)?.inner.lock().closed))
}

fn lock(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if let Some(m) = args[0].as_obj::<MutexObj>() {
        let mut st = m.inner.lock();
        if !st.locked {
            st.locked = true;
            return Ok(Value::NIL);
        }
    }
    Err(ctx.block(BlockOp::Lock(args[0].clone())))
}

/// Hands the lock to the first waiter still waiting, or frees it.
fn unlock(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let Some(m) = args[0].as_obj::<MutexObj>() else {
        return Ok(Value::NIL);
    };
    let mut st = m.inner.lock();
    if !st.locked {
        return Err(error(Code::E7008, "：互斥锁没有被锁住"));
    }
    while let Some(token) = st.waiters.pop_front() {
        if ctx
            .cx
            .sched
            .wake(token, Wake::Value(Value::NIL), Some(ctx.cx.local))
        {
            // Still locked: ownership passed to the woken task.
            return Ok(Value::NIL);
        }
    }
    st.locked = false;
    Ok(Value::NIL)
}

fn group(args: &[Value]) -> Result<&WaitGroupObj, Exit> {
    args[0]
        .as_obj::<WaitGroupObj>()
        .ok_or_else(|| error(Code::E3001, "：需要等待组"))
}

fn group_add(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let n = if args.len() > 1 {
        args::int(args, 1, "数量")?
    } else {
        1
    };
    group_change(ctx, group(args)?, n)
}

fn group_done(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    group_change(ctx, group(args)?, -1)
}

fn group_change(ctx: &mut NativeCtx<'_>, g: &WaitGroupObj, delta: i64) -> NativeResult {
    let mut refused = None;
    let changed = g
        .count
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |count| {
            match count.checked_add(delta) {
                None => {
                    refused = Some(error(Code::E7002, ""));
                    None
                }
                Some(n) if n < 0 => {
                    refused = Some(error(Code::E7008, "：等待组的计数不能小于零"));
                    None
                }
                Some(n) => Some(n),
            }
        });
    if changed.is_err() {
        return Err(refused.unwrap_or_else(|| error(Code::E7002, "")));
    }
    if changed == Ok(-delta) {
        // Zero now: whoever waits is done (see `WaitGroupObj` for why none is missed).
        let waiters = std::mem::take(&mut *g.waiters.lock());
        for token in waiters {
            ctx.cx
                .sched
                .wake(token, Wake::Value(Value::NIL), Some(ctx.cx.local));
        }
    }
    Ok(Value::NIL)
}

fn group_wait(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if group(args)?.count.load(Ordering::SeqCst) == 0 {
        return Ok(Value::NIL);
    }
    Err(ctx.block(BlockOp::WaitGroup(args[0].clone())))
}

fn atomic(args: &[Value]) -> Result<&AtomicIntObj, Exit> {
    args[0]
        .as_obj::<AtomicIntObj>()
        .ok_or_else(|| error(Code::E3001, "：需要原子整数"))
}

/// `增加(d)`: the new value (E7002 when it would overflow).
fn atomic_add(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let a = atomic(args)?;
    let d = if args.len() > 1 {
        args::int(args, 1, "增量")?
    } else {
        1
    };
    let mut cur = a.value.load(Ordering::SeqCst);
    loop {
        let next = cur.checked_add(d).ok_or_else(|| error(Code::E7002, ""))?;
        match a
            .value
            .compare_exchange_weak(cur, next, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => return Ok(Value::int(next)),
            Err(actual) => cur = actual,
        }
    }
}

fn atomic_get(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::int(atomic(args)?.value.load(Ordering::SeqCst)))
}

fn atomic_set(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let v = args::int(args, 1, "新值")?;
    atomic(args)?.value.store(v, Ordering::SeqCst);
    Ok(Value::NIL)
}

/// `比较交换(旧, 新)`: whether it swapped.
fn atomic_cas(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let old = args::int(args, 1, "旧值")?;
    let new = args::int(args, 2, "新值")?;
    let swapped = atomic(args)?
        .value
        .compare_exchange(old, new, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    Ok(Value::bool(swapped))
}
