# Modules built with --unloadable: rmmod detaches and frees everything.
# kernels: all
# modules: unloadable examples/iterators, unloadable examples/mkdir_guard, unloadable examples/getppid_count
for m in iterators mkdir_guard getppid_count; do
	load /modules/unloadable/$m.ko
done
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
mount -t bpf bpf /sys/fs/bpf
refute "a new bpffs mount still shows maps.debug" test -e "$(pins /sys/fs/bpf iterators)/maps.debug"
pass "after rmmod no program, map or link of the three modules remains; the hook is free"
