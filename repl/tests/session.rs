//! The evaluation loop as a library: entries in, what is shown out, state kept between
//! entries, errors followed by more entries.

use std::io::Write;
use std::sync::{Arc, Mutex};

use qi_repl::Session;

/// Collects what 打印 writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn take(&self) -> String {
        let mut buf = self.0.lock().expect("lock");
        String::from_utf8(std::mem::take(&mut *buf)).expect("UTF-8")
    }
}

fn session() -> (Session, Captured) {
    let out = Captured::default();
    let mut builder = qi_stdlib::builder();
    builder.output(Box::new(out.clone()));
    builder.config().workers = 2;
    let shared = builder.build().expect("标准库能编译");
    (Session::new(shared), out)
}

/// Feeds `entry` and gives the shown value.
fn shown(s: &mut Session, entry: &str) -> Option<String> {
    let r = s.eval(entry);
    assert!(!r.failed, "「{entry}」失败了：{}", r.diagnostics);
    r.shown
}

#[test]
fn expressions_show_values_and_statements_show_nothing() {
    let (mut s, _) = session();
    assert_eq!(shown(&mut s, "1 + 2"), Some("3".into()));
    assert_eq!(
        shown(&mut s, "\"你好\" + \"世界\""),
        Some("\"你好世界\"".into())
    );
    assert_eq!(
        shown(&mut s, "[1, \"二\", 3.0]"),
        Some("[1, \"二\", 3.0]".into())
    );
    assert_eq!(shown(&mut s, "变量 x = 5"), None);
    assert_eq!(shown(&mut s, "变量 y = 6;"), None);
    assert_eq!(shown(&mut s, "x * y"), Some("30".into()));
    assert_eq!(shown(&mut s, "打印行(\"不显示空\")"), None);
}

#[test]
fn entries_keep_functions_variables_structs_enums_and_imports() {
    let (mut s, out) = session();
    shown(&mut s, "可变 计数 = 0;");
    shown(&mut s, "函数 加(k) {\n    计数 += k;\n    返回 计数;\n}");
    assert_eq!(shown(&mut s, "加(2)"), Some("2".into()));
    assert_eq!(shown(&mut s, "加(3)"), Some("5".into()));
    // A later entry assigns the earlier entry's variable, and the function sees it.
    shown(&mut s, "计数 = 100;");
    assert_eq!(shown(&mut s, "加(1)"), Some("101".into()));

    shown(
        &mut s,
        "结构体 点 { x: 整数, y: 整数 }\n方法 点 {\n  函数 和() { 返回 自己.x + 自己.y; }\n}",
    );
    shown(&mut s, "变量 p = 点 { x: 3, y: 4 };");
    assert_eq!(shown(&mut s, "p.和()"), Some("7".into()));
    assert_eq!(shown(&mut s, "p"), Some("点 { x: 3, y: 4 }".into()));
    // An annotation naming an earlier entry's struct.
    shown(&mut s, "函数 横(q: 点) { 返回 q.x; }");
    assert_eq!(shown(&mut s, "横(p)"), Some("3".into()));

    shown(&mut s, "枚举 形状 { 圆(浮点数), 无 }");
    shown(&mut s, "变量 形 = 形状::圆(1.5);");
    assert_eq!(
        shown(
            &mut s,
            "匹配 形 { 形状::圆(r) => r * 2.0, 形状::无 => 0.0 }"
        ),
        Some("3.0".into())
    );

    shown(&mut s, "导入 数学;");
    assert_eq!(shown(&mut s, "数学.最大值(1, 9, 4)"), Some("9".into()));

    shown(&mut s, "打印行(\"计数是\", 计数);");
    assert_eq!(out.take(), "计数是 101\n");
}

