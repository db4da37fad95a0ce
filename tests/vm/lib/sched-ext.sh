# shellcheck shell=sh
# What the kernel says of examples/sched_ext_minimal's scheduler, `preload_minimal`,
# shared by preload-sched-ext.sh (the permanent module) and
# preload-sched-ext-unload.sh (the unloadable one). sched_ext's own files are in
# /sys/kernel/sched_ext: `state` (enabled, disabled, ...), `switch_all`, `enable_seq`
# (schedulers enabled since boot) and, while one is enabled, `root/ops` (its name).

scx_file() { cat "/sys/kernel/sched_ext/$1" 2>/dev/null || echo none; }

# scx_describe: the kernel's view, on one line.
scx_describe() {
	echo "state $(scx_file state), ops $(scx_file root/ops), switch_all $(scx_file switch_all), enable_seq $(scx_file enable_seq)"
}

# scx_is_ours: our scheduler is enabled, for every task of the fair class.
scx_is_ours() {
	[ "$(scx_file state)" = enabled ] && [ "$(scx_file root/ops)" = preload_minimal ] &&
		[ "$(scx_file switch_all)" = 1 ]
}

# scx_is_off: no BPF scheduler: the fair class has every task back.
scx_is_off() {
	[ "$(scx_file state)" = disabled ] && [ ! -e /sys/kernel/sched_ext/root ] &&
		[ "$(scx_file switch_all)" = 0 ]
}

# scx_class PID: whether task PID is in the ext class (1) or not (0), from
# /proc/PID/sched; nothing without CONFIG_SCHED_DEBUG (the plain preload kernel has
# no debugfs, so no SCHED_DEBUG; the sanitizer build has both).
scx_class() { sed -n 's/^ext\.enabled *: *//p' "/proc/$1/sched" 2>/dev/null; }

# scx_runs_tasks: tasks run under the scheduler, as its own counters say, read
# through the kernel: ops.running() is called (scx_events[2]) at least 100 more
# times while the probe polls (each of its wakeups is a run), at least 20 of them
# for the probe's own process (scx_task_runs[tgid]); and the scenario's shell,
# which woke up as each probe exited, ran under it. Sets RUNS to a summary.
scx_runs_tasks() {
	check "ops.running() was not called 100 more times in 10 s (first, last)" \
		preload-probe grows scx_events 2 100
	_running=$OUT
	check "the probe did not run 20 times under the scheduler in 10 s (first, last)" \
		preload-probe grows scx_task_runs self 20
	_self=$OUT
	check "no scx_task_runs" preload-probe lookup scx_task_runs $$
	_shell=$OUT
	check "the scenario's shell (pid $$) never ran under the scheduler" [ "$_shell" -gt 0 ]
	_events=
	for _event in 0 1 2; do
		check "no scx_events" preload-probe lookup scx_events $_event
		_events="$_events $OUT"
	done
	# shellcheck disable=SC2034 # read by the scenarios that include this file
	RUNS="ops.running() calls went from ${_running% *} to ${_running#* }, the probe's own from ${_self% *} to ${_self#* }, the scenario's shell's $_shell; scx_events (enabled enqueued running):$_events"
}
