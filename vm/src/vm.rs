//! The VM's shared state: built-ins, loaded modules, configuration and program output.
//!
//! A [`Shared`] is built once by a [`VmBuilder`] (the standard library registers its
//! functions and methods there) and is immutable afterwards except for the module
//! registry and the output stream, which have their own locks.

use std::collections::HashMap;

/// Maps keyed by interned names: foldhash, not SipHash — the keys are not attacker-chosen
/// strings but small integers, and method lookup is on the hot path.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::native::Arity;
use crate::object::{ModuleObj, NativeFn, NativeFunction};
use crate::symbol::Symbol;
use crate::value::{Tag, Value};

/// Tunable limits.
/// The most worker threads a VM runs (as Go caps `GOMAXPROCS`): a larger `--线程` is an
/// error, and a larger `QI_THREADS` or `Config::workers` is taken as this.
pub const MAX_WORKERS: usize = 1024;

#[derive(Clone, Debug)]
pub struct Config {
    /// The deepest a fiber's call stack may grow (E7006 past it). QI-LANGUAGE.md §5.
    pub max_frames: usize,
    /// Steps (calls and loop back-edges) a task runs before it yields. §9: 1,000;
    /// `QI_BUDGET` changes it.
    pub budget: u32,
    /// Worker threads: `--线程 N`, `QI_THREADS`, else the number of CPUs; at most
    /// [`MAX_WORKERS`].
    pub workers: usize,
    /// Print a task snapshot to stderr this often while the program runs
    /// (`qi run --任务快照`).
    pub snapshot_every: Option<std::time::Duration>,
    /// What the program may touch outside the VM.
    pub capabilities: Capabilities,
    /// `参数()`: the arguments after the script path.
    pub args: Vec<String>,
    /// What one host request may use (QI-LANGUAGE.md §9: E9001–E9003, uncatchable).
    pub limits: Limits,
    /// When the cycle collector runs (`QI_GC`).
    pub gc: crate::gc::GcMode,
}

/// Limits on what a script may use, counted from the start of each host request
/// (`eval`, `call` …). `None`: no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Steps: calls and loop back-edges, over all the request's tasks (E9001).
    pub steps: Option<u64>,
    /// Net heap bytes the VM's workers allocate (E9002); needs the counting allocator.
    pub heap_bytes: Option<u64>,
    /// Tasks alive at once (E9003).
    pub tasks: Option<usize>,
}

/// What a program may reach outside the VM: on for the command line, off by default for
/// an embedded VM (QI-LANGUAGE.md §10: E9004–E9006 are ordinary, catchable errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub files: bool,
    pub network: bool,
    /// 参数, 环境变量, 退出.
    pub process: bool,
}

impl Capabilities {
    pub const ALL: Capabilities = Capabilities {
        files: true,
        network: true,
        process: true,
    };
    pub const NONE: Capabilities = Capabilities {
        files: false,
        network: false,
        process: false,
    };
}

impl Default for Config {
    fn default() -> Config {
        let env_number = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .filter(|&n| n > 0)
        };
        Config {
            max_frames: 1_000_000,
            budget: env_number("QI_BUDGET").map_or(1_000, |n| n.min(u32::MAX as usize) as u32),
            workers: env_number("QI_THREADS")
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            snapshot_every: None,
            capabilities: Capabilities::ALL,
            args: Vec::new(),
            limits: Limits::default(),
            gc: crate::gc::GcMode::from_env(),
        }
    }
}

/// Where 打印 goes.
pub enum Output {
    /// The process's stdout, buffered; line-buffered when it is a terminal.
    Stdout { buf: Vec<u8>, line_buffered: bool },
    /// A host-provided sink.
    Custom(Box<dyn Write + Send>),
}

