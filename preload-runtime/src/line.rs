//! A line of text formatted into a fixed buffer on the stack: what the kernel backend
//! prints with, because formatting into a `String` allocates, and an allocation that
//! fails in module context (the bpffs populate callback runs with the kernel's preload
//! lock held) must not become a panic.

use core::fmt;

/// What marks a line cut short: ASCII, since consoles need not speak UTF-8.
const ELLIPSIS: &[u8] = b"...";

/// Up to `N` bytes of formatted text. Writing never fails and never allocates: text
/// past the end is dropped, at a character boundary, and [`Line::as_bytes`] then ends
/// in [`ELLIPSIS`].
pub(crate) struct Line<const N: usize> {
    buf: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> Line<N> {
    /// An empty line.
    pub(crate) const fn new() -> Self {
        const { assert!(N >= ELLIPSIS.len()) };
        Self {
            buf: [0; N],
            len: 0,
            truncated: false,
        }
    }

    /// Formats `args` into a new line.
    pub(crate) fn format(args: fmt::Arguments<'_>) -> Self {
        let mut line = Self::new();
        // `write_str` below never returns an error; a `Display` impl that does only
        // ends the line early.
        let _ = fmt::Write::write_fmt(&mut line, args);
        line
    }

    /// The text, ending in `...` if it was cut.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> fmt::Write for Line<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.truncated {
            return Ok(());
        }
        let room = N - self.len;
        if s.len() <= room {
            self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
            return Ok(());
        }
        // It does not fit: keep what does, leaving room for the ellipsis, cut where a
        // character starts so that the line stays valid UTF-8.
        let mut keep = (N - ELLIPSIS.len()).saturating_sub(self.len).min(s.len());
        while !s.is_char_boundary(keep) {
            keep -= 1;
        }
        self.buf[self.len..self.len + keep].copy_from_slice(&s.as_bytes()[..keep]);
        // Earlier text may reach into the ellipsis' place: it goes at the very end.
        self.len = (self.len + keep).min(N - ELLIPSIS.len());
        while core::str::from_utf8(&self.buf[..self.len]).is_err() {
            self.len -= 1;
        }
        self.buf[self.len..self.len + ELLIPSIS.len()].copy_from_slice(ELLIPSIS);
        self.len += ELLIPSIS.len();
        self.truncated = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Line;

    fn text<const N: usize>(line: &Line<N>) -> &str {
        core::str::from_utf8(line.as_bytes()).expect("always UTF-8")
    }

    #[test]
    fn short_text_is_kept_whole() {
        let line = Line::<16>::format(format_args!("{}-{}", "ab", 12));
        assert_eq!(text(&line), "ab-12");
    }

    #[test]
    fn exactly_full_is_not_truncated() {
        let line = Line::<8>::format(format_args!("{}", "12345678"));
        assert_eq!(text(&line), "12345678");
    }

    #[test]
    fn long_text_ends_in_an_ellipsis() {
        let line = Line::<8>::format(format_args!("{}{}", "12345", "6789"));
        assert_eq!(text(&line), "12345...");
        let line = Line::<8>::format(format_args!("{}", "123456789abc"));
        assert_eq!(text(&line), "12345...");
        // Once cut, later pieces are dropped rather than appended after the ellipsis.
        let line = Line::<8>::format(format_args!("{}{}{}", "123456789", "x", "y"));
        assert_eq!(text(&line), "12345...");
    }

    #[test]
    fn cuts_at_character_boundaries() {
        // "é" is two bytes: the cut may not fall inside it.
        let line = Line::<8>::format(format_args!("{}", "abcdéfghij"));
        assert_eq!(text(&line), "abcd...");
        let line = Line::<8>::format(format_args!("{}{}", "abcdé", "zzzz"));
        assert_eq!(text(&line), "abcd...");
        let line = Line::<6>::format(format_args!("{}", "éééé"));
        assert_eq!(text(&line), "é...");
    }

    #[test]
    fn a_huge_message_stays_bounded() {
        let long = "x".repeat(100_000);
        let line = Line::<256>::format(format_args!("{long}{long}"));
        assert_eq!(line.as_bytes().len(), 256);
        assert!(text(&line).ends_with("..."));
    }
}
