use std::sync::Arc;

use bumpalo::Bump;

use super::tokenize;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceFile;
use crate::token::Keyword as K;
use crate::token::Token;

// Tests of strings are in string.rs, of numbers in number.rs; the helpers here serve all three.
use crate::token::TokenKind::{self, *};

/// One lexed input. The arena and file are leaked so tokens can be `'static` in tests.
pub(super) struct Lexed {
    pub(super) file: &'static Arc<SourceFile>,
    pub(super) tokens: Vec<Token<'static>>,
    pub(super) diags: Vec<Diagnostic>,
}

pub(super) fn lex(src: &str) -> Lexed {
    let arena: &'static Bump = Box::leak(Box::new(Bump::new()));
    let file: &'static Arc<SourceFile> = Box::leak(Box::new(SourceFile::new("t.qi", src)));
    let mut diags = Vec::new();
    let tokens = tokenize(arena, file, &mut diags);
    check_invariants(file, &tokens, &diags);
    Lexed {
        file,
        tokens,
        diags,
    }
}

/// What must hold for every input: one `Eof`, last, at the end; spans in order, not
/// overlapping, on character boundaries; diagnostics on character boundaries.
fn check_invariants(file: &SourceFile, tokens: &[Token], diags: &[Diagnostic]) {
    let len = file.text.len() as u32;
    let last = tokens.last().expect("at least Eof");
    assert_eq!(last.kind, Eof);
    assert_eq!((last.span.start, last.span.end), (len, len));
    assert_eq!(tokens.iter().filter(|t| t.kind == Eof).count(), 1);
    let mut previous_end = 0;
    for t in tokens {
        assert!(t.span.start >= previous_end, "{tokens:?}");
        assert!(t.span.start <= t.span.end && t.span.end <= len);
        assert!(file.text.is_char_boundary(t.span.start as usize));
        assert!(file.text.is_char_boundary(t.span.end as usize));
        if t.kind != Eof {
            assert!(!t.span.is_empty(), "empty span: {t:?}");
        }
        previous_end = t.span.end;
    }
    for d in diags {
        let (_, span) = d
            .location
            .as_ref()
            .expect("lexer diagnostics have a location");
        assert!(span.start <= span.end && span.end <= len);
        assert!(file.text.is_char_boundary(span.start as usize));
        assert!(file.text.is_char_boundary(span.end as usize));
        file.line_col(span.start);
        crate::diagnostic::render(d, false);
    }
}

/// The token kinds of an input that must lex without errors, `Eof` left out.
pub(super) fn kinds(src: &str) -> Vec<TokenKind<'static>> {
    let lexed = lex(src);
    assert!(
        lexed.diags.is_empty(),
        "unexpected errors for {src:?}: {:?}",
        lexed.diags
    );
    let mut kinds: Vec<_> = lexed.tokens.iter().map(|t| t.kind).collect();
    kinds.pop();
    kinds
}

/// The one token of an input that must lex without errors.
pub(super) fn one(src: &str) -> TokenKind<'static> {
    let k = kinds(src);
    assert_eq!(k.len(), 1, "{src:?} gave {k:?}");
    k[0]
}

/// Each error as (code, line, column, the text its span covers).
pub(super) fn errors(src: &str) -> Vec<(Code, u32, u32, String)> {
    let lexed = lex(src);
    lexed
        .diags
        .iter()
        .map(|d| {
            let (file, span) = d.location.as_ref().unwrap();
            let (line, col) = file.line_col(span.start);
            (d.code, line, col, file.slice(*span).to_string())
        })
        .collect()
}

/// The one error of an input, as (code, column, covered text), on line 1.
pub(super) fn one_error(src: &str) -> (Code, u32, String) {
    let e = errors(src);
    assert_eq!(e.len(), 1, "{src:?} gave {e:?}");
    assert_eq!(e[0].1, 1);
    (e[0].0, e[0].2, e[0].3.clone())
}

