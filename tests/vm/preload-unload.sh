# rmmod of an unloadable module takes its pins out of every bpffs instance, the
# kernel's own included: no program, map or link of it remains, and loading it
# again makes exactly one copy.
# kernels: preload
# cmdline: bpf_preload_list=bpf_preload,mkdir_guard,getppid_count
# modules: installed unloadable examples/mkdir_guard, installed unloadable examples/getppid_count
for m in mkdir_guard getppid_count; do
	check "$m was not loaded at boot" grep -q "^$m " /proc/modules
done
# The ids of the objects' programs, links and maps (by name), on one line; fails if
# one has none.
contains_two_ids() { echo "$1" | grep -Eq '[0-9] [0-9]'; }
ids() {
	_ids=
	for o in prog:refuse_reserved prog:count_getppid link:refuse_reserved link:count_getppid map:refusals map:getppid_calls; do
		preload-probe find "${o%%:*}" "${o#*:}" >/tmp/ids || return 1
		_ids="$_ids $o $(cat /tmp/ids);"
	done
	echo "$_ids"
}
check "an object is missing" ids
before=$OUT
echo "before:$before"
mkdir -p /mnt/b2
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
check "mount bpffs" mount -t bpf bpf /mnt/b2
for d in /sys/fs/bpf/mkdir_guard /sys/fs/bpf/getppid_count /mnt/b2/mkdir_guard /mnt/b2/getppid_count; do
	check "no $d" test -d $d
done
# User space moves one directory and empties another: both still go.
check "cannot rename" mv /mnt/b2/getppid_count /mnt/b2/renamed
check "cannot delete" rm /sys/fs/bpf/getppid_count/getppid_calls
ls -lR /sys/fs/bpf /mnt/b2
refute "the LSM does not refuse" mkdir /tmp/bpf-preload-reserved
check "getppid_calls not counting" preload-probe getppid 5 getppid_calls

check "rmmod failed" rmmod mkdir_guard getppid_count
kmsg | grep -E 'bpf_preload|mkdir_guard|getppid_count' | tail -6
# Without the kernel's own mount letting go, every one of these would stay.
check "left behind after rmmod" preload-probe absent prog refuse_reserved prog count_getppid \
	link refuse_reserved link count_getppid map refusals map getppid_calls
for d in /sys/fs/bpf/mkdir_guard /sys/fs/bpf/getppid_count /mnt/b2/mkdir_guard /mnt/b2/renamed; do
	refute "$d is still there after rmmod" test -e $d
done
check "mkdir still refused after rmmod" mkdir /tmp/bpf-preload-reserved
rmdir /tmp/bpf-preload-reserved

check "modprobe failed" modprobe -a mkdir_guard getppid_count
check "an object is missing after modprobe" ids
after=$OUT
echo "after:$after"
refute "not exactly one copy of each object:$after" contains_two_ids "$after"
check "the same ids as before rmmod:$after" [ "$before" != "$after" ]
refute "the LSM does not refuse after modprobe" mkdir /tmp/bpf-preload-reserved
umount /mnt/b2
check "mount bpffs" mount -t bpf bpf /mnt/b2
check "a new mount has no getppid_count/" test -f /mnt/b2/getppid_count/getppid_calls
pass "rmmod left no program, map or link of either object and took their directories out of every mount (renamed or emptied, the kernel's own too); modprobe made one copy of each:$after"
