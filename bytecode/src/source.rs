//! Source files and spans: where every token, node, instruction and diagnostic points.
//!
//! A [`Span`] is a half-open byte range into one [`SourceFile`]. Lines and columns are
//! computed only when a diagnostic is rendered, so spans stay two `u32`s everywhere else.

use std::sync::Arc;

/// A half-open byte range `start..end` into a source file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const fn new(start: u32, end: u32) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// An empty span at this span's end (where a missing `;` belongs).
    pub fn after(self) -> Span {
        Span {
            start: self.end,
            end: self.end,
        }
    }

    pub fn len(self) -> u32 {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// One loaded source file: the path as the user gave it, and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// The path exactly as given on the command line (or joined for imports); shown in
    /// diagnostics and stack traces.
    pub path: String,
    /// The text, already checked to be UTF-8, with a leading BOM removed.
    pub text: String,
    /// Byte offset of the first character of every line; `line_starts[0] == 0`.
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        let mut text: String = text.into();
        if text.starts_with('\u{FEFF}') {
            text.drain(..'\u{FEFF}'.len_utf8());
        }
        let mut line_starts = vec![0];
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            // CRLF counts as one line break: the line starts after the `\n`.
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        Arc::new(SourceFile {
            path: path.into(),
            text,
            line_starts,
        })
    }

    /// A source file from raw bytes. Invalid UTF-8 is E1007, pointing at the first bad byte:
    /// the diagnostic's file holds the lossy conversion (each bad sequence read as U+FFFD), so
    /// the line and column can still be shown.
    pub fn from_bytes(
        path: impl Into<String>,
        bytes: Vec<u8>,
    ) -> Result<Arc<SourceFile>, crate::diagnostic::Diagnostic> {
        use crate::diagnostic::{Code, Diagnostic};

        let error = match String::from_utf8(bytes) {
            Ok(text) => return Ok(SourceFile::new(path, text)),
            Err(error) => error,
        };
        let valid_up_to = error.utf8_error().valid_up_to();
        // `None`: the text ends in the middle of a character.
        let bad_len = error.utf8_error().error_len();
        let bytes = error.into_bytes();
        let bad_len = bad_len.unwrap_or(bytes.len() - valid_up_to);
        let bad = bytes[valid_up_to..valid_up_to + bad_len]
            .iter()
            .map(|b| format!("0x{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ");
        // The lossy text equals the input up to the first bad byte, except for a BOM, which
        // `new` strips.
        let bom = if bytes.starts_with("\u{FEFF}".as_bytes()) {
            '\u{FEFF}'.len_utf8()
        } else {
            0
        };
        let file = SourceFile::new(path, String::from_utf8_lossy(&bytes).into_owned());
        let start = valid_up_to.saturating_sub(bom) as u32;
        let span = Span::new(start, start + '\u{FFFD}'.len_utf8() as u32);
        Err(Diagnostic::new(Code::E1007, &file, span).with_detail(format!("：无效的字节 {bad}")))
    }

    /// 1-based line and column of a byte offset; columns count Unicode scalar values.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let offset = offset.min(self.text.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let col = self.text[start..offset as usize].chars().count();
        (line as u32 + 1, col as u32 + 1)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.line_starts.get(i) else {
            return "";
        };
        let end = self
            .line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&e| e as usize);
        self.text[start as usize..end]
            .trim_end_matches('\n')
            .trim_end_matches('\r')
    }

    pub fn line_count(&self) -> u32 {
        self.line_starts.len() as u32
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let f = SourceFile::new("t.qi", "变量 甲 = 1;\n打印行(甲);");
        let off = f.text.find('甲').unwrap() as u32;
        assert_eq!(f.line_col(off), (1, 4));
        let off = f.text.rfind('甲').unwrap() as u32;
        assert_eq!(f.line_col(off), (2, 5));
        assert_eq!(f.line_text(2), "打印行(甲);");
    }

    #[test]
    fn crlf_is_one_line_break_and_bom_is_skipped() {
        let f = SourceFile::new("t.qi", "\u{FEFF}a\r\nb\r\n");
        assert_eq!(f.text, "a\r\nb\r\n");
        assert_eq!(f.line_text(1), "a");
        assert_eq!(f.line_col(3), (2, 1));
    }

    #[test]
    fn from_bytes_accepts_utf8_and_strips_bom() {
        let f = SourceFile::from_bytes("t.qi", "\u{FEFF}变量 x = 1;".as_bytes().to_vec()).unwrap();
        assert_eq!(f.text, "变量 x = 1;");
        assert_eq!(f.path, "t.qi");
    }

    #[test]
    fn from_bytes_reports_e1007_at_the_first_bad_byte() {
        let d =
            SourceFile::from_bytes("t.qi", b"abc\n\xE5\x8F\x98 x\xFF\xFEy\n".to_vec()).unwrap_err();
        assert_eq!(d.code, crate::diagnostic::Code::E1007);
        assert!(d.message.starts_with("源文件不是 UTF-8"), "{}", d.message);
        assert!(d.message.contains("0xFF"), "{}", d.message);
        assert_eq!(d.position(), Some(("t.qi".to_string(), 2, 4)));
        let (file, span) = d.location.as_ref().unwrap();
        assert_eq!(file.slice(*span), "\u{FFFD}");
        assert_eq!(file.line_text(2), "变 x\u{FFFD}\u{FFFD}y");
    }

    #[test]
    fn from_bytes_e1007_column_is_right_after_a_bom() {
        let d = SourceFile::from_bytes("t.qi", b"\xEF\xBB\xBFab\x80".to_vec()).unwrap_err();
        assert_eq!(d.position(), Some(("t.qi".to_string(), 1, 3)));
    }

    #[test]
    fn from_bytes_e1007_for_a_character_cut_at_the_end() {
        // The first two bytes of 变 (E5 8F 98).
        let d = SourceFile::from_bytes("t.qi", b"x\n\xE5\x8F".to_vec()).unwrap_err();
        assert_eq!(d.position(), Some(("t.qi".to_string(), 2, 1)));
        assert!(d.message.contains("0xE5 0x8F"), "{}", d.message);
    }
}
