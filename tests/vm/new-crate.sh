# A crate made by `cargo bpf-preload new --lsm` outside the repository, built by the
# installed `cargo bpf-preload build` for this kernel: its LSM refuses mkdir of a
# directory named `forbidden`, and counts it.
# kernels: stock
# prepare: new-crate
load /modules/my_guard.ko
klog my_guard
refute "mkdir of /tmp/forbidden succeeded" mkdir /tmp/forbidden
check "mkdir failed, but not with EPERM" contains "$ERR" 'Operation not permitted'
check "mkdir of another name failed" mkdir /tmp/allowed
check "cannot read the refused map" preload-probe lookup refused 0
n=$OUT
check "the refused map says $n, expected 1" [ "$n" = 1 ]
pass "mkdir forbidden: EPERM, other mkdirs work, refused map = $n"
