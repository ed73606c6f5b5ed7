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
    /// Methods by name; set once when the module is linked.
    pub methods: OnceLock<HashMap<Symbol, Value>>,
}

impl StructType {
    pub fn field_index(&self, name: Symbol) -> Option<usize> {
        self.fields.iter().position(|(n, _)| *n == name)
    }

    pub fn method(&self, name: Symbol) -> Option<&Value> {
        self.methods.get()?.get(&name)
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
    pub methods: OnceLock<HashMap<Symbol, Value>>,
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
        self.methods.get()?.get(&name)
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
