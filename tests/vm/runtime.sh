# One runtime module, two object modules (an LSM policy and the iterators): the
# runtime holds the one copy of the loader; rmmod of the runtime is refused while an
# object module uses it; rmmod of an unloadable object module frees its own objects
# only; a table of another layout is refused, naming both layouts, and leaves nothing.
# The runtime's status view lists what it holds, by the kernel's ids: in every bpffs
# mount of a stock kernel (preload.progs, preload.maps) and through its status map
# (`preload-probe status`, the code of `cargo bpf-preload status`).
# kernels: all
# modules: unloadable examples/mkdir_guard, unloadable examples/iterators, foreign-layout examples/mkdir_guard
check "the runtime is not loaded" grep -q '^bpf_preload_runtime ' /proc/modules
reads=$(kmsg | sed -n 's/^bpf_preload_runtime: ready: loads tables of layout \([0-9]*\)$/\1/p' | tail -1)
check "the runtime did not say which layout it reads" number "$reads"
refute "a table of another layout loaded" insmod /modules/foreign-layout/mkdir_guard.ko
msg=$(klog mkdir_guard)
check "the refusal does not name both layouts: $msg" \
	contains "$msg" "table has layout $((reads + 1)), but this runtime reads layout $reads"
check "left behind by the refused table" preload-probe absent prog refuse_reserved map refusals link refuse_reserved
check "no status before any object" preload-probe status
check "the status does not show the runtime's own object" contains "$OUT" "bpf_preload_runtime: object bpf_preload_status"
load /modules/unloadable/mkdir_guard.ko
prog=$(preload-probe find prog refuse_reserved)
map=$(preload-probe find map refusals)
link=$(preload-probe find link refuse_reserved)
check "no status" preload-probe status
status=$OUT
echo "$status"
check "the status does not show the LSM program attached by its link, with the kernel's ids" \
	sh -c "echo '$status' | grep -Eq '^  program refuse_reserved_mkdir +id $prog +refuse_reserved +lsm/path_mkdir +attached \(link $link\)'"
check "the status does not show the LSM policy's map" \
	sh -c "echo '$status' | grep -Eq '^  map +refusals +id $map +refusals'"
if [ "$PROFILE" != preload ]; then
	mkdir -p /mnt/s
	check "mount bpffs" mount -t bpf bpf /mnt/s
	check "no preload.progs in a new mount" cat /mnt/s/preload.progs
	echo "$OUT"
	check "preload.progs does not list the LSM program with its ids" \
		sh -c "grep -Eq '^mkdir_guard +mkdir_guard +refuse_reserved_mkdir +$prog +refuse_reserved +lsm/path_mkdir +$link' /mnt/s/preload.progs"
	check "preload.maps does not list the LSM policy's map" \
		sh -c "grep -Eq '^mkdir_guard +mkdir_guard +refusals +$map +refusals ' /mnt/s/preload.maps"
	umount /mnt/s
fi
load /modules/unloadable/iterators.ko
users=$(grep '^bpf_preload_runtime ' /proc/modules | cut -d' ' -f3,4)
check "the runtime is not used by both object modules: $users" \
	sh -c "echo '$users' | grep -q '^2 .*mkdir_guard' && echo '$users' | grep -q iterators"
refute "rmmod of the runtime succeeded while two object modules use it" rmmod bpf_preload_runtime
refute "the LSM policy is not active" mkdir /tmp/bpf-preload-reserved
check "rmmod mkdir_guard failed" rmmod mkdir_guard
check "no status" preload-probe status
status=$OUT
refute "the status still shows mkdir_guard after its rmmod" contains "$status" mkdir_guard
check "the status no longer shows the iterators" contains "$status" "iterators: object iterators"
check "mkdir_guard's objects left behind" preload-probe absent prog refuse_reserved map refusals link refuse_reserved
check "mkdir refused after mkdir_guard's rmmod" mkdir /tmp/bpf-preload-reserved
check "the iterators' program is gone with mkdir_guard" preload-probe find prog dump_bpf_map
mount -t bpf bpf /sys/fs/bpf
check "the iterators are no longer shown" grep -q iterator.rodata "$(pins /sys/fs/bpf iterators)/maps.debug"
umount /sys/fs/bpf
check "rmmod iterators failed" rmmod iterators
check "the iterators' objects left behind" preload-probe absent prog dump_bpf_map prog dump_bpf_prog map iterator.rodata
check "rmmod of the runtime failed with no object module left" rmmod bpf_preload_runtime
pass "two object modules on one runtime (used by $users); the runtime stays while they do; each rmmod freed its own; its status view listed them by the kernel's ids; the table of layout $((reads + 1)) was refused by the runtime of layout $reads"
