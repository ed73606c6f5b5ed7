//! The parser, form by form: every grammar rule of QI-LANGUAGE.md as an S-expression, every
//! error code with its line and column, recovery, and the nesting limit.

use bumpalo::Bump;
use qi_bytecode::diagnostic::{Code, render};
use qi_bytecode::parser::{parse, sexpr};
use qi_bytecode::source::SourceFile;

/// The program's S-expression; fails on any diagnostic.
fn sx(src: &str) -> String {
    let file = SourceFile::new("测试.qi", src);
    let arena = Bump::new();
    let parsed = parse(&arena, &file);
    if !parsed.diagnostics.is_empty() {
        let text: String = parsed
            .diagnostics
            .iter()
            .map(|d| render(d, false))
            .collect();
        panic!("意外的诊断：\n{src}\n{text}");
    }
    sexpr::program(&parsed.program)
}

/// The S-expression of the value of `变量 _ = <src>;`.
fn ex(src: &str) -> String {
    let full = sx(&format!("变量 值 = {src};"));
    full.strip_prefix("(let 值 ")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(&full)
        .to_string()
}

/// Every diagnostic as `(code, line, column)`.
fn errs(src: &str) -> Vec<(&'static str, u32, u32)> {
    let file = SourceFile::new("测试.qi", src);
    let arena = Bump::new();
    let parsed = parse(&arena, &file);
    parsed
        .diagnostics
        .iter()
        .map(|d| {
            let (_, line, col) = d.position().expect("诊断应有位置");
            (d.code.as_str(), line, col)
        })
        .collect()
}

/// The rendered diagnostics, concatenated.
fn rendered(src: &str) -> String {
    let file = SourceFile::new("测试.qi", src);
    let arena = Bump::new();
    let parsed = parse(&arena, &file);
    parsed
        .diagnostics
        .iter()
        .map(|d| render(d, false))
        .collect()
}

/// The tree and the diagnostic codes of a program with errors.
fn sx_errs(src: &str) -> (String, Vec<&'static str>) {
    let file = SourceFile::new("测试.qi", src);
    let arena = Bump::new();
    let parsed = parse(&arena, &file);
    let codes = parsed.diagnostics.iter().map(|d| d.code.as_str()).collect();
    (sexpr::program(&parsed.program), codes)
}

// ---------------------------------------------------------------------------------------
// Program structure: 包, 导入

#[test]
fn package_and_imports() {
    assert_eq!(
        sx(
            "包 主程序;\n导入 ./工具;\n导入 ../共享/日志 作为 日志;\n导入 数学;\n导入 宿主.数据库;\n打印行(1);"
        ),
        "(package 主程序) (import relative ./工具) (import relative ../共享/日志 as 日志) \
         (import module 数学) (import module 宿主.数据库) (call (name 打印行) (int 1))"
    );
}

#[test]
fn import_segments_and_binding() {
    let file = SourceFile::new(
        "t.qi",
        "导入 ../共享/日志;\n导入 ./工具 作为 甲;\n导入 宿主.数据库；",
    );
    let arena = Bump::new();
    let parsed = parse(&arena, &file);
    assert!(parsed.diagnostics.is_empty());
    let imports: Vec<_> = parsed
        .program
        .stmts
        .iter()
        .map(|s| match s.kind {
            qi_bytecode::ast::StmtKind::Import(i) => i,
            _ => panic!("应为导入"),
        })
        .collect();
    assert_eq!(imports[0].segments, ["..", "共享", "日志"]);
    assert_eq!(imports[0].binding(), "日志");
    assert_eq!(imports[1].segments, [".", "工具"]);
    assert_eq!(imports[1].binding(), "甲");
    assert_eq!(imports[2].segments, ["宿主", "数据库"]);
    assert_eq!(file.slice(imports[2].path_span), "宿主.数据库");
}

#[test]
fn import_path_errors_are_e4001() {
    assert_eq!(errs("导入 ./工具.qi;"), [("E4001", 1, 4)]);
    assert_eq!(errs("导入 ./2工具;"), [("E4001", 1, 4)]);
    assert_eq!(errs("导入 ./;"), [("E4001", 1, 4)]);
    assert_eq!(errs("导入 ./a/../b;"), [("E4001", 1, 4)]);
    assert_eq!(errs("导入 共享/日志;"), [("E4001", 1, 4)]);
    assert!(rendered("导入 ./工具.qi;").contains("不写「.qi」后缀"));
    // The lexer's complaints about the raw path are dropped: `@` is not an E1001 here.
    assert_eq!(errs("导入 ./a@b;"), [("E4001", 1, 4)]);
}

#[test]
fn import_must_come_first() {
    assert_eq!(errs("打印行(1);\n导入 数学;"), [("E2001", 2, 1)]);
    assert!(rendered("打印行(1);\n导入 数学;").contains("提示：「导入」只能写在文件开头"));
    assert_eq!(errs("导入 数学;\n包 甲;"), [("E2001", 2, 1)]);
    // An empty statement does not end the import section.
    assert_eq!(errs("包 甲;;\n导入 数学;"), []);
    assert_eq!(errs("函数 f() { 导入 数学; }"), [("E2001", 1, 10)]);
}

// ---------------------------------------------------------------------------------------
// Declarations

#[test]
fn let_and_mut() {
    assert_eq!(
        sx("变量 名字 = \"张三\"; 可变 计数: 整数 = 0; 可变 x; 公开 变量 y = 1; 私有 可变 z = 2;"),
        "(let 名字 (str \"张三\")) (mut 计数 :整数 (int 0)) (mut x) (pub let y (int 1)) (mut z (int 2))"
    );
}

