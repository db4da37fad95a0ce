//! What `BPF_OBJ_GET_INFO_BY_FD` fills: the full 6.1 info structs of programs, maps
//! and links.

use super::{read_union, write_union, BPF_OBJ_NAME_LEN, BPF_TAG_SIZE};

// ---------------------------------------------------------------------------
// BPF_OBJ_GET_INFO_BY_FD results (full 6.1 structs)
// ---------------------------------------------------------------------------

/// `struct bpf_prog_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgInfo {
    pub type_: u32,
    pub id: u32,
    pub tag: [u8; BPF_TAG_SIZE],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub jited_prog_insns: u64,
    pub xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub map_ids: u64,
    pub name: [u8; BPF_OBJ_NAME_LEN],
    pub ifindex: u32,
    /// Bitfield word: bit 0 is `gpl_compatible`; see [`Self::gpl_compatible`].
    pub gpl_compatible: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub nr_jited_ksyms: u32,
    pub nr_jited_func_lens: u32,
    pub jited_ksyms: u64,
    pub jited_func_lens: u64,
    pub btf_id: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub nr_func_info: u32,
    pub nr_line_info: u32,
    pub line_info: u64,
    pub jited_line_info: u64,
    pub nr_jited_line_info: u32,
    pub line_info_rec_size: u32,
    pub jited_line_info_rec_size: u32,
    pub nr_prog_tags: u32,
    pub prog_tags: u64,
    pub run_time_ns: u64,
    pub run_cnt: u64,
    pub recursion_misses: u64,
    pub verified_insns: u32,
    pub attach_btf_obj_id: u32,
    pub attach_btf_id: u32,
    pub pad: u32,
}

impl ProgInfo {
    /// The `gpl_compatible:1` bit.
    pub fn gpl_compatible(&self) -> bool {
        #[cfg(target_endian = "little")]
        let bit = 1;
        #[cfg(target_endian = "big")]
        let bit = 1 << 31;
        self.gpl_compatible & bit != 0
    }
}

/// `struct bpf_btf_info`: a BTF object's bytes (into `btf`, `btf_size` long) and id.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BtfInfo {
    pub btf: u64,
    pub btf_size: u32,
    pub id: u32,
    pub name: u64,
    pub name_len: u32,
    pub kernel_btf: u32,
}

/// `struct bpf_map_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapInfo {
    pub type_: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; BPF_OBJ_NAME_LEN],
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub pad: u32,
    pub map_extra: u64,
}

/// `struct bpf_link_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfo {
    pub type_: u32,
    pub id: u32,
    pub prog_id: u32,
    pub pad: u32,
    /// The link-type specific union (6.1: 32 bytes); read it through
    /// [`Self::raw_tracepoint`], [`Self::tracing`] or [`Self::iter`].
    pub u: [u64; 4],
}

/// `bpf_link_info.raw_tracepoint`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoRawTracepoint {
    /// In: pointer to a buffer for the name.
    pub tp_name: u64,
    /// In: buffer size; out: name length including the NUL.
    pub tp_name_len: u32,
    pub pad: u32,
}

/// `bpf_link_info.tracing`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoTracing {
    pub attach_type: u32,
    /// Program id for `BPF_PROG_TYPE_EXT`, otherwise BTF object id.
    pub target_obj_id: u32,
    pub target_btf_id: u32,
}

/// `bpf_link_info.iter` (with its `map.map_id` member).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoIter {
    /// In: pointer to a buffer for the target name.
    pub target_name: u64,
    /// In: buffer size; out: name length including the NUL.
    pub target_name_len: u32,
    pub map_id: u32,
    /// The iter-specific second union (`cgroup`, `task`).
    pub extra: [u64; 2],
}

impl LinkInfo {
    /// The union as `raw_tracepoint` (`BPF_LINK_TYPE_RAW_TRACEPOINT`).
    pub fn raw_tracepoint(&self) -> LinkInfoRawTracepoint {
        read_union(&self.u)
    }

    /// Sets the union's `raw_tracepoint` (to ask for the name).
    pub fn set_raw_tracepoint(&mut self, v: LinkInfoRawTracepoint) {
        self.u = [0; 4];
        write_union(&mut self.u, v);
    }

    /// The union as `tracing` (`BPF_LINK_TYPE_TRACING`).
    pub fn tracing(&self) -> LinkInfoTracing {
        read_union(&self.u)
    }

    /// The union as `iter` (`BPF_LINK_TYPE_ITER`).
    pub fn iter(&self) -> LinkInfoIter {
        read_union(&self.u)
    }

    /// Sets the union's `iter` (to ask for the target name).
    pub fn set_iter(&mut self, v: LinkInfoIter) {
        self.u = [0; 4];
        write_union(&mut self.u, v);
    }
}
