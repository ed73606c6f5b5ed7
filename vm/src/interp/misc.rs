//! The less frequent instructions: closures, constructors, iteration, annotations,
//! patterns and references.

use std::sync::Arc;

use qi_bytecode::diagnostic::Code;
use qi_bytecode::opcode::{Instr, Op};
use qi_bytecode::proto::{Capture, Constant, HINTED, PatternLiteral, TypeDesc, TypeKind};

use super::frame::Cursor;
use crate::native::{Exit, error};
use crate::object::*;
use crate::print::type_name;
use crate::sched::credit::{Bank, Credit};
use crate::symbol::Symbol;
use crate::value::{Tag, Value};

pub fn not_bool(v: &Value) -> Exit {
    error(Code::E3004, format!("：这里是「{}」", type_name(v)))
}

pub fn bad_range_bound(a: &Value, b: &Value) -> Exit {
    let bad = if a.tag() != Tag::Int { a } else { b };
    error(
        Code::E7008,
        format!("：范围的两端必须是整数，这里是「{}」", type_name(bad)),
    )
}

/// `Closure A Bx`: a closure of nested function `Bx`, capturing cells from this frame.
#[inline(always)]
fn make_closure(cur: Cursor, index: u32) -> Value {
    let info = cur.info().protos[index as usize].clone();
    let captures = &info.proto.captures;
    let mut upvalues = Upvalues::with_capacity(captures.len());
    for c in captures.iter() {
        upvalues.push(match *c {
            Capture::Local(r) => match cur.r(r).to_arc::<CellObj>() {
                Some(cell) => cell,
                // Every captured local is a cell (the compiler's capture analysis); this
                // arm only keeps a malformed proto from crashing.
                None => Arc::new(CellObj::new(cur.r(r).clone())),
            },
            Capture::Upvalue(i) => cur.closure().upvalues[i as usize].clone(),
        });
    }
    Value::new(Closure { info, upvalues })
}

/// `Closure A Bx`, and `TaskClosure A B C`: the closure `R[C]` keeps when it is of nested
/// function `B` and captures the cells a new one would, else a new one. (One function for
/// both, so that making a closure is inlined in one place.)
///
/// The first closure a frame makes at a `TaskClosure` is kept. When a later one captures
/// other cells (the block uses a variable of the loop around it, new at every iteration),
/// the site stops keeping any: `R[C]` gets [`NOT_KEPT`] and every run makes its own
/// closure, as `Closure` would, instead of paying a count up and down per run to swap the
/// kept one.
pub fn closure(mut cur: Cursor, ins: Instr, credit: &Credit, bank: &Bank) -> Value {
    if ins.op != Op::TaskClosure {
        return make_closure(cur, ins.bx());
    }
    if let Some(v) = kept_closure(cur, ins, credit, bank) {
        return v;
    }
    let (index, cache) = (ins.b, ins.c);
    let kept = cur.r(cache);
    let keep = match kept.as_obj::<Closure>() {
        Some(_) => {
            cur.set(cache, not_kept());
            false
        }
        None => !is_not_kept(kept),
    };
    let v = make_closure(cur, index as u32);
    if keep {
        cur.set(cache, v.clone());
    }
    v
}

/// `TaskClosure A B C` when `R[C]` keeps a closure that a new one would equal: that one.
/// (The fast loop's case; `closure` does the rest.) Its count comes from the references
/// the worker holds in hand (`sched::credit`).
#[inline(always)]
pub fn kept_closure(cur: Cursor, ins: Instr, credit: &Credit, bank: &Bank) -> Option<Value> {
    let kept = cur.r(ins.c);
    let k = kept.as_obj::<Closure>()?;
    (Arc::ptr_eq(&k.info, &cur.info().protos[ins.b as usize]) && captures_same(cur, k))
        .then(|| credit.take(k, bank))
}

/// The bits of what a `TaskClosure`'s register holds once its site has stopped keeping
/// closures: a NaN with a payload no arithmetic makes. (A register holds 空 or a scalar
/// an earlier frame left there before it is first written; one that happened to hold this
/// would only make its site keep nothing.)
const NOT_KEPT: u64 = 0x7ff8_5149_0000_0001;