pub struct Shared {
    /// Global built-ins written in Rust (see `builtin` for all of them).
    builtins: FastMap<Symbol, Value>,
    /// Functions the embedding host wrote in Rust, indexed by their natives' `aux`.
    pub host_fns: Vec<crate::host::HostFn>,
    /// Steps and heap used since the host's current request began.
    pub meter: crate::heap::Meter,
    /// The cycle collector: suspects, policy, counters.
    pub gc: crate::gc::Gc,
    /// Where host futures run; `None`: on [`Shared::executor`].
    pub spawner: Option<Arc<crate::host::Spawner>>,
    executor: std::sync::OnceLock<Arc<crate::host::Executor>>,
    /// Methods of built-in types written in Rust, by the receiver's tag and the method
    /// name (see `method` for all of them): where they are in `method_values`.
    methods: FastMap<(Tag, Symbol), u32>,
    /// The methods `methods` finds, with their keys. A call site keeps the index it found
    /// last (`method_cached`).
    method_values: Box<[((Tag, Symbol), Value)]>,
    /// The standard library's Qi-written functions, compiled on first use.
    prelude: Option<crate::prelude::LazyPrelude>,
    /// Modules written in Rust (数学, 哈希), by name.
    pub native_modules: HashMap<Arc<str>, Value>,
    pub config: Config,
    output: Mutex<Output>,
    /// Every module loaded, by canonical path; keeps them alive (frame invariant 3).
    pub modules: Mutex<HashMap<PathBuf, Arc<ModuleObj>>>,
    /// Modules without a file (the prelude, REPL entries), kept alive the same way.
    pub anonymous_modules: Mutex<Vec<Arc<ModuleObj>>>,
    /// When the VM was made: `计时()` counts from here.
    pub started: std::time::Instant,
    /// The VM's one random generator (随机数, 随机整数, 选择), seeded from `QI_SEED` when
    /// set (QI-LANGUAGE.md §10).
    rng: Mutex<u64>,
    /// `config.limits` sets a step or heap limit: each turn's steps are counted and its
    /// outcome checked (`driver::within_limits`). Worked out once: asked at every turn.
    metered: bool,
}

impl Shared {
    /// Whether a step or heap limit is set (see the field).
    #[inline(always)]
    pub fn metered(&self) -> bool {
        self.metered
    }

    pub fn write_out(&self, text: &str) {
        let mut out = self.output.lock();
        match &mut *out {
            Output::Stdout { buf, line_buffered } => {
                buf.extend_from_slice(text.as_bytes());
                let flush = if *line_buffered {
                    text.contains('\n')
                } else {
                    buf.len() >= 1 << 16
                };
                if flush {
                    let _ = std::io::stdout().write_all(buf);
                    let _ = std::io::stdout().flush();
                    buf.clear();
                }
            }
            Output::Custom(w) => {
                let _ = w.write_all(text.as_bytes());
            }
        }
    }

    pub fn flush_out(&self) {
        let mut out = self.output.lock();
        match &mut *out {
            Output::Stdout { buf, .. } => {
                let _ = std::io::stdout().write_all(buf);
                let _ = std::io::stdout().flush();
                buf.clear();
            }
            Output::Custom(w) => {
                let _ = w.flush();
            }
        }
    }

    /// Writes out what 打印 has buffered, if anything. Workers call this before they
    /// park, so the output of a program that then waits — a server between requests —
    /// shows now instead of when 64 KiB have gathered, and killing it loses nothing. A
    /// program that prints without pause never parks, so it keeps the big buffer.
    pub fn flush_idle(&self) {
        // Busy: the writer holds it, and flushes when its own worker goes idle.
        let Some(mut out) = self.output.try_lock() else {
            return;
        };
        if let Output::Stdout { buf, .. } = &mut *out
            && !buf.is_empty()
        {
            let _ = std::io::stdout().write_all(buf);
            let _ = std::io::stdout().flush();
            buf.clear();
        }
    }

