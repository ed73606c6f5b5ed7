//! A boxed variable: how closures capture by reference.

use parking_lot::Mutex;

use crate::value::{Value, drop_queue};

#[derive(Debug, Default)]
pub struct CellObj {
    pub value: Mutex<Value>,
}

impl CellObj {
    pub fn new(v: Value) -> CellObj {
        CellObj {
            value: Mutex::new(v),
        }
    }

    #[inline]
    pub fn get(&self) -> Value {
        self.value.lock().clone()
    }

    /// Copies the value into `dst`, which often holds it already — a loop reading a
    /// captured variable into the same register — and then costs no count changes.
    #[inline]
    pub fn load_into(&self, dst: &mut Value) {
        let v = {
            let cur = self.value.lock();
            if dst.same(&cur) {
                return;
            }
            cur.clone()
        };
        *dst = v;
    }

    /// Replaces the value; the old one is dropped after the lock is released.
    #[inline]
    pub fn set(&self, v: Value) {
        let old = std::mem::replace(&mut *self.value.lock(), v);
        drop(old);
    }
}

impl Drop for CellObj {
    fn drop(&mut self) {
        drop_queue::release_one(self.value.get_mut().take());
    }
}
