// SPDX-License-Identifier: GPL-2.0
/*
 * libbpf peer of `cargo xtask bench`: load + attach + pin + free one object,
 * RUNS times, each run timed with CLOCK_MONOTONIC.
 *
 *   libbpf-harness OBJ PINDIR RUNS
 *
 * The object is read into memory once, before the first run (ours has it in
 * .rodata); each run then does what a loader of this object must do:
 *   load  = bpf_object__open_mem + bpf_object__load + bpf_program__attach of
 *           every program + bpf_link__pin of every link + bpf_map__pin of
 *           every map, into PINDIR;
 *   free  = unpin everything, bpf_link__destroy every link, bpf_object__close.
 * Prints one line per run:  RUN <load_ns> <free_ns> <attached>/<programs>
 * A program libbpf cannot auto-attach is loaded but left unattached, and
 * counted as such. Build: gcc -O2 harness.c -lbpf -o libbpf-harness
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#define MAX_LINKS 4096

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

/* bpffs refuses names with '.' from user space (.rodata, .bss): use '_'. */
static void pin_path(char *path, size_t size, const char *dir, const char *prefix,
		     const char *name)
{
	char *p;

	snprintf(path, size, "%s/%s", dir, prefix);
	p = path + strlen(path);
	snprintf(p, size - (p - path), "%s", name);
	for (; *p; p++)
		if (*p == '.')
			*p = '_';
}

static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = n;
	return buf;
}

int main(int argc, char **argv)
{
	static struct bpf_link *links[MAX_LINKS];
	char path[4096];
	size_t size;
	void *data;
	int runs;

	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJ PINDIR RUNS\n", argv[0]);
		return 2;
	}
	runs = atoi(argv[3]);
	data = read_file(argv[1], &size);
	if (!data) {
		perror(argv[1]);
		return 1;
	}
	libbpf_set_print(print_warnings);

	for (int run = 0; run < runs; run++) {
		struct bpf_program *prog;
		struct bpf_object *obj;
		struct bpf_map *map;
		int nlinks = 0, nprogs = 0, err;
		long long t0, t1, t2;

		t0 = now_ns();
		obj = bpf_object__open_mem(data, size, NULL);
		if (!obj) {
			fprintf(stderr, "open_mem: %s\n", strerror(errno));
			return 1;
		}
		err = bpf_object__load(obj);
		if (err) {
			fprintf(stderr, "load: %s\n", strerror(-err));
			return 1;
		}
		bpf_object__for_each_program(prog, obj) {
			struct bpf_link *link = bpf_program__attach(prog);

			nprogs++;
			if (!link)
				continue;
			pin_path(path, sizeof(path), argv[2], "", bpf_program__name(prog));
			err = bpf_link__pin(link, path);
			if (err) {
				fprintf(stderr, "pin %s: %s\n", path, strerror(-err));
				return 1;
			}
			if (nlinks == MAX_LINKS)
				return 1;
			links[nlinks++] = link;
		}
		bpf_object__for_each_map(map, obj) {
			pin_path(path, sizeof(path), argv[2], "map_", bpf_map__name(map));
			err = bpf_map__pin(map, path);
			if (err) {
				fprintf(stderr, "pin %s: %s\n", path, strerror(-err));
				return 1;
			}
		}
		t1 = now_ns();
		bpf_object__for_each_map(map, obj)
			bpf_map__unpin(map, NULL);
		for (int i = 0; i < nlinks; i++) {
			bpf_link__unpin(links[i]);
			bpf_link__destroy(links[i]);
		}
		bpf_object__close(obj);
		t2 = now_ns();
		printf("RUN %lld %lld %d/%d\n", t1 - t0, t2 - t1, nlinks, nprogs);
		fflush(stdout);
	}
	free(data);
	return 0;
}
