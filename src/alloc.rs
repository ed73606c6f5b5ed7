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

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment every `mi_malloc` block of at least this size has (mimalloc's
/// `MI_MAX_ALIGN_SIZE`, 16 bytes on 64-bit targets); a smaller block is aligned to its
/// size rounded down to a power of two, so `align <= size` is asked for as well.
const MALLOC_ALIGN: usize = 16;

pub struct Mimalloc;

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
        // SAFETY: plain C calls; a null result is passed on as allocation failure.
        unsafe {
            if plain(layout.align(), layout.size()) {
                mi::mi_malloc(layout.size()) as *mut u8
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(layout.align(), layout.size()) {
                mi::mi_zalloc(layout.size()) as *mut u8
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
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
        unsafe {
            if plain(layout.align(), new_size) {
                mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
            } else {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
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
