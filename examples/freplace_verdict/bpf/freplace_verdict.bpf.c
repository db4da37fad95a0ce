// SPDX-License-Identifier: GPL-2.0
/*
 * Replaces `verdict` of examples/freplace_target's `filter` (freplace): while it is
 * attached, the filter keeps 7 bytes of every packet instead of all of them. The
 * target program is given by its pin (target_program(...)), as a loader gives
 * libbpf's bpf_program__set_attach_target() its fd.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c freplace_verdict.bpf.c -o freplace_verdict.bpf.o && llvm-strip-19 -g freplace_verdict.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("freplace/verdict")
int new_verdict(struct __sk_buff *skb)
{
	return 7;
}

char LICENSE[] SEC("license") = "GPL";
