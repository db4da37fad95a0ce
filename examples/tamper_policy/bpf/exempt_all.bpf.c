// SPDX-License-Identifier: GPL-2.0
/*
 * What an attacker in the tamper matrix puts in place of the policy's global
 * function `exempted` (freplace): every uid exempt, so the policy refuses
 * nothing. Loaded by preload-probe against the policy's program, pinned by id.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c exempt_all.bpf.c -o exempt_all.bpf.o && llvm-strip-19 -g exempt_all.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("freplace/exempted")
int exempt_all(__u32 uid)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
