# shellcheck shell=sh
# Shell functions for every scenario of `cargo xtask vm-test`, sourced before it by
# init.sh in the VM's busybox initramfs. A scenario prints its verdict with `pass
# DETAIL` (once, at its end) or `fail DETAIL`, as a `VERDICT <scenario> PASS|FAIL
# <detail>` line on the serial console, which the harness reads.

pass() { echo "VERDICT $SCENARIO PASS $*"; }
fail() { echo "VERDICT $SCENARIO FAIL $*"; }

# The output of the last `check` or `refute`, one line (a verdict is one line).
checked_output() { printf '%s %s' "$OUT" "$ERR" | tr '\n' ' ' | sed 's/  */ /g; s/ $//'; }

# Runs COMMAND... with OUT set to its standard output and ERR to its standard error
# (also shown in the log); returns its status.
capture() {
	OUT=$("$@" 2>/tmp/check.err)
	_status=$?
	ERR=$(cat /tmp/check.err)
	[ -n "$ERR" ] && echo "$ERR" >&2
	return "$_status"
}
# The scenario fails with MESSAGE and what the last command printed, and stops.
stop() {
	_printed=$(checked_output)
	fail "$1${_printed:+: $_printed}"
	exit 0
}

# check MESSAGE COMMAND...: runs COMMAND; if it fails, the scenario fails with
# MESSAGE and what the command printed, and stops. Either way, OUT holds the
# command's standard output and ERR its standard error.
check() {
	_message=$1
	shift
	capture "$@" || stop "$_message"
}

# probe_checks COMMAND...: runs `preload-probe COMMAND...`, one of the commands that
# judge a load themselves (`ok: ...` lines), shows what it printed, keeps it in
# PROBED, and stops the scenario at its first failed check, error or panic.
probe_checks() {
	PROBED=$(preload-probe "$@" 2>&1)
	echo "$PROBED"
	_failed=$(echo "$PROBED" | grep -m1 'FAILED\|preload-probe:\|panicked')
	check "$_failed" [ -z "$_failed" ]
}

# refute MESSAGE COMMAND...: the same for a command that must fail (OUT and ERR
# hold what it said, e.g. its error).
refute() {
	_message=$1
	shift
	if capture "$@"; then
		stop "$_message"
	fi
}

# wait_until SECONDS COMMAND...: runs COMMAND every 50 ms until it succeeds (returns
# 0), or returns 1 once SECONDS have passed; OUT and ERR hold what its last run printed.
# For a change the kernel makes after the command that caused it returned (work it
# defers, such as the release of a BPF link).
wait_until() {
	_deadline=$(($(now) + $1 * 1000))
	shift
	until capture "$@"; do
		[ "$(now)" -ge "$_deadline" ] && return 1
		sleep 0.05
	done
}

# contains TEXT STRING: whether TEXT has STRING in it (a fixed string).
contains() { case "$1" in *"$2"*) return 0 ;; esac; return 1; }

# number TEXT: whether TEXT is a decimal number.
number() { case "$1" in '' | *[!0-9]*) return 1 ;; esac; }
# prefixed TEXT PREFIX: whether TEXT starts with PREFIX (a fixed string).
prefixed() { case "$1" in "$2"*) return 0 ;; esac; return 1; }

# Milliseconds since boot.
now() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
elapsed() { echo $(($2 - $1)); }
# Kernel messages without timestamps (stock kernels have them, the patched one not).
kmsg() { dmesg | sed 's/^\[[^]]*\] //'; }
# The kernel messages about object module $1: its own, and the runtime's about its
# object (`bpf_preload_runtime: $1: ...`).
about() { kmsg | grep -E "^(bpf_preload_runtime: )?$1: "; }
# The last kernel message about object module $1.
klog() { about "$1" | tail -1; }
# The kernel log's timestamp, in seconds, of a `[ 1.234567] ...` line.
timestamp() { echo "$1" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
# load MODULE.ko: insmod, or the scenario fails with the module's last message.
load() {
	_name=$(basename "$1" .ko)
	insmod "$1" || {
		fail "insmod $_name failed: $(klog "$_name")"
		exit 0
	}
}
# Where the pins of object $2 are in the bpffs mounted at $1: its own directory on
# the patched kernel, the root (two iterator links at most) on a stock one.
pins() { if [ "$PROFILE" = preload ]; then echo "$1/$2"; else echo "$1"; fi; }

# Kernel messages that mean a defect in the kernel or a module: an oops, a `BUG:`
# (KASAN's reports, sleeping in atomic context), a `WARNING:` (lockdep's and RCU's
# reports start with one, as WARN_ON()s do), UBSAN's reports, and lockdep's own words
# in case a report's first line is lost.
KERNEL_DEFECTS='Oops|BUG|WARNING|UBSAN:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage'
# kernel_problems [EXTRA]: the kernel's messages from the first one that matches
# KERNEL_DEFECTS (or the extended regular expression EXTRA) on, at most 150 lines;
# nothing if there is none.
kernel_problems() {
	dmesg | awk -v re="$KERNEL_DEFECTS${1:+|$1}" '$0 ~ re { on = 1 } on' | head -150
}
# kmemleak_report: on a kernel with kmemleak (the preload-sanitizer kernel, debugfs
# mounted by init.sh), every unreferenced object it finds, with its backtrace;
# nothing if there is none or no kmemleak. kmemleak reports only objects older than
# 5 s and found unreferenced by a scan, so it waits, then scans twice (an object
# whose last pointer was just overwritten is found by the second).
kmemleak_report() {
	[ -e /sys/kernel/debug/kmemleak ] || return 0
	sleep 6
	if ! { echo scan >/sys/kernel/debug/kmemleak && echo scan >/sys/kernel/debug/kmemleak; } 2>/dev/null; then
		echo "kmemleak cannot scan (disabled?): $(dmesg | grep kmemleak | tail -1)"
		return 0
	fi
	cat /sys/kernel/debug/kmemleak
}
# kmemleak_forget: forgets what kmemleak reported so far (after a scenario showed
# it), so that the next report has only new objects.
kmemleak_forget() {
	[ -e /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak
	return 0
}
