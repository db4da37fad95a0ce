//! bpf(2) ABI: the parts of `<linux/bpf.h>` this crate uses.
//!
//! Layouts are those of Linux 6.1, which are prefixes of every later kernel's
//! (up to 6.18). All structs are `#[repr(C)]`, have no implicit padding (C's
//! holes are explicit `pad` fields) and derive a zeroed `Default`, so they can
//! be handed to the kernel as bytes. C's unions are structs over private words
//! ([`LinkCreateUnion`], [`Attr`], `LinkInfo::u`) read and written through typed
//! accessors, so that safe code can never leave or read an uninitialised byte.
//! `tests/abi_layout.rs` checks every offset and size against the system header.

use core::mem::size_of;

// ---------------------------------------------------------------------------
// enum bpf_cmd (only the commands used)
// ---------------------------------------------------------------------------

pub const BPF_MAP_CREATE: u32 = 0;
pub const BPF_MAP_LOOKUP_ELEM: u32 = 1;
pub const BPF_MAP_UPDATE_ELEM: u32 = 2;
pub const BPF_MAP_DELETE_ELEM: u32 = 3;
pub const BPF_PROG_LOAD: u32 = 5;
pub const BPF_OBJ_PIN: u32 = 6;
pub const BPF_OBJ_GET: u32 = 7;
pub const BPF_PROG_TEST_RUN: u32 = 10;
pub const BPF_PROG_GET_NEXT_ID: u32 = 11;
pub const BPF_MAP_GET_NEXT_ID: u32 = 12;
pub const BPF_PROG_GET_FD_BY_ID: u32 = 13;
pub const BPF_MAP_GET_FD_BY_ID: u32 = 14;
pub const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
pub const BPF_RAW_TRACEPOINT_OPEN: u32 = 17;
pub const BPF_BTF_LOAD: u32 = 18;
pub const BPF_BTF_GET_FD_BY_ID: u32 = 19;
pub const BPF_MAP_FREEZE: u32 = 22;
pub const BPF_LINK_CREATE: u32 = 28;
pub const BPF_LINK_GET_FD_BY_ID: u32 = 30;
pub const BPF_LINK_GET_NEXT_ID: u32 = 31;
pub const BPF_BTF_GET_NEXT_ID: u32 = 23;

// ---------------------------------------------------------------------------
// Instruction src_reg markers, flags, BTF kinds, array lengths
// ---------------------------------------------------------------------------

/// `ld_imm64` src_reg: imm is a map fd.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
/// `ld_imm64` src_reg: imm is a map fd, second imm an offset into its value.
pub const BPF_PSEUDO_MAP_VALUE: u8 = 2;
/// `ld_imm64` src_reg: imm is a subprogram (pc-relative).
pub const BPF_PSEUDO_FUNC: u8 = 4;
/// `ld_imm64` src_reg: imm is an index into `fd_array`.
pub const BPF_PSEUDO_MAP_IDX: u8 = 5;
/// `ld_imm64` src_reg: like [`BPF_PSEUDO_MAP_IDX`], plus a value offset.
pub const BPF_PSEUDO_MAP_IDX_VALUE: u8 = 6;
/// `call` src_reg: imm is a pc-relative subprogram call.
pub const BPF_PSEUDO_CALL: u8 = 1;
/// `call` src_reg: a kfunc, `imm` its BTF id, `off` its module BTF's `fd_array` index.
pub const BPF_PSEUDO_KFUNC_CALL: u8 = 2;
/// `ld_imm64` src_reg: a kernel variable's BTF id, its module BTF fd in the second half.
pub const BPF_PSEUDO_BTF_ID: u8 = 3;
/// The opcode of `call` (`BPF_JMP | BPF_CALL`).
pub const BPF_JMP_CALL: u8 = 0x85;
/// The opcode of `ld_imm64` (`BPF_LD | BPF_IMM | BPF_DW`), two instructions long.
pub const BPF_LD_IMM64: u8 = 0x18;

/// `ProgLoadAttr::prog_flags`: the program may sleep.
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `map_flags`: user space may mmap the map (array maps, `.data`/`.bss`).
pub const BPF_F_MMAPABLE: u32 = 1 << 10;
/// `MapCreateAttr::map_flags`: a struct_ops map registered through a link.
pub const BPF_F_LINK: u32 = 1 << 13;
/// `prog_flags`: an XDP program that handles multi-buffer packets.
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;
/// `MapElemAttr::flags` for `BPF_MAP_UPDATE_ELEM`: create or update.
pub const BPF_ANY: u64 = 0;

