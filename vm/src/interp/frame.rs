//! Call frames and the register stack they point into. All raw-pointer access of the
//! interpreter lives here.
//!
//! # The register stack
//!
//! A fiber's registers live in *segments*: boxed slices that are never resized or moved
//! once allocated, so a frame can keep a raw pointer to its first register (and the JIT
//! tier will be able to do the same). A call whose frame does not fit in the rest of the
//! current segment moves its arguments to the start of the next segment, which is reused
//! or allocated with room to spare. The first segment is sized for the fiber's entry
//! function, so a parked task that never went deep stays small.
//!
//! # Invariants the unsafe code relies on
//!
//! 1. Every function that runs passed the bytecode verifier
//!    (`qi_bytecode::verify`): register operands are below `num_regs`, constant, upvalue and
//!    jump operands are in range, and the code ends in a return.
//! 2. A frame's `base` points at `num_regs` live `Value`s of one segment, and segments
//!    are freed only when the fiber is dropped.
//! 3. A frame's closure is kept alive by something the frame does not own: the caller's
//!    register holding the callee (calls put it at `R[A]`, below the callee's frame), the
//!    module's declarations (`CallDecl`), the receiver's type (methods), or the fiber's
//!    `keep` list (entry functions).
//! 4. Registers above the top frame's hold no heap value: returning clears a frame's
//!    registers, unless the function's registers provably hold only scalars whenever it
//!    returns (`qi_bytecode::kinds`; `FunctionInfo::scalar_frame`), which then stay.
//! 5. No code reads a register before writing it, so what a register above the top
//!    frame holds (空 or a left-over scalar) is never seen. The verifier proves it of
//!    every function (`qi_bytecode::assigned`); debug builds also fill given-up and new
//!    registers with a poison integer instead of 空, so that a VM path that broke it
//!    would show in the tests.

use qi_bytecode::opcode::Instr;
use thin_vec::ThinVec;

use crate::object::{Closure, FunctionInfo};
use crate::value::Value;

/// What happens when a frame returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// Write the result into the caller's `R[A]`.
    Call,
    /// A module's top-level code: mark the module run and give the module itself as the
    /// result of `导入`.
    ModuleInit,
    /// The bottom frame of a fiber: returning finishes the fiber.
    Entry,
}

/// One activation: a function running with its registers.
#[derive(Debug)]
pub struct Frame {
    pub closure: *const Closure,
    /// The function's code (cached from the closure: a call and a return would otherwise
    /// chase three pointers for it).
    pub code: *const Instr,
    pub base: *mut Value,
    /// Where the result goes (the caller's `R[A]`); null for an entry frame.
    pub ret: *mut Value,
    pub pc: u32,
    /// The segment `base` points into.
    pub seg: u32,
    /// The function's register count (cached, for clearing on return).
    pub num_regs: u16,
    pub kind: FrameKind,
    /// Returning need not clear the registers (`FunctionInfo::scalar_frame`).
    pub scalar: bool,
}

// SAFETY: the raw pointers point into the fiber's own segments and at closures kept alive
// per invariant 3; a fiber (with its frames) moves between threads only as a whole, while
// no thread is running it.
unsafe impl Send for Frame {}

impl Frame {
    /// A frame for `closure` at `base`, starting at pc 0.
    #[inline(always)]
    pub fn new(
        closure: &Closure,
        base: *mut Value,
        ret: *mut Value,
        seg: u32,
        kind: FrameKind,
    ) -> Frame {
        let info = &*closure.info;
        Frame {
            closure,
            code: info.code,
            base,
            ret,
            pc: 0,
            seg,
            num_regs: info.num_regs,
            kind,
            scalar: info.scalar_frame,
        }
    }

    /// The closure this frame runs.
    #[inline(always)]
    pub fn closure(&self) -> &Closure {
        // SAFETY: invariant 3.
        unsafe { &*self.closure }
    }

    pub fn info(&self) -> &FunctionInfo {
        &self.closure().info
    }

