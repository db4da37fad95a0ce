#!/bin/sh
# bpf-preload's VM test (`cargo xtask vm-test --scenario initramfs-params`), an
# init-bottom script of Debian's initramfs-tools: with bpf_preload_check=params on the
# kernel command line, it checks, before the initramfs hands over to init, that
# name_guard was loaded by Debian's initramfs with `name_guard.reserved=cmdline-name`
# from the kernel command line (kmod's modprobe reads it from /proc/cmdline): the
# parameter in /sys/module and the policy refusing a mkdir of that name.
# kernels: release 6.1.
# prepare: initramfs-params
PREREQ=""
prereqs() { echo "$PREREQ"; }
case "$1" in
prereqs)
	prereqs
	exit 0
	;;
esac
grep -q 'bpf_preload_check=params' /proc/cmdline || exit 0

SCENARIO=initramfs-params
verdict() {
	echo "VERDICT $SCENARIO $*"
	echo o > /proc/sysrq-trigger
	sleep 30
}
dmesg | grep -E 'name_guard'
grep -q '^name_guard ' /proc/modules || verdict FAIL "name_guard is not loaded in the initramfs"
reserved=$(cat /sys/module/name_guard/parameters/reserved)
[ "$reserved" = cmdline-name ] || verdict FAIL "reserved is '$reserved', not cmdline-name"
if mkdir /run/cmdline-name 2>/tmp/mkdir.err; then
	verdict FAIL "mkdir /run/cmdline-name succeeded: the policy does not refuse the name from the command line"
fi
grep -q 'Operation not permitted' /tmp/mkdir.err || verdict FAIL "mkdir failed, but not with EPERM: $(cat /tmp/mkdir.err)"
mkdir /run/bpf-preload-param || verdict FAIL "mkdir of the default name failed: the command line did not replace it"
verdict PASS "Debian's initramfs loaded name_guard with name_guard.reserved=cmdline-name from the kernel command line: /sys/module shows it, mkdir of that name is refused (EPERM), the default name is not"
