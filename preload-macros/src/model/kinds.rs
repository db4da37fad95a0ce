//! What names in the object mean: program sections (type, attach type, how and where
//! the program can be attached), map types, licenses and GPL-only helpers.

/// What a section name says about a program: its types and how it attaches.
#[derive(Debug, Clone)]
pub struct ProgramKind {
    /// `BPF_PROG_TYPE_*` constant name.
    pub prog_type: &'static str,
    /// `BPF_*` attach type constant name, if any.
    pub expected_attach_type: Option<&'static str>,
    /// Name and kind (`BTF_KIND_FUNC`/`BTF_KIND_TYPEDEF`) in the kernel's BTF.
    pub attach_btf: Option<(String, &'static str)>,
    pub attach: Attach,
}

/// Who attaches a program, and how.
#[derive(Debug, Clone)]
pub enum Attach {
    /// The loader attaches it, in a module and from user space alike.
    Anywhere(AttachModel),
    /// Only the user-space backend can attach it; `why` a module cannot.
    UserSpaceOnly { how: AttachModel, why: &'static str },
    /// bpf-preload cannot attach it (`why`): the attribute must say `no_attach(...)`,
    /// and something else attaches the loaded program.
    Manually { why: &'static str },
    /// Nothing to attach: loaded only (a socket filter is attached by whoever opens
    /// the socket).
    Nothing,
}

impl Attach {
    pub fn model(&self) -> Option<&AttachModel> {
        match self {
            Attach::Anywhere(how) | Attach::UserSpaceOnly { how, .. } => Some(how),
            Attach::Manually { .. } | Attach::Nothing => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum AttachModel {
    LinkCreate,
    RawTracepoint(Option<String>),
    Tracepoint { category: String, name: String },
}

/// Section prefixes the loader supports, for error messages.
pub const SUPPORTED_SECTIONS: &str = "iter/, iter.s/, tp_btf/, fentry/, fentry.s/, \
     fexit/, fexit.s/, lsm/ and lsm.s/ (attached anywhere); raw_tp/, raw_tracepoint/, \
     tracepoint/ and tp/ (attached from user space only); socket (loaded only); and, loaded \
     only with `no_attach(...)`: kprobe/, kretprobe/, uprobe(.s)/, uretprobe(.s)/, \
     xdp[/devmap|/cpumap], classifier, perf_event, sockops, sk_msg, \
     sk_skb/{stream_parser,stream_verdict}, flow_dissector, sk_lookup, \
     cgroup_skb/{ingress,egress} and cgroup/{skb,sock,sock_create,sock_release,post_bind4,\
     post_bind6,bind4,bind6,connect4,connect6,sendmsg4,sendmsg6,recvmsg4,recvmsg6,\
     getpeername4,getpeername6,getsockname4,getsockname6,sysctl,getsockopt,setsockopt,dev}";

const PERF_EVENT_OPEN: &str =
    "it is attached through a perf event, which only perf_event_open(2) in user space opens";
const RAW_TP_NAME: &str = "BPF_RAW_TRACEPOINT_OPEN copies the tracepoint's name from user \
     memory (strncpy_from_user), which a module does not have; `tp_btf/<name>` attaches to the \
     same tracepoint from anywhere";
const NETWORK_DEVICE: &str = "it attaches to a network device, chosen when it is attached";
const CGROUP: &str = "it attaches to a cgroup, given as an open cgroup directory";
const SOCKMAP: &str = "it attaches to a sockmap or sockhash map filled at run time";
const NETNS: &str = "it attaches to a network namespace, given as an open namespace file";

/// A program bpf-preload loads but leaves for someone else to attach.
fn manual(
    prog_type: &'static str,
    attach_type: Option<&'static str>,
    why: &'static str,
) -> ProgramKind {
    ProgramKind {
        prog_type,
        expected_attach_type: attach_type,
        attach_btf: None,
        attach: Attach::Manually { why },
    }
}

/// Classifies a program by its ELF section name, as libbpf does. The sections accepted
/// here are all accepted by aya-obj 0.3 too (it refuses, among others, `tc`,
/// `struct_ops`, `syscall`, `fmod_ret`, `xdp.frags/...`).
pub fn classify(section: &str) -> Result<(ProgramKind, bool), String> {
    let (prefix, target) = section.split_once('/').unwrap_or((section, ""));
    let sleepable = prefix.ends_with(".s");
    let base = prefix.strip_suffix(".s").unwrap_or(prefix);
    let need_target = |what: &str| -> Result<String, String> {
        if target.is_empty() {
            Err(format!(
                "section `{section}` names no {what}: write `{prefix}/<{what}>`"
            ))
        } else {
            Ok(target.to_string())
        }
    };
    let tracing = |attach: &'static str, btf: String, kind: &'static str, how| ProgramKind {
        prog_type: "BPF_PROG_TYPE_TRACING",
        expected_attach_type: Some(attach),
        attach_btf: Some((btf, kind)),
        attach: Attach::Anywhere(how),
    };
    let unsupported = || {
        Err(format!(
            "program section `{section}` is not supported; supported sections: \
             {SUPPORTED_SECTIONS}"
        ))
    };
    let kind = match (base, sleepable) {
        ("iter", _) => tracing(
            "BPF_TRACE_ITER",
            format!("bpf_iter_{}", need_target("iterator target")?),
            "BTF_KIND_FUNC",
            AttachModel::LinkCreate,
        ),
        ("tp_btf", false) => tracing(
            "BPF_TRACE_RAW_TP",
            format!("btf_trace_{}", need_target("tracepoint")?),
            "BTF_KIND_TYPEDEF",
            AttachModel::RawTracepoint(None),
        ),
        ("fentry", _) => tracing(
            "BPF_TRACE_FENTRY",
            need_target("kernel function")?,
            "BTF_KIND_FUNC",
            AttachModel::LinkCreate,
        ),
        ("fexit", _) => tracing(
            "BPF_TRACE_FEXIT",
            need_target("kernel function")?,
            "BTF_KIND_FUNC",
            AttachModel::LinkCreate,
        ),
        ("lsm", _) => ProgramKind {
            prog_type: "BPF_PROG_TYPE_LSM",
            expected_attach_type: Some("BPF_LSM_MAC"),
            attach_btf: Some((
                format!("bpf_lsm_{}", need_target("LSM hook")?),
                "BTF_KIND_FUNC",
            )),
            attach: Attach::Anywhere(AttachModel::LinkCreate),
        },
        ("raw_tp" | "raw_tracepoint", false) => ProgramKind {
            prog_type: "BPF_PROG_TYPE_RAW_TRACEPOINT",
            expected_attach_type: None,
            attach_btf: None,
            attach: Attach::UserSpaceOnly {
                how: AttachModel::RawTracepoint(Some(need_target("tracepoint")?)),
                why: RAW_TP_NAME,
            },
        },
        ("tracepoint" | "tp", false) => {
            let target = need_target("category/name")?;
            let Some((category, name)) = target.split_once('/') else {
                return Err(format!(
                    "section `{section}`: a tracepoint section is `{base}/<category>/<name>`"
                ));
            };
            ProgramKind {
                prog_type: "BPF_PROG_TYPE_TRACEPOINT",
                expected_attach_type: None,
                attach_btf: None,
                attach: Attach::UserSpaceOnly {
                    how: AttachModel::Tracepoint {
                        category: category.to_string(),
                        name: name.to_string(),
                    },
                    why: PERF_EVENT_OPEN,
                },
            }
        }
        ("socket", false) => ProgramKind {
            prog_type: "BPF_PROG_TYPE_SOCKET_FILTER",
            expected_attach_type: None,
            attach_btf: None,
            attach: Attach::Nothing,
        },
        ("kprobe" | "kretprobe", false) => manual("BPF_PROG_TYPE_KPROBE", None, PERF_EVENT_OPEN),
        ("uprobe" | "uretprobe", _) => manual("BPF_PROG_TYPE_KPROBE", None, PERF_EVENT_OPEN),
        ("perf_event", false) if target.is_empty() => {
            manual("BPF_PROG_TYPE_PERF_EVENT", None, PERF_EVENT_OPEN)
        }
        ("xdp", false) => {
            let attach = match target {
                "" => "BPF_XDP",
                "devmap" => "BPF_XDP_DEVMAP",
                "cpumap" => "BPF_XDP_CPUMAP",
                _ => return unsupported(),
            };
            manual("BPF_PROG_TYPE_XDP", Some(attach), NETWORK_DEVICE)
        }
        ("classifier", false) => manual(
            "BPF_PROG_TYPE_SCHED_CLS",
            None,
            "it attaches to a network device's traffic control, through netlink",
        ),
        ("sockops", false) if target.is_empty() => manual(
            "BPF_PROG_TYPE_SOCK_OPS",
            Some("BPF_CGROUP_SOCK_OPS"),
            CGROUP,
        ),
        ("sk_msg", false) if target.is_empty() => {
            manual("BPF_PROG_TYPE_SK_MSG", Some("BPF_SK_MSG_VERDICT"), SOCKMAP)
        }
        ("sk_skb", false) => {
            let attach = match target {
                "stream_parser" => "BPF_SK_SKB_STREAM_PARSER",
                "stream_verdict" => "BPF_SK_SKB_STREAM_VERDICT",
                _ => return unsupported(),
            };
            manual("BPF_PROG_TYPE_SK_SKB", Some(attach), SOCKMAP)
        }
        ("flow_dissector", false) if target.is_empty() => manual(
            "BPF_PROG_TYPE_FLOW_DISSECTOR",
            Some("BPF_FLOW_DISSECTOR"),
            NETNS,
        ),
        ("sk_lookup", false) if target.is_empty() => {
            manual("BPF_PROG_TYPE_SK_LOOKUP", Some("BPF_SK_LOOKUP"), NETNS)
        }
        ("cgroup_skb", false) => {
            let attach = match target {
                "ingress" => "BPF_CGROUP_INET_INGRESS",
                "egress" => "BPF_CGROUP_INET_EGRESS",
                _ => return unsupported(),
            };
            manual("BPF_PROG_TYPE_CGROUP_SKB", Some(attach), CGROUP)
        }
        ("cgroup", false) => {
            let (prog_type, attach) = match target {
                "skb" => ("BPF_PROG_TYPE_CGROUP_SKB", None),
                "sock" | "sock_create" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK",
                    Some("BPF_CGROUP_INET_SOCK_CREATE"),
                ),
                "sock_release" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK",
                    Some("BPF_CGROUP_INET_SOCK_RELEASE"),
                ),
                "post_bind4" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK",
                    Some("BPF_CGROUP_INET4_POST_BIND"),
                ),
                "post_bind6" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK",
                    Some("BPF_CGROUP_INET6_POST_BIND"),
                ),
                "bind4" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_INET4_BIND"),
                ),
                "bind6" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_INET6_BIND"),
                ),
                "connect4" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_INET4_CONNECT"),
                ),
                "connect6" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_INET6_CONNECT"),
                ),
                "sendmsg4" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_UDP4_SENDMSG"),
                ),
                "sendmsg6" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_UDP6_SENDMSG"),
                ),
                "recvmsg4" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_UDP4_RECVMSG"),
                ),
                "recvmsg6" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_UDP6_RECVMSG"),
                ),
                "getpeername4" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_INET4_GETPEERNAME"),
                ),
                "getpeername6" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_INET6_GETPEERNAME"),
                ),
                "getsockname4" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_INET4_GETSOCKNAME"),
                ),
                "getsockname6" => (
                    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
                    Some("BPF_CGROUP_INET6_GETSOCKNAME"),
                ),
                "sysctl" => ("BPF_PROG_TYPE_CGROUP_SYSCTL", Some("BPF_CGROUP_SYSCTL")),
                "getsockopt" => (
                    "BPF_PROG_TYPE_CGROUP_SOCKOPT",
                    Some("BPF_CGROUP_GETSOCKOPT"),
                ),
                "setsockopt" => (
                    "BPF_PROG_TYPE_CGROUP_SOCKOPT",
                    Some("BPF_CGROUP_SETSOCKOPT"),
                ),
                "dev" => ("BPF_PROG_TYPE_CGROUP_DEVICE", Some("BPF_CGROUP_DEVICE")),
                _ => return unsupported(),
            };
            manual(prog_type, attach, CGROUP)
        }
        _ => return unsupported(),
    };
    Ok((kind, sleepable))
}

