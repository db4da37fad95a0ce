// SPDX-License-Identifier: GPL-2.0
/*
 * Count getppid() calls per process through three tracing attach kinds:
 * a classic tracepoint, a raw tracepoint and a BTF-typed raw tracepoint.
 * getppid() is used because it is cheap and has no side effects, so a test
 * can trigger an exact number of events.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c counters.bpf.c -o counters.bpf.o && llvm-strip-19 -g counters.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Only passed through as a pointer by the tp_btf program. */
struct pt_regs;

/*
 * Context of tracepoint syscalls/sys_enter_getppid, as described by
 * /sys/kernel/tracing/events/syscalls/sys_enter_getppid/format.
 */
struct sys_enter_getppid_ctx {
	__u16 common_type;
	__u8 common_flags;
	__u8 common_preempt_count;
	__s32 common_pid;
	__s32 __syscall_nr;
};

enum hit_kind {
	HIT_TP,
	HIT_RAW_TP,
	HIT_TP_BTF,
};

/* Value of counts_by_pid: one counter per attach kind. */
struct counts {
	__u64 tp;
	__u64 raw_tp;
	__u64 tp_btf;
};

/* Record sent through the ring buffer for every counted event. */
struct event {
	__u32 tgid;
	__u32 kind;
	__u32 generation;
	__u32 syscall_nr;
	__u64 ts_ns;
};

/* Syscall to count; __NR_getppid on x86_64. Read-only, set at load time. */
const volatile __u32 watched_nr = 110;

/* Stamped into each event; non-zero so that it lands in .data. */
__u32 generation = 1;

/* Events counted by all programs, for all processes (.bss). */
__u64 total_hits;

/* Keyed by tgid so a test can look up its own process. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct counts);
	__uint(max_entries, 1024);
} counts_by_pid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} events SEC(".maps");

/*
 * Shared by all programs; kept out of line on purpose so the object has a
 * .text subprogram that the loader must link into each program.
 */
static __noinline int record_hit(__u32 kind, __u32 syscall_nr)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct counts zero = {}, *c;
	struct event *e;

	c = bpf_map_lookup_elem(&counts_by_pid, &tgid);
	if (!c) {
		/* NOEXIST: another CPU may have inserted it concurrently. */
		bpf_map_update_elem(&counts_by_pid, &tgid, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts_by_pid, &tgid);
		if (!c)
			return 0;
	}

	switch (kind) {
	case HIT_TP:
		__sync_fetch_and_add(&c->tp, 1);
		break;
	case HIT_RAW_TP:
		__sync_fetch_and_add(&c->raw_tp, 1);
		break;
	case HIT_TP_BTF:
		__sync_fetch_and_add(&c->tp_btf, 1);
		break;
	default:
		return 0;
	}
	__sync_fetch_and_add(&total_hits, 1);

	/* Best effort: a full ring buffer drops the record, not the count. */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->tgid = tgid;
		e->kind = kind;
		e->generation = generation;
		e->syscall_nr = syscall_nr;
		e->ts_ns = bpf_ktime_get_ns();
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid_tp(struct sys_enter_getppid_ctx *ctx)
{
	/* The event is getppid-only already; filter anyway so that watched_nr
	 * governs all three programs alike. */
	if (ctx->__syscall_nr != watched_nr)
		return 0;
	return record_hit(HIT_TP, ctx->__syscall_nr);
}

/* Raw sys_enter fires for every syscall: args[0] = regs, args[1] = id. */
SEC("raw_tracepoint/sys_enter")
int count_getppid_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	long id = ctx->args[1];

	if (id != watched_nr)
		return 0;
	return record_hit(HIT_RAW_TP, id);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(count_getppid_tp_btf, struct pt_regs *regs, long id)
{
	if (id != watched_nr)
		return 0;
	return record_hit(HIT_TP_BTF, id);
}

char LICENSE[] SEC("license") = "GPL";
