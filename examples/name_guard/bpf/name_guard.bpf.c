// SPDX-License-Identifier: GPL-2.0
/*
 * A configurable BPF LSM policy: mkdir(2) of a directory named `reserved` is
 * refused with EPERM while `enforce` is on; with it off, such a mkdir is only
 * counted. Both are `const volatile` globals of .rodata, given by the attribute's
 * params(...) as module parameters (`modprobe name_guard reserved=x enforce=0`),
 * so the verifier sees their values as constants. Every match is counted in
 * `matches`, so a test can see the policy at work as well as its effect.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c name_guard.bpf.c -o name_guard.bpf.o && llvm-strip-19 -g name_guard.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EPERM 1
#define NAME_LEN 32

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

/* The module parameters. */
const volatile char reserved[NAME_LEN] = "bpf-preload-param";
const volatile _Bool enforce = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} matches SEC(".maps");

SEC("lsm/path_mkdir")
int BPF_PROG(guard_mkdir, const struct path *dir, struct dentry *dentry,
	     unsigned short mode, int ret)
{
	char name[NAME_LEN] = {};
	__u32 key = 0;
	__u64 *count;
	long refusal = -EPERM;
	int i;

	/* Another LSM already refused: keep its answer. */
	if (ret)
		return ret;
	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name)) <= 1)
		return 0;
	for (i = 0; i < NAME_LEN; i++) {
		if (name[i] != reserved[i])
			return 0;
		if (!name[i])
			break;
	}

	count = bpf_map_lookup_elem(&matches, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	/*
	 * Not `-enforce`, which clang makes of `enforce ? -EPERM : 0`: 6.12's
	 * verifier does not follow a negation, and refuses an LSM program whose
	 * return value it cannot bound to [-MAX_ERRNO, 0].
	 */
	barrier_var(refusal);
	return enforce ? refusal : 0;
}

char LICENSE[] SEC("license") = "GPL";