/// `BPF_MAP_TYPE_*` names by value (Linux 6.1's `enum bpf_map_type`): the types the
/// runtime's `abi` module names.
pub const MAP_TYPES: [&str; 32] = [
    "UNSPEC",
    "HASH",
    "ARRAY",
    "PROG_ARRAY",
    "PERF_EVENT_ARRAY",
    "PERCPU_HASH",
    "PERCPU_ARRAY",
    "STACK_TRACE",
    "CGROUP_ARRAY",
    "LRU_HASH",
    "LRU_PERCPU_HASH",
    "LPM_TRIE",
    "ARRAY_OF_MAPS",
    "HASH_OF_MAPS",
    "DEVMAP",
    "SOCKMAP",
    "CPUMAP",
    "XSKMAP",
    "SOCKHASH",
    "CGROUP_STORAGE",
    "REUSEPORT_SOCKARRAY",
    "PERCPU_CGROUP_STORAGE",
    "QUEUE",
    "STACK",
    "SK_STORAGE",
    "DEVMAP_HASH",
    "STRUCT_OPS",
    "RINGBUF",
    "INODE_STORAGE",
    "TASK_STORAGE",
    "BLOOM_FILTER",
    "USER_RINGBUF",
];

/// Map types newer than [`MAP_TYPES`], named in error messages.
const NEWER_MAP_TYPES: [&str; 3] = ["CGRP_STORAGE", "ARENA", "INSN_ARRAY"];

