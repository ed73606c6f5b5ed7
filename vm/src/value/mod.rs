//! `Value`: the one type every register, constant, field and list slot holds.
//!
//! # Layout (the JIT reads it directly; see docs/architecture.md)
//!
//! ```text
//!  offset 0        4        8                16
//!         +--------+--------+-----------------+
//!         |  tag   | (zero) |     payload     |
//!         +--------+--------+-----------------+
//! ```
//!
//! `#[repr(C)]`, 16 bytes, 8-aligned. The tag is a `u32` ([`Tag`]); the payload is an `i64`
//! (整数), the bits of an `f64` (浮点数), `0`/`1` (布尔), zero (空), or — for every tag at or
//! above [`Tag::FIRST_HEAP`] — a pointer obtained from `Arc::into_raw` on the object type
//! that the tag names. Cloning a heap value increments that `Arc`'s count, dropping it
//! decrements it; nothing else touches the count.
//!
//! # Invariants
//!
//! - A heap tag always comes with a live pointer of exactly the type the tag names
//!   (`heap_types!` below is the single list of pairs).
//! - Every heap object type is `Send + Sync` (checked at compile time below): mutable ones
//!   guard their contents with a lock, so two tasks racing on one list see whole
//!   operations, never a torn value.
//! - Dropping never recurses on the Rust stack: containers hand their children to
//!   [`drop_queue`], which frees deep graphs with a loop.
//!
//! All `unsafe` of the value layout lives in this file.

pub mod convert;
pub mod drop_queue;

use std::sync::Arc;

use crate::object::{
    AtomicIntObj, BoundMethod, CellObj, ChannelObj, Closure, CoroutineObj, DictObj, EnumType,
    ErrorObj, Instance, IterObj, ListObj, ModuleObj, MutexObj, NativeFunction, RangeObj, RefObj,
    SocketObj, StrObj, StructType, VariantObj, WaitGroupObj,
};
use crate::sched::task::Task;

/// What a [`Value`] is. The numeric values are part of the JIT's ABI.
///
/// A whole word, though every number fits in 32 bits: in memory (little-endian) that is
/// the `u32` tag followed by four zero bytes, the layout above, but every write of a value
/// stores it with one instruction — see [`Value`]'s `tag`.
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tag {
    Nil = 0,
    Bool = 1,
    Int = 2,
    Float = 3,
    /// A global slot whose declaration has not run yet (E3010). Never visible to Qi code.
    Uninit = 4,

    Str = 16,
    List = 17,
    Dict = 18,
    /// A struct instance.
    Instance = 19,
    /// An enum value.
    Variant = 20,
    /// A Qi function or closure.
    Function = 21,
    Native = 22,
    BoundMethod = 23,
    Range = 24,
    Ref = 25,
    Error = 26,
    Module = 27,
    StructType = 28,
    EnumType = 29,
    /// A boxed variable captured by a closure. Lives only in registers and upvalue lists.
    Cell = 30,
    /// The state of a `对于` loop. Lives only in registers.
    Iterator = 31,
    Coroutine = 32,
    /// A task or 未来 (the same thing, QI-LANGUAGE.md §3).
    Task = 33,
    Channel = 34,
    Mutex = 35,
    WaitGroup = 36,
    AtomicInt = 37,
    /// A TCP listener, connection or HTTP service.
    Socket = 38,
}

impl Tag {
    /// Tags at or above this one carry an `Arc` pointer.
    pub const FIRST_HEAP: u32 = 16;

    #[inline(always)]
    pub fn is_heap(self) -> bool {
        self as u32 >= Tag::FIRST_HEAP
    }
}

/// A Qi value. See the module docs for the layout.
#[repr(C)]
pub struct Value {
    /// A word, not a `u32` and a spare `u32`, so that every write of a value stores its
    /// first half in one go: a read of the whole value right after a write made of two
    /// 4-byte stores cannot be forwarded from them and stalls. perf put a tenth of fib's
    /// samples on one such read (the `返回` of what `+` had just written); one-word tags
    /// made fib and the 30M loop 3–4% faster. Being an enum, it keeps the niche that makes
    /// `Option<Value>` 16 bytes.
    tag: Tag,
    payload: u64,
}

