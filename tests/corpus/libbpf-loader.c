// SPDX-License-Identifier: GPL-2.0
/*
 * The corpus tier's libbpf loader for objects a product's loader completes at run
 * time: what `bpftool prog loadall` does, with the calls such a loader makes before
 * bpf_object__load(). Each call is one argument, in the syntax of the `loader:`
 * lines of a written object (tests/corpus/written/), from which the harness also
 * makes #[bpf_preload]'s options:
 *
 *   inner=MAP:TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES  bpf_map__set_inner_map_fd() of
 *                                                   a new map of that definition
 *                                                   (TYPE: array, hash or
 *                                                   reuseport_sockarray)
 *   inner=MAP:@TEMPLATE      the same, of a map like the object's map TEMPLATE
 *   max=MAP:N                bpf_map__set_max_entries(MAP, N)
 *   value=MAP:N              bpf_map__set_value_size(MAP, N)
 *   target=PROG:NAME         bpf_program__set_attach_target(PROG, 0, NAME)
 *   type=PROG:TYPE           bpf_program__set_type(PROG, TYPE), as iproute2 and tc
 *                            type what they load (TYPE: sched_cls, lwt_xmit, sk_skb)
 *   set=VAR:VALUE            VALUE (an integer, true or false) written into the
 *                            global VAR of .rodata, .data or .bss before load
 *
 * Maps pinned by name (LIBBPF_PIN_BY_NAME) are pinned in MAPDIR (pin_root_path),
 * every other map there too, and every loaded program in PROGDIR, as bpftool pins
 * them.
 *
 * Usage: libbpf-loader OBJECT PROGDIR MAPDIR [CALL...]; exit 0 once loaded and
 * pinned, 1 with libbpf's messages on stderr otherwise.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static int fail(const char *what, const char *arg)
{
	fprintf(stderr, "libbpf-loader: %s: %s\n", what, arg);
	return -EINVAL;
}

/* Splits "A:B..." at the first ':': returns B..., with A NUL-terminated. */
static char *split(char *s)
{
	char *colon = strchr(s, ':');

	if (!colon)
		return NULL;
	*colon = '\0';
	return colon + 1;
}

static int inner(struct bpf_object *obj, char *spec)
{
	char *rest = split(spec);
	struct bpf_map *outer = bpf_object__find_map_by_name(obj, spec);
	unsigned int type, key, value, entries, flags = 0;
	char type_name[32];
	int fd;

	if (!rest || !outer)
		return fail("inner: no such map of maps", spec);
	if (rest[0] == '@') {
		struct bpf_map *t = bpf_object__find_map_by_name(obj, rest + 1);

		if (!t)
			return fail("inner: no such template map", rest + 1);
		type = bpf_map__type(t);
		key = bpf_map__key_size(t);
		value = bpf_map__value_size(t);
		entries = bpf_map__max_entries(t);
		flags = bpf_map__map_flags(t);
	} else {
		if (sscanf(rest, "%31[a-z_]:%u:%u:%u", type_name, &key, &value, &entries) != 4)
			return fail("inner: not TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES", rest);
		if (!strcmp(type_name, "array"))
			type = BPF_MAP_TYPE_ARRAY;
		else if (!strcmp(type_name, "hash"))
			type = BPF_MAP_TYPE_HASH;
		else if (!strcmp(type_name, "reuseport_sockarray"))
			type = BPF_MAP_TYPE_REUSEPORT_SOCKARRAY;
		else
			return fail("inner: not array, hash or reuseport_sockarray", type_name);
	}
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	fd = bpf_map_create(type, "inner", key, value, entries, &opts);
	if (fd < 0)
		return fail("inner: creating the inner map", strerror(errno));
	/* The process holds the fd until it exits, as a product's loader would. */
	return bpf_map__set_inner_map_fd(outer, fd);
}

/* max= and value=: MAP:N given to a setter of the map's definition. */
static int size(struct bpf_object *obj, char *spec, const char *what,
		int (*set)(struct bpf_map *map, __u32 n))
{
	char *n = split(spec);
	struct bpf_map *map = bpf_object__find_map_by_name(obj, spec);

	if (!n || !map)
		return fail(what, spec);
	return set(map, strtoul(n, NULL, 0));
}

static int target(struct bpf_object *obj, char *spec)
{
	char *name = split(spec);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, spec);

	if (!name || !prog)
		return fail("target: no such program", spec);
	return bpf_program__set_attach_target(prog, 0, name);
}