fn not_kept() -> Value {
    Value::float(f64::from_bits(NOT_KEPT))
}

fn is_not_kept(v: &Value) -> bool {
    v.tag() == Tag::Float && v.float_unchecked().to_bits() == NOT_KEPT
}

/// Whether `kept` holds the very cells a closure of its function made here would capture.
fn captures_same(cur: Cursor, kept: &Closure) -> bool {
    let captures = &kept.info.proto.captures;
    captures.len() == kept.upvalues.len()
        && captures.iter().zip(&kept.upvalues).all(|(c, held)| {
            let now = match *c {
                Capture::Local(r) => cur.r(r).as_obj::<CellObj>(),
                Capture::Upvalue(i) => cur.closure().upvalues.get(i as usize).map(|u| &**u),
            };
            now.is_some_and(|cell| std::ptr::eq(cell, &**held))
        })
}

pub fn new_dict(regs: &[Value]) -> Result<Value, Exit> {
    let mut map = crate::object::DictMap::default();
    for pair in regs.chunks_exact(2) {
        let key = super::member::dict_key(&pair[0])?;
        map.insert(key, pair[1].clone());
    }
    Ok(Value::new(DictObj::new(map)))
}

/// `NewStruct A B C`: the type in `R[B]`, field values in `R[B+1]…`, names in `K[C]`.
pub fn new_struct(cur: Cursor, b: u16, k: u16) -> Result<Value, Exit> {
    let Some(ty) = cur.r(b).to_arc::<StructType>() else {
        return Err(error(
            Code::E3011,
            format!("：「{}」不是结构体", type_name(cur.r(b))),
        ));
    };
    let Some(Constant::Fields { names, ordered }) = cur.info().proto.consts.get(k as usize) else {
        return Err(error(Code::E3011, ""));
    };
    let n = names.len() as u16;
    let given = cur.slice(b + 1, n);
    let mut fields: Vec<Value> = if *ordered && names.len() == ty.fields.len() {
        given.to_vec()
    } else {
        let mut slots: Vec<Option<Value>> = vec![None; ty.fields.len()];
        for (name, v) in names.iter().zip(given) {
            let Some(i) = ty.field_index(Symbol::intern(name)) else {
                return Err(error(
                    Code::E3011,
                    format!("：「{}」没有字段「{name}」", ty.name),
                ));
            };
            slots[i] = Some(v.clone());
        }
        let mut out = Vec::with_capacity(slots.len());
        for (i, s) in slots.into_iter().enumerate() {
            match s {
                Some(v) => out.push(v),
                None => {
                    return Err(error(
                        Code::E3011,
                        format!("：缺少字段「{}」", ty.fields[i].0.name()),
                    ));
                }
            }
        }
        out
    };
    for (v, (_, desc)) in fields.iter_mut().zip(ty.fields.iter()) {
        if let Some(desc) = desc {
            check_type(v, desc, None)?;
        }
    }
    Ok(Value::new(Instance {
        ty,
        fields: parking_lot::Mutex::new(fields),
    }))
}

/// `NewVariant A B C`: variant `C` of the enum in `R[B]`, payload in `R[B+1]…`.
pub fn new_variant(cur: Cursor, b: u16, index: u16) -> Result<Value, Exit> {
    let Some(ty) = cur.r(b).to_arc::<EnumType>() else {
        return Err(error(
            Code::E3007,
            format!("：「{}」不是枚举", type_name(cur.r(b))),
        ));
    };
    let Some(&(_, arity)) = ty.variants.get(index as usize) else {
        return Err(error(Code::E3008, ""));
    };
    // The payload registers must lie in this frame (the type decides how many).
    if b as usize + 1 + arity as usize > cur.info().proto.num_regs as usize {
        return Err(error(Code::E3006, ""));
    }
    let mut payload = cur.slice(b + 1, arity).to_vec().into_boxed_slice();
    ty.check_payload(index as usize, &mut payload)?;
    Ok(Value::new(VariantObj { ty, index, payload }))
}