    /// The next 64 random bits (SplitMix64: small, fast, and good enough for a scripting
    /// language's `随机数`; not for cryptography).
    pub fn random_u64(&self) -> u64 {
        let mut state = self.rng.lock();
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The executor for host futures when the host gave no spawner (started on first use).
    pub fn executor(&self) -> &Arc<crate::host::Executor> {
        self.executor.get_or_init(Default::default)
    }

    /// Stops the host-future executor thread, if it was started.
    pub fn stop_executor(&self) {
        if let Some(e) = self.executor.get() {
            e.shut_down();
        }
    }

    /// Whether `name` is a global built-in (without compiling the prelude).
    pub fn is_builtin(&self, name: &str) -> bool {
        let name = Symbol::intern(name);
        self.builtins.contains_key(&name)
            || self.prelude.as_ref().is_some_and(|p| p.has_global(name))
    }

    /// The global built-in `name`: written in Rust, or in Qi in the prelude (compiled now
    /// if this is the first use of one of its names).
    pub fn builtin(&self, name: Symbol) -> Option<&Value> {
        self.builtins
            .get(&name)
            .or_else(|| self.prelude.as_ref()?.global(self, name))
    }

    /// The global built-in `name` if it is written in Rust (never compiles the prelude).
    pub fn native_builtin(&self, name: Symbol) -> Option<&Value> {
        self.builtins.get(&name)
    }

    /// The method `name` of the built-in type `tag`, as `builtin` finds functions.
    /// (Inlined into the method call: out of line it was 5% of a list-heavy program.)
    #[inline]
    pub fn method(&self, tag: Tag, name: Symbol) -> Option<&Value> {
        self.methods
            .get(&(tag, name))
            .and_then(|&i| self.method_values.get(i as usize))
            .map(|(_, f)| f)
            .or_else(|| self.prelude.as_ref()?.method(self, tag, name))
    }

    /// `method(tag, name)` through a call site's cache (`FunctionInfo::method_cache`, the
    /// slot of the site's name): when the receiver has the tag the site saw last, a load
    /// and a compare instead of a hash lookup, which was about 60 instructions of every
    /// call of a built-in method. The methods written in Rust never change once the VM is
    /// built, so an entry never goes stale; the prelude's are not cached. A hit is checked
    /// against the entry's key, so a function run by another VM (a host may hand a value
    /// from one to another), whose list differs, only misses.
    /// (The hit is inlined into the call sites, the miss is not: called whole, the lookup
    /// was a call of some 25 instructions on every method call.)
    #[inline(always)]
    pub fn method_cached(&self, tag: Tag, name: Symbol, cache: &AtomicU64) -> Option<&Value> {
        // The tag plus one in the high half (0 is an empty cache), the index in the low.
        let seen = cache.load(Ordering::Relaxed);
        if seen >> 32 == tag as u64 + 1
            && let Some((key, f)) = self.method_values.get(seen as u32 as usize)
            && *key == (tag, name)
        {
            return Some(f);
        }
        self.method_missed(tag, name, cache)
    }

    /// `method_cached` when the cache does not have it: looked up, and cached if it is
    /// written in Rust.
    #[inline(never)]
    fn method_missed(&self, tag: Tag, name: Symbol, cache: &AtomicU64) -> Option<&Value> {
        match self.methods.get(&(tag, name)) {
            Some(&i) => {
                cache.store((tag as u64 + 1) << 32 | u64::from(i), Ordering::Relaxed);
                self.method_values.get(i as usize).map(|(_, f)| f)
            }
            None => self.prelude.as_ref()?.method(self, tag, name),
        }
    }

    /// The names of every global built-in (for completion).
    pub fn builtin_names(&self) -> impl Iterator<Item = Symbol> + '_ {
        let prelude = self.prelude.as_ref().map(|p| p.global_names());
        self.builtins
            .keys()
            .copied()
            .chain(prelude.unwrap_or_default().iter().copied())
    }

    /// (type, name) of every method of a built-in type (for completion).
    pub fn method_keys(&self) -> impl Iterator<Item = (Tag, Symbol)> + '_ {
        let prelude = self.prelude.as_ref().map(|p| p.method_keys());
        self.methods
            .keys()
            .copied()
            .chain(prelude.unwrap_or_default().iter().copied())
    }

    /// Compiles the prelude now, if there is one and it has not been; its diagnostics if
    /// it does not compile.
    pub fn load_prelude(&self) -> Result<(), Vec<qi_bytecode::diagnostic::Diagnostic>> {
        match &self.prelude {
            Some(p) => p.force(self),
            None => Ok(()),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.flush_out();
        for m in self.modules.get_mut().values() {
            m.clear();
        }
        for m in self.anonymous_modules.get_mut().iter() {
            m.clear();
        }
    }
}

