//! Printed forms (QI-LANGUAGE.md §3, §9, §10, §11), without recursion.
//!
//! `display` is what 打印 and string `+` show (a string bare); `repr` is the form inside a
//! container (a string quoted like Rust's `{:?}`). Both walk the value with an explicit work
//! stack, and a container met again on the current path prints `[...]` / `{...}` / `...`,
//! so a self-containing list prints instead of looping, and a million-deep one prints
//! without overflowing the Rust stack.

use std::collections::HashSet;
use std::fmt::Write;

use crate::object::*;
use crate::symbol::Symbol;
use crate::value::{Tag, Value};

/// The printed form of a value at top level (strings bare).
pub fn display(v: &Value) -> String {
    if let Some(s) = v.as_obj::<StrObj>() {
        return s.as_str().to_string();
    }
    repr(v)
}

/// Appends the top-level printed form to `out`.
pub fn display_into(v: &Value, out: &mut String) {
    match v.tag() {
        Tag::Str => out.push_str(v.as_obj::<StrObj>().map_or("", |s| s.as_str())),
        Tag::Int => {
            let _ = write!(out, "{}", v.int_unchecked());
        }
        _ => out.push_str(&repr(v)),
    }
}

enum Item {
    Val(Value),
    Text(&'static str),
    Owned(String),
    Leave(u64),
}

/// The printed form of a value inside a container (strings quoted).
pub fn repr(v: &Value) -> String {
    let mut out = String::new();
    let mut active: HashSet<u64> = HashSet::new();
    let mut work = vec![Item::Val(v.clone())];
    while let Some(item) = work.pop() {
        match item {
            Item::Text(t) => out.push_str(t),
            Item::Owned(t) => out.push_str(&t),
            Item::Leave(p) => {
                active.remove(&p);
            }
            Item::Val(v) => scalar_or_push(&v, &mut out, &mut work, &mut active),
        }
    }
    out
}

/// Prints a leaf directly, or pushes a container's parts (in reverse) onto `work`.
fn scalar_or_push(v: &Value, out: &mut String, work: &mut Vec<Item>, active: &mut HashSet<u64>) {
    let id = v.payload();
    let is_container = matches!(
        v.tag(),
        Tag::List | Tag::Dict | Tag::Instance | Tag::Variant
    );
    if is_container && active.contains(&id) {
        out.push_str(match v.tag() {
            Tag::List => "[...]",
            Tag::Dict => "{...}",
            _ => "...",
        });
        return;
    }
    match v.tag() {
        Tag::Nil | Tag::Uninit => out.push('空'),
        Tag::Bool => out.push(if v.int_unchecked() != 0 { '真' } else { '假' }),
        Tag::Int => {
            let _ = write!(out, "{}", v.int_unchecked());
        }
        Tag::Float => {
            let _ = write!(out, "{:?}", v.float_unchecked());
        }
        Tag::Str => {
            let s = v.as_obj::<StrObj>().map_or("", |s| s.as_str());
            let _ = write!(out, "{s:?}");
        }
        Tag::List => {
            let Some(l) = v.as_obj::<ListObj>() else {
                return;
            };
            let items = l.snapshot();
            active.insert(id);
            work.push(Item::Leave(id));
            work.push(Item::Text("]"));
            push_separated(work, items.into_iter().map(Item::Val).collect());
            work.push(Item::Text("["));
        }
        Tag::Dict => {
            let Some(d) = v.as_obj::<DictObj>() else {
                return;
            };
            let pairs: Vec<(Value, Value)> = d.entries();
            active.insert(id);
            work.push(Item::Leave(id));
            work.push(Item::Text("}"));
            let mut parts = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                parts.push(vec![Item::Val(k), Item::Text(": "), Item::Val(v)]);
            }
            push_separated_groups(work, parts);
            work.push(Item::Text("{"));
        }
        Tag::Instance => {
            let Some(inst) = v.as_obj::<Instance>() else {
                return;
            };
            let fields = inst.fields.lock().clone();
            active.insert(id);
            work.push(Item::Leave(id));
            if fields.is_empty() {
                work.push(Item::Owned(format!("{} {{}}", inst.ty.name)));
                return;
            }
            work.push(Item::Text(" }"));
            let mut parts = Vec::with_capacity(fields.len());
            for ((name, _), value) in inst.ty.fields.iter().zip(fields) {
                parts.push(vec![
                    Item::Owned(format!("{}: ", name.name())),
                    Item::Val(value),
                ]);
            }
            push_separated_groups(work, parts);
            work.push(Item::Owned(format!("{} {{ ", inst.ty.name)));
        }
        Tag::Variant => {
            let Some(var) = v.as_obj::<VariantObj>() else {
                return;
            };
            let head = format!("{}::{}", var.ty.name, var.variant_name().name());
            if var.payload.is_empty() {
                out.push_str(&head);
                return;
            }
            active.insert(id);
            work.push(Item::Leave(id));
            work.push(Item::Text(")"));
            push_separated(work, var.payload.iter().cloned().map(Item::Val).collect());
            work.push(Item::Owned(format!("{head}(")));
        }
        _ => out.push_str(&opaque(v)),
    }
}

/// Pushes items separated by ", " so that they pop in order.
fn push_separated(work: &mut Vec<Item>, items: Vec<Item>) {
    push_separated_groups(work, items.into_iter().map(|i| vec![i]).collect());
}

/// Pushes groups (last first, each group's items reversed) with ", " between them, so
/// that popping gives the first group's items in order, then ", ", and so on.
fn push_separated_groups(work: &mut Vec<Item>, groups: Vec<Vec<Item>>) {
    let n = groups.len();
    for (i, group) in groups.into_iter().rev().enumerate() {
        for item in group.into_iter().rev() {
            work.push(item);
        }
        if i + 1 < n {
            work.push(Item::Text(", "));
        }
    }
}

