//! 通道: a FIFO between tasks, buffered or unbuffered (QI-LANGUAGE.md §7.3).
//!
//! The operations never block here: they complete, or report that the caller must park
//! (and then register a waiter under the same lock, so no wake-up can be lost). Waiters
//! are wait tokens; a wait that is over (woken through another `选择` case, cancelled) is
//! skipped and dropped when met. A waiter woken here gets its wake-up in place
//! (`Scheduler::put_wake`) under this lock; the caller schedules it after.

use std::collections::VecDeque;
use std::num::NonZeroU16;

use crate::sched::Scheduler;
use crate::sched::wait::{WaitToken, Wake};
use crate::spin::SpinLock;
use crate::value::Value;

/// A `选择` case's index, kept plus one so that "no case" is 0: it rides in the waiter's
/// token (`WaitToken::note`), and a receive waiter is 16 bytes — a million tasks parked on
/// one channel are a million of them. (A `选择` has at most one case per register of its
/// function, and registers are numbered in 16 bits: its case numbers fit.)
#[derive(Clone, Copy, Debug)]
pub struct CaseIndex(NonZeroU16);

impl CaseIndex {
    pub fn new(i: usize) -> Option<CaseIndex> {
        u16::try_from(i + 1)
            .ok()
            .and_then(NonZeroU16::new)
            .map(CaseIndex)
    }

    pub fn get(self) -> usize {
        self.0.get() as usize - 1
    }

    fn of(token: &WaitToken) -> Option<CaseIndex> {
        NonZeroU16::new(token.note()).map(CaseIndex)
    }
}

/// A task waiting to receive. (A `对于` loop over the channel is told by its resume point,
/// not here: a closed channel wakes every receiver with `Wake::End`.)
pub struct RecvWaiter {
    pub token: WaitToken,
}

impl RecvWaiter {
    /// `case`: the `选择` case, if the wait is part of one.
    pub fn new(token: WaitToken, case: Option<CaseIndex>) -> RecvWaiter {
        RecvWaiter {
            token: token.with_note(case.map_or(0, |c| c.0.get())),
        }
    }

    fn case(&self) -> Option<CaseIndex> {
        CaseIndex::of(&self.token)
    }
}

/// The tasks waiting to send, each with its value: the tokens and the values in two queues
/// kept in step. (As one queue of 32-byte waiters, a parking send built its waiter on the
/// stack and copied it in with 16-byte loads, which the processor could not forward from
/// the 8-byte stores just before them; a 16-byte token or value goes in from registers.)
///
/// The first sender is kept apart while no other waits, as an unbuffered channel's one
/// sender mostly is: its token and value go in and out in place, without the deques' wrap
/// and growth checks. It is set only while the queues are empty and taken before them, so
/// it is always the oldest.
#[derive(Default)]
pub struct SendQueue {
    first: Option<WaitToken>,
    /// `first`'s value (空 while there is none).
    first_value: Value,
    tokens: VecDeque<WaitToken>,
    values: VecDeque<Value>,
}

impl SendQueue {
    /// Queues a sender of `value`; `case`: the `选择` case, if the wait is part of one.
    #[inline(always)]
    pub fn push_back(&mut self, token: WaitToken, case: Option<CaseIndex>, value: Value) {
        self.push_noted(token.with_note(case.map_or(0, |c| c.0.get())), value);
    }

    /// `push_back` of a token that carries its note (its `选择` case) already.
    #[inline(always)]
    fn push_noted(&mut self, token: WaitToken, value: Value) {
        if self.first.is_none() && self.tokens.is_empty() {
            self.first = Some(token);
            self.first_value = value;
        } else {
            self.tokens.push_back(token);
            self.values.push_back(value);
        }
    }

    /// The first sender and its value, taken out.
    #[inline(always)]
    pub fn pop_front(&mut self) -> Option<(WaitToken, Value)> {
        if let Some(token) = self.first.take() {
            return Some((token, self.first_value.take()));
        }
        let token = self.tokens.pop_front()?;
        Some((token, self.values.pop_front().unwrap_or(Value::NIL)))
    }

    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none() && self.tokens.is_empty()
    }

    pub fn tokens(&self) -> impl Iterator<Item = &WaitToken> {
        self.first.iter().chain(self.tokens.iter())
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        let first = self.first.as_ref().map(|_| &self.first_value);
        first.into_iter().chain(self.values.iter())
    }

    /// The values, taken out of their places (空 left behind), for the collector to cut.
    pub fn take_values(&mut self) -> impl Iterator<Item = Value> + '_ {
        let first = self.first.as_ref().map(|_| self.first_value.take());
        first
            .into_iter()
            .chain(self.values.iter_mut().map(Value::take))
    }

    /// Every sender and its value, taken out.
    pub fn drain(&mut self) -> impl Iterator<Item = (WaitToken, Value)> + '_ {
        let first = self.first.take().map(|t| (t, self.first_value.take()));
        first
            .into_iter()
            .chain(self.tokens.drain(..).zip(self.values.drain(..)))
    }

    /// Drops the senders whose waits are over.
    fn drop_fired(&mut self) {
        let live: Vec<(WaitToken, Value)> = self.drain().filter(|(t, _)| !t.is_fired()).collect();
        for (token, value) in live {
            self.push_noted(token, value);
        }
    }
}

