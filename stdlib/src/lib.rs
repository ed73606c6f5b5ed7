//! 气 (Qi) standard library: the built-in functions, methods and modules of
//! QI-LANGUAGE.md §8, registered into a VM through [`install`].
//!
//! Each file is one family: [`core`] (output, conversion, errors), [`string`], [`list`],
//! [`dict`], [`number`] (numbers and 数学), [`hash`]. Methods that call back into Qi
//! code live in `prelude.qi`.

mod args;
pub mod concurrency;
pub mod core;
pub mod dict;
pub mod fs;
pub mod hash;
pub mod http;
pub mod list;
pub mod net;
pub mod number;
pub mod process;
pub mod string;

use qi_vm::value::Tag;
use qi_vm::vm::{Prelude, VmBuilder};

/// Registers the whole standard library.
pub fn install(b: &mut VmBuilder) {
    core::install(b);
    concurrency::install(b);
    string::install(b);
    list::install(b);
    dict::install(b);
    fs::install(b);
    net::install(b);
    http::install(b);
    process::install(b);
    number::install(b);
    hash::install(b);
    b.prelude(Prelude {
        source: include_str!("prelude.qi"),
        methods: vec![
            (Tag::List, "映射", "列表_映射"),
            (Tag::List, "过滤", "列表_过滤"),
            (Tag::List, "归约", "列表_归约"),
            (Tag::List, "排序按", "列表_排序按"),
            (Tag::Mutex, "保护", "互斥锁_保护"),
        ],
        globals: vec!["HTTP服务", "__调用"],
    });
}

/// A builder with the standard library installed.
pub fn builder() -> VmBuilder {
    let mut b = VmBuilder::new();
    install(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use qi_vm::symbol::Symbol;

    /// The prelude compiles only when first used, so a mistake in it would show up as a
    /// missing method in some user's program: compile it here, and check that every name
    /// it promises resolves.
    #[test]
    fn the_prelude_compiles_and_provides_every_name_it_promises() {
        let shared = super::builder()
            .build()
            .unwrap_or_else(|_| panic!("builds"));
        if let Err(diags) = shared.load_prelude() {
            panic!("the prelude does not compile: {}", diags.len());
        }
        for (tag, name) in shared.method_keys().collect::<Vec<_>>() {
            assert!(shared.method(tag, name).is_some(), "method {}", name.name());
        }
        for name in shared.builtin_names().collect::<Vec<_>>() {
            assert!(shared.builtin(name).is_some(), "built-in {}", name.name());
        }
        for name in ["HTTP服务", "__调用"] {
            assert!(shared.is_builtin(name), "{name}");
            assert!(shared.builtin(Symbol::intern(name)).is_some(), "{name}");
        }
    }
}
