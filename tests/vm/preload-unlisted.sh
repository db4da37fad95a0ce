# The preload profile refuses a module whose object is not on the preload list.
# kernels: preload
# cmdline: bpf_preload_list=bpf_preload,iterators
# modules: permanent examples/mkdir_guard
refute "insmod of an unlisted object succeeded" insmod /modules/mkdir_guard.ko
why=$ERR
dmesg | grep -E 'bpf_preload|mkdir_guard'
check "the kernel did not say why" sh -c "dmesg | grep -q 'bpf_preload: mkdir_guard is not on the preload list'"
msg=$(klog mkdir_guard)
check "the module did not say why: $msg" contains "$msg" 'not on the preload list'
refute "the module stayed loaded" grep -q '^mkdir_guard ' /proc/modules
check "the LSM program stayed attached" mkdir /tmp/bpf-preload-reserved
check "left behind" preload-probe absent prog refuse_reserved link refuse_reserved map refusals
pass "insmod: $why; the module: $msg"