#[derive(Default)]
pub struct ChanInner {
    pub buf: VecDeque<Value>,
    pub closed: bool,
    pub recvq: VecDeque<RecvWaiter>,
    pub sendq: SendQueue,
}

pub struct ChannelObj {
    /// 0: unbuffered (a send waits for a receiver).
    pub capacity: usize,
    /// A spin lock: every section under it is a few queue operations (see [`SpinLock`]).
    pub inner: SpinLock<ChanInner>,
}

impl std::fmt::Debug for ChannelObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<通道 容量={}>", self.capacity)
    }
}

/// What an attempt to receive found.
pub enum Received {
    Value(Value),
    /// Closed and drained.
    Closed,
    /// Nothing yet: the caller must park.
    Empty,
}

/// What an attempt to send found.
pub enum Sent {
    Done,
    Closed,
    /// No room and no receiver: the caller must park.
    Full,
}

/// The tasks 关闭 woke, to schedule once the channel's lock is released. (A send or a
/// receive wakes at most one: it hands back an `Option` instead, which costs a hand-off
/// about a hundred instructions less than this vector did.)
pub type Woken = smallvec::SmallVec<[WaitToken; 2]>;

fn recv_wake(token: &WaitToken, v: Value) -> Option<Wake> {
    Some(match CaseIndex::of(token) {
        Some(i) => Wake::case(i.get(), v),
        None => Wake::Value(v),
    })
}

/// What a sender whose value was taken is woken with: a `选择`'s case, or nothing at all —
/// a plain send has no result to put anywhere, so its task is only scheduled, its
/// execution left alone (its next turn clears `TaskExec::parked`).
fn send_wake(token: &WaitToken) -> Option<Wake> {
    CaseIndex::of(token).map(|i| Wake::case(i.get(), Value::NIL))
}

/// A queue of waiters (`recvq`, `sendq`), as `claim_first` goes through it.
trait WaitQueue {
    fn front_token(&self) -> Option<&WaitToken>;
    fn drop_front(&mut self);
}

impl WaitQueue for VecDeque<RecvWaiter> {
    fn front_token(&self) -> Option<&WaitToken> {
        self.front().map(|w| &w.token)
    }

    fn drop_front(&mut self) {
        self.pop_front();
    }
}

impl WaitQueue for SendQueue {
    fn front_token(&self) -> Option<&WaitToken> {
        self.first.as_ref().or_else(|| self.tokens.front())
    }

    fn drop_front(&mut self) {
        if self.first.take().is_some() {
            self.first_value = Value::NIL;
        } else {
            self.tokens.pop_front();
            self.values.pop_front();
        }
    }
}

/// Claims the wait of the first waiter of `queue` that can still be woken, dropping the
/// stale ones before it (woken by a timer or a cancellation), and delivers it
/// `wake(token, payload)`, if that gives anything to deliver; the caller then takes it
/// out of the queue. `Err` gives `payload` back when no waiter is left. (Claimed where it
/// is queued: claiming a copy popped onto the stack read its token back before the copy's
/// stores had landed, a stalled load that was 4% of a channel ping-pong.)
#[inline(always)]
fn claim_first<Q: WaitQueue, P>(
    queue: &mut Q,
    sched: &Scheduler,
    payload: P,
    wake: impl FnOnce(&WaitToken, P) -> Option<Wake>,
) -> Result<(), P> {
    while let Some(front) = queue.front_token() {
        if let Some(claim) = sched.claim(front) {
            if let Some(wake) = wake(front, payload) {
                sched.put_wake(claim, wake);
            }
            return Ok(());
        }
        queue.drop_front();
    }
    Err(payload)
}

/// A waiter that another wait may still pair with: not woken yet, and not `own`'s task.
fn is_other(waiter: &WaitToken, own: &WaitToken) -> bool {
    !waiter.is_for(&own.task) && !waiter.is_fired()
}