/// `IterInit`: an iterator over a list, string, dict (keys) or range.
pub fn iter_init(v: &Value) -> Result<Value, Exit> {
    let state = match v.tag() {
        // The loop resumes the coroutine / receives from the channel itself.
        Tag::Coroutine | Tag::Channel => return Ok(v.clone()),
        Tag::List => IterState::List {
            list: v.clone(),
            index: 0,
        },
        Tag::Str => IterState::Str {
            text: v.clone(),
            offset: 0,
        },
        Tag::Dict => {
            let version = v.as_obj::<DictObj>().map_or(0, |d| d.inner.lock().version);
            IterState::Dict {
                dict: v.clone(),
                index: 0,
                version,
            }
        }
        Tag::Range => match v.as_obj::<RangeObj>() {
            Some(r) => IterState::Range {
                range: *r,
                index: 0,
            },
            None => IterState::Done,
        },
        Tag::Nil => {
            return Err(error(Code::E7009, "：不能遍历 空"));
        }
        _ => {
            return Err(error(
                Code::E3009,
                format!("：「{}」不能用「对于」遍历", type_name(v)),
            ));
        }
    };
    Ok(Value::new(IterObj::new(state)))
}

/// What `IterNext` found.
pub enum Next {
    Item(Value),
    Done,
    /// The loop is over a coroutine (the iterated register): resume it.
    Resume,
    /// The loop is over a channel (the iterated register): receive from it.
    Recv,
}

/// `IterNext`: the next item, or how to get it.
pub fn iter_next(it: &mut Value) -> Result<Next, Exit> {
    match it.tag() {
        Tag::Coroutine => return Ok(Next::Resume),
        Tag::Channel => return Ok(Next::Recv),
        _ => {}
    }
    // The loop's register is normally the iterator's only holder: then no lock is needed.
    let step = match it.unique_mut::<IterObj>() {
        Some(it) => it.state.get_mut().step(),
        None => match it.as_obj::<IterObj>() {
            Some(it) => it.state.lock().step(),
            None => return Ok(Next::Done),
        },
    };
    match step {
        Step::Item(v) => Ok(Next::Item(v)),
        Step::Done => Ok(Next::Done),
        Step::DictChanged => Err(error(Code::E7010, "")),
    }
}

/// `Add` of anything but two 整数 or two 浮点数 — string `+`, mixed numbers, or an error —
/// for both interpreter loops (the cursor by value, so the fast loop's stays in registers).
pub fn add_other(mut cur: Cursor, ins: Instr) -> Result<(), Exit> {
    let x = cur.r(ins.b);
    // `s = s + t` on a string this register alone owns appends in place (string `+`
    // cannot fail, so taking the value out is safe).
    let v = if ins.a == ins.b && ins.c != ins.a && x.tag() == Tag::Str {
        let lhs = cur.r_mut(ins.a).take();
        crate::ops::add(lhs, cur.r(ins.c))?
    } else {
        crate::ops::add_ref(x, cur.r(ins.c))?
    };
    cur.set(ins.a, v);
    Ok(())
}

pub fn type_const(cur: &Cursor, k: usize) -> &TypeDesc {
    match cur.info().proto.consts.get(k) {
        Some(Constant::Type(t)) => t,
        _ => &ANY,
    }
}

/// What a missing type constant checks: nothing (only a malformed proto has one).
static ANY: std::sync::LazyLock<TypeDesc> = std::sync::LazyLock::new(|| TypeDesc {
    written: "任意".into(),
    kind: TypeKind::Any,
});

/// Whether `v` passes a check whose instruction hint is `hint` (see
/// `qi_bytecode::opcode::Instr::hint`), by its tag alone: one table lookup. `false`
/// sends the caller to [`check_type`] (a mismatch, a widening, 任意, or a type that needs
/// a closer look).
#[inline(always)]
pub fn passes_by_hint(v: &Value, hint: u8) -> bool {
    HINT_TAGS[hint as usize] == v.tag() as u32
}