/// `<linux/btf.h>` kind of a function.
pub const BTF_KIND_FUNC: u32 = 12;
/// `<linux/btf.h>` kind of a typedef.
pub const BTF_KIND_TYPEDEF: u32 = 8;
/// `BTF_KIND_INT`.
pub const BTF_KIND_INT: u32 = 1;
/// `BTF_KIND_PTR`.
pub const BTF_KIND_PTR: u32 = 2;
/// `BTF_KIND_ARRAY`.
pub const BTF_KIND_ARRAY: u32 = 3;
/// `BTF_KIND_STRUCT`.
pub const BTF_KIND_STRUCT: u32 = 4;
/// `BTF_KIND_FUNC_PROTO`.
pub const BTF_KIND_FUNC_PROTO: u32 = 13;
/// `BTF_KIND_VAR`: a typed kernel variable (`__ksym`).
pub const BTF_KIND_VAR: u32 = 14;

/// Length of map and program names, NUL included.
pub const BPF_OBJ_NAME_LEN: usize = 16;
/// Length of a program tag.
pub const BPF_TAG_SIZE: usize = 8;

// ---------------------------------------------------------------------------
// enum bpf_prog_type (6.1)
// ---------------------------------------------------------------------------

pub const BPF_PROG_TYPE_UNSPEC: u32 = 0;
pub const BPF_PROG_TYPE_SOCKET_FILTER: u32 = 1;
pub const BPF_PROG_TYPE_KPROBE: u32 = 2;
pub const BPF_PROG_TYPE_SCHED_CLS: u32 = 3;
pub const BPF_PROG_TYPE_SCHED_ACT: u32 = 4;
pub const BPF_PROG_TYPE_TRACEPOINT: u32 = 5;
pub const BPF_PROG_TYPE_XDP: u32 = 6;
pub const BPF_PROG_TYPE_PERF_EVENT: u32 = 7;
pub const BPF_PROG_TYPE_CGROUP_SKB: u32 = 8;
pub const BPF_PROG_TYPE_CGROUP_SOCK: u32 = 9;
pub const BPF_PROG_TYPE_LWT_IN: u32 = 10;
pub const BPF_PROG_TYPE_LWT_OUT: u32 = 11;
pub const BPF_PROG_TYPE_LWT_XMIT: u32 = 12;
pub const BPF_PROG_TYPE_SOCK_OPS: u32 = 13;
pub const BPF_PROG_TYPE_SK_SKB: u32 = 14;
pub const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
pub const BPF_PROG_TYPE_SK_MSG: u32 = 16;
pub const BPF_PROG_TYPE_RAW_TRACEPOINT: u32 = 17;
pub const BPF_PROG_TYPE_CGROUP_SOCK_ADDR: u32 = 18;
pub const BPF_PROG_TYPE_LWT_SEG6LOCAL: u32 = 19;
pub const BPF_PROG_TYPE_LIRC_MODE2: u32 = 20;
pub const BPF_PROG_TYPE_SK_REUSEPORT: u32 = 21;
pub const BPF_PROG_TYPE_FLOW_DISSECTOR: u32 = 22;
pub const BPF_PROG_TYPE_CGROUP_SYSCTL: u32 = 23;
pub const BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: u32 = 24;
pub const BPF_PROG_TYPE_CGROUP_SOCKOPT: u32 = 25;
pub const BPF_PROG_TYPE_TRACING: u32 = 26;
pub const BPF_PROG_TYPE_STRUCT_OPS: u32 = 27;
pub const BPF_PROG_TYPE_EXT: u32 = 28;
pub const BPF_PROG_TYPE_LSM: u32 = 29;
pub const BPF_PROG_TYPE_SK_LOOKUP: u32 = 30;
pub const BPF_PROG_TYPE_SYSCALL: u32 = 31;
// Newer than 6.1 (Linux 6.12's UAPI): a kernel without them refuses the load.
pub const BPF_PROG_TYPE_NETFILTER: u32 = 32;

// ---------------------------------------------------------------------------
// enum bpf_map_type (6.1)
// ---------------------------------------------------------------------------

