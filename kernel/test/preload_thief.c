// SPDX-License-Identifier: GPL-2.0
/* Registers under the name of another object on the preload list. */
#define PRELOAD_TEST_NAME "preload_missing"
#include "preload_test.c"
