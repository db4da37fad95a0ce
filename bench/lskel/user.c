// SPDX-License-Identifier: GPL-2.0
/*
 * Light-skeleton peer of `cargo xtask bench`, in user space: the object's
 * `bpftool gen skeleton -L` header compiled in, RUNS times
 *   load = SKEL__open_and_load + SKEL__attach + BPF_OBJ_PIN of every link fd
 *          and every map fd into PINDIR;
 *   free = unlink the pins + SKEL__destroy.
 * Prints one line per run:  RUN <load_ns> <free_ns> <attached>/<programs>
 *
 *   gcc -O2 -DSKEL=iterators_bpf -DSKEL_H='"iterators.lskel.h"' -I. user.c
 *
 * A light skeleton's struct holds `maps` (one struct bpf_map_desc per map),
 * `progs` (one struct bpf_prog_desc per program) and `links` (one int fd per
 * program), in that order, so they are walked as arrays. A program type the
 * light skeleton cannot attach (a classic tracepoint) keeps link fd 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include SKEL_H

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define SKEL_FN(f) CAT(SKEL, f)

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int pin(int fd, const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (long)path;
	attr.bpf_fd = fd;
	return skel_sys_bpf(BPF_OBJ_PIN, &attr, sizeof(attr));
}

int main(int argc, char **argv)
{
	char path[4096];
	int runs;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PINDIR RUNS\n", argv[0]);
		return 2;
	}
	runs = atoi(argv[2]);
	for (int run = 0; run < runs; run++) {
		struct SKEL *skel;
		struct bpf_map_desc *maps;
		int *links, nmaps, nprogs, attached = 0;
		long long t0, t1, t2;

		t0 = now_ns();
		skel = SKEL_FN(__open_and_load)();
		if (!skel) {
			fprintf(stderr, "open_and_load: %s\n", strerror(errno));
			return 1;
		}
		if (SKEL_FN(__attach)(skel)) {
			fprintf(stderr, "attach: %s\n", strerror(errno));
			return 1;
		}
		maps = (struct bpf_map_desc *)&skel->maps;
		nmaps = sizeof(skel->maps) / sizeof(*maps);
		links = (int *)&skel->links;
		nprogs = sizeof(skel->links) / sizeof(*links);
		for (int i = 0; i < nprogs; i++) {
			if (links[i] <= 0)
				continue;
			attached++;
			snprintf(path, sizeof(path), "%s/link_%d", argv[1], i);
			if (pin(links[i], path)) {
				fprintf(stderr, "pin %s: %s\n", path, strerror(errno));
				return 1;
			}
		}
		for (int i = 0; i < nmaps; i++) {
			snprintf(path, sizeof(path), "%s/map_%d", argv[1], i);
			if (pin(maps[i].map_fd, path)) {
				fprintf(stderr, "pin %s: %s\n", path, strerror(errno));
				return 1;
			}
		}
		t1 = now_ns();
		for (int i = 0; i < nprogs; i++) {
			if (links[i] <= 0)
				continue;
			snprintf(path, sizeof(path), "%s/link_%d", argv[1], i);
			unlink(path);
		}
		for (int i = 0; i < nmaps; i++) {
			snprintf(path, sizeof(path), "%s/map_%d", argv[1], i);
			unlink(path);
		}
		SKEL_FN(__destroy)(skel);
		t2 = now_ns();
		printf("RUN %lld %lld %d/%d\n", t1 - t0, t2 - t1, attached, nprogs);
		fflush(stdout);
	}
	return 0;
}
