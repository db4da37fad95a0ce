#!/bin/sh
# /init of the boot test of the preload series (cargo xtask kernel --boot-test).
# Booted with bpf_preload_list=bpf_preload,preload_test,preload_fail,preload_missing
# and the test modules in /lib/modules: checks what the kernel did at boot, what
# a fresh bpffs mount shows, and that the kernel's own mount holds the objects
# when user space has dropped everything. Prints "BOOTTEST PASS|FAIL <check>".

export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

check() { # name, command...
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "BOOTTEST PASS $name"
	else
		echo "BOOTTEST FAIL $name"
	fi
}
has() { # file, extended regexp
	grep -Eq "$2" "$1"
}

dmesg > /tmp/boot.log
echo "--- kernel log, bpf_preload and the test modules"
grep -E "bpf_preload|preload_" /tmp/boot.log

check kernel-mount has /tmp/boot.log "bpf_preload: the kernel's bpffs instance holds"
check preloaded-at-boot has /tmp/boot.log "preload_test: registered, map id"
check failed-preload-logged has /tmp/boot.log "preloading preload_fail failed \(-28\), removing its directory"
check missing-module-logged has /tmp/boot.log "preload_missing is on the preload list but did not register"

mkdir -p /sys/fs/bpf
mount -t bpf bpf /sys/fs/bpf
echo "--- ls -lR /sys/fs/bpf"
ls -lR /sys/fs/bpf
check root-iterators test -f /sys/fs/bpf/maps.debug -a -f /sys/fs/bpf/progs.debug
check object-dir test -d /sys/fs/bpf/preload_test
check object-pins test -f /sys/fs/bpf/preload_test/counts -a -f /sys/fs/bpf/preload_test/counts.again -a -f /sys/fs/bpf/preload_test/prog
check no-partial-dir test ! -e /sys/fs/bpf/preload_fail
check no-missing-dir test ! -e /sys/fs/bpf/preload_missing
echo "--- cat /sys/fs/bpf/maps.debug"
cat /sys/fs/bpf/maps.debug | tee /tmp/maps1
echo "--- cat /sys/fs/bpf/progs.debug"
cat /sys/fs/bpf/progs.debug | tee /tmp/progs1
check maps-debug has /tmp/maps1 " preload_test "
check progs-debug has /tmp/progs1 "dump_bpf_map"
check prog-pinned has /tmp/progs1 " preload_test "
# The failed object's map went with its pins (only its module holds it now).

echo "--- an object that is not on the list"
if insmod /lib/modules/$(uname -r)/extra/preload_unlisted.ko; then
	echo "BOOTTEST FAIL unlisted-refused"
else
	echo "BOOTTEST PASS unlisted-refused"
fi
dmesg | grep preload_unlisted
check unlisted-logged sh -c "dmesg | grep -q 'preload_unlisted is not on the preload list'"

echo "--- user space drops everything: pins, mounts, the module, the module files"
rm /sys/fs/bpf/preload_test/counts /sys/fs/bpf/preload_test/counts.again /sys/fs/bpf/preload_test/prog
rmdir /sys/fs/bpf/preload_test
umount /sys/fs/bpf
rmmod preload_test
rm -rf /lib/modules
mkdir -p /mnt/bpf
mount -t bpf bpf /mnt/bpf
ls -l /mnt/bpf
cat /mnt/bpf/maps.debug | tee /tmp/maps2
cat /mnt/bpf/progs.debug | tee /tmp/progs2
check map-held-by-kernel-mount has /tmp/maps2 " preload_test "
check prog-held-by-kernel-mount has /tmp/progs2 " preload_test "
check not-reloaded test ! -e /mnt/bpf/preload_test
# The pins of every failed preload() of preload_fail (one per instance) were
# removed with their references: once its module lets go, its map is gone.
rmmod preload_fail
cat /mnt/bpf/maps.debug > /tmp/maps3
check failed-pins-released sh -c "! grep -q ' preload_fail ' /tmp/maps3"
umount /mnt/bpf

echo "BOOTTEST DONE"
poweroff -f
