//! The lexer: source text to tokens (QI-LANGUAGE.md §1 and §10, "Lexing and parsing").
//!
//! Full-width punctuation is folded into its ASCII twin here (`；` is `Semi`), identifiers are
//! NFC-normalised and keywords recognised, string escapes decoded and number literals valued.
//! It must never panic, loop or slice inside a UTF-8 character, whatever the input: it is
//! fuzzed.
//!
//! How it stays fast: it walks bytes, and only decodes a `char` at a byte ≥ 0x80. Tokens borrow
//! the source; only a string with escapes (or a CRLF inside) and a non-NFC identifier are
//! copied, into the arena.
//!
//! Errors and recovery. Every error is pushed to `diags` and lexing goes on right after the
//! offending text, so one run reports several independent errors and none causes another:
//! - E1001 (非法字符): one diagnostic per character, which is skipped (no token).
//! - E1002 (未结束的字符串), E1006 (未结束的注释): at the opening quote or `/*`; the rest of the file
//!   belongs to the string or comment, so lexing ends there. Escape errors inside an
//!   unterminated string are dropped: the string has no meaning to report them against.
//! - E1003 (无效的转义): the string token is still produced, with the bad escape kept verbatim.
//! - E1004 (无效的数字), E1005 (整数字面量溢出): the whole glued run is one error and becomes a
//!   placeholder `Int(0)` or `Float(0.0)` token, so the parser sees an operand where the user
//!   wrote one and reports nothing more about it.

mod number;
mod string;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use bumpalo::Bump;
use unicode_ident::{is_xid_continue, is_xid_start};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use crate::token::{Keyword, Token, TokenKind};

/// UTF-8 of the full-width colon `：`, the one twin that can be the second half of an operator
/// (`：：`, `:：`). `=` has no twin, and `。` never joins (`。。` is two `Dot`s).
const FULLWIDTH_COLON: &[u8] = "：".as_bytes();

/// Splits `file` into tokens ending with exactly one `Eof` (an empty span at the end of the
/// text). Errors are pushed to `diags` in source order and lexing goes on after them; see the
/// module comment for what each error leaves in the token stream.
pub fn tokenize<'a>(
    arena: &'a Bump,
    file: &'a Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Token<'a>> {
    let text = file.text.as_str();
    let mut lexer = Lexer {
        arena,
        file,
        text,
        bytes: text.as_bytes(),
        pos: 0,
        // Typical code has one token per 4–6 bytes; Chinese text, 3 bytes per character,
        // fewer. Over-reserving a little beats regrowing on the hot path.
        tokens: Vec::with_capacity(text.len() / 4 + 1),
        diags,
    };
    lexer.run();
    let end = text.len() as u32;
    lexer.tokens.push(Token {
        kind: TokenKind::Eof,
        span: Span::new(end, end),
    });
    lexer.tokens
}

/// The state of one `tokenize` call.
struct Lexer<'a, 'd> {
    /// Where decoded strings and normalised identifiers live.
    arena: &'a Bump,
    /// For diagnostics.
    file: &'a Arc<SourceFile>,
    /// The whole source text; `bytes` is the same, for byte-wise scanning.
    text: &'a str,
    bytes: &'a [u8],
    /// Byte offset of the next unread character. Invariant: always on a `char` boundary
    /// between tokens, so every span and every slice is one too.
    pos: usize,
    /// The output.
    tokens: Vec<Token<'a>>,
    /// Where errors go.
    diags: &'d mut Vec<Diagnostic>,
}

