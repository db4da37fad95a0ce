// SPDX-License-Identifier: GPL-2.0
/*
 * The object the tamper matrix attacks (tests/vm/tamper-*.sh): a BPF LSM policy
 * whose data is in maps, and two iterators.
 *
 *   refuse_denied  mkdir(2) of a directory named `denied` (in .data) fails with
 *                  EPERM, unless the caller's uid is in `exempt` (asked of the
 *                  global function `exempted`, which freplace could replace);
 *                  each refusal is counted per uid in `refusals`
 *   list_maps      every map: "map <id> <name>", after a header naming this
 *   list_progs     program and showing the policy's data and count
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c tamper_policy.bpf.c -o tamper_policy.bpf.o && llvm-strip-19 -g tamper_policy.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EPERM 1
#define NAME_LEN 32

#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
struct qstr {
	const unsigned char *name;
};

struct dentry {
	struct qstr d_name;
};

struct path;
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_map {
	__u32 id;
	char name[16];
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

/* The policy's data: the directory name it refuses. */
char denied[NAME_LEN] = "tamper-denied";

/* Uids the policy lets through. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 16);
} exempt SEC(".maps");

/* Refusals per uid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} refusals SEC(".maps");

/* Global, as a policy's shared logic often is: verified on its own, and so a
 * function another program can replace (freplace), given this program's fd. */
__noinline int exempted(__u32 uid)
{
	return bpf_map_lookup_elem(&exempt, &uid) != NULL;
}

SEC("lsm/path_mkdir")
int BPF_PROG(refuse_denied, const struct path *dir, struct dentry *dentry, unsigned short mode,
	     int ret)
{
	char name[NAME_LEN];
	__u32 uid = bpf_get_current_uid_gid();
	__u64 one = 1, *count;
	int i, n;

	if (ret)
		return ret;
	n = bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name));
	if (n <= 1)
		return 0;
	for (i = 0; i < NAME_LEN; i++) {
		if (name[i] != denied[i])
			return 0;
		if (!name[i])
			break;
	}
	if (exempted(uid))
		return 0;
	count = bpf_map_lookup_elem(&refusals, &uid);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&refusals, &uid, &one, BPF_NOEXIST);
	return -EPERM;
}

SEC("iter/bpf_map")
int list_maps(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;
	__u32 root = 0;
	__u64 *count;

	if (!map)
		return 0;
	if (ctx->meta->seq_num == 0) {
		count = bpf_map_lookup_elem(&refusals, &root);
		BPF_SEQ_PRINTF(seq, "tamper_policy list_maps: denied=%s refusals(root)=%llu\n",
			       denied, count ? *count : 0);
	}
	BPF_SEQ_PRINTF(seq, "map %u %s\n", map->id, map->name);
	return 0;
}

SEC("iter/bpf_prog")
int list_progs(struct bpf_iter__bpf_prog *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_prog *prog = ctx->prog;

	if (!prog)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "tamper_policy list_progs\n");
	BPF_SEQ_PRINTF(seq, "prog %u %s\n", prog->aux->id, prog->aux->name);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
