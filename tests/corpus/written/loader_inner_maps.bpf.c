// SPDX-License-Identifier: GPL-2.0
/*
 * Written for the corpus (no Debian-packaged object has this shape): maps of maps
 * declared without their inner map, as a Kubernetes runtime-enforcement agent's
 * per-container maps and an init system's per-cgroup map are; their loader gives the
 * inner map with bpf_map__set_inner_map_fd() before load: for `per_container` a hash
 * of its own definition, for `per_cgroup` a map like the object's `template`.
 *
 * loader: inner=per_container:hash:4:8:64
 * loader: inner=per_cgroup:@template
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} template SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u32);
} per_container SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} per_cgroup SEC(".maps");

SEC("socket")
int count_container(struct __sk_buff *skb)
{
	__u64 container = skb->mark;
	__u32 key = 0;
	__u64 *count;
	void *inner;

	inner = bpf_map_lookup_elem(&per_container, &container);
	if (!inner)
		return 0;
	count = bpf_map_lookup_elem(inner, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

SEC("socket")
int count_cgroup(struct __sk_buff *skb)
{
	__u32 cgroup = skb->mark & 7, key = 1;
	__u64 *count;
	void *inner;

	inner = bpf_map_lookup_elem(&per_cgroup, &cgroup);
	if (!inner)
		return 0;
	count = bpf_map_lookup_elem(inner, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
