//! The syntax tree, allocated in one `bumpalo` arena per compilation.
//!
//! Every node carries the [`Span`] of the source it came from. The tree is faithful to the
//! source (no desugaring beyond `对于 i 从 a 到 b`, which is stored as the range `a..=b`), so
//! the resolver and the compiler can point diagnostics at exactly what the user wrote.
//! Nodes are `Copy` references into the arena; nothing here owns heap memory.

use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ident<'a> {
    pub name: &'a str,
    pub span: Span,
}

/// One parsed file.
#[derive(Debug)]
pub struct Program<'a> {
    pub stmts: &'a [Stmt<'a>],
    pub span: Span,
}

// ---------------------------------------------------------------------------------------
// Statements and declarations

#[derive(Clone, Copy, Debug)]
pub struct Stmt<'a> {
    pub kind: StmtKind<'a>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug)]
pub enum StmtKind<'a> {
    /// `包 名;`
    Package(Ident<'a>),
    /// `导入 ./工具 作为 别名;`
    Import(&'a Import<'a>),
    /// `变量 x: T = e;` / `可变 x = e;`
    Let(&'a LetDecl<'a>),
    Function(&'a FunctionDecl<'a>),
    Struct(&'a StructDecl<'a>),
    Enum(&'a EnumDecl<'a>),
    Methods(&'a MethodsDecl<'a>),
    /// An expression statement. `semi` tells whether it ended with `;`: a block-like
    /// expression (`如果`, `匹配`, a block) at the end of a block without `;` is the
    /// block's value.
    Expr {
        expr: &'a Expr<'a>,
        semi: bool,
    },
    /// `目标 = 值;` and the compound forms.
    Assign {
        target: &'a Expr<'a>,
        op: AssignOp,
        value: &'a Expr<'a>,
    },
    /// `ch <- v;`
    Send {
        channel: &'a Expr<'a>,
        value: &'a Expr<'a>,
    },
    /// `当 条件 { … }`
    While {
        cond: &'a Expr<'a>,
        body: &'a Block<'a>,
    },
    /// `对于 x 在 e { … }` and `对于 x 从 a 到 b { … }` (stored as `a..=b`).
    For {
        var: Ident<'a>,
        iter: &'a Expr<'a>,
        body: &'a Block<'a>,
    },
    /// `循环 { … }`
    Loop {
        body: &'a Block<'a>,
    },
    /// `返回;` / `返回 e;`
    Return(Option<&'a Expr<'a>>),
    /// `跳出;`
    Break,
    /// `继续;`
    Continue,
    /// `抛出 e;`
    Throw(&'a Expr<'a>),
    /// `尝试 { … } 捕获 (e) { … } 最终 { … }`; at least one of catch and finally is present.
    Try(&'a TryStmt<'a>),
    /// `选择 { 情况 …: … }`
    Select(&'a SelectStmt<'a>),
    /// A lone `;`.
    Empty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Assign,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug)]
pub struct Import<'a> {
    /// The path exactly as written (`./工具`, `../共享/日志`, `数学`, `宿主.数据库`).
    pub path: &'a str,
    pub path_span: Span,
    pub kind: ImportKind,
    /// The path's segments: for `../共享/日志` that is `["..", "共享", "日志"]`; for a dotted
    /// module name `宿主.数据库` it is `["宿主", "数据库"]`.
    pub segments: &'a [&'a str],
    /// `作为 别名`
    pub alias: Option<Ident<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// Starts with `./` or `../`: a file relative to the importing file.
    Relative,
    /// A standard module (`数学`, `哈希`) or a host module (`宿主.名`).
    Module,
}

impl Import<'_> {
    /// The name the import binds: the alias, else the last segment.
    pub fn binding(&self) -> &str {
        match &self.alias {
            Some(a) => a.name,
            None => self.segments.last().copied().unwrap_or(""),
        }
    }
}

#[derive(Debug)]
pub struct LetDecl<'a> {
    pub mutable: bool,
    pub public: bool,
    pub name: Ident<'a>,
    pub ty: Option<&'a TypeExpr<'a>>,
    /// `None` for `可变 x;`, which starts as 空.
    pub value: Option<&'a Expr<'a>>,
}

#[derive(Debug)]
pub struct Param<'a> {
    pub name: Ident<'a>,
    pub ty: Option<&'a TypeExpr<'a>>,
}

#[derive(Debug)]
pub struct FunctionDecl<'a> {
    pub name: Ident<'a>,
    pub public: bool,
    pub is_async: bool,
    /// `函数 f<T>(…)`: accepted, not checked.
    pub type_params: &'a [Ident<'a>],
    pub params: &'a [Param<'a>],
    pub ret: Option<&'a TypeExpr<'a>>,
    pub body: &'a Block<'a>,
    /// The whole declaration, from `公开`/`异步`/`函数` to the closing `}`.
    pub span: Span,
}

