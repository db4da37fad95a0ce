/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract, inside the runtime module, between its C half (runtime.c) and
 * the Rust loader (preload-runtime/src/kernel/). What differs between objects
 * reaches both only through the table an object module passes to
 * bpf_preload_load() (bpf_preload_runtime.h).
 *
 * Every function returning int returns 0 or a negative errno.
 */
#ifndef BPF_PRELOAD_SHIM_H
#define BPF_PRELOAD_SHIM_H

#include <linux/types.h>

/* ---- Implemented in Rust (the runtime's static library) ---- */

/*
 * bpf_preload_load(): checks the table's layout, then loads, attaches and holds
 * the object of the module named @name (NUL-terminated; it prefixes messages),
 * with the values of its parameters (@nr_params struct bpf_preload_param at
 * @params); *@held is what the other three take.
 */
int bpf_preload_rust_load(const char *name, const void *table,
			  const char *kconfig, size_t kconfig_len, const void *params,
			  size_t nr_params, void **held);
/*
 * The runtime's init: loads its own object, the status view (status/status.bpf.c);
 * released with bpf_preload_rust_release().
 */
int bpf_preload_rust_load_status(void **held);
/* bpf_preload_release(): detaches and frees everything of @held. */
void bpf_preload_rust_release(void *held);
/*
 * bpf_preload_abandon(): keeps everything of @held attached and held for good,
 * telling kmemleak so, and frees the rest.
 */
void bpf_preload_rust_abandon(void *held);
/*
 * bpf_preload_populate(): pins what @held asks for into @dir with
 * bpf_preload_pin(), returning the first error. Called by the kernel for every
 * bpffs instance it creates, while the object module is registered (never
 * concurrently with itself).
 */
int bpf_preload_rust_populate(void *held, void *dir);

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

/*
 * printk(level "bpf_preload_runtime: <who>: <msg>\n"); level: 3 err, 4 warning,
 * 6 info; @who is the object module's name.
 */
void bpf_preload_log(int level, const char *who, size_t who_len, const char *msg, size_t len);

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
 * Keeps kernel.ftrace_enabled on from the first object that holds programs
 * running through BPF trampolines until the runtime's exit (a permanent
 * ftrace_ops: the sysctl then fails with EBUSY). -EBUSY if ftrace is already
 * off. Never given back before the exit: see runtime.c.
 */
int bpf_preload_hold_ftrace(void);

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
 * kernel's bpf_preload_ops hook, which the runtime owns. @runtime: the runtime's
 * own (its status view), shown while no object's are; otherwise an object's, one
 * object at a time. -EBUSY if another object's links are offered or another module
 * has the hook, -EOPNOTSUPP if the kernel has no such hook (the preload profile
 * replaces it). The runtime copies the names (NUL-terminated, at most 15 bytes);
 * it takes no reference of its own: Rust holds each link (from
 * bpf_preload_hold_file) until bpf_preload_unexpose() has returned, which for an
 * object's links waits until no mount can still be copying them, and bpffs takes
 * its own reference when it pins a link into a mount (bpf_link_inc in
 * populate_bpffs).
 */
int bpf_preload_expose(bool runtime, const char *name0, void *link0, const char *name1,
		       void *link1);
void bpf_preload_unexpose(bool runtime);

/*
 * A new fd (O_CLOEXEC) of the calling task for a held file, with a reference of
 * its own, for bpf(2) on an object whose fds are closed (the status map); close it
 * with bpf_preload_close_fd(). A negative errno on failure.
 */
int bpf_preload_install_fd(void *file);

/*
 * Maps shared by name (libbpf's LIBBPF_PIN_BY_NAME) between the objects of every
 * object module, in the runtime's registry, which holds a reference to each
 * until the runtime's exit, as a pin in libbpf's pin root holds it. @name is
 * not NUL-terminated (@len bytes). Loads are serialised (bpf_preload_load), and
 * the registry with them.
 *
 * bpf_preload_shared_map(): a new fd (O_CLOEXEC) for the map shared as @name,
 * and its type, key size, value size, max_entries and flags in @def[0..5] and
 * its map_extra in *@map_extra; -ENOENT if none is.
 * bpf_preload_share_map(): shares the map behind @fd as @name; -EEXIST if a map
 * is shared as @name already.
 * bpf_preload_unshare_map(): drops @name from the registry (a failed load's).
 */
int bpf_preload_shared_map(const char *name, size_t len, u32 *def, u64 *map_extra);
int bpf_preload_share_map(u32 fd, const char *name, size_t len);
void bpf_preload_unshare_map(const char *name, size_t len);

/*
 * Whether the kernel has the preload series (kernel/patches/), detected by
 * <linux/bpf_preload.h>: each object module then registers with
 * bpf_preload_set_ops() (object.c), and the kernel asks for its pins in every
 * bpffs instance through bpf_preload_populate().
 */
bool bpf_preload_pins_per_object(void);
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
