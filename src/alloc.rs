//! The `qi` tool's allocator: mimalloc, through its C API.
//!
//! Tasks, frames and values are small and short-lived, and are often freed on another
//! worker than the one that made them; mimalloc handles both much better than glibc's
//! malloc (benches/tasks/run.sh: spawn). Embedders choose their own allocator.
//!
//! Why not the `mimalloc` crate's `MiMalloc`: it passes every request to
//! `mi_malloc_aligned`, also for the alignments `mi_malloc` gives anyway. When that finds
//! no free block ready, it takes its general path, which asks for `size + align - 1`
//! bytes, and a block that fills a size class exactly lands in the next class: a 48-byte
//! frame took 64 bytes, a 224-byte task 256. A million parked tasks took 503 bytes each
//! (benches/tasks/park.qi). So requests whose alignment `mi_malloc` already guarantees go
//! to `mi_malloc`, the rest to `mi_malloc_aligned`, as Rust's own `System` allocator
//! decides between `malloc` and `posix_memalign`.
//!
//! Blocks of [`DIRECT_MIN`] bytes and more (on Linux) are mapped straight from the kernel
//! and unmapped when freed (`direct`). mimalloc kept a freed block that size committed when
//! another thread than its owner freed it: a million tasks parked on one channel, whose
//! queue grows to 16 MiB, peaked 8 MiB higher in about one run in twenty-five — the old
//! 8 MiB buffer, freed by the other worker (mimalloc's statistics: 8 MiB more committed).
//! A block that size costs page faults far beyond a system call, and growing it is a
//! `mremap`, without a copy.
//!
//! When the operating system gives no more memory, the program ends with E9002 in Chinese
//! (`out_of_memory`) rather than with Rust's English message.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use qi_vm::vm::Shared;

use libmimalloc_sys as mi;

/// The alignment every `mi_malloc` block of at least this size has (mimalloc's
/// `MI_MAX_ALIGN_SIZE`, 16 bytes on 64-bit targets); a smaller block is aligned to its
/// size rounded down to a power of two, so `align <= size` is asked for as well.
const MALLOC_ALIGN: usize = 16;

pub struct Mimalloc;

/// The VM whose buffered output is written out before the program ends for want of
/// memory (`keep_output_of`).
static OUTPUT: OnceLock<Weak<Shared>> = OnceLock::new();

/// Has the output `vm` has buffered (打印 gathers up to 64 KiB when not on a terminal)
/// written out if the program runs out of memory.
pub fn keep_output_of(vm: &Arc<Shared>) {
    let _ = OUTPUT.set(Arc::downgrade(vm));
}

/// The operating system gave no more memory: the program ends with E9002 in Chinese, as
/// every error a user reads, instead of Rust's English message and a backtrace. Exit code
/// 1, as for any uncaught error. What the program printed is written out first, unless the
/// failing allocation was the output buffer's own (its lock is held then). The message is
/// put together without allocating.
#[cold]
#[inline(never)]
fn out_of_memory(size: usize) -> ! {
    static REPORTED: AtomicBool = AtomicBool::new(false);
    if REPORTED.swap(true, Ordering::SeqCst) {
        // Failing again while reporting (or on another thread meanwhile).
        std::process::abort();
    }
    if let Some(vm) = OUTPUT.get().and_then(Weak::upgrade) {
        vm.flush_idle();
    }
    let mut line = [0u8; 128];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        let n = bytes.len().min(line.len() - len);
        line[len..len + n].copy_from_slice(&bytes[..n]);
        len += n;
    };
    put("错误[E9002]：内存超限：操作系统无法再分配 ".as_bytes());
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = size;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    put(&digits[i..]);
    put(" 字节的内存\n".as_bytes());
    let _ = std::io::stderr().write_all(&line[..len]);
    std::process::exit(1);
}

/// `p`, unless it is null: then the program ends (`out_of_memory`).
#[inline(always)]
fn or_exit(p: *mut c_void, size: usize) -> *mut u8 {
    if p.is_null() {
        out_of_memory(size);
    }
    p as *mut u8
}

/// The smallest block mapped straight from the kernel (`direct`).
const DIRECT_MIN: usize = 4 << 20;

