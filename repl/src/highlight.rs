//! Colouring an entry for the terminal: keywords, strings, numbers, comments, and the
//! bracket matching the one at the cursor.

use bumpalo::Bump;
use qi_bytecode::lexer::tokenize;
use qi_bytecode::source::SourceFile;
use qi_bytecode::token::{Token, TokenKind};

const KEYWORD: &str = "\x1b[1;35m";
const STRING: &str = "\x1b[32m";
const NUMBER: &str = "\x1b[33m";
const COMMENT: &str = "\x1b[90m";
const MATCHED: &str = "\x1b[1;7m";
const RESET: &str = "\x1b[0m";

/// `text` with ANSI colours; with a cursor on or just after a bracket, that bracket and
/// its partner are shown inverted.
pub fn ansi(text: &str, cursor: Option<usize>) -> String {
    let arena = Bump::new();
    let file = SourceFile::new("<输入>", text);
    let mut diags = Vec::new();
    let tokens = tokenize(&arena, &file, &mut diags);
    let matched = cursor.and_then(|c| matching_pair(&tokens, c));
    let mut out = String::with_capacity(text.len() * 2);
    let mut at = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        let (start, end) = (t.span.start as usize, t.span.end as usize);
        if start < at || end > text.len() {
            continue;
        }
        gap(&text[at..start], &mut out);
        let color = if matched.is_some_and(|(a, b)| a == i || b == i) {
            Some(MATCHED)
        } else {
            match t.kind {
                TokenKind::Keyword(_) => Some(KEYWORD),
                TokenKind::Str(_) => Some(STRING),
                TokenKind::Int(_) | TokenKind::Float(_) => Some(NUMBER),
                _ => None,
            }
        };
        paint(&text[start..end], color, &mut out);
        at = end;
    }
    gap(&text[at..], &mut out);
    out
}

/// Text between tokens: whitespace and comments (and anything the lexer skipped).
fn gap(text: &str, out: &mut String) {
    let mut rest = text;
    while !rest.is_empty() {
        let line = rest.find("//");
        let block = rest.find("/*");
        let start = match (line, block) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                out.push_str(rest);
                return;
            }
        };
        out.push_str(&rest[..start]);
        let comment = &rest[start..];
        let len = if comment.starts_with("//") {
            comment.find('\n').unwrap_or(comment.len())
        } else {
            comment.find("*/").map_or(comment.len(), |i| i + 2)
        };
        paint(&comment[..len], Some(COMMENT), out);
        rest = &comment[len..];
    }
}

fn paint(text: &str, color: Option<&str>, out: &mut String) {
    match color {
        Some(c) => {
            out.push_str(c);
            out.push_str(text);
            out.push_str(RESET);
        }
        None => out.push_str(text),
    }
}

fn opens(k: &TokenKind<'_>) -> Option<u8> {
    match k {
        TokenKind::LParen => Some(0),
        TokenKind::LBracket => Some(1),
        TokenKind::LBrace => Some(2),
        _ => None,
    }
}

fn closes(k: &TokenKind<'_>) -> Option<u8> {
    match k {
        TokenKind::RParen => Some(0),
        TokenKind::RBracket => Some(1),
        TokenKind::RBrace => Some(2),
        _ => None,
    }
}

/// The token indexes of the bracket at the cursor (under it, else just before it) and
/// its partner.
fn matching_pair(tokens: &[Token<'_>], cursor: usize) -> Option<(usize, usize)> {
    let is_bracket = |t: &Token<'_>| opens(&t.kind).is_some() || closes(&t.kind).is_some();
    let here = tokens
        .iter()
        .position(|t| t.span.start as usize == cursor && is_bracket(t))
        .or_else(|| {
            tokens
                .iter()
                .position(|t| t.span.end as usize == cursor && is_bracket(t))
        })?;
    let mut depth = 0i32;
    if let Some(kind) = opens(&tokens[here].kind) {
        for (i, t) in tokens.iter().enumerate().skip(here) {
            if opens(&t.kind) == Some(kind) {
                depth += 1;
            } else if closes(&t.kind) == Some(kind) {
                depth -= 1;
                if depth == 0 {
                    return Some((here, i));
                }
            }
        }
    } else if let Some(kind) = closes(&tokens[here].kind) {
        for i in (0..=here).rev() {
            let t = &tokens[i];
            if closes(&t.kind) == Some(kind) {
                depth += 1;
            } else if opens(&t.kind) == Some(kind) {
                depth -= 1;
                if depth == 0 {
                    return Some((i, here));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_strings_numbers_and_comments_are_coloured() {
        let out = ansi("变量 x = \"你好\" + 1; // 注释", None);
        assert!(out.contains(&format!("{KEYWORD}变量{RESET}")));
        assert!(out.contains(&format!("{STRING}\"你好\"{RESET}")));
        assert!(out.contains(&format!("{NUMBER}1{RESET}")));
        assert!(out.contains(&format!("{COMMENT}// 注释{RESET}")));
    }

    #[test]
    fn the_bracket_at_the_cursor_and_its_partner_are_marked() {
        let text = "f(（1）, 2)";
        // Cursor just after the final `)`.
        let out = ansi(text, Some(text.len()));
        assert_eq!(out.matches(MATCHED).count(), 2);
        assert!(out.starts_with(&format!("f{MATCHED}({RESET}")));
        // Full-width pair.
        let inner = text.find('（').unwrap_or(0);
        let out = ansi(text, Some(inner));
        assert!(out.contains(&format!("{MATCHED}（{RESET}")));
        assert!(out.contains(&format!("{MATCHED}）{RESET}")));
    }

    #[test]
    fn plain_text_is_unchanged_apart_from_colours() {
        let text = "函数 f(x) {\n  返回 x * 2; /* 块 */\n}";
        let out = ansi(text, None);
        let stripped: String = strip(&out);
        assert_eq!(stripped, text);
    }

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
