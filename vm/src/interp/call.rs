//! Calls and returns: pushing and popping heap frames, and calling natives.
//!
//! A call to a Qi closure places the callee's frame so that its first registers are the
//! arguments the caller already put in `R[A+1]…` (or `R[A]…` when 自己 is the receiver),
//! so the common call moves nothing. Natives get those registers as a slice.

use std::sync::atomic::Ordering;

use qi_bytecode::diagnostic::Code;

use super::frame::{Cursor, Frame, FrameKind, move_args};
use crate::fiber::Fiber;
use crate::native::{Exit, NativeCtx, error, error_with_hint};
use crate::object::module::{MODULE_DONE, MODULE_RUNNING};
use crate::object::{BoundMethod, Closure, ModuleObj, NativeFunction};
use crate::value::{Tag, Value};
use crate::vm::Shared;

/// What a call did.
pub enum Called {
    /// A Qi frame was pushed: the loop must switch to it.
    Entered,
    /// The result is already in `R[A]` (a native ran).
    Done,
}

/// Pushes a frame for `closure` whose arguments are the `nargs` registers at `args`
/// (`args` is where the frame wants to start). Checks depth (E7006).
#[inline(always)]
fn enter(
    shared: &Shared,
    fiber: &mut Fiber,
    closure: &Closure,
    args: *mut Value,
    nargs: usize,
    ret: *mut Value,
) -> Result<(), Exit> {
    if fiber.frames.len() >= shared.config.max_frames {
        return Err(too_deep(shared));
    }
    // The verifier makes `num_regs` at least the arguments a call can pass.
    let need = closure.info.num_regs as usize;
    let seg = fiber.frames.last().map_or(0, |f| f.seg);
    let (base, seg) = fiber.stack.place(seg, args, need);
    if base != args {
        // SAFETY: both ranges hold `nargs` registers of this fiber, in different segments.
        unsafe { move_args(args, base, nargs) };
    }
    // The caller keeps the closure alive (frame invariant 3).
    fiber
        .frames
        .push(Frame::new(closure, base, ret, seg, FrameKind::Call));
    Ok(())
}

#[cold]
fn too_deep(shared: &Shared) -> Exit {
    error(
        Code::E7006,
        format!("：调用深度超过 {} 层", shared.config.max_frames),
    )
}

fn arity_error(name: &str, expected: usize, got: usize) -> Exit {
    error(
        Code::E3006,
        format!("：「{name}」需要 {expected} 个参数，这里给了 {got} 个"),
    )
}

/// Calls a Qi closure with the arguments in `R[a+1]…`.
fn call_closure(
    shared: &Shared,
    fiber: &mut Fiber,
    cur: Cursor,
    c: &Closure,
    a: u16,
    argc: u16,
) -> Result<(), Exit> {
    let proto = &c.info.proto;
    if proto.uses_self {
        return Err(error_with_hint(
            Code::E3012,
            format!("：「{}」用到了「自己」", proto.name),
            "用 值.方法() 的形式调用，才能使用「自己」",
        ));
    }
    if proto.arity != argc {
        return Err(arity_error(
            crate::print::function_name(&proto.name),
            proto.arity as usize,
            argc as usize,
        ));
    }
    enter(shared, fiber, c, cur.ptr(a + 1), argc as usize, cur.ptr(a))
}

/// Runs a native on `args` (after checking their number). (Inlined, with the error out
/// of line: a call of its own was some 20 instructions more on every native call.)
#[inline]
fn run_native(cx: &super::Cx<'_>, n: &NativeFunction, args: &[Value]) -> Result<Value, Exit> {
    let given = args.len().saturating_sub(n.method as usize);
    if !n.arity.accepts(given) {
        return Err(wrong_count(n, given));
    }
    let mut ctx = NativeCtx {
        cx,
        shared: cx.shared,
        callee: n,
    };
    (n.f)(&mut ctx, args)
}

/// E3006 for a native given `given` arguments it does not take.
#[cold]
#[inline(never)]
fn wrong_count(n: &NativeFunction, given: usize) -> Exit {
    error(
        Code::E3006,
        format!(
            "：「{}」需要{}参数，这里给了 {given} 个",
            n.name,
            n.arity.describe()
        ),
    )
}

