//! 协程: a computation driven by hand with 恢复 and 挂起 (QI-LANGUAGE.md §7.1).
//!
//! A coroutine owns a fiber while it is not running. Resuming it moves the fiber onto the
//! resuming task's chain; suspending moves it back. Its status is therefore where the fiber
//! is: here and never run, here after a suspension, on some task's chain, or gone.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::fiber::Fiber;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CoStatus {
    /// 未开始
    New = 0,
    /// 挂起
    Suspended = 1,
    /// 运行中
    Running = 2,
    /// 已结束
    Done = 3,
}

impl CoStatus {
    pub fn name(self) -> &'static str {
        match self {
            CoStatus::New => "未开始",
            CoStatus::Suspended => "挂起",
            CoStatus::Running => "运行中",
            CoStatus::Done => "已结束",
        }
    }

    fn from_bits(b: u8) -> CoStatus {
        match b & !BUSY {
            0 => CoStatus::New,
            1 => CoStatus::Suspended,
            2 => CoStatus::Running,
            _ => CoStatus::Done,
        }
    }
}

/// Set in the status while the cycle collector looks at the parked fiber.
const BUSY: u8 = 0x80;

/// What a coroutine keeps while it is not running.
struct Parked {
    fiber: Option<Box<Fiber>>,
    /// While suspended: the register of the `挂起` that receives the next resume's value.
    resume_dest: u16,
}

/// A coroutine: its status and, while it is not running, its fiber.
///
/// # The status is the lock
///
/// A resume and a suspension each used to lock and unlock a mutex: four atomic
/// read-modify-writes per round trip, a fifth of the time of a `恢复`/`挂起` loop. Instead
/// the status word says who may touch `parked`:
///
/// - New or Suspended: nobody. Whoever moves the status out of these with a
///   compare-and-swap — to Running ([`start`](Self::start)) or to itself with the BUSY bit
///   (the collector's [`with_parked`](Self::with_parked)) — owns `parked` until it stores
///   a status back with release ordering.
/// - Running: the one task running the fiber owns `parked`; it puts the fiber back and
///   stores Suspended ([`suspend`](Self::suspend)), or stores Done
///   ([`finish`](Self::finish)).
/// - Done: nothing is parked again.
///
/// Only one compare-and-swap can succeed from a given status, so the owner is unique, and
/// the acquire and release orderings order one owner's accesses before the next's. A
/// round trip is one compare-and-swap and one plain store.
pub struct CoroutineObj {
    status: AtomicU8,
    parked: UnsafeCell<Parked>,
}

// SAFETY: `parked` is only touched by the unique owner the status protocol above names,
// with acquire/release ordering between owners; the fiber inside is `Send`.
unsafe impl Sync for CoroutineObj {}

impl std::fmt::Debug for CoroutineObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<协程 {}>", self.status().name())
    }
}

impl CoroutineObj {
    pub fn new(fiber: Box<Fiber>) -> CoroutineObj {
        CoroutineObj {
            status: AtomicU8::new(CoStatus::New as u8),
            parked: UnsafeCell::new(Parked {
                fiber: Some(fiber),
                resume_dest: 0,
            }),
        }
    }

    pub fn status(&self) -> CoStatus {
        CoStatus::from_bits(self.status.load(Ordering::Acquire))
    }

