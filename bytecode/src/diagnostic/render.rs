//! Turning a [`Diagnostic`] into the text users read.

use unicode_width::UnicodeWidthChar;

use super::Diagnostic;

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Renders a diagnostic as the block of lines printed to stderr, ending in a newline.
/// `color` adds ANSI colours; the caller decides (a terminal, and `NO_COLOR` unset).
pub fn render(diag: &Diagnostic, color: bool) -> String {
    let paint = |style: &str, text: &str| {
        if color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    let (kind, style) = if diag.is_warning() {
        ("警告", YELLOW)
    } else {
        ("错误", RED)
    };
    out.push_str(&paint(style, &format!("{kind}[{}]", diag.code_text())));
    out.push_str(&paint(BOLD, &format!("：{}", diag.message)));
    out.push('\n');

    if let Some((file, span)) = &diag.location {
        let (line, col) = file.line_col(span.start);
        out.push_str(&paint(BLUE, "  --> "));
        out.push_str(&format!("{}:{line}:{col}\n", file.path));
        let full = file.line_text(line);
        let len = span_len_on_line(file.slice(*span), full, col);
        let (text, col, len) = window(full, col, len);
        let gutter = line.to_string();
        let pad = " ".repeat(gutter.len());
        out.push_str(&paint(BLUE, &format!(" {pad} |")));
        out.push('\n');
        out.push_str(&paint(BLUE, &format!(" {gutter} | ")));
        out.push_str(&text);
        out.push('\n');
        let caret = caret_line(&text, col, len);
        out.push_str(&paint(BLUE, &format!(" {pad} | ")));
        out.push_str(&paint(style, &caret));
        out.push('\n');
    }
    if let Some(hint) = &diag.hint {
        out.push_str(&paint(CYAN, &format!("  提示：{hint}")));
        out.push('\n');
    }
    for line in &diag.trailer {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Lines longer than this many characters are shown as a window of it around the caret.
const WINDOW: usize = 120;
const CUT: &str = "...";

/// What to show of `line` for a caret at column `col` underlining `len` characters: the
/// line itself, or for a long one (minified or generated code) `WINDOW` characters around
/// the caret with `...` where it was cut — with the caret's column and length in that.
fn window(line: &str, col: u32, len: usize) -> (String, u32, usize) {
    let n = line.chars().count();
    if n <= WINDOW {
        return (line.to_string(), col, len);
    }
    let at = (col as usize).saturating_sub(1).min(n);
    let end = (at.saturating_sub(WINDOW / 3) + WINDOW).min(n);
    let start = end.saturating_sub(WINDOW);
    let mut shown = String::new();
    if start > 0 {
        shown.push_str(CUT);
    }
    shown.extend(line.chars().skip(start).take(end - start));
    if end < n {
        shown.push_str(CUT);
    }
    let lead = if start > 0 { CUT.len() } else { 0 };
    let col = (at - start + lead + 1) as u32;
    (shown, col, len.min(end.saturating_sub(at)).max(1))
}

/// How many characters of the span to underline on its first line (at least one).
fn span_len_on_line(spanned: &str, line: &str, col: u32) -> usize {
    let rest = line.chars().count().saturating_sub(col as usize - 1);
    let len = spanned.chars().take_while(|&c| c != '\n').count();
    len.min(rest).max(1)
}

/// Spaces up to column `col` (keeping tabs so the caret lines up under them), then one `^`
/// per display column of the `len` characters from there.
fn caret_line(line: &str, col: u32, len: usize) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    for _ in 1..col {
        match chars.next() {
            Some('\t') => out.push('\t'),
            Some(c) => out.push_str(&" ".repeat(c.width().unwrap_or(0))),
            None => out.push(' '),
        }
    }
    let mut width = 0;
    for _ in 0..len {
        match chars.next() {
            Some('\t') => width += 4,
            Some(c) => width += c.width().unwrap_or(0),
            None => width += 1,
        }
    }
    out.push_str(&"^".repeat(width.max(1)));
    out
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Code, Diagnostic};
    use crate::source::{SourceFile, Span};

    #[test]
    fn caret_lines_up_under_double_width_characters() {
        let file = SourceFile::new("例.qi", "变量 总数 = 1 / 0;\n");
        let start = file.text.find("1 / 0").unwrap() as u32;
        let diag = Diagnostic::new(Code::E7001, &file, Span::new(start, start + 5));
        let text = super::render(&diag, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "错误[E7001]：除以零");
        assert_eq!(lines[1], "  --> 例.qi:1:9");
        assert_eq!(lines[3], " 1 | 变量 总数 = 1 / 0;");
        // 变量 (4 columns) + space + 总数 (4) + " = " (3) = 12 columns before the caret.
        assert_eq!(lines[4], format!("   | {}^^^^^", " ".repeat(12)));
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_caret() {
        let line = format!("打印行({} ? {});", "x".repeat(5000), "y".repeat(5000));
        let file = SourceFile::new("长.qi", format!("{line}\n"));
        let start = file.text.find('?').unwrap() as u32;
        let diag = Diagnostic::new(Code::E1001, &file, Span::new(start, start + 1));
        let text = super::render(&diag, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "  --> 长.qi:1:5006");
        let shown = lines[3].strip_prefix(" 1 | ").unwrap();
        assert!(
            shown.starts_with("...x") && shown.ends_with("y..."),
            "{shown}"
        );
        assert!(shown.chars().count() <= super::WINDOW + 6);
        let caret = lines[4].strip_prefix("   | ").unwrap();
        assert_eq!(caret.trim_start(), "^");
        // The caret is under the `?`.
        let under = shown.chars().nth(caret.len() - 1);
        assert_eq!(under, Some('?'));
    }

    #[test]
    fn a_long_line_keeps_its_start_when_the_caret_is_near_it() {
        let line = format!("变量 甲 = @{};", "1".repeat(500));
        let file = SourceFile::new("长.qi", format!("{line}\n"));
        let start = file.text.find('@').unwrap() as u32;
        let diag = Diagnostic::new(Code::E1001, &file, Span::new(start, start + 1));
        let text = super::render(&diag, false);
        let lines: Vec<&str> = text.lines().collect();
        let shown = lines[3].strip_prefix(" 1 | ").unwrap();
        assert!(
            shown.starts_with("变量 甲 = @1") && shown.ends_with("1..."),
            "{shown}"
        );
        // 变量 (4 columns) + space + 甲 (2) + " = " (3).
        assert_eq!(lines[4], format!("   | {}^", " ".repeat(10)));
    }

    #[test]
    fn warnings_and_hints() {
        let file = SourceFile::new("w.qi", "协程 { 挂起 1; };");
        let diag = Diagnostic::new(Code::W6001, &file, Span::new(0, 6));
        let text = super::render(&diag, false);
        assert!(text.starts_with("警告[W6001]：协程从未恢复\n"));
        assert!(text.contains("  提示："));
    }
}
