//! Embedding the VM: what a Rust host sees of `qi::Vm`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qi::{Error, Value, Vm};

// The heap limit needs it; every test here runs with it.
#[global_allocator]
static ALLOCATOR: qi::CountingAllocator = qi::CountingAllocator;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("lock").clone()).expect("UTF-8")
    }
}

/// Drives a future on this thread (no executor crate needed for a test).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_millis(10));
    }
}

/// A host's later `eval` can add methods to a type an earlier one declared, as a REPL
/// entry can.
#[test]
fn eval_adds_methods_to_an_earlier_type() -> Result<(), Error> {
    let vm = Vm::builder().threads(1).build()?;
    vm.eval("结构体 账户 { 余额 }\n变量 甲 = 账户 { 余额: 10 };")?;
    vm.eval("方法 账户 { 函数 存(n) { 返回 账户 { 余额: 自己.余额 + n }; } }")?;
    assert_eq!(i64::try_from(vm.eval("甲.存(5).余额")?)?, 15);
    Ok(())
}

#[test]
fn eval_call_and_globals() -> Result<(), Error> {
    let vm = Vm::builder().threads(2).build()?;
    assert_eq!(i64::try_from(vm.eval("1 + 2")?)?, 3);
    vm.eval("函数 问候(名) { 返回 \"你好，\" + 名; }\n可变 计数 = 0;")?;
    let s: String = vm.call("问候", ("世界",))?.try_into()?;
    assert_eq!(s, "你好，世界");
    vm.eval("计数 += 5;")?;
    assert_eq!(
        vm.get_global("计数").map(|v| v.to_string()),
        Some("5".into())
    );
    assert!(vm.get_global("没有").is_none());
    assert!(matches!(vm.call("没有", ()), Err(Error::NotFound(_))));
    // Built-ins are callable too.
    assert_eq!(i64::try_from(vm.call("长度", ("气气",))?)?, 2);
    Ok(())
}

#[test]
fn values_cross_in_both_directions() -> Result<(), Error> {
    let vm = Vm::new()?;
    vm.eval(
        "函数 汇总(数, 名单, 表, 可选) { 返回 [数 * 2, 长度(名单), 表[\"甲\"], 可选 == 空]; }",
    )?;
    let table = HashMap::from([("甲".to_string(), 1.5)]);
    let out = vm.call("汇总", (21, vec!["a", "b", "c"], table, None::<i64>))?;
    assert_eq!(out.to_string(), "[42, 3, 1.5, 真]");
    let v: Vec<Value> = out.try_into()?;
    assert_eq!(i64::try_from(v[0].clone())?, 42);
    assert_eq!(f64::try_from(v[2].clone())?, 1.5);
    assert!(bool::try_from(v[3].clone())?);
    let d: HashMap<String, i64> = vm.eval("({\"一\": 1, \"二\": 2})")?.try_into()?;
    assert_eq!(d, HashMap::from([("一".into(), 1), ("二".into(), 2)]));
    assert!(matches!(
        i64::try_from(vm.eval("\"不是数\"")?),
        Err(e) if e.expected == "整数"
    ));
    Ok(())
}

#[test]
fn errors_are_typed_and_chinese() -> Result<(), Error> {
    let vm = Vm::new()?;
    let e = vm.eval("变量 = ;").unwrap_err();
    assert!(matches!(e, Error::Compile(_)));
    assert!(e.to_string().contains("错误[E2"), "{e}");
    let e = vm.eval("1 / 0").unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E7001"));
    assert!(
        e.to_string().contains("除以零") && e.to_string().contains('^'),
        "{e}"
    );
    // A script's own error code.
    let e = vm.eval("抛出 错误(\"E123\", \"坏了\");").unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E123"));
    // The VM is fine afterwards.
    assert_eq!(i64::try_from(vm.eval("2 * 3")?)?, 6);
    Ok(())
}

#[test]
fn output_can_be_captured() -> Result<(), Error> {
    let out = Captured::default();
    let vm = Vm::builder().output(out.clone()).build()?;
    vm.eval("打印行(\"你好\", 1 + 1); 打印(\"无换行\");")?;
    assert_eq!(out.text(), "你好 2\n无换行");
    Ok(())
}