#[derive(Debug)]
pub struct FieldDecl<'a> {
    pub name: Ident<'a>,
    pub ty: Option<&'a TypeExpr<'a>>,
}

#[derive(Debug)]
pub struct StructDecl<'a> {
    pub name: Ident<'a>,
    pub public: bool,
    pub type_params: &'a [Ident<'a>],
    pub fields: &'a [FieldDecl<'a>],
}

#[derive(Debug)]
pub struct VariantDecl<'a> {
    pub name: Ident<'a>,
    /// Payload types; empty for a unit variant such as `无`.
    pub fields: &'a [&'a TypeExpr<'a>],
    pub span: Span,
}

#[derive(Debug)]
pub struct EnumDecl<'a> {
    pub name: Ident<'a>,
    pub public: bool,
    pub type_params: &'a [Ident<'a>],
    pub variants: &'a [VariantDecl<'a>],
}

/// `方法 点 { 函数 … }`
#[derive(Debug)]
pub struct MethodsDecl<'a> {
    pub target: Ident<'a>,
    pub type_params: &'a [Ident<'a>],
    pub methods: &'a [FunctionDecl<'a>],
}

#[derive(Debug)]
pub struct TryStmt<'a> {
    pub body: &'a Block<'a>,
    /// `捕获 (e) { … }`; the parenthesised name is optional (`捕获 { … }`).
    pub catch: Option<CatchClause<'a>>,
    pub finally: Option<&'a Block<'a>>,
}

#[derive(Debug)]
pub struct CatchClause<'a> {
    pub binding: Option<Ident<'a>>,
    pub body: &'a Block<'a>,
    /// The `捕获` keyword.
    pub span: Span,
}

#[derive(Debug)]
pub struct SelectStmt<'a> {
    pub cases: &'a [SelectCase<'a>],
}

#[derive(Debug)]
pub struct SelectCase<'a> {
    pub kind: SelectCaseKind<'a>,
    /// The statements up to the next `情况`, `默认` or the closing `}`.
    pub body: &'a [Stmt<'a>],
    /// The case head, `情况 … :` or `默认:`.
    pub span: Span,
}

#[derive(Clone, Copy, Debug)]
pub enum SelectCaseKind<'a> {
    /// `情况 <-ch:` or `情况 v = <-ch:` / `情况 v := <-ch:`
    Recv {
        binding: Option<Ident<'a>>,
        channel: &'a Expr<'a>,
    },
    /// `情况 ch <- v:`
    Send {
        channel: &'a Expr<'a>,
        value: &'a Expr<'a>,
    },
    /// `情况 超时(毫秒):`
    Timeout(&'a Expr<'a>),
    /// `默认:`
    Default,
}

/// `{ 语句… 尾表达式 }`
#[derive(Debug)]
pub struct Block<'a> {
    pub stmts: &'a [Stmt<'a>],
    /// The final expression without `;`, if any: the block's value.
    pub tail: Option<&'a Expr<'a>>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------
// Expressions

#[derive(Debug)]
pub struct Expr<'a> {
    pub kind: ExprKind<'a>,
    pub span: Span,
}

