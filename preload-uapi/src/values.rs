//! The rules by which a loader's value for a global variable of `.rodata`, `.data` or
//! `.bss` is checked and written, once for both places that give one: the attribute's
//! `set(VARIABLE = value)` (Rust literals, at compile time) and an object module's
//! parameters (`modprobe NAME VARIABLE=value`, text, in the kernel). An integer must be
//! in the range of its C type's size and sign and is written little-endian in two's
//! complement; a `bool` is 0 or 1; an enum takes an enumerator's name or an integer of
//! its size; a char array takes a string whose terminating NUL fits. `no_std`, no
//! allocation: the runtime module uses it in kernel context.

use core::fmt;

/// The values of a C integer of `size` bytes and sign `signed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    pub size: u32,
    pub signed: bool,
}

impl IntRange {
    /// The range of an integer of `size` bytes, or `None` for a size no C integer
    /// has (0, or more than 16 bytes).
    pub fn new(size: u32, signed: bool) -> Option<Self> {
        (1..=16)
            .contains(&size)
            .then_some(IntRange { size, signed })
    }

    /// The largest value's magnitude.
    fn max(self) -> u128 {
        let bits = self.size * 8;
        match (self.signed, bits) {
            (true, _) => (1u128 << (bits - 1)) - 1,
            (false, 128) => u128::MAX,
            (false, _) => (1u128 << bits) - 1,
        }
    }

    /// Whether the integer `(negative, magnitude)` is in the range.
    pub fn contains(self, negative: bool, magnitude: u128) -> bool {
        let max = self.max();
        match (self.signed, negative) {
            (true, true) => magnitude <= max + 1,
            (_, false) => magnitude <= max,
            (false, true) => magnitude == 0,
        }
    }
}

impl fmt::Display for IntRange {
    /// `-128..=127`, `0..=255`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = self.max();
        if self.signed {
            write!(f, "-{}..={max}", max + 1)
        } else {
            write!(f, "0..={max}")
        }
    }
}

/// Writes the integer `(negative, magnitude)` into `out` (its size), two's complement,
/// little-endian.
pub fn put_int(out: &mut [u8], negative: bool, magnitude: u128) {
    let v = if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    };
    let n = out.len().min(16);
    out[..n].copy_from_slice(&v.to_le_bytes()[..n]);
}

/// Reads the integer of `bytes` (little-endian, two's complement if `signed`) as
/// `(negative, magnitude)`.
pub fn get_int(bytes: &[u8], signed: bool) -> (bool, u128) {
    let mut raw = [0u8; 16];
    let n = bytes.len().min(16);
    raw[..n].copy_from_slice(&bytes[..n]);
    let negative = signed && n > 0 && bytes[n - 1] & 0x80 != 0;
    if negative {
        raw[n..].fill(0xff);
    }
    let v = u128::from_le_bytes(raw);
    if negative {
        (true, v.wrapping_neg())
    } else {
        (false, v)
    }
}

/// The integer `text` writes, as `(negative, magnitude)`: decimal, or `0x`, `0o` or
/// `0b` and digits of that base, `-` in front of a negative one, `_` between digits
/// allowed (as Rust writes integers in `set(...)`). `None` if it is none.
pub fn parse_int(text: &str) -> Option<(bool, u128)> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let lower = |p: &str| digits.strip_prefix(p);
    let (radix, digits) = if let Some(d) = lower("0x").or_else(|| lower("0X")) {
        (16, d)
    } else if let Some(d) = lower("0o").or_else(|| lower("0O")) {
        (8, d)
    } else if let Some(d) = lower("0b").or_else(|| lower("0B")) {
        (2, d)
    } else {
        (10, digits)
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    let mut value: u128 = 0;
    for c in digits.chars().filter(|&c| c != '_') {
        let d = c.to_digit(radix)?;
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
    }
    Some((negative, value))
}

/// The `bool` `text` writes, as the kernel's `kstrtobool` reads a module's bool
/// parameter and as C and Rust spell it: `1`, `y`, `yes`, `on`, `true` or `0`, `n`,
/// `no`, `off`, `false`, in any case. `None` if it is none.
pub fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 5] = ["1", "y", "yes", "on", "true"];
    const FALSE: [&str; 5] = ["0", "n", "no", "off", "false"];
    let is = |words: [&str; 5]| words.iter().any(|w| w.eq_ignore_ascii_case(text));
    if is(TRUE) {
        Some(true)
    } else if is(FALSE) {
        Some(false)
    } else {
        None
    }
}

/// What a variable is, as text values are written into it. `repr(C, u32)`: the
/// runtime's table holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, u32)]
pub enum TextKind {
    /// An integer of the variable's size.
    Int { signed: bool },
    /// `bool`: one byte, 0 or 1.
    Bool,
    /// An enum of the variable's size: an enumerator's name or an integer.
    Enum { signed: bool },
    /// A char array of the variable's size: a string, NUL-terminated and padded.
    Chars,
}

