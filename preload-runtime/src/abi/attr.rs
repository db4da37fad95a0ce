//! The members of `union bpf_attr` this crate passes, one struct per command family,
//! and [`Attr`], any one of them in a buffer as large as the largest.

use core::mem::size_of;

use super::{read_union, write_union, Pod, BPF_OBJ_NAME_LEN};

// ---------------------------------------------------------------------------
// union bpf_attr members, one struct per command family
// ---------------------------------------------------------------------------

/// A struct that may be passed to bpf(2) as `attr`, with `size_of::<Self>()`
/// as the size argument.
///
/// # Safety
///
/// Implementors are `#[repr(C)]`, have no implicit padding (every byte is
/// initialised) and lay their fields out as a prefix of `union bpf_attr`.
pub unsafe trait BpfAttr: Copy + Default {
    /// The size to pass as bpf(2)'s third argument.
    const SIZE: u32 = size_of::<Self>() as u32;
}

/// `BPF_MAP_CREATE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapCreateAttr {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: u32,
    pub numa_node: u32,
    pub map_name: [u8; BPF_OBJ_NAME_LEN],
    pub map_ifindex: u32,
    pub btf_fd: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub map_extra: u64,
}

/// `BPF_MAP_LOOKUP_ELEM` and `BPF_MAP_UPDATE_ELEM`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapElemAttr {
    pub map_fd: u32,
    pub pad: u32,
    /// Pointer to the key.
    pub key: u64,
    /// Pointer to the value (or `next_key`).
    pub value: u64,
    /// `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`.
    pub flags: u64,
}

/// `BPF_MAP_FREEZE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapFreezeAttr {
    pub map_fd: u32,
}

/// `BPF_PROG_LOAD`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgLoadAttr {
    pub prog_type: u32,
    pub insn_cnt: u32,
    /// Pointer to `[BpfInsn; insn_cnt]`.
    pub insns: u64,
    /// Pointer to a NUL-terminated license string.
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; BPF_OBJ_NAME_LEN],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf_fd: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub func_info_cnt: u32,
    pub line_info_rec_size: u32,
    pub line_info: u64,
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
    /// Union with `attach_prog_fd`.
    pub attach_btf_obj_fd: u32,
    pub core_relo_cnt: u32,
    /// Pointer to `[i32]`, indexed by `BPF_PSEUDO_MAP_IDX*`.
    pub fd_array: u64,
    pub core_relos: u64,
    pub core_relo_rec_size: u32,
    /// Tail padding (`log_true_size` from 6.4 on; leave zero).
    pub pad: u32,
}

/// `BPF_OBJ_PIN` and `BPF_OBJ_GET`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjPinAttr {
    /// Pointer to a NUL-terminated bpffs path.
    pub pathname: u64,
    pub bpf_fd: u32,
    pub file_flags: u32,
}

/// `BPF_BTF_LOAD`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BtfLoadAttr {
    pub btf: u64,
    pub btf_log_buf: u64,
    pub btf_size: u32,
    pub btf_log_size: u32,
    pub btf_log_level: u32,
    /// Tail padding (`btf_log_true_size` from 6.4 on; leave zero).
    pub pad: u32,
}

/// `BPF_RAW_TRACEPOINT_OPEN`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawTracepointOpenAttr {
    /// Pointer to a NUL-terminated tracepoint name, or 0.
    pub name: u64,
    pub prog_fd: u32,
    pub pad: u32,
}

/// `BPF_LINK_CREATE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct LinkCreateAttr {
    pub prog_fd: u32,
    /// Union with `target_ifindex`.
    pub target_fd: u32,
    pub attach_type: u32,
    pub flags: u32,
    /// Attach-type specific part; see the setters.
    pub u: LinkCreateUnion,
}

/// The attach-type specific union of `link_create`, sized as in 6.1 (32 bytes, the
/// size of its `kprobe_multi` member).
///
/// Not a Rust `union`: one with public fields can be built from safe code with a
/// 4-byte variant and 28 uninitialised bytes, which a `Debug` impl or bpf(2) (which
/// reads every byte) would then read. Its words are private and always initialised;
/// it is written through [`LinkCreateAttr`]'s setters, which zero the rest, and read
/// through the getters below.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCreateUnion {
    raw: [u64; 4],
}

/// `link_create.{iter_info, iter_info_len}`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCreateIter {
    /// Pointer to a `union bpf_iter_link_info`.
    pub iter_info: u64,
    pub iter_info_len: u32,
    pub pad: u32,
}

/// `link_create.perf_event`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCreatePerfEvent {
    pub bpf_cookie: u64,
}

impl LinkCreateUnion {
    /// All zero, as `Default`.
    pub const fn zeroed() -> Self {
        Self { raw: [0; 4] }
    }

    /// The union's words, as the kernel reads them.
    pub const fn raw(&self) -> [u64; 4] {
        self.raw
    }

    /// The union as `target_btf_id`.
    pub fn target_btf_id(&self) -> u32 {
        read_union(&self.raw)
    }

    /// The union as `iter_info`/`iter_info_len`.
    pub fn iter(&self) -> LinkCreateIter {
        read_union(&self.raw)
    }

    /// The union as `perf_event`.
    pub fn perf_event(&self) -> LinkCreatePerfEvent {
        read_union(&self.raw)
    }

