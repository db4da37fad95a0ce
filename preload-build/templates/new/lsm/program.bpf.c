// SPDX-License-Identifier: GPL-2.0
/*
 * A BPF LSM policy, made by `cargo bpf-preload new --lsm`: mkdir(2) of a
 * directory named "forbidden" is refused with EPERM; everything else is left to
 * the other LSMs. Each refusal is counted in the `refused` map, so you can see
 * the policy at work as well as its effect. Change it, then rebuild the object:
 *
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c program.bpf.c -o program.bpf.o && llvm-strip-19 -g program.bpf.o
 *
 * (Debian: `apt-get install clang-19 llvm-19 libbpf-dev`.)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EPERM 1
#define FORBIDDEN "forbidden"

/* Minimal CO-RE views of the kernel's structures: offsets come from its BTF. */
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
struct qstr {
	const unsigned char *name;
};

struct dentry {
	struct qstr d_name;
};

struct path;
#pragma clang attribute pop

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} refused SEC(".maps");

SEC("lsm/path_mkdir")
int BPF_PROG(refuse_forbidden_mkdir, const struct path *dir, struct dentry *dentry,
	     unsigned short mode, int ret)
{
	char name[sizeof(FORBIDDEN)];
	__u32 key = 0;
	__u64 *count;
	int i;

	/* Another LSM already refused: keep its answer. */
	if (ret)
		return ret;
	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name)) !=
	    sizeof(FORBIDDEN))
		return 0;
	for (i = 0; i < sizeof(FORBIDDEN); i++)
		if (name[i] != FORBIDDEN[i])
			return 0;

	count = bpf_map_lookup_elem(&refused, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
