// SPDX-License-Identifier: GPL-2.0
/*
 * A tracer, made by `cargo bpf-preload new --tracing`: a BTF-typed tracepoint
 * on sched_process_exec counts program executions per user id into the
 * `execs` map (find it with `bpftool map show name execs`, read it with
 * `bpftool map dump name execs`). Change it, then rebuild the object:
 *
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c program.bpf.c -o program.bpf.o && llvm-strip-19 -g program.bpf.o
 *
 * (Debian: `apt-get install clang-19 llvm-19 libbpf-dev`.) tp_btf, fentry,
 * fexit, lsm and iter programs attach from a module; kprobes and classic
 * tracepoints do not.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} execs SEC(".maps");

struct task_struct;
struct linux_binprm;

SEC("tp_btf/sched_process_exec")
int BPF_PROG(count_exec, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u64 one = 1, *count;

	count = bpf_map_lookup_elem(&execs, &uid);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&execs, &uid, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
