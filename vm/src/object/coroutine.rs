//! 协程: a computation driven by hand with 恢复 and 挂起 (QI-LANGUAGE.md §7.1).
//!
//! A coroutine owns a fiber while it is not running. Resuming it moves the fiber onto the
//! resuming task's chain; suspending moves it back. Its status is therefore where the fiber
//! is: here and never run, here after a suspension, on some task's chain, or gone.

use parking_lot::Mutex;

use crate::fiber::Fiber;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoStatus {
    /// 未开始
    New,
    /// 挂起
    Suspended,
    /// 运行中
    Running,
    /// 已结束
    Done,
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
}

pub struct CoState {
    pub status: CoStatus,
    /// The fiber, while the coroutine is not running.
    pub fiber: Option<Box<Fiber>>,
    /// While suspended: the register of the `挂起` that receives the next resume's value.
    pub resume_dest: u16,
}

pub struct CoroutineObj {
    pub state: Mutex<CoState>,
}

impl std::fmt::Debug for CoroutineObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<协程 {}>", self.status().name())
    }
}

impl CoroutineObj {
    pub fn new(fiber: Box<Fiber>) -> CoroutineObj {
        CoroutineObj {
            state: Mutex::new(CoState {
                status: CoStatus::New,
                fiber: Some(fiber),
                resume_dest: 0,
            }),
        }
    }

    pub fn status(&self) -> CoStatus {
        self.state.lock().status
    }
}
