# Modules built with --unloadable: rmmod detaches and frees everything. The hold on
# ftrace that an LSM policy's trampoline needs stays with the runtime until its own
# rmmod. With ftrace off, a policy's load fails, saying why, rather than attach
# programs that would never run.
# kernels: all
# modules: unloadable examples/iterators, unloadable examples/mkdir_guard, unloadable examples/getppid_count
ftrace=/proc/sys/kernel/ftrace_enabled
echo 0 >$ftrace
refute "insmod of an LSM policy succeeded with ftrace off" insmod /modules/unloadable/mkdir_guard.ko
check "the refusal does not say why: $(klog mkdir_guard)" sh -c "dmesg | grep -q 'mkdir_guard: .*ftrace is switched off'"
check "left behind by the refused insmod" preload-probe absent prog refuse_reserved map refusals link refuse_reserved
echo 1 >$ftrace
for m in iterators mkdir_guard getppid_count; do
	load /modules/unloadable/$m.ko
done
refute "ftrace_enabled=0 accepted while an LSM policy is held" sh -c "echo 0 >$ftrace"
check "ftrace_enabled is no longer 1" [ "$(cat $ftrace)" = 1 ]
mount -t bpf bpf /sys/fs/bpf
check "no maps.debug" grep -q iterator.rodata "$(pins /sys/fs/bpf iterators)/maps.debug"
# The kernel's own references on the pins of a mount outlive the module.
umount /sys/fs/bpf
refute "LSM not active" mkdir /tmp/bpf-preload-reserved
check "getppid_calls not counting" preload-probe getppid 5 getppid_calls
for m in iterators mkdir_guard getppid_count; do
	check "rmmod $m failed" rmmod $m
done
dmesg | grep -E 'iterators:|mkdir_guard:|getppid_count:' | tail -6
check "left behind" preload-probe absent prog dump_bpf_map prog dump_bpf_prog prog refuse_reserved prog count_getppid \
	link dump_bpf_map link dump_bpf_prog link refuse_reserved link count_getppid \
	map iterator.rodata map refusals map getppid_calls
check "mkdir still refused after rmmod" mkdir /tmp/bpf-preload-reserved
# The runtime keeps ftrace held until it goes itself, so that replacing a policy
# leaves no window in which the sysctl works.
refute "ftrace_enabled=0 accepted once the LSM policy was removed, with the runtime still loaded" sh -c "echo 0 >$ftrace"
mount -t bpf bpf /sys/fs/bpf
refute "a new bpffs mount still shows maps.debug" test -e "$(pins /sys/fs/bpf iterators)/maps.debug"
if [ "$PROFILE" != preload ]; then
	check "the hook does not offer the runtime's status view again" cat /sys/fs/bpf/preload.progs
	refute "the status view still lists a removed module's program" contains "$OUT" count_getppid
fi
check "rmmod of the runtime failed with no object module loaded" rmmod bpf_preload_runtime
check "ftrace is still held after the runtime's rmmod" sh -c "echo 0 >$ftrace"
echo 1 >$ftrace
pass "after rmmod no program, map or link of the three modules remains; the hook offers the runtime's status view again; ftrace stays held until the runtime's own rmmod"