#[test]
fn functions() {
    assert_eq!(
        sx("公开 函数 加法(a: 整数, b: 整数): 整数 { 返回 a + b; }"),
        "(pub fn 加法 (a:整数 b:整数) -> 整数 (block (return (+ (name a) (name b)))))"
    );
    assert_eq!(
        sx("函数 f<T, U>(x: T, y,) -> 列表<U> { x }"),
        "(fn f<T,U> (x:T y) -> 列表<U> (block (tail (name x))))"
    );
    assert_eq!(
        sx("异步 函数 取(地址) { 等待 连接到(地址) } 公开 异步 函数 g() {}"),
        "(async fn 取 (地址) (block (tail (await (call (name 连接到) (name 地址)))))) \
         (pub async fn g () (block))"
    );
}

#[test]
fn structs_enums_methods() {
    assert_eq!(
        sx("结构体 点 { x: 浮点数, y: 浮点数 } 公开 结构体 对<T> { 左: T, 右, } 结构体 空的 {}"),
        "(struct-decl 点 x:浮点数 y:浮点数) (pub struct-decl 对<T> 左:T 右) (struct-decl 空的)"
    );
    assert_eq!(
        sx("枚举 形状 { 圆(浮点数), 矩形(浮点数, 浮点数), 无 } 枚举 选项<T> { 有(T), 无, }"),
        "(enum 形状 (圆 浮点数) (矩形 浮点数 浮点数) 无) (enum 选项<T> (有 T) 无)"
    );
    assert_eq!(
        sx(
            "方法 点 { 函数 长度(): 浮点数 { 1.0 } 公开 函数 原点() -> 点 { 点 { x: 0, y: 0 } } 异步 函数 取() {} }"
        ),
        "(methods 点 (fn 长度 () -> 浮点数 (block (tail (float 1.0)))) \
         (pub fn 原点 () -> 点 (block (tail (struct 点 (x (int 0)) (y (int 0)))))) \
         (async fn 取 () (block)))"
    );
    assert_eq!(sx("方法 盒<T> { }"), "(methods 盒<T>)");
}

#[test]
fn types() {
    assert_eq!(
        sx("变量 a: 字典<字符串, 列表<整数>> = {}; 变量 b: 模块.类型 = 1; 变量 c: 未来<整数>;"),
        "(let a :字典<字符串,列表<整数>> (dict)) (let b :模块.类型 (int 1)) (let c :未来<整数>)"
    );
}

#[test]
fn ge_splits_in_types() {
    assert_eq!(
        sx("变量 d: 字典<字符串, 列表<整数>>= {};"),
        "(let d :字典<字符串,列表<整数>> (dict))"
    );
    assert_eq!(
        sx("可变 l: 列表<整数>= [1];"),
        "(mut l :列表<整数> (list (int 1)))"
    );
}

// ---------------------------------------------------------------------------------------
// Statements

#[test]
fn if_else_chains() {
    assert_eq!(
        sx("如果 计数 > 0 { 1; } 否则 如果 计数 == 0 { 2 } 否则 { 3 }"),
        "(nosemi (if (> (name 计数) (int 0)) (block (int 1)) \
         (if (== (name 计数) (int 0)) (block (tail (int 2))) (block (tail (int 3))))))"
    );
    // `否则如果` is `否则 如果`.
    assert_eq!(
        sx("如果 a { } 否则如果 b { }"),
        "(nosemi (if (name a) (block) (if (name b) (block))))"
    );
}

#[test]
fn loops() {
    assert_eq!(
        sx("当 计数 < 10 { 计数 += 1; }"),
        "(while (< (name 计数) (int 10)) (block (+= (name 计数) (int 1))))"
    );
    assert_eq!(
        sx("循环 { 如果 完成 { 跳出; } 继续; }"),
        "(loop (block (nosemi (if (name 完成) (block (break)))) (continue)))"
    );
    assert_eq!(
        sx("对于 元素 在 [1, 2] { } 对于 i 在 0..10 { } 对于 i 在 1..=10 { }"),
        "(for 元素 (list (int 1) (int 2)) (block)) (for i (.. (int 0) (int 10)) (block)) \
         (for i (..= (int 1) (int 10)) (block))"
    );
    assert_eq!(
        sx("对于 i 从 1 到 n + 1 { }"),
        "(for i (..= (int 1) (+ (name n) (int 1))) (block))"
    );
}

#[test]
fn jumps() {
    assert_eq!(
        sx("函数 f() { 返回; 返回 1 + 2; 跳出; 继续; 抛出 错误(\"坏\"); }"),
        "(fn f () (block (return) (return (+ (int 1) (int 2))) (break) (continue) \
         (throw (call (name 错误) (str \"坏\")))))"
    );
}

#[test]
fn try_catch_finally() {
    assert_eq!(
        sx("尝试 { } 捕获 (e) { } 最终 { }"),
        "(try (block) (catch e (block)) (finally (block)))"
    );
    assert_eq!(sx("尝试 { } 捕获 e { }"), "(try (block) (catch e (block)))");
    assert_eq!(sx("尝试 { } 捕获 { }"), "(try (block) (catch (block)))");
    assert_eq!(sx("尝试 { } 最终 { }"), "(try (block) (finally (block)))");
    assert_eq!(errs("尝试 { }\n打印行(1);"), [("E2001", 2, 1)]);
}

#[test]
fn assignments_and_targets() {
    assert_eq!(
        sx("x = 1; a[i] += 2; p.字段 -= 3; 解引用 r *= 4; d[\"k\"] /= 5; y %= 6;"),
        "(= (name x) (int 1)) (+= (index (name a) (name i)) (int 2)) \
         (-= (field (name p) 字段) (int 3)) (*= (deref (name r)) (int 4)) \
         (/= (index (name d) (str \"k\")) (int 5)) (%= (name y) (int 6))"
    );
    assert_eq!(errs("f() = 1;"), [("E2001", 1, 1)]);
    assert_eq!(errs("1 + 2 = 3;"), [("E2001", 1, 1)]);
}

