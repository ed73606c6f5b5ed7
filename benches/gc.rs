//! The cycle collector's pause (issue goal: under 10 ms with 1,000,000 live objects of
//! which 10,000 are suspects).
//!
//! `cargo bench --bench gc`. A VM holds a million small lists in a global list (one
//! collection first clears the suspects building it made). Each sample then makes 10,000
//! suspects and times one collection:
//!
//! - **垃圾环**: 10,000 fresh self-containing lists, dropped — the suspects are garbage;
//! - **活对象**: 10,000 of the live small lists get a list pushed into them — the
//!   suspects are live and reach only themselves;
//! - **大表是嫌疑**: worst case, the big list itself is a suspect, so the collection walks
//!   all million children.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

fn vm() -> qi::Vm {
    let vm = match qi::Vm::builder().threads(1).gc(qi::GcMode::Manual).build() {
        Ok(vm) => vm,
        Err(e) => panic!("{e}"),
    };
    vm.eval(
        "变量 大 = [];
         可变 i = 0;
         当 i < 1000000 { 大.添加([i]); i += 1; }
         函数 垃圾环(n) { 可变 k = 0; 当 k < n { 变量 l = [k]; l.添加(l); k += 1; } }
         函数 活嫌疑(n) { 可变 k = 0; 当 k < n { 大[k].添加([k]); 大[k].弹出(); k += 1; } }
         函数 大表嫌疑() { 大.添加([0]); 大.弹出(); }",
    )
    .expect("eval");
    vm
}

/// Times one collection after `prepare` made the suspects, `iters` times.
fn timed(vm: &qi::Vm, prepare: &str, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        vm.eval(prepare).expect("prepare");
        let start = Instant::now();
        vm.collect_garbage();
        total += start.elapsed();
    }
    total
}

fn pause(c: &mut Criterion) {
    let vm = vm();
    vm.collect_garbage();
    let mut g = c.benchmark_group("回收停顿_百万活对象");
    g.sample_size(20);
    g.bench_function("垃圾环_一万", |b| {
        b.iter_custom(|n| timed(&vm, "垃圾环(10000)", n))
    });
    g.bench_function("活对象_一万", |b| {
        b.iter_custom(|n| timed(&vm, "活嫌疑(10000)", n))
    });
    g.bench_function("大表是嫌疑", |b| {
        b.iter_custom(|n| timed(&vm, "大表嫌疑()", n))
    });
    g.finish();
}

criterion_group!(benches, pause);
criterion_main!(benches);
