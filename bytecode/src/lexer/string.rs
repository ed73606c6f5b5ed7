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

#[cfg(test)]
mod tests {
    use crate::diagnostic::Code;
    use crate::lexer::tests::{err, errors, kinds, lex, one, one_error};
    use crate::token::TokenKind::*;

    #[test]
    fn every_quote_kind() {
        assert_eq!(one("\"你好\""), Str("你好"));
        assert_eq!(one("'你好'"), Str("你好"));
        assert_eq!(one("“你好”"), Str("你好"));
        assert_eq!(one("‘你好’"), Str("你好"));
        assert_eq!(one("\"\""), Str(""));
        assert_eq!(one("“”"), Str(""));
        // Other quotes inside are contents.
        assert_eq!(one("\"it's\""), Str("it's"));
        assert_eq!(one("'say \"hi\"'"), Str("say \"hi\""));
        assert_eq!(one("“他说\"好\"和'行'”"), Str("他说\"好\"和'行'"));
        assert_eq!(one("‘“引”’"), Str("“引”"));
    }

    #[test]
    fn curly_strings_end_only_at_their_closing_quote() {
        assert_eq!(one("“甲“乙”"), Str("甲“乙"));
        assert_eq!(one("“甲’乙”"), Str("甲’乙"));
        assert_eq!(one("‘甲‘乙”’"), Str("甲‘乙”"));
        assert_eq!(kinds("“a”“b”"), [Str("a"), Str("b")]);
    }

    #[test]
    fn string_spans_include_the_quotes() {
        let lexed = lex("x = “中文”;");
        assert_eq!(lexed.file.slice(lexed.tokens[2].span), "“中文”");
    }

    #[test]
    fn strings_without_escapes_borrow_the_source() {
        let lexed = lex("  \"abc\"");
        let Str(s) = lexed.tokens[0].kind else {
            panic!()
        };
        assert_eq!(s.as_ptr(), lexed.file.text[3..].as_ptr());
    }

    #[test]
    fn every_escape() {
        assert_eq!(one(r#""\n""#), Str("\n"));
        assert_eq!(one(r#""\t""#), Str("\t"));
        assert_eq!(one(r#""\r""#), Str("\r"));
        assert_eq!(one(r#""\\""#), Str("\\"));
        assert_eq!(one(r#""\"""#), Str("\""));
        assert_eq!(one(r#""\'""#), Str("'"));
        assert_eq!(one(r#"'\''"#), Str("'"));
        assert_eq!(one(r#""\0""#), Str("\0"));
        assert_eq!(one(r#""\u{4E2D}""#), Str("中"));
        assert_eq!(one(r#""\u{4e2d}""#), Str("中"));
        assert_eq!(one(r#""\u{41}""#), Str("A"));
        assert_eq!(one(r#""\u{0}""#), Str("\0"));
        assert_eq!(one(r#""\u{1F600}""#), Str("😀"));
        assert_eq!(one(r#""\u{10FFFF}""#), Str("\u{10FFFF}"));
        assert_eq!(one(r#""\u{00004E}""#), Str("N"));
        assert_eq!(one(r#""甲\n乙\t丙\\""#), Str("甲\n乙\t丙\\"));
        // Escapes work in every kind of string.
        assert_eq!(one(r#"“\n\"”"#), Str("\n\""));
        assert_eq!(one(r#"‘\t’"#), Str("\t"));
        // The closing curly quote may be escaped inside its own string.
        assert_eq!(one(r#"“他说：\”好\””"#), Str("他说：”好”"));
        assert_eq!(one(r#"‘\’’"#), Str("’"));
    }

    #[test]
    fn bad_escapes_are_e1003_over_the_sequence() {
        assert_eq!(one_error(r#"x = "a\qb";"#), err(Code::E1003, 7, r"\q"));
        assert_eq!(one_error(r#""\中""#), err(Code::E1003, 2, r"\中"));
        assert_eq!(one_error(r#""\u{D800}""#), err(Code::E1003, 2, r"\u{D800}"));
        assert_eq!(one_error(r#""\u{DFFF}""#), err(Code::E1003, 2, r"\u{DFFF}"));
        assert_eq!(
            one_error(r#""\u{110000}""#),
            err(Code::E1003, 2, r"\u{110000}")
        );
        assert_eq!(one_error(r#""\u{}""#), err(Code::E1003, 2, r"\u{}"));
        assert_eq!(
            one_error(r#""\u{1234567}""#),
            err(Code::E1003, 2, r"\u{1234567}")
        );
        assert_eq!(one_error(r#""\u4E2D""#), err(Code::E1003, 2, r"\u"));
        assert_eq!(one_error(r#""\u{4E2G}""#), err(Code::E1003, 2, r"\u{4E2"));
        // A missing `}` does not swallow the closing quote.
        assert_eq!(one_error(r#""\u{41" x"#), err(Code::E1003, 2, r"\u{41"));
        assert_eq!(one_error(r#""\”""#), err(Code::E1003, 2, r"\”"));
        assert_eq!(
            one_error("\"a\\\nb\""),
            (Code::E1003, 3, "\\\n".to_string())
        );
        // The string is still a token, with the bad escape kept verbatim.
        let lexed = lex(r#"x = "a\qb";"#);
        assert_eq!(lexed.tokens[2].kind, Str(r"a\qb"));
        assert_eq!(lexed.tokens[3].kind, Semi);
        assert!(
            lexed.diags[0].message.contains(r"\q"),
            "{}",
            lexed.diags[0].message
        );
        // Each bad escape is reported.
        assert_eq!(errors(r#""\a\b\u{D800}""#).len(), 3);
    }

    #[test]
    fn strings_span_lines_and_crlf_inside_reads_as_newline() {
        let lexed = lex("x = \"第一行\n第二行\";\ny");
        assert_eq!(lexed.tokens[2].kind, Str("第一行\n第二行"));
        let y = lexed.tokens[4];
        assert_eq!(y.kind, Ident("y"));
        assert_eq!(lexed.file.line_col(y.span.start), (3, 1));

        assert_eq!(one("“甲\r\n乙\r\n”"), Str("甲\n乙\n"));
        assert_eq!(one("'a\rb'"), Str("a\rb"));
        assert_eq!(one("\"a\r\n\\t\""), Str("a\n\t"));
    }

    #[test]
    fn unterminated_string_is_one_e1002_at_its_opening_quote() {
        assert_eq!(
            errors("变量 x = \"abc;\n打印行(x);\n打印行(1);\n"),
            [(Code::E1002, 1, 8, "\"".to_string())]
        );
        assert_eq!(errors("'abc"), [(Code::E1002, 1, 1, "'".to_string())]);
        assert_eq!(errors("“abc\""), [(Code::E1002, 1, 1, "“".to_string())]);
        assert_eq!(errors("‘abc'"), [(Code::E1002, 1, 1, "‘".to_string())]);
        assert_eq!(errors("\"abc\\\""), [(Code::E1002, 1, 1, "\"".to_string())]);
        assert_eq!(errors("\"abc\\"), [(Code::E1002, 1, 1, "\"".to_string())]);
        // Escape errors inside an unterminated string are not reported.
        assert_eq!(errors("\"\\q \\u{D800}").len(), 1);
        // The curly-quote hint names the closing quote.
        let lexed = lex("“abc\"");
        assert!(lexed.diags[0].hint.as_deref().unwrap().contains('”'));
        // Nothing after it is a token.
        assert_eq!(lexed.tokens.len(), 1);
    }
}