#[cfg(target_endian = "big")]
compile_error!("Value's layout puts the tag's low 32 bits at offset 0");

// The JIT depends on these numbers.
const _: () = assert!(std::mem::size_of::<Value>() == 16);
const _: () = assert!(std::mem::align_of::<Value>() == 8);

/// A heap object type that a [`Value`] can point to.
pub trait HeapObject: Send + Sync + Sized + 'static {
    const TAG: Tag;
}

macro_rules! heap_types {
    ($($tag:ident => $ty:ty,)*) => {
        $(impl HeapObject for $ty { const TAG: Tag = Tag::$tag; })*

        /// Increments the count of the object behind a heap value.
        ///
        /// # Safety
        /// `tag` and `payload` must come from a live `Value`.
        #[inline]
        unsafe fn retain(tag: Tag, payload: u64) {
            match tag {
                // SAFETY: by the invariant, `payload` came from `Arc::<$ty>::into_raw`
                // and the value holding it keeps the count above zero.
                $(Tag::$tag => unsafe { Arc::increment_strong_count(payload as *const $ty) },)*
                _ => {}
            }
        }

        /// A weak pointer (`Weak::into_raw`) to the object behind a heap value.
        ///
        /// # Safety
        /// `tag` and `payload` must come from a live `Value`.
        unsafe fn weak_new(tag: Tag, payload: u64) -> *const () {
            match tag {
                // SAFETY: as for `retain`; the `ManuallyDrop` leaves the value's count alone.
                $(Tag::$tag => unsafe {
                    let arc = std::mem::ManuallyDrop::new(Arc::from_raw(payload as *const $ty));
                    std::sync::Weak::into_raw(Arc::downgrade(&arc)) as *const ()
                },)*
                _ => std::ptr::null(),
            }
        }

        /// The object behind a weak pointer, as a new strong payload, if it is alive.
        ///
        /// # Safety
        /// `ptr` must come from `weak_new` with the same `tag` and not be released yet.
        unsafe fn weak_upgrade(tag: Tag, ptr: *const ()) -> Option<u64> {
            match tag {
                // SAFETY: `ptr` is a live weak pointer of this type; `ManuallyDrop` keeps
                // its weak count, which `weak_release` gives up later.
                $(Tag::$tag => unsafe {
                    let weak = std::mem::ManuallyDrop::new(std::sync::Weak::from_raw(ptr as *const $ty));
                    weak.upgrade().map(|a| Arc::into_raw(a) as u64)
                },)*
                _ => None,
            }
        }

        /// Gives up a weak pointer.
        ///
        /// # Safety
        /// `ptr` must come from `weak_new` with the same `tag`, released once.
        unsafe fn weak_release(tag: Tag, ptr: *const ()) {
            match tag {
                // SAFETY: by the contract above.
                $(Tag::$tag => unsafe { drop(std::sync::Weak::from_raw(ptr as *const $ty)) },)*
                _ => {}
            }
        }

        /// Decrements the count of the object behind a heap value, freeing it at zero.
        /// Kept out of line so that dropping an immediate value stays one compare.
        ///
        /// # Safety
        /// `tag` and `payload` must come from a `Value` that is being dropped.
        #[inline(never)]
        unsafe fn release(tag: Tag, payload: u64) {
            match tag {
                // SAFETY: as for `retain`; the dropped value gives up its one count.
                $(Tag::$tag => unsafe { Arc::decrement_strong_count(payload as *const $ty) },)*
                _ => {}
            }
        }
    };
}

heap_types! {
    Str => StrObj,
    List => ListObj,
    Dict => DictObj,
    Instance => Instance,
    Variant => VariantObj,
    Function => Closure,
    Native => NativeFunction,
    BoundMethod => BoundMethod,
    Range => RangeObj,
    Ref => RefObj,
    Error => ErrorObj,
    Module => ModuleObj,
    StructType => StructType,
    EnumType => EnumType,
    Cell => CellObj,
    Iterator => IterObj,
    Coroutine => CoroutineObj,
    Task => Task,
    Channel => ChannelObj,
    Mutex => MutexObj,
    WaitGroup => WaitGroupObj,
    AtomicInt => AtomicIntObj,
    Socket => SocketObj,
}

