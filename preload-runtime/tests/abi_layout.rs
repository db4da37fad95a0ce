//! Checks `bpf_preload::abi` against the system `<linux/bpf.h>`: a C program,
//! generated and built with `cc` at test time, prints the offset, size and
//! alignment of every C member the Rust structs mirror, plus the constants;
//! the test compares them with `offset_of!`/`size_of` and reports every
//! mismatch at once.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

use bpf_preload::abi::*;

/// What a Rust field corresponds to in C.
enum C {
    /// A member designator (`link_create.target_btf_id`): offset, size and
    /// alignment are compared.
    M(&'static str),
    /// Only the offset of this designator is compared (a union area).
    Off(&'static str),
    /// Custom C expressions for offset and size (bitfields).
    Expr(&'static str, &'static str),
    /// Explicit padding: no C member; only counted for the no-holes check.
    Pad,
}

/// How the struct's size is checked.
enum Size {
    /// A prefix of the C aggregate ending with this member: size must be its
    /// end rounded up to the C alignment of the mirrored members.
    Prefix(&'static str),
    /// Exactly `sizeof`/`_Alignof` of this C member.
    Member(&'static str),
    /// A whole info struct: equal to `sizeof` if the header is 6.1, else `<=`.
    Info,
}

struct Field {
    rust: &'static str,
    c: C,
    off: usize,
    size: usize,
}

struct Layout {
    name: &'static str,
    /// The C aggregate type, e.g. `union bpf_attr`.
    agg: &'static str,
    /// A designator whose offset is subtracted from every C offset (for
    /// structs that mirror a nested member).
    base: Option<&'static str>,
    size_rule: Size,
    size: usize,
    align: usize,
    fields: Vec<Field>,
}

fn pointee_size<T>(_: *const T) -> usize {
    size_of::<T>()
}

macro_rules! layout {
    ($ty:ty, $agg:literal, $base:expr, $size_rule:expr, { $($($f:ident).+ => $c:expr),* $(,)? }) => {{
        let v = <$ty>::default();
        Layout {
            name: stringify!($ty),
            agg: $agg,
            base: $base,
            size_rule: $size_rule,
            size: size_of::<$ty>(),
            align: align_of::<$ty>(),
            fields: vec![$(Field {
                rust: stringify!($($f).+),
                c: $c,
                off: offset_of!($ty, $($f).+),
                #[allow(unused_unsafe)]
                // SAFETY: only a raw pointer to the (union) field is formed.
                size: pointee_size(unsafe { &raw const v.$($f).+ }),
            }),*],
        }
    }};
}

fn layouts() -> Vec<Layout> {
    use C::*;
    vec![
        layout!(MapCreateAttr, "union bpf_attr", None, Size::Prefix("map_extra"), {
            map_type => M("map_type"),
            key_size => M("key_size"),
            value_size => M("value_size"),
            max_entries => M("max_entries"),
            map_flags => M("map_flags"),
            inner_map_fd => M("inner_map_fd"),
            numa_node => M("numa_node"),
            map_name => M("map_name"),
            map_ifindex => M("map_ifindex"),
            btf_fd => M("btf_fd"),
            btf_key_type_id => M("btf_key_type_id"),
            btf_value_type_id => M("btf_value_type_id"),
            btf_vmlinux_value_type_id => M("btf_vmlinux_value_type_id"),
            map_extra => M("map_extra"),
        }),
        layout!(MapElemAttr, "union bpf_attr", None, Size::Prefix("flags"), {
            map_fd => M("map_fd"),
            pad => Pad,
            key => M("key"),
            value => M("value"),
            flags => M("flags"),
        }),
        layout!(MapFreezeAttr, "union bpf_attr", None, Size::Prefix("map_fd"), {
            map_fd => M("map_fd"),
        }),
        layout!(ProgLoadAttr, "union bpf_attr", None, Size::Prefix("core_relo_rec_size"), {
            prog_type => M("prog_type"),
            insn_cnt => M("insn_cnt"),
            insns => M("insns"),
            license => M("license"),
            log_level => M("log_level"),
            log_size => M("log_size"),
            log_buf => M("log_buf"),
            kern_version => M("kern_version"),
            prog_flags => M("prog_flags"),
            prog_name => M("prog_name"),
            prog_ifindex => M("prog_ifindex"),
            expected_attach_type => M("expected_attach_type"),
            prog_btf_fd => M("prog_btf_fd"),
            func_info_rec_size => M("func_info_rec_size"),
            func_info => M("func_info"),
            func_info_cnt => M("func_info_cnt"),
            line_info_rec_size => M("line_info_rec_size"),
            line_info => M("line_info"),
            line_info_cnt => M("line_info_cnt"),
            attach_btf_id => M("attach_btf_id"),
            attach_btf_obj_fd => M("attach_btf_obj_fd"),
            core_relo_cnt => M("core_relo_cnt"),
            fd_array => M("fd_array"),
            core_relos => M("core_relos"),
            core_relo_rec_size => M("core_relo_rec_size"),
            pad => Pad,
        }),
        layout!(ObjPinAttr, "union bpf_attr", None, Size::Prefix("file_flags"), {
            pathname => M("pathname"),
            bpf_fd => M("bpf_fd"),
            file_flags => M("file_flags"),
        }),
        layout!(BtfLoadAttr, "union bpf_attr", None, Size::Prefix("btf_log_level"), {
            btf => M("btf"),
            btf_log_buf => M("btf_log_buf"),
            btf_size => M("btf_size"),
            btf_log_size => M("btf_log_size"),
            btf_log_level => M("btf_log_level"),
            pad => Pad,
        }),
        layout!(RawTracepointOpenAttr, "union bpf_attr", None, Size::Prefix("raw_tracepoint.prog_fd"), {
            name => M("raw_tracepoint.name"),
            prog_fd => M("raw_tracepoint.prog_fd"),
            pad => Pad,
        }),
        // 6.1's link_create union is sized by kprobe_multi, which ends with `cookies`.
        {
            let mut l = layout!(LinkCreateAttr, "union bpf_attr", None, Size::Prefix("link_create.kprobe_multi.cookies"), {
                prog_fd => M("link_create.prog_fd"),
                target_fd => M("link_create.target_fd"),
                attach_type => M("link_create.attach_type"),
                flags => M("link_create.flags"),
                u => Off("link_create.target_btf_id"),
            });
            // The union's words are private (see `LinkCreateUnion`): its variants are
            // where its getters read them, at the front of `u`.
            let u = offset_of!(LinkCreateAttr, u);
            let member = |rust, c, off, size| Field {
                rust,
                c: M(c),
                off: u + off,
                size,
            };
            l.fields.extend([
                member(
                    "u.target_btf_id",
                    "link_create.target_btf_id",
                    0,
                    size_of::<u32>(),
                ),
                member(
                    "u.iter.iter_info",
                    "link_create.iter_info",
                    offset_of!(LinkCreateIter, iter_info),
                    size_of::<u64>(),
                ),
                member(
                    "u.iter.iter_info_len",
                    "link_create.iter_info_len",
                    offset_of!(LinkCreateIter, iter_info_len),
                    size_of::<u32>(),
                ),
                member(
                    "u.perf_event.bpf_cookie",
                    "link_create.perf_event.bpf_cookie",
                    offset_of!(LinkCreatePerfEvent, bpf_cookie),
                    size_of::<u64>(),
                ),
            ]);
            l
        },
        layout!(LinkCreateIter, "union bpf_attr", Some("link_create.iter_info"), Size::Prefix("link_create.iter_info_len"), {
            iter_info => M("link_create.iter_info"),
            iter_info_len => M("link_create.iter_info_len"),
            pad => Pad,
        }),
        layout!(LinkCreatePerfEvent, "union bpf_attr", Some("link_create.perf_event"), Size::Member("link_create.perf_event"), {
            bpf_cookie => M("link_create.perf_event.bpf_cookie"),
        }),
        layout!(ProgTestRunAttr, "union bpf_attr", None, Size::Prefix("test.batch_size"), {
            prog_fd => M("test.prog_fd"),
            retval => M("test.retval"),
            data_size_in => M("test.data_size_in"),
            data_size_out => M("test.data_size_out"),
            data_in => M("test.data_in"),
            data_out => M("test.data_out"),
            repeat => M("test.repeat"),
            duration => M("test.duration"),
            ctx_size_in => M("test.ctx_size_in"),
            ctx_size_out => M("test.ctx_size_out"),
            ctx_in => M("test.ctx_in"),
            ctx_out => M("test.ctx_out"),
            flags => M("test.flags"),
            cpu => M("test.cpu"),
            batch_size => M("test.batch_size"),
            pad => Pad,
        }),
        layout!(ProgBindMapAttr, "union bpf_attr", None, Size::Member("prog_bind_map"), {
            prog_fd => M("prog_bind_map.prog_fd"),
            map_fd => M("prog_bind_map.map_fd"),
            flags => M("prog_bind_map.flags"),
        }),
        layout!(GetFdByIdAttr, "union bpf_attr", None, Size::Prefix("open_flags"), {
            id => M("prog_id"),
            next_id => M("next_id"),
            open_flags => M("open_flags"),
        }),
        layout!(InfoByFdAttr, "union bpf_attr", None, Size::Member("info"), {
            bpf_fd => M("info.bpf_fd"),
            info_len => M("info.info_len"),
            info => M("info.info"),
        }),
        layout!(ProgInfo, "struct bpf_prog_info", None, Size::Info, {
            type_ => M("type"),
            id => M("id"),
            tag => M("tag"),
            jited_prog_len => M("jited_prog_len"),
            xlated_prog_len => M("xlated_prog_len"),
            jited_prog_insns => M("jited_prog_insns"),
            xlated_prog_insns => M("xlated_prog_insns"),
            load_time => M("load_time"),
            created_by_uid => M("created_by_uid"),
            nr_map_ids => M("nr_map_ids"),
            map_ids => M("map_ids"),
            name => M("name"),
            ifindex => M("ifindex"),
            // The word holding `gpl_compatible:1; :31`, right after ifindex.
            gpl_compatible => Expr(
                "offsetof(struct bpf_prog_info, ifindex) + sizeof(__u32)",
                "offsetof(struct bpf_prog_info, netns_dev) - offsetof(struct bpf_prog_info, ifindex) - sizeof(__u32)",
            ),
            netns_dev => M("netns_dev"),
            netns_ino => M("netns_ino"),
            nr_jited_ksyms => M("nr_jited_ksyms"),
            nr_jited_func_lens => M("nr_jited_func_lens"),
            jited_ksyms => M("jited_ksyms"),
            jited_func_lens => M("jited_func_lens"),
            btf_id => M("btf_id"),
            func_info_rec_size => M("func_info_rec_size"),
            func_info => M("func_info"),
            nr_func_info => M("nr_func_info"),
            nr_line_info => M("nr_line_info"),
            line_info => M("line_info"),
            jited_line_info => M("jited_line_info"),
            nr_jited_line_info => M("nr_jited_line_info"),
            line_info_rec_size => M("line_info_rec_size"),
            jited_line_info_rec_size => M("jited_line_info_rec_size"),
            nr_prog_tags => M("nr_prog_tags"),
            prog_tags => M("prog_tags"),
            run_time_ns => M("run_time_ns"),
            run_cnt => M("run_cnt"),
            recursion_misses => M("recursion_misses"),
            verified_insns => M("verified_insns"),
            attach_btf_obj_id => M("attach_btf_obj_id"),
            attach_btf_id => M("attach_btf_id"),
            pad => Pad,
        }),
        layout!(MapInfo, "struct bpf_map_info", None, Size::Info, {
            type_ => M("type"),
            id => M("id"),
            key_size => M("key_size"),
            value_size => M("value_size"),
            max_entries => M("max_entries"),
            map_flags => M("map_flags"),
            name => M("name"),
            ifindex => M("ifindex"),
            btf_vmlinux_value_type_id => M("btf_vmlinux_value_type_id"),
            netns_dev => M("netns_dev"),
            netns_ino => M("netns_ino"),
            btf_id => M("btf_id"),
            btf_key_type_id => M("btf_key_type_id"),
            btf_value_type_id => M("btf_value_type_id"),
            pad => Pad,
            map_extra => M("map_extra"),
        }),
        layout!(BtfInfo, "struct bpf_btf_info", None, Size::Info, {
            btf => M("btf"),
            btf_size => M("btf_size"),
            id => M("id"),
            name => M("name"),
            name_len => M("name_len"),
            kernel_btf => M("kernel_btf"),
        }),
        layout!(LinkInfo, "struct bpf_link_info", None, Size::Info, {
            type_ => M("type"),
            id => M("id"),
            prog_id => M("prog_id"),
            pad => Pad,
            u => Off("raw_tracepoint"),
        }),
        layout!(LinkInfoRawTracepoint, "struct bpf_link_info", Some("raw_tracepoint"), Size::Member("raw_tracepoint"), {
            tp_name => M("raw_tracepoint.tp_name"),
            tp_name_len => M("raw_tracepoint.tp_name_len"),
            pad => Pad,
        }),
        layout!(LinkInfoTracing, "struct bpf_link_info", Some("tracing"), Size::Member("tracing"), {
            attach_type => M("tracing.attach_type"),
            target_obj_id => M("tracing.target_obj_id"),
            target_btf_id => M("tracing.target_btf_id"),
        }),
        layout!(LinkInfoIter, "struct bpf_link_info", Some("iter"), Size::Prefix("iter.cgroup"), {
            target_name => M("iter.target_name"),
            target_name_len => M("iter.target_name_len"),
            map_id => M("iter.map.map_id"),
            extra => M("iter.cgroup"),
        }),
        layout!(BpfInsn, "struct bpf_insn", None, Size::Member(""), {
            code => M("code"),
            // The byte holding `dst_reg:4, src_reg:4`, right after code.
            regs => Expr("offsetof(struct bpf_insn, code) + 1", "offsetof(struct bpf_insn, off) - 1"),
            off => M("off"),
            imm => M("imm"),
        }),
    ]
}

macro_rules! consts {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), $name as i128)),*]
    };
}

