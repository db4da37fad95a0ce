//! The kernel's BPF UAPI facts, once: the values of `<linux/bpf.h>` and `<linux/btf.h>`
//! (Linux 6.12's, whose numbering every older kernel shares as a prefix) that the object
//! model, the macro, the module builder, the runtime and the tests use.
//!
//! Every value the kernel defines is written here once, as the constant of its C name;
//! the enums ([`Command`], [`MapType`], [`ProgType`], [`AttachType`], [`BtfKind`]) name
//! those constants rather than repeat their numbers, so that a reader can match on a
//! type and a table can still hold the plain `u32` the kernel takes.

#![no_std]

pub mod values;

/// Declares a `#[repr(u32)]` enum over already defined `u32` constants, with
/// `from_u32`, the C name of each value and the list of every value.
macro_rules! uapi_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $konst:ident,)* }) => {
        $(#[$meta])*
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant = $konst,)*
        }

        impl $name {
            /// Every value, in the kernel's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The value the kernel means by `value`, if this crate knows it.
            pub const fn from_u32(value: u32) -> Option<Self> {
                match value {
                    $($konst => Some(Self::$variant),)*
                    _ => None,
                }
            }

            /// The value as the kernel takes it.
            pub const fn as_u32(self) -> u32 {
                self as u32
            }

            /// The C name of the value, as `<linux/bpf.h>` or `<linux/btf.h>` spells it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($konst),)*
                }
            }
        }
    };
}

// ---------------------------------------------------------------------------
// enum bpf_cmd
// ---------------------------------------------------------------------------

pub const BPF_MAP_CREATE: u32 = 0;
pub const BPF_MAP_LOOKUP_ELEM: u32 = 1;
pub const BPF_MAP_UPDATE_ELEM: u32 = 2;
pub const BPF_MAP_DELETE_ELEM: u32 = 3;
pub const BPF_MAP_GET_NEXT_KEY: u32 = 4;
pub const BPF_PROG_LOAD: u32 = 5;
pub const BPF_OBJ_PIN: u32 = 6;
pub const BPF_OBJ_GET: u32 = 7;
pub const BPF_PROG_ATTACH: u32 = 8;
pub const BPF_PROG_DETACH: u32 = 9;
pub const BPF_PROG_TEST_RUN: u32 = 10;
pub const BPF_PROG_GET_NEXT_ID: u32 = 11;
pub const BPF_MAP_GET_NEXT_ID: u32 = 12;
pub const BPF_PROG_GET_FD_BY_ID: u32 = 13;
pub const BPF_MAP_GET_FD_BY_ID: u32 = 14;
pub const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
pub const BPF_PROG_QUERY: u32 = 16;
pub const BPF_RAW_TRACEPOINT_OPEN: u32 = 17;
pub const BPF_BTF_LOAD: u32 = 18;
pub const BPF_BTF_GET_FD_BY_ID: u32 = 19;
pub const BPF_TASK_FD_QUERY: u32 = 20;
pub const BPF_MAP_LOOKUP_AND_DELETE_ELEM: u32 = 21;
pub const BPF_MAP_FREEZE: u32 = 22;
pub const BPF_BTF_GET_NEXT_ID: u32 = 23;
pub const BPF_MAP_LOOKUP_BATCH: u32 = 24;
pub const BPF_MAP_LOOKUP_AND_DELETE_BATCH: u32 = 25;
pub const BPF_MAP_UPDATE_BATCH: u32 = 26;
pub const BPF_MAP_DELETE_BATCH: u32 = 27;
pub const BPF_LINK_CREATE: u32 = 28;
pub const BPF_LINK_UPDATE: u32 = 29;
pub const BPF_LINK_GET_FD_BY_ID: u32 = 30;
pub const BPF_LINK_GET_NEXT_ID: u32 = 31;
pub const BPF_ENABLE_STATS: u32 = 32;
pub const BPF_ITER_CREATE: u32 = 33;
pub const BPF_LINK_DETACH: u32 = 34;
pub const BPF_PROG_BIND_MAP: u32 = 35;

