// SPDX-License-Identifier: GPL-2.0
/*
 * A typed kernel symbol: the per-CPU variable bpf_prog_active, by its BTF id
 * (BPF_PSEUDO_BTF_ID). The kernel finds its address in kallsyms, which lists
 * variables only with CONFIG_KALLSYMS_ALL (Debian's kernels have it), so this object
 * is tested in QEMU only.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c typed_ksym.bpf.c -o typed_ksym.bpf.o && llvm-strip-19 -g typed_ksym.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern const int bpf_prog_active __ksym;

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
int dump_typed_ksym(struct bpf_iter__bpf_map *ctx)
{
	const int *active;

	if (ctx->map)
		return 0;
	active = bpf_this_cpu_ptr(&bpf_prog_active);
	BPF_SEQ_PRINTF(ctx->meta->seq, "bpf_prog_active %d\n", *active);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
