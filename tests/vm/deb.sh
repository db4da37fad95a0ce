#!/bin/sh
# bpf-preload's VM test (`cargo xtask vm-test --scenario deb`), run by systemd on
# the Debian 12 root filesystem of the boot tests, into which the prepare hook
# installed the packages of `cargo bpf-preload deb` with `apt-get install
# my-guard-dkms` (DKMS built both modules there), and, for 6.12, that kernel's image
# and headers with apt (DKMS rebuilt both). systemd-modules-load must have loaded
# the DKMS-built policy from the package's /usr/lib/modules-load.d/my_guard.conf,
# modprobe the runtime it depends on first, and the policy must be active. The unit
# that runs it is modules-load.service. Reports and powers off.
# kernels: stock
# prepare: deb
SCENARIO=deb
verdict() {
	echo "VERDICT $SCENARIO $*"
	echo o > /proc/sysrq-trigger
	sleep 30
}
release=$(uname -r)
echo "--- dpkg-query -W bpf-preload-runtime-dkms my-guard-dkms"
dpkg-query -W -f '${Package} ${Version} ${Status}\n' bpf-preload-runtime-dkms my-guard-dkms
echo "--- /usr/lib/modules-load.d/my_guard.conf"
cat /usr/lib/modules-load.d/my_guard.conf
echo "--- journalctl -b | grep -e systemd-modules-load -e my_guard -e bpf_preload_runtime"
journalctl -b --no-pager -o short-monotonic | grep -e systemd-modules-load -e my_guard -e bpf_preload_runtime
echo "--- /proc/modules"
grep -e '^my_guard ' -e '^bpf_preload_runtime ' /proc/modules
journalctl -b -o cat SYSLOG_IDENTIFIER=systemd-modules-load | grep -q "Inserted module 'my_guard'" ||
	verdict FAIL "systemd-modules-load did not insert my_guard on $release: $(journalctl -b -o cat SYSLOG_IDENTIFIER=systemd-modules-load | tail -2)"
for module in bpf_preload_runtime my_guard; do
	grep -q "^$module " /proc/modules || verdict FAIL "$module is not loaded on $release"
	path=$(modinfo -n "$module") || verdict FAIL "modinfo finds no $module for $release"
	echo "$module: $path"
	case $path in
	"/lib/modules/$release/updates/dkms/"*) ;;
	*) verdict FAIL "$module is $path, not the one DKMS installed for $release" ;;
	esac
done
users=$(grep '^bpf_preload_runtime ' /proc/modules | cut -d' ' -f4)
case $users in
*my_guard*) ;;
*) verdict FAIL "the runtime module is not used by my_guard: $users" ;;
esac
line=$(dmesg | grep 'my_guard: loaded' | tail -1)
echo "$line"
t=$(echo "$line" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
[ -n "$t" ] || verdict FAIL "no load message with a timestamp: $(dmesg | grep -e my_guard -e bpf_preload_runtime)"
if err=$(mkdir /tmp/forbidden 2>&1); then
	verdict FAIL "mkdir /tmp/forbidden succeeded on $release"
fi
case $err in
*"Operation not permitted"*) ;;
*) verdict FAIL "mkdir /tmp/forbidden failed, but not with EPERM: $err" ;;
esac
mkdir /tmp/allowed || verdict FAIL "mkdir of another name failed"
verdict PASS "$release: apt-installed my-guard-dkms $(dpkg-query -W -f '${Version}' my-guard-dkms), DKMS-built my_guard and bpf_preload_runtime in updates/dkms, inserted by systemd-modules-load, attached at ${t} s; mkdir forbidden EPERM"
