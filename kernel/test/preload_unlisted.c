// SPDX-License-Identifier: GPL-2.0
#include "preload_test.c"