pub(super) fn err(code: Code, col: u32, text: &str) -> (Code, u32, String) {
    (code, col, text.to_string())
}

// ---- punctuation and operators ----

#[test]
fn each_fullwidth_twin_folds_into_its_ascii_token() {
    let cases = [
        ("；", Semi),
        ("，", Comma),
        ("：", Colon),
        ("（", LParen),
        ("）", RParen),
        ("｛", LBrace),
        ("｝", RBrace),
        ("【", LBracket),
        ("】", RBracket),
        ("［", LBracket),
        ("］", RBracket),
        ("！", Bang),
        ("。", Dot),
    ];
    for (src, kind) in cases {
        assert_eq!(one(src), kind, "{src}");
    }
    // Side by side, without spaces, and mixed with ASCII.
    assert_eq!(
        kinds("打印行（列表【0】）；列表。添加(1);"),
        [
            Ident("打印行"),
            LParen,
            Ident("列表"),
            LBracket,
            Int(0),
            RBracket,
            RParen,
            Semi,
            Ident("列表"),
            Dot,
            Ident("添加"),
            LParen,
            Int(1),
            RParen,
            Semi
        ]
    );
}

#[test]
fn fullwidth_tokens_span_their_three_bytes() {
    let lexed = lex("a；b");
    assert_eq!(lexed.tokens[1].kind, Semi);
    assert_eq!(
        (lexed.tokens[1].span.start, lexed.tokens[1].span.end),
        (1, 4)
    );
}

#[test]
fn twins_work_inside_two_character_operators() {
    assert_eq!(one("！="), BangEq);
    assert_eq!(one("!="), BangEq);
    assert_eq!(one("：："), ColonColon);
    assert_eq!(one(":："), ColonColon);
    assert_eq!(one("：:"), ColonColon);
    assert_eq!(one("::"), ColonColon);
    assert_eq!(one("：="), ColonEq);
    assert_eq!(one(":="), ColonEq);
    assert_eq!(kinds("！ ="), [Bang, Eq]);
    assert_eq!(kinds("： ："), [Colon, Colon]);
    assert_eq!(
        kinds("形状：：圆"),
        [Ident("形状"), ColonColon, Ident("圆")]
    );
}

#[test]
fn every_ascii_operator() {
    assert_eq!(
        kinds(
            "; , : :: := . .. ..= ( ) { } [ ] ! != = == < <= > >= + - * / % += -= *= /= %= && || | -> => <-"
        ),
        [
            Semi, Comma, Colon, ColonColon, ColonEq, Dot, DotDot, DotDotEq, LParen, RParen, LBrace,
            RBrace, LBracket, RBracket, Bang, BangEq, Eq, EqEq, Lt, Le, Gt, Ge, Plus, Minus, Star,
            Slash, Percent, PlusEq, MinusEq, StarEq, SlashEq, PercentEq, AndAnd, OrOr, Pipe, Arrow,
            FatArrow, LeftArrow
        ]
    );
    // Longest match, without spaces.
    assert_eq!(kinds("a==b"), [Ident("a"), EqEq, Ident("b")]);
    assert_eq!(kinds("..=..."), [DotDotEq, DotDot, Dot]);
    assert_eq!(kinds("=>>="), [FatArrow, Ge]);
    assert_eq!(kinds("|||"), [OrOr, Pipe]);
}

#[test]
fn fullwidth_full_stop_is_only_member_access() {
    assert_eq!(kinds("。。"), [Dot, Dot]);
    assert_eq!(kinds("1。。2"), [Int(1), Dot, Dot, Int(2)]);
    assert_eq!(kinds("。。="), [Dot, Dot, Eq]);
    assert_eq!(kinds(".。"), [Dot, Dot]);
    assert_eq!(
        kinds("3。平方根()"),
        [Int(3), Dot, Ident("平方根"), LParen, RParen]
    );
}