#[test]
fn sends_and_receives() {
    assert_eq!(
        sx("ch <- 42; 变量 v = <-ch; 输出 <- <-输入;"),
        "(send (name ch) (int 42)) (let v (recv (name ch))) (send (name 输出) (recv (name 输入)))"
    );
}

#[test]
fn select_statement() {
    assert_eq!(
        sx(
            "选择 {\n 情况 v = <-ch1: 打印行(v);\n 情况 w := <-ch1: 1; 2;\n 情况 <-ch2:\n 情况 ch3 <- 7: 打印行(\"发\");\n \
            情况 超时(100): 跳出;\n 默认: 打印行(\"无\");\n}"
        ),
        "(select (recv v (name ch1) (call (name 打印行) (name v))) \
         (recv w (name ch1) (int 1) (int 2)) (recv (name ch2)) \
         (send (name ch3) (int 7) (call (name 打印行) (str \"发\"))) \
         (timeout (int 100) (break)) (default (call (name 打印行) (str \"无\"))))"
    );
    assert_eq!(sx("选择 {}"), "(select)");
    // Case expressions stop at the `:`; 挂起 is bare before it.
    assert_eq!(
        sx("选择 { 情况 结果 = <-取({\"a\": 1}): 挂起; }"),
        "(select (recv 结果 (call (name 取) (dict ((str \"a\") (int 1)))) (suspend)))"
    );
}

#[test]
fn select_errors() {
    assert_eq!(errs("选择 { 默认: 1; 默认: 2; }"), [("E2001", 1, 13)]);
    assert_eq!(errs("选择 { 情况 f(): 1; }"), [("E2001", 1, 9)]);
    assert_eq!(errs("选择 { 打印行(1); }"), [("E2001", 1, 6)]);
}

#[test]
fn empty_statements() {
    assert_eq!(sx(";;"), "(empty) (empty)");
    assert_eq!(sx("函数 f() { ; }"), "(fn f () (block (empty)))");
}

// ---------------------------------------------------------------------------------------
// Blocks and their values

#[test]
fn block_tail() {
    assert_eq!(
        sx("函数 f() { 1; 2 }"),
        "(fn f () (block (int 1) (tail (int 2))))"
    );
    // A block-like statement in the middle needs no `;`; at the end it is the value.
    assert_eq!(
        sx("函数 f() { 如果 a { 1 } 否则 { 2 } 匹配 x { _ => 3 } }"),
        "(fn f () (block (nosemi (if (name a) (block (tail (int 1))) (block (tail (int 2))))) \
         (tail (match (name x) (arm _ (int 3))))))"
    );
    assert_eq!(
        sx("函数 f() { { 1 } }"),
        "(fn f () (block (tail (block (tail (int 1))))))"
    );
    // With `;` a block-like expression is a statement.
    assert_eq!(
        sx("函数 f() { 如果 a { 1 } 否则 { 2 }; }"),
        "(fn f () (block (if (name a) (block (tail (int 1))) (block (tail (int 2))))))"
    );
}

#[test]
fn expression_statements_ending_in_blocks_need_semicolons() {
    assert_eq!(
        sx("启动 { 挂起; }; 变量 f = 函数() { 1 };"),
        "(spawn (block (suspend))) (let f (closure () (block (tail (int 1)))))"
    );
    assert_eq!(errs("启动 { }\n打印行(1);"), [("E2002", 1, 7)]);
    assert_eq!(errs("变量 f = 函数() { }\n打印行(1);"), [("E2002", 1, 16)]);
}

// ---------------------------------------------------------------------------------------
// Expressions

#[test]
fn literals() {
    assert_eq!(ex("42"), "(int 42)");
    assert_eq!(ex("3.5"), "(float 3.5)");
    assert_eq!(ex("'单引号'"), "(str \"单引号\")");
    assert_eq!(ex("“弯引号”"), "(str \"弯引号\")");
    assert_eq!(ex("[真, 假, 空, 自己]"), "(list 真 假 空 自己)");
    assert_eq!(ex("[]"), "(list)");
    assert_eq!(ex("[1, 2,]"), "(list (int 1) (int 2))");
    assert_eq!(ex("{}"), "(dict)");
    assert_eq!(
        ex("{\"甲\": 1, \"乙\": 2,}"),
        "(dict ((str \"甲\") (int 1)) ((str \"乙\") (int 2)))"
    );
}

#[test]
fn i64_min_literal() {
    assert_eq!(ex("-9223372036854775808"), "(int -9223372036854775808)");
    assert_eq!(
        ex("- -9223372036854775808"),
        "(neg (int -9223372036854775808))"
    );
    assert_eq!(
        ex("-9223372036854775807"),
        "(neg (int 9223372036854775807))"
    );
    assert_eq!(errs("变量 x = 9223372036854775808;"), [("E1005", 1, 8)]);
    assert_eq!(
        errs("变量 x = -9223372036854775808.绝对值();"),
        [("E1005", 1, 9)]
    );
    assert_eq!(errs("变量 x = -(9223372036854775808);"), [("E1005", 1, 10)]);
}

#[test]
fn precedence() {
    assert_eq!(ex("1 + 2 * 3"), "(+ (int 1) (* (int 2) (int 3)))");
    assert_eq!(ex("(1 + 2) * 3"), "(* (+ (int 1) (int 2)) (int 3))");
    assert_eq!(ex("a - b - c"), "(- (- (name a) (name b)) (name c))");
    assert_eq!(ex("a % b / c"), "(/ (% (name a) (name b)) (name c))");
    assert_eq!(
        ex("1 + 2 .. 3 * 4"),
        "(.. (+ (int 1) (int 2)) (* (int 3) (int 4)))"
    );
    assert_eq!(ex("a..b == c"), "(== (.. (name a) (name b)) (name c))");
    assert_eq!(ex("a - -b"), "(- (name a) (neg (name b)))");
}