fn constants() -> Vec<(&'static str, i128)> {
    consts![
        BPF_MAP_CREATE,
        BPF_MAP_LOOKUP_ELEM,
        BPF_MAP_UPDATE_ELEM,
        BPF_MAP_FREEZE,
        BPF_PROG_LOAD,
        BPF_OBJ_PIN,
        BPF_OBJ_GET,
        BPF_PROG_TEST_RUN,
        BPF_PROG_GET_NEXT_ID,
        BPF_MAP_GET_NEXT_ID,
        BPF_LINK_GET_NEXT_ID,
        BPF_FUNC_btf_find_by_name_kind,
        BPF_BTF_LOAD,
        BPF_RAW_TRACEPOINT_OPEN,
        BPF_LINK_CREATE,
        BPF_OBJ_GET_INFO_BY_FD,
        BPF_PROG_GET_FD_BY_ID,
        BPF_MAP_GET_FD_BY_ID,
        BPF_LINK_GET_FD_BY_ID,
        BPF_BTF_GET_FD_BY_ID,
        BPF_PSEUDO_MAP_FD,
        BPF_PSEUDO_MAP_VALUE,
        BPF_PSEUDO_MAP_IDX,
        BPF_PSEUDO_MAP_IDX_VALUE,
        BPF_PSEUDO_CALL,
        BPF_PSEUDO_FUNC,
        BPF_F_SLEEPABLE,
        BPF_ANY,
        BTF_KIND_FUNC,
        BTF_KIND_TYPEDEF,
        BPF_OBJ_NAME_LEN,
        BPF_TAG_SIZE,
        BPF_PROG_TYPE_UNSPEC,
        BPF_PROG_TYPE_SOCKET_FILTER,
        BPF_PROG_TYPE_KPROBE,
        BPF_PROG_TYPE_SCHED_CLS,
        BPF_PROG_TYPE_SCHED_ACT,
        BPF_PROG_TYPE_TRACEPOINT,
        BPF_PROG_TYPE_XDP,
        BPF_PROG_TYPE_PERF_EVENT,
        BPF_PROG_TYPE_CGROUP_SKB,
        BPF_PROG_TYPE_CGROUP_SOCK,
        BPF_PROG_TYPE_LWT_IN,
        BPF_PROG_TYPE_LWT_OUT,
        BPF_PROG_TYPE_LWT_XMIT,
        BPF_PROG_TYPE_SOCK_OPS,
        BPF_PROG_TYPE_SK_SKB,
        BPF_PROG_TYPE_CGROUP_DEVICE,
        BPF_PROG_TYPE_SK_MSG,
        BPF_PROG_TYPE_RAW_TRACEPOINT,
        BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        BPF_PROG_TYPE_LWT_SEG6LOCAL,
        BPF_PROG_TYPE_LIRC_MODE2,
        BPF_PROG_TYPE_SK_REUSEPORT,
        BPF_PROG_TYPE_FLOW_DISSECTOR,
        BPF_PROG_TYPE_CGROUP_SYSCTL,
        BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
        BPF_PROG_TYPE_CGROUP_SOCKOPT,
        BPF_PROG_TYPE_TRACING,
        BPF_PROG_TYPE_STRUCT_OPS,
        BPF_PROG_TYPE_EXT,
        BPF_PROG_TYPE_LSM,
        BPF_PROG_TYPE_SK_LOOKUP,
        BPF_PROG_TYPE_SYSCALL,
        BPF_MAP_TYPE_UNSPEC,
        BPF_MAP_TYPE_HASH,
        BPF_MAP_TYPE_ARRAY,
        BPF_MAP_TYPE_PROG_ARRAY,
        BPF_MAP_TYPE_PERF_EVENT_ARRAY,
        BPF_MAP_TYPE_PERCPU_HASH,
        BPF_MAP_TYPE_PERCPU_ARRAY,
        BPF_MAP_TYPE_STACK_TRACE,
        BPF_MAP_TYPE_CGROUP_ARRAY,
        BPF_MAP_TYPE_LRU_HASH,
        BPF_MAP_TYPE_LRU_PERCPU_HASH,
        BPF_MAP_TYPE_LPM_TRIE,
        BPF_MAP_TYPE_ARRAY_OF_MAPS,
        BPF_MAP_TYPE_HASH_OF_MAPS,
        BPF_MAP_TYPE_DEVMAP,
        BPF_MAP_TYPE_SOCKMAP,
        BPF_MAP_TYPE_CPUMAP,
        BPF_MAP_TYPE_XSKMAP,
        BPF_MAP_TYPE_SOCKHASH,
        BPF_MAP_TYPE_CGROUP_STORAGE,
        BPF_MAP_TYPE_REUSEPORT_SOCKARRAY,
        BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
        BPF_MAP_TYPE_QUEUE,
        BPF_MAP_TYPE_STACK,
        BPF_MAP_TYPE_SK_STORAGE,
        BPF_MAP_TYPE_DEVMAP_HASH,
        BPF_MAP_TYPE_STRUCT_OPS,
        BPF_MAP_TYPE_RINGBUF,
        BPF_MAP_TYPE_INODE_STORAGE,
        BPF_MAP_TYPE_TASK_STORAGE,
        BPF_MAP_TYPE_BLOOM_FILTER,
        BPF_MAP_TYPE_USER_RINGBUF,
        BPF_CGROUP_INET_INGRESS,
        BPF_CGROUP_INET_EGRESS,
        BPF_CGROUP_INET_SOCK_CREATE,
        BPF_CGROUP_SOCK_OPS,
        BPF_SK_SKB_STREAM_PARSER,
        BPF_SK_SKB_STREAM_VERDICT,
        BPF_CGROUP_DEVICE,
        BPF_SK_MSG_VERDICT,
        BPF_CGROUP_INET4_BIND,
        BPF_CGROUP_INET6_BIND,
        BPF_CGROUP_INET4_CONNECT,
        BPF_CGROUP_INET6_CONNECT,
        BPF_CGROUP_INET4_POST_BIND,
        BPF_CGROUP_INET6_POST_BIND,
        BPF_CGROUP_UDP4_SENDMSG,
        BPF_CGROUP_UDP6_SENDMSG,
        BPF_LIRC_MODE2,
        BPF_FLOW_DISSECTOR,
        BPF_CGROUP_SYSCTL,
        BPF_CGROUP_UDP4_RECVMSG,
        BPF_CGROUP_UDP6_RECVMSG,
        BPF_CGROUP_GETSOCKOPT,
        BPF_CGROUP_SETSOCKOPT,
        BPF_TRACE_RAW_TP,
        BPF_TRACE_FENTRY,
        BPF_TRACE_FEXIT,
        BPF_MODIFY_RETURN,
        BPF_LSM_MAC,
        BPF_TRACE_ITER,
        BPF_CGROUP_INET4_GETPEERNAME,
        BPF_CGROUP_INET6_GETPEERNAME,
        BPF_CGROUP_INET4_GETSOCKNAME,
        BPF_CGROUP_INET6_GETSOCKNAME,
        BPF_XDP_DEVMAP,
        BPF_CGROUP_INET_SOCK_RELEASE,
        BPF_XDP_CPUMAP,
        BPF_SK_LOOKUP,
        BPF_XDP,
        BPF_SK_SKB_VERDICT,
        BPF_SK_REUSEPORT_SELECT,
        BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
        BPF_PERF_EVENT,
        BPF_TRACE_KPROBE_MULTI,
        BPF_LSM_CGROUP,
    ]
}

