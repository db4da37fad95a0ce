// SPDX-License-Identifier: GPL-2.0
/*
 * Every kind of extern the loader resolves in the running kernel, printed by an
 * iterator: Kconfig values of each type, a typeless kernel symbol, kfuncs, and a
 * weak kfunc and a weak Kconfig option the kernel lacks. (A typed ksym needs the
 * kernel to find its address in kallsyms, which lists variables only with
 * CONFIG_KALLSYMS_ALL, so it is not here: this object loads on any kernel.)
 *
 * Build:
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c externs.bpf.c -o externs.bpf.o && llvm-strip-19 -g externs.bpf.o
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* libbpf 1.2's bpf_ksym_exists(); Debian 12's libbpf-dev is 1.1. */
#define ksym_exists(sym) (!!&(sym))


extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_HZ __kconfig;
extern enum libbpf_tristate CONFIG_BTRFS_FS __kconfig __weak;
extern char CONFIG_CC_VERSION_TEXT[64] __kconfig;
extern int CONFIG_BPF_PRELOAD_NO_SUCH_OPTION __kconfig __weak;

/* Typeless: an address from kallsyms (a function, listed by every kernel). */
extern const void vfs_read __ksym;

/* Kfuncs of Linux 6.1 and later (CONFIG_KEYS), and one no kernel has. */
struct bpf_key;
extern struct bpf_key *bpf_lookup_system_key(__u64 id) __ksym;
extern void bpf_key_put(struct bpf_key *key) __ksym;
extern void bpf_preload_no_such_kfunc(void) __ksym __weak;

#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
struct seq_file;
struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};
struct bpf_map;
struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};
#pragma clang attribute pop

SEC("iter/bpf_map")
int dump_externs(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_key *key;
	int kfunc = 0;

	/* Once, after the last map. */
	if (ctx->map)
		return 0;

	key = bpf_lookup_system_key(0);
	if (key) {
		bpf_key_put(key);
		kfunc = 1;
	}
	if (ksym_exists(bpf_preload_no_such_kfunc))
		bpf_preload_no_such_kfunc();

	BPF_SEQ_PRINTF(seq, "LINUX_KERNEL_VERSION %u\n", LINUX_KERNEL_VERSION);
	BPF_SEQ_PRINTF(seq, "LINUX_HAS_BPF_COOKIE %d\n", LINUX_HAS_BPF_COOKIE);
	BPF_SEQ_PRINTF(seq, "LINUX_HAS_SYSCALL_WRAPPER %d\n", LINUX_HAS_SYSCALL_WRAPPER);
	BPF_SEQ_PRINTF(seq, "CONFIG_BPF_SYSCALL %d\n", CONFIG_BPF_SYSCALL);
	BPF_SEQ_PRINTF(seq, "CONFIG_HZ %d\n", CONFIG_HZ);
	BPF_SEQ_PRINTF(seq, "CONFIG_BTRFS_FS %d\n", CONFIG_BTRFS_FS);
	BPF_SEQ_PRINTF(seq, "CONFIG_CC_VERSION_TEXT %s\n", CONFIG_CC_VERSION_TEXT);
	BPF_SEQ_PRINTF(seq, "CONFIG_BPF_PRELOAD_NO_SUCH_OPTION %d\n",
		       CONFIG_BPF_PRELOAD_NO_SUCH_OPTION);
	BPF_SEQ_PRINTF(seq, "vfs_read %lx\n", (unsigned long)&vfs_read);
	BPF_SEQ_PRINTF(seq, "bpf_lookup_system_key %d\n", kfunc);
	BPF_SEQ_PRINTF(seq, "bpf_preload_no_such_kfunc %d\n", ksym_exists(bpf_preload_no_such_kfunc));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
