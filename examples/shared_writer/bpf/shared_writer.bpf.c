// SPDX-License-Identifier: GPL-2.0
/*
 * One half of a product of two objects that share a map, as libbpf shares it
 * (LIBBPF_PIN_BY_NAME): this one counts getppid(2) calls into `shared_hits`;
 * examples/shared_reader declares the same map and reads it. Whichever loads
 * first creates the map, the other reuses it.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c shared_writer.bpf.c -o shared_writer.bpf.o && llvm-strip-19 -g shared_writer.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_hits SEC(".maps");

struct pt_regs;

/* x86-64 syscall number of getppid. */
#define NR_GETPPID 110

SEC("tp_btf/sys_enter")
int BPF_PROG(count_hits, struct pt_regs *regs, long id)
{
	__u32 zero = 0;
	__u64 *hits;

	if (id != NR_GETPPID)
		return 0;
	hits = bpf_map_lookup_elem(&shared_hits, &zero);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
