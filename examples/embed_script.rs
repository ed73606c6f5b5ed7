//! Embedding a script: evaluate Qi code, call its functions, pass values both ways.
//!
//! `cargo run --example embed_script`

use std::collections::HashMap;

fn main() -> Result<(), qi::Error> {
    let vm = qi::Vm::new()?;

    // Definitions stay in the VM for later calls.
    vm.eval(
        r#"
        结构体 商品 { 名称, 单价, 数量 }

        函数 总价(清单) {
            可变 合计 = 0.0;
            对于 项 在 清单 {
                合计 += 项["单价"] * 项["数量"];
            }
            返回 合计;
        }

        函数 问候(名字) { 返回 格式化("你好，{}！", 名字); }
        "#,
    )?;

    let greeting: String = vm.call("问候", ("小明",))?.try_into()?;
    println!("{greeting}");

    // Rust maps and vectors become 字典 and 列表.
    let items = vec![
        HashMap::from([("单价".to_string(), 3.5), ("数量".to_string(), 2.0)]),
        HashMap::from([("单价".to_string(), 10.0), ("数量".to_string(), 1.0)]),
    ];
    let total: f64 = vm.call("总价", (items,))?.try_into()?;
    println!("总价：{total}");

    // A value's printed form, as 打印 would show it.
    println!("{}", vm.eval("[1, \"二\", 3.0]")?);

    // Errors are Chinese diagnostics with a code, a source line and a caret.
    if let Err(e) = vm.eval("总价(5)") {
        eprintln!("{e}");
    }
    Ok(())
}