#[test]
fn logic_precedence() {
    assert_eq!(
        ex("a || b && c == d"),
        "(|| (name a) (&& (name b) (== (name c) (name d))))"
    );
    assert_eq!(
        ex("a < b && b <= c || !d"),
        "(|| (&& (< (name a) (name b)) (<= (name b) (name c))) (not (name d)))"
    );
}

#[test]
fn prefix_operators() {
    assert_eq!(ex("-a * b"), "(* (neg (name a)) (name b))");
    assert_eq!(ex("!!x"), "(not (not (name x)))");
    assert_eq!(ex("取地址 x"), "(addr (name x))");
    assert_eq!(ex("解引用 r + 1"), "(+ (deref (name r)) (int 1))");
    assert_eq!(
        ex("等待 a + 等待 b"),
        "(+ (await (name a)) (await (name b)))"
    );
    assert_eq!(ex("恢复 c"), "(resume (name c))");
    assert_eq!(ex("<-ch + 1"), "(+ (recv (name ch)) (int 1))");
    assert_eq!(ex("-x.长度()"), "(neg (call (field (name x) 长度)))");
}

#[test]
fn chained_comparisons_are_errors() {
    assert_eq!(errs("变量 x = a < b < c;"), [("E2001", 1, 14)]);
    assert_eq!(errs("变量 x = a < b == c;"), [("E2001", 1, 14)]);
    assert_eq!(errs("变量 x = a == b < c;"), [("E2001", 1, 15)]);
    assert_eq!(errs("变量 x = a == b != c;"), [("E2001", 1, 15)]);
    assert_eq!(errs("变量 x = a..b..c;"), [("E2001", 1, 12)]);
    // Parentheses make it fine.
    assert_eq!(errs("变量 x = (a < b) == c;"), []);
    assert!(rendered("变量 x = a < b < c;").contains("比较运算不能连用"));
}

#[test]
fn postfix_chains() {
    assert_eq!(
        ex("a.b(1)[2].c"),
        "(field (index (call (field (name a) b) (int 1)) (int 2)) c)"
    );
    assert_eq!(ex("f()()"), "(call (call (name f)))");
    assert_eq!(ex("f(1, 2,)"), "(call (name f) (int 1) (int 2))");
}

#[test]
fn keywords_after_a_dot_are_member_names() {
    assert_eq!(ex("c.恢复(值)"), "(call (field (name c) 恢复) (name 值))");
    assert_eq!(ex("组.等待()"), "(call (field (name 组) 等待))");
    assert_eq!(ex("请求.方法"), "(field (name 请求) 方法)");
    assert_eq!(ex("t.如果"), "(field (name t) 如果)");
}

#[test]
fn paths_and_generics() {
    assert_eq!(
        ex("形状::圆(1.5)"),
        "(call (path (name 形状) 圆) (float 1.5))"
    );
    assert_eq!(ex("形状::无"), "(path (name 形状) 无)");
    assert_eq!(
        ex("模块.形状::圆(1)"),
        "(call (path (field (name 模块) 形状) 圆) (int 1))"
    );
    assert_eq!(
        ex("通道<整数>(10)"),
        "(call (generic (name 通道) 整数) (int 10))"
    );
    assert_eq!(
        ex("未来<整数>::就绪(1)"),
        "(call (path (generic (name 未来) 整数) 就绪) (int 1))"
    );
    assert_eq!(
        ex("字典<字符串, 列表<整数>>()"),
        "(call (generic (name 字典) 字符串 列表<整数>))"
    );
    assert_eq!(ex("点::原点()"), "(call (path (name 点) 原点))");
}

#[test]
fn generic_backtracking() {
    assert_eq!(ex("a < b"), "(< (name a) (name b))");
    assert_eq!(ex("a < b > (c)"), "(call (generic (name a) b) (name c))");
    assert_eq!(
        ex("a < b && c > d"),
        "(&& (< (name a) (name b)) (> (name c) (name d)))"
    );
    assert_eq!(
        ex("f(a < b, c > d)"),
        "(call (name f) (< (name a) (name b)) (> (name c) (name d)))"
    );
    assert_eq!(ex("i < n"), "(< (name i) (name n))");
    assert_eq!(
        ex("x < 列表.长度()"),
        "(< (name x) (call (field (name 列表) 长度)))"
    );
}

#[test]
fn struct_literals() {
    assert_eq!(ex("点 { x: 1, y }"), "(struct 点 (x (int 1)) (y))");
    assert_eq!(ex("点 {}"), "(struct 点)");
    assert_eq!(ex("模块.点 { x: 1, }"), "(struct 模块.点 (x (int 1)))");
    assert_eq!(
        ex("[点 { x: 点 { x: 1 } }]"),
        "(list (struct 点 (x (struct 点 (x (int 1))))))"
    );
}