impl Value {
    pub const NIL: Value = Value {
        tag: Tag::Nil,
        payload: 0,
    };
    pub const TRUE: Value = Value {
        tag: Tag::Bool,
        payload: 1,
    };
    pub const FALSE: Value = Value {
        tag: Tag::Bool,
        payload: 0,
    };
    pub const UNINIT: Value = Value {
        tag: Tag::Uninit,
        payload: 0,
    };

    #[inline(always)]
    pub const fn int(n: i64) -> Value {
        Value {
            tag: Tag::Int,
            payload: n as u64,
        }
    }

    #[inline(always)]
    pub fn float(x: f64) -> Value {
        Value {
            tag: Tag::Float,
            payload: x.to_bits(),
        }
    }

    #[inline(always)]
    pub fn bool(b: bool) -> Value {
        Value {
            tag: Tag::Bool,
            payload: b as u64,
        }
    }

    /// Wraps a heap object; the value owns the `Arc`'s count.
    pub fn object<T: HeapObject>(obj: Arc<T>) -> Value {
        Value {
            tag: T::TAG,
            payload: Arc::into_raw(obj) as u64,
        }
    }

    pub fn new<T: HeapObject>(obj: T) -> Value {
        if crate::gc::trace::is_traced(T::TAG) {
            crate::gc::made_container();
        }
        Value::object(Arc::new(obj))
    }

    #[inline(always)]
    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// The raw payload word (the JIT and hashing of identities use it).
    #[inline(always)]
    pub fn payload(&self) -> u64 {
        self.payload
    }

    #[inline(always)]
    pub fn is_nil(&self) -> bool {
        self.tag() == Tag::Nil
    }

    #[inline(always)]
    pub fn as_int(&self) -> Option<i64> {
        (self.tag() == Tag::Int).then_some(self.payload as i64)
    }

    #[inline(always)]
    pub fn as_float(&self) -> Option<f64> {
        (self.tag() == Tag::Float).then(|| f64::from_bits(self.payload))
    }

    #[inline(always)]
    pub fn as_bool(&self) -> Option<bool> {
        (self.tag() == Tag::Bool).then_some(self.payload != 0)
    }

    /// The payload as an integer, without checking the tag. Callers check the tag first.
    #[inline(always)]
    pub fn int_unchecked(&self) -> i64 {
        self.payload as i64
    }

    #[inline(always)]
    pub fn float_unchecked(&self) -> f64 {
        f64::from_bits(self.payload)
    }

    /// 整数 or 浮点数 as `f64`.
    pub fn as_number(&self) -> Option<f64> {
        match self.tag() {
            Tag::Int => Some(self.payload as i64 as f64),
            Tag::Float => Some(f64::from_bits(self.payload)),
            _ => None,
        }
    }

    /// Borrows the heap object if the value is one of type `T`.
    #[inline(always)]
    pub fn as_obj<T: HeapObject>(&self) -> Option<&T> {
        if self.tag() == T::TAG {
            // SAFETY: the tag names `T`, so the payload is a live `Arc<T>` pointer; the
            // borrow of `self` keeps the count above zero for the reference's lifetime.
            Some(unsafe { &*(self.payload as *const T) })
        } else {
            None
        }
    }

    /// A new `Arc` to the heap object if the value is one of type `T`.
    pub fn to_arc<T: HeapObject>(&self) -> Option<Arc<T>> {
        if self.tag() == T::TAG {
            let ptr = self.payload as *const T;
            // SAFETY: as in `as_obj`; the increment gives the new `Arc` its own count.
            unsafe {
                Arc::increment_strong_count(ptr);
                Some(Arc::from_raw(ptr))
            }
        } else {
            None
        }
    }

