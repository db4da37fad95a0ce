// SPDX-License-Identifier: GPL-2.0
/*
 * LPM tries keyed by an array (`__type(key, __u8[8])`: a prefix length, then an IPv4
 * address), as security agents declare them: one on its own, and as the inner map of
 * an array of maps and of a hash of maps, each of which holds it in a slot. The kernel
 * takes only a struct as an LPM trie's BTF key type, so creating these maps with
 * their BTF types fails (EINVAL): libbpf creates them again without (and so does
 * bpf-preload). Run with BPF_PROG_TEST_RUN: `through_array` and `through_hash` look
 * 10.1.2.3 up in the trie their outer map holds.
 *
 * `.rodata` holds only metadata, which no program reads: libbpf binds it to every
 * program (BPF_PROG_BIND_MAP), and `bpftool prog show` prints it.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c lpm_maps.bpf.c -o lpm_maps.bpf.o && llvm-strip-19 -g lpm_maps.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* A prefix length (a __u32, in host order), then the address's 4 bytes. */
#define KEY_SIZE 8

struct lpm {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16);
	__type(key, __u8[KEY_SIZE]);
	__type(value, __u32);
} allowed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct lpm);
} by_index SEC(".maps") = {
	.values = { [0] = &allowed },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct lpm);
} by_key SEC(".maps") = {
	.values = { [3] = &allowed },
};

volatile const char bpf_metadata_purpose[] SEC(".rodata") = "lpm tries keyed by arrays";

/* The value of the longest prefix of 10.1.2.3 in `trie`, 0 if none, 1000 if no trie. */
static __u32 match(void *trie)
{
	__u8 key[KEY_SIZE] = { 32, 0, 0, 0, 10, 1, 2, 3 };
	__u32 *value;

	if (!trie)
		return 1000;
	value = bpf_map_lookup_elem(trie, key);
	return value ? *value : 0;
}

SEC("socket")
int through_array(struct __sk_buff *skb)
{
	__u32 index = 0;

	return match(bpf_map_lookup_elem(&by_index, &index));
}

SEC("socket")
int through_hash(struct __sk_buff *skb)
{
	__u32 key = 3;

	return match(bpf_map_lookup_elem(&by_key, &key));
}

char LICENSE[] SEC("license") = "GPL";
