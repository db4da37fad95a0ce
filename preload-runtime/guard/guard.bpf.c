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
 *   file_receive
 *             an fd of a protected map, program or link passed from another
 *             process: pidfd_getfd(2) and SCM_RIGHTS both install it with
 *             receive_fd(), which asks this hook first (6.1 and 6.12)
 *   inode_permission
 *             BPF_OBJ_GET of a protected link's pin, which reaches no BPF hook:
 *             bpf_obj_do_get() checks path_permission(ACC_MODE(flags)), without
 *             MAY_OPEN, where open(2) asks MAY_OPEN|acc_mode; so `cat` of an
 *             iterator pin still reads while no fd of the link itself is made
 *   ptrace_access_check
 *             with a holding process (the user backend): attaching to it, which
 *             is how ptrace(2), pidfd_getfd(2), process_vm_writev(2) and
 *             /proc/PID/mem reach its fds and memory (PTRACE_MODE_ATTACH); reading
 *             (/proc/PID/fd, ps) stays allowed
 *   inode_unlink, inode_rename
 *             with a holding process: removing or renaming a pin of a protected
 *             link (the object's or the guard's own) by any other process, so
 *             that once the holder is dead its pins go all together (with the
 *             bpffs mount) or not at all: the guard as long as the object
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
#define MAY_OPEN 0x20
#define S_IFMT 00170000
#define S_IFREG 0100000
#define ANON_INODE_FS_MAGIC 0x09041934
#define BPF_FS_MAGIC 0xcafe4a11
#define PTRACE_MODE_ATTACH 0x02
/* Must match GUARD_MAX in preload-runtime/src/guard.rs. */
#define GUARD_MAX 64

/* Minimal CO-RE views of the kernel's structures: offsets come from its BTF. */
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
struct super_block {
	unsigned long s_magic;
};

struct inode {
	unsigned short i_mode;
	struct super_block *i_sb;
	void *i_private;
};

struct qstr {
	const unsigned char *name;
};

struct dentry {
	struct qstr d_name;
	struct inode *d_inode;
};

struct path {
	struct dentry *dentry;
};

struct file {
	struct path f_path;
	struct inode *f_inode;
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
	int tgid;
	unsigned long long start_time;
	struct task_struct *group_leader;
};

struct bpf_map {
	__u32 id;
};

struct bpf_prog;

struct bpf_prog_aux {
	__u32 id;
	struct bpf_prog *prog;
};

struct bpf_prog {
	struct bpf_prog_aux *aux;
};

struct bpf_link {
	__u32 id;
	struct bpf_prog *prog;
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
	/* The process holding the object (user backend), 0 for a module. */
	__u32 holder;
	__u32 map_ids[GUARD_MAX];
	__u32 prog_ids[GUARD_MAX];
	__u32 link_ids[GUARD_MAX];
	/*
	 * The holder's start time (task_struct.start_time of its group leader), which
	 * the guard writes itself at the holder's first bpf(2) call once armed (the
	 * loader's check): with the pid it tells the holder from a later process
	 * given the same pid.
	 */
	__u64 holder_start;
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

/* Whether the caller is the process holding the object (never, for a module). */
static __always_inline int is_holder(struct protected_ids *p)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (!p->holder || bpf_get_current_pid_tgid() >> 32 != p->holder)
		return 0;
	return BPF_CORE_READ(task, group_leader, start_time) == p->holder_start;
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
	/* The holder's first call once armed (the loader's check) names it. */
	if (p->holder && !p->holder_start && bpf_get_current_pid_tgid() >> 32 == p->holder) {
		struct task_struct *task = bpf_get_current_task_btf();

		p->holder_start = BPF_CORE_READ(task, group_leader, start_time);
	}
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
 * A file passed to this process (pidfd_getfd, SCM_RIGHTS): refused if it is a
 * protected map, program or link. BPF object files are anonymous inodes named
 * by syscall.c: "bpf-map", "bpf-prog", "bpf_link" (bpf_link_prime) and
 * "bpf-link" (bpf_link_new_fd), with the object as private_data; no other file
 * of the anonymous inode filesystem has these names.
 */
SEC("lsm/file_receive")
int BPF_PROG(guard_file_receive, struct file *file, int ret)
{
	struct protected_ids *p;
	const unsigned char *name;
	char s[10] = {};
	void *object;

	if (ret)
		return ret;
	p = ids();
	if (!p)
		return 0;
	if (BPF_CORE_READ(file, f_inode, i_sb, s_magic) != ANON_INODE_FS_MAGIC)
		return 0;
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(s, sizeof(s), name) < 0)
		return 0;
	if (s[0] != 'b' || s[1] != 'p' || s[2] != 'f' || (s[3] != '-' && s[3] != '_'))
		return 0;
	object = BPF_CORE_READ(file, private_data);
	if (!object)
		return 0;
	if (s[4] == 'm' && s[5] == 'a' && s[6] == 'p' && s[7] == 0)
		return listed(p, MAP, BPF_CORE_READ((struct bpf_map *)object, id)) ? -EPERM : 0;
	if (s[4] == 'p' && s[5] == 'r' && s[6] == 'o' && s[7] == 'g' && s[8] == 0)
		return listed(p, PROG, BPF_CORE_READ((struct bpf_prog *)object, aux, id)) ? -EPERM : 0;
	if (s[4] == 'l' && s[5] == 'i' && s[6] == 'n' && s[7] == 'k' && s[8] == 0)
		return listed(p, LINK, BPF_CORE_READ((struct bpf_link *)object, id)) ? -EPERM : 0;
	return 0;
}

