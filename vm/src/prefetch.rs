//! Asking the processor for memory before it is needed.
//!
//! With two workers, a spawned task's memory is written by the spawner, run and emptied by
//! another worker, and handed back to the spawner in a batch (`sched::recycle`). Each of
//! its cache lines then sits in the other core's cache, and the first touch of each one
//! waits for it to come over. Those waits were the hottest instructions of a two-worker
//! spawn loop; asking for the next task's lines one spawn ahead lets them overlap the
//! current spawn's work.

/// Asks for the cache line holding `addr`, to be written soon. Any address will do: a
/// prefetch never faults and changes nothing a program can observe.
#[inline(always)]
pub fn for_write(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHW is a hint: it reads nothing into the program, never faults (not
    // even on an unmapped address) and has no effect but on caches. Processors without
    // it run the encoding as a no-op.
    unsafe {
        std::arch::asm!("prefetchw [{}]", in(reg) addr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// [`for_write`] for every cache line of `len` bytes at `addr`.
#[inline(always)]
pub fn range_for_write(addr: usize, len: usize) {
    const LINE: usize = 64;
    let end = addr.saturating_add(len);
    let mut line = addr & !(LINE - 1);
    while line < end {
        for_write(line);
        line = line.saturating_add(LINE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prefetching changes nothing, whatever the address: a live block, a null pointer,
    /// the top of the address space.
    #[test]
    fn prefetching_any_address_is_harmless() {
        let block = [7u8; 200];
        range_for_write(block.as_ptr() as usize, block.len());
        for_write(0);
        for_write(usize::MAX - 63);
        range_for_write(usize::MAX - 200, 100);
        assert!(block.iter().all(|&b| b == 7));
    }
}