/// For each hint, the one tag its type admits; `NO_TAG` where there is no such tag
/// (no hint, 任意, 函数).
static HINT_TAGS: [u32; 256] = {
    const NO_TAG: u32 = u32::MAX;
    let mut tags = [NO_TAG; 256];
    let mut i = 0;
    while i < HINTED.len() {
        if let Some(tag) = one_tag(&HINTED[i]) {
            tags[i + 1] = tag as u32;
        }
        i += 1;
    }
    tags
};

/// The tag of the values a type admits, for the types that are exactly one tag.
#[inline(always)]
const fn one_tag(kind: &TypeKind) -> Option<Tag> {
    Some(match kind {
        TypeKind::Int => Tag::Int,
        TypeKind::Float => Tag::Float,
        TypeKind::Bool => Tag::Bool,
        TypeKind::Str => Tag::Str,
        TypeKind::Nil => Tag::Nil,
        TypeKind::List => Tag::List,
        TypeKind::Dict => Tag::Dict,
        TypeKind::Range => Tag::Range,
        TypeKind::Ref => Tag::Ref,
        TypeKind::Error => Tag::Error,
        TypeKind::Module => Tag::Module,
        TypeKind::Task => Tag::Task,
        TypeKind::Channel => Tag::Channel,
        TypeKind::Coroutine => Tag::Coroutine,
        _ => return None,
    })
}

/// Whether `v` satisfies `desc`; an 整数 in a 浮点数 place is widened in place.
/// `param` names the parameter for the message.
pub fn check_type(v: &mut Value, desc: &TypeDesc, param: Option<u16>) -> Result<(), Exit> {
    let ok = match &desc.kind {
        TypeKind::Any => true,
        TypeKind::Float => {
            if let Some(n) = v.as_int() {
                *v = Value::float(n as f64);
            }
            v.tag() == Tag::Float
        }
        TypeKind::Function => matches!(v.tag(), Tag::Function | Tag::Native | Tag::BoundMethod),
        TypeKind::Named(name) => match v.tag() {
            Tag::Instance => v.as_obj::<Instance>().is_some_and(|i| *i.ty.name == **name),
            Tag::Variant => v
                .as_obj::<VariantObj>()
                .is_some_and(|e| *e.ty.name == **name),
            // Built-in types named in annotations: 互斥锁, 请求, 监听器 …
            _ => crate::print::builtin_type_name(v) == Some(&**name),
        },
        kind => one_tag(kind).is_some_and(|t| v.tag() == t),
    };
    if ok {
        return Ok(());
    }
    let what = match param {
        Some(i) => format!("：第 {} 个参数", i + 1),
        None => String::new(),
    };
    Err(error(
        Code::E3001,
        format!("{what}：期望「{}」，得到「{}」", desc.written, type_name(v)),
    ))
}

pub fn is_variant(ty: &Value, v: &Value, name: Symbol) -> bool {
    let (Some(t), Some(var)) = (ty.as_obj::<EnumType>(), v.as_obj::<VariantObj>()) else {
        return false;
    };
    std::ptr::eq(t, Arc::as_ptr(&var.ty)) && var.variant_name() == name
}

pub fn is_instance(ty: &Value, v: &Value) -> bool {
    let (Some(t), Some(inst)) = (ty.as_obj::<StructType>(), v.as_obj::<Instance>()) else {
        return false;
    };
    std::ptr::eq(t, Arc::as_ptr(&inst.ty))
}

pub fn payload(v: &Value, i: u16) -> Value {
    v.as_obj::<VariantObj>()
        .and_then(|var| var.payload.get(i as usize).cloned())
        .unwrap_or(Value::NIL)
}

