//! Number literals: `42`, `1_000_000`, `0xFF`, `0b1010`, `0o755`, `3.14`, `1e10`, `2.5e-3`.
//!
//! Lexing a number is two steps. First the *run*: the longest stretch that could belong to
//! the literal — digits, letters, `_`, XID_Continue characters, one `.` followed by a digit
//! (decimal only, before any exponent), and a sign right after a decimal exponent's `e` when a
//! digit follows. Then the run is checked and valued. Taking the run first is what makes a
//! glued `2年` or `12abc` one error covering all of it, and never an error plus a stray
//! identifier.

use unicode_ident::{is_xid_continue, is_xid_start};

use super::Lexer;
use crate::diagnostic::{Code, Diagnostic};
use crate::token::TokenKind;

/// 2^63: the largest integer literal the lexer accepts, legal only after unary `-` (the
/// parser checks that).
const MAX_INT_LITERAL: u64 = 1 << 63;

/// How long a run may be before a diagnostic shortens it.
const MAX_SHOWN_CHARS: usize = 40;

/// Why a number literal is invalid; each gets its own hint.
#[derive(Clone, Copy, Debug, PartialEq)]
enum NumError {
    /// Letters or other identifier characters glued to the number (`2年`, `12abc`, `0x1g`).
    Glued,
    /// `1__0`.
    DoubleUnderscore,
    /// `1_`, `0x_1`, `1_.5`, `1e_5`: an `_` not between two digits.
    MisplacedUnderscore,
    /// `0b102`, `0o8`: a decimal digit too big for the base.
    DigitOutsideBase(u32),
    /// `0x` with no digits after it.
    NoDigits,
    /// `1e`, `2.5e+`: an exponent without digits.
    EmptyExponent,
    /// `1e400`: a float literal too big for an f64.
    FloatOverflow,
    /// An integer above 2^63 (E1005, not E1004).
    IntOverflow,
}

