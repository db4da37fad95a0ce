# The boot test of the preload series (cargo xtask kernel --boot-test), run by the
# VM harness of `cargo xtask vm-test` (tests/vm/init.sh, after tests/vm/prelude.sh).
# Booted with bpf_preload_list=bpf_preload,preload_test,preload_fail,preload_missing
# and the test modules in /lib/modules: checks what the kernel did at boot, what
# a fresh bpffs mount shows, that a module registers under its own name only,
# and that rmmod takes the object's pins out of every bpffs instance (the
# kernel's own included), so that its map and program are gone and a reload
# makes one copy. Every check runs, each with its own verdict (`pass CHECK` or
# `fail CHECK`).

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

echo "--- objects that register under another listed name"
for m in preload_thief preload_anon; do
	if insmod "/lib/modules/$(uname -r)/extra/$m.ko"; then
		fail "$m-refused"
		rmmod $m
	else
		pass "$m-refused"
	fi
done
dmesg | grep -E "preload_(thief|anon)|cannot register"
expect thief-logged sh -c "dmesg | grep -q 'bpf_preload: module preload_thief cannot register preload_missing: a module registers under its own name only'"
expect anon-logged sh -c "dmesg | grep -q 'bpf_preload: cannot register preload_missing: its preload method is not in the kernel image'"

echo "--- rmmod takes the object's pins out of every bpffs instance, the kernel's own included"
# Ids of the map and program, from the kernel's map and program iterators.
map_id=$(awk '$2 == "preload_test" { print $1 }' /tmp/maps1)
prog_id=$(awk '$2 == "preload_test" { print $1 }' /tmp/progs1)
echo "preload_test: map id $map_id, prog id $prog_id"
expect ids-known test -n "$map_id" -a -n "$prog_id"
mkdir -p /mnt/a /mnt/b
mount -t bpf bpf /mnt/a
# A directory renamed by user space goes too, and one already partly emptied.
mv /mnt/a/preload_test /mnt/a/moved
rm /sys/fs/bpf/preload_test/counts.again
ls -lR /mnt/a
rmmod preload_test
ls -lR /sys/fs/bpf /mnt/a
expect rmmod-dir-gone test ! -e /sys/fs/bpf/preload_test
expect rmmod-moved-dir-gone test ! -e /mnt/a/moved
# The pins drop their references after an RCU grace period: wait for the ids to go.
# Reading the iterator pins of an existing mount does not load the module again.
gone() { # the object's ids are in neither iterator's output
	tr -s ' ' </sys/fs/bpf/maps.debug | grep -q "^ *$map_id preload_test " && return 1
	tr -s ' ' </sys/fs/bpf/progs.debug | grep -q "^ *$prog_id preload_test " && return 1
	return 0
}
i=0
while ! gone && [ $i -lt 10 ]; do
	sleep 1
	i=$((i + 1))
done
cat /sys/fs/bpf/maps.debug /sys/fs/bpf/progs.debug
expect rmmod-released-map-and-prog gone
expect rmmod-nothing-named-preload_test sh -c "! grep -q ' preload_test ' /sys/fs/bpf/maps.debug && ! grep -q ' preload_test ' /sys/fs/bpf/progs.debug"
umount /mnt/a

echo "--- a new mount loads the module again: one copy of the object"
mount -t bpf bpf /mnt/b
ls -lR /mnt/b
expect reloaded test -f /mnt/b/preload_test/counts -a -f /mnt/b/preload_test/prog
tee /tmp/maps2 </mnt/b/maps.debug
tee /tmp/progs2 </mnt/b/progs.debug
expect one-map-copy test "$(grep -c ' preload_test ' /tmp/maps2)" = 1
expect one-prog-copy test "$(grep -c ' preload_test ' /tmp/progs2)" = 1
expect new-map-id sh -c "! grep -Eq '^ *$map_id preload_test ' /tmp/maps2"

# The pins of every failed preload() of preload_fail (one per instance) were
# removed with their references: once its module lets go, its map is gone.
rmmod preload_fail
cat /mnt/b/maps.debug > /tmp/maps3
expect failed-pins-released sh -c "! grep -q ' preload_fail ' /tmp/maps3"
# An instance that goes away first: its directory is forgotten with it, so the
# rmmod that follows touches nothing of it (a kernel oops would fail the test).
umount /mnt/b
expect rmmod-after-umount rmmod preload_test
i=0
while grep -q ' preload_test ' /sys/fs/bpf/maps.debug && [ $i -lt 10 ]; do
	sleep 1
	i=$((i + 1))
done
expect rmmod-after-umount-released sh -c "! grep -q ' preload_test ' /sys/fs/bpf/maps.debug"