/// Whether a value of this type has methods written in Rust, worth calling in place
/// (`invoke_lent`). Structs' and enums' methods are Qi code; a coroutine's `恢复` leaves
/// the loop; modules and types hold functions.
#[inline(always)]
pub fn lends_to_natives(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::Str
            | Tag::List
            | Tag::Dict
            | Tag::Range
            | Tag::Ref
            | Tag::Error
            | Tag::Task
            | Tag::Channel
            | Tag::Mutex
            | Tag::WaitGroup
            | Tag::AtomicInt
            | Tag::Socket
    )
}

/// `Invoke A B C` on `receiver`, a fixed cell's value that `R[A]` was about to get a copy
/// of (`GetUpval A U` just before), when the method is a native:
/// the native reads the receiver in place (`Value::lend`), which saves counting the copy
/// up and down — two atomic operations per call of a list's, a counter's or a wait
/// group's method. For a receiver of a type `lends_to_natives` admits. `None` when that
/// does not apply (a method the prelude writes in Qi, an unknown name), and the
/// instructions run as they are. The caller puts
/// a copy in `R[A]` on an error (or a wait), as the two instructions would have left it.
/// (Out of line: inlined, it made the fast loop's entry and exit dearer for everything,
/// a coroutine's round trip by 60 instructions.)
#[inline(never)]
pub fn invoke_lent(
    cx: &super::Cx<'_>,
    cur: &Cursor,
    receiver: &Value,
    a: u16,
    argc: u16,
    name_index: u16,
) -> Lent {
    let info = cur.info();
    let Some(n) = info.syms.get(name_index as usize).and_then(|name| {
        let cache = info.method_cache.get(name_index as usize)?;
        super::member::native_method(cx.shared, receiver.tag(), *name, cache)
    }) else {
        return Lent::NotNative;
    };
    let mut cur = Cursor::reload(cur);
    // SAFETY: `R[A]` is a register of the running frame, which only this call touches
    // meanwhile; a native reads its arguments through a shared slice (it may clone them,
    // never take them); `receiver` is a fixed cell's value, and the running closure
    // holds the cell.
    let result = unsafe {
        Value::lend(cur.ptr(a), receiver, || {
            run_native(cx, n, cur.slice(a, argc + 1))
        })
    };
    // The value goes into `R[A]` here, field by field: wrapped whole in the result, it
    // was copied twice more, each time read back wider than it had been written, a
    // stalled load (a tenth of a million spawns, whose tasks call two such methods).
    match result {
        Ok(v) => {
            cur.set(a, v);
            Lent::Done
        }
        Err(exit) => Lent::Failed(exit),
    }
}

/// How `invoke_lent` went.
pub enum Lent {
    /// The native returned; its value is in `R[A]`.
    Done,
    /// The native threw or must wait; `R[A]` holds 空.
    Failed(Exit),
    /// The method is not a native: the instructions run as they are.
    NotNative,
}

/// `Call A B`: calls whatever `R[A]` holds.
pub fn call(
    cx: &super::Cx<'_>,
    fiber: &mut Fiber,
    mut cur: Cursor,
    a: u16,
    argc: u16,
    discarded: bool,
) -> Result<Called, Exit> {
    let shared = cx.shared;
    let callee = cur.r(a);
    match callee.tag() {
        Tag::Function => {
            let Some(c) = callee.as_obj::<Closure>() else {
                return Err(not_callable(callee));
            };
            if c.info.proto.is_async {
                // Calling an 异步 函数 starts it as a task (QI-LANGUAGE.md §7.2); as a
                // statement its handle is thrown away.
                let pc = cur.pc().saturating_sub(1) as usize;
                let here = cur;
                let site = crate::sched::task::SiteAt {
                    file: &here.info().proto.file,
                    span: here.info().proto.spans.get(pc).copied().unwrap_or_default(),
                };
                let t = super::tasks::spawn_call(
                    cx,
                    callee.clone(),
                    cur.slice_mut(a + 1, argc),
                    discarded,
                    Some(site),
                )?;
                cur.set(a, t);
                return Ok(Called::Done);
            }
            // `R[A]` holds the closure and is not touched until the call returns.
            call_closure(shared, fiber, cur, c, a, argc)?;
            Ok(Called::Entered)
        }
        Tag::Native => {
            let Some(native) = callee.as_obj::<NativeFunction>() else {
                return Err(not_callable(callee));
            };
            // The native borrows the argument registers; the result replaces the callee.
            let v = run_native(cx, native, cur.slice(a + 1, argc))?;
            cur.set(a, v);
            Ok(Called::Done)
        }
        Tag::BoundMethod => {
            let bound = callee.clone();
            let Some(b) = bound.as_obj::<BoundMethod>() else {
                return Err(not_callable(cur.r(a)));
            };
            let mut args = Vec::with_capacity(argc as usize + 1);
            args.push(b.receiver.clone());
            args.extend_from_slice(cur.slice(a + 1, argc));
            call_with_receiver(cx, fiber, cur, &b.method, args, a)
        }
        _ => Err(not_callable(callee)),
    }
}