impl<'a> Lexer<'a, '_> {
    /// A number literal starting with the ASCII digit at `pos`.
    pub(super) fn number(&mut self) {
        let start = self.pos;
        let radix = match (self.byte_at(start), self.byte_at(start + 1)) {
            (Some(b'0'), Some(b'x' | b'X')) => 16,
            (Some(b'0'), Some(b'b' | b'B')) => 2,
            (Some(b'0'), Some(b'o' | b'O')) => 8,
            _ => 10,
        };
        let end = self.number_run(start, radix);
        self.pos = end;
        let run = &self.text[start..end];
        let valued = if radix == 10 {
            decimal(run)
        } else {
            prefixed(&run[2..], radix)
        };
        let kind = match valued {
            Ok(kind) => kind,
            Err(error) => {
                self.number_error(error, start, end, radix);
                TokenKind::Int(0)
            }
        };
        if let Some(dot_end) = self.dangling_dot(end).filter(|_| valued.is_ok()) {
            // `5.`: a float with no fraction digits.
            let hint = if radix == 10 && !run.contains(['.', 'e', 'E']) {
                format!("小数点后要有数字：写成「{run}.0」")
            } else {
                "数字后面的「.」要跟数字或成员名".to_string()
            };
            let diag = self.error(Code::E1004, start, dot_end);
            diag.message.push_str(&format!("「{run}.」"));
            diag.hint = Some(hint);
            self.pos = dot_end;
            self.push_span(TokenKind::Int(0), start, dot_end);
            return;
        }
        self.push_span(kind, start, end);
    }

    /// `.5`: a `.` directly followed by a digit where no number precedes. The `.` and the
    /// number run after it are one E1004.
    pub(super) fn leading_dot_number(&mut self) {
        let start = self.pos;
        let end = self.number_run(start + 1, 10);
        let fraction = &self.text[start..end];
        let diag = self.error(Code::E1004, start, end);
        diag.message.push_str(&format!("「{}」", shorten(fraction)));
        diag.hint = Some(if decimal(&format!("0{fraction}")).is_ok() {
            format!("小数点前要有数字：写成「0{fraction}」")
        } else {
            "小数点前要有数字，例如 0.5".to_string()
        });
        self.pos = end;
        self.push_span(TokenKind::Int(0), start, end);
    }

    /// The end of the number run starting at `start` (see the module comment).
    fn number_run(&self, start: usize, radix: u32) -> usize {
        let mut pos = if radix == 10 { start } else { start + 2 };
        let mut seen_dot = false;
        let mut seen_exponent = false;
        loop {
            match self.byte_at(pos) {
                Some(b'e' | b'E') if radix == 10 && !seen_exponent => {
                    seen_exponent = true;
                    pos += 1;
                    if matches!(self.byte_at(pos), Some(b'+' | b'-'))
                        && matches!(self.byte_at(pos + 1), Some(b'0'..=b'9'))
                    {
                        pos += 1;
                    }
                }
                Some(b) if b.is_ascii_alphanumeric() || b == b'_' => pos += 1,
                Some(b'.')
                    if radix == 10
                        && !seen_dot
                        && !seen_exponent
                        && matches!(self.byte_at(pos + 1), Some(b'0'..=b'9')) =>
                {
                    seen_dot = true;
                    pos += 1;
                }
                Some(0x80..) => match self.char_at(pos) {
                    Some(c) if is_xid_continue(c) => pos += c.len_utf8(),
                    _ => break,
                },
                _ => break,
            }
        }
        pos
    }

    /// `5.`: if a valid number ending at `end` is followed by a `.` that is followed by
    /// neither a digit, nor `.`, nor an identifier start, the end of that `.`.
    fn dangling_dot(&self, end: usize) -> Option<usize> {
        if self.byte_at(end) != Some(b'.') {
            return None;
        }
        let after = end + 1;
        let continues = match self.byte_at(after) {
            Some(b) if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' => true,
            Some(0x80..) => self.char_at(after).is_some_and(is_xid_start),
            _ => false,
        };
        (!continues).then_some(after)
    }

    fn number_error(&mut self, error: NumError, start: usize, end: usize, radix: u32) {
        let run = &self.text[start..end];
        let code = if error == NumError::IntOverflow {
            Code::E1005
        } else {
            Code::E1004
        };
        let prefix = run.get(..2).unwrap_or(run);
        let hint = match error {
            NumError::Glued => {
                Some("数字后面不能紧跟字母或汉字；若是两个记号，中间加空格".to_string())
            }
            NumError::DoubleUnderscore => Some("数字中的「_」不能连写".to_string()),
            NumError::MisplacedUnderscore => Some("「_」只能写在两个数字之间".to_string()),
            NumError::DigitOutsideBase(2) => Some("二进制数字只能是 0 和 1".to_string()),
            NumError::DigitOutsideBase(_) => Some("八进制数字只能是 0 到 7".to_string()),
            NumError::NoDigits => Some(format!(
                "「{prefix}」后面要有{}数字",
                match radix {
                    16 => "十六进制",
                    8 => "八进制",
                    _ => "二进制",
                }
            )),
            NumError::EmptyExponent => Some("指数部分缺少数字，例如 1e10、2.5e-3".to_string()),
            NumError::FloatOverflow => Some("浮点数字面量超出范围（最大约 1.8e308）".to_string()),
            NumError::IntOverflow => None,
        };
        let diag: &mut Diagnostic = self.error(code, start, end);
        diag.message.push_str(&format!("「{}」", shorten(run)));
        if let Some(hint) = hint {
            diag.hint = Some(hint);
        }
    }
}