    /// The heap object, for changing in place without its lock, if the value is one of
    /// type `T` and its only holder: no other value and no weak reference shares it.
    pub fn unique_mut<T: HeapObject>(&mut self) -> Option<&mut T> {
        if self.tag() != T::TAG {
            return None;
        }
        // SAFETY: the tag names `T`, so the payload came from `Arc::<T>::into_raw`; the
        // `ManuallyDrop` leaves the value's count alone.
        let mut arc =
            std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(self.payload as *const T) });
        let obj: *mut T = Arc::get_mut(&mut arc)?;
        // SAFETY: `get_mut` found no other `Arc` or `Weak`, and `&mut self` keeps this one
        // alive and unshared while the borrow lasts.
        Some(unsafe { &mut *obj })
    }

    /// The value's `Arc` itself if it is a heap object of type `T` (its count moves over,
    /// unchanged); otherwise the value back.
    pub fn into_arc<T: HeapObject>(self) -> Result<Arc<T>, Value> {
        if self.tag() != T::TAG {
            return Err(self);
        }
        let ptr = self.payload as *const T;
        std::mem::forget(self);
        // SAFETY: the tag names `T`, so the payload came from `Arc::<T>::into_raw`, and the
        // forgotten value's one count is the one the new `Arc` owns.
        Ok(unsafe { Arc::from_raw(ptr) })
    }

    /// Whether two values are the same object (or the same immediate bits).
    pub fn same(&self, other: &Value) -> bool {
        self.tag() == other.tag() && self.payload == other.payload
    }

    /// Runs `f` with the register at `slot` holding `v` without a count of its own, then
    /// leaves 空 there. A native method called on a captured binding's value reads its
    /// receiver in place this way (`call::invoke_lent`): the count the binding's cell
    /// holds keeps the object alive, where a copy into the register and its drop after
    /// the call were two atomic operations, on a cache line that every task calling a
    /// shared counter's or wait group's method passed around.
    ///
    /// # Safety
    ///
    /// `slot` must point to a live register that nothing else writes during `f`; `f` may
    /// read the register and clone its value but not move it out or drop it; and `v`
    /// must stay alive and unchanged during `f` (a fixed cell's value, the cell kept alive
    /// by the running closure). The register is not traced meanwhile: an unfinished
    /// task's registers are roots to the cycle collector, and nothing else reads them.
    pub unsafe fn lend<R>(slot: *mut Value, v: &Value, f: impl FnOnce() -> R) -> R {
        /// Puts 空 back over the uncounted copy however `f` ends.
        struct Reclaim(*mut Value);
        impl Drop for Reclaim {
            fn drop(&mut self) {
                // SAFETY: the caller's `slot`, which holds the uncounted copy: it is
                // overwritten without being dropped.
                unsafe { std::ptr::write(self.0, Value::NIL) };
            }
        }
        // SAFETY: `slot` is a live register (the caller's contract). Its old value is
        // dropped as usual; the copy of `v` written over it shares `v`'s count, which is
        // never given up, because `Reclaim` overwrites the copy without dropping it.
        unsafe {
            drop(std::ptr::replace(slot, std::ptr::read(v)));
        }
        let _reclaim = Reclaim(slot);
        f()
    }

    /// Moves the value out, leaving 空 behind.
    #[inline(always)]
    pub fn take(&mut self) -> Value {
        std::mem::replace(self, Value::NIL)
    }

    /// The number of `Arc` references to the object (1 for immediates). A count of one
    /// means the holder may change the object in place (string appends).
    pub fn ref_count(&self) -> usize {
        macro_rules! count {
            ($($tag:ident => $ty:ty),*) => {
                match self.tag() {
                    // SAFETY: the tag names the type; `self` keeps the object alive.
                    $(Tag::$tag => unsafe {
                        let arc = std::mem::ManuallyDrop::new(Arc::from_raw(self.payload as *const $ty));
                        Arc::strong_count(&arc)
                    },)*
                    _ => 1,
                }
            };
        }
        count!(Str => StrObj, List => ListObj, Dict => DictObj, Instance => Instance,
            Variant => VariantObj, Function => Closure, Native => NativeFunction,
            BoundMethod => BoundMethod, Range => RangeObj, Ref => RefObj, Error => ErrorObj,
            Module => ModuleObj, StructType => StructType, EnumType => EnumType, Cell => CellObj,
            Iterator => IterObj, Coroutine => CoroutineObj, Task => Task, Channel => ChannelObj,
            Mutex => MutexObj, WaitGroup => WaitGroupObj, AtomicInt => AtomicIntObj,
            Socket => SocketObj)
    }

    /// Mutable access to a string whose only reference is this value (for in-place
    /// appends), or `None` when it is shared or not a string.
    pub fn unique_str_mut(&mut self) -> Option<&mut StrObj> {
        if self.tag() != Tag::Str {
            return None;
        }
        let ptr = self.payload as *const StrObj;
        // SAFETY: the tag names StrObj. The temporary Arc is never dropped (ManuallyDrop),
        // so the count is unchanged; `get_mut` succeeds only when this value holds the
        // sole reference, and the `&mut self` borrow makes the returned reference unique.
        unsafe {
            let mut arc = std::mem::ManuallyDrop::new(Arc::from_raw(ptr));
            Arc::get_mut(&mut arc).map(|s| &mut *(s as *mut StrObj))
        }
    }
}

