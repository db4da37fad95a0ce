# The boot test of the preload series (cargo xtask kernel --boot-test), run by the
# VM harness of `cargo xtask vm-test` (tests/vm/init.sh, after tests/vm/prelude.sh).
# Booted with bpf_preload_list=bpf_preload,preload_test,preload_fail,preload_missing
# and the test modules in /lib/modules: checks what the kernel did at boot, what
# a fresh bpffs mount shows, and that the kernel's own mount holds the objects
# when user space has dropped everything. Every check runs, each with its own
# verdict (`pass CHECK` or `fail CHECK`).

# expect CHECK COMMAND...: the verdict of one check, without stopping at a failure.
expect() {
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		pass "$name"
	else
		fail "$name"
	fi
}
has() { # file, extended regexp
	grep -Eq "$2" "$1"
}

dmesg > /tmp/boot.log
echo "--- kernel log, bpf_preload and the test modules"
grep -E "bpf_preload|preload_" /tmp/boot.log

expect kernel-mount has /tmp/boot.log "bpf_preload: the kernel's bpffs instance holds"
expect preloaded-at-boot has /tmp/boot.log "preload_test: registered, map id"
expect failed-preload-logged has /tmp/boot.log "preloading preload_fail failed \(-28\), removing its directory"
expect missing-module-logged has /tmp/boot.log "preload_missing is on the preload list but did not register"

mkdir -p /sys/fs/bpf
mount -t bpf bpf /sys/fs/bpf
echo "--- ls -lR /sys/fs/bpf"
ls -lR /sys/fs/bpf
expect root-iterators test -f /sys/fs/bpf/maps.debug -a -f /sys/fs/bpf/progs.debug
expect object-dir test -d /sys/fs/bpf/preload_test
expect object-pins test -f /sys/fs/bpf/preload_test/counts -a -f /sys/fs/bpf/preload_test/counts.again -a -f /sys/fs/bpf/preload_test/prog
expect no-partial-dir test ! -e /sys/fs/bpf/preload_fail
expect no-missing-dir test ! -e /sys/fs/bpf/preload_missing
echo "--- cat /sys/fs/bpf/maps.debug"
tee /tmp/maps1 </sys/fs/bpf/maps.debug
echo "--- cat /sys/fs/bpf/progs.debug"
tee /tmp/progs1 </sys/fs/bpf/progs.debug
expect maps-debug has /tmp/maps1 " preload_test "
expect progs-debug has /tmp/progs1 "dump_bpf_map"
expect prog-pinned has /tmp/progs1 " preload_test "
# The failed object's map went with its pins (only its module holds it now).

echo "--- an object that is not on the list"
if insmod "/lib/modules/$(uname -r)/extra/preload_unlisted.ko"; then
	fail unlisted-refused
else
	pass unlisted-refused
fi
dmesg | grep preload_unlisted
expect unlisted-logged sh -c "dmesg | grep -q 'preload_unlisted is not on the preload list'"

echo "--- user space drops everything: pins, mounts, the module, the module files"
rm /sys/fs/bpf/preload_test/counts /sys/fs/bpf/preload_test/counts.again /sys/fs/bpf/preload_test/prog
rmdir /sys/fs/bpf/preload_test
umount /sys/fs/bpf
rmmod preload_test
rm -rf /lib/modules
mkdir -p /mnt/bpf
mount -t bpf bpf /mnt/bpf
ls -l /mnt/bpf
tee /tmp/maps2 </mnt/bpf/maps.debug
tee /tmp/progs2 </mnt/bpf/progs.debug
expect map-held-by-kernel-mount has /tmp/maps2 " preload_test "
expect prog-held-by-kernel-mount has /tmp/progs2 " preload_test "
expect not-reloaded test ! -e /mnt/bpf/preload_test
# The pins of every failed preload() of preload_fail (one per instance) were
# removed with their references: once its module lets go, its map is gone.
rmmod preload_fail
cat /mnt/bpf/maps.debug > /tmp/maps3
expect failed-pins-released sh -c "! grep -q ' preload_fail ' /tmp/maps3"
umount /mnt/bpf