pub fn map_type_name(map_type: u32) -> String {
    match MAP_TYPES.get(map_type as usize).copied().or_else(|| {
        NEWER_MAP_TYPES
            .get((map_type as usize).wrapping_sub(MAP_TYPES.len()))
            .copied()
    }) {
        Some(name) => format!("BPF_MAP_TYPE_{name}"),
        None => format!("map type {map_type}"),
    }
}

/// `map_flags` bits (`BPF_F_*` in `<linux/bpf.h>`) and whether the table can carry
/// them: `Err(why)` for those it cannot.
const MAP_FLAGS: [(u32, &str, Result<(), &str>); 16] = [
    (1 << 0, "BPF_F_NO_PREALLOC", Ok(())),
    (1 << 1, "BPF_F_NO_COMMON_LRU", Ok(())),
    (
        1 << 2,
        "BPF_F_NUMA_NODE",
        Err("the table has no NUMA node to create the map on"),
    ),
    (1 << 3, "BPF_F_RDONLY", Ok(())),
    (1 << 4, "BPF_F_WRONLY", Ok(())),
    (1 << 5, "BPF_F_STACK_BUILD_ID", Ok(())),
    (1 << 6, "BPF_F_ZERO_SEED", Ok(())),
    (1 << 7, "BPF_F_RDONLY_PROG", Ok(())),
    (1 << 8, "BPF_F_WRONLY_PROG", Ok(())),
    (1 << 9, "BPF_F_CLONE", Ok(())),
    (1 << 10, "BPF_F_MMAPABLE", Ok(())),
    (1 << 11, "BPF_F_PRESERVE_ELEMS", Ok(())),
    (
        1 << 12,
        "BPF_F_INNER_MAP",
        Err("it marks the inner map of a map of maps, which the table cannot describe"),
    ),
    (
        1 << 13,
        "BPF_F_LINK",
        Err("it is for struct_ops maps, which the table cannot describe"),
    ),
    (
        1 << 14,
        "BPF_F_PATH_FD",
        Err("it is a flag of BPF_OBJ_PIN, not of a map"),
    ),
    (
        1 << 15,
        "BPF_F_VTYPE_BTF_OBJ_FD",
        Err("the table has no BTF object fd to pass"),
    ),
];

