//! Member access: `a[i]`, `值.名`, `类型::名`, and finding the method `值.名(…)` calls.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use qi_bytecode::diagnostic::Code;
use qi_bytecode::opcode::{Instr, Op};

use super::frame::Cursor;

use crate::native::{Exit, error, error_with_hint, string};
use crate::object::*;
use crate::print::{repr, type_name};
use crate::symbol::Symbol;
use crate::value::{Tag, Value};
use crate::vm::Shared;

/// `GetIndex`, `SetIndex`, `GetField`, `SetField` and `GetPath`, for both interpreter
/// loops. The cursor comes by value, so the fast loop's copy stays in machine registers.
pub fn access(cx: &super::Cx<'_>, mut cur: Cursor, ins: Instr) -> Result<(), Exit> {
    let shared = cx.shared;
    match ins.op {
        Op::GetIndex => {
            let v = get_index(cur.r(ins.b), cur.r(ins.c))?;
            cur.set(ins.a, v);
        }
        Op::SetIndex => {
            let v = cur.r(ins.c).clone();
            shared.gc.stored(cx.local.index, cur.r(ins.a), &v);
            set_index(cur.r(ins.a), cur.r(ins.b), v)?;
        }
        Op::GetField => {
            let sym = cur.info().syms[ins.c as usize];
            let v = get_field(shared, cur.r(ins.b), sym)?;
            cur.set(ins.a, v);
        }
        Op::SetField => {
            let sym = cur.info().syms[ins.c as usize];
            let v = cur.r(ins.b).clone();
            shared.gc.stored(cx.local.index, cur.r(ins.a), &v);
            set_field(cur.r(ins.a), sym, v)?;
        }
        Op::GetPath => {
            let sym = cur.info().syms[ins.c as usize];
            let v = get_path(shared, cur.r(ins.b), sym)?;
            cur.set(ins.a, v);
        }
        _ => {}
    }
    Ok(())
}

/// Resolves a list or string index (negative counts from the end) against `len`.
pub fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { index + len } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

fn index_error(index: i64, len: usize) -> Exit {
    error(Code::E7003, format!("：下标 {index}，长度 {len}"))
}

fn nil_member(what: &str) -> Exit {
    error_with_hint(
        Code::E7009,
        format!("：{what}"),
        "这个值是 空；先检查它是否为 空",
    )
}

/// A dict key or E3001 for a value that cannot be one.
pub fn dict_key(v: &Value) -> Result<DictKey, Exit> {
    DictKey::new(v.clone()).ok_or_else(|| {
        error(
            Code::E3001,
            format!(
                "：字典的键必须是整数、字符串或布尔，这里是「{}」",
                type_name(v)
            ),
        )
    })
}

pub fn get_index(obj: &Value, index: &Value) -> Result<Value, Exit> {
    match obj.tag() {
        Tag::List => {
            let Some(i) = index.as_int() else {
                return Err(index_type_error(obj, index));
            };
            let Some(l) = obj.as_obj::<ListObj>() else {
                return Err(index_type_error(obj, index));
            };
            let items = l.items.lock();
            match resolve_index(i, items.len()) {
                Some(k) => Ok(items[k].clone()),
                None => Err(index_error(i, items.len())),
            }
        }
        Tag::Str => {
            let (Some(i), Some(s)) = (index.as_int(), obj.as_obj::<StrObj>()) else {
                return Err(index_type_error(obj, index));
            };
            let len = s.char_len();
            match resolve_index(i, len) {
                Some(k) => Ok(string(s.substring(k, k + 1))),
                None => Err(index_error(i, len)),
            }
        }
        Tag::Dict => {
            let key = dict_key(index)?;
            let Some(d) = obj.as_obj::<DictObj>() else {
                return Err(index_type_error(obj, index));
            };
            match d.inner.lock().map.get(&key) {
                Some(v) => Ok(v.clone()),
                None => Err(error(Code::E7004, format!("：{}", repr(index)))),
            }
        }
        Tag::Nil => Err(nil_member("不能对 空 取下标")),
        _ => Err(index_type_error(obj, index)),
    }
}

