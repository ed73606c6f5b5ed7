//! The one catalogue of diagnostic codes (QI-LANGUAGE.md §10): code, Chinese title, hint.
//!
//! Nobody writes a message string in place: compile errors, runtime errors, the REPL and the
//! embedding API all take their titles and default hints from this table.

macro_rules! catalogue {
    ($($code:ident => $title:literal, $hint:expr;)*) => {
        /// A diagnostic code. `E` codes are errors, `W` codes warnings.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code { $($code,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// `"E7001"`
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }

            /// The Chinese title: `除以零`.
            pub fn title(self) -> &'static str {
                match self { $(Code::$code => $title,)* }
            }

            /// The hint shown when the site that raised the diagnostic gives none.
            pub fn default_hint(self) -> Option<&'static str> {
                match self { $(Code::$code => $hint,)* }
            }

            pub fn parse(s: &str) -> Option<Code> {
                match s { $(stringify!($code) => Some(Code::$code),)* _ => None }
            }
        }
    };
}

catalogue! {
    // lexing
    E1001 => "非法字符", Some("删除这个字符；全角标点只认 ；，：（）｛｝【】［］！。");
    E1002 => "未结束的字符串", Some("在字符串末尾补上对应的引号");
    E1003 => "无效的转义", Some("可用的转义：\\n \\t \\r \\\\ \\\" \\' \\0 \\u{4E2D}");
    E1004 => "无效的数字", Some("数字写法如 42、1_000、0xFF、0b1010、0o755、3.14、2.5e-3");
    E1005 => "整数字面量溢出", Some("整数的范围是 -9223372036854775808 到 9223372036854775807");
    E1006 => "未结束的注释", Some("用 */ 结束块注释");
    E1007 => "源文件不是 UTF-8", Some("请把文件另存为 UTF-8 编码");
    // syntax
    E2001 => "意外的记号", None;
    E2002 => "缺少分号", Some("在这里补上「;」或「；」");
    E2003 => "嵌套过深", Some("嵌套不能超过 256 层；把里层拆成函数");
    // names and types
    E3001 => "类型不符", None;
    E3002 => "未定义的名字", None;
    E3003 => "重复定义", None;
    E3004 => "条件必须是布尔值", Some("气没有“真值”转换；请写出比较，例如 x != 0");
    E3005 => "不能给不可变绑定赋值", Some("若要修改，用「可变」声明它");
    E3006 => "参数个数不符", None;
    E3007 => "不可调用", None;
    E3008 => "没有该字段或方法", None;
    E3009 => "运算类型不符", None;
    E3010 => "在初始化前使用", Some("先执行它的声明，再使用它");
    E3011 => "结构体字段不符", None;
    E3012 => "静态调用中使用自己", Some("用 值.方法() 的形式调用，才能使用「自己」");
    E3013 => "模式分支绑定不同", Some("「|」两边的模式必须绑定相同的名字");
    E3014 => "不能为内置类型定义方法", None;
    // modules
    E4001 => "找不到模块", None;
    E4002 => "模块没有该公开名字", Some("在模块里用「公开」声明它");
    E4003 => "循环导入", None;
    // concurrency
    E6001 => "协程已结束", None;
    E6002 => "协程正在运行", None;
    E6003 => "只能等待任务或未来", None;
    E6004 => "超时", None;
    E6005 => "已取消", None;
    E6006 => "死锁", Some("所有任务都在等待，没有任何任务能继续");
    E6007 => "通道已关闭", None;
    // runtime
    E7000 => "未捕获的错误", None;
    E7001 => "除以零", None;
    E7002 => "整数溢出", Some("整数的范围是 -9223372036854775808 到 9223372036854775807；需要更大的数可改用浮点数");
    E7003 => "索引越界", None;
    E7004 => "键不存在", Some("用 字典.获取(键) 在键不存在时得到 空");
    E7005 => "没有匹配的分支", Some("加一个「_ =>」分支处理其余情况");
    E7006 => "栈溢出", Some("递归太深；检查递归的结束条件");
    E7007 => "无法转换", None;
    E7008 => "参数无效", None;
    E7009 => "对空值访问成员", None;
    E7010 => "迭代时修改字典", Some("先用 键列表() 复制键，再修改字典");
    // I/O
    E8001 => "找不到文件", None;
    E8002 => "权限不足", None;
    E8003 => "已存在", None;
    E8004 => "连接被拒绝", None;
    E8005 => "地址无效", None;
    E8006 => "连接中断", None;
    E8007 => "HTTP 错误", None;
    E8099 => "其他 I/O 错误", None;
    // limits and capabilities
    E9001 => "步数超限", None;
    E9002 => "内存超限", None;
    E9003 => "任务数超限", None;
    E9004 => "文件访问被禁止", None;
    E9005 => "网络访问被禁止", None;
    E9006 => "进程操作被禁止", None;
    // warnings
    W6001 => "协程从未恢复", Some("用 恢复 运行它，或把它存进变量");
    W6002 => "程序结束时仍有任务在等待", None;
}

impl Code {
    pub fn is_warning(self) -> bool {
        self.as_str().starts_with('W')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_a_chinese_title() {
        for &code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(code));
            assert!(!code.title().is_ascii(), "{} 的标题应为中文", code.as_str());
        }
    }
}
