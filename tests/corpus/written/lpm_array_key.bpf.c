// SPDX-License-Identifier: GPL-2.0
/*
 * Written for the corpus: a standalone LPM trie keyed by an array (a prefix length and
 * a MAC address), which the kernel refuses with its BTF types, next to one keyed by a
 * struct, which it takes with them. A tracepoint program reads both; `.rodata` holds
 * only metadata, which no program reads and libbpf binds to every program.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct mac_key {
	__u32 prefixlen;
	__u8 mac[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 32);
	__type(key, __u8[10]);
	__type(value, __u32);
} by_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 32);
	__type(key, struct mac_key);
	__type(value, __u32);
} by_struct SEC(".maps");

volatile const char bpf_metadata_written_for[] SEC(".rodata") = "bpf-preload corpus";

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	__u8 key[10] = { 48, 0, 0, 0, 2, 0, 0, 0, 0, 1 };
	struct mac_key skey = { .prefixlen = 48, .mac = { 2, 0, 0, 0, 0, 1 } };
	__u32 *a = bpf_map_lookup_elem(&by_array, key);
	__u32 *b = bpf_map_lookup_elem(&by_struct, &skey);

	return (a ? *a : 0) + (b ? *b : 0);
}

char LICENSE[] SEC("license") = "GPL";