#[test]
fn no_struct_literal_in_headers() {
    assert_eq!(
        sx("如果 x == 点 { 打印行(1); }"),
        "(nosemi (if (== (name x) (name 点)) (block (call (name 打印行) (int 1)))))"
    );
    assert_eq!(sx("当 继续中 { }"), "(while (name 继续中) (block))");
    assert_eq!(sx("对于 p 在 点集 { }"), "(for p (name 点集) (block))");
    assert_eq!(
        sx("对于 i 从 a 到 b { }"),
        "(for i (..= (name a) (name b)) (block))"
    );
    assert_eq!(
        sx("匹配 值 { _ => 1 }"),
        "(nosemi (match (name 值) (arm _ (int 1))))"
    );
    // Lifted inside () and [].
    assert_eq!(
        sx("如果 (p == 点 { x: 1 }) { }"),
        "(nosemi (if (== (name p) (struct 点 (x (int 1)))) (block)))"
    );
    assert_eq!(
        sx("如果 f(点 { x: 1 }) { }"),
        "(nosemi (if (call (name f) (struct 点 (x (int 1)))) (block)))"
    );
    assert_eq!(
        sx("对于 p 在 [点 { x: 1 }] { }"),
        "(for p (list (struct 点 (x (int 1)))) (block))"
    );
}

#[test]
fn closures() {
    assert_eq!(
        ex("函数(x, y: 整数): 整数 { x + y }"),
        "(closure (x y:整数) -> 整数 (block (tail (+ (name x) (name y)))))"
    );
    assert_eq!(ex("异步 函数() { }"), "(async closure () (block))");
    assert_eq!(
        ex("列表.映射(函数(x) { x * 2 })"),
        "(call (field (name 列表) 映射) (closure (x) (block (tail (* (name x) (int 2))))))"
    );
}

#[test]
fn coroutines_and_tasks() {
    assert_eq!(
        ex("协程 f(1, 2)"),
        "(coroutine (call (name f) (int 1) (int 2)))"
    );
    assert_eq!(
        ex("协程 { 挂起 1; }"),
        "(coroutine (block (suspend (int 1))))"
    );
    assert_eq!(
        ex("创建 模块.f(x)"),
        "(create (call (field (name 模块) f) (name x)))"
    );
    assert_eq!(
        sx("(创建 f(x)).取消();"),
        "(call (field (create (call (name f) (name x))) 取消))"
    );
    assert_eq!(
        sx("启动 服务.运行();"),
        "(spawn (call (field (name 服务) 运行)))"
    );
    assert_eq!(errs("创建 f;"), [("E2001", 1, 4)]);
    assert_eq!(errs("启动 1 + 2;"), [("E2001", 1, 4)]);
    assert_eq!(errs("变量 c = 协程 a.b;"), [("E2001", 1, 11)]);
}

#[test]
fn suspend_forms() {
    assert_eq!(ex("挂起 a + b"), "(suspend (+ (name a) (name b)))");
    assert_eq!(ex("[挂起, 挂起]"), "(list (suspend) (suspend))");
    assert_eq!(ex("f(挂起)"), "(call (name f) (suspend))");
    assert_eq!(sx("挂起;"), "(suspend)");
    assert_eq!(
        sx("匹配 x { _ => 挂起, }"),
        "(nosemi (match (name x) (arm _ (suspend))))"
    );
    assert_eq!(ex("{\"a\": 挂起}"), "(dict ((str \"a\") (suspend)))");
}

#[test]
fn if_and_match_as_expressions() {
    assert_eq!(
        ex("如果 a { 1 } 否则 { 2 }"),
        "(if (name a) (block (tail (int 1))) (block (tail (int 2))))"
    );
    assert_eq!(
        ex("1 + 匹配 x { _ => 2 }"),
        "(+ (int 1) (match (name x) (arm _ (int 2))))"
    );
}

#[test]
fn send_outside_a_statement_is_an_error() {
    assert_eq!(errs("如果 x<-1 { }"), [("E2001", 1, 5)]);
    assert!(rendered("如果 x<-1 { }").contains("提示：若要比较，写成 x < -1"));
    assert_eq!(errs("变量 y = ch <- 1;"), [("E2001", 1, 11)]);
    assert_eq!(errs("f(ch <- 1);"), [("E2001", 1, 6)]);
    assert_eq!(errs("匹配 x { _ => ch <- 1 }"), [("E2001", 1, 16)]);
}

// ---------------------------------------------------------------------------------------
// 匹配 and patterns

#[test]
fn match_arms_and_commas() {
    assert_eq!(
        sx(
            "匹配 值 {\n 0 => 打印行(\"零\"),\n 1 | 2 => 打印行(\"小\"),\n 3..=9 => { 打印行(\"中\"); }\n \
            n 如果 n < 0 => 打印行(\"负\"),\n _ => 打印行(\"大\"),\n}"
        ),
        "(nosemi (match (name 值) (arm (lit 0) (call (name 打印行) (str \"零\"))) \
         (arm (or (lit 1) (lit 2)) (call (name 打印行) (str \"小\"))) \
         (arm (range 3 9 =) (block (call (name 打印行) (str \"中\")))) \
         (arm (bind n) (guard (< (name n) (int 0))) (call (name 打印行) (str \"负\"))) \
         (arm _ (call (name 打印行) (str \"大\")))))"
    );
    // No trailing comma, and bodies ending in `}` need none.
    assert_eq!(
        sx("匹配 x { 1 => 如果 a { 2 } 否则 { 3 } 4 => 点 { x: 1 } _ => 5 }"),
        "(nosemi (match (name x) (arm (lit 1) (if (name a) (block (tail (int 2))) (block (tail (int 3))))) \
         (arm (lit 4) (struct 点 (x (int 1)))) (arm _ (int 5))))"
    );
    assert_eq!(errs("匹配 x { 1 => 2 3 => 4 }"), [("E2001", 1, 15)]);
}