pub const BPF_MAP_TYPE_UNSPEC: u32 = 0;
pub const BPF_MAP_TYPE_HASH: u32 = 1;
pub const BPF_MAP_TYPE_ARRAY: u32 = 2;
pub const BPF_MAP_TYPE_PROG_ARRAY: u32 = 3;
pub const BPF_MAP_TYPE_PERF_EVENT_ARRAY: u32 = 4;
pub const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
pub const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
pub const BPF_MAP_TYPE_STACK_TRACE: u32 = 7;
pub const BPF_MAP_TYPE_CGROUP_ARRAY: u32 = 8;
pub const BPF_MAP_TYPE_LRU_HASH: u32 = 9;
pub const BPF_MAP_TYPE_LRU_PERCPU_HASH: u32 = 10;
pub const BPF_MAP_TYPE_LPM_TRIE: u32 = 11;
pub const BPF_MAP_TYPE_ARRAY_OF_MAPS: u32 = 12;
pub const BPF_MAP_TYPE_HASH_OF_MAPS: u32 = 13;
pub const BPF_MAP_TYPE_DEVMAP: u32 = 14;
pub const BPF_MAP_TYPE_SOCKMAP: u32 = 15;
pub const BPF_MAP_TYPE_CPUMAP: u32 = 16;
pub const BPF_MAP_TYPE_XSKMAP: u32 = 17;
pub const BPF_MAP_TYPE_SOCKHASH: u32 = 18;
pub const BPF_MAP_TYPE_CGROUP_STORAGE: u32 = 19;
pub const BPF_MAP_TYPE_REUSEPORT_SOCKARRAY: u32 = 20;
pub const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: u32 = 21;
pub const BPF_MAP_TYPE_QUEUE: u32 = 22;
pub const BPF_MAP_TYPE_STACK: u32 = 23;
pub const BPF_MAP_TYPE_SK_STORAGE: u32 = 24;
pub const BPF_MAP_TYPE_DEVMAP_HASH: u32 = 25;
pub const BPF_MAP_TYPE_STRUCT_OPS: u32 = 26;
pub const BPF_MAP_TYPE_RINGBUF: u32 = 27;
pub const BPF_MAP_TYPE_INODE_STORAGE: u32 = 28;
pub const BPF_MAP_TYPE_TASK_STORAGE: u32 = 29;
pub const BPF_MAP_TYPE_BLOOM_FILTER: u32 = 30;
pub const BPF_MAP_TYPE_USER_RINGBUF: u32 = 31;
// Newer than 6.1 (Linux 6.12's UAPI).
pub const BPF_MAP_TYPE_CGRP_STORAGE: u32 = 32;
pub const BPF_MAP_TYPE_ARENA: u32 = 33;

// ---------------------------------------------------------------------------
// enum bpf_attach_type (6.1, up to BPF_TRACE_KPROBE_MULTI)
// ---------------------------------------------------------------------------