uapi_enum! {
    /// `enum bpf_cmd`: the first argument of bpf(2).
    Command {
        MapCreate = BPF_MAP_CREATE,
        MapLookupElem = BPF_MAP_LOOKUP_ELEM,
        MapUpdateElem = BPF_MAP_UPDATE_ELEM,
        MapDeleteElem = BPF_MAP_DELETE_ELEM,
        MapGetNextKey = BPF_MAP_GET_NEXT_KEY,
        ProgLoad = BPF_PROG_LOAD,
        ObjPin = BPF_OBJ_PIN,
        ObjGet = BPF_OBJ_GET,
        ProgAttach = BPF_PROG_ATTACH,
        ProgDetach = BPF_PROG_DETACH,
        ProgTestRun = BPF_PROG_TEST_RUN,
        ProgGetNextId = BPF_PROG_GET_NEXT_ID,
        MapGetNextId = BPF_MAP_GET_NEXT_ID,
        ProgGetFdById = BPF_PROG_GET_FD_BY_ID,
        MapGetFdById = BPF_MAP_GET_FD_BY_ID,
        ObjGetInfoByFd = BPF_OBJ_GET_INFO_BY_FD,
        ProgQuery = BPF_PROG_QUERY,
        RawTracepointOpen = BPF_RAW_TRACEPOINT_OPEN,
        BtfLoad = BPF_BTF_LOAD,
        BtfGetFdById = BPF_BTF_GET_FD_BY_ID,
        TaskFdQuery = BPF_TASK_FD_QUERY,
        MapLookupAndDeleteElem = BPF_MAP_LOOKUP_AND_DELETE_ELEM,
        MapFreeze = BPF_MAP_FREEZE,
        BtfGetNextId = BPF_BTF_GET_NEXT_ID,
        MapLookupBatch = BPF_MAP_LOOKUP_BATCH,
        MapLookupAndDeleteBatch = BPF_MAP_LOOKUP_AND_DELETE_BATCH,
        MapUpdateBatch = BPF_MAP_UPDATE_BATCH,
        MapDeleteBatch = BPF_MAP_DELETE_BATCH,
        LinkCreate = BPF_LINK_CREATE,
        LinkUpdate = BPF_LINK_UPDATE,
        LinkGetFdById = BPF_LINK_GET_FD_BY_ID,
        LinkGetNextId = BPF_LINK_GET_NEXT_ID,
        EnableStats = BPF_ENABLE_STATS,
        IterCreate = BPF_ITER_CREATE,
        LinkDetach = BPF_LINK_DETACH,
        ProgBindMap = BPF_PROG_BIND_MAP,
    }
}

// ---------------------------------------------------------------------------
// enum bpf_map_type
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
pub const BPF_MAP_TYPE_CGRP_STORAGE: u32 = 32;
pub const BPF_MAP_TYPE_ARENA: u32 = 33;

uapi_enum! {
    /// `enum bpf_map_type` (Linux 6.12). A kernel older than a type refuses the map at
    /// load time, with the map's name and the errno.
    MapType {
        Unspec = BPF_MAP_TYPE_UNSPEC,
        Hash = BPF_MAP_TYPE_HASH,
        Array = BPF_MAP_TYPE_ARRAY,
        ProgArray = BPF_MAP_TYPE_PROG_ARRAY,
        PerfEventArray = BPF_MAP_TYPE_PERF_EVENT_ARRAY,
        PercpuHash = BPF_MAP_TYPE_PERCPU_HASH,
        PercpuArray = BPF_MAP_TYPE_PERCPU_ARRAY,
        StackTrace = BPF_MAP_TYPE_STACK_TRACE,
        CgroupArray = BPF_MAP_TYPE_CGROUP_ARRAY,
        LruHash = BPF_MAP_TYPE_LRU_HASH,
        LruPercpuHash = BPF_MAP_TYPE_LRU_PERCPU_HASH,
        LpmTrie = BPF_MAP_TYPE_LPM_TRIE,
        ArrayOfMaps = BPF_MAP_TYPE_ARRAY_OF_MAPS,
        HashOfMaps = BPF_MAP_TYPE_HASH_OF_MAPS,
        Devmap = BPF_MAP_TYPE_DEVMAP,
        Sockmap = BPF_MAP_TYPE_SOCKMAP,
        Cpumap = BPF_MAP_TYPE_CPUMAP,
        Xskmap = BPF_MAP_TYPE_XSKMAP,
        Sockhash = BPF_MAP_TYPE_SOCKHASH,
        CgroupStorage = BPF_MAP_TYPE_CGROUP_STORAGE,
        ReuseportSockarray = BPF_MAP_TYPE_REUSEPORT_SOCKARRAY,
        PercpuCgroupStorage = BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
        Queue = BPF_MAP_TYPE_QUEUE,
        Stack = BPF_MAP_TYPE_STACK,
        SkStorage = BPF_MAP_TYPE_SK_STORAGE,
        DevmapHash = BPF_MAP_TYPE_DEVMAP_HASH,
        StructOps = BPF_MAP_TYPE_STRUCT_OPS,
        Ringbuf = BPF_MAP_TYPE_RINGBUF,
        InodeStorage = BPF_MAP_TYPE_INODE_STORAGE,
        TaskStorage = BPF_MAP_TYPE_TASK_STORAGE,
        BloomFilter = BPF_MAP_TYPE_BLOOM_FILTER,
        UserRingbuf = BPF_MAP_TYPE_USER_RINGBUF,
        CgrpStorage = BPF_MAP_TYPE_CGRP_STORAGE,
        Arena = BPF_MAP_TYPE_ARENA,
    }
}

