//! The cycle collector.
//!
//! Reference counting frees almost everything the moment it is dropped. What it cannot
//! free is a cycle — and closures capture variables by reference, so cycles are routine:
//! a local function that calls itself, a struct holding a callback that names the struct,
//! a list that contains itself. This module finds and frees them.
//!
//! - **Suspects.** A cycle can only be closed by storing a reference into an object that
//!   already exists (a new object can only point at older ones). So every store of a
//!   container into a container — `列表.添加`, `a[i] = …`, `p.字段 = …`, assigning a
//!   captured variable, sending on a channel — records the receiving object as a suspect,
//!   by weak reference, so remembering it never delays a free.
//! - **Policy.** A collection runs when the suspects reach a threshold that grows with
//!   the live part of the last collection's graph (so the work spent re-examining live
//!   objects stays proportional to the stores that caused it), or after a volume of new
//!   containers. `QI_GC=off` turns it
//!   all off; `manual` records suspects but collects only when asked; `QI_GC=stress` collects at every safepoint that has suspects (for tests).
//! - **Collection.** With the world stopped ([`safepoint`]), trial deletion
//!   ([`collect`]) over what the suspects reach: anything held from outside that graph is
//!   alive with all it reaches; the rest is cut and freed by counting. A cycle found
//!   alive stays a suspect (one member of it, weakly): it can die later with no store at
//!   all, when its last outside reference — a register, say — goes away.
//!
//! Dropping never recurses on the Rust stack (`value::drop_queue`), so freeing a
//! million-long chain found this way is as safe as dropping one.

pub mod collect;
pub mod safepoint;
pub mod trace;

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::sched::Scheduler;
use crate::value::{Value, WeakValue};

/// When to collect (`QI_GC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcMode {
    Off,
    Auto,
    /// Record suspects but collect only when asked (`Vm::collect_garbage`, `__回收()`):
    /// for hosts that pick their own moments, and for measuring pauses.
    Manual,
    /// Collect at every safepoint that has suspects.
    Stress,
}

impl GcMode {
    /// From `QI_GC` (`off`, `auto`, `stress`); `auto` when unset or unknown.
    pub fn from_env() -> GcMode {
        match std::env::var("QI_GC").as_deref().map(str::trim) {
            Ok("off" | "关") => GcMode::Off,
            Ok("manual" | "手动") => GcMode::Manual,
            Ok("stress" | "压力") => GcMode::Stress,
            _ => GcMode::Auto,
        }
    }
}

/// Counters since the VM started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcStats {
    pub collections: u64,
    /// Objects found to be garbage and freed.
    pub freed: u64,
    /// Objects examined, over all collections.
    pub scanned: u64,
    pub total_pause: Duration,
    pub max_pause: Duration,
}

/// The fewest suspects that start a collection in `auto` mode.
const MIN_THRESHOLD: usize = 1_024;
/// New containers between collections, at most, while there are suspects.
const ALLOCATION_VOLUME: u64 = 1_000_000;
/// Suspect lists, one per worker (and one shared by host threads), so recording one
/// rarely contends.
const SHARDS: usize = 16;

pub struct Gc {
    pub mode: GcMode,
    shards: Box<[Mutex<Vec<WeakValue>>]>,
    suspects: AtomicUsize,
    /// Live cycles the last collection found: examined again next time, but not
    /// counted towards starting it.
    cycles: Mutex<Vec<WeakValue>>,
    /// New suspects collected since the live cycles were last examined: they are
    /// examined again once this reaches their number, so re-examining them costs O(1)
    /// per new suspect (and at every allocation-volume or explicit collection).
    since_full: AtomicUsize,
    threshold: AtomicUsize,
    /// Containers made since the last collection (counted per thread, added in batches).
    allocated: AtomicU64,
    stats: Mutex<GcStats>,
}

/// Bumped by every collection in the process. While a suspect's weak reference sits in
/// a list, its address cannot be reused, so (epoch, address) names one object: the
/// thread's last suspect can be skipped within an epoch, and never across one.
static EPOCH: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The last object this thread recorded, with the epoch it was recorded in: a loop
    /// storing into one list records it once per collection.
    static LAST: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// Containers this thread made and has not yet added to a VM's count.
    static MADE: Cell<u64> = const { Cell::new(0) };
}

/// Counts a new container (called from `Value::new` for traced types).
#[inline]
pub fn made_container() {
    MADE.with(|m| m.set(m.get() + 1));
}

impl Gc {
    pub fn new(mode: GcMode) -> Gc {
        Gc {
            mode,
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
            suspects: AtomicUsize::new(0),
            cycles: Mutex::new(Vec::new()),
            since_full: AtomicUsize::new(0),
            threshold: AtomicUsize::new(MIN_THRESHOLD),
            allocated: AtomicU64::new(0),
            stats: Mutex::new(GcStats::default()),
        }
    }

    /// `value` was stored into `container` (by worker or host slot `shard`): if that
    /// can close a cycle, remember `container`.
    #[inline]
    pub fn stored(&self, shard: usize, container: &Value, value: &Value) {
        if self.mode == GcMode::Off || !trace::is_traced(value.tag()) {
            return;
        }
        self.suspect(shard, container);
    }

    /// `stored`, with the container made only when it is needed (a task's handle costs
    /// two atomic operations to make and drop, and most tasks end with a scalar).
    #[inline]
    pub fn stored_lazily(&self, shard: usize, container: impl FnOnce() -> Value, value: &Value) {
        if self.mode == GcMode::Off || !trace::is_traced(value.tag()) {
            return;
        }
        self.suspect(shard, &container());
    }

