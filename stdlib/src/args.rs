//! Reading native arguments, with the errors a wrong one gives (E3001 for a wrong kind).

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{Exit, error};
use qi_vm::object::{DictObj, ListObj, StrObj};
use qi_vm::print::type_name;
use qi_vm::value::Value;

fn wrong(what: &str, v: &Value, expected: &str) -> Exit {
    error(
        Code::E3001,
        format!("：{what}应当是{expected}，这里是「{}」", type_name(v)),
    )
}

pub fn int(args: &[Value], i: usize, what: &str) -> Result<i64, Exit> {
    let v = &args[i];
    v.as_int().ok_or_else(|| wrong(what, v, "整数"))
}

pub fn number(args: &[Value], i: usize, what: &str) -> Result<f64, Exit> {
    let v = &args[i];
    v.as_number().ok_or_else(|| wrong(what, v, "数字"))
}

pub fn str<'a>(args: &'a [Value], i: usize, what: &str) -> Result<&'a str, Exit> {
    let v = &args[i];
    v.as_obj::<StrObj>()
        .map(|s| s.as_str())
        .ok_or_else(|| wrong(what, v, "字符串"))
}

pub fn str_obj(args: &[Value], i: usize) -> Result<&StrObj, Exit> {
    let v = &args[i];
    v.as_obj::<StrObj>()
        .ok_or_else(|| wrong("接收者", v, "字符串"))
}

pub fn list(args: &[Value], i: usize) -> Result<&ListObj, Exit> {
    let v = &args[i];
    v.as_obj::<ListObj>()
        .ok_or_else(|| wrong("参数", v, "列表"))
}

pub fn dict(args: &[Value], i: usize) -> Result<&DictObj, Exit> {
    let v = &args[i];
    v.as_obj::<DictObj>()
        .ok_or_else(|| wrong("参数", v, "字典"))
}

/// Resolves a half-open `起..止` pair of character or element indices against `len`
/// (negative counts from the end; E7003 outside the value or when start is after end).
pub fn span(start: i64, end: i64, len: usize) -> Result<(usize, usize), Exit> {
    let n = len as i64;
    let fix = |i: i64| if i < 0 { i + n } else { i };
    let (s, e) = (fix(start), fix(end));
    if s < 0 || e < 0 || s > n || e > n || s > e {
        return Err(error(
            Code::E7003,
            format!("：区间 {start}..{end}，长度 {len}"),
        ));
    }
    Ok((s as usize, e as usize))
}

/// The steps a native charges for producing or copying `bytes` bytes: one per 4 KiB, so a
/// megabyte costs about as much as 256 calls.
pub fn steps_for_bytes(bytes: usize) -> u32 {
    (bytes / 4096).min(u32::MAX as usize) as u32
}
