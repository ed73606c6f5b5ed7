//! A boxed variable: how closures capture by reference.
//!
//! A captured `可变` variable can be assigned from any task, so its value sits behind a
//! lock. A captured `变量` that got its value where it was declared never changes (the
//! compiler rejects assignments with E3005): its cell holds the value unlocked, and a read
//! is a plain load — what a loop in a task that reads a captured channel does every step.

use parking_lot::Mutex;

use crate::value::{Value, drop_queue};

#[derive(Debug)]
pub enum CellObj {
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
        CellObj::Var(Mutex::new(v))
    }

    /// A cell that keeps `v` for good.
    pub fn fixed(v: Value) -> CellObj {
        CellObj::Fixed(v)
    }

    #[inline]
    pub fn get(&self) -> Value {
        match self {
            CellObj::Fixed(v) => v.clone(),
            CellObj::Var(m) => m.lock().clone(),
        }
    }

    /// Runs `f` on the value (under the lock, for a variable).
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&Value) -> R) -> R {
        match self {
            CellObj::Fixed(v) => f(v),
            CellObj::Var(m) => f(&m.lock()),
        }
    }

    /// Copies the value into `dst`, which often holds it already — a loop reading a
    /// captured variable into the same register — and then costs no count changes.
    #[inline]
    pub fn load_into(&self, dst: &mut Value) {
        let v = match self {
            CellObj::Fixed(v) => {
                if dst.same(v) {
                    return;
                }
                v.clone()
            }
            CellObj::Var(m) => {
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
        match self {
            CellObj::Fixed(_) => false,
            CellObj::Var(m) => {
                let old = std::mem::replace(&mut *m.lock(), v);
                drop(old);
                true
            }
        }
    }

    /// Takes the value of a garbage cell, to cut a cycle. A fixed cell is left alone: it
    /// can only point at objects older than itself, so no cycle needs it cut.
    pub fn cut(&self) -> Value {
        match self {
            CellObj::Fixed(_) => Value::NIL,
            CellObj::Var(m) => m.lock().take(),
        }
    }
}

impl Drop for CellObj {
    fn drop(&mut self) {
        let v = match self {
            CellObj::Fixed(v) => v.take(),
            CellObj::Var(m) => m.get_mut().take(),
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