#[test]
fn match_arm_bodies() {
    assert_eq!(
        sx(
            "循环 { 匹配 x { 1 => 返回, 2 => 返回 x + 1, 3 => 跳出, 4 => 继续, 5 => 抛出 e, 6 => y = 1, 7 => d[k] += 2 } }"
        ),
        "(loop (block (tail (match (name x) (arm (lit 1) (return)) \
         (arm (lit 2) (return (+ (name x) (int 1)))) (arm (lit 3) (break)) (arm (lit 4) (continue)) \
         (arm (lit 5) (throw (name e))) (arm (lit 6) (= (name y) (int 1))) \
         (arm (lit 7) (+= (index (name d) (name k)) (int 2)))))))"
    );
}

#[test]
fn patterns() {
    assert_eq!(
        sx(
            "匹配 x { -5..=-1 => 1, 0..10 => 2, -2.5 => 3, \"甲\" => 4, 真 | 假 => 5, 空 => 6, 9223372036854775807 => 7, -9223372036854775808 => 8 }"
        ),
        "(nosemi (match (name x) (arm (range -5 -1 =) (int 1)) (arm (range 0 10) (int 2)) \
         (arm (lit -2.5) (int 3)) (arm (lit \"甲\") (int 4)) (arm (or (lit 真) (lit 假)) (int 5)) \
         (arm (lit 空) (int 6)) (arm (lit 9223372036854775807) (int 7)) \
         (arm (lit -9223372036854775808) (int 8))))"
    );
    assert_eq!(
        sx(
            "匹配 s { 形状::圆(r) => r, 形状::无 => 0, 模块.形状::矩形(w, _) => w, 点 { x, y: 0 } => x, 模块.点 {} => 1 }"
        ),
        "(nosemi (match (name s) (arm (variant 形状::圆 ((bind r))) (name r)) \
         (arm (variant 形状::无) (int 0)) (arm (variant 模块.形状::矩形 ((bind w) _)) (name w)) \
         (arm (struct-pat 点 (x) (y (lit 0))) (name x)) (arm (struct-pat 模块.点) (int 1))))"
    );
    // Arbitrary nesting.
    assert_eq!(
        sx("匹配 s { 选项::有(点 { x: 1 | 2, y: 形状::圆(0..=3) }) => 1 }"),
        "(nosemi (match (name s) (arm (variant 选项::有 ((struct-pat 点 (x (or (lit 1) (lit 2))) \
         (y (variant 形状::圆 ((range 0 3 =))))))) (int 1))))"
    );
}

#[test]
fn pattern_errors() {
    assert_eq!(errs("匹配 s { 圆(r) => 1 }"), [("E2001", 1, 9)]);
    assert_eq!(errs("匹配 s { + => 1 }"), [("E2001", 1, 8)]);
    assert_eq!(errs("匹配 s { 模块.点 => 1 }"), [("E2001", 1, 13)]);
}

// ---------------------------------------------------------------------------------------
// Full-width punctuation

#[test]
fn full_width_twins() {
    assert_eq!(
        sx("打印行（“你好”）；"),
        "(call (name 打印行) (str \"你好\"))"
    );
    assert_eq!(
        sx("列表。添加(4)；"),
        "(call (field (name 列表) 添加) (int 4))"
    );
    assert_eq!(ex("【1，2】"), "(list (int 1) (int 2))");
    assert_eq!(ex("［1, 2］"), "(list (int 1) (int 2))");
    assert_eq!(ex("a ！= b"), "(!= (name a) (name b))");
    assert_eq!(ex("！a"), "(not (name a))");
    assert_eq!(ex("形状：：圆"), "(path (name 形状) 圆)");
    assert_eq!(ex("形状:：圆(1)"), "(call (path (name 形状) 圆) (int 1))");
    assert_eq!(
        sx("如果 a ｛ 打印行（1）； ｝ 否则 ｛ ｝"),
        "(nosemi (if (name a) (block (call (name 打印行) (int 1))) (block)))"
    );
    assert_eq!(
        sx("变量 字典1 ＝ 1;".replace('＝', "=").as_str()),
        "(let 字典1 (int 1))"
    );
    assert_eq!(
        sx("选择 ｛ 情况 v ：= <-ch： 1； ｝"),
        "(select (recv v (name ch) (int 1)))"
    );
    assert_eq!(ex("{“甲”： 1}"), "(dict ((str \"甲\") (int 1)))");
    assert_eq!(
        sx("结构体 点 ｛ x： 整数， y ｝"),
        "(struct-decl 点 x:整数 y)"
    );
}

#[test]
fn mixed_ascii_and_full_width() {
    assert_eq!(
        sx("函数 加（a， b)： 整数 { 返回 a + b； ｝\n打印行(加（1, 2）)；"),
        "(fn 加 (a b) -> 整数 (block (return (+ (name a) (name b))))) \
         (call (name 打印行) (call (name 加) (int 1) (int 2)))"
    );
    assert_eq!(
        sx("变量 l = 【1, 2］；\nl。添加（3)；"),
        "(let l (list (int 1) (int 2))) (call (field (name l) 添加) (int 3))"
    );
}

// ---------------------------------------------------------------------------------------
// Errors: codes, positions, recovery

#[test]
fn missing_semicolon_points_just_after_the_previous_token() {
    assert_eq!(errs("变量 x = 1\n打印行(x);"), [("E2002", 1, 9)]);
    assert_eq!(errs("打印行(\"你好\")\n"), [("E2002", 1, 10)]);
    assert_eq!(
        errs("函数 f() {\n    返回 1\n    打印行(2);\n}"),
        [("E2002", 2, 9)]
    );
    assert_eq!(errs("跳出 继续;"), [("E2002", 1, 3)]);
    let text = rendered("变量 x = 1\n打印行(x);");
    assert!(text.contains("错误[E2002]：缺少分号"));
    assert!(text.contains("--> 测试.qi:1:9"));
}

