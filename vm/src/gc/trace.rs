//! What the cycle collector sees of each object: its outgoing strong references, and how
//! to cut them.
//!
//! Only containers that can be on a cycle are traced. Everything else — strings, numbers,
//! types, modules, natives, sockets, locks, unfinished tasks — is either a leaf or held by
//! the VM itself, and a reference from it counts as a reference from outside the graph
//! under study, which keeps its target alive. So an edge left out here can only make the
//! collector keep something, never free something in use; an edge reported that is not a
//! strong reference would be unsound, which is why every edge below is a `Value` or an
//! `Arc` the object owns.

use std::sync::Arc;

use crate::fiber::Fiber;
use crate::object::*;
use crate::sched::task::{Ending, Task};
use crate::value::{Tag, Value};

/// Whether values with this tag are nodes of the collector's graph.
pub const fn is_traced(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::List
            | Tag::Dict
            | Tag::Instance
            | Tag::Variant
            | Tag::Function
            | Tag::BoundMethod
            | Tag::Ref
            | Tag::Cell
            | Tag::Iterator
            | Tag::Coroutine
            | Tag::Channel
            | Tag::Task
    )
}

fn push(v: &Value, out: &mut Vec<Value>) {
    if is_traced(v.tag()) {
        out.push(v.clone());
    }
}

fn push_cell(c: &Arc<CellObj>, out: &mut Vec<Value>) {
    out.push(Value::object(c.clone()));
}

fn fiber_children(f: &Fiber, out: &mut Vec<Value>) {
    for v in f.stack.values() {
        push(v, out);
    }
    if is_traced(Tag::Function) {
        out.extend(f.keep.iter().map(|c| Value::object(c.clone())));
    }
}

/// Pushes the traced values `v` holds strong references to (one entry per reference).
/// `None` when `v` must be treated as held from outside (an unfinished task).
pub fn children(v: &Value, out: &mut Vec<Value>) -> Option<()> {
    match v.tag() {
        Tag::List => v
            .as_obj::<ListObj>()?
            .items
            .lock()
            .iter()
            .for_each(|x| push(x, out)),
        Tag::Dict => v
            .as_obj::<DictObj>()?
            .inner
            .lock()
            .map
            .values()
            .for_each(|x| push(x, out)),
        Tag::Instance => v
            .as_obj::<Instance>()?
            .fields
            .lock()
            .iter()
            .for_each(|x| push(x, out)),
        Tag::Variant => v
            .as_obj::<VariantObj>()?
            .payload
            .iter()
            .for_each(|x| push(x, out)),
        Tag::Function => v
            .as_obj::<Closure>()?
            .upvalues
            .iter()
            .for_each(|c| push_cell(c, out)),
        Tag::BoundMethod => {
            let b = v.as_obj::<BoundMethod>()?;
            push(&b.receiver, out);
            push(&b.method, out);
        }
        Tag::Ref => {
            if let RefTarget::Cell(c) = &v.as_obj::<RefObj>()?.target {
                push_cell(c, out);
            }
        }
        Tag::Cell => v.as_obj::<CellObj>()?.with(|x| push(x, out)),
        Tag::Iterator => match &*v.as_obj::<IterObj>()?.state.lock() {
            IterState::List { list, .. } => push(list, out),
            IterState::Dict { dict, .. } => push(dict, out),
            _ => {}
        },
        Tag::Coroutine => {
            v.as_obj::<CoroutineObj>()?.with_parked(|f| {
                if let Some(f) = f {
                    fiber_children(f, out);
                }
            });
        }
        Tag::Channel => {
            let ch = v.as_obj::<ChannelObj>()?;
            let inner = ch.inner.lock();
            inner.buf.iter().for_each(|x| push(x, out));
            inner.sendq.values().for_each(|x| push(x, out));
        }
        Tag::Task => task_children(v.as_obj::<Task>()?, out)?,
        _ => {}
    }
    Some(())
}

fn any_traced<'a>(mut vs: impl Iterator<Item = &'a Value>) -> bool {
    vs.any(|x| is_traced(x.tag()))
}

