# A struct_ops object on the preload list: the kernel loads its module at boot, when
# it mounts its own bpffs instance, before /init has mounted /sys. The shim reads the
# kernel's BTF from the series' export (btf_vmlinux_raw_data()), not from
# /sys/kernel/btf/vmlinux, so the congestion control is registered from boot on.
# kernels: preload
# cmdline: bpf_preload_list=bpf_preload,tcp_cc
# modules: installed permanent examples/tcp_cc
cc=preload_reno
kmsg | grep -E "bpf_preload|tcp_cc" >/tmp/boot.log
cat /tmp/boot.log
check "tcp_cc was not loaded at boot" grep -q "^tcp_cc " /proc/modules
# The kernel logs its mount once every listed module has been loaded and has
# preloaded into it, before it runs /init (which mounts /sys).
loaded=$(grep -nE "^(bpf_preload_runtime: )?tcp_cc: loaded" /tmp/boot.log | cut -d: -f1)
mounted=$(grep -n "bpf_preload: the kernel's bpffs instance holds" /tmp/boot.log | cut -d: -f1)
check "no line of tcp_cc loading ($loaded) before the kernel's mount ($mounted)" \
	sh -c "[ -n '$loaded' ] && [ -n '$mounted' ] && [ '$loaded' -lt '$mounted' ]"
refute "tcp_cc preloaded nothing into the kernel's mount" grep -q "preloading tcp_cc failed" /tmp/boot.log
check "$cc is not registered" grep -qw $cc /proc/sys/net/ipv4/tcp_available_congestion_control
check "cannot bring lo up" ip link set lo up
check "a connection with $cc" preload-probe tcp $cc 1048576
check "the connection used $OUT" [ "$OUT" = $cc ]
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
ls -lR /sys/fs/bpf/tcp_cc
check "no tcp_cc/ in a new mount" test -d /sys/fs/bpf/tcp_cc
pass "tcp_cc loaded from the preload list before /init mounted /sys (log line $loaded, the kernel's mount at $mounted); $cc is registered and carried a loopback connection"
