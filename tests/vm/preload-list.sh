# The preload profile: objects on the preload list, loaded on demand by the kernel's
# request_module(), each in its own directory of every bpffs instance.
# kernels: preload
# cmdline: bpf_preload_list=bpf_preload,iterators,getppid_count
# modules: installed permanent examples/iterators, installed permanent examples/getppid_count
dmesg | grep -E 'bpf_preload|iterators:|getppid_count:'
for m in iterators getppid_count; do
	check "$m was not loaded on demand: $(dmesg | grep bpf_preload | tail -2)" grep -q "^$m " /proc/modules
done
check "the kernel mounted no bpffs instance" sh -c "dmesg | grep -q \"bpf_preload: the kernel's bpffs instance holds\""
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
ls -lR /sys/fs/bpf
check "the kernel's own iterators are not at the root" test -f /sys/fs/bpf/maps.debug -a -f /sys/fs/bpf/progs.debug
for f in iterators/maps.debug iterators/progs.debug getppid_count/getppid_calls getppid_count/count_getppid; do
	check "no /sys/fs/bpf/$f" test -f /sys/fs/bpf/$f
done
check "cannot read iterators/progs.debug" cat /sys/fs/bpf/iterators/progs.debug
progs=$OUT
echo "--- cat /sys/fs/bpf/iterators/progs.debug"
echo "$progs"
for p in dump_bpf_map dump_bpf_prog count_getppid; do
	check "iterators/progs.debug does not list $p" contains "$progs" " $p "
done
check "iterators/maps.debug does not list getppid_calls" grep -q ' getppid_calls ' /sys/fs/bpf/iterators/maps.debug
check "reading the pinned map" preload-probe getppid 40 /sys/fs/bpf/getppid_count/getppid_calls
n=$OUT
check "the pinned getppid_calls says $n after 40 calls" [ "$n" -ge 40 ]
pass "both modules loaded by request_module(); a fresh mount has iterators/ and getppid_count/; progs.debug lists both objects' programs; the map opened by path counted $n of 40 getppid(2) calls"
