# The module DKMS built from the generated tree with the kernel's headers and gcc
# alone (no cargo or rustc on PATH): it loads and its LSM refuses what it should.
ko=/modules/dkms/my_guard.ko
insmod $ko || { fail "insmod of the DKMS module failed: $(klog my_guard)"; exit 0; }
klog my_guard
out=$(mkdir /tmp/forbidden 2>&1) && { fail "mkdir of /tmp/forbidden succeeded"; exit 0; }
echo "$out" | grep -q 'Operation not permitted' || { fail "mkdir failed, but not with EPERM: $out"; exit 0; }
mkdir /tmp/allowed || { fail "mkdir of another name failed"; exit 0; }
n=$(preload-probe lookup refused 0) || { fail "cannot read the refused map"; exit 0; }
[ "$n" = 1 ] || { fail "the refused map says $n, expected 1"; exit 0; }
pass "the DKMS-built module loads: mkdir forbidden EPERM, refused map = $n"