// ---------------------------------------------------------------------------
// enum bpf_prog_type
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
pub const BPF_PROG_TYPE_NETFILTER: u32 = 32;

uapi_enum! {
    /// `enum bpf_prog_type` (Linux 6.12).
    ProgType {
        Unspec = BPF_PROG_TYPE_UNSPEC,
        SocketFilter = BPF_PROG_TYPE_SOCKET_FILTER,
        Kprobe = BPF_PROG_TYPE_KPROBE,
        SchedCls = BPF_PROG_TYPE_SCHED_CLS,
        SchedAct = BPF_PROG_TYPE_SCHED_ACT,
        Tracepoint = BPF_PROG_TYPE_TRACEPOINT,
        Xdp = BPF_PROG_TYPE_XDP,
        PerfEvent = BPF_PROG_TYPE_PERF_EVENT,
        CgroupSkb = BPF_PROG_TYPE_CGROUP_SKB,
        CgroupSock = BPF_PROG_TYPE_CGROUP_SOCK,
        LwtIn = BPF_PROG_TYPE_LWT_IN,
        LwtOut = BPF_PROG_TYPE_LWT_OUT,
        LwtXmit = BPF_PROG_TYPE_LWT_XMIT,
        SockOps = BPF_PROG_TYPE_SOCK_OPS,
        SkSkb = BPF_PROG_TYPE_SK_SKB,
        CgroupDevice = BPF_PROG_TYPE_CGROUP_DEVICE,
        SkMsg = BPF_PROG_TYPE_SK_MSG,
        RawTracepoint = BPF_PROG_TYPE_RAW_TRACEPOINT,
        CgroupSockAddr = BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        LwtSeg6local = BPF_PROG_TYPE_LWT_SEG6LOCAL,
        LircMode2 = BPF_PROG_TYPE_LIRC_MODE2,
        SkReuseport = BPF_PROG_TYPE_SK_REUSEPORT,
        FlowDissector = BPF_PROG_TYPE_FLOW_DISSECTOR,
        CgroupSysctl = BPF_PROG_TYPE_CGROUP_SYSCTL,
        RawTracepointWritable = BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
        CgroupSockopt = BPF_PROG_TYPE_CGROUP_SOCKOPT,
        Tracing = BPF_PROG_TYPE_TRACING,
        StructOps = BPF_PROG_TYPE_STRUCT_OPS,
        Ext = BPF_PROG_TYPE_EXT,
        Lsm = BPF_PROG_TYPE_LSM,
        SkLookup = BPF_PROG_TYPE_SK_LOOKUP,
        Syscall = BPF_PROG_TYPE_SYSCALL,
        Netfilter = BPF_PROG_TYPE_NETFILTER,
    }
}

// ---------------------------------------------------------------------------
// enum bpf_attach_type
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