#[test]
fn left_arrow_is_always_one_token() {
    assert_eq!(kinds("x<-1"), [Ident("x"), LeftArrow, Int(1)]);
    assert_eq!(kinds("x < -1"), [Ident("x"), Lt, Minus, Int(1)]);
    assert_eq!(kinds("<-<-ch"), [LeftArrow, LeftArrow, Ident("ch")]);
    assert_eq!(kinds("a<--1"), [Ident("a"), LeftArrow, Minus, Int(1)]);
}

#[test]
fn lone_ampersand_is_illegal_and_lone_bar_is_pipe() {
    assert_eq!(one("|"), Pipe);
    assert_eq!(one("&&"), AndAnd);
    assert_eq!(one_error("a & b"), err(Code::E1001, 3, "&"));
    let lexed = lex("a & b");
    assert!(lexed.diags[0].hint.as_deref().unwrap().contains("&&"));
    assert_eq!(lexed.tokens.len(), 3, "the & is skipped: a b Eof");
    assert_eq!(errors("&&&").len(), 1);
}

// ---- identifiers and keywords ----

#[test]
fn identifiers() {
    assert_eq!(one("计数"), Ident("计数"));
    assert_eq!(one("_"), Ident("_"));
    assert_eq!(one("_内部2"), Ident("_内部2"));
    assert_eq!(one("abc_123"), Ident("abc_123"));
    assert_eq!(one("HTTP获取"), Ident("HTTP获取"));
    assert_eq!(one("Ωmega"), Ident("Ωmega"));
    assert_eq!(kinds("a b"), [Ident("a"), Ident("b")]);
}

#[test]
fn every_keyword_is_a_keyword() {
    for &k in K::ALL {
        assert_eq!(one(k.text()), Keyword(k), "{}", k.text());
    }
}

#[test]
fn a_keyword_is_a_whole_identifier() {
    assert_eq!(one("如果x"), Ident("如果x"));
    assert_eq!(one("x如果"), Ident("x如果"));
    assert_eq!(one("如果_"), Ident("如果_"));
    assert_eq!(one("变量名"), Ident("变量名"));
    assert_eq!(kinds("如果 x"), [Keyword(K::If), Ident("x")]);
    // Type names are predeclared identifiers, not keywords.
    assert_eq!(one("整数"), Ident("整数"));
    assert_eq!(one("函数类型"), Ident("函数类型"));
}

#[test]
fn else_if_written_as_one_word_is_two_keywords() {
    let lexed = lex("否则如果 x");
    let spans: Vec<_> = lexed
        .tokens
        .iter()
        .map(|t| (t.kind, lexed.file.slice(t.span)))
        .collect();
    assert_eq!(
        spans,
        [
            (Keyword(K::Else), "否则"),
            (Keyword(K::If), "如果"),
            (Ident("x"), "x"),
            (Eof, "")
        ]
    );
    assert_eq!(kinds("否则 如果"), [Keyword(K::Else), Keyword(K::If)]);
    assert_eq!(one("否则如果x"), Ident("否则如果x"));
    assert_eq!(one("否则如"), Ident("否则如"));
}

#[test]
fn identifiers_are_nfc_normalised() {
    let decomposed = "caf\u{65}\u{301}";
    let composed = "caf\u{e9}";
    assert_eq!(one(decomposed), Ident(composed));
    assert_eq!(one(composed), Ident(composed));
    // The composed (already NFC) form borrows the source.
    let lexed = lex(composed);
    let Ident(name) = lexed.tokens[0].kind else {
        panic!()
    };
    assert_eq!(name.as_ptr(), lexed.file.text.as_ptr());
    // The span of a normalised identifier still covers its source text.
    let lexed = lex(decomposed);
    assert_eq!(lexed.file.slice(lexed.tokens[0].span), decomposed);
    // Hangul written as jamo composes too.
    assert_eq!(one("\u{1100}\u{1161}"), Ident("\u{AC00}"));
}

