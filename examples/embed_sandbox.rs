//! Running an untrusted user script in a sandbox: no files, network or process access,
//! and limits on steps, heap and tasks. The host stays in control whatever the script
//! does, and the VM stays usable after a script is stopped.
//!
//! `cargo run --example embed_sandbox`

// The heap limit counts real allocations: install the counting allocator.
#[global_allocator]
static ALLOCATOR: qi::CountingAllocator = qi::CountingAllocator;

fn main() -> Result<(), qi::Error> {
    let vm = qi::Vm::builder()
        .threads(1)
        .max_steps(1_000_000)
        .max_heap_bytes(16 << 20)
        .max_tasks(100)
        .build()?;

    let scripts = [
        (
            "正常的脚本",
            "可变 和 = 0; 对于 i 在 1..=100 { 和 += i; } 和",
        ),
        (
            "死循环（藏在 尝试 里）",
            "尝试 { 循环 {} } 捕获 (e) { 返回 \"逃掉了\"; }",
        ),
        (
            "吃内存",
            "变量 表 = []; 循环 { 表.添加(\"越来越多的数据\"); }",
        ),
        ("任务太多", "变量 c = 通道(); 循环 { 启动 { <-c; }; }"),
        ("读文件", "读取文件(\"/etc/passwd\")"),
        (
            "自己捕获权限错误",
            "尝试 { 读取文件(\"/etc/passwd\"); } 捕获 (e) { 返回 e.代码; }",
        ),
    ];
    for (name, code) in scripts {
        match vm.eval(code) {
            Ok(v) => println!("{name}：结果 {v}"),
            Err(e) if e.is_limit() => {
                println!("{name}：被限制停止（{}）", e.code().unwrap_or_default())
            }
            Err(e) => println!("{name}：出错（{}）", e.code().unwrap_or_default()),
        }
    }
    Ok(())
}
