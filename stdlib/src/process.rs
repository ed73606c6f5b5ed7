//! The process: 参数, 环境变量, 读取行 (QI-LANGUAGE.md §8, §9). 退出 is in core.

use qi_vm::native::{Arity, Capability, NativeCtx, NativeResult, string};
use qi_vm::object::ListObj;
use qi_vm::sched::block::BlockOp;
use qi_vm::sched::wait::Wake;
use qi_vm::value::Value;
use qi_vm::vm::VmBuilder;

use crate::args;

pub fn install(b: &mut VmBuilder) {
    b.function("参数", Arity::Exact(0), arguments)
        .function("环境变量", Arity::Exact(1), env_var)
        .function("读取行", Arity::Exact(0), read_line);
}

/// The arguments after the script path.
fn arguments(ctx: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    ctx.require(Capability::Process)?;
    let items = ctx
        .shared
        .config
        .args
        .iter()
        .map(|a| string(a.as_str()))
        .collect();
    Ok(Value::new(ListObj::new(items)))
}

/// The variable's value, or 空 when it is not set.
fn env_var(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    ctx.require(Capability::Process)?;
    let name = args::str(args, 0, "变量名")?;
    Ok(std::env::var(name).map_or(Value::NIL, string))
}

/// One line from standard input without its line ending, or 空 at the end. The read runs
/// on the blocking pool, so other tasks go on meanwhile.
fn read_line(ctx: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    ctx.require(Capability::Process)?;
    // A prompt printed just before must be visible while we wait.
    ctx.flush_out();
    Err(ctx.block(BlockOp::Io(Box::new(|| {
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) => Wake::Value(Value::NIL),
            Ok(_) => {
                if line.ends_with('\n') {
                    line.pop();
                    if line.ends_with('\r') {
                        line.pop();
                    }
                }
                Wake::Value(string(line))
            }
            Err(e) => Wake::Throw(crate::fs::io_error("标准输入", &e)),
        }
    }))))
}
