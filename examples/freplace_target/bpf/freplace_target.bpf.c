// SPDX-License-Identifier: GPL-2.0
/*
 * The program examples/freplace_verdict replaces a function of: `filter`, a socket
 * filter, keeps what its global function `verdict` says (1: the whole packet).
 * Pinned as `filter_prog` (pin_programs), where the replacer finds it.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c freplace_target.bpf.c -o freplace_target.bpf.o && llvm-strip-19 -g freplace_target.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Global, so that it is verified on its own and can be replaced (freplace). */
__noinline int verdict(struct __sk_buff *skb)
{
	return skb->len > 0 ? 1 : 0;
}

SEC("socket")
int filter(struct __sk_buff *skb)
{
	return verdict(skb);
}

char LICENSE[] SEC("license") = "GPL";