/// Calls `method` with the receiver first in `args` (a bound method, or a built-in
/// method found by name). `R[a]` keeps whatever keeps `method` alive.
fn call_with_receiver(
    cx: &super::Cx<'_>,
    fiber: &mut Fiber,
    mut cur: Cursor,
    method: &Value,
    args: Vec<Value>,
    a: u16,
) -> Result<Called, Exit> {
    match method.tag() {
        Tag::Native => {
            let Some(n) = method.as_obj::<NativeFunction>() else {
                return Err(not_callable(method));
            };
            let v = run_native(cx, n, &args)?;
            cur.set(a, v);
            Ok(Called::Done)
        }
        Tag::Function => {
            let Some(c) = method.as_obj::<Closure>() else {
                return Err(not_callable(method));
            };
            let proto = &c.info.proto;
            // A method that uses 自己 takes the receiver as R[0]; a Qi-written built-in
            // method takes it as its first parameter; any other function ignores it.
            let args: Vec<Value> = if proto.uses_self || proto.arity as usize == args.len() {
                args
            } else {
                args.into_iter().skip(1).collect()
            };
            let expected = proto.arity as usize + proto.uses_self as usize;
            if args.len() != expected {
                return Err(arity_error(
                    &proto.name,
                    proto.arity as usize,
                    args.len() - proto.uses_self as usize,
                ));
            }
            let want = cur.ptr(a + 1);
            enter_with_values(cx.shared, fiber, c, want, args, cur.ptr(a))?;
            Ok(Called::Entered)
        }
        _ => Err(not_callable(method)),
    }
}

/// Pushes a frame for `c` starting at or after `want`, with `args` written into it.
fn enter_with_values(
    shared: &Shared,
    fiber: &mut Fiber,
    c: &Closure,
    want: *mut Value,
    args: Vec<Value>,
    ret: *mut Value,
) -> Result<(), Exit> {
    enter(shared, fiber, c, want, 0, ret)?;
    let Some(top) = fiber.frames.last() else {
        return Ok(());
    };
    let base = top.base;
    for (i, v) in args.into_iter().enumerate() {
        // SAFETY: the new frame has at least `arity (+1)` registers, which the arity
        // check made equal to `args.len()`.
        unsafe { *base.add(i) = v };
    }
    Ok(())
}

fn not_callable(v: &Value) -> Exit {
    let hint = if v.tag() == Tag::StructType {
        "结构体用 名字 { 字段: 值 } 创建"
    } else {
        "只有函数可以调用"
    };
    error_with_hint(
        Code::E3007,
        format!("：「{}」类型的值不能调用", crate::print::type_name(v)),
        hint,
    )
}

/// `CallDecl A B C`: calls the top-level function `D[C]`, arguments in `R[A+1]…`.
pub fn call_decl(
    shared: &Shared,
    fiber: &mut Fiber,
    cur: Cursor,
    a: u16,
    argc: u16,
    slot: u16,
) -> Result<(), Exit> {
    let module = cur.info().module();
    let Some(c) = module
        .decls
        .get(slot as usize)
        .and_then(|v| v.as_obj::<Closure>())
    else {
        return Err(error(Code::E3007, "：声明不是函数"));
    };
    // The module's declarations keep `c` alive.
    if c.info.arity != argc {
        return Err(arity_error(
            &c.info.proto.name,
            c.info.proto.arity as usize,
            argc as usize,
        ));
    }
    enter(shared, fiber, c, cur.ptr(a + 1), argc as usize, cur.ptr(a))
}

