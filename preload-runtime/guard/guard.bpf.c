// SPDX-License-Identifier: GPL-2.0
/*
 * The guard of `#[bpf_preload(protect)]`: one generic BPF LSM program, loaded
 * with every protected object, that refuses user space every route to the
 * object's own maps, programs and links. Which ones is data: the `protected`
 * map, filled with their ids (the guard's own included) by the loader after
 * everything else is loaded, then frozen. Until it is filled the guard
 * protects nothing.
 *
 *   bpf       *_GET_FD_BY_ID of a protected id; map writes (update, delete,
 *             their batch forms) and BPF_LINK_UPDATE/BPF_LINK_DETACH through
 *             an fd the caller already holds, whatever way it got it
 *   bpf_map   any new fd of a protected map: by id, or from a pin with any
 *             open flags (BPF_OBJ_GET reaches this hook with its fmode)
 *   bpf_prog  any new fd of a protected program: by id or from a pin
 *   capable   CAP_SYS_MODULE for a forced delete_module (rmmod -f), machine-wide
 *             while armed: a forced removal runs the holding module's exit,
 *             which must release the permanent ftrace_ops (it lives in the
 *             module's memory), after which kernel.ftrace_enabled=0 would
 *             switch every BPF trampoline off, this guard's included
 *
 * No fd at all, rather than read-only ones: a read-only map fd is enough to load
 * a program that writes the map. BPF_MAP_FREEZE stays allowed: it only takes
 * write access away, and the loader freezes `protected` itself.
 *
 * Build (cargo xtask bpf):
 *   clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c guard.bpf.c -o guard.bpf.o && llvm-strip-19 -g guard.bpf.o
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EPERM 1
/* Must match GUARD_MAX in preload-runtime/src/guard.rs. */
#define GUARD_MAX 64

/* Minimal CO-RE views of the kernel's structures: offsets come from its BTF. */
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
struct file {
	void *private_data;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct task_struct {
	struct files_struct *files;
};

struct bpf_map {
	__u32 id;
};

struct bpf_prog_aux {
	__u32 id;
};

struct bpf_prog {
	struct bpf_prog_aux *aux;
};

struct bpf_link {
	__u32 id;
};

struct pt_regs {
	unsigned long cx;
	unsigned long si;
	unsigned long orig_ax;
};
#pragma clang attribute pop

#define CAP_SYS_MODULE 16
/* delete_module(2): its number and where its flags are, for 64-bit and ia32 callers. */
#define NR_DELETE_MODULE_64 176
#define NR_DELETE_MODULE_IA32 129
#define X32_SYSCALL_BIT 0x40000000
/* O_TRUNC, which rmmod -f passes to ask for a forced removal. */
#define O_TRUNC 01000

/* The ids the loader protects; its layout is `Protected` in guard.rs. */
struct protected_ids {
	__u32 maps;
	__u32 progs;
	__u32 links;
	__u32 reserved;
	__u32 map_ids[GUARD_MAX];
	__u32 prog_ids[GUARD_MAX];
	__u32 link_ids[GUARD_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct protected_ids);
	__uint(max_entries, 1);
} protected SEC(".maps");

enum kind { MAP, PROG, LINK };

static __always_inline struct protected_ids *ids(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&protected, &key);
}

static __always_inline int listed(struct protected_ids *p, enum kind kind, __u32 id)
{
	__u32 *list = kind == MAP ? p->map_ids : kind == PROG ? p->prog_ids : p->link_ids;
	__u32 n = kind == MAP ? p->maps : kind == PROG ? p->progs : p->links;
	int i;

	if (id == 0)
		return 0;
	for (i = 0; i < GUARD_MAX; i++) {
		if (i >= n)
			break;
		if (list[i] == id)
			return 1;
	}
	return 0;
}

/* The u32 at @offset of the syscall's attr (kernel memory by now). */
static __always_inline __u32 attr_u32(union bpf_attr *attr, unsigned long offset)
{
	__u32 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)attr + offset);
	return v;
}

