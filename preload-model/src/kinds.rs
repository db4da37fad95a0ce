//! What names in the object mean: program sections (type, attach type, how and where
//! the program can be attached), map types, licenses and GPL-only helpers.

use bpf_preload_uapi::{
    AttachType, BtfKind, MapType, ProgType, BPF_F_CLONE, BPF_F_INNER_MAP, BPF_F_LINK,
    BPF_F_MMAPABLE, BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_F_NO_USER_CONV, BPF_F_NUMA_NODE,
    BPF_F_PATH_FD, BPF_F_PRESERVE_ELEMS, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_SEGV_ON_FAULT,
    BPF_F_STACK_BUILD_ID, BPF_F_TOKEN_FD, BPF_F_VTYPE_BTF_OBJ_FD, BPF_F_WRONLY, BPF_F_WRONLY_PROG,
    BPF_F_ZERO_SEED,
};

/// What a section name says about a program: its types and how it attaches.
#[derive(Debug, Clone)]
pub struct ProgramKind {
    pub prog_type: ProgType,
    pub expected_attach_type: Option<AttachType>,
    /// `BPF_F_*` program flags the section implies.
    pub prog_flags: Vec<&'static str>,
    /// Name and kind (`BTF_KIND_FUNC`/`BTF_KIND_TYPEDEF`) in the kernel's BTF.
    pub attach_btf: Option<(String, BtfKind)>,
    /// Attached to a target in the kernel's BTF (`fentry`, `lsm`, `iter`, `tp_btf`,
    /// ...). With `attach_btf` `None`, the section names no target (`SEC("lsm")`) and
    /// the loader must supply one, as libbpf's `bpf_program__set_attach_target()`
    /// does: the attribute's `attach_target(...)`.
    pub takes_btf_target: bool,
    /// Where the target is: always in another BPF program (`freplace`), in one if the
    /// loader says so (`fentry`, `fexit`: libbpf's `bpf_program__set_attach_target()`
    /// with the program's fd), or in the kernel only.
    pub target_in: TargetIn,
    pub attach: Attach,
}

/// Where a program's attach target may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetIn {
    Kernel,
    KernelOrProgram,
    Program,
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

const PERF_EVENT_OPEN: &str =
    "it is attached through a perf event, which only perf_event_open(2) in user space opens";
const RAW_TP_NAME: &str = "BPF_RAW_TRACEPOINT_OPEN copies the tracepoint's name from user \
     memory (strncpy_from_user), which a module does not have; `tp_btf/<name>` attaches to the \
     same tracepoint from anywhere";
const NETWORK_DEVICE: &str = "it attaches to a network device, chosen when it is attached";
const TRAFFIC_CONTROL: &str =
    "it attaches to a network device's traffic control (tcx or netlink), chosen when it is attached";
const CGROUP: &str = "it attaches to a cgroup, given as an open cgroup directory";
const SOCKMAP: &str = "it attaches to a sockmap or sockhash map filled at run time";
const NETNS: &str = "it attaches to a network namespace, given as an open namespace file";
const SOCKET: &str = "it attaches to a socket (SO_ATTACH_REUSEPORT_EBPF), opened at run time";
const LIRC: &str = "it attaches to an infrared receiver device, opened at run time";
const LWT: &str = "it attaches to a route (ip route ... encap bpf), made at run time";
const NETFILTER: &str = "it attaches to a netfilter hook with a protocol family and priority \
     chosen at run time";
const UPROBE: &str = "it attaches to a user-space binary and offset, chosen at run time";
const MULTI: &str = "its targets are a list of symbols the kernel reads from user memory";
const PROBE_WITHOUT_TARGET: &str =
    "its section names no target, which its user-space side supplies when it attaches";

