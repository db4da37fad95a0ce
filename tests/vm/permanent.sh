# Modules built without --unloadable: rmmod is refused; rmmod -f removes them, but
# their programs stay attached and the bpffs hook does not dangle.
# kernels: all
# modules: permanent examples/iterators, permanent examples/mkdir_guard
load /modules/iterators.ko
load /modules/mkdir_guard.ko
grep -E '^(iterators|mkdir_guard) ' /proc/modules
refute "rmmod iterators succeeded" rmmod iterators
why=$ERR
refute "rmmod mkdir_guard succeeded" rmmod mkdir_guard
mount -t bpf bpf /sys/fs/bpf
check "iterators gone after rmmod" grep -q dump_bpf_prog "$(pins /sys/fs/bpf iterators)/progs.debug"
umount /sys/fs/bpf
refute "LSM gone after rmmod" mkdir /tmp/bpf-preload-reserved
# Debian enables CONFIG_MODULE_FORCE_UNLOAD: rmmod -f removes the modules (tainting
# the kernel), but the programs stay attached and the bpffs hook does not dangle.
check "rmmod -f failed" rmmod -f mkdir_guard iterators
refute "rmmod of the runtime succeeded while it holds the abandoned objects" rmmod bpf_preload_runtime
klog iterators
refute "LSM gone after rmmod -f" mkdir /tmp/bpf-preload-reserved
check "bpffs mount after rmmod -f" mount -t bpf bpf /sys/fs/bpf
refute "the hook still offers links after rmmod -f" test -e "$(pins /sys/fs/bpf iterators)/maps.debug"
check "the iterator links are gone after rmmod -f" preload-probe find link dump_bpf_map
pass "rmmod refused ($why); after rmmod -f the programs still run and a new bpffs mount works"