#[test]
fn unexpected_token_names_expected_and_found() {
    let text = rendered("打印行(1 2);");
    assert!(
        text.contains("错误[E2001]：意外的记号：期望「,」或「)」，却遇到整数「2」"),
        "{text}"
    );
    let text = rendered("打印行(1;");
    assert!(
        text.contains("错误[E2001]：意外的记号：期望「)」，却遇到「;」"),
        "{text}"
    );
    assert!(
        text.contains("提示：第 1 行第 4 列的「(」没有对应的「)」"),
        "{text}"
    );
    let text = rendered("变量 = 5;");
    assert!(text.contains("期望变量名，却遇到「=」"), "{text}");
    let text = rendered("函数 f( { }");
    assert!(text.contains("期望参数名，却遇到「{」"), "{text}");
}

#[test]
fn unclosed_bracket_says_where_it_opened() {
    let src = "函数 f() {\n    打印行(1);\n";
    assert_eq!(errs(src), [("E2001", 3, 1)]);
    let text = rendered(src);
    assert!(text.contains("期望「}」，却遇到文件结尾"), "{text}");
    assert!(
        text.contains("第 1 行第 8 列的「{」没有对应的「}」"),
        "{text}"
    );
    assert_eq!(errs("打印行(1, 2;\n打印行(3);"), [("E2001", 1, 9)]);
    assert_eq!(errs("打印行(1));"), [("E2001", 1, 7)]);
    assert_eq!(errs("}\n打印行(1);"), [("E2001", 1, 1)]);
}

#[test]
fn several_independent_errors_are_all_reported() {
    let src = "变量 a = ;\n变量 b = 1 +;\n变量 = 3;\n打印行(a);\n";
    assert_eq!(
        errs(src),
        [("E2001", 1, 8), ("E2001", 2, 11), ("E2001", 3, 4)]
    );
    let src = "变量 a = 1\n变量 b = 2\n变量 c = 3\n";
    assert_eq!(
        errs(src),
        [("E2002", 1, 9), ("E2002", 2, 9), ("E2002", 3, 9)]
    );
    let src = "函数 f() {\n  x = ;\n  y = (1;\n}\n函数 g( {\n}\n打印行(1 2);\n";
    assert_eq!(
        errs(src),
        [
            ("E2001", 2, 7),
            ("E2001", 3, 9),
            ("E2001", 5, 7),
            ("E2001", 7, 7)
        ]
    );
}

#[test]
fn no_cascades_after_an_error() {
    // One bad token in a statement gives one error, however confused the rest is.
    assert_eq!(errs("变量 x = (1 + * 2;"), [("E2001", 1, 13)]);
    assert_eq!(errs("打印行(1 2 3 4);"), [("E2001", 1, 7)]);
    assert_eq!(errs("变量 x = 1 2 3;\n变量 y = 2;"), [("E2002", 1, 9)]);
    assert_eq!(errs("如果 { } 否则 { }"), [("E2001", 1, 4)]);
    // The tree keeps going after the error.
    let (tree, codes) = sx_errs("变量 a = ;\n打印行(1);");
    assert_eq!(codes, ["E2001"]);
    assert_eq!(tree, "(let a (error)) (call (name 打印行) (int 1))");
}

#[test]
fn lexer_errors_do_not_cascade_into_parser_errors() {
    // The illegal character is skipped; the parser does not also complain about `1 2`.
    assert_eq!(errs("变量 x = 1 @ 2;"), [("E1001", 1, 10)]);
    // An unterminated string swallows the rest of the file.
    assert_eq!(errs("打印行(\"你好);\n打印行(1);\n"), [("E1002", 1, 5)]);
    assert_eq!(errs("打印行(1); /* 注释"), [("E1006", 1, 9)]);
}

#[test]
fn keyword_prefixed_name_gets_a_hint() {
    let text = rendered("如果计数 > 0 { 打印行(1); }");
    assert!(text.contains("提示：是不是想写 如果 计数？"), "{text}");
}

#[test]
fn misplaced_modifier() {
    assert_eq!(errs("公开 方法 点 {}"), [("E2001", 1, 4)]);
    assert_eq!(
        errs("方法 点 { 变量 x = 1; 函数 f() {} }"),
        [("E2001", 1, 8)]
    );
}

#[test]
fn closure_with_a_name_is_an_error() {
    assert_eq!(errs("变量 f = 函数 名() {};"), [("E2001", 1, 11)]);
}

// ---------------------------------------------------------------------------------------
// Nesting

/// Parses on a fresh 2 MiB thread (the size of a test thread) and returns the codes.
fn codes_on_small_stack(src: String) -> Vec<Code> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let file = SourceFile::new("深.qi", src);
            let arena = Bump::new();
            let parsed = parse(&arena, &file);
            // The tree must be shallow enough to walk recursively, too.
            let _ = sexpr::program(&parsed.program);
            parsed.diagnostics.iter().map(|d| d.code).collect()
        })
        .expect("线程")
        .join()
        .expect("解析器不应崩溃")
}

