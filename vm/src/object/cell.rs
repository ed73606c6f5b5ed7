//! A boxed variable: how closures capture by reference.
//!
//! A captured `可变` variable can be assigned from any task, so its value sits behind a
//! lock. A captured `变量` that got its value where it was declared never changes (the
//! compiler rejects assignments with E3005): its cell holds the value unlocked, and a read
//! is a plain load — what a loop in a task that reads a captured channel does every step.

use parking_lot::Mutex;

use crate::value::{Value, drop_queue};

#[derive(Debug)]
pub struct CellObj {
    slot: Slot,
    /// Makes a cell 56 bytes with its `Arc` counts: see [`APART`].
    _apart: [u8; APART],
}

/// Padding that gives a cell (and a closure, `object::Closure`) a cache line of its own.
///
/// Every task that runs a closure reads the closure and its cells, on every worker. A cell
/// was 48 bytes with its counts, as is a task's frame vector (and a three-register
/// segment): mimalloc gave cells, closures and the frames of tasks made on the same thread
/// neighbouring blocks of one page, and each frame pushed on one core took the line with
/// a cell or the closure away from the other core (gdb showed a `Frame` right after the
/// closure; a million `启动` on two workers lost 11% and more there). At 56 bytes a cell
/// goes to mimalloc's 64-byte size class, whose blocks are whole, aligned cache lines: it
/// shares its line with nothing. (A parked task owns no cell or closure: the tasks of a
/// loop share them.)
const APART: usize = 8;

#[derive(Debug)]
enum Slot {
    /// An immutable binding's value, fixed when the cell was made.
    Fixed(Value),
    /// A variable's value.
    Var(Mutex<Value>),
}

impl Default for CellObj {
    fn default() -> CellObj {
        CellObj::new(Value::NIL)
    }
}

impl CellObj {
    /// A cell for a variable that may be assigned.
    pub fn new(v: Value) -> CellObj {
        CellObj {
            slot: Slot::Var(Mutex::new(v)),
            _apart: [0; APART],
        }
    }

    /// A cell that keeps `v` for good.
    pub fn fixed(v: Value) -> CellObj {
        CellObj {
            slot: Slot::Fixed(v),
            _apart: [0; APART],
        }
    }

    /// The value of a cell that keeps it for good (an immutable binding's), read in place.
    #[inline(always)]
    pub fn fixed_value(&self) -> Option<&Value> {
        match &self.slot {
            Slot::Fixed(v) => Some(v),
            Slot::Var(_) => None,
        }
    }

    #[inline]
    pub fn get(&self) -> Value {
        match &self.slot {
            Slot::Fixed(v) => v.clone(),
            Slot::Var(m) => m.lock().clone(),
        }
    }

    /// Runs `f` on the value (under the lock, for a variable).
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&Value) -> R) -> R {
        match &self.slot {
            Slot::Fixed(v) => f(v),
            Slot::Var(m) => f(&m.lock()),
        }
    }

    /// Copies the value into `dst`, which often holds it already — a loop reading a
    /// captured variable into the same register — and then costs no count changes.
    #[inline]
    pub fn load_into(&self, dst: &mut Value) {
        let v = match &self.slot {
            Slot::Fixed(v) => {
                if dst.same(v) {
                    return;
                }
                v.clone()
            }
            Slot::Var(m) => {
                let cur = m.lock();
                if dst.same(&cur) {
                    return;
                }
                cur.clone()
            }
        };
        *dst = v;
    }

    /// Replaces the value; the old one is dropped after the lock is released. `false`
    /// for a fixed cell, which keeps its value: its binding is immutable, so the compiler
    /// emits no store to it (E3005) and a reference to it is read-only — a `false` here
    /// is a compiler bug, which the caller reports as an internal error.
    #[inline]
    #[must_use]
    pub fn set(&self, v: Value) -> bool {
        match &self.slot {
            Slot::Fixed(_) => false,
            Slot::Var(m) => {
                let old = std::mem::replace(&mut *m.lock(), v);
                drop(old);
                true
            }
        }
    }

    /// Takes the value of a garbage cell, to cut a cycle. A fixed cell is left alone: it
    /// can only point at objects older than itself, so no cycle needs it cut.
    pub fn cut(&self) -> Value {
        match &self.slot {
            Slot::Fixed(_) => Value::NIL,
            Slot::Var(m) => m.lock().take(),
        }
    }
}

impl Drop for CellObj {
    fn drop(&mut self) {
        let v = match &mut self.slot {
            Slot::Fixed(v) => v.take(),
            Slot::Var(m) => m.get_mut().take(),
        };
        drop_queue::release_one(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_variable_cells_read_alike() {
        let fixed = CellObj::fixed(Value::from(7i64));
        let var = CellObj::new(Value::from(7i64));
        for c in [&fixed, &var] {
            let mut dst = Value::NIL;
            c.load_into(&mut dst);
            assert!(dst.same(&Value::from(7i64)));
            assert!(c.get().same(&Value::from(7i64)));
        }
        assert!(var.set(Value::from(8i64)));
        assert!(!fixed.set(Value::from(9i64)));
        assert!(var.get().same(&Value::from(8i64)));
        assert!(var.cut().same(&Value::from(8i64)));
        assert!(fixed.cut().is_nil());
        assert!(fixed.get().same(&Value::from(7i64)));
    }
}
