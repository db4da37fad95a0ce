#!/bin/busybox sh
# /init of the busybox initramfs of `cargo xtask vm-test` (and of every other boot of
# the harness): mounts what a scenario needs, runs /prelude.sh and /scenario.sh
# with SCENARIO and PROFILE from /scenario.env, reports kernel problems, powers off.
# The harness reads the markers: VM-START (boot time), VM-END, VM-KERNEL-PROBLEM.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
echo "VM-START $(uname -r) $(cut -d' ' -f1 /proc/uptime)"
# shellcheck source=/dev/null # written by the harness, for this boot only
. /scenario.env
export SCENARIO PROFILE
sh -c '. /prelude.sh; . /scenario.sh' </dev/null 2>&1
echo "VM-END $?"
dmesg | grep -E 'Oops|BUG|WARNING|Call Trace' && echo "VM-KERNEL-PROBLEM"
poweroff -f