/*
 * BPF_OBJ_GET of a pin in any bpffs mount: refused if it is a protected link
 * (maps and programs are refused by the bpf_map and bpf_prog hooks). open(2)
 * asks with MAY_OPEN and is let through: reading an iterator pin makes a
 * seq_file of it, not an fd of the link. A pinned link is a regular file of
 * bpffs whose i_private is the link; the kind is not stored in the inode
 * (only in its i_op, a static of kernel/bpf/inode.c), so the link is
 * recognised by its protected id and its program's aux pointing back to it.
 */
static __always_inline int pinned_link_listed(struct protected_ids *p, struct inode *inode)
{
	struct bpf_link *link;
	struct bpf_prog *prog;

	if (!inode || BPF_CORE_READ(inode, i_sb, s_magic) != BPF_FS_MAGIC)
		return 0;
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	link = BPF_CORE_READ(inode, i_private);
	if (!link || !listed(p, LINK, BPF_CORE_READ(link, id)))
		return 0;
	prog = BPF_CORE_READ(link, prog);
	return prog && BPF_CORE_READ(prog, aux, prog) == prog;
}

SEC("lsm/inode_permission")
int BPF_PROG(guard_inode_permission, struct inode *inode, int mask, int ret)
{
	struct protected_ids *p;

	if (ret)
		return ret;
	if (mask & MAY_OPEN)
		return 0;
	p = ids();
	return p && pinned_link_listed(p, inode) ? -EPERM : 0;
}

/*
 * With a holding process, its protected link pins (the guard's among them) are
 * removed by it alone: once it is dead they go together, with their mount.
 * A module holds its object itself: its pins are only names, as before.
 */
static __always_inline int pin_kept(struct dentry *dentry)
{
	struct protected_ids *p = ids();

	if (!p || !p->holder || is_holder(p))
		return 0;
	return pinned_link_listed(p, BPF_CORE_READ(dentry, d_inode));
}

SEC("lsm/inode_unlink")
int BPF_PROG(guard_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return pin_kept(dentry) ? -EPERM : 0;
}

SEC("lsm/inode_rename")
int BPF_PROG(guard_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	return pin_kept(old_dentry) || pin_kept(new_dentry) ? -EPERM : 0;
}

/*
 * Attaching to the holding process, from any other: refused. Its fds are the
 * object, and a process that could run code in it (ptrace) could load a
 * program of its own with them. Only PTRACE_MODE_ATTACH: reads stay allowed.
 */
SEC("lsm/ptrace_access_check")
int BPF_PROG(guard_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	struct protected_ids *p;

	if (ret)
		return ret;
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	p = ids();
	if (!p || !p->holder || BPF_CORE_READ(child, tgid) != p->holder)
		return 0;
	/* A later process given the holder's pid is not the holder. */
	if (p->holder_start && BPF_CORE_READ(child, group_leader, start_time) != p->holder_start)
		return 0;
	return is_holder(p) ? 0 : -EPERM;
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
