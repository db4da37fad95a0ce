// SPDX-License-Identifier: GPL-2.0
#define PRELOAD_TEST_FAIL
#include "preload_test.c"