/// Why a text value does not fit its variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextError {
    /// Not an integer (nor, for an enum, an enumerator's name).
    NotAnInteger,
    /// An integer outside the variable's range.
    OutOfRange(IntRange),
    /// Not a bool.
    NotABool,
    /// A string longer than the array leaves room for: `len` bytes, `room` fit.
    TooLong { len: usize, room: usize },
    /// A variable of a size no C integer has.
    BadSize(u32),
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::NotAnInteger => f.write_str("not an integer"),
            TextError::OutOfRange(range) => write!(
                f,
                "out of range for {} {}-bit integer: it holds {range}",
                if range.signed {
                    "a signed"
                } else {
                    "an unsigned"
                },
                range.size * 8
            ),
            TextError::NotABool => {
                f.write_str("not a bool: write 1, y, yes, on or true, or 0, n, no, off or false")
            }
            TextError::TooLong { len, room } => write!(
                f,
                "the string's {len} bytes and its terminating NUL do not fit: at most {room} bytes"
            ),
            TextError::BadSize(size) => write!(f, "an integer of {size} bytes cannot be written"),
        }
    }
}

/// Writes the text value `text` into `out`, the variable's bytes (zeroed first, as a
/// C initializer replaces the whole value), as `kind` takes it; `enumerators` are an
/// enum's `(name, value)` pairs.
pub fn write_text<'e>(
    text: &str,
    kind: TextKind,
    enumerators: impl IntoIterator<Item = (&'e str, i128)>,
    out: &mut [u8],
) -> Result<(), TextError> {
    out.fill(0);
    let int = |signed: bool, (negative, magnitude): (bool, u128), out: &mut [u8]| {
        let size = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let range = IntRange::new(size, signed).ok_or(TextError::BadSize(size))?;
        if !range.contains(negative, magnitude) {
            return Err(TextError::OutOfRange(range));
        }
        put_int(out, negative, magnitude);
        Ok(())
    };
    match kind {
        TextKind::Int { signed } => {
            int(signed, parse_int(text).ok_or(TextError::NotAnInteger)?, out)
        }
        TextKind::Bool => {
            let b = parse_bool(text).ok_or(TextError::NotABool)?;
            if let Some(first) = out.first_mut() {
                *first = u8::from(b);
            }
            Ok(())
        }
        TextKind::Enum { signed } => {
            let value = match enumerators.into_iter().find(|(n, _)| *n == text) {
                Some((_, v)) => (v < 0, v.unsigned_abs()),
                None => parse_int(text).ok_or(TextError::NotAnInteger)?,
            };
            int(signed, value, out)
        }
        TextKind::Chars => {
            let room = out.len().saturating_sub(1);
            if text.len() > room {
                return Err(TextError::TooLong {
                    len: text.len(),
                    room,
                });
            }
            out[..text.len()].copy_from_slice(text.as_bytes());
            Ok(())
        }
    }
}