/// Printed forms of values that are not containers.
fn opaque(v: &Value) -> String {
    match v.tag() {
        Tag::Function => {
            let name = v.as_obj::<Closure>().map_or("", |c| c.name());
            format!("<函数 {}>", function_name(name))
        }
        Tag::Native => format!(
            "<函数 {}>",
            v.as_obj::<NativeFunction>().map_or("", |n| &*n.name)
        ),
        Tag::BoundMethod => format!(
            "<函数 {}>",
            v.as_obj::<BoundMethod>().map_or("", |b| &*b.name)
        ),
        Tag::Range => match v.as_obj::<RangeObj>() {
            Some(r) if r.inclusive => format!("{}..={}", r.start, r.end),
            Some(r) => format!("{}..{}", r.start, r.end),
            None => String::new(),
        },
        Tag::Ref => "<引用>".to_string(),
        Tag::Error => match v.as_obj::<ErrorObj>() {
            Some(e) => format!("<错误 {}: {}>", e.code, e.message),
            None => String::new(),
        },
        Tag::Module => format!(
            "<模块 {}>",
            v.as_obj::<ModuleObj>().map_or("", |m| &*m.name)
        ),
        Tag::StructType => format!(
            "<结构体 {}>",
            v.as_obj::<StructType>().map_or("", |t| &*t.name)
        ),
        Tag::EnumType => format!("<枚举 {}>", v.as_obj::<EnumType>().map_or("", |t| &*t.name)),
        Tag::Cell => "<单元>".to_string(),
        Tag::Iterator => "<迭代器>".to_string(),
        Tag::Coroutine => format!(
            "<协程 {}>",
            v.as_obj::<CoroutineObj>().map_or("", |c| c.status().name())
        ),
        Tag::Task => match v.as_obj::<crate::sched::task::Task>() {
            Some(t) if t.id == 0 => format!("<未来 {}>", crate::sched::report::printed_status(t)),
            Some(t) => format!(
                "<任务 #{} {}>",
                t.id,
                crate::sched::report::printed_status(t)
            ),
            None => String::new(),
        },
        Tag::Channel => match v.as_obj::<ChannelObj>() {
            Some(c) => {
                let inner = c.inner.lock();
                format!(
                    "<通道 容量={} 长度={}{}>",
                    c.capacity,
                    inner.buf.len(),
                    if inner.closed { " 已关闭" } else { "" }
                )
            }
            None => String::new(),
        },
        Tag::Mutex => "<互斥锁>".to_string(),
        Tag::Socket => v
            .as_obj::<SocketObj>()
            .map_or_else(String::new, |s| s.printed()),
        Tag::WaitGroup => "<等待组>".to_string(),
        Tag::AtomicInt => format!(
            "<原子整数 {}>",
            v.as_obj::<AtomicIntObj>()
                .map_or(0, |a| a.value.load(std::sync::atomic::Ordering::SeqCst))
        ),
        _ => String::new(),
    }
}

/// `<匿名>` prints as `匿名` inside `<函数 …>`.
pub fn function_name(name: &str) -> &str {
    if name == "<匿名>" { "匿名" } else { name }
}

/// The Chinese type name 类型(x) gives.
pub fn type_name(v: &Value) -> String {
    match v.tag() {
        Tag::Instance => v
            .as_obj::<Instance>()
            .map_or_else(String::new, |i| i.ty.name.to_string()),
        Tag::Variant => v
            .as_obj::<VariantObj>()
            .map_or_else(String::new, |e| e.ty.name.to_string()),
        _ => builtin_type_name(v).unwrap_or_default().into(),
    }
}

/// The name of `v`'s type when it is built in (not a struct's or an enum's), without
/// allocating: a parameter annotated `原子整数` is checked against it at every call.
pub fn builtin_type_name(v: &Value) -> Option<&'static str> {
    Some(match v.tag() {
        Tag::Instance | Tag::Variant => return None,
        Tag::StructType | Tag::EnumType => "类型",
        Tag::Cell | Tag::Iterator => "内部",
        Tag::Coroutine => "协程类型",
        Tag::Socket => match v.as_obj::<SocketObj>().map(|s| s.role()) {
            Some(Role::Listener) => "监听器",
            Some(Role::Server) => "服务",
            _ => "连接",
        },
        tag => type_name_of_tag(tag),
    })
}

/// Looks up a symbol's text (for messages).
pub fn sym(s: Symbol) -> std::sync::Arc<str> {
    s.name()
}

/// The type name for a built-in type's tag (for method names like `列表.添加`).
pub fn type_name_of_tag(tag: Tag) -> &'static str {
    match tag {
        Tag::Nil | Tag::Uninit => "空",
        Tag::Bool => "布尔",
        Tag::Int => "整数",
        Tag::Float => "浮点数",
        Tag::Str => "字符串",
        Tag::List => "列表",
        Tag::Dict => "字典",
        Tag::Function | Tag::Native | Tag::BoundMethod => "函数类型",
        Tag::Range => "范围",
        Tag::Ref => "引用",
        Tag::Error => "错误",
        Tag::Module => "模块",
        Tag::Coroutine => "协程",
        Tag::Task => "任务",
        Tag::Channel => "通道",
        Tag::Mutex => "互斥锁",
        Tag::WaitGroup => "等待组",
        Tag::AtomicInt => "原子整数",
        Tag::Socket => "连接",
        _ => "值",
    }
}
