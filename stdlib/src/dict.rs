//! 字典 methods (QI-LANGUAGE.md §8, §10): insertion order is kept by updates and deletes.

use qi_vm::interp::dict_key;
use qi_vm::native::{Arity, NativeCtx, NativeResult};
use qi_vm::object::ListObj;
use qi_vm::value::{Tag, Value};
use qi_vm::vm::VmBuilder;

use crate::args;

pub fn install(b: &mut VmBuilder) {
    let d = Tag::Dict;
    b.method(d, "长度", Arity::Exact(0), len)
        .method(d, "插入", Arity::Exact(2), insert)
        .method(d, "获取", Arity::Between(1, 2), get)
        .method(d, "包含键", Arity::Exact(1), contains_key)
        .method(d, "删除", Arity::Exact(1), remove)
        .method(d, "键列表", Arity::Exact(0), keys)
        .method(d, "值列表", Arity::Exact(0), values)
        .method(d, "条目", Arity::Exact(0), entries)
        .method(d, "清空", Arity::Exact(0), clear)
        .method(d, "是空", Arity::Exact(0), is_empty);
}

fn len(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::int(args::dict(args, 0)?.len() as i64))
}

fn is_empty(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::bool(args::dict(args, 0)?.is_empty()))
}

fn insert(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let d = args::dict(args, 0)?;
    ctx.stored(&args[0], &args[2]);
    let key = dict_key(&args[1])?;
    let mut inner = d.inner.lock();
    let old = match inner.map.get_mut(&key) {
        Some(slot) => Some(std::mem::replace(slot, args[2].clone())),
        None => {
            inner.map.insert(key, args[2].clone());
            inner.version += 1;
            None
        }
    };
    drop(inner);
    drop(old);
    Ok(Value::NIL)
}

/// `获取(k)` gives 空 for a missing key; `获取(k, 默认)` gives the default.
fn get(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let d = args::dict(args, 0)?;
    let key = dict_key(&args[1])?;
    let found = d.inner.lock().map.get(&key).cloned();
    Ok(found.unwrap_or_else(|| args.get(2).cloned().unwrap_or(Value::NIL)))
}

fn contains_key(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let d = args::dict(args, 0)?;
    let key = dict_key(&args[1])?;
    Ok(Value::bool(d.inner.lock().map.contains_key(&key)))
}

/// `删除(k)`: whether a key was removed; the others keep their order.
fn remove(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let d = args::dict(args, 0)?;
    let key = dict_key(&args[1])?;
    let mut inner = d.inner.lock();
    let removed = inner.map.shift_remove(&key);
    if removed.is_some() {
        inner.version += 1;
    }
    drop(inner);
    Ok(Value::bool(removed.is_some()))
}

fn keys(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let d = args::dict(args, 0)?;
    let keys = d
        .inner
        .lock()
        .map
        .keys()
        .map(|k| k.value().clone())
        .collect();
    Ok(Value::new(ListObj::new(keys)))
}

fn values(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let d = args::dict(args, 0)?;
    let values = d.inner.lock().map.values().cloned().collect();
    Ok(Value::new(ListObj::new(values)))
}

/// `条目()`: `[[键, 值], …]`.
fn entries(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let d = args::dict(args, 0)?;
    let pairs: Vec<(Value, Value)> = d.entries();
    let items = pairs
        .into_iter()
        .map(|(k, v)| Value::new(ListObj::new(vec![k, v])))
        .collect();
    Ok(Value::new(ListObj::new(items)))
}

fn clear(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let d = args::dict(args, 0)?;
    let mut inner = d.inner.lock();
    let old = std::mem::take(&mut inner.map);
    inner.version += 1;
    drop(inner);
    drop(old);
    Ok(Value::NIL)
}
