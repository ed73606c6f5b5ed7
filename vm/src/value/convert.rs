//! Conversions between Qi values and Rust values, for hosts that embed the VM.
//!
//! Into a [`Value`]: integers, floats, booleans, strings, vectors, string-keyed maps and
//! options (`None` is 空). Out of one, with `TryFrom`: the same types, failing with a
//! [`ConvertError`] that names the expected and the actual Qi type in Chinese.
//! [`FromValue`] does the same for `Value` itself and for `Option<T>` (whose `TryFrom`
//! std already defines through `From<T> for Option<T>`).

use std::collections::HashMap;

use crate::object::{DictKey, DictObj, ListObj, StrObj};
use crate::value::{Tag, Value};

/// A value was not of the type the host asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    /// The Qi type the host expected (`整数`, `字符串` …).
    pub expected: &'static str,
    /// The type the value had.
    pub found: String,
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "类型不匹配：期望「{}」，得到「{}」",
            self.expected, self.found
        )
    }
}

impl std::error::Error for ConvertError {}

fn mismatch(expected: &'static str, v: &Value) -> ConvertError {
    ConvertError {
        expected,
        found: crate::print::type_name(v),
    }
}

impl std::fmt::Display for Value {
    /// The printed form, as 打印 shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::print::display(self))
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::int(n as i64)
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::float(x)
    }
}

impl From<f32> for Value {
    fn from(x: f32) -> Value {
        Value::float(x as f64)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::new(StrObj::new(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::new(StrObj::new(s))
    }
}

impl From<()> for Value {
    fn from(_: ()) -> Value {
        Value::NIL
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::new(ListObj::new(items.into_iter().map(Into::into).collect()))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::NIL, Into::into)
    }
}

impl<T: Into<Value>, S: std::hash::BuildHasher> From<HashMap<String, T, S>> for Value {
    /// A 字典; keys in sorted order, so the same map always prints the same way.
    fn from(map: HashMap<String, T, S>) -> Value {
        let mut entries: Vec<(String, T)> = map.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = crate::object::DictMap::default();
        for (k, v) in entries {
            if let Some(key) = DictKey::new(Value::from(k)) {
                out.insert(key, v.into());
            }
        }
        Value::new(DictObj::new(out))
    }
}

/// Conversion out of a [`Value`], implemented for every type `TryFrom<Value>` works
/// for and for `Value` itself, so containers of either convert (`Vec<Value>`,
/// `HashMap<String, i64>` …).
pub trait FromValue: Sized {
    fn from_value(v: Value) -> Result<Self, ConvertError>;
}

impl FromValue for Value {
    fn from_value(v: Value) -> Result<Value, ConvertError> {
        Ok(v)
    }
}

impl FromValue for i64 {
    fn from_value(v: Value) -> Result<i64, ConvertError> {
        v.as_int().ok_or_else(|| mismatch("整数", &v))
    }
}

impl FromValue for f64 {
    /// A 浮点数, or an 整数 widened (as annotations widen it).
    fn from_value(v: Value) -> Result<f64, ConvertError> {
        v.as_float()
            .or_else(|| v.as_int().map(|n| n as f64))
            .ok_or_else(|| mismatch("浮点数", &v))
    }
}

impl FromValue for bool {
    fn from_value(v: Value) -> Result<bool, ConvertError> {
        v.as_bool().ok_or_else(|| mismatch("布尔", &v))
    }
}

impl FromValue for String {
    fn from_value(v: Value) -> Result<String, ConvertError> {
        v.as_obj::<StrObj>()
            .map(|s| s.as_str().to_string())
            .ok_or_else(|| mismatch("字符串", &v))
    }
}

impl FromValue for () {
    fn from_value(v: Value) -> Result<(), ConvertError> {
        if v.is_nil() {
            Ok(())
        } else {
            Err(mismatch("空", &v))
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Value) -> Result<Vec<T>, ConvertError> {
        let list = v.as_obj::<ListObj>().ok_or_else(|| mismatch("列表", &v))?;
        list.snapshot().into_iter().map(T::from_value).collect()
    }
}

impl<T: FromValue> FromValue for Option<T> {
    /// 空 is `None`; anything else must convert to `T`.
    fn from_value(v: Value) -> Result<Option<T>, ConvertError> {
        if v.is_nil() {
            Ok(None)
        } else {
            T::from_value(v).map(Some)
        }
    }
}

impl<T: FromValue> FromValue for HashMap<String, T> {
    /// A 字典 (整数 and 布尔 keys become their printed form).
    fn from_value(v: Value) -> Result<HashMap<String, T>, ConvertError> {
        let dict = v.as_obj::<DictObj>().ok_or_else(|| mismatch("字典", &v))?;
        let entries: Vec<(Value, Value)> = dict.entries();
        entries
            .into_iter()
            .map(|(k, v)| {
                let key = match k.tag() {
                    Tag::Str => String::from_value(k)?,
                    _ => crate::print::display(&k),
                };
                Ok((key, T::from_value(v)?))
            })
            .collect()
    }
}

macro_rules! try_from_value {
    ($($t:ty),*) => {$(
        impl TryFrom<Value> for $t {
            type Error = ConvertError;
            fn try_from(v: Value) -> Result<$t, ConvertError> {
                <$t as FromValue>::from_value(v)
            }
        }
    )*};
}
try_from_value!(i64, f64, bool, String, ());

impl<T: FromValue> TryFrom<Value> for Vec<T> {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<Vec<T>, ConvertError> {
        Self::from_value(v)
    }
}

impl<T: FromValue> TryFrom<Value> for HashMap<String, T> {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<HashMap<String, T>, ConvertError> {
        Self::from_value(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(i64::try_from(Value::from(42)), Ok(42));
        assert_eq!(f64::try_from(Value::from(1.5)), Ok(1.5));
        assert_eq!(f64::try_from(Value::from(2)), Ok(2.0));
        assert_eq!(bool::try_from(Value::from(true)), Ok(true));
        assert_eq!(String::try_from(Value::from("气")), Ok("气".to_string()));
        assert_eq!(
            Vec::<i64>::try_from(Value::from(vec![1, 2, 3])),
            Ok(vec![1, 2, 3])
        );
        // `Option` is `FromValue` only: std already gives `Option<Value>` a `TryFrom`.
        assert_eq!(
            Option::<i64>::from_value(Value::from(None::<i64>)),
            Ok(None)
        );
        assert_eq!(Option::<i64>::from_value(Value::from(Some(7))), Ok(Some(7)));
        let map = HashMap::from([("甲".to_string(), 1), ("乙".to_string(), 2)]);
        assert_eq!(
            HashMap::<String, i64>::try_from(Value::from(map.clone())),
            Ok(map)
        );
    }

    #[test]
    fn mismatches_name_both_types() {
        let e = i64::try_from(Value::from("一")).unwrap_err();
        assert_eq!(e.to_string(), "类型不匹配：期望「整数」，得到「字符串」");
        let e =
            Vec::<i64>::try_from(Value::from(vec![Value::from(1), Value::from("二")])).unwrap_err();
        assert_eq!(e.expected, "整数");
    }

    #[test]
    fn display_is_the_printed_form() {
        assert_eq!(Value::from(vec!["a", "b"]).to_string(), "[\"a\", \"b\"]");
        assert_eq!(Value::from("a").to_string(), "a");
        assert_eq!(Value::from(None::<i64>).to_string(), "空");
    }
}