    /// Remembers `v` as a possible member of a garbage cycle.
    pub fn suspect(&self, shard: usize, v: &Value) {
        if self.mode == GcMode::Off || !trace::is_traced(v.tag()) {
            return;
        }
        let key = (EPOCH.load(Ordering::Acquire), v.payload());
        if LAST.with(|l| l.replace(key)) == key {
            return;
        }
        let Some(weak) = WeakValue::new(v) else {
            return;
        };
        self.shards[shard % SHARDS].lock().push(weak);
        self.suspects.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether a worker between turns should collect now.
    pub fn due(&self) -> bool {
        let suspects = self.suspects.load(Ordering::Relaxed);
        match self.mode {
            GcMode::Off | GcMode::Manual => false,
            GcMode::Stress => suspects > 0,
            GcMode::Auto => suspects >= self.threshold.load(Ordering::Relaxed) || self.volume_due(),
        }
    }

    /// Enough new containers since the last collection, with suspects or live cycles to
    /// look at (cycles can die with no store at all).
    fn volume_due(&self) -> bool {
        // Added to the shared count in batches: this runs after every turn.
        let made = MADE.with(Cell::get);
        if made < 1024 {
            return false;
        }
        MADE.with(|m| m.set(0));
        let allocated = self.allocated.fetch_add(made, Ordering::Relaxed) + made;
        allocated >= ALLOCATION_VOLUME
            && (self.suspects.load(Ordering::Relaxed) > 0 || !self.cycles.lock().is_empty())
    }

    /// Collects because it is due (see [`Gc::due`]), from a worker between turns.
    pub fn collect_due(&self, sched: &Scheduler) -> Option<collect::Collected> {
        sched.stop_the_world(true, || self.collect_stopped(false))
    }

    /// A full collection (new suspects and every live cycle found before), from a thread
    /// that is not running Qi code (a host thread). A worker's collection under way (a
    /// due one, at the end of its round) is waited out, and this one runs after it: a
    /// host that asks for a collection gets one, not a report that nothing was freed.
    /// `None` once the scheduler has shut down.
    pub fn collect(&self, sched: &Scheduler) -> Option<collect::Collected> {
        loop {
            if let Some(c) = sched.stop_the_world(false, || self.collect_stopped(true)) {
                return Some(c);
            }
            if sched.is_shut_down() {
                return None;
            }
            std::thread::yield_now();
        }
    }

    /// A full collection when no scheduler runs at all (after a program ended).
    pub fn collect_alone(&self) -> collect::Collected {
        self.collect_stopped(true)
    }

    /// A full collection from inside a worker's turn (`__回收()`). The worker's own task
    /// is not traced while it runs (an unfinished task is a root), so the rest of the
    /// world stopping around it is enough.
    pub fn collect_from_turn(&self, sched: &Scheduler) -> Option<collect::Collected> {
        sched.stop_the_world(true, || self.collect_stopped(true))
    }

    fn collect_stopped(&self, full: bool) -> collect::Collected {
        {
            let start = Instant::now();
            let new = self.suspects.swap(0, Ordering::Relaxed);
            let mut suspects = Vec::with_capacity(new);
            for shard in self.shards.iter() {
                // `take`, not `append`: a burst of suspects must not leave its capacity
                // behind in every shard.
                suspects.extend(std::mem::take(&mut *shard.lock()));
            }
            let since = self.since_full.fetch_add(new, Ordering::Relaxed) + new;
            let volume = self.allocated.load(Ordering::Relaxed) >= ALLOCATION_VOLUME;
            let mut cycles = self.cycles.lock();
            let with_cycles = full || volume || since >= cycles.len();
            if with_cycles {
                suspects.extend(std::mem::take(&mut *cycles));
                self.since_full.store(0, Ordering::Relaxed);
            }
            drop(cycles);
            // The suspects' weak references go away below: addresses may be reused.
            EPOCH.fetch_add(1, Ordering::AcqRel);
            self.allocated.store(0, Ordering::Relaxed);
            let mut done = collect::collect(suspects);
            // Live cycles found now join those not examined this time.
            self.cycles.lock().append(&mut done.live_cycles);
            // Work wasted on live objects is what to amortise: the next collection waits
            // for as many suspects as this one found alive.
            let alive = done.scanned - done.freed;
            self.threshold
                .store(MIN_THRESHOLD.max(alive), Ordering::Relaxed);
            let pause = start.elapsed();
            let mut s = self.stats.lock();
            s.collections += 1;
            s.freed += done.freed as u64;
            s.scanned += done.scanned as u64;
            s.total_pause += pause;
            s.max_pause = s.max_pause.max(pause);
            done
        }
    }

    pub fn stats(&self) -> GcStats {
        *self.stats.lock()
    }

    /// `垃圾回收：…` for `qi run --gc-统计`.
    pub fn report(&self) -> String {
        let s = self.stats();
        format!(
            "垃圾回收：{} 次，释放 {} 个对象，检查 {} 个，总停顿 {:.3} 毫秒，最长 {:.3} 毫秒\n",
            s.collections,
            s.freed,
            s.scanned,
            s.total_pause.as_secs_f64() * 1000.0,
            s.max_pause.as_secs_f64() * 1000.0
        )
    }
}
