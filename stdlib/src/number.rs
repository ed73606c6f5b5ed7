//! Methods of 整数 and 浮点数, and the module 数学.

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{Arity, Exit, NativeCtx, NativeResult, error, string};
use qi_vm::object::ListObj;
use qi_vm::ops::compare;
use qi_vm::print::display;
use qi_vm::value::{Tag, Value};
use qi_vm::vm::VmBuilder;

use crate::args;

pub fn install(b: &mut VmBuilder) {
    for tag in [Tag::Int, Tag::Float] {
        b.method(tag, "绝对值", Arity::Exact(0), abs)
            .method(tag, "平方根", Arity::Exact(0), sqrt)
            .method(tag, "幂", Arity::Exact(1), pow)
            .method(tag, "向下取整", Arity::Exact(0), floor)
            .method(tag, "向上取整", Arity::Exact(0), ceil)
            .method(tag, "四舍五入", Arity::Exact(0), round)
            .method(tag, "转字符串", Arity::Exact(0), to_string);
    }
    b.method(Tag::Bool, "转字符串", Arity::Exact(0), to_string);
    let native = VmBuilder::native;
    b.module(
        "数学",
        vec![
            ("圆周率", Value::float(std::f64::consts::PI)),
            ("自然常数", Value::float(std::f64::consts::E)),
            ("正弦", native("数学.正弦", Arity::Exact(1), sin)),
            ("余弦", native("数学.余弦", Arity::Exact(1), cos)),
            ("正切", native("数学.正切", Arity::Exact(1), tan)),
            ("对数", native("数学.对数", Arity::Between(1, 2), log)),
            ("指数", native("数学.指数", Arity::Exact(1), exp)),
            ("最大值", native("数学.最大值", Arity::AtLeast(1), max)),
            ("最小值", native("数学.最小值", Arity::AtLeast(1), min)),
            ("随机数", native("数学.随机数", Arity::Exact(0), random)),
            (
                "随机整数",
                native("数学.随机整数", Arity::Exact(2), random_int),
            ),
        ],
    );
}

fn overflow() -> Exit {
    error(Code::E7002, "")
}

fn abs(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let v = &args[0];
    match v.as_int() {
        Some(n) => n.checked_abs().map(Value::int).ok_or_else(overflow),
        None => Ok(Value::float(args::number(args, 0, "接收者")?.abs())),
    }
}

fn sqrt(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::float(args::number(args, 0, "接收者")?.sqrt()))
}

/// `幂(n)`: an 整数 to an 整数 n ≥ 0 stays an 整数 (E7002 on overflow); otherwise 浮点数.
fn pow(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if let (Some(base), Some(exp)) = (args[0].as_int(), args[1].as_int()) {
        if exp >= 0 {
            // 0, 1 and -1 stay small whatever the exponent; anything else overflows long
            // before the exponent leaves u32.
            return match (base, u32::try_from(exp)) {
                (0 | 1, _) => Ok(Value::int(if exp == 0 { 1 } else { base })),
                (-1, _) => Ok(Value::int(if exp % 2 == 0 { 1 } else { -1 })),
                (_, Ok(e)) => base.checked_pow(e).map(Value::int).ok_or_else(overflow),
                (_, Err(_)) => Err(overflow()),
            };
        }
        return Ok(Value::float((base as f64).powf(exp as f64)));
    }
    let base = args::number(args, 0, "底数")?;
    let exp = args::number(args, 1, "指数")?;
    Ok(Value::float(base.powf(exp)))
}

/// Rounds a float with `f` and gives an 整数 (E7002 outside the 整数 range).
fn to_int_with(args: &[Value], f: fn(f64) -> f64) -> NativeResult {
    if let Some(n) = args[0].as_int() {
        return Ok(Value::int(n));
    }
    let x = f(args::number(args, 0, "接收者")?);
    if x.is_nan() {
        return Err(error(Code::E7007, "：NaN 不能转换成整数"));
    }
    crate::core::float_to_int(x).ok_or_else(overflow)
}

fn floor(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    to_int_with(args, f64::floor)
}

fn ceil(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    to_int_with(args, f64::ceil)
}

/// Ties away from zero (`2.5` → 3, `-2.5` → -3).
fn round(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    to_int_with(args, f64::round)
}

fn to_string(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(string(display(&args[0])))
}

fn sin(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::float(args::number(args, 0, "参数")?.sin()))
}

fn cos(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::float(args::number(args, 0, "参数")?.cos()))
}

fn tan(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::float(args::number(args, 0, "参数")?.tan()))
}

/// `对数(x)` is the natural logarithm; `对数(x, 底)` uses that base.
fn log(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let x = args::number(args, 0, "参数")?;
    Ok(Value::float(if args.len() > 1 {
        x.log(args::number(args, 1, "底")?)
    } else {
        x.ln()
    }))
}

fn exp(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::float(args::number(args, 0, "参数")?.exp()))
}

/// The values to compare: the arguments, or the elements of a single list argument.
fn candidates(args: &[Value]) -> Result<Vec<Value>, Exit> {
    let values = match args {
        [one] if one.tag() == Tag::List => one
            .as_obj::<ListObj>()
            .map(|l| l.snapshot())
            .unwrap_or_default(),
        _ => args.to_vec(),
    };
    if values.is_empty() {
        return Err(error(Code::E7008, "：至少需要一个数"));
    }
    for v in &values {
        if v.as_number().is_none() {
            return Err(error(
                Code::E3001,
                format!("：应当是数字，这里是「{}」", qi_vm::print::type_name(v)),
            ));
        }
    }
    Ok(values)
}

fn extreme(args: &[Value], want: std::cmp::Ordering) -> NativeResult {
    let values = candidates(args)?;
    let mut best = values[0].clone();
    for v in &values[1..] {
        if compare("<", v, &best)? == Some(want) {
            best = v.clone();
        }
    }
    Ok(best)
}

fn max(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    extreme(args, std::cmp::Ordering::Greater)
}

fn min(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    extreme(args, std::cmp::Ordering::Less)
}

/// A float in [0, 1) from the VM's generator.
fn random(ctx: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    let bits = ctx.shared.random_u64() >> 11;
    Ok(Value::float(bits as f64 / (1u64 << 53) as f64))
}

/// An integer in [起, 止), like ranges.
fn random_int(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let lo = args::int(args, 0, "起")?;
    let hi = args::int(args, 1, "止")?;
    if lo >= hi {
        return Err(error(Code::E7008, format!("：范围 {lo}..{hi} 是空的")));
    }
    let span = (hi as i128 - lo as i128) as u128;
    let r = ctx.shared.random_u64() as u128 % span;
    Ok(Value::int((lo as i128 + r as i128) as i64))
}