/// Writes the value of `bytes` as text that [`write_text`] reads back into the same
/// bytes: an integer in decimal, a bool as `Y` or `N` (as the kernel shows a bool
/// parameter), an enum as its enumerator's name if one has the value, a char array as
/// its string. `Ok(false)` for a value no text gives back (a char array without a
/// NUL, or with bytes that are not UTF-8).
pub fn show_text<'e>(
    bytes: &[u8],
    kind: TextKind,
    enumerators: impl IntoIterator<Item = (&'e str, i128)>,
    f: &mut impl fmt::Write,
) -> Result<bool, fmt::Error> {
    let show_int = |signed: bool, f: &mut dyn fmt::Write| {
        let (negative, magnitude) = get_int(bytes, signed);
        if negative {
            write!(f, "-{magnitude}")
        } else {
            write!(f, "{magnitude}")
        }
    };
    match kind {
        TextKind::Int { signed } => show_int(signed, f)?,
        TextKind::Bool => f.write_str(if bytes.first() == Some(&0) { "N" } else { "Y" })?,
        TextKind::Enum { signed } => {
            let (negative, magnitude) = get_int(bytes, signed);
            let value = if negative {
                -i128::try_from(magnitude).unwrap_or(i128::MAX)
            } else {
                i128::try_from(magnitude).unwrap_or(-1)
            };
            match enumerators.into_iter().find(|&(_, v)| v == value) {
                Some((name, _)) => f.write_str(name)?,
                None => show_int(signed, f)?,
            }
        }
        TextKind::Chars => {
            let Some(end) = bytes.iter().position(|&b| b == 0) else {
                return Ok(false);
            };
            if bytes[end..].iter().any(|&b| b != 0) {
                return Ok(false);
            }
            let Ok(s) = core::str::from_utf8(&bytes[..end]) else {
                return Ok(false);
            };
            f.write_str(s)?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::{String, ToString};

    fn write(text: &str, kind: TextKind, size: usize) -> Result<std::vec::Vec<u8>, TextError> {
        let mut out = std::vec![0xaa; size];
        write_text(text, kind, [("MODE_OFF", 0), ("MODE_STRICT", 2)], &mut out).map(|()| out)
    }

    fn show(bytes: &[u8], kind: TextKind) -> Option<String> {
        let mut s = String::new();
        let shown = show_text(bytes, kind, [("MODE_OFF", 0), ("MODE_STRICT", 2)], &mut s);
        shown.unwrap().then_some(s)
    }

    #[test]
    fn integers_are_checked_against_their_range() {
        let int = |signed| TextKind::Int { signed };
        assert_eq!(write("-1", int(true), 4), Ok(std::vec![0xff; 4]));
        assert_eq!(write("0x7f", int(true), 1), Ok(std::vec![0x7f]));
        assert_eq!(write("-128", int(true), 1), Ok(std::vec![0x80]));
        assert_eq!(
            write("128", int(true), 1),
            Err(TextError::OutOfRange(IntRange {
                size: 1,
                signed: true
            }))
        );
        assert_eq!(
            write("-1", int(false), 4).unwrap_err().to_string(),
            "out of range for an unsigned 32-bit integer: it holds 0..=4294967295"
        );
        assert_eq!(write("1_000", int(false), 2), Ok(std::vec![0xe8, 0x03]));
        assert_eq!(write("0b101", int(false), 1), Ok(std::vec![5]));
        for bad in ["", "x", "12a", "0x", "--1", "1_", "1 "] {
            assert_eq!(
                write(bad, int(false), 4),
                Err(TextError::NotAnInteger),
                "{bad}"
            );
        }
        assert_eq!(
            write("1", int(false), 17),
            Err(TextError::BadSize(17)),
            "no C integer"
        );
        let max = u128::MAX.to_string();
        assert_eq!(write(&max, int(false), 16), Ok(std::vec![0xff; 16]));
        assert_eq!(
            write(&std::format!("{max}0"), int(false), 16),
            Err(TextError::NotAnInteger)
        );
    }

    #[test]
    fn bools_enums_and_strings() {
        for (text, b) in [("Y", 1), ("on", 1), ("TRUE", 1), ("0", 0), ("no", 0)] {
            assert_eq!(write(text, TextKind::Bool, 1), Ok(std::vec![b]), "{text}");
        }
        assert_eq!(write("2", TextKind::Bool, 1), Err(TextError::NotABool));
        let e = TextKind::Enum { signed: false };
        assert_eq!(write("MODE_STRICT", e, 4), Ok(std::vec![2, 0, 0, 0]));
        assert_eq!(write("7", e, 4), Ok(std::vec![7, 0, 0, 0]));
        assert_eq!(write("MODE_LAX", e, 4), Err(TextError::NotAnInteger));
        assert_eq!(write("abc", TextKind::Chars, 4), Ok(b"abc\0".to_vec()));
        assert_eq!(write("", TextKind::Chars, 4), Ok(std::vec![0; 4]));
        assert_eq!(
            write("abcd", TextKind::Chars, 4),
            Err(TextError::TooLong { len: 4, room: 3 })
        );
    }

    #[test]
    fn shown_values_read_back_as_themselves() {
        let cases: [(&[u8], TextKind, Option<&str>); 8] = [
            (
                &[0xff, 0xff, 0xff, 0xff],
                TextKind::Int { signed: true },
                Some("-1"),
            ),
            (
                &[0xff, 0xff, 0xff, 0xff],
                TextKind::Int { signed: false },
                Some("4294967295"),
            ),
            (&[1], TextKind::Bool, Some("Y")),
            (&[0], TextKind::Bool, Some("N")),
            (
                &[2, 0, 0, 0],
                TextKind::Enum { signed: false },
                Some("MODE_STRICT"),
            ),
            (&[3, 0, 0, 0], TextKind::Enum { signed: true }, Some("3")),
            (b"ab\0\0", TextKind::Chars, Some("ab")),
            (b"abcd", TextKind::Chars, None),
        ];
        for (bytes, kind, text) in cases {
            assert_eq!(show(bytes, kind).as_deref(), text, "{bytes:?}");
            if let Some(text) = text {
                assert_eq!(
                    write(text, kind, bytes.len()).as_deref(),
                    Ok(bytes),
                    "{text}"
                );
            }
        }
        assert_eq!(
            show(b"a\0b\0", TextKind::Chars),
            None,
            "bytes after the NUL"
        );
    }
}