    /// Takes ownership of `parked` if the status is New or Suspended, storing `to(status)`
    /// (Running, or the same status with BUSY). Gives the old status, or `Err` with the
    /// status that stopped it.
    fn acquire(&self, to: impl Fn(u8) -> u8) -> Result<u8, CoStatus> {
        loop {
            let s = self.status.load(Ordering::Acquire);
            if s & BUSY != 0 {
                // The collector is looking, for a moment.
                std::hint::spin_loop();
                continue;
            }
            match CoStatus::from_bits(s) {
                CoStatus::New | CoStatus::Suspended => {
                    let swapped = self.status.compare_exchange_weak(
                        s,
                        to(s),
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    if swapped.is_ok() {
                        return Ok(s);
                    }
                }
                other => return Err(other),
            }
        }
    }

    /// `恢复`: takes the fiber to run it, with the register that wants the resume's value
    /// if it was suspended (the first resume's value is ignored, QI-LANGUAGE.md §9). `Err`
    /// with the status when it cannot run: Running (E6002), or Done (E6001).
    pub fn start(&self) -> Result<(Box<Fiber>, Option<u16>), CoStatus> {
        let was = self.acquire(|_| CoStatus::Running as u8)?;
        // SAFETY: `acquire` made this thread the owner of `parked` (see the type's docs).
        unsafe { self.take_parked(was) }
    }

    /// `start` with a load and a store instead of a compare-and-swap, for a solo worker
    /// (`sched/solo.rs`): a `恢复`/`挂起` round trip then has no locked instruction.
    ///
    /// # Safety
    ///
    /// No other thread may change this coroutine's status while this runs.
    pub unsafe fn start_unshared(&self) -> Result<(Box<Fiber>, Option<u16>), CoStatus> {
        let was = self.status.load(Ordering::Relaxed);
        match CoStatus::from_bits(was) {
            // BUSY (the collector looking) is never seen here: the collector runs on
            // this thread too.
            CoStatus::New | CoStatus::Suspended if was & BUSY == 0 => {
                self.status
                    .store(CoStatus::Running as u8, Ordering::Relaxed);
                // SAFETY: the status moved out of New or Suspended, on the only thread
                // that changes it, so this thread owns `parked` (the type's docs).
                unsafe { self.take_parked(was) }
            }
            other => Err(other),
        }
    }

    /// The parked fiber, by the owner of `parked` that moved the status out of `was`.
    ///
    /// # Safety
    ///
    /// The caller owns `parked` (the type's docs).
    unsafe fn take_parked(&self, was: u8) -> Result<(Box<Fiber>, Option<u16>), CoStatus> {
        // SAFETY: the caller's promise.
        let parked = unsafe { &mut *self.parked.get() };
        match parked.fiber.take() {
            Some(fiber) => {
                let dest = (was == CoStatus::Suspended as u8).then_some(parked.resume_dest);
                Ok((fiber, dest))
            }
            None => {
                // The collector dropped it: the coroutine was garbage in a cycle.
                self.status.store(was, Ordering::Release);
                Err(CoStatus::Done)
            }
        }
    }

    /// `挂起` in the running coroutine: parks its fiber; the next resume's value goes to
    /// `dest`. Only the task that [`start`](Self::start)ed it calls this.
    pub fn suspend(&self, fiber: Box<Fiber>, dest: u16) {
        debug_assert_eq!(self.status(), CoStatus::Running);
        // SAFETY: the status is Running, so the caller, its runner, owns `parked`.
        let parked = unsafe { &mut *self.parked.get() };
        parked.fiber = Some(fiber);
        parked.resume_dest = dest;
        self.status
            .store(CoStatus::Suspended as u8, Ordering::Release);
    }

    /// The running coroutine returned or threw. Only its runner calls this.
    pub fn finish(&self) {
        self.status.store(CoStatus::Done as u8, Ordering::Release);
    }

    /// For the cycle collector: `f` on the parked fiber's slot, unless the coroutine is
    /// running or done.
    pub fn with_parked<R>(&self, f: impl FnOnce(&mut Option<Box<Fiber>>) -> R) -> Option<R> {
        let was = self.acquire(|s| s | BUSY).ok()?;
        // SAFETY: `acquire` made this thread the owner of `parked` until the store below.
        let r = f(unsafe { &mut (*self.parked.get()).fiber });
        self.status.store(was, Ordering::Release);
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[test]
    fn a_round_trip_passes_the_fiber_and_the_resume_register() {
        let co = CoroutineObj::new(Box::new(Fiber::new(1)));
        assert_eq!(co.status(), CoStatus::New);
        let Ok((fiber, dest)) = co.start() else {
            panic!("a new coroutine starts");
        };
        assert_eq!(dest, None);
        assert_eq!(co.status(), CoStatus::Running);
        assert!(matches!(co.start(), Err(CoStatus::Running)));
        assert_eq!(co.with_parked(|_| ()), None);
        co.suspend(fiber, 7);
        assert_eq!(co.status(), CoStatus::Suspended);
        assert_eq!(co.with_parked(|f| f.is_some()), Some(true));
        let Ok((_, dest)) = co.start() else {
            panic!("a suspended coroutine starts");
        };
        assert_eq!(dest, Some(7));
        co.finish();
        assert!(matches!(co.start(), Err(CoStatus::Done)));
    }

    /// The solo worker's start (a load and a store) follows the same protocol.
    #[test]
    fn an_unshared_start_passes_the_same_states() {
        let co = CoroutineObj::new(Box::new(Fiber::new(1)));
        // SAFETY (all three): this thread is the only one that sees `co`.
        let Ok((fiber, dest)) = (unsafe { co.start_unshared() }) else {
            panic!("a new coroutine starts");
        };
        assert_eq!((dest, co.status()), (None, CoStatus::Running));
        assert!(matches!(
            unsafe { co.start_unshared() },
            Err(CoStatus::Running)
        ));
        co.suspend(fiber, 3);
        let Ok((_, dest)) = (unsafe { co.start_unshared() }) else {
            panic!("a suspended coroutine starts");
        };
        assert_eq!(dest, Some(3));
        co.finish();
        assert!(matches!(co.start(), Err(CoStatus::Done)));
    }

    #[test]
    fn a_fiber_the_collector_took_cannot_be_resumed() {
        let co = CoroutineObj::new(Box::new(Fiber::new(1)));
        co.with_parked(|f| f.take());
        assert!(matches!(co.start(), Err(CoStatus::Done)));
        assert_eq!(co.status(), CoStatus::New);
    }

    /// Threads race to resume one coroutine while another plays collector: at most one
    /// runs it at a time, and every resume and every look finds the fiber in place.
    #[test]
    fn only_one_thread_owns_the_fiber_at_a_time() {
        let co = Arc::new(CoroutineObj::new(Box::new(Fiber::new(1))));
        let running = Arc::new(AtomicUsize::new(0));
        let runs = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..4 {
            let (co, running, runs) = (co.clone(), running.clone(), runs.clone());
            threads.push(std::thread::spawn(move || {
                for _ in 0..20_000 {
                    match co.start() {
                        Ok((fiber, _)) => {
                            assert_eq!(running.fetch_add(1, Ordering::SeqCst), 0);
                            runs.fetch_add(1, Ordering::Relaxed);
                            running.fetch_sub(1, Ordering::SeqCst);
                            co.suspend(fiber, 1);
                        }
                        Err(s) => assert_eq!(s, CoStatus::Running),
                    }
                }
            }));
        }
        let looker = {
            let co = co.clone();
            std::thread::spawn(move || {
                for _ in 0..20_000 {
                    if let Some(present) = co.with_parked(|f| f.is_some()) {
                        assert!(present);
                    }
                }
            })
        };
        for t in threads {
            t.join().expect("no thread panicked");
        }
        looker.join().expect("the looker did not panic");
        assert!(runs.load(Ordering::Relaxed) > 0);
        assert_eq!(co.status(), CoStatus::Suspended);
    }
}
