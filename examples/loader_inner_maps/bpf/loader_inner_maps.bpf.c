// SPDX-License-Identifier: GPL-2.0
/*
 * Maps of maps whose inner maps their loader supplies, as products declare them: no
 * `__array(values, ...)`, only the 4-byte value a map of maps holds (an inner map's
 * fd on update, its id on lookup), like an init system's per-cgroup map or an
 * agent's per-container maps. The product's loader gives each a template before load
 * with libbpf's bpf_map__set_inner_map_fd(); bpf-preload takes it from the attribute:
 * `per_cgroup`'s is `template`, another map of the object, and `per_slot`'s a
 * definition. User space fills the outer maps at run time with maps like the
 * template, and the kernel refuses any other.
 *
 * Run with BPF_PROG_TEST_RUN: `count_cgroup` and `count_slot` increment element 0
 * of the inner map at key 7 of `per_cgroup` (slot 0 of `per_slot`) and return the
 * new count, or 1000 while there is none.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c loader_inner_maps.bpf.c -o loader_inner_maps.bpf.o && llvm-strip-19 -g loader_inner_maps.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The template of per_cgroup's inner maps: one 64-bit counter. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} template SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 64);
	__type(key, __u32);	/* a cgroup, say */
	__type(value, __u32);	/* an inner map, supplied by the loader */
} per_cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} per_slot SEC(".maps");

static int count(void *inner)
{
	__u32 zero = 0;
	__u64 *n;

	if (!inner)
		return 1000;
	n = bpf_map_lookup_elem(inner, &zero);
	if (!n)
		return 2000;
	return (int)__sync_add_and_fetch(n, 1);
}

SEC("socket")
int count_cgroup(struct __sk_buff *skb)
{
	__u32 key = 7;

	return count(bpf_map_lookup_elem(&per_cgroup, &key));
}

SEC("socket")
int count_slot(struct __sk_buff *skb)
{
	__u32 key = 0;

	return count(bpf_map_lookup_elem(&per_slot, &key));
}

char LICENSE[] SEC("license") = "GPL";
