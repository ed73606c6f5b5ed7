//! The operators: arithmetic, comparison and equality (QI-LANGUAGE.md §3, §10, §11).
//!
//! Integer arithmetic is checked (E7002), integer division and remainder by zero raise
//! E7001, 整数/浮点数 mixes are compared exactly. Equality never fails and terminates on
//! cyclic data: it walks with an explicit stack and treats a pair of containers met again
//! as equal (the comparison of that pair is already in progress).

use std::cmp::Ordering;
use std::collections::HashSet;

use qi_bytecode::diagnostic::Code;

use crate::native::{Exit, error, string};
use crate::object::*;
use crate::print::{display_into, type_name};
use crate::value::{Tag, Value};

fn type_error(op: &str, a: &Value, b: &Value) -> Exit {
    error(
        Code::E3009,
        format!(
            "：不能对「{}」和「{}」使用「{op}」",
            type_name(a),
            type_name(b)
        ),
    )
}

fn overflow() -> Exit {
    error(Code::E7002, "")
}

/// `a + b`, where `a` may be given up: a string that `a` alone holds grows in place.
pub fn add(a: Value, b: &Value) -> Result<Value, Exit> {
    let mut a = a;
    if let Some(s) = a.unique_str_mut() {
        let mut tail = String::new();
        display_into(b, &mut tail);
        s.push_str(&tail);
        return Ok(a);
    }
    add_ref(&a, b)
}

/// `a + b`, leaving both operands alone (no count changes on them).
pub fn add_ref(a: &Value, b: &Value) -> Result<Value, Exit> {
    match (a.tag(), b.tag()) {
        (Tag::Int, Tag::Int) => a
            .int_unchecked()
            .checked_add(b.int_unchecked())
            .map(Value::int)
            .ok_or_else(overflow),
        (Tag::Float, Tag::Float) => Ok(Value::float(a.float_unchecked() + b.float_unchecked())),
        (Tag::Int, Tag::Float) => Ok(Value::float(a.int_unchecked() as f64 + b.float_unchecked())),
        (Tag::Float, Tag::Int) => Ok(Value::float(a.float_unchecked() + b.int_unchecked() as f64)),
        (Tag::Str, _) => {
            let mut out = String::from(a.as_obj::<StrObj>().map_or("", |s| s.as_str()));
            display_into(b, &mut out);
            Ok(string(out))
        }
        (_, Tag::Str) => {
            let mut out = String::new();
            display_into(a, &mut out);
            out.push_str(b.as_obj::<StrObj>().map_or("", |s| s.as_str()));
            Ok(string(out))
        }
        (Tag::List, Tag::List) => {
            let mut items = a
                .as_obj::<ListObj>()
                .map(|l| l.snapshot())
                .unwrap_or_default();
            items.extend(
                b.as_obj::<ListObj>()
                    .map(|l| l.snapshot())
                    .unwrap_or_default(),
            );
            Ok(Value::new(ListObj::new(items)))
        }
        _ => Err(type_error("+", a, b)),
    }
}

/// `a - b`, `a * b`, `a / b`, `a % b`.
pub fn arith(op: ArithOp, a: &Value, b: &Value) -> Result<Value, Exit> {
    match (a.tag(), b.tag()) {
        (Tag::Int, Tag::Int) => int_arith(op, a.int_unchecked(), b.int_unchecked()),
        (Tag::Int | Tag::Float, Tag::Int | Tag::Float) => {
            let (x, y) = (number(a), number(b));
            Ok(Value::float(match op {
                ArithOp::Sub => x - y,
                ArithOp::Mul => x * y,
                ArithOp::Div => x / y,
                ArithOp::Rem => x % y,
            }))
        }
        _ => Err(type_error(op.symbol(), a, b)),
    }
}

#[derive(Clone, Copy, Debug)]
pub enum ArithOp {
    Sub,
    Mul,
    Div,
    Rem,
}

impl ArithOp {
    fn symbol(self) -> &'static str {
        match self {
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
        }
    }
}

