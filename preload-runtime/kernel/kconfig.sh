#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kconfig.sh NAMES CONFIG: kconfig.h for object.c, the lines of the kernel's
# configuration (.config or include/config/auto.conf) whose option NAMES lists (one per line,
# the .kconfig externs of the object), as one C string. Run by Kbuild, so that the
# values are those of the kernel the object module is built for.
set -eu
echo "/* Generated from $2 by kconfig.sh: the options the object reads. */"
printf '#define BPF_PRELOAD_KCONFIG ""'
awk -F= 'NR == FNR { if ($0 != "") want[$0] = 1; next }
	($1 in want) {
		gsub(/\\/, "\\\\\\\\"); gsub(/"/, "\\\\\"")
		printf " \\\n\t\"%s\\n\"", $0
	}' "$1" "$2"
echo