pub const BPF_CGROUP_INET_INGRESS: u32 = 0;
pub const BPF_CGROUP_INET_EGRESS: u32 = 1;
pub const BPF_CGROUP_INET_SOCK_CREATE: u32 = 2;
pub const BPF_CGROUP_SOCK_OPS: u32 = 3;
pub const BPF_SK_SKB_STREAM_PARSER: u32 = 4;
pub const BPF_SK_SKB_STREAM_VERDICT: u32 = 5;
pub const BPF_CGROUP_DEVICE: u32 = 6;
pub const BPF_SK_MSG_VERDICT: u32 = 7;
pub const BPF_CGROUP_INET4_BIND: u32 = 8;
pub const BPF_CGROUP_INET6_BIND: u32 = 9;
pub const BPF_CGROUP_INET4_CONNECT: u32 = 10;
pub const BPF_CGROUP_INET6_CONNECT: u32 = 11;
pub const BPF_CGROUP_INET4_POST_BIND: u32 = 12;
pub const BPF_CGROUP_INET6_POST_BIND: u32 = 13;
pub const BPF_CGROUP_UDP4_SENDMSG: u32 = 14;
pub const BPF_CGROUP_UDP6_SENDMSG: u32 = 15;
pub const BPF_LIRC_MODE2: u32 = 16;
pub const BPF_FLOW_DISSECTOR: u32 = 17;
pub const BPF_CGROUP_SYSCTL: u32 = 18;
pub const BPF_CGROUP_UDP4_RECVMSG: u32 = 19;
pub const BPF_CGROUP_UDP6_RECVMSG: u32 = 20;
pub const BPF_CGROUP_GETSOCKOPT: u32 = 21;
pub const BPF_CGROUP_SETSOCKOPT: u32 = 22;
pub const BPF_TRACE_RAW_TP: u32 = 23;
pub const BPF_TRACE_FENTRY: u32 = 24;
pub const BPF_TRACE_FEXIT: u32 = 25;
pub const BPF_MODIFY_RETURN: u32 = 26;
pub const BPF_LSM_MAC: u32 = 27;
pub const BPF_TRACE_ITER: u32 = 28;
pub const BPF_CGROUP_INET4_GETPEERNAME: u32 = 29;
pub const BPF_CGROUP_INET6_GETPEERNAME: u32 = 30;
pub const BPF_CGROUP_INET4_GETSOCKNAME: u32 = 31;
pub const BPF_CGROUP_INET6_GETSOCKNAME: u32 = 32;
pub const BPF_XDP_DEVMAP: u32 = 33;
pub const BPF_CGROUP_INET_SOCK_RELEASE: u32 = 34;
pub const BPF_XDP_CPUMAP: u32 = 35;
pub const BPF_SK_LOOKUP: u32 = 36;
pub const BPF_XDP: u32 = 37;
pub const BPF_SK_SKB_VERDICT: u32 = 38;
pub const BPF_SK_REUSEPORT_SELECT: u32 = 39;
pub const BPF_SK_REUSEPORT_SELECT_OR_MIGRATE: u32 = 40;
pub const BPF_PERF_EVENT: u32 = 41;
pub const BPF_TRACE_KPROBE_MULTI: u32 = 42;
pub const BPF_LSM_CGROUP: u32 = 43;
// Newer than 6.1 (Linux 6.12's UAPI).
pub const BPF_STRUCT_OPS: u32 = 44;
pub const BPF_NETFILTER: u32 = 45;
pub const BPF_TCX_INGRESS: u32 = 46;
pub const BPF_TCX_EGRESS: u32 = 47;
pub const BPF_TRACE_UPROBE_MULTI: u32 = 48;
pub const BPF_CGROUP_UNIX_CONNECT: u32 = 49;
pub const BPF_CGROUP_UNIX_SENDMSG: u32 = 50;
pub const BPF_CGROUP_UNIX_RECVMSG: u32 = 51;
pub const BPF_CGROUP_UNIX_GETPEERNAME: u32 = 52;
pub const BPF_CGROUP_UNIX_GETSOCKNAME: u32 = 53;
pub const BPF_NETKIT_PRIMARY: u32 = 54;
pub const BPF_NETKIT_PEER: u32 = 55;
pub const BPF_TRACE_KPROBE_SESSION: u32 = 56;

/// The helper that finds a type in the kernel's BTF (`enum bpf_func_id`).
#[allow(non_upper_case_globals, reason = "the UAPI's own name")]
pub const BPF_FUNC_btf_find_by_name_kind: i32 = 167;
/// `long bpf_kallsyms_lookup_name(const char *name, int name_sz, int flags, u64 *res)`.
#[allow(non_upper_case_globals, reason = "the UAPI's own name")]
pub const BPF_FUNC_kallsyms_lookup_name: i32 = 179;

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
}

// SAFETY: repr(C), one array of integers (no padding); each attr struct it is made
// from is a prefix of `union bpf_attr`, and the zeroes after it are the rest.
unsafe impl BpfAttr for Attr {}

// ---------------------------------------------------------------------------
// BPF_OBJ_GET_INFO_BY_FD results (full 6.1 structs)
// ---------------------------------------------------------------------------

/// A kernel UAPI struct that the kernel may fill with any bytes: what
/// `BPF_OBJ_GET_INFO_BY_FD` writes into, what a union member is read as.
///
/// # Safety
///
/// Implementors are `#[repr(C)]`, made only of integers and arrays of integers (so
/// every bit pattern is a valid value), and have no implicit padding.
pub unsafe trait Pod: Copy + Default {}

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

// SAFETY: each is repr(C), integers and integer arrays only, without implicit
// padding (explicit `pad` fields; sizes checked above the layout test and by
// tests/abi_layout.rs against the header).
unsafe impl Pod for ProgInfo {}
// SAFETY: as for `ProgInfo`.
unsafe impl Pod for MapInfo {}
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