#[inline]
pub fn int_arith(op: ArithOp, x: i64, y: i64) -> Result<Value, Exit> {
    let r = match op {
        ArithOp::Sub => x.checked_sub(y),
        ArithOp::Mul => x.checked_mul(y),
        ArithOp::Div => {
            if y == 0 {
                return Err(error(Code::E7001, ""));
            }
            x.checked_div(y)
        }
        ArithOp::Rem => {
            if y == 0 {
                return Err(error(Code::E7001, ""));
            }
            // i64::MIN % -1 is 0, not an overflow (QI-LANGUAGE.md §10).
            Some(x.wrapping_rem(y))
        }
    };
    r.map(Value::int).ok_or_else(overflow)
}

fn number(v: &Value) -> f64 {
    v.as_number().unwrap_or(f64::NAN)
}

pub fn negate(a: &Value) -> Result<Value, Exit> {
    match a.tag() {
        Tag::Int => a
            .int_unchecked()
            .checked_neg()
            .map(Value::int)
            .ok_or_else(overflow),
        Tag::Float => Ok(Value::float(-a.float_unchecked())),
        _ => Err(error(
            Code::E3009,
            format!("：不能对「{}」取负", type_name(a)),
        )),
    }
}

pub fn not(a: &Value) -> Result<Value, Exit> {
    match a.as_bool() {
        Some(b) => Ok(Value::bool(!b)),
        None => Err(error(
            Code::E3004,
            format!("：「!」的操作数是「{}」", type_name(a)),
        )),
    }
}