/// C expression for the offset of `desig` in `l.agg`, relative to `l.base`.
fn c_off(l: &Layout, desig: &str) -> String {
    let mut e = format!("offsetof({}, {desig})", l.agg);
    if let Some(b) = l.base {
        write!(e, " - offsetof({}, {b})", l.agg).unwrap();
    }
    e
}

/// C expression naming member `desig` of `l.agg` (or the aggregate itself).
fn c_member(l: &Layout, desig: &str) -> String {
    if desig.is_empty() {
        format!("(*({} *)0)", l.agg)
    } else {
        format!("((({} *)0)->{desig})", l.agg)
    }
}

/// Generates the C program: one `key value` line per quantity.
fn c_program(layouts: &[Layout], consts: &[(&str, i128)]) -> String {
    let mut items: Vec<(String, String)> = Vec::new();
    let mut put = |k: String, e: String| items.push((k, e));
    put("linux_version".into(), "LINUX_VERSION_CODE".into());
    for l in layouts {
        for f in &l.fields {
            let k = format!("{}.{}", l.name, f.rust);
            match f.c {
                C::M(d) => {
                    put(format!("{k}.off"), c_off(l, d));
                    put(format!("{k}.size"), format!("sizeof{}", c_member(l, d)));
                    let m = c_member(l, d);
                    put(format!("{k}.align"), format!("_Alignof(__typeof__{m})"));
                }
                C::Off(d) => put(format!("{k}.off"), c_off(l, d)),
                C::Expr(off, size) => {
                    put(format!("{k}.off"), off.into());
                    put(format!("{k}.size"), size.into());
                }
                C::Pad => {}
            }
        }
        match l.size_rule {
            Size::Prefix(end) => {
                let e = format!("{} + sizeof{}", c_off(l, end), c_member(l, end));
                put(format!("{}.end", l.name), e);
            }
            Size::Member(d) => {
                let m = c_member(l, d);
                put(format!("{}.sizeof", l.name), format!("sizeof{m}"));
                put(
                    format!("{}.alignof", l.name),
                    format!("_Alignof(__typeof__{m})"),
                );
            }
            Size::Info => {
                put(format!("{}.sizeof", l.name), format!("sizeof({})", l.agg));
                put(
                    format!("{}.alignof", l.name),
                    format!("_Alignof({})", l.agg),
                );
            }
        }
    }
    put(
        "union_bpf_attr.sizeof".into(),
        "sizeof(union bpf_attr)".into(),
    );
    for (name, _) in consts {
        put(format!("const.{name}"), (*name).into());
    }
    put("gpl_word".into(), "gpl_word()".into());
    put("insn_regs".into(), "insn_regs()".into());

    let mut c = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include <string.h>\n\
         #include <linux/version.h>\n#include <linux/bpf.h>\n#include <linux/btf.h>\n\n\
         /* The bitfield word of bpf_prog_info with only gpl_compatible set. */\n\
         static long long gpl_word(void) {\n\
         \tstruct bpf_prog_info i; __u32 w;\n\
         \tmemset(&i, 0, sizeof(i)); i.gpl_compatible = 1;\n\
         \tmemcpy(&w, (char *)&i + offsetof(struct bpf_prog_info, ifindex) + sizeof(__u32), sizeof(w));\n\
         \treturn w;\n}\n\n\
         /* Byte 1 of a bpf_insn with dst_reg 3 and src_reg 10. */\n\
         static long long insn_regs(void) {\n\
         \tstruct bpf_insn i; unsigned char b;\n\
         \tmemset(&i, 0, sizeof(i)); i.dst_reg = 3; i.src_reg = 10;\n\
         \tmemcpy(&b, (char *)&i + 1, 1);\n\
         \treturn b;\n}\n\nint main(void) {\n",
    );
    for (k, e) in items {
        writeln!(c, "\tprintf(\"%s %lld\\n\", \"{k}\", (long long)({e}));").unwrap();
    }
    c.push_str("\treturn 0;\n}\n");
    c
}

