# `cargo xtask demo --preload`: nothing is loaded by hand; the kernel loaded the
# modules of its preload list at boot (after tests/vm/prelude.sh, as the scenarios).
echo DEMO-BEGIN
echo '# cat /proc/cmdline'
cat /proc/cmdline
echo '# the kernel mounted bpffs at boot and loaded the listed modules for it (request_module):'
kmsg | grep -E '^(bpf_preload|bpf_preload_runtime|iterators|mkdir_guard):'
echo '# grep -E "^(iterators|mkdir_guard) " /proc/modules'
grep -E '^(iterators|mkdir_guard) ' /proc/modules
echo '# mount -t bpf bpf /sys/fs/bpf; ls -R /sys/fs/bpf'
mount -t bpf bpf /sys/fs/bpf; ls -R /sys/fs/bpf
echo '# cat /sys/fs/bpf/iterators/progs.debug'
cat /sys/fs/bpf/iterators/progs.debug
echo '# mkdir /tmp/bpf-preload-reserved'
mkdir /tmp/bpf-preload-reserved
echo '# rm -r /sys/fs/bpf/mkdir_guard; umount /sys/fs/bpf; mkdir /tmp/bpf-preload-reserved'
rm -r /sys/fs/bpf/mkdir_guard; umount /sys/fs/bpf; mkdir /tmp/bpf-preload-reserved
echo '# still refused: the bpffs instance the kernel mounted at boot holds the LSM program'
echo DEMO-END
