#!/bin/sh
# bpf-preload's VM test (`cargo xtask vm-test --scenario initramfs`), an init-bottom
# script of Debian's initramfs-tools: with bpf_preload_check=initramfs on the kernel
# command line, it checks, just before the initramfs hands over to the real init,
# that the init-top script of `cargo bpf-preload install --initramfs` loaded the
# module, before udev, from Debian's initramfs (mkinitramfs), with the runtime it
# depends on, that its policy is active, reports the kernel log's timestamps (kernel
# start → policy active, /init start → policy active), and powers off. The harness
# boots Debian's initramfs and root disk (prepare hook `initramfs`) of a Debian 12
# tree: its own kernel (6.1), or 6.12 installed into a copy of it with apt; it puts
# lib/initramfs-udev.sh in as two init-top scripts, right before and after udev's.
# kernels: stock
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
# The timestamp of the first kernel log line that matches $1 (grep -E), or nothing.
stamp() { dmesg | grep -E "$1" | head -1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
# Whether $1 < $2, as numbers.
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

up=$(cut -d' ' -f1 /proc/uptime)
release=$(uname -r)
echo "bpf-preload check in init-bottom at ${up} s on $release (root mounted at ${rootmnt:-?}, init not yet run)"
echo "--- dmesg: the modules, the scripts, udev"
dmesg | grep -E 'my_guard|bpf_preload_runtime|bpf-preload|Run /init|udev'
echo "--- /scripts/init-top/ORDER"
grep -v param.conf /scripts/init-top/ORDER

# (a) Both modules are in the image, the runtime as the object's dependency.
for module in my_guard bpf_preload_runtime; do
	find "/lib/modules/$release" -name "$module.ko*" | grep -q . ||
		verdict FAIL "the initramfs has no $module.ko"
done
deps=$(modprobe --show-depends my_guard 2>&1)
echo "--- modprobe --show-depends my_guard"
echo "$deps"
echo "$deps" | grep -q 'bpf_preload_runtime\.ko' ||
	verdict FAIL "modules.dep of the initramfs does not make my_guard need the runtime: $deps"
grep -q '^my_guard ' /proc/modules || verdict FAIL "my_guard is not loaded in the initramfs"
grep -q '^bpf_preload_runtime .* my_guard,' /proc/modules ||
	verdict FAIL "the runtime is not loaded, or my_guard does not use it: $(grep bpf_preload /proc/modules)"
[ -e /run/bpf-preload/my_guard.failed ] &&
	verdict FAIL "the init-top script recorded a failure: $(cat /run/bpf-preload/my_guard.failed)"

# (b) Before udev: in the order mkinitramfs wrote, and by the kernel log.
order=$(grep -v param.conf /scripts/init-top/ORDER | sed 's|^/scripts/init-top/\([^ ]*\) .*|\1|')
at() { echo "$order" | grep -nx "$1" | cut -d: -f1; }
ours=$(at bpf-preload-my_guard)
udev=$(at udev)
if [ -z "$ours" ] || [ -z "$udev" ]; then
	verdict FAIL "init-top/ORDER lacks bpf-preload-my_guard ($ours) or udev ($udev)"
fi
[ "$ours" -lt "$udev" ] ||
	verdict FAIL "init-top/ORDER runs udev (script $udev) before bpf-preload-my_guard (script $ours)"
attached=$(stamp 'my_guard: loaded')
marker=$(stamp 'bpf-preload: my_guard loaded by the initramfs')
before_udev=$(stamp "bpf-preload-check: udev's init-top script runs next, systemd-udevd not running")
after_udev=$(stamp "bpf-preload-check: udev's init-top script has run, systemd-udevd running")
run_init=$(stamp 'Run /init as init process')
if [ -z "$attached" ] || [ -z "$marker" ] || [ -z "$before_udev" ] || [ -z "$after_udev" ] || [ -z "$run_init" ]; then
	verdict FAIL "missing kernel log lines: attach '$attached', init-top marker '$marker', udevd not yet running '$before_udev', udevd running '$after_udev', Run /init '$run_init'"
fi
before "$run_init" "$attached" || verdict FAIL "attached at $attached s, before /init ran at $run_init s?"
before "$attached" "$before_udev" ||
	verdict FAIL "attached at $attached s, not before the last line before udev's init-top script ($before_udev s)"
before "$before_udev" "$after_udev" ||
	verdict FAIL "the line before udev's init-top script ($before_udev s) is not before the line after it ($after_udev s)"

# A module that fails: the same script logs at KERN_CRIT, records it in /run, and
# lets the boot go on (exit status 0).
sed 's/my_guard/no_such_policy/g' /scripts/init-top/bpf-preload-my_guard >/tmp/failing
sh /tmp/failing || verdict FAIL "the init-top script exits $? when its module fails to load"
[ -s /run/bpf-preload/no_such_policy.failed ] ||
	verdict FAIL "a failed load left no /run/bpf-preload/no_such_policy.failed"
dmesg -r | grep -Eq '^<(2|10)>.*bpf-preload: FAILED to load no_such_policy' ||
	verdict FAIL "a failed load was not logged at KERN_CRIT: $(dmesg -r | grep no_such_policy)"
echo "--- a failing module: $(cat /run/bpf-preload/no_such_policy.failed)"
rm -f /run/bpf-preload/no_such_policy.failed
if mkdir /forbidden 2>/dev/null; then
	verdict FAIL "mkdir /forbidden succeeded in the initramfs"
fi

# (c) The measurement.
since_init=$(awk -v a="$attached" -v b="$run_init" 'BEGIN { printf "%.6f", a - b }')
verdict PASS "loaded by init-top/bpf-preload-my_guard of Debian's initramfs (mkinitramfs) with the runtime as its dependency, attached at $attached s after kernel start, $since_init s after /init start ($run_init s), before udev (init-top/ORDER: script $ours, udev's $udev; systemd-udevd not running at $before_udev s, running at $after_udev s); a failing module logged at KERN_CRIT, boot went on; mkdir forbidden refused in init-bottom at $up s, before init"