impl ChanInner {
    /// Takes a value if one is available: from the buffer (refilled from a waiting sender)
    /// or straight from a waiting sender.
    /// `woken` gets the sender this woke, if any, to schedule once the lock is released.
    #[inline(always)]
    pub fn try_recv(&mut self, sched: &Scheduler, woken: &mut Option<WaitToken>) -> Received {
        if let Some(v) = self.buf.pop_front() {
            // Room was made: the first live sender's value moves into the buffer.
            if claim_first(&mut self.sendq, sched, (), |t, ()| send_wake(t)).is_ok()
                && let Some((token, value)) = self.sendq.pop_front()
            {
                // The waiter's handle on the task moves on: no count change.
                *woken = Some(token);
                self.buf.push_back(value);
            }
            return Received::Value(v);
        }
        if claim_first(&mut self.sendq, sched, (), |t, ()| send_wake(t)).is_ok()
            && let Some((token, value)) = self.sendq.pop_front()
        {
            *woken = Some(token);
            return Received::Value(value);
        }
        if self.closed {
            Received::Closed
        } else {
            Received::Empty
        }
    }

    /// Whether a receive by the `选择` waiting with `own` may complete now. Its own send
    /// registered on this channel does not count: a 选择 never pairs with itself. (May:
    /// a sender's wait can be woken by its timer or a cancellation, which do not take this
    /// lock, between this check and the receive.)
    pub fn recv_ready(&self, own: &WaitToken) -> bool {
        !self.buf.is_empty() || self.closed || self.sendq.tokens().any(|t| is_other(t, own))
    }

    /// Hands `v` to a waiting receiver or buffers it; `woken` gets the receiver this
    /// woke, if any. (Inlined: its 32-byte result, returned through memory, was read back
    /// wider than it was written, a store-forwarding stall on every send.)
    #[inline(always)]
    pub fn try_send(
        &mut self,
        sched: &Scheduler,
        capacity: usize,
        v: Value,
        woken: &mut Option<WaitToken>,
    ) -> (Sent, Option<Value>) {
        if self.closed {
            return (Sent::Closed, Some(v));
        }
        let v = match claim_first(&mut self.recvq, sched, v, recv_wake) {
            Ok(()) => {
                *woken = self.recvq.pop_front().map(|r| r.token);
                return (Sent::Done, None);
            }
            Err(v) => v,
        };
        if self.buf.len() < capacity {
            self.buf.push_back(v);
            return (Sent::Done, None);
        }
        (Sent::Full, Some(v))
    }

    /// `recv_ready` for a send.
    pub fn send_ready(&self, capacity: usize, own: &WaitToken) -> bool {
        self.closed
            || self.buf.len() < capacity
            || self.recvq.iter().any(|r| is_other(&r.token, own))
    }

    /// Closes the channel: receivers waiting get 空 (or the end of their loop), senders
    /// waiting get E6007 (`closed_error` makes it).
    pub fn close(
        &mut self,
        sched: &Scheduler,
        woken: &mut Woken,
        closed_error: impl Fn() -> Value,
    ) {
        self.closed = true;
        for r in self.recvq.drain(..) {
            if let Some(claim) = sched.claim(&r.token) {
                // A `对于` loop ends; a plain receive gets 空.
                let wake = match r.case() {
                    Some(i) => Wake::case(i.get(), Value::NIL),
                    None => Wake::End,
                };
                sched.put_wake(claim, wake);
                woken.push(r.token);
            }
        }
        for (token, _) in self.sendq.drain() {
            if let Some(claim) = sched.claim(&token) {
                sched.put_wake(claim, Wake::Throw(closed_error()));
                woken.push(token);
            }
        }
    }

    /// Drops waiters whose waits are over, now and then, so a channel that a
    /// `选择` keeps registering on does not grow without bound.
    #[inline]
    pub fn prune(&mut self) {
        let n = self.recvq.len() + self.sendq.len();
        if n >= 32 && n.is_power_of_two() {
            self.drop_fired();
        }
    }

    #[cold]
    fn drop_fired(&mut self) {
        self.recvq.retain(|w| !w.token.is_fired());
        self.sendq.drop_fired();
    }
}

impl ChannelObj {
    pub fn new(capacity: usize) -> ChannelObj {
        ChannelObj {
            capacity,
            inner: SpinLock::new(ChanInner::default()),
        }
    }
}

impl Drop for ChannelObj {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        let items: Vec<Value> = inner
            .buf
            .drain(..)
            .chain(inner.sendq.drain().map(|(_, value)| value))
            .collect();
        crate::value::drop_queue::release(items);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sched::task::Task;

    /// A task waiting, and its token.
    fn waiting(id: u64) -> (Arc<Task>, WaitToken) {
        let task = Arc::new(Task::new(id, None, false, None));
        let (generation, _) = task.wait.begin();
        let token = WaitToken::new(task.clone(), generation);
        (task, token)
    }

    /// A waiter whose wait is over (woken by its timer or a cancellation).
    fn stale(id: u64) -> WaitToken {
        let (_, token) = waiting(id);
        assert!(token.claim().is_some());
        token
    }

