/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between the generic C shim (shim.c) and the Rust runtime
 * (preload-runtime/src/kernel.rs). The shim is the same for every module: what
 * differs between modules reaches it only through the Rust table.
 *
 * Every function returning int returns 0 or a negative errno.
 */
#ifndef BPF_PRELOAD_SHIM_H
#define BPF_PRELOAD_SHIM_H

#include <linux/types.h>

/* ---- Implemented in Rust (the module's static library) ---- */

/* Loads, attaches and holds the object; called from module init. */
int bpf_preload_rust_init(void);
/* Detaches and frees everything; called from module exit (--unloadable only). */
void bpf_preload_rust_exit(void);
/*
 * Gives what the module holds to the kernel for good, keeping it attached, and
 * frees the rest; called from the exit of a permanent module, which only a forced
 * rmmod -f reaches.
 */
void bpf_preload_rust_abandon(void);
/*
 * Preload profile: pins what the module holds into @dir with bpf_preload_pin(),
 * returning the first error. Called by the kernel for every bpffs instance it
 * creates, while the object is registered (never concurrently with itself).
 */
int bpf_preload_rust_populate(void *dir);

/* ---- Implemented by the shim, called from Rust ---- */

/* kern_sys_bpf(): bpf(2) from the kernel, attr in kernel memory. */
int bpf_preload_sys_bpf(int cmd, void *attr, u32 size);
/* close_fd() in the fd table of the task running module init. */
void bpf_preload_close_fd(u32 fd);

/* kmalloc/kfree/krealloc with GFP_KERNEL (kmalloc memory is 8-byte aligned at least). */
void *bpf_preload_alloc(size_t size);
void *bpf_preload_realloc(void *ptr, size_t size);
void bpf_preload_free(void *ptr);

/* LINUX_VERSION_CODE of the kernel the module is built for. */
u32 bpf_preload_kernel_version(void);
/* num_possible_cpus(). */
u32 bpf_preload_possible_cpus(void);

/* printk(level "<module name>: %.*s\n"); level: 3 err, 4 warning, 6 info. */
void bpf_preload_log(int level, const char *msg, size_t len);

/*
 * Holds the file behind @fd, the map, program (of @prog_type) or link @kind says
 * (one of BPF_PRELOAD_PIN_*), exactly as the fd holds it: for a map that includes
 * its user reference, so program arrays keep their slots and bpf_timers keep
 * running once the fd is closed. *object is the map, program or link, valid while
 * the file is held; bpf_preload_release_file() drops the file.
 */
int bpf_preload_hold_file(u32 kind, u32 fd, u32 prog_type, void **file, void **object);
void bpf_preload_release_file(void *file);
/*
 * A held file that will never be released (a permanent module removed by force):
 * tells kmemleak it is not a leak, and to keep scanning it, so that the object
 * behind it is not reported either.
 */
void bpf_preload_keep_file(void *file);
/*
 * The kernel's id of the map, program (of @prog_type) or link behind @fd; @kind is
 * one of BPF_PRELOAD_PIN_*. For the guard of `protect`, which lists the ids.
 */
int bpf_preload_object_id(u32 kind, u32 fd, u32 prog_type, u32 *id);

/*
 * Unregisters a struct_ops map registered without a link, as BPF_MAP_DELETE_ELEM of
 * key 0 does but without the bpf(2) LSM hook (which the guard of `protect` uses to
 * refuse user space): by fd, for a failed load; and for a file held with
 * bpf_preload_hold_file(), which it then releases.
 */
int bpf_preload_struct_ops_unregister(u32 fd);
void bpf_preload_struct_ops_unregister_release(void *file);

/*
 * Keeps kernel.ftrace_enabled on while the module holds programs that run
 * through BPF trampolines (a permanent ftrace_ops: the sysctl then fails with
 * EBUSY). -EBUSY if ftrace is already off. Released at module exit, also by
 * rmmod -f, since the ops is in the module's memory.
 */
int bpf_preload_hold_ftrace(void);
void bpf_preload_release_ftrace(void);

/*
 * The running kernel's BTF, in a vmalloc buffer for bpf_preload_vfree(); *size its
 * length. On the preload kernel, a copy of what the series exports
 * (btf_vmlinux_raw_data(): no sysfs needed, so it works in a module the kernel loads
 * at boot, before /sys is mounted); otherwise /sys/kernel/btf/vmlinux as module
 * init's task sees it.
 */
int bpf_preload_read_vmlinux_btf(void **buf, size_t *size);
void bpf_preload_vfree(void *buf);

/*
 * Stock profile: offer two iterator links to every bpffs mount through the
 * kernel's bpf_preload_ops hook. -EBUSY if another module owns the hook, -EOPNOTSUPP
 * if the kernel has no such hook (the preload profile replaces it). The shim copies the names (NUL-terminated, at most 15
 * bytes); it takes no reference of its own: Rust holds each link (from
 * bpf_preload_hold_file) until after bpf_preload_unexpose(), and bpffs takes its own
 * reference when it pins a link into a mount (bpf_link_inc in populate_bpffs).
 */
int bpf_preload_expose(const char *name0, void *link0, const char *name1, void *link1);
void bpf_preload_unexpose(void);

/*
 * Preload profile: a kernel with the preload series (kernel/patches/), detected by
 * <linux/bpf_preload.h>. bpf_preload_register() registers the module's object
 * with bpf_preload_set_ops(KBUILD_MODNAME, ...): from then on every bpffs
 * instance gets a directory named after the module, filled by
 * bpf_preload_rust_populate(). 0, or -EPERM (not on the kernel's preload list;
 * the kernel logs why), -EBUSY (the name is taken), -EOPNOTSUPP (a stock kernel,
 * or CONFIG_BPF_PRELOAD off). bpf_preload_unregister() returns once no
 * populate call is running and none will start.
 */
int bpf_preload_register(void);
void bpf_preload_unregister(void);
/* What bpf_preload_pin() pins: values of the kernel's enum bpf_type. */
#define BPF_PRELOAD_PIN_PROG 1
#define BPF_PRELOAD_PIN_MAP 2
#define BPF_PRELOAD_PIN_LINK 3
/*
 * bpf_obj_do_pin_kernel(): pins @object (held with bpf_preload_hold_file)
 * as @name (NUL-terminated) in @dir; the pin takes its own reference.
 * -EOPNOTSUPP on a stock kernel.
 */
int bpf_preload_pin(void *dir, const char *name, void *object, u32 type);

/* Stops the kernel with the message when Rust panics (never returns). */
void bpf_preload_panic(const char *msg, size_t len) __attribute__((noreturn));

#endif