uapi_enum! {
    /// `enum bpf_attach_type` (Linux 6.12, up to `BPF_TRACE_KPROBE_SESSION`).
    AttachType {
        CgroupInetIngress = BPF_CGROUP_INET_INGRESS,
        CgroupInetEgress = BPF_CGROUP_INET_EGRESS,
        CgroupInetSockCreate = BPF_CGROUP_INET_SOCK_CREATE,
        CgroupSockOps = BPF_CGROUP_SOCK_OPS,
        SkSkbStreamParser = BPF_SK_SKB_STREAM_PARSER,
        SkSkbStreamVerdict = BPF_SK_SKB_STREAM_VERDICT,
        CgroupDevice = BPF_CGROUP_DEVICE,
        SkMsgVerdict = BPF_SK_MSG_VERDICT,
        CgroupInet4Bind = BPF_CGROUP_INET4_BIND,
        CgroupInet6Bind = BPF_CGROUP_INET6_BIND,
        CgroupInet4Connect = BPF_CGROUP_INET4_CONNECT,
        CgroupInet6Connect = BPF_CGROUP_INET6_CONNECT,
        CgroupInet4PostBind = BPF_CGROUP_INET4_POST_BIND,
        CgroupInet6PostBind = BPF_CGROUP_INET6_POST_BIND,
        CgroupUdp4Sendmsg = BPF_CGROUP_UDP4_SENDMSG,
        CgroupUdp6Sendmsg = BPF_CGROUP_UDP6_SENDMSG,
        LircMode2 = BPF_LIRC_MODE2,
        FlowDissector = BPF_FLOW_DISSECTOR,
        CgroupSysctl = BPF_CGROUP_SYSCTL,
        CgroupUdp4Recvmsg = BPF_CGROUP_UDP4_RECVMSG,
        CgroupUdp6Recvmsg = BPF_CGROUP_UDP6_RECVMSG,
        CgroupGetsockopt = BPF_CGROUP_GETSOCKOPT,
        CgroupSetsockopt = BPF_CGROUP_SETSOCKOPT,
        TraceRawTp = BPF_TRACE_RAW_TP,
        TraceFentry = BPF_TRACE_FENTRY,
        TraceFexit = BPF_TRACE_FEXIT,
        ModifyReturn = BPF_MODIFY_RETURN,
        LsmMac = BPF_LSM_MAC,
        TraceIter = BPF_TRACE_ITER,
        CgroupInet4Getpeername = BPF_CGROUP_INET4_GETPEERNAME,
        CgroupInet6Getpeername = BPF_CGROUP_INET6_GETPEERNAME,
        CgroupInet4Getsockname = BPF_CGROUP_INET4_GETSOCKNAME,
        CgroupInet6Getsockname = BPF_CGROUP_INET6_GETSOCKNAME,
        XdpDevmap = BPF_XDP_DEVMAP,
        CgroupInetSockRelease = BPF_CGROUP_INET_SOCK_RELEASE,
        XdpCpumap = BPF_XDP_CPUMAP,
        SkLookup = BPF_SK_LOOKUP,
        Xdp = BPF_XDP,
        SkSkbVerdict = BPF_SK_SKB_VERDICT,
        SkReuseportSelect = BPF_SK_REUSEPORT_SELECT,
        SkReuseportSelectOrMigrate = BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
        PerfEvent = BPF_PERF_EVENT,
        TraceKprobeMulti = BPF_TRACE_KPROBE_MULTI,
        LsmCgroup = BPF_LSM_CGROUP,
        StructOps = BPF_STRUCT_OPS,
        Netfilter = BPF_NETFILTER,
        TcxIngress = BPF_TCX_INGRESS,
        TcxEgress = BPF_TCX_EGRESS,
        TraceUprobeMulti = BPF_TRACE_UPROBE_MULTI,
        CgroupUnixConnect = BPF_CGROUP_UNIX_CONNECT,
        CgroupUnixSendmsg = BPF_CGROUP_UNIX_SENDMSG,
        CgroupUnixRecvmsg = BPF_CGROUP_UNIX_RECVMSG,
        CgroupUnixGetpeername = BPF_CGROUP_UNIX_GETPEERNAME,
        CgroupUnixGetsockname = BPF_CGROUP_UNIX_GETSOCKNAME,
        NetkitPrimary = BPF_NETKIT_PRIMARY,
        NetkitPeer = BPF_NETKIT_PEER,
        TraceKprobeSession = BPF_TRACE_KPROBE_SESSION,
    }
}

// ---------------------------------------------------------------------------
// Map and program flags, map update flags
// ---------------------------------------------------------------------------

