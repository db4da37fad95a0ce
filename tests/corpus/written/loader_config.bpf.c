// SPDX-License-Identifier: GPL-2.0
/*
 * Written for the corpus (no Debian-packaged object has this shape): a policy its
 * loader configures before load, as every product's does through its skeleton: a
 * target pid and a switch in `.rodata` (`const volatile`, constants to the verifier,
 * which then drops the branch not taken), and a limit in `.data`.
 *
 * loader: set=target_pid:4242
 * loader: set=enforce:true
 * loader: set=limit:99
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __s32 target_pid = -1;
const volatile _Bool enforce = 0;
__u64 limit = 10;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} seen SEC(".maps");

SEC("socket")
int filter(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *n;

	if (target_pid >= 0 && skb->mark != (__u32)target_pid)
		return 0;
	n = bpf_map_lookup_elem(&seen, &zero);
	if (!n)
		return 0;
	if (enforce && *n >= limit)
		return 0;
	__sync_fetch_and_add(n, 1);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