/// Checks and values a decimal run: digits, then optionally `.` and digits, then optionally
/// `e`/`E`, a sign and digits, with `_` only between digits.
fn decimal(run: &str) -> Result<TokenKind<'static>, NumError> {
    let b = run.as_bytes();
    let mut flaw = None;
    let mut i = digit_group(b, 0, &mut flaw);
    let mut float = false;
    if b.get(i) == Some(&b'.') {
        float = true;
        i = digit_group(b, i + 1, &mut flaw);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        float = true;
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exponent_start = i;
        i = digit_group(b, i, &mut flaw);
        if !b[exponent_start..i].iter().any(u8::is_ascii_digit) {
            flaw = Some(NumError::EmptyExponent);
        }
    }
    if i != b.len() {
        return Err(NumError::Glued);
    }
    if let Some(flaw) = flaw {
        return Err(flaw);
    }
    if float {
        let value = if run.contains('_') {
            run.replace('_', "").parse::<f64>()
        } else {
            run.parse::<f64>()
        };
        match value {
            Ok(x) if x.is_finite() => Ok(TokenKind::Float(x)),
            Ok(_) => Err(NumError::FloatOverflow),
            // Unreachable: the run was checked to be Rust float syntax.
            Err(_) => Err(NumError::Glued),
        }
    } else {
        let mut value: u64 = 0;
        for &d in b.iter().filter(|d| d.is_ascii_digit()) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .ok_or(NumError::IntOverflow)?;
        }
        int_literal(value)
    }
}

/// Moves over `[0-9_]*` from `i` and returns where it stops; records in `flaw` (unless it
/// already holds one) a doubled, leading or trailing `_`.
fn digit_group(b: &[u8], start: usize, flaw: &mut Option<NumError>) -> usize {
    let mut i = start;
    while let Some(&c) = b.get(i) {
        if c == b'_' {
            if b.get(i + 1) == Some(&b'_') {
                flaw.get_or_insert(NumError::DoubleUnderscore);
            } else if i == start || !b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                flaw.get_or_insert(NumError::MisplacedUnderscore);
            }
        } else if !c.is_ascii_digit() {
            break;
        }
        i += 1;
    }
    i
}

/// Checks and values the digits after `0x`, `0b` or `0o`.
fn prefixed(body: &str, radix: u32) -> Result<TokenKind<'static>, NumError> {
    let b = body.as_bytes();
    let mut flaw = None;
    let mut digits = 0;
    // `None` once the value no longer fits a u64.
    let mut value = Some(0u64);
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            if b.get(i + 1) == Some(&b'_') {
                flaw.get_or_insert(NumError::DoubleUnderscore);
            } else if i == 0 || i + 1 == b.len() {
                flaw.get_or_insert(NumError::MisplacedUnderscore);
            }
            continue;
        }
        match char::from(c).to_digit(radix) {
            Some(d) => {
                digits += 1;
                value = value
                    .and_then(|v| v.checked_mul(u64::from(radix)))
                    .and_then(|v| v.checked_add(u64::from(d)));
            }
            None if c.is_ascii_digit() => {
                flaw.get_or_insert(NumError::DigitOutsideBase(radix));
            }
            None => return Err(NumError::Glued),
        }
    }
    if digits == 0 {
        return Err(NumError::NoDigits);
    }
    if let Some(flaw) = flaw {
        return Err(flaw);
    }
    int_literal(value.ok_or(NumError::IntOverflow)?)
}

/// An integer literal's token: anything up to 2^63 (E1005 above).
fn int_literal(value: u64) -> Result<TokenKind<'static>, NumError> {
    if value > MAX_INT_LITERAL {
        Err(NumError::IntOverflow)
    } else {
        Ok(TokenKind::Int(value))
    }
}