    /// A receive passes over the senders whose waits are over, takes the first live
    /// one's value and wakes it, and leaves the rest queued.
    #[test]
    fn a_receive_takes_the_first_live_sender() {
        let sched = Scheduler::new(1, 100);
        let ch = ChannelObj::new(0);
        let mut inner = ch.inner.lock();
        let (first, live) = waiting(3);
        let (_, after) = waiting(4);
        inner.sendq.push_back(stale(2), None, Value::int(1));
        inner.sendq.push_back(live, None, Value::int(2));
        inner.sendq.push_back(after, None, Value::int(3));
        let mut woken = None;
        let got = match inner.try_recv(&sched, &mut woken) {
            Received::Value(v) => v.as_int(),
            _ => None,
        };
        assert_eq!(got, Some(2));
        assert!(woken.is_some_and(|t| t.is_for(&first)));
        assert_eq!(inner.sendq.len(), 1, "the one after it still waits");
        drop(sched.held_wakes.take(&first));
    }

    /// Dropping the senders whose waits are over keeps every live one with its own value,
    /// in order.
    #[test]
    fn pruning_keeps_each_sender_with_its_value() {
        let sched = Scheduler::new(1, 100);
        let ch = ChannelObj::new(0);
        let mut inner = ch.inner.lock();
        let mut live = Vec::new();
        for i in 0..32 {
            if i % 2 == 0 {
                inner.sendq.push_back(stale(i), None, Value::int(-1));
            } else {
                let (task, token) = waiting(i);
                inner.sendq.push_back(token, None, Value::int(i as i64));
                live.push(task);
            }
        }
        inner.prune();
        assert_eq!(inner.sendq.len(), 16);
        for (task, expected) in live.iter().zip((1..32).step_by(2)) {
            let mut woken = None;
            let got = match inner.try_recv(&sched, &mut woken) {
                Received::Value(v) => v.as_int(),
                _ => None,
            };
            assert_eq!(got, Some(expected));
            assert!(woken.is_some_and(|t| t.is_for(task)));
        }
        assert!(inner.sendq.is_empty());
    }

    /// The first sender, kept apart, and the ones queued behind it come out in the order
    /// they came, each with its value and its `选择` case, through any mix of pushes, pops
    /// and prunes (checked against a plain deque).
    #[test]
    fn senders_keep_their_order_values_and_cases() {
        let mut q = SendQueue::default();
        let mut model = std::collections::VecDeque::new();
        let mut keep = Vec::new();
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..3000u64 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            match rng % 7 {
                0..4 => {
                    let case = (i % 3 == 0)
                        .then(|| CaseIndex::new(i as usize % 5))
                        .flatten();
                    let (task, token) = waiting(i + 1);
                    keep.push(task);
                    q.push_back(token, case, Value::int(i as i64));
                    model.push_back((i + 1, i as i64, case.map(CaseIndex::get)));
                }
                4 | 5 => {
                    let got = q.pop_front().map(|(t, v)| {
                        let case = CaseIndex::of(&t).map(CaseIndex::get);
                        (t.task.id, v.as_int().unwrap_or(-1), case)
                    });
                    assert_eq!(got, model.pop_front());
                }
                _ => {
                    // Nothing has fired: pruning keeps every sender where it was.
                    q.drop_fired();
                }
            }
            assert_eq!(q.len(), model.len());
            let fronts = q.tokens().map(|t| t.task.id).collect::<Vec<_>>();
            assert_eq!(fronts, model.iter().map(|m| m.0).collect::<Vec<_>>());
            let values = q
                .values()
                .map(|v| v.as_int().unwrap_or(-1))
                .collect::<Vec<_>>();
            assert_eq!(values, model.iter().map(|m| m.1).collect::<Vec<_>>());
        }
    }

    /// A send passes over the receivers whose waits are over; with none live and no room
    /// it gets its value back.
    #[test]
    fn a_send_skips_receivers_whose_waits_are_over() {
        let sched = Scheduler::new(1, 100);
        let ch = ChannelObj::new(0);
        let mut inner = ch.inner.lock();
        inner.recvq.push_back(RecvWaiter::new(stale(2), None));
        let mut woken = None;
        let (sent, back) = inner.try_send(&sched, 0, Value::int(7), &mut woken);
        assert!(matches!(sent, Sent::Full));
        assert_eq!(back.and_then(|v| v.as_int()), Some(7));
        assert!(woken.is_none() && inner.recvq.is_empty());

        let (task, live) = waiting(3);
        inner.recvq.push_back(RecvWaiter::new(stale(4), None));
        inner.recvq.push_back(RecvWaiter::new(live, None));
        let (sent, back) = inner.try_send(&sched, 0, Value::int(8), &mut woken);
        assert!(matches!(sent, Sent::Done) && back.is_none());
        assert!(woken.is_some_and(|t| t.is_for(&task)));
        assert!(inner.recvq.is_empty());
        drop(sched.held_wakes.take(&task));
    }
}