/// Builds and runs the C program; returns its `key value` pairs.
fn run_c(src: &str) -> HashMap<String, i128> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("abi_layout");
    std::fs::create_dir_all(&dir).unwrap();
    let c_path = dir.join(format!("abi_layout_{}.c", std::process::id()));
    let bin = dir.join(format!("abi_layout_{}", std::process::id()));
    std::fs::write(&c_path, src).unwrap();
    let out = Command::new("cc")
        .args(["-std=gnu11", "-Wall", "-Werror", "-o"])
        .arg(&bin)
        .arg(&c_path)
        .output()
        .expect("spawning `cc` (a C compiler and the linux UAPI headers are needed)");
    assert!(
        out.status.success(),
        "cc failed on {}:\n{}",
        c_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&bin)
        .output()
        .expect("running the C layout probe");
    assert!(
        run.status.success(),
        "C layout probe failed: {:?}",
        run.status
    );
    let _ = std::fs::remove_file(&c_path);
    let _ = std::fs::remove_file(&bin);
    String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (k, v) = line.split_once(' ').unwrap();
            (k.to_owned(), v.parse().unwrap())
        })
        .collect()
}

fn round_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

#[test]
fn abi_matches_linux_uapi_header() {
    let layouts = layouts();
    let consts = constants();
    let c = run_c(&c_program(&layouts, &consts));
    let get = |k: &str| -> usize {
        let v = *c
            .get(k)
            .unwrap_or_else(|| panic!("C probe printed no `{k}`"));
        usize::try_from(v).unwrap()
    };
    let version = get("linux_version");
    let is_6_1 = version >> 8 == (6 << 8 | 1);
    let mut bad: Vec<String> = Vec::new();
    let mut checked = 0;

    for l in &layouts {
        // Field offsets, sizes and alignments against C.
        let mut c_align = 1;
        for f in &l.fields {
            let k = format!("{}.{}", l.name, f.rust);
            if matches!(f.c, C::Pad) {
                continue;
            }
            checked += 1;
            let off = get(&format!("{k}.off"));
            if off != f.off {
                bad.push(format!("{k}: C offset {off}, Rust offset {}", f.off));
            }
            if let C::M(_) | C::Expr(..) = f.c {
                let size = get(&format!("{k}.size"));
                if size != f.size {
                    bad.push(format!("{k}: C size {size}, Rust size {}", f.size));
                }
            }
            if let C::M(_) = f.c {
                c_align = c_align.max(get(&format!("{k}.align")));
            }
        }

        // No implicit padding: top-level fields tile the struct exactly.
        let mut top: Vec<&Field> = l.fields.iter().filter(|f| !f.rust.contains('.')).collect();
        top.sort_by_key(|f| f.off);
        let mut at = 0;
        for f in &top {
            if f.off != at {
                bad.push(format!(
                    "{}: implicit padding at {at}..{} before `{}`",
                    l.name, f.off, f.rust
                ));
            }
            at = f.off + f.size;
        }
        if at != l.size {
            bad.push(format!(
                "{}: implicit tail padding at {at}..{}",
                l.name, l.size
            ));
        }

        // Size and alignment of the whole struct.
        match l.size_rule {
            Size::Prefix(_) => {
                let want = round_up(get(&format!("{}.end", l.name)), c_align);
                if l.size != want || l.align != c_align {
                    bad.push(format!(
                        "{}: C prefix size {want} align {c_align}, Rust size {} align {}",
                        l.name, l.size, l.align
                    ));
                }
            }
            Size::Member(_) => {
                let (size, align) = (
                    get(&format!("{}.sizeof", l.name)),
                    get(&format!("{}.alignof", l.name)),
                );
                if l.size != size || l.align != align {
                    bad.push(format!(
                        "{}: C size {size} align {align}, Rust size {} align {}",
                        l.name, l.size, l.align
                    ));
                }
            }
            Size::Info => {
                let (size, align) = (
                    get(&format!("{}.sizeof", l.name)),
                    get(&format!("{}.alignof", l.name)),
                );
                let size_ok = if is_6_1 {
                    l.size == size
                } else {
                    l.size <= size
                };
                if !size_ok || l.align != align {
                    let rel = if is_6_1 { "==" } else { "<=" };
                    bad.push(format!(
                        "{}: want size {rel} C size {size} and align {align}, Rust size {} align {}",
                        l.name, l.size, l.align
                    ));
                }
            }
        }
    }

    // Constants.
    for (name, v) in &consts {
        let cv = c[&format!("const.{name}")];
        if cv != *v {
            bad.push(format!("{name}: C value {cv}, Rust value {v}"));
        }
    }

    // Bitfields.
    let gpl_word = get("gpl_word") as u32;
    let on = ProgInfo {
        gpl_compatible: gpl_word,
        ..Default::default()
    };
    let off = ProgInfo {
        gpl_compatible: !gpl_word,
        ..Default::default()
    };
    if !on.gpl_compatible() || off.gpl_compatible() {
        bad.push(format!(
            "ProgInfo::gpl_compatible() disagrees with C's bit (word {gpl_word:#x})"
        ));
    }
    let regs = get("insn_regs") as u8;
    let insn = BpfInsn::new(0, 3, 10, 0, 0);
    if insn.regs != regs || insn.dst_reg() != 3 || insn.src_reg() != 10 {
        bad.push(format!(
            "BpfInsn regs: C byte {regs:#04x}, Rust byte {:#04x}",
            insn.regs
        ));
    }
    let mut insn2 = BpfInsn::default();
    insn2.set_src_reg(10);
    insn2.set_dst_reg(3);
    if insn2.regs != regs {
        bad.push(format!(
            "BpfInsn setters: C byte {regs:#04x}, Rust byte {:#04x}",
            insn2.regs
        ));
    }

    // The catch-all union and the size passed to bpf(2).
    let attr_max = layouts
        .iter()
        .filter(|l| l.agg == "union bpf_attr" && l.name.ends_with("Attr"))
        .map(|l| l.size)
        .max()
        .unwrap();
    let c_attr = get("union_bpf_attr.sizeof");
    if size_of::<Attr>() != attr_max || align_of::<Attr>() != 8 || size_of::<Attr>() > c_attr {
        bad.push(format!(
            "Attr: size {} align {}, want size {attr_max} (<= C {c_attr}) align 8",
            size_of::<Attr>(),
            align_of::<Attr>()
        ));
    }
    assert_eq!(
        <ProgLoadAttr as BpfAttr>::SIZE as usize,
        size_of::<ProgLoadAttr>()
    );
    assert_eq!(<Attr as BpfAttr>::SIZE as usize, size_of::<Attr>());

    println!(
        "linux/bpf.h {}.{}.{}: {} layouts, {checked} fields, {} constants checked",
        version >> 16,
        version >> 8 & 0xff,
        version & 0xff,
        layouts.len(),
        consts.len()
    );
    assert!(
        bad.is_empty(),
        "abi.rs disagrees with <linux/bpf.h> ({} mismatches):\n  {}",
        bad.len(),
        bad.join("\n  ")
    );
}

