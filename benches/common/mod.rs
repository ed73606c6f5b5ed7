//! What the VM benchmarks share: a VM with the standard library and silent output, and
//! loading and running a program with a clear failure when it does not work.

use std::sync::Arc;

use qi_bytecode::source::SourceFile;
use qi_vm::loader::{Loaded, load_text};
use qi_vm::program::run_main;
use qi_vm::vm::Shared;

/// A VM with the standard library installed and output discarded; `workers` worker
/// threads, or the default.
pub fn vm(workers: Option<usize>) -> Arc<Shared> {
    let mut builder = qi_stdlib::builder();
    builder.output(Box::new(std::io::sink()));
    if let Some(n) = workers {
        builder.config().workers = n;
    }
    match builder.build() {
        Ok(shared) => shared,
        Err(diags) => panic!("标准库编译失败：{}", diags[0]),
    }
}

/// Compiles (and links) `src` as a module of its own.
pub fn load(shared: &Shared, src: &str) -> Loaded {
    match load_text(
        shared,
        SourceFile::new("bench.qi", src),
        "bench",
        false,
        false,
    ) {
        Ok(loaded) => loaded,
        Err(diags) => panic!("基准程序编译失败：{}", diags[0]),
    }
}

/// Runs a loaded program and insists that it finished normally.
pub fn run(shared: &Shared, loaded: &Loaded, name: &str) {
    let code = run_main(shared, &loaded.module).exit_code();
    assert!(
        code == 0,
        "基准程序「{name}」以退出码 {code} 结束；把它存成文件，用 qi run 运行，可以看到错误"
    );
}
