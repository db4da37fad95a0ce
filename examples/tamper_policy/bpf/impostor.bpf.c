// SPDX-License-Identifier: GPL-2.0
/*
 * What an attacker in the tamper matrix gives an iterator link instead of its
 * program (BPF_LINK_UPDATE), or pins in place of an iterator: an iterator of
 * the same kind that prints something else. Loaded by preload-probe.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c impostor.bpf.c -o impostor.bpf.o && llvm-strip-19 -g impostor.bpf.o
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

struct bpf_map;

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};
#pragma clang attribute pop

SEC("iter/bpf_map")
int impostor(struct bpf_iter__bpf_map *ctx)
{
	if (ctx->map && ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(ctx->meta->seq, "impostor: nothing to see here\n");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
