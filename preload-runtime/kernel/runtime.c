// SPDX-License-Identifier: GPL-2.0
/*
 * The C half of the bpf-preload runtime module (bpf_preload_runtime.ko): the
 * module's init/exit, its exports to object modules (bpf_preload_runtime.h), and
 * the kernel symbols, allocation, printing and panics the Rust loader needs
 * (shim.h). Nothing in here is specific to a BPF object: an object module hands
 * its table to bpf_preload_load(), and everything else is the Rust loader's.
 *
 * Two kernel profiles, told apart at build time by <linux/bpf_preload.h>:
 *   stock   Debian's 6.1 and 6.12 (checked against their headers and sources):
 *           the global bpf_preload_ops hook shows two iterator links at the
 *           root of every bpffs mount; nothing else can be pinned.
 *   preload a kernel with the preload series (kernel/patches/): the module
 *           registers with bpf_preload_set_ops() and pins its links, maps and
 *           programs into /sys/fs/bpf/<module>/ of every bpffs instance.
 *
 * Build-time defines (set by Kbuild):
 *   BPF_PRELOAD_IMPORT_NS  symbol namespace of the BPF exports (BPF_INTERNAL
 *                          on 6.12.y and >= 6.15), taken from Module.symvers
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bpf.h>
#include <linux/bug.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/ftrace.h>
#include <linux/kmemleak.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#if __has_include(<linux/bpf_preload.h>)
#define BPF_PRELOAD_SEED
#include <linux/bpf_preload.h>
#include <linux/btf.h>		/* btf_vmlinux_raw_data(), from the same series */
#endif

#include "bpf_preload_runtime.h"
#include "shim.h"

/* Exported (EXPORT_SYMBOL, in BPF_INTERNAL on 6.12.y) but declared in no header. */
int kern_sys_bpf(int cmd, union bpf_attr *attr, unsigned int size);

int bpf_preload_sys_bpf(int cmd, void *attr, u32 size)
{
	/*
	 * attr is kernel memory, and so is every pointer in it: kern_sys_bpf()
	 * passes KERNEL_BPFPTR(attr) and the commands it accepts read nested
	 * pointers through bpfptr_t too (except the raw_tp name, see kernel.rs).
	 */
	return kern_sys_bpf(cmd, attr, size);
}

void bpf_preload_close_fd(u32 fd)
{
	close_fd(fd);
}

int bpf_preload_install_fd(void *file)
{
	int fd = get_unused_fd_flags(O_CLOEXEC);

	if (fd < 0)
		return fd;
	fd_install(fd, get_file((struct file *)file));
	return fd;
}

u32 bpf_preload_kernel_version(void)
{
	return LINUX_VERSION_CODE;
}

u32 bpf_preload_possible_cpus(void)
{
	return num_possible_cpus();
}

void *bpf_preload_alloc(size_t size)
{
	return kmalloc(size, GFP_KERNEL);
}

void *bpf_preload_realloc(void *ptr, size_t size)
{
	return krealloc(ptr, size, GFP_KERNEL);
}

void bpf_preload_free(void *ptr)
{
	kfree(ptr);
}

void bpf_preload_log(int level, const char *who, size_t who_len, const char *msg, size_t len)
{
	/* Bounded: both are Rust &str, not NUL-terminated. */
	int w = who_len > MODULE_NAME_LEN ? MODULE_NAME_LEN : (int)who_len;
	int n = len > INT_MAX ? INT_MAX : (int)len;

	switch (level) {
	case 3:
		pr_err("%.*s: %.*s\n", w, who, n, msg);
		break;
	case 4:
		pr_warn("%.*s: %.*s\n", w, who, n, msg);
		break;
	default:
		pr_info("%.*s: %.*s\n", w, who, n, msg);
		break;
	}
}