/// `map_flags`: hash maps allocate their elements on update.
pub const BPF_F_NO_PREALLOC: u32 = 1 << 0;
/// `map_flags`: LRU maps keep one LRU list per CPU.
pub const BPF_F_NO_COMMON_LRU: u32 = 1 << 1;
/// `map_flags`: the map is created on `numa_node`.
pub const BPF_F_NUMA_NODE: u32 = 1 << 2;
/// `map_flags`: user space may only read the map.
pub const BPF_F_RDONLY: u32 = 1 << 3;
/// `map_flags`: user space may only write the map.
pub const BPF_F_WRONLY: u32 = 1 << 4;
/// `map_flags`: a stack trace map stores build ids.
pub const BPF_F_STACK_BUILD_ID: u32 = 1 << 5;
/// `map_flags`: the hash seed is zero (for tests).
pub const BPF_F_ZERO_SEED: u32 = 1 << 6;
/// `map_flags`: programs may only read the map.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `map_flags`: programs may only write the map.
pub const BPF_F_WRONLY_PROG: u32 = 1 << 8;
/// `map_flags`: a local storage map is cloned with its socket.
pub const BPF_F_CLONE: u32 = 1 << 9;
/// `map_flags`: user space may mmap the map (array maps, `.data`/`.bss`).
pub const BPF_F_MMAPABLE: u32 = 1 << 10;
/// `map_flags`: a perf event array keeps its events when its fd closes.
pub const BPF_F_PRESERVE_ELEMS: u32 = 1 << 11;
/// `map_flags`: an inner map whose size may differ from its template's.
pub const BPF_F_INNER_MAP: u32 = 1 << 12;
/// `map_flags`: a struct_ops map registered through a link.
pub const BPF_F_LINK: u32 = 1 << 13;
/// `BPF_OBJ_PIN` and `BPF_OBJ_GET` flag: the path is relative to `path_fd`.
pub const BPF_F_PATH_FD: u32 = 1 << 14;
/// `map_flags`: `value_type_btf_obj_fd` names the BTF object of the value type.
pub const BPF_F_VTYPE_BTF_OBJ_FD: u32 = 1 << 15;
/// `map_flags`: the command carries a BPF token fd.
pub const BPF_F_TOKEN_FD: u32 = 1 << 16;
/// `map_flags`: an arena faults with SIGSEGV instead of reading zeroes.
pub const BPF_F_SEGV_ON_FAULT: u32 = 1 << 17;
/// `map_flags`: an arena's user addresses are not converted.
pub const BPF_F_NO_USER_CONV: u32 = 1 << 18;

/// `prog_flags`: the verifier checks strict alignment.
pub const BPF_F_STRICT_ALIGNMENT: u32 = 1 << 0;
/// `prog_flags`: the verifier allows any alignment.
pub const BPF_F_ANY_ALIGNMENT: u32 = 1 << 1;
/// `prog_flags`: the verifier randomises the upper halves of 32-bit results (tests).
pub const BPF_F_TEST_RND_HI32: u32 = 1 << 2;
/// `prog_flags`: the verifier's state pruning is tested.
pub const BPF_F_TEST_STATE_FREQ: u32 = 1 << 3;
/// `prog_flags`: the program may sleep.
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `prog_flags`: an XDP program that handles multi-buffer packets.
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;
/// `prog_flags`: an XDP program bound to a device for its kfuncs only.
pub const BPF_F_XDP_DEV_BOUND_ONLY: u32 = 1 << 6;

/// `BPF_MAP_UPDATE_ELEM` flags: create or update.
pub const BPF_ANY: u64 = 0;
/// `BPF_MAP_UPDATE_ELEM` flags: create only.
pub const BPF_NOEXIST: u64 = 1;
/// `BPF_MAP_UPDATE_ELEM` flags: update only.
pub const BPF_EXIST: u64 = 2;

/// Length of map and program names, NUL included.
pub const BPF_OBJ_NAME_LEN: usize = 16;
/// Length of a program tag.
pub const BPF_TAG_SIZE: usize = 8;

// ---------------------------------------------------------------------------
// Instructions
// ---------------------------------------------------------------------------

