# A weak kfunc of a module (nf_conntrack's bpf_xdp_ct_lookup, Debian's own module):
# missing without the module, called through its module BTF (an fd_array slot) with it.
# bpf_ksym_exists() of a kfunc (an ld_imm64 of its BTF id) needs 6.4, with libbpf too;
# the patched kernel has no nf_conntrack.
# kernels: stock since 6.4
# modules: unloadable examples/module_kfunc
# prepare: conntrack
load /modules/unloadable/module_kfunc.ko
check "test run" preload-probe run ct_lookup
check "without nf_conntrack the program returned $OUT, not 10 (kfunc missing)" [ "$OUT" = 10 ]
check "rmmod failed" rmmod module_kfunc
check "modprobe nf_conntrack failed" modprobe nf_conntrack
load /modules/unloadable/module_kfunc.ko
check "test run" preload-probe run ct_lookup
check "with nf_conntrack the program returned $OUT, not 12 (the kfunc ran, no connection)" [ "$OUT" = 12 ]
pass "the weak kfunc bpf_xdp_ct_lookup: missing without nf_conntrack (10), called in the module's BTF with it (12)"
