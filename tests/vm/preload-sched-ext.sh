# A sched_ext scheduler of our own (examples/sched_ext_minimal, `preload_minimal`) on
# the preload list: the kernel loads its module at boot, before /init, and the
# module's struct_ops link enables it for every task of the fair class. A permanent
# module keeps it: rmmod is refused, and the scheduler stays enabled and keeps
# running tasks. Only on the preload kernel: Debian's 6.1 and 6.12 kernels are built
# without CONFIG_SCHED_CLASS_EXT (kernel/config sets it).
# kernels: preload
# cmdline: bpf_preload_list=sched_ext_minimal
# modules: installed permanent examples/sched_ext_minimal
# include: lib/sched-ext.sh
m=sched_ext_minimal
kmsg | grep -E "bpf_preload|sched_ext" >/tmp/boot.log
cat /tmp/boot.log
check "$m was not loaded at boot" grep -q "^$m " /proc/modules
refute "$m preloaded nothing into the kernel's mount" grep -q "preloading $m failed" /tmp/boot.log
# The kernel enables the scheduler while the module's init creates the link, and
# mounts its bpffs instance once every listed module has loaded, before /init.
enabled=$(grep -n 'sched_ext: BPF scheduler "preload_minimal" enabled' /tmp/boot.log | cut -d: -f1)
mounted=$(grep -n "bpf_preload: the kernel's bpffs instance holds" /tmp/boot.log | cut -d: -f1)
check "the scheduler was not enabled (log line $enabled) before the kernel's mount ($mounted)" \
	sh -c "[ -n '$enabled' ] && [ -n '$mounted' ] && [ '$enabled' -lt '$mounted' ]"
check "not our scheduler: $(scx_describe)" scx_is_ours
boot="$(scx_describe)"
echo "at boot: $boot"
scx_runs_tasks
echo "$RUNS"
class=$(scx_class $$)
if [ -n "$class" ]; then
	check "this shell is not in the ext class (ext.enabled $class)" [ "$class" = 1 ]
	class=", /proc/PID/sched says ext.enabled 1"
fi

refute "rmmod of the permanent module succeeded" rmmod $m
rmmod_said=$(checked_output)
check "$m is gone after a refused rmmod" grep -q "^$m " /proc/modules
check "the scheduler did not stay after rmmod: $(scx_describe)" scx_is_ours
check "the scheduler changed after the refused rmmod: $(scx_describe)" [ "$(scx_describe)" = "$boot" ]
scx_runs_tasks
# Its maps are pinned in its directory of every bpffs instance, as any listed object's.
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
ls -l /sys/fs/bpf/$m
check "no scx_events in /sys/fs/bpf/$m" preload-probe lookup /sys/fs/bpf/$m/scx_events 2
pinned=$OUT
check "scx_events by path counts no runs ($pinned)" [ "$pinned" -gt 0 ]
pass "preload_minimal enabled at boot from the preload list, before the kernel's mount (log line $enabled < $mounted): $boot; tasks run under it: $RUNS$class; rmmod refused ($rmmod_said) and it stays enabled and scheduling; its counter read through its pin in /sys/fs/bpf/$m: $pinned runs"