/// How a section's programs are attached: the part of libbpf's `attach_fn` that
/// bpf-preload does itself.
#[derive(Debug, Clone, Copy)]
enum How {
    /// Nothing to attach (socket filters are attached by whoever opens the socket;
    /// syscall programs are run with BPF_PROG_TEST_RUN).
    Nothing,
    /// `BPF_LINK_CREATE` to the program's BTF attach target.
    BtfLink,
    /// `BPF_RAW_TRACEPOINT_OPEN` without a name: the target is the attach BTF id.
    BtfRawTracepoint,
    /// `BPF_RAW_TRACEPOINT_OPEN` with the section's name (user space only).
    RawTracepoint,
    /// A perf event on `category/name` (user space only).
    Tracepoint,
    /// Loaded for someone else to attach, for this reason.
    Manually(&'static str),
}

use How::{BtfLink, BtfRawTracepoint, Manually, Nothing, RawTracepoint, Tracepoint};

/// The section flags of libbpf's `section_defs[]` that change what is loaded.
const SLEEPABLE: u8 = 1;
const ATTACH_BTF: u8 = 2;
const XDP_FRAGS: u8 = 4;
/// Not libbpf's: a target that is always a function of another BPF program (freplace),
/// never of the kernel.
const IN_PROGRAM: u8 = 8;

/// One row of the section table: libbpf 1.5's `section_defs[]`, in its order (the
/// first row that matches wins), with how bpf-preload attaches each. A name ending in
/// `+` matches itself or itself followed by `/...`; any other name matches exactly.
struct SectionDef {
    sec: &'static str,
    prog_type: ProgType,
    attach_type: Option<AttachType>,
    flags: u8,
    how: How,
}

const fn def(
    sec: &'static str,
    prog_type: ProgType,
    attach_type: Option<AttachType>,
    flags: u8,
    how: How,
) -> SectionDef {
    SectionDef {
        sec,
        prog_type,
        attach_type,
        flags,
        how,
    }
}

#[rustfmt::skip]
const SECTIONS: &[SectionDef] = &[
    def("socket", ProgType::SocketFilter, None, 0, Nothing),
    def("sk_reuseport/migrate", ProgType::SkReuseport, Some(AttachType::SkReuseportSelectOrMigrate), 0, Manually(SOCKET)),
    def("sk_reuseport", ProgType::SkReuseport, Some(AttachType::SkReuseportSelect), 0, Manually(SOCKET)),
    def("kprobe+", ProgType::Kprobe, None, 0, Manually(PERF_EVENT_OPEN)),
    def("uprobe+", ProgType::Kprobe, None, 0, Manually(UPROBE)),
    def("uprobe.s+", ProgType::Kprobe, None, SLEEPABLE, Manually(UPROBE)),
    def("kretprobe+", ProgType::Kprobe, None, 0, Manually(PERF_EVENT_OPEN)),
    def("uretprobe+", ProgType::Kprobe, None, 0, Manually(UPROBE)),
    def("uretprobe.s+", ProgType::Kprobe, None, SLEEPABLE, Manually(UPROBE)),
    def("kprobe.multi+", ProgType::Kprobe, Some(AttachType::TraceKprobeMulti), 0, Manually(MULTI)),
    def("kretprobe.multi+", ProgType::Kprobe, Some(AttachType::TraceKprobeMulti), 0, Manually(MULTI)),
    def("kprobe.session+", ProgType::Kprobe, Some(AttachType::TraceKprobeSession), 0, Manually(MULTI)),
    def("uprobe.multi+", ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), 0, Manually(UPROBE)),
    def("uretprobe.multi+", ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), 0, Manually(UPROBE)),
    def("uprobe.multi.s+", ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), SLEEPABLE, Manually(UPROBE)),
    def("uretprobe.multi.s+", ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), SLEEPABLE, Manually(UPROBE)),
    def("ksyscall+", ProgType::Kprobe, None, 0, Manually(PERF_EVENT_OPEN)),
    def("kretsyscall+", ProgType::Kprobe, None, 0, Manually(PERF_EVENT_OPEN)),
    // libbpf picks BPF_TRACE_UPROBE_MULTI where the kernel has uprobe_multi links
    // (6.6): a property of the running kernel, so the table keeps the plain type.
    def("usdt+", ProgType::Kprobe, None, 0, Manually(UPROBE)),
    def("usdt.s+", ProgType::Kprobe, None, SLEEPABLE, Manually(UPROBE)),
    def("tc/ingress", ProgType::SchedCls, Some(AttachType::TcxIngress), 0, Manually(TRAFFIC_CONTROL)),
    def("tc/egress", ProgType::SchedCls, Some(AttachType::TcxEgress), 0, Manually(TRAFFIC_CONTROL)),
    def("tcx/ingress", ProgType::SchedCls, Some(AttachType::TcxIngress), 0, Manually(TRAFFIC_CONTROL)),
    def("tcx/egress", ProgType::SchedCls, Some(AttachType::TcxEgress), 0, Manually(TRAFFIC_CONTROL)),
    def("tc", ProgType::SchedCls, None, 0, Manually(TRAFFIC_CONTROL)),
    def("classifier", ProgType::SchedCls, None, 0, Manually(TRAFFIC_CONTROL)),
    def("action", ProgType::SchedAct, None, 0, Manually(TRAFFIC_CONTROL)),
    def("netkit/primary", ProgType::SchedCls, Some(AttachType::NetkitPrimary), 0, Manually(NETWORK_DEVICE)),
    def("netkit/peer", ProgType::SchedCls, Some(AttachType::NetkitPeer), 0, Manually(NETWORK_DEVICE)),
    def("tracepoint+", ProgType::Tracepoint, None, 0, Tracepoint),
    def("tp+", ProgType::Tracepoint, None, 0, Tracepoint),
    def("raw_tracepoint+", ProgType::RawTracepoint, None, 0, RawTracepoint),
    def("raw_tp+", ProgType::RawTracepoint, None, 0, RawTracepoint),
    def("raw_tracepoint.w+", ProgType::RawTracepointWritable, None, 0, RawTracepoint),
    def("raw_tp.w+", ProgType::RawTracepointWritable, None, 0, RawTracepoint),
    def("tp_btf+", ProgType::Tracing, Some(AttachType::TraceRawTp), ATTACH_BTF, BtfRawTracepoint),
    def("fentry+", ProgType::Tracing, Some(AttachType::TraceFentry), ATTACH_BTF, BtfLink),
    def("fmod_ret+", ProgType::Tracing, Some(AttachType::ModifyReturn), ATTACH_BTF, BtfLink),
    def("fexit+", ProgType::Tracing, Some(AttachType::TraceFexit), ATTACH_BTF, BtfLink),
    def("fentry.s+", ProgType::Tracing, Some(AttachType::TraceFentry), ATTACH_BTF | SLEEPABLE, BtfLink),
    def("fmod_ret.s+", ProgType::Tracing, Some(AttachType::ModifyReturn), ATTACH_BTF | SLEEPABLE, BtfLink),
    def("fexit.s+", ProgType::Tracing, Some(AttachType::TraceFexit), ATTACH_BTF | SLEEPABLE, BtfLink),
    def("freplace+", ProgType::Ext, None, ATTACH_BTF | IN_PROGRAM, BtfLink),
    def("lsm+", ProgType::Lsm, Some(AttachType::LsmMac), ATTACH_BTF, BtfLink),
    def("lsm.s+", ProgType::Lsm, Some(AttachType::LsmMac), ATTACH_BTF | SLEEPABLE, BtfLink),
    def("lsm_cgroup+", ProgType::Lsm, Some(AttachType::LsmCgroup), ATTACH_BTF, Manually(CGROUP)),
    def("iter+", ProgType::Tracing, Some(AttachType::TraceIter), ATTACH_BTF, BtfLink),
    def("iter.s+", ProgType::Tracing, Some(AttachType::TraceIter), ATTACH_BTF | SLEEPABLE, BtfLink),
    def("syscall", ProgType::Syscall, None, SLEEPABLE, Nothing),
    def("xdp.frags/devmap", ProgType::Xdp, Some(AttachType::XdpDevmap), XDP_FRAGS, Manually(NETWORK_DEVICE)),
    def("xdp/devmap", ProgType::Xdp, Some(AttachType::XdpDevmap), 0, Manually(NETWORK_DEVICE)),
    def("xdp.frags/cpumap", ProgType::Xdp, Some(AttachType::XdpCpumap), XDP_FRAGS, Manually(NETWORK_DEVICE)),
    def("xdp/cpumap", ProgType::Xdp, Some(AttachType::XdpCpumap), 0, Manually(NETWORK_DEVICE)),
    def("xdp.frags", ProgType::Xdp, Some(AttachType::Xdp), XDP_FRAGS, Manually(NETWORK_DEVICE)),
    def("xdp", ProgType::Xdp, Some(AttachType::Xdp), 0, Manually(NETWORK_DEVICE)),
    def("perf_event", ProgType::PerfEvent, None, 0, Manually(PERF_EVENT_OPEN)),
    def("lwt_in", ProgType::LwtIn, None, 0, Manually(LWT)),
    def("lwt_out", ProgType::LwtOut, None, 0, Manually(LWT)),
    def("lwt_xmit", ProgType::LwtXmit, None, 0, Manually(LWT)),
    def("lwt_seg6local", ProgType::LwtSeg6local, None, 0, Manually(LWT)),
    def("sockops", ProgType::SockOps, Some(AttachType::CgroupSockOps), 0, Manually(CGROUP)),
    def("sk_skb/stream_parser", ProgType::SkSkb, Some(AttachType::SkSkbStreamParser), 0, Manually(SOCKMAP)),
    def("sk_skb/stream_verdict", ProgType::SkSkb, Some(AttachType::SkSkbStreamVerdict), 0, Manually(SOCKMAP)),
    def("sk_skb/verdict", ProgType::SkSkb, Some(AttachType::SkSkbVerdict), 0, Manually(SOCKMAP)),
    def("sk_skb", ProgType::SkSkb, None, 0, Manually(SOCKMAP)),
    def("sk_msg", ProgType::SkMsg, Some(AttachType::SkMsgVerdict), 0, Manually(SOCKMAP)),
    def("lirc_mode2", ProgType::LircMode2, Some(AttachType::LircMode2), 0, Manually(LIRC)),
    def("flow_dissector", ProgType::FlowDissector, Some(AttachType::FlowDissector), 0, Manually(NETNS)),
    def("cgroup_skb/ingress", ProgType::CgroupSkb, Some(AttachType::CgroupInetIngress), 0, Manually(CGROUP)),
    def("cgroup_skb/egress", ProgType::CgroupSkb, Some(AttachType::CgroupInetEgress), 0, Manually(CGROUP)),
    def("cgroup/skb", ProgType::CgroupSkb, None, 0, Manually(CGROUP)),
    def("cgroup/sock_create", ProgType::CgroupSock, Some(AttachType::CgroupInetSockCreate), 0, Manually(CGROUP)),
    def("cgroup/sock_release", ProgType::CgroupSock, Some(AttachType::CgroupInetSockRelease), 0, Manually(CGROUP)),
    def("cgroup/sock", ProgType::CgroupSock, Some(AttachType::CgroupInetSockCreate), 0, Manually(CGROUP)),
    def("cgroup/post_bind4", ProgType::CgroupSock, Some(AttachType::CgroupInet4PostBind), 0, Manually(CGROUP)),
    def("cgroup/post_bind6", ProgType::CgroupSock, Some(AttachType::CgroupInet6PostBind), 0, Manually(CGROUP)),
    def("cgroup/bind4", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Bind), 0, Manually(CGROUP)),
    def("cgroup/bind6", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Bind), 0, Manually(CGROUP)),
    def("cgroup/connect4", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Connect), 0, Manually(CGROUP)),
    def("cgroup/connect6", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Connect), 0, Manually(CGROUP)),
    def("cgroup/connect_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixConnect), 0, Manually(CGROUP)),
    def("cgroup/sendmsg4", ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp4Sendmsg), 0, Manually(CGROUP)),
    def("cgroup/sendmsg6", ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp6Sendmsg), 0, Manually(CGROUP)),
    def("cgroup/sendmsg_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixSendmsg), 0, Manually(CGROUP)),
    def("cgroup/recvmsg4", ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp4Recvmsg), 0, Manually(CGROUP)),
    def("cgroup/recvmsg6", ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp6Recvmsg), 0, Manually(CGROUP)),
    def("cgroup/recvmsg_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixRecvmsg), 0, Manually(CGROUP)),
    def("cgroup/getpeername4", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Getpeername), 0, Manually(CGROUP)),
    def("cgroup/getpeername6", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Getpeername), 0, Manually(CGROUP)),
    def("cgroup/getpeername_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixGetpeername), 0, Manually(CGROUP)),
    def("cgroup/getsockname4", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Getsockname), 0, Manually(CGROUP)),
    def("cgroup/getsockname6", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Getsockname), 0, Manually(CGROUP)),
    def("cgroup/getsockname_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixGetsockname), 0, Manually(CGROUP)),
    def("cgroup/sysctl", ProgType::CgroupSysctl, Some(AttachType::CgroupSysctl), 0, Manually(CGROUP)),
    def("cgroup/getsockopt", ProgType::CgroupSockopt, Some(AttachType::CgroupGetsockopt), 0, Manually(CGROUP)),
    def("cgroup/setsockopt", ProgType::CgroupSockopt, Some(AttachType::CgroupSetsockopt), 0, Manually(CGROUP)),
    def("cgroup/dev", ProgType::CgroupDevice, Some(AttachType::CgroupDevice), 0, Manually(CGROUP)),
    // Registered by the struct_ops map that holds them, which sets their attach type.
    def("struct_ops+", ProgType::StructOps, None, 0, Nothing),
    def("struct_ops.s+", ProgType::StructOps, None, SLEEPABLE, Nothing),
    def("sk_lookup", ProgType::SkLookup, Some(AttachType::SkLookup), 0, Manually(NETNS)),
    def("netfilter", ProgType::Netfilter, Some(AttachType::Netfilter), 0, Manually(NETFILTER)),
];

