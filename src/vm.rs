//! [`Vm`] and its [`Builder`]: the VM as a library.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use parking_lot::Mutex;
use qi_bytecode::source::SourceFile;
use qi_vm::Value;
use qi_vm::entries::Entries;
use qi_vm::host::{HostFn, HostResult};
use qi_vm::native::Arity;
use qi_vm::runtime::{Outcome, Runtime};
use qi_vm::vm::{Capabilities, Limits, VmBuilder};

use crate::{Error, IntoArgs, TaskHandle};

/// When hot functions are compiled to native code (the JIT tier; stored now, used once
/// that tier lands).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JitPolicy {
    /// Interpret everything.
    Off,
    /// Compile functions and loops once they are hot.
    #[default]
    Auto,
    /// Compile every function before its first call.
    Eager,
}

/// Configures a [`Vm`]. Everything outside the VM is off until allowed: files,
/// network and process access are E9004–E9006 errors for an embedded script.
///
/// ```
/// let vm = qi::Vm::builder()
///     .threads(2)
///     .max_steps(1_000_000)
///     .function("加倍", |args| Ok::<_, String>(qi::arg::<i64>(args, 0)? * 2))
///     .build()?;
/// assert_eq!(vm.eval("加倍(21)")?.to_string(), "42");
/// # Ok::<(), qi::Error>(())
/// ```
pub struct Builder {
    inner: VmBuilder,
    host_modules: Vec<(String, Vec<(String, Value)>)>,
    jit: JitPolicy,
}

/// The members of a host module, reachable from Qi with `导入 宿主.名;`.
#[derive(Default)]
pub struct ModuleBuilder<'b> {
    members: Vec<(String, Value)>,
    vm: Option<&'b mut VmBuilder>,
}

impl ModuleBuilder<'_> {
    /// A synchronous function (see [`Builder::function`]).
    pub fn function<F, R, E>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(&[Value]) -> Result<R, E> + Send + Sync + 'static,
        R: Into<Value>,
        E: std::fmt::Display,
    {
        if let Some(vm) = self.vm.as_deref_mut() {
            let v = vm.host_function(name, Arity::AtLeast(0), sync_fn(f));
            self.members.push((name.to_string(), v));
        }
        self
    }

    /// An asynchronous function (see [`Builder::async_function`]).
    pub fn async_function<F, Fut, R, E>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(Vec<Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Into<Value>,
        E: std::fmt::Display,
    {
        if let Some(vm) = self.vm.as_deref_mut() {
            let v = vm.host_function(name, Arity::AtLeast(0), async_fn(f));
            self.members.push((name.to_string(), v));
        }
        self
    }

    /// A constant.
    pub fn value(&mut self, name: &str, v: impl Into<Value>) -> &mut Self {
        self.members.push((name.to_string(), v.into()));
        self
    }
}

fn sync_fn<F, R, E>(f: F) -> HostFn
where
    F: Fn(&[Value]) -> Result<R, E> + Send + Sync + 'static,
    R: Into<Value>,
    E: std::fmt::Display,
{
    HostFn::Sync(Arc::new(move |args: &[Value]| -> HostResult {
        f(args).map(Into::into).map_err(|e| e.to_string())
    }))
}

