// SPDX-License-Identifier: GPL-2.0
/*
 * A TCP congestion control as a struct_ops map: Reno, through the kernel's own
 * tcp_reno_* kfuncs, counting the connections it starts and the ACKs it grows the
 * window on. Registered as "preload_reno" (tcp_available_congestion_control) for as
 * long as the object is held.
 *
 * The struct below holds only the members it sets: the loader lays them out as the
 * running kernel's struct tcp_congestion_ops has them, by name, as libbpf does.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c tcp_cc.bpf.c -o tcp_cc.bpf.o && llvm-strip-19 -g tcp_cc.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* examples/tcp_cc_link registers the same through a link instead (6.4 and later). */
#ifndef STRUCT_OPS_SECTION
#define STRUCT_OPS_SECTION ".struct_ops"
#define CC_MAP preload_reno
#define CC_NAME "preload_reno"
#endif

struct sock;

struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*init)(struct sock *sk);
	char name[16];
};

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

enum { CONNECTIONS, WINDOW_ACKS, EVENTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EVENTS);
	__type(key, __u32);
	__type(value, __u64);
} cc_events SEC(".maps");

static void count(__u32 event)
{
	__u64 *n = bpf_map_lookup_elem(&cc_events, &event);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("struct_ops/reno_init")
void BPF_PROG(reno_init, struct sock *sk)
{
	count(CONNECTIONS);
}

SEC("struct_ops/reno_ssthresh")
__u32 BPF_PROG(reno_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops/reno_cong_avoid")
void BPF_PROG(reno_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	count(WINDOW_ACKS);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops/reno_undo_cwnd")
__u32 BPF_PROG(reno_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(STRUCT_OPS_SECTION)
struct tcp_congestion_ops CC_MAP = {
	.init = (void *)reno_init,
	.ssthresh = (void *)reno_ssthresh,
	.cong_avoid = (void *)reno_cong_avoid,
	.undo_cwnd = (void *)reno_undo_cwnd,
	.name = CC_NAME,
};

char LICENSE[] SEC("license") = "GPL";