/// Whether a block of `size` bytes aligned to `align` is mapped straight from the kernel:
/// big enough, and aligned no further than a page. (Only on Linux, for `mremap`.)
fn is_direct(align: usize, size: usize) -> bool {
    cfg!(target_os = "linux") && size >= DIRECT_MIN && align <= direct::PAGE
}

/// Blocks mapped straight from the kernel: whole pages, given back when freed.
#[cfg(target_os = "linux")]
mod direct {
    use std::ffi::c_void;

    pub const PAGE: usize = 4096;

    /// `size` rounded up to whole pages. (A `Layout`'s size is at most `isize::MAX`, so
    /// this cannot overflow.)
    fn pages(size: usize) -> usize {
        size.div_ceil(PAGE) * PAGE
    }

    /// Fresh zeroed pages for `size` bytes, or null.
    pub fn map(size: usize) -> *mut c_void {
        // SAFETY: an anonymous private mapping at an address the kernel picks touches no
        // existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                pages(size),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        // Not huge pages, as for mimalloc's own memory (Cargo.toml: `no_thp`). Advice
        // only: its failure changes nothing.
        // SAFETY: `p` is the mapping just made, `pages(size)` long.
        unsafe { libc::madvise(p, pages(size), libc::MADV_NOHUGEPAGE) };
        p
    }

    /// Gives back the pages of a block `map` or `remap` made for `size` bytes.
    ///
    /// # Safety
    ///
    /// `p` is such a block, not used after this.
    pub unsafe fn unmap(p: *mut c_void, size: usize) {
        // SAFETY: the caller's promise: the whole mapping, by its own length.
        unsafe { libc::munmap(p, pages(size)) };
    }

    /// Grows or shrinks a block `map` made for `old` bytes to `new`, moving it if the
    /// kernel must; null if it cannot (the block is then untouched).
    ///
    /// # Safety
    ///
    /// `p` is such a block; on success it is not used after this.
    pub unsafe fn remap(p: *mut c_void, old: usize, new: usize) -> *mut c_void {
        // SAFETY: the caller's promise: the whole mapping, by its own length.
        let q = unsafe { libc::mremap(p, pages(old), pages(new), libc::MREMAP_MAYMOVE) };
        if q == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        q
    }
}

/// Never used off Linux (`is_direct` is false there).
#[cfg(not(target_os = "linux"))]
mod direct {
    use std::ffi::c_void;

    pub const PAGE: usize = 4096;

    pub fn map(_size: usize) -> *mut c_void {
        std::ptr::null_mut()
    }

    pub unsafe fn unmap(_p: *mut c_void, _size: usize) {}

    pub unsafe fn remap(_p: *mut c_void, _old: usize, _new: usize) -> *mut c_void {
        std::ptr::null_mut()
    }
}

/// Whether `mi_malloc(size)` returns memory aligned for `layout` by itself.
fn plain(align: usize, size: usize) -> bool {
    align <= MALLOC_ALIGN && align <= size
}

