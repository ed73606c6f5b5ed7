//! What a task can wait for, and how it parks: registering its wait with whatever
//! will wake it, or finding that it need not wait at all.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use qi_bytecode::diagnostic::Code;

use super::Scheduler;
use super::reactor::TimerAction;
use super::task::{Awaiter, Ending, Task};
use super::wait::{WaitToken, Wake};
use super::worker::Local;
use crate::native::error_value;
use crate::object::{
    CaseIndex, ChannelObj, ErrorObj, ListObj, MutexObj, Received, RecvWaiter, Sent, SocketObj,
    WaitGroupObj,
};
use crate::value::Value;
use crate::vm::Shared;

/// One case of a `选择` as the VM sees it.
pub enum SelectArm {
    Recv(Value),
    Send(Value, Value),
    /// Milliseconds.
    Timeout(u64),
}

/// Why a task stops running until something happens.
pub enum BlockOp {
    /// `等待 t` (or one of the futures 全部等待/任一等待/限时等待 build).
    Await(Arc<Task>),
    /// `<-ch`; `for_loop`: a `对于` over the channel.
    Recv { channel: Value, for_loop: bool },
    /// `ch <- v`
    Send { channel: Value, value: Value },
    /// `选择` with no case ready and no 默认.
    Select(Vec<SelectArm>),
    /// `睡眠(毫秒)`
    Sleep(u64),
    /// `互斥锁.加锁()`
    Lock(Value),
    /// `等待组.等待()`
    WaitGroup(Value),
    /// Work for the blocking pool (files, DNS, the console).
    Io(super::pool::Work),
    /// A socket read or accept found nothing: wait for readiness newer than `epoch`, then
    /// run the call again; E6004 after `timeout` milliseconds, if given.
    SocketRead {
        socket: Value,
        epoch: u64,
        timeout: Option<u64>,
    },
    /// Wait until the socket's outgoing buffer is flushed.
    SocketDrain(Value),
    /// A channel operation already registered the task's wait of this generation, under
    /// the channel's lock, and marked the task blocked (`Cx::park_waiter`): nothing is left
    /// to do but park.
    Registered(u64),
}

/// What parking found.
pub enum Parked {
    /// The wait is registered; the task waits.
    Waiting,
    /// No need to wait: this is the result.
    Ready(Wake),
}

pub fn is_cancellation(v: &Value) -> bool {
    v.as_obj::<ErrorObj>().is_some_and(|e| e.code == "E6005")
}

pub fn cancellation() -> Value {
    error_value(Code::E6005, "")
}