int bpf_preload_hold_file(u32 kind, u32 fd, u32 prog_type, void **file, void **object)
{
	struct file *f = fget(fd);
	void *obj = NULL;

	if (!f)
		return -EBADF;
	/*
	 * The type check of the kernel's own fd lookups, so that @object is what
	 * @kind says. The fd is looked up twice: if it changed in between (insmod
	 * is single-threaded, so only a bug could do that), the two disagree.
	 */
	switch (kind) {
	case BPF_PRELOAD_PIN_MAP: {
		struct bpf_map *m = bpf_map_get(fd);

		if (!IS_ERR(m)) {
			obj = m;
			bpf_map_put(m);
		}
		break;
	}
	case BPF_PRELOAD_PIN_PROG: {
		struct bpf_prog *p = bpf_prog_get_type_dev(fd, prog_type, false);

		if (!IS_ERR(p)) {
			obj = p;
			bpf_prog_put(p);
		}
		break;
	}
	case BPF_PRELOAD_PIN_LINK: {
		struct bpf_link *l = bpf_link_get_from_fd(fd);

		if (!IS_ERR(l)) {
			obj = l;
			bpf_link_put(l);
		}
		break;
	}
	}
	if (!obj || obj != f->private_data) {
		fput(f);
		return -EBADF;
	}
	*file = f;
	*object = obj;
	return 0;
}

void bpf_preload_release_file(void *file)
{
	/*
	 * The last reference's release (detaching a link, emptying a program array)
	 * runs when this task returns to user space: from module exit, right after
	 * rmmod returns.
	 */
	fput(file);
}

void bpf_preload_keep_file(void *file)
{
	/*
	 * The module's memory, the last thing that pointed at @file, goes after
	 * exit: without this kmemleak would report the file and everything only it
	 * references (its creds, the BPF object), which are kept on purpose.
	 */
	kmemleak_not_leak(file);
}

int bpf_preload_object_id(u32 kind, u32 fd, u32 prog_type, u32 *id)
{
	/* kern_sys_bpf() has no BPF_OBJ_GET_INFO_BY_FD: read the id off the object. */
	switch (kind) {
	case BPF_PRELOAD_PIN_MAP: {
		struct bpf_map *m = bpf_map_get(fd);

		if (IS_ERR(m))
			return PTR_ERR(m);
		*id = m->id;
		bpf_map_put(m);
		return 0;
	}
	case BPF_PRELOAD_PIN_PROG: {
		struct bpf_prog *p = bpf_prog_get_type_dev(fd, prog_type, false);

		if (IS_ERR(p))
			return PTR_ERR(p);
		*id = p->aux->id;
		bpf_prog_put(p);
		return 0;
	}
	case BPF_PRELOAD_PIN_LINK: {
		struct bpf_link *l = bpf_link_get_from_fd(fd);

		if (IS_ERR(l))
			return PTR_ERR(l);
		*id = l->id;
		bpf_link_put(l);
		return 0;
	}
	}
	return -EINVAL;
}

/*
 * As map_delete_elem() in kernel/bpf/syscall.c calls it for struct_ops maps:
 * directly, in sleepable context, but without the bpf(2) LSM hook, which the
 * guard of `protect` uses to refuse user space (and which cannot tell module
 * init from user space on 6.1). The registered map holds a reference on itself,
 * which this drops; the caller's reference keeps it alive.
 */
static int struct_ops_unregister(struct bpf_map *m)
{
	u32 zero = 0;

	if (m->map_type != BPF_MAP_TYPE_STRUCT_OPS)
		return -EINVAL;
	return m->ops->map_delete_elem(m, &zero);
}

int bpf_preload_struct_ops_unregister(u32 fd)
{
	struct bpf_map *m = bpf_map_get(fd);
	int err;

	if (IS_ERR(m))
		return PTR_ERR(m);
	err = struct_ops_unregister(m);
	bpf_map_put(m);
	return err;
}

void bpf_preload_struct_ops_unregister_release(void *file)
{
	struct file *f = file;

	/* Held by bpf_preload_hold_file() as a map: private_data is the map. */
	struct_ops_unregister(f->private_data);
	fput(f);
}

