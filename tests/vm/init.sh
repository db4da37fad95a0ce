#!/bin/busybox sh
# /init of the busybox initramfs of `cargo xtask vm-test` (and of every other boot of
# the harness): mounts what a scenario needs, runs /prelude.sh and /scenario.sh
# with SCENARIO and PROFILE from /scenario.env, reports kernel problems, powers off.
# The harness reads the markers: VM-START (boot time), VM-END, and
# `VM-KERNEL-PROBLEM <what>` for a kernel report in dmesg (an oops, a warning,
# KASAN, UBSAN, lockdep) or an object that kmemleak found unreferenced, which fail
# the scenario whatever its verdict.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
echo "VM-START $(uname -r) $(cut -d' ' -f1 /proc/uptime)"
# shellcheck source=/dev/null # written by the harness, for this boot only
. /scenario.env
export SCENARIO PROFILE SANITIZER
# kmemleak and the fault injection knobs of the preload-sanitizer kernel are in
# debugfs; the scenarios of the other kernels run without it, as they always did.
[ "$SANITIZER" = 1 ] && mount -t debugfs debugfs /sys/kernel/debug
# The runtime module every object module of the scenario needs, as modprobe would
# load it (the kernel may have loaded it already, for its preload list).
if [ -f /modules/bpf_preload_runtime.ko ] && ! grep -q '^bpf_preload_runtime ' /proc/modules; then
	insmod /modules/bpf_preload_runtime.ko || echo "insmod bpf_preload_runtime failed: $(dmesg | tail -1)"
fi
sh -c '. /prelude.sh; . /scenario.sh' </dev/null 2>&1
echo "VM-END $?"
# The prelude's checks, in this shell (the scenario's has exited); a call trace that
# comes with none of KERNEL_DEFECTS' words is a problem here too.
# shellcheck source=/dev/null # tests/vm/prelude.sh, at the root of the initramfs
. /prelude.sh
problems=$(kernel_problems 'Call Trace')
if [ -n "$problems" ]; then
	echo "$problems"
	echo "VM-KERNEL-PROBLEM dmesg: $(echo "$problems" | grep -E "$KERNEL_DEFECTS|Call Trace" | head -1)"
fi
leaks=$(kmemleak_report)
if [ -n "$leaks" ]; then
	echo "$leaks"
	echo "VM-KERNEL-PROBLEM kmemleak: $(echo "$leaks" | grep -c '^unreferenced object') unreferenced object(s), $(echo "$leaks" | head -1)"
fi
poweroff -f
