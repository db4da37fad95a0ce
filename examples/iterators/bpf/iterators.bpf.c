// SPDX-License-Identifier: GPL-2.0
/*
 * BPF iterators dumping the kernel's BPF maps and programs, modelled on the
 * kernel's kernel/bpf/preload/iterators/iterators.bpf.c.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c iterators.bpf.c -o iterators.bpf.o && llvm-strip-19 -g iterators.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/*
 * Minimal views of kernel structures instead of a full vmlinux.h: only the
 * fields read below. preserve_access_index makes clang emit CO-RE
 * relocations, so the real offsets are taken from the running kernel's BTF.
 */
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_map {
	__u32 id;
	char name[16];
	__u32 max_entries;
};

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};

struct bpf_prog;

struct bpf_prog_aux {
	__u32 id;
	char name[16];
	const char *attach_func_name;
	/* Target program of freplace/fentry-on-BPF programs (5.10+). */
	struct bpf_prog *dst_prog;
};

struct bpf_prog {
	struct bpf_prog_aux *aux;
};

struct bpf_iter__bpf_prog {
	struct bpf_iter_meta *meta;
	struct bpf_prog *prog;
};
#pragma clang attribute pop

SEC("iter/bpf_map")
int dump_bpf_map(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u64 seq_num = ctx->meta->seq_num;
	struct bpf_map *map = ctx->map;

	/* A NULL map marks the end of the iteration (the "stop" call). */
	if (!map)
		return 0;

	if (seq_num == 0)
		BPF_SEQ_PRINTF(seq, "  id name             max_entries\n");

	BPF_SEQ_PRINTF(seq, "%4u %-16s %10d\n", map->id, map->name,
		       map->max_entries);
	return 0;
}

SEC("iter/bpf_prog")
int dump_bpf_prog(struct bpf_iter__bpf_prog *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u64 seq_num = ctx->meta->seq_num;
	struct bpf_prog *prog = ctx->prog;
	struct bpf_prog_aux *aux;

	if (!prog)
		return 0;

	aux = prog->aux;
	if (seq_num == 0)
		BPF_SEQ_PRINTF(seq, "  id name             attached\n");

	/*
	 * attach_func_name and dst_prog are NULL for most programs. Loads
	 * through BTF pointers are fault-handled (a NULL dst_prog reads as
	 * zero) and bpf_seq_printf() prints an unreadable string as empty,
	 * so, as in the kernel's version, no explicit checks are needed.
	 */
	BPF_SEQ_PRINTF(seq, "%4u %-16s %s %s\n", aux->id, aux->name,
		       aux->attach_func_name, aux->dst_prog->aux->name);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