/*
 * Once the runtime holds a program that runs through a BPF trampoline (lsm,
 * fentry, fexit, fmod_ret), it keeps ftrace switched on until it is removed
 * itself: on x86 trampolines are ftrace direct calls, and
 * kernel.ftrace_enabled=0 would turn every one of them into a no-op, switching
 * the policy off without touching it. A registered ftrace_ops with
 * FTRACE_OPS_FL_PERMANENT (what livepatch uses for the same reason) makes that
 * sysctl fail with EBUSY, and its registration fails with EBUSY while ftrace is
 * already off, so the load fails rather than look active.
 *
 * The hold is not given back when the last such object goes. Replacing a policy
 * (rmmod of the old unloadable module, then modprobe of the new) would otherwise
 * leave a window in which the sysctl works, and a load after it fails: the
 * machine would end up with no policy. Registering the ops is also the costliest
 * step of such a load (ftrace walks every patch site and builds a trampoline for
 * the ops), paid once. Removing the runtime gives the sysctl back.
 *
 * The ops traces one function of this module that is never called, so it costs
 * nothing at run time (an empty filter would trace every function).
 */
#ifdef CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS
static noinline void bpf_preload_ftrace_anchor(void)
{
	/* Keeps the compiler from merging or dropping this empty function. */
	barrier();
}

static void notrace bpf_preload_ftrace_nop(unsigned long ip, unsigned long parent_ip,
					   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
}

#define FTRACE_HOLD_OPS { .func = bpf_preload_ftrace_nop, .flags = FTRACE_OPS_FL_PERMANENT }
static struct ftrace_ops ftrace_hold = FTRACE_HOLD_OPS;
/* Whether the ops is registered: from the first hold to the runtime's exit. */
static bool ftrace_held;
static DEFINE_MUTEX(ftrace_lock);

int bpf_preload_hold_ftrace(void)
{
	int err = 0;

	mutex_lock(&ftrace_lock);
	if (!ftrace_held) {
		err = ftrace_set_filter_ip(&ftrace_hold,
					   (unsigned long)bpf_preload_ftrace_anchor, 0, 0);
		if (!err)
			err = register_ftrace_function(&ftrace_hold);
		if (err) {
			/*
			 * ftrace_free_filter() frees the hashes but leaves the ops
			 * pointing at them, and the next ftrace_set_filter_ip() would
			 * copy from freed memory: a new ops, as the static
			 * initialiser has it, starts with no hash.
			 */
			ftrace_free_filter(&ftrace_hold);
			ftrace_hold = (struct ftrace_ops)FTRACE_HOLD_OPS;
		}
	}
	ftrace_held = !err;
	mutex_unlock(&ftrace_lock);
	return err;
}

/* Runtime exit: the ops lives in the runtime's memory, which the kernel frees. */
static void release_ftrace_for_good(void)
{
	mutex_lock(&ftrace_lock);
	if (ftrace_held) {
		unregister_ftrace_function(&ftrace_hold);
		ftrace_free_filter(&ftrace_hold);
		ftrace_held = false;
	}
	mutex_unlock(&ftrace_lock);
}
#else
/* Trampolines are not ftrace direct calls here: the sysctl cannot touch them. */
int bpf_preload_hold_ftrace(void)
{
	return 0;
}

static void release_ftrace_for_good(void)
{
}
#endif

#ifdef BPF_PRELOAD_SEED
/*
 * The preload series exports the kernel's BTF: a module that the kernel loads at boot
 * from its preload list runs before user space has mounted /sys. Copied, so that
 * the buffer is the caller's to vfree() as the one read from sysfs is. -ENOENT if
 * the kernel has no BTF.
 */
static int copy_exported_btf(void **buf, size_t *size)
{
	size_t len;
	const void *raw = btf_vmlinux_raw_data(&len);
	void *data;

	if (!raw || !len)
		return -ENOENT;
	if (len >= INT_MAX)
		return -EINVAL;
	data = vmalloc(len);
	if (!data)
		return -ENOMEM;
	memcpy(data, raw, len);
	*buf = data;
	*size = len;
	return 0;
}
#endif