/* Writes VALUE into the variable VAR of the global-data map that holds it. */
static int set(struct bpf_object *obj, char *spec)
{
	char *text = split(spec);
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	long long value;

	if (!text || !btf)
		return fail("set: not VAR:VALUE, or no BTF", spec);
	if (!strcmp(text, "true"))
		value = 1;
	else if (!strcmp(text, "false"))
		value = 0;
	else
		value = strtoll(text, NULL, 0);
	bpf_object__for_each_map(map, obj) {
		const struct btf_type *sec;
		const struct btf_var_secinfo *v;
		size_t size;
		char *data;
		int i;

		if (!bpf_map__is_internal(map))
			continue;
		sec = btf__type_by_id(btf, bpf_map__btf_value_type_id(map));
		data = (char *)bpf_map__initial_value(map, &size);
		if (!sec || !btf_is_datasec(sec) || !data)
			continue;
		for (i = 0, v = btf_var_secinfos(sec); i < btf_vlen(sec); i++, v++) {
			const struct btf_type *var = btf__type_by_id(btf, v->type);

			if (strcmp(btf__name_by_offset(btf, var->name_off), spec))
				continue;
			if (v->size > sizeof(value) || v->offset + v->size > size)
				return fail("set: not an integer of at most 8 bytes", spec);
			/* Little-endian, as the BPF target of x86-64 lays it out. */
			memcpy(data + v->offset, &value, v->size);
			return 0;
		}
	}
	return fail("set: no such global variable", spec);
}

static int type(struct bpf_object *obj, char *spec)
{
	static const struct {
		const char *name;
		enum bpf_prog_type type;
	} types[] = {
		{ "sched_cls", BPF_PROG_TYPE_SCHED_CLS },
		{ "lwt_xmit", BPF_PROG_TYPE_LWT_XMIT },
		{ "sk_skb", BPF_PROG_TYPE_SK_SKB },
	};
	char *name = split(spec);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, spec);
	size_t i;

	if (!name || !prog)
		return fail("type: no such program", spec);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i].name, name))
			return bpf_program__set_type(prog, types[i].type);
	return fail("type: not sched_cls, lwt_xmit or sk_skb", name);
}

static int call(struct bpf_object *obj, char *arg)
{
	if (!strncmp(arg, "inner=", 6))
		return inner(obj, arg + 6);
	if (!strncmp(arg, "max=", 4))
		return size(obj, arg + 4, "max: no such map", bpf_map__set_max_entries);
	if (!strncmp(arg, "value=", 6))
		return size(obj, arg + 6, "value: no such map", bpf_map__set_value_size);
	if (!strncmp(arg, "type=", 5))
		return type(obj, arg + 5);
	if (!strncmp(arg, "target=", 7))
		return target(obj, arg + 7);
	if (!strncmp(arg, "set=", 4))
		return set(obj, arg + 4);
	return fail("unknown call", arg);
}

/*
 * Every loaded program as PROGDIR/NAME, as bpftool pins them; unlike bpftool,
 * which then fails ("can't pin program that wasn't loaded"), a program its object
 * leaves out of the load (SEC("?...")) is skipped, as our side skips it.
 */
static int pin_programs(struct bpf_object *obj, const char *dir)
{
	struct bpf_program *prog;
	char path[4096];
	int err;

	bpf_object__for_each_program(prog, obj) {
		if (bpf_program__fd(prog) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_program__name(prog));
		err = bpf_program__pin(prog, path);
		if (err)
			return err;
	}
	return 0;
}

/* bpftool's pin names: libbpf turns a '.' of a map's name into '_'. */
static int pin_maps(struct bpf_object *obj, const char *dir)
{
	struct bpf_map *map;
	char path[4096];
	int err;

	bpf_object__for_each_map(map, obj) {
		char *dot;

		if (bpf_map__is_pinned(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		for (dot = strchr(path + strlen(dir), '.'); dot; dot = strchr(dot, '.'))
			*dot = '_';
		err = bpf_map__pin(map, path);
		if (err)
			return err;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int i, err;

	if (argc < 4) {
		fprintf(stderr, "usage: %s OBJECT PROGDIR MAPDIR [CALL...]\n", argv[0]);
		return 2;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = argv[3]);
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		fprintf(stderr, "libbpf-loader: opening %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (i = 4; i < argc; i++) {
		err = call(obj, argv[i]);
		if (err) {
			fprintf(stderr, "libbpf-loader: %s: %s\n", argv[i], strerror(-err));
			return 1;
		}
	}
	err = bpf_object__load(obj);
	if (!err)
		err = pin_programs(obj, argv[2]);
	if (!err)
		err = pin_maps(obj, argv[3]);
	if (err) {
		fprintf(stderr, "libbpf-loader: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	/* Pinned: the pins hold everything once we exit, as bpftool's do. */
	return 0;
}