    /// Writes register `i` of this frame (a handler's error register).
    #[inline]
    pub fn set_reg(&self, i: u16, v: Value) {
        if i < self.num_regs {
            // SAFETY: invariant 2 (base has num_regs live values), checked bound.
            unsafe { *self.base.add(i as usize) = v };
        }
    }

    /// Writes register `i` of this frame and gives back what it held (空 where the frame
    /// has no such register, and `v` is dropped).
    #[inline]
    pub fn replace_reg(&self, i: u16, v: Value) -> Value {
        if i < self.num_regs {
            // SAFETY: invariant 2 (base has num_regs live values), checked bound.
            unsafe { std::mem::replace(&mut *self.base.add(i as usize), v) }
        } else {
            Value::NIL
        }
    }

    /// Register `i` of this frame, if it has one (tests look at what a wake-up wrote).
    #[cfg(test)]
    pub fn reg(&self, i: u16) -> Option<&Value> {
        // SAFETY: invariant 2 (base has num_regs live values), checked bound.
        (i < self.num_regs).then(|| unsafe { &*self.base.add(i as usize) })
    }

    /// Releases the registers of a frame that returned: clears them, unless the function
    /// is one whose registers hold only scalars when it returns (invariant 4).
    #[inline(always)]
    pub fn clear_on_return(&self) {
        if !self.scalar {
            self.clear_registers();
        }
    }

    /// Sets every register of this frame to 空 (it is being popped).
    #[inline]
    pub fn clear_registers(&self) {
        let n = self.num_regs as usize;
        // SAFETY: invariant 2.
        unsafe { clear(self.base, n) };
    }

    /// Where the frame is: the instruction before its saved pc (the one that failed, or
    /// the call it is waiting in).
    pub fn current_span(&self) -> qi_bytecode::source::Span {
        let spans = &self.info().proto.spans;
        let i = (self.pc as usize).saturating_sub(1);
        spans.get(i).copied().unwrap_or_default()
    }
}

/// The fiber's register memory.
pub struct RegStack {
    /// Segment 0, sized for the fiber's entry function. Most tasks never need another,
    /// so a parked task's registers are exactly this one allocation.
    first: Box<[Value]>,
    /// Segments 1…, allocated as calls go deeper.
    more: ThinVec<Box<[Value]>>,
}

/// Below this a new segment is not worth allocating: deep recursion would allocate too often.
const MIN_SEGMENT: usize = 256;

impl RegStack {
    /// A stack whose first segment holds `first` registers.
    pub fn new(first: usize) -> RegStack {
        RegStack {
            first: new_segment(first.max(1)),
            more: ThinVec::new(),
        }
    }

    fn segment(&self, s: usize) -> Option<&[Value]> {
        if s == 0 {
            Some(&self.first)
        } else {
            self.more.get(s - 1).map(|b| &**b)
        }
    }

    /// One past the last register of segment `s` (null if there is no such segment).
    /// (Without an `Option` in between: the fast loop works this out at every entry, and
    /// through `segment` it took two more tests of pointers that cannot be null.)
    #[inline]
    pub fn end_of(&self, s: u32) -> *const Value {
        let seg: &[Value] = if s == 0 {
            &self.first
        } else {
            match self.more.get(s as usize - 1) {
                Some(seg) => seg,
                None => return std::ptr::null(),
            }
        };
        seg.as_ptr_range().end
    }

    /// The first register of segment 0.
    pub fn bottom(&mut self) -> *mut Value {
        self.first.as_mut_ptr()
    }

    /// Where a callee frame of `need` registers can start, wanting `want` (in segment
    /// `seg`). Returns the base and its segment; when the frame moves to the next segment
    /// the caller must move the arguments there (see [`move_args`]).
    #[inline(always)]
    pub fn place(&mut self, seg: u32, want: *mut Value, need: usize) -> (*mut Value, u32) {
        let want_end = want as usize + need * std::mem::size_of::<Value>();
        // A frame starting at `want` lies inside the segment (the caller's registers do),
        // so only its end needs checking.
        if let Some(segment) = self.segment(seg as usize) {
            let end = segment.as_ptr() as usize + std::mem::size_of_val(segment);
            if want_end <= end {
                return (want, seg);
            }
        }
        self.place_in_next(seg, need)
    }