// SAFETY: a block of a layout `is_direct` admits is whole pages from `mmap` (aligned to a
// page, so to the layout's alignment) and goes back to `munmap` by the same layout's
// size, or is resized by `mremap`; whether a block is direct depends only on its layout,
// which the `GlobalAlloc` contract hands back unchanged, and `realloc` moves a block
// between the two kinds by allocating, copying and freeing. Every other block comes from
// mimalloc, aligned as `layout` asks (`plain` holds only where `mi_malloc`'s own alignment
// suffices; otherwise the aligned entry points are used), and is given back to `mi_free`,
// which takes blocks from either entry point.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_direct(layout.align(), layout.size()) {
            return or_exit(direct::map(layout.size()), layout.size());
        }
        // SAFETY: plain C calls.
        let p = unsafe {
            if plain(layout.align(), layout.size()) {
                mi::mi_malloc(layout.size())
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align())
            }
        };
        or_exit(p, layout.size())
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_direct(layout.align(), layout.size()) {
            // Fresh pages are zeroed.
            return or_exit(direct::map(layout.size()), layout.size());
        }
        // SAFETY: as in `alloc`.
        let p = unsafe {
            if plain(layout.align(), layout.size()) {
                mi::mi_zalloc(layout.size())
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align())
            }
        };
        or_exit(p, layout.size())
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout` (the `GlobalAlloc`
        // contract), so it is direct exactly when the layout says so.
        unsafe {
            if is_direct(layout.align(), layout.size()) {
                direct::unmap(ptr as *mut c_void, layout.size());
            } else {
                mi::mi_free(ptr as *mut c_void);
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let was_direct = is_direct(layout.align(), layout.size());
        let is_now_direct = is_direct(layout.align(), new_size);
        if was_direct && is_now_direct {
            // SAFETY: `ptr` is a direct block of `layout.size()` bytes (the contract).
            let q = unsafe { direct::remap(ptr as *mut c_void, layout.size(), new_size) };
            return or_exit(q, new_size);
        }
        if was_direct || is_now_direct {
            // Between the two kinds: a new block, the bytes both hold, the old one freed.
            // SAFETY: `new_size` with the old alignment is a valid layout (the contract);
            // `ptr` holds `layout.size()` bytes and the new block `new_size`; `ptr` is
            // freed with its own layout and not used after.
            unsafe {
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let q = self.alloc(new_layout);
                std::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new_size));
                self.dealloc(ptr, layout);
                return q;
            }
        }
        // SAFETY: `ptr` came from this allocator with `layout`; mimalloc keeps the
        // alignment it is asked for.
        let p = unsafe {
            if plain(layout.align(), new_size) {
                mi::mi_realloc(ptr as *mut c_void, new_size)
            } else {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align())
            }
        };
        or_exit(p, new_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every alignment up to a page, at sizes around each: the block is aligned, holds
    /// its size, and survives growing and shrinking.
    #[test]
    fn blocks_are_aligned_and_usable() {
        let a = Mimalloc;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 7, 8, 15, 16, 24, 48, 100, 224, 4096, 70_000] {
                let Ok(layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                // SAFETY: a non-zero size; each block is written within its size and
                // freed once, with its own layout.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    p.write_bytes(0xAB, size);
                    let q = a.realloc(p, layout, size * 3);
                    assert!(!q.is_null());
                    assert_eq!(q as usize % align, 0);
                    assert_eq!(*q.add(size - 1), 0xAB);
                    a.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                    let z = a.alloc_zeroed(layout);
                    assert!(!z.is_null());
                    assert_eq!(z as usize % align, 0);
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }

    /// Blocks past `DIRECT_MIN` are mapped pages: zeroed when asked, kept whole when
    /// they grow (in place or moved) and shrink, and moved between the two kinds with
    /// their bytes.
    #[test]
    fn big_blocks_are_mapped_and_keep_their_bytes() {
        let a = Mimalloc;
        let big = DIRECT_MIN + 100;
        // SAFETY: each block is written within its size and freed once, with the layout
        // it has then.
        unsafe {
            let layout = Layout::from_size_align(big, 8).unwrap();
            let z = a.alloc_zeroed(layout);
            assert!(!z.is_null());
            assert_eq!(z as usize % direct::PAGE, 0, "whole pages");
            assert!((0..big).step_by(4093).all(|i| *z.add(i) == 0));
            z.write_bytes(0x5A, big);
            // Grown (mremap), then shrunk below the threshold (back to mimalloc), then
            // grown past it again (mapped anew).
            let g = a.realloc(z, layout, 3 * big);
            assert!(!g.is_null());
            assert_eq!((*g, *g.add(big - 1)), (0x5A, 0x5A));
            g.add(big).write_bytes(0x33, 2 * big);
            let grown = Layout::from_size_align(3 * big, 8).unwrap();
            let s = a.realloc(g, grown, 1000);
            assert!(!s.is_null());
            assert!((0..1000).all(|i| *s.add(i) == 0x5A));
            let small = Layout::from_size_align(1000, 8).unwrap();
            let b = a.realloc(s, small, big);
            assert!(!b.is_null());
            assert!((0..1000).all(|i| *b.add(i) == 0x5A));
            a.dealloc(b, layout);
            // A page-aligned request is served directly; a larger alignment is not.
            let paged = Layout::from_size_align(big, 4096).unwrap();
            let p = a.alloc(paged);
            assert_eq!(p as usize % 4096, 0);
            a.dealloc(p, paged);
            let wide = Layout::from_size_align(big, 1 << 16).unwrap();
            let w = a.alloc(wide);
            assert_eq!(w as usize % (1 << 16), 0);
            a.dealloc(w, wide);
        }
    }
}
