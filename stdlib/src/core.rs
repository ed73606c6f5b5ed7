//! The global functions: output, conversion, inspection, errors and exit.

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{Arity, Exit, NativeCtx, NativeResult, error, string};
use qi_vm::object::{DictObj, ErrorObj, ListObj, RangeObj, StrObj};
use qi_vm::print::{display_into, type_name};
use qi_vm::value::{Tag, Value};
use qi_vm::vm::VmBuilder;

use crate::args;

pub fn install(b: &mut VmBuilder) {
    b.function("打印", Arity::AtLeast(0), print)
        .function("打印行", Arity::AtLeast(0), print_line)
        .function("格式化", Arity::AtLeast(1), format)
        .function("字符串", Arity::Exact(1), to_string)
        .function("整数", Arity::Exact(1), to_int)
        .function("浮点数", Arity::Exact(1), to_float)
        .function("类型", Arity::Exact(1), type_of)
        .function("长度", Arity::Exact(1), length)
        .function("错误", Arity::Between(1, 2), make_error)
        .function("退出", Arity::Between(0, 1), exit);
}

fn joined(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        display_into(a, &mut out);
    }
    out
}

fn print(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    ctx.write_out(&joined(args));
    Ok(Value::NIL)
}

fn print_line(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let mut line = joined(args);
    line.push('\n');
    ctx.write_out(&line);
    Ok(Value::NIL)
}

/// `格式化("{} + {} = {}", a, b, c)`: `{}` placeholders, `{{` and `}}` escapes.
pub fn format(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let template = args::str(args, 0, "模板")?;
    let values = &args[1..];
    let mut out = String::new();
    let mut used = 0;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                let Some(v) = values.get(used) else {
                    return Err(error(
                        Code::E7008,
                        format!("：模板有多于 {} 个占位符", values.len()),
                    ));
                };
                display_into(v, &mut out);
                used += 1;
            }
            '{' | '}' => {
                return Err(error(
                    Code::E7008,
                    format!("：模板里单独的「{c}」；要写字面的花括号请用「{c}{c}」"),
                ));
            }
            c => out.push(c),
        }
    }
    if used != values.len() {
        return Err(error(
            Code::E7008,
            format!("：模板有 {used} 个占位符，却给了 {} 个值", values.len()),
        ));
    }
    Ok(string(out))
}

fn to_string(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(string(qi_vm::print::display(&args[0])))
}

fn cannot_convert(v: &Value, to: &str) -> Exit {
    error(
        Code::E7007,
        format!("：{} 不能转换成{to}", qi_vm::print::repr(v)),
    )
}

/// `整数(x)`: truncates floats toward zero; parses trimmed `[+-]?[0-9]+` text.
pub fn to_int(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let v = &args[0];
    match v.tag() {
        Tag::Int => Ok(v.clone()),
        Tag::Bool => Ok(Value::int(v.int_unchecked())),
        Tag::Float => float_to_int(v.float_unchecked()).ok_or_else(|| cannot_convert(v, "整数")),
        Tag::Str => parse_int(v.as_obj::<StrObj>().map_or("", |s| s.as_str()))
            .ok_or_else(|| cannot_convert(v, "整数")),
        _ => Err(cannot_convert(v, "整数")),
    }
}

pub fn float_to_int(x: f64) -> Option<Value> {
    let t = x.trunc();
    // Every f64 in [-2^63, 2^63) truncates to an i64.
    (t.is_finite() && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&t))
        .then(|| Value::int(t as i64))
}

pub fn parse_int(text: &str) -> Option<Value> {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i64>().ok().map(Value::int)
}

/// `浮点数(x)`: Rust's float syntax after trimming.
pub fn to_float(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let v = &args[0];
    match v.tag() {
        Tag::Float => Ok(v.clone()),
        Tag::Int => Ok(Value::float(v.int_unchecked() as f64)),
        Tag::Bool => Ok(Value::float(v.int_unchecked() as f64)),
        Tag::Str => parse_float(v.as_obj::<StrObj>().map_or("", |s| s.as_str()))
            .ok_or_else(|| cannot_convert(v, "浮点数")),
        _ => Err(cannot_convert(v, "浮点数")),
    }
}

pub fn parse_float(text: &str) -> Option<Value> {
    text.trim().parse::<f64>().ok().map(Value::float)
}

fn type_of(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(string(type_name(&args[0])))
}

fn length(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let v = &args[0];
    let n = match v.tag() {
        Tag::Str => v.as_obj::<StrObj>().map_or(0, |s| s.char_len()),
        Tag::List => v.as_obj::<ListObj>().map_or(0, |l| l.len()),
        Tag::Dict => v.as_obj::<DictObj>().map_or(0, |d| d.len()),
        Tag::Range => v.as_obj::<RangeObj>().map_or(0, |r| r.len() as usize),
        Tag::Channel => v
            .as_obj::<qi_vm::object::ChannelObj>()
            .map_or(0, |c| c.inner.lock().buf.len()),
        _ => {
            return Err(error(
                Code::E7008,
                format!("：「长度」不适用于「{}」", type_name(v)),
            ));
        }
    };
    Ok(Value::int(n as i64))
}

/// `错误(消息)` (代码 E7000) and `错误(代码, 消息)`. A code is what goes between the
/// brackets of `错误[代码]：消息`: it must not be empty, nor hold whitespace or control
/// characters (a newline there split the report's first line), else E7008.
fn make_error(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let (code, message) = match args.len() {
        1 => ("E7000".to_string(), args::str(args, 0, "消息")?.to_string()),
        _ => (
            args::str(args, 0, "代码")?.to_string(),
            args::str(args, 1, "消息")?.to_string(),
        ),
    };
    if code.is_empty() || code.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(error(
            Code::E7008,
            format!("：错误代码不能是空的，也不能含空白或控制字符（{code:?}）"),
        ));
    }
    Ok(Value::new(ErrorObj::new(code, message)))
}

fn exit(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    ctx.require(qi_vm::native::Capability::Process)?;
    let code = if args.is_empty() {
        0
    } else {
        args::int(args, 0, "退出码")?
    };
    ctx.flush_out();
    // The low 32 bits: the process keeps the low 8 of those (`退出(263)` exits 7), which
    // are the low 8 of `code` — clamped, `退出(2147483648)` exited 255 instead of 0.
    Err(Exit::Exit(code as i32))
}
