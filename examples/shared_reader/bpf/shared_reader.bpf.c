// SPDX-License-Identifier: GPL-2.0
/*
 * The other half of examples/shared_writer: it declares the same map
 * `shared_hits` (LIBBPF_PIN_BY_NAME), so it reads what the writer counts. On
 * each getpgid(2) it copies the count into its own map `reader_seen`, which
 * only this object has: a write through one object's program seen by the
 * other's.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c shared_reader.bpf.c -o shared_reader.bpf.o && llvm-strip-19 -g shared_reader.bpf.o
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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} reader_seen SEC(".maps");

struct pt_regs;

/* x86-64 syscall number of getpgid. */
#define NR_GETPGID 121

SEC("tp_btf/sys_enter")
int BPF_PROG(copy_hits, struct pt_regs *regs, long id)
{
	__u32 zero = 0;
	__u64 *hits, *seen;

	if (id != NR_GETPGID)
		return 0;
	hits = bpf_map_lookup_elem(&shared_hits, &zero);
	seen = bpf_map_lookup_elem(&reader_seen, &zero);
	if (hits && seen)
		*seen = *hits;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