#[test]
fn errors_are_reported_and_the_session_goes_on() {
    let (mut s, _) = session();
    shown(&mut s, "变量 a = 10;");
    let r = s.eval("a / 0");
    assert!(r.failed);
    assert!(r.diagnostics.contains("错误[E7001]"), "{}", r.diagnostics);
    assert!(
        r.diagnostics.contains("a / 0"),
        "源代码行：{}",
        r.diagnostics
    );

    let r = s.eval("变量 = ;");
    assert!(r.failed);
    assert!(r.diagnostics.contains("错误[E2"), "{}", r.diagnostics);

    let r = s.eval("没定义的名字 + 1");
    assert!(r.diagnostics.contains("错误[E3002]"), "{}", r.diagnostics);

    // Assigning an immutable earlier variable is a compile error.
    let r = s.eval("a = 3;");
    assert!(r.diagnostics.contains("错误[E3005]"), "{}", r.diagnostics);

    // The state survived all of that.
    assert_eq!(shown(&mut s, "a + 1"), Some("11".into()));

    // A failing entry keeps the variables it defined before failing, and not the rest.
    let r = s.eval("变量 b = 1;\n变量 c = 1 / 0;");
    assert!(r.failed);
    assert_eq!(shown(&mut s, "b"), Some("1".into()));
    let r = s.eval("c");
    assert!(r.diagnostics.contains("E3002"), "{}", r.diagnostics);
}

#[test]
fn await_at_the_prompt_and_tasks_run_between_entries() {
    let (mut s, out) = session();
    shown(&mut s, "变量 通 = 通道(10);");
    // A background task that keeps running after its entry ends.
    shown(
        &mut s,
        "启动 {\n  对于 i 在 0..3 { 通 <- i * 10; }\n  通.关闭();\n};",
    );
    shown(&mut s, "变量 任务一 = 创建 { 睡眠(5); 返回 \"完成\"; };");
    assert_eq!(shown(&mut s, "等待 任务一"), Some("\"完成\"".into()));
    assert_eq!(shown(&mut s, "<-通"), Some("0".into()));
    shown(&mut s, "对于 v 在 通 { 打印行(v); }");
    assert_eq!(out.take(), "10\n20\n");
    // 异步 functions, awaited at the prompt.
    shown(&mut s, "异步 函数 慢加(a, b) { 睡眠(1); 返回 a + b; }");
    assert_eq!(shown(&mut s, "等待 慢加(1, 2)"), Some("3".into()));
}

#[test]
fn a_deadlocked_entry_is_reported_and_the_session_goes_on() {
    let (mut s, _) = session();
    let r = s.eval("变量 空通 = 通道(); <-空通");
    assert!(r.diagnostics.contains("E6006"), "{}", r.diagnostics);
    assert_eq!(shown(&mut s, "1 + 1"), Some("2".into()));
}

#[test]
fn a_failing_detached_task_is_reported_at_the_next_entry() {
    let (mut s, _) = session();
    // Reported with the entry that started it if it failed by then, else with the next.
    let first = s.eval("启动 { 睡眠(5); 抛出 错误(\"后台出错\"); };");
    assert!(first.shown.is_none());
    let r = s.eval("等待 创建 { 睡眠(20); }");
    let both = format!("{}{}", first.diagnostics, r.diagnostics);
    assert!(both.contains("后台出错"), "{both}");
    assert_eq!(shown(&mut s, "1"), Some("1".into()));
}

