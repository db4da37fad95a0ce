# A crate made by `cargo bpf-preload new --lsm` outside the repository, built by the
# installed `cargo bpf-preload build` for this kernel: its LSM refuses mkdir of a
# directory named `forbidden`, and counts it.
insmod /modules/my_guard.ko || { fail "insmod failed: $(klog my_guard)"; exit 0; }
klog my_guard
out=$(mkdir /tmp/forbidden 2>&1) && { fail "mkdir of /tmp/forbidden succeeded"; exit 0; }
echo "$out"
echo "$out" | grep -q 'Operation not permitted' || { fail "mkdir failed, but not with EPERM: $out"; exit 0; }
mkdir /tmp/allowed || { fail "mkdir of another name failed"; exit 0; }
n=$(preload-probe lookup refused 0) || { fail "cannot read the refused map"; exit 0; }
[ "$n" = 1 ] || { fail "the refused map says $n, expected 1"; exit 0; }
pass "mkdir forbidden: EPERM, other mkdirs work, refused map = $n"
