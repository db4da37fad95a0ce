# module.sig_enforce=1 on the patched kernel: the unsigned module is refused, the
# one signed with the kernel's build key loads.
# kernels: preload
# cmdline: bpf_preload_list=bpf_preload,iterators module.sig_enforce=1
# modules: permanent examples/iterators, signed examples/iterators
# host-check: signer
check "module.sig_enforce is not on" grep -q Y /sys/module/module/parameters/sig_enforce
refute "the unsigned module loaded" insmod /modules/iterators.ko
why=$ERR
refute "the unsigned module is loaded" grep -q '^iterators ' /proc/modules
check "the signed module was refused" insmod /modules/signed/iterators.ko
mount -t bpf bpf /sys/fs/bpf
check "no iterators/progs.debug" grep -q dump_bpf_prog /sys/fs/bpf/iterators/progs.debug
pass "unsigned: $why; signed with the kernel's build key: loads, and bpffs shows iterators/"
