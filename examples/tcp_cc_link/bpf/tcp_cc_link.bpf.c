// SPDX-License-Identifier: GPL-2.0
/*
 * examples/tcp_cc's congestion control in SEC(".struct_ops.link"): registered by a
 * BPF_LINK_CREATE of the map (Linux 6.4 and later), and unregistered when the link goes.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c tcp_cc_link.bpf.c -o tcp_cc_link.bpf.o && llvm-strip-19 -g tcp_cc_link.bpf.o
 */
#define STRUCT_OPS_SECTION ".struct_ops.link"
#define CC_MAP preload_renol
#define CC_NAME "preload_renol"
#include "../../tcp_cc/bpf/tcp_cc.bpf.c"
