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
/// When hot functions are compiled to native code (the JIT tier; stored now, used once
/// that tier lands).
///
/// ```
/// let vm = qi::Vm::builder().jit(qi::JitPolicy::Eager).build()?;
/// assert_eq!(vm.jit_policy(), qi::JitPolicy::Eager);
/// # Ok::<(), qi::Error>(())
/// ```
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
/// The members of a host module, reachable from Qi with `导入 宿主.名;` (see
/// [`Builder::module`]).
///
/// ```
/// let vm = qi::Vm::builder()
///     .module("数学二", |m| {
///         m.function("和", |a| Ok::<_, String>(qi::arg::<i64>(a, 0)? + qi::arg::<i64>(a, 1)?))
///             .async_function("慢和", |a: Vec<qi::Value>| async move {
///                 Ok::<_, String>(qi::arg::<i64>(&a, 0)? + qi::arg::<i64>(&a, 1)?)
///             })
///             .value("名字", "数学二");
///     })
///     .build()?;
/// let v = vm.eval("导入 宿主.数学二; [数学二.和(1, 2), 等待 数学二.慢和(3, 4), 数学二.名字]")?;
/// assert_eq!(v.to_string(), "[3, 7, \"数学二\"]");
/// # Ok::<(), qi::Error>(())
/// ```
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
    ///
    /// ```
    /// let vm = qi::Vm::builder().module("常量", |m| { m.value("答案", 42); }).build()?;
    /// assert_eq!(vm.eval("导入 宿主.常量; 常量.答案")?.to_string(), "42");
    /// # Ok::<(), qi::Error>(())
    /// ```
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
    ///
    /// ```
    /// let vm = qi::Vm::builder().threads(1).build()?;
    /// assert_eq!(vm.eval("1 + 1")?.to_string(), "2");
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.inner.config().workers = n.max(1);
        self
    }

    /// When hot code is compiled to native code (stored now; the JIT tier uses it).
    ///
    /// ```
    /// let vm = qi::Vm::builder().jit(qi::JitPolicy::Off).build()?;
    /// assert_eq!(vm.jit_policy(), qi::JitPolicy::Off);
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn jit(mut self, policy: JitPolicy) -> Self {
        self.jit = policy;
        self
    }

    /// Lets scripts read and write files (读取文件 …). Off by default: E9004.
    ///
    /// ```
    /// let sandboxed = qi::Vm::new()?;
    /// let e = sandboxed.eval("文件存在(\".\")").unwrap_err();
    /// assert_eq!(e.code().as_deref(), Some("E9004"));
    /// let trusted = qi::Vm::builder().allow_files(true).build()?;
    /// assert_eq!(trusted.eval("文件存在(\".\")")?.to_string(), "真");
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn allow_files(mut self, yes: bool) -> Self {
        self.inner.config().capabilities.files = yes;
        self
    }

    /// Lets scripts use the network (监听, 连接到, HTTP …). Off by default: E9005.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// let e = vm.eval("监听(\"127.0.0.1:0\")").unwrap_err();
    /// assert_eq!(e.code().as_deref(), Some("E9005"));
    /// let vm = qi::Vm::builder().allow_network(true).build()?;
    /// vm.eval("变量 l = 监听(\"127.0.0.1:0\"); l.关闭();")?;
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn allow_network(mut self, yes: bool) -> Self {
        self.inner.config().capabilities.network = yes;
        self
    }

    /// Lets scripts read arguments and environment variables and call 退出. Off by default:
    /// E9006.
    ///
    /// ```
    /// let vm = qi::Vm::builder().allow_process(true).build()?;
    /// assert!(matches!(vm.eval("退出(3)"), Err(qi::Error::Exit(3))));
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn allow_process(mut self, yes: bool) -> Self {
        self.inner.config().capabilities.process = yes;
        self
    }

    /// Stops a request after this many steps (calls and loop back-edges) in all its
    /// tasks together: E9001, which 捕获 cannot catch. The VM stays usable.
    ///
    /// ```
    /// let vm = qi::Vm::builder().max_steps(10_000).build()?;
    /// let e = vm.eval("尝试 { 循环 {} } 捕获 (e) { 返回 1; }").unwrap_err();
    /// assert!(e.is_limit());
    /// assert_eq!(vm.eval("2 + 2")?.to_string(), "4");
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn max_steps(mut self, steps: u64) -> Self {
        self.inner.config().limits.steps = Some(steps);
        self
    }

    /// Stops a request whose scripts hold more than this many heap bytes more than when
    /// it began: E9002. Needs [`CountingAllocator`](crate::CountingAllocator) as the
    /// global allocator; [`Builder::build`] refuses the limit without it.
    ///
    /// ```
    /// // This doctest has no counting allocator installed:
    /// let refused = qi::Vm::builder().max_heap_bytes(1 << 20).build();
    /// assert!(matches!(refused, Err(qi::Error::Config(_))));
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn max_heap_bytes(mut self, bytes: u64) -> Self {
        self.inner.config().limits.heap_bytes = Some(bytes);
        self
    }

    /// When the cycle collector runs (default: `QI_GC`, else automatically).
    ///
    /// ```
    /// let vm = qi::Vm::builder().gc(qi::GcMode::Manual).build()?;
    /// vm.eval("函数 造() { 变量 l = [1]; l.添加(l); } 造();")?;
    /// assert_eq!(vm.collect_garbage(), 1);
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn gc(mut self, mode: qi_vm::gc::GcMode) -> Self {
        self.inner.config().gc = mode;
        self
    }

    /// Refuses to start a task when this many are alive: E9003.
    ///
    /// ```
    /// let vm = qi::Vm::builder().max_tasks(10).build()?;
    /// let e = vm.eval("变量 c = 通道(); 循环 { 启动 { <-c; }; }").unwrap_err();
    /// assert_eq!(e.code().as_deref(), Some("E9003"));
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn max_tasks(mut self, tasks: usize) -> Self {
        self.inner.config().limits.tasks = Some(tasks);
        self
    }

    /// Sends 打印 output to `w` instead of stdout.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Clone, Default)]
    /// struct Collect(Arc<Mutex<Vec<u8>>>);
    /// impl Write for Collect {
    ///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
    ///         self.0.lock().unwrap().extend_from_slice(b);
    ///         Ok(b.len())
    ///     }
    ///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// }
    ///
    /// let out = Collect::default();
    /// let vm = qi::Vm::builder().output(out.clone()).build()?;
    /// vm.eval("打印行(\"你好\");")?;
    /// assert_eq!(out.0.lock().unwrap().as_slice(), "你好\n".as_bytes());
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn output(mut self, w: impl Write + Send + 'static) -> Self {
        self.inner.output(Box::new(w));
        self
    }

    /// Runs the futures of async host functions with `spawn` instead of the VM's own
    /// executor thread — needed when they use the host runtime's timers or I/O. With Tokio:
    /// `.spawner(|f| { tokio::spawn(f); })`.
    ///
    /// ```
    /// // A spawner that runs each future on a thread of its own, for illustration.
    /// fn block_on(f: qi::qi_vm::host::BoxFuture<()>) {
    ///     struct Unpark(std::thread::Thread);
    ///     impl std::task::Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark(); } }
    ///     let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    ///     let mut f = f;
    ///     while f.as_mut().poll(&mut std::task::Context::from_waker(&waker)).is_pending() {
    ///         std::thread::park();
    ///     }
    /// }
    /// let vm = qi::Vm::builder()
    ///     .spawner(|f| { std::thread::spawn(move || block_on(f)); })
    ///     .async_function("慢", |_| async { Ok::<_, String>(7) })
    ///     .build()?;
    /// assert_eq!(vm.eval("等待 慢()")?.to_string(), "7");
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn spawner(
        mut self,
        spawn: impl Fn(qi_vm::host::BoxFuture<()>) + Send + Sync + 'static,
    ) -> Self {
        self.inner.spawner(Arc::new(spawn));
        self
    }

    /// A global function written in Rust. It gets the arguments as given (check them with
    /// [`arg`](crate::arg)); an `Err` becomes an 错误 (E7000) the script can catch.
    ///
    /// ```
    /// let vm = qi::Vm::builder()
    ///     .function("平方", |a| Ok::<_, String>(qi::arg::<i64>(a, 0)?.pow(2)))
    ///     .build()?;
    /// assert_eq!(vm.eval("平方(9)")?.to_string(), "81");
    /// let caught = vm.eval("尝试 { 平方(\"九\"); } 捕获 (e) { 返回 e.代码; }")?;
    /// assert_eq!(caught.to_string(), "E7000");
    /// # Ok::<(), qi::Error>(())
    /// ```
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

    /// A global async function. Like an 异步 函数, a call gives a task (等待 it for the
    /// result); the calling task waits without blocking a worker while the future runs.
    ///
    /// ```
    /// let vm = qi::Vm::builder()
    ///     .async_function("查询", |a: Vec<qi::Value>| {
    ///         let id = qi::arg::<i64>(&a, 0);
    ///         async move { Ok::<_, String>(format!("用户{}", id?)) }
    ///     })
    ///     .build()?;
    /// assert_eq!(vm.eval("等待 查询(1)")?.to_string(), "用户1");
    /// # Ok::<(), qi::Error>(())
    /// ```
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
    ///
    /// ```
    /// let vm = qi::Vm::builder()
    ///     .module("配置", |m| {
    ///         m.value("版本", "1.2").function("加倍", |a| Ok::<_, String>(qi::arg::<i64>(a, 0)? * 2));
    ///     })
    ///     .build()?;
    /// let v = vm.eval("导入 宿主.配置; 配置.版本 + \" \" + 字符串(配置.加倍(21))")?;
    /// assert_eq!(v.to_string(), "1.2 42");
    /// # Ok::<(), qi::Error>(())
    /// ```
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

    /// Starts the VM: its worker threads and reactor run until it is dropped.
    ///
    /// ```
    /// let vm = qi::Vm::builder().threads(2).build()?;
    /// drop(vm); // stops its threads
    /// # Ok::<(), qi::Error>(())
    /// ```
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
    /// A [`Builder`] with everything outside the VM off and no limits.
    ///
    /// ```
    /// let vm = qi::Vm::builder().build()?;
    /// assert_eq!(vm.eval("\"气\" + \"功\"")?.to_string(), "气功");
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A VM with the defaults: a worker per CPU, no files, network or process access,
    /// no limits.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// assert_eq!(i64::try_from(vm.eval("6 * 7")?)?, 42);
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn new() -> Result<Vm, Error> {
        Builder::new().build()
    }

    /// The JIT policy the VM was built with.
    ///
    /// ```
    /// assert_eq!(qi::Vm::new()?.jit_policy(), qi::JitPolicy::Auto);
    /// # Ok::<(), qi::Error>(())
    /// ```
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
    /// what it defined. A missing file is [`Error::Compile`] with E8001.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("qi-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let file = dir.join("脚本.qi");
    /// std::fs::write(&file, "函数 三倍(x) { 返回 x * 3; }").unwrap();
    /// let vm = qi::Vm::new()?;
    /// vm.run_file(&file)?;
    /// assert_eq!(vm.call("三倍", (5,))?.to_string(), "15");
    /// assert!(vm.run_file(dir.join("没有.qi")).is_err());
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), qi::Error>(())
    /// ```
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
    /// for its result. It runs on this thread until it returns or has to wait.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// vm.eval("函数 加(a, b) { 返回 a + b; }")?;
    /// assert_eq!(vm.call("加", (1, 2))?.to_string(), "3");
    /// assert_eq!(vm.call("长度", ("三个字",))?.to_string(), "3");
    /// assert!(matches!(vm.call("没有", ()), Err(qi::Error::NotFound(_))));
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn call(&self, name: &str, args: impl IntoArgs) -> Result<Value, Error> {
        let f = self.function(name)?;
        self.call_value(&f, args)
    }

    /// Calls a function value (one a script returned, or one looked up once with
    /// [`Vm::get_global`] for calls in a loop). The function runs on this thread until it
    /// returns or has to wait; only then does it move to the VM's workers.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// let add = vm.eval("函数(x) { 返回 x + 1; }")?;
    /// let mut n = qi::Value::from(0);
    /// for _ in 0..3 {
    ///     n = vm.call_value(&add, vec![n])?;
    /// }
    /// assert_eq!(n.to_string(), "3");
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn call_value(&self, f: &Value, args: impl IntoArgs) -> Result<Value, Error> {
        self.runtime.begin_request();
        outcome_result(args.with_args(|a| self.runtime.call(f, a)))
    }

    /// Starts `name(args)` as a task and gives its handle, a `Future`.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// vm.eval("异步 函数 慢(x) { 睡眠(1); 返回 x * 2; }")?;
    /// let task = vm.spawn("慢", (21,))?;
    /// assert_eq!(task.join()?.to_string(), "42");
    /// # Ok::<(), qi::Error>(())
    /// ```
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
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// vm.eval("可变 计数 = 1; 计数 += 1;")?;
    /// assert_eq!(vm.get_global("计数").map(|v| v.to_string()).as_deref(), Some("2"));
    /// assert!(vm.get_global("没有").is_none());
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn get_global(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.entries.lock().value_of(name) {
            return Some(v);
        }
        let shared = self.runtime.shared();
        shared.builtin(qi_vm::symbol::Symbol::intern(name)).cloned()
    }

    /// Steps the current (or last) request has taken, as the step limit counts them
    /// (counted only while a step limit is set).
    ///
    /// ```
    /// let vm = qi::Vm::builder().max_steps(1_000_000).build()?;
    /// vm.eval("可变 i = 0; 当 i < 100 { i += 1; }")?;
    /// assert!(vm.steps_used() >= 100);
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn steps_used(&self) -> u64 {
        self.runtime
            .shared()
            .meter
            .steps
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The cycle collector's counters since the VM started.
    ///
    /// ```
    /// let vm = qi::Vm::new()?;
    /// vm.eval("函数 造() { 变量 l = [1]; l.添加(l); } 造(); 造();")?;
    /// vm.collect_garbage();
    /// let s = vm.gc_stats();
    /// assert!(s.collections >= 1 && s.freed >= 2);
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn gc_stats(&self) -> qi_vm::gc::GcStats {
        self.runtime.shared().gc.stats()
    }

    /// Runs the cycle collector now (it also runs by itself, see `QI_GC`); how many
    /// objects it freed. Call it from outside the VM (not from a host function).
    ///
    /// ```
    /// let vm = qi::Vm::builder().gc(qi::GcMode::Manual).build()?;
    /// vm.eval("函数 造() { 变量 f = 函数() { 返回 f; }; } 造();")?;
    /// assert_eq!(vm.collect_garbage(), 2); // the closure and the variable it captured
    /// assert_eq!(vm.collect_garbage(), 0);
    /// # Ok::<(), qi::Error>(())
    /// ```
    pub fn collect_garbage(&self) -> usize {
        self.runtime
            .shared()
            .gc
            .collect(self.runtime.scheduler())
            .map_or(0, |c| c.freed)
    }

    /// The limits in force.
    ///
    /// ```
    /// let vm = qi::Vm::builder().max_tasks(5).build()?;
    /// assert_eq!(vm.limits().tasks, Some(5));
    /// # Ok::<(), qi::Error>(())
    /// ```
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