/// Why the loader cannot create a map of this type with these flags, if it cannot.
pub fn check_map(
    name: &str,
    map_type: u32,
    flags: u32,
    max_entries: u32,
    has_initial_value: bool,
    has_inner: bool,
) -> Result<(), String> {
    let type_name = map_type_name(map_type);
    match MAP_TYPES.get(map_type as usize) {
        None | Some(&"UNSPEC") => {
            return Err(format!(
                "map `{name}` has type {type_name}, which the loader cannot create: it knows \
                 the map types of Linux 6.1 (BPF_MAP_TYPE_HASH to BPF_MAP_TYPE_USER_RINGBUF)"
            ))
        }
        Some(&("ARRAY_OF_MAPS" | "HASH_OF_MAPS")) if has_inner => {
            return Err(format!(
                "map `{name}` is a map of maps ({type_name}), which the loader cannot create \
                 yet: the table has no inner map to create it from. Use separate maps"
            ))
        }
        Some(&("ARRAY_OF_MAPS" | "HASH_OF_MAPS")) => {
            return Err(format!(
                "map `{name}` is a map of maps ({type_name}) without its inner map definition: \
                 declare the inner map in the outer one, e.g. \
                 `__array(values, struct inner_map);` (maps of maps are not supported yet \
                 either way)"
            ))
        }
        Some(&"STRUCT_OPS") => {
            return Err(format!(
                "map `{name}` is a struct_ops map, which the loader cannot create: struct_ops \
                 are not supported"
            ))
        }
        Some(&"PERF_EVENT_ARRAY") if max_entries == 0 => {
            return Err(format!(
                "map `{name}` (BPF_MAP_TYPE_PERF_EVENT_ARRAY) has max_entries 0, which libbpf \
                 replaces with the number of CPUs at load time; the table is fixed at compile \
                 time: set `__uint(max_entries, N)` to at least the number of CPUs"
            ))
        }
        Some(&("RINGBUF" | "USER_RINGBUF"))
            if !max_entries.is_power_of_two() || max_entries < 4096 =>
        {
            return Err(format!(
                "map `{name}` ({type_name}) has max_entries {max_entries}: a ring buffer's size \
                 must be a power of two and a multiple of the page size (4096 on x86-64)"
            ))
        }
        Some(_) => {}
    }
    let known = MAP_FLAGS.iter().fold(0, |acc, (bit, _, _)| acc | bit);
    if flags & !known != 0 {
        return Err(format!(
            "map `{name}` has unknown map_flags bits {:#x}: the loader knows only BPF_F_* \
             flags up to BPF_F_VTYPE_BTF_OBJ_FD",
            flags & !known
        ));
    }
    for (bit, flag, ok) in MAP_FLAGS {
        if flags & bit == 0 {
            continue;
        }
        if let Err(why) = ok {
            return Err(format!(
                "map `{name}` has flag {flag}, which the loader cannot honour: {why}"
            ));
        }
        if flag == "BPF_F_RDONLY" && has_initial_value {
            return Err(format!(
                "map `{name}` has flag BPF_F_RDONLY, but the loader must write its initial \
                 value through the syscall: use BPF_F_RDONLY_PROG (read-only for programs) or \
                 drop the initial value"
            ));
        }
    }
    Ok(())
}

