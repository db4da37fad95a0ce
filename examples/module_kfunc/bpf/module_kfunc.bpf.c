// SPDX-License-Identifier: GPL-2.0
/*
 * A kfunc of a kernel module: nf_conntrack's bpf_xdp_ct_lookup(), found in the
 * module's BTF (the loader puts that BTF's fd in fd_array and its index in the call's
 * insn.off). Weak, so the program also loads where nf_conntrack is not loaded, and
 * says which it saw (bpf_ksym_exists()): run with BPF_PROG_TEST_RUN, it returns
 *   10  the kfunc is missing,
 *   12  the kfunc ran and found no connection for the tuple (opts.error is -ENOENT),
 *   11  it found one, 13 it failed otherwise.
 * Loaded only (no_attach): an XDP program attaches to a network device. The kernel
 * accepts bpf_ksym_exists() of a kfunc from 6.4 on.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c module_kfunc.bpf.c -o module_kfunc.bpf.o && llvm-strip-19 -g module_kfunc.bpf.o
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* libbpf 1.2's bpf_ksym_exists(); Debian 12's libbpf-dev is 1.1. */
#define ksym_exists(sym) (!!&(sym))

#define ENOENT 2

struct nf_conn;

/* nf_conntrack's struct bpf_ct_opts, in its 6.1 size (NF_BPF_CT_OPTS_SZ, 12 bytes). */
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};

extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *xdp_ctx,
					 struct bpf_sock_tuple *bpf_tuple, __u32 tuple__sz,
					 struct bpf_ct_opts *opts, __u32 opts__sz) __ksym __weak;
extern void bpf_ct_release(struct nf_conn *ct) __ksym __weak;

SEC("xdp")
int ct_lookup(struct xdp_md *ctx)
{
	struct bpf_sock_tuple tuple = {
		.ipv4 = {
			.saddr = bpf_htonl(0x7f000001),
			.daddr = bpf_htonl(0x7f000001),
			.sport = bpf_htons(1),
			.dport = bpf_htons(9),
		},
	};
	struct bpf_ct_opts opts = { .netns_id = -1, .l4proto = IPPROTO_TCP };
	struct nf_conn *ct;

	if (!ksym_exists(bpf_xdp_ct_lookup))
		return 10;
	ct = bpf_xdp_ct_lookup(ctx, &tuple, sizeof(tuple.ipv4), &opts, sizeof(opts));
	if (ct) {
		bpf_ct_release(ct);
		return 11;
	}
	return opts.error == -ENOENT ? 12 : 13;
}

char LICENSE[] SEC("license") = "GPL";