/// Whether `v` holds any traced value. One that does not cannot be on a cycle, and if it
/// is garbage, cutting the cycle that holds it frees it by counting: the collector does
/// not need it in its graph. An unfinished task counts as having none: it is a root, and
/// what it holds is never traced.
pub fn has_children(v: &Value) -> bool {
    match v.tag() {
        Tag::List => v
            .as_obj::<ListObj>()
            .is_some_and(|l| any_traced(l.items.lock().iter())),
        Tag::Dict => v
            .as_obj::<DictObj>()
            .is_some_and(|d| any_traced(d.inner.lock().map.values())),
        Tag::Instance => v
            .as_obj::<Instance>()
            .is_some_and(|i| any_traced(i.fields.lock().iter())),
        Tag::Variant => v
            .as_obj::<VariantObj>()
            .is_some_and(|e| any_traced(e.payload.iter())),
        Tag::Function => v
            .as_obj::<Closure>()
            .is_some_and(|c| !c.upvalues.is_empty()),
        Tag::Cell => v
            .as_obj::<CellObj>()
            .is_some_and(|c| c.with(|x| is_traced(x.tag()))),
        Tag::Task => v.as_obj::<Task>().is_some_and(Task::is_finished),
        Tag::BoundMethod | Tag::Ref | Tag::Iterator | Tag::Coroutine | Tag::Channel => true,
        _ => false,
    }
}

/// A finished task holds its result and what is left of its fibers; an unfinished one
/// can still run (or be woken by a timer, a socket, a host future), so it is a root.
fn task_children(t: &Task, out: &mut Vec<Value>) -> Option<()> {
    if !t.is_finished() {
        return None;
    }
    if let Some(e) = &t.state().lock().ending {
        push(e.value(), out);
    }
    let exec = t.exec().lock();
    if let Some(f) = &exec.root {
        fiber_children(f, out);
    }
    for r in &exec.chain {
        fiber_children(&r.fiber, out);
        out.push(Value::object(r.coroutine.clone()));
    }
    Some(())
}

/// Cuts the references a garbage object holds, moving them to `out` to be dropped once
/// no lock is held. Immutable objects (variants, closures, bound methods, references)
/// keep theirs: every cycle passes through a mutable object (an object can only point at
/// older ones when it is made), so cutting the mutable ones frees the rest by counting.
pub fn cut(v: &Value, out: &mut Vec<Value>) {
    match v.tag() {
        Tag::List => {
            if let Some(l) = v.as_obj::<ListObj>() {
                out.append(&mut l.items.lock());
            }
        }
        Tag::Dict => {
            if let Some(d) = v.as_obj::<DictObj>() {
                let mut inner = d.inner.lock();
                out.extend(inner.map.drain(..).map(|(_, v)| v));
                inner.version += 1;
            }
        }
        Tag::Instance => {
            if let Some(i) = v.as_obj::<Instance>() {
                out.extend(i.fields.lock().iter_mut().map(Value::take));
            }
        }
        Tag::Cell => {
            if let Some(c) = v.as_obj::<CellObj>() {
                out.push(c.cut());
            }
        }
        Tag::Iterator => {
            if let Some(it) = v.as_obj::<IterObj>() {
                let old = std::mem::replace(&mut *it.state.lock(), IterState::Done);
                match old {
                    IterState::List { list, .. } => out.push(list),
                    IterState::Dict { dict, .. } => out.push(dict),
                    _ => {}
                }
            }
        }
        Tag::Coroutine => {
            if let Some(co) = v.as_obj::<CoroutineObj>() {
                let fiber = co.with_parked(Option::take);
                // Dropped without running pending 最终 blocks (QI-LANGUAGE.md §9).
                drop(fiber);
            }
        }
        Tag::Channel => {
            if let Some(ch) = v.as_obj::<ChannelObj>() {
                let mut inner = ch.inner.lock();
                out.extend(inner.buf.drain(..));
                out.extend(inner.sendq.take_values());
            }
        }
        Tag::Task => {
            if let Some(t) = v.as_obj::<Task>() {
                match t.state().lock().ending.as_mut() {
                    Some(Ending::Value(x)) => out.push(x.take()),
                    Some(Ending::Error(f)) => out.push(f.value.take()),
                    None => {}
                }
                let mut exec = t.exec().lock();
                let root = exec.root.take();
                let chain = std::mem::take(&mut exec.chain);
                drop(exec);
                drop(root);
                for r in chain {
                    out.push(Value::object(r.coroutine));
                }
            }
        }
        _ => {}
    }
}