int bpf_preload_read_vmlinux_btf(void **buf, size_t *size)
{
	struct file *file;
	loff_t pos = 0, len;
	ssize_t n;
	void *data;

#ifdef BPF_PRELOAD_SEED
	int err = copy_exported_btf(buf, size);

	if (err != -ENOENT)
		return err;
#endif
	/*
	 * A plain read, not kernel_read_file(): its LSM hooks are for firmware, modules
	 * and policies, and IPE warns about any other use.
	 */
	file = filp_open("/sys/kernel/btf/vmlinux", O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	len = i_size_read(file_inode(file));
	data = len > 0 && len < INT_MAX ? vmalloc(len) : NULL;
	if (!data) {
		fput(file);
		return len > 0 ? -ENOMEM : -EINVAL;
	}
	while (pos < len) {
		n = kernel_read(file, data + pos, len - pos, &pos);
		if (n <= 0)
			break;
	}
	fput(file);
	if (pos != len) {
		vfree(data);
		return -EIO;
	}
	*buf = data;
	*size = len;
	return 0;
}

void bpf_preload_vfree(void *buf)
{
	vfree(buf);
}

#ifdef BPF_PRELOAD_SEED
/*
 * ---- Preload profile: a kernel with the preload series ----
 * Each object module registers itself (object.c); the runtime pins for it.
 */

bool bpf_preload_pins_per_object(void)
{
	return true;
}

int bpf_preload_pin(void *dir, const char *name, void *object, u32 type)
{
	BUILD_BUG_ON(BPF_PRELOAD_PIN_PROG != BPF_TYPE_PROG);
	BUILD_BUG_ON(BPF_PRELOAD_PIN_MAP != BPF_TYPE_MAP);
	BUILD_BUG_ON(BPF_PRELOAD_PIN_LINK != BPF_TYPE_LINK);
	return bpf_obj_do_pin_kernel(dir, name, object, type);
}

/* The global hook is gone from this kernel: the object is exposed per directory. */
int bpf_preload_expose(bool runtime, const char *name0, void *link0, const char *name1,
		       void *link1)
{
	return -EOPNOTSUPP;
}

void bpf_preload_unexpose(bool runtime)
{
}

static void unexpose_for_good(void)
{
}

#else
/* ---- Stock profile: the kernel's own bpf_preload_ops hook ---- */

/*
 * kernel/bpf/preload/bpf_preload.h is not shipped in linux-headers. Same layout
 * in 6.1 and 6.12 (and every kernel since 5.19): kernel/bpf/inode.c calls
 * ops->preload() at every bpffs mount, under try_module_get(ops->owner), for
 * BPF_PRELOAD_LINKS iterator links, takes its own reference on each
 * (bpf_link_inc) and pins it as link_name in the new mount.
 */
struct bpf_preload_info {
	char link_name[16];
	struct bpf_link *link;
};

struct bpf_preload_ops {
	int (*preload)(struct bpf_preload_info *);
	struct module *owner;
};

extern struct bpf_preload_ops *bpf_preload_ops;
#define BPF_PRELOAD_LINKS 2

/*
 * What the hook offers, in two places: the runtime's own links (its status view,
 * preload.progs and preload.maps) and the links of the one object module that asked
 * (an object pinning exactly two iterators, such as maps.debug and progs.debug). An
 * object's links go first: they are what its attribute asked for, while the status
 * view is also in the status map, which `cargo bpf-preload status` reads. Only
 * written, and read by the preload callback, under expose_lock.
 *
 * The hook's owner is the runtime, for good: bpffs takes a reference on the owner
 * before the callback and drops one on whatever owner the hook names afterwards, so
 * the owner must never change while the hook is published. No reference of our own
 * on the links (shim.h): Rust holds each link until bpf_preload_unexpose() has
 * returned, which waits out any mount that may have copied them (settle()), and
 * bpffs takes its own reference for every link file it creates (bpf_link_inc in
 * populate_bpffs).
 */
static struct bpf_preload_info runtime_links[BPF_PRELOAD_LINKS];
static struct bpf_preload_info object_links[BPF_PRELOAD_LINKS];
static bool has_runtime_links, has_object_links, is_published;
static DEFINE_MUTEX(expose_lock);

static int shim_preload(struct bpf_preload_info *obj)
{
	int err = 0;

	mutex_lock(&expose_lock);
	if (has_object_links)
		memcpy(obj, object_links, sizeof(object_links));
	else if (has_runtime_links)
		memcpy(obj, runtime_links, sizeof(runtime_links));
	else
		err = -ENOENT;	/* bpffs then shows nothing */
	mutex_unlock(&expose_lock);
	return err;
}

static struct bpf_preload_ops shim_ops = {
	.preload = shim_preload,
	.owner = THIS_MODULE,
};

/* Claims the hook if it is free. Called with expose_lock held. */
static int publish(const char *what)
{
	struct bpf_preload_ops *old;
	char holder[MODULE_NAME_LEN];

	if (is_published)
		return 0;
	/*
	 * Preemption stays off while the other owner's name is read: a module's
	 * memory is freed only after an RCU grace period, so its ops and struct
	 * module stay valid.
	 */
	preempt_disable();
	old = cmpxchg(&bpf_preload_ops, NULL, &shim_ops);
	if (old) {
		if (old->owner)
			strscpy(holder, module_name(old->owner), sizeof(holder));
		else
			strscpy(holder, "the kernel itself", sizeof(holder));
	}
	preempt_enable();
	if (old) {
		pr_warn("the kernel's bpf_preload_ops hook is taken (by %s): %s is not shown in bpffs\n",
			holder, what);
		return -EBUSY;
	}
	is_published = true;
	return 0;
}

/* Gives the hook back. Called with expose_lock held. */
static void unpublish(void)
{
	if (!is_published)
		return;
	/*
	 * The kernel reads bpf_preload_ops twice without a lock in
	 * bpf_preload_mod_get(); the in-tree bpf_preload module has the same race
	 * against a mount on unload. From the runtime's exit no callback runs: bpffs
	 * calls it only under try_module_get(owner), which fails once we are going.
	 */
	if (cmpxchg(&bpf_preload_ops, &shim_ops, NULL) != &shim_ops)
		pr_warn("bpf_preload_ops was changed behind our back\n");
	is_published = false;
}

/*
 * Waits until no bpffs mount can still hold a copy of links taken from the hook.
 * bpffs copies them and takes its own references under its preload lock, which a
 * mount of our own takes too: once that mount is made, every earlier one is done.
 * The mount is private (kern_mount) and goes at once; bpffs is built in, so its
 * file_system_type holds no module reference to put.
 */
static void settle(void)
{
	struct file_system_type *bpffs = get_fs_type("bpf");
	struct vfsmount *mnt;

	if (!bpffs)
		return;
	mnt = kern_mount(bpffs);
	if (IS_ERR(mnt)) {
		/* Without it a mount racing with this rmmod could copy a freed link. */
		pr_warn("cannot mount bpffs to wait for mounts in flight (%ld)\n", PTR_ERR(mnt));
		return;
	}
	kern_unmount(mnt);
}

int bpf_preload_expose(bool runtime, const char *name0, void *link0, const char *name1,
		       void *link1)
{
	const char *names[BPF_PRELOAD_LINKS] = { name0, name1 };
	struct bpf_link *links[BPF_PRELOAD_LINKS] = { link0, link1 };
	struct bpf_preload_info *to = runtime ? runtime_links : object_links;
	bool *has = runtime ? &has_runtime_links : &has_object_links;
	struct bpf_preload_info offered[BPF_PRELOAD_LINKS] = {};
	int i, err;

	for (i = 0; i < BPF_PRELOAD_LINKS; i++) {
		if (!links[i] || !names[i])
			return -EINVAL;
		if (strscpy(offered[i].link_name, names[i], sizeof(offered[i].link_name)) < 0) {
			pr_err("cannot expose link '%s': a name has at most %zu bytes\n",
			       names[i], sizeof(offered[i].link_name) - 1);
			return -ENAMETOOLONG;
		}
		offered[i].link = links[i];
	}
	mutex_lock(&expose_lock);
	if (*has) {
		pr_warn("%s and %s are exposed in bpffs already: %s and %s are not\n",
			to[0].link_name, to[1].link_name, name0, name1);
		mutex_unlock(&expose_lock);
		return -EBUSY;
	}
	err = publish(name0);
	if (!err) {
		memcpy(to, offered, sizeof(offered));
		*has = true;
	}
	mutex_unlock(&expose_lock);
	return err;
}

void bpf_preload_unexpose(bool runtime)
{
	bool had;

	mutex_lock(&expose_lock);
	if (runtime) {
		had = false;	/* from the runtime's exit: no mount can hold the hook */
		has_runtime_links = false;
		memset(runtime_links, 0, sizeof(runtime_links));
	} else {
		had = has_object_links;
		has_object_links = false;
		memset(object_links, 0, sizeof(object_links));
	}
	mutex_unlock(&expose_lock);
	/*
	 * Settled while the hook is still published: with no hook, a bpffs mount asks
	 * for the kernel's own bpf_preload module (request_module).
	 */
	if (had)
		settle();
	mutex_lock(&expose_lock);
	if (!has_runtime_links && !has_object_links)
		unpublish();
	mutex_unlock(&expose_lock);
}

/*
 * Runtime exit: the hook points into this module's memory. No mount can be copying
 * links (bpffs holds a reference on the runtime while it does), so nothing to wait
 * for; an object's links are still offered only after rmmod -f.
 */
static void unexpose_for_good(void)
{
	mutex_lock(&expose_lock);
	has_runtime_links = false;
	has_object_links = false;
	unpublish();
	mutex_unlock(&expose_lock);
}

/* Pins need the preload series: this kernel only offers two links at the root. */
bool bpf_preload_pins_per_object(void)
{
	return false;
}

int bpf_preload_pin(void *dir, const char *name, void *object, u32 type)
{
	return -EOPNOTSUPP;
}
#endif /* BPF_PRELOAD_SEED */

void bpf_preload_panic(const char *msg, size_t len)
{
	int n = len > INT_MAX ? INT_MAX : (int)len;

	pr_emerg("Rust panic: %.*s\n", n, msg);
	/*
	 * As Rust-for-Linux does: BUG() oopses. The oops kills the task running
	 * the module's code (insmod in module init), so insmod does not return
	 * and init never completes: the module stays in the "coming" state,
	 * cannot be used or removed, and its fds are closed when the task exits.
	 * The kernel keeps running (unless booted with panic_on_oops=1) and is
	 * tainted. Returning an error is impossible here: Rust panics cannot
	 * unwind (panic=abort) and the Rust state is no longer trustworthy.
	 */
	BUG();
}

/* ---- Maps shared by name: shim.h ---- */

/*
 * The runtime's pin root: what libbpf pins by name in /sys/fs/bpf, the objects
 * of object modules share here, a module having no bpffs of its own while it
 * loads. Each entry holds the map's file as a pin holds the map, until the
 * runtime's exit. Guarded by load_lock: only loads read or change it.
 */
struct shared_map {
	struct list_head node;
	struct file *file;
	size_t len;
	char name[];
};

static LIST_HEAD(shared_maps);
static DEFINE_MUTEX(load_lock);

static struct shared_map *find_shared(const char *name, size_t len)
{
	struct shared_map *s;

	lockdep_assert_held(&load_lock);
	list_for_each_entry(s, &shared_maps, node)
		if (s->len == len && !memcmp(s->name, name, len))
			return s;
	return NULL;
}

int bpf_preload_shared_map(const char *name, size_t len, u32 *def, u64 *map_extra)
{
	struct shared_map *s = find_shared(name, len);
	struct bpf_map *m;
	int fd;

	if (!s)
		return -ENOENT;
	fd = bpf_preload_install_fd(s->file);
	if (fd < 0)
		return fd;
	/* What libbpf's map_is_reuse_compat() compares, as the kernel holds it. */
	m = s->file->private_data;
	def[0] = m->map_type;
	def[1] = m->key_size;
	def[2] = m->value_size;
	def[3] = m->max_entries;
	def[4] = m->map_flags;
	*map_extra = m->map_extra;
	return fd;
}

int bpf_preload_share_map(u32 fd, const char *name, size_t len)
{
	struct shared_map *s;
	struct bpf_map *m;

	if (find_shared(name, len))
		return -EEXIST;
	s = kmalloc(struct_size(s, name, len), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->file = fget(fd);
	m = s->file ? bpf_map_get(fd) : ERR_PTR(-EBADF);
	if (IS_ERR(m) || m != s->file->private_data) {
		if (!IS_ERR(m))
			bpf_map_put(m);
		if (s->file)
			fput(s->file);
		kfree(s);
		return IS_ERR(m) ? PTR_ERR(m) : -EBADF;
	}
	/* The file holds the map, with its user reference, as a pin does. */
	bpf_map_put(m);
	s->len = len;
	memcpy(s->name, name, len);
	list_add_tail(&s->node, &shared_maps);
	return 0;
}

void bpf_preload_unshare_map(const char *name, size_t len)
{
	struct shared_map *s = find_shared(name, len);

	if (!s)
		return;
	list_del(&s->node);
	fput(s->file);
	kfree(s);
}

/* The runtime's exit: no load can run any more. */
static void unshare_all(void)
{
	struct shared_map *s, *next;

	mutex_lock(&load_lock);
	list_for_each_entry_safe(s, next, &shared_maps, node) {
		list_del(&s->node);
		fput(s->file);
		kfree(s);
	}
	mutex_unlock(&load_lock);
}

/* ---- The exports: bpf_preload_runtime.h ---- */

/* 6.13 made the namespace of EXPORT_SYMBOL_NS_GPL a string. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define BPF_PRELOAD_EXPORT(sym) EXPORT_SYMBOL_NS_GPL(sym, "BPF_PRELOAD")
#else
#define BPF_PRELOAD_EXPORT(sym) EXPORT_SYMBOL_NS_GPL(sym, BPF_PRELOAD)
#endif

int bpf_preload_load(struct module *owner, const struct bpf_preload_object *object,
		     struct bpf_preload_held **held)
{
	int err;

	if (!owner || !object || !object->table || !*object->table || !held ||
	    (object->kconfig_len && !object->kconfig) || (object->nr_params && !object->params))
		return -EINVAL;
	/*
	 * One load at a time (object modules load side by side at boot): a map
	 * shared by name is looked up and, if absent, created and shared by one
	 * load, never by two.
	 */
	mutex_lock(&load_lock);
	err = bpf_preload_rust_load(module_name(owner), *object->table, object->kconfig,
				    object->kconfig_len, object->params, object->nr_params,
				    (void **)held);
	mutex_unlock(&load_lock);
	return err;
}
BPF_PRELOAD_EXPORT(bpf_preload_load);

int bpf_preload_populate(struct bpf_preload_held *held, void *dir)
{
	return bpf_preload_rust_populate(held, dir);
}
BPF_PRELOAD_EXPORT(bpf_preload_populate);

void bpf_preload_release(struct bpf_preload_held *held)
{
	bpf_preload_rust_release(held);
}
BPF_PRELOAD_EXPORT(bpf_preload_release);

void bpf_preload_abandon(struct bpf_preload_held *held)
{
	bpf_preload_rust_abandon(held);
	/*
	 * The abandoned object's programs stay attached, ftrace held for their
	 * trampolines and, on a stock kernel, perhaps the bpffs hook: all of it in
	 * the runtime's memory, so the runtime stays too (as a permanent object
	 * module does: only rmmod -f removes it).
	 */
	__module_get(THIS_MODULE);
}
BPF_PRELOAD_EXPORT(bpf_preload_abandon);

/* The runtime's own object: its status view. */
static void *status;

static int __init bpf_preload_runtime_init(void)
{
	/*
	 * Without its status view the runtime still loads objects: what it holds is
	 * then seen only in the kernel log. The Rust half said why.
	 */
	if (bpf_preload_rust_load_status(&status))
		status = NULL;
	pr_info("ready: loads tables of layout %d\n", BPF_PRELOAD_TABLE_LAYOUT);
	return 0;
}
module_init(bpf_preload_runtime_init);

/*
 * Only reached when no object module uses the runtime (each holds a reference
 * through the symbols it uses), or by rmmod -f. Whatever is still exposed or
 * held for ftrace points into this module's memory and must go.
 */
static void __exit bpf_preload_runtime_exit(void)
{
	if (status)
		bpf_preload_rust_release(status);
	unexpose_for_good();
	unshare_all();
	release_ftrace_for_good();
}
module_exit(bpf_preload_runtime_exit);

#ifdef BPF_PRELOAD_IMPORT_NS
/* MODULE_INFO with a string works with both MODULE_IMPORT_NS syntaxes (6.13 changed it). */
MODULE_INFO(import_ns, __stringify(BPF_PRELOAD_IMPORT_NS));
#endif
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("bpf-preload runtime: loads, attaches and holds the BPF objects of object modules");
