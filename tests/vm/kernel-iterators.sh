# The kernel's own iterators.bpf.o (kernel/bpf/preload), which calls a kfunc of 6.6.
# kernels: stock since 6.6
# modules: permanent examples/kernel_iterators
load /modules/kernel_iterators.ko
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
echo "--- maps.debug"
cat /sys/fs/bpf/maps.debug
echo "--- progs.debug"
cat /sys/fs/bpf/progs.debug
check "maps.debug has no cur_entries column" sh -c "head -1 /sys/fs/bpf/maps.debug | grep -q cur_entries"
check "maps.debug lacks the object's own .rodata" grep ' kernel_i.rodata ' /sys/fs/bpf/maps.debug
line=$OUT
check "no element count from bpf_map_sum_elem_count(): $line" number "$(echo "$line" | awk '{ print $4 }')"
check "progs.debug lacks dump_bpf_prog" grep -q dump_bpf_prog /sys/fs/bpf/progs.debug
pass "the kernel's own iterators.bpf.o: maps.debug (element counts by the kfunc bpf_map_sum_elem_count) and progs.debug"