    /// `v` at the front of a zeroed union.
    fn with<T: Pod>(v: T) -> Self {
        let mut u = Self::zeroed();
        write_union(&mut u.raw, v);
        u
    }
}

impl LinkCreateAttr {
    /// Sets `target_btf_id` (fentry/fexit/fmod_ret/lsm/ext), zeroing the rest
    /// of the union.
    pub fn set_target_btf_id(&mut self, id: u32) {
        self.u = LinkCreateUnion::with(id);
    }

    /// Sets `iter_info`/`iter_info_len` (`BPF_TRACE_ITER`), zeroing the rest of
    /// the union.
    pub fn set_iter_info(&mut self, iter_info: u64, iter_info_len: u32) {
        self.u = LinkCreateUnion::with(LinkCreateIter {
            iter_info,
            iter_info_len,
            pad: 0,
        });
    }

    /// Sets `perf_event.bpf_cookie`, zeroing the rest of the union.
    pub fn set_perf_event_cookie(&mut self, bpf_cookie: u64) {
        self.u = LinkCreateUnion::with(LinkCreatePerfEvent { bpf_cookie });
    }
}

/// `BPF_PROG_TEST_RUN`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgTestRunAttr {
    pub prog_fd: u32,
    pub retval: u32,
    pub data_size_in: u32,
    pub data_size_out: u32,
    pub data_in: u64,
    pub data_out: u64,
    pub repeat: u32,
    pub duration: u32,
    pub ctx_size_in: u32,
    pub ctx_size_out: u32,
    /// Pointer to the context; a syscall program's writes to it are copied back.
    pub ctx_in: u64,
    pub ctx_out: u64,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
    pub pad: u32,
}

/// `BPF_PROG_BIND_MAP`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgBindMapAttr {
    pub prog_fd: u32,
    pub map_fd: u32,
    /// None defined; must be 0.
    pub flags: u32,
}

/// `BPF_{PROG,MAP,BTF,LINK}_GET_FD_BY_ID`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GetFdByIdAttr {
    /// `prog_id`, `map_id`, `btf_id` or `link_id` (a union in C).
    pub id: u32,
    pub next_id: u32,
    pub open_flags: u32,
}

/// `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InfoByFdAttr {
    pub bpf_fd: u32,
    /// In: size of the buffer at `info`; out: bytes the kernel filled.
    pub info_len: u32,
    /// Pointer to a [`ProgInfo`], [`MapInfo`] or [`LinkInfo`].
    pub info: u64,
}

// SAFETY: repr(C), padding-free and a prefix of `union bpf_attr` (checked by
// tests/abi_layout.rs), as each below.
unsafe impl BpfAttr for MapCreateAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for MapElemAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for MapFreezeAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for ProgLoadAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for ObjPinAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for BtfLoadAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for RawTracepointOpenAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for LinkCreateAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for GetFdByIdAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for InfoByFdAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for ProgTestRunAttr {}
// SAFETY: as for `MapCreateAttr`.
unsafe impl BpfAttr for ProgBindMapAttr {}

/// Any of the attr structs above, in one zero-initialised buffer as large as
/// the largest of them (C's `union bpf_attr`, cut to what this crate uses).
///
/// Not a Rust `union`, for the reason given at [`LinkCreateUnion`]: it is built
/// only zeroed or from one attr struct (the rest stays zero) and read as its words,
/// so every byte of it is always initialised.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr {
    raw: [u64; ATTR_WORDS],
}

/// The size of [`Attr`] in `u64`s: that of the largest attr struct.
const ATTR_WORDS: usize = size_of::<ProgLoadAttr>() / 8;

impl Default for Attr {
    fn default() -> Self {
        Self::zeroed()
    }
}

impl Attr {
    /// All zero.
    pub const fn zeroed() -> Self {
        Self {
            raw: [0; ATTR_WORDS],
        }
    }

    /// The words, as the kernel reads them.
    pub const fn raw(&self) -> &[u64; ATTR_WORDS] {
        &self.raw
    }

    /// `attr` at the front, the rest zero.
    fn with<A: BpfAttr>(attr: A) -> Self {
        const {
            assert!(size_of::<A>() <= size_of::<Self>());
            assert!(core::mem::align_of::<A>() <= core::mem::align_of::<Self>());
        };
        let mut out = Self::zeroed();
        // SAFETY: in bounds and aligned (asserted above); `A: BpfAttr` has no
        // implicit padding, so the bytes written are all initialised, as are the
        // zeroed ones after them.
        unsafe { out.raw.as_mut_ptr().cast::<A>().write(attr) };
        out
    }
}

macro_rules! attr_from {
    ($($ty:ty),* $(,)?) => {$(
        impl From<$ty> for Attr {
            fn from(v: $ty) -> Self {
                Self::with(v)
            }
        }
    )*};
}

attr_from! {
    MapCreateAttr,
    MapElemAttr,
    MapFreezeAttr,
    ProgLoadAttr,
    ObjPinAttr,
    BtfLoadAttr,
    RawTracepointOpenAttr,
    LinkCreateAttr,
    GetFdByIdAttr,
    InfoByFdAttr,
    ProgBindMapAttr,
}

// SAFETY: repr(C), one array of integers (no padding); each attr struct it is made
// from is a prefix of `union bpf_attr`, and the zeroes after it are the rest.
unsafe impl BpfAttr for Attr {}
