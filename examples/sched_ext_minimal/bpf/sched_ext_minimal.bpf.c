// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal sched_ext scheduler, "preload_minimal": every task it is given goes to
 * the global dispatch queue, which every CPU consumes in FIFO order, with the default
 * slice. It counts what the kernel asks of it, so that "tasks run under it" can be
 * seen from user space: scx_events[ENABLED] (tasks that joined it), [ENQUEUED] and
 * [RUNNING] (ops.running(): a task starts running on a CPU), and scx_task_runs (runs
 * per process, by tgid).
 *
 * sched_ext registers through a struct_ops link only (BPF_LINK_CREATE of the map, in
 * SEC(".struct_ops.link")); the scheduler stays enabled for as long as the link is
 * held, and the kernel goes back to the fair class when it goes.
 *
 * The struct below holds only the members it sets: the loader lays them out as the
 * running kernel's struct sched_ext_ops has them, by name, as libbpf does (callbacks,
 * the u64 flags, the u32 timeout_ms and the char name[128] included). The kfunc names
 * are Linux 6.12's: scx_bpf_dispatch() became scx_bpf_dsq_insert() in 6.13.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c sched_ext_minimal.bpf.c -o sched_ext_minimal.bpf.o && llvm-strip-19 -g sched_ext_minimal.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Only the field read below; its offset comes from the running kernel (CO-RE). */
struct task_struct {
	int tgid;
} __attribute__((preserve_access_index));

/* include/linux/sched/ext.h (6.12) */
#define SCX_DSQ_GLOBAL ((1ULL << 63) | 1)
#define SCX_SLICE_DFL (20ULL * 1000 * 1000)
/* kernel/sched/ext.c (6.12): exiting tasks go through ops.enqueue() too. */
#define SCX_OPS_ENQ_EXITING (1ULL << 2)

struct sched_ext_ops {
	void (*enqueue)(struct task_struct *p, __u64 enq_flags);
	void (*running)(struct task_struct *p);
	void (*enable)(struct task_struct *p);
	__u64 flags;
	__u32 timeout_ms;
	char name[128];
};

extern void scx_bpf_dispatch(struct task_struct *p, __u64 dsq_id, __u64 slice,
			     __u64 enq_flags) __ksym;

enum { ENABLED, ENQUEUED, RUNNING, EVENTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EVENTS);
	__type(key, __u32);
	__type(value, __u64);
} scx_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} scx_task_runs SEC(".maps");

static void count(__u32 event)
{
	__u64 *n = bpf_map_lookup_elem(&scx_events, &event);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("struct_ops/minimal_enqueue")
void BPF_PROG(minimal_enqueue, struct task_struct *p, __u64 enq_flags)
{
	count(ENQUEUED);
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

SEC("struct_ops/minimal_running")
void BPF_PROG(minimal_running, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	__u64 one = 1, *runs;

	count(RUNNING);
	runs = bpf_map_lookup_elem(&scx_task_runs, &tgid);
	if (runs)
		__sync_fetch_and_add(runs, 1);
	else
		bpf_map_update_elem(&scx_task_runs, &tgid, &one, BPF_NOEXIST);
}

SEC("struct_ops/minimal_enable")
void BPF_PROG(minimal_enable, struct task_struct *p)
{
	count(ENABLED);
}

SEC(".struct_ops.link")
struct sched_ext_ops preload_minimal = {
	.enqueue = (void *)minimal_enqueue,
	.running = (void *)minimal_running,
	.enable = (void *)minimal_enable,
	.flags = SCX_OPS_ENQ_EXITING,
	/* The watchdog ejects the scheduler if a runnable task waits longer. */
	.timeout_ms = 10000,
	.name = "preload_minimal",
};

char LICENSE[] SEC("license") = "GPL";