fn index_type_error(obj: &Value, index: &Value) -> Exit {
    error(
        Code::E3009,
        format!(
            "：不能用「{}」给「{}」取下标",
            type_name(index),
            type_name(obj)
        ),
    )
}

pub fn set_index(obj: &Value, index: &Value, v: Value) -> Result<(), Exit> {
    match obj.tag() {
        Tag::List => {
            let (Some(i), Some(l)) = (index.as_int(), obj.as_obj::<ListObj>()) else {
                return Err(index_type_error(obj, index));
            };
            let mut items = l.items.lock();
            match resolve_index(i, items.len()) {
                Some(k) => {
                    let old = std::mem::replace(&mut items[k], v);
                    drop(items);
                    drop(old);
                    Ok(())
                }
                None => Err(index_error(i, items.len())),
            }
        }
        Tag::Dict => {
            let key = dict_key(index)?;
            let Some(d) = obj.as_obj::<DictObj>() else {
                return Err(index_type_error(obj, index));
            };
            let mut inner = d.inner.lock();
            let old = match inner.map.get_mut(&key) {
                Some(slot) => Some(std::mem::replace(slot, v)),
                None => {
                    inner.map.insert(key, v);
                    inner.version += 1;
                    None
                }
            };
            drop(inner);
            drop(old);
            Ok(())
        }
        Tag::Str => Err(error(
            Code::E3009,
            "：字符串不能修改；用 + 或 替换 得到新字符串",
        )),
        Tag::Nil => Err(nil_member("不能对 空 的下标赋值")),
        _ => Err(index_type_error(obj, index)),
    }
}

fn unknown_member(obj: &Value, name: Symbol) -> Exit {
    error(
        Code::E3008,
        format!("：「{}」没有「{}」", type_name(obj), name.name()),
    )
}

/// `值.名` (not called): a field, else a method bound to the value.
pub fn get_field(shared: &Shared, obj: &Value, name: Symbol) -> Result<Value, Exit> {
    match obj.tag() {
        Tag::Instance => {
            let Some(inst) = obj.as_obj::<Instance>() else {
                return Err(unknown_member(obj, name));
            };
            if let Some(i) = inst.ty.field_index(name) {
                return Ok(inst.fields.lock()[i].clone());
            }
            if let Some(m) = inst.ty.method(name) {
                return Ok(bind(obj, m, &format!("{}.{}", inst.ty.name, name.name())));
            }
            Err(unknown_member(obj, name))
        }
        Tag::Variant => {
            let Some(var) = obj.as_obj::<VariantObj>() else {
                return Err(unknown_member(obj, name));
            };
            match var.ty.method(name) {
                Some(m) => Ok(bind(obj, m, &format!("{}.{}", var.ty.name, name.name()))),
                None => Err(unknown_member(obj, name)),
            }
        }
        Tag::Module => module_member(obj, name),
        Tag::Error => {
            let Some(e) = obj.as_obj::<ErrorObj>() else {
                return Err(unknown_member(obj, name));
            };
            match &*name.name() {
                "代码" => Ok(string(e.code.clone())),
                "消息" => Ok(string(e.message.clone())),
                "堆栈" => {
                    let lines = e
                        .site()
                        .map(|s| s.stack.iter().map(|l| string(l.trim_start())).collect())
                        .unwrap_or_default();
                    Ok(Value::new(ListObj::new(lines)))
                }
                _ => Err(unknown_member(obj, name)),
            }
        }
        Tag::Nil => Err(nil_member(&format!("空 没有「{}」", name.name()))),
        tag => match shared.method(tag, name) {
            Some(m) => Ok(bind(
                obj,
                m,
                &format!("{}.{}", crate::print::type_name_of_tag(tag), name.name()),
            )),
            None => Err(unknown_member(obj, name)),
        },
    }
}

