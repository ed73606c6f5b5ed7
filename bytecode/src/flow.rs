//! What the forward analyses over a function's bytecode share (`kinds`, `assigned`): where
//! control goes after an instruction, and one bit per register per instruction, merged by
//! intersection where paths meet.

use crate::opcode::{Instr, Op};

/// Where control goes when `ins` at `pc` completes without throwing, in code of `len`
/// instructions: the next instruction, and the other way it can go (a jump, or the
/// instruction after a test's `Jmp`). A handler's entry is reached only by a throw, so a
/// `PushHandler` just goes on.
pub fn successors(pc: usize, ins: Instr, len: usize) -> [Option<usize>; 2] {
    let next = (pc + 1 < len).then_some(pc + 1);
    let skip = (pc + 2 < len).then_some(pc + 2);
    match ins.op {
        Op::Return | Op::ReturnNil | Op::Throw | Op::MatchFail => [None, None],
        Op::Jmp | Op::Loop => [None, jump_target(pc, ins, len)],
        Op::JmpIf | Op::JmpIfNot | Op::ForLoop => [next, jump_target(pc, ins, len)],
        Op::IterNext | Op::ForPrep | Op::ForPrepIncl => [next, skip],
        op if op.is_test() => [next, skip],
        _ => [next, None],
    }
}

/// Where the jump of `ins` at `pc` lands, if inside the code.
pub fn jump_target(pc: usize, ins: Instr, len: usize) -> Option<usize> {
    let t = pc as i64 + 1 + ins.sbx() as i64;
    (t >= 0 && (t as usize) < len).then_some(t as usize)
}

pub fn insert(bits: &mut [u64], r: usize) {
    if let Some(w) = bits.get_mut(r / 64) {
        *w |= 1 << (r % 64);
    }
}

pub fn remove(bits: &mut [u64], r: usize) {
    if let Some(w) = bits.get_mut(r / 64) {
        *w &= !(1 << (r % 64));
    }
}

pub fn contains(bits: &[u64], r: usize) -> bool {
    bits.get(r / 64).is_some_and(|w| w >> (r % 64) & 1 == 1)
}

/// Removes every register from `r` up.
pub fn remove_from(bits: &mut [u64], r: usize) {
    for (i, w) in bits.iter_mut().enumerate() {
        let base = i * 64;
        if base >= r {
            *w = 0;
        } else if r < base + 64 {
            *w &= (1u64 << (r - base)) - 1;
        }
    }
}

/// The state before each instruction: `words` words of register bits each, and whether
/// any path reached it yet.
pub struct States {
    pub words: usize,
    bits: Vec<u64>,
    reached: Vec<bool>,
}

impl States {
    /// For `len` instructions and `regs` registers.
    pub fn new(len: usize, regs: usize) -> States {
        let words = regs.div_ceil(64).max(1);
        States {
            words,
            bits: vec![0; len * words],
            reached: vec![false; len],
        }
    }

    /// The state at `pc`, once reached.
    pub fn get(&self, pc: usize) -> Option<&[u64]> {
        if *self.reached.get(pc)? {
            self.bits.get(pc * self.words..(pc + 1) * self.words)
        } else {
            None
        }
    }

    /// Intersects `new` into the state at `pc` (the first arrival just takes it); whether
    /// the state changed, so that `pc` must be looked at again.
    pub fn merge(&mut self, pc: usize, new: &[u64]) -> bool {
        let Some(slot) = self.bits.get_mut(pc * self.words..(pc + 1) * self.words) else {
            return false;
        };
        if !self.reached[pc] {
            self.reached[pc] = true;
            slot.copy_from_slice(new);
            return true;
        }
        let mut changed = false;
        for (old, new) in slot.iter_mut().zip(new) {
            let merged = *old & new;
            changed |= merged != *old;
            *old = merged;
        }
        changed
    }
}
