//! Structs and enums: their types (immutable) and their values.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use qi_bytecode::proto::TypeDesc;

use crate::symbol::Symbol;
use crate::value::{Value, drop_queue};

/// A `结构体` declaration, linked.
#[derive(Debug)]
pub struct StructType {
    pub name: Arc<str>,
    /// Field names in declaration order, with their annotations.
    pub fields: Box<[(Symbol, Option<TypeDesc>)]>,
    pub methods: MethodTable,
}

impl StructType {
    pub fn field_index(&self, name: Symbol) -> Option<usize> {
        self.fields.iter().position(|(n, _)| *n == name)
    }

    pub fn method(&self, name: Symbol) -> Option<&Value> {
        self.methods.get(name)
    }
}

/// A type's methods by name: those of its own `方法` blocks, set once when its module is
/// linked, then those that later REPL entries add (`方法 点 { … }` for a `点` an earlier
/// entry declared), each entry's as one more table at the end of the chain.
///
/// Append-only, so a method found is borrowed for as long as the type lives, and a
/// lookup takes no lock: a type nobody extended costs one more load on a miss. Where
/// tables name the same method, the newest wins, as a redefined function does for the
/// entries after it.
#[derive(Debug, Default)]
pub struct MethodTable {
    own: OnceLock<HashMap<Symbol, Value>>,
    later: OnceLock<Box<MethodTable>>,
}

impl MethodTable {
    /// The type's own methods (once; a second call changes nothing).
    pub fn set(&self, methods: HashMap<Symbol, Value>) {
        let _ = self.own.set(methods);
    }

    pub fn get(&self, name: Symbol) -> Option<&Value> {
        match self.later.get() {
            None => self.own.get()?.get(&name),
            Some(later) => later.get(name).or_else(|| self.own.get()?.get(&name)),
        }
    }

    /// Adds methods after all the others (a later REPL entry's).
    pub fn extend(&self, methods: HashMap<Symbol, Value>) {
        let mut methods = Some(methods);
        let mut table = self;
        loop {
            let next = table.later.get_or_init(|| {
                Box::new(MethodTable {
                    own: OnceLock::from(methods.take().unwrap_or_default()),
                    later: OnceLock::new(),
                })
            });
            if methods.is_none() {
                return;
            }
            table = next;
        }
    }

    /// Every method name, each once.
    pub fn names(&self) -> Vec<Symbol> {
        let mut names: Vec<Symbol> = Vec::new();
        let mut table = Some(self);
        while let Some(t) = table {
            for name in t.own.get().into_iter().flat_map(HashMap::keys) {
                if !names.contains(name) {
                    names.push(*name);
                }
            }
            table = t.later.get().map(|b| &**b);
        }
        names
    }
}

/// A struct instance, shared by reference.
#[derive(Debug)]
pub struct Instance {
    pub ty: Arc<StructType>,
    /// Field values in the type's declaration order.
    pub fields: Mutex<Vec<Value>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        drop_queue::release(std::mem::take(self.fields.get_mut()));
    }
}

/// An `枚举` declaration, linked.
#[derive(Debug)]
pub struct EnumType {
    pub name: Arc<str>,
    /// Variant names and payload arities, in declaration order.
    pub variants: Box<[(Symbol, u16)]>,
    /// Each variant's payload annotations.
    pub payload_types: Box<[Box<[Option<TypeDesc>]>]>,
    pub methods: MethodTable,
}

impl EnumType {
    /// Checks (and widens) a payload against variant `index`'s annotations.
    pub fn check_payload(
        &self,
        index: usize,
        payload: &mut [Value],
    ) -> Result<(), crate::native::Exit> {
        let Some(types) = self.payload_types.get(index) else {
            return Ok(());
        };
        for (v, t) in payload.iter_mut().zip(types.iter()) {
            if let Some(t) = t {
                crate::interp::check_type(v, t, None)?;
            }
        }
        Ok(())
    }

    pub fn variant_index(&self, name: Symbol) -> Option<usize> {
        self.variants.iter().position(|(n, _)| *n == name)
    }

    pub fn method(&self, name: Symbol) -> Option<&Value> {
        self.methods.get(name)
    }
}

/// An enum value: immutable once made.
#[derive(Debug)]
pub struct VariantObj {
    pub ty: Arc<EnumType>,
    pub index: u16,
    pub payload: Box<[Value]>,
}

impl VariantObj {
    pub fn variant_name(&self) -> Symbol {
        self.ty.variants[self.index as usize].0
    }
}

impl Drop for VariantObj {
    fn drop(&mut self) {
        drop_queue::release(std::mem::take(&mut self.payload).into_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, i64)]) -> HashMap<Symbol, Value> {
        pairs
            .iter()
            .map(|(n, v)| (Symbol::intern(n), Value::int(*v)))
            .collect()
    }

    fn get(t: &MethodTable, name: &str) -> Option<i64> {
        t.get(Symbol::intern(name)).and_then(Value::as_int)
    }

    /// Later tables add methods and replace same-named ones; the type's own stay.
    #[test]
    fn later_tables_add_and_the_newest_wins() {
        let t = MethodTable::default();
        t.set(table(&[("甲", 1), ("乙", 2)]));
        assert_eq!(get(&t, "甲"), Some(1));
        t.extend(table(&[("乙", 20), ("丙", 30)]));
        t.extend(table(&[("丙", 300)]));
        assert_eq!(get(&t, "甲"), Some(1));
        assert_eq!(get(&t, "乙"), Some(20));
        assert_eq!(get(&t, "丙"), Some(300));
        assert_eq!(get(&t, "丁"), None);
        let mut names: Vec<String> = t.names().iter().map(|s| s.name().to_string()).collect();
        names.sort();
        assert_eq!(names, ["丙", "乙", "甲"]);
    }

    /// A type without methods of its own can be extended too.
    #[test]
    fn a_type_without_own_methods_takes_later_ones() {
        let t = MethodTable::default();
        t.extend(table(&[("甲", 1)]));
        assert_eq!(get(&t, "甲"), Some(1));
    }
}
