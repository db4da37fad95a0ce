// SPDX-License-Identifier: GPL-2.0
/*
 * The one generic object module of bpf-preload: the same for every object. What
 * differs is data: the object's table (table.o, the #[repr(C)] table that
 * #[bpf_preload] emits, built once for every kernel) and the lines of this
 * kernel's configuration its .kconfig externs read (kconfig.h, made by Kbuild from
 * the tree the module is built against), and the object's module parameters
 * (params.h, the variables of its params(...), written from the table by `cargo
 * bpf-preload`). Init hands all three to the runtime module, which loads,
 * attaches and holds the object; exit takes it back.
 *
 * Build-time defines (set by Kbuild):
 *   BPF_PRELOAD_UNLOADABLE rmmod detaches and frees everything; without it
 *                          rmmod is refused (see object_exit)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

#if __has_include(<linux/bpf_preload.h>)
#define BPF_PRELOAD_SERIES
#include <linux/bpf_preload.h>
#endif

#include "bpf_preload_runtime.h"
#include "kconfig.h"
#include "params.h"

/* The table, in table.o: a pointer to the object's bpf_preload::Object. */
extern const void *const bpf_preload_table;

static const char kconfig[] = BPF_PRELOAD_KCONFIG;
static struct bpf_preload_held *held;

/*
 * One module parameter per variable of params(...): `modprobe NAME VAR=VALUE`,
 * `options NAME VAR=VALUE` in /etc/modprobe.d/, `NAME.VAR=VALUE` on the kernel
 * command line (read by modprobe). The text goes to the runtime, which checks it
 * against the variable's type and writes it into the map's initial value before
 * anything loads; the default is the table's value. Read-only once loaded (0444):
 * the object is loaded with the value, and a new one would change nothing.
 */
#define BPF_PRELOAD_PARAM_DEFINE(name, value, what)			\
	static char *bpf_preload_param_##name = value;			\
	module_param_named(name, bpf_preload_param_##name, charp, 0444);	\
	MODULE_PARM_DESC(name, what);
BPF_PRELOAD_PARAMS(BPF_PRELOAD_PARAM_DEFINE)

#define BPF_PRELOAD_PARAM_ENTRY(name, value, what) { #name, &bpf_preload_param_##name },

/* In the table's order (params.h is written from it). */
static const struct bpf_preload_param params[] = { BPF_PRELOAD_PARAMS(BPF_PRELOAD_PARAM_ENTRY) };

/*
 * Static, as everything the runtime reads: init then has no array of its own on
 * the stack, hence no stack canary to check.
 */
static const struct bpf_preload_object object = {
	.table = &bpf_preload_table,
	.kconfig = kconfig,
	.kconfig_len = sizeof(kconfig) - 1,
	.params = params,
	.nr_params = ARRAY_SIZE(params),
};

#ifdef BPF_PRELOAD_SERIES
/*
 * The preload profile: the object registers with the kernel under the module's
 * name, and the kernel asks for its pins in every bpffs instance it creates.
 */
static int object_preload(struct dentry *dir)
{
	return bpf_preload_populate(held, dir);
}

static struct bpf_preload_ops object_ops = {
	.preload = object_preload,
};

static bool is_registered;

static int object_register(void)
{
	int err = bpf_preload_set_ops(KBUILD_MODNAME, THIS_MODULE, &object_ops);

	if (err == -EPERM)
		pr_err("the kernel refuses to preload %s: it is not on the preload list (bpf_preload_list= or CONFIG_BPF_PRELOAD_LIST); nothing is loaded\n",
		       KBUILD_MODNAME);
	else if (err == -EOPNOTSUPP)
		return 0; /* CONFIG_BPF_PRELOAD is off: held without pins */
	else if (err)
		pr_err("registering %s with the kernel failed: %d; nothing is loaded\n",
		       KBUILD_MODNAME, err);
	else
		pr_info("registered with the kernel: every bpffs instance gets %s/\n",
			KBUILD_MODNAME);
	is_registered = !err;
	return err;
}

static void object_unregister(void)
{
	if (!is_registered)
		return;
	/*
	 * Under the kernel's preload lock, which every preload() call holds: once
	 * this returns, no call is running and none will start.
	 */
	bpf_preload_set_ops(KBUILD_MODNAME, THIS_MODULE, NULL);
	is_registered = false;
}
#else
/* A stock kernel: the runtime shows what it can through the kernel's own hook. */
static int object_register(void)
{
	return 0;
}

static void object_unregister(void)
{
}
#endif

/*
 * notrace: with no function of the module left once init returns, an ftrace
 * record of init would be the only one on its ftrace page, and freeing the
 * init text would then free that page after a synchronize_rcu() (in
 * ftrace_free_mem()), which insmod waits for: a whole RCU grace period on every
 * object's load, longer than the load itself on a small object.
 */
static int __init notrace object_init(void)
{
	int err = bpf_preload_load(THIS_MODULE, &object, &held);

	/* A positive return from init makes the kernel warn; it is an error. */
	if (err)
		return err > 0 ? -EINVAL : err;
	err = object_register();
	if (err) {
		bpf_preload_release(held);
		return err;
	}
#ifndef BPF_PRELOAD_UNLOADABLE
	/*
	 * Permanent: our own reference makes rmmod fail ("in use"). Only a forced
	 * rmmod -f gets past it, and then the exit function below runs.
	 */
	__module_get(THIS_MODULE);
#endif
	return 0;
}
module_init(object_init);

/*
 * A permanent module has an exit function too, for one case only: rmmod -f
 * (CONFIG_MODULE_FORCE_UNLOAD, which Debian's kernels enable) removes a module
 * whatever its reference count. The kernel's preload hook would then point into
 * freed module memory, so the exit function always unregisters; only an
 * unloadable module also detaches and frees its programs.
 */
static void __exit object_exit(void)
{
	object_unregister();
#ifdef BPF_PRELOAD_UNLOADABLE
	bpf_preload_release(held);
#else
	/* The runtime says so: the object's programs stay attached, held by it. */
	bpf_preload_abandon(held);
#endif
}
module_exit(object_exit);

/* MODULE_INFO with a string works with both MODULE_IMPORT_NS syntaxes (6.13 changed it). */
MODULE_INFO(import_ns, "BPF_PRELOAD");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("bpf-preload object " KBUILD_MODNAME);