/// Instruction class: load from an immediate or a packet.
pub const BPF_LD: u8 = 0x00;
/// Instruction class: load from memory into a register.
pub const BPF_LDX: u8 = 0x01;
/// Instruction class: store an immediate.
pub const BPF_ST: u8 = 0x02;
/// Instruction class: store a register.
pub const BPF_STX: u8 = 0x03;
/// Instruction class: 32-bit arithmetic.
pub const BPF_ALU: u8 = 0x04;
/// Instruction class: 64-bit jumps, calls and exit.
pub const BPF_JMP: u8 = 0x05;
/// Instruction class: 32-bit jumps.
pub const BPF_JMP32: u8 = 0x06;
/// Instruction class: 64-bit arithmetic.
pub const BPF_ALU64: u8 = 0x07;
/// The bits of the opcode that hold the class.
pub const BPF_CLASS_MASK: u8 = 0x07;

/// Size field: 32 bits.
pub const BPF_W: u8 = 0x00;
/// Size field: 16 bits.
pub const BPF_H: u8 = 0x08;
/// Size field: 8 bits.
pub const BPF_B: u8 = 0x10;
/// Size field: 64 bits.
pub const BPF_DW: u8 = 0x18;

/// Mode field: an immediate.
pub const BPF_IMM: u8 = 0x00;
/// Mode field: memory at a register plus an offset.
pub const BPF_MEM: u8 = 0x60;

/// Source field: the immediate.
pub const BPF_K: u8 = 0x00;
/// Source field: the source register.
pub const BPF_X: u8 = 0x08;

/// Arithmetic operation: add.
pub const BPF_ADD: u8 = 0x00;
/// Arithmetic operation: move.
pub const BPF_MOV: u8 = 0xb0;
/// Jump operation: jump if equal.
pub const BPF_JEQ: u8 = 0x10;
/// Jump operation: call a helper, a kfunc or a subprogram.
pub const BPF_CALL: u8 = 0x80;
/// Jump operation: return from the program or subprogram.
pub const BPF_EXIT: u8 = 0x90;

/// The opcode of `ld_imm64` (`BPF_LD | BPF_IMM | BPF_DW`), two instructions long.
pub const BPF_LD_IMM64: u8 = BPF_LD | BPF_IMM | BPF_DW;
/// The opcode of `call` (`BPF_JMP | BPF_CALL`).
pub const BPF_JMP_CALL: u8 = BPF_JMP | BPF_CALL;
/// The opcode of `exit` (`BPF_JMP | BPF_EXIT`).
pub const BPF_JMP_EXIT: u8 = BPF_JMP | BPF_EXIT;

/// `ld_imm64` src_reg: imm is a map fd.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
/// `ld_imm64` src_reg: imm is a map fd, second imm an offset into its value.
pub const BPF_PSEUDO_MAP_VALUE: u8 = 2;
/// `ld_imm64` src_reg: a kernel variable's BTF id, its module BTF fd in the second half.
pub const BPF_PSEUDO_BTF_ID: u8 = 3;
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

/// Size of one `struct bpf_insn`.
pub const BPF_INSN_SIZE: usize = 8;
/// Size of one `struct bpf_func_info` (the smallest record `.BTF.ext` may use).
pub const BPF_FUNC_INFO_SIZE: usize = 8;
/// Size of one `struct bpf_line_info`.
pub const BPF_LINE_INFO_SIZE: usize = 16;
/// Size of one `struct bpf_core_relo`.
pub const BPF_CORE_RELO_SIZE: usize = 16;
/// The largest CO-RE relocation kind (`BPF_CORE_TYPE_MATCHES`).
pub const BPF_CORE_RELO_KIND_MAX: u32 = 12;

/// The helper that finds a type in the kernel's BTF (`enum bpf_func_id`).
#[allow(non_upper_case_globals, reason = "the UAPI's own name")]
pub const BPF_FUNC_btf_find_by_name_kind: i32 = 167;
/// `long bpf_kallsyms_lookup_name(const char *name, int name_sz, int flags, u64 *res)`.
#[allow(non_upper_case_globals, reason = "the UAPI's own name")]
pub const BPF_FUNC_kallsyms_lookup_name: i32 = 179;

// ---------------------------------------------------------------------------
// BTF (<linux/btf.h>)
// ---------------------------------------------------------------------------

