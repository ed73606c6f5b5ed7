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

/// Whether `mi_malloc(size)` returns memory aligned for `layout` by itself.
fn plain(align: usize, size: usize) -> bool {
    align <= MALLOC_ALIGN && align <= size
}

// SAFETY: every block comes from mimalloc, aligned as `layout` asks (`plain` holds only
// where `mi_malloc`'s own alignment suffices; otherwise the aligned entry points are
// used), and is given back to `mi_free`, which takes blocks from either entry point.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
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
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (the `GlobalAlloc` contract).
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
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
}
