// SPDX-License-Identifier: GPL-2.0
/*
 * What the bpf-preload runtime holds, shown by two BPF iterators: one line for
 * every program and every map the runtime holds, the kernel's own view of it (its
 * id and name, read from the kernel's object) beside the runtime's (the object
 * module, the object, the table's name, the attach point, the link). On a stock
 * kernel the runtime offers their links to every bpffs mount through the kernel's
 * preload hook, as preload.progs and preload.maps, and `cargo bpf-preload status`
 * reads the same rows from the map.
 *
 * The rows are the runtime's: it writes one for every program and map of an object
 * when the object is loaded and deletes them when it is released. The iterators
 * walk the kernel's programs and maps and show those the map has a row for, so a
 * row whose object is gone shows nothing.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c status.bpf.c -o status.bpf.o && llvm-strip-19 -g status.bpf.o
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
	char name[16];
	__u32 max_entries;
};

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};

struct bpf_prog_aux {
	__u32 id;
	char name[16];
};

struct bpf_prog {
	struct bpf_prog_aux *aux;
};

struct bpf_iter__bpf_prog {
	struct bpf_iter_meta *meta;
	struct bpf_prog *prog;
};
#pragma clang attribute pop

/* The kinds of a key: the kernel's enum bpf_type, as BPF_PRELOAD_PIN_* in shim.h. */
#define STATUS_PROG 1
#define STATUS_MAP 2

/* Row flags. */
#define STATUS_PROTECTED 1 /* the object is protected by the guard */
#define STATUS_ABANDONED 2 /* its module was removed by force: held until shutdown */
#define STATUS_SHARED 4 /* a map shared by name, held by the runtime's registry */

/* preload-runtime/src/status.rs has the same two types (StatusKey, StatusRow). */
struct status_key {
	__u32 kind;
	__u32 id;
};

struct status_row {
	char module[56];	/* the object module (MODULE_NAME_LEN) */
	char object[64];	/* the object's name */
	char name[64];		/* the program's or map's name in the object */
	char attach[64];	/* a program's section: where it attaches */
	__u32 link_id;		/* the link attaching a program, or 0 */
	__u32 flags;		/* STATUS_* */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct status_key);
	__type(value, struct status_row);
} preload_status SEC(".maps");

static const char *state(const struct status_row *row)
{
	if (row->flags & STATUS_ABANDONED)
		return "abandoned";
	if (row->flags & STATUS_PROTECTED)
		return "protected";
	if (row->flags & STATUS_SHARED)
		return "shared";
	return "";
}

SEC("iter/bpf_prog")
int status_progs(struct bpf_iter__bpf_prog *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_prog *prog = ctx->prog;
	struct status_key key = { .kind = STATUS_PROG };
	struct status_row *row;

	/* A NULL program marks the end of the iteration (the "stop" call). */
	if (!prog)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "%-20s %-20s %-24s %6s %-16s %-24s %6s %s\n", "module",
			       "object", "program", "id", "kernel name", "attach", "link",
			       "state");
	key.id = prog->aux->id;
	row = bpf_map_lookup_elem(&preload_status, &key);
	if (!row)
		return 0;
	BPF_SEQ_PRINTF(seq, "%-20s %-20s %-24s %6u %-16s %-24s %6u %s\n", row->module,
		       row->object, row->name, key.id, prog->aux->name, row->attach,
		       row->link_id, state(row));
	return 0;
}

SEC("iter/bpf_map")
int status_maps(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;
	struct status_key key = { .kind = STATUS_MAP };
	struct status_row *row;

	if (!map)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "%-20s %-20s %-24s %6s %-16s %11s %s\n", "module", "object",
			       "map", "id", "kernel name", "max_entries", "state");
	key.id = map->id;
	row = bpf_map_lookup_elem(&preload_status, &key);
	if (!row)
		return 0;
	BPF_SEQ_PRINTF(seq, "%-20s %-20s %-24s %6u %-16s %11u %s\n", row->module, row->object,
		       row->name, key.id, map->name, map->max_entries, state(row));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
