// SPDX-License-Identifier: GPL-2.0
/*
 * Counts getppid(2) calls per process with a BTF-typed raw tracepoint on
 * sys_enter (attachable from a module, unlike raw_tp; fentry cannot be used:
 * syscalls without arguments, like getppid, have no wrapper in the kernel's BTF).
 * User space finds the `getppid_calls` map by its name among the kernel's maps
 * (by id) and reads its own count.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c getppid_count.bpf.c -o getppid_count.bpf.o && llvm-strip-19 -g getppid_count.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4096);
} getppid_calls SEC(".maps");

struct pt_regs;

/* x86-64 syscall number of getppid. */
#define NR_GETPPID 110

SEC("tp_btf/sys_enter")
int BPF_PROG(count_getppid, struct pt_regs *regs, long id)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *count;

	if (id != NR_GETPPID)
		return 0;
	count = bpf_map_lookup_elem(&getppid_calls, &tgid);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&getppid_calls, &tgid, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
