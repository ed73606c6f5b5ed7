//! A fiber: one thread of Qi execution — registers, frames and error handlers. The main
//! program, each task and each 协程 run on their own fiber.

use crate::interp::frame::{Frame, RegStack};
use crate::value::Value;

/// An active `尝试`: where to go when something is thrown.
#[derive(Clone, Copy, Debug)]
pub struct Handler {
    /// Index of the frame that pushed it.
    pub frame: u32,
    /// Where the handler code starts.
    pub pc: u32,
    /// The register that receives the thrown value.
    pub reg: u16,
}

pub struct Fiber {
    pub stack: RegStack,
    pub frames: Vec<Frame>,
    pub handlers: Vec<Handler>,
    /// Values that keep entry frames' closures alive (frame invariant 3).
    pub keep: Vec<Value>,
}

impl Fiber {
    /// A fiber whose first register segment holds `regs` registers.
    pub fn new(regs: usize) -> Fiber {
        Fiber {
            stack: RegStack::new(regs),
            frames: Vec::new(),
            handlers: Vec::new(),
            keep: Vec::new(),
        }
    }

    pub fn depth(&self) -> usize {
        self.frames.len()
    }
}
