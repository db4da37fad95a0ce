# A module signed with the test key (the patched kernel's own key there): it loads,
# and modinfo on the host names the signer.
# kernels: all
# modules: signed examples/iterators
# host-check: signer
check "no signature appended" sh -c "tail -c 28 /modules/signed/iterators.ko | grep -q '~Module signature appended~'"
load /modules/signed/iterators.ko
dmesg | grep 'iterators:'
mount -t bpf bpf /sys/fs/bpf
check "no progs.debug" grep -q dump_bpf_map "$(pins /sys/fs/bpf iterators)/progs.debug"
pass "the signed module loads and works"
