// SPDX-License-Identifier: GPL-2.0
/*
 * Maps whose shape the loader completes at load time: a map of maps with a slot
 * filled statically, a program array with a tail call filled statically, a perf event
 * array sized to the possible CPUs, and a `.bss` that user space can mmap. Run with
 * BPF_PROG_TEST_RUN: `enter` reads through the inner map, then tail-calls `tail`.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c map_kinds.bpf.c -o map_kinds.bpf.o && llvm-strip-19 -g map_kinds.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [1] = &inner_a },
};

int tail(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [2] = (void *)&tail },
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__type(key, int);
	__type(value, int);
} events SEC(".maps");

/* What the programs saw, read by user space through an mmap of `.bss`. */
__u64 inner_value;
__u64 tail_calls;

SEC("socket")
int enter(struct __sk_buff *skb)
{
	__u32 one = 1, zero = 0;
	__u64 *value;
	void *map;

	map = bpf_map_lookup_elem(&outer, &one);
	if (!map)
		return 1;
	value = bpf_map_lookup_elem(map, &zero);
	if (!value)
		return 2;
	inner_value = *value;
	bpf_tail_call(skb, &jumps, 2);
	return 3;
}

SEC("socket")
int tail(struct __sk_buff *skb)
{
	tail_calls++;
	return 42;
}

char LICENSE[] SEC("license") = "GPL";