fn matches(def: &str, section: &str) -> bool {
    match def.strip_suffix('+') {
        Some(prefix) => section
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        None => def == section,
    }
}

/// Every section name the table knows, for error messages.
pub fn known_sections() -> String {
    let names: Vec<String> = SECTIONS
        .iter()
        .map(|d| match d.sec.strip_suffix('+') {
            Some(p) => format!("{p}[/...]"),
            None => d.sec.to_string(),
        })
        .collect();
    names.join(", ")
}

/// Whether libbpf knows `section` (a leading `?` stripped), refused or not.
pub fn knows(section: &str) -> bool {
    SECTIONS.iter().any(|d| matches(d.sec, section))
}

impl ProgramKind {
    /// A program whose section libbpf does not know, given its type by its loader
    /// (`bpf_program__set_type()`, or iproute2 and tc, which type what they load): loaded
    /// with no expected attach type and no flags, and attached by whoever gave the type.
    pub fn given(prog_type: ProgType) -> Self {
        ProgramKind {
            prog_type,
            expected_attach_type: None,
            prog_flags: Vec::new(),
            attach_btf: None,
            takes_btf_target: false,
            target_in: TargetIn::Kernel,
            attach: Attach::Nothing,
        }
    }
}

/// Classifies a program by its ELF section name, as libbpf does, from [`SECTIONS`].
/// A leading `?` (libbpf: not loaded unless asked for) is stripped by the caller.
pub fn classify(section: &str) -> Result<ProgramKind, String> {
    let def = SECTIONS
        .iter()
        .find(|d| matches(d.sec, section))
        .ok_or_else(|| {
            format!(
                "program section `{section}` is not one libbpf knows; a loader that types its \
                 programs itself (bpf_program__set_type(), iproute2, tc) stands in with \
                 `prog_type(PROGRAM = BPF_PROG_TYPE_...)`; known sections: {}",
                known_sections()
            )
        })?;
    let base = def.sec.trim_end_matches('+');
    let target = section
        .strip_prefix(base)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or("");
    let mut prog_flags = Vec::new();
    if def.flags & SLEEPABLE != 0 {
        prog_flags.push("BPF_F_SLEEPABLE");
    }
    if def.flags & XDP_FRAGS != 0 {
        prog_flags.push("BPF_F_XDP_HAS_FRAGS");
    }
    // A section without a target (`SEC("lsm")`) leaves it to the loader: the
    // attribute's `attach_target(...)`, checked by the macro.
    let attach_btf = (def.flags & ATTACH_BTF != 0 && !target.is_empty())
        .then(|| kernel_btf_target(def.attach_type, target));
    let attach = match def.how {
        Nothing => Attach::Nothing,
        BtfLink => Attach::Anywhere(AttachModel::LinkCreate),
        BtfRawTracepoint => Attach::Anywhere(AttachModel::RawTracepoint(None)),
        RawTracepoint if target.is_empty() => Attach::Manually {
            why: PROBE_WITHOUT_TARGET,
        },
        RawTracepoint => Attach::UserSpaceOnly {
            how: AttachModel::RawTracepoint(Some(target.to_string())),
            why: RAW_TP_NAME,
        },
        Tracepoint => match target.split_once('/') {
            Some((category, name)) if !category.is_empty() && !name.is_empty() => {
                Attach::UserSpaceOnly {
                    how: AttachModel::Tracepoint {
                        category: category.to_string(),
                        name: name.to_string(),
                    },
                    why: PERF_EVENT_OPEN,
                }
            }
            _ => Attach::Manually {
                why: PROBE_WITHOUT_TARGET,
            },
        },
        Manually(why) => Attach::Manually { why },
    };
    Ok(ProgramKind {
        prog_type: def.prog_type,
        expected_attach_type: def.attach_type,
        attach_btf,
        takes_btf_target: def.flags & ATTACH_BTF != 0,
        target_in: match (def.prog_type, def.attach_type) {
            _ if def.flags & IN_PROGRAM != 0 => TargetIn::Program,
            (ProgType::Tracing, Some(AttachType::TraceFentry | AttachType::TraceFexit)) => {
                TargetIn::KernelOrProgram
            }
            _ => TargetIn::Kernel,
        },
        prog_flags,
        attach,
    })
}

