// insmod_time: time init_module/delete_module precisely (CLOCK_MONOTONIC).
//   insmod_time <file.ko>     finit_module(fd, "", 0)
//   insmod_time -r <name>     delete_module(name, O_NONBLOCK)
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long long t0, t1;
	long rc;
	int err;

	if (argc == 3 && !strcmp(argv[1], "-r")) {
		t0 = now_ns();
		rc = syscall(SYS_delete_module, argv[2], O_NONBLOCK);
		t1 = now_ns();
		err = rc ? errno : 0;
		printf("RESULT unload %s us=%lld rc=%ld errno=%d\n", argv[2], (t1 - t0) / 1000, rc, err);
		return rc ? 1 : 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s file.ko | -r name\n", argv[0]);
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	t0 = now_ns();
	rc = syscall(SYS_finit_module, fd, "", 0);
	t1 = now_ns();
	err = rc ? errno : 0;
	close(fd);
	printf("RESULT load %s us=%lld rc=%ld errno=%d\n", argv[1], (t1 - t0) / 1000, rc, err);
	return rc ? 1 : 0;
}
