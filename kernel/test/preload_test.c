// SPDX-License-Identifier: GPL-2.0
/*
 * A preloaded object for testing the kernel side of the series, without the
 * Rust runtime: it creates an array map and loads a program, registers with
 * bpf_preload_set_ops() and pins them into the directory it is given. Built under five
 * names (see Kbuild): preload_test works, preload_fail fails in preload()
 * after its first pin (the kernel must remove its directory),
 * preload_unlisted is not on the preload list (the kernel must refuse it),
 * and preload_thief and preload_anon try to register under the name of
 * another object on the list, preload_anon also claiming to be built in
 * (owner NULL): the kernel must refuse both.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf.h>
#include <linux/bpf_preload.h>
#include <linux/filter.h>
#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/module.h>
#include <linux/string.h>

/* The name and owner it registers with: its own, unless a test says otherwise. */
#ifndef PRELOAD_TEST_NAME
#define PRELOAD_TEST_NAME KBUILD_MODNAME
#endif
#ifndef PRELOAD_TEST_OWNER
#define PRELOAD_TEST_OWNER THIS_MODULE
#endif

/* Exported, but declared in no header. */
int kern_sys_bpf(int cmd, union bpf_attr *attr, unsigned int size);

static struct bpf_map *map;
static struct bpf_prog *prog;

static int preload(struct dentry *parent)
{
	int err;

	err = bpf_obj_do_pin_kernel(parent, "counts", map, BPF_TYPE_MAP);
	if (err)
		return err;
#ifdef PRELOAD_TEST_FAIL
	pr_info("failing after its first pin\n");
	return -ENOSPC;
#endif
	/* The same object twice, and a name with a dot (reserved for the kernel). */
	err = bpf_obj_do_pin_kernel(parent, "counts.again", map, BPF_TYPE_MAP);
	if (err)
		return err;
	err = bpf_obj_do_pin_kernel(parent, "counts", map, BPF_TYPE_MAP);
	if (err != -EEXIST) {
		pr_err("pinning over an existing name: %d, not -EEXIST\n", err);
		return -EINVAL;
	}
	return bpf_obj_do_pin_kernel(parent, "prog", prog, BPF_TYPE_PROG);
}

static struct bpf_preload_ops ops = {
	.preload = preload,
};

/* r0 = 0; exit */
static const struct bpf_insn insns[] = {
	BPF_MOV64_IMM(BPF_REG_0, 0),
	BPF_EXIT_INSN(),
};

static int __init preload_test_init(void)
{
	union bpf_attr attr = {};
	int fd, err;

	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 8;
	attr.max_entries = 4;
	strscpy(attr.map_name, KBUILD_MODNAME, sizeof(attr.map_name));
	fd = kern_sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return fd;
	map = bpf_map_get(fd);
	close_fd(fd);
	if (IS_ERR(map))
		return PTR_ERR(map);

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SYSCALL;
	attr.prog_flags = BPF_F_SLEEPABLE;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = ARRAY_SIZE(insns);
	attr.license = (unsigned long)"GPL";
	strscpy(attr.prog_name, KBUILD_MODNAME, sizeof(attr.prog_name));
	fd = kern_sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0) {
		err = fd;
		goto out_map;
	}
	prog = bpf_prog_get_type_dev(fd, BPF_PROG_TYPE_SYSCALL, false);
	close_fd(fd);
	if (IS_ERR(prog)) {
		err = PTR_ERR(prog);
		goto out_map;
	}

	err = bpf_preload_set_ops(PRELOAD_TEST_NAME, PRELOAD_TEST_OWNER, &ops);
	if (err) {
		pr_err("bpf_preload_set_ops: %d\n", err);
		goto out_prog;
	}
	pr_info("registered, map id %u, prog id %u\n", map->id, prog->aux->id);
	return 0;

out_prog:
	bpf_prog_put(prog);
out_map:
	bpf_map_put(map);
	return err;
}
module_init(preload_test_init);

static void __exit preload_test_exit(void)
{
	bpf_preload_set_ops(PRELOAD_TEST_NAME, PRELOAD_TEST_OWNER, NULL);
	bpf_prog_put(prog);
	bpf_map_put(map);
	pr_info("unregistered\n");
}
module_exit(preload_test_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Tests preloading a BPF object into bpffs");
/*
 * kern_sys_bpf() and bpf_map_get() are in this namespace on 6.12.y (and from
 * 6.15); the string form imports it with either MODULE_IMPORT_NS() syntax.
 */
MODULE_INFO(import_ns, "BPF_INTERNAL");
