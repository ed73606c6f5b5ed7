//! 字符串: immutable UTF-8 text, changed in place only while it has a single owner.

/// A string. Indexing counts Unicode scalar values; `ascii` makes that O(1) for the common
/// case of ASCII text.
#[derive(Debug)]
pub struct StrObj {
    text: String,
    /// Every byte is ASCII, so character index = byte index.
    ascii: bool,
}

impl StrObj {
    pub fn new(s: impl Into<String>) -> StrObj {
        let text = s.into();
        let ascii = text.is_ascii();
        StrObj { text, ascii }
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Appends in place (only reachable through a uniquely owned value).
    pub fn push_str(&mut self, s: &str) {
        self.ascii &= s.is_ascii();
        self.text.push_str(s);
    }

    /// The length in characters.
    pub fn char_len(&self) -> usize {
        if self.ascii {
            self.text.len()
        } else {
            self.text.chars().count()
        }
    }

    /// The byte range of the characters `start..end` (character indices, in range).
    pub fn byte_range(&self, start: usize, end: usize) -> (usize, usize) {
        if self.ascii {
            return (start, end);
        }
        let mut indices = self.text.char_indices().map(|(i, _)| i);
        let b_start = indices.nth(start).unwrap_or(self.text.len());
        let b_end = if end == start {
            b_start
        } else {
            self.text
                .char_indices()
                .map(|(i, _)| i)
                .nth(end)
                .unwrap_or(self.text.len())
        };
        (b_start, b_end)
    }

    /// The characters `start..end` as a new string.
    pub fn substring(&self, start: usize, end: usize) -> &str {
        let (a, b) = self.byte_range(start, end);
        &self.text[a..b]
    }

    pub fn is_ascii(&self) -> bool {
        self.ascii
    }
}