/// Programs whose nesting is `n` levels of one construct.
fn nested_programs(n: usize) -> Vec<(&'static str, String)> {
    vec![
        (
            "括号",
            format!("变量 x = {}1{};", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "列表",
            format!("变量 x = {}1{};", "[".repeat(n), "]".repeat(n)),
        ),
        (
            "字典",
            format!("变量 x = {}1{};", "{1: ".repeat(n), "}".repeat(n)),
        ),
        (
            "调用",
            format!("变量 x = {}1{};", "f(".repeat(n), ")".repeat(n)),
        ),
        ("代码块", format!("{}{}", "{".repeat(n), "}".repeat(n))),
        ("负号", format!("变量 x = {}1;", "-".repeat(n))),
        ("非", format!("变量 x = {}真;", "!".repeat(n))),
        ("如果", format!("{}{}", "如果 a {".repeat(n), "}".repeat(n))),
        (
            "匹配",
            format!("变量 x = {}1{};", "匹配 x { _ => ".repeat(n), "}".repeat(n)),
        ),
        (
            "闭包",
            format!("变量 x = {}1{};", "函数() { ".repeat(n), "}".repeat(n)),
        ),
        (
            "函数",
            format!("{}{}", "函数 f() { ".repeat(n), "}".repeat(n)),
        ),
        (
            "结构体字面量",
            format!("变量 x = {}1{};", "点 { x: ".repeat(n), "}".repeat(n)),
        ),
        ("挂起", format!("变量 x = {}1;", "挂起 ".repeat(n))),
        (
            "类型",
            format!("变量 x: {}整数{} = 1;", "列表<".repeat(n), ">".repeat(n)),
        ),
        (
            "尝试",
            format!("{}{}", "尝试 { ".repeat(n), "} 最终 {}".repeat(n)),
        ),
        (
            "选择",
            format!("{}{}", "选择 { 情况 <-a: ".repeat(n), "}".repeat(n)),
        ),
    ]
}

#[test]
fn nesting_256_is_fine_257_is_e2003() {
    for (name, src) in nested_programs(256) {
        assert_eq!(codes_on_small_stack(src), [], "{name} 256 层");
    }
    for (name, src) in nested_programs(257) {
        assert_eq!(codes_on_small_stack(src), [Code::E2003], "{name} 257 层");
    }
}

#[test]
fn e2003_position_is_the_257th_opener() {
    let src = format!("变量 x = {}1{};", "(".repeat(257), ")".repeat(257));
    assert_eq!(errs(&src), [("E2003", 1, 8 + 256)]);
}

#[test]
fn absurd_nesting_never_overflows_the_stack() {
    let n = 100_000;
    let programs = [
        "(".repeat(n),
        "[".repeat(n),
        "{".repeat(n),
        format!("变量 x = {}1;", "-".repeat(n)),
        format!("变量 x = {}f();", "等待 ".repeat(n)),
        format!("变量 x = {}f();", "创建 ".repeat(n)),
        format!("变量 x = {}1;", "挂起 ".repeat(n)),
        "如果 ".repeat(n),
        "匹配 ".repeat(n),
        format!("变量 x = 1{};", "+1".repeat(n)),
        format!("变量 x = a{};", ".b".repeat(n)),
        format!("变量 x = f{};", "()".repeat(n)),
        format!("如果 a {{}} {}", "否则 如果 b {} ".repeat(n)),
        format!("变量 x: {}整数;", "列表<".repeat(n)),
        format!("匹配 x {{ {}a => 1 }}", "形状::圆(".repeat(n)),
        format!("匹配 x {{ {} => 1 }}", "a.".repeat(n)),
        "函数() { ".repeat(n),
    ];
    for src in programs {
        let head: String = src.chars().take(20).collect();
        let codes = codes_on_small_stack(src);
        assert!(codes.contains(&Code::E2003), "{head}…: {codes:?}");
        assert_eq!(
            codes.iter().filter(|&&c| c == Code::E2003).count(),
            1,
            "{head}…"
        );
    }
}

#[test]
fn long_comparison_chain_is_one_error() {
    let src = format!("变量 x = {}a;", "a<".repeat(100_000));
    assert_eq!(codes_on_small_stack(src), [Code::E2001]);
}

#[test]
fn long_flat_code_is_not_nesting() {
    // Statements, list elements and arguments do not nest.
    let src = "打印行(1);\n".repeat(5000);
    assert_eq!(errs(&src), []);
    let src = format!("变量 l = [{}];", "1, ".repeat(5000));
    assert_eq!(errs(&src), []);
    let src = format!("匹配 x {{ {} _ => 0 }}", "1 => 2, ".repeat(2000));
    assert_eq!(errs(&src), []);
}

// ---------------------------------------------------------------------------------------
// The golden syntax-error programs under tests/programs/语法错误/

/// Each `名.qi` there has a `名.err` (exit code 1, then lines that must appear in stderr in
/// order, each as a substring) and an empty `名.out`. Until the CLI runs them, this renders
/// the parser's diagnostics the way the CLI prints them and checks the `.err` against that.
#[test]
fn syntax_error_goldens_match_the_parser() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs/语法错误");
    let mut programs: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/programs/语法错误")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "qi"))
        .collect();
    programs.sort();
    assert!(
        programs.len() >= 15,
        "语法错误的例子太少：{}",
        programs.len()
    );
    for path in programs {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = std::fs::read_to_string(path.with_extension("err"))
            .unwrap_or_else(|_| panic!("{name} 缺少 .err"));
        let out = std::fs::read_to_string(path.with_extension("out"))
            .unwrap_or_else(|_| panic!("{name} 缺少 .out"));
        assert!(out.is_empty(), "{name}：有语法错误的程序不输出任何东西");
        // The harness runs the program from its own directory: the path is the file name.
        let file = SourceFile::new(name.clone(), text);
        let arena = Bump::new();
        let parsed = parse(&arena, &file);
        assert!(!parsed.diagnostics.is_empty(), "{name} 应有诊断");
        let stderr: String = parsed
            .diagnostics
            .iter()
            .map(|d| render(d, false))
            .collect();
        let mut lines = expected.lines();
        assert_eq!(lines.next(), Some("1"), "{name}：退出码应为 1");
        let mut rest = stderr.as_str();
        for line in lines.filter(|l| !l.is_empty()) {
            match rest.find(line) {
                Some(at) => rest = &rest[at + line.len()..],
                None => panic!("{name}：stderr 中（按顺序）找不到\n{line}\n实际输出：\n{stderr}"),
            }
        }
    }
}