#[derive(Debug)]
pub enum ExprKind<'a> {
    /// An integer literal. `-9223372036854775808` is folded into one literal by the parser.
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bool(bool),
    /// `空`
    Nil,
    /// `自己`
    SelfValue,
    Name(Ident<'a>),
    /// `[a, b, c]`
    List(&'a [Expr<'a>]),
    /// `{"甲": 1}`
    Dict(&'a [(Expr<'a>, Expr<'a>)]),
    /// `点 { x: 1, y }`; a field without a value is shorthand for `x: x`.
    StructLit {
        path: &'a TypePath<'a>,
        fields: &'a [FieldInit<'a>],
    },
    Unary {
        op: UnaryOp,
        operand: &'a Expr<'a>,
    },
    Binary {
        op: BinaryOp,
        lhs: &'a Expr<'a>,
        rhs: &'a Expr<'a>,
    },
    /// `a..b` / `a..=b`
    Range {
        start: &'a Expr<'a>,
        end: &'a Expr<'a>,
        inclusive: bool,
    },
    Call {
        callee: &'a Expr<'a>,
        args: &'a [Expr<'a>],
    },
    /// `值.名` (also written `值。名`); any keyword may be the name.
    Field {
        object: &'a Expr<'a>,
        name: Ident<'a>,
    },
    /// `值[下标]`
    Index {
        object: &'a Expr<'a>,
        index: &'a Expr<'a>,
    },
    /// `类型::名` — static method, enum variant or `未来::就绪`; the qualifier may be a
    /// module member (`模块.类型::名`) and may carry type arguments (`未来<整数>::就绪`).
    Path(&'a TypePath<'a>),
    /// `名<类型, …>` directly before `(`: `通道<整数>(10)`. The arguments are not checked.
    Generic {
        base: &'a Expr<'a>,
        args: &'a [TypeExpr<'a>],
    },
    /// `函数(x) { … }` and `异步 函数(x) { … }`
    Closure(&'a FunctionDecl<'a>),
    If {
        cond: &'a Expr<'a>,
        then: &'a Block<'a>,
        /// `否则 { … }` (a `Block` expression) or `否则 如果 …` (an `If` expression).
        otherwise: Option<&'a Expr<'a>>,
    },
    Match {
        scrutinee: &'a Expr<'a>,
        arms: &'a [MatchArm<'a>],
    },
    Block(&'a Block<'a>),
    /// `协程 f(x)` / `协程 { … }`
    Coroutine(TaskBody<'a>),
    /// `创建 f(x)` / `创建 { … }`
    Create(TaskBody<'a>),
    /// `启动 f(x)` / `启动 { … }`
    Spawn(TaskBody<'a>),
    /// `等待 e`
    Await(&'a Expr<'a>),
    /// `恢复 c`
    Resume(&'a Expr<'a>),
    /// `挂起` / `挂起 e`
    Suspend(Option<&'a Expr<'a>>),
    /// `<-ch`
    Recv(&'a Expr<'a>),
    /// `取地址 x`
    AddrOf(&'a Expr<'a>),
    /// `解引用 r`
    Deref(&'a Expr<'a>),
    /// Stands where the parser recovered from an error; never reaches the compiler.
    Error,
}

/// What `协程`, `创建` and `启动` run: a block, or a call whose callee and arguments are
/// evaluated at once (the expression is always an `ExprKind::Call`).
#[derive(Clone, Copy, Debug)]
pub enum TaskBody<'a> {
    Block(&'a Block<'a>),
    Call(&'a Expr<'a>),
}

#[derive(Debug)]
pub struct FieldInit<'a> {
    pub name: Ident<'a>,
    /// `None` for the shorthand `点 { x }`.
    pub value: Option<&'a Expr<'a>>,
}

/// A path naming a type member or a type.
///
/// - In `类型::名`, `模块.类型::名`, `形状::圆` (ExprKind::Path and variant patterns),
///   `qualifier` is the expression before the last `::` (`类型`, `模块.类型`, or a generic
///   `未来<整数>`) and `name` is what follows it.
/// - In a struct literal or struct pattern, `name` is the struct's name and `qualifier` is
///   the module part before it, if any: `点 {…}` has none, `模块.点 {…}` has `模块`.
#[derive(Debug)]
pub struct TypePath<'a> {
    pub qualifier: Option<&'a Expr<'a>>,
    pub name: Ident<'a>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `!`
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
        }
    }
}

#[derive(Debug)]
pub struct MatchArm<'a> {
    pub pattern: &'a Pattern<'a>,
    pub guard: Option<&'a Expr<'a>>,
    /// An expression statement (whose value is the arm's value when it has no `;`), an
    /// assignment, or 返回/跳出/继续/抛出.
    pub body: &'a Stmt<'a>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------
// Patterns

#[derive(Debug)]
pub struct Pattern<'a> {
    pub kind: PatternKind<'a>,
    pub span: Span,
}

#[derive(Debug)]
pub enum PatternKind<'a> {
    /// `_`
    Wildcard,
    /// A bare name: binds the value.
    Binding(Ident<'a>),
    /// `0`, `-1`, `"甲"`, `真`, `空`, `2.5`
    Literal(Literal<'a>),
    /// `3..=9`, `0..10`
    Range {
        start: Literal<'a>,
        end: Literal<'a>,
        inclusive: bool,
    },
    /// `1 | 2 | 3`
    Or(&'a [Pattern<'a>]),
    /// `形状::圆(r)`, `形状::无`, `模块.形状::圆(r)`
    Variant {
        path: &'a TypePath<'a>,
        /// `None` when written without parentheses.
        args: Option<&'a [Pattern<'a>]>,
    },
    /// `点 { x, y: 0 }`; fields left out are not checked.
    Struct {
        path: &'a TypePath<'a>,
        fields: &'a [FieldPattern<'a>],
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Literal<'a> {
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bool(bool),
    Nil,
}

#[derive(Debug)]
pub struct FieldPattern<'a> {
    pub name: Ident<'a>,
    /// `None` for the shorthand `点 { x }`, which binds `x`.
    pub pattern: Option<&'a Pattern<'a>>,
}

// ---------------------------------------------------------------------------------------
// Types (annotations)

/// `整数`, `列表<整数>`, `字典<字符串, 整数>`, `模块.类型`
#[derive(Debug)]
pub struct TypeExpr<'a> {
    /// The dotted name: `["列表"]`, `["模块", "类型"]`.
    pub path: &'a [Ident<'a>],
    pub args: &'a [TypeExpr<'a>],
    pub span: Span,
}

impl TypeExpr<'_> {
    /// The last segment of the path: the type's own name.
    pub fn name(&self) -> &str {
        self.path.last().map_or("", |i| i.name)
    }
}
