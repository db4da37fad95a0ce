//! bpf(2) ABI: the runtime's own layouts of `<linux/bpf.h>`, over the kernel's values.
//!
//! The values (commands, map, program and attach types, flags, opcodes, BTF kinds)
//! are the kernel's UAPI facts, kept once in `bpf-preload-uapi` and re-exported here,
//! so that generated tables can keep naming them `::bpf_preload::abi::*`. What is
//! this crate's own is the structs: `attr` holds the members of `union bpf_attr`, one
//! struct per command family, and `info` what `BPF_OBJ_GET_INFO_BY_FD` fills.
//!
//! Layouts are those of Linux 6.1, which are prefixes of every later kernel's
//! (up to 6.18). All structs are `#[repr(C)]`, have no implicit padding (C's
//! holes are explicit `pad` fields) and derive a zeroed `Default`, so they can
//! be handed to the kernel as bytes. C's unions are structs over private words
//! ([`LinkCreateUnion`], [`Attr`], `LinkInfo::u`) read and written through typed
//! accessors, so that safe code can never leave or read an uninitialised byte.
//! `tests/abi_layout.rs` checks every offset and size against the system header.

use core::mem::size_of;

pub use bpf_preload_uapi::*;

mod attr;
mod info;

pub use attr::*;
pub use info::*;

/// A kernel UAPI struct that the kernel may fill with any bytes: what
/// `BPF_OBJ_GET_INFO_BY_FD` writes into, what a union member is read as.
///
/// # Safety
///
/// Implementors are `#[repr(C)]`, made only of integers and arrays of integers (so
/// every bit pattern is a valid value), and have no implicit padding.
pub unsafe trait Pod: Copy + Default {}

// SAFETY: each is repr(C), integers and integer arrays only, without implicit
// padding (explicit `pad` fields; sizes checked above the layout test and by
// tests/abi_layout.rs against the header).
unsafe impl Pod for ProgInfo {}
// SAFETY: as for `ProgInfo`.
unsafe impl Pod for MapInfo {}
// SAFETY: as for `ProgInfo`: u64, u32, u32, u64, u32, u32.
unsafe impl Pod for BtfInfo {}
// SAFETY: as for `ProgInfo`.
unsafe impl Pod for LinkInfo {}
// SAFETY: as for `ProgInfo`.
unsafe impl Pod for LinkInfoRawTracepoint {}
// SAFETY: as for `ProgInfo`; 12 bytes of u32, no tail padding.
unsafe impl Pod for LinkInfoTracing {}
// SAFETY: as for `ProgInfo`.
unsafe impl Pod for LinkInfoIter {}
// SAFETY: as for `ProgInfo`: u8, u8, i16, i32, in that order.
unsafe impl Pod for BpfInsn {}
// SAFETY: as for `ProgInfo`: u64, u32, u32.
unsafe impl Pod for LinkCreateIter {}
// SAFETY: as for `ProgInfo`: one u64.
unsafe impl Pod for LinkCreatePerfEvent {}
// SAFETY: an integer: any bit pattern is a value, and it has no padding.
unsafe impl Pod for u32 {}
// SAFETY: as for `u32`.
unsafe impl Pod for u64 {}

/// Reads a `T` from the front of a union's words (link info, link create).
fn read_union<T: Pod>(u: &[u64; 4]) -> T {
    const { assert!(size_of::<T>() <= size_of::<[u64; 4]>()) };
    // SAFETY: in bounds (asserted) and `u` is 8-aligned, as much as any integer
    // struct needs; `T: Pod` is valid for any bit pattern.
    unsafe { u.as_ptr().cast::<T>().read() }
}

/// Writes a `T` over the front of a union's words (link info, link create).
fn write_union<T: Pod>(u: &mut [u64; 4], v: T) {
    const { assert!(size_of::<T>() <= size_of::<[u64; 4]>()) };
    // SAFETY: in bounds and aligned, as in `read_union`; the union's words stay
    // integers whatever `T` writes, since `T` has no padding to leave uninitialised.
    unsafe { u.as_mut_ptr().cast::<T>().write(v) }
}

// ---------------------------------------------------------------------------
// struct bpf_insn
// ---------------------------------------------------------------------------

/// `struct bpf_insn`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u8,
    /// `dst_reg:4, src_reg:4` bitfields; use the accessors.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

impl BpfInsn {
    /// Builds an instruction; registers are truncated to 4 bits.
    pub const fn new(code: u8, dst_reg: u8, src_reg: u8, off: i16, imm: i32) -> Self {
        Self {
            code,
            regs: Self::pack(dst_reg, src_reg),
            off,
            imm,
        }
    }

    #[cfg(target_endian = "little")]
    const fn pack(dst: u8, src: u8) -> u8 {
        (dst & 0xf) | (src & 0xf) << 4
    }

    #[cfg(target_endian = "big")]
    const fn pack(dst: u8, src: u8) -> u8 {
        (dst & 0xf) << 4 | (src & 0xf)
    }

    pub const fn dst_reg(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs & 0xf
        } else {
            self.regs >> 4
        }
    }

    pub const fn src_reg(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs >> 4
        } else {
            self.regs & 0xf
        }
    }

    pub fn set_dst_reg(&mut self, r: u8) {
        self.regs = Self::pack(r, self.src_reg());
    }

    pub fn set_src_reg(&mut self, r: u8) {
        self.regs = Self::pack(self.dst_reg(), r);
    }
}

// Compile-time guard for the 6.1 sizes; tests/abi_layout.rs checks every
// field against the header.
const _: () = {
    assert!(size_of::<MapCreateAttr>() == 72);
    assert!(size_of::<MapElemAttr>() == 32);
    assert!(size_of::<MapFreezeAttr>() == 4);
    assert!(size_of::<ProgLoadAttr>() == 144);
    assert!(size_of::<ObjPinAttr>() == 16);
    assert!(size_of::<BtfLoadAttr>() == 32);
    assert!(size_of::<RawTracepointOpenAttr>() == 16);
    assert!(size_of::<LinkCreateAttr>() == 48);
    assert!(size_of::<GetFdByIdAttr>() == 12);
    assert!(size_of::<InfoByFdAttr>() == 16);
    assert!(size_of::<Attr>() == 144);
    assert!(size_of::<ProgInfo>() == 232);
    assert!(size_of::<MapInfo>() == 88);
    assert!(size_of::<LinkInfo>() == 48);
    assert!(size_of::<BpfInsn>() == 8);
};
