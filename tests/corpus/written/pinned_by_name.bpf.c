// SPDX-License-Identifier: GPL-2.0
/*
 * Written for the corpus (no Debian-packaged object has this shape): a map pinned by
 * name (LIBBPF_PIN_BY_NAME), as the objects of a product that share their maps
 * declare it, next to one that is not. Loaded alone, the loader creates it and pins
 * it in its pin root (libbpf's pin_root_path, here each side's own bpffs).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} policy_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} local_count SEC(".maps");

SEC("socket")
int record(struct __sk_buff *skb)
{
	__u32 key = skb->mark, zero = 0;
	__u64 one = 1, *n;

	bpf_map_update_elem(&policy_events, &key, &one, BPF_ANY);
	n = bpf_map_lookup_elem(&local_count, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
