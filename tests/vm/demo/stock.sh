# `cargo xtask demo` on a stock kernel: insmod, then what bpffs shows and what the
# LSM refuses (after tests/vm/prelude.sh, as the scenarios).
echo DEMO-BEGIN
echo '# grep ^bpf_preload_runtime /proc/modules   (the runtime every object module hands its table to)'
grep ^bpf_preload_runtime /proc/modules
echo '# insmod /modules/iterators.ko && insmod /modules/mkdir_guard.ko'
insmod /modules/iterators.ko && insmod /modules/mkdir_guard.ko
kmsg | grep -E '^(bpf_preload_runtime|iterators|mkdir_guard):'
echo '# mount -t bpf bpf /sys/fs/bpf; ls /sys/fs/bpf'
mount -t bpf bpf /sys/fs/bpf; ls /sys/fs/bpf
echo '# cat /sys/fs/bpf/maps.debug'
cat /sys/fs/bpf/maps.debug
echo '# cat /sys/fs/bpf/progs.debug'
cat /sys/fs/bpf/progs.debug
echo '# mkdir /tmp/bpf-preload-reserved'
mkdir /tmp/bpf-preload-reserved
echo '# mkdir /tmp/anything-else && echo created'
mkdir /tmp/anything-else && echo created
echo DEMO-END
