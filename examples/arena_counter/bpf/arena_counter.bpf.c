// SPDX-License-Identifier: GPL-2.0
/*
 * An arena (BPF_MAP_TYPE_ARENA) with `__arena` globals, as libbpf 1.4 and later
 * load them: the globals live in the arena, which the loader maps at `map_extra`
 * and writes `.addr_space.1` into before any program loads. `bump`, a syscall
 * program (BPF_PROG_TEST_RUN), counts its runs in the arena and copies what it
 * reads into `.bss`, where a map lookup shows it.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c arena_counter.bpf.c -o arena_counter.bpf.o && llvm-strip-19 -g arena_counter.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* From Linux 6.9's uapi, libbpf 1.4's bpf_helpers.h and the kernel's
 * bpf_arena_common.h, which Debian 12's headers (6.1, libbpf 1.1) do not have. */
#define BPF_MAP_TYPE_ARENA 33
#ifndef __ulong
#define __ulong(name, val) enum { ___bpf_concat(__unique_value, __COUNTER__) = val } name
#endif
#define __arena __attribute__((address_space(1)))

/* Where every process maps the arena: 1 TiB, which no program of ours uses. */
#define ARENA_ADDRESS (1ull << 40)

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2); /* pages */
	__ulong(map_extra, ARENA_ADDRESS);
} arena SEC(".maps");

/* In the arena: the first given by the object, the second zero. */
__u64 __arena start = 40;
__u64 __arena runs;

/* What the last run read from the arena: start + runs. */
__u64 seen;

SEC("syscall")
int bump(void *ctx)
{
	runs += 1;
	seen = start + runs;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