/// Collects built-ins before the VM starts.
pub struct VmBuilder {
    builtins: FastMap<Symbol, Value>,
    host_fns: Vec<crate::host::HostFn>,
    spawner: Option<Arc<crate::host::Spawner>>,
    methods: FastMap<(Tag, Symbol), Value>,
    native_modules: HashMap<Arc<str>, Value>,
    config: Config,
    output: Option<Box<dyn Write + Send>>,
    /// Standard-library code written in Qi, and which of its functions are methods.
    prelude: Option<Prelude>,
}

pub use crate::prelude::Prelude;

impl Default for VmBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl VmBuilder {
    pub fn new() -> VmBuilder {
        VmBuilder {
            builtins: FastMap::default(),
            host_fns: Vec::new(),
            spawner: None,
            methods: FastMap::default(),
            native_modules: HashMap::new(),
            config: Config::default(),
            output: None,
            prelude: None,
        }
    }

    /// Sets the Qi-written part of the standard library.
    pub fn prelude(&mut self, prelude: Prelude) -> &mut Self {
        self.prelude = Some(prelude);
        self
    }

    pub fn config(&mut self) -> &mut Config {
        &mut self.config
    }

    /// Sends 打印 output to `w` instead of stdout.
    pub fn output(&mut self, w: Box<dyn Write + Send>) -> &mut Self {
        self.output = Some(w);
        self
    }

    /// A native function value (not registered anywhere yet).
    pub fn native(name: &str, arity: Arity, f: NativeFn) -> Value {
        Value::new(NativeFunction {
            name: name.into(),
            arity,
            method: false,
            f,
            data: Value::NIL,
            aux: 0,
        })
    }

    /// Registers a global built-in function.
    pub fn function(&mut self, name: &str, arity: Arity, f: NativeFn) -> &mut Self {
        self.builtins
            .insert(Symbol::intern(name), Self::native(name, arity, f));
        self
    }

    /// A native value for a function the host wrote in Rust (register it with
    /// [`VmBuilder::global`] or in a [`VmBuilder::module`]).
    pub fn host_function(&mut self, name: &str, arity: Arity, f: crate::host::HostFn) -> Value {
        self.host_fns.push(f);
        Value::new(NativeFunction {
            name: name.into(),
            arity,
            method: false,
            f: crate::host::call_host,
            data: Value::NIL,
            aux: (self.host_fns.len() - 1) as u32,
        })
    }

    /// Runs host futures with `spawn` instead of the VM's own executor thread.
    pub fn spawner(&mut self, spawn: Arc<crate::host::Spawner>) -> &mut Self {
        self.spawner = Some(spawn);
        self
    }

    /// Registers a global built-in value.
    pub fn global(&mut self, name: &str, value: Value) -> &mut Self {
        self.builtins.insert(Symbol::intern(name), value);
        self
    }

    /// Registers a method of a built-in type; `arity` does not count the receiver.
    pub fn method(&mut self, tag: Tag, name: &str, arity: Arity, f: NativeFn) -> &mut Self {
        let type_name = crate::print::type_name_of_tag(tag);
        let method = Value::new(NativeFunction {
            name: format!("{type_name}.{name}").into(),
            arity,
            method: true,
            f,
            data: Value::NIL,
            aux: 0,
        });
        self.methods.insert((tag, Symbol::intern(name)), method);
        self
    }

    /// Registers a method of a built-in type implemented by any function value (a Qi
    /// function from the prelude takes the receiver as its first parameter).
    pub fn method_value(&mut self, tag: Tag, name: &str, f: Value) -> &mut Self {
        self.methods.insert((tag, Symbol::intern(name)), f);
        self
    }

