//! The help texts, in Chinese.

pub const MAIN: &str = "\
气 (Qi) —— 中文关键字的编程语言

用法：
  qi run 程序.qi [参数…]     运行程序
  qi check 程序.qi           检查程序中的错误，不运行
  qi repl                    进入交互式解释器
  qi 程序.qi                 等同于 qi run 程序.qi

选项：
  -h, --help, --帮助         显示帮助
  -V, --version, --版本      显示版本

每个命令都有自己的帮助，例如：qi run --帮助
";

pub const RUN: &str = "\
qi run —— 运行一个气程序

用法：
  qi run 程序.qi [参数…]

先执行文件的顶层语句，再调用「入口」函数（如果有）。
程序后面的参数可以在程序里用 参数() 取得。

选项：
  --线程 N                   用 N（1 到 1024）个工作线程运行（也可设置 QI_THREADS）；
                             默认是 CPU 个数，1 个线程时调度是确定的
  --任务快照[=毫秒]           运行时每隔这么久（默认 1000）在标准错误打印所有任务
                             及其调用栈；按 Ctrl-\\（SIGQUIT）也会打印一次
  --gc-统计                  结束时在标准错误打印环形引用回收的次数、释放的对象数
                             和停顿时间
  -h, --help, --帮助         显示本帮助

环境变量：QI_THREADS（线程数）、QI_BUDGET（每轮步数，默认 1000）、
QI_SEED（随机数种子）、QI_GC（环形引用回收：auto 默认、off 关闭、manual 只在要求时、
stress 每个安全点都回收，用于测试）、NO_COLOR（不用颜色）。

退出码：0 成功；1 编译错误或未捕获的错误；2 死锁；退出(n) 给出 n。
";

pub const CHECK: &str = "\
qi check —— 检查程序中的错误，不运行

用法：
  qi check 程序.qi [--字节码]

打印所有错误和警告；没有错误时退出码为 0，否则为 1。

选项：
  --字节码, --bytecode       同时打印编译出的字节码
  -h, --help, --帮助         显示本帮助
";

pub const REPL: &str = "\
qi repl —— 交互式解释器

用法：
  qi repl
  qi                         不带参数时也进入交互式解释器

在提示符后输入气代码，按回车执行。输入 :帮助 查看命令。
";
