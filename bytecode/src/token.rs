//! Tokens: what the lexer hands the parser.
//!
//! Full-width punctuation is folded into its ASCII twin here, so the parser never sees the
//! difference between `；` and `;`. Identifiers and decoded string contents borrow from the
//! source or from the compilation's arena.

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Token<'a> {
    pub kind: TokenKind<'a>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TokenKind<'a> {
    /// An identifier, NFC-normalised.
    Ident(&'a str),
    Keyword(Keyword),
    /// An integer literal. Kept unsigned: `9223372036854775808` is legal right after a
    /// unary `-`, and only the parser knows whether it is.
    Int(u64),
    Float(f64),
    /// A string literal with its escapes decoded.
    Str(&'a str),

    Semi,       // ;  ；
    Comma,      // ,  ，
    Colon,      // :  ：
    ColonColon, // ::
    ColonEq,    // :=
    Dot,        // .  。
    DotDot,     // ..
    DotDotEq,   // ..=
    LParen,     // (  （
    RParen,     // )  ）
    LBrace,     // {  ｛
    RBrace,     // }  ｝
    LBracket,   // [  【  ［
    RBracket,   // ]  】  ］
    Bang,       // !  ！
    BangEq,     // !=
    Eq,         // =
    EqEq,       // ==
    Lt,         // <
    Le,         // <=
    Gt,         // >
    Ge,         // >=
    Plus,       // +
    Minus,      // -
    Star,       // *
    Slash,      // /
    Percent,    // %
    PlusEq,     // +=
    MinusEq,    // -=
    StarEq,     // *=
    SlashEq,    // /=
    PercentEq,  // %=
    AndAnd,     // &&
    OrOr,       // ||
    Pipe,       // |
    Arrow,      // ->
    FatArrow,   // =>
    LeftArrow,  // <-  (send and receive; always one token)

    Eof,
}

macro_rules! keywords {
    ($($variant:ident => $text:literal,)*) => {
        /// Every keyword of QI-LANGUAGE.md §2. A keyword is a whole identifier.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Keyword { $($variant,)* }

        impl Keyword {
            pub const ALL: &'static [Keyword] = &[$(Keyword::$variant,)*];

            pub fn text(self) -> &'static str {
                match self { $(Keyword::$variant => $text,)* }
            }

            pub fn from_text(s: &str) -> Option<Keyword> {
                match s { $($text => Some(Keyword::$variant),)* _ => None }
            }
        }
    };
}

keywords! {
    // declarations
    Package => "包",
    Import => "导入",
    As => "作为",
    Function => "函数",
    Let => "变量",
    Mut => "可变",
    Struct => "结构体",
    Enum => "枚举",
    Methods => "方法",
    Public => "公开",
    Private => "私有",
    Async => "异步",
    // control
    If => "如果",
    Else => "否则",
    While => "当",
    For => "对于",
    In => "在",
    From => "从",
    To => "到",
    Loop => "循环",
    Match => "匹配",
    Return => "返回",
    Break => "跳出",
    Continue => "继续",
    // errors
    Try => "尝试",
    Catch => "捕获",
    Finally => "最终",
    Throw => "抛出",
    // coroutines and tasks
    Coroutine => "协程",
    Suspend => "挂起",
    Resume => "恢复",
    Create => "创建",
    Spawn => "启动",
    Await => "等待",
    Select => "选择",
    Case => "情况",
    Default => "默认",
    // values
    True => "真",
    False => "假",
    Nil => "空",
    SelfValue => "自己",
    // references
    AddrOf => "取地址",
    Deref => "解引用",
}

impl TokenKind<'_> {
    /// How the token reads in a diagnostic (`「;」`, `名字「计数」`).
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(s) => format!("名字「{s}」"),
            TokenKind::Keyword(k) => format!("关键字「{}」", k.text()),
            TokenKind::Int(n) => format!("整数「{n}」"),
            TokenKind::Float(x) => format!("浮点数「{x:?}」"),
            TokenKind::Str(_) => "字符串".to_string(),
            TokenKind::Eof => "文件结尾".to_string(),
            other => format!("「{}」", other.punct_text()),
        }
    }

    /// The ASCII spelling of a punctuation token.
    pub fn punct_text(&self) -> &'static str {
        match self {
            TokenKind::Semi => ";",
            TokenKind::Comma => ",",
            TokenKind::Colon => ":",
            TokenKind::ColonColon => "::",
            TokenKind::ColonEq => ":=",
            TokenKind::Dot => ".",
            TokenKind::DotDot => "..",
            TokenKind::DotDotEq => "..=",
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::LBrace => "{",
            TokenKind::RBrace => "}",
            TokenKind::LBracket => "[",
            TokenKind::RBracket => "]",
            TokenKind::Bang => "!",
            TokenKind::BangEq => "!=",
            TokenKind::Eq => "=",
            TokenKind::EqEq => "==",
            TokenKind::Lt => "<",
            TokenKind::Le => "<=",
            TokenKind::Gt => ">",
            TokenKind::Ge => ">=",
            TokenKind::Plus => "+",
            TokenKind::Minus => "-",
            TokenKind::Star => "*",
            TokenKind::Slash => "/",
            TokenKind::Percent => "%",
            TokenKind::PlusEq => "+=",
            TokenKind::MinusEq => "-=",
            TokenKind::StarEq => "*=",
            TokenKind::SlashEq => "/=",
            TokenKind::PercentEq => "%=",
            TokenKind::AndAnd => "&&",
            TokenKind::OrOr => "||",
            TokenKind::Pipe => "|",
            TokenKind::Arrow => "->",
            TokenKind::FatArrow => "=>",
            TokenKind::LeftArrow => "<-",
            _ => "",
        }
    }
}