#[test]
fn compatibility_ideographs_normalise_to_the_unified_one() {
    // U+F967 is a canonical (singleton) twin of 不 (U+4E0D).
    assert_eq!(one("\u{F967}"), Ident("\u{4E0D}"));
}

// ---- whitespace and comments ----

#[test]
fn every_unicode_whitespace_separates_tokens() {
    let spaces = [
        '\t', '\n', '\u{B}', '\u{C}', '\r', ' ', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}',
        '\u{2005}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
    ];
    for s in spaces {
        assert_eq!(
            kinds(&format!("变量{s}x")),
            [Keyword(K::Let), Ident("x")],
            "U+{:04X}",
            s as u32
        );
    }
    assert_eq!(kinds("\u{3000}\u{3000}"), []);
}

#[test]
fn zero_width_space_is_not_whitespace() {
    let (code, col, text) = one_error("a\u{200B}b");
    assert_eq!((code, col, text.as_str()), (Code::E1001, 2, "\u{200B}"));
    let lexed = lex("a\u{200B}b");
    assert!(
        lexed.diags[0].message.contains("U+200B"),
        "{}",
        lexed.diags[0].message
    );
}

#[test]
fn comments() {
    assert_eq!(kinds("a // 注释 ; b\nc"), [Ident("a"), Ident("c")]);
    assert_eq!(kinds("a // 到文件末尾"), [Ident("a")]);
    assert_eq!(kinds("//"), []);
    assert_eq!(kinds("a /* 一\n二 */ b"), [Ident("a"), Ident("b")]);
    assert_eq!(kinds("a/**/b"), [Ident("a"), Ident("b")]);
    assert_eq!(kinds("/***/"), []);
    // Not nested: the first `*/` ends the comment.
    assert_eq!(kinds("/* /* */ */"), [Star, Slash]);
    // `//` inside a block comment and `/*` inside a line comment mean nothing.
    assert_eq!(kinds("/* // */ a // /* \nb"), [Ident("a"), Ident("b")]);
    // Comment markers inside strings are string contents.
    assert_eq!(kinds("\"// /*\""), [Str("// /*")]);
}

#[test]
fn unterminated_block_comment_is_e1006_at_its_start() {
    let e = errors("a\n  /* 没有结束\n b \"c");
    assert_eq!(e, [(Code::E1006, 2, 3, "/*".to_string())]);
    assert_eq!(errors("/*/"), [(Code::E1006, 1, 1, "/*".to_string())]);
    assert_eq!(errors("/*"), [(Code::E1006, 1, 1, "/*".to_string())]);
}

// ---- illegal characters ----

#[test]
fn illegal_characters_are_e1001_naming_the_character() {
    for c in [
        '@', '#', '$', '^', '~', '?', '`', '\\', '？', '、', '”', '’', '＋', '《', '\0',
    ] {
        let src = format!("a {c} b");
        let lexed = lex(&src);
        assert_eq!(lexed.diags.len(), 1, "{c:?}");
        let d = &lexed.diags[0];
        assert_eq!(d.code, Code::E1001);
        let (file, span) = d.location.as_ref().unwrap();
        assert_eq!(file.slice(*span), c.to_string());
        assert_eq!(d.position().unwrap().2, 3);
        if c == '\0' {
            assert!(d.message.contains("U+0000"), "{}", d.message);
        } else {
            assert!(d.message.contains(c), "{}", d.message);
        }
        // Skipped: the identifiers around it are still there.
        let k: Vec<_> = lexed.tokens.iter().map(|t| t.kind).collect();
        assert_eq!(k, [Ident("a"), Ident("b"), Eof], "{c:?}");
    }
}

#[test]
fn illegal_character_hints() {
    let hint = |src: &str| lex(src).diags[0].hint.clone().unwrap();
    assert!(hint("＋").contains('+'));
    assert!(hint("？").contains('?'));
    assert!(hint("、").contains('，'));
    assert!(hint("”").contains('“'));
    assert!(hint("#").contains("//"));
}

