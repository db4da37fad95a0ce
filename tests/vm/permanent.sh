# Modules built without --unloadable: rmmod is refused; rmmod -f removes them, but
# their programs stay attached, held by the runtime, which says so in its status
# view, and the bpffs hook does not dangle: it offers the links the runtime holds.
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
if [ "$PROFILE" = preload ]; then
	refute "a new mount still has the forcibly removed module's directory" test -e /sys/fs/bpf/iterators
else
	check "a new mount does not show the abandoned object's maps.debug" grep -q iterator.rodata /sys/fs/bpf/maps.debug
fi
check "the iterator links are gone after rmmod -f" preload-probe find link dump_bpf_map
check "no status" preload-probe status
status=$OUT
echo "$status"
check "the status does not show mkdir_guard abandoned" contains "$status" "mkdir_guard: object mkdir_guard (abandoned"
check "the status does not show the LSM program attached" \
	sh -c "echo '$status' | grep -q 'program refuse_reserved_mkdir .* attached (link'"
pass "rmmod refused ($why); after rmmod -f the programs still run, the status view says they are abandoned and a new bpffs mount works"
