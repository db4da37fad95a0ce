// SPDX-License-Identifier: GPL-2.0
/*
 * A bpf_timer that keeps ticking once armed: `arm` (run with BPF_PROG_TEST_RUN)
 * starts it, and every tick adds one to `ticks` and starts it again. The kernel
 * cancels a map's timers when the map's last user reference goes (its last fd or
 * pin), and refuses to arm one in a map that has none (EPERM): a holder that keeps
 * only plain kernel references on the map cannot keep it ticking.
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c timer_tick.bpf.c -o timer_tick.bpf.o && llvm-strip-19 -g timer_tick.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* <linux/time.h> clashes with the BPF headers; the UAPI value. */
#define CLOCK_MONOTONIC 1
#define EBUSY 16
/* One tick every 2 ms. */
#define TICK_NS 2000000

struct tick {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tick);
} ticker SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ticks SEC(".maps");

static int on_tick(void *map, __u32 *key, struct tick *t)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&ticks, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
	bpf_timer_start(&t->timer, TICK_NS, 0);
	return 0;
}

/* Returns 0 once the timer runs, else the errno of the helper that failed. */
SEC("socket")
int arm(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct tick *t = bpf_map_lookup_elem(&ticker, &zero);
	long err;

	if (!t)
		return 255;
	err = bpf_timer_init(&t->timer, &ticker, CLOCK_MONOTONIC);
	/* EBUSY: armed before, by an earlier run. */
	if (err && err != -EBUSY)
		return -err;
	err = bpf_timer_set_callback(&t->timer, on_tick);
	if (err)
		return -err;
	return -bpf_timer_start(&t->timer, TICK_NS, 0);
}

char LICENSE[] SEC("license") = "GPL";
