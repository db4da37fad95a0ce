# An LSM program: mkdir of a reserved name refused with EPERM, counted in a map.
# kernels: all
# modules: permanent examples/mkdir_guard
load /modules/mkdir_guard.ko
dmesg | grep 'mkdir_guard:'
refute "mkdir of the reserved name succeeded" mkdir /tmp/bpf-preload-reserved
check "mkdir failed, but not with EPERM" contains "$ERR" 'Operation not permitted'
check "mkdir of another name failed" mkdir /tmp/other
check "mkdir -p failed" mkdir -p /tmp/a/b
# A bpffs coming and going changes nothing.
mount -t bpf bpf /sys/fs/bpf && umount /sys/fs/bpf
refute "refusal gone after a bpffs mount and umount" mkdir /tmp/a/bpf-preload-reserved
check "cannot read the refusals map" preload-probe lookup refusals 0
refusals=$OUT
check "refusals map says $refusals, expected 2" [ "$refusals" = 2 ]
pass "mkdir bpf-preload-reserved: EPERM, other mkdirs work, refusals map = $refusals"
