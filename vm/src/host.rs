//! Functions the embedding host writes in Rust, and the futures its async ones return.
//!
//! A host function is registered as an ordinary native whose `aux` indexes
//! [`Shared::host_fns`](crate::vm::Shared). A synchronous one runs inline on the worker.
//! An asynchronous one behaves like an 异步 函数: its call gives a task at once (so
//! `等待 查询(1)` waits and `创建 查询(1)` makes one task, not two). The task has no
//! fiber; its Rust future runs on the host's executor (a [`Spawner`] given to the
//! builder — Tokio's `spawn`, say) or, by default, on a small executor thread of the
//! VM's own, and its output ends the task through the completion queue the blocking pool
//! uses. No worker ever blocks on it, and while it is in flight it counts as pending
//! work, so whoever awaits it is not taken for deadlocked.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake as TaskWake, Waker};

use parking_lot::{Condvar, Mutex};
use qi_bytecode::diagnostic::Code;

use crate::native::{Exit, NativeCtx, NativeResult};
use crate::object::ErrorObj;
use crate::sched::pool::Finished;
use crate::sched::task::{Ending, Task};
use crate::value::Value;

/// What a host function gives back: a value, or an error message that Qi code sees as
/// an 错误 (code E7000) it can catch.
pub type HostResult = Result<Value, String>;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

pub type SyncHostFn = dyn Fn(&[Value]) -> HostResult + Send + Sync;
pub type AsyncHostFn = dyn Fn(Vec<Value>) -> BoxFuture<HostResult> + Send + Sync;

/// Runs a future to completion somewhere (for Tokio: `|f| { tokio::spawn(f); }`).
pub type Spawner = dyn Fn(BoxFuture<()>) + Send + Sync;

#[derive(Clone)]
pub enum HostFn {
    Sync(Arc<SyncHostFn>),
    Async(Arc<AsyncHostFn>),
}

/// The native behind every host function.
pub fn call_host(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let Some(f) = ctx.shared.host_fns.get(ctx.callee.aux as usize) else {
        return Err(crate::native::error(Code::E7000, "：宿主函数不存在"));
    };
    match f {
        HostFn::Sync(f) => {
            let f = f.clone();
            match std::panic::catch_unwind(AssertUnwindSafe(|| f(args))) {
                Ok(r) => r.map_err(|m| Exit::Throw(host_error(&ctx.callee.name, &m))),
                Err(_) => Err(Exit::Throw(host_error(
                    &ctx.callee.name,
                    "宿主函数崩溃了（panic）",
                ))),
            }
        }
        HostFn::Async(f) => {
            // Like an 异步 函数: the call gives a task at once; 等待 it for the result.
            let task = start_task(ctx, f, args, false, None);
            Ok(Value::object(task))
        }
    }
}

/// Whether `callee` is an async host function (its call already makes a task, so
/// `创建`/`启动` of it must not make a second one).
pub fn is_async(shared: &crate::vm::Shared, callee: &Value) -> bool {
    callee
        .as_obj::<crate::object::NativeFunction>()
        .filter(|n| std::ptr::fn_addr_eq(n.f, call_host as crate::object::NativeFn))
        .and_then(|n| shared.host_fns.get(n.aux as usize))
        .is_some_and(|f| matches!(f, HostFn::Async(_)))
}

/// `创建`/`启动` of an async host function: its own task, detached for 启动.
pub fn spawn_async(
    cx: &crate::interp::Cx<'_>,
    callee: &Value,
    args: &[Value],
    detached: bool,
    site: Option<crate::sched::task::Site>,
) -> Option<Arc<Task>> {
    let n = callee.as_obj::<crate::object::NativeFunction>()?;
    let HostFn::Async(f) = cx.shared.host_fns.get(n.aux as usize)? else {
        return None;
    };
    let mut ctx = NativeCtx {
        cx,
        shared: cx.shared,
        callee: n,
    };
    Some(start_task(&mut ctx, f, args, detached, site))
}