/// `Invoke A B C`: calls method `K[C]` of `R[A]` with the arguments in `R[A+1]…`.
pub fn invoke(
    cx: &super::Cx<'_>,
    fiber: &mut Fiber,
    cur: &Cursor,
    a: u16,
    argc: u16,
    name_index: u16,
) -> Result<Called, Exit> {
    // By reference: a cursor passed by value went through a copy the caller wrote in one
    // wide store, and reading its register pointer back stalled on store forwarding (a
    // list-heavy program spent a tenth of its time there). The fast loop lends a copy of
    // its cursor, so that its own stays in registers (`fast.rs`).
    let mut cur = Cursor::reload(cur);
    let shared = cx.shared;
    let info = cur.info();
    let name = info.syms[name_index as usize];
    let cache = &info.method_cache[name_index as usize];
    let receiver = cur.r(a);
    if let Some(n) = super::member::native_method(shared, receiver.tag(), name, cache) {
        // Built-in methods take the receiver first: R[A]… is already that list.
        let v = run_native(cx, n, cur.slice(a, argc + 1))?;
        cur.set(a, v);
        return Ok(Called::Done);
    }
    match super::member::find_method(shared, receiver, name, cache)? {
        super::member::Method::Own(m) => {
            // A method of the receiver's own type: 自己 is R[A] in place. The receiver
            // holds its type, which holds the method.
            let Some(c) = m.as_obj::<Closure>() else {
                return Err(not_callable(m));
            };
            let proto = &c.info.proto;
            if proto.arity != argc {
                return Err(arity_error(
                    &proto.name,
                    proto.arity as usize,
                    argc as usize,
                ));
            }
            if proto.uses_self {
                enter(shared, fiber, c, cur.ptr(a), argc as usize + 1, cur.ptr(a))?;
            } else {
                enter(shared, fiber, c, cur.ptr(a + 1), argc as usize, cur.ptr(a))?;
            }
            Ok(Called::Entered)
        }
        super::member::Method::Builtin(m) => {
            // A built-in method written in Qi (the prelude's; `native_method` above took
            // those written in Rust). The VM's method table keeps `m` alive.
            let Some(c) = m.as_obj::<Closure>() else {
                return Err(not_callable(m));
            };
            let proto = &c.info.proto;
            if proto.arity != argc + 1 {
                return Err(arity_error(
                    &proto.name,
                    proto.arity as usize - 1,
                    argc as usize,
                ));
            }
            enter(shared, fiber, c, cur.ptr(a), argc as usize + 1, cur.ptr(a))?;
            Ok(Called::Entered)
        }
        super::member::Method::Value(f) => {
            // A field or module member holding a function: call it without 自己.
            cur.set(a, f);
            call(cx, fiber, cur, a, argc, false)
        }
    }
}

/// Pops the top frame after it returned `v`. `Some` when the fiber is finished.
#[inline]
pub fn ret(fiber: &mut Fiber, v: Value) -> Option<super::Outcome> {
    let frame = fiber.frames.pop()?;
    frame.clear_on_return();
    let depth = fiber.frames.len() as u32;
    while fiber.handlers.last().is_some_and(|h| h.frame >= depth) {
        fiber.handlers.pop();
    }
    match frame.kind {
        FrameKind::Call => {
            // SAFETY: `ret` points at the caller's R[A], live while the caller is.
            unsafe { *frame.ret = v };
            None
        }
        FrameKind::ModuleInit => {
            let module = frame.info().module_arc();
            if let Some(m) = &module {
                m.state.store(MODULE_DONE, Ordering::Release);
            }
            // SAFETY: as above.
            unsafe { *frame.ret = module.map_or(Value::NIL, Value::object) };
            None
        }
        FrameKind::Entry => Some(super::Outcome::Returned(v)),
    }
}

/// `Import A Bx`: the module of import `Bx`, running its top level first if needed.
pub fn import(
    shared: &Shared,
    fiber: &mut Fiber,
    mut cur: Cursor,
    a: u16,
    index: u32,
) -> Result<Called, Exit> {
    let module = cur
        .info()
        .module()
        .imports
        .get(index as usize)
        .cloned()
        .unwrap_or(Value::NIL);
    let Some(m) = module.as_obj::<ModuleObj>() else {
        return Err(error(Code::E4001, ""));
    };
    if m.state.load(Ordering::Acquire) != crate::object::module::MODULE_NEW {
        cur.set(a, module.clone());
        return Ok(Called::Done);
    }
    let Some(c) = m.main.as_obj::<Closure>() else {
        cur.set(a, module.clone());
        return Ok(Called::Done);
    };
    m.state.store(MODULE_RUNNING, Ordering::Release);
    // The module (held by the VM's registry) keeps its main closure alive.
    let c: *const Closure = c;
    let ret = cur.ptr(a);
    let want = cur.ptr(a + 1);
    // SAFETY: see above.
    enter(shared, fiber, unsafe { &*c }, want, 0, ret)?;
    if let Some(top) = fiber.frames.last_mut() {
        top.kind = FrameKind::ModuleInit;
    }
    Ok(Called::Entered)
}

