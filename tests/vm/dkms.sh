# The modules DKMS built from the generated trees, the runtime's and then the
# object's, with the kernel's headers and gcc alone (no cargo or rustc on PATH): they
# load and the LSM refuses what it should.
# kernels: stock
# prepare: dkms
load /modules/dkms/bpf_preload_runtime.ko
load /modules/dkms/my_guard.ko
klog my_guard
refute "mkdir of /tmp/forbidden succeeded" mkdir /tmp/forbidden
check "mkdir failed, but not with EPERM" contains "$ERR" 'Operation not permitted'
check "mkdir of another name failed" mkdir /tmp/allowed
check "cannot read the refused map" preload-probe lookup refused 0
n=$OUT
check "the refused map says $n, expected 1" [ "$n" = 1 ]
pass "the DKMS-built module loads: mkdir forbidden EPERM, refused map = $n"
