/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ABI of the bpf-preload runtime module (bpf_preload_runtime.ko): what an
 * object module calls. The runtime holds the one copy of the generic loader on a
 * machine; an object module holds only its object's table (the #[repr(C)] data
 * #[bpf_preload] emits) and the generic object.c, which hands the table to the
 * runtime at init and takes it back at exit.
 *
 * The exports are EXPORT_SYMBOL_NS_GPL in the namespace BPF_PRELOAD: an object
 * module imports it (MODULE_IMPORT_NS). The module loader then records the
 * dependency (the runtime cannot be removed while an object module is loaded, and
 * depmod makes modprobe load the runtime first), and with CONFIG_MODVERSIONS
 * checks the CRC of each prototype below.
 *
 * Every function returning int returns 0 or a negative errno, and has printed why.
 */
#ifndef BPF_PRELOAD_RUNTIME_H
#define BPF_PRELOAD_RUNTIME_H

#include <linux/types.h>

struct module;

/*
 * The layout of the table this runtime reads (bpf_preload::TABLE_LAYOUT). The
 * table's first field is the layout it was made with; bpf_preload_load() refuses
 * a table of another layout, naming both. Layout 2 added the object's parameters
 * (params(...)); layout 3 made a link 32 bytes and bpf_preload_load() take the
 * object module's struct bpf_preload_object; layout 4 added a map's sharing by
 * name (LIBBPF_PIN_BY_NAME), which an older runtime would ignore; layout 5 an
 * attach target in another BPF program (target_program(...)).
 */
#define BPF_PRELOAD_TABLE_LAYOUT 5

/* What the runtime holds of one loaded object: opaque to the object module. */
struct bpf_preload_held;

/*
 * One module parameter of the object module (a variable of the object's
 * params(...)): its name and where the module parameter's text is (the charp
 * variable), whose value is NULL for none (the table's value stands).
 */
struct bpf_preload_param {
	const char *name;
	char *const *value;
};

/*
 * What an object module gives the runtime, all of it static data of the module:
 * @table, where the pointer to the #[repr(C)] table of its object is (the table
 * object's bpf_preload_table); @kconfig, @kconfig_len bytes of
 * `CONFIG_X=value` lines for its .kconfig externs, from the configuration of the
 * kernel the object module was built for; its module parameters, @nr_params of
 * @params, in the table's order.
 */
struct bpf_preload_object {
	const void *const *table;
	const char *kconfig;
	size_t kconfig_len;
	const struct bpf_preload_param *params;
	size_t nr_params;
};

/*
 * Loads, attaches and holds @object for @owner (the calling module, whose name
 * prefixes the messages), with the values of its module parameters written into
 * the initial values of their maps before anything loads. A value the object
 * refuses, or a name it has no parameter for, fails the load with -EINVAL,
 * naming the parameter and the reason. On success *@held is what
 * bpf_preload_populate(), bpf_preload_release() and bpf_preload_abandon() take;
 * on failure nothing is left behind. Everything @object points to must stay
 * valid until the object is released (module data is).
 */
int bpf_preload_load(struct module *owner, const struct bpf_preload_object *object,
		     struct bpf_preload_held **held);

/*
 * With the preload series: pins what @held asks for into @dir, the object's new
 * directory of a bpffs instance (the kernel's preload() callback).
 */
int bpf_preload_populate(struct bpf_preload_held *held, void *dir);

/* Detaches and frees everything of @held (an unloadable object module's exit). */
void bpf_preload_release(struct bpf_preload_held *held);

/*
 * Keeps everything of @held attached and held for good, and the runtime loaded
 * with it (a permanent object module removed by force: only rmmod -f reaches its
 * exit).
 */
void bpf_preload_abandon(struct bpf_preload_held *held);

#endif
