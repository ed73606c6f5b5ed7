//! 范围: `a..b` and `a..=b` over 整数.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeObj {
    pub start: i64,
    pub end: i64,
    pub inclusive: bool,
}

impl RangeObj {
    /// The number of integers in the range (0 when reversed).
    pub fn len(&self) -> u64 {
        let (s, e) = (self.start as i128, self.end as i128);
        let n = if self.inclusive { e - s + 1 } else { e - s };
        n.max(0) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th integer, if `i < len`.
    pub fn nth(&self, i: u64) -> Option<i64> {
        (i < self.len()).then(|| (self.start as i128 + i as i128) as i64)
    }
}
