//! Crossing between Rust and Qi, against mlua (Lua 5.4) doing the same.
//!
//! `cargo bench --bench embed`. Two costs (DESIGN.md "Host calls", goal < 100 ns each):
//!
//! - **host → script**: `vm.call_value` of a one-line Qi function (looked up once), which
//!   runs inline on the calling thread; against mlua's `Function::call`.
//! - **script → host**: a script loop calling a registered Rust function 1,000 times,
//!   minus the same loop calling a script function, so what is left is the crossing; the
//!   reported time is per 1,000 calls. Against the same pair of Lua loops.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn host_to_script(c: &mut Criterion) {
    let mut g = c.benchmark_group("宿主调用脚本");
    let vm = match qi::Vm::builder().threads(1).build() {
        Ok(vm) => vm,
        Err(e) => panic!("{e}"),
    };
    vm.eval("函数 加一(x) { 返回 x + 1; }").expect("eval");
    let f = vm.get_global("加一").expect("加一");
    g.bench_function("qi", |b| {
        b.iter(|| vm.call_value(&f, (black_box(41),)).expect("call"))
    });

    let lua = mlua::Lua::new();
    lua.load("function add_one(x) return x + 1 end")
        .exec()
        .expect("lua");
    let lf: mlua::Function = lua.globals().get("add_one").expect("add_one");
    g.bench_function("lua", |b| {
        b.iter(|| lf.call::<i64>(black_box(41)).expect("call"))
    });
    g.finish();
}

fn script_to_host(c: &mut Criterion) {
    let mut g = c.benchmark_group("脚本调用宿主_每千次");
    let vm = match qi::Vm::builder()
        .threads(1)
        .function("宿主加一", |args| {
            Ok::<_, String>(qi::arg::<i64>(args, 0)? + 1)
        })
        .build()
    {
        Ok(vm) => vm,
        Err(e) => panic!("{e}"),
    };
    vm.eval(
        "函数 脚本加一(x) { 返回 x + 1; }
         函数 调宿主() { 可变 s = 0; 可变 i = 0; 当 i < 1000 { s = 宿主加一(s); i += 1; } 返回 s; }
         函数 调脚本() { 可变 s = 0; 可变 i = 0; 当 i < 1000 { s = 脚本加一(s); i += 1; } 返回 s; }",
    )
    .expect("eval");
    let host = vm.get_global("调宿主").expect("调宿主");
    let script = vm.get_global("调脚本").expect("调脚本");
    g.bench_function("qi_宿主函数", |b| {
        b.iter(|| vm.call_value(&host, ()).expect("call"))
    });
    g.bench_function("qi_脚本函数", |b| {
        b.iter(|| vm.call_value(&script, ()).expect("call"))
    });

    let lua = mlua::Lua::new();
    let rust_add = lua
        .create_function(|_, x: i64| Ok(x + 1))
        .expect("create_function");
    lua.globals().set("rust_add_one", rust_add).expect("set");
    lua.load(
        "function lua_add_one(x) return x + 1 end
         function call_host() local s = 0 for i = 1, 1000 do s = rust_add_one(s) end return s end
         function call_lua() local s = 0 for i = 1, 1000 do s = lua_add_one(s) end return s end",
    )
    .exec()
    .expect("lua");
    let call_host: mlua::Function = lua.globals().get("call_host").expect("call_host");
    let call_lua: mlua::Function = lua.globals().get("call_lua").expect("call_lua");
    g.bench_function("lua_宿主函数", |b| {
        b.iter(|| call_host.call::<i64>(()).expect("call"))
    });
    g.bench_function("lua_脚本函数", |b| {
        b.iter(|| call_lua.call::<i64>(()).expect("call"))
    });
    g.finish();
}

criterion_group!(benches, host_to_script, script_to_host);
criterion_main!(benches);
