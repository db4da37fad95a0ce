# The unloadable variant of examples/sched_ext_minimal on the preload list: enabled
# at boot as the permanent one is (preload-sched-ext.sh), but its rmmod drops the
# struct_ops link, and the kernel gives every task back to the fair class; loading
# the module again enables the scheduler again. Only on the preload kernel: Debian's
# kernels are built without CONFIG_SCHED_CLASS_EXT.
# kernels: preload
# cmdline: bpf_preload_list=sched_ext_minimal
# modules: installed unloadable examples/sched_ext_minimal
# include: lib/sched-ext.sh
m=sched_ext_minimal
check "$m was not loaded at boot" grep -q "^$m " /proc/modules
check "not our scheduler at boot: $(scx_describe)" scx_is_ours
boot="$(scx_describe)"
scx_runs_tasks
echo "$RUNS"
[ -n "$(scx_class $$)" ] && check "this shell is not in the ext class" [ "$(scx_class $$)" = 1 ]

check "rmmod failed" rmmod $m
# The link goes in work the kernel defers: wait for the fair class, bounded.
wait_until 10 scx_is_off || stop "sched_ext still on 10 s after rmmod: $(scx_describe)"
off="$(scx_describe)"
kmsg | grep "sched_ext:" | tail -3
# SCX_EXIT_UNREG, the reason sched_ext gives when its struct_ops link is released.
check "the kernel did not log the scheduler's unregistration" \
	sh -c "dmesg | grep -q 'BPF scheduler \"preload_minimal\" disabled (unregistered from user space)'"
check "left behind after rmmod" preload-probe absent map preload_minimal map scx_events \
	map scx_task_runs prog minimal_running prog minimal_enqueue prog minimal_enable
class=
if [ -n "$(scx_class $$)" ]; then
	check "this shell is still in the ext class after rmmod" [ "$(scx_class $$)" = 0 ]
	class=", /proc/PID/sched says ext.enabled 1, then 0"
fi

check "modprobe failed" modprobe $m
check "not our scheduler after modprobe: $(scx_describe)" scx_is_ours
again="$(scx_describe)"
scx_runs_tasks
check "rmmod failed the second time" rmmod $m
wait_until 10 scx_is_off || stop "sched_ext still on 10 s after the second rmmod: $(scx_describe)"
pass "preload_minimal enabled at boot ($boot) and ran tasks; rmmod gave them back to the fair class ($off) and left no map or program$class; modprobe enabled it again ($again, $RUNS) and rmmod disabled it again"