#[test]
fn host_functions_and_modules() -> Result<(), Error> {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let vm = Vm::builder()
        .function("加倍", move |args| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(qi::arg::<i64>(args, 0)? * 2)
        })
        .function("总失败", |_| Err::<Value, _>("数据库不可用"))
        .module("数据库", |m| {
            m.function("查找", |args| {
                let id: i64 = qi::arg(args, 0)?;
                Ok::<_, String>(format!("用户{id}"))
            })
            .value("版本", 3);
        })
        .build()?;
    assert_eq!(vm.eval("加倍(21)")?.to_string(), "42");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // A host error is an ordinary, catchable Qi error.
    let caught = vm.eval("尝试 { 总失败(); } 捕获 (e) { 返回 e.消息; }")?;
    assert!(caught.to_string().contains("数据库不可用"), "{caught}");
    // Wrong argument types come back as readable errors.
    let e = vm.eval("加倍(\"二\")").unwrap_err();
    assert!(e.to_string().contains("第 1 个参数"), "{e}");
    // 导入 宿主.名
    let v = vm.eval("导入 宿主.数据库;\n数据库.查找(7) + \" v\" + 字符串(数据库.版本)")?;
    assert_eq!(v.to_string(), "用户7 v3");
    Ok(())
}

/// A simulated database call: completes on another thread after a delay.
fn look_up_user(id: i64) -> impl std::future::Future<Output = Result<String, String>> {
    struct Delayed {
        state: Arc<Mutex<(Option<String>, Option<std::task::Waker>)>>,
    }
    impl std::future::Future for Delayed {
        type Output = Result<String, String>;
        fn poll(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Self::Output> {
            let mut st = self.state.lock().expect("lock");
            match st.0.take() {
                Some(v) => std::task::Poll::Ready(Ok(v)),
                None => {
                    st.1 = Some(cx.waker().clone());
                    std::task::Poll::Pending
                }
            }
        }
    }
    let state = Arc::new(Mutex::new((None, None::<std::task::Waker>)));
    let s = state.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        let waker = {
            let mut st = s.lock().expect("lock");
            st.0 = Some(format!("用户{id}"));
            st.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    });
    Delayed { state }
}

#[test]
fn an_async_host_function_awaited_from_a_thousand_tasks() -> Result<(), Error> {
    let vm = Vm::builder()
        .threads(2)
        .async_function("查询用户", |args: Vec<Value>| {
            let id = qi::arg::<i64>(&args, 0);
            async move { look_up_user(id?).await }
        })
        .build()?;
    // Each of 1,000 tasks awaits the host function, as an 异步 函数 is awaited.
    let v = vm.eval(
        "变量 任务们 = [];
         对于 i 在 0..1000 { 任务们.添加(创建 { 返回 等待 查询用户(i); }); }
         可变 对的 = 0;
         对于 i 在 0..1000 {
             如果 等待 任务们[i] == \"用户\" + 字符串(i) { 对的 += 1; }
         }
         对的",
    )?;
    assert_eq!(i64::try_from(v)?, 1000);
    // 创建 of the call itself makes one task, not two; 启动 detaches it.
    let v = vm.eval("变量 t = 创建 查询用户(7); 等待 t")?;
    assert_eq!(v.to_string(), "用户7");
    vm.eval("启动 查询用户(8);")?;
    // An error from the future is an ordinary, catchable error.
    let v = vm.eval("尝试 { 等待 查询用户(\"x\"); } 捕获 (e) { 返回 e.代码; }")?;
    assert_eq!(v.to_string(), "E7000");
    Ok(())
}

#[test]
fn a_task_handle_is_a_future() -> Result<(), Error> {
    let vm = Vm::new()?;
    vm.eval("异步 函数 慢加(a, b) { 睡眠(10); 返回 a + b; }")?;
    let handle = vm.spawn("慢加", (40, 2))?;
    let v = block_on(handle)?;
    assert_eq!(i64::try_from(v)?, 42);
    // join() from a plain thread, and a failing task.
    vm.eval("函数 坏() { 返回 1 / 0; }")?;
    let e = vm.spawn("坏", ())?.join().unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E7001"));
    // A task that can never finish is a deadlock, not a hang.
    vm.eval("函数 永远() { 变量 c = 通道(); 返回 <-c; }")?;
    let e = block_on(vm.spawn("永远", ())?).unwrap_err();
    assert!(matches!(e, Error::Deadlock(_)), "{e}");
    Ok(())
}

#[test]
fn calls_from_many_host_threads_at_once() -> Result<(), Error> {
    let vm = Vm::builder().threads(2).build()?;
    vm.eval("函数 平方(x) { 返回 x * x; }\n可变 总数 = 原子整数(0);")?;
    std::thread::scope(|s| {
        for t in 0..8 {
            let vm = &vm;
            s.spawn(move || {
                for i in 0..200i64 {
                    let n = t * 1000 + i;
                    let v = vm.call("平方", (n,)).expect("调用");
                    assert_eq!(i64::try_from(v).expect("整数"), n * n);
                    vm.eval("总数.增加(1);").expect("eval");
                }
            });
        }
    });
    assert_eq!(vm.eval("总数.获取()")?.to_string(), "1600");
    Ok(())
}