fn async_fn<F, Fut, R, E>(f: F) -> HostFn
where
    F: Fn(Vec<Value>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: Into<Value>,
    E: std::fmt::Display,
{
    HostFn::Async(Arc::new(move |args: Vec<Value>| {
        let fut = f(args);
        Box::pin(async move { fut.await.map(Into::into).map_err(|e| e.to_string()) })
            as qi_vm::host::BoxFuture<HostResult>
    }))
}

impl Builder {
    fn new() -> Builder {
        let mut inner = qi_stdlib::builder();
        inner.config().capabilities = Capabilities::NONE;
        Builder {
            inner,
            host_modules: Vec::new(),
            jit: JitPolicy::default(),
        }
    }

    /// Worker threads (default: one per CPU, or `QI_THREADS`).
    pub fn threads(mut self, n: usize) -> Self {
        self.inner.config().workers = n.max(1);
        self
    }

    pub fn jit(mut self, policy: JitPolicy) -> Self {
        self.jit = policy;
        self
    }

    /// Lets scripts read and write files (读取文件 …).
    pub fn allow_files(mut self, yes: bool) -> Self {
        self.inner.config().capabilities.files = yes;
        self
    }

    /// Lets scripts use the network (监听, 连接到, HTTP …).
    pub fn allow_network(mut self, yes: bool) -> Self {
        self.inner.config().capabilities.network = yes;
        self
    }

    /// Lets scripts read arguments and environment variables and call 退出.
    pub fn allow_process(mut self, yes: bool) -> Self {
        self.inner.config().capabilities.process = yes;
        self
    }

    /// Stops a request after this many steps (calls and loop back-edges) in all its
    /// tasks together: E9001, which 捕获 cannot catch.
    pub fn max_steps(mut self, steps: u64) -> Self {
        self.inner.config().limits.steps = Some(steps);
        self
    }

    /// Stops a request whose scripts hold more than this many heap bytes more than when
    /// it began: E9002. Needs [`CountingAllocator`](crate::CountingAllocator) as the
    /// global allocator; [`Builder::build`] says so if it is missing.
    pub fn max_heap_bytes(mut self, bytes: u64) -> Self {
        self.inner.config().limits.heap_bytes = Some(bytes);
        self
    }

    /// When the cycle collector runs (default: `QI_GC`, else automatically).
    pub fn gc(mut self, mode: qi_vm::gc::GcMode) -> Self {
        self.inner.config().gc = mode;
        self
    }

    /// Refuses to start a task when this many are alive: E9003.
    pub fn max_tasks(mut self, tasks: usize) -> Self {
        self.inner.config().limits.tasks = Some(tasks);
        self
    }

    /// Sends 打印 output to `w` instead of stdout.
    pub fn output(mut self, w: impl Write + Send + 'static) -> Self {
        self.inner.output(Box::new(w));
        self
    }

    /// Runs the futures of async host functions with `spawn` (for Tokio:
    /// `.spawner(|f| { tokio::spawn(f); })`) instead of the VM's own executor thread —
    /// needed when they use the host runtime's timers or I/O.
    pub fn spawner(
        mut self,
        spawn: impl Fn(qi_vm::host::BoxFuture<()>) + Send + Sync + 'static,
    ) -> Self {
        self.inner.spawner(Arc::new(spawn));
        self
    }

    /// A global function written in Rust. It gets the arguments as given (check them with
    /// [`arg`](crate::arg)); an `Err` becomes an 错误 the script can catch.
    pub fn function<F, R, E>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(&[Value]) -> Result<R, E> + Send + Sync + 'static,
        R: Into<Value>,
        E: std::fmt::Display,
    {
        let v = self
            .inner
            .host_function(name, Arity::AtLeast(0), sync_fn(f));
        self.inner.global(name, v);
        self
    }

    /// A global async function: the calling task waits without blocking a worker while
    /// the future runs.
    pub fn async_function<F, Fut, R, E>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(Vec<Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Into<Value>,
        E: std::fmt::Display,
    {
        let v = self
            .inner
            .host_function(name, Arity::AtLeast(0), async_fn(f));
        self.inner.global(name, v);
        self
    }

    /// A module of host functions and values, imported as `导入 宿主.名;`.
    pub fn module(mut self, name: &str, build: impl FnOnce(&mut ModuleBuilder<'_>)) -> Self {
        let members = {
            let mut m = ModuleBuilder {
                members: Vec::new(),
                vm: Some(&mut self.inner),
            };
            build(&mut m);
            m.members
        };
        self.host_modules.push((format!("宿主.{name}"), members));
        self
    }

    pub fn build(mut self) -> Result<Vm, Error> {
        if self.inner.config().limits.heap_bytes.is_some() && !qi_vm::heap::counting_installed() {
            return Err(Error::Config(
                "内存限制需要把 qi::CountingAllocator 设为全局分配器（#[global_allocator]）".into(),
            ));
        }
        for (name, members) in std::mem::take(&mut self.host_modules) {
            let members = members
                .iter()
                .map(|(n, v)| (n.as_str(), v.clone()))
                .collect();
            self.inner.module(&name, members);
        }
        let shared = self.inner.build().map_err(Error::Compile)?;
        Ok(Vm {
            runtime: Arc::new(Runtime::start(shared)),
            entries: Mutex::new(Entries::default()),
            jit: self.jit,
        })
    }
}

/// A Qi virtual machine: its own globals, workers and reactor. Cheap to share between
/// threads (`&Vm` is enough to call into it from several at once); two VMs in one
/// process share nothing.
///
/// ```
/// let vm = qi::Vm::new()?;
/// vm.eval("函数 问候(名) { 返回 \"你好，\" + 名; }")?;
/// let reply: String = vm.call("问候", ("世界",))?.try_into()?;
/// assert_eq!(reply, "你好，世界");
/// # Ok::<(), qi::Error>(())
/// ```
pub struct Vm {
    runtime: Arc<Runtime>,
    /// Code evaluated so far; each `eval` sees what earlier ones defined.
    entries: Mutex<Entries>,
    jit: JitPolicy,
}

impl Vm {
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A VM with the defaults: a worker per CPU, no files, network or process access,
    /// no limits.
    pub fn new() -> Result<Vm, Error> {
        Builder::new().build()
    }

    pub fn jit_policy(&self) -> JitPolicy {
        self.jit
    }

    /// Runs Qi source; later calls see what it defined. Its value is the value of its
    /// last statement when that is an expression, else 空.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// vm.eval("可变 计数 = 1;")?;
    /// vm.eval("计数 += 41;")?;
    /// assert_eq!(i64::try_from(vm.eval("计数")?)?, 42);
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn eval(&self, source: &str) -> Result<Value, Error> {
        let name = self.entries.lock().next_file_name("代码");
        self.run_source(SourceFile::new(name, source))
    }

    /// Runs a file (its relative imports resolve against its directory); later calls see
    /// what it defined.
    pub fn run_file(&self, path: impl AsRef<std::path::Path>) -> Result<Value, Error> {
        let path = path.as_ref().to_string_lossy().to_string();
        let file = qi_vm::loader::read_source(&path).map_err(|d| Error::Compile(vec![d]))?;
        self.run_source(file)
    }

    fn run_source(&self, file: Arc<SourceFile>) -> Result<Value, Error> {
        let loaded = self
            .entries
            .lock()
            .load(self.runtime.shared(), file)
            .map_err(Error::Compile)?;
        self.runtime.begin_request();
        let outcome = match self.runtime.spawn_module(&loaded.module) {
            Ok(task) => self.runtime.wait(&task, None),
            Err(o) => o,
        };
        self.entries.lock().record(&loaded.module);
        self.runtime.shared().flush_out();
        outcome_result(outcome)
    }

    /// Calls the Qi function `name` (defined by earlier code, or a built-in) and waits
    /// for its result.
    pub fn call(&self, name: &str, args: impl IntoArgs) -> Result<Value, Error> {
        let f = self.function(name)?;
        self.call_value(&f, args)
    }

    /// Calls a function value (one a script returned, or one looked up once with
    /// [`Vm::get_global`] for calls in a loop). The function runs on this thread until it
    /// returns or has to wait; only then does it move to the VM's workers.
    pub fn call_value(&self, f: &Value, args: impl IntoArgs) -> Result<Value, Error> {
        self.runtime.begin_request();
        outcome_result(args.with_args(|a| self.runtime.call(f, a)))
    }

    /// Starts `name(args)` as a task and gives its handle, a `Future`.
    pub fn spawn(&self, name: &str, args: impl IntoArgs) -> Result<TaskHandle, Error> {
        let f = self.function(name)?;
        self.spawn_value(&f, args)
    }

    fn spawn_value(&self, f: &Value, args: impl IntoArgs) -> Result<TaskHandle, Error> {
        self.runtime.begin_request();
        match args.with_args(|a| self.runtime.spawn_call(f, a)) {
            Ok(task) => Ok(TaskHandle::new(task, self.runtime.clone())),
            Err(o) => Err(outcome_result(o)
                .err()
                .unwrap_or(Error::NotFound(String::new()))),
        }
    }

    fn function(&self, name: &str) -> Result<Value, Error> {
        self.get_global(name)
            .ok_or_else(|| Error::NotFound(name.to_string()))
    }

    /// The current value of a name earlier code defined (or a built-in).
    pub fn get_global(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.entries.lock().value_of(name) {
            return Some(v);
        }
        let shared = self.runtime.shared();
        shared
            .builtins
            .get(&qi_vm::symbol::Symbol::intern(name))
            .cloned()
    }

    /// Steps the current (or last) request has taken, as the step limit counts them
    /// (counted only while a step limit is set).
    pub fn steps_used(&self) -> u64 {
        self.runtime
            .shared()
            .meter
            .steps
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The cycle collector's counters since the VM started.
    pub fn gc_stats(&self) -> qi_vm::gc::GcStats {
        self.runtime.shared().gc.stats()
    }

    /// Runs the cycle collector now (it also runs by itself, see `QI_GC`); how many
    /// objects it freed. Call it from outside the VM (not from a host function).
    pub fn collect_garbage(&self) -> usize {
        self.runtime
            .shared()
            .gc
            .collect(self.runtime.scheduler())
            .map_or(0, |c| c.freed)
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.runtime.shared().config.limits
    }
}

/// A request's outcome as the host sees it.
pub(crate) fn outcome_result(outcome: Outcome) -> Result<Value, Error> {
    match outcome {
        Outcome::Value(v) => Ok(v),
        Outcome::Error(d, v) => Err(Error::from_failure(d, v)),
        Outcome::Deadlock(d) => Err(Error::Deadlock(d)),
        Outcome::Exit(code) => Err(Error::Exit(code)),
    }
}