pub fn in_range_pattern(cur: Cursor, b: u16, k: usize) -> bool {
    let Some(Constant::RangePattern {
        start,
        end,
        inclusive,
    }) = cur.info().proto.consts.get(k)
    else {
        return false;
    };
    let v = cur.r(b);
    if v.as_number().is_none() {
        return false;
    }
    let lit = |p: &PatternLiteral| match p {
        PatternLiteral::Int(n) => Value::int(*n),
        PatternLiteral::Float(x) => Value::float(*x),
    };
    let (lo, hi) = (lit(start), lit(end));
    let above = crate::ops::less_eq(&lo, v).unwrap_or(false);
    let below = if *inclusive {
        crate::ops::less_eq(v, &hi).unwrap_or(false)
    } else {
        crate::ops::less(v, &hi).unwrap_or(false)
    };
    above && below
}

/// `RefCell`, `RefUpval`, `RefGlobal`, `RefGlobalRo`. For the first two, C is 0 for a
/// read-only reference, 1 for a writable one, and 2 + k for a writable one whose variable
/// has the annotation `K[k]`.
pub fn make_ref(cur: Cursor, ins: Instr) -> Value {
    let local_ty = |c: u16| match c {
        0 | 1 => None,
        k => type_of_const(cur, (k - 2) as usize),
    };
    let (target, writable, ty) = match ins.op {
        Op::RefCell => {
            let cell = cur
                .r(ins.b)
                .to_arc::<CellObj>()
                .unwrap_or_else(|| Arc::new(CellObj::new(cur.r(ins.b).clone())));
            (RefTarget::Cell(cell), ins.c != 0, local_ty(ins.c))
        }
        Op::RefUpval => (
            RefTarget::Cell(cur.closure().upvalues[ins.b as usize].clone()),
            ins.c != 0,
            local_ty(ins.c),
        ),
        _ => {
            let module = cur.info().module_arc();
            let Some(module) = module else {
                return Value::NIL;
            };
            let ty = module
                .proto
                .as_ref()
                .and_then(|p| p.globals.get(ins.bx() as usize))
                .and_then(|g| g.ty.clone());
            (
                RefTarget::Global(module, ins.bx()),
                ins.op == Op::RefGlobal,
                ty,
            )
        }
    };
    Value::new(RefObj {
        target,
        writable,
        ty,
    })
}

fn type_of_const(cur: Cursor, k: usize) -> Option<TypeDesc> {
    match cur.info().proto.consts.get(k) {
        Some(Constant::Type(t)) => Some(t.clone()),
        _ => None,
    }
}

pub fn deref(r: &Value) -> Result<Value, Exit> {
    match r.as_obj::<RefObj>() {
        Some(r) => Ok(r.get()),
        None => Err(error(
            Code::E3009,
            format!("：「解引用」需要引用，这里是「{}」", type_name(r)),
        )),
    }
}

pub fn set_deref(r: &Value, v: Value) -> Result<(), Exit> {
    match r.as_obj::<RefObj>() {
        Some(r) if r.writable => {
            let mut v = v;
            if let Some(ty) = &r.ty {
                check_type(&mut v, ty, None)?;
            }
            if r.set(v) {
                Ok(())
            } else {
                Err(fixed_cell_store())
            }
        }
        Some(_) => Err(crate::native::error_with_hint(
            Code::E3005,
            "：这个引用指向「变量」声明的绑定",
            "若要通过引用修改，用「可变」声明原变量",
        )),
        None => Err(error(
            Code::E3009,
            format!("：「解引用」需要引用，这里是「{}」", type_name(r)),
        )),
    }
}

/// `GetCell A B` for the fast loop; `false` when `R[B]` is not a cell, or is the register
/// read into (that would drop the cell while it is read). The check is here rather than a
/// guard on the fast loop's match arm: with the guard, every call and return in the loop
/// cost nine instructions more (callgrind, fib), through how the match was compiled.
#[inline(never)]
pub fn get_cell(mut cur: Cursor, ins: Instr) -> bool {
    if ins.a == ins.b {
        return false;
    }
    let here = cur;
    let Some(cell) = here.r(ins.b).as_obj::<CellObj>() else {
        return false;
    };
    cell.load_into(cur.r_mut(ins.a));
    true
}

/// A store to the cell of an immutable binding: the compiler never emits one (E3005).
pub fn fixed_cell_store() -> Exit {
    error(Code::E7000, "：内部错误：给不可变绑定的单元赋值")
}