    #[cold]
    fn place_in_next(&mut self, seg: u32, need: usize) -> (*mut Value, u32) {
        let next = seg as usize + 1;
        let current = self.segment(seg as usize).map_or(0, <[Value]>::len);
        let fits = self.segment(next).is_some_and(|n| n.len() >= need);
        if !fits {
            let fresh = new_segment(need.max(current * 2).max(MIN_SEGMENT));
            if next - 1 < self.more.len() {
                self.more[next - 1] = fresh;
            } else {
                self.more.push(fresh);
            }
        }
        let base = self.more[next - 1].as_mut_ptr();
        (base, next as u32)
    }

    /// Every register of every segment (the cycle collector counts what they hold; a
    /// register above the top frame is 空, popped frames clear theirs).
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.first
            .iter()
            .chain(self.more.iter().flat_map(|s| s.iter()))
    }

    /// Makes this the stack that `RegStack::new(first)` makes: every register given up and
    /// no segment beyond the first, which is kept when it is big enough and not much bigger
    /// (a recycled task's, `sched::recycle`).
    pub fn reset(&mut self, first: usize) {
        if self.keep_first_only(first) {
            self.first.fill(GIVEN_UP);
        }
    }

    /// `reset` for a stack whose frames have all returned: no register holds a heap value
    /// then (invariant 4) and none is read before it is written (invariant 5), so in
    /// release builds nothing is written; debug builds still poison them, to keep a broken
    /// invariant 5 visible. (A two-worker spawn recycles every task through here: writing
    /// the registers was 27 instructions of each.)
    #[inline]
    pub fn reset_returned(&mut self, first: usize) {
        if self.keep_first_only(first) && cfg!(debug_assertions) {
            debug_assert!(self.first.iter().all(|v| !v.tag().is_heap()));
            self.first.fill(GIVEN_UP);
        }
    }

    /// Gives up every segment but the first, and the first too, for a new one of `first`
    /// registers (at least one), when it is too small or far too big. Whether the old first
    /// segment was kept, with what it holds.
    #[inline(always)]
    fn keep_first_only(&mut self, first: usize) -> bool {
        let first = first.max(1);
        self.more = ThinVec::new();
        if self.first.len() < first || self.first.len() > first.max(8) * 4 {
            self.first = new_segment(first);
            return false;
        }
        true
    }

    /// Makes the first segment hold at least `n` registers, for a fiber whose registers
    /// are all given up (a new or emptied one, `reset`).
    pub fn fit_first(&mut self, n: usize) {
        if self.first.len() < n {
            self.first = new_segment(n);
        }
    }

    /// Total registers allocated (for size tests and the task snapshot).
    pub fn capacity(&self) -> usize {
        self.first.len() + self.more.iter().map(|s| s.len()).sum::<usize>()
    }
}

fn new_segment(n: usize) -> Box<[Value]> {
    (0..n).map(|_| GIVEN_UP).collect()
}

/// What a register no frame uses holds: 空, or in debug builds a poison integer that a
/// read before a write (invariant 5) would make visible in any test.
#[cfg(not(debug_assertions))]
const GIVEN_UP: Value = Value::NIL;
#[cfg(debug_assertions)]
const GIVEN_UP: Value = Value::int(-7_777_777_777);

/// Moves `n` values from `from` to `to` (distinct segments), leaving 空 behind.
///
/// # Safety
/// Both ranges must be `n` live registers of the same fiber, and must not overlap.
pub unsafe fn move_args(from: *mut Value, to: *mut Value, n: usize) {
    for i in 0..n {
        // SAFETY: per the function's contract both pointers are valid for `n` values.
        unsafe { *to.add(i) = (*from.add(i)).take() };
    }
}

/// Sets `n` registers from `base` to 空, dropping what they held.
///
/// # Safety
/// `base` must point at `n` live registers.
pub unsafe fn clear(base: *mut Value, n: usize) {
    for i in 0..n {
        // SAFETY: per the contract.
        let slot = unsafe { &mut *base.add(i) };
        if slot.tag().is_heap() {
            drop(slot.take());
        }
        *slot = GIVEN_UP;
    }
}

