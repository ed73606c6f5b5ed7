//! 列表 methods (QI-LANGUAGE.md §8, §10). Methods that change the list give 空.
//!
//! 映射, 过滤, 归约 and 排序按 call Qi functions, so they are written in Qi (prelude.qi);
//! 排序按 collects the keys there and sorts here with `__按键排序`.

use std::cmp::Ordering;

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{Arity, Exit, NativeCtx, NativeResult, error, string};
use qi_vm::object::ListObj;
use qi_vm::ops::{compare, equal};
use qi_vm::print::display_into;
use qi_vm::value::{Tag, Value};
use qi_vm::vm::VmBuilder;

use crate::args;

pub fn install(b: &mut VmBuilder) {
    let l = Tag::List;
    b.method(l, "长度", Arity::Exact(0), len)
        .method(l, "添加", Arity::Exact(1), push)
        .method(l, "弹出", Arity::Exact(0), pop)
        .method(l, "插入", Arity::Exact(2), insert)
        .method(l, "移除", Arity::Exact(1), remove)
        .method(l, "包含", Arity::Exact(1), contains)
        .method(l, "查找", Arity::Exact(1), find)
        .method(l, "排序", Arity::Exact(0), sort)
        .method(l, "反转", Arity::Exact(0), reverse)
        .method(l, "连接", Arity::Between(0, 1), join)
        .method(l, "切片", Arity::Between(1, 2), slice)
        .method(l, "清空", Arity::Exact(0), clear)
        .method(l, "复制", Arity::Exact(0), copy)
        .method(l, "是空", Arity::Exact(0), is_empty);
    b.function("__按键排序", Arity::Exact(2), sort_by_keys);
}

fn len(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::int(args::list(args, 0)?.len() as i64))
}

fn is_empty(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::bool(args::list(args, 0)?.is_empty()))
}

fn push(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let list = args::list(args, 0)?;
    ctx.stored(&args[0], &args[1]);
    list.items.lock().push(args[1].clone());
    Ok(Value::NIL)
}

fn pop(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    args::list(args, 0)?
        .items
        .lock()
        .pop()
        .ok_or_else(|| error(Code::E7003, "：不能从空列表弹出"))
}

fn index_error(i: i64, len: usize) -> Exit {
    error(Code::E7003, format!("：下标 {i}，长度 {len}"))
}

/// `插入(i, x)`: `i` may equal the length (append); negative counts from the end.
fn insert(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    ctx.stored(&args[0], &args[2]);
    let list = args::list(args, 0)?;
    let i = args::int(args, 1, "位置")?;
    let mut items = list.items.lock();
    let n = items.len() as i64;
    let at = if i < 0 { i + n } else { i };
    if !(0..=n).contains(&at) {
        return Err(index_error(i, items.len()));
    }
    items.insert(at as usize, args[2].clone());
    Ok(Value::NIL)
}

fn remove(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let list = args::list(args, 0)?;
    let i = args::int(args, 1, "位置")?;
    let mut items = list.items.lock();
    match qi_vm::interp::resolve_index(i, items.len()) {
        Some(k) => Ok(items.remove(k)),
        None => Err(index_error(i, items.len())),
    }
}

fn contains(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let items = args::list(args, 0)?.snapshot();
    Ok(Value::bool(items.iter().any(|v| equal(v, &args[1]))))
}

fn find(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let items = args::list(args, 0)?.snapshot();
    Ok(Value::int(
        items
            .iter()
            .position(|v| equal(v, &args[1]))
            .map_or(-1, |i| i as i64),
    ))
}

/// Orders two sort keys: numbers with numbers, strings with strings (E3009 otherwise).
fn order(a: &Value, b: &Value) -> Result<Ordering, Exit> {
    let sortable = |v: &Value| matches!(v.tag(), Tag::Int | Tag::Float | Tag::Str);
    if !sortable(a) || !sortable(b) {
        let bad = if sortable(a) { b } else { a };
        return Err(error(
            Code::E3009,
            format!(
                "：只有数字和字符串可以排序，这里有「{}」",
                qi_vm::print::type_name(bad)
            ),
        ));
    }
    // NaN sorts last, so the order stays total.
    Ok(compare("<", a, b)?.unwrap_or_else(|| {
        let nan = |v: &Value| v.as_float().is_some_and(f64::is_nan);
        nan(a).cmp(&nan(b))
    }))
}

/// Sorts `keys` (with their indices) stably; the first incomparable pair is an error.
fn sorted_order(keys: &[Value]) -> Result<Vec<usize>, Exit> {
    // Check every key once, then sort with a comparator that cannot fail.
    if let Some(first) = keys.first() {
        for k in keys {
            order(first, k)?;
        }
    }
    let mut idx: Vec<usize> = (0..keys.len()).collect();
    idx.sort_by(|&i, &j| order(&keys[i], &keys[j]).unwrap_or(Ordering::Equal));
    Ok(idx)
}

fn sort(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let list = args::list(args, 0)?;
    let items = list.snapshot();
    // About n·log₂n comparisons, a step per thousand.
    let n = items.len().max(1);
    ctx.charge(
        (n * (usize::BITS - n.leading_zeros()) as usize / 1000).min(u32::MAX as usize) as u32,
    );
    let sorted: Vec<Value> = if items.iter().all(|v| v.tag() == Tag::Int) {
        // All 整数, the common case: by the numbers themselves. Equal integers cannot be
        // told apart, so an unstable sort gives the stable sort's result.
        let mut items = items;
        items.sort_unstable_by_key(Value::int_unchecked);
        items
    } else {
        let idx = sorted_order(&items)?;
        idx.into_iter().map(|i| items[i].clone()).collect()
    };
    let old = std::mem::replace(&mut *list.items.lock(), sorted);
    drop(old);
    Ok(Value::NIL)
}

/// `__按键排序(列表, 键们)`: sorts the list in place by the keys the prelude collected.
fn sort_by_keys(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let list = args::list(args, 0)?;
    let keys = args::list(args, 1)?.snapshot();
    let items = list.snapshot();
    if keys.len() != items.len() {
        return Err(error(Code::E7008, "：排序时列表被修改了"));
    }
    let idx = sorted_order(&keys)?;
    let sorted: Vec<Value> = idx.into_iter().map(|i| items[i].clone()).collect();
    let old = std::mem::replace(&mut *list.items.lock(), sorted);
    drop(old);
    Ok(Value::NIL)
}

fn reverse(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    args::list(args, 0)?.items.lock().reverse();
    Ok(Value::NIL)
}

/// `连接(分隔符)`: the elements' top-level printed forms, joined.
fn join(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let items = args::list(args, 0)?.snapshot();
    let sep = if args.len() > 1 {
        args::str(args, 1, "分隔符")?
    } else {
        ""
    };
    let mut out = String::new();
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        display_into(v, &mut out);
    }
    ctx.charge(crate::args::steps_for_bytes(out.len()));
    Ok(string(out))
}

fn slice(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let items = args::list(args, 0)?.snapshot();
    let start = args::int(args, 1, "起")?;
    let end = if args.len() > 2 {
        args::int(args, 2, "止")?
    } else {
        items.len() as i64
    };
    let (a, b) = args::span(start, end, items.len())?;
    Ok(Value::new(ListObj::new(items[a..b].to_vec())))
}

fn clear(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let old = std::mem::take(&mut *args::list(args, 0)?.items.lock());
    drop(old);
    Ok(Value::NIL)
}

fn copy(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::new(ListObj::new(args::list(args, 0)?.snapshot())))
}
