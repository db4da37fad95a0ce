//! The table's building blocks with a C layout. The table crosses a module boundary:
//! an object module holds it as data and the runtime module, built at another time
//! and perhaps by another compiler, reads it. Rust's own slices, `&str`, `&CStr` and
//! `Option<usize>` have no layout a compiler promises to keep, so the table uses these
//! instead; each derefs to what it stands for, so the loader reads them as before.

use core::ffi::CStr;
use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

/// A `&'static [T]`: pointer and length.
#[repr(C)]
pub struct List<T: 'static> {
    ptr: *const T,
    len: usize,
    _slice: PhantomData<&'static [T]>,
}

impl<T> List<T> {
    /// The list of `items`.
    pub const fn new(items: &'static [T]) -> Self {
        List {
            ptr: items.as_ptr(),
            len: items.len(),
            _slice: PhantomData,
        }
    }

    /// The items.
    pub const fn as_slice(&self) -> &'static [T] {
        // SAFETY: `new` is the only constructor, from a `&'static [T]`.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T> Deref for List<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> IntoIterator for List<T> {
    type Item = &'static T;
    type IntoIter = core::slice::Iter<'static, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T> IntoIterator for &List<T> {
    type Item = &'static T;
    type IntoIter = core::slice::Iter<'static, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T: fmt::Debug> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl<T> Clone for List<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for List<T> {}

// SAFETY: a `List<T>` is a `&'static [T]`, which is Send and Sync when T is Sync.
unsafe impl<T: Sync> Sync for List<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Send for List<T> {}

/// A `&'static str`: pointer and length, UTF-8, not NUL-terminated.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Str(List<u8>);

impl Str {
    /// The string `s`.
    pub const fn new(s: &'static str) -> Self {
        Str(List::new(s.as_bytes()))
    }

    /// The string.
    pub const fn as_str(&self) -> &'static str {
        // SAFETY: `new` is the only constructor, from a `&'static str`.
        unsafe { core::str::from_utf8_unchecked(self.0.as_slice()) }
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().fmt(f)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().fmt(f)
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Str> for alloc::string::String {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(feature = "std")]
impl AsRef<std::path::Path> for Str {
    fn as_ref(&self) -> &std::path::Path {
        self.as_str().as_ref()
    }
}

/// A `&'static CStr`: pointer and length, the NUL included.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CStrRef(List<u8>);

impl CStrRef {
    /// The string `s`.
    pub const fn new(s: &'static CStr) -> Self {
        CStrRef(List::new(s.to_bytes_with_nul()))
    }

    /// The string.
    pub const fn as_c_str(&self) -> &'static CStr {
        // SAFETY: `new` is the only constructor, from a `&'static CStr`'s bytes with
        // their NUL.
        unsafe { CStr::from_bytes_with_nul_unchecked(self.0.as_slice()) }
    }
}

impl Deref for CStrRef {
    type Target = CStr;
    fn deref(&self) -> &CStr {
        self.as_c_str()
    }
}

impl fmt::Debug for CStrRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_c_str().fmt(f)
    }
}

/// An `Option<usize>` index into one of the table's lists: `u32::MAX` is none.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct OptIndex(u32);

impl OptIndex {
    /// No index.
    pub const NONE: OptIndex = OptIndex(u32::MAX);

    /// Index `i` (below `u32::MAX`; the lists are far shorter).
    pub const fn some(i: u32) -> Self {
        OptIndex(i)
    }

    /// The index, if any.
    pub const fn get(self) -> Option<usize> {
        if self.0 == u32::MAX {
            None
        } else {
            Some(self.0 as usize)
        }
    }
}

impl fmt::Debug for OptIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_block_reads_back_what_it_was_made_of() {
        static LIST: List<u32> = List::new(&[1, 2, 3]);
        assert_eq!(&*LIST, &[1, 2, 3]);
        let s = Str::new("counters.rodata");
        assert_eq!(&*s, "counters.rodata");
        assert!(s == "counters.rodata");
        assert_eq!(CStrRef::new(c"GPL").as_c_str(), c"GPL");
        assert_eq!(OptIndex::some(7).get(), Some(7));
        assert_eq!(OptIndex::NONE.get(), None);
    }
}
