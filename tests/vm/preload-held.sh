# The preloaded objects outlive everything user space can drop: every pin of every
# user mount, the mounts, the module files, and rmmod (refused: the modules are
# permanent). An unloadable module takes its pins with it instead (preload-unload.sh).
# kernels: preload
# cmdline: bpf_preload_list=bpf_preload,mkdir_guard,getppid_count
# modules: installed permanent examples/mkdir_guard, installed permanent examples/getppid_count
for m in mkdir_guard getppid_count; do
	check "$m was not loaded on demand" grep -q "^$m " /proc/modules
done
mkdir -p /mnt/b2
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
check "mount bpffs" mount -t bpf bpf /mnt/b2
ls -lR /mnt/b2
# Root drops everything it can: every pin of both objects in every user mount, the
# mounts, the modules (refused), and the module files.
for mnt in /sys/fs/bpf /mnt/b2; do
	for d in mkdir_guard getppid_count; do
		check "cannot delete $mnt/$d" sh -c "rm $mnt/$d/* && rmdir $mnt/$d"
	done
	check "umount $mnt" umount $mnt
done
refute "rmmod of the permanent modules succeeded" rmmod mkdir_guard
refute "rmmod of the permanent modules succeeded" rmmod getppid_count
rm -rf /lib/modules
refute "the LSM stopped refusing" mkdir /tmp/bpf-preload-reserved
why=$ERR
check "getppid_calls is gone" preload-probe getppid 30 getppid_calls
n=$OUT
check "getppid_calls counted $n of 30" [ "$n" -ge 30 ]
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
check "a fresh mount lacks mkdir_guard/" test -d /sys/fs/bpf/mkdir_guard
check "progs.debug lacks refuse_reserved" grep -q ' refuse_reserved' /sys/fs/bpf/progs.debug
pass "no pins, no user mount, no module files, rmmod refused: mkdir still refused ($why), getppid_calls counted $n of 30, and a fresh mount shows the objects again"