pub const BTF_KIND_UNKN: u32 = 0;
pub const BTF_KIND_INT: u32 = 1;
pub const BTF_KIND_PTR: u32 = 2;
pub const BTF_KIND_ARRAY: u32 = 3;
pub const BTF_KIND_STRUCT: u32 = 4;
pub const BTF_KIND_UNION: u32 = 5;
pub const BTF_KIND_ENUM: u32 = 6;
pub const BTF_KIND_FWD: u32 = 7;
pub const BTF_KIND_TYPEDEF: u32 = 8;
pub const BTF_KIND_VOLATILE: u32 = 9;
pub const BTF_KIND_CONST: u32 = 10;
pub const BTF_KIND_RESTRICT: u32 = 11;
pub const BTF_KIND_FUNC: u32 = 12;
pub const BTF_KIND_FUNC_PROTO: u32 = 13;
pub const BTF_KIND_VAR: u32 = 14;
pub const BTF_KIND_DATASEC: u32 = 15;
pub const BTF_KIND_FLOAT: u32 = 16;
pub const BTF_KIND_DECL_TAG: u32 = 17;
pub const BTF_KIND_TYPE_TAG: u32 = 18;
pub const BTF_KIND_ENUM64: u32 = 19;

uapi_enum! {
    /// The kind of a BTF type, bits 24 to 28 of `btf_type.info`.
    BtfKind {
        Unkn = BTF_KIND_UNKN,
        Int = BTF_KIND_INT,
        Ptr = BTF_KIND_PTR,
        Array = BTF_KIND_ARRAY,
        Struct = BTF_KIND_STRUCT,
        Union = BTF_KIND_UNION,
        Enum = BTF_KIND_ENUM,
        Fwd = BTF_KIND_FWD,
        Typedef = BTF_KIND_TYPEDEF,
        Volatile = BTF_KIND_VOLATILE,
        Const = BTF_KIND_CONST,
        Restrict = BTF_KIND_RESTRICT,
        Func = BTF_KIND_FUNC,
        FuncProto = BTF_KIND_FUNC_PROTO,
        Var = BTF_KIND_VAR,
        Datasec = BTF_KIND_DATASEC,
        Float = BTF_KIND_FLOAT,
        DeclTag = BTF_KIND_DECL_TAG,
        TypeTag = BTF_KIND_TYPE_TAG,
        Enum64 = BTF_KIND_ENUM64,
    }
}

/// The first two bytes of raw BTF and of `.BTF.ext`, little-endian.
pub const BTF_MAGIC: u16 = 0xeb9f;
/// The only BTF version.
pub const BTF_VERSION: u8 = 1;
/// Length of `struct btf_header`.
pub const BTF_HEADER_LEN: usize = 24;
/// Length of `struct btf_type`, the common part of every type record.
pub const BTF_TYPE_LEN: usize = 12;
/// Length of `struct btf_ext_header` up to `line_info_len`; from 32 bytes on it also
/// has `core_relo_off` and `core_relo_len`.
pub const BTF_EXT_HEADER_LEN: usize = 24;
/// Length of `struct btf_ext_header` with the CO-RE relocation section.
pub const BTF_EXT_HEADER_CORE_LEN: usize = 32;

/// `BTF_INFO_KIND(info)`: the kind bits of `btf_type.info`.
pub const fn btf_info_kind(info: u32) -> u32 {
    (info >> 24) & 0x1f
}

/// `BTF_INFO_VLEN(info)`: the member, parameter or entry count of `btf_type.info`.
pub const fn btf_info_vlen(info: u32) -> u16 {
    (info & 0xffff) as u16
}

/// `BTF_INFO_KFLAG(info)`: the kind flag of `btf_type.info`.
pub const fn btf_info_kflag(info: u32) -> bool {
    info >> 31 != 0
}

/// `BTF_INT_ENCODING(val)` of the word after an `INT` type.
pub const fn btf_int_encoding(val: u32) -> u32 {
    (val & 0x0f00_0000) >> 24
}

/// `BTF_INT_ENCODING` bit: a signed integer.
pub const BTF_INT_SIGNED: u32 = 1 << 0;
/// `BTF_INT_ENCODING` bit: a `char`.
pub const BTF_INT_CHAR: u32 = 1 << 1;
/// `BTF_INT_ENCODING` bit: a `bool`.
pub const BTF_INT_BOOL: u32 = 1 << 2;

