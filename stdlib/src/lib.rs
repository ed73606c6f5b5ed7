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