#[test]
fn each_illegal_character_is_its_own_error() {
    assert_eq!(
        errors("@@\n  ？"),
        [
            (Code::E1001, 1, 1, "@".to_string()),
            (Code::E1001, 1, 2, "@".to_string()),
            (Code::E1001, 2, 3, "？".to_string()),
        ]
    );
}

// ---- several errors, CRLF, whole programs ----

#[test]
fn several_independent_errors_in_one_run() {
    let src = "变量 a = 1__0;\n变量 b = @;\n变量 c = \"\\q\";\n变量 d = 2年;\n变量 e = 99999999999999999999;\n变量 f = \"没有结束;\n变量 g = 1;";
    let e = errors(src);
    let summary: Vec<_> = e.iter().map(|(c, l, col, _)| (*c, *l, *col)).collect();
    assert_eq!(
        summary,
        [
            (Code::E1004, 1, 8),
            (Code::E1001, 2, 8),
            (Code::E1003, 3, 9),
            (Code::E1004, 4, 8),
            (Code::E1005, 5, 8),
            (Code::E1002, 6, 8),
        ]
    );
}

#[test]
fn crlf_is_one_line_break() {
    let lexed = lex("变量 x = 1;\r\n打印行(x);\r\n");
    assert!(lexed.diags.is_empty());
    let print = lexed.tokens[5];
    assert_eq!(print.kind, Ident("打印行"));
    assert_eq!(lexed.file.line_col(print.span.start), (2, 1));
    let eof = lexed.tokens.last().unwrap();
    assert_eq!(lexed.file.line_col(eof.span.start), (3, 1));
    assert_eq!(kinds("a // c\r\nb"), [Ident("a"), Ident("b")]);
}

#[test]
fn bom_is_skipped() {
    assert_eq!(
        kinds("\u{FEFF}包 主程序;"),
        [Keyword(K::Package), Ident("主程序"), Semi]
    );
}

#[test]
fn empty_input_is_just_eof() {
    let lexed = lex("");
    assert_eq!(lexed.tokens.len(), 1);
    assert_eq!(lexed.tokens[0].kind, Eof);
}

const SAMPLE: &str = r#"包 主程序;
导入 ./工具;
导入 数学 作为 数;

/* 一个结构体 */
结构体 点 { x: 浮点数, y: 浮点数 }
方法 点 {
    函数 长度(): 浮点数 { 返回 (自己.x * 自己.x + 自己.y * 自己.y).平方根(); }
}
枚举 形状 { 圆(浮点数), 矩形(浮点数, 浮点数), 无 }

公开 异步 函数 加法(a: 整数, b: 整数) -> 整数 {
    返回 a + b;
}

函数 入口() {
    可变 计数：整数 = 0；
    变量 名字 = “张三”;
    变量 列表 = 【1, 0x1F, 0b101, 0o17, 1_000, 3.14, 2.5e-3】;
    对于 i 在 0..10 { 计数 += i; }
    对于 i 从 1 到 10 { 计数 -= 1; }
    当 计数 < 10 && !假 || 计数 >= 100 { 计数 *= 2; }
    如果 计数 == 0 { 打印行("零\n"); } 否则如果 计数 != 1 { 打印行('一\t'); } 否则 { }
    匹配 计数 {
        0 => 打印行(‘零’),
        1 | 2 => 打印行("小"),
        3..=9 => { 打印行("中"); }
        n 如果 n < 0 => 打印行("负"),
        _ => 打印行("大\u{4E2D}"),
    }
    变量 ch = 通道<整数>(10);
    ch <- 42;
    变量 v = <-ch;
    选择 {
        情况 v := <-ch: 打印行("收到", v);
        默认: 打印行("无");
    }
    尝试 { 抛出 错误("坏"); } 捕获 (e) { 打印行(e.消息); } 最终 { }
    变量 t = 创建 加法(1, 2);
    变量 r = 等待 t;
    变量 p = 取地址 计数;
    解引用 p = 5 % 3;
    协程 { 挂起 1; };
    列表。添加（4）；
    形状：：圆(1.5)；
    计数 /= 2; 计数 %= 2;
}
"#;

