//! Recursion down long chains of operators.
//!
//! The syntax tree nests one level per operator of a chain (`a + b + c …` folds to the
//! left, `a.f().g() …` nests its receivers), and every pass over it — resolving names,
//! inferring types, compiling — recurses once per level. Bracket and block nesting is
//! capped at 256 levels (QI-LANGUAGE.md §10), but a chain is not nesting in the language:
//! it may be thousands of operators long, which is deeper than a thread's stack can hold
//! (two megabytes, as on a worker thread, overflowed at about 1,000 terms in a debug
//! build). So the passes enter each level through [`deep`], which moves onto a fresh stack
//! segment when the current one runs low.

use std::cell::Cell;

/// How close to the end of the stack a level may start before a new segment is taken: more
/// than the deepest frames one level of any pass pushes.
const RED_ZONE: usize = 128 * 1024;

/// The size of each new segment.
const SEGMENT: usize = 4 * 1024 * 1024;

/// Levels this shallow need no check: the parser's nesting limit (256 levels of anything)
/// is known to fit a 2 MiB stack. Below it the stack is not even looked at, which on the
/// main thread would cost a read of `/proc/self/maps` (a tenth of hello world's start-up
/// instructions).
const UNCHECKED: u32 = 128;

thread_local! {
    /// How many levels `deep` has entered on this thread.
    static LEVEL: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` one level deeper, first moving to a new stack segment if the current one is
/// nearly used up.
#[inline]
pub fn deep<R>(f: impl FnOnce() -> R) -> R {
    let level = LEVEL.with(|l| {
        let level = l.get();
        l.set(level + 1);
        level
    });
    // Restores the level however `f` ends.
    struct Leave(u32);
    impl Drop for Leave {
        fn drop(&mut self) {
            LEVEL.with(|l| l.set(self.0));
        }
    }
    let _leave = Leave(level);
    if level < UNCHECKED {
        f()
    } else {
        stacker::maybe_grow(RED_ZONE, SEGMENT, f)
    }
}