/// The kernel's `license_is_gpl_compatible()`.
pub fn license_is_gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL"
            | "GPL v2"
            | "GPL and additional rights"
            | "Dual BSD/GPL"
            | "Dual MIT/GPL"
            | "Dual MPL/GPL"
    )
}

/// Helpers the kernel lets only GPL-compatible programs call: `.gpl_only = true` in
/// every `bpf_func_proto` that Linux 6.1 and 6.12 return for the helper id.
pub const GPL_ONLY_HELPERS: [(i32, &str); 42] = [
    (4, "bpf_probe_read"),
    (6, "bpf_trace_printk"),
    (22, "bpf_perf_event_read"),
    (25, "bpf_perf_event_output"),
    (35, "bpf_get_current_task"),
    (36, "bpf_probe_write_user"),
    (45, "bpf_probe_read_str"),
    (55, "bpf_perf_event_read_value"),
    (56, "bpf_perf_prog_read_value"),
    (58, "bpf_override_return"),
    (67, "bpf_get_stack"),
    (69, "bpf_fib_lookup"),
    (77, "bpf_rc_repeat"),
    (78, "bpf_rc_keydown"),
    (92, "bpf_rc_pointer_rel"),
    (100, "bpf_tcp_check_syncookie"),
    (110, "bpf_tcp_gen_syncookie"),
    (111, "bpf_skb_output"),
    (112, "bpf_probe_read_user"),
    (113, "bpf_probe_read_kernel"),
    (114, "bpf_probe_read_user_str"),
    (115, "bpf_probe_read_kernel_str"),
    (119, "bpf_read_branch_records"),
    (121, "bpf_xdp_output"),
    (126, "bpf_seq_printf"),
    (127, "bpf_seq_write"),
    (150, "bpf_seq_printf_btf"),
    (158, "bpf_get_current_task_btf"),
    (163, "bpf_check_mtu"),
    (165, "bpf_snprintf"),
    (169, "bpf_timer_init"),
    (170, "bpf_timer_set_callback"),
    (171, "bpf_timer_start"),
    (172, "bpf_timer_cancel"),
    (175, "bpf_task_pt_regs"),
    (176, "bpf_get_branch_snapshot"),
    (177, "bpf_trace_vprintk"),
    (191, "bpf_copy_from_user_task"),
    (204, "bpf_tcp_raw_gen_syncookie_ipv4"),
    (205, "bpf_tcp_raw_gen_syncookie_ipv6"),
    (206, "bpf_tcp_raw_check_syncookie_ipv4"),
    (207, "bpf_tcp_raw_check_syncookie_ipv6"),
];
