// SPDX-License-Identifier: GPL-2.0
/*
 * Written for the corpus (no Debian-packaged object has this shape): per-policy LPM
 * tries keyed by arrays, as a runtime security agent's network sensors declare them,
 * held by a hash of maps keyed by policy id and by an array of maps, one of whose
 * slots is filled statically. The kernel refuses an LPM trie with a BTF key type that
 * is not a struct (EINVAL), so loaders create these without their BTF types (libbpf:
 * "Retrying without BTF"). `.rodata` holds a setting one program reads and one does
 * not; libbpf binds it to both.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* A prefix length, then an IPv6 address. */
#define V6_KEY 20
/* A prefix length, then an IPv4 address. */
#define V4_KEY 8

struct v6_trie {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 256);
	__type(key, __u8[V6_KEY]);
	__type(value, __u32);
};

struct v4_trie {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 256);
	__type(key, __u8[V4_KEY]);
	__type(value, __u64);
} default_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 64);
	__type(key, __u16);
	__array(values, struct v6_trie);
} v6_by_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct v4_trie);
} v4_by_slot SEC(".maps") = {
	.values = { [0] = &default_v4 },
};

const volatile __u16 policy = 1;

SEC("socket")
int match_v6(struct __sk_buff *skb)
{
	__u8 key[V6_KEY] = { 128 };
	__u16 id = policy;
	__u32 *verdict;
	void *trie;

	trie = bpf_map_lookup_elem(&v6_by_policy, &id);
	if (!trie)
		return 0;
	verdict = bpf_map_lookup_elem(trie, key);
	return verdict ? *verdict : 0;
}

SEC("socket")
int match_v4(struct __sk_buff *skb)
{
	__u8 key[V4_KEY] = { 32, 0, 0, 0, 127, 0, 0, 1 };
	__u32 slot = 0;
	__u64 *hits;
	void *trie;

	trie = bpf_map_lookup_elem(&v4_by_slot, &slot);
	if (!trie)
		return 0;
	hits = bpf_map_lookup_elem(trie, key);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
