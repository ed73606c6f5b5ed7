//! 字符串 methods (QI-LANGUAGE.md §8, §10). Indices count characters.

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{Arity, NativeCtx, NativeResult, error, string};
use qi_vm::object::ListObj;
use qi_vm::value::{Tag, Value};
use qi_vm::vm::VmBuilder;

use crate::args;

pub fn install(b: &mut VmBuilder) {
    let s = Tag::Str;
    b.method(s, "长度", Arity::Exact(0), len)
        .method(s, "包含", Arity::Exact(1), contains)
        .method(s, "开始于", Arity::Exact(1), starts_with)
        .method(s, "结束于", Arity::Exact(1), ends_with)
        .method(s, "查找", Arity::Exact(1), find)
        .method(s, "替换", Arity::Exact(2), replace)
        .method(s, "分割", Arity::Exact(1), split)
        .method(s, "去空白", Arity::Exact(0), trim)
        .method(s, "转大写", Arity::Exact(0), upper)
        .method(s, "转小写", Arity::Exact(0), lower)
        .method(s, "截取", Arity::Between(1, 2), substring)
        .method(s, "字符列表", Arity::Exact(0), chars)
        .method(s, "重复", Arity::Exact(1), repeat)
        .method(s, "转整数", Arity::Exact(0), to_int)
        .method(s, "转浮点数", Arity::Exact(0), to_float)
        .method(s, "是空", Arity::Exact(0), is_empty)
        .method(s, "转字符串", Arity::Exact(0), itself);
}

fn text(args: &[Value]) -> Result<&str, qi_vm::native::Exit> {
    args::str(args, 0, "接收者")
}

fn len(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::int(args::str_obj(args, 0)?.char_len() as i64))
}

fn contains(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::bool(
        text(args)?.contains(args::str(args, 1, "参数")?),
    ))
}

fn starts_with(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::bool(
        text(args)?.starts_with(args::str(args, 1, "参数")?),
    ))
}

fn ends_with(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::bool(
        text(args)?.ends_with(args::str(args, 1, "参数")?),
    ))
}

/// The character index of the first occurrence, or -1.
fn find(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let s = text(args)?;
    let needle = args::str(args, 1, "参数")?;
    Ok(Value::int(match s.find(needle) {
        Some(byte) => s[..byte].chars().count() as i64,
        None => -1,
    }))
}

fn replace(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let s = text(args)?;
    let from = args::str(args, 1, "旧文本")?;
    let to = args::str(args, 2, "新文本")?;
    if from.is_empty() {
        return Ok(string(s));
    }
    Ok(string(s.replace(from, to)))
}

fn split(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let s = text(args)?;
    let sep = args::str(args, 1, "分隔符")?;
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| string(c.to_string())).collect()
    } else {
        s.split(sep).map(string).collect()
    };
    Ok(Value::new(ListObj::new(parts)))
}

fn trim(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(string(text(args)?.trim()))
}

fn upper(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(string(text(args)?.to_uppercase()))
}

fn lower(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(string(text(args)?.to_lowercase()))
}

/// `截取(起, 止)`: characters `起..止`, half-open; `止` defaults to the end.
fn substring(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let s = args::str_obj(args, 0)?;
    let len = s.char_len();
    let start = args::int(args, 1, "起")?;
    let end = if args.len() > 2 {
        args::int(args, 2, "止")?
    } else {
        len as i64
    };
    let (a, b) = args::span(start, end, len)?;
    Ok(string(s.substring(a, b)))
}

fn chars(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let items = text(args)?.chars().map(|c| string(c.to_string())).collect();
    Ok(Value::new(ListObj::new(items)))
}

/// `重复(n)`; a negative count is E7008. Very large results are refused rather than
/// exhausting memory.
fn repeat(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let s = text(args)?;
    let n = args::int(args, 1, "次数")?;
    if n < 0 {
        return Err(error(Code::E7008, format!("：重复次数不能是负数（{n}）")));
    }
    let total = (s.len() as u128) * (n as u128);
    if total > (1 << 32) {
        return Err(error(Code::E7008, format!("：结果太大（{total} 字节）")));
    }
    ctx.charge(crate::args::steps_for_bytes(total as usize));
    Ok(string(s.repeat(n as usize)))
}

fn to_int(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    crate::core::to_int(ctx, &args[..1])
}

fn to_float(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    crate::core::to_float(ctx, &args[..1])
}

fn is_empty(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::bool(text(args)?.is_empty()))
}

fn itself(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(args[0].clone())
}