impl Clone for Value {
    #[inline(always)]
    fn clone(&self) -> Value {
        if self.tag().is_heap() {
            // SAFETY: `self` is live, so its tag and payload are a valid pair.
            unsafe { retain(self.tag(), self.payload) };
        }
        Value {
            tag: self.tag,
            payload: self.payload,
        }
    }
}

impl Drop for Value {
    #[inline(always)]
    fn drop(&mut self) {
        if self.tag().is_heap() {
            // SAFETY: `self` owns one count of its object and gives it up here.
            unsafe { release(self.tag(), self.payload) };
        }
    }
}

/// A weak reference to a heap object: it does not keep the object's contents alive (the
/// cycle collector remembers suspects this way, so remembering one never delays a free).
pub struct WeakValue {
    tag: Tag,
    ptr: *const (),
}

// SAFETY: a `Weak<T>` of a `Send + Sync` type (every heap object type is) is `Send + Sync`.
unsafe impl Send for WeakValue {}
// SAFETY: as above.
unsafe impl Sync for WeakValue {}

impl WeakValue {
    /// `None` for an immediate value.
    pub fn new(v: &Value) -> Option<WeakValue> {
        if !v.tag().is_heap() {
            return None;
        }
        // SAFETY: `v` is a live heap value.
        let ptr = unsafe { weak_new(v.tag(), v.payload) };
        (!ptr.is_null()).then_some(WeakValue { tag: v.tag(), ptr })
    }

    /// The object, if something still holds it.
    pub fn upgrade(&self) -> Option<Value> {
        // SAFETY: `ptr` came from `weak_new` with this tag and is released only in Drop.
        let payload = unsafe { weak_upgrade(self.tag, self.ptr) }?;
        Some(Value {
            tag: self.tag,
            payload,
        })
    }

    /// The object's address (the same as its values' payload), for identity.
    pub fn addr(&self) -> u64 {
        self.ptr as u64
    }
}

impl Drop for WeakValue {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `weak_new` with this tag; this is its one release.
        unsafe { weak_release(self.tag, self.ptr) }
    }
}

impl Default for Value {
    fn default() -> Value {
        Value::NIL
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::print::repr(self))
    }
}

#[cfg(test)]
mod tests {

