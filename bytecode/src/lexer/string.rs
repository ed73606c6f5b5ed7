//! String literals: `"…"`, `'…'`, `“…”` (ends only at `”`) and `‘…’` (ends only at `’`).
//!
//! Strings may span lines; a CRLF inside one is read as `\n`, so a program prints the same
//! whatever line endings its file was saved with. Escapes: `\n \t \r \\ \" \' \0 \u{4E2D}`
//! (1–6 hex digits, a Unicode scalar value), plus `\”` inside `“…”` and `\’` inside `‘…’`.
//!
//! The scan is byte-wise: UTF-8 never puts an ASCII byte inside a multi-byte character, and
//! the closing curly quote's three bytes can only be that character, so every position the
//! scan stops at is a character boundary.

use super::{Lexer, is_invisible};
use crate::diagnostic::Code;
use crate::token::TokenKind;

impl<'a> Lexer<'a, '_> {
    /// A string whose opening quote (`open_len` bytes) is at `pos` and which ends at the
    /// bytes `close`.
    pub(super) fn string(&mut self, open_len: usize, close: &'static [u8]) {
        let start = self.pos;
        let content_start = start + open_len;
        // Escape errors found before we know whether the string ends; dropped if it doesn't.
        let diags_before = self.diags.len();
        // The decoded contents, once an escape or a CRLF makes them differ from the source;
        // `copied` is where the source not yet copied into it begins.
        let mut decoded: Option<bumpalo::collections::String<'a>> = None;
        let mut copied = content_start;
        let mut pos = content_start;
        loop {
            let Some(&b) = self.bytes.get(pos) else {
                self.diags.truncate(diags_before);
                let text = self.text;
                let diag = self.error(Code::E1002, start, content_start);
                if open_len > 1 {
                    let close = std::str::from_utf8(close).unwrap_or("");
                    let open = text.get(start..content_start).unwrap_or("");
                    diag.hint = Some(format!(
                        "以「{open}」开始的字符串只能以「{close}」结束；在字符串末尾补上「{close}」"
                    ));
                }
                self.pos = self.bytes.len();
                return;
            };
            if b == close[0] && self.bytes[pos..].starts_with(close) {
                break;
            }
            match b {
                b'\\' => {
                    let buffer = decoded.get_or_insert_with(|| {
                        bumpalo::collections::String::with_capacity_in(pos - start, self.arena)
                    });
                    buffer.push_str(&self.text[copied..pos]);
                    pos = self.escape(pos, close, buffer);
                    copied = pos;
                }
                b'\r' if self.bytes.get(pos + 1) == Some(&b'\n') => {
                    let buffer = decoded.get_or_insert_with(|| {
                        bumpalo::collections::String::with_capacity_in(pos - start, self.arena)
                    });
                    buffer.push_str(&self.text[copied..pos]);
                    buffer.push('\n');
                    pos += 2;
                    copied = pos;
                }
                _ => pos += 1,
            }
        }
        let contents = match decoded {
            None => &self.text[content_start..pos],
            Some(mut buffer) => {
                buffer.push_str(&self.text[copied..pos]);
                buffer.into_bump_str()
            }
        };
        self.pos = pos + close.len();
        self.push_span(TokenKind::Str(contents), start, self.pos);
    }

    /// Decodes the escape whose `\` is at `pos` into `out` and returns the position after it.
    /// A bad escape is E1003 over the whole sequence and is kept verbatim. Never moves past
    /// the end of the text or into the closing quote.
    fn escape(
        &mut self,
        pos: usize,
        close: &[u8],
        out: &mut bumpalo::collections::String<'a>,
    ) -> usize {
        let simple = match self.bytes.get(pos + 1) {
            // A `\` at the very end: the string is unterminated, which the caller reports.
            None => {
                out.push('\\');
                return pos + 1;
            }
            Some(b'n') => Some('\n'),
            Some(b't') => Some('\t'),
            Some(b'r') => Some('\r'),
            Some(b'\\') => Some('\\'),
            Some(b'"') => Some('"'),
            Some(b'\'') => Some('\''),
            Some(b'0') => Some('\0'),
            Some(b'u') => None,
            Some(_) => {
                let Some(c) = self.char_at(pos + 1) else {
                    return pos + 1;
                };
                let end = pos + 1 + c.len_utf8();
                // `\”` inside `“…”`, `\’` inside `‘…’`.
                if close.len() > 1 && self.bytes[pos + 1..].starts_with(close) {
                    out.push(c);
                } else {
                    let diag = self.error(Code::E1003, pos, end);
                    let shown = if is_invisible(c) {
                        format!("U+{:04X}", c as u32)
                    } else {
                        c.to_string()
                    };
                    diag.message.push_str(&format!("「\\{shown}」"));
                    out.push_str(&self.text[pos..end]);
                }
                return end;
            }
        };
        if let Some(c) = simple {
            out.push(c);
            return pos + 2;
        }
        self.unicode_escape(pos, out)
    }

    /// `\u{…}` with its `\` at `pos`: 1–6 hex digits naming a Unicode scalar value.
    fn unicode_escape(&mut self, pos: usize, out: &mut bumpalo::collections::String<'a>) -> usize {
        let after_u = pos + 2;
        if self.bytes.get(after_u) != Some(&b'{') {
            let diag = self.error(Code::E1003, pos, after_u);
            diag.message.push_str("「\\u」");
            diag.hint = Some("Unicode 转义要写成 \\u{4E2D} 的形式".to_string());
            out.push_str("\\u");
            return after_u;
        }
        let digits_start = after_u + 1;
        let mut end = digits_start;
        while self.bytes.get(end).is_some_and(u8::is_ascii_hexdigit) {
            end += 1;
        }
        let digits = &self.text[digits_start..end];
        let closed = self.bytes.get(end) == Some(&b'}');
        if closed {
            end += 1;
        }
        let value = if closed && (1..=6).contains(&digits.len()) {
            u32::from_str_radix(digits, 16).ok()
        } else {
            None
        };
        if let Some(c) = value.and_then(char::from_u32) {
            out.push(c);
            return end;
        }
        let hint = match value {
            Some(0xD800..=0xDFFF) => "D800 到 DFFF 是代理码点，不是字符",
            Some(_) => "码点不能超过 10FFFF",
            None if !closed => "Unicode 转义要以「}」结束，例如 \\u{4E2D}",
            None => "花括号里要写 1 到 6 位十六进制数字，例如 \\u{4E2D}",
        };
        let sequence = &self.text[pos..end];
        let diag = self.error(Code::E1003, pos, end);
        diag.message.push_str(&format!("「{sequence}」"));
        diag.hint = Some(hint.to_string());
        out.push_str(sequence);
        end
    }
}
