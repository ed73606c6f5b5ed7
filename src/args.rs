//! Passing arguments from Rust to Qi, and reading them in host functions.

use qi_vm::Value;
use qi_vm::value::convert::ConvertError;

/// Arguments for [`Vm::call`](crate::Vm::call): `()`, a tuple of up to six values that
/// convert into [`Value`], a `Vec<Value>` or a slice. Tuples are passed without a heap
/// allocation.
///
/// ```
/// let vm = qi::Vm::new()?;
/// vm.eval("函数 连(a, b, c) { 返回 字符串(a) + b + 字符串(c); }")?;
/// assert_eq!(vm.call("连", (1, "和", 2.5))?.to_string(), "1和2.5");
/// let args = vec![qi::Value::from(1), qi::Value::from("和"), qi::Value::from(true)];
/// assert_eq!(vm.call("连", args)?.to_string(), "1和真");
/// # Ok::<(), qi::Error>(())
/// ```
pub trait IntoArgs {
    /// Calls `f` with the arguments as a slice.
    fn with_args<R>(self, f: impl FnOnce(&[Value]) -> R) -> R;
}

impl IntoArgs for Vec<Value> {
    fn with_args<R>(self, f: impl FnOnce(&[Value]) -> R) -> R {
        f(&self)
    }
}

impl IntoArgs for &[Value] {
    fn with_args<R>(self, f: impl FnOnce(&[Value]) -> R) -> R {
        f(self)
    }
}

macro_rules! tuple_args {
    ($($name:ident),*) => {
        impl<$($name: Into<Value>),*> IntoArgs for ($($name,)*) {
            #[allow(non_snake_case)]
            fn with_args<R>(self, f: impl FnOnce(&[Value]) -> R) -> R {
                let ($($name,)*) = self;
                f(&[$($name.into()),*])
            }
        }
    };
}
tuple_args!();
tuple_args!(A);
tuple_args!(A, B);
tuple_args!(A, B, C);
tuple_args!(A, B, C, D);
tuple_args!(A, B, C, D, E);
tuple_args!(A, B, C, D, E, F);

/// Argument `i` of a host function as a `T`, with a Chinese message a Qi script can
/// read when it is missing or of the wrong type.
///
/// ```
/// let args = [qi::Value::from(7)];
/// let n: i64 = qi::arg(&args, 0)?;
/// assert_eq!(n, 7);
/// assert_eq!(
///     qi::arg::<String>(&args, 0).unwrap_err(),
///     "第 1 个参数：类型不匹配：期望「字符串」，得到「整数」"
/// );
/// # Ok::<(), String>(())
/// ```
pub fn arg<T: TryFrom<Value, Error = ConvertError>>(args: &[Value], i: usize) -> Result<T, String> {
    let v = args
        .get(i)
        .cloned()
        .ok_or_else(|| format!("缺少第 {} 个参数", i + 1))?;
    T::try_from(v).map_err(|e| format!("第 {} 个参数：{e}", i + 1))
}