/// Where libbpf looks for an attach target named `target` in the kernel's BTF, the
/// same whether the section names it (`SEC("lsm/path_mkdir")`) or the loader does
/// (`bpf_program__set_attach_target(prog, 0, "path_mkdir")`): `find_kernel_btf_id`
/// drops a `module:` qualifier (the runtime searches vmlinux and every module), and
/// `btf_get_kernel_prefix_kind` prefixes the name by the program's attach type:
/// `btf_trace_` and a typedef for `tp_btf`, `bpf_lsm_` for `lsm` and `lsm_cgroup`,
/// `bpf_iter_` for `iter`, and nothing (a function) for the rest.
pub fn kernel_btf_target(attach_type: Option<AttachType>, target: &str) -> (String, BtfKind) {
    let function = target.split_once(':').map_or(target, |(_, f)| f);
    match attach_type {
        Some(AttachType::TraceRawTp) => (format!("btf_trace_{function}"), BtfKind::Typedef),
        Some(AttachType::LsmMac | AttachType::LsmCgroup) => {
            (format!("bpf_lsm_{function}"), BtfKind::Func)
        }
        Some(AttachType::TraceIter) => (format!("bpf_iter_{function}"), BtfKind::Func),
        _ => (function.to_string(), BtfKind::Func),
    }
}