#[test]
fn link_setters_touch_only_their_variant() {
    let mut a = LinkCreateAttr::default();
    a.set_iter_info(0x1122_3344_5566_7788, 8);
    assert_eq!(a.u.iter().iter_info, 0x1122_3344_5566_7788);
    assert_eq!(a.u.iter().iter_info_len, 8);
    a.set_target_btf_id(42);
    let raw = a.u.raw();
    assert_eq!(raw[1..], [0, 0, 0]);
    assert_eq!(a.u.target_btf_id(), 42);
    assert_eq!(raw[0] as u32 | (raw[0] >> 32) as u32, 42);
    a.set_perf_event_cookie(u64::MAX);
    assert_eq!(a.u.perf_event().bpf_cookie, u64::MAX);
    assert_eq!(a.u.raw()[1..], [0, 0, 0]);
    assert_eq!(LinkCreateUnion::default(), LinkCreateUnion::zeroed());

    let mut info = LinkInfo::default();
    info.set_raw_tracepoint(LinkInfoRawTracepoint {
        tp_name: 7,
        tp_name_len: 16,
        pad: 0,
    });
    assert_eq!(info.raw_tracepoint().tp_name_len, 16);
    assert_eq!(info.iter().target_name, 7);

    let attr = Attr::from(MapFreezeAttr { map_fd: 9 });
    let raw = attr.raw();
    assert_eq!(raw[0] as u32 | (raw[0] >> 32) as u32, 9);
    assert!(raw[1..].iter().all(|&w| w == 0));
    assert_eq!(Attr::default(), Attr::zeroed());
}

/// The unions' `Debug` prints their words, every one initialised, whatever was set:
/// safe code cannot make it read uninitialised bytes (the unions cannot be built
/// field by field; see `tests/compile_fail/abi_union_*.rs`).
#[test]
fn unions_format_only_initialised_words() {
    let mut a = LinkCreateAttr::default();
    a.set_target_btf_id(7);
    let text = format!("{a:?}");
    assert!(text.contains("raw: [7, 0, 0, 0]"), "{text}");
    let attr = Attr::from(a);
    let text = format!("{attr:?}");
    assert!(text.starts_with("Attr { raw: ["), "{text}");
    // Every byte of an attr is what bpf(2) reads: the setter zeroed the rest.
    let bytes: [u8; size_of::<Attr>()] =
        // SAFETY: `Attr` is 144 bytes of integers, all initialised.
        unsafe { std::mem::transmute(attr) };
    assert_eq!(bytes[16], 7);
    assert!(bytes[20..].iter().all(|&b| b == 0));
}
