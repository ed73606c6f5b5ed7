//! Interned names: field, method and built-in names compare as integers.
//!
//! One table per process. It only grows, and holds nothing of any VM's state, so VMs in
//! one process still share nothing observable.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Symbol(pub u32);

#[derive(Default)]
struct Table {
    /// foldhash, seeded per process: SipHash made interning the built-in names a tenth of
    /// start-up.
    ids: HashMap<Arc<str>, Symbol, foldhash::fast::RandomState>,
    names: Vec<Arc<str>>,
}

fn table() -> &'static RwLock<Table> {
    static TABLE: OnceLock<RwLock<Table>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Table::default();
        // Symbol(0) is the empty name, used where a constant is not a name.
        let empty: Arc<str> = Arc::from("");
        t.ids.insert(empty.clone(), Symbol(0));
        t.names.push(empty);
        RwLock::new(t)
    })
}

impl Symbol {
    pub fn intern(name: &str) -> Symbol {
        if let Some(&s) = table().read().ids.get(name) {
            return s;
        }
        let mut t = table().write();
        if let Some(&s) = t.ids.get(name) {
            return s;
        }
        let s = Symbol(t.names.len() as u32);
        let name: Arc<str> = Arc::from(name);
        t.names.push(name.clone());
        t.ids.insert(name, s);
        s
    }

    pub fn name(self) -> Arc<str> {
        table()
            .read()
            .names
            .get(self.0 as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }
}
