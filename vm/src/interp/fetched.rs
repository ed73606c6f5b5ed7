//! The instruction the fast loop has just fetched, as one machine word whose operands are
//! taken out where they are used.
//!
//! Given an `Instr`, LLVM takes all four operands out at the dispatch, before the jump to
//! the operation's arm, because nearly every arm reads some of them: five registers live
//! across the jump. That left none for the cursor, whose `ip` and register base then lived
//! on the stack — a load and a store of `ip` on every instruction, each waiting for the
//! last. Here each operand is read out of the word behind an empty `asm!` that LLVM may not
//! move or merge, so the shifts stay in the arms and the word is all that crosses the jump.

use qi_bytecode::opcode::{Instr, Op};

/// An instruction, held as one word (see the module comment).
#[derive(Clone, Copy)]
pub struct Fetched {
    pub op: Op,
    word: u64,
}

impl Fetched {
    #[inline(always)]
    pub fn new(ins: Instr) -> Fetched {
        Fetched {
            op: ins.op,
            word: u64::from(ins.hint) << 8
                | u64::from(ins.a) << 16
                | u64::from(ins.b) << 32
                | u64::from(ins.c) << 48,
        }
    }

    /// The whole instruction, for the functions that take one.
    #[inline(always)]
    pub fn get(self) -> Instr {
        Instr {
            op: self.op,
            hint: self.hint(),
            a: self.a(),
            b: self.b(),
            c: self.c(),
        }
    }

    #[inline(always)]
    pub fn hint(self) -> u8 {
        self.bits_from(8) as u8
    }

    #[inline(always)]
    pub fn a(self) -> u16 {
        self.bits_from(16) as u16
    }

    #[inline(always)]
    pub fn b(self) -> u16 {
        self.bits_from(32) as u16
    }

    #[inline(always)]
    pub fn c(self) -> u16 {
        self.bits_from(48) as u16
    }

    /// B and C as one unsigned operand.
    #[inline(always)]
    pub fn bx(self) -> u32 {
        self.bits_from(32) as u32
    }

    /// The word from bit `shift` up, read where the caller stands (see `opaque`).
    #[inline(always)]
    fn bits_from(self, shift: u32) -> u64 {
        opaque(self.word) >> shift
    }

    /// B and C as one signed operand.
    #[inline(always)]
    pub fn sbx(self) -> i32 {
        self.bx() as i32
    }
}

/// `word`, which the compiler must take as unknown where this is called: it cannot move
/// the caller's use of it to where `word` was made, nor merge two such uses. Unlike
/// `std::hint::black_box`, it keeps the value in a register.
#[inline(always)]
pub(super) fn opaque(mut word: u64) -> u64 {
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    ))]
    // SAFETY: the template is empty: no instruction runs, no memory, stack or flag is
    // touched, and `word` comes back as it went in. (Not `pure`, so that LLVM treats each
    // one as a separate event and leaves it in its arm.)
    unsafe {
        std::arch::asm!("/* {0} */", inout(reg) word, options(nomem, nostack, preserves_flags));
    }
    word
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operand reads back as it was written, at the limits of its width.
    #[test]
    fn operands_read_back() {
        for (a, b, c, hint) in [
            (0, 0, 0, 0),
            (u16::MAX, 1, u16::MAX, 1),
            (7, u16::MAX, 0, 255),
        ] {
            let mut ins = Instr::new(Op::Add, a, b, c);
            ins.hint = hint;
            let f = Fetched::new(ins);
            assert_eq!(
                (f.op, f.a(), f.b(), f.c(), f.hint()),
                (Op::Add, a, b, c, hint)
            );
            assert!(f.get() == ins);
        }
        let jump = Fetched::new(Instr::with_sbx(Op::Jmp, 3, -70_000));
        assert_eq!((jump.a(), jump.sbx()), (3, -70_000));
        let load = Fetched::new(Instr::with_bx(Op::LoadConst, 1, 0x0001_0002));
        assert_eq!(load.bx(), 0x0001_0002);
    }
}