/*
 * The object behind @fd in the caller's fd table. Not necessarily a BPF
 * object: then the id read is noise, and the syscall fails on its own (EBADF or
 * EINVAL) whatever the guard answers.
 */
static __always_inline void *object_of(__u32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;

	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	if (!file)
		return NULL;
	return BPF_CORE_READ(file, private_data);
}

static __always_inline int map_fd_listed(struct protected_ids *p, __u32 fd)
{
	struct bpf_map *map = object_of(fd);

	return map && listed(p, MAP, BPF_CORE_READ(map, id));
}

static __always_inline int link_fd_listed(struct protected_ids *p, __u32 fd)
{
	struct bpf_link *link = object_of(fd);

	return link && listed(p, LINK, BPF_CORE_READ(link, id));
}

SEC("lsm/bpf")
int BPF_PROG(guard_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	struct protected_ids *p;
	int refuse = 0;

	/* Another LSM already refused: keep its answer. */
	if (ret)
		return ret;
	p = ids();
	if (!p)
		return 0;
	switch (cmd) {
	case BPF_MAP_GET_FD_BY_ID:
		refuse = listed(p, MAP, attr_u32(attr, offsetof(union bpf_attr, map_id)));
		break;
	case BPF_PROG_GET_FD_BY_ID:
		refuse = listed(p, PROG, attr_u32(attr, offsetof(union bpf_attr, prog_id)));
		break;
	case BPF_LINK_GET_FD_BY_ID:
		refuse = listed(p, LINK, attr_u32(attr, offsetof(union bpf_attr, link_id)));
		break;
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		refuse = map_fd_listed(p, attr_u32(attr, offsetof(union bpf_attr, map_fd)));
		break;
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
		refuse = map_fd_listed(p, attr_u32(attr, offsetof(union bpf_attr, batch.map_fd)));
		break;
	case BPF_LINK_UPDATE:
		refuse = link_fd_listed(p, attr_u32(attr, offsetof(union bpf_attr, link_update.link_fd)));
		break;
	case BPF_LINK_DETACH:
		refuse = link_fd_listed(p, attr_u32(attr, offsetof(union bpf_attr, link_detach.link_fd)));
		break;
	}
	return refuse ? -EPERM : 0;
}

SEC("lsm/bpf_map")
int BPF_PROG(guard_bpf_map, struct bpf_map *map, unsigned int fmode, int ret)
{
	struct protected_ids *p;

	if (ret)
		return ret;
	p = ids();
	return p && listed(p, MAP, BPF_CORE_READ(map, id)) ? -EPERM : 0;
}

SEC("lsm/bpf_prog")
int BPF_PROG(guard_bpf_prog, struct bpf_prog *prog, int ret)
{
	struct protected_ids *p;

	if (ret)
		return ret;
	p = ids();
	return p && listed(p, PROG, BPF_CORE_READ(prog, aux, id)) ? -EPERM : 0;
}

/*
 * delete_module() asks capable(CAP_SYS_MODULE) first, from the caller's task:
 * the syscall's number and flags are in its user registers. Number 129 is
 * delete_module for an ia32 caller (flags in ecx) and rt_sigqueueinfo for a
 * 64-bit one, which never asks for CAP_SYS_MODULE.
 */
SEC("lsm/capable")
int BPF_PROG(guard_capable, const void *cred, const void *ns, int cap, unsigned int opts,
	     int ret)
{
	struct protected_ids *p;
	struct pt_regs *regs;
	unsigned long nr, flags;

	if (ret || cap != CAP_SYS_MODULE)
		return ret;
	p = ids();
	if (!p || !p->maps)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	nr = BPF_CORE_READ(regs, orig_ax) & ~(unsigned long)X32_SYSCALL_BIT;
	if (nr == NR_DELETE_MODULE_64)
		flags = BPF_CORE_READ(regs, si);
	else if (nr == NR_DELETE_MODULE_IA32)
		flags = BPF_CORE_READ(regs, cx);
	else
		return 0;
	return flags & O_TRUNC ? -EPERM : 0;
}

char LICENSE[] SEC("license") = "GPL";