/// The interpreter's view of the running frame: where the next instruction is, and the
/// registers.
///
/// Made from a frame by [`Cursor::load`]; its accessors are safe because of the module
/// invariants (verified bytecode, live segments, live closure). It is `Copy` and passed
/// by value, so the interpreter's own copy never has its address taken and can stay in
/// machine registers.
#[derive(Clone, Copy)]
pub struct Cursor {
    /// The next instruction.
    ip: *const Instr,
    regs: *mut Value,
    closure: *const Closure,
}

impl Cursor {
    /// A copy of `cur` read a field at a time. The fast loop starts from one its caller
    /// has just written field by field; copied whole, two of the fields were read with one
    /// wide load, which waits for both stores to retire instead of taking their values
    /// from the store buffer — a stall at every entry to the fast loop, that is at every
    /// task switch (6% of a channel ping-pong: 220 → 205 ms). The read of `regs` is
    /// opaque, so that it cannot be merged with the read of `ip`; it was
    /// `std::hint::black_box`, which put the pointer through memory, and with it LLVM
    /// allocated the fast loop's registers worse (fib(25): 62.5M → 65.2M instructions).
    #[inline(always)]
    pub fn reload(cur: &Cursor) -> Cursor {
        Cursor {
            ip: cur.ip,
            regs: cur
                .regs
                .map_addr(|addr| super::fetched::opaque(addr as u64) as usize),
            closure: cur.closure,
        }
    }

    /// # Safety
    /// `frame` must satisfy the module invariants (it is the top frame of a fiber).
    #[inline(always)]
    pub unsafe fn load(frame: &Frame) -> Cursor {
        Cursor {
            // SAFETY: a saved pc is always within the code (invariant 1).
            ip: unsafe { frame.code.add(frame.pc as usize) },
            regs: frame.base,
            closure: frame.closure,
        }
    }

    /// The cursor of a frame for `closure` just pushed at `base`, at its first instruction
    /// (what [`Cursor::load`] would give, without reading the frame back), or past its
    /// parameter checks when `checked` (the caller's arguments are proven to pass them).
    #[inline(always)]
    pub fn start(closure: &Closure, base: *mut Value, checked: bool) -> Cursor {
        let info = &*closure.info;
        let skip = if checked { info.checked_entry } else { 0 };
        Cursor {
            // SAFETY: `checked_entry` counts leading `CheckParam`s, and code never ends in
            // one (it ends in a return), so the instruction it points at exists.
            ip: unsafe { info.code.add(skip as usize) },
            regs: base,
            closure,
        }
    }

    /// The pc of the next instruction relative to `frame`'s code (the cursor's own
    /// frame): one subtraction, without going through the closure to the code.
    #[inline(always)]
    pub fn pc_in(&self, frame: &Frame) -> u32 {
        // SAFETY: the cursor was loaded from `frame` and `ip` stays inside that frame's
        // code (invariant 1), which starts at `frame.code`.
        (unsafe { self.ip.offset_from(frame.code) }) as u32
    }

    /// The pc of the next instruction, for saving into the frame.
    #[inline]
    pub fn pc(&self) -> u32 {
        let code = self.info().proto.code.as_ptr();
        // SAFETY: `ip` points into this function's code (invariant 1).
        (unsafe { self.ip.offset_from(code) }) as u32
    }

    #[inline(always)]
    pub fn fetch(&mut self) -> Instr {
        // SAFETY: invariant 1 keeps `ip` inside the code: every path ends in a return
        // and every jump target is in range.
        unsafe {
            let i = *self.ip;
            self.ip = self.ip.add(1);
            i
        }
    }

    /// Steps back onto the instruction just fetched (the fast loop hands it on).
    #[inline(always)]
    pub fn unfetch(&mut self) {
        // SAFETY: called only after a fetch, so `ip - 1` is inside the code.
        self.ip = unsafe { self.ip.sub(1) };
    }

    /// The instruction just fetched (the one running, or the one that failed).
    #[inline]
    pub fn prev(&self) -> Instr {
        // SAFETY: called only after a fetch, so `ip - 1` is inside the code.
        unsafe { *self.ip.sub(1) }
    }