/// Linkage of a `VAR`: static.
pub const BTF_VAR_STATIC: u32 = 0;
/// Linkage of a `VAR`: a global the object defines.
pub const BTF_VAR_GLOBAL_ALLOCATED: u32 = 1;
/// Linkage of a `VAR`: an extern the loader resolves.
pub const BTF_VAR_GLOBAL_EXTERN: u32 = 2;

/// Linkage of a `FUNC`: static.
pub const BTF_FUNC_STATIC: u32 = 0;
/// Linkage of a `FUNC`: global, verified on its own.
pub const BTF_FUNC_GLOBAL: u32 = 1;
/// Linkage of a `FUNC`: an extern (a kfunc).
pub const BTF_FUNC_EXTERN: u32 = 2;

/// Bytes that follow the 12-byte `struct btf_type` for a type of `kind` with `vlen`
/// members, parameters or entries: the one size table of every raw-BTF reader here.
/// `None` for a kind the kernel does not define, whose records cannot be skipped.
/// `vlen` is 16 bits wide, so the products cannot overflow.
pub const fn btf_type_extra_len(kind: u32, vlen: u16) -> Option<usize> {
    let vlen = vlen as usize;
    match kind {
        // One `u32`: an INT's encoding, a VAR's linkage, a DECL_TAG's component index.
        BTF_KIND_INT | BTF_KIND_VAR | BTF_KIND_DECL_TAG => Some(4),
        // `struct btf_array`.
        BTF_KIND_ARRAY => Some(12),
        // `struct btf_member`, `struct btf_var_secinfo`, `struct btf_enum64`.
        BTF_KIND_STRUCT | BTF_KIND_UNION | BTF_KIND_DATASEC | BTF_KIND_ENUM64 => Some(vlen * 12),
        // `struct btf_enum`, `struct btf_param`.
        BTF_KIND_ENUM | BTF_KIND_FUNC_PROTO => Some(vlen * 8),
        BTF_KIND_PTR | BTF_KIND_FWD | BTF_KIND_TYPEDEF | BTF_KIND_VOLATILE | BTF_KIND_CONST
        | BTF_KIND_RESTRICT | BTF_KIND_FUNC | BTF_KIND_FLOAT | BTF_KIND_TYPE_TAG => Some(0),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// ELF and perf events
// ---------------------------------------------------------------------------

/// `e_machine` of a BPF ELF object.
pub const EM_BPF: u16 = 247;

/// `perf_event_attr.type` of a tracepoint event.
pub const PERF_TYPE_TRACEPOINT: u32 = 2;
/// perf_event_open(2) flag: the new fd is close-on-exec.
pub const PERF_FLAG_FD_CLOEXEC: u64 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_and_name_their_constants() {
        for &t in MapType::ALL {
            assert_eq!(MapType::from_u32(t.as_u32()), Some(t));
        }
        assert_eq!(MapType::ALL.len(), BPF_MAP_TYPE_ARENA as usize + 1);
        assert_eq!(ProgType::ALL.len(), BPF_PROG_TYPE_NETFILTER as usize + 1);
        assert_eq!(AttachType::ALL.len(), BPF_TRACE_KPROBE_SESSION as usize + 1);
        assert_eq!(Command::ALL.len(), BPF_PROG_BIND_MAP as usize + 1);
        assert_eq!(BtfKind::ALL.len(), BTF_KIND_ENUM64 as usize + 1);
        assert_eq!(MapType::Hash.name(), "BPF_MAP_TYPE_HASH");
        assert_eq!(AttachType::TraceIter.name(), "BPF_TRACE_ITER");
        assert_eq!(ProgType::from_u32(BPF_PROG_TYPE_NETFILTER + 1), None);
        assert_eq!(BPF_LD_IMM64, 0x18);
        assert_eq!(BPF_JMP_CALL, 0x85);
        assert_eq!(BPF_JMP_EXIT, 0x95);
    }

    #[test]
    fn btf_info_bits() {
        let info = (1 << 31) | (BTF_KIND_STRUCT << 24) | 3;
        assert_eq!(btf_info_kind(info), BTF_KIND_STRUCT);
        assert_eq!(btf_info_vlen(info), 3);
        assert!(btf_info_kflag(info));
        assert_eq!(btf_type_extra_len(BTF_KIND_STRUCT, 3), Some(36));
        assert_eq!(btf_type_extra_len(BTF_KIND_ENUM64 + 1, 0), None);
    }
}