    /// A lent value is read in place, its count untouched; the register's old value is
    /// dropped as usual, and 空 is left behind, also when the closure panics.
    #[test]
    fn lend_leaves_counts_alone() {
        use crate::object::ListObj;
        let lent = Arc::new(ListObj::new(vec![Value::int(1)]));
        let old = Arc::new(ListObj::new(Vec::new()));
        let v = Value::object(lent.clone());
        let mut slot = Value::object(old.clone());
        // SAFETY: `slot` is ours and only read in the closure; `v` outlives the call.
        let seen = unsafe {
            Value::lend(&mut slot, &v, || {
                assert_eq!(Arc::strong_count(&lent), 2);
                slot.same(&v)
            })
        };
        assert!(seen);
        assert!(slot.is_nil());
        assert_eq!(Arc::strong_count(&old), 1);
        assert_eq!(Arc::strong_count(&lent), 2);
        let mut slot = Value::NIL;
        let slot_ptr: *mut Value = &mut slot;
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: as above.
            unsafe { Value::lend(slot_ptr, &v, || panic!("in the middle")) }
        }));
        assert!(caught.is_err());
        assert!(slot.is_nil());
        drop(v);
        assert_eq!(Arc::strong_count(&lent), 1);
    }

    use super::*;

    #[test]
    fn layout_is_sixteen_bytes_tag_then_payload() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::align_of::<Value>(), 8);
        assert_eq!(std::mem::offset_of!(Value, tag), 0);
        assert_eq!(std::mem::size_of::<Option<Value>>(), 16);
        assert_eq!(std::mem::offset_of!(Value, payload), 8);
        // The tag is the `u32` at offset 0 and the next four bytes are zero, as the JIT
        // reads them.
        let v = Value::int(-1);
        // SAFETY: a `Value` is 16 initialised bytes.
        let bytes: [u8; 16] = unsafe { std::mem::transmute_copy(&v) };
        assert_eq!(
            u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            Tag::Int as u32
        );
        assert_eq!(bytes[4..8], [0; 4]);
        assert_eq!(bytes[8..], [0xff; 8]);
    }

    #[test]
    fn tag_numbers_are_stable() {
        // The JIT compares against these constants; changing one is an ABI change.
        assert_eq!(Tag::Nil as u32, 0);
        assert_eq!(Tag::Bool as u32, 1);
        assert_eq!(Tag::Int as u32, 2);
        assert_eq!(Tag::Float as u32, 3);
        assert_eq!(Tag::Str as u32, 16);
        assert_eq!(Tag::Cell as u32, 30);
        assert!(!Tag::Uninit.is_heap());
        assert!(Tag::Str.is_heap());
    }

    #[test]
    fn immediates_round_trip() {
        assert_eq!(Value::int(-7).as_int(), Some(-7));
        assert_eq!(Value::int(i64::MIN).as_int(), Some(i64::MIN));
        assert_eq!(Value::float(2.5).as_float(), Some(2.5));
        assert_eq!(Value::bool(true).as_bool(), Some(true));
        assert!(Value::NIL.is_nil());
        assert_eq!(Value::int(3).as_float(), None);
    }

    #[test]
    fn clone_and_drop_count_references() {
        let s = Value::new(StrObj::new("甲"));
        assert_eq!(s.ref_count(), 1);
        let t = s.clone();
        assert_eq!(s.ref_count(), 2);
        drop(t);
        assert_eq!(s.ref_count(), 1);
    }

    #[test]
    fn into_arc_moves_the_count_and_gives_other_values_back() {
        let s = Value::new(StrObj::new("甲"));
        let t = s.clone();
        let Ok(arc) = s.into_arc::<StrObj>() else {
            panic!("a string is a StrObj");
        };
        assert_eq!(Arc::strong_count(&arc), 2);
        drop(arc);
        assert_eq!(t.ref_count(), 1);
        let n = Value::int(3);
        assert!(matches!(n.into_arc::<StrObj>(), Err(v) if v.as_int() == Some(3)));
        assert!(t.into_arc::<ListObj>().is_err());
    }

    #[test]
    fn unique_mut_only_for_the_sole_holder() {
        let mut l = Value::new(ListObj::new(vec![Value::int(1)]));
        assert!(l.unique_mut::<ListObj>().is_some());
        assert!(l.unique_mut::<StrObj>().is_none());
        let other = l.clone();
        assert!(l.unique_mut::<ListObj>().is_none());
        drop(other);
        // A weak reference (a cycle-collector suspect) shares it too.
        let weak = WeakValue::new(&l);
        assert!(l.unique_mut::<ListObj>().is_none());
        drop(weak);
        if let Some(list) = l.unique_mut::<ListObj>() {
            list.items.get_mut().push(Value::int(2));
        }
        assert_eq!(l.as_obj::<ListObj>().map(|x| x.items.lock().len()), Some(2));
    }

    #[test]
    fn unique_strings_can_be_changed_in_place() {
        let mut s = Value::new(StrObj::new("甲"));
        s.unique_str_mut().unwrap().push_str("乙");
        assert_eq!(s.as_obj::<StrObj>().unwrap().as_str(), "甲乙");
        let t = s.clone();
        assert!(s.unique_str_mut().is_none());
        drop(t);
        assert!(s.unique_str_mut().is_some());
    }
}
