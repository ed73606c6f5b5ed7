//! The channel instructions of QI-LANGUAGE.md §7: receive, send, and `选择`.
//!
//! A receive or send completes at once when it can; otherwise, where the task can park in
//! place (`Cx::park_waiter`), it registers the task with the channel under the lock it
//! already holds, and the interpreter leaves its loop with `BlockOp::Registered`.

use qi_bytecode::diagnostic::Code;
use qi_bytecode::opcode::{ChanAt, Instr};
use qi_bytecode::proto::{Constant, SelectCase};

use super::Cx;
use super::frame::Cursor;
use crate::native::{Exit, error};
use crate::object::{CellObj, ChannelObj, Received, RecvWaiter, Sent};
use crate::print::type_name;
use crate::sched::block::SelectArm;
use crate::value::{Tag, Value};

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
    /// It must wait, and cannot park in place (`Cx::park_waiter`): the caller makes the
    /// `BlockOp` (a send's value is still in its register).
    Wait,
    /// The task is registered with the channel for its wait of this generation
    /// (`BlockOp::Registered`).
    Parked(u64),
}

/// A receive that completes now, into `dst`, or — where the task can park in place
/// (`Cx::park_waiter`) — registers the task as a receiver under the same lock: the worker
/// then parks it without looking at the channel again.
pub fn recv_or_park(cx: &Cx<'_>, channel: &Value, dst: &mut Value) -> ChanStep {
    let Some(ch) = channel.as_obj::<ChannelObj>() else {
        return ChanStep::Closed;
    };
    let mut woken = None;
    let mut got = None;
    let mut inner = cx.sched.lock_channel(ch);
    let step = match inner.try_recv(cx.sched, &mut woken) {
        Received::Value(v) => {
            got = Some(v);
            ChanStep::Done
        }
        Received::Closed => ChanStep::Closed,
        Received::Empty => match cx.park_waiter() {
            Some(token) => {
                inner.prune();
                let generation = token.generation();
                inner.recvq.push_back(RecvWaiter::new(token, None));
                ChanStep::Parked(generation)
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
        cx.sched.woken(t, Some(cx.local));
    }
    step
}

/// `recv_or_park` from register `ch` into register `dst` of `cur`'s frame, which may be
/// the same register (the channel is then held by a clone while the value arrives).
/// (Inlined into the fast loop: called, it took the cursor through a copy on the stack,
/// and reading that copy back stalled on store forwarding — a receive loop over a
/// channel was 15% slower.)
#[inline(always)]
pub fn recv_into(cx: &Cx<'_>, mut cur: Cursor, ch: u16, dst: u16) -> ChanStep {
    if ch == dst {
        let channel = cur.r(ch).clone();
        return recv_or_park(cx, &channel, cur.r_mut(dst));
    }
    let here = cur;
    recv_or_park(cx, here.r(ch), cur.r_mut(dst))
}

/// A `Recv` instruction whose channel is a channel where `ins.c` says it is and can be
/// read in place (`channel_at`); `None` for anything else, which the full loop handles
/// (`recv_op_general`).
#[inline(always)]
pub fn recv_op(cx: &Cx<'_>, mut cur: Cursor, ins: Instr) -> Option<ChanStep> {
    if ins.c == ChanAt::Reg as u16 {
        if cur.r(ins.b).tag() != Tag::Channel {
            return None;
        }
        return Some(recv_into(cx, cur, ins.b, ins.a));
    }
    if ins.a == ins.b {
        return None;
    }
    let here = cur;
    let channel = channel_at(&here, ins.c, ins.b)?;
    if channel.tag() != Tag::Channel {
        return None;
    }
    Some(recv_or_park(cx, channel, cur.r_mut(ins.a)))
}

/// `recv_op` for any operand: a variable cell's value is copied out, and what is not a
/// channel is the error.
pub fn recv_op_general(cx: &Cx<'_>, mut cur: Cursor, ins: Instr) -> Result<ChanStep, Exit> {
    if let Some(step) = recv_op(cx, cur, ins) {
        return Ok(step);
    }
    let channel = channel_value(&cur, ins.c, ins.b);
    check_channel(&channel)?;
    Ok(recv_or_park(cx, &channel, cur.r_mut(ins.a)))
}

/// A `Send` instruction, as `recv_op`: `None` unless its channel can be read in place.
#[inline(always)]
pub fn send_op(cx: &Cx<'_>, cur: Cursor, ins: Instr) -> Option<ChanStep> {
    let channel = channel_at(&cur, ins.c, ins.a)?;
    if channel.tag() != Tag::Channel {
        return None;
    }
    Some(send_or_park(cx, channel, cur.r(ins.b).clone()))
}

/// `send_op` for any operand, as `recv_op_general`.
pub fn send_op_general(cx: &Cx<'_>, cur: Cursor, ins: Instr) -> Result<ChanStep, Exit> {
    if let Some(step) = send_op(cx, cur, ins) {
        return Ok(step);
    }
    let channel = channel_value(&cur, ins.c, ins.a);
    check_channel(&channel)?;
    Ok(send_or_park(cx, &channel, cur.r(ins.b).clone()))
}

/// The channel operand `operand` of a `Recv` or `Send`, where `at` ([`ChanAt`]) places it:
/// a register, or the fixed cell of a captured immutable binding, read in place — the
/// running closure (an upvalue) or register `operand` (a local's cell) keeps the cell
/// alive. `None` for a variable cell, whose value must be copied out under its lock
/// (`channel_value`), and for an operand that is not a cell.
#[inline(always)]
fn channel_at(cur: &Cursor, at: u16, operand: u16) -> Option<&Value> {
    let cell = match ChanAt::from_c(at)? {
        ChanAt::Reg => return Some(cur.r(operand)),
        ChanAt::Upval => &**cur.closure().upvalues.get(operand as usize)?,
        ChanAt::Cell => cur.r(operand).as_obj::<CellObj>()?,
    };
    cell.fixed_value()
}

/// The channel operand's value, copied (what the task keeps when it must wait).
pub fn channel_value(cur: &Cursor, at: u16, operand: u16) -> Value {
    match ChanAt::from_c(at) {
        Some(ChanAt::Upval) => cur
            .closure()
            .upvalues
            .get(operand as usize)
            .map_or(Value::NIL, |c| c.get()),
        Some(ChanAt::Cell) => match cur.r(operand).as_obj::<CellObj>() {
            Some(c) => c.get(),
            None => cur.r(operand).clone(),
        },
        _ => cur.r(operand).clone(),
    }
}

/// A send that completes now or registers the task as a sender, as `recv_or_park`.
/// `ChanStep::Closed` is the caller's E6007.
pub fn send_or_park(cx: &Cx<'_>, channel: &Value, value: Value) -> ChanStep {
    cx.shared.gc.stored(cx.local.index, channel, &value);
    let Some(ch) = channel.as_obj::<ChannelObj>() else {
        return ChanStep::Done;
    };
    let mut woken = None;
    let mut inner = cx.sched.lock_channel(ch);
    let (sent, back) = inner.try_send(cx.sched, ch.capacity, value, &mut woken);
    let step = match sent {
        Sent::Done => ChanStep::Done,
        Sent::Closed => ChanStep::Closed,
        Sent::Full => match cx.park_waiter() {
            Some(token) => {
                inner.prune();
                let generation = token.generation();
                inner
                    .sendq
                    .push_back(token, None, back.unwrap_or(Value::NIL));
                ChanStep::Parked(generation)
            }
            None => ChanStep::Wait,
        },
    };
    drop(inner);
    if let Some(t) = woken {
        cx.sched.woken(t, Some(cx.local));
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
    let got = ch.inner.lock().try_recv(cx.sched, &mut woken);
    if let Some(t) = woken {
        cx.sched.woken(t, Some(cx.local));
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
    let sent = ch
        .inner
        .lock()
        .try_send(cx.sched, ch.capacity, value, &mut woken);
    if let Some(t) = woken {
        cx.sched.woken(t, Some(cx.local));
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
