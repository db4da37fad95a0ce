// SPDX-License-Identifier: GPL-2.0
/* The same, claiming to be built into the kernel (no owner). */
#define PRELOAD_TEST_NAME "preload_missing"
#define PRELOAD_TEST_OWNER NULL
#include "preload_test.c"
