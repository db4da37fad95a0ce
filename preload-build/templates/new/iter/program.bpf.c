// SPDX-License-Identifier: GPL-2.0
/*
 * Two BPF iterators, made by `cargo bpf-preload new --iter`: one lists every
 * task (pid and command), one every BPF map (id and name). Pinned, they are
 * files whose contents the programs write at each read. A stock kernel shows
 * exactly two iterator links in every bpffs mount; the patched kernel of
 * bpf-preload pins them in /sys/fs/bpf/<name>/. Change them, then rebuild:
 *
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c program.bpf.c -o program.bpf.o && llvm-strip-19 -g program.bpf.o
 *
 * (Debian: `apt-get install clang-19 llvm-19 libbpf-dev`.)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Minimal CO-RE views of the kernel's structures: offsets come from its BTF. */
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
};

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

struct bpf_map {
	__u32 id;
	char name[16];
};

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};
#pragma clang attribute pop

SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	/* A NULL task marks the end of the iteration. */
	if (!task)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "    pid comm\n");
	/* One line per process, not per thread. */
	if (task->pid == task->tgid)
		BPF_SEQ_PRINTF(seq, "%7d %s\n", task->pid, task->comm);
	return 0;
}

SEC("iter/bpf_map")
int dump_maps(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;

	if (!map)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "  id name\n");
	BPF_SEQ_PRINTF(seq, "%4u %s\n", map->id, map->name);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
