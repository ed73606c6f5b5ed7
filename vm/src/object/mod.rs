//! Heap object types: everything a [`Value`](crate::value::Value) can point to.
//!
//! Immutable objects (strings, ranges, functions, types) need no lock. Mutable ones (lists,
//! dicts, struct instances, cells) keep their contents behind a `parking_lot::Mutex`, held
//! only for the duration of one whole operation — never across a call into Qi code, so a
//! lock can never be held while a task suspends.

mod cell;
mod channel;
mod coroutine;
mod dict;
mod error;
mod function;
mod iter;
mod list;
pub mod module;
mod range;
mod reference;
mod socket;
mod string;
mod structs;
mod sync;

pub use cell::CellObj;
pub use channel::{CaseIndex, ChanInner, ChannelObj, Received, RecvWaiter, SendQueue, Sent, Woken};
pub use coroutine::{CoStatus, CoroutineObj};
pub use dict::{DictKey, DictObj, Map as DictMap};
pub use error::{ErrorObj, ThrowSite};
pub use function::{BoundMethod, Closure, FunctionInfo, NativeFn, NativeFunction, Upvalues};
pub use iter::{IterObj, IterState, Step};
pub use list::ListObj;
pub use module::{Export, ModuleObj};
pub use range::RangeObj;
pub use reference::{RefObj, RefTarget};
pub use socket::{Role, SocketKind, SocketObj, SocketState, io_reason};
pub use string::StrObj;
pub use structs::{EnumType, Instance, MethodTable, StructType, VariantObj};
pub use sync::{AtomicIntObj, LockState, MutexObj, WaitGroupObj};