    /// The instruction at `ip` without advancing (the `Jmp` after a test).
    #[inline(always)]
    pub fn peek(&self) -> Instr {
        // SAFETY: the verifier guarantees a `Jmp` follows every test instruction.
        unsafe { *self.ip }
    }

    /// Steps over the next instruction (the `Jmp` after a test that passed).
    #[inline(always)]
    pub fn skip(&mut self) {
        // SAFETY: as for `peek`; the instruction after that `Jmp` exists too, since
        // code never ends in a test.
        self.ip = unsafe { self.ip.add(1) };
    }

    /// Jumps relative to the next instruction.
    #[inline(always)]
    pub fn jump(&mut self, offset: i32) {
        // SAFETY: the verifier checked that every jump target is inside the code.
        self.ip = unsafe { self.ip.offset(offset as isize) };
    }

    #[inline(always)]
    pub fn r(&self, i: u16) -> &Value {
        // SAFETY: invariant 1 (i < num_regs) and 2 (base has num_regs live values).
        unsafe { &*self.regs.add(i as usize) }
    }

    #[inline(always)]
    pub fn r_mut(&mut self, i: u16) -> &mut Value {
        // SAFETY: as for `r`; `&mut self` makes the borrow unique.
        unsafe { &mut *self.regs.add(i as usize) }
    }

    #[inline(always)]
    pub fn set(&mut self, i: u16, v: Value) {
        *self.r_mut(i) = v;
    }

    /// Sets register `i` to a clone of `v`, unless it holds that very value already — a
    /// loop loading the same constant or built-in each time round — which then costs no
    /// count changes.
    #[inline(always)]
    pub fn set_clone(&mut self, i: u16, v: &Value) {
        if !self.r(i).same(v) {
            self.set(i, v.clone());
        }
    }

    /// `n` registers from `start`, as a slice (arguments for a native).
    #[inline(always)]
    pub fn slice(&self, start: u16, n: u16) -> &[Value] {
        // SAFETY: the verifier checks `start + n <= num_regs` for calls.
        unsafe { std::slice::from_raw_parts(self.regs.add(start as usize), n as usize) }
    }

    /// `slice`, to move the values out (a spawn's arguments, which only it reads).
    #[inline(always)]
    pub fn slice_mut(&mut self, start: u16, n: u16) -> &mut [Value] {
        // SAFETY: as for `slice`; `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.regs.add(start as usize), n as usize) }
    }

    /// A raw pointer to register `i` (a return slot or an argument base for a callee).
    #[inline(always)]
    pub fn ptr(&self, i: u16) -> *mut Value {
        // SAFETY: in bounds per invariant 1; only the address is computed.
        unsafe { self.regs.add(i as usize) }
    }

    #[inline(always)]
    pub fn closure(&self) -> &Closure {
        // SAFETY: invariant 3.
        unsafe { &*self.closure }
    }

    #[inline(always)]
    pub fn info(&self) -> &FunctionInfo {
        &self.closure().info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stack whose frames have all returned keeps a first segment that fits and is not
    /// much bigger, and replaces one that does not; no register holds a heap value after.
    #[test]
    fn a_returned_stack_keeps_a_segment_that_fits() {
        let mut stack = RegStack::new(8);
        let kept = stack.first.as_ptr();
        // What a frame whose registers hold only scalars leaves behind when it returns.
        stack.first[3] = Value::int(42);
        stack.reset_returned(8);
        assert_eq!(stack.first.as_ptr(), kept, "the segment is kept");
        assert!(stack.first.iter().all(|v| !v.tag().is_heap()));
        #[cfg(debug_assertions)]
        assert!(
            stack.first.iter().all(|v| v.same(&GIVEN_UP)),
            "debug builds poison"
        );

        stack.reset_returned(100);
        assert!(stack.first.len() >= 100, "too small: replaced");
        stack.reset_returned(2);
        assert!(stack.first.len() <= 32, "far too big: replaced");
        assert!(stack.first.iter().all(|v| !v.tag().is_heap()));
    }
}
