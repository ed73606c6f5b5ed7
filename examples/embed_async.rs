//! Exposing an async host function: Qi tasks call it without blocking a worker.
//!
//! `cargo run --example embed_async`
//!
//! The "database" here completes on a timer thread; with Tokio you would write the
//! function with `async` code directly and pass `.spawner(|f| { tokio::spawn(f); })` to
//! the builder so its futures run on Tokio.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A reply that arrives after `delay` on another thread, like a network round trip.
struct Reply {
    shared: Arc<Mutex<(Option<String>, Option<Waker>)>>,
}

impl Future for Reply {
    type Output = Result<String, String>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.shared.lock().map_err(|_| "锁坏了".to_string())?;
        match s.0.take() {
            Some(v) => Poll::Ready(Ok(v)),
            None => {
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

fn query_user(id: i64) -> Reply {
    let shared = Arc::new(Mutex::new((None, None::<Waker>)));
    let s = shared.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        if let Ok(mut st) = s.lock() {
            st.0 = Some(format!("用户{id}"));
            if let Some(w) = st.1.take() {
                w.wake();
            }
        }
    });
    Reply { shared }
}

fn main() -> Result<(), qi::Error> {
    let vm = qi::Vm::builder()
        .async_function("查询用户", |args: Vec<qi::Value>| {
            let id = qi::arg::<i64>(&args, 0);
            async move { query_user(id?).await }
        })
        .build()?;

    // 100 lookups at once: they overlap, so this takes about one round trip, not 100.
    let start = std::time::Instant::now();
    let names = vm.eval(
        r#"
        变量 任务们 = [];
        对于 i 在 0..100 { 任务们.添加(创建 查询用户(i)); }
        变量 名字们 = [];
        对于 t 在 任务们 { 名字们.添加(等待 t); }
        名字们
        "#,
    )?;
    let names: Vec<String> = names.try_into()?;
    println!(
        "查到 {} 个用户（{} … {}），用时 {} 毫秒",
        names.len(),
        names[0],
        names[names.len() - 1],
        start.elapsed().as_millis()
    );

    // A Qi task awaited from Rust: a TaskHandle is a Future.
    vm.eval("异步 函数 查两个(a, b) { 返回 [等待 查询用户(a), 等待 查询用户(b)]; }")?;
    let handle = vm.spawn("查两个", (1, 2))?;
    println!("{}", handle.join()?);
    Ok(())
}
