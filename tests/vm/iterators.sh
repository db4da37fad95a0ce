# The iterators example on every kernel: its two iterator files in every bpffs mount.
# kernels: all
# modules: permanent examples/iterators
t0=$(now)
load /modules/iterators.ko
t1=$(now)
dmesg | grep 'iterators:'
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
d=$(pins /sys/fs/bpf iterators)
ls -l "$d"
check "no maps.debug" cat "$d/maps.debug"
maps=$OUT
check "no progs.debug" cat "$d/progs.debug"
progs=$OUT
echo "--- cat $d/maps.debug"
echo "$maps"
echo "--- cat $d/progs.debug"
echo "$progs"
check "maps.debug lacks iterator.rodata" contains "$maps" iterator.rodata
check "progs.debug lacks dump_bpf_map" contains "$progs" dump_bpf_map
check "progs.debug lacks dump_bpf_prog" contains "$progs" dump_bpf_prog
# Every new mount shows them; unmounting changes nothing for the module.
umount /sys/fs/bpf
mkdir -p /mnt/b2
check "second mount" mount -t bpf bpf /mnt/b2
check "a second mount lacks progs.debug" grep -q dump_bpf_prog "$(pins /mnt/b2 iterators)/progs.debug"
pass "insmod took $(elapsed "$t0" "$t1") ms; maps.debug and progs.debug in every mount ($d), listing our map and programs"