#[test]
fn capabilities_are_off_by_default_and_catchable() -> Result<(), Error> {
    let vm = Vm::new()?;
    let e = vm.eval("读取文件(\"/etc/hostname\")").unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E9004"), "{e}");
    let caught = vm.eval("尝试 { 读取文件(\"x\"); } 捕获 (e) { 返回 e.代码; }")?;
    assert_eq!(caught.to_string(), "E9004");
    let e = vm.eval("连接到(\"127.0.0.1:1\")").unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E9005"));
    let e = vm.eval("环境变量(\"PATH\")").unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E9006"));
    // Allowed explicitly.
    let dir = std::env::temp_dir().join(format!("qi-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("目录");
    let path = dir.join("a.txt");
    std::fs::write(&path, "内容").expect("写");
    let vm = Vm::builder().allow_files(true).build()?;
    let v = vm.call("读取文件", (path.to_string_lossy().to_string(),))?;
    assert_eq!(v.to_string(), "内容");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn the_step_limit_stops_an_endless_loop_even_inside_try() -> Result<(), Error> {
    let limit = 200_000;
    let workers = 2;
    let vm = Vm::builder().threads(workers).max_steps(limit).build()?;
    let e = vm
        .eval("可变 n = 0;\n尝试 { 循环 { n += 1; } } 捕获 (e) { 返回 \"被捕获了\"; } 最终 { 打印行(\"最终\"); }")
        .unwrap_err();
    assert!(e.is_limit(), "{e}");
    assert_eq!(e.code().as_deref(), Some("E9001"));
    // Stopped at the end of the turn that crossed the limit: at most one budget (1,000
    // steps) per worker past it.
    assert!(
        vm.steps_used() <= limit + 1_000 * workers as u64,
        "{}",
        vm.steps_used()
    );
    // The VM is usable afterwards; the next request starts from zero.
    assert_eq!(vm.eval("1 + 1")?.to_string(), "2");
    // Spawned tasks count too.
    let e = vm.eval("变量 t = 创建 { 循环 {} };\n等待 t").unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E9001"));
    Ok(())
}

#[test]
fn the_heap_limit_stops_an_ever_growing_list() -> Result<(), Error> {
    let vm = Vm::builder().threads(2).max_heap_bytes(32 << 20).build()?;
    let e = vm
        .eval("变量 大 = [];\n尝试 { 循环 { 大.添加(\"一段不短的文字\" + 字符串(长度(大))); } } 捕获 (e) { 返回 1; }")
        .unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E9002"), "{e}");
    // The host is alive and the VM still works.
    assert_eq!(vm.eval("[1, 2].长度()")?.to_string(), "2");
    Ok(())
}

#[test]
fn the_task_limit_refuses_new_tasks() -> Result<(), Error> {
    let vm = Vm::builder().max_tasks(50).build()?;
    let e = vm
        .eval("变量 通 = 通道();\n尝试 { 对于 i 在 0..100 { 启动 { <-通; }; } } 捕获 (e) { 返回 \"捕获\"; }")
        .unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E9003"), "{e}");
    Ok(())
}

#[test]
fn a_heap_limit_is_accepted_when_the_counting_allocator_is_installed() {
    // The refusal without the allocator is shown by the doctest of `max_heap_bytes`,
    // which runs without it.
    assert!(Vm::builder().max_heap_bytes(1 << 20).build().is_ok());
}

#[test]
fn two_vms_share_nothing() -> Result<(), Error> {
    let a = Vm::builder().threads(1).build()?;
    let b = Vm::builder().threads(1).build()?;
    std::thread::scope(|s| {
        s.spawn(|| {
            a.eval("变量 名字 = \"甲\";\n函数 谁() { 返回 名字; }")
                .expect("a")
        });
        s.spawn(|| b.eval("变量 名字 = \"乙\";").expect("b"));
    });
    assert_eq!(a.call("谁", ())?.to_string(), "甲");
    assert_eq!(
        b.get_global("名字").map(|v| v.to_string()),
        Some("乙".into())
    );
    assert!(b.get_global("谁").is_none());
    Ok(())
}

#[test]
fn exit_reaches_the_host() -> Result<(), Error> {
    let vm = Vm::builder().allow_process(true).build()?;
    assert!(matches!(vm.eval("退出(4)"), Err(Error::Exit(4))));
    Ok(())
}

#[test]
fn calls_run_inline_until_they_must_wait() -> Result<(), Error> {
    let vm = Vm::builder().threads(2).build()?;
    vm.eval(
        "函数 慢(x) { 睡眠(5); 返回 x + 1; }
         函数 派生(n) { 变量 ts = []; 对于 i 在 0..n { ts.添加(创建 { 返回 i * 2; }); } 可变 s = 0; 对于 t 在 ts { s += 等待 t; } 返回 s; }
         函数 发后台(c) { 启动 { c <- \"后台\"; }; 返回 空; }
         函数 协程和(n) { 变量 c = 协程 { 对于 i 在 0..n { 挂起 i; } }; 可变 s = 0; 对于 v 在 c { s += v; } 返回 s; }
         函数 长循环() { 可变 i = 0; 当 i < 100000 { i += 1; } 返回 i; }",
    )?;
    // Waits on a timer: moves to the workers, still answers.
    assert_eq!(vm.call("慢", (1,))?.to_string(), "2");
    // Tasks created inline are handed to the workers.
    assert_eq!(vm.call("派生", (100,))?.to_string(), "9900");
    let ch = vm.eval("通道(1)")?;
    vm.call("发后台", vec![ch.clone()])?;
    // The background task it started runs on a worker after the call returned.
    vm.eval("函数 收(c) { 返回 <-c; }")?;
    assert_eq!(vm.call("收", vec![ch])?.to_string(), "后台");
    // Coroutines and loops longer than a budget.
    assert_eq!(vm.call("协程和", (10,))?.to_string(), "45");
    assert_eq!(vm.call("长循环", ())?.to_string(), "100000");
    // Wrong argument count.
    let e = vm.call("慢", ()).unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E3006"), "{e}");
    Ok(())
}

#[test]
fn a_host_function_may_call_back_into_the_vm() -> Result<(), Error> {
    let cell: Arc<std::sync::OnceLock<std::sync::Weak<Vm>>> = Arc::default();
    let back = cell.clone();
    let vm = Arc::new(
        Vm::builder()
            .function("回调", move |args| {
                let vm = back
                    .get()
                    .and_then(std::sync::Weak::upgrade)
                    .ok_or("虚拟机不在了")?;
                let n: i64 = qi::arg(args, 0)?;
                let v = vm.call("加一", (n,)).map_err(|e| e.to_string())?;
                Ok::<_, String>(v)
            })
            .build()?,
    );
    let _ = cell.set(Arc::downgrade(&vm));
    vm.eval("函数 加一(x) { 返回 x + 1; }")?;
    assert_eq!(vm.eval("回调(41)")?.to_string(), "42");
    assert_eq!(vm.call("回调", (1,))?.to_string(), "2");
    Ok(())
}

#[test]
fn natives_pay_steps_for_large_work() -> Result<(), Error> {
    // Building 40 MB takes one call, but charges a step per 4 KiB: ten thousand steps.
    let vm = Vm::builder().threads(1).max_steps(5_000).build()?;
    let e = vm
        .eval("变量 大 = \"x\".重复(40000000); 长度(大)")
        .unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E9001"), "{e}");
    let vm = Vm::builder().threads(1).max_steps(50_000).build()?;
    assert_eq!(
        vm.eval("变量 大 = \"x\".重复(40000000); 长度(大)")?
            .to_string(),
        "40000000"
    );
    Ok(())
}

#[test]
fn tasks_woken_through_a_channel_fail_cleanly_over_the_step_limit() -> Result<(), Error> {
    // Every turn of both tasks starts woken through its wait token and ends registered with
    // a channel again, with the token handle its run-queue entry held: the turn that
    // crosses the limit takes that registration back and fails. One worker and two.
    for threads in [1, 2] {
        let vm = Vm::builder().threads(threads).max_steps(5_000).build()?;
        let e = vm
            .eval(
                "变量 乒 = 通道();\n变量 乓 = 通道();\n\
                 启动 { 对于 i 在 0..1000000 { 变量 v = <-乒; 乓 <- v; } };\n\
                 可变 和 = 0;\n对于 i 在 0..1000000 { 乒 <- i; 和 += <-乓; }\n和",
            )
            .unwrap_err();
        assert_eq!(e.code().as_deref(), Some("E9001"), "{e}");
    }
    Ok(())
}

#[test]
fn a_task_over_the_step_limit_fails_even_when_its_turn_ends_waiting_on_a_channel()
-> Result<(), Error> {
    // The turn that crosses the limit ends in a receive that must wait, where the task
    // registers itself with the channel at once: the limit error still ends it, instead
    // of leaving it parked (and the host waiting for ever).
    let vm = Vm::builder().threads(1).max_steps(50).build()?;
    let e = vm
        .eval("变量 通 = 通道();\n变量 t = 创建 { 对于 i 在 0..100 {} <-通; };\n等待 t")
        .unwrap_err();
    assert_eq!(e.code().as_deref(), Some("E9001"), "{e}");
    Ok(())
}
