#!/bin/sh
# bpf-preload's VM test (`cargo xtask vm-test --scenario modules-load`), run by
# systemd on a Debian root filesystem made by mmdebstrap: systemd-modules-load
# must have loaded the module that `cargo bpf-preload install` listed in
# /etc/modules-load.d/, and its policy must be active. Reports and powers off.
# The unit that runs it is modules-load.service beside it; the root disk holds
# Debian 12's own kernel, 6.1.
# kernels: release 6.1.
# prepare: modules-load
SCENARIO=modules-load
verdict() {
	echo "VERDICT $SCENARIO $*"
	echo o > /proc/sysrq-trigger
	sleep 30
}
echo "--- /etc/modules-load.d/my_guard.conf"
cat /etc/modules-load.d/my_guard.conf
echo "--- journalctl -b | grep -e systemd-modules-load -e my_guard"
journalctl -b --no-pager -o short-monotonic | grep -e systemd-modules-load -e my_guard
echo "--- grep my_guard /proc/modules"
grep my_guard /proc/modules
journalctl -b -o cat SYSLOG_IDENTIFIER=systemd-modules-load | grep -q "Inserted module 'my_guard'" ||
	verdict FAIL "systemd-modules-load did not insert my_guard: $(journalctl -b -o cat SYSLOG_IDENTIFIER=systemd-modules-load | tail -2)"
line=$(dmesg | grep 'my_guard: loaded' | tail -1)
echo "$line"
t=$(echo "$line" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
[ -n "$t" ] || verdict FAIL "no load message with a timestamp: $(dmesg | grep my_guard)"
if mkdir /tmp/forbidden 2>/dev/null; then
	verdict FAIL "mkdir /tmp/forbidden succeeded"
fi
verdict PASS "systemd-modules-load inserted my_guard (modules-load.d), attached at ${t} s after kernel start; mkdir forbidden refused under systemd (PID 1 $(cat /proc/1/comm))"