fn bind(receiver: &Value, method: &Value, name: &str) -> Value {
    Value::new(BoundMethod {
        receiver: receiver.clone(),
        method: method.clone(),
        name: name.into(),
    })
}

/// A public member of a module (E4002 for a private or missing one).
pub fn module_member(module: &Value, name: Symbol) -> Result<Value, Exit> {
    let Some(m) = module.as_obj::<ModuleObj>() else {
        return Err(unknown_member(module, name));
    };
    if let Some(v) = m.export(name) {
        return Ok(v);
    }
    let exists = m.proto.as_ref().is_some_and(|p| {
        p.globals.iter().any(|g| *g.name == *name.name())
            || p.decls.iter().any(|d| **d.name() == *name.name())
    });
    let detail = format!("：模块「{}」没有公开的「{}」", m.name, name.name());
    if exists {
        Err(error_with_hint(
            Code::E4002,
            detail,
            "在模块里用「公开」声明它",
        ))
    } else {
        Err(error(Code::E4002, detail))
    }
}

pub fn set_field(obj: &Value, name: Symbol, v: Value) -> Result<(), Exit> {
    match obj.tag() {
        Tag::Instance => {
            let Some(inst) = obj.as_obj::<Instance>() else {
                return Err(unknown_member(obj, name));
            };
            let Some(i) = inst.ty.field_index(name) else {
                return Err(error_with_hint(
                    Code::E3008,
                    format!("：「{}」没有字段「{}」", inst.ty.name, name.name()),
                    "结构体的字段在声明时确定，不能新增",
                ));
            };
            let mut v = v;
            if let Some(ty) = &inst.ty.fields[i].1 {
                super::misc::check_type(&mut v, ty, None)?;
            }
            let old = std::mem::replace(&mut inst.fields.lock()[i], v);
            drop(old);
            Ok(())
        }
        // A later REPL entry assigning a 可变 variable of an earlier one (the compiler
        // checked mutability and the annotation).
        Tag::Module => {
            let slot = obj.as_obj::<ModuleObj>().and_then(|m| {
                let proto = m.proto.as_ref().filter(|p| p.exports_all)?;
                match m.exports.get(&name)? {
                    crate::object::Export::Global(slot)
                        if proto.globals.get(*slot as usize)?.mutable =>
                    {
                        Some((m, *slot))
                    }
                    _ => None,
                }
            });
            match slot {
                Some((m, slot)) => {
                    m.set_global(slot, v);
                    Ok(())
                }
                None => Err(error(
                    Code::E3008,
                    format!("：不能给模块成员「{}」赋值", name.name()),
                )),
            }
        }
        Tag::Nil => Err(nil_member(&format!("不能给 空 的「{}」赋值", name.name()))),
        _ => Err(error(
            Code::E3008,
            format!("：不能给「{}」的「{}」赋值", type_name(obj), name.name()),
        )),
    }
}

/// `类型::名` on a type value: a static method, a unit variant, or a variant constructor.
pub fn get_path(_shared: &Shared, ty: &Value, name: Symbol) -> Result<Value, Exit> {
    match ty.tag() {
        Tag::StructType => {
            let Some(t) = ty.as_obj::<StructType>() else {
                return Err(unknown_member(ty, name));
            };
            t.method(name).cloned().ok_or_else(|| {
                error(
                    Code::E3008,
                    format!("：「{}」没有方法「{}」", t.name, name.name()),
                )
            })
        }
        Tag::EnumType => {
            let Some(t) = ty.to_arc::<EnumType>() else {
                return Err(unknown_member(ty, name));
            };
            if let Some(index) = t.variant_index(name) {
                let arity = t.variants[index].1;
                if arity == 0 {
                    return Ok(Value::new(VariantObj {
                        ty: t,
                        index: index as u16,
                        payload: Box::new([]),
                    }));
                }
                return Ok(variant_constructor(ty.clone(), &t, index));
            }
            t.method(name).cloned().ok_or_else(|| {
                error(
                    Code::E3008,
                    format!("：「{}」没有变体或方法「{}」", t.name, name.name()),
                )
            })
        }
        Tag::Nil => Err(nil_member(&format!("空 没有「{}」", name.name()))),
        _ => Err(error(
            Code::E3008,
            format!(
                "：「{}」不是类型，不能用「::{}」",
                type_name(ty),
                name.name()
            ),
        )),
    }
}