/// Wakes a parked task with E6005; the pending request is then delivered.
pub fn deliver_cancel(sched: &Scheduler, token: WaitToken, local: Option<&Local>) {
    let task = token.task.clone();
    if sched.wake(token, Wake::Throw(cancellation()), local) {
        task.flags()
            .cancel
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

fn closed_error() -> Value {
    error_value(Code::E6007, "")
}

/// Registers `token` with what `op` waits for, unless it can complete at once.
pub fn park(
    shared: &Shared,
    sched: &Scheduler,
    local: &Local,
    op: BlockOp,
    token: &WaitToken,
) -> Parked {
    let _ = shared;
    match op {
        // (Never here: the turn parks these itself, `Step::Parked`.)
        BlockOp::Registered(_) => Parked::Waiting,
        BlockOp::Await(task) => {
            let mut guard = task.state().lock();
            let st = &mut *guard;
            if let Some(ending) = &st.ending {
                task.mark_observed();
                return Parked::Ready(ending_wake(&task, ending));
            }
            st.awaiters.push(Awaiter::Token(token.clone()));
            Parked::Waiting
        }
        BlockOp::Recv { channel, for_loop } => {
            let Some(ch) = channel.as_obj::<ChannelObj>() else {
                return Parked::Ready(Wake::Value(Value::NIL));
            };
            let mut woken = None;
            let result = {
                let mut inner = ch.inner.lock();
                match inner.try_recv(sched, &mut woken) {
                    Received::Value(v) => Parked::Ready(Wake::Value(v)),
                    Received::Closed => Parked::Ready(if for_loop {
                        Wake::End
                    } else {
                        Wake::Value(Value::NIL)
                    }),
                    Received::Empty => {
                        inner.prune();
                        inner.recvq.push_back(RecvWaiter::new(token.clone(), None));
                        Parked::Waiting
                    }
                }
            };
            if let Some(t) = woken {
                sched.woken(t, Some(local));
            }
            result
        }
        BlockOp::Send { channel, value } => {
            let Some(ch) = channel.as_obj::<ChannelObj>() else {
                return Parked::Ready(Wake::Value(Value::NIL));
            };
            let mut woken = None;
            let result = {
                let mut inner = ch.inner.lock();
                match inner.try_send(sched, ch.capacity, value, &mut woken) {
                    (Sent::Done, _) => Parked::Ready(Wake::Value(Value::NIL)),
                    (Sent::Closed, _) => Parked::Ready(Wake::Throw(closed_error())),
                    (Sent::Full, v) => {
                        inner.prune();
                        inner
                            .sendq
                            .push_back(token.clone(), None, v.unwrap_or(Value::NIL));
                        Parked::Waiting
                    }
                }
            };
            if let Some(t) = woken {
                sched.woken(t, Some(local));
            }
            result
        }
        BlockOp::Select(arms) => park_select(sched, local, arms, token),
        BlockOp::Sleep(ms) => {
            sched.reactor.add(
                Duration::from_millis(ms),
                TimerAction::Wake(token.clone(), Wake::Value(Value::NIL)),
            );
            Parked::Waiting
        }
        BlockOp::Lock(m) => {
            let Some(m) = m.as_obj::<MutexObj>() else {
                return Parked::Ready(Wake::Value(Value::NIL));
            };
            let mut st = m.inner.lock();
            if !st.locked {
                st.locked = true;
                return Parked::Ready(Wake::Value(Value::NIL));
            }
            st.waiters.push_back(token.clone());
            Parked::Waiting
        }
        BlockOp::Io(work) => {
            sched.reactor.submit(token.clone(), work);
            Parked::Waiting
        }

        BlockOp::SocketRead {
            socket,
            epoch,
            timeout,
        } => {
            let Some(sock) = socket.as_obj::<SocketObj>() else {
                return Parked::Ready(Wake::Value(Value::NIL));
            };
            let mut st = sock.state.lock();
            if st.read_epoch != epoch || st.closed {
                return Parked::Ready(Wake::Retry);
            }
            st.readers.push(token.clone());
            sched.reactor.arm_io(token);
            st.read_deadline =
                timeout.map(|ms| (std::time::Instant::now() + Duration::from_millis(ms), ms));
            let arm =
                st.read_deadline.is_some() && !std::mem::replace(&mut st.deadline_armed, true);
            drop(st);
            if arm && let (Some(ms), Some(sock)) = (timeout, socket.to_arc::<SocketObj>()) {
                sched.reactor.add(
                    Duration::from_millis(ms),
                    TimerAction::SocketDeadline(Arc::downgrade(&sock)),
                );
            }
            Parked::Waiting
        }
        BlockOp::SocketDrain(socket) => {
            let Some(sock) = socket.as_obj::<SocketObj>() else {
                return Parked::Ready(Wake::Value(Value::NIL));
            };
            let mut st = sock.state.lock();
            let flushed = sock.flush(&mut st);
            if let Err(e) = flushed {
                st.broken = Some(e.kind());
                st.outbuf.clear();
            }
            if let Some(kind) = st.broken {
                let e = error_value(
                    Code::E8006,
                    &format!("：{}：{}", sock.peer, crate::object::io_reason(kind)),
                );
                return Parked::Ready(Wake::Throw(e));
            }
            if st.outbuf.is_empty() || st.closed {
                return Parked::Ready(Wake::Value(Value::NIL));
            }
            st.writers.push(token.clone());
            sched.reactor.arm_io(token);
            Parked::Waiting
        }
        BlockOp::WaitGroup(g) => {
            let Some(g) = g.as_obj::<WaitGroupObj>() else {
                return Parked::Ready(Wake::Value(Value::NIL));
            };
            // Under the lock that the change to zero takes afterwards (`WaitGroupObj`).
            let mut waiters = g.waiters.lock();
            if g.count.load(std::sync::atomic::Ordering::SeqCst) <= 0 {
                return Parked::Ready(Wake::Value(Value::NIL));
            }
            waiters.push(token.clone());
            Parked::Waiting
        }
    }
}

/// The wake an awaiter of a finished task gets.
pub fn ending_wake(task: &Arc<Task>, ending: &Ending) -> Wake {
    match ending {
        Ending::Value(v) => Wake::Value(v.clone()),
        Ending::Error(f) => Wake::AwaitError(Box::new((f.value.clone(), task.clone()))),
    }
}

/// Tells one awaiter that `task` finished.
pub fn notify_awaiter(
    sched: &Scheduler,
    task: &Arc<Task>,
    a: Awaiter,
    ending: &Ending,
    local: Option<&Local>,
) {
    match a {
        Awaiter::Token(token) => {
            sched.wake(token, ending_wake(task, ending), local);
        }
        Awaiter::Combine(c, index) => c.on_ending(sched, index, ending, local),
        Awaiter::Host(wait) => wait.fire(),
    }
}

/// `选择` that must wait: register on every case; if a case turns out ready while
/// registering, complete it at once.
///
/// A case is ready when a wait on the other side of its channel is still open, but a timer
/// or a cancellation, which do not take the channel's lock, can wake that wait between the
/// check and the hand-off. This wait is claimed by then, and a claim cannot be handed
/// back, so the 选择 then runs again from the start (`Wake::Retry`), instead of taking
/// that case with no value or reporting a send that nobody received.
fn park_select(
    sched: &Scheduler,
    local: &Local,
    arms: Vec<SelectArm>,
    token: &WaitToken,
) -> Parked {
    for (i, arm) in arms.into_iter().enumerate() {
        match arm {
            SelectArm::Recv(channel) => {
                let Some(ch) = channel.as_obj::<ChannelObj>() else {
                    continue;
                };
                let mut woken = None;
                let mut inner = ch.inner.lock();
                if inner.recv_ready(token) {
                    if token.claim().is_none() {
                        return Parked::Waiting;
                    }
                    let wake = match inner.try_recv(sched, &mut woken) {
                        Received::Value(v) => Wake::case(i, v),
                        Received::Closed => Wake::case(i, Value::NIL),
                        // The sender's wait was woken by something else after the check.
                        Received::Empty => Wake::Retry,
                    };
                    drop(inner);
                    if let Some(t) = woken {
                        sched.woken(t, Some(local));
                    }
                    sched.reactor.retire(token);
                    return Parked::Ready(wake);
                }
                inner.prune();
                inner
                    .recvq
                    .push_back(RecvWaiter::new(token.clone(), CaseIndex::new(i)));
            }
            SelectArm::Send(channel, value) => {
                let Some(ch) = channel.as_obj::<ChannelObj>() else {
                    continue;
                };
                let mut woken = None;
                let mut inner = ch.inner.lock();
                if inner.send_ready(ch.capacity, token) {
                    if token.claim().is_none() {
                        return Parked::Waiting;
                    }
                    let wake = match inner.try_send(sched, ch.capacity, value, &mut woken) {
                        (Sent::Done, _) => Wake::case(i, Value::NIL),
                        (Sent::Closed, _) => Wake::Throw(closed_error()),
                        // The receiver's wait was woken by something else after the check:
                        // nothing was sent.
                        (Sent::Full, _) => Wake::Retry,
                    };
                    drop(inner);
                    if let Some(t) = woken {
                        sched.woken(t, Some(local));
                    }
                    sched.reactor.retire(token);
                    return Parked::Ready(wake);
                }
                inner.prune();
                inner
                    .sendq
                    .push_back(token.clone(), CaseIndex::new(i), value);
            }
            SelectArm::Timeout(ms) => {
                sched.reactor.add(
                    Duration::from_millis(ms),
                    TimerAction::Wake(token.clone(), Wake::case(i, Value::NIL)),
                );
            }
        }
    }
    Parked::Waiting
}

/// A future built from other tasks: 全部等待, 任一等待, 限时等待.
pub struct Combiner {
    pub kind: CombineKind,
    /// The future the awaiting task waits for.
    pub future: Arc<Task>,
    pub parts: Vec<Arc<Task>>,
    state: Mutex<CombineState>,
    /// 限时等待's timer still counts as pending work.
    pub timer_armed: std::sync::atomic::AtomicBool,
}

pub enum CombineKind {
    All,
    Any,
    /// 限时等待: part 0 is the task; the timer completes the future with E6004.
    Timeout,
}

struct CombineState {
    results: Vec<Option<Value>>,
    remaining: usize,
    done: bool,
}

impl Combiner {
    pub fn new(kind: CombineKind, future: Arc<Task>, parts: Vec<Arc<Task>>) -> Arc<Combiner> {
        let n = parts.len();
        Arc::new(Combiner {
            kind,
            future,
            parts,
            state: Mutex::new(CombineState {
                results: vec![None; n],
                remaining: n,
                done: false,
            }),
            timer_armed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Registers with every part (or takes the endings of those already finished).
    pub fn start(self: &Arc<Combiner>, sched: &Scheduler, local: Option<&Local>) {
        // 全部等待 over parts that already failed: the one that failed first in time
        // decides, not the first in the list (QI-LANGUAGE.md §11).
        if matches!(self.kind, CombineKind::All) {
            let first_failure = self
                .parts
                .iter()
                .enumerate()
                .filter_map(|(i, p)| match &p.state().lock().ending {
                    Some(Ending::Error(f)) => Some((i, p, f.seq)),
                    _ => None,
                })
                .min_by_key(|&(_, _, seq)| seq);
            if let Some((i, part, _)) = first_failure {
                let ending = {
                    let st = part.state().lock();
                    part.mark_observed();
                    st.ending.clone()
                };
                if let Some(e) = ending {
                    self.on_ending(sched, i, &e, local);
                    return;
                }
            }
        }
        for (i, part) in self.parts.iter().enumerate() {
            let ending = {
                let mut guard = part.state().lock();
                let st = &mut *guard;
                match &st.ending {
                    Some(e) => {
                        part.mark_observed();
                        Some(e.clone())
                    }
                    None => {
                        st.awaiters.push(Awaiter::Combine(self.clone(), i));
                        None
                    }
                }
            };
            if let Some(e) = ending {
                self.on_ending(sched, i, &e, local);
            }
        }
    }

    /// Part `index` finished with `ending`.
    pub fn on_ending(
        &self,
        sched: &Scheduler,
        index: usize,
        ending: &Ending,
        local: Option<&Local>,
    ) {
        let outcome = {
            let mut st = self.state.lock();
            if st.done {
                return;
            }
            match (&self.kind, ending) {
                (CombineKind::All, Ending::Value(v)) => {
                    st.results[index] = Some(v.clone());
                    st.remaining -= 1;
                    if st.remaining > 0 {
                        return;
                    }
                    st.done = true;
                    let items = st
                        .results
                        .iter_mut()
                        .map(|r| r.take().unwrap_or(Value::NIL))
                        .collect();
                    Ending::Value(Value::new(ListObj::new(items)))
                }
                // The first error in time wins (and cancels the rest); for 任一等待 and
                // 限时等待 the first ending of any kind does.
                (_, e) => {
                    st.done = true;
                    if let Ending::Error(f) = e {
                        super::task::extend_stack(
                            &f.value,
                            self.parts[index].created_line().into_iter().collect(),
                        );
                    }
                    e.clone()
                }
            }
        };
        sched.reactor.retire_flag(&self.timer_armed);
        for (i, part) in self.parts.iter().enumerate() {
            if i != index {
                cancel(sched, part, local);
            }
        }
        sched.complete(&self.future, outcome, local);
    }

    /// 限时等待's timer: E6004, and the task is cancelled.
    pub fn time_out(&self, sched: &Scheduler, local: Option<&Local>) {
        {
            let mut st = self.state.lock();
            if st.done {
                return;
            }
            st.done = true;
        }
        for part in &self.parts {
            cancel(sched, part, local);
        }
        sched.complete(
            &self.future,
            Ending::error(error_value(Code::E6004, ""), None),
            local,
        );
    }
}

/// `t.取消()`: E6005 at the task's next suspension point (now, if it is parked).
pub fn cancel(sched: &Scheduler, task: &Arc<Task>, local: Option<&Local>) {
    if task.is_finished() {
        return;
    }
    task.flags()
        .cancelled
        .store(true, std::sync::atomic::Ordering::SeqCst);
    task.flags()
        .cancel
        .store(true, std::sync::atomic::Ordering::SeqCst);
    // Parked: wake it with E6005. Running (the lock is held): it sees the flag at its next
    // suspension point — the worker checks after parking, and at every budget yield.
    let (parked_on, codeless) = match task.exec().try_lock() {
        Some(exec) => (
            exec.parked.map(|_| task.wait.generation()),
            exec.root.is_none(),
        ),
        None => (None, false),
    };
    // Claimed only if it is still the wait it was parked on (outside the lock: a waker
    // needs it to deliver in place).
    if let Some(generation) = parked_on {
        deliver_cancel(sched, WaitToken::new(task.clone(), generation), local);
    }
    // A future without code (a combination, a timer) just ends cancelled.
    if codeless {
        sched.complete(task, Ending::error(cancellation(), None), local);
    }
}

/// Whether a value is a list of tasks (for 全部等待/任一等待).
pub fn task_list(v: &Value) -> Option<Vec<Arc<Task>>> {
    let l = v.as_obj::<ListObj>()?;
    l.snapshot().iter().map(|t| t.to_arc::<Task>()).collect()
}