    /// Registers a module written in Rust, reachable with `导入 名;`.
    pub fn module(&mut self, name: &str, members: Vec<(&str, Value)>) -> &mut Self {
        let exports = members
            .into_iter()
            .map(|(n, v)| (Symbol::intern(n), crate::object::Export::Value(v)))
            .collect();
        let module = ModuleObj::native(name.into(), exports);
        self.native_modules.insert(name.into(), Value::new(module));
        self
    }

    /// Builds the VM state. It does not fail today: the prelude is only compiled when
    /// first used (`Shared::load_prelude` compiles it at once and reports its
    /// diagnostics, which the standard library's tests do). The `Result` stays so that a
    /// check at build time can come back without changing every caller.
    pub fn build(self) -> Result<Arc<Shared>, Vec<qi_bytecode::diagnostic::Diagnostic>> {
        let line_buffered = std::io::IsTerminal::is_terminal(&std::io::stdout());
        let output = match self.output {
            Some(w) => Output::Custom(w),
            None => Output::Stdout {
                buf: Vec::new(),
                line_buffered,
            },
        };
        let mut method_values = Vec::with_capacity(self.methods.len());
        let methods = self
            .methods
            .into_iter()
            .map(|(key, f)| {
                method_values.push((key, f));
                (key, method_values.len() as u32 - 1)
            })
            .collect();
        let shared = Arc::new(Shared {
            builtins: self.builtins,
            host_fns: self.host_fns,
            meter: Default::default(),
            gc: crate::gc::Gc::new(self.config.gc),
            spawner: self.spawner,
            executor: std::sync::OnceLock::new(),
            methods,
            method_values: method_values.into(),
            prelude: self.prelude.map(crate::prelude::LazyPrelude::new),
            native_modules: self.native_modules,
            metered: self.config.limits.steps.is_some() || self.config.limits.heap_bytes.is_some(),
            config: self.config,
            output: Mutex::new(output),
            modules: Mutex::new(HashMap::new()),
            anonymous_modules: Mutex::new(Vec::new()),
            rng: Mutex::new(initial_seed()),
            started: std::time::Instant::now(),
        });
        Ok(shared)
    }
}

/// `QI_SEED` when set, else the clock.
fn initial_seed() -> u64 {
    if let Some(seed) = std::env::var("QI_SEED")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        return seed;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x5EED, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call site's cache gives the method the hash map gives, for whichever type the
    /// receiver has; a site that sees two types follows the last one.
    #[test]
    fn a_call_sites_cache_finds_what_the_map_finds() {
        let mut b = VmBuilder::new();
        b.method_value(Tag::List, "长", Value::int(1));
        b.method_value(Tag::Str, "长", Value::int(2));
        b.method_value(Tag::List, "空", Value::int(3));
        let shared = match b.build() {
            Ok(s) => s,
            Err(_) => panic!("the VM builds"),
        };
        let len = Symbol::intern("长");
        let site = AtomicU64::new(0);
        let found = |tag| {
            shared
                .method_cached(tag, len, &site)
                .and_then(Value::as_int)
        };
        for (tag, want) in [
            (Tag::List, 1),
            (Tag::List, 1),
            (Tag::Str, 2),
            (Tag::List, 1),
        ] {
            assert_eq!(found(tag), Some(want));
            assert_eq!(shared.method(tag, len).and_then(Value::as_int), Some(want));
        }
        assert_ne!(site.load(Ordering::Relaxed), 0, "filled");
        // No such method: nothing, and the entry for lists is still good.
        assert_eq!(found(Tag::Dict), None);
        assert_eq!(found(Tag::List), Some(1));
        // An index that another VM's list put there, naming lists' 长 for strings: the
        // key does not match, so strings' 长 is looked up.
        let lists = u64::from(shared.methods[&(Tag::List, len)]);
        let other_vm = AtomicU64::new((Tag::Str as u64 + 1) << 32 | lists);
        assert_eq!(
            shared
                .method_cached(Tag::Str, len, &other_vm)
                .and_then(Value::as_int),
            Some(2)
        );
        let empty = Symbol::intern("空");
        let other = AtomicU64::new(0);
        assert_eq!(
            shared
                .method_cached(Tag::List, empty, &other)
                .and_then(Value::as_int),
            Some(3)
        );
    }
}
