//! Heap accounting for the heap limit (E9002).
//!
//! The VM cannot see every allocation a script causes — a list's buffer grows inside
//! `Vec`, a string inside `String` — but the global allocator can. [`CountingAllocator`]
//! forwards to the system allocator and keeps, per thread, the bytes allocated minus the
//! bytes freed. Workers belong to one VM, so each worker hands its thread's change to its
//! VM's [`Meter`] after every turn; a task whose turn pushes the total past the limit is
//! stopped there. A host that wants a heap limit installs the allocator:
//!
//! ```ignore
//! #[global_allocator]
//! static 分配器: qi::计数分配器 = qi::计数分配器;
//! ```
//!
//! and the builder refuses a heap limit without it, rather than pretend to enforce one.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// The system allocator, counting bytes per thread.
pub struct CountingAllocator;

static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Bytes this thread allocated minus bytes it freed. `const`-initialised with no
    /// destructor, so touching it never allocates (which would recurse).
    static NET: Cell<i64> = const { Cell::new(0) };
}

#[inline]
fn count(delta: i64) {
    // `try_with`: during thread teardown the slot may be gone; that memory goes uncounted.
    let _ = NET.try_with(|n| n.set(n.get() + delta));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// bookkeeping touches only a thread-local integer and an atomic flag.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !INSTALLED.load(Ordering::Relaxed) {
            INSTALLED.store(true, Ordering::Relaxed);
        }
        count(layout.size() as i64);
        // SAFETY: the caller upholds `alloc`'s contract, which is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as i64);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as i64));
        // SAFETY: `ptr` came from this allocator with `layout`, as the caller promises.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as i64 - layout.size() as i64);
        // SAFETY: as for `dealloc` and `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Whether [`CountingAllocator`] is the process's global allocator (it has allocated).
pub fn counting_installed() -> bool {
    // Anything at all allocates before a VM is built; make sure of one allocation.
    drop(std::hint::black_box(Box::new(0u8)));
    INSTALLED.load(Ordering::Relaxed)
}

/// This thread's allocated-minus-freed bytes so far.
pub fn thread_net() -> i64 {
    NET.try_with(Cell::get).unwrap_or(0)
}

/// What a VM's scripts have used since the host's current request began.
#[derive(Default, Debug)]
pub struct Meter {
    /// Steps (calls and loop back-edges).
    pub steps: AtomicU64,
    /// Net heap bytes allocated by the VM's workers.
    pub heap: AtomicI64,
}

impl Meter {
    /// A new request starts from zero.
    pub fn reset(&self) {
        self.steps.store(0, Ordering::SeqCst);
        self.heap.store(0, Ordering::SeqCst);
    }
}
