#!/bin/sh
# bpf-preload's VM test (scenario `initramfs`): two init-top scripts of Debian's
# initramfs-tools around udev's, installed into the tree by the prepare hook (not by
# `cargo bpf-preload install`) as bpf-preload-zz-before-udev (no prerequisite: by
# name, after bpf-preload-my_guard and before udev) and bpf-preload-zz-after-udev
# (PREREQ="udev"). With bpf_preload_check=initramfs on the kernel command line each
# writes to the kernel log whether systemd-udevd is running, so that the scenario
# can place the policy's attach line before udev's start by the log's timestamps.
case "${0##*/}" in
*-after-udev)
	PREREQ="udev"
	where="udev's init-top script has run"
	;;
*)
	PREREQ=""
	where="udev's init-top script runs next"
	;;
esac
prereqs() { echo "$PREREQ"; }
case "$1" in
prereqs)
	prereqs
	exit 0
	;;
esac
grep -q 'bpf_preload_check=initramfs' /proc/cmdline || exit 0
if pidof systemd-udevd >/dev/null; then
	udevd="running (pid $(pidof systemd-udevd))"
else
	udevd="not running"
fi
echo "bpf-preload-check: $where, systemd-udevd $udevd" >/dev/kmsg
exit 0
