//! 字典: an insertion-ordered map from 整数, 字符串 or 布尔 keys to values.

use std::hash::{Hash, Hasher};

use indexmap::IndexMap;

use super::StrObj;
use crate::spin::SpinLock;
use crate::value::{Tag, Value, drop_queue};

/// A dict key: a value of a hashable kind, compared by content.
#[derive(Clone, Debug)]
pub struct DictKey(Value);

impl DictKey {
    /// `None` for a value that cannot be a key (only 整数, 字符串 and 布尔 can).
    pub fn new(v: Value) -> Option<DictKey> {
        matches!(v.tag(), Tag::Int | Tag::Str | Tag::Bool).then_some(DictKey(v))
    }

    pub fn value(&self) -> &Value {
        &self.0
    }

    pub fn into_value(self) -> Value {
        self.0
    }
}

impl PartialEq for DictKey {
    fn eq(&self, other: &DictKey) -> bool {
        match (self.0.as_obj::<StrObj>(), other.0.as_obj::<StrObj>()) {
            (Some(a), Some(b)) => a.as_str() == b.as_str(),
            (None, None) => self.0.same(&other.0),
            _ => false,
        }
    }
}

impl Eq for DictKey {}

impl Hash for DictKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.0.as_obj::<StrObj>() {
            Some(s) => s.as_str().hash(state),
            None => {
                (self.0.tag() as u32).hash(state);
                self.0.payload().hash(state);
            }
        }
    }
}

pub type Map = IndexMap<DictKey, Value, foldhash::fast::RandomState>;

#[derive(Debug, Default)]
pub struct DictInner {
    pub map: Map,
    /// Bumped when a key is added or removed; iterators compare it (E7010).
    pub version: u64,
}

/// The lock is a [`SpinLock`]: every section under it is one map operation (keys are
/// 整数, 字符串 or 布尔, hashed and compared in Rust) or one pass over the entries.
#[derive(Debug, Default)]
pub struct DictObj {
    pub inner: SpinLock<DictInner>,
}

impl DictObj {
    pub fn new(map: Map) -> DictObj {
        DictObj {
            inner: SpinLock::new(DictInner { map, version: 0 }),
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map.len()
    }

    /// A snapshot of the key-value pairs, in order (one lock, none held afterwards).
    pub fn entries(&self) -> Vec<(Value, Value)> {
        self.inner
            .lock()
            .map
            .iter()
            .map(|(k, v)| (k.value().clone(), v.clone()))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for DictObj {
    fn drop(&mut self) {
        let map = std::mem::take(&mut self.inner.get_mut().map);
        drop_queue::release(map.into_iter().flat_map(|(k, v)| [k.into_value(), v]));
    }
}
