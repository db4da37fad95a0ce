#!/bin/sh
# bpf-preload's VM test (`cargo xtask vm-test --scenario initramfs`), an init-bottom
# script of Debian's initramfs-tools: with bpf_preload_check=initramfs on the kernel
# command line, it checks, just before the initramfs hands over to the real init,
# that the module loaded from the initramfs and its policy is active, reports the
# kernel log's timestamps, and powers off. The harness boots Debian's initramfs and
# root disk (prepare hook `initramfs`), which hold Debian 12's own kernel, 6.1.
# kernels: release 6.1.
# prepare: initramfs
PREREQ=""
prereqs() { echo "$PREREQ"; }
case "$1" in
prereqs)
	prereqs
	exit 0
	;;
esac
grep -q 'bpf_preload_check=initramfs' /proc/cmdline || exit 0

SCENARIO=initramfs
verdict() {
	echo "VERDICT $SCENARIO $*"
	echo o > /proc/sysrq-trigger
	sleep 30
}
up=$(cut -d' ' -f1 /proc/uptime)
echo "bpf-preload check in init-bottom at ${up} s (root mounted at ${rootmnt:-?}, init not yet run)"
dmesg | grep -E 'my_guard'
grep -q '^my_guard ' /proc/modules || verdict FAIL "my_guard is not loaded in the initramfs"
line=$(dmesg | grep 'my_guard: loaded' | tail -1)
t=$(echo "$line" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
[ -n "$t" ] || verdict FAIL "no load message with a timestamp: $(dmesg | grep my_guard)"
if mkdir /forbidden 2>/dev/null; then
	verdict FAIL "mkdir /forbidden succeeded in the initramfs"
fi
verdict PASS "loaded from Debian's initramfs (mkinitramfs), attached at ${t} s after kernel start; mkdir forbidden refused in init-bottom at ${up} s, before init"
