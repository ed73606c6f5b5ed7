//! A fiber: one thread of Qi execution — registers, frames and error handlers. The main
//! program, each task and each 协程 run on their own fiber.

use std::sync::Arc;

use crate::interp::frame::{Frame, RegStack};
use crate::object::Closure;
use crate::value::Value;
use thin_vec::ThinVec;

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
    pub handlers: ThinVec<Handler>,
    /// Values that keep entry frames' closures alive (frame invariant 3).
    pub keep: Keep,
}

/// The closure a fiber's entry frame runs, kept alive while the fiber lives (frame
/// invariant 3). A fiber has one entry frame at a time: `enter_entry` starts one only on a
/// fiber without frames (a new task's or coroutine's, a reused host fiber, task #1's
/// after its top level returned), so one word holds it, where a parked task once paid 32
/// bytes for a one-element vector and then 8 for a second field that no fiber used.
#[derive(Default)]
pub struct Keep(Option<Arc<Closure>>);

impl Keep {
    /// Keeps `c`, letting go of the closure of an entry frame that has returned.
    pub fn set(&mut self, c: Arc<Closure>) {
        self.0 = Some(c);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Closure>> {
        self.0.iter()
    }

    pub fn clear(&mut self) {
        self.0 = None;
    }

    /// The kept closure, which this fiber no longer keeps: only for a fiber whose frames
    /// have all returned.
    pub fn take(&mut self) -> Option<Arc<Closure>> {
        self.0.take()
    }
}

impl Fiber {
    /// A fiber whose first register segment holds `regs` registers.
    pub fn new(regs: usize) -> Fiber {
        // Most fibers are a task's or coroutine's single entry frame and closure: room for
        // exactly one frame, so a parked task allocates no more than it uses.
        Fiber {
            stack: RegStack::new(regs),
            frames: Vec::with_capacity(1),
            handlers: ThinVec::new(),
            keep: Keep::default(),
        }
    }

    /// Makes this fiber what `Fiber::new(regs)` would make, keeping its allocations where
    /// they fit (a recycled task's, `sched::recycle`). What it held is dropped here.
    pub fn reset(&mut self, regs: usize) {
        self.reset_frames();
        self.stack.reset(regs);
    }

    /// `reset` for a fiber whose frames have all returned (a task that ended with a value),
    /// whose registers need no emptying (`RegStack::reset_returned`).
    #[inline]
    pub fn reset_returned(&mut self, regs: usize) {
        debug_assert!(self.frames.is_empty());
        self.reset_frames();
        self.stack.reset_returned(regs);
    }

    /// No frames, handlers or kept closures; a frame vector grown deep is given up.
    #[inline(always)]
    fn reset_frames(&mut self) {
        if self.frames.capacity() > 16 {
            self.frames = Vec::with_capacity(1);
        } else {
            self.frames.clear();
        }
        self.handlers = ThinVec::new();
        self.keep.clear();
    }

    pub fn depth(&self) -> usize {
        self.frames.len()
    }
}

impl Fiber {
    /// Writes register `reg` of the top frame (a value arriving at a suspension point).
    #[inline]
    pub fn set_top_reg(&mut self, reg: u16, v: Value) {
        if let Some(f) = self.frames.last() {
            f.set_reg(reg, v);
        }
    }

    /// `set_top_reg` that gives back what the register held, for the caller to drop where
    /// it chooses.
    #[inline]
    pub fn replace_top_reg(&mut self, reg: u16, v: Value) -> Value {
        match self.frames.last() {
            Some(f) => f.replace_reg(reg, v),
            None => Value::NIL,
        }
    }

    /// Register `reg` of the top frame (tests look at what a wake-up wrote).
    #[cfg(test)]
    pub fn top_reg(&self, reg: u16) -> Option<&Value> {
        self.frames.last()?.reg(reg)
    }

    /// Back to the call that blocked (saved pc is just after it), to run it again.
    pub fn rewind_call(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.pc = f.pc.saturating_sub(1);
        }
    }

    /// At a `对于` loop's `IterNext` (saved pc on its exit `Jmp`): continue the loop.
    pub fn skip_exit_jump(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.pc += 1;
        }
    }

    /// At a `对于` loop's `IterNext`: leave the loop through its exit `Jmp`.
    pub fn take_exit_jump(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            let code = &f.info().proto.code;
            if let Some(j) = code.get(f.pc as usize) {
                let target = f.pc as i64 + 1 + j.sbx() as i64;
                if target >= 0 && (target as usize) < code.len() {
                    f.pc = target as u32;
                }
            }
        }
    }

    /// The stack of this fiber, innermost first (for reports and chained errors).
    pub fn stack_lines(&self) -> Vec<String> {
        crate::interp::stack_lines(&self.frames)
    }

    /// Where the top frame is (file and span of its current instruction).
    pub fn current_site(
        &self,
    ) -> Option<(
        std::sync::Arc<qi_bytecode::source::SourceFile>,
        qi_bytecode::source::Span,
    )> {
        let f = self
            .frames
            .iter()
            .rev()
            .find(|f| !f.info().proto.hidden)
            .or(self.frames.last())?;
        Some((f.info().proto.file.clone(), f.current_span()))
    }
}