impl<'a> Lexer<'a, '_> {
    fn run(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C => self.pos += 1,
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.ident(),
                b'0'..=b'9' => self.number(),
                b'"' => self.string(1, b"\""),
                b'\'' => self.string(1, b"'"),
                b'/' => match self.byte_at(self.pos + 1) {
                    Some(b'/') => self.line_comment(),
                    Some(b'*') => self.block_comment(),
                    Some(b'=') => self.push(TokenKind::SlashEq, 2),
                    _ => self.push(TokenKind::Slash, 1),
                },
                b';' => self.push(TokenKind::Semi, 1),
                b',' => self.push(TokenKind::Comma, 1),
                b'(' => self.push(TokenKind::LParen, 1),
                b')' => self.push(TokenKind::RParen, 1),
                b'{' => self.push(TokenKind::LBrace, 1),
                b'}' => self.push(TokenKind::RBrace, 1),
                b'[' => self.push(TokenKind::LBracket, 1),
                b']' => self.push(TokenKind::RBracket, 1),
                b':' => self.colon(1),
                b'!' => self.bang(1),
                b'.' => self.dot(),
                b'=' => match self.byte_at(self.pos + 1) {
                    Some(b'=') => self.push(TokenKind::EqEq, 2),
                    Some(b'>') => self.push(TokenKind::FatArrow, 2),
                    _ => self.push(TokenKind::Eq, 1),
                },
                b'<' => match self.byte_at(self.pos + 1) {
                    Some(b'=') => self.push(TokenKind::Le, 2),
                    Some(b'-') => self.push(TokenKind::LeftArrow, 2),
                    _ => self.push(TokenKind::Lt, 1),
                },
                b'>' => self.one_or_eq(TokenKind::Gt, TokenKind::Ge),
                b'+' => self.one_or_eq(TokenKind::Plus, TokenKind::PlusEq),
                b'*' => self.one_or_eq(TokenKind::Star, TokenKind::StarEq),
                b'%' => self.one_or_eq(TokenKind::Percent, TokenKind::PercentEq),
                b'-' => match self.byte_at(self.pos + 1) {
                    Some(b'=') => self.push(TokenKind::MinusEq, 2),
                    Some(b'>') => self.push(TokenKind::Arrow, 2),
                    _ => self.push(TokenKind::Minus, 1),
                },
                b'&' => match self.byte_at(self.pos + 1) {
                    Some(b'&') => self.push(TokenKind::AndAnd, 2),
                    _ => self.illegal('&', 1),
                },
                b'|' => match self.byte_at(self.pos + 1) {
                    Some(b'|') => self.push(TokenKind::OrOr, 2),
                    _ => self.push(TokenKind::Pipe, 1),
                },
                0x80.. => self.non_ascii(),
                _ => self.illegal(char::from(b), 1),
            }
        }
    }

    /// A character that starts with a byte ≥ 0x80: a full-width twin, a curly quote,
    /// whitespace, an identifier, or an illegal character.
    fn non_ascii(&mut self) {
        let Some(c) = self.char_at(self.pos) else {
            // Unreachable while `pos` stays on a boundary; skip to the next one rather than
            // risk slicing inside a character.
            self.pos += 1;
            while !self.text.is_char_boundary(self.pos) {
                self.pos += 1;
            }
            return;
        };
        let len = c.len_utf8();
        match c {
            '；' => self.push(TokenKind::Semi, len),
            '，' => self.push(TokenKind::Comma, len),
            '（' => self.push(TokenKind::LParen, len),
            '）' => self.push(TokenKind::RParen, len),
            '｛' => self.push(TokenKind::LBrace, len),
            '｝' => self.push(TokenKind::RBrace, len),
            '【' | '［' => self.push(TokenKind::LBracket, len),
            '】' | '］' => self.push(TokenKind::RBracket, len),
            '。' => self.push(TokenKind::Dot, len),
            '：' => self.colon(len),
            '！' => self.bang(len),
            '“' => self.string(len, "”".as_bytes()),
            '‘' => self.string(len, "’".as_bytes()),
            c if c.is_whitespace() => self.pos += len,
            c if is_xid_start(c) => self.ident(),
            c => self.illegal(c, len),
        }
    }

    fn byte_at(&self, pos: usize) -> Option<u8> {
        self.bytes.get(pos).copied()
    }

    /// The character starting at byte `pos`, if `pos` is a character boundary inside the text.
    fn char_at(&self, pos: usize) -> Option<char> {
        self.text.get(pos..)?.chars().next()
    }

    /// Pushes a token of `len` bytes starting at `pos` and moves past it.
    fn push(&mut self, kind: TokenKind<'a>, len: usize) {
        let start = self.pos;
        self.pos += len;
        self.push_span(kind, start, self.pos);
    }

    fn push_span(&mut self, kind: TokenKind<'a>, start: usize, end: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start as u32, end as u32),
        });
    }

    fn error(&mut self, code: Code, start: usize, end: usize) -> &mut Diagnostic {
        let diag = Diagnostic::new(code, self.file, Span::new(start as u32, end as u32));
        self.diags.push(diag);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// `>`, `+`, `*`, `%`: the operator alone, or followed by `=`.
    fn one_or_eq(&mut self, one: TokenKind<'a>, with_eq: TokenKind<'a>) {
        if self.byte_at(self.pos + 1) == Some(b'=') {
            self.push(with_eq, 2);
        } else {
            self.push(one, 1);
        }
    }

    /// `:` or `：` (`len` bytes): `Colon`, or `::` / `:=` with either colon twin.
    fn colon(&mut self, len: usize) {
        let next = self.pos + len;
        match self.byte_at(next) {
            Some(b':') => self.push(TokenKind::ColonColon, len + 1),
            Some(b'=') => self.push(TokenKind::ColonEq, len + 1),
            _ if self.bytes[next..].starts_with(FULLWIDTH_COLON) => {
                self.push(TokenKind::ColonColon, len + FULLWIDTH_COLON.len())
            }
            _ => self.push(TokenKind::Colon, len),
        }
    }

    /// `!` or `！` (`len` bytes): `Bang`, or `BangEq` before `=`.
    fn bang(&mut self, len: usize) {
        if self.byte_at(self.pos + len) == Some(b'=') {
            self.push(TokenKind::BangEq, len + 1);
        } else {
            self.push(TokenKind::Bang, len);
        }
    }

    /// `.`, `..`, `..=`, or the error `.5` (a fraction with no integer part).
    fn dot(&mut self) {
        match self.byte_at(self.pos + 1) {
            Some(b'.') if self.byte_at(self.pos + 2) == Some(b'=') => {
                self.push(TokenKind::DotDotEq, 3)
            }
            Some(b'.') => self.push(TokenKind::DotDot, 2),
            Some(b'0'..=b'9') => self.leading_dot_number(),
            _ => self.push(TokenKind::Dot, 1),
        }
    }

    /// An identifier or keyword starting at `pos` (whose first character the caller checked
    /// is `_` or XID_Start; XID_Start ⊂ XID_Continue, so the loop takes it too).
    fn ident(&mut self) {
        let start = self.pos;
        let mut ascii = true;
        // Whether every character is ASCII or a CJK unified ideograph (U+4E00–U+9FFF): such
        // a string is NFC (none of them decomposes or composes), with no table lookups.
        let mut surely_nfc = true;
        loop {
            match self.byte_at(self.pos) {
                Some(b) if b.is_ascii_alphanumeric() || b == b'_' => self.pos += 1,
                Some(0x80..) => match self.char_at(self.pos) {
                    Some(c) if is_xid_continue(c) => {
                        ascii = false;
                        surely_nfc &= matches!(c, '\u{4E00}'..='\u{9FFF}');
                        self.pos += c.len_utf8();
                    }
                    _ => break,
                },
                _ => break,
            }
        }
        let raw = &self.text[start..self.pos];
        // Every keyword is Chinese, so an ASCII identifier needs neither normalising nor
        // a keyword lookup.
        if ascii {
            self.push_span(TokenKind::Ident(raw), start, self.pos);
            return;
        }
        let name = if surely_nfc { raw } else { self.normalise(raw) };
        if name == "否则如果" {
            // `否则如果` means `否则 如果` (§10): two keywords, each with its own span.
            let split = raw.char_indices().nth(2).map_or(raw.len(), |(i, _)| i) + start;
            self.push_span(TokenKind::Keyword(Keyword::Else), start, split);
            self.push_span(TokenKind::Keyword(Keyword::If), split, self.pos);
        } else if let Some(keyword) = Keyword::from_text(name) {
            self.push_span(TokenKind::Keyword(keyword), start, self.pos);
        } else {
            self.push_span(TokenKind::Ident(name), start, self.pos);
        }
    }

    /// The NFC form of an identifier: the source slice itself when it is already NFC (nearly
    /// always, and decided without allocating), else a copy in the arena.
    fn normalise(&self, raw: &'a str) -> &'a str {
        if is_nfc_quick(raw.chars()) == IsNormalized::Yes {
            return raw;
        }
        let normalised = bumpalo::collections::String::from_iter_in(raw.nfc(), self.arena);
        if normalised == raw {
            raw
        } else {
            normalised.into_bump_str()
        }
    }

    /// `// …` up to (not including) the end of the line.
    fn line_comment(&mut self) {
        self.pos = match self.bytes[self.pos..].iter().position(|&b| b == b'\n') {
            Some(i) => self.pos + i,
            None => self.bytes.len(),
        };
    }

    /// `/* … */`, not nested. Unterminated: E1006 at the `/*`, and the comment runs to the end.
    fn block_comment(&mut self) {
        let start = self.pos;
        let body = start + 2;
        match self.bytes[body..].windows(2).position(|w| w == b"*/") {
            Some(i) => self.pos = body + i + 2,
            None => {
                self.error(Code::E1006, start, body);
                self.pos = self.bytes.len();
            }
        }
    }

    /// E1001 for the character `c` (`len` bytes) at `pos`, which is skipped.
    fn illegal(&mut self, c: char, len: usize) {
        let start = self.pos;
        self.pos += len;
        let end = self.pos;
        let diag = self.error(Code::E1001, start, end);
        diag.message.push_str(&describe_char(c));
        if let Some(hint) = illegal_char_hint(c) {
            diag.hint = Some(hint);
        }
    }
}

/// How a character reads in a diagnostic: `「@」`, `「？」（U+FF1F）`, or `「U+200B」` for one
/// that would not show.
fn describe_char(c: char) -> String {
    if is_invisible(c) {
        format!("「U+{:04X}」", c as u32)
    } else if c.is_ascii() {
        format!("「{c}」")
    } else {
        format!("「{c}」（U+{:04X}）", c as u32)
    }
}

/// Control characters, whitespace and the common invisible format characters (soft hyphen,
/// zero-width space and joiners, bidi controls, word joiner, BOM).
fn is_invisible(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// A hint for an illegal character more specific than the catalogue's, where one helps.
fn illegal_char_hint(c: char) -> Option<String> {
    let hint = match c {
        '&' => "逻辑与要写成「&&」".to_string(),
        '#' => "注释用「//」或「/* … */」".to_string(),
        '”' | '’' => "这是右引号；字符串要以「“」或「‘」开始".to_string(),
        '、' => "顿号不是分隔符；请用「，」或「,」".to_string(),
        // Full-width forms of ASCII punctuation and digits (the twins never get here).
        '\u{FF01}'..='\u{FF5E}' => {
            let half = char::from_u32(c as u32 - 0xFEE0)?;
            format!("请改用半角的「{half}」")
        }
        _ => return None,
    };
    Some(hint)
}