/// The C name of a map type, or its number if the loader does not know it.
pub fn map_type_name(map_type: u32) -> String {
    match MapType::from_u32(map_type) {
        Some(t) => t.name().to_string(),
        None => format!("{map_type}"),
    }
}

/// Map types that hold fds (and a few others) take no BTF key and value types: libbpf
/// creates them without (some by its list, the program array after the kernel's
/// ENOTSUPP, through its retry without BTF), and so does the loader.
pub fn takes_btf_types(map_type: u32) -> bool {
    use MapType::*;
    !matches!(
        MapType::from_u32(map_type),
        Some(
            ProgArray
                | PerfEventArray
                | CgroupArray
                | StackTrace
                | ArrayOfMaps
                | HashOfMaps
                | Devmap
                | DevmapHash
                | Cpumap
                | Xskmap
                | Sockmap
                | Sockhash
                | Queue
                | Stack
                | Arena
        )
    )
}

/// How many entries a map of this type and `max_entries` gets: `Ok(None)` when the
/// loader sets it (a perf event array of 0: one per possible CPU), `Err` when the
/// object leaves it 0 and nothing sizes it. Ring buffers round up to a power-of-two
/// multiple of the page size, as libbpf's `adjust_ringbuf_sz`.
pub fn entries(map_type: u32, max_entries: u32) -> Result<Option<u32>, ()> {
    const PAGE_SIZE: u32 = 4096;
    use MapType::*;
    match MapType::from_u32(map_type) {
        Some(PerfEventArray) if max_entries == 0 => Ok(None),
        // Local storage and cgroup storage: max_entries must be 0.
        Some(
            SkStorage | InodeStorage | TaskStorage | CgrpStorage | CgroupStorage
            | PercpuCgroupStorage,
        ) => Ok(Some(max_entries)),
        _ if max_entries == 0 => Err(()),
        Some(Ringbuf | UserRingbuf) => {
            if max_entries.is_multiple_of(PAGE_SIZE) && (max_entries / PAGE_SIZE).is_power_of_two()
            {
                return Ok(Some(max_entries));
            }
            let mut size = PAGE_SIZE;
            while size <= max_entries {
                match size.checked_mul(2) {
                    Some(next) => size = next,
                    None => return Ok(Some(max_entries)),
                }
            }
            Ok(Some(size))
        }
        _ => Ok(Some(max_entries)),
    }
}