/// A run for a diagnostic, cut to `MAX_SHOWN_CHARS` characters.
fn shorten(run: &str) -> String {
    match run.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((i, _)) => format!("{}…", &run[..i]),
        None => run.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Code;
    use crate::lexer::tests::{err, kinds, lex, one, one_error};
    use crate::token::TokenKind::*;

    #[test]
    fn every_number_form() {
        assert_eq!(one("0"), Int(0));
        assert_eq!(one("42"), Int(42));
        assert_eq!(one("007"), Int(7));
        assert_eq!(one("1_000_000"), Int(1_000_000));
        assert_eq!(one("0xFF"), Int(255));
        assert_eq!(one("0XFF"), Int(255));
        assert_eq!(one("0xff"), Int(255));
        assert_eq!(one("0xDEAD_BEEF"), Int(0xDEAD_BEEF));
        assert_eq!(one("0b1010"), Int(10));
        assert_eq!(one("0B1010"), Int(10));
        assert_eq!(one("0b1111_0000"), Int(0xF0));
        assert_eq!(one("0o755"), Int(0o755));
        assert_eq!(one("0O17"), Int(15));
        assert_eq!(one("3.25"), Float(3.25));
        assert_eq!(one("0.5"), Float(0.5));
        assert_eq!(one("1.0e10"), Float(1.0e10));
        assert_eq!(one("1e10"), Float(1e10));
        assert_eq!(one("1E5"), Float(1e5));
        assert_eq!(one("2.5e-3"), Float(2.5e-3));
        assert_eq!(one("2.5e+3"), Float(2.5e3));
        assert_eq!(one("2.5E-3"), Float(2.5e-3));
        assert_eq!(one("1_000.000_1"), Float(1000.0001));
        assert_eq!(one("1e1_0"), Float(1e10));
        assert_eq!(one("1e-400"), Float(0.0));
        assert_eq!(one("0x1e"), Int(30));
        assert_eq!(kinds("0x1e-5"), [Int(30), Minus, Int(5)]);
        assert_eq!(kinds("-1"), [Minus, Int(1)]);
    }

    #[test]
    fn a_dot_continues_a_number_only_before_a_digit() {
        assert_eq!(kinds("1..2"), [Int(1), DotDot, Int(2)]);
        assert_eq!(kinds("1..=2"), [Int(1), DotDotEq, Int(2)]);
        assert_eq!(kinds("1.5..2.5"), [Float(1.5), DotDot, Float(2.5)]);
        assert_eq!(
            kinds("3.平方根()"),
            [Int(3), Dot, Ident("平方根"), LParen, RParen]
        );
        assert_eq!(
            kinds("1.5.平方根()"),
            [Float(1.5), Dot, Ident("平方根"), LParen, RParen]
        );
        assert_eq!(kinds("5.x"), [Int(5), Dot, Ident("x")]);
        assert_eq!(kinds("5._x"), [Int(5), Dot, Ident("_x")]);
        assert_eq!(kinds("1e5.转字符串"), [Float(1e5), Dot, Ident("转字符串")]);
        assert_eq!(kinds("0xFF.转字符串"), [Int(255), Dot, Ident("转字符串")]);
        assert_eq!(kinds("1.e5"), [Int(1), Dot, Ident("e5")]);
    }

    #[test]
    fn every_e1004_case() {
        assert_eq!(one_error(".5"), err(Code::E1004, 1, ".5"));
        assert_eq!(one_error("x = .5;"), err(Code::E1004, 5, ".5"));
        assert_eq!(one_error("x.5"), err(Code::E1004, 2, ".5"));
        assert_eq!(one_error("1.5.3"), err(Code::E1004, 4, ".3"));
        assert_eq!(one_error("5."), err(Code::E1004, 1, "5."));
        assert_eq!(one_error("x = 5.;"), err(Code::E1004, 5, "5."));
        assert_eq!(one_error("5. "), err(Code::E1004, 1, "5."));
        assert_eq!(one_error("5.)"), err(Code::E1004, 1, "5."));
        assert_eq!(one_error("5.。"), err(Code::E1004, 1, "5."));
        assert_eq!(one_error("1__0"), err(Code::E1004, 1, "1__0"));
        assert_eq!(one_error("1_"), err(Code::E1004, 1, "1_"));
        assert_eq!(one_error("1_.5"), err(Code::E1004, 1, "1_.5"));
        assert_eq!(one_error("1.5_"), err(Code::E1004, 1, "1.5_"));
        assert_eq!(one_error("1e_5"), err(Code::E1004, 1, "1e_5"));
        assert_eq!(one_error("0x_1"), err(Code::E1004, 1, "0x_1"));
        assert_eq!(one_error("0x1_"), err(Code::E1004, 1, "0x1_"));
        assert_eq!(one_error("0x1__2"), err(Code::E1004, 1, "0x1__2"));
        assert_eq!(one_error("0b102"), err(Code::E1004, 1, "0b102"));
        assert_eq!(one_error("0o8"), err(Code::E1004, 1, "0o8"));
        assert_eq!(one_error("0o79"), err(Code::E1004, 1, "0o79"));
        assert_eq!(one_error("0x"), err(Code::E1004, 1, "0x"));
        assert_eq!(one_error("0b"), err(Code::E1004, 1, "0b"));
        assert_eq!(one_error("1e"), err(Code::E1004, 1, "1e"));
        assert_eq!(one_error("1.5E"), err(Code::E1004, 1, "1.5E"));
        assert_eq!(one_error("1e+ 1"), err(Code::E1004, 1, "1e"));
        assert_eq!(one_error("2年"), err(Code::E1004, 1, "2年"));
        assert_eq!(one_error("12abc"), err(Code::E1004, 1, "12abc"));
        assert_eq!(one_error("0x1g"), err(Code::E1004, 1, "0x1g"));
        assert_eq!(one_error("0b1a"), err(Code::E1004, 1, "0b1a"));
        assert_eq!(one_error("1.5abc"), err(Code::E1004, 1, "1.5abc"));
        assert_eq!(one_error("1e5x"), err(Code::E1004, 1, "1e5x"));
        assert_eq!(one_error("3个苹果"), err(Code::E1004, 1, "3个苹果"));
        assert_eq!(one_error("1e400"), err(Code::E1004, 1, "1e400"));
        // The glued run is one error, and lexing goes on after it.
        let lexed = lex("变量 年龄 = 2年;");
        assert_eq!(lexed.diags.len(), 1);
        assert!(
            lexed.diags[0].message.contains("2年"),
            "{}",
            lexed.diags[0].message
        );
        assert_eq!(lexed.tokens[3].kind, Int(0), "a placeholder operand");
        assert_eq!(lexed.tokens[4].kind, Semi);
    }

    #[test]
    fn e1004_hints_suggest_the_fix() {
        let hint = |src: &str| lex(src).diags[0].hint.clone().unwrap();
        assert!(hint(".5").contains("0.5"));
        assert!(hint("5.").contains("5.0"));
        assert!(hint("0b102").contains("二进制"));
        assert!(hint("2年").contains("空格"));
    }

    #[test]
    fn integer_literals_up_to_two_to_the_63() {
        assert_eq!(one("9223372036854775807"), Int(i64::MAX as u64));
        assert_eq!(one("9223372036854775808"), Int(1 << 63));
        assert_eq!(kinds("-9223372036854775808"), [Minus, Int(1 << 63)]);
        assert_eq!(one("0x8000000000000000"), Int(1 << 63));
        assert_eq!(one("9_223_372_036_854_775_808"), Int(1 << 63));
        assert_eq!(
            one_error("9223372036854775809"),
            err(Code::E1005, 1, "9223372036854775809")
        );
        assert_eq!(
            one_error("18446744073709551616"),
            err(Code::E1005, 1, "18446744073709551616")
        );
        assert_eq!(
            one_error("99999999999999999999999999"),
            err(Code::E1005, 1, "99999999999999999999999999")
        );
        assert_eq!(
            one_error("0xFFFFFFFFFFFFFFFFFF"),
            err(Code::E1005, 1, "0xFFFFFFFFFFFFFFFFFF")
        );
        assert_eq!(
            one_error("0x8000000000000001"),
            err(Code::E1005, 1, "0x8000000000000001")
        );
        // A big float is fine.
        assert_eq!(one("99999999999999999999.0"), Float(1e20));
    }
}