/// Exact comparison of an integer with a float.
fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63 as f64: every f64 at or above it is above every i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f < -LIMIT {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    let ti = t as i64;
    match i.cmp(&ti) {
        Ordering::Equal => {
            let frac = f - t;
            Some(if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        o => Some(o),
    }
}

/// Orders numbers and strings (E3009 otherwise). `None` when a NaN is involved.
pub fn compare(op: &str, a: &Value, b: &Value) -> Result<Option<Ordering>, Exit> {
    Ok(match (a.tag(), b.tag()) {
        (Tag::Int, Tag::Int) => Some(a.int_unchecked().cmp(&b.int_unchecked())),
        (Tag::Float, Tag::Float) => a.float_unchecked().partial_cmp(&b.float_unchecked()),
        (Tag::Int, Tag::Float) => cmp_int_float(a.int_unchecked(), b.float_unchecked()),
        (Tag::Float, Tag::Int) => {
            cmp_int_float(b.int_unchecked(), a.float_unchecked()).map(Ordering::reverse)
        }
        (Tag::Str, Tag::Str) => {
            let (x, y) = (a.as_obj::<StrObj>(), b.as_obj::<StrObj>());
            Some(x.map(|s| s.as_str()).cmp(&y.map(|s| s.as_str())))
        }
        _ => return Err(type_error(op, a, b)),
    })
}

/// `a < b` and friends.
pub fn less(a: &Value, b: &Value) -> Result<bool, Exit> {
    Ok(compare("<", a, b)? == Some(Ordering::Less))
}

pub fn less_eq(a: &Value, b: &Value) -> Result<bool, Exit> {
    Ok(matches!(
        compare("<=", a, b)?,
        Some(Ordering::Less | Ordering::Equal)
    ))
}

pub fn greater(a: &Value, b: &Value) -> Result<bool, Exit> {
    Ok(compare(">", a, b)? == Some(Ordering::Greater))
}

pub fn greater_eq(a: &Value, b: &Value) -> Result<bool, Exit> {
    Ok(matches!(
        compare(">=", a, b)?,
        Some(Ordering::Greater | Ordering::Equal)
    ))
}

/// `a == b` (QI-LANGUAGE.md §3, §10): numbers by value, strings by content, containers,
/// structs and enums element by element, everything else by identity. Never fails.
pub fn equal(a: &Value, b: &Value) -> bool {
    // Fast paths that need no work stack.
    match (a.tag(), b.tag()) {
        (Tag::Int, Tag::Int) => return a.int_unchecked() == b.int_unchecked(),
        (Tag::Str, Tag::Str) => {
            return a.as_obj::<StrObj>().map(|s| s.as_str())
                == b.as_obj::<StrObj>().map(|s| s.as_str());
        }
        _ => {}
    }
    let mut in_progress: HashSet<(u64, u64)> = HashSet::new();
    let mut work = vec![(a.clone(), b.clone())];
    while let Some((x, y)) = work.pop() {
        if !shallow_equal(&x, &y, &mut work, &mut in_progress) {
            return false;
        }
    }
    true
}

/// Compares leaves; for containers checks shape and pushes the element pairs.
fn shallow_equal(
    x: &Value,
    y: &Value,
    work: &mut Vec<(Value, Value)>,
    in_progress: &mut HashSet<(u64, u64)>,
) -> bool {
    match (x.tag(), y.tag()) {
        (Tag::Int, Tag::Int) => x.int_unchecked() == y.int_unchecked(),
        (Tag::Float, Tag::Float) => x.float_unchecked() == y.float_unchecked(),
        (Tag::Int, Tag::Float) => {
            cmp_int_float(x.int_unchecked(), y.float_unchecked()) == Some(Ordering::Equal)
        }
        (Tag::Float, Tag::Int) => {
            cmp_int_float(y.int_unchecked(), x.float_unchecked()) == Some(Ordering::Equal)
        }
        (Tag::Nil, Tag::Nil) => true,
        (Tag::Bool, Tag::Bool) => x.int_unchecked() == y.int_unchecked(),
        (Tag::Str, Tag::Str) => {
            x.as_obj::<StrObj>().map(|s| s.as_str()) == y.as_obj::<StrObj>().map(|s| s.as_str())
        }
        (Tag::Range, Tag::Range) => x.as_obj::<RangeObj>() == y.as_obj::<RangeObj>(),
        (Tag::List | Tag::Dict | Tag::Instance | Tag::Variant, _) if x.same(y) => true,
        (Tag::List, Tag::List) => {
            if !in_progress.insert((x.payload(), y.payload())) {
                return true;
            }
            let (Some(a), Some(b)) = (x.as_obj::<ListObj>(), y.as_obj::<ListObj>()) else {
                return false;
            };
            let (a, b) = (a.snapshot(), b.snapshot());
            if a.len() != b.len() {
                return false;
            }
            work.extend(a.into_iter().zip(b));
            true
        }
        (Tag::Dict, Tag::Dict) => {
            if !in_progress.insert((x.payload(), y.payload())) {
                return true;
            }
            let (Some(a), Some(b)) = (x.as_obj::<DictObj>(), y.as_obj::<DictObj>()) else {
                return false;
            };
            let pairs: Vec<(DictKey, Value)> = a
                .inner
                .lock()
                .map
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let other = b.inner.lock();
            if pairs.len() != other.map.len() {
                return false;
            }
            let mut matched = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                match other.map.get(&k) {
                    Some(w) => matched.push((v, w.clone())),
                    None => return false,
                }
            }
            drop(other);
            work.extend(matched);
            true
        }
        (Tag::Instance, Tag::Instance) => {
            if !in_progress.insert((x.payload(), y.payload())) {
                return true;
            }
            let (Some(a), Some(b)) = (x.as_obj::<Instance>(), y.as_obj::<Instance>()) else {
                return false;
            };
            if !std::sync::Arc::ptr_eq(&a.ty, &b.ty) {
                return false;
            }
            let (fa, fb) = (a.fields.lock().clone(), b.fields.lock().clone());
            work.extend(fa.into_iter().zip(fb));
            true
        }
        (Tag::Variant, Tag::Variant) => {
            if !in_progress.insert((x.payload(), y.payload())) {
                return true;
            }
            let (Some(a), Some(b)) = (x.as_obj::<VariantObj>(), y.as_obj::<VariantObj>()) else {
                return false;
            };
            if !std::sync::Arc::ptr_eq(&a.ty, &b.ty) || a.index != b.index {
                return false;
            }
            work.extend(a.payload.iter().cloned().zip(b.payload.iter().cloned()));
            true
        }
        _ => x.same(y),
    }
}