/// One row of [`MAP_FLAGS`]: the flag, its C name and whether the table carries it.
macro_rules! flag {
    ($flag:ident, $ok:expr $(,)?) => {
        ($flag, stringify!($flag), $ok)
    };
}

/// `map_flags` bits (`BPF_F_*` in Linux 6.12's `<linux/bpf.h>`) and whether the table
/// can carry them: `Err(why)` for those it cannot.
const MAP_FLAGS: [(u32, &str, Result<(), &str>); 19] = [
    flag!(BPF_F_NO_PREALLOC, Ok(())),
    flag!(BPF_F_NO_COMMON_LRU, Ok(())),
    flag!(
        BPF_F_NUMA_NODE,
        Err("the table has no NUMA node to create the map on"),
    ),
    flag!(BPF_F_RDONLY, Ok(())),
    flag!(BPF_F_WRONLY, Ok(())),
    flag!(BPF_F_STACK_BUILD_ID, Ok(())),
    flag!(BPF_F_ZERO_SEED, Ok(())),
    flag!(BPF_F_RDONLY_PROG, Ok(())),
    flag!(BPF_F_WRONLY_PROG, Ok(())),
    flag!(BPF_F_CLONE, Ok(())),
    flag!(BPF_F_MMAPABLE, Ok(())),
    flag!(BPF_F_PRESERVE_ELEMS, Ok(())),
    flag!(BPF_F_INNER_MAP, Ok(())),
    flag!(
        BPF_F_LINK,
        Err("it is for struct_ops maps, which `.struct_ops.link` declares"),
    ),
    flag!(
        BPF_F_PATH_FD,
        Err("it is a flag of BPF_OBJ_PIN, not of a map"),
    ),
    flag!(
        BPF_F_VTYPE_BTF_OBJ_FD,
        Err("the table has no BTF object fd to pass"),
    ),
    flag!(BPF_F_TOKEN_FD, Err("the table has no BPF token to pass")),
    flag!(BPF_F_SEGV_ON_FAULT, Ok(())),
    flag!(BPF_F_NO_USER_CONV, Ok(())),
];

