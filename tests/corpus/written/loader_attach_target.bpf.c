// SPDX-License-Identifier: GPL-2.0
/*
 * Written for the corpus (no Debian-packaged object has this shape): programs whose
 * sections name no attach target, which their loader completes with
 * bpf_program__set_attach_target() before load, as products that choose the hook at
 * run time do: a BTF-typed raw tracepoint given `sys_enter`, and an iterator given
 * `bpf_map`. (An LSM or fentry program given its hook is the same call; this host
 * refuses those program types to every loader.)
 *
 * loader: target=on_enter:sys_enter
 * loader: target=dump_maps:bpf_map
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_map {
	__u32 id;
};

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};
#pragma clang attribute pop

struct pt_regs;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} enters SEC(".maps");

SEC("tp_btf")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&enters, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("iter")
int dump_maps(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;

	if (map)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%u\n", map->id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
