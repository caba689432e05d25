//! Splitting NDJSON into records: the one line splitter that `accord validate` and the
//! server's validate endpoint share, so both number lines and skip blank ones alike.

/// One non-blank line of a chunk: its number and its bytes `start..end` in the chunk
/// (without the newline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The line number (counting blank lines too).
    pub number: u64,
    /// Where the line starts in the chunk.
    pub start: usize,
    /// Where it ends (the newline's position, or the chunk's end).
    pub end: usize,
}

/// The non-blank lines of `data`, numbered from `first_line`; a final line without a
/// newline counts. Blank (whitespace-only) lines are skipped but numbered.
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    data: &'a [u8],
    pos: usize,
    next_number: u64,
}

impl<'a> Lines<'a> {
    /// Lines of `data`, the first of which is number `first_line`.
    pub fn new(data: &'a [u8], first_line: u64) -> Self {
        Self {
            data,
            pos: 0,
            next_number: first_line,
        }
    }

    /// The number the next line after those yielded so far would get.
    pub fn next_number(&self) -> u64 {
        self.next_number
    }
}

impl Iterator for Lines<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        while self.pos < self.data.len() {
            let start = self.pos;
            let end =
                memchr::memchr(b'\n', &self.data[start..]).map_or(self.data.len(), |i| start + i);
            self.pos = end + 1;
            let number = self.next_number;
            self.next_number += 1;
            if !self.data[start..end].iter().all(u8::is_ascii_whitespace) {
                return Some(Line { number, start, end });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_are_numbered_but_skipped_and_a_last_line_needs_no_newline() {
        let data = b"{\"a\":1}\n\n  \n{\"b\":2}";
        let mut lines = Lines::new(data, 10);
        let got: Vec<(u64, &[u8])> = lines
            .by_ref()
            .map(|l| (l.number, &data[l.start..l.end]))
            .collect();
        assert_eq!(got, vec![(10, &b"{\"a\":1}"[..]), (13, &b"{\"b\":2}"[..])]);
        assert_eq!(lines.next_number(), 14);
        let mut trailing = Lines::new(b"x\n", 1);
        assert_eq!(trailing.next().map(|l| l.number), Some(1));
        assert_eq!(trailing.next(), None);
        assert_eq!(trailing.next_number(), 2);
    }
}