/// Why the loader cannot create this map, if it cannot.
pub fn check_map(map: &super::MapModel) -> Result<(), String> {
    let name = &map.name;
    let type_name = map_type_name(map.map_type);
    match MapType::from_u32(map.map_type) {
        None | Some(MapType::Unspec) => {
            return Err(format!(
                "map `{name}` has type {type_name}, which the loader does not know: it knows \
                 the map types of Linux 6.12 (BPF_MAP_TYPE_HASH to BPF_MAP_TYPE_ARENA)"
            ))
        }
        Some(MapType::StructOps) if map.struct_ops.is_none() => {
            return Err(format!(
                "map `{name}` is a struct_ops map declared in `.maps`: declare it as a variable \
                 of the kernel struct in SEC(\".struct_ops\") or SEC(\".struct_ops.link\"), \
                 which gives its value"
            ))
        }
        Some(_) => {}
    }
    if let Some(inner) = &map.inner {
        check_map(inner)?;
    }
    let flags = map.map_flags;
    let known = MAP_FLAGS.iter().fold(0, |acc, (bit, _, _)| acc | bit);
    if flags & !known != 0 {
        return Err(format!(
            "map `{name}` has unknown map_flags bits {:#x}: the loader knows the BPF_F_* \
             flags of Linux 6.12, up to BPF_F_NO_USER_CONV",
            flags & !known
        ));
    }
    for (bit, flag, ok) in MAP_FLAGS {
        if flags & bit == 0 {
            continue;
        }
        if bit == BPF_F_LINK && map.struct_ops.is_some() {
            continue;
        }
        if let Err(why) = ok {
            return Err(format!(
                "map `{name}` has flag {flag}, which the loader cannot honour: {why}"
            ));
        }
        if bit == BPF_F_RDONLY && map.initial_value.is_some() {
            return Err(format!(
                "map `{name}` has flag BPF_F_RDONLY, but the loader must write its initial \
                 value through the syscall: use BPF_F_RDONLY_PROG (read-only for programs) or \
                 drop the initial value"
            ));
        }
    }
    Ok(())
}