#[test]
fn a_long_mixed_program_lexes_cleanly_with_ordered_spans() {
    let lexed = lex(SAMPLE);
    assert!(lexed.diags.is_empty(), "{:?}", lexed.diags);
    assert!(lexed.tokens.len() > 300);
    assert_eq!(lexed.tokens.last().unwrap().kind, Eof);
    assert_eq!(lexed.tokens.iter().filter(|t| t.kind == Eof).count(), 1);
    for pair in lexed.tokens.windows(2) {
        assert!(pair[0].span.end <= pair[1].span.start, "{pair:?}");
        assert!(pair[0].span.start < pair[1].span.start || pair[1].kind == Eof);
    }
    // Spot checks.
    let k: Vec<_> = lexed.tokens.iter().map(|t| t.kind).collect();
    assert!(k.contains(&Keyword(K::Else)) && k.contains(&Keyword(K::Deref)));
    assert!(k.contains(&Float(2.5e-3)) && k.contains(&Int(0x1F)));
    assert!(k.contains(&Str("大中")) && k.contains(&Str("零")));
    assert!(k.contains(&LeftArrow) && k.contains(&ColonEq) && k.contains(&DotDotEq));
}

// ---- robustness ----

/// A small deterministic generator, so the mutation test is reproducible.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_mutations_never_break_the_invariants() {
    // Pieces chosen to hit every branch: quotes, escapes, number parts, comment markers,
    // twins, combining marks, invisible and illegal characters.
    let pieces = [
        "\"",
        "'",
        "“",
        "”",
        "‘",
        "’",
        "\\",
        "\\u{",
        "}",
        "D800",
        "0x",
        "0b",
        "0o",
        "_",
        ".",
        "e",
        "E",
        "+",
        "-",
        "1",
        "9",
        "年",
        "/*",
        "*/",
        "//",
        "\n",
        "\r\n",
        "\r",
        "：",
        "！",
        "。",
        "=",
        ":",
        "<",
        "&",
        "|",
        "\u{301}",
        "\u{3000}",
        "\u{200B}",
        "@",
        "？",
        "否则如果",
        "\u{FEFF}",
        "é",
        "\0",
        "😀",
        "99999999999999999999",
    ];
    let chars: Vec<char> = SAMPLE.chars().collect();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let mut text: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(text.len() + 1);
            match rng.below(3) {
                0 if at < text.len() => {
                    text.remove(at);
                }
                1 if at < text.len() => text[at] = pieces[rng.below(pieces.len())].to_string(),
                _ => text.insert(at, pieces[rng.below(pieces.len())].to_string()),
            }
        }
        let start = rng.below(text.len() / 2 + 1);
        let end = start + rng.below(text.len() - start + 1);
        lex(&text[start..end].concat());
    }
}

#[test]
fn every_prefix_of_the_sample_lexes() {
    for (i, _) in SAMPLE.char_indices() {
        lex(&SAMPLE[..i]);
    }
}

#[test]
fn every_piece_alone_and_at_the_end() {
    for s in [
        "\"",
        "“",
        "‘",
        "\"\\",
        "\"\\u",
        "\"\\u{",
        "\"\\u{1",
        "\"\\u{1}",
        "0x",
        "0b",
        "0o",
        "1e",
        "1e+",
        "1.",
        ".",
        "..",
        "..=",
        "/",
        "/*",
        "/**",
        "//",
        ":",
        "：",
        "！",
        "!",
        "&",
        "|",
        "<",
        "-",
        "=",
        "0",
        "0_",
        "否则如果",
        "\u{301}",
        "e\u{301}",
    ] {
        lex(s);
        lex(&format!("x {s}"));
    }
}