/// Starts a fiber on `closure` (held alive by `keep`) with `args`.
pub fn enter_entry(fiber: &mut Fiber, keep: Value, args: &[Value]) -> Result<(), Exit> {
    enter_entry_with(fiber, keep, args.len(), |i| args[i].clone())
}

/// `enter_entry` that moves the arguments out of `args` (a spawn's own registers, which
/// nothing reads after it): a copy and a drop of each were two locked instructions on a
/// line that, for an object every task uses, the other workers write too.
pub fn enter_entry_taking(fiber: &mut Fiber, keep: Value, args: &mut [Value]) -> Result<(), Exit> {
    enter_entry_with(fiber, keep, args.len(), |i| args[i].take())
}

/// `enter_entry` with argument `i` given by `arg(i)`.
#[inline(always)]
fn enter_entry_with(
    fiber: &mut Fiber,
    keep: Value,
    argc: usize,
    mut arg: impl FnMut(usize) -> Value,
) -> Result<(), Exit> {
    if !fiber.frames.is_empty() {
        // `Fiber::keep` holds one entry frame's closure; a second would end the first's
        // hold while its frame still runs.
        return Err(error(
            Code::E7000,
            "：内部错误：入口帧只能在没有帧的纤程上开始",
        ));
    }
    let c = keep.into_arc::<Closure>().map_err(|v| not_callable(&v))?;
    let need = (c.info.proto.num_regs as usize).max(argc);
    let base = fiber.stack.bottom();
    let (base, seg) = fiber.stack.place(0, base, need);
    for i in 0..argc {
        // SAFETY: `place` gave `need` registers, at least `argc`.
        unsafe { *base.add(i) = arg(i) };
    }
    fiber.frames.push(Frame::new(
        &c,
        base,
        std::ptr::null_mut(),
        seg,
        FrameKind::Entry,
    ));
    // `fiber.keep` holds the closure from here on (frame invariant 3).
    fiber.keep.set(c);
    Ok(())
}

/// Pushes the entry frame of the closure a fiber without frames keeps, with no arguments:
/// a task's first turn, when its spawn left the entry to it (`TaskExec::entry_pending`).
/// The fiber's registers are all given up, as `Fiber::new` and `Fiber::reset` leave them.
pub fn enter_kept(fiber: &mut Fiber) -> Result<(), Exit> {
    let Some(c) = fiber.keep.take() else {
        return Err(error(Code::E7000, "：内部错误：纤程没有要进入的函数"));
    };
    fiber.stack.fit_first(c.info.proto.num_regs as usize);
    // (The body inlined, not a call of `enter_entry`: this runs at every spawned task's
    // first turn.)
    enter_entry_with(fiber, Value::object(c), 0, |_| Value::NIL)
}

/// Starts a fiber that runs `module`'s top level and then finishes.
pub fn enter_module_init(fiber: &mut Fiber, module: &ModuleObj) -> Result<(), Exit> {
    if module.main.is_nil() {
        return Ok(());
    }
    module.state.store(MODULE_RUNNING, Ordering::Release);
    enter_entry(fiber, module.main.clone(), &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fiber keeps one entry frame's closure (`Fiber::keep`): a second entry frame on a
    /// fiber that still runs one is refused, and one on a fiber whose entry frame returned
    /// takes the kept closure's place.
    #[test]
    fn an_entry_frame_starts_only_on_a_fiber_without_frames() {
        let module = crate::loader::test_module("变量 x = 1;\n");
        let mut fiber = Fiber::new(8);
        assert!(enter_entry(&mut fiber, module.main.clone(), &[]).is_ok());
        assert_eq!(fiber.keep.iter().count(), 1);
        match enter_entry(&mut fiber, module.main.clone(), &[]) {
            Err(Exit::Throw(e)) => assert!(crate::print::display(&e).contains("E7000")),
            _ => panic!("a second entry frame is refused"),
        }
        assert_eq!(fiber.depth(), 1, "the running frame stays");
        fiber.frames.clear();
        assert!(enter_entry(&mut fiber, module.main.clone(), &[]).is_ok());
        assert_eq!(fiber.keep.iter().count(), 1);
    }
}