/// Why `BPF_MAP_FREEZE` makes no sense for a map, if it makes none: the one rule of
/// `freeze(...)` (an error) and `freeze_all` (which skips such maps).
pub fn freeze_problem(m: &super::MapModel) -> Option<String> {
    use MapType::*;
    let kind = map_type_name(m.map_type);
    let why = match MapType::from_u32(m.map_type) {
        _ if m.freeze => format!(
            "the loader already freezes `{}` before programs load (the verifier reads its \
             contents as constants)",
            m.name
        ),
        Some(Ringbuf | UserRingbuf | PerfEventArray) => format!(
            "a {kind} is a channel to user space, which must map it writable or install \
             perf event fds in it once the object runs; a frozen one cannot be used"
        ),
        Some(
            Sockmap | Sockhash | Xskmap | Devmap | DevmapHash | Cpumap | ReuseportSockarray
            | CgroupArray,
        ) => format!(
            "a {kind} holds sockets, devices or cgroups that user space inserts once the \
             object runs, and the loader writes nothing into it"
        ),
        Some(StructOps) => format!("the kernel refuses to freeze a {kind}"),
        Some(Queue | Stack | BloomFilter | StackTrace) => format!(
            "a {kind} the loader writes nothing into: frozen, it would stay empty for user \
             space and freezing protects nothing the object set"
        ),
        Some(
            SkStorage | InodeStorage | TaskStorage | CgrpStorage | CgroupStorage
            | PercpuCgroupStorage | Arena,
        ) => format!(
            "a {kind} is owned by the objects it is stored in (or mapped by user space), and \
             the kernel refuses to freeze it or freezing changes nothing"
        ),
        _ if m.map_flags & BPF_F_RDONLY != 0 => format!(
            "`{}` is created with BPF_F_RDONLY: syscalls cannot write it anyway, and the \
             kernel refuses to freeze it (EPERM)",
            m.name
        ),
        _ => return None,
    };
    Some(why)
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