/// Makes the task for one call of an async host function and starts its future.
fn start_task(
    ctx: &mut NativeCtx<'_>,
    f: &Arc<AsyncHostFn>,
    args: &[Value],
    detached: bool,
    site: Option<crate::sched::task::Site>,
) -> Arc<Task> {
    let sched = ctx.cx.sched;
    let task = Arc::new(Task::new(sched.next_id(), None, detached, site));
    task.exec().lock().started = true;
    task.set_status(crate::sched::task::Status::Blocked);
    sched.register(&task);
    let future = f(args.to_vec());
    start(
        ctx.shared,
        ctx.callee.name.clone(),
        future,
        task.clone(),
        &sched.reactor.pool,
        sched.reactor.notifier(),
    );
    task
}

/// The 错误 a failing host function throws.
pub fn host_error(name: &str, message: &str) -> Value {
    let mut e = ErrorObj::new("E7000", format!("{name}：{message}"));
    e.hint = None;
    Value::new(e)
}

/// Runs `future` for `task`: when it finishes, the task's ending goes to `done` (the
/// pool's completion queue) and `notify` wakes the reactor to deliver it.
pub fn start(
    shared: &crate::vm::Shared,
    name: Arc<str>,
    future: BoxFuture<HostResult>,
    task: Arc<Task>,
    pool: &Arc<crate::sched::pool::Pool>,
    notify: Arc<dyn Fn() + Send + Sync>,
) {
    pool.pending
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    pool.added_work();
    let pool = pool.clone();
    let job: BoxFuture<()> = Box::pin(async move {
        let ending = match (CatchUnwind { inner: future }).await {
            Ok(Ok(v)) => Ending::Value(v),
            Ok(Err(m)) => Ending::error(host_error(&name, &m), None),
            Err(()) => Ending::error(host_error(&name, "宿主函数崩溃了（panic）"), None),
        };
        pool.done.lock().push(Finished::Complete(task, ending));
        notify();
    });
    match &shared.spawner {
        Some(spawn) => spawn(job),
        None => shared.executor().spawn(job),
    }
}

/// Polls the inner future, turning a panic into `Err(())` so the parked task still wakes.
struct CatchUnwind<F> {
    inner: F,
}

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

/// The VM's own executor for host futures when the host gives no spawner: one thread,
/// started on first use, polling futures as their wakers fire.
#[derive(Default)]
pub struct Executor {
    queue: Mutex<ExecQueue>,
    cv: Condvar,
    thread: OnceLock<()>,
}

#[derive(Default)]
struct ExecQueue {
    ready: VecDeque<Arc<Job>>,
    shutdown: bool,
}

struct Job {
    future: Mutex<Option<BoxFuture<()>>>,
    executor: std::sync::Weak<Executor>,
}

impl TaskWake for Job {
    fn wake(self: Arc<Self>) {
        if let Some(e) = self.executor.upgrade() {
            e.queue.lock().ready.push_back(self.clone());
            e.cv.notify_one();
        }
    }
}

impl Executor {
    pub fn spawn(self: &Arc<Self>, future: BoxFuture<()>) {
        self.thread.get_or_init(|| {
            let me = self.clone();
            let _ = std::thread::Builder::new()
                .name("气-宿主执行器".into())
                .spawn(move || me.run());
        });
        let job = Arc::new(Job {
            future: Mutex::new(Some(future)),
            executor: Arc::downgrade(self),
        });
        self.queue.lock().ready.push_back(job);
        self.cv.notify_one();
    }

    /// One thread, so a job is never polled twice at once; a wake-up during a poll
    /// queues the job again and it is polled after this poll has put the future back.
    fn run(&self) {
        loop {
            let job = {
                let mut q = self.queue.lock();
                loop {
                    if q.shutdown {
                        return;
                    }
                    if let Some(j) = q.ready.pop_front() {
                        break j;
                    }
                    self.cv.wait(&mut q);
                }
            };
            let Some(mut future) = job.future.lock().take() else {
                continue;
            };
            let waker = Waker::from(job.clone());
            let mut cx = Context::from_waker(&waker);
            if future.as_mut().poll(&mut cx).is_pending() {
                *job.future.lock() = Some(future);
            }
        }
    }

    pub fn shut_down(&self) {
        self.queue.lock().shutdown = true;
        self.cv.notify_all();
    }
}