#[test]
fn commands() {
    let (mut s, _) = session();
    let help = shown(&mut s, ":帮助").expect("帮助");
    assert!(help.contains(":类型") && help.contains("例子"));
    assert_eq!(shown(&mut s, ":help"), Some(help));

    assert_eq!(shown(&mut s, ":类型 1 + 2.0"), Some("浮点数".into()));
    assert_eq!(shown(&mut s, ":类型 [1]"), Some("列表".into()));
    shown(&mut s, "结构体 人 { 名字 }");
    assert_eq!(
        shown(&mut s, ":类型 人 { 名字: \"甲\" }"),
        Some("人".into())
    );

    shown(&mut s, "函数 平方(x) { 返回 x * x; }");
    let dis = shown(&mut s, ":反汇编 平方").expect("反汇编");
    assert!(dis.contains("函数 平方") && dis.contains("Mul"), "{dis}");
    let r = s.eval(":反汇编 打印行");
    assert!(r.failed && r.diagnostics.contains("内置函数"));

    let dir = std::env::temp_dir().join(format!("qi-repl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("临时目录");
    let file = dir.join("载入.qi");
    std::fs::write(
        &file,
        "函数 三倍(x) { 返回 x * 3; }\n变量 载入的 = 三倍(2);\n",
    )
    .expect("写");
    let r = s.eval(&format!(":载入 {}", file.display()));
    assert!(!r.failed, "{}", r.diagnostics);
    assert_eq!(shown(&mut s, "三倍(载入的)"), Some("18".into()));
    // A loaded file's imports are found beside it, not in the working directory.
    std::fs::write(dir.join("旁边.qi"), "公开 变量 值 = 41;\n").expect("写");
    let importer = dir.join("导入旁边.qi");
    std::fs::write(&importer, "导入 ./旁边;\n变量 加一 = 旁边.值 + 1;\n").expect("写");
    let r = s.eval(&format!(":载入 {}", importer.display()));
    assert!(!r.failed, "{}", r.diagnostics);
    assert_eq!(shown(&mut s, "加一"), Some("42".into()));
    let r = s.eval(":载入 不存在的文件.qi");
    assert!(r.diagnostics.contains("E8001"), "{}", r.diagnostics);
    let _ = std::fs::remove_dir_all(&dir);

    shown(&mut s, ":清空");
    let r = s.eval("平方(2)");
    assert!(r.diagnostics.contains("E3002"), "{}", r.diagnostics);

    let r = s.eval(":不存在");
    assert!(r.failed && r.diagnostics.contains(":帮助"));
    assert_eq!(s.eval(":退出").exit, Some(0));
}

#[test]
fn exit_ends_the_session_with_its_code() {
    let (mut s, _) = session();
    assert_eq!(s.eval("退出(3)").exit, Some(3));
}

#[test]
fn a_running_entry_can_be_interrupted() {
    let (mut s, _) = session();
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let setter = flag.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        setter.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let r = s.eval_interruptible("循环 {}", &flag);
    t.join().expect("线程");
    assert!(r.diagnostics.contains("E6005"), "{}", r.diagnostics);
    assert_eq!(shown(&mut s, "2 * 2"), Some("4".into()));
}

#[test]
fn methods_can_be_added_to_an_earlier_entrys_type() {
    let (mut s, _) = session();
    shown(&mut s, "结构体 点 { x }");
    shown(&mut s, "变量 早 = 点 { x: 5 }");
    // A method block of its own, then another that adds and replaces: instances made
    // before see them too, and the newest definition wins.
    let r = s.eval("方法 点 { 函数 双() { 返回 自己.x * 2; } 函数 原点() { 返回 点 { x: 0 }; } }");
    assert!(r.diagnostics.is_empty(), "{}", r.diagnostics);
    assert_eq!(shown(&mut s, "早.双()"), Some("10".into()));
    assert_eq!(shown(&mut s, "点::原点().x"), Some("0".into()));
    s.eval("方法 点 { 函数 双() { 返回 自己.x * 20; } 函数 三倍() { 返回 自己.x * 3; } }");
    assert_eq!(shown(&mut s, "早.双()"), Some("100".into()));
    assert_eq!(shown(&mut s, "早.三倍()"), Some("15".into()));
    // Enums too.
    shown(&mut s, "枚举 灯 { 红, 绿 }");
    s.eval("方法 灯 { 函数 能走() { 返回 自己 == 灯::绿; } }");
    assert_eq!(shown(&mut s, "灯::绿.能走()"), Some("真".into()));
    // Twice in one block is still E3003; a built-in type still E3014.
    let r = s.eval("方法 点 { 函数 甲() {} 函数 甲() {} }");
    assert!(r.diagnostics.contains("E3003"), "{}", r.diagnostics);
    let r = s.eval("方法 整数 { 函数 甲() {} }");
    assert!(r.diagnostics.contains("E3014"), "{}", r.diagnostics);
    let r = s.eval("方法 没有这个 { 函数 甲() {} }");
    assert!(r.diagnostics.contains("E3002"), "{}", r.diagnostics);
}