/// `形状::圆` as a function value, printed `<函数 形状::圆>`.
fn variant_constructor(ty_value: Value, ty: &Arc<EnumType>, index: usize) -> Value {
    let (name, arity) = ty.variants[index];
    Value::new(NativeFunction {
        name: format!("{}::{}", ty.name, name.name()).into(),
        arity: crate::native::Arity::Exact(arity),
        method: false,
        f: construct_variant,
        data: ty_value,
        aux: index as u32,
    })
}

/// Calls a variant constructor: its enum type is its `data`, the variant index its `aux`.
fn construct_variant(
    ctx: &mut crate::native::NativeCtx<'_>,
    args: &[Value],
) -> Result<Value, Exit> {
    let Some(ty) = ctx.callee.data.to_arc::<EnumType>() else {
        return Err(error(Code::E3007, "：变体构造器缺少类型"));
    };
    let index = ctx.callee.aux as u16;
    let mut payload = args.to_vec().into_boxed_slice();
    ty.check_payload(index as usize, &mut payload)?;
    Ok(Value::new(VariantObj { ty, index, payload }))
}

/// What `值.名(…)` calls.
pub enum Method<'a> {
    /// A method of the receiver's struct or enum type.
    Own(&'a Value),
    /// A method of a built-in type (the receiver is its first argument).
    Builtin(&'a Value),
    /// A function stored in a field or exported by a module: called without 自己.
    Value(Value),
}

/// The method `name` of a value with tag `tag` if it is a built-in one written in Rust,
/// through the call site's cache (`Shared::method_cached`): most method calls, found
/// without building a [`Method`] and returning it through memory. `None` for anything
/// else, which [`find_method`] then looks up.
#[inline(always)]
pub fn native_method<'a>(
    shared: &'a Shared,
    tag: Tag,
    name: Symbol,
    cache: &AtomicU64,
) -> Option<&'a NativeFunction> {
    if matches!(
        tag,
        Tag::Instance | Tag::Variant | Tag::Module | Tag::Nil | Tag::StructType | Tag::EnumType
    ) {
        return None;
    }
    shared
        .method_cached(tag, name, cache)?
        .as_obj::<NativeFunction>()
}

/// The method `name` of `receiver`, for a call site whose cache for built-in methods is
/// `cache` (`Shared::method_cached`).
pub fn find_method<'a>(
    shared: &'a Shared,
    receiver: &'a Value,
    name: Symbol,
    cache: &AtomicU64,
) -> Result<Method<'a>, Exit> {
    match receiver.tag() {
        Tag::Instance => {
            let Some(inst) = receiver.as_obj::<Instance>() else {
                return Err(unknown_member(receiver, name));
            };
            if let Some(m) = inst.ty.method(name) {
                return Ok(Method::Own(m));
            }
            match inst.ty.field_index(name) {
                Some(i) => Ok(Method::Value(inst.fields.lock()[i].clone())),
                None => Err(unknown_member(receiver, name)),
            }
        }
        Tag::Variant => {
            let Some(var) = receiver.as_obj::<VariantObj>() else {
                return Err(unknown_member(receiver, name));
            };
            var.ty
                .method(name)
                .map(Method::Own)
                .ok_or_else(|| unknown_member(receiver, name))
        }
        Tag::Module => module_member(receiver, name).map(Method::Value),
        Tag::Nil => Err(nil_member(&format!("空 没有方法「{}」", name.name()))),
        Tag::StructType | Tag::EnumType => get_path(shared, receiver, name).map(Method::Value),
        tag => shared
            .method_cached(tag, name, cache)
            .map(Method::Builtin)
            .ok_or_else(|| unknown_member(receiver, name)),
    }
}
